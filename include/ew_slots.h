/*
 * ew_slots: one slot per worker (process slot x thread, as the scoreboard
 * numbers them) in its own shared-memory region, for two things:
 *
 * - the worker's cumulative counters (requests by class, 5xx by code,
 *   bytes, time), so that the 200 path writes only its own cache lines;
 *   readers sum the slots (ew_store_summary / ew_store_snapshot do it once
 *   ew_store_use_slots() has joined the two);
 * - the request in flight (start, method, URI, vhost, handler, file, pid),
 *   so that the parent can record the requests of a child that a signal
 *   killed (ew_slots_record_crash).
 *
 * Plain C over APR; never includes httpd.h. Each slot is written only by
 * the worker that occupies it, with relaxed loads and stores (no atomic
 * read-modify-write, no lock). A slot's counters are never reset: a new
 * child that takes over the slot keeps adding to them, so a request counted
 * by a child that has since exited never vanishes, across graceful restarts
 * too (the region is kept for the parent's lifetime).
 */
#ifndef EW_SLOTS_H
#define EW_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

#include "ew_store.h"

typedef struct ew_slots ew_slots;
typedef struct ew_worker_slot ew_worker_slot;

/* Bytes for count slots (0 if count is 0 or too large). */
size_t ew_slots_size(uint32_t count);

/* Formats count slots in [base, +len), which must be 64-byte aligned and
 * zero-filled. NULL if it does not fit. */
ew_slots *ew_slots_init(apr_pool_t *pool, void *base, size_t len, uint32_t count);

/* A handle on slots that ew_slots_init formatted (after a restart); NULL if
 * they are not slots of this build's layout. */
ew_slots *ew_slots_attach(apr_pool_t *pool, void *base, size_t len);

uint32_t ew_slots_count(const ew_slots *slots);

/* The worker's slot, or NULL when index is out of range (the caller then
 * counts into the store's shared counters). */
ew_worker_slot *ew_slots_get(ew_slots *slots, uint32_t index);

/* Hot path, the worker's own slot only. A request starts: what the parent
 * records if the process dies before ew_slot_end. */
void ew_slot_begin(ew_worker_slot *slot, int32_t pid, int64_t start_us, const char *method,
                   const char *uri, const char *vhost);

/* The handler was chosen: its name and the script path. */
void ew_slot_set_target(ew_worker_slot *slot, const char *handler, const char *file);

/* The response was logged: count it and clear the in-flight request. */
void ew_slot_end(ew_worker_slot *slot, int status, uint64_t bytes, uint64_t duration_us);

/* The request was logged without being counted (ErrWatch Off): clears the
 * in-flight request only. */
void ew_slot_clear(ew_worker_slot *slot);

/* Adds every slot's counters to out's requests_by_class, requests_total,
 * errors_by_code, bytes_sent and duration_us_total. */
void ew_slots_sum(const ew_slots *slots, ew_snapshot *out);

/* Requests in flight in process pid. */
uint32_t ew_slots_in_flight(const ew_slots *slots, int32_t pid);

/* Up to max distinct pids that have a request in flight, into out; returns
 * how many. */
uint32_t ew_slots_busy_pids(const ew_slots *slots, int32_t *out, uint32_t max);

/* Process pid died by signal: records each of its in-flight requests as a
 * failure (status 0, crash_signal, in_flight = their number, duration up to
 * now_us) through ew_store_record_failure, and clears them. *recorded_out
 * (if not NULL) is how many were recorded. Returns 0 or the first errno
 * value of ew_store_record_failure. Call it only once the process is gone
 * (its slots then have no writer). */
int ew_slots_record_crash(ew_slots *slots, ew_store *st, int32_t pid, int signal, int64_t now_us,
                          uint32_t *recorded_out);

/* Clears the in-flight requests of process pid, gone for a reason that is
 * not a crash (a hard restart or stop killed it): they are never recorded.
 * Returns how many were cleared. */
uint32_t ew_slots_forget(ew_slots *slots, int32_t pid);

/* The signal's name ("SIGSEGV"), or NULL if unknown. */
const char *ew_signal_name(int signal);

/* What every format prints for a signal: its name, or "SIG" and the number
 * (written into buf) for one without a name here. */
#define EW_SIGNAL_LABEL_MAX 16
const char *ew_signal_label(int signal, char buf[EW_SIGNAL_LABEL_MAX]);

#endif

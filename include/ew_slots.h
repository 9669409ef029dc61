/*
 * ew_slots: one slot per worker (process slot x thread, as the scoreboard
 * numbers them) in its own shared-memory region, for two things:
 *
 * - the worker's cumulative counters (requests by class, 5xx by code,
 *   bytes, time), so that the 200 path writes only its own cache lines;
 *   readers sum the slots (ew_store_summary / ew_store_snapshot do it once
 *   ew_store_use_slots() has joined the two);
 * - the request in flight (start, method, URI, vhost, handler, file, pid;
 *   the method and vhost as numbers that the parent names),
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

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_pools.h>

#include "ew_store.h"
#include "ew_story.h"

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

/* ---- hot path: the worker's own slot only ------------------------------ */

/* The slot's layout is here, not hidden in store_slots.c, so that the
 * per-request writes below inline into the hooks: every request makes them,
 * and a call per write cost more than the writes. */
#define EW_SLOTS_ALIGN 64u

struct ew_worker_slot {
    alignas(EW_SLOTS_ALIGN) _Atomic uint64_t requests_by_class[EW_CLASS_COUNT];
    _Atomic uint64_t errors_by_code[EW_CODE_COUNT];
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t duration_us_total;

    /* The request in flight: busy holds its tag (never 0), set last on
     * begin and cleared on end, with release order, so a reader that sees
     * busy sees the fields. The tag lets a request that ends on another
     * worker (event's write completion) clear it only if it is still
     * there (ew_slot_release). */
    alignas(EW_SLOTS_ALIGN) _Atomic uint64_t busy;
    int32_t pid;
    int64_t start_us;
    /* Numbers, not names: the method's and the vhost's names are looked up
     * by the parent when it records a crash (ew_slot_namer), which keeps
     * their copies off the hot path. */
    int32_t method_number;
    uint64_t vhost_ref;
    uint64_t vhost_tag;
    char method[EW_METHOD_MAX]; /* only for a method without a number */
    char uri[EW_URI_MAX];
    char handler[EW_HANDLER_MAX];
    char file[EW_FILE_MAX];
};

/* The occupant's increment: it is the only writer, so no locked RMW. */
static inline void ew_slot_bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

/* A bounded copy; a value that does not fit is cut by ew_copy_field, which
 * keeps UTF-8 whole. */
static inline void ew_slot_copy(char *dst, size_t size, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    size_t n = strnlen(src, size);
    if (n < size) {
        memcpy(dst, src, n + 1);
    } else {
        ew_copy_field(dst, size, src);
    }
}

/* A request starts: what the parent records if the process dies before
 * ew_slot_end. tag (not 0) names the request for ew_slot_release. The
 * method and the vhost are kept as numbers that the parent's ew_slot_namer
 * turns into names: method_number (httpd's M_*), with method the name only
 * for a method without its own number (else NULL); vhost_ref and
 * vhost_tag, opaque to the slots (the glue's server and generation). uri is
 * copied. */
static inline void ew_slot_begin(ew_worker_slot *slot, uint64_t tag, int32_t pid, int64_t start_us,
                                 int32_t method_number, const char *method, const char *uri,
                                 uint64_t vhost_ref, uint64_t vhost_tag)
{
    slot->pid = pid;
    slot->start_us = start_us;
    slot->method_number = method_number;
    slot->vhost_ref = vhost_ref;
    slot->vhost_tag = vhost_tag;
    if (method != NULL) {
        ew_slot_copy(slot->method, sizeof(slot->method), method);
    } else {
        slot->method[0] = '\0';
    }
    slot->handler[0] = '\0';
    slot->file[0] = '\0';
    ew_slot_copy(slot->uri, sizeof(slot->uri), uri);
    atomic_store_explicit(&slot->busy, tag, memory_order_release);
}

/* The request's URI with its query string, when that is to be kept. */
static inline void ew_slot_set_uri(ew_worker_slot *slot, const char *uri)
{
    ew_slot_copy(slot->uri, sizeof(slot->uri), uri);
}

/* The handler was chosen: its name and the script path. */
static inline void ew_slot_set_target(ew_worker_slot *slot, const char *handler, const char *file)
{
    ew_slot_copy(slot->handler, sizeof(slot->handler), handler);
    ew_slot_copy(slot->file, sizeof(slot->file), file);
}

/* The request was logged without being counted (ErrWatch Off): clears the
 * in-flight request only. */
static inline void ew_slot_clear(ew_worker_slot *slot)
{
    atomic_store_explicit(&slot->busy, 0, memory_order_release);
}

/* A request that began in this slot ended on another worker: clears it
 * only if the slot still holds that request (its worker may have begun
 * another one since). The only read-modify-write on a slot, and only for
 * requests that changed workers. */
static inline void ew_slot_release(ew_worker_slot *slot, uint64_t tag)
{
    uint64_t expected = tag;
    (void)atomic_compare_exchange_strong_explicit(&slot->busy, &expected, 0, memory_order_release,
                                                  memory_order_relaxed);
}

/* The worker that began the request tag ends it: clears the slot unless
 * the worker has begun a later request there since (a pipelined request
 * begins before the one before it is logged). */
static inline void ew_slot_finish(ew_worker_slot *slot, uint64_t tag)
{
    if (atomic_load_explicit(&slot->busy, memory_order_relaxed) == tag) {
        atomic_store_explicit(&slot->busy, 0, memory_order_release);
    }
}

/* Counts a logged response into the slot of the worker that logged it. */
static inline void ew_slot_count(ew_worker_slot *slot, int status, uint64_t bytes,
                                 uint64_t duration_us)
{
    /* status / 100 as a multiply and shift: exact for 100..599 (and far
     * beyond), which the compiler does not know here and left as a divide. */
    int cls =
        status >= 100 && status <= 599 ? (int)(((uint32_t)status * 5243u) >> 19) : EW_CLASS_OTHER;
    ew_slot_bump(&slot->requests_by_class[cls], 1);
    if (status >= EW_CODE_FIRST && status < EW_CODE_FIRST + EW_CODE_COUNT) {
        ew_slot_bump(&slot->errors_by_code[status - EW_CODE_FIRST], 1);
    }
    ew_slot_bump(&slot->bytes_sent, bytes);
    ew_slot_bump(&slot->duration_us_total, duration_us);
}

/* The response was logged by the worker that began it: count it and clear
 * the in-flight request. */
static inline void ew_slot_end(ew_worker_slot *slot, int status, uint64_t bytes,
                               uint64_t duration_us)
{
    ew_slot_count(slot, status, bytes, duration_us);
    ew_slot_clear(slot);
}

/* ---- readers and the parent ------------------------------------------------ */

/* Adds every slot's counters to out's requests_by_class, requests_total,
 * errors_by_code, bytes_sent and duration_us_total. */
void ew_slots_sum(const ew_slots *slots, ew_snapshot *out);

/* Requests in flight in process pid. */
uint32_t ew_slots_in_flight(const ew_slots *slots, int32_t pid);

/* Up to max distinct pids that have a request in flight, into out; returns
 * how many. */
uint32_t ew_slots_busy_pids(const ew_slots *slots, int32_t *out, uint32_t max);

/* Fills f->vhost, and f->method when it is empty, from what ew_slot_begin
 * kept as numbers. */
typedef void (*ew_slot_namer)(void *ctx, int32_t method_number, uint64_t vhost_ref,
                              uint64_t vhost_tag, ew_failure *f);

/* Process pid died by signal: records each of its in-flight requests as a
 * failure (status 0, crash_signal, in_flight = their number, duration up to
 * now_us) through ew_store_record_failure, and clears them. namer (if not
 * NULL) names each one's method and vhost. *recorded_out (if not NULL) is
 * how many were recorded. Returns 0 or the first errno value of
 * ew_store_record_failure. Call it only once the process is gone (its slots
 * then have no writer). */
int ew_slots_record_crash(ew_slots *slots, ew_store *st, int32_t pid, int signal, int64_t now_us,
                          ew_slot_namer namer, void *namer_ctx, uint32_t *recorded_out);

/* Clears the in-flight requests of process pid, gone for a reason that is
 * not a crash (a hard restart or stop killed it): they are never recorded.
 * Returns how many were cleared. */
uint32_t ew_slots_forget(ew_slots *slots, int32_t pid);

/* ---- remote stories: lines another process logged for a request -------- */

/* mod_wsgi's daemon mode runs the application in a daemon process, which
 * logs the traceback; the request's worker, in another process, records
 * the failure. The daemon adds each line under the worker's slot and the
 * request's tag; the worker takes them when it records the failure. At
 * most EW_REMOTE_STORIES requests at once have one (an entry whose request
 * has left its slot is reused), each EW_REMOTE_TEXT bytes of lines. */
#define EW_REMOTE_STORIES 32
#define EW_REMOTE_TEXT 2560

/* A handle kept in static memory (one per process), for a process that
 * must not allocate where it attaches (the error_log hook). */
ew_slots *ew_slots_attach_static(void *base, size_t len);

/* Adds line (level: APLOG's, 0 most severe) to the story of request tag,
 * in flight in slot index. Returns 1 if kept, 0 if that request is not in
 * flight there or no entry is free. */
int ew_slots_remote_add(ew_slots *slots, uint32_t index, uint64_t tag, int level, const char *line);

/* The worker takes the story of its request tag in slot index: appends its
 * lines to story (NUL-terminated, story_size bytes, after a '\n' if story
 * holds lines), with a cut marker and the last line if some did not fit;
 * copies the most severe line into message if message is empty. Frees the
 * entry. Returns how many lines the daemon logged (0: none). */
uint32_t ew_slots_remote_take(ew_slots *slots, uint32_t index, uint64_t tag, char *story,
                              size_t story_size, char *message, size_t message_size);

/* The signal's name ("SIGSEGV"), or NULL if unknown. */
const char *ew_signal_name(int signal);

/* What every format prints for a signal: its name, or "SIG" and the number
 * (written into buf) for one without a name here. */
#define EW_SIGNAL_LABEL_MAX 16
const char *ew_signal_label(int signal, char buf[EW_SIGNAL_LABEL_MAX]);

#endif

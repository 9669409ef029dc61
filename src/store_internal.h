/*
 * The store's private layout: shared by the files that implement ew_store.h
 * (src/store*.c), never by anything else. ew_store.h keeps the handle
 * opaque for the module and the formatters; the picture of the layout is at
 * the top of src/store.c.
 */
#ifndef EW_STORE_INTERNAL_H
#define EW_STORE_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ew_slots.h"
#include "ew_store.h"
#include "ew_story.h"

#define EW_STORE_MAGIC 0x45525257u /* "ERRW" */
#define EW_STORE_VERSION 5u
#define EW_ALIGN 64u
#define EW_NONE (-1)

typedef struct ew_bucket {
    int64_t epoch; /* time / EW_BUCKET_US of the counts below */
    uint64_t count_500;
    uint64_t count_5xx;
} ew_bucket;

/* One minute of history; slot = minute % EW_HISTORY_MINUTES. */
typedef struct ew_minute {
    int64_t minute; /* time / EW_MINUTE_US of the counts below */
    uint64_t count_5xx;
    uint64_t count_500;
    uint64_t crashes;
} ew_minute;

typedef struct ew_file_slot {
    ew_file_stat stat;
    uint64_t hash;
    int32_t lru_prev; /* towards the most recently failed */
    int32_t lru_next; /* towards the least recently failed */
} ew_file_slot;

typedef struct ew_story_slot {
    uint64_t seq;
    char text[EW_STORY_MAX];
} ew_story_slot;

typedef struct ew_header ew_header;
typedef struct ew_tables ew_tables;

/* The header: one per server, never resized, never copied. */
struct ew_header {
    uint32_t magic;
    uint32_t version;
    uint32_t layout_hash; /* sizes and offsets of this build's structures */
    uint32_t reserved;
    int64_t since_us;

    /* Hot path: written with relaxed atomics by every request. */
    alignas(EW_ALIGN) _Atomic uint64_t requests_by_class[EW_CLASS_COUNT];
    _Atomic uint64_t errors_by_code[EW_CODE_COUNT];
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t duration_us_total;
    _Atomic uint64_t lock_recoveries;

    /* Everything below, and all of every tables part, is guarded by lock. */
    alignas(EW_ALIGN) pthread_mutex_t lock;
    uint64_t failures_recorded;
    ew_bucket buckets[EW_BUCKETS]; /* slot = epoch % EW_BUCKETS */
    uint32_t handlers_used;
    ew_handler_stat handlers[EW_HANDLER_SLOTS];
    uint64_t handler_other[EW_CODE_COUNT];       /* failures of pairs that did not fit */
    uint64_t crashes_by_signal[EW_SIGNAL_COUNT]; /* index 0: signals beyond the table */
    ew_minute history[EW_HISTORY_MINUTES];       /* src/store_history.c */
    uint64_t markers_added;                      /* markers[markers_added % EW_MARKERS] next */
    ew_marker markers[EW_MARKERS];
    /* The error stories of the newest failures: slot seq % EW_STORIES,
     * valid for the failure whose seq it holds. In the header, so that a
     * resize of the tables keeps them. */
    ew_story_slot stories[EW_STORIES];
    /* Causes (src/store_causes.c): a row is in use when its key is not 0. */
    int32_t cause_busy; /* row being written, or EW_NONE */
    uint64_t causes_evicted;
    ew_cause_stat causes[EW_CAUSES];

    /* Live tails: atomics only, never under the lock. */
    alignas(EW_ALIGN) ew_tail_shared tail;
};

/* The tables part's own header, at its start; the rows follow. */
struct ew_tables {
    uint32_t magic;
    uint32_t version;
    uint32_t layout_hash;
    uint32_t files_cap;
    uint32_t recent_cap;
    uint32_t index_cap; /* power of two */
    uint64_t files_off; /* from the start of this part */
    uint64_t index_off;
    uint64_t ring_off;
    uint64_t ring_seq; /* failures written to the ring so far */
    uint64_t files_evicted;
    uint32_t files_used; /* slots handed out; they are never freed, only reused */
    int32_t lru_head;    /* most recently failed */
    int32_t lru_tail;    /* eviction candidate */
    int32_t busy_file;   /* slot being rewritten, or EW_NONE */
    int64_t busy_ring;   /* ring sequence being written, or EW_NONE */
    int32_t dirty;       /* an update is in progress: repair if found set */
};

/* Process-local handle. Children of one generation share the same tables;
 * after a resize, children of the previous generation keep the old ones (the
 * new segment is not mapped in them) while all count into the one header. */
struct ew_store {
    ew_header *h;
    ew_tables *t;
    ew_slots *slots; /* per-worker counters summed by readers, or NULL */
};

/* The lock over the header's guarded part and every tables part (src/store.c).
 * ew_store_lock_within waits at most timeout_ms (forever when negative),
 * recovers a dead holder's lock and repairs tables it left half-written;
 * it returns 0 or an errno value. */
int ew_store_lock_within(ew_store *st, int timeout_ms);
int ew_store_lock(ew_store *st);
void ew_store_unlock(ew_store *st);

/* Restore (src/store_persist.c), with the lock held: a file row goes in as
 * the most recently failed (put them oldest first; a name already present is
 * skipped; a full table evicts its least recent row), a ring entry as the
 * newest with its own seq. */
void ew_store_put_file_row(ew_store *st, const ew_file_stat *row);
void ew_store_put_ring_entry(ew_store *st, const ew_failure *f);

/* src/store_causes.c, with the lock held. */
struct ew_cause_id;
/* Counts f (failure seq, logged around now_us) under its cause, making the
 * row if new (then returns 1); sets wanted->named when the cause's named
 * files are due a read (wanted may be NULL). */
int ew_store_cause_record(ew_store *st, const ew_failure *f, const char *story,
                          const struct ew_cause_id *cid, uint64_t seq, int64_t now_us,
                          ew_mtimes_wanted *wanted);
/* Clears a row a dead holder left half-written. */
void ew_store_causes_repair(ew_store *st);
/* The named files' times read for cause key. */
void ew_store_cause_note_named(ew_store *st, uint64_t key, const int64_t *mtime_us, uint32_t n);
/* The rows in use, as stored, into out (room for EW_CAUSES); returns how
 * many. */
uint32_t ew_store_causes_raw(const ew_store *st, ew_cause_stat *out);
/* How many rows are in use. */
uint32_t ew_store_causes_used(const ew_store *st);
/* Copies as views show them (no lock needed): count descending, each
 * one's files and URIs busiest first. */
void ew_store_causes_sort(ew_cause_stat *rows, uint32_t n);
/* Restore: puts a saved row back (a key already present is skipped). */
void ew_store_cause_put(ew_store *st, const ew_cause_stat *row);
/* A file row's latest cause changed from one key to another (0: none):
 * keeps each cause's files_total without a scan of the file rows. */
void ew_store_cause_file_moved(ew_store *st, uint64_t from, uint64_t to);
/* Counts files_total again from the file rows (after a restore or a
 * repair; one pass over the rows). */
void ew_store_causes_recount(ew_store *st);

/* src/store_history.c, with the lock held: counts f in its minute. */
void ew_store_history_count(ew_store *st, const ew_failure *f);
/* Restore: puts one saved minute back (the newer wins a slot). */
void ew_store_history_put(ew_store *st, const ew_minute *saved);
/* Under the lock: the markers, newest first, into out (room for
 * EW_MARKERS); returns how many. */
uint32_t ew_store_read_markers(const ew_store *st, ew_marker *out);
/* Under the lock: appends a marker as recorded (no checks). */
void ew_store_put_marker(ew_store *st, const ew_marker *m);

static inline ew_file_slot *file_slots(ew_store *st)
{
    return (ew_file_slot *)(void *)((char *)st->t + st->t->files_off);
}

static inline uint32_t *index_table(ew_store *st)
{
    return (uint32_t *)(void *)((char *)st->t + st->t->index_off);
}

/* Index entries hold slot + 1 so that zeroed memory is an empty index. */
static inline int32_t index_slot(const uint32_t *index, uint32_t pos)
{
    return (int32_t)index[pos] - 1;
}

static inline void index_put(uint32_t *index, uint32_t pos, int32_t slot)
{
    index[pos] = (uint32_t)(slot + 1);
}

/* A ring entry that holds a failure: a status, or a crash (status 0 with
 * the signal). Zeroed (never written) and torn entries have neither. */
static inline int ring_entry_used(const ew_failure *f)
{
    return f->status != 0 || f->crash_signal != 0;
}

static inline ew_failure *ring_slots(ew_store *st)
{
    return (ew_failure *)(void *)((char *)st->t + st->t->ring_off);
}

#endif

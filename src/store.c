/*
 * The shared-memory store: counters, a table of failing files and a ring of
 * recent failures.
 *
 * Two parts, each 64-byte aligned, and a process-local handle (struct
 * ew_store) that points at both. The header never changes size, so what it
 * holds is never copied and never lost. The tables are replaced by a resize
 * (ew_store_resize): the new generation's handle points at new tables while
 * children of the previous generation, which do not have the new segment
 * mapped, keep the old ones, and every process counts into the one header.
 * One robust mutex in the header guards it and every tables part.
 *
 *   header (struct ew_header)                   tables (struct ew_tables + rows)
 *   +----------------------------------------+  +--------------------------------+ 0
 *   | magic, version, layout hash, since_us  |  | magic, version, layout hash,   |
 *   | atomic counters: requests by class,    |  | capacities, row offsets,       |
 *   |   5xx by code, bytes, duration         |  | ring head, LRU ends, files     |
 *   |   <- hot path, lock-free               |  | used, evicted, busy markers,   |
 *   | pthread mutex (process-shared, robust) |  | dirty flag                     |
 *   |   <- error path and readers            |  +--------------------------------+ files_off
 *   | under the lock:                        |  | ew_file_slot[files_cap]        |
 *   |   failures recorded,                   |  |   aggregates + LRU links       |
 *   |   window buckets[192] (5 s each),      |  +--------------------------------+ index_off
 *   |   handler x status rows[64]            |  | uint32_t index[index_cap]      |
 *   | live tails (atomics, no lock):         |  |   slot + 1, 0 = empty; linear  |
 *   |   futex wake word, waiters, slots[64]  |  |                                |
 *   +----------------------------------------+  |                                |
 *                                               |   probing, backward-shift      |
 *                                               |   deletion; pow2 >= 2 x files  |
 *                                               +--------------------------------+ ring_off
 *                                               | ew_failure ring[recent_cap]    |
 *                                               |   slot = ring_seq % recent_cap;|
 *                                               |   each entry keeps its own     |
 *                                               |   failure seq (header count)   |
 *                                               +--------------------------------+
 *
 * Inside a part only offsets are stored, never pointers, so a part means the
 * same thing at any address. All-zero bytes are valid empty rows, so
 * formatting writes only the parts' headers: the capacity costs address
 * space, and RAM only as rows fill.
 */
#include "ew_store.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ew_cause.h"
#include "store_internal.h"

const int ew_window_minutes[EW_WINDOW_COUNT] = {1, 5, 15};

/* A fingerprint of the structures' shapes: a module built with another
 * layout (same version number by mistake) must not reuse a retained store. */
static uint32_t layout_hash(void)
{
    const size_t parts[] = {
        sizeof(struct ew_header),
        sizeof(struct ew_tables),
        sizeof(ew_file_slot),
        sizeof(ew_failure),
        sizeof(ew_handler_stat),
        sizeof(ew_bucket),
        sizeof(ew_minute),
        offsetof(struct ew_header, lock),
        offsetof(struct ew_header, buckets),
        offsetof(struct ew_header, handlers),
        offsetof(struct ew_header, tail),
        sizeof(ew_tail_shared),
        sizeof(pthread_mutex_t),
    };
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        h = (h ^ (uint32_t)parts[i]) * 16777619u;
    }
    return h;
}

/* Atomics in shared memory work across processes only when lock-free. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

static size_t align_up(size_t n)
{
    return (n + EW_ALIGN - 1) & ~(size_t)(EW_ALIGN - 1);
}

static uint32_t index_capacity(uint32_t files)
{
    uint32_t cap = 2;
    while (cap < 2u * files) {
        cap <<= 1;
    }
    return cap;
}

static int capacities_valid(uint32_t files, uint32_t recent)
{
    return files >= EW_FILES_MIN && files <= EW_FILES_MAX && recent >= EW_RECENT_MIN &&
           recent <= EW_RECENT_MAX;
}

/* Offsets of the rows from the start of the tables part. */
typedef struct layout {
    size_t files_off, index_off, ring_off, total;
} layout;

static layout tables_layout(uint32_t files, uint32_t recent)
{
    layout l;
    l.files_off = align_up(sizeof(struct ew_tables));
    l.index_off = align_up(l.files_off + (size_t)files * sizeof(ew_file_slot));
    l.ring_off = align_up(l.index_off + (size_t)index_capacity(files) * sizeof(uint32_t));
    l.total = align_up(l.ring_off + (size_t)recent * sizeof(ew_failure));
    return l;
}

size_t ew_store_header_size(void)
{
    return align_up(sizeof(struct ew_header));
}

size_t ew_store_tables_size(uint32_t files, uint32_t recent)
{
    if (!capacities_valid(files, recent)) {
        return 0;
    }
    return tables_layout(files, recent).total;
}

size_t ew_store_size(uint32_t files, uint32_t recent)
{
    size_t tables = ew_store_tables_size(files, recent);
    return tables != 0 ? ew_store_header_size() + tables : 0;
}

static int aligned(const void *p)
{
    return p != NULL && ((uintptr_t)p % EW_ALIGN) == 0;
}

/* Formats empty tables at base (zero-filled but for this header). */
static ew_tables *format_tables(void *base, uint32_t files, uint32_t recent)
{
    layout l = tables_layout(files, recent);
    memset(base, 0, sizeof(struct ew_tables));
    ew_tables *t = base;
    t->layout_hash = layout_hash();
    t->files_cap = files;
    t->recent_cap = recent;
    t->index_cap = index_capacity(files);
    t->files_off = l.files_off;
    t->index_off = l.index_off;
    t->ring_off = l.ring_off;
    t->lru_head = EW_NONE;
    t->lru_tail = EW_NONE;
    t->busy_file = EW_NONE;
    t->busy_ring = EW_NONE;
    t->version = EW_STORE_VERSION;
    t->magic = EW_STORE_MAGIC;
    return t;
}

static ew_store *new_handle(apr_pool_t *pool, ew_header *h, ew_tables *t)
{
    ew_store *st = apr_palloc(pool, sizeof(*st));
    st->h = h;
    st->t = t;
    st->slots = NULL;
    return st;
}

static int init_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc != 0) {
        return rc;
    }
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (rc == 0) {
        rc = pthread_mutex_init(m, &attr);
    }
    pthread_mutexattr_destroy(&attr);
    return rc;
}

ew_store *ew_store_create(apr_pool_t *pool, void *header, size_t header_len, void *tables,
                          size_t tables_len, uint32_t files, uint32_t recent, int64_t now_us)
{
    if (!aligned(header) || !aligned(tables) || !capacities_valid(files, recent) ||
        header_len < ew_store_header_size() || tables_len < ew_store_tables_size(files, recent)) {
        return NULL;
    }
    /* The rows are zero already (see the contract in ew_store.h): writing
     * them would commit RAM for every empty row. */
    memset(header, 0, sizeof(struct ew_header));
    ew_header *h = header;
    h->since_us = now_us;
    h->cause_busy = EW_NONE;
    h->layout_hash = layout_hash();
    if (init_mutex(&h->lock) != 0) {
        return NULL;
    }
    ew_tables *t = format_tables(tables, files, recent);
    /* Written last: a store is valid only once fully formatted. */
    h->version = EW_STORE_VERSION;
    h->magic = EW_STORE_MAGIC;
    return new_handle(pool, h, t);
}

ew_store *ew_store_init(apr_pool_t *pool, void *base, size_t len, uint32_t files, uint32_t recent,
                        int64_t now_us)
{
    size_t header = ew_store_header_size();
    if (base == NULL || len < header) {
        return NULL;
    }
    return ew_store_create(pool, base, header, (char *)base + header, len - header, files, recent,
                           now_us);
}

ew_store *ew_store_attach(apr_pool_t *pool, void *header, size_t header_len, void *tables,
                          size_t tables_len)
{
    if (header == NULL || tables == NULL || header_len < sizeof(struct ew_header) ||
        tables_len < sizeof(struct ew_tables)) {
        return NULL;
    }
    ew_header *h = header;
    ew_tables *t = tables;
    if (h->magic != EW_STORE_MAGIC || h->version != EW_STORE_VERSION ||
        h->layout_hash != layout_hash() || t->magic != EW_STORE_MAGIC ||
        t->version != EW_STORE_VERSION || t->layout_hash != layout_hash() ||
        !capacities_valid(t->files_cap, t->recent_cap) ||
        tables_len < ew_store_tables_size(t->files_cap, t->recent_cap)) {
        return NULL;
    }
    return new_handle(pool, h, t);
}

uint32_t ew_store_files_capacity(const ew_store *st)
{
    return st->t->files_cap;
}

uint32_t ew_store_recent_capacity(const ew_store *st)
{
    return st->t->recent_cap;
}

int ew_status_class(int status)
{
    if (status >= 100 && status <= 599) {
        return status / 100;
    }
    return EW_CLASS_OTHER;
}

void ew_store_count_response(ew_store *st, int status)
{
    /* ew_status_class(), written out: an exported function is not inlined
     * into the every-request path in a -fPIC build. */
    int cls = status >= 100 && status <= 599 ? status / 100 : EW_CLASS_OTHER;
    atomic_fetch_add_explicit(&st->h->requests_by_class[cls], 1, memory_order_relaxed);
    if (status >= EW_CODE_FIRST && status < EW_CODE_FIRST + EW_CODE_COUNT) {
        atomic_fetch_add_explicit(&st->h->errors_by_code[status - EW_CODE_FIRST], 1,
                                  memory_order_relaxed);
    }
}

void ew_store_add_traffic(ew_store *st, uint64_t bytes, uint64_t duration_us)
{
    atomic_fetch_add_explicit(&st->h->bytes_sent, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->h->duration_us_total, duration_us, memory_order_relaxed);
}

void ew_copy_field(char *dst, size_t dst_size, const char *src)
{
    if (dst_size == 0) {
        return;
    }
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    size_t n = strnlen(src, dst_size);
    if (n == dst_size) {
        n = ew_utf8_cut(src, dst_size - 1);
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

size_t ew_utf8_cut(const char *s, size_t n)
{
    /* Back off over the continuation bytes that s[n] would still need. */
    size_t keep = n;
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0u) == 0x80u) {
        keep--;
    }
    return keep > 0 || ((unsigned char)s[0] & 0xC0u) != 0x80u ? keep : n;
}

/* FNV-1a: short strings, no need for anything stronger. */
static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- lock ---------------------------------------------------------------- */

static void rebuild_after_crash(ew_store *st);

#ifdef EW_STORE_BENCH
/* bench/lock_bench.c: how long this process held the lock, per hold. */
static struct timespec bench_taken;
double ew_store_bench_last_hold_ns;
static void bench_mark_taken(void)
{
    clock_gettime(CLOCK_MONOTONIC, &bench_taken);
}
static void bench_mark_released(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ew_store_bench_last_hold_ns = (double)(now.tv_sec - bench_taken.tv_sec) * 1e9 +
                                  (double)(now.tv_nsec - bench_taken.tv_nsec);
}
#else
static void bench_mark_taken(void)
{
}
static void bench_mark_released(void)
{
}
#endif

/* Takes the lock, waiting at most timeout_ms (forever when negative). */
int ew_store_lock_within(ew_store *st, int timeout_ms)
{
    int rc;
    if (timeout_ms < 0) {
        rc = pthread_mutex_lock(&st->h->lock);
    } else {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        rc = pthread_mutex_timedlock(&st->h->lock, &until);
    }
    if (rc == EOWNERDEAD) {
        /* The previous holder died: mark the mutex usable again. */
        atomic_fetch_add_explicit(&st->h->lock_recoveries, 1, memory_order_relaxed);
        rc = pthread_mutex_consistent(&st->h->lock);
        if (rc != 0) {
            pthread_mutex_unlock(&st->h->lock); /* never return holding it */
            return rc;
        }
    }
    /* It died in the middle of changing these tables (the holder may have
     * used another generation's tables, so the flag, not EOWNERDEAD, says
     * which ones need it): repair them. */
    if (rc == 0) {
        bench_mark_taken();
    }
    if (rc == 0 && st->t->dirty) {
        rebuild_after_crash(st);
        st->t->dirty = 0;
        ew_store_causes_repair(st);
        ew_store_causes_recount(st);
    } else if (rc == 0 && st->h->cause_busy != EW_NONE) {
        ew_store_causes_repair(st);
        ew_store_causes_recount(st);
    }
    return rc;
}

int ew_store_lock(ew_store *st)
{
    return ew_store_lock_within(st, -1);
}

void ew_store_unlock(ew_store *st)
{
    bench_mark_released();
    pthread_mutex_unlock(&st->h->lock);
}

/* ---- file table: hash index ---------------------------------------------- */

static uint32_t home_bucket(const ew_store *st, uint64_t hash)
{
    return (uint32_t)(hash & (st->t->index_cap - 1));
}

/* Returns the index position holding the slot for file, or the empty
 * position where it would go. */
static uint32_t index_find(ew_store *st, uint64_t hash, const char *file, int32_t *slot_out)
{
    const uint32_t *index = index_table(st);
    ew_file_slot *slots = file_slots(st);
    uint32_t mask = st->t->index_cap - 1;
    uint32_t pos = home_bucket(st, hash);
    for (;;) {
        int32_t slot = index_slot(index, pos);
        if (slot == EW_NONE) {
            *slot_out = EW_NONE;
            return pos;
        }
        if (slots[slot].hash == hash && strcmp(slots[slot].stat.file, file) == 0) {
            *slot_out = slot;
            return pos;
        }
        pos = (pos + 1) & mask;
    }
}

/* Backward-shift deletion keeps linear probing correct without tombstones. */
static void index_remove_at(ew_store *st, uint32_t hole)
{
    uint32_t *index = index_table(st);
    ew_file_slot *slots = file_slots(st);
    uint32_t mask = st->t->index_cap - 1;
    uint32_t pos = (hole + 1) & mask;
    while (index_slot(index, pos) != EW_NONE) {
        uint32_t home = home_bucket(st, slots[index_slot(index, pos)].hash);
        /* Move the entry into the hole unless its home lies cyclically in
         * (hole, pos]. */
        int in_range = (hole <= pos) ? (home > hole && home <= pos) : (home > hole || home <= pos);
        if (!in_range) {
            index[hole] = index[pos];
            hole = pos;
        }
        pos = (pos + 1) & mask;
    }
    index[hole] = 0;
}

static void index_remove_slot(ew_store *st, int32_t slot)
{
    ew_file_slot *slots = file_slots(st);
    int32_t found;
    uint32_t pos = index_find(st, slots[slot].hash, slots[slot].stat.file, &found);
    if (found == slot) {
        index_remove_at(st, pos);
    }
}

/* ---- file table: LRU list ------------------------------------------------- */

static void lru_unlink(ew_store *st, int32_t slot)
{
    ew_file_slot *slots = file_slots(st);
    ew_file_slot *s = &slots[slot];
    if (s->lru_prev != EW_NONE) {
        slots[s->lru_prev].lru_next = s->lru_next;
    } else {
        st->t->lru_head = s->lru_next;
    }
    if (s->lru_next != EW_NONE) {
        slots[s->lru_next].lru_prev = s->lru_prev;
    } else {
        st->t->lru_tail = s->lru_prev;
    }
    s->lru_prev = s->lru_next = EW_NONE;
}

static void lru_push_front(ew_store *st, int32_t slot)
{
    ew_file_slot *slots = file_slots(st);
    slots[slot].lru_prev = EW_NONE;
    slots[slot].lru_next = st->t->lru_head;
    if (st->t->lru_head != EW_NONE) {
        slots[st->t->lru_head].lru_prev = slot;
    } else {
        st->t->lru_tail = slot;
    }
    st->t->lru_head = slot;
}

static int compare_last_seen_desc(const void *a, const void *b, void *ctx)
{
    const ew_file_slot *slots = ctx;
    int64_t x = slots[*(const int32_t *)a].stat.last_seen_us;
    int64_t y = slots[*(const int32_t *)b].stat.last_seen_us;
    return (x < y) - (x > y);
}

/*
 * After a holder died inside the lock, the index and the LRU links may be
 * half-updated. Slot contents are trustworthy except the one marked busy, so
 * drop that slot, compact the live slots to the front and rebuild the index
 * and the LRU order (by last_seen) from them.
 */
static void rebuild_after_crash(ew_store *st)
{
    ew_file_slot *slots = file_slots(st);
    uint32_t *index = index_table(st);

    if (st->t->busy_file != EW_NONE && (uint32_t)st->t->busy_file < st->t->files_used) {
        slots[st->t->busy_file].stat.count = 0;
    }
    st->t->busy_file = EW_NONE;
    if (st->t->busy_ring != EW_NONE) {
        /* A zero status marks the ring entry as unusable. */
        ew_failure *torn = &ring_slots(st)[(uint64_t)st->t->busy_ring % st->t->recent_cap];
        torn->status = 0;
        torn->crash_signal = 0;
        st->t->busy_ring = EW_NONE;
    }

    memset(index, 0, (size_t)st->t->index_cap * sizeof(*index));
    uint32_t live = 0;
    for (uint32_t i = 0; i < st->t->files_used; i++) {
        if (slots[i].stat.count == 0) {
            continue;
        }
        if (live != i) {
            slots[live] = slots[i];
        }
        ew_file_slot *s = &slots[live];
        s->stat.file[EW_FILE_MAX - 1] = '\0';
        s->hash = hash_string(s->stat.file);
        int32_t found;
        uint32_t pos = index_find(st, s->hash, s->stat.file, &found);
        if (found != EW_NONE) {
            continue; /* a duplicate left by a torn insert */
        }
        index_put(index, pos, (int32_t)live);
        live++;
    }
    st->t->files_used = live;

    st->t->lru_head = st->t->lru_tail = EW_NONE;
    int32_t *order = malloc((size_t)live * sizeof(int32_t) + 1);
    if (order == NULL) {
        for (uint32_t i = 0; i < live; i++) {
            lru_push_front(st, (int32_t)i);
        }
        return;
    }
    for (uint32_t i = 0; i < live; i++) {
        order[i] = (int32_t)i;
    }
    qsort_r(order, live, sizeof(int32_t), compare_last_seen_desc, slots);
    for (uint32_t i = live; i > 0; i--) {
        lru_push_front(st, order[i - 1]);
    }
    free(order);
}

/* A slot for a new file: a never-used one while there are any, otherwise
 * the least recently failed file is evicted. */
static int32_t take_slot(ew_store *st)
{
    if (st->t->files_used < st->t->files_cap) {
        return (int32_t)st->t->files_used++;
    }
    int32_t victim = st->t->lru_tail;
    ew_store_cause_file_moved(st, file_slots(st)[victim].stat.cause_key, 0);
    index_remove_slot(st, victim);
    lru_unlink(st, victim);
    st->t->files_evicted++;
    return victim;
}

static void update_file_table(ew_store *st, const ew_failure *f, const char *file,
                              uint64_t cause_key, int fresh_cause, int64_t now_us,
                              ew_mtimes_wanted *wanted)
{
    ew_file_slot *slots = file_slots(st);
    uint64_t hash = hash_string(file);
    int32_t slot;
    (void)index_find(st, hash, file, &slot); /* only whether the file has a slot */

    if (slot == EW_NONE) {
        slot = take_slot(st);
        st->t->busy_file = slot;
        /* Eviction may have shifted the index: find the position again. */
        int32_t again;
        uint32_t pos = index_find(st, hash, file, &again);
        ew_file_slot *s = &slots[slot];
        memset(&s->stat, 0, sizeof(ew_file_stat));
        ew_copy_field(s->stat.file, sizeof(s->stat.file), file);
        s->hash = hash;
        s->stat.first_seen_us = f->time_us;
        index_put(index_table(st), pos, slot);
    } else {
        st->t->busy_file = slot;
        lru_unlink(st, slot);
    }

    ew_file_slot *s = &slots[slot];
    s->stat.count++;
    if (f->crash_signal != 0) {
        s->stat.crashes++;
    }
    if (f->time_us >= s->stat.last_seen_us) {
        s->stat.last_seen_us = f->time_us;
    }
    s->stat.last_status = f->status;
    ew_copy_field(s->stat.handler, sizeof(s->stat.handler), f->handler);
    if (f->message[0] != '\0') {
        ew_copy_field(s->stat.message, sizeof(s->stat.message), f->message);
    }
    /* A row made just now for a cause this file already pointed at (the
     * cause had been evicted or torn) has not counted the file yet. */
    ew_store_cause_file_moved(st, fresh_cause ? 0 : s->stat.cause_key, cause_key);
    s->stat.cause_key = cause_key;
    /* Its modification time is read by one caller, at most once a minute,
     * and only for a script path (not a URI standing in for one). */
    if (wanted != NULL && f->file[0] == '/' &&
        (s->stat.mtime_checked_us == 0 || now_us - s->stat.mtime_checked_us >= EW_MTIME_EVERY_US)) {
        s->stat.mtime_checked_us = now_us;
        wanted->script = 1;
    }
    lru_push_front(st, slot);
    st->t->busy_file = EW_NONE;
}

/* A field of at most a cache line or so: copied whole, and terminated. */
static inline void put_ring_small(char *dst, const char *src, size_t size)
{
    memcpy(dst, src, size);
    dst[size - 1] = '\0';
}

_Static_assert(offsetof(ew_failure, dd_trace_id) + EW_DD_TRACE_MAX + alignof(ew_failure) >
                   sizeof(ew_failure),
               "append_ring copies ew_failure field by field: a field added at its end "
               "must be copied there too");

/* Appends f to the ring; returns the entry written. The entry is written
 * field by field, only the bytes in use: a failure's strings are mostly
 * short, and a whole-entry copy touched all 30 cache lines of an entry
 * that no core had in cache (BENCHMARKS.md section 6, the storm), where
 * this touches about ten. */
static ew_failure *append_ring(ew_store *st, const ew_failure *f, uint64_t failure_seq)
{
    uint64_t seq = st->t->ring_seq;
    st->t->busy_ring = (int64_t)seq;
    ew_failure *dst = &ring_slots(st)[seq % st->t->recent_cap];
    dst->seq = failure_seq;
    dst->time_us = f->time_us;
    dst->duration_us = f->duration_us;
    dst->pid = f->pid;
    dst->status = f->status;
    dst->crash_signal = f->crash_signal;
    dst->in_flight = f->in_flight;
    dst->event = f->event;
    dst->cause_key = f->cause_key;
    /* The short fields whole (a few vector moves, no length scan); the
     * long ones up to their NUL (what lies past it in the entry is left as
     * it was: every reader stops at the NUL). */
    put_ring_small(dst->method, f->method, sizeof(dst->method));
    put_ring_small(dst->unique_id, f->unique_id, sizeof(dst->unique_id));
    put_ring_small(dst->trace_id, f->trace_id, sizeof(dst->trace_id));
    put_ring_small(dst->dd_trace_id, f->dd_trace_id, sizeof(dst->dd_trace_id));
    ew_copy_field(dst->uri, sizeof(dst->uri), f->uri);
    ew_copy_field(dst->vhost, sizeof(dst->vhost), f->vhost);
    ew_copy_field(dst->handler, sizeof(dst->handler), f->handler);
    ew_copy_field(dst->file, sizeof(dst->file), f->file);
    ew_copy_field(dst->message, sizeof(dst->message), f->message);
    st->t->ring_seq = seq + 1;
    st->t->busy_ring = EW_NONE;
    return dst;
}

static void count_in_window(ew_store *st, const ew_failure *f)
{
    int64_t t = f->time_us + (f->duration_us > 0 ? f->duration_us : 0);
    if (t < 0) {
        return;
    }
    int64_t epoch = t / EW_BUCKET_US;
    ew_bucket *b = &st->h->buckets[epoch % EW_BUCKETS];
    if (b->epoch != epoch) {
        if (b->epoch > epoch) {
            return; /* older than every window */
        }
        b->epoch = epoch;
        b->count_500 = 0;
        b->count_5xx = 0;
    }
    b->count_5xx++;
    if (f->status == 500) {
        b->count_500++;
    }
}

static void count_by_handler(ew_store *st, const ew_failure *f)
{
    for (uint32_t i = 0; i < st->h->handlers_used; i++) {
        ew_handler_stat *h = &st->h->handlers[i];
        if (h->status == f->status && strncmp(h->handler, f->handler, EW_HANDLER_MAX) == 0) {
            h->count++;
            return;
        }
    }
    if (st->h->handlers_used < EW_HANDLER_SLOTS) {
        /* Fill the row before counting it, so a crash here leaves no torn
         * row behind. */
        ew_handler_stat *h = &st->h->handlers[st->h->handlers_used];
        ew_copy_field(h->handler, sizeof(h->handler), f->handler);
        h->status = f->status;
        h->count = 1;
        st->h->handlers_used++;
        return;
    }
    if (f->status >= EW_CODE_FIRST && f->status < EW_CODE_FIRST + EW_CODE_COUNT) {
        st->h->handler_other[f->status - EW_CODE_FIRST]++;
    }
}

int ew_store_record_failure(ew_store *st, const ew_failure *failure)
{
    return ew_store_record_failure_story(st, failure, NULL);
}

int ew_store_record_failure_story(ew_store *st, const ew_failure *failure, const char *story)
{
    return ew_store_record_failure_cause(st, failure, story, NULL, NULL);
}

int ew_store_record_failure_cause(ew_store *st, const ew_failure *failure, const char *story,
                                  const ew_cause_id *cause, ew_mtimes_wanted *wanted)
{
    ew_cause_id own;
    if (cause == NULL) {
        ew_cause_fingerprint(failure->message, story, failure->status, failure->crash_signal,
                             failure->handler, failure->file, &own);
        cause = &own;
    }
    if (wanted != NULL) {
        wanted->script = 0;
        wanted->named = 0;
    }
    int64_t now_us = failure->time_us + (failure->duration_us > 0 ? failure->duration_us : 0);
    char file[EW_FILE_MAX];
    /* The table is keyed by file; a failure without one (e.g. a request
     * that never mapped to the file system) is keyed by its URI. */
    /* cppcheck-suppress ctuuninitvar ; callers fill every field but seq, which the store sets */
    ew_copy_field(file, sizeof(file), failure->file[0] != '\0' ? failure->file : failure->uri);

    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    st->t->dirty = 1;
    /* The cause first: the file row then counts itself under it. */
    int fresh = ew_store_cause_record(st, failure, story, cause, st->h->failures_recorded + 1,
                                      now_us, wanted);
    update_file_table(st, failure, file, cause->key, fresh, now_us, wanted);
    append_ring(st, failure, st->h->failures_recorded + 1)->cause_key = cause->key;
    st->t->dirty = 0;
    if (story != NULL && story[0] != '\0') {
        uint64_t seq = st->h->failures_recorded + 1;
        ew_story_slot *slot = &st->h->stories[seq % EW_STORIES];
        slot->seq = 0; /* a torn copy is never taken for a story */
        ew_copy_field(slot->text, sizeof(slot->text), story);
        slot->seq = seq;
    }
    if (failure->crash_signal != 0) {
        /* Crashes are not a status: they stay out of the windows and the
         * handler-by-status rows, and are counted by signal instead. */
        int sig = failure->crash_signal;
        st->h->crashes_by_signal[sig > 0 && sig < EW_SIGNAL_COUNT ? sig : 0]++;
    } else {
        count_in_window(st, failure);
        count_by_handler(st, failure);
    }
    ew_store_history_count(st, failure); /* counts crashes too, per minute */
    st->h->failures_recorded++;
    ew_store_unlock(st);
    ew_tail_notify(&st->h->tail);
    return 0;
}

int ew_store_note_mtimes(ew_store *st, const char *file, int64_t script_mtime_us, uint64_t key,
                         const int64_t *named_mtime_us, uint32_t named_len)
{
    char name[EW_FILE_MAX];
    ew_copy_field(name, sizeof(name), file);
    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    if (name[0] != '\0' && script_mtime_us != EW_MTIME_UNREAD) {
        int32_t slot;
        (void)index_find(st, hash_string(name), name, &slot);
        if (slot != EW_NONE) {
            file_slots(st)[slot].stat.script_mtime_us = script_mtime_us;
        }
    }
    if (named_len > 0) {
        ew_store_cause_note_named(st, key, named_mtime_us, named_len);
    }
    ew_store_unlock(st);
    return 0;
}

#ifdef EW_STORE_TESTING
void ew_store_test_lock_and_mark_busy(ew_store *st, uint32_t file_slot)
{
    if (ew_store_lock(st) == 0) {
        st->t->dirty = 1;
        st->t->busy_file = (int32_t)file_slot;
        /* Scribble over the index as a torn update would. */
        uint32_t *index = index_table(st);
        for (uint32_t i = 0; i < st->t->index_cap; i++) {
            index_put(index, i, (int32_t)file_slot);
        }
        st->t->lru_head = st->t->lru_tail = (int32_t)file_slot;
    }
}
#endif

/* ---- readers ------------------------------------------------------------- */

static int compare_files(const void *a, const void *b)
{
    const ew_file_stat *x = a;
    const ew_file_stat *y = b;
    if (x->count != y->count) {
        return x->count < y->count ? 1 : -1;
    }
    if (x->last_seen_us != y->last_seen_us) {
        return x->last_seen_us < y->last_seen_us ? 1 : -1;
    }
    return strcmp(x->file, y->file);
}

static int compare_last_seen_asc(const void *a, const void *b)
{
    const ew_file_stat *x = a;
    const ew_file_stat *y = b;
    return (x->last_seen_us > y->last_seen_us) - (x->last_seen_us < y->last_seen_us);
}

static void read_counters(ew_store *st, ew_snapshot *out)
{
    out->requests_total = 0;
    for (int i = 0; i < EW_CLASS_COUNT; i++) {
        out->requests_by_class[i] =
            atomic_load_explicit(&st->h->requests_by_class[i], memory_order_relaxed);
        out->requests_total += out->requests_by_class[i];
    }
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        out->errors_by_code[i] =
            atomic_load_explicit(&st->h->errors_by_code[i], memory_order_relaxed);
    }
    out->bytes_sent = atomic_load_explicit(&st->h->bytes_sent, memory_order_relaxed);
    out->duration_us_total = atomic_load_explicit(&st->h->duration_us_total, memory_order_relaxed);
    out->lock_recoveries = atomic_load_explicit(&st->h->lock_recoveries, memory_order_relaxed);
    out->tail_waiters = atomic_load_explicit(&st->h->tail.waiters, memory_order_relaxed);
    if (st->slots != NULL) {
        ew_slots_sum(st->slots, out);
    }
    out->crashes_total = 0;
    for (int i = 0; i < EW_SIGNAL_COUNT; i++) {
        out->crashes_by_signal[i] = st->h->crashes_by_signal[i];
        out->crashes_total += st->h->crashes_by_signal[i];
    }
}

static int compare_handlers(const void *a, const void *b)
{
    const ew_handler_stat *x = a;
    const ew_handler_stat *y = b;
    int c = strcmp(x->handler, y->handler);
    return c != 0 ? c : (x->status > y->status) - (x->status < y->status);
}

static void read_windows(const ew_store *st, int64_t now_us, ew_snapshot *out)
{
    int64_t now_epoch = now_us / EW_BUCKET_US;
    for (int w = 0; w < EW_WINDOW_COUNT; w++) {
        int64_t span = (int64_t)ew_window_minutes[w] * 60 * 1000000 / EW_BUCKET_US;
        for (int i = 0; i < EW_BUCKETS; i++) {
            const ew_bucket *b = &st->h->buckets[i];
            if (b->epoch <= now_epoch && b->epoch > now_epoch - span) {
                out->window_500[w] += b->count_500;
                out->window_5xx[w] += b->count_5xx;
            }
        }
    }
}

/* Handler rows, then one "other" row per status for pairs that did not fit. */
static uint32_t read_handlers(const ew_store *st, ew_handler_stat *dst)
{
    uint32_t n = st->h->handlers_used;
    memcpy(dst, st->h->handlers, (size_t)n * sizeof(*dst));
    qsort(dst, n, sizeof(*dst), compare_handlers);
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        if (st->h->handler_other[i] > 0) {
            ew_handler_stat *h = &dst[n++];
            ew_copy_field(h->handler, sizeof(h->handler), EW_HANDLER_OTHER);
            h->status = (uint16_t)(EW_CODE_FIRST + i);
            h->count = st->h->handler_other[i];
        }
    }
    return n;
}

/* The view order (compare_files) as a "ranks lower" test on file slots,
 * for the heap that keeps a view's top rows. */
static int ranks_lower(const ew_file_slot *slots, int32_t a, int32_t b)
{
    return compare_files(&slots[a].stat, &slots[b].stat) > 0;
}

/* heap[0..n) is a heap whose root ranks lowest: sift heap[i] down. */
static void sift_down(const ew_file_slot *slots, int32_t *heap, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t low = i;
        uint32_t l = 2 * i + 1;
        uint32_t r = l + 1;
        if (l < n && ranks_lower(slots, heap[l], heap[low])) {
            low = l;
        }
        if (r < n && ranks_lower(slots, heap[r], heap[low])) {
            low = r;
        }
        if (low == i) {
            return;
        }
        int32_t t = heap[i];
        heap[i] = heap[low];
        heap[low] = t;
        i = low;
    }
}

/* The slots of the max highest-ranked live files into heap (room for max),
 * in no particular order; returns how many. Reads each row's count and
 * times (one cache line), copies nothing. */
static uint32_t select_top_files(ew_store *st, uint32_t max, int32_t *heap)
{
    const ew_file_slot *slots = file_slots(st);
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->t->files_used; i++) {
        if (slots[i].stat.count == 0) {
            continue;
        }
        if (n < max) {
            heap[n++] = (int32_t)i;
            if (n == max) {
                for (uint32_t k = n / 2; k > 0; k--) {
                    sift_down(slots, heap, n, k - 1);
                }
            }
        } else if (max > 0 && ranks_lower(slots, heap[0], (int32_t)i)) {
            heap[0] = (int32_t)i;
            sift_down(slots, heap, n, 0);
        }
    }
    return n;
}

static uint32_t live_files(const ew_store *st)
{
    /* Every handed-out slot holds a live file (crash repair compacts). */
    return st->t->files_used;
}

static uint32_t ring_held(const ew_store *st)
{
    uint64_t seq = st->t->ring_seq;
    return (uint32_t)(seq < st->t->recent_cap ? seq : st->t->recent_cap);
}

static int compare_files_by_last_seen(const void *a, const void *b)
{
    const ew_file_stat *x = a;
    const ew_file_stat *y = b;
    if (x->last_seen_us != y->last_seen_us) {
        return x->last_seen_us < y->last_seen_us ? 1 : -1;
    }
    return strcmp(x->file, y->file);
}

static int snapshot_within(ew_store *st, apr_pool_t *pool, int64_t now_us, ew_snapshot *out,
                           int timeout_ms, uint32_t files_max, uint32_t recent_max,
                           int by_last_seen)
{
    memset(out, 0, sizeof(*out));
    out->since_us = st->h->since_us;
    out->taken_us = now_us;
    out->files_capacity = st->t->files_cap;
    out->recent_capacity = st->t->recent_cap;
    /* Allocate outside the lock, so it is held only for the copies, and
     * only as much as the rows shown: a 1M-row table that holds 3 files
     * costs 3 rows. Rows added between the two locks mean one more round. */
    ew_handler_stat *handlers =
        apr_palloc(pool, (EW_HANDLER_SLOTS + EW_CODE_COUNT) * sizeof(ew_handler_stat));
    ew_cause_stat *causes = apr_palloc(pool, EW_CAUSES * sizeof(ew_cause_stat));
    ew_file_stat *files = NULL;
    int32_t *top = NULL;
    ew_failure *recent = NULL;
    char **stories = NULL;
    char *story_buf = NULL; /* EW_STORY_MAX each for the newest EW_STORIES */
    uint32_t files_room = 0;
    uint32_t recent_room = 0;
    for (;;) {
        int rc = ew_store_lock_within(st, timeout_ms);
        if (rc != 0) {
            return rc;
        }
        uint32_t used = live_files(st);
        uint32_t files_need = used < files_max ? used : files_max;
        uint32_t held = ring_held(st);
        uint32_t recent_need = held < recent_max ? held : recent_max;
        if (files_need <= files_room && recent_need <= recent_room) {
            break; /* keep the lock */
        }
        ew_store_unlock(st);
        uint32_t spare = st->t->files_cap - files_need < 16 ? st->t->files_cap - files_need : 16;
        files_room = files_need + spare;
        recent_room = recent_need;
        files = apr_palloc(pool, (size_t)files_room * sizeof(ew_file_stat) + 1);
        top = apr_palloc(pool, (size_t)files_room * sizeof(int32_t) + 1);
        recent = apr_palloc(pool, (size_t)recent_room * sizeof(ew_failure) + 1);
        stories = apr_pcalloc(pool, (size_t)recent_room * sizeof(char *) + 1);
        story_buf = apr_palloc(
            pool, (size_t)(recent_room < EW_STORIES ? recent_room : EW_STORIES) * EW_STORY_MAX + 1);
    }
    read_counters(st, out);
    out->failures_recorded = st->h->failures_recorded;
    out->files_evicted = st->t->files_evicted;
    read_windows(st, now_us, out);
    out->handlers_len = read_handlers(st, handlers);
    out->handlers = handlers;
    out->markers_len = ew_store_read_markers(st, out->markers);
    out->causes_len = ew_store_causes_raw(st, causes);
    out->causes_total = out->causes_len;
    out->causes_evicted = st->h->causes_evicted;
    out->causes = causes;

    ew_file_slot *slots = file_slots(st);
    uint32_t nfiles = 0;
    out->files_total = live_files(st);
    if (out->files_total <= files_max) {
        for (uint32_t i = 0; i < st->t->files_used; i++) {
            if (slots[i].stat.count > 0) {
                /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): files_room >= files_used */
                files[nfiles++] = slots[i].stat;
            }
        }
    } else if (by_last_seen) {
        /* The eviction list is in failure order already: its head. */
        for (int32_t sl = st->t->lru_head; sl != EW_NONE && nfiles < files_max;
             sl = slots[sl].lru_next) {
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): files_room >= files_max */
            files[nfiles++] = slots[sl].stat;
        }
    } else {
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): files_room >= files_max */
        uint32_t k = select_top_files(st, files_max, top);
        for (uint32_t i = 0; i < k; i++) {
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): files_room >= files_max */
            files[nfiles++] = slots[top[i]].stat;
        }
    }
    uint64_t seq = st->t->ring_seq;
    uint64_t n = ring_held(st);
    /* A torn entry (crash repair) counts in the total but is not shown:
     * counting them would mean reading the whole ring. */
    out->recent_total = (uint32_t)n;
    uint32_t nrecent = 0;
    ew_failure *ring = ring_slots(st);
    for (uint64_t k = 1; k <= n && nrecent < recent_max; k++) {
        const ew_failure *f = &ring[(seq - k) % st->t->recent_cap];
        if (ring_entry_used(f)) {
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): room >= need */
            recent[nrecent] = *f;
            const ew_story_slot *slot = &st->h->stories[f->seq % EW_STORIES];
            if (nrecent < EW_STORIES && slot->seq == f->seq && f->seq != 0) {
                /* Copied under the lock: a newer failure may reuse the slot. */
                char *dst = story_buf + (size_t)nrecent * EW_STORY_MAX;
                size_t len = strnlen(slot->text, EW_STORY_MAX - 1);
                memcpy(dst, slot->text, len);
                dst[len] = '\0';
                stories[nrecent] = dst;
            }
            nrecent++;
        }
    }
    ew_store_unlock(st);

    ew_store_causes_sort(causes, out->causes_len);
    if (nfiles > 1) {
        qsort(files, nfiles, sizeof(ew_file_stat),
              by_last_seen ? compare_files_by_last_seen : compare_files);
    }
    out->files = files;
    out->files_len = nfiles;
    out->recent = recent;
    out->recent_len = nrecent;
    out->recent_story = stories;
    return 0;
}

/* The ring position (in ring_seq numbering, within [oldest, written)) of
 * the first entry newer than `after`. The entries are in seq order, so this
 * is a binary search: a replay costs O(log n) per batch, not a walk back
 * from the newest entry each time, which made a long replay quadratic
 * under the lock. An unused entry (torn by a crash repair) has no valid
 * seq: the probe moves to the next used entry, or treats the rest as
 * newer-than-nothing when none follows. */
static uint64_t first_newer(ew_store *st, uint64_t after, uint64_t oldest, uint64_t written)
{
    const ew_failure *ring = ring_slots(st);
    uint32_t cap = st->t->recent_cap;
    uint64_t lo = oldest;
    uint64_t hi = written;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t probe = mid;
        while (probe < hi && !ring_entry_used(&ring[probe % cap])) {
            probe++;
        }
        /* Only unused entries from mid on, or a newer one: look lower. */
        if (probe < hi && ring[probe % cap].seq <= after) {
            lo = probe + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

int ew_store_failures_after(ew_store *st, uint64_t after, ew_failure *out, uint32_t max,
                            uint32_t *n_out, uint64_t *latest_out)
{
    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    const ew_failure *ring = ring_slots(st);
    uint64_t written = st->t->ring_seq;
    uint32_t cap = st->t->recent_cap;
    uint64_t oldest = written > cap ? written - cap : 0;
    uint32_t n = 0;
    for (uint64_t k = first_newer(st, after, oldest, written); k < written && n < max; k++) {
        const ew_failure *f = &ring[k % cap];
        if (ring_entry_used(f)) {
            out[n++] = *f;
        }
    }
    *n_out = n;
    *latest_out = st->h->failures_recorded;
    ew_store_unlock(st);
    return 0;
}

ew_tail_shared *ew_store_tail(ew_store *st)
{
    return &st->h->tail;
}

int ew_store_snapshot(ew_store *st, apr_pool_t *pool, int64_t now_us, ew_snapshot *out)
{
    return snapshot_within(st, pool, now_us, out, -1, UINT32_MAX, UINT32_MAX, 0);
}

int ew_store_snapshot_top(ew_store *st, apr_pool_t *pool, int64_t now_us, uint32_t files_max,
                          uint32_t recent_max, ew_snapshot *out)
{
    return snapshot_within(st, pool, now_us, out, -1, files_max, recent_max, 0);
}

int ew_store_snapshot_latest(ew_store *st, apr_pool_t *pool, int64_t now_us, uint32_t files_max,
                             uint32_t recent_max, ew_snapshot *out)
{
    return snapshot_within(st, pool, now_us, out, -1, files_max, recent_max, 1);
}

int ew_store_summary(ew_store *st, int64_t now_us, ew_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->since_us = st->h->since_us;
    out->taken_us = now_us;
    out->files_capacity = st->t->files_cap;
    out->recent_capacity = st->t->recent_cap;
    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    read_counters(st, out);
    out->failures_recorded = st->h->failures_recorded;
    out->files_evicted = st->t->files_evicted;
    read_windows(st, now_us, out);
    out->files_total = live_files(st);
    out->recent_total = ring_held(st);
    out->markers_len = ew_store_read_markers(st, out->markers);
    out->causes_total = ew_store_causes_used(st);
    out->causes_evicted = st->h->causes_evicted;
    ew_store_unlock(st);
    return 0;
}

ew_store *ew_store_resize(apr_pool_t *pool, ew_store *old, void *tables, size_t tables_len,
                          uint32_t files, uint32_t recent, int timeout_ms, int *rc_out)
{
    int rc = EINVAL;
    ew_store *st = NULL;
    ew_file_stat *rows = NULL;
    ew_failure *ring = NULL;
    if (!aligned(tables) || !capacities_valid(files, recent) ||
        tables_len < ew_store_tables_size(files, recent)) {
        goto done;
    }
    if ((rc = ew_store_lock_within(old, timeout_ms)) != 0) {
        goto done;
    }
    /* Copy the live rows out of the old tables. */
    const ew_tables *ot = old->t;
    uint32_t nring = (uint32_t)(ot->ring_seq < ot->recent_cap ? ot->ring_seq : ot->recent_cap);
    if (nring > recent) {
        nring = recent;
    }
    rows = malloc((size_t)ot->files_used * sizeof(*rows) + 1);
    ring = malloc((size_t)nring * sizeof(*ring) + 1);
    if (rows == NULL || ring == NULL) {
        ew_store_unlock(old);
        rc = ENOMEM;
        goto done;
    }
    const ew_file_slot *slots = file_slots(old);
    uint32_t nrows = 0;
    for (uint32_t i = 0; i < ot->files_used; i++) {
        if (slots[i].stat.count > 0) {
            rows[nrows++] = slots[i].stat;
        }
    }
    const ew_failure *old_ring = ring_slots(old);
    for (uint32_t k = 0; k < nring; k++) {
        ring[k] = old_ring[(ot->ring_seq - 1 - k) % ot->recent_cap]; /* newest first */
    }

    /* The busiest files survive a shrink; they go in least recently failed
     * first, so the eviction order stays what it was. */
    st = new_handle(pool, old->h, format_tables(tables, files, recent));
    st->slots = old->slots;
    if (nrows > 1) {
        qsort(rows, nrows, sizeof(*rows), compare_files);
    }
    uint32_t keep = nrows < files ? nrows : files;
    if (keep > 1) {
        qsort(rows, keep, sizeof(*rows), compare_last_seen_asc);
    }
    st->t->files_evicted = ot->files_evicted + (nrows - keep);
    for (uint32_t i = 0; i < keep; i++) {
        int32_t slot = take_slot(st);
        ew_file_slot *s = &file_slots(st)[slot];
        s->stat = rows[i];
        s->hash = hash_string(rows[i].file);
        int32_t found;
        uint32_t pos = index_find(st, s->hash, rows[i].file, &found);
        index_put(index_table(st), pos, slot);
        lru_push_front(st, slot);
    }
    for (uint32_t k = nring; k > 0; k--) {
        if (ring_entry_used(&ring[k - 1])) {
            append_ring(st, &ring[k - 1], ring[k - 1].seq);
        }
    }
    ew_store_causes_recount(st); /* rows that no longer fit left their causes */
    ew_store_unlock(old);
    rc = 0;
done:
    free(rows);
    free(ring);
    if (rc_out != NULL) {
        *rc_out = rc;
    }
    return rc == 0 ? st : NULL;
}

#ifdef EW_STORE_TESTING
int ew_store_test_tear(ew_store *st, uint64_t seq)
{
    ew_failure *ring = ring_slots(st);
    for (uint32_t i = 0; i < st->t->recent_cap; i++) {
        if (ring_entry_used(&ring[i]) && ring[i].seq == seq) {
            ring[i].status = 0;
            ring[i].crash_signal = 0;
            return 0;
        }
    }
    return -1;
}

int ew_store_test_lock(ew_store *st)
{
    return ew_store_lock(st);
}
#endif

/* ---- rows put back by a restore (src/store_persist.c), under the lock ---- */

void ew_store_put_file_row(ew_store *st, const ew_file_stat *row)
{
    uint64_t hash = hash_string(row->file);
    int32_t found;
    (void)index_find(st, hash, row->file, &found);
    if (found != EW_NONE) {
        return; /* a duplicate name: the first row put wins */
    }
    int32_t slot = take_slot(st);
    uint32_t pos = index_find(st, hash, row->file, &found); /* eviction may shift it */
    ew_file_slot *s = &file_slots(st)[slot];
    s->stat = *row;
    s->hash = hash;
    index_put(index_table(st), pos, slot);
    lru_push_front(st, slot);
}

void ew_store_put_ring_entry(ew_store *st, const ew_failure *f)
{
    append_ring(st, f, f->seq);
}

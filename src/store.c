/*
 * The shared-memory store: counters, a table of failing files and a ring of
 * recent failures, all inside one segment.
 *
 * Segment layout (offsets from base; every part 64-byte aligned):
 *
 *   +--------------------------------------------+ 0
 *   | struct ew_store (header)                   |
 *   |   magic, version, capacities, offsets      |
 *   |   since_us                                 |
 *   |   atomic counters: requests by class,      |  <- hot path, lock-free
 *   |     5xx by code, bytes, duration           |
 *   |   pthread mutex (process-shared, robust)   |  <- error path and readers
 *   |   lock-protected state: ring head, LRU     |
 *   |     ends, files used, busy markers, stats, |
 *   |     window buckets[192] (5 s each),        |
 *   |     handler x status table[64]             |
 *   +--------------------------------------------+ files_off
 *   | ew_file_slot[files_cap]                    |  file aggregates + LRU links
 *   +--------------------------------------------+ index_off
 *   | uint32_t index[index_cap]                  |  open addressing, linear
 *   |   (slot number + 1, 0 = empty; index_cap   |  probing, backward-shift
 *   |    = pow2 >= 2 * files_cap)                |  deletion
 *   +--------------------------------------------+ ring_off
 *   | ew_failure ring[recent_cap]                |  slot = seq % recent_cap
 *   +--------------------------------------------+ total
 *
 * Only offsets are stored, never pointers, so the segment means the same
 * thing at any address. All-zero bytes are a valid empty table, index and
 * ring, so formatting touches only the header: the capacity costs address
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

#define EW_STORE_MAGIC 0x45525257u /* "ERRW" */
#define EW_STORE_VERSION 2u
#define EW_ALIGN 64u
#define EW_NONE (-1)

const int ew_window_minutes[EW_WINDOW_COUNT] = {1, 5, 15};

typedef struct ew_bucket {
    int64_t epoch; /* time / EW_BUCKET_US of the counts below */
    uint64_t count_500;
    uint64_t count_5xx;
} ew_bucket;

typedef struct ew_file_slot {
    ew_file_stat stat;
    uint64_t hash;
    int32_t lru_prev; /* towards the most recently failed */
    int32_t lru_next; /* towards the least recently failed */
} ew_file_slot;

struct ew_store {
    uint32_t magic;
    uint32_t version;
    uint64_t total_len;
    uint32_t files_cap;
    uint32_t recent_cap;
    uint32_t index_cap;   /* power of two */
    uint32_t layout_hash; /* sizes and offsets of this build's structures */
    uint64_t files_off;
    uint64_t index_off;
    uint64_t ring_off;
    int64_t since_us;

    /* Hot path: written with relaxed atomics by every request. */
    alignas(EW_ALIGN) _Atomic uint64_t requests_by_class[EW_CLASS_COUNT];
    _Atomic uint64_t errors_by_code[EW_CODE_COUNT];
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t duration_us_total;
    _Atomic uint64_t lock_recoveries;

    /* Everything below is guarded by lock. */
    alignas(EW_ALIGN) pthread_mutex_t lock;
    uint64_t ring_seq; /* failures written to the ring so far */
    uint64_t failures_recorded;
    uint64_t files_evicted;
    uint32_t files_used;           /* slots handed out; they are never freed, only reused */
    int32_t lru_head;              /* most recently failed */
    int32_t lru_tail;              /* eviction candidate */
    int32_t busy_file;             /* slot being rewritten, or EW_NONE */
    int64_t busy_ring;             /* ring sequence being written, or EW_NONE */
    ew_bucket buckets[EW_BUCKETS]; /* slot = epoch % EW_BUCKETS */
    uint32_t handlers_used;
    ew_handler_stat handlers[EW_HANDLER_SLOTS];
    uint64_t handler_other[EW_CODE_COUNT]; /* failures of pairs that did not fit */
};

/* A fingerprint of the structures' shapes: a module built with another
 * layout (same version number by mistake) must not reuse a retained store. */
static uint32_t layout_hash(void)
{
    const size_t parts[] = {
        sizeof(struct ew_store),
        sizeof(ew_file_slot),
        sizeof(ew_failure),
        sizeof(ew_handler_stat),
        sizeof(ew_bucket),
        offsetof(struct ew_store, lock),
        offsetof(struct ew_store, buckets),
        offsetof(struct ew_store, handlers),
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

typedef struct layout {
    size_t files_off, index_off, ring_off, total;
} layout;

static layout compute_layout(uint32_t files, uint32_t recent)
{
    layout l;
    l.files_off = align_up(sizeof(struct ew_store));
    l.index_off = align_up(l.files_off + (size_t)files * sizeof(ew_file_slot));
    l.ring_off = align_up(l.index_off + (size_t)index_capacity(files) * sizeof(uint32_t));
    l.total = align_up(l.ring_off + (size_t)recent * sizeof(ew_failure));
    return l;
}

size_t ew_store_size(uint32_t files, uint32_t recent)
{
    if (!capacities_valid(files, recent)) {
        return 0;
    }
    return compute_layout(files, recent).total;
}

static ew_file_slot *file_slots(ew_store *st)
{
    return (ew_file_slot *)(void *)((char *)st + st->files_off);
}

static uint32_t *index_table(ew_store *st)
{
    return (uint32_t *)(void *)((char *)st + st->index_off);
}

/* Index entries hold slot + 1 so that zeroed memory is an empty index. */
static int32_t index_slot(const uint32_t *index, uint32_t pos)
{
    return (int32_t)index[pos] - 1;
}

static void index_put(uint32_t *index, uint32_t pos, int32_t slot)
{
    index[pos] = (uint32_t)(slot + 1);
}

static ew_failure *ring_slots(ew_store *st)
{
    return (ew_failure *)(void *)((char *)st + st->ring_off);
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

ew_store *ew_store_init(void *base, size_t len, uint32_t files, uint32_t recent, int64_t now_us)
{
    if (base == NULL || ((uintptr_t)base % EW_ALIGN) != 0 || !capacities_valid(files, recent)) {
        return NULL;
    }
    layout l = compute_layout(files, recent);
    if (len < l.total) {
        return NULL;
    }
    /* The rest of the segment is zero already (see the contract in
     * ew_store.h): writing it would commit RAM for every empty row. */
    memset(base, 0, sizeof(struct ew_store));
    ew_store *st = base;
    st->total_len = l.total;
    st->files_cap = files;
    st->recent_cap = recent;
    st->index_cap = index_capacity(files);
    st->files_off = l.files_off;
    st->index_off = l.index_off;
    st->ring_off = l.ring_off;
    st->since_us = now_us;
    st->lru_head = EW_NONE;
    st->lru_tail = EW_NONE;
    st->busy_file = EW_NONE;
    st->busy_ring = EW_NONE;
    st->layout_hash = layout_hash();
    if (init_mutex(&st->lock) != 0) {
        return NULL;
    }
    /* Written last: a store is valid only once fully formatted. */
    st->version = EW_STORE_VERSION;
    st->magic = EW_STORE_MAGIC;
    return st;
}

ew_store *ew_store_attach(void *base, size_t len)
{
    if (base == NULL || len < sizeof(struct ew_store)) {
        return NULL;
    }
    ew_store *st = base;
    if (st->magic != EW_STORE_MAGIC || st->version != EW_STORE_VERSION ||
        st->layout_hash != layout_hash() || st->total_len > len ||
        !capacities_valid(st->files_cap, st->recent_cap)) {
        return NULL;
    }
    layout l = compute_layout(st->files_cap, st->recent_cap);
    if (l.total != st->total_len || l.files_off != st->files_off || l.index_off != st->index_off ||
        l.ring_off != st->ring_off) {
        return NULL;
    }
    return st;
}

uint32_t ew_store_files_capacity(const ew_store *st)
{
    return st->files_cap;
}

uint32_t ew_store_recent_capacity(const ew_store *st)
{
    return st->recent_cap;
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
    atomic_fetch_add_explicit(&st->requests_by_class[ew_status_class(status)], 1,
                              memory_order_relaxed);
    if (status >= EW_CODE_FIRST && status < EW_CODE_FIRST + EW_CODE_COUNT) {
        atomic_fetch_add_explicit(&st->errors_by_code[status - EW_CODE_FIRST], 1,
                                  memory_order_relaxed);
    }
}

void ew_store_add_traffic(ew_store *st, uint64_t bytes, uint64_t duration_us)
{
    atomic_fetch_add_explicit(&st->bytes_sent, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->duration_us_total, duration_us, memory_order_relaxed);
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
        /* Truncate, then back off over UTF-8 continuation bytes so a
         * multibyte character is never cut in half. */
        n = dst_size - 1;
        size_t keep = n;
        while (keep > 0 && ((unsigned char)src[keep] & 0xC0u) == 0x80u) {
            keep--;
        }
        if (keep > 0 || ((unsigned char)src[0] & 0xC0u) != 0x80u) {
            n = keep;
        }
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
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

/* Takes the lock, waiting at most timeout_ms (forever when negative). */
static int store_lock_within(ew_store *st, int timeout_ms)
{
    int rc;
    if (timeout_ms < 0) {
        rc = pthread_mutex_lock(&st->lock);
    } else {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        rc = pthread_mutex_timedlock(&st->lock, &until);
    }
    if (rc == EOWNERDEAD) {
        /* The previous holder died mid-update: repair, then mark the mutex
         * usable again. */
        rebuild_after_crash(st);
        atomic_fetch_add_explicit(&st->lock_recoveries, 1, memory_order_relaxed);
        rc = pthread_mutex_consistent(&st->lock);
        if (rc != 0) {
            pthread_mutex_unlock(&st->lock); /* never return holding it */
        }
    }
    return rc;
}

static int store_lock(ew_store *st)
{
    return store_lock_within(st, -1);
}

static void store_unlock(ew_store *st)
{
    pthread_mutex_unlock(&st->lock);
}

/* ---- file table: hash index ---------------------------------------------- */

static uint32_t home_bucket(const ew_store *st, uint64_t hash)
{
    return (uint32_t)(hash & (st->index_cap - 1));
}

/* Returns the index position holding the slot for file, or the empty
 * position where it would go. */
static uint32_t index_find(ew_store *st, uint64_t hash, const char *file, int32_t *slot_out)
{
    const uint32_t *index = index_table(st);
    ew_file_slot *slots = file_slots(st);
    uint32_t mask = st->index_cap - 1;
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
    uint32_t mask = st->index_cap - 1;
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
        st->lru_head = s->lru_next;
    }
    if (s->lru_next != EW_NONE) {
        slots[s->lru_next].lru_prev = s->lru_prev;
    } else {
        st->lru_tail = s->lru_prev;
    }
    s->lru_prev = s->lru_next = EW_NONE;
}

static void lru_push_front(ew_store *st, int32_t slot)
{
    ew_file_slot *slots = file_slots(st);
    slots[slot].lru_prev = EW_NONE;
    slots[slot].lru_next = st->lru_head;
    if (st->lru_head != EW_NONE) {
        slots[st->lru_head].lru_prev = slot;
    } else {
        st->lru_tail = slot;
    }
    st->lru_head = slot;
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

    if (st->busy_file != EW_NONE && (uint32_t)st->busy_file < st->files_used) {
        slots[st->busy_file].stat.count = 0;
    }
    st->busy_file = EW_NONE;
    if (st->busy_ring != EW_NONE) {
        /* A zero status marks the ring entry as unusable. */
        ring_slots(st)[(uint64_t)st->busy_ring % st->recent_cap].status = 0;
        st->busy_ring = EW_NONE;
    }

    memset(index, 0, (size_t)st->index_cap * sizeof(*index));
    uint32_t live = 0;
    for (uint32_t i = 0; i < st->files_used; i++) {
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
    st->files_used = live;

    st->lru_head = st->lru_tail = EW_NONE;
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
    if (st->files_used < st->files_cap) {
        return (int32_t)st->files_used++;
    }
    int32_t victim = st->lru_tail;
    index_remove_slot(st, victim);
    lru_unlink(st, victim);
    st->files_evicted++;
    return victim;
}

static void update_file_table(ew_store *st, const ew_failure *f, const char *file)
{
    ew_file_slot *slots = file_slots(st);
    uint64_t hash = hash_string(file);
    int32_t slot;
    uint32_t pos = index_find(st, hash, file, &slot);

    if (slot == EW_NONE) {
        slot = take_slot(st);
        st->busy_file = slot;
        /* Eviction may have shifted the index: find the position again. */
        int32_t again;
        pos = index_find(st, hash, file, &again);
        ew_file_slot *s = &slots[slot];
        memset(&s->stat, 0, sizeof(ew_file_stat));
        ew_copy_field(s->stat.file, sizeof(s->stat.file), file);
        s->hash = hash;
        s->stat.first_seen_us = f->time_us;
        index_put(index_table(st), pos, slot);
    } else {
        st->busy_file = slot;
        lru_unlink(st, slot);
    }

    ew_file_slot *s = &slots[slot];
    s->stat.count++;
    if (f->time_us >= s->stat.last_seen_us) {
        s->stat.last_seen_us = f->time_us;
    }
    s->stat.last_status = f->status;
    ew_copy_field(s->stat.handler, sizeof(s->stat.handler), f->handler);
    if (f->message[0] != '\0') {
        ew_copy_field(s->stat.message, sizeof(s->stat.message), f->message);
    }
    lru_push_front(st, slot);
    st->busy_file = EW_NONE;
}

static void append_ring(ew_store *st, const ew_failure *f)
{
    uint64_t seq = st->ring_seq;
    st->busy_ring = (int64_t)seq;
    ew_failure *dst = &ring_slots(st)[seq % st->recent_cap];
    memcpy(dst, f, sizeof(*dst));
    /* Callers may hand over unterminated fields: terminate every one. */
    dst->method[EW_METHOD_MAX - 1] = '\0';
    dst->uri[EW_URI_MAX - 1] = '\0';
    dst->vhost[EW_VHOST_MAX - 1] = '\0';
    dst->handler[EW_HANDLER_MAX - 1] = '\0';
    dst->file[EW_FILE_MAX - 1] = '\0';
    dst->message[EW_MESSAGE_MAX - 1] = '\0';
    st->ring_seq = seq + 1;
    st->busy_ring = EW_NONE;
}

static void count_in_window(ew_store *st, const ew_failure *f)
{
    int64_t t = f->time_us + (f->duration_us > 0 ? f->duration_us : 0);
    if (t < 0) {
        return;
    }
    int64_t epoch = t / EW_BUCKET_US;
    ew_bucket *b = &st->buckets[epoch % EW_BUCKETS];
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
    for (uint32_t i = 0; i < st->handlers_used; i++) {
        ew_handler_stat *h = &st->handlers[i];
        if (h->status == f->status && strncmp(h->handler, f->handler, EW_HANDLER_MAX) == 0) {
            h->count++;
            return;
        }
    }
    if (st->handlers_used < EW_HANDLER_SLOTS) {
        /* Fill the row before counting it, so a crash here leaves no torn
         * row behind. */
        ew_handler_stat *h = &st->handlers[st->handlers_used];
        ew_copy_field(h->handler, sizeof(h->handler), f->handler);
        h->status = f->status;
        h->count = 1;
        st->handlers_used++;
        return;
    }
    if (f->status >= EW_CODE_FIRST && f->status < EW_CODE_FIRST + EW_CODE_COUNT) {
        st->handler_other[f->status - EW_CODE_FIRST]++;
    }
}

int ew_store_record_failure(ew_store *st, const ew_failure *failure)
{
    char file[EW_FILE_MAX];
    /* The table is keyed by file; a failure without one (e.g. a request
     * that never mapped to the file system) is keyed by its URI. */
    ew_copy_field(file, sizeof(file), failure->file[0] != '\0' ? failure->file : failure->uri);

    int rc = store_lock(st);
    if (rc != 0) {
        return rc;
    }
    update_file_table(st, failure, file);
    append_ring(st, failure);
    count_in_window(st, failure);
    count_by_handler(st, failure);
    st->failures_recorded++;
    store_unlock(st);
    return 0;
}

#ifdef EW_STORE_TESTING
void ew_store_test_lock_and_mark_busy(ew_store *st, uint32_t file_slot)
{
    if (store_lock(st) == 0) {
        st->busy_file = (int32_t)file_slot;
        /* Scribble over the index as a torn update would. */
        uint32_t *index = index_table(st);
        for (uint32_t i = 0; i < st->index_cap; i++) {
            index_put(index, i, (int32_t)file_slot);
        }
        st->lru_head = st->lru_tail = (int32_t)file_slot;
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
            atomic_load_explicit(&st->requests_by_class[i], memory_order_relaxed);
        out->requests_total += out->requests_by_class[i];
    }
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        out->errors_by_code[i] = atomic_load_explicit(&st->errors_by_code[i], memory_order_relaxed);
    }
    out->bytes_sent = atomic_load_explicit(&st->bytes_sent, memory_order_relaxed);
    out->duration_us_total = atomic_load_explicit(&st->duration_us_total, memory_order_relaxed);
    out->lock_recoveries = atomic_load_explicit(&st->lock_recoveries, memory_order_relaxed);
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
            const ew_bucket *b = &st->buckets[i];
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
    uint32_t n = st->handlers_used;
    memcpy(dst, st->handlers, (size_t)n * sizeof(*dst));
    qsort(dst, n, sizeof(*dst), compare_handlers);
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        if (st->handler_other[i] > 0) {
            ew_handler_stat *h = &dst[n++];
            ew_copy_field(h->handler, sizeof(h->handler), EW_HANDLER_OTHER);
            h->status = (uint16_t)(EW_CODE_FIRST + i);
            h->count = st->handler_other[i];
        }
    }
    return n;
}

static int snapshot_within(ew_store *st, apr_pool_t *pool, int64_t now_us, ew_snapshot *out,
                           int timeout_ms)
{
    memset(out, 0, sizeof(*out));
    out->since_us = st->since_us;
    out->taken_us = now_us;
    out->files_capacity = st->files_cap;
    out->recent_capacity = st->recent_cap;
    /* Allocate outside the lock, so it is held only for the copies, and
     * only as much as the rows in use: a 1M-row table that holds 3 files
     * costs 3 rows. Rows added between the two locks mean one more round. */
    ew_handler_stat *handlers =
        apr_palloc(pool, (EW_HANDLER_SLOTS + EW_CODE_COUNT) * sizeof(ew_handler_stat));
    ew_file_stat *files = NULL;
    ew_failure *recent = NULL;
    uint32_t files_room = 0;
    uint32_t recent_room = 0;
    int rc;
    for (;;) {
        rc = store_lock_within(st, timeout_ms);
        if (rc != 0) {
            return rc;
        }
        uint32_t files_need = st->files_used;
        uint32_t recent_need =
            (uint32_t)(st->ring_seq < st->recent_cap ? st->ring_seq : st->recent_cap);
        if (files_need <= files_room && recent_need <= recent_room) {
            break; /* keep the lock */
        }
        store_unlock(st);
        files_room =
            files_need + (st->files_cap - files_need < 16 ? st->files_cap - files_need : 16);
        recent_room = recent_need;
        files = apr_palloc(pool, (size_t)files_room * sizeof(ew_file_stat) + 1);
        recent = apr_palloc(pool, (size_t)recent_room * sizeof(ew_failure) + 1);
    }
    read_counters(st, out);
    out->failures_recorded = st->failures_recorded;
    out->files_evicted = st->files_evicted;
    read_windows(st, now_us, out);
    out->handlers_len = read_handlers(st, handlers);
    out->handlers = handlers;

    ew_file_slot *slots = file_slots(st);
    uint32_t nfiles = 0;
    for (uint32_t i = 0; i < st->files_used; i++) {
        if (slots[i].stat.count > 0) {
            files[nfiles++] = slots[i].stat;
        }
    }
    uint64_t seq = st->ring_seq;
    uint64_t n = seq < st->recent_cap ? seq : st->recent_cap;
    uint32_t nrecent = 0;
    ew_failure *ring = ring_slots(st);
    for (uint64_t k = 1; k <= n; k++) {
        const ew_failure *f = &ring[(seq - k) % st->recent_cap];
        if (f->status != 0) {
            recent[nrecent++] = *f;
        }
    }
    store_unlock(st);

    if (nfiles > 1) {
        qsort(files, nfiles, sizeof(ew_file_stat), compare_files);
    }
    out->files = files;
    out->files_len = nfiles;
    out->recent = recent;
    out->recent_len = nrecent;
    return 0;
}

int ew_store_snapshot(ew_store *st, apr_pool_t *pool, int64_t now_us, ew_snapshot *out)
{
    return snapshot_within(st, pool, now_us, out, -1);
}

int ew_store_summary(ew_store *st, int64_t now_us, ew_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->since_us = st->since_us;
    out->taken_us = now_us;
    out->files_capacity = st->files_cap;
    out->recent_capacity = st->recent_cap;
    int rc = store_lock(st);
    if (rc != 0) {
        return rc;
    }
    read_counters(st, out);
    out->failures_recorded = st->failures_recorded;
    out->files_evicted = st->files_evicted;
    read_windows(st, now_us, out);
    /* Every handed-out slot holds a live file (crash repair compacts). */
    out->files_len = st->files_used;
    store_unlock(st);
    return 0;
}

int ew_store_migrate(ew_store *to, ew_store *from, int timeout_ms)
{
    /* Counters are atomics: they come across even if the lock cannot be
     * had, so they never go backwards. */
    ew_snapshot counters;
    read_counters(from, &counters);
    to->since_us = from->since_us;
    for (int i = 0; i < EW_CLASS_COUNT; i++) {
        atomic_store(&to->requests_by_class[i], counters.requests_by_class[i]);
    }
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        atomic_store(&to->errors_by_code[i], counters.errors_by_code[i]);
    }
    atomic_store(&to->bytes_sent, counters.bytes_sent);
    atomic_store(&to->duration_us_total, counters.duration_us_total);
    atomic_store(&to->lock_recoveries, counters.lock_recoveries);

    apr_pool_t *pool;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return ENOMEM;
    }
    ew_snapshot snap;
    int rc = snapshot_within(from, pool, 0, &snap, timeout_ms);
    if (rc == 0 && (rc = store_lock(to)) == 0) {
        /* snap.files is sorted busiest first, so the busiest files survive a
         * shrink. Those are then added least recently failed first, so the
         * LRU order (and so the eviction order) stays what it was. */
        uint32_t keep = snap.files_len < to->files_cap ? snap.files_len : to->files_cap;
        if (keep > 1) {
            qsort(snap.files, keep, sizeof(ew_file_stat), compare_last_seen_asc);
        }
        for (uint32_t i = 0; i < keep; i++) {
            const ew_file_stat *fs = &snap.files[i];
            int32_t slot = take_slot(to);
            ew_file_slot *s = &file_slots(to)[slot];
            s->stat = *fs;
            s->hash = hash_string(fs->file);
            int32_t found;
            uint32_t pos = index_find(to, s->hash, fs->file, &found);
            index_put(index_table(to), pos, slot);
            lru_push_front(to, slot);
        }
        uint32_t nrecent = snap.recent_len < to->recent_cap ? snap.recent_len : to->recent_cap;
        for (uint32_t i = nrecent; i > 0; i--) {
            append_ring(to, &snap.recent[i - 1]);
        }
        /* Same version, same layout: windows and handler rows copy as is. */
        if (store_lock_within(from, timeout_ms) == 0) {
            memcpy(to->buckets, from->buckets, sizeof(to->buckets));
            memcpy(to->handlers, from->handlers, sizeof(to->handlers));
            memcpy(to->handler_other, from->handler_other, sizeof(to->handler_other));
            to->handlers_used = from->handlers_used;
            store_unlock(from);
        }
        to->failures_recorded = snap.failures_recorded;
        to->files_evicted = snap.files_evicted + (snap.files_len - keep);
        store_unlock(to);
    }
    apr_pool_destroy(pool);
    return rc;
}

#ifdef EW_STORE_TESTING
int ew_store_test_lock(ew_store *st)
{
    return store_lock(st);
}
#endif

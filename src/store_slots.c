/*
 * Per-worker slots (include/ew_slots.h): counters and the request in
 * flight, one slot per scoreboard worker.
 *
 *   region:  [ ew_slots_head (64 B) ][ slot 0 ][ slot 1 ] ... [ slot n-1 ]
 *   slot:    +-- counters (own cache lines, written by the occupant only) --+
 *            | requests_by_class[6]  errors_by_code[100]  bytes  duration   |
 *            +-- in flight (own cache lines) -------------------------------+
 *            | busy(tag) pid start_us method_number vhost_ref/tag uri ... file |
 *            +--------------------------------------------------------------+
 *
 * Slot i belongs to worker i = process slot x ThreadLimit + thread (the
 * connection id that prefork, worker and event give their connections).
 * httpd never gives a process slot to a new child while the old one still
 * runs, so each slot has one writer at a time: increments are a relaxed load
 * and a relaxed store, never a locked read-modify-write, and no other worker
 * writes the slot's cache lines. Readers in other processes see each 64-bit
 * counter whole; a sum taken while requests finish may lag by those
 * requests, as a snapshot of atomics would.
 */
#include <stdio.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <string.h>

#include "ew_slots.h"
#include "store_internal.h"

#define EW_SLOTS_MAGIC 0x45575354u /* "EWST" */
#define EW_SLOTS_VERSION 3u        /* 2: busy holds the request's tag; 3: remote stories */
#define EW_SLOTS_MAX (1u << 20)

typedef struct ew_slots_head {
    alignas(EW_SLOTS_ALIGN) uint32_t magic;
    uint32_t version;
    uint32_t slot_size;
    uint32_t count;
} ew_slots_head;

/* A story that another process (mod_wsgi's daemon) logged for a request
 * in flight in a worker's slot, until that worker records the failure.
 * tag is the request's tag while the entry is in use, 0 when free, and
 * EW_REMOTE_CLAIMING while a process sets it up. */
#define EW_REMOTE_CLAIMING 1u
typedef struct ew_remote_story {
    alignas(EW_SLOTS_ALIGN) _Atomic uint64_t tag;
    uint32_t slot;
    _Atomic uint32_t len; /* bytes of text, published after they are written */
    uint32_t lines;
    uint32_t dropped; /* lines that did not fit */
    int32_t worst_level;
    char worst[EW_STORY_LINE_MAX]; /* the most severe line, the last on ties */
    char last[EW_STORY_LINE_MAX];  /* the last line, kept when text is full */
    char text[EW_REMOTE_TEXT];     /* lines joined by '\n' */
} ew_remote_story;

struct ew_slots {
    ew_slots_head *head;
    ew_worker_slot *slot;
    ew_remote_story *remote;
    uint32_t count;
};

size_t ew_slots_size(uint32_t count)
{
    if (count == 0 || count > EW_SLOTS_MAX) {
        return 0;
    }
    return sizeof(ew_slots_head) + (size_t)count * sizeof(ew_worker_slot) +
           EW_REMOTE_STORIES * sizeof(ew_remote_story);
}

static ew_slots *fill(ew_slots *s, void *base, uint32_t count)
{
    s->head = base;
    s->slot = (ew_worker_slot *)(void *)((char *)base + sizeof(ew_slots_head));
    s->remote = (ew_remote_story *)(void *)(s->slot + count);
    s->count = count;
    return s;
}

static ew_slots *handle(apr_pool_t *pool, void *base, uint32_t count)
{
    return fill(apr_palloc(pool, sizeof(ew_slots)), base, count);
}

ew_slots *ew_slots_init(apr_pool_t *pool, void *base, size_t len, uint32_t count)
{
    size_t need = ew_slots_size(count);
    if (base == NULL || need == 0 || len < need || (uintptr_t)base % EW_SLOTS_ALIGN != 0) {
        return NULL;
    }
    ew_slots_head *h = base;
    h->magic = EW_SLOTS_MAGIC;
    h->version = EW_SLOTS_VERSION;
    h->slot_size = (uint32_t)sizeof(ew_worker_slot);
    h->count = count;
    return handle(pool, base, count);
}

static int layout_ok(const void *base, size_t len)
{
    if (base == NULL || len < sizeof(ew_slots_head)) {
        return 0;
    }
    const ew_slots_head *h = base;
    return h->magic == EW_SLOTS_MAGIC && h->version == EW_SLOTS_VERSION &&
           h->slot_size == sizeof(ew_worker_slot) && ew_slots_size(h->count) != 0 &&
           len >= ew_slots_size(h->count);
}

ew_slots *ew_slots_attach(apr_pool_t *pool, void *base, size_t len)
{
    if (!layout_ok(base, len)) {
        return NULL;
    }
    return handle(pool, base, ((const ew_slots_head *)base)->count);
}

ew_slots *ew_slots_attach_static(void *base, size_t len)
{
    static ew_slots one;
    if (!layout_ok(base, len)) {
        return NULL;
    }
    return fill(&one, base, ((const ew_slots_head *)base)->count);
}

/* ---- remote stories ---------------------------------------------------------- */

/* The entry holding request tag of slot index, or NULL. */
static ew_remote_story *remote_find(ew_slots *s, uint32_t index, uint64_t tag)
{
    for (uint32_t i = 0; i < EW_REMOTE_STORIES; i++) {
        ew_remote_story *e = &s->remote[i];
        if (atomic_load_explicit(&e->tag, memory_order_acquire) == tag && e->slot == index) {
            return e;
        }
    }
    return NULL;
}

/* An entry whose request is no longer in flight in its slot: its worker
 * logged it without taking the story (not a failure), or is gone. */
static int remote_stale(const ew_slots *s, const ew_remote_story *e, uint64_t tag)
{
    if (tag == 0) {
        return 1;
    }
    if (tag == EW_REMOTE_CLAIMING) {
        return 0;
    }
    return e->slot >= s->count ||
           atomic_load_explicit(&s->slot[e->slot].busy, memory_order_acquire) != tag;
}

static ew_remote_story *remote_claim(ew_slots *s, uint32_t index, uint64_t tag)
{
    for (uint32_t i = 0; i < EW_REMOTE_STORIES; i++) {
        ew_remote_story *e = &s->remote[i];
        uint64_t seen = atomic_load_explicit(&e->tag, memory_order_acquire);
        if (!remote_stale(s, e, seen) ||
            !atomic_compare_exchange_strong_explicit(&e->tag, &seen, EW_REMOTE_CLAIMING,
                                                     memory_order_acq_rel, memory_order_relaxed)) {
            continue;
        }
        e->slot = index;
        atomic_store_explicit(&e->len, 0, memory_order_relaxed);
        e->lines = 0;
        e->dropped = 0;
        e->worst_level = -1;
        e->worst[0] = '\0';
        e->last[0] = '\0';
        atomic_store_explicit(&e->tag, tag, memory_order_release);
        return e;
    }
    return NULL;
}

int ew_slots_remote_add(ew_slots *s, uint32_t index, uint64_t tag, int level, const char *line)
{
    if (index >= s->count || tag <= EW_REMOTE_CLAIMING ||
        atomic_load_explicit(&s->slot[index].busy, memory_order_acquire) != tag) {
        return 0; /* that request is not (or no longer) in flight there */
    }
    ew_remote_story *e = remote_find(s, index, tag);
    if (e == NULL) {
        e = remote_claim(s, index, tag);
    }
    if (e == NULL) {
        return 0;
    }
    char buf[EW_STORY_LINE_MAX];
    size_t n = ew_story_line(buf, line);
    memcpy(e->last, buf, n + 1);
    if (e->worst_level < 0 || level <= e->worst_level) {
        e->worst_level = level;
        memcpy(e->worst, buf, n + 1);
    }
    uint32_t len = atomic_load_explicit(&e->len, memory_order_relaxed);
    size_t sep = len > 0 ? 1 : 0;
    if (len + sep + n < sizeof(e->text)) {
        if (sep != 0) {
            e->text[len] = '\n';
        }
        memcpy(e->text + len + sep, buf, n);
        e->text[len + sep + n] = '\0';
        atomic_store_explicit(&e->len, (uint32_t)(len + sep + n), memory_order_release);
    } else {
        e->dropped++;
    }
    e->lines++;
    return 1;
}

/* Appends "\n" (if story is not empty) and src to story, within size. */
static void story_append(char *story, size_t size, const char *src, size_t n)
{
    size_t at = strlen(story);
    if (at > 0 && at + 1 < size) {
        story[at++] = '\n';
    }
    if (at + n >= size) {
        n = at < size ? size - 1 - at : 0;
    }
    memcpy(story + at, src, n);
    story[at + n] = '\0';
}

uint32_t ew_slots_remote_take(ew_slots *s, uint32_t index, uint64_t tag, char *story,
                              size_t story_size, char *message, size_t message_size)
{
    ew_remote_story *e = tag > EW_REMOTE_CLAIMING ? remote_find(s, index, tag) : NULL;
    if (e == NULL) {
        return 0;
    }
    uint32_t len = atomic_load_explicit(&e->len, memory_order_acquire);
    uint32_t lines = e->lines;
    if (len > 0) {
        story_append(story, story_size, e->text, len);
    }
    if (e->dropped > 0) {
        char mark[48];
        int m = snprintf(mark, sizeof(mark), "[... %u lines cut ...]", e->dropped);
        story_append(story, story_size, mark, (size_t)m);
        story_append(story, story_size, e->last, strlen(e->last));
    }
    if (message[0] == '\0' && e->worst[0] != '\0') {
        ew_copy_field(message, message_size, e->worst);
    }
    atomic_store_explicit(&e->tag, 0, memory_order_release);
    return lines;
}

uint32_t ew_slots_count(const ew_slots *slots)
{
    return slots->count;
}

ew_worker_slot *ew_slots_get(ew_slots *slots, uint32_t index)
{
    return index < slots->count ? &slots->slot[index] : NULL;
}

void ew_slots_sum(const ew_slots *slots, ew_snapshot *out)
{
    for (uint32_t i = 0; i < slots->count; i++) {
        const ew_worker_slot *s = &slots->slot[i];
        for (int c = 0; c < EW_CLASS_COUNT; c++) {
            uint64_t v = atomic_load_explicit(&s->requests_by_class[c], memory_order_relaxed);
            out->requests_by_class[c] += v;
            out->requests_total += v;
        }
        for (int c = 0; c < EW_CODE_COUNT; c++) {
            out->errors_by_code[c] +=
                atomic_load_explicit(&s->errors_by_code[c], memory_order_relaxed);
        }
        out->bytes_sent += atomic_load_explicit(&s->bytes_sent, memory_order_relaxed);
        out->duration_us_total += atomic_load_explicit(&s->duration_us_total, memory_order_relaxed);
    }
}

static int busy_with(const ew_worker_slot *s, int32_t pid)
{
    return atomic_load_explicit(&s->busy, memory_order_acquire) != 0 && s->pid == pid;
}

uint32_t ew_slots_in_flight(const ew_slots *slots, int32_t pid)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < slots->count; i++) {
        n += (uint32_t)busy_with(&slots->slot[i], pid);
    }
    return n;
}

uint32_t ew_slots_busy_pids(const ew_slots *slots, int32_t *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < slots->count && n < max; i++) {
        const ew_worker_slot *s = &slots->slot[i];
        if (atomic_load_explicit(&s->busy, memory_order_acquire) == 0) {
            continue;
        }
        uint32_t j = 0;
        while (j < n && out[j] != s->pid) {
            j++;
        }
        if (j == n) {
            out[n++] = s->pid;
        }
    }
    return n;
}

int ew_slots_record_crash(ew_slots *slots, ew_store *st, int32_t pid, int signal, int64_t now_us,
                          ew_slot_namer namer, void *namer_ctx, uint32_t *recorded_out)
{
    uint32_t in_flight = ew_slots_in_flight(slots, pid);
    uint32_t recorded = 0;
    int first_rc = 0;
    for (uint32_t i = 0; i < slots->count && in_flight > 0; i++) {
        ew_worker_slot *s = &slots->slot[i];
        if (!busy_with(s, pid)) {
            continue;
        }
        ew_failure f;
        memset(&f, 0, sizeof(f));
        f.time_us = s->start_us;
        f.duration_us = now_us > s->start_us ? now_us - s->start_us : 0;
        f.pid = pid;
        f.status = 0;
        f.crash_signal = signal;
        f.in_flight = (uint16_t)(in_flight < UINT16_MAX ? in_flight : UINT16_MAX);
        f.event = EW_EVENT_FAILURE;
        memcpy(f.method, s->method, sizeof(f.method));
        memcpy(f.uri, s->uri, sizeof(f.uri));
        memcpy(f.handler, s->handler, sizeof(f.handler));
        memcpy(f.file, s->file, sizeof(f.file));
        if (namer != NULL) {
            namer(namer_ctx, s->method_number, s->vhost_ref, s->vhost_tag, &f);
        }
        int rc = ew_store_record_failure(st, &f);
        if (rc == 0) {
            recorded++;
        } else if (first_rc == 0) {
            first_rc = rc;
        }
        atomic_store_explicit(&s->busy, 0, memory_order_release);
    }
    if (recorded_out != NULL) {
        *recorded_out = recorded;
    }
    return first_rc;
}

uint32_t ew_slots_forget(ew_slots *slots, int32_t pid)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < slots->count; i++) {
        ew_worker_slot *s = &slots->slot[i];
        if (busy_with(s, pid)) {
            atomic_store_explicit(&s->busy, 0, memory_order_release);
            n++;
        }
    }
    return n;
}

const char *ew_signal_name(int signal)
{
    switch (signal) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGABRT:
        return "SIGABRT";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    case SIGKILL:
        return "SIGKILL";
    case SIGTERM:
        return "SIGTERM";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGTRAP:
        return "SIGTRAP";
    case SIGSYS:
        return "SIGSYS";
    case SIGXCPU:
        return "SIGXCPU";
    case SIGXFSZ:
        return "SIGXFSZ";
    case SIGPIPE:
        return "SIGPIPE";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    case SIGUSR1:
        return "SIGUSR1";
    case SIGUSR2:
        return "SIGUSR2";
    case SIGALRM:
        return "SIGALRM";
    default:
        return NULL;
    }
}

/* ---- the store's side (ew_store.h) ----------------------------------------- */

void ew_store_use_slots(ew_store *st, ew_slots *slots)
{
    st->slots = slots;
}

int ew_store_add_base(ew_store *st, const ew_snapshot *totals)
{
    ew_header *h = st->h;
    for (int i = 0; i < EW_CLASS_COUNT; i++) {
        atomic_fetch_add_explicit(&h->requests_by_class[i], totals->requests_by_class[i],
                                  memory_order_relaxed);
    }
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        atomic_fetch_add_explicit(&h->errors_by_code[i], totals->errors_by_code[i],
                                  memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&h->bytes_sent, totals->bytes_sent, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->duration_us_total, totals->duration_us_total,
                              memory_order_relaxed);
    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    for (int i = 0; i < EW_SIGNAL_COUNT; i++) {
        h->crashes_by_signal[i] += totals->crashes_by_signal[i];
    }
    ew_store_unlock(st);
    return 0;
}

const char *ew_signal_label(int signal, char buf[EW_SIGNAL_LABEL_MAX])
{
    const char *name = ew_signal_name(signal);
    if (name != NULL) {
        return name;
    }
    (void)snprintf(buf, EW_SIGNAL_LABEL_MAX, "SIG%d", signal);
    return buf;
}

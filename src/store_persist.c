/*
 * The state file: the store written out and read back, so that a full stop
 * and start keeps the evidence. Plain C over APR; the httpd glue
 * (src/persist.c) decides when and where.
 *
 *   header   magic "EWSTATE\0", version, byte-order mark, this build's row
 *            sizes, section count, when written, since_us
 *   sections each: tag, row count, byte length, rows; in this order, once:
 *            counters (1 row), window buckets, handler rows, file rows
 *            (least recently failed first), ring entries (oldest first),
 *            non-empty history minutes, timeline markers (oldest first;
 *            version 2 on: a version 1 file has the six sections before),
 *            causes (version 3 on)
 *            Version 3 also added fields at the ends of the ring entry and
 *            the file row: an older file's rows are read as the start of
 *            this build's, the new fields empty (an upgrade keeps the
 *            evidence).
 *   trailer  FNV-1a 64 of every byte before it
 *
 * The reader trusts nothing: a hand-edited or truncated file must never
 * crash the server or plant an unterminated string, so every length, count,
 * index and string is checked before anything is applied.
 */
#include "ew_store.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "ew_ids.h"
#include "store_internal.h"

#define STATE_MAGIC "EWSTATE"
#define STATE_VERSION 3u
/* Versions 1 (no markers) and 2 (no causes, shorter rows) are still read:
 * an upgrade keeps the evidence. */
#define STATE_VERSION_NO_MARKERS 1u
#define STATE_VERSION_NO_CAUSES 2u

_Static_assert(offsetof(ew_failure, cause_key) == EW_FAILURE_V2_SIZE,
               "version 3's ring-entry fields follow version 2's row");
_Static_assert(offsetof(ew_file_stat, cause_key) == EW_FILE_STAT_V2_SIZE,
               "version 3's file-row fields follow version 2's row");
#define BYTE_ORDER_MARK 0x01020304u

enum {
    SEC_COUNTERS = 1,
    SEC_BUCKETS,
    SEC_HANDLERS,
    SEC_FILES,
    SEC_RING,
    SEC_HISTORY,
    SEC_MARKERS,
    SEC_CAUSES,
    SEC_COUNT = SEC_CAUSES
};

typedef struct state_header {
    char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint32_t row_sizes[5]; /* failure, file stat, handler stat, bucket, minute */
    uint32_t sections;
    int64_t written_us;
    int64_t since_us;
} state_header;

typedef struct section_header {
    uint32_t tag;
    uint32_t rows;
    uint64_t bytes;
} section_header;

typedef struct state_counters {
    uint64_t requests_by_class[EW_CLASS_COUNT];
    uint64_t errors_by_code[EW_CODE_COUNT];
    uint64_t bytes_sent;
    uint64_t duration_us_total;
    uint64_t failures_recorded;
    uint64_t files_evicted;
    uint64_t handler_other[EW_CODE_COUNT];
    uint64_t crashes_by_signal[EW_SIGNAL_COUNT];
    uint64_t lock_recoveries; /* version 2 on */
} state_counters;

/* A version 1 file's counters row stops before lock_recoveries. */
#define COUNTERS_V1_SIZE offsetof(state_counters, lock_recoveries)

static const size_t row_size[SEC_COUNT + 1] = {
    0,
    sizeof(state_counters),
    sizeof(ew_bucket),
    sizeof(ew_handler_stat),
    sizeof(ew_file_stat),
    sizeof(ew_failure),
    sizeof(ew_minute),
    sizeof(ew_marker),
    sizeof(ew_cause_stat),
};

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void fill_header(state_header *hd, int64_t now_us, int64_t since_us)
{
    memset(hd, 0, sizeof(*hd));
    memcpy(hd->magic, STATE_MAGIC, sizeof(STATE_MAGIC));
    hd->version = STATE_VERSION;
    hd->byte_order = BYTE_ORDER_MARK;
    hd->row_sizes[0] = (uint32_t)sizeof(ew_failure);
    hd->row_sizes[1] = (uint32_t)sizeof(ew_file_stat);
    hd->row_sizes[2] = (uint32_t)sizeof(ew_handler_stat);
    hd->row_sizes[3] = (uint32_t)sizeof(ew_bucket);
    hd->row_sizes[4] = (uint32_t)sizeof(ew_minute);
    hd->sections = SEC_COUNT;
    hd->written_us = now_us;
    hd->since_us = since_us;
}

static char *put_section(char *p, uint32_t tag, uint32_t rows)
{
    section_header sh = {tag, rows, (uint64_t)rows * row_size[tag]};
    memcpy(p, &sh, sizeof(sh));
    return p + sizeof(sh);
}

uint64_t ew_store_change_mark(ew_store *st)
{
    /* Responses wherever they are counted (the header and the per-worker
     * slots: the summary sums both), plus failures recorded, which are
     * counted as responses only once logged. */
    ew_snapshot sum;
    if (ew_store_summary(st, 0, &sum) != 0) {
        return 0;
    }
    uint64_t mark = sum.failures_recorded;
    for (int i = 0; i < EW_CLASS_COUNT; i++) {
        mark += sum.requests_by_class[i];
    }
    return mark;
}

int ew_store_serialize(ew_store *st, apr_pool_t *pool, int64_t now_us, char **data_out,
                       size_t *len_out)
{
    /* Totals through the summary, which knows where the hot counters
     * live. */
    ew_snapshot sum;
    int rc = ew_store_summary(st, now_us, &sum);
    if (rc != 0) {
        return rc;
    }
    state_counters c;
    memset(&c, 0, sizeof(c));
    memcpy(c.requests_by_class, sum.requests_by_class, sizeof(c.requests_by_class));
    memcpy(c.errors_by_code, sum.errors_by_code, sizeof(c.errors_by_code));
    c.bytes_sent = sum.bytes_sent;
    c.duration_us_total = sum.duration_us_total;
    memcpy(c.crashes_by_signal, sum.crashes_by_signal, sizeof(c.crashes_by_signal));
    c.lock_recoveries = sum.lock_recoveries;

    if ((rc = ew_store_lock(st)) != 0) {
        return rc;
    }
    const ew_tables *t = st->t;
    uint32_t nring = (uint32_t)(t->ring_seq < t->recent_cap ? t->ring_seq : t->recent_cap);
    size_t max = sizeof(state_header) + SEC_COUNT * sizeof(section_header) + sizeof(c) +
                 EW_BUCKETS * sizeof(ew_bucket) + EW_HANDLER_SLOTS * sizeof(ew_handler_stat) +
                 (size_t)t->files_used * sizeof(ew_file_stat) + (size_t)nring * sizeof(ew_failure) +
                 EW_HISTORY_MINUTES * sizeof(ew_minute) + EW_MARKERS * sizeof(ew_marker) +
                 EW_CAUSES * sizeof(ew_cause_stat) + sizeof(uint64_t);
    char *buf = apr_pcalloc(pool, max);
    char *p = buf + sizeof(state_header);

    c.failures_recorded = st->h->failures_recorded;
    c.files_evicted = t->files_evicted;
    memcpy(c.handler_other, st->h->handler_other, sizeof(c.handler_other));
    p = put_section(p, SEC_COUNTERS, 1);
    memcpy(p, &c, sizeof(c));
    p += sizeof(c);

    uint32_t nbuckets = 0;
    for (int i = 0; i < EW_BUCKETS; i++) {
        nbuckets += st->h->buckets[i].count_5xx > 0;
    }
    p = put_section(p, SEC_BUCKETS, nbuckets);
    for (int i = 0; i < EW_BUCKETS; i++) {
        if (st->h->buckets[i].count_5xx > 0) {
            memcpy(p, &st->h->buckets[i], sizeof(ew_bucket));
            p += sizeof(ew_bucket);
        }
    }

    uint32_t nhandlers = st->h->handlers_used;
    p = put_section(p, SEC_HANDLERS, nhandlers);
    memcpy(p, st->h->handlers, nhandlers * sizeof(ew_handler_stat));
    p += nhandlers * sizeof(ew_handler_stat);

    /* Least recently failed first, so that a restore into fewer rows keeps
     * the most recent and the eviction order stays what it was. */
    uint32_t nfiles = 0;
    char *files_at = p;
    p += sizeof(section_header);
    const ew_file_slot *slots = file_slots(st);
    for (int32_t s = t->lru_tail; s != EW_NONE && nfiles < t->files_used; s = slots[s].lru_prev) {
        memcpy(p, &slots[s].stat, sizeof(ew_file_stat));
        p += sizeof(ew_file_stat);
        nfiles++;
    }
    (void)put_section(files_at, SEC_FILES, nfiles);

    uint32_t kept = 0;
    char *ring_at = p;
    p += sizeof(section_header);
    const ew_failure *ring = ring_slots(st);
    for (uint32_t k = nring; k > 0; k--) {
        const ew_failure *f = &ring[(t->ring_seq - k) % t->recent_cap];
        if (f->status != 0 || f->crash_signal != 0) {
            memcpy(p, f, sizeof(*f));
            p += sizeof(*f);
            kept++;
        }
    }
    (void)put_section(ring_at, SEC_RING, kept);

    uint32_t nminutes = 0;
    for (int i = 0; i < EW_HISTORY_MINUTES; i++) {
        nminutes += st->h->history[i].count_5xx > 0 || st->h->history[i].crashes > 0;
    }
    p = put_section(p, SEC_HISTORY, nminutes);
    for (int i = 0; i < EW_HISTORY_MINUTES; i++) {
        if (st->h->history[i].count_5xx > 0 || st->h->history[i].crashes > 0) {
            memcpy(p, &st->h->history[i], sizeof(ew_minute));
            p += sizeof(ew_minute);
        }
    }

    ew_marker markers[EW_MARKERS];
    uint32_t nmarkers = ew_store_read_markers(st, markers);
    p = put_section(p, SEC_MARKERS, nmarkers);
    for (uint32_t i = nmarkers; i > 0; i--) {
        memcpy(p, &markers[i - 1], sizeof(ew_marker));
        p += sizeof(ew_marker);
    }

    uint32_t ncauses = 0;
    char *causes_at = p;
    p += sizeof(section_header);
    for (int i = 0; i < EW_CAUSES; i++) {
        if (st->h->causes[i].key != 0) {
            memcpy(p, &st->h->causes[i], sizeof(ew_cause_stat));
            p += sizeof(ew_cause_stat);
            ncauses++;
        }
    }
    (void)put_section(causes_at, SEC_CAUSES, ncauses);

    state_header hd;
    fill_header(&hd, now_us, st->h->since_us);
    ew_store_unlock(st);
    memcpy(buf, &hd, sizeof(hd));
    uint64_t sum64 = fnv1a((const unsigned char *)buf, (size_t)(p - buf));
    memcpy(p, &sum64, sizeof(sum64));
    p += sizeof(sum64);
    *data_out = buf;
    *len_out = (size_t)(p - buf);
    return 0;
}

/* ---- reading ------------------------------------------------------------- */

static int terminated(const char *field, size_t size)
{
    return memchr(field, '\0', size) != NULL;
}

static int http_status(uint32_t s)
{
    return s >= 100 && s <= 599;
}

static const char *check_bucket(const ew_bucket *b)
{
    if (b->epoch < 0 || b->count_500 > b->count_5xx) {
        return "a window bucket is out of range";
    }
    return NULL;
}

static const char *check_handler(const ew_handler_stat *h)
{
    /* Status 0: crashes, which the handler table counts too. */
    if (!terminated(h->handler, sizeof(h->handler)) ||
        (h->status != 0 && !http_status(h->status))) {
        return "a handler row is malformed";
    }
    return NULL;
}

static const char *check_file(const ew_file_stat *f)
{
    if (!terminated(f->file, sizeof(f->file)) || !terminated(f->handler, sizeof(f->handler)) ||
        !terminated(f->message, sizeof(f->message)) || f->file[0] == '\0') {
        return "a file row has an unterminated or empty string";
    }
    if (f->count == 0 || f->crashes > f->count || f->first_seen_us > f->last_seen_us ||
        f->last_status > 599 || f->script_mtime_us < EW_MTIME_MISSING || f->mtime_checked_us < 0) {
        return "a file row has counts or times out of range";
    }
    return NULL;
}

/* Every character of s (terminated within size) is one of allowed's
 * classes: a trace or request id planted in a state file is shown in
 * every format, so only what the capture keeps is accepted. */
static int id_ok(const char *s, size_t size, int (*allowed)(int))
{
    if (!terminated(s, size)) {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (!allowed((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

static const char *check_ids(const ew_failure *f)
{
    if (!id_ok(f->unique_id, sizeof(f->unique_id), ew_unique_id_char) ||
        !id_ok(f->trace_id, sizeof(f->trace_id), ew_hex_char) ||
        !id_ok(f->dd_trace_id, sizeof(f->dd_trace_id), ew_digit_char)) {
        return "a ring entry has a malformed request or trace id";
    }
    return NULL;
}

static const char *check_cause(const ew_cause_stat *c)
{
    if (!terminated(c->title, sizeof(c->title)) || !terminated(c->handler, sizeof(c->handler)) ||
        !terminated(c->message, sizeof(c->message)) || !terminated(c->story, sizeof(c->story))) {
        return "a cause has an unterminated string";
    }
    if (c->key == 0 || c->count == 0 || c->crashes > c->count ||
        c->first_seen_us > c->last_seen_us || c->files_len > EW_CAUSE_TOP ||
        c->uris_len > EW_CAUSE_TOP || c->changed_len > EW_CAUSE_NAMED || c->checked_us < 0) {
        return "a cause has counts, times or lengths out of range";
    }
    for (uint32_t i = 0; i < EW_CAUSE_TOP; i++) {
        if (!terminated(c->files[i].text, sizeof(c->files[i].text)) ||
            !terminated(c->uris[i].text, sizeof(c->uris[i].text))) {
            return "a cause has an unterminated file or URI";
        }
    }
    for (uint32_t i = 0; i < EW_CAUSE_NAMED; i++) {
        if (!terminated(c->changed[i].path, sizeof(c->changed[i].path)) ||
            c->changed[i].mtime_us < EW_MTIME_MISSING) {
            return "a cause has a malformed changed file";
        }
    }
    return NULL;
}

static const char *check_failure(const ew_failure *f)
{
    if (!terminated(f->method, sizeof(f->method)) || !terminated(f->uri, sizeof(f->uri)) ||
        !terminated(f->vhost, sizeof(f->vhost)) || !terminated(f->handler, sizeof(f->handler)) ||
        !terminated(f->file, sizeof(f->file)) || !terminated(f->message, sizeof(f->message))) {
        return "a ring entry has an unterminated string";
    }
    const char *ids_why = check_ids(f);
    if (ids_why != NULL) {
        return ids_why;
    }
    int crash = f->status == 0 && f->crash_signal > 0 && f->crash_signal < EW_SIGNAL_COUNT;
    if ((!http_status(f->status) && !crash) || f->event > EW_EVENT_RESTART || f->seq == 0) {
        return "a ring entry has a status, event or seq out of range";
    }
    return NULL;
}

typedef struct parsed {
    state_header hd;
    state_counters counters;
    const unsigned char *rows[SEC_COUNT + 1];
    uint32_t count[SEC_COUNT + 1];
    size_t size[SEC_COUNT + 1]; /* each section's row size in this file */
} parsed;

/* Row i of a section into dst: a shorter row (an older version's) is the
 * start of dst, the rest zero. */
static void read_row(const parsed *in, uint32_t tag, uint32_t i, void *dst, size_t dst_size)
{
    size_t n = in->size[tag] < dst_size ? in->size[tag] : dst_size;
    memset(dst, 0, dst_size);
    memcpy(dst, in->rows[tag] + (size_t)i * in->size[tag], n);
}

static const char *parse(const unsigned char *data, size_t len, parsed *out)
{
    if (len < sizeof(state_header) + sizeof(uint64_t)) {
        return "shorter than its header (truncated)";
    }
    memcpy(&out->hd, data, sizeof(out->hd));
    const state_header *hd = &out->hd;
    if (memcmp(hd->magic, STATE_MAGIC, sizeof(STATE_MAGIC)) != 0) {
        return "not an mod_errwatch state file (bad magic)";
    }
    if ((hd->version != STATE_VERSION && hd->version != STATE_VERSION_NO_CAUSES &&
         hd->version != STATE_VERSION_NO_MARKERS) ||
        hd->byte_order != BYTE_ORDER_MARK) {
        return "written by another version or byte order";
    }
    uint32_t sections = hd->version == STATE_VERSION_NO_MARKERS  ? SEC_MARKERS - 1
                        : hd->version == STATE_VERSION_NO_CAUSES ? SEC_CAUSES - 1
                                                                 : SEC_COUNT;
    int old_rows = hd->version != STATE_VERSION;
    size_t failure_size = old_rows ? EW_FAILURE_V2_SIZE : sizeof(ew_failure);
    size_t file_size = old_rows ? EW_FILE_STAT_V2_SIZE : sizeof(ew_file_stat);
    if (hd->row_sizes[0] != failure_size || hd->row_sizes[1] != file_size ||
        hd->row_sizes[2] != sizeof(ew_handler_stat) || hd->row_sizes[3] != sizeof(ew_bucket) ||
        hd->row_sizes[4] != sizeof(ew_minute) || hd->sections != sections) {
        return "written by a build with another layout";
    }
    for (uint32_t tag = 1; tag <= SEC_COUNT; tag++) {
        out->size[tag] = row_size[tag];
    }
    out->size[SEC_RING] = failure_size;
    out->size[SEC_FILES] = file_size;
    if (hd->version == STATE_VERSION_NO_MARKERS) {
        out->size[SEC_COUNTERS] = COUNTERS_V1_SIZE;
    }
    size_t body = len - sizeof(uint64_t);
    uint64_t sum;
    memcpy(&sum, data + body, sizeof(sum));
    if (fnv1a(data, body) != sum) {
        return "checksum mismatch (truncated or edited)";
    }
    size_t at = sizeof(state_header);
    for (uint32_t tag = 1; tag <= sections; tag++) {
        section_header sh;
        if (body - at < sizeof(sh)) {
            return "a section is missing (truncated)";
        }
        memcpy(&sh, data + at, sizeof(sh));
        at += sizeof(sh);
        if (sh.tag != tag) {
            return "sections out of order";
        }
        size_t size = out->size[tag];
        if (sh.bytes != (uint64_t)sh.rows * size || sh.bytes > body - at) {
            return "a section's length does not match its rows";
        }
        out->rows[tag] = data + at;
        out->count[tag] = sh.rows;
        at += (size_t)sh.bytes;
    }
    if (at != body) {
        return "bytes after the last section";
    }
    if (out->count[SEC_COUNTERS] != 1 || out->count[SEC_BUCKETS] > EW_BUCKETS ||
        out->count[SEC_HANDLERS] > EW_HANDLER_SLOTS ||
        out->count[SEC_HISTORY] > EW_HISTORY_MINUTES || out->count[SEC_MARKERS] > EW_MARKERS ||
        out->count[SEC_CAUSES] > EW_CAUSES) {
        return "a section has too many rows";
    }
    memset(&out->counters, 0, sizeof(out->counters));
    memcpy(&out->counters, out->rows[SEC_COUNTERS],
           hd->version == STATE_VERSION_NO_MARKERS ? COUNTERS_V1_SIZE : sizeof(out->counters));

    const char *why = NULL;
    for (uint32_t i = 0; i < out->count[SEC_BUCKETS] && why == NULL; i++) {
        ew_bucket b;
        memcpy(&b, out->rows[SEC_BUCKETS] + i * sizeof(b), sizeof(b));
        why = check_bucket(&b);
    }
    for (uint32_t i = 0; i < out->count[SEC_HANDLERS] && why == NULL; i++) {
        ew_handler_stat h;
        memcpy(&h, out->rows[SEC_HANDLERS] + i * sizeof(h), sizeof(h));
        why = check_handler(&h);
    }
    for (uint32_t i = 0; i < out->count[SEC_FILES] && why == NULL; i++) {
        ew_file_stat f;
        read_row(out, SEC_FILES, i, &f, sizeof(f));
        why = check_file(&f);
    }
    for (uint32_t i = 0; i < out->count[SEC_HISTORY] && why == NULL; i++) {
        ew_minute m;
        memcpy(&m, out->rows[SEC_HISTORY] + i * sizeof(m), sizeof(m));
        if (m.minute < 0 || m.count_500 > m.count_5xx) {
            why = "a history minute is out of range";
        }
    }
    for (uint32_t i = 0; i < out->count[SEC_MARKERS] && why == NULL; i++) {
        ew_marker m;
        memcpy(&m, out->rows[SEC_MARKERS] + i * sizeof(m), sizeof(m));
        if (m.event < EW_EVENT_START || m.event > EW_EVENT_RESTART || m.time_us < 0 ||
            m.gap_us < -1) {
            why = "a timeline marker is out of range";
        }
    }
    uint64_t prev_seq = 0;
    for (uint32_t i = 0; i < out->count[SEC_RING] && why == NULL; i++) {
        ew_failure f;
        read_row(out, SEC_RING, i, &f, sizeof(f));
        why = check_failure(&f);
        if (why == NULL && (f.seq <= prev_seq || f.seq > out->counters.failures_recorded)) {
            why = "ring entries out of sequence";
        }
        prev_seq = f.seq;
    }
    for (uint32_t i = 0; i < out->count[SEC_CAUSES] && why == NULL; i++) {
        ew_cause_stat c;
        read_row(out, SEC_CAUSES, i, &c, sizeof(c));
        why = check_cause(&c);
    }
    return why;
}

int ew_store_restore(ew_store *st, const void *data, size_t len, int64_t *written_us_out,
                     const char **why_out)
{
    parsed in;
    memset(&in, 0, sizeof(in));
    const char *why = data != NULL ? parse(data, len, &in) : "no data";
    if (why != NULL) {
        *why_out = why;
        return EINVAL;
    }
    int rc = ew_store_lock(st);
    if (rc != 0) {
        *why_out = "the store's lock could not be taken";
        return rc;
    }
    if (st->h->failures_recorded != 0 || st->t->ring_seq != 0 || st->t->files_used != 0) {
        ew_store_unlock(st);
        *why_out = "the store already holds failures";
        return EBUSY;
    }
    const state_counters *c = &in.counters;
    for (int i = 0; i < EW_CLASS_COUNT; i++) {
        atomic_fetch_add_explicit(&st->h->requests_by_class[i], c->requests_by_class[i],
                                  memory_order_relaxed);
    }
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        atomic_fetch_add_explicit(&st->h->errors_by_code[i], c->errors_by_code[i],
                                  memory_order_relaxed);
        st->h->handler_other[i] += c->handler_other[i];
    }
    atomic_fetch_add_explicit(&st->h->bytes_sent, c->bytes_sent, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->h->duration_us_total, c->duration_us_total,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&st->h->lock_recoveries, c->lock_recoveries, memory_order_relaxed);
    if (in.hd.since_us < st->h->since_us) {
        st->h->since_us = in.hd.since_us;
    }
    st->h->failures_recorded = c->failures_recorded;
    for (int i = 0; i < EW_SIGNAL_COUNT; i++) {
        st->h->crashes_by_signal[i] += c->crashes_by_signal[i];
    }

    for (uint32_t i = 0; i < in.count[SEC_BUCKETS]; i++) {
        ew_bucket b;
        memcpy(&b, in.rows[SEC_BUCKETS] + i * sizeof(b), sizeof(b));
        ew_bucket *dst = &st->h->buckets[b.epoch % EW_BUCKETS];
        if (dst->epoch <= b.epoch) {
            *dst = b;
        }
    }
    for (uint32_t i = 0; i < in.count[SEC_HISTORY]; i++) {
        ew_minute m;
        memcpy(&m, in.rows[SEC_HISTORY] + i * sizeof(m), sizeof(m));
        ew_store_history_put(st, &m);
    }
    for (uint32_t i = 0; i < in.count[SEC_MARKERS]; i++) {
        ew_marker m;
        memcpy(&m, in.rows[SEC_MARKERS] + i * sizeof(m), sizeof(m));
        ew_store_put_marker(st, &m);
    }
    st->h->handlers_used = in.count[SEC_HANDLERS];
    memcpy(st->h->handlers, in.rows[SEC_HANDLERS],
           (size_t)in.count[SEC_HANDLERS] * sizeof(ew_handler_stat));

    /* Rows come least recent first: those that do not fit are the oldest. */
    st->t->dirty = 1;
    uint32_t nfiles = in.count[SEC_FILES];
    uint32_t skip = nfiles > st->t->files_cap ? nfiles - st->t->files_cap : 0;
    for (uint32_t i = skip; i < nfiles; i++) {
        ew_file_stat f;
        read_row(&in, SEC_FILES, i, &f, sizeof(f));
        ew_store_put_file_row(st, &f);
    }
    st->t->files_evicted += c->files_evicted + skip;
    uint32_t nring = in.count[SEC_RING];
    skip = nring > st->t->recent_cap ? nring - st->t->recent_cap : 0;
    for (uint32_t i = skip; i < nring; i++) {
        ew_failure f;
        read_row(&in, SEC_RING, i, &f, sizeof(f));
        ew_store_put_ring_entry(st, &f);
    }
    for (uint32_t i = 0; i < in.count[SEC_CAUSES]; i++) {
        ew_cause_stat row;
        read_row(&in, SEC_CAUSES, i, &row, sizeof(row));
        ew_store_cause_put(st, &row);
    }
    ew_store_causes_recount(st);
    st->t->dirty = 0;
    ew_store_unlock(st);
    if (written_us_out != NULL) {
        *written_us_out = in.hd.written_us;
    }
    return 0;
}

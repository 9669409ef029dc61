/*
 * Causes: the store's table of failures grouped by what went wrong
 * (include/ew_cause.h works out a failure's cause; this keeps the table).
 *
 * The table is a fixed array of EW_CAUSES rows in the header, so a resize
 * of the tables keeps it. A lookup is a scan of at most EW_CAUSES keys
 * under the lock: a handful of cache lines, less than one hash of a file
 * name. Each row keeps its busiest files and URIs by space-saving (a new
 * name takes the smallest count's place with that count plus one), so a
 * storm of many URLs still shows the few that matter with bounded memory.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_cause.h"
#include "store_internal.h"

/* The row of key, or EW_NONE. */
static int32_t cause_find(const ew_header *h, uint64_t key)
{
    for (int32_t i = 0; i < EW_CAUSES; i++) {
        if (h->causes[i].key == key) {
            return i;
        }
    }
    return EW_NONE;
}

/* A free row, or the least recently seen one (evicted). */
static int32_t cause_take(ew_header *h)
{
    int32_t oldest = 0;
    for (int32_t i = 0; i < EW_CAUSES; i++) {
        if (h->causes[i].key == 0) {
            return i;
        }
        if (h->causes[i].last_seen_us < h->causes[oldest].last_seen_us) {
            oldest = i;
        }
    }
    h->causes_evicted++;
    return oldest;
}

/* Space-saving: count text under refs (len of EW_CAUSE_TOP in use). */
static void count_ref(ew_cause_ref *refs, uint32_t *len, const char *text)
{
    if (text == NULL || text[0] == '\0') {
        return;
    }
    uint32_t smallest = 0;
    for (uint32_t i = 0; i < *len; i++) {
        if (strncmp(refs[i].text, text, EW_CAUSE_REF_MAX - 1) == 0) {
            refs[i].count++;
            return;
        }
        if (refs[i].count < refs[smallest].count) {
            smallest = i;
        }
    }
    uint32_t at = smallest;
    uint64_t base = 0;
    if (*len < EW_CAUSE_TOP) {
        at = (*len)++;
    } else {
        base = refs[smallest].count;
    }
    ew_copy_field(refs[at].text, sizeof(refs[at].text), text);
    refs[at].count = base + 1;
}

static void fill_new_cause(ew_cause_stat *c, const ew_failure *f, const char *story,
                           const ew_cause_id *cid, uint64_t seq)
{
    memset(c, 0, sizeof(*c));
    c->first_seen_us = f->time_us;
    c->last_seen_us = f->time_us;
    c->example_seq = seq;
    ew_copy_field(c->title, sizeof(c->title), cid->title);
    ew_copy_field(c->handler, sizeof(c->handler), f->handler);
    ew_copy_field(c->message, sizeof(c->message), f->message);
    ew_copy_field(c->story, sizeof(c->story), story);
    uint32_t n = 0;
    for (; n < cid->named_len && n < EW_CAUSE_NAMED; n++) {
        ew_copy_field(c->changed[n].path, sizeof(c->changed[n].path), cid->named[n]);
        c->changed[n].mtime_us = EW_MTIME_UNREAD;
    }
    c->changed_len = n;
}

int ew_store_cause_record(ew_store *st, const ew_failure *f, const char *story,
                          const ew_cause_id *cid, uint64_t seq, int64_t now_us,
                          ew_mtimes_wanted *wanted)
{
    ew_header *h = st->h;
    int32_t row = cause_find(h, cid->key);
    int fresh = row == EW_NONE;
    if (fresh) {
        row = cause_take(h);
    }
    /* A holder that dies between here and the end leaves a torn row: the
     * next locker clears it (ew_store_causes_repair). */
    h->cause_busy = row;
    ew_cause_stat *c = &h->causes[row];
    if (fresh) {
        fill_new_cause(c, f, story, cid, seq);
    }
    c->count++;
    if (f->crash_signal != 0) {
        c->crashes++;
    }
    if (f->time_us < c->first_seen_us) {
        c->first_seen_us = f->time_us;
    }
    if (f->time_us > c->last_seen_us) {
        c->last_seen_us = f->time_us;
    }
    c->last_status = f->status;
    count_ref(c->files, &c->files_len, f->file[0] != '\0' ? f->file : NULL);
    count_ref(c->uris, &c->uris_len, f->uri);
    if (wanted != NULL && c->changed_len > 0 &&
        (c->checked_us == 0 || now_us - c->checked_us >= EW_MTIME_EVERY_US)) {
        c->checked_us = now_us; /* claimed: one caller reads them */
        wanted->named = 1;
    }
    c->key = cid->key; /* last: a row is in use once it has its key */
    h->cause_busy = EW_NONE;
    return fresh;
}

void ew_store_causes_repair(ew_store *st)
{
    ew_header *h = st->h;
    if (h->cause_busy >= 0 && h->cause_busy < EW_CAUSES) {
        memset(&h->causes[h->cause_busy], 0, sizeof(ew_cause_stat));
    }
    h->cause_busy = EW_NONE;
}

void ew_store_cause_note_named(ew_store *st, uint64_t key, const int64_t *mtime_us, uint32_t n)
{
    int32_t row = cause_find(st->h, key);
    if (row == EW_NONE || key == 0) {
        return;
    }
    ew_cause_stat *c = &st->h->causes[row];
    for (uint32_t i = 0; i < n && i < c->changed_len; i++) {
        c->changed[i].mtime_us = mtime_us[i];
    }
}

static void sort_refs(ew_cause_ref *refs, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        for (uint32_t j = i; j > 0 && refs[j].count > refs[j - 1].count; j--) {
            ew_cause_ref tmp = refs[j];
            refs[j] = refs[j - 1];
            refs[j - 1] = tmp;
        }
    }
}

static int compare_causes(const void *a, const void *b)
{
    const ew_cause_stat *x = a;
    const ew_cause_stat *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return x->last_seen_us > y->last_seen_us ? -1 : x->last_seen_us < y->last_seen_us;
}

void ew_store_causes_sort(ew_cause_stat *rows, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        sort_refs(rows[i].files, rows[i].files_len);
        sort_refs(rows[i].uris, rows[i].uris_len);
    }
    qsort(rows, n, sizeof(*rows), compare_causes);
}

void ew_store_cause_file_moved(ew_store *st, uint64_t from, uint64_t to)
{
    if (from == to) {
        return;
    }
    int32_t a = from != 0 ? cause_find(st->h, from) : EW_NONE;
    if (a != EW_NONE && st->h->causes[a].files_total > 0) {
        st->h->causes[a].files_total--;
    }
    int32_t b = to != 0 ? cause_find(st->h, to) : EW_NONE;
    if (b != EW_NONE) {
        st->h->causes[b].files_total++;
    }
}

void ew_store_causes_recount(ew_store *st)
{
    ew_header *h = st->h;
    for (int32_t i = 0; i < EW_CAUSES; i++) {
        h->causes[i].files_total = 0;
    }
    const ew_file_slot *slots = file_slots(st);
    for (uint32_t s = 0; s < st->t->files_used; s++) {
        if (slots[s].stat.count > 0 && slots[s].stat.cause_key != 0) {
            int32_t row = cause_find(h, slots[s].stat.cause_key);
            if (row != EW_NONE) {
                h->causes[row].files_total++;
            }
        }
    }
}

uint32_t ew_store_causes_raw(const ew_store *st, ew_cause_stat *out)
{
    uint32_t n = 0;
    for (int32_t i = 0; i < EW_CAUSES; i++) {
        if (st->h->causes[i].key != 0) {
            out[n++] = st->h->causes[i];
        }
    }
    return n;
}

uint32_t ew_store_causes_used(const ew_store *st)
{
    uint32_t n = 0;
    for (int32_t i = 0; i < EW_CAUSES; i++) {
        n += st->h->causes[i].key != 0;
    }
    return n;
}

void ew_store_cause_put(ew_store *st, const ew_cause_stat *row)
{
    ew_header *h = st->h;
    if (row->key == 0 || cause_find(h, row->key) != EW_NONE) {
        return;
    }
    int32_t at = cause_take(h);
    h->causes[at] = *row;
    h->causes[at].files_total = 0;
}

#ifdef EW_STORE_TESTING
void ew_store_test_tear_cause(ew_store *st, uint64_t key)
{
    if (ew_store_lock(st) != 0) {
        return;
    }
    int32_t row = cause_find(st->h, key);
    if (row != EW_NONE) {
        st->h->cause_busy = row;
        memset(st->h->causes[row].title, 'X', sizeof(st->h->causes[row].title));
    }
}
#endif

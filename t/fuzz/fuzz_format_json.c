/*
 * ?json over a snapshot whose strings and counts come from the fuzz bytes:
 * the document parses with a strict RFC 8259 parser (no duplicate keys,
 * well-formed UTF-8, no raw control bytes), its arrays have one element per
 * row, every string reads back as the row's bytes (malformed UTF-8 as
 * U+FFFD) and the counters as the snapshot's numbers.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_support.h"

#include <apr_strings.h>

static const fz_json *need(const fz_json *obj, const char *key, fz_json_type type, const char *doc)
{
    const fz_json *v = fz_json_get(obj, key);
    FZ_CHECK(v != NULL && v->type == type, doc);
    return v;
}

static void check_str(apr_pool_t *p, const fz_json *obj, const char *key, const char *raw,
                      const char *doc)
{
    const fz_json *v = need(obj, key, FZ_JSTR, doc);
    ew_buf want;
    ew_buf_init(&want, p, 64);
    fz_expect_utf8(&want, raw, 0, "");
    FZ_CHECK(v->len == want.len && memcmp(v->str, want.data, want.len) == 0, doc);
}

static void check_num(const fz_json *obj, const char *key, const char *want, const char *doc)
{
    const fz_json *v = need(obj, key, FZ_JNUM, doc);
    FZ_CHECK(strcmp(v->str, want) == 0, doc);
}

static void check_u(const fz_json *obj, const char *key, uint64_t n, const char *doc)
{
    char want[24];
    snprintf(want, sizeof(want), "%llu", (unsigned long long)n);
    check_num(obj, key, want, doc);
}

static void check_i(const fz_json *obj, const char *key, long long n, const char *doc)
{
    char want[24];
    snprintf(want, sizeof(want), "%lld", n);
    check_num(obj, key, want, doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    apr_pool_t *p = fz_begin();
    ew_snapshot snap;
    fz_snapshot(&r, p, &snap);

    ew_buf b;
    ew_buf_init(&b, p, 4096);
    ew_format_json(&b, &snap);
    const char *doc = b.data;
    FZ_CHECK(strlen(doc) == b.len, doc);
    const char *err = NULL;
    const fz_json *root = fz_json_parse(p, doc, b.len, &err);
    FZ_CHECK(root != NULL && root->type == FZ_JOBJ, err);

    check_i(root, "since_us", (long long)snap.since_us, doc);
    const fz_json *req = need(root, "requests", FZ_JOBJ, doc);
    check_u(req, "total", snap.requests_total, doc);
    check_u(req, "5xx", snap.requests_by_class[5], doc);
    check_u(root, "bytes_sent", snap.bytes_sent, doc);
    const fz_json *status = need(root, "status", FZ_JOBJ, doc);
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        char code[8];
        snprintf(code, sizeof(code), "%d", EW_CODE_FIRST + i);
        if (snap.errors_by_code[i] != 0) {
            check_u(status, code, snap.errors_by_code[i], doc);
        } else {
            FZ_CHECK(fz_json_get(status, code) == NULL, doc);
        }
    }
    const fz_json *store = need(root, "store", FZ_JOBJ, doc);
    check_u(store, "files_tracked", snap.files_total, doc);
    check_u(store, "files_evicted", snap.files_evicted, doc);
    check_u(store, "files_capacity", snap.files_capacity, doc);
    check_u(store, "recent_capacity", snap.recent_capacity, doc);
    check_u(store, "failures_recorded", snap.failures_recorded, doc);
    check_u(store, "lock_recoveries", snap.lock_recoveries, doc);
    check_u(store, "shm_header_bytes", ew_store_header_size(), doc);
    check_u(store, "shm_tables_bytes",
            ew_store_tables_size(snap.files_capacity, snap.recent_capacity), doc);

    const fz_json *handlers = need(root, "handlers", FZ_JARR, doc);
    FZ_CHECK(handlers->count == snap.handlers_len, doc);
    for (uint32_t i = 0; i < snap.handlers_len; i++) {
        check_str(p, handlers->kids[i], "handler", snap.handlers[i].handler, doc);
        check_u(handlers->kids[i], "count", snap.handlers[i].count, doc);
    }
    const fz_json *files = need(root, "files", FZ_JARR, doc);
    FZ_CHECK(files->count == snap.files_len, doc);
    for (uint32_t i = 0; i < snap.files_len; i++) {
        const ew_file_stat *f = &snap.files[i];
        check_str(p, files->kids[i], "file", f->file, doc);
        check_str(p, files->kids[i], "handler", f->handler, doc);
        check_str(p, files->kids[i], "message", f->message, doc);
        check_u(files->kids[i], "count", f->count, doc);
        need(files->kids[i], "first_seen", FZ_JSTR, doc);
    }
    const fz_json *recent = need(root, "recent", FZ_JARR, doc);
    FZ_CHECK(recent->count == snap.recent_len, doc);
    for (uint32_t i = 0; i < snap.recent_len; i++) {
        const ew_failure *f = &snap.recent[i];
        const fz_json *o = recent->kids[i];
        check_str(p, o, "method", f->method, doc);
        check_str(p, o, "uri", f->uri, doc);
        check_str(p, o, "vhost", f->vhost, doc);
        check_str(p, o, "file", f->file, doc);
        check_str(p, o, "handler", f->handler, doc);
        check_str(p, o, "message", f->message, doc);
        /* The story: one string per line, each the line as given. */
        const char *story = snap.recent_story != NULL ? snap.recent_story[i] : NULL;
        const fz_json *msgs = fz_json_get(o, "messages");
        FZ_CHECK((story != NULL) == (msgs != NULL), doc);
        if (story != NULL) {
            FZ_CHECK(msgs->type == FZ_JARR, doc);
            uint32_t k = 0;
            for (const char *line = story;; k++) {
                const char *nl = strchr(line, '\n');
                FZ_CHECK(k < msgs->count && msgs->kids[k]->type == FZ_JSTR, doc);
                ew_buf want;
                ew_buf_init(&want, p, 64);
                fz_expect_utf8(
                    &want, apr_pstrndup(p, line, nl != NULL ? (size_t)(nl - line) : strlen(line)),
                    0, "");
                FZ_CHECK(msgs->kids[k]->len == want.len &&
                             memcmp(msgs->kids[k]->str, want.data, want.len) == 0,
                         doc);
                if (nl == NULL) {
                    break;
                }
                line = nl + 1;
            }
            FZ_CHECK(k + 1 == msgs->count, doc);
        }
        check_i(o, "time_us", (long long)f->time_us, doc);
        check_i(o, "pid", (long long)f->pid, doc);
    }
    fz_end(p);
    return 0;
}

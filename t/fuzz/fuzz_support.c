/* Shared code of the fuzz targets; see fuzz_support.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_support.h"

void fz_fail(const char *file, int line, const char *what, const char *out)
{
    fprintf(stderr, "\n%s:%d: invariant broken: %s\n", file, line, what);
    if (out != NULL) {
        size_t n = strlen(out);
        fprintf(stderr, "output (%zu bytes)%s:\n%.*s\n", n, n > 4000 ? ", first 4000" : "",
                (int)(n > 4000 ? 4000 : n), out);
    }
    abort();
}

static apr_pool_t *fz_root;

apr_pool_t *fz_begin(void)
{
    if (fz_root == NULL) {
        if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fz_root, NULL) != APR_SUCCESS) {
            fz_fail(__FILE__, __LINE__, "apr_initialize", NULL);
        }
    }
    apr_pool_t *p;
    if (apr_pool_create(&p, fz_root) != APR_SUCCESS) {
        fz_fail(__FILE__, __LINE__, "apr_pool_create", NULL);
    }
    return p;
}

void fz_end(apr_pool_t *p)
{
    apr_pool_destroy(p);
}

/* ---- reader ---- */

uint8_t fz_u8(fz_reader *r)
{
    if (r->n == 0) {
        return 0;
    }
    r->n--;
    return *r->p++;
}

uint32_t fz_u32(fz_reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = (v << 8) | fz_u8(r);
    }
    return v;
}

uint64_t fz_u64(fz_reader *r)
{
    uint64_t hi = fz_u32(r);
    return (hi << 32) | fz_u32(r);
}

static size_t fz_take(fz_reader *r, char *dst, size_t max)
{
    size_t want = (size_t)fz_u8(r) << 8;
    want |= fz_u8(r);
    want %= max + 1;
    if (want > r->n) {
        want = r->n;
    }
    memcpy(dst, r->p, want);
    dst[want] = '\0';
    r->p += want;
    r->n -= want;
    return want;
}

void fz_str(fz_reader *r, char *dst, size_t size)
{
    fz_take(r, dst, size - 1);
}

char *fz_pstr(fz_reader *r, apr_pool_t *p, size_t max)
{
    char *s = apr_palloc(p, max + 1);
    fz_take(r, s, max);
    return s;
}

/* ---- snapshots ---- */

#define FZ_ROWS_MAX 12

void fz_snapshot(fz_reader *r, apr_pool_t *p, ew_snapshot *snap)
{
    memset(snap, 0, sizeof(*snap));
    snap->since_us = (int64_t)fz_u64(r);
    snap->taken_us = (int64_t)fz_u64(r);
    snap->requests_total = fz_u64(r);
    for (int i = 0; i < EW_CLASS_COUNT; i++) {
        snap->requests_by_class[i] = fz_u64(r);
    }
    /* A few sparse status codes rather than 100 counters of fuzz bytes. */
    for (int n = fz_u8(r) % 8; n > 0; n--) {
        snap->errors_by_code[fz_u8(r) % EW_CODE_COUNT] = fz_u64(r);
    }
    snap->bytes_sent = fz_u64(r);
    snap->duration_us_total = fz_u64(r);
    snap->failures_recorded = fz_u64(r);
    snap->files_evicted = fz_u64(r);
    snap->lock_recoveries = fz_u64(r);
    for (int i = 0; i < EW_WINDOW_COUNT; i++) {
        snap->window_500[i] = fz_u64(r);
        snap->window_5xx[i] = fz_u64(r);
    }

    snap->handlers_len = fz_u8(r) % (FZ_ROWS_MAX + 1);
    snap->handlers = apr_pcalloc(p, (snap->handlers_len + 1) * sizeof(*snap->handlers));
    for (uint32_t i = 0; i < snap->handlers_len; i++) {
        ew_handler_stat *h = &snap->handlers[i];
        fz_str(r, h->handler, sizeof(h->handler));
        h->status = (uint16_t)fz_u32(r);
        h->count = fz_u64(r);
    }

    snap->files_len = fz_u8(r) % (FZ_ROWS_MAX + 1);
    snap->files_total = snap->files_len + fz_u8(r) % 3; /* a view may show fewer */
    snap->files_capacity = snap->files_len + fz_u8(r);
    snap->files = apr_pcalloc(p, (snap->files_len + 1) * sizeof(*snap->files));
    for (uint32_t i = 0; i < snap->files_len; i++) {
        ew_file_stat *f = &snap->files[i];
        f->count = fz_u64(r);
        f->first_seen_us = (int64_t)fz_u64(r);
        f->last_seen_us = (int64_t)fz_u64(r);
        f->last_status = (uint16_t)fz_u32(r);
        fz_str(r, f->file, sizeof(f->file));
        fz_str(r, f->handler, sizeof(f->handler));
        fz_str(r, f->message, sizeof(f->message));
    }

    snap->recent_len = fz_u8(r) % (FZ_ROWS_MAX + 1);
    snap->recent_total = snap->recent_len + fz_u8(r) % 3;
    snap->recent_capacity = snap->recent_len + fz_u8(r);
    snap->recent = apr_pcalloc(p, (snap->recent_len + 1) * sizeof(*snap->recent));
    for (uint32_t i = 0; i < snap->recent_len; i++) {
        ew_failure *f = &snap->recent[i];
        f->time_us = (int64_t)fz_u64(r);
        f->duration_us = (int64_t)fz_u64(r);
        f->pid = (int32_t)fz_u32(r);
        f->status = (uint16_t)fz_u32(r);
        fz_str(r, f->method, sizeof(f->method));
        fz_str(r, f->uri, sizeof(f->uri));
        fz_str(r, f->vhost, sizeof(f->vhost));
        fz_str(r, f->handler, sizeof(f->handler));
        fz_str(r, f->file, sizeof(f->file));
        fz_str(r, f->message, sizeof(f->message));
    }
    /* Timeline: markers (any event number, time and gap) and, sometimes,
     * an hour or a day of per-minute history from any start. */
    snap->markers_len = fz_u8(r) % (EW_MARKERS + 1);
    for (uint32_t i = 0; i < snap->markers_len; i++) {
        snap->markers[i].time_us = (int64_t)fz_u64(r);
        snap->markers[i].gap_us = (int64_t)fz_u64(r);
        snap->markers[i].event = fz_u8(r) % 5;
    }
    uint8_t hist = fz_u8(r);
    if ((hist & 1) != 0) {
        snap->history_len = (hist & 2) != 0 ? EW_HISTORY_MINUTES : 60;
        snap->history = apr_pcalloc(p, snap->history_len * sizeof(*snap->history));
        int64_t start = (int64_t)(fz_u64(r) % 4000000000ull) * EW_MINUTE_US;
        for (uint32_t i = 0; i < snap->history_len; i++) {
            snap->history[i].minute_us = start + (int64_t)i * EW_MINUTE_US;
            uint8_t c = i % 7 == 0 ? fz_u8(r) : 0;
            snap->history[i].count_5xx = c;
            snap->history[i].count_500 = c / 2;
            snap->history[i].crashes = c % 3;
        }
    }
    /* Error stories for some entries: lines joined by '\n' (any byte else). */
    if ((fz_u8(r) & 1) != 0) {
        snap->recent_story = apr_pcalloc(p, (snap->recent_len + 1) * sizeof(char *));
        for (uint32_t i = 0; i < snap->recent_len; i++) {
            if ((fz_u8(r) & 1) != 0) {
                snap->recent_story[i] = fz_pstr(r, p, 600);
            }
        }
    }
    /* Causes, what changed and ids (read last, so that older seeds keep
     * their meaning): any strings, any times. */
    snap->causes_len = fz_u8(r) % (EW_CAUSES + 1);
    snap->causes_total = snap->causes_len;
    snap->causes_evicted = fz_u64(r);
    snap->causes = apr_pcalloc(p, (snap->causes_len + 1) * sizeof(*snap->causes));
    for (uint32_t i = 0; i < snap->causes_len; i++) {
        ew_cause_stat *c = &snap->causes[i];
        c->key = fz_u64(r);
        c->count = fz_u64(r);
        c->crashes = fz_u64(r);
        c->first_seen_us = (int64_t)fz_u64(r);
        c->last_seen_us = (int64_t)fz_u64(r);
        c->last_status = fz_u32(r);
        c->files_total = fz_u32(r);
        fz_str(r, c->title, sizeof(c->title));
        fz_str(r, c->handler, sizeof(c->handler));
        fz_str(r, c->message, sizeof(c->message));
        fz_str(r, c->story, sizeof(c->story));
        c->files_len = fz_u8(r) % (EW_CAUSE_TOP + 1);
        c->uris_len = fz_u8(r) % (EW_CAUSE_TOP + 1);
        for (uint32_t k = 0; k < EW_CAUSE_TOP; k++) {
            c->files[k].count = fz_u64(r);
            fz_str(r, c->files[k].text, sizeof(c->files[k].text));
            c->uris[k].count = fz_u64(r);
            fz_str(r, c->uris[k].text, sizeof(c->uris[k].text));
        }
        c->changed_len = fz_u8(r) % (EW_CAUSE_NAMED + 1);
        for (uint32_t k = 0; k < EW_CAUSE_NAMED; k++) {
            c->changed[k].mtime_us = (int64_t)fz_u64(r);
            fz_str(r, c->changed[k].path, sizeof(c->changed[k].path));
        }
    }
    for (uint32_t i = 0; i < snap->files_len; i++) {
        snap->files[i].cause_key = fz_u64(r);
        snap->files[i].script_mtime_us = (int64_t)fz_u64(r);
    }
    for (uint32_t i = 0; i < snap->recent_len; i++) {
        ew_failure *f = &snap->recent[i];
        f->cause_key = fz_u64(r);
        fz_str(r, f->unique_id, sizeof(f->unique_id));
        fz_str(r, f->trace_id, sizeof(f->trace_id));
        fz_str(r, f->dd_trace_id, sizeof(f->dd_trace_id));
    }
}

/* A double from 8 fuzz bytes: any bit pattern, NaN and infinities too. */
static double fz_double(fz_reader *r)
{
    uint64_t bits = fz_u64(r);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* NULL for a zero selector byte: every string of ew_server_stats may be NULL. */
static const char *fz_opt_str(fz_reader *r, apr_pool_t *p, size_t max)
{
    return fz_u8(r) == 0 ? NULL : fz_pstr(r, p, max);
}

void fz_server_stats(fz_reader *r, apr_pool_t *p, ew_server_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->server_version = fz_opt_str(r, p, 256);
    s->server_mpm = fz_opt_str(r, p, 64);
    s->server_built = fz_opt_str(r, p, 64);
    s->current_time = fz_opt_str(r, p, 64);
    s->restart_time = fz_opt_str(r, p, 64);
    s->config_generation = (int)fz_u32(r);
    s->mpm_generation = (int)fz_u32(r);
    s->uptime_s = fz_u32(r);
    s->load1 = fz_double(r);
    s->load5 = fz_double(r);
    s->load15 = fz_double(r);
    s->cpu_user = fz_double(r);
    s->cpu_system = fz_double(r);
    s->cpu_children_user = fz_double(r);
    s->cpu_children_system = fz_double(r);
    s->cpu_load = fz_double(r);
    s->busy_workers = (int)fz_u32(r);
    s->graceful_workers = (int)fz_u32(r);
    s->idle_workers = (int)fz_u32(r);
    s->is_async = fz_u8(r) & 1;
    s->processes = (int)fz_u32(r);
    s->stopping = (int)fz_u32(r);
    s->conns_total = (int)fz_u32(r);
    s->conns_async_wait_io = (int)fz_u32(r);
    s->conns_async_writing = (int)fz_u32(r);
    s->conns_async_keep_alive = (int)fz_u32(r);
    s->conns_async_closing = (int)fz_u32(r);
    s->scoreboard = fz_opt_str(r, p, 512);
}

/* ---- UTF-8, by value ---- */

size_t fz_utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0; /* also stops at a NUL */
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

int fz_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0) {
            return 0;
        }
        size_t k = fz_utf8_seq(p + i);
        if (k == 0 || i + k > n) {
            return 0;
        }
        i += k;
    }
    return 1;
}

void fz_expect_utf8(ew_buf *b, const char *s, int controls, const char *keep)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        size_t k = fz_utf8_seq(p);
        int control = *p < 0x20 || *p == 0x7F;
        if (k == 0 || (controls && control && strchr(keep, *p) == NULL)) {
            ew_buf_puts(b, "\xEF\xBF\xBD");
            p++;
        } else {
            ew_buf_append(b, (const char *)p, k);
            p += k;
        }
    }
}

/* ---- strict JSON ---- */

typedef struct fz_jparser {
    apr_pool_t *pool;
    const char *s;
    size_t i, n;
    const char *err;
    int depth;
} fz_jparser;

static void fz_jws(fz_jparser *j)
{
    while (j->i < j->n &&
           (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r')) {
        j->i++;
    }
}

static int fz_jlit(fz_jparser *j, const char *lit)
{
    size_t k = strlen(lit);
    if (j->n - j->i < k || memcmp(j->s + j->i, lit, k) != 0) {
        return 0;
    }
    j->i += k;
    return 1;
}

static int fz_hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t)(c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

static void fz_put_cp(ew_buf *b, uint32_t cp)
{
    char u[4];
    if (cp < 0x80) {
        ew_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        ew_buf_append(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        ew_buf_append(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        ew_buf_append(b, u, 4);
    }
}

static int fz_jstring(fz_jparser *j, const char **out, size_t *out_len)
{
    ew_buf b;
    ew_buf_init(&b, j->pool, 64);
    if (j->i >= j->n || j->s[j->i] != '"') {
        j->err = "string expected";
        return 0;
    }
    j->i++;
    for (;;) {
        if (j->i >= j->n) {
            j->err = "unterminated string";
            return 0;
        }
        unsigned char c = (unsigned char)j->s[j->i];
        if (c == '"') {
            j->i++;
            break;
        }
        if (c < 0x20) {
            j->err = "raw control byte in a string";
            return 0;
        }
        if (c != '\\') {
            size_t k = fz_utf8_seq((const unsigned char *)j->s + j->i);
            if (k == 0 || j->i + k > j->n) {
                j->err = "invalid UTF-8 in a string";
                return 0;
            }
            ew_buf_append(&b, j->s + j->i, k);
            j->i += k;
            continue;
        }
        if (j->i + 1 >= j->n) {
            j->err = "dangling backslash";
            return 0;
        }
        char e = j->s[j->i + 1];
        j->i += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            ew_buf_putc(&b, decoded[simple - "\"\\/bfnrt"]);
            continue;
        }
        uint32_t cp;
        if (e != 'u' || j->n - j->i < 4 || !fz_hex4(j->s + j->i, &cp)) {
            j->err = "bad escape";
            return 0;
        }
        j->i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            j->err = "lone low surrogate";
            return 0;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (j->n - j->i < 6 || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u' ||
                !fz_hex4(j->s + j->i + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                j->err = "unpaired high surrogate";
                return 0;
            }
            j->i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        fz_put_cp(&b, cp);
    }
    *out = b.data;
    *out_len = b.len;
    return 1;
}

static int fz_jdigits(fz_jparser *j)
{
    size_t start = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        j->i++;
    }
    return j->i > start;
}

static int fz_jnumber(fz_jparser *j)
{
    if (j->i < j->n && j->s[j->i] == '-') {
        j->i++;
    }
    if (j->i < j->n && j->s[j->i] == '0') {
        j->i++;
    } else if (!fz_jdigits(j)) {
        return 0;
    }
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!fz_jdigits(j)) {
            return 0;
        }
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) {
            j->i++;
        }
        if (!fz_jdigits(j)) {
            return 0;
        }
    }
    return 1;
}

static fz_json *fz_jvalue(fz_jparser *j);

/* Elements of an array or members of an object, after the opening bracket. */
static fz_json *fz_jcontainer(fz_jparser *j, int is_obj)
{
    fz_json *v = apr_pcalloc(j->pool, sizeof(*v));
    v->type = is_obj ? FZ_JOBJ : FZ_JARR;
    size_t cap = 8;
    v->kids = apr_palloc(j->pool, cap * sizeof(*v->kids));
    v->keys = apr_palloc(j->pool, cap * sizeof(*v->keys));
    char close = is_obj ? '}' : ']';
    fz_jws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        return v;
    }
    for (;;) {
        if (v->count == cap) {
            cap *= 2;
            fz_json **kids = apr_palloc(j->pool, cap * sizeof(*kids));
            const char **keys = apr_palloc(j->pool, cap * sizeof(*keys));
            memcpy(kids, v->kids, v->count * sizeof(*kids));
            memcpy(keys, v->keys, v->count * sizeof(*keys));
            v->kids = kids;
            v->keys = keys;
        }
        v->keys[v->count] = NULL;
        if (is_obj) {
            size_t klen;
            fz_jws(j);
            if (!fz_jstring(j, &v->keys[v->count], &klen)) {
                return NULL;
            }
            for (size_t k = 0; k < v->count; k++) {
                if (strcmp(v->keys[k], v->keys[v->count]) == 0) {
                    j->err = "duplicate key";
                    return NULL;
                }
            }
            fz_jws(j);
            if (j->i >= j->n || j->s[j->i] != ':') {
                j->err = "':' expected";
                return NULL;
            }
            j->i++;
        }
        fz_json *kid = fz_jvalue(j);
        if (kid == NULL) {
            return NULL;
        }
        v->kids[v->count++] = kid;
        fz_jws(j);
        if (j->i < j->n && j->s[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->i < j->n && j->s[j->i] == close) {
            j->i++;
            return v;
        }
        j->err = "',' or closing bracket expected";
        return NULL;
    }
}

static fz_json *fz_jvalue(fz_jparser *j)
{
    fz_jws(j);
    if (j->i >= j->n) {
        j->err = "value expected";
        return NULL;
    }
    if (++j->depth > 64) {
        j->err = "nested too deep";
        return NULL;
    }
    fz_json *v = NULL;
    char c = j->s[j->i];
    if (c == '{' || c == '[') {
        j->i++;
        v = fz_jcontainer(j, c == '{');
    } else if (c == '"') {
        v = apr_pcalloc(j->pool, sizeof(*v));
        v->type = FZ_JSTR;
        if (!fz_jstring(j, &v->str, &v->len)) {
            v = NULL;
        }
    } else if (fz_jlit(j, "true") || fz_jlit(j, "false")) {
        v = apr_pcalloc(j->pool, sizeof(*v));
        v->type = FZ_JBOOL;
    } else if (fz_jlit(j, "null")) {
        v = apr_pcalloc(j->pool, sizeof(*v));
        v->type = FZ_JNULL;
    } else {
        size_t start = j->i;
        if (fz_jnumber(j)) {
            v = apr_pcalloc(j->pool, sizeof(*v));
            v->type = FZ_JNUM;
            v->len = j->i - start;
            v->str = apr_pstrmemdup(j->pool, j->s + start, v->len);
        } else {
            j->err = "bad value";
        }
    }
    j->depth--;
    return v;
}

fz_json *fz_json_parse(apr_pool_t *p, const char *text, size_t len, const char **err)
{
    fz_jparser j = {p, text, 0, len, NULL, 0};
    fz_json *v = fz_jvalue(&j);
    if (v != NULL) {
        fz_jws(&j);
        if (j.i != j.n) {
            j.err = "text after the value";
            v = NULL;
        }
    }
    *err = j.err;
    return v;
}

const fz_json *fz_json_get(const fz_json *obj, const char *key)
{
    if (obj == NULL || obj->type != FZ_JOBJ) {
        return NULL;
    }
    for (size_t k = 0; k < obj->count; k++) {
        if (strcmp(obj->keys[k], key) == 0) {
            return obj->kids[k];
        }
    }
    return NULL;
}

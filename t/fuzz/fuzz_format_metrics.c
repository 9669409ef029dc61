/*
 * ?metrics (Prometheus 0.0.4 and OpenMetrics 1.0) over fuzzed server
 * figures and snapshot. Every line is a HELP, TYPE or sample line of the
 * text format; each sample belongs to the family declared last; label
 * values use only the \\ \" \n escapes and decode to well-formed UTF-8; no
 * series repeats (names that escape alike are merged); the merged per-file
 * and per-handler counts add up to the snapshot's; OpenMetrics ends in
 * "# EOF".
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "fuzz_support.h"

static int name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* Skips a metric or label name; returns its end. */
static const char *skip_name(const char *s, const char *line)
{
    FZ_CHECK(name_char(*s, 1), line);
    while (name_char(*s, 0)) {
        s++;
    }
    return s;
}

/* A sample value: a decimal number, or NaN / +Inf / -Inf. */
static void check_value(const char *v, size_t n, const char *line)
{
    if ((n == 3 && strncmp(v, "NaN", 3) == 0) || (n == 4 && strncmp(v, "+Inf", 4) == 0) ||
        (n == 4 && strncmp(v, "-Inf", 4) == 0)) {
        return;
    }
    FZ_CHECK(n > 0 && n < 64, line);
    for (size_t i = 0; i < n; i++) {
        FZ_CHECK(strchr("0123456789.eE+-", v[i]) != NULL, line);
    }
    char tmp[64];
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    (void)strtod(tmp, &end);
    FZ_CHECK(*end == '\0', line);
}

typedef struct sums {
    uint64_t files, handlers;
} sums;

/* One sample line; adds its value to the per-file or per-handler sum. */
static void check_sample(apr_pool_t *p, apr_hash_t *series, const char *family, int om,
                         const char *line, const char *nl, sums *sum)
{
    const char *s = skip_name(line, line);
    size_t name_len = (size_t)(s - line);
    size_t fam_len = strlen(family);
    int ok = name_len == fam_len ||
             (om && name_len == fam_len + 6 && strncmp(line + fam_len, "_total", 6) == 0);
    FZ_CHECK(family[0] != '\0' && ok && strncmp(line, family, fam_len) == 0, line);
    if (*s == '{') {
        s++;
        for (int first = 1; *s != '}'; first = 0) {
            if (!first) {
                FZ_CHECK(*s == ',', line);
                s++;
            }
            s = skip_name(s, line);
            FZ_CHECK(s[0] == '=' && s[1] == '"', line);
            s += 2;
            ew_buf value;
            ew_buf_init(&value, p, 64);
            for (; *s != '"'; s++) {
                FZ_CHECK(s < nl && (unsigned char)*s >= 0x20 && *s != 0x7F, line);
                if (*s == '\\') {
                    s++;
                    FZ_CHECK(*s == '\\' || *s == '"' || *s == 'n', line);
                    ew_buf_putc(&value, *s == 'n' ? '\n' : *s);
                } else {
                    ew_buf_putc(&value, *s);
                }
            }
            FZ_CHECK(fz_utf8_valid(value.data, value.len), line);
            s++;
        }
        s++;
    }
    FZ_CHECK(*s == ' ', line);
    const char *key = apr_pstrmemdup(p, line, (size_t)(s - line));
    FZ_CHECK(apr_hash_get(series, key, APR_HASH_KEY_STRING) == NULL, line);
    apr_hash_set(series, key, APR_HASH_KEY_STRING, "");
    s++;
    check_value(s, (size_t)(nl - s), line);
    uint64_t v = strtoull(s, NULL, 10);
    if (strncmp(line, "errwatch_file_errors_total{", 27) == 0) {
        sum->files += v;
    } else if (strncmp(line, "errwatch_handler_errors_total{", 30) == 0) {
        sum->handlers += v;
    }
}

static void check_page(apr_pool_t *p, const ew_server_stats *server, const ew_snapshot *snap,
                       int om)
{
    ew_buf b;
    ew_buf_init(&b, p, 4096);
    ew_format_metrics(&b, server, snap, om);
    const char *doc = b.data;
    FZ_CHECK(strlen(doc) == b.len && b.len > 0 && doc[b.len - 1] == '\n', doc);

    apr_hash_t *series = apr_hash_make(p);
    apr_hash_t *families = apr_hash_make(p);
    const char *family = "";
    sums sum = {0, 0};
    int eof = 0;
    for (const char *line = doc; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        FZ_CHECK(!eof, doc); /* nothing after # EOF */
        if (strncmp(line, "# EOF\n", 6) == 0) {
            FZ_CHECK(om, doc);
            eof = 1;
        } else if (strncmp(line, "# HELP ", 7) == 0) {
            const char *e = skip_name(line + 7, line);
            family = apr_pstrmemdup(p, line + 7, (size_t)(e - line - 7));
            FZ_CHECK(*e == ' ', line);
            FZ_CHECK(apr_hash_get(families, family, APR_HASH_KEY_STRING) == NULL, line);
            apr_hash_set(families, family, APR_HASH_KEY_STRING, "");
            for (const char *h = e + 1; h < nl; h++) {
                FZ_CHECK(*h != '\\' && *h != '"' && (unsigned char)*h >= 0x20, line);
            }
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            const char *e = skip_name(line + 7, line);
            FZ_CHECK((size_t)(e - line - 7) == strlen(family) &&
                         strncmp(line + 7, family, strlen(family)) == 0,
                     line);
            FZ_CHECK(strncmp(e, " counter\n", 9) == 0 || strncmp(e, " gauge\n", 7) == 0, line);
        } else {
            check_sample(p, series, family, om, line, nl, &sum);
        }
        line = nl + 1;
    }
    FZ_CHECK(eof == om, doc);

    uint64_t files = 0, handlers = 0;
    for (uint32_t i = 0; i < snap->files_len; i++) {
        files += snap->files[i].count;
    }
    for (uint32_t i = 0; i < snap->handlers_len; i++) {
        handlers += snap->handlers[i].count;
    }
    FZ_CHECK(sum.files == files && sum.handlers == handlers, doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    apr_pool_t *p = fz_begin();
    ew_server_stats server;
    ew_snapshot snap;
    fz_server_stats(&r, p, &server);
    fz_snapshot(&r, p, &snap);
    check_page(p, &server, &snap, 0);
    check_page(p, &server, &snap, 1);
    fz_end(p);
    return 0;
}

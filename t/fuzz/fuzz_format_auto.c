/*
 * ?auto over fuzzed server figures and snapshot: every line is "Key: value"
 * (or a bare "Key:" for an empty ServerUptime), keys are mod_status-style
 * words that occur once, values hold no control byte, and the string values
 * read back as the inputs with control bytes flattened to spaces.
 */
#include <stdio.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "ew_escape.h"
#include "fuzz_support.h"

/* Checks every line; returns the keys with their values. */
static apr_hash_t *check_lines(apr_pool_t *p, const char *doc, size_t len)
{
    apr_hash_t *keys = apr_hash_make(p);
    FZ_CHECK(len > 0 && doc[len - 1] == '\n', doc);
    for (const char *line = doc; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        FZ_CHECK(nl != NULL, line);
        const char *colon = memchr(line, ':', (size_t)(nl - line));
        FZ_CHECK(colon != NULL && colon > line, line);
        FZ_CHECK((line[0] >= 'A' && line[0] <= 'Z'), line);
        for (const char *k = line; k < colon; k++) {
            char c = *k;
            FZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         c == ' ',
                     line);
        }
        FZ_CHECK(colon + 1 == nl || colon[1] == ' ', line);
        for (const char *v = colon + 1; v < nl; v++) {
            unsigned char c = (unsigned char)*v;
            FZ_CHECK(c >= 0x20 && c != 0x7F, line);
        }
        const char *key = apr_pstrmemdup(p, line, (size_t)(colon - line));
        FZ_CHECK(apr_hash_get(keys, key, APR_HASH_KEY_STRING) == NULL, line);
        const char *value =
            colon + 1 == nl ? "" : apr_pstrmemdup(p, colon + 2, (size_t)(nl - colon - 2));
        apr_hash_set(keys, key, APR_HASH_KEY_STRING, value);
        line = nl + 1;
    }
    return keys;
}

static void check_value(apr_pool_t *p, apr_hash_t *keys, const char *key, const char *raw,
                        const char *doc)
{
    ew_buf want;
    ew_buf_init(&want, p, 64);
    ew_escape_line(&want, raw);
    const char *got = apr_hash_get(keys, key, APR_HASH_KEY_STRING);
    FZ_CHECK(got != NULL && strcmp(got, want.data) == 0, doc);
}

static void check_u(apr_hash_t *keys, const char *key, uint64_t n, const char *doc)
{
    char want[24];
    snprintf(want, sizeof(want), "%llu", (unsigned long long)n);
    const char *got = apr_hash_get(keys, key, APR_HASH_KEY_STRING);
    FZ_CHECK(got != NULL && strcmp(got, want) == 0, doc);
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

    ew_buf b;
    ew_buf_init(&b, p, 2048);
    ew_format_auto(&b, &server, &snap);
    FZ_CHECK(strlen(b.data) == b.len, b.data);
    apr_hash_t *keys = check_lines(p, b.data, b.len);
    check_value(p, keys, "ServerVersion", server.server_version, b.data);
    check_value(p, keys, "ServerMPM", server.server_mpm, b.data);
    check_value(p, keys, "Server Built", server.server_built, b.data);
    check_value(p, keys, "CurrentTime", server.current_time, b.data);
    check_value(p, keys, "RestartTime", server.restart_time, b.data);
    check_value(p, keys, "Scoreboard", server.scoreboard, b.data);
    check_u(keys, "Total Accesses", snap.requests_total, b.data);
    check_u(keys, "Errors5xx", snap.requests_by_class[5], b.data);
    check_u(keys, "Errors500", snap.errors_by_code[0], b.data);
    check_u(keys, "ErrorFiles", snap.files_total, b.data);

    ew_buf errors;
    ew_buf_init(&errors, p, 512);
    ew_format_auto_errors(&errors, &snap);
    check_lines(p, errors.data, errors.len);
    /* The errwatch lines are the tail of the full page. */
    FZ_CHECK(b.len >= errors.len && strcmp(b.data + b.len - errors.len, errors.data) == 0, b.data);
    fz_end(p);
    return 0;
}

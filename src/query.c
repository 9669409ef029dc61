/*
 * Parsing of the status URL's query string. Each format is a bare word,
 * optionally followed by "=": Prometheus builds the query from its params
 * map and always writes the "=". ?tail takes parameters after '&'.
 */
#include <string.h>

#include "ew_query.h"

const char ew_query_valid_forms[] =
    "valid queries: none (HTML), ?auto (mod_status format), ?json (JSON), "
    "?metrics (Prometheus/OpenMetrics), ?tail (live stream of new failures; "
    "add &format=text or &format=json for NDJSON, &since=SEQ to replay from a seq)\n";

/* [p, p + n) is "name" or "name=". */
static int word_is(const char *p, size_t n, const char *name)
{
    size_t len = strlen(name);
    return (n == len || (n == len + 1 && p[len] == '=')) && strncmp(p, name, len) == 0;
}

/* [p, p + n) is "name=" followed by a value: returns the value's length and
 * sets *value, or returns -1. */
static long value_of(const char *p, size_t n, const char *name, const char **value)
{
    size_t len = strlen(name);
    if (n <= len || strncmp(p, name, len) != 0 || p[len] != '=') {
        return -1;
    }
    *value = p + len + 1;
    return (long)(n - len - 1);
}

static int invalid(ew_query *out, const char *error)
{
    out->kind = EW_QUERY_INVALID;
    out->error = error;
    return -1;
}

/* Decimal digits only, no sign, no spaces, at most 2^63 - 1 (JSON readers
 * keep that exactly; seqs never get near it). */
static int parse_seq(const char *p, long n, uint64_t *out)
{
    if (n <= 0 || n > 19) {
        return -1;
    }
    uint64_t v = 0;
    for (long i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) {
        return -1;
    }
    *out = v;
    return 0;
}

/* One '&'-separated parameter of a ?tail query. */
static int tail_param(const char *p, size_t n, ew_query *out, int *seen_tail, int *seen_format)
{
    const char *v;
    long vn;
    if (word_is(p, n, "tail")) {
        if (*seen_tail) {
            return invalid(out, "tail is given twice");
        }
        *seen_tail = 1;
        return 0;
    }
    if ((vn = value_of(p, n, "format", &v)) >= 0) {
        if (*seen_format) {
            return invalid(out, "format is given twice");
        }
        *seen_format = 1;
        if (vn == 4 && strncmp(v, "json", 4) == 0) {
            out->tail_json = 1;
        } else if (vn == 4 && strncmp(v, "text", 4) == 0) {
            out->tail_json = 0;
        } else {
            return invalid(out, "format must be text or json");
        }
        return 0;
    }
    if ((vn = value_of(p, n, "since", &v)) >= 0) {
        if (out->since_given) {
            return invalid(out, "since is given twice");
        }
        if (parse_seq(v, vn, &out->since) != 0) {
            return invalid(out, "since must be a seq: a whole number from 0 "
                                "(the seq of the last failure seen; see ?json)");
        }
        out->since_given = 1;
        return 0;
    }
    return invalid(out, "unknown query");
}

static int parse_tail(const char *args, ew_query *out)
{
    int seen_tail = 0;
    int seen_format = 0;
    const char *p = args;
    for (;;) {
        const char *amp = strchr(p, '&');
        size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (n == 0) {
            return invalid(out, "empty parameter (two '&' in a row, or one at an end)");
        }
        if (tail_param(p, n, out, &seen_tail, &seen_format) != 0) {
            return -1;
        }
        if (amp == NULL) {
            break;
        }
        p = amp + 1;
    }
    if (!seen_tail) {
        return invalid(out, "format and since go with ?tail only");
    }
    out->kind = EW_QUERY_TAIL;
    return 0;
}

int ew_query_parse(const char *args, ew_query *out)
{
    static const struct {
        const char *name;
        ew_query_kind kind;
    } forms[] = {
        {"auto", EW_QUERY_AUTO},
        {"json", EW_QUERY_JSON},
        {"metrics", EW_QUERY_METRICS},
    };
    memset(out, 0, sizeof(*out));
    if (args == NULL || args[0] == '\0') {
        out->kind = EW_QUERY_HTML;
        return 0;
    }
    size_t len = strlen(args);
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        if (word_is(args, len, forms[i].name)) {
            out->kind = forms[i].kind;
            return 0;
        }
    }
    /* Anything with '&' or a tail parameter is a tail query, or wrong. */
    if (strchr(args, '&') != NULL || word_is(args, len, "tail") ||
        strncmp(args, "format=", 7) == 0 || strncmp(args, "since=", 6) == 0) {
        return parse_tail(args, out);
    }
    return invalid(out, "unknown query");
}

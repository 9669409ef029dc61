/*
 * Parsing of the status URL's query string. Each format is a bare word,
 * optionally followed by "=": Prometheus builds the query from its params
 * map and always writes the "=". ?tail takes parameters after '&'.
 */
#include <string.h>

#include "ew_query.h"

const char ew_query_valid_forms[] =
    "valid queries: none (HTML; add ?refresh=N for 1-3600 s, ?sort=count or ?sort=last), "
    "?auto (mod_status format), ?json (JSON; add &history=1h, 6h or 24h), "
    "?history=1h, 6h or 24h (per-minute history only), "
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

/* What a query's parameters have said so far, to refuse repeats. */
typedef struct seen_params {
    int tail, format, sort;
    ew_query_kind kind_word; /* the format named (auto, json, metrics), or EW_QUERY_HTML */
} seen_params;

typedef int (*param_fn)(const char *p, size_t n, ew_query *out, seen_params *seen);

/* Calls fn for each '&'-separated parameter of args; an empty one is an
 * error. */
static int each_param(const char *args, ew_query *out, param_fn fn, seen_params *seen)
{
    const char *p = args;
    for (;;) {
        const char *amp = strchr(p, '&');
        size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (n == 0) {
            return invalid(out, "empty parameter (two '&' in a row, or one at an end)");
        }
        if (fn(p, n, out, seen) != 0) {
            return -1;
        }
        if (amp == NULL) {
            return 0;
        }
        p = amp + 1;
    }
}

/* One '&'-separated parameter of a ?tail query. */
static int tail_param(const char *p, size_t n, ew_query *out, seen_params *seen)
{
    const char *v;
    long vn;
    if (word_is(p, n, "tail")) {
        if (seen->tail) {
            return invalid(out, "tail is given twice");
        }
        seen->tail = 1;
        return 0;
    }
    if ((vn = value_of(p, n, "format", &v)) >= 0) {
        if (seen->format) {
            return invalid(out, "format is given twice");
        }
        seen->format = 1;
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
    seen_params seen = {0, 0, 0, EW_QUERY_HTML};
    if (each_param(args, out, tail_param, &seen) != 0) {
        return -1;
    }
    if (!seen.tail) {
        return invalid(out, "format and since go with ?tail only");
    }
    out->kind = EW_QUERY_TAIL;
    return 0;
}

/* "1h", "6h" or "24h" as minutes, or 0. */
static uint32_t history_span(const char *v, long n)
{
    if (n == 2 && strncmp(v, "1h", 2) == 0) {
        return 60;
    }
    if (n == 2 && strncmp(v, "6h", 2) == 0) {
        return 360;
    }
    if (n == 3 && strncmp(v, "24h", 3) == 0) {
        return 1440;
    }
    return 0;
}

/* One '&'-separated parameter of a view query (not ?tail). */
static int view_param(const char *p, size_t n, ew_query *out, seen_params *seen)
{
    static const struct {
        const char *name;
        ew_query_kind kind;
    } forms[] = {
        {"auto", EW_QUERY_AUTO},
        {"json", EW_QUERY_JSON},
        {"metrics", EW_QUERY_METRICS},
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        if (word_is(p, n, forms[i].name)) {
            if (seen->kind_word != EW_QUERY_HTML) {
                return invalid(out, "more than one format (auto, json, metrics)");
            }
            seen->kind_word = forms[i].kind;
            return 0;
        }
    }
    const char *v;
    long vn;
    if ((vn = value_of(p, n, "history", &v)) >= 0) {
        if (out->history_minutes != 0) {
            return invalid(out, "history is given twice");
        }
        out->history_minutes = history_span(v, vn);
        return out->history_minutes != 0 ? 0 : invalid(out, "history must be 1h, 6h or 24h");
    }
    if ((vn = value_of(p, n, "refresh", &v)) >= 0) {
        uint64_t secs = 0;
        if (out->refresh != 0) {
            return invalid(out, "refresh is given twice");
        }
        if (vn > 4 || parse_seq(v, vn, &secs) != 0 || secs < 1 || secs > 3600) {
            return invalid(out, "refresh must be a whole number of seconds from 1 to 3600");
        }
        out->refresh = (uint32_t)secs;
        return 0;
    }
    if ((vn = value_of(p, n, "sort", &v)) >= 0) {
        if (seen->sort) {
            return invalid(out, "sort is given twice");
        }
        seen->sort = 1;
        if (vn == 4 && strncmp(v, "last", 4) == 0) {
            out->sort_by_last = 1;
        } else if (!(vn == 5 && strncmp(v, "count", 5) == 0)) {
            return invalid(out, "sort must be count or last");
        }
        return 0;
    }
    return invalid(out, "unknown query");
}

static int parse_view(const char *args, ew_query *out)
{
    seen_params seen = {0, 0, 0, EW_QUERY_HTML};
    if (each_param(args, out, view_param, &seen) != 0) {
        return -1;
    }
    ew_query_kind kind_word = seen.kind_word;
    int html_params = out->refresh != 0 || seen.sort;
    switch (kind_word) {
    case EW_QUERY_HTML:
        if (out->history_minutes != 0) {
            if (html_params) {
                return invalid(out, "history goes alone or with json");
            }
            out->kind = EW_QUERY_HISTORY;
            return 0;
        }
        out->kind = EW_QUERY_HTML;
        return 0;
    case EW_QUERY_JSON:
        if (html_params) {
            return invalid(out, "refresh and sort go with the HTML page only");
        }
        out->kind = EW_QUERY_JSON;
        return 0;
    default:
        if (html_params || out->history_minutes != 0) {
            return invalid(out, "auto and metrics take no parameters");
        }
        out->kind = kind_word;
        return 0;
    }
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
    /* A tail parameter anywhere makes it a tail query (or a wrong one). */
    if (word_is(args, len, "tail") || strncmp(args, "tail&", 5) == 0 ||
        strstr(args, "&tail") != NULL || strncmp(args, "format=", 7) == 0 ||
        strncmp(args, "since=", 6) == 0 || strstr(args, "&format=") != NULL ||
        strstr(args, "&since=") != NULL) {
        return parse_tail(args, out);
    }
    return parse_view(args, out);
}

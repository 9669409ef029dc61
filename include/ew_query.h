/*
 * The status URL's query string, parsed without httpd so that the unit
 * tests and the fuzzers reach it. Plain C; never includes httpd.h.
 */
#ifndef EW_QUERY_H
#define EW_QUERY_H

/* What the status URL is asked to render. */
typedef enum {
    EW_QUERY_HTML,    /* no query */
    EW_QUERY_AUTO,    /* ?auto: mod_status's machine-readable format */
    EW_QUERY_JSON,    /* ?json */
    EW_QUERY_METRICS, /* ?metrics: Prometheus / OpenMetrics */
    EW_QUERY_INVALID  /* anything else: 400 with ew_query_valid_forms */
} ew_query_kind;

typedef struct ew_query {
    ew_query_kind kind;
} ew_query;

/* Parses r->args (NULL or "" mean no query). Returns 0, or -1 with
 * out->kind == EW_QUERY_INVALID. */
int ew_query_parse(const char *args, ew_query *out);

/* The body of the 400: every valid query, one line, ending in "\n". */
extern const char ew_query_valid_forms[];

#endif

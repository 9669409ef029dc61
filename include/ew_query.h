/*
 * The status URL's query string, parsed without httpd so that the unit
 * tests and the fuzzers reach it. Plain C; never includes httpd.h.
 */
#ifndef EW_QUERY_H
#define EW_QUERY_H

#include <stdint.h>

/* What the status URL is asked to render. */
typedef enum {
    EW_QUERY_HTML,    /* no query */
    EW_QUERY_AUTO,    /* ?auto: mod_status's machine-readable format */
    EW_QUERY_JSON,    /* ?json */
    EW_QUERY_METRICS, /* ?metrics: Prometheus / OpenMetrics */
    EW_QUERY_TAIL,    /* ?tail[&format=text|json][&since=SEQ]: live stream */
    EW_QUERY_HISTORY, /* ?history=1h|6h|24h: per-minute history and events only */
    EW_QUERY_INVALID  /* anything else: 400 with error and ew_query_valid_forms */
} ew_query_kind;

typedef struct ew_query {
    ew_query_kind kind;
    int tail_json;            /* ?tail&format=json: NDJSON instead of text lines */
    int since_given;          /* ?tail&since=SEQ was given */
    uint64_t since;           /* replay the failures after this seq */
    uint32_t history_minutes; /* ?json&history=, ?history=: 60, 360 or 1440; 0: default */
    uint32_t refresh;         /* HTML ?refresh=N (1..3600 s); 0: none */
    int sort_by_last;         /* HTML ?sort=last (files by last seen); else by count */
    const char *error;        /* EW_QUERY_INVALID: what is wrong, one line without
                                 "\n" (a static string); NULL otherwise */
} ew_query;

/* Parses r->args (NULL or "" mean no query). Parameters of ?tail are
 * separated by '&' and may come in any order; each at most once. Returns 0,
 * or -1 with out->kind == EW_QUERY_INVALID and out->error set. */
int ew_query_parse(const char *args, ew_query *out);

/* The rest of the 400's body: every valid query, one line, ending in "\n". */
extern const char ew_query_valid_forms[];

#endif

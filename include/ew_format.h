/*
 * ew_format: the status page renderers. They read an ew_snapshot (and, for
 * ?auto, an ew_server_stats filled in by the module) and append to an ew_buf.
 * They never see a request_rec, so the unit tests check their exact output.
 */
#ifndef EW_FORMAT_H
#define EW_FORMAT_H

#include <stdint.h>

#include "ew_buf.h"
#include "ew_store.h"

/* Server-wide figures read from httpd's scoreboard by the module. Strings
 * are already formatted; every pointer may be NULL (printed as ""). */
typedef struct ew_server_stats {
    const char *server_version; /* ap_get_server_description() */
    const char *server_mpm;
    const char *server_built;
    const char *current_time; /* in mod_status's format */
    const char *restart_time;
    int config_generation;
    int mpm_generation;
    uint32_t uptime_s; /* since the last restart, as mod_status reports it */
    double load1, load5, load15;
    double cpu_user, cpu_system, cpu_children_user, cpu_children_system;
    double cpu_load; /* percent; the CPULoad line is printed only when > 0 */
    int busy_workers, graceful_workers, idle_workers;
    int is_async; /* event MPM: print the Processes..ConnsAsyncClosing block */
    int processes, stopping;
    int conns_total, conns_async_wait_io, conns_async_writing, conns_async_keep_alive,
        conns_async_closing;
    const char *scoreboard; /* one character per worker slot */
} ew_server_stats;

/* How many files and recent failures the HTML page lists. */
#define EW_HTML_TOP_FILES 50
#define EW_HTML_RECENT 50

/* "2026-11-24T14:29:22.123456Z" (27 chars + NUL). */
#define EW_ISO_TIME_LEN 28
void ew_format_iso_time(char out[EW_ISO_TIME_LEN], int64_t time_us);

/* Whole seconds from from_us to to_us; 0 if to_us is not later. Defined for
 * every pair (the difference of two int64_t values can overflow one). */
long long ew_elapsed_s(int64_t from_us, int64_t to_us);

/* "just now", "42 s ago", "3 min ago", "5 h ago", "3 days ago": how long
 * before now_us time_us was (a later time reads "just now"). */
#define EW_AGO_LEN 32
void ew_format_ago(char out[EW_AGO_LEN], int64_t now_us, int64_t time_us);

/* An inline SVG bar chart of the last `minutes` of snap->history (which
 * must hold at least that many, ending now), per_bar minutes to a bar,
 * with the markers and the top files' first failures; then the same in a
 * line of text. caption is trusted text. Writes nothing if the history is
 * too short. */
void ew_format_html_chart(ew_buf *b, const ew_snapshot *snap, uint32_t minutes, uint32_t per_bar,
                          const char *caption);

/* A cause's id as every format prints it: 16 lowercase hex digits. */
#define EW_CAUSE_ID_LEN 17
void ew_format_cause_id(char out[EW_CAUSE_ID_LEN], uint64_t key);

/* A modification time against a first failure: seconds before it
 * (negative: after it), saturated for times no clock gives. */
static inline long long ew_changed_before_s(int64_t mtime_us, int64_t first_failure_us)
{
    int64_t d;
    if (__builtin_sub_overflow(first_failure_us, mtime_us, &d)) {
        d = first_failure_us > mtime_us ? INT64_MAX : INT64_MIN;
    }
    return (long long)(d / 1000000);
}

/* mod_status ?auto format: mod_status 2.4's keys in its order, then
 * errwatch's own "Errors*" lines. */
void ew_format_auto(ew_buf *b, const ew_server_stats *server, const ew_snapshot *snap);

/* Only errwatch's own "Key: value" lines of ?auto (also used by the
 * mod_status hook). */
void ew_format_auto_errors(ew_buf *b, const ew_snapshot *snap);

/* The ?json document. */
void ew_format_json(ew_buf *b, const ew_snapshot *snap);
/* ?history=1h|6h|24h: only the per-minute history and the events. */
void ew_format_json_history(ew_buf *b, const ew_snapshot *snap);
/* "start", "stop", "restart" (EW_EVENT_*), "failure", or "unknown". */
const char *ew_event_name(uint32_t event);

/* The HTML page for people. */
void ew_format_html(ew_buf *b, const ew_snapshot *snap);

/* The page as the status URL serves it: ew_format_html with the ?refresh
 * and ?sort choices (refresh 0: none; the links keep them). */
typedef struct ew_html_options {
    uint32_t refresh;
    int sort_by_last;
} ew_html_options;
void ew_format_html_page(ew_buf *b, const ew_snapshot *snap, const ew_html_options *opt);

/* A short section for mod_status's /server-status page: counts, windows and,
 * when with_files is set, the top EW_HTML_SECTION_FILES failing files. */
#define EW_HTML_SECTION_FILES 5
void ew_format_html_section(ew_buf *b, const ew_snapshot *snap, int with_files);

/* The metrics page: Prometheus text exposition 0.0.4 when openmetrics is 0,
 * OpenMetrics 1.0 (ending in "# EOF") otherwise. errwatch_* families first,
 * then the server figures under the community apache_exporter's apache_*
 * names. The caller sets the Content-Type:
 *   text/plain; version=0.0.4; charset=utf-8
 *   application/openmetrics-text; version=1.0.0; charset=utf-8 */
void ew_format_metrics(ew_buf *b, const ew_server_stats *server, const ew_snapshot *snap,
                       int openmetrics);

/* Live tail (?tail) lines, each ending in "\n"; json selects NDJSON. The
 * formats are described in src/format_tail.c and docs/formats.md. */
typedef struct ew_tail_info {
    uint64_t latest_seq;  /* seq of the latest failure when the tail opened */
    int64_t pid;          /* the process serving the tail */
    unsigned keepalive_s; /* ErrWatchTailKeepAlive */
    unsigned max_s;       /* ErrWatchTailMaxTime */
    int64_t now_us;
} ew_tail_info;

typedef enum {
    EW_TAIL_END_MAX_TIME, /* open for ErrWatchTailMaxTime */
    EW_TAIL_END_STOPPING  /* the server is restarting or stopping */
} ew_tail_end;

void ew_format_tail_start(ew_buf *b, int json, const ew_tail_info *info);
/* The members (no braces) of one failure as ?json's recent[] writes them. */
void ew_format_json_failure_members(ew_buf *b, const ew_failure *f);
void ew_format_tail_failure(ew_buf *b, const ew_failure *f, int json);
void ew_format_tail_keepalive(ew_buf *b, int json, int64_t now_us);
/* Failures first_missing..last_missing were recorded but are gone. */
void ew_format_tail_gap(ew_buf *b, int json, uint64_t first_missing, uint64_t last_missing,
                        uint32_t ring_capacity);
/* since is above every seq recorded. */
void ew_format_tail_ahead(ew_buf *b, int json, uint64_t since, uint64_t latest_seq);
void ew_format_tail_end(ew_buf *b, int json, ew_tail_end reason, uint64_t last_seq);

#endif

/* Unit tests for the metrics page (ew_format_metrics). The expected documents
 * below are written out by hand from the rules in include/ew_format.h; the
 * last test hands a hostile document to promtool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_pools.h>

#include "ew_buf.h"
#include "ew_format.h"
#include "unit.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *render(const ew_server_stats *s, const ew_snapshot *snap, int openmetrics)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_metrics(&b, s, snap, openmetrics);
    ck_assert_uint_eq(strlen(b.data), b.len);
    return b.data;
}

/* ---- a small, friendly snapshot ---- */

static void fill_stats(ew_server_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->server_version = "Apache/2.4.62 (Debian)";
    s->server_mpm = "event";
    s->config_generation = 3;
    s->mpm_generation = 2;
    s->uptime_s = 93665;
    s->load1 = 0.5;
    s->load5 = 0.75;
    s->load15 = 1.0;
    s->cpu_user = 1.5;
    s->cpu_system = 0.25;
    s->cpu_children_user = 0.5;
    s->cpu_children_system = 0.125;
    s->cpu_load = 12.5;
    s->busy_workers = 3;
    s->graceful_workers = 2;
    s->idle_workers = 47;
    s->is_async = 1;
    s->processes = 2;
    s->stopping = 1;
    s->conns_total = 5;
    s->conns_async_wait_io = 1;
    s->conns_async_writing = 3;
    s->conns_async_keep_alive = 2;
    s->conns_async_closing = 4;
    s->scoreboard = "_W_GK.R..";
}

static ew_handler_stat small_handlers[2];
static ew_file_stat small_files[2];
static ew_cause_stat small_causes[1];

static void fill_snapshot(ew_snapshot *snap)
{
    memset(snap, 0, sizeof(*snap));
    memset(small_handlers, 0, sizeof(small_handlers));
    memset(small_files, 0, sizeof(small_files));

    snap->since_us = 1700000000000000LL;
    snap->taken_us = 1700000065500000LL; /* 65.5 s later */
    snap->requests_total = 12;
    snap->requests_by_class[1] = 1;
    snap->requests_by_class[2] = 5;
    snap->requests_by_class[3] = 2;
    snap->requests_by_class[4] = 1;
    snap->requests_by_class[5] = 3;
    snap->errors_by_code[0] = 2;      /* 500 */
    snap->errors_by_code[7] = 1;      /* 507 */
    snap->bytes_sent = 5000;          /* 4 kB, the rest is dropped */
    snap->duration_us_total = 123456; /* 123 ms, the rest is dropped */
    snap->failures_recorded = 3;
    snap->files_evicted = 1;
    snap->lock_recoveries = 0;
    snap->window_500[0] = 1;
    snap->window_500[1] = 2;
    snap->window_500[2] = 2;
    snap->window_5xx[0] = 1;
    snap->window_5xx[1] = 3;
    snap->window_5xx[2] = 3;

    SET(small_handlers[0].handler, "application/x-httpd-php");
    small_handlers[0].status = 500;
    small_handlers[0].count = 2;
    SET(small_handlers[1].handler, "cgi-script");
    small_handlers[1].status = 507;
    small_handlers[1].count = 1;
    snap->handlers = small_handlers;
    snap->handlers_len = 2;

    SET(small_files[0].file, "/var/www/index.php");
    SET(small_files[0].handler, "application/x-httpd-php");
    small_files[0].count = 2;
    SET(small_files[1].file, "/usr/lib/cgi-bin/x.cgi");
    SET(small_files[1].handler, "cgi-script");
    small_files[1].count = 1;
    snap->files = small_files;
    snap->files_len = 2;

    /* A hostile title longer than the label keeps: cut at 80 bytes on a
     * character boundary (the 2-byte character straddles it), escaped. */
    memset(small_causes, 0, sizeof(small_causes));
    small_causes[0].key = 0x0123456789abcdefULL;
    small_causes[0].count = 3;
    SET(small_causes[0].title, "Uncaught \"q\" \\ in /a.php:#\nnext "
                               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9"
                               "tag tail beyond the cut");
    snap->causes = small_causes;
    snap->causes_len = 1;
    snap->causes_total = 1;
    snap->causes_evicted = 4;
}

START_TEST(prometheus_small_snapshot)
{
    ew_server_stats s;
    ew_snapshot snap;
    fill_stats(&s);
    fill_snapshot(&snap);
    ck_assert_str_eq(
        render(&s, &snap, 0),
        "# HELP errwatch_requests_total Responses counted by errwatch, by status class.\n"
        "# TYPE errwatch_requests_total counter\n"
        "errwatch_requests_total{class=\"1xx\"} 1\n"
        "errwatch_requests_total{class=\"2xx\"} 5\n"
        "errwatch_requests_total{class=\"3xx\"} 2\n"
        "errwatch_requests_total{class=\"4xx\"} 1\n"
        "errwatch_requests_total{class=\"5xx\"} 3\n"
        "errwatch_requests_total{class=\"other\"} 0\n"
        "# HELP errwatch_errors_total 5xx responses by status code; 500, 502, 503 and 504 are "
        "always present.\n"
        "# TYPE errwatch_errors_total counter\n"
        "errwatch_errors_total{status=\"500\"} 2\n"
        "errwatch_errors_total{status=\"502\"} 0\n"
        "errwatch_errors_total{status=\"503\"} 0\n"
        "errwatch_errors_total{status=\"504\"} 0\n"
        "errwatch_errors_total{status=\"507\"} 1\n"
        "# HELP errwatch_handler_errors_total 5xx responses by handler and status; pairs beyond "
        "the first 64 are counted under the handler name other.\n"
        "# TYPE errwatch_handler_errors_total counter\n"
        "errwatch_handler_errors_total{handler=\"application/x-httpd-php\",status=\"500\"} 2\n"
        "errwatch_handler_errors_total{handler=\"cgi-script\",status=\"507\"} 1\n"
        "# HELP errwatch_file_errors_total 5xx responses and crashes by script file, labelled "
        "with the handler of its latest failure; a file evicted from the table restarts from 1.\n"
        "# TYPE errwatch_file_errors_total counter\n"
        "errwatch_file_errors_total{file=\"/var/www/index.php\","
        "handler=\"application/x-httpd-php\"} 2\n"
        "errwatch_file_errors_total{file=\"/usr/lib/cgi-bin/x.cgi\",handler=\"cgi-script\"} 1\n"
        "# HELP errwatch_errors_window 5xx responses in the last 1, 5 and 15 minutes, counted "
        "in 5 s buckets.\n"
        "# TYPE errwatch_errors_window gauge\n"
        "errwatch_errors_window{status=\"500\",window=\"1m\"} 1\n"
        "errwatch_errors_window{status=\"500\",window=\"5m\"} 2\n"
        "errwatch_errors_window{status=\"500\",window=\"15m\"} 2\n"
        "errwatch_errors_window{status=\"5xx\",window=\"1m\"} 1\n"
        "errwatch_errors_window{status=\"5xx\",window=\"5m\"} 3\n"
        "errwatch_errors_window{status=\"5xx\",window=\"15m\"} 3\n"
        "# HELP errwatch_crashes_total Requests in flight in a child killed by a signal, by "
        "signal.\n"
        "# TYPE errwatch_crashes_total counter\n"
        "errwatch_crashes_total{signal=\"SIGKILL\"} 0\n"
        "errwatch_crashes_total{signal=\"SIGSEGV\"} 0\n"
        "# HELP errwatch_file_crashes_total Crashes by script file (also counted in "
        "errwatch_file_errors_total), labelled with the handler of its latest failure.\n"
        "# TYPE errwatch_file_crashes_total counter\n"
        "# HELP errwatch_cause_failures_total Failures by cause (the message with what varies "
        "per request taken out); at most 32 series, one per row of the causes table.\n"
        "# TYPE errwatch_cause_failures_total counter\n"
        "errwatch_cause_failures_total{cause=\"0123456789abcdef\",title=\"Uncaught \\\"q\\\" \\\\ "
        "in /a.php:#\\nnext xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 3\n"
        "# HELP errwatch_causes Rows in use in the causes table (at most 32).\n"
        "# TYPE errwatch_causes gauge\n"
        "errwatch_causes 1\n"
        "# HELP errwatch_causes_evicted_total Causes dropped from the causes table to make room "
        "for others.\n"
        "# TYPE errwatch_causes_evicted_total counter\n"
        "errwatch_causes_evicted_total 4\n"
        "# HELP errwatch_file_evictions_total Files dropped from the file table to make room for "
        "others.\n"
        "# TYPE errwatch_file_evictions_total counter\n"
        "errwatch_file_evictions_total 1\n"
        "# HELP errwatch_failures_recorded_total Failures recorded in the file table and the "
        "ring of recent failures.\n"
        "# TYPE errwatch_failures_recorded_total counter\n"
        "errwatch_failures_recorded_total 3\n"
        "# HELP errwatch_lock_recoveries_total Times the store lock was taken over from a "
        "process that died holding it.\n"
        "# TYPE errwatch_lock_recoveries_total counter\n"
        "errwatch_lock_recoveries_total 0\n"
        "# HELP errwatch_uptime_seconds Seconds since errwatch started counting; survives "
        "restarts.\n"
        "# TYPE errwatch_uptime_seconds gauge\n"
        "errwatch_uptime_seconds 65\n"
        "# HELP apache_up Whether the server could be reached; always 1.\n"
        "# TYPE apache_up gauge\n"
        "apache_up 1\n"
        "# HELP apache_info Apache version information.\n"
        "# TYPE apache_info gauge\n"
        "apache_info{version=\"Apache/2.4.62 (Debian)\",mpm=\"event\"} 1\n"
        "# HELP apache_generation Apache restart generation.\n"
        "# TYPE apache_generation gauge\n"
        "apache_generation{type=\"config\"} 3\n"
        "apache_generation{type=\"mpm\"} 2\n"
        "# HELP apache_uptime_seconds_total Seconds since the last restart.\n"
        "# TYPE apache_uptime_seconds_total counter\n"
        "apache_uptime_seconds_total 93665\n"
        "# HELP apache_load System load average.\n"
        "# TYPE apache_load gauge\n"
        "apache_load{interval=\"1min\"} 0.5\n"
        "apache_load{interval=\"5min\"} 0.75\n"
        "apache_load{interval=\"15min\"} 1\n"
        "# HELP apache_accesses_total Requests served since errwatch started counting.\n"
        "# TYPE apache_accesses_total counter\n"
        "apache_accesses_total 12\n"
        "# HELP apache_sent_bytes_total Bytes sent since errwatch started counting.\n"
        "# TYPE apache_sent_bytes_total counter\n"
        "apache_sent_bytes_total 5000\n"
        "# HELP apache_duration_seconds_total Seconds spent serving requests since errwatch "
        "started counting.\n"
        "# TYPE apache_duration_seconds_total counter\n"
        "apache_duration_seconds_total 0.123456\n"
        "# HELP apache_cpu_time_seconds_total CPU time of the server and its children in "
        "seconds.\n"
        "# TYPE apache_cpu_time_seconds_total counter\n"
        "apache_cpu_time_seconds_total{type=\"user\"} 2\n"
        "apache_cpu_time_seconds_total{type=\"system\"} 0.375\n"
        "# HELP apache_cpuload CPU load of the server in percent.\n"
        "# TYPE apache_cpuload gauge\n"
        "apache_cpuload 12.5\n"
        "# HELP apache_workers Worker threads by state.\n"
        "# TYPE apache_workers gauge\n"
        "apache_workers{state=\"busy\"} 3\n"
        "apache_workers{state=\"idle\"} 47\n"
        "apache_workers{state=\"graceful\"} 2\n"
        "# HELP apache_scoreboard Scoreboard slots by state.\n"
        "# TYPE apache_scoreboard gauge\n"
        "apache_scoreboard{state=\"idle\"} 2\n"
        "apache_scoreboard{state=\"startup\"} 0\n"
        "apache_scoreboard{state=\"read\"} 1\n"
        "apache_scoreboard{state=\"reply\"} 1\n"
        "apache_scoreboard{state=\"keepalive\"} 1\n"
        "apache_scoreboard{state=\"dns\"} 0\n"
        "apache_scoreboard{state=\"closing\"} 0\n"
        "apache_scoreboard{state=\"logging\"} 0\n"
        "apache_scoreboard{state=\"graceful_stop\"} 1\n"
        "apache_scoreboard{state=\"idle_cleanup\"} 0\n"
        "apache_scoreboard{state=\"open_slot\"} 3\n"
        "# HELP apache_processes Server child processes, and those of them stopping.\n"
        "# TYPE apache_processes gauge\n"
        "apache_processes{state=\"all\"} 2\n"
        "apache_processes{state=\"stopping\"} 1\n"
        "# HELP apache_connections Connections by state (event MPM only).\n"
        "# TYPE apache_connections gauge\n"
        "apache_connections{state=\"total\"} 5\n"
        "apache_connections{state=\"writing\"} 3\n"
        "apache_connections{state=\"keepalive\"} 2\n"
        "apache_connections{state=\"closing\"} 4\n"
        "apache_connections{state=\"wait_io\"} 1\n");
}
END_TEST

START_TEST(openmetrics_small_snapshot)
{
    ew_server_stats s;
    ew_snapshot snap;
    fill_stats(&s);
    fill_snapshot(&snap);
    /* Counter families lose "_total" in HELP and TYPE only; gauges (apache_info
     * included) keep their names; "# EOF" ends the document. */
    ck_assert_str_eq(
        render(&s, &snap, 1),
        "# HELP errwatch_requests Responses counted by errwatch, by status class.\n"
        "# TYPE errwatch_requests counter\n"
        "errwatch_requests_total{class=\"1xx\"} 1\n"
        "errwatch_requests_total{class=\"2xx\"} 5\n"
        "errwatch_requests_total{class=\"3xx\"} 2\n"
        "errwatch_requests_total{class=\"4xx\"} 1\n"
        "errwatch_requests_total{class=\"5xx\"} 3\n"
        "errwatch_requests_total{class=\"other\"} 0\n"
        "# HELP errwatch_errors 5xx responses by status code; 500, 502, 503 and 504 are "
        "always present.\n"
        "# TYPE errwatch_errors counter\n"
        "errwatch_errors_total{status=\"500\"} 2\n"
        "errwatch_errors_total{status=\"502\"} 0\n"
        "errwatch_errors_total{status=\"503\"} 0\n"
        "errwatch_errors_total{status=\"504\"} 0\n"
        "errwatch_errors_total{status=\"507\"} 1\n"
        "# HELP errwatch_handler_errors 5xx responses by handler and status; pairs beyond "
        "the first 64 are counted under the handler name other.\n"
        "# TYPE errwatch_handler_errors counter\n"
        "errwatch_handler_errors_total{handler=\"application/x-httpd-php\",status=\"500\"} 2\n"
        "errwatch_handler_errors_total{handler=\"cgi-script\",status=\"507\"} 1\n"
        "# HELP errwatch_file_errors 5xx responses and crashes by script file, labelled "
        "with the handler of its latest failure; a file evicted from the table restarts from 1.\n"
        "# TYPE errwatch_file_errors counter\n"
        "errwatch_file_errors_total{file=\"/var/www/index.php\","
        "handler=\"application/x-httpd-php\"} 2\n"
        "errwatch_file_errors_total{file=\"/usr/lib/cgi-bin/x.cgi\",handler=\"cgi-script\"} 1\n"
        "# HELP errwatch_errors_window 5xx responses in the last 1, 5 and 15 minutes, counted "
        "in 5 s buckets.\n"
        "# TYPE errwatch_errors_window gauge\n"
        "errwatch_errors_window{status=\"500\",window=\"1m\"} 1\n"
        "errwatch_errors_window{status=\"500\",window=\"5m\"} 2\n"
        "errwatch_errors_window{status=\"500\",window=\"15m\"} 2\n"
        "errwatch_errors_window{status=\"5xx\",window=\"1m\"} 1\n"
        "errwatch_errors_window{status=\"5xx\",window=\"5m\"} 3\n"
        "errwatch_errors_window{status=\"5xx\",window=\"15m\"} 3\n"
        "# HELP errwatch_crashes Requests in flight in a child killed by a signal, by "
        "signal.\n"
        "# TYPE errwatch_crashes counter\n"
        "errwatch_crashes_total{signal=\"SIGKILL\"} 0\n"
        "errwatch_crashes_total{signal=\"SIGSEGV\"} 0\n"
        "# HELP errwatch_file_crashes Crashes by script file (also counted in "
        "errwatch_file_errors_total), labelled with the handler of its latest failure.\n"
        "# TYPE errwatch_file_crashes counter\n"
        "# HELP errwatch_cause_failures Failures by cause (the message with what varies "
        "per request taken out); at most 32 series, one per row of the causes table.\n"
        "# TYPE errwatch_cause_failures counter\n"
        "errwatch_cause_failures_total{cause=\"0123456789abcdef\",title=\"Uncaught \\\"q\\\" \\\\ "
        "in /a.php:#\\nnext xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 3\n"
        "# HELP errwatch_causes Rows in use in the causes table (at most 32).\n"
        "# TYPE errwatch_causes gauge\n"
        "errwatch_causes 1\n"
        "# HELP errwatch_causes_evicted Causes dropped from the causes table to make room "
        "for others.\n"
        "# TYPE errwatch_causes_evicted counter\n"
        "errwatch_causes_evicted_total 4\n"
        "# HELP errwatch_file_evictions Files dropped from the file table to make room for "
        "others.\n"
        "# TYPE errwatch_file_evictions counter\n"
        "errwatch_file_evictions_total 1\n"
        "# HELP errwatch_failures_recorded Failures recorded in the file table and the "
        "ring of recent failures.\n"
        "# TYPE errwatch_failures_recorded counter\n"
        "errwatch_failures_recorded_total 3\n"
        "# HELP errwatch_lock_recoveries Times the store lock was taken over from a "
        "process that died holding it.\n"
        "# TYPE errwatch_lock_recoveries counter\n"
        "errwatch_lock_recoveries_total 0\n"
        "# HELP errwatch_uptime_seconds Seconds since errwatch started counting; survives "
        "restarts.\n"
        "# TYPE errwatch_uptime_seconds gauge\n"
        "errwatch_uptime_seconds 65\n"
        "# HELP apache_up Whether the server could be reached; always 1.\n"
        "# TYPE apache_up gauge\n"
        "apache_up 1\n"
        "# HELP apache_info Apache version information.\n"
        "# TYPE apache_info gauge\n"
        "apache_info{version=\"Apache/2.4.62 (Debian)\",mpm=\"event\"} 1\n"
        "# HELP apache_generation Apache restart generation.\n"
        "# TYPE apache_generation gauge\n"
        "apache_generation{type=\"config\"} 3\n"
        "apache_generation{type=\"mpm\"} 2\n"
        "# HELP apache_uptime_seconds Seconds since the last restart.\n"
        "# TYPE apache_uptime_seconds counter\n"
        "apache_uptime_seconds_total 93665\n"
        "# HELP apache_load System load average.\n"
        "# TYPE apache_load gauge\n"
        "apache_load{interval=\"1min\"} 0.5\n"
        "apache_load{interval=\"5min\"} 0.75\n"
        "apache_load{interval=\"15min\"} 1\n"
        "# HELP apache_accesses Requests served since errwatch started counting.\n"
        "# TYPE apache_accesses counter\n"
        "apache_accesses_total 12\n"
        "# HELP apache_sent_bytes Bytes sent since errwatch started counting.\n"
        "# TYPE apache_sent_bytes counter\n"
        "apache_sent_bytes_total 5000\n"
        "# HELP apache_duration_seconds Seconds spent serving requests since errwatch "
        "started counting.\n"
        "# TYPE apache_duration_seconds counter\n"
        "apache_duration_seconds_total 0.123456\n"
        "# HELP apache_cpu_time_seconds CPU time of the server and its children in "
        "seconds.\n"
        "# TYPE apache_cpu_time_seconds counter\n"
        "apache_cpu_time_seconds_total{type=\"user\"} 2\n"
        "apache_cpu_time_seconds_total{type=\"system\"} 0.375\n"
        "# HELP apache_cpuload CPU load of the server in percent.\n"
        "# TYPE apache_cpuload gauge\n"
        "apache_cpuload 12.5\n"
        "# HELP apache_workers Worker threads by state.\n"
        "# TYPE apache_workers gauge\n"
        "apache_workers{state=\"busy\"} 3\n"
        "apache_workers{state=\"idle\"} 47\n"
        "apache_workers{state=\"graceful\"} 2\n"
        "# HELP apache_scoreboard Scoreboard slots by state.\n"
        "# TYPE apache_scoreboard gauge\n"
        "apache_scoreboard{state=\"idle\"} 2\n"
        "apache_scoreboard{state=\"startup\"} 0\n"
        "apache_scoreboard{state=\"read\"} 1\n"
        "apache_scoreboard{state=\"reply\"} 1\n"
        "apache_scoreboard{state=\"keepalive\"} 1\n"
        "apache_scoreboard{state=\"dns\"} 0\n"
        "apache_scoreboard{state=\"closing\"} 0\n"
        "apache_scoreboard{state=\"logging\"} 0\n"
        "apache_scoreboard{state=\"graceful_stop\"} 1\n"
        "apache_scoreboard{state=\"idle_cleanup\"} 0\n"
        "apache_scoreboard{state=\"open_slot\"} 3\n"
        "# HELP apache_processes Server child processes, and those of them stopping.\n"
        "# TYPE apache_processes gauge\n"
        "apache_processes{state=\"all\"} 2\n"
        "apache_processes{state=\"stopping\"} 1\n"
        "# HELP apache_connections Connections by state (event MPM only).\n"
        "# TYPE apache_connections gauge\n"
        "apache_connections{state=\"total\"} 5\n"
        "apache_connections{state=\"writing\"} 3\n"
        "apache_connections{state=\"keepalive\"} 2\n"
        "apache_connections{state=\"closing\"} 4\n"
        "apache_connections{state=\"wait_io\"} 1\n"
        "# EOF\n");
}
END_TEST

/* Every sample line belongs to the family of the "# TYPE" line above it, and
 * every "# TYPE" follows the "# HELP" of the same family. */
static void check_structure(const char *doc, int openmetrics)
{
    char family[128] = "";
    char type[16] = "";
    int help_pending = 0;
    const char *line = doc;
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        size_t len = (size_t)(nl - line);
        char name[128];
        if (strncmp(line, "# HELP ", 7) == 0) {
            ck_assert_int_eq(help_pending, 0);
            ck_assert_int_eq(sscanf(line + 7, "%127[a-z_]", family), 1);
            help_pending = 1;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            ck_assert_int_eq(help_pending, 1);
            ck_assert_int_eq(sscanf(line + 7, "%127[a-z_] %15[a-z]", name, type), 2);
            ck_assert_str_eq(name, family);
            ck_assert_msg(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0, "type %s",
                          type);
            /* OpenMetrics names counter families without _total. */
            if (strcmp(type, "counter") == 0) {
                ck_assert_int_eq(ends_with(family, "_total"), !openmetrics);
            }
            help_pending = 0;
        } else if (strncmp(line, "# EOF", 5) == 0) {
            ck_assert(openmetrics);
            ck_assert_uint_eq(len, 5);
            ck_assert_str_eq(nl + 1, ""); /* last line */
        } else {
            ck_assert_int_eq(help_pending, 0);
            ck_assert_int_eq(sscanf(line, "%127[a-z_]", name), 1);
            if (strcmp(type, "counter") == 0 && openmetrics) {
                char want[160];
                snprintf(want, sizeof(want), "%s_total", family);
                ck_assert_str_eq(name, want);
            } else {
                ck_assert_str_eq(name, family);
            }
            /* A raw CR or tab never makes it into a line. */
            ck_assert_ptr_null(memchr(line, '\r', len));
            ck_assert_ptr_null(memchr(line, '\t', len));
        }
        line = nl + 1;
    }
    ck_assert_int_eq(help_pending, 0);
}

/* Counters summed in floating point stay exact past 1e6 s: %g's six
 * digits made 1234567.89 s and 1234567.99 s the same sample (issue 17). */
START_TEST(float_counters_keep_every_digit)
{
    ew_server_stats s;
    ew_snapshot snap;
    memset(&s, 0, sizeof(s));
    memset(&snap, 0, sizeof(snap));
    snap.duration_us_total = 1234567890000ull;
    s.cpu_user = 1234567.89;
    s.load1 = 0.1;
    const char *doc = render(&s, &snap, 0);
    ck_assert_ptr_nonnull(strstr(doc, "\napache_duration_seconds_total 1234567.89\n"));
    ck_assert_ptr_nonnull(
        strstr(doc, "\napache_cpu_time_seconds_total{type=\"user\"} 1234567.89\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_load{interval=\"1min\"} 0.1\n"));
    snap.duration_us_total = 1234567990000ull;
    doc = render(&s, &snap, 1);
    ck_assert_ptr_nonnull(strstr(doc, "\napache_duration_seconds_total 1234567.99\n"));
    /* 2^53 microseconds and one more: every step shows. */
    snap.duration_us_total = 9007199254740993ull;
    doc = render(&s, &snap, 0);
    ck_assert_ptr_nonnull(strstr(doc, "\napache_duration_seconds_total 9007199254.740993\n"));

    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_auto(&b, &s, &snap);
    ck_assert_ptr_nonnull(strstr(b.data, "\nCPUUser: 1234567.89\n"));
}
END_TEST

START_TEST(structure_and_eof)
{
    ew_server_stats s;
    ew_snapshot snap;
    fill_stats(&s);
    fill_snapshot(&snap);

    const char *prom = render(&s, &snap, 0);
    check_structure(prom, 0);
    ck_assert_ptr_null(strstr(prom, "# EOF"));

    const char *om = render(&s, &snap, 1);
    check_structure(om, 1);
    ck_assert_uint_eq(count_occurrences(om, "# EOF"), 1);
    ck_assert(ends_with(om, "\n# EOF\n"));

    /* Any non-zero value means OpenMetrics. */
    ck_assert_str_eq(render(&s, &snap, 7), om);

    /* An empty snapshot and empty stats keep the structure too. */
    memset(&s, 0, sizeof(s));
    memset(&snap, 0, sizeof(snap));
    check_structure(render(&s, &snap, 0), 0);
    check_structure(render(&s, &snap, 1), 1);
}
END_TEST

/* ---- status codes ---- */

START_TEST(always_present_codes)
{
    ew_server_stats s;
    ew_snapshot snap;
    memset(&s, 0, sizeof(s));
    memset(&snap, 0, sizeof(snap));
    const char *doc = render(&s, &snap, 0);
    ck_assert_ptr_nonnull(strstr(doc, "# TYPE errwatch_errors_total counter\n"
                                      "errwatch_errors_total{status=\"500\"} 0\n"
                                      "errwatch_errors_total{status=\"502\"} 0\n"
                                      "errwatch_errors_total{status=\"503\"} 0\n"
                                      "errwatch_errors_total{status=\"504\"} 0\n"
                                      "# HELP errwatch_handler_errors_total "));
    /* No handler or file rows: HELP and TYPE only. */
    ck_assert_ptr_nonnull(strstr(doc, "# TYPE errwatch_handler_errors_total counter\n"
                                      "# HELP errwatch_file_errors_total "));
    ck_assert_ptr_nonnull(strstr(doc, "# TYPE errwatch_file_errors_total counter\n"
                                      "# HELP errwatch_errors_window "));

    /* Other codes join in ascending order, only when non-zero. */
    snap.errors_by_code[99] = 4; /* 599 */
    snap.errors_by_code[3] = 7;  /* 503 */
    snap.errors_by_code[1] = 2;  /* 501 */
    snap.errors_by_code[50] = 18446744073709551615ULL;
    doc = render(&s, &snap, 1);
    ck_assert_ptr_nonnull(strstr(doc, "# TYPE errwatch_errors counter\n"
                                      "errwatch_errors_total{status=\"500\"} 0\n"
                                      "errwatch_errors_total{status=\"501\"} 2\n"
                                      "errwatch_errors_total{status=\"502\"} 0\n"
                                      "errwatch_errors_total{status=\"503\"} 7\n"
                                      "errwatch_errors_total{status=\"504\"} 0\n"
                                      "errwatch_errors_total{status=\"550\"} "
                                      "18446744073709551615\n"
                                      "errwatch_errors_total{status=\"599\"} 4\n"
                                      "# HELP errwatch_handler_errors "));
    ck_assert_uint_eq(count_occurrences(doc, "errwatch_errors_total{"), 7);
}
END_TEST

/* ---- server figures ---- */

START_TEST(connections_only_when_async)
{
    ew_server_stats s;
    ew_snapshot snap;
    fill_stats(&s);
    fill_snapshot(&snap);
    s.server_mpm = "prefork";
    s.is_async = 0;
    for (int om = 0; om <= 1; om++) {
        const char *doc = render(&s, &snap, om);
        ck_assert_ptr_null(strstr(doc, "apache_connections"));
        /* Processes are there for every MPM. */
        ck_assert_ptr_nonnull(strstr(doc, "apache_processes{state=\"all\"} 2\n"
                                          "apache_processes{state=\"stopping\"} 1\n"));
        ck_assert(ends_with(doc, om ? "apache_processes{state=\"stopping\"} 1\n# EOF\n"
                                    : "apache_processes{state=\"stopping\"} 1\n"));
    }
}
END_TEST

START_TEST(server_numbers)
{
    ew_server_stats s;
    ew_snapshot snap;
    memset(&s, 0, sizeof(s));
    memset(&snap, 0, sizeof(snap));
    /* NULL strings print as "", no scoreboard counts nothing. */
    s.server_version = NULL;
    s.server_mpm = NULL;
    s.scoreboard = NULL;
    /* Seconds of CPU become rounded milliseconds; negative becomes 0. */
    s.cpu_user = 0.29;
    s.cpu_children_user = 0.0004;
    s.cpu_system = -1.0;
    s.load1 = 1234567.0;
    s.load5 = 0.001;
    s.load15 = -0.0;
    s.cpu_load = 0.25;
    s.config_generation = -1;
    /* errwatch's clock went backwards: uptime 0. */
    snap.since_us = 5000000;
    snap.taken_us = 4000000;
    snap.bytes_sent = 1023;
    snap.duration_us_total = 999;
    const char *doc = render(&s, &snap, 0);
    ck_assert_ptr_nonnull(strstr(doc, "\napache_info{version=\"\",mpm=\"\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_cpu_time_seconds_total{type=\"user\"} 0.2904\n"
                                      "apache_cpu_time_seconds_total{type=\"system\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_load{interval=\"1min\"} 1234567\n"
                                      "apache_load{interval=\"5min\"} 0.001\n"
                                      "apache_load{interval=\"15min\"} -0\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_cpuload 0.25\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_generation{type=\"config\"} -1\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\nerrwatch_uptime_seconds 0\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_sent_bytes_total 1023\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_duration_seconds_total 0.000999\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_scoreboard{state=\"idle\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_scoreboard{state=\"open_slot\"} 0\n"));
    ck_assert_uint_eq(count_occurrences(doc, "\napache_scoreboard{"), 11);

    /* Not-a-number and infinities in the spelling both parsers accept. */
    s.load1 = strtod("nan", NULL);
    s.load5 = strtod("inf", NULL);
    s.load15 = -strtod("inf", NULL);
    s.cpu_user = strtod("nan", NULL);
    s.cpu_system = strtod("inf", NULL);
    doc = render(&s, &snap, 1);
    ck_assert_ptr_nonnull(strstr(doc, "\napache_load{interval=\"1min\"} NaN\n"
                                      "apache_load{interval=\"5min\"} +Inf\n"
                                      "apache_load{interval=\"15min\"} -Inf\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_cpu_time_seconds_total{type=\"user\"} 0\n"
                                      "apache_cpu_time_seconds_total{type=\"system\"} +Inf\n"));

    /* Unknown scoreboard characters are ignored. */
    s.scoreboard = "x__?..";
    doc = render(&s, &snap, 0);
    ck_assert_ptr_nonnull(strstr(doc, "\napache_scoreboard{state=\"idle\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(doc, "\napache_scoreboard{state=\"open_slot\"} 2\n"));
}
END_TEST

/* ---- hostile names ---- */

/* Backslash, double quote, newline, <>&, braces, CR, tab, DEL, invalid UTF-8
 * and valid UTF-8. */
#define HOSTILE_FILE "/srv/a\\b\"c\nd<e>&f}g{h\ri\tj\x7fk\xFFl\xC3\xA9"
#define HOSTILE_FILE_PROM                                                                          \
    "/srv/a\\\\b\\\"c\\nd<e>&f}g{h\xEF\xBF\xBDi\xEF\xBF\xBDj\xEF\xBF\xBDk\xEF\xBF\xBDl\xC3\xA9"
#define HOSTILE_HANDLER "x\"}{y\\\n\xC0\x80"
#define HOSTILE_HANDLER_PROM "x\\\"}{y\\\\\\n\xEF\xBF\xBD\xEF\xBF\xBD"

static ew_handler_stat hostile_handlers[4];
static ew_file_stat hostile_files[4];

static void fill_hostile(ew_server_stats *s, ew_snapshot *snap)
{
    fill_stats(s);
    s->server_version = "Apache/2.4 \"evil\"\n\\ \xFF";
    s->server_mpm = "ev}{ent\r";
    fill_snapshot(snap);
    memset(hostile_handlers, 0, sizeof(hostile_handlers));
    memset(hostile_files, 0, sizeof(hostile_files));

    SET(hostile_handlers[0].handler, HOSTILE_HANDLER);
    hostile_handlers[0].status = 500;
    hostile_handlers[0].count = 5;
    /* Two names that differ only in invalid bytes escape alike: merged. */
    SET(hostile_handlers[1].handler, "bad\xFE");
    hostile_handlers[1].status = 503;
    hostile_handlers[1].count = 2;
    SET(hostile_handlers[2].handler, "bad\xFF");
    hostile_handlers[2].status = 503;
    hostile_handlers[2].count = 3;
    SET(hostile_handlers[3].handler, "other");
    hostile_handlers[3].status = 599;
    hostile_handlers[3].count = 1;
    snap->handlers = hostile_handlers;
    snap->handlers_len = 4;

    SET(hostile_files[0].file, HOSTILE_FILE);
    SET(hostile_files[0].handler, HOSTILE_HANDLER);
    hostile_files[0].count = 7;
    SET(hostile_files[1].file, "/srv/\xFF.php");
    SET(hostile_files[1].handler, "php");
    hostile_files[1].count = 2;
    SET(hostile_files[2].file, "");
    hostile_files[2].count = 1;
    /* Valid UTF-8 U+FFFD collides with the invalid byte of files[1]. */
    SET(hostile_files[3].file, "/srv/\xEF\xBF\xBD.php");
    SET(hostile_files[3].handler, "php");
    hostile_files[3].count = 1;
    snap->files = hostile_files;
    snap->files_len = 4;
}

START_TEST(hostile_names_escaped)
{
    ew_server_stats s;
    ew_snapshot snap;
    fill_hostile(&s, &snap);
    for (int om = 0; om <= 1; om++) {
        const char *doc = render(&s, &snap, om);
        check_structure(doc, om);
        ck_assert_ptr_nonnull(strstr(doc, om ? "# TYPE errwatch_handler_errors counter\n"
                                             : "# TYPE errwatch_handler_errors_total counter\n"));
        ck_assert_ptr_nonnull(
            strstr(doc, "counter\n"
                        "errwatch_handler_errors_total{handler=\"" HOSTILE_HANDLER_PROM "\","
                        "status=\"500\"} 5\n"
                        "errwatch_handler_errors_total{handler=\"bad\xEF\xBF\xBD\","
                        "status=\"503\"} 5\n"
                        "errwatch_handler_errors_total{handler=\"other\",status=\"599\"} 1\n"
                        "# HELP "));
        ck_assert_ptr_nonnull(strstr(doc,
                                     "counter\n"
                                     "errwatch_file_errors_total{file=\"" HOSTILE_FILE_PROM "\","
                                     "handler=\"" HOSTILE_HANDLER_PROM "\"} 7\n"
                                     "errwatch_file_errors_total{file=\"/srv/\xEF\xBF\xBD.php\","
                                     "handler=\"php\"} 3\n"
                                     "errwatch_file_errors_total{file=\"\",handler=\"\"} 1\n"
                                     "# HELP "));
        ck_assert_ptr_nonnull(strstr(doc, "\napache_info{version=\"Apache/2.4 \\\"evil\\\"\\n"
                                          "\\\\ \xEF\xBF\xBD\",mpm=\"ev}{ent\xEF\xBF\xBD\"} 1\n"));
        /* Nothing raw: no invalid byte, CR, tab or DEL anywhere. */
        ck_assert_ptr_null(strchr(doc, '\xFF'));
        ck_assert_ptr_null(strchr(doc, '\xFE'));
        ck_assert_ptr_null(strchr(doc, '\r'));
        ck_assert_ptr_null(strchr(doc, '\t'));
        ck_assert_ptr_null(strchr(doc, '\x7f'));
        ck_assert_ptr_null(strstr(doc, "\xC0\x80"));
    }
}
END_TEST

/* ---- promtool ---- */

/* Writes doc to a temporary file, runs `promtool check metrics < file` and
 * returns its exit status; *output gets what it printed (stdout and stderr). */
static int run_promtool(const char *doc, char *output, size_t output_size)
{
    ck_assert_msg(system("command -v promtool >/dev/null 2>&1") == 0,
                  "promtool is not installed (Debian package prometheus; make test installs it)");

    char path[] = "/tmp/ew_metrics_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(doc);
    ck_assert_int_eq(write(fd, doc, len), (ssize_t)len);
    ck_assert_int_eq(close(fd), 0);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(output, 1, output_size - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    unlink(path);
    ck_assert_msg(WIFEXITED(status), "promtool did not exit normally: %d", status);
    return WEXITSTATUS(status);
}

START_TEST(promtool_accepts_hostile_output)
{
    ew_server_stats s;
    ew_snapshot snap;
    char output[4096];
    fill_hostile(&s, &snap);
    const char *doc = render(&s, &snap, 0);

    /* Parses and lints clean: exit 0 and not a word printed. */
    int rc = run_promtool(doc, output, sizeof(output));
    ck_assert_msg(rc == 0 && output[0] == '\0', "promtool exit %d:\n%s", rc, output);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");

    TCase *tc = tcase_create("exact");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, prometheus_small_snapshot);
    tcase_add_test(tc, openmetrics_small_snapshot);
    tcase_add_test(tc, structure_and_eof);
    tcase_add_test(tc, always_present_codes);
    tcase_add_test(tc, connections_only_when_async);
    tcase_add_test(tc, server_numbers);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, hostile_names_escaped);
    tcase_add_test(tc, promtool_accepts_hostile_output);
    tcase_add_test(tc, float_counters_keep_every_digit);
    suite_add_tcase(s, tc);

    return s;
}

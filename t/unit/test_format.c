/* Unit tests for the status page renderers and ew_format_iso_time. Every
 * expected document below is written out by hand from the format's rules. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_pools.h>
#include <apr_strings.h>

#include "ew_buf.h"
#include "ew_format.h"
#include "ew_version.h"
#include "unit.h"

/* ---- ew_format_iso_time ---- */

static void check_iso(int64_t us, const char *expected)
{
    char out[EW_ISO_TIME_LEN];
    memset(out, '#', sizeof(out));
    ew_format_iso_time(out, us);
    ck_assert_str_eq(out, expected);
}

START_TEST(iso_time_values)
{
    check_iso(0, "1970-01-01T00:00:00.000000Z");
    check_iso(1, "1970-01-01T00:00:00.000001Z");
    check_iso(1700000000123456LL, "2023-11-14T22:13:20.123456Z");
    check_iso(951782400000000LL, "2000-02-29T00:00:00.000000Z");
    check_iso(951868799999999LL, "2000-02-29T23:59:59.999999Z");
    /* Before the epoch: floor, not truncation toward zero. */
    check_iso(-1, "1969-12-31T23:59:59.999999Z");
    check_iso(-1000000, "1969-12-31T23:59:59.000000Z");
    check_iso(-1500000, "1969-12-31T23:59:58.500000Z");
    /* Out of the four-digit-year range: clamped. */
    check_iso(INT64_MAX, "9999-12-31T23:59:59.999999Z");
    check_iso(INT64_MIN, "0000-01-01T00:00:00.000000Z");
}
END_TEST

/* The date is computed by hand: it must agree with the C library's
 * gmtime_r, which it replaced, over the whole four-digit range. A step of
 * 2,718,281 s (31.46 days) lands in every month of leap and common years
 * alike, and 281 s later in the day each time, so every hour comes up. */
START_TEST(iso_time_matches_gmtime)
{
    const int64_t first = -62167219200LL, last = 253402300799LL;
    int checked = 0;
    for (int64_t secs = first; secs <= last; secs += 2718281) {
        int64_t us = secs * 1000000 + (checked % 1000000);
        time_t t = (time_t)secs;
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
        char want[96];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(checked % 1000000));
        check_iso(us, want);
        checked++;
    }
    ck_assert_int_gt(checked, 100000);
}
END_TEST

/* ew_buf_put_u64 / ew_buf_put_i64 write what printf writes. */
START_TEST(buf_integers_like_printf)
{
    static const uint64_t u[] = {
        0, 1, 9, 10, 99, 100, 4294967295u, 4294967296u, 10000000000000000000u, UINT64_MAX};
    static const int64_t i[] = {0, -1, 1, -9, -10, 1700000000000000LL, INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < sizeof(u) / sizeof(u[0]); k++) {
        ew_buf b, want;
        ew_buf_init(&b, pool, 0);
        ew_buf_init(&want, pool, 0);
        ew_buf_put_u64(&b, u[k]);
        ew_buf_printf(&want, "%llu", (unsigned long long)u[k]);
        ck_assert_str_eq(b.data, want.data);
    }
    /* Every digit count: 10^k - 1 and 10^k. */
    uint64_t ten = 1;
    for (int k = 1; k <= 19; k++) {
        ten *= 10;
        for (uint64_t v = ten - 1; v <= ten; v++) {
            ew_buf b, want;
            ew_buf_init(&b, pool, 0);
            ew_buf_init(&want, pool, 0);
            ew_buf_put_u64(&b, v);
            ew_buf_printf(&want, "%llu", (unsigned long long)v);
            ck_assert_str_eq(b.data, want.data);
        }
    }
    for (size_t k = 0; k < sizeof(i) / sizeof(i[0]); k++) {
        ew_buf b, want;
        ew_buf_init(&b, pool, 0);
        ew_buf_init(&want, pool, 0);
        ew_buf_put_i64(&b, i[k]);
        ew_buf_printf(&want, "%lld", (long long)i[k]);
        ck_assert_str_eq(b.data, want.data);
    }
}
END_TEST

/* Found by fuzz_format_html: taken_us - since_us overflowed for far-apart
 * times (undefined behaviour, caught by UBSan). */
START_TEST(elapsed_any_pair)
{
    ck_assert_int_eq(ew_elapsed_s(0, 1999999), 1);
    ck_assert_int_eq(ew_elapsed_s(5, 5), 0);
    ck_assert_int_eq(ew_elapsed_s(10, -10), 0);
    ck_assert_int_eq(ew_elapsed_s(INT64_MIN, INT64_MAX), 18446744073709LL);
    ck_assert_int_eq(ew_elapsed_s(INT64_MAX, INT64_MIN), 0);
    ck_assert_int_eq(ew_elapsed_s(-1000000, 1000000), 2);
}
END_TEST

/* ---- ?auto ---- */

static void fill_stats(ew_server_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->server_version = "Apache/2.4.62 (Debian)";
    s->server_mpm = "prefork";
    s->server_built = "2024-10-04T15:21:08";
    s->current_time = "Monday, 24-Nov-2025 14:29:22 UTC";
    s->restart_time = "Monday, 24-Nov-2025 13:00:00 UTC";
    s->config_generation = 1;
    s->mpm_generation = 0;
    s->uptime_s = 93665; /* 1 day, 2 hours, 1 minute, 5 seconds */
    s->load1 = 0.5;
    s->load5 = 0.75;
    s->load15 = 1.0;
    s->cpu_user = 1.5;
    s->cpu_system = 0.25;
    s->cpu_children_user = 0;
    s->cpu_children_system = 0;
    s->cpu_load = 0;
    s->busy_workers = 1;
    s->graceful_workers = 0;
    s->idle_workers = 4;
    s->scoreboard = "W____.....";
}

static void fill_auto_snapshot(ew_snapshot *snap)
{
    memset(snap, 0, sizeof(*snap));
    snap->since_us = 1700000000000000LL;
    snap->taken_us = 1700000010000000LL; /* 10 s later */
    snap->requests_total = 40;
    snap->requests_by_class[2] = 30;
    snap->requests_by_class[4] = 4;
    snap->requests_by_class[5] = 6;
    snap->errors_by_code[0] = 3;             /* 500 */
    snap->errors_by_code[3] = 2;             /* 503 */
    snap->errors_by_code[4] = 1;             /* 504 */
    snap->bytes_sent = 102400 + 500;         /* 100 kB, the rest is dropped */
    snap->duration_us_total = 2000000 + 999; /* 2000 ms, the rest is dropped */
    snap->files_len = 2;
    snap->files_total = 2;
    snap->files_evicted = 7;
    snap->window_500[0] = 1; /* last 1 minute */
    snap->window_500[1] = 2; /* 5 */
    snap->window_500[2] = 3; /* 15 */
    snap->window_5xx[0] = 2;
    snap->window_5xx[1] = 4;
    snap->window_5xx[2] = 6;
}

static const char auto_errors_expected[] = "Errors500: 3\n"
                                           "Errors5xx: 6\n"
                                           "Errors503: 2\n"
                                           "Errors504: 1\n"
                                           "Crashes: 0\n"
                                           "ErrorFiles: 2\n"
                                           "ErrorFilesEvicted: 7\n"
                                           "ErrorCauses: 0\n"
                                           "ErrWatchUptime: 10\n"
                                           "Errors500Last1m: 1\n"
                                           "Errors500Last5m: 2\n"
                                           "Errors500Last15m: 3\n"
                                           "Errors5xxLast1m: 2\n"
                                           "Errors5xxLast5m: 4\n"
                                           "Errors5xxLast15m: 6\n";

START_TEST(auto_full_prefork)
{
    ew_server_stats s;
    ew_snapshot snap;
    ew_buf b;
    fill_stats(&s);
    fill_auto_snapshot(&snap);
    ew_buf_init(&b, pool, 64);
    ew_format_auto(&b, &s, &snap);

    /* Rates divide by errwatch's own period (10 s), not by Uptime. */
    ck_assert_str_eq(b.data, "ServerVersion: Apache/2.4.62 (Debian)\n"
                             "ServerMPM: prefork\n"
                             "Server Built: 2024-10-04T15:21:08\n"
                             "CurrentTime: Monday, 24-Nov-2025 14:29:22 UTC\n"
                             "RestartTime: Monday, 24-Nov-2025 13:00:00 UTC\n"
                             "ParentServerConfigGeneration: 1\n"
                             "ParentServerMPMGeneration: 0\n"
                             "ServerUptimeSeconds: 93665\n"
                             "ServerUptime: 1 day 2 hours 1 minute 5 seconds\n"
                             "Load1: 0.50\n"
                             "Load5: 0.75\n"
                             "Load15: 1.00\n"
                             "Total Accesses: 40\n"
                             "Total kBytes: 100\n"
                             "Total Duration: 2000\n"
                             "CPUUser: 1.5\n"
                             "CPUSystem: 0.25\n"
                             "CPUChildrenUser: 0\n"
                             "CPUChildrenSystem: 0\n"
                             "Uptime: 93665\n"
                             "ReqPerSec: 4\n"
                             "BytesPerSec: 10240\n"
                             "BytesPerReq: 2560\n"
                             "DurationPerReq: 50\n"
                             "BusyWorkers: 1\n"
                             "GracefulWorkers: 0\n"
                             "IdleWorkers: 4\n"
                             "Scoreboard: W____.....\n"
                             "Errors500: 3\n"
                             "Errors5xx: 6\n"
                             "Errors503: 2\n"
                             "Errors504: 1\n"
                             "Crashes: 0\n"
                             "ErrorFiles: 2\n"
                             "ErrorFilesEvicted: 7\n"
                             "ErrorCauses: 0\n"
                             "ErrWatchUptime: 10\n"
                             "Errors500Last1m: 1\n"
                             "Errors500Last5m: 2\n"
                             "Errors500Last15m: 3\n"
                             "Errors5xxLast1m: 2\n"
                             "Errors5xxLast5m: 4\n"
                             "Errors5xxLast15m: 6\n");
}
END_TEST

START_TEST(auto_full_event)
{
    ew_server_stats s;
    ew_snapshot snap;
    ew_buf b;
    fill_stats(&s);
    s.server_mpm = "event";
    s.uptime_s = 7322; /* 2 hours, 2 minutes, 2 seconds */
    s.cpu_load = 12.5;
    s.is_async = 1;
    s.processes = 2;
    s.stopping = 1;
    s.conns_total = 5;
    s.conns_async_wait_io = 1;
    s.conns_async_writing = 3;
    s.conns_async_keep_alive = 2;
    s.conns_async_closing = 4;
    s.busy_workers = 3;
    s.graceful_workers = 2;
    s.idle_workers = 47;
    s.scoreboard = "_W_G";

    /* Half a second of errwatch period and no requests: no rate lines. */
    memset(&snap, 0, sizeof(snap));
    snap.since_us = 1700000000000000LL;
    snap.taken_us = 1700000000500000LL;

    ew_buf_init(&b, pool, 0);
    ew_format_auto(&b, &s, &snap);
    ck_assert_str_eq(b.data, "ServerVersion: Apache/2.4.62 (Debian)\n"
                             "ServerMPM: event\n"
                             "Server Built: 2024-10-04T15:21:08\n"
                             "CurrentTime: Monday, 24-Nov-2025 14:29:22 UTC\n"
                             "RestartTime: Monday, 24-Nov-2025 13:00:00 UTC\n"
                             "ParentServerConfigGeneration: 1\n"
                             "ParentServerMPMGeneration: 0\n"
                             "ServerUptimeSeconds: 7322\n"
                             "ServerUptime: 2 hours 2 minutes 2 seconds\n"
                             "Load1: 0.50\n"
                             "Load5: 0.75\n"
                             "Load15: 1.00\n"
                             "Total Accesses: 0\n"
                             "Total kBytes: 0\n"
                             "Total Duration: 0\n"
                             "CPUUser: 1.5\n"
                             "CPUSystem: 0.25\n"
                             "CPUChildrenUser: 0\n"
                             "CPUChildrenSystem: 0\n"
                             "CPULoad: 12.5\n"
                             "Uptime: 7322\n"
                             "BusyWorkers: 3\n"
                             "GracefulWorkers: 2\n"
                             "IdleWorkers: 47\n"
                             "Processes: 2\n"
                             "Stopping: 1\n"
                             "ConnsTotal: 5\n"
                             "ConnsAsyncWaitIO: 1\n"
                             "ConnsAsyncWriting: 3\n"
                             "ConnsAsyncKeepAlive: 2\n"
                             "ConnsAsyncClosing: 4\n"
                             "Scoreboard: _W_G\n"
                             "Errors500: 0\n"
                             "Errors5xx: 0\n"
                             "Crashes: 0\n"
                             "ErrorFiles: 0\n"
                             "ErrorFilesEvicted: 0\n"
                             "ErrorCauses: 0\n"
                             "ErrWatchUptime: 0\n"
                             "Errors500Last1m: 0\n"
                             "Errors500Last5m: 0\n"
                             "Errors500Last15m: 0\n"
                             "Errors5xxLast1m: 0\n"
                             "Errors5xxLast5m: 0\n"
                             "Errors5xxLast15m: 0\n");
}
END_TEST

START_TEST(auto_rates_need_one_second)
{
    ew_server_stats s;
    ew_snapshot snap;
    ew_buf b;
    fill_stats(&s);
    fill_auto_snapshot(&snap);

    /* 999999 us: requests exist, so per-request lines stay, rates go. */
    snap.taken_us = snap.since_us + 999999;
    ew_buf_init(&b, pool, 0);
    ew_format_auto(&b, &s, &snap);
    ck_assert_ptr_null(strstr(b.data, "ReqPerSec"));
    ck_assert_ptr_null(strstr(b.data, "BytesPerSec"));
    ck_assert_ptr_nonnull(strstr(b.data, "\nUptime: 93665\nBytesPerReq: 2560\n"
                                         "DurationPerReq: 50\nBusyWorkers: 1\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "\nErrWatchUptime: 0\n"));

    /* Exactly one second: 40 requests/s and 102400 bytes/s. */
    snap.taken_us = snap.since_us + 1000000;
    ew_buf_init(&b, pool, 0);
    ew_format_auto(&b, &s, &snap);
    ck_assert_ptr_nonnull(strstr(b.data, "\nUptime: 93665\nReqPerSec: 40\nBytesPerSec: 102400\n"
                                         "BytesPerReq: 2560\n"));

    /* A fractional rate in %g: 40 requests in 3 s. */
    snap.taken_us = snap.since_us + 3000000;
    ew_buf_init(&b, pool, 0);
    ew_format_auto(&b, &s, &snap);
    ck_assert_ptr_nonnull(strstr(b.data, "\nReqPerSec: 13.3333\nBytesPerSec: 34133.3\n"));
}
END_TEST

START_TEST(auto_show_time)
{
    static const struct {
        uint32_t secs;
        const char *line;
    } cases[] = {
        {0, "\nServerUptime:\n"},
        {1, "\nServerUptime: 1 second\n"},
        {60, "\nServerUptime: 1 minute\n"},
        {3600, "\nServerUptime: 1 hour\n"},
        {86400, "\nServerUptime: 1 day\n"},
        {2 * 86400 + 1, "\nServerUptime: 2 days 1 second\n"},
        {3 * 3600 + 59 * 60, "\nServerUptime: 3 hours 59 minutes\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ew_server_stats s;
        ew_snapshot snap;
        ew_buf b;
        fill_stats(&s);
        s.uptime_s = cases[i].secs;
        memset(&snap, 0, sizeof(snap));
        ew_buf_init(&b, pool, 0);
        ew_format_auto(&b, &s, &snap);
        ck_assert_msg(strstr(b.data, cases[i].line) != NULL, "uptime %u: want %s in:\n%s",
                      (unsigned)cases[i].secs, cases[i].line, b.data);
    }
}
END_TEST

START_TEST(auto_hostile_and_null_strings)
{
    ew_server_stats s;
    ew_snapshot snap;
    ew_buf b;
    fill_stats(&s);
    s.server_version = "Apache\r\nX-Evil: 1\nServerMPM: fake\x01\x7f";
    s.server_mpm = NULL;
    s.server_built = NULL;
    s.current_time = NULL;
    s.restart_time = NULL;
    s.scoreboard = NULL;
    memset(&snap, 0, sizeof(snap));
    ew_buf_init(&b, pool, 0);
    ew_format_auto(&b, &s, &snap);

    ck_assert_int_eq(strncmp(b.data,
                             "ServerVersion: Apache  X-Evil: 1 ServerMPM: fake  \n"
                             "ServerMPM: \n"
                             "Server Built: \n"
                             "CurrentTime: \n"
                             "RestartTime: \n"
                             "ParentServerConfigGeneration: 1\n",
                             strlen("ServerVersion: Apache  X-Evil: 1 ServerMPM: fake  \n"
                                    "ServerMPM: \n"
                                    "Server Built: \n"
                                    "CurrentTime: \n"
                                    "RestartTime: \n"
                                    "ParentServerConfigGeneration: 1\n")),
                     0);
    ck_assert_ptr_null(strstr(b.data, "\nX-Evil"));
    ck_assert_uint_eq(count_occurrences(b.data, "\nServerMPM: "), 1);
    ck_assert_ptr_nonnull(strstr(b.data, "\nScoreboard: \nErrors500: 0\n"));
}
END_TEST

START_TEST(auto_errors_only)
{
    ew_snapshot snap;
    ew_buf b;
    fill_auto_snapshot(&snap);
    ew_buf_init(&b, pool, 0);
    ew_format_auto_errors(&b, &snap);
    ck_assert_str_eq(b.data, auto_errors_expected);

    /* Every code from 501 to 599, ascending; 500 only on its own line. */
    memset(&snap, 0, sizeof(snap));
    snap.errors_by_code[99] = 1;  /* 599 */
    snap.errors_by_code[1] = 2;   /* 501 */
    snap.errors_by_code[50] = 12; /* 550 */
    snap.requests_by_class[5] = 15;
    snap.since_us = 5000000;
    snap.taken_us = 4000000; /* clock went backwards: 0, not negative */
    ew_buf_init(&b, pool, 0);
    ew_format_auto_errors(&b, &snap);
    ck_assert_str_eq(b.data, "Errors500: 0\n"
                             "Errors5xx: 15\n"
                             "Errors501: 2\n"
                             "Errors550: 12\n"
                             "Errors599: 1\n"
                             "Crashes: 0\n"
                             "ErrorFiles: 0\n"
                             "ErrorFilesEvicted: 0\n"
                             "ErrorCauses: 0\n"
                             "ErrWatchUptime: 0\n"
                             "Errors500Last1m: 0\n"
                             "Errors500Last5m: 0\n"
                             "Errors500Last15m: 0\n"
                             "Errors5xxLast1m: 0\n"
                             "Errors5xxLast5m: 0\n"
                             "Errors5xxLast15m: 0\n");
}
END_TEST

/* ---- JSON ---- */

/* A file name and a message full of characters each format must escape. */
#define HOSTILE_FILE "/var/www/x<y>&\"z.php"
#define HOSTILE_MESSAGE                                                                            \
    "Fatal \"boom\" in C:\\x\n\tline\x01 caf\xC3\xA9 \xFF"                                         \
    "!"
#define HOSTILE_MESSAGE_JSON                                                                       \
    "\"Fatal \\\"boom\\\" in C:\\\\x\\n\\tline\\u0001 caf\xC3\xA9 \\ufffd!\""

/* A handler name with markup, quotes, a backslash, a newline and an invalid
 * byte. */
#define HOSTILE_HANDLER "<b>\"h\"</b>\\\n\xFF"
static ew_cause_stat json_causes[2];
#define HOSTILE_HANDLER_JSON "\"<b>\\\"h\\\"</b>\\\\\\n\\ufffd\""

static ew_handler_stat json_handlers[2];

static void fill_json_snapshot(ew_snapshot *snap, ew_file_stat *file, ew_failure *fail)
{
    memset(snap, 0, sizeof(*snap));
    memset(file, 0, sizeof(*file));
    memset(fail, 0, sizeof(*fail));

    snap->since_us = 1700000000000000LL;
    snap->taken_us = 1700000065500000LL;
    snap->requests_total = 12;
    snap->requests_by_class[1] = 1;
    snap->requests_by_class[2] = 5;
    snap->requests_by_class[3] = 2;
    snap->requests_by_class[4] = 1;
    snap->requests_by_class[5] = 3;
    snap->errors_by_code[2] = 1; /* 502 */
    snap->errors_by_code[0] = 2; /* 500 */
    snap->bytes_sent = 4096;
    snap->duration_us_total = 123456;
    snap->failures_recorded = 3;
    snap->files_evicted = 0;
    snap->lock_recoveries = 1;
    snap->files_capacity = 1024;
    snap->recent_capacity = 256;
    snap->window_500[0] = 0;
    snap->window_500[1] = 1;
    snap->window_500[2] = 2;
    snap->window_5xx[0] = 1;
    snap->window_5xx[1] = 2;
    snap->window_5xx[2] = 3;

    memset(json_handlers, 0, sizeof(json_handlers));
    SET(json_handlers[0].handler, "application/x-httpd-php");
    json_handlers[0].status = 500;
    json_handlers[0].count = 2;
    SET(json_handlers[1].handler, HOSTILE_HANDLER);
    json_handlers[1].status = 502;
    json_handlers[1].count = 1;
    snap->handlers = json_handlers;
    snap->handlers_len = 2;

    file->count = 3;
    file->first_seen_us = 1700000001000000LL;
    file->last_seen_us = 1700000060250000LL;
    file->last_status = 500;
    SET(file->file, HOSTILE_FILE);
    SET(file->handler, "application/x-httpd-php");
    SET(file->message, HOSTILE_MESSAGE);
    snap->files_len = 1;
    snap->files_total = 1;
    snap->files = file;

    fail->seq = 3;
    fail->time_us = 1700000060250000LL;
    fail->duration_us = 1500;
    fail->pid = 4242;
    fail->status = 500;
    SET(fail->method, "GET");
    SET(fail->uri, "/a\"b\\c</script>");
    SET(fail->vhost, "example.test");
    SET(fail->handler, "application/x-httpd-php");
    SET(fail->file, HOSTILE_FILE);
    SET(fail->message, HOSTILE_MESSAGE);
    snap->recent_len = 1;
    snap->recent_total = 1;
    snap->recent = fail;

    /* One cause: a hostile title, a file and a URI under it, a named file
     * modified 2 minutes before its first failure and one missing; the
     * file row read after the failure began (a fix may be in); the failure
     * with all three ids. */
    memset(json_causes, 0, sizeof(json_causes));
    ew_cause_stat *c = &json_causes[0];
    c->key = 0x00ab12cd34ef5678ULL;
    c->count = 3;
    c->first_seen_us = 1700000001000000LL;
    c->last_seen_us = 1700000060250000LL;
    c->last_status = 500;
    SET(c->title, HOSTILE_HANDLER);
    SET(c->handler, "application/x-httpd-php");
    SET(c->message, "m");
    SET(c->story, "s1\ns2");
    c->files_total = 1;
    c->files_len = 1;
    c->files[0].count = 3;
    SET(c->files[0].text, HOSTILE_FILE);
    c->uris_len = 1;
    c->uris[0].count = 3;
    SET(c->uris[0].text, "/a?b");
    c->changed_len = 3;
    SET(c->changed[0].path, "/var/www/wp-settings.php");
    c->changed[0].mtime_us = 1700000001000000LL - 120000000LL;
    SET(c->changed[1].path, "/var/www/gone.phpp");
    c->changed[1].mtime_us = EW_MTIME_MISSING;
    SET(c->changed[2].path, "/var/www/unread.php");
    c->changed[2].mtime_us = EW_MTIME_UNREAD;
    snap->causes = json_causes;
    snap->causes_len = 1;
    snap->causes_total = 1;
    snap->causes_evicted = 2;
    file->cause_key = c->key;
    file->script_mtime_us = 1700000031000000LL; /* 30 s after its first failure */
    fail->cause_key = c->key;
    SET(fail->unique_id, "Y4c8cX8AAQEAABX3ZXUAAAAA");
    SET(fail->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    SET(fail->dd_trace_id, "1234567890");
}

START_TEST(json_small_snapshot)
{
    ew_snapshot snap;
    ew_file_stat file;
    ew_failure fail;
    ew_buf b;
    fill_json_snapshot(&snap, &file, &fail);
    ew_buf_init(&b, pool, 0);
    ew_format_json(&b, &snap);

    /* The layout's sizes come from the store, not from this test. */
    const char *store_sizes = apr_psprintf(
        pool, "\"shm_header_bytes\":%lu,\"shm_tables_bytes\":%lu",
        (unsigned long)ew_store_header_size(), (unsigned long)ew_store_tables_size(1024, 256));
    ck_assert_uint_gt(ew_store_tables_size(1024, 256), 0);
    const char *want = apr_pstrcat(
        pool,
        "{\"version\":\"" EW_VERSION
        "\",\"since\":\"2023-11-14T22:13:20.000000Z\",\"since_us\":1700000000000000,"
        "\"now\":\"2023-11-14T22:14:25.500000Z\",\"uptime_seconds\":65,\"latest_seq\":3,\n"
        "\"requests\":{\"total\":12,\"1xx\":1,\"2xx\":5,\"3xx\":2,\"4xx\":1,\"5xx\":3,"
        "\"other\":0},\n"
        "\"bytes_sent\":4096,\n"
        "\"crashes\":0,\"crashes_by_signal\":{},\n"
        "\"status\":{\"500\":2,\"502\":1},\n"
        "\"window\":{\"500\":{\"1m\":0,\"5m\":1,\"15m\":2},"
        "\"5xx\":{\"1m\":1,\"5m\":2,\"15m\":3}},\n"
        "\"store\":{\"files_capacity\":1024,\"files_tracked\":1,\"files_evicted\":0,"
        "\"recent_capacity\":256,\"failures_recorded\":3,\"lock_recoveries\":1,\"tail_waiters\":0,",
        store_sizes,
        "},\n"
        "\"handlers\":[\n"
        "{\"handler\":\"application/x-httpd-php\",\"status\":500,\"count\":2},\n"
        "{\"handler\":" HOSTILE_HANDLER_JSON ",\"status\":502,\"count\":1}\n"
        "],\n"
        "\"causes_total\":1,\"causes_evicted\":2,\"causes\":[\n"
        "{\"id\":\"00ab12cd34ef5678\",\"title\":" HOSTILE_HANDLER_JSON ",\"count\":3,"
        "\"crashes\":0,\"first_seen\":\"2023-11-14T22:13:21.000000Z\","
        "\"last_seen\":\"2023-11-14T22:14:20.250000Z\",\"last_status\":500,"
        "\"handler\":\"application/x-httpd-php\",\"message\":\"m\",\"story\":\"s1\\ns2\","
        "\"files_total\":1,\"files\":[{\"file\":\"/var/www/x<y>&\\\"z.php\",\"count\":3}],"
        "\"uris\":[{\"uri\":\"/a?b\",\"count\":3}],"
        "\"changed\":[{\"path\":\"/var/www/wp-settings.php\","
        "\"mtime\":\"2023-11-14T22:11:21.000000Z\",\"missing\":false,"
        "\"before_first_failure_s\":120,\"after_first_failure\":false},"
        "{\"path\":\"/var/www/gone.phpp\",\"mtime\":null,\"missing\":true,"
        "\"before_first_failure_s\":null,\"after_first_failure\":false}]}\n"
        "],\n"
        "\"files\":[\n"
        "{\"file\":\"/var/www/x<y>&\\\"z.php\",\"handler\":\"application/x-httpd-php\","
        "\"count\":3,\"last_status\":500,\"crashes\":0,\"first_seen\":\"2023-11-14T22:13:21."
        "000000Z\","
        "\"last_seen\":\"2023-11-14T22:14:20.250000Z\",\"message\":" HOSTILE_MESSAGE_JSON
        ",\"cause\":\"00ab12cd34ef5678\",\"changed\":{\"path\":\"/var/www/x<y>&\\\"z.php\","
        "\"mtime\":\"2023-11-14T22:13:51.000000Z\",\"missing\":false,"
        "\"before_first_failure_s\":-30,\"after_first_failure\":true}}\n"
        "],\n"
        "\"recent\":[\n"
        "{\"seq\":3,\"time\":\"2023-11-14T22:14:20.250000Z\",\"time_us\":1700000060250000,"
        "\"status\":500,"
        "\"method\":\"GET\",\"uri\":\"/a\\\"b\\\\c</script>\",\"vhost\":\"example.test\","
        "\"file\":\"/var/www/x<y>&\\\"z.php\",\"handler\":\"application/x-httpd-php\","
        "\"pid\":4242,\"duration_us\":1500,\"message\":" HOSTILE_MESSAGE_JSON
        ",\"cause\":\"00ab12cd34ef5678\",\"unique_id\":\"Y4c8cX8AAQEAABX3ZXUAAAAA\","
        "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"dd_trace_id\":\"1234567890\"}\n"
        "],\n"
        "\"events\":[]\n"
        "}\n",
        NULL);
    ck_assert_str_eq(b.data, want);
}
END_TEST

START_TEST(json_empty_snapshot)
{
    ew_snapshot snap;
    ew_buf b;
    memset(&snap, 0, sizeof(snap));
    ew_buf_init(&b, pool, 0);
    ew_format_json(&b, &snap);
    ck_assert_str_eq(
        b.data,
        apr_psprintf(pool,
                     "{\"version\":\"" EW_VERSION
                     "\",\"since\":\"1970-01-01T00:00:00.000000Z\",\"since_us\":0,"
                     "\"now\":\"1970-01-01T00:00:00.000000Z\",\"uptime_seconds\":0,"
                     "\"latest_seq\":0,\n"
                     "\"requests\":{\"total\":0,\"1xx\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":0,"
                     "\"other\":0},\n"
                     "\"bytes_sent\":0,\n"
                     "\"crashes\":0,\"crashes_by_signal\":{},\n"
                     "\"status\":{},\n"
                     "\"window\":{\"500\":{\"1m\":0,\"5m\":0,\"15m\":0},"
                     "\"5xx\":{\"1m\":0,\"5m\":0,\"15m\":0}},\n"
                     "\"store\":{\"files_capacity\":0,\"files_tracked\":0,\"files_evicted\":0,"
                     "\"recent_capacity\":0,\"failures_recorded\":0,\"lock_recoveries\":0,\"tail_"
                     "waiters\":0,"
                     "\"shm_header_bytes\":%lu,\"shm_tables_bytes\":0},\n"
                     "\"handlers\":[],\n"
                     "\"causes_total\":0,\"causes_evicted\":0,\"causes\":[],\n"
                     "\"files\":[],\n"
                     "\"recent\":[],\n"
                     "\"events\":[]\n"
                     "}\n",
                     (unsigned long)ew_store_header_size()));
}
END_TEST

START_TEST(json_status_order_and_lists)
{
    ew_snapshot snap;
    ew_file_stat files[2];
    ew_failure recent[2];
    ew_buf b;
    memset(&snap, 0, sizeof(snap));
    memset(files, 0, sizeof(files));
    memset(recent, 0, sizeof(recent));

    snap.errors_by_code[99] = 4; /* 599 */
    snap.errors_by_code[0] = 1;  /* 500 */
    snap.errors_by_code[50] = 3; /* 550 */
    snap.errors_by_code[1] = 2;  /* 501 */
    snap.requests_by_class[0] = 18446744073709551615ULL;

    /* Snapshot order is kept, not re-sorted. */
    SET(files[0].file, "/b.php");
    files[0].count = 1;
    SET(files[1].file, "/a.php");
    files[1].count = 9;
    snap.files = files;
    snap.files_len = 2;
    snap.files_total = 2;
    recent[0].seq = 7;
    recent[1].seq = 6;
    recent[0].time_us = -1;
    recent[0].pid = -7;
    recent[0].status = 503;
    recent[1].time_us = 2;
    recent[1].status = 500;
    snap.recent = recent;
    snap.recent_len = 2;
    snap.recent_total = 2;

    ew_buf_init(&b, pool, 0);
    ew_format_json(&b, &snap);
    ck_assert_ptr_nonnull(
        strstr(b.data, "\n\"status\":{\"500\":1,\"501\":2,\"550\":3,\"599\":4},\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "\"other\":18446744073709551615},\n"));
    ck_assert_ptr_nonnull(strstr(
        b.data, "\n\"files\":[\n"
                "{\"file\":\"/b.php\",\"handler\":\"\",\"count\":1,\"last_status\":0,\"crashes\":0,"
                "\"first_seen\":\"1970-01-01T00:00:00.000000Z\","
                "\"last_seen\":\"1970-01-01T00:00:00.000000Z\",\"message\":\"\",\"cause\":null,"
                "\"changed\":null},\n"
                "{\"file\":\"/a.php\",\"handler\":\"\",\"count\":9,\"last_status\":0,\"crashes\":0,"
                "\"first_seen\":\"1970-01-01T00:00:00.000000Z\","
                "\"last_seen\":\"1970-01-01T00:00:00.000000Z\",\"message\":\"\",\"cause\":null,"
                "\"changed\":null}\n"
                "],\n"));
    ck_assert_ptr_nonnull(
        strstr(b.data, "\n\"recent\":[\n"
                       "{\"seq\":7,\"time\":\"1969-12-31T23:59:59.999999Z\",\"time_us\":-1,"
                       "\"status\":503,"
                       "\"method\":\"\",\"uri\":\"\",\"vhost\":\"\",\"file\":\"\",\"handler\":\"\","
                       "\"pid\":-7,\"duration_us\":0,\"message\":\"\",\"cause\":null},\n"
                       "{\"seq\":6,\"time\":\"1970-01-01T00:00:00.000002Z\",\"time_us\":2,"
                       "\"status\":500,"
                       "\"method\":\"\",\"uri\":\"\",\"vhost\":\"\",\"file\":\"\",\"handler\":\"\","
                       "\"pid\":0,\"duration_us\":0,\"message\":\"\",\"cause\":null}\n"
                       "],\n\"events\":[]\n}\n"));
}
END_TEST

/* ---- HTML ---- */

START_TEST(html_escapes_snapshot_strings)
{
    ew_snapshot snap;
    ew_file_stat file;
    ew_failure fail;
    ew_buf b;
    fill_json_snapshot(&snap, &file, &fail);
    SET(fail.method, "<GET>");
    SET(fail.vhost, "evil'host");
    SET(fail.handler, "<script>alert(1)</script>");
    ew_buf_init(&b, pool, 0);
    ew_format_html(&b, &snap);

    ck_assert_int_eq(strncmp(b.data, "<!DOCTYPE html>", 15), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "<meta charset=\"utf-8\">"));
    ck_assert_ptr_nonnull(strstr(b.data, "<title>mod_errwatch</title>"));
    ck_assert_ptr_nonnull(strstr(b.data, "href=\"?json\""));
    ck_assert_ptr_nonnull(strstr(b.data, "href=\"?auto\""));
    ck_assert_int_eq(strcmp(b.data + b.len - strlen("</html>\n"), "</html>\n"), 0);

    /* File name: in the files table, the cause's files and the recent
     * table; never inside a tag. */
    ck_assert_uint_eq(count_occurrences(b.data, "/var/www/x&lt;y&gt;&amp;&quot;z.php"), 3);
    ck_assert_ptr_null(strstr(b.data, "title=\"/var/www/x"));
    /* The causes, above the files: the hostile title escaped, what changed
     * (before, missing, and the file row's "after" mark), the ids. */
    const char *causes = strstr(b.data, "<h2 id=\"causes\">Causes</h2>");
    ck_assert_ptr_nonnull(causes);
    ck_assert(causes < strstr(b.data, "<h2 id=\"files\">"));
    ck_assert_ptr_nonnull(strstr(causes, "<tr id=\"cause-00ab12cd34ef5678\">"));
    ck_assert_ptr_nonnull(strstr(causes, "&lt;b&gt;&quot;h&quot;&lt;/b&gt;"));
    ck_assert_ptr_nonnull(
        strstr(causes, ">wp-settings.php modified 2 min before the first failure</span>"));
    ck_assert_ptr_nonnull(strstr(causes, ">gone.phpp missing (could not be read)</span>"));
    ck_assert_ptr_null(strstr(causes, "unread.php")); /* not read yet: not shown */
    ck_assert_ptr_nonnull(strstr(causes, "1 file in all"));
    ck_assert_ptr_nonnull(strstr(b.data, "<span class=\"changed after\" "
                                         "title=\"modified 2023-11-14T22:13:51.000000Z\">"
                                         "modified 30 s after its first failure: a fix may be "
                                         "in</span>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<span class=\"ids\">id Y4c8cX8AAQEAABX3ZXUAAAAA trace "
                                         "4bf92f3577b34da6a3ce929d0e0e4736 dd 1234567890 </span>"));
    ck_assert_ptr_null(strstr(b.data, "x<y>&\"z.php"));
    /* Message: quotes escaped, newline and \x01 replaced by U+FFFD. */
    ck_assert_uint_eq(count_occurrences(b.data, "Fatal &quot;boom&quot; in C:\\x\xEF\xBF\xBD\tline"
                                                "\xEF\xBF\xBD caf\xC3\xA9 \xFF!"),
                      2);
    ck_assert_ptr_nonnull(strstr(b.data, "&lt;GET&gt;"));
    ck_assert_ptr_nonnull(strstr(b.data, "evil&#39;host"));
    ck_assert_ptr_nonnull(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(b.data, "/a&quot;b\\c&lt;/script&gt;"));
    /* No markup from the snapshot, and no JavaScript at all. */
    ck_assert_ptr_null(strstr(b.data, "<script"));
    ck_assert_ptr_null(strstr(b.data, "<GET>"));
    ck_assert_ptr_null(strstr(b.data, "No failures recorded."));
    /* Times and counters. */
    ck_assert_ptr_nonnull(strstr(b.data, "2023-11-14T22:14:20.250000Z"));
    ck_assert_ptr_nonnull(strstr(b.data, "<td>502</td>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<td>4242</td>"));
    /* Windows, right after the all-time 500 count. */
    ck_assert_ptr_nonnull(strstr(b.data, "<tr><th>500 responses</th><td>2</td></tr>\n"
                                         "<tr><th>5xx, last 1m / 5m / 15m</th>"
                                         "<td>1 / 2 / 3</td></tr>\n"
                                         "<tr><th>500, last 1m / 5m / 15m</th>"
                                         "<td>0 / 1 / 2</td></tr>\n"));
    /* By handler, before the files; the hostile name escaped. */
    ck_assert_ptr_nonnull(
        strstr(b.data, "<h2>By handler</h2>\n<table class=\"handlers\">\n"
                       "<tr><th>Handler</th><th>Status</th><th>Count</th></tr>\n"
                       "<tr><td class=\"mono\">application/x-httpd-php</td><td>500</td>"
                       "<td class=\"n\">2</td></tr>\n"
                       "<tr><td class=\"mono\">&lt;b&gt;&quot;h&quot;&lt;/b&gt;\\\xEF\xBF\xBD"
                       "\xFF</td><td>502</td><td class=\"n\">1</td></tr>\n"
                       "</table>\n<h2 id=\"causes\">Causes</h2>\n"));
    ck_assert_ptr_null(strstr(b.data, "<b>"));
}
END_TEST

START_TEST(html_empty_state)
{
    ew_snapshot snap;
    ew_buf b;
    memset(&snap, 0, sizeof(snap));
    ew_buf_init(&b, pool, 0);
    ew_format_html(&b, &snap);
    ck_assert_int_eq(strncmp(b.data, "<!DOCTYPE html>", 15), 0);
    /* Once each for handlers, files and recent failures. */
    ck_assert_uint_eq(count_occurrences(b.data, "No failures recorded."), 3);
    ck_assert_ptr_nonnull(strstr(b.data, "<h2>By handler</h2>\n<p>No failures recorded.</p>\n"
                                         "<h2 id=\"files\">Top failing files</h2>\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "<tr><th>5xx, last 1m / 5m / 15m</th>"
                                         "<td>0 / 0 / 0</td></tr>\n"));
    ck_assert_ptr_null(strstr(b.data, "<table class=\"handlers\">"));
    ck_assert_ptr_null(strstr(b.data, "<table class=\"files\">"));
    ck_assert_ptr_null(strstr(b.data, "<table class=\"recent\">"));
    ck_assert_ptr_null(strstr(b.data, "<script"));
}
END_TEST

START_TEST(html_limits)
{
    enum { NFILES = EW_HTML_TOP_FILES + 1, NRECENT = EW_HTML_RECENT + 7 };
    ew_snapshot snap;
    ew_buf b;
    ew_file_stat *files = apr_pcalloc(pool, NFILES * sizeof(*files));
    ew_failure *recent = apr_pcalloc(pool, NRECENT * sizeof(*recent));
    char name[64];

    memset(&snap, 0, sizeof(snap));
    for (int i = 0; i < NFILES; i++) {
        snprintf(name, sizeof(name), "/srv/file-%04d.php", i);
        SET(files[i].file, name);
        files[i].count = (uint64_t)(NFILES - i);
    }
    for (int i = 0; i < NRECENT; i++) {
        snprintf(name, sizeof(name), "/uri-%04d", i);
        SET(recent[i].uri, name);
    }
    snap.files = files;
    snap.files_len = NFILES;
    snap.files_total = NFILES;
    snap.recent = recent;
    snap.recent_len = NRECENT;
    snap.recent_total = NRECENT;

    ew_buf_init(&b, pool, 0);
    ew_format_html(&b, &snap);
    ck_assert_uint_eq(count_occurrences(b.data, "/srv/file-"), EW_HTML_TOP_FILES);
    ck_assert_ptr_nonnull(strstr(b.data, "/srv/file-0000.php"));
    ck_assert_ptr_nonnull(strstr(b.data, "/srv/file-0049.php"));
    ck_assert_ptr_null(strstr(b.data, "/srv/file-0050.php"));
    ck_assert_uint_eq(count_occurrences(b.data, "/uri-"), EW_HTML_RECENT);
    ck_assert_ptr_nonnull(strstr(b.data, "/uri-0049"));
    ck_assert_ptr_null(strstr(b.data, "/uri-0050"));
}
END_TEST

/* The section for mod_status's page: counts, windows, top files, escaped. */
START_TEST(html_section_for_server_status)
{
    ew_snapshot snap;
    ew_file_stat file;
    ew_failure fail;
    ew_buf b;
    fill_json_snapshot(&snap, &file, &fail);
    ew_buf_init(&b, pool, 0);
    ew_format_html_section(&b, &snap, 1);
    ck_assert_int_eq(strncmp(b.data, "<hr />\n<h2>mod_errwatch</h2>\n", 29), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "<tr><th>500 responses</th><td>2</td></tr>\n"
                                         "<tr><th>5xx, last 1m / 5m / 15m</th>"
                                         "<td>1 / 2 / 3</td></tr>\n"));
    ck_assert_uint_eq(count_occurrences(b.data, "/var/www/x&lt;y&gt;&amp;&quot;z.php"), 1);
    ck_assert_ptr_null(strstr(b.data, "x<y>"));
    /* A fragment, not a document. */
    ck_assert_ptr_null(strstr(b.data, "<html"));
    ck_assert_ptr_null(strstr(b.data, "<body"));

    memset(&snap, 0, sizeof(snap));
    ew_buf_init(&b, pool, 0);
    ew_format_html_section(&b, &snap, 1);
    ck_assert_ptr_nonnull(strstr(b.data, "<p>No failures recorded.</p>\n"));
    ck_assert_ptr_null(strstr(b.data, "<table class=\"files\">"));

    /* For a client that may not see paths: counts, no rows. */
    fill_json_snapshot(&snap, &file, &fail);
    ew_buf_init(&b, pool, 0);
    ew_format_html_section(&b, &snap, 0);
    ck_assert_ptr_nonnull(strstr(b.data, "<tr><th>500 responses</th><td>2</td></tr>\n"));
    ck_assert_ptr_null(strstr(b.data, "z.php"));
    ck_assert_ptr_null(strstr(b.data, "<table class=\"files\">"));
    ck_assert_ptr_nonnull(strstr(b.data, "loopback clients only"));
}
END_TEST

START_TEST(html_section_lists_top_files_only)
{
    enum { NFILES = EW_HTML_SECTION_FILES + 2 };
    ew_snapshot snap;
    ew_buf b;
    ew_file_stat *files = apr_pcalloc(pool, NFILES * sizeof(*files));
    char name[64];
    memset(&snap, 0, sizeof(snap));
    for (int i = 0; i < NFILES; i++) {
        snprintf(name, sizeof(name), "/srv/top-%02d.php", i);
        SET(files[i].file, name);
        files[i].count = (uint64_t)(NFILES - i);
    }
    snap.files = files;
    snap.files_len = NFILES;
    snap.files_total = NFILES;
    ew_buf_init(&b, pool, 0);
    ew_format_html_section(&b, &snap, 1);
    ck_assert_uint_eq(count_occurrences(b.data, "/srv/top-"), EW_HTML_SECTION_FILES);
    ck_assert_ptr_nonnull(strstr(b.data, "/srv/top-04.php"));
    ck_assert_ptr_null(strstr(b.data, "/srv/top-05.php"));
}
END_TEST

/* ---- the timeline: history, markers, the SVG chart ------------------------ */

static const int64_t HOUR_START = 1700000040000000LL; /* on a minute */

static void timeline_snapshot(ew_snapshot *snap, ew_file_stat *file, ew_history_minute *h)
{
    memset(snap, 0, sizeof(*snap));
    memset(h, 0, 60 * sizeof(*h));
    for (int i = 0; i < 60; i++) {
        h[i].minute_us = HOUR_START + (int64_t)i * EW_MINUTE_US;
    }
    h[10].count_5xx = 4;
    h[10].count_500 = 3;
    h[59].count_5xx = 1;
    h[59].crashes = 2;
    snap->history = h;
    snap->history_len = 60;
    snap->taken_us = HOUR_START + 59 * EW_MINUTE_US + 30000000;
    snap->markers_len = 2;
    snap->markers[0] = (ew_marker){
        .time_us = HOUR_START + 30 * EW_MINUTE_US, .gap_us = 42000000, .event = EW_EVENT_START};
    snap->markers[1] = (ew_marker){.time_us = HOUR_START - 1, .gap_us = -1, .event = EW_EVENT_STOP};
    memset(file, 0, sizeof(*file));
    SET(file->file, "/srv/<x>.php");
    file->count = 5;
    file->first_seen_us = HOUR_START + 10 * EW_MINUTE_US;
    snap->files = file;
    snap->files_len = 1;
    snap->files_total = 1;
}

START_TEST(chart_bars_markers_and_words)
{
    ew_snapshot snap;
    ew_file_stat file;
    ew_history_minute h[60];
    timeline_snapshot(&snap, &file, h);
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_html_chart(&b, &snap, 60, 1, "last hour");
    /* Two bars with their exact counts; the tallest fills the plot. */
    ck_assert_uint_eq(count_occurrences(b.data, "<rect class=\"bar"), 2);
    ck_assert_ptr_nonnull(strstr(b.data, "<rect class=\"bar\" x=\"120.5\" y=\"8.0\" width=\"11.0\" "
                                         "height=\"92.0\"><title>22:24 UTC: 4 5xx (3 of them "
                                         "500), 0 crashes</title></rect>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<rect class=\"bar crash\" x=\"708.5\" y=\"31.0\" "
                                         "width=\"11.0\" height=\"69.0\"><title>23:13 UTC: 1 "
                                         "5xx (0 of them 500), 2 crashes</title></rect>"));
    /* The start inside the hour is marked, the stop before it is not. */
    ck_assert_uint_eq(count_occurrences(b.data, "<line class=\"mark\""), 1);
    ck_assert_ptr_nonnull(strstr(b.data, "x1=\"360.0\" x2=\"360.0\""));
    ck_assert_ptr_nonnull(strstr(b.data, "<title>server start at 2023-11-14T22:44:00.000000Z"));
    /* The file's first failure, its name escaped. */
    ck_assert_ptr_nonnull(strstr(b.data, "<title>/srv/&lt;x&gt;.php first failed at "
                                         "2023-11-14T22:24:00.000000Z</title>"));
    ck_assert_ptr_null(strstr(b.data, "<x>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<p class=\"chart-text\">last hour: 7 failures, most in "
                                         "one bar 4 at 22:24 UTC; server start at 22:44.</p>"));

    /* Grouped: 60 minutes as 6 bars of 10. */
    ew_buf_init(&b, pool, 0);
    ew_format_html_chart(&b, &snap, 60, 10, "by ten");
    ck_assert_uint_eq(count_occurrences(b.data, "<rect class=\"bar"), 2);
    ck_assert_ptr_nonnull(strstr(b.data, "<title>22:24 UTC + 10 min: 4 5xx"));
    /* Too little history, or a span that does not divide: nothing. */
    ew_buf_init(&b, pool, 0);
    ew_format_html_chart(&b, &snap, 61, 1, "x");
    ew_format_html_chart(&b, &snap, 60, 7, "x");
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(json_history_and_events)
{
    ew_snapshot snap;
    ew_file_stat file;
    ew_history_minute h[60];
    timeline_snapshot(&snap, &file, h);
    snap.history = h + 57;
    snap.history_len = 3;
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_json_history(&b, &snap);
    ck_assert_str_eq(b.data, "{\"history\":{\"start\":1700003460,\"step\":60,\"minutes\":3,"
                             "\"5xx\":[0,0,1],\"500\":[0,0,0],\"crashes\":[0,0,2]},\n"
                             "\"events\":[\n"
                             "{\"event\":\"start\",\"time\":\"2023-11-14T22:44:00.000000Z\","
                             "\"gap_s\":42},\n"
                             "{\"event\":\"stop\",\"time\":\"2023-11-14T22:13:59.999999Z\","
                             "\"gap_s\":null}]\n}\n");
}
END_TEST

/* "messages": the story one string per line, escaped; no story, no key. */
START_TEST(json_messages_from_the_story)
{
    ew_snapshot snap;
    ew_failure recent[2];
    memset(&snap, 0, sizeof(snap));
    memset(recent, 0, sizeof(recent));
    recent[0].seq = 2;
    recent[0].status = 500;
    recent[1].seq = 1;
    recent[1].status = 502;
    char *stories[2] = {apr_pstrdup(pool, "AH01215: stderr from x.pl: \"bad\" </script>\nEnd of "
                                          "script output before headers: x.pl"),
                        NULL};
    snap.recent = recent;
    snap.recent_len = 2;
    snap.recent_total = 2;
    snap.recent_story = stories;
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_json(&b, &snap);
    ck_assert_ptr_nonnull(
        strstr(b.data, "\"message\":\"\",\"cause\":null,\"messages\":[\"AH01215: stderr from "
                       "x.pl: \\\"bad\\\" </script>\",\"End of script "
                       "output before headers: x.pl\"]}"));
    ck_assert_uint_eq(count_occurrences(b.data, "\"messages\""), 1);
    ew_buf_init(&b, pool, 0);
    ew_format_html(&b, &snap);
    ck_assert_ptr_nonnull(strstr(b.data, "<td class=\"msg\">AH01215: stderr from x.pl: "
                                         "&quot;bad&quot; &lt;/script&gt;<br>End of script"));
}
END_TEST

START_TEST(relative_times)
{
    char out[EW_AGO_LEN];
    const int64_t now = 1700000000000000LL;
    ew_format_ago(out, now, now + 5000000);
    ck_assert_str_eq(out, "just now");
    ew_format_ago(out, now, now - 4000000);
    ck_assert_str_eq(out, "just now");
    ew_format_ago(out, now, now - 42000000);
    ck_assert_str_eq(out, "42 s ago");
    ew_format_ago(out, now, now - 180000000);
    ck_assert_str_eq(out, "3 min ago");
    ew_format_ago(out, now, now - 5LL * 3600000000LL);
    ck_assert_str_eq(out, "5 h ago");
    ew_format_ago(out, now, now - 3LL * 86400000000LL);
    ck_assert_str_eq(out, "3 days ago");
    ew_format_ago(out, INT64_MAX, INT64_MIN);
    ck_assert_ptr_nonnull(strstr(out, "days ago"));
}
END_TEST

/* PHP's stack trace arrives with Apache's two-character \n: line breaks on
 * the page; an escaped backslash before an n stays text. The page options
 * add the refresh and keep it in the sort links. */
START_TEST(html_message_breaks_and_page_options)
{
    ew_snapshot snap;
    ew_file_stat file;
    ew_history_minute h[60];
    timeline_snapshot(&snap, &file, h);
    SET(file.message, "Fatal <boom>\\n#0 C:\\\\new\\n#1 {main}");
    ew_html_options opt = {30, 1};
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_html_page(&b, &snap, &opt);
    ck_assert_ptr_nonnull(strstr(b.data, "<td class=\"msg\">Fatal &lt;boom&gt;<br>#0 C:\\\\new<br>"
                                         "#1 {main}</td>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<meta http-equiv=\"refresh\" content=\"30\">"));
    ck_assert_ptr_nonnull(strstr(b.data, "<a href=\"?sort=count&amp;refresh=30#files\">by "
                                         "count</a> <strong>by last seen</strong>"));
    ck_assert_ptr_nonnull(
        strstr(b.data, "<li>start <time datetime=\"2023-11-14T22:44:00.000000Z\""));
    ck_assert_ptr_nonnull(strstr(b.data, "(the state file was written 42 s before it"));
    ck_assert_uint_eq(count_occurrences(b.data, "<svg "), 1); /* 24 h needs 1440 minutes */
}
END_TEST

Suite *format_suite(void)
{
    Suite *s = suite_create("format");

    TCase *tc = tcase_create("iso_time");
    tcase_add_test(tc, iso_time_values);
    tcase_add_test(tc, iso_time_matches_gmtime);
    tcase_add_test(tc, elapsed_any_pair);
    suite_add_tcase(s, tc);

    tc = tcase_create("auto");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, auto_full_prefork);
    tcase_add_test(tc, buf_integers_like_printf);
    tcase_add_test(tc, auto_full_event);
    tcase_add_test(tc, auto_rates_need_one_second);
    tcase_add_test(tc, auto_show_time);
    tcase_add_test(tc, auto_hostile_and_null_strings);
    tcase_add_test(tc, auto_errors_only);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, json_small_snapshot);
    tcase_add_test(tc, json_empty_snapshot);
    tcase_add_test(tc, json_status_order_and_lists);
    suite_add_tcase(s, tc);

    tc = tcase_create("html");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, html_escapes_snapshot_strings);
    tcase_add_test(tc, html_empty_state);
    tcase_add_test(tc, chart_bars_markers_and_words);
    tcase_add_test(tc, json_history_and_events);
    tcase_add_test(tc, relative_times);
    tcase_add_test(tc, json_messages_from_the_story);
    tcase_add_test(tc, html_message_breaks_and_page_options);
    tcase_add_test(tc, html_limits);
    tcase_add_test(tc, html_section_for_server_status);
    tcase_add_test(tc, html_section_lists_top_files_only);
    suite_add_tcase(s, tc);

    return s;
}

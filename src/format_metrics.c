/*
 * The metrics page: Prometheus text exposition 0.0.4, or OpenMetrics 1.0.
 *
 * errwatch's own families come first (errwatch_*), then the server figures
 * under the names of the community apache_exporter (apache_*), so that its
 * dashboards and alerts work unchanged against this page.
 *
 * The two flavours differ only in two places: an OpenMetrics counter family
 * is named without its "_total" suffix in "# HELP" and "# TYPE" (the samples
 * keep it), and an OpenMetrics document ends with "# EOF". Every family has
 * HELP and TYPE lines; HELP texts are constants without backslashes, double
 * quotes or newlines, so they need no escaping in either flavour. Every label
 * value goes through ew_escape_prom_label().
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include <apr_strings.h>

#include "ew_escape.h"
#include "ew_format.h"
#include "ew_slots.h"

/* Status codes that always have an errwatch_errors_total series, so that
 * alerts on them see 0 instead of no data. */
static const int ew_prom_always_codes[] = {500, 502, 503, 504};

/* "# HELP" and "# TYPE" of the family whose samples are called name. */
static void ew_prom_family(ew_buf *b, int openmetrics, const char *name, const char *type,
                           const char *help)
{
    static const char suffix[] = "_total";
    size_t len = strlen(name);
    if (openmetrics && strcmp(type, "counter") == 0 && len > sizeof(suffix) - 1 &&
        strcmp(name + len - (sizeof(suffix) - 1), suffix) == 0) {
        len -= sizeof(suffix) - 1;
    }
    ew_buf_puts(b, "# HELP ");
    ew_buf_append(b, name, len);
    ew_buf_putc(b, ' ');
    ew_buf_puts(b, help);
    ew_buf_puts(b, "\n# TYPE ");
    ew_buf_append(b, name, len);
    ew_buf_putc(b, ' ');
    ew_buf_puts(b, type);
    ew_buf_putc(b, '\n');
}

/* key="value" with the value escaped; a comma first unless first. */
static void ew_prom_label(ew_buf *b, int first, const char *key, const char *value)
{
    if (!first) {
        ew_buf_putc(b, ',');
    }
    ew_buf_puts(b, key);
    ew_buf_puts(b, "=\"");
    ew_escape_prom_label(b, value);
    ew_buf_putc(b, '"');
}

/* name{key="value"} (or a bare name when key is NULL) and a space. */
static void ew_prom_sample_start(ew_buf *b, const char *name, const char *key, const char *value)
{
    ew_buf_puts(b, name);
    if (key != NULL) {
        ew_buf_putc(b, '{');
        ew_prom_label(b, 1, key, value);
        ew_buf_putc(b, '}');
    }
    ew_buf_putc(b, ' ');
}

static void ew_prom_u(ew_buf *b, const char *name, const char *key, const char *value, uint64_t n)
{
    ew_prom_sample_start(b, name, key, value);
    ew_buf_put_u64(b, n);
    ew_buf_putc(b, '\n');
}

static void ew_prom_i(ew_buf *b, const char *name, const char *key, const char *value, long long n)
{
    ew_prom_sample_start(b, name, key, value);
    ew_buf_put_i64(b, n);
    ew_buf_putc(b, '\n');
}

/* Microseconds as exact decimal seconds ("12.5", "3"): a double would round
 * a sum past 2^53 us, and printing it with %g lost steps from 1e6 s on. */
static void ew_prom_seconds_us(ew_buf *b, const char *name, uint64_t us)
{
    ew_prom_sample_start(b, name, NULL, NULL);
    ew_buf_put_u64(b, us / 1000000u);
    unsigned frac = (unsigned)(us % 1000000u);
    if (frac != 0) {
        char digits[8];
        int n = 6;
        digits[0] = '.';
        for (int i = 6; i >= 1; i--) {
            digits[i] = (char)('0' + frac % 10u);
            frac /= 10u;
        }
        while (digits[n] == '0') {
            n--;
        }
        ew_buf_append(b, digits, (size_t)n + 1);
    }
    ew_buf_putc(b, '\n');
}

/* A float in a form both parsers accept: exact (ew_buf_put_double), and
 * NaN / +Inf / -Inf. */
static void ew_prom_d(ew_buf *b, const char *name, const char *key, const char *value, double d)
{
    ew_prom_sample_start(b, name, key, value);
    if (isnan(d)) {
        ew_buf_puts(b, "NaN\n");
    } else if (isinf(d)) {
        ew_buf_puts(b, d > 0 ? "+Inf\n" : "-Inf\n");
    } else {
        ew_buf_put_double(b, d);
        ew_buf_putc(b, '\n');
    }
}

/* A counter never goes negative: NaN and negative CPU times become 0. */
static double ew_prom_counter_value(double v)
{
    return v > 0.0 ? v : 0.0;
}

/*
 * Series with free-form label values (file and handler names). Distinct raw
 * names can escape to the same label set (two invalid bytes both become
 * U+FFFD), and a family must not repeat a series, so rows whose label sets
 * come out equal are merged into the first of them and their counts added.
 */
typedef void ew_prom_labels_fn(ew_buf *b, const void *rows, uint32_t i);

/* The merge table's hash: eight bytes a step. APR's default hash takes a
 * byte at a time, which a full table of long file names made the largest
 * cost of the page. */
static uint64_t ew_label_hash(const char *key, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15u ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, sizeof(w));
        h = (h ^ w) * 0x100000001B3u;
        h ^= h >> 29;
    }
    for (; i < n; i++) {
        h = (h ^ (unsigned char)key[i]) * 0x100000001B3u;
    }
    return h ^ (h >> 32);
}
typedef uint64_t ew_prom_value_fn(const void *rows, uint32_t i);

#define EW_PROM_TEXT_GUESS_MAX ((size_t)16 << 20)

/* One distinct label set: where it is in the label text, and its sum. */
typedef struct ew_prom_series {
    size_t off;
    size_t len;
    uint64_t hash;
    uint64_t sum;
} ew_prom_series;

/* The label sets of all rows go, one after the other, into one text; an
 * open-addressing table over it (each set hashed once) finds the repeats.
 * Then one line per distinct set, in order of first appearance. */
static void ew_prom_merged_counter(ew_buf *b, const char *name, const void *rows, uint32_t n,
                                   ew_prom_labels_fn *labels, ew_prom_value_fn *value)
{
    if (n == 0) {
        return;
    }
    apr_pool_t *tmp;
    if (apr_pool_create(&tmp, b->pool) != APR_SUCCESS) {
        return;
    }
    size_t index_cap = 16;
    while (index_cap < 2 * (size_t)n) {
        index_cap *= 2;
    }
    uint32_t *index = apr_pcalloc(tmp, index_cap * sizeof(*index)); /* series + 1; 0 = free */
    ew_prom_series *series = apr_palloc(tmp, (apr_size_t)n * sizeof(*series));
    uint32_t out = 0;
    ew_buf text;
    ew_buf_init(&text, tmp, 4096);

    for (uint32_t i = 0; i < n; i++) {
        size_t off = text.len;
        labels(&text, rows, i);
        size_t len = text.len - off;
        if (i == 0) {
            /* Room for n sets like the first, so the text rarely regrows;
             * capped, as the first may be far longer than the rest. */
            size_t guess = (len + len / 4 + 16) * (size_t)n;
            (void)ew_buf_room(&text,
                              guess < EW_PROM_TEXT_GUESS_MAX ? guess : EW_PROM_TEXT_GUESS_MAX);
        }
        uint64_t h = ew_label_hash(text.data + off, len);
        size_t at = (size_t)h & (index_cap - 1);
        for (;;) {
            uint32_t k = index[at];
            if (k == 0) {
                series[out] = (ew_prom_series){off, len, h, value(rows, i)};
                index[at] = ++out;
                break;
            }
            ew_prom_series *sr = &series[k - 1];
            if (sr->hash == h && sr->len == len &&
                memcmp(text.data + sr->off, text.data + off, len) == 0) {
                sr->sum += value(rows, i);
                text.len = off; /* drop the repeat's text */
                break;
            }
            at = (at + 1) & (index_cap - 1);
        }
    }
    size_t name_len = strlen(name);
    (void)ew_buf_room(b, text.len + (size_t)out * (name_len + 24));
    for (uint32_t j = 0; j < out; j++) {
        ew_buf_append(b, name, name_len);
        ew_buf_putc(b, '{');
        ew_buf_append(b, text.data + series[j].off, series[j].len);
        EW_BUF_LIT(b, "} ");
        ew_buf_put_u64(b, series[j].sum);
        ew_buf_putc(b, '\n');
    }
    apr_pool_destroy(tmp);
}

static void ew_prom_handler_labels(ew_buf *b, const void *rows, uint32_t i)
{
    const ew_handler_stat *h = (const ew_handler_stat *)rows + i;
    char status[8];
    apr_snprintf(status, sizeof(status), "%u", (unsigned)h->status);
    ew_prom_label(b, 1, "handler", h->handler);
    ew_prom_label(b, 0, "status", status);
}

static uint64_t ew_prom_handler_value(const void *rows, uint32_t i)
{
    return ((const ew_handler_stat *)rows)[i].count;
}

static void ew_prom_file_labels(ew_buf *b, const void *rows, uint32_t i)
{
    const ew_file_stat *f = (const ew_file_stat *)rows + i;
    ew_prom_label(b, 1, "file", f->file);
    ew_prom_label(b, 0, "handler", f->handler);
}

static uint64_t ew_prom_file_value(const void *rows, uint32_t i)
{
    return ((const ew_file_stat *)rows)[i].count;
}

static uint64_t ew_prom_file_crashes(const void *rows, uint32_t i)
{
    return ((const ew_file_stat *)rows)[i].crashes;
}

/* Requests lost with a child killed by a signal: by signal (SIGSEGV and
 * SIGKILL always present), and by file for the files that had any. */
static void ew_prom_crashes(ew_buf *b, const ew_snapshot *snap, int om)
{
    ew_prom_family(b, om, "errwatch_crashes_total", "counter",
                   "Requests in flight in a child killed by a signal, by signal.");
    for (int i = 0; i < EW_SIGNAL_COUNT; i++) {
        if (snap->crashes_by_signal[i] != 0 || i == SIGSEGV || i == SIGKILL) {
            char label[EW_SIGNAL_LABEL_MAX];
            ew_prom_u(b, "errwatch_crashes_total", "signal", ew_signal_label(i, label),
                      snap->crashes_by_signal[i]);
        }
    }
    ew_file_stat *rows = NULL;
    uint32_t n = 0;
    for (uint32_t i = 0; i < snap->files_len; i++) {
        if (snap->files[i].crashes != 0) {
            if (rows == NULL) {
                rows = apr_palloc(b->pool, (apr_size_t)snap->files_len * sizeof(*rows));
            }
            rows[n++] = snap->files[i];
        }
    }
    ew_prom_family(b, om, "errwatch_file_crashes_total", "counter",
                   "Crashes by script file (also counted in errwatch_file_errors_total), "
                   "labelled with the handler of its latest failure.");
    ew_prom_merged_counter(b, "errwatch_file_crashes_total", rows, n, ew_prom_file_labels,
                           ew_prom_file_crashes);
}

/* Failures by cause: one series per row of the causes table, so never
 * more than EW_CAUSES (32) at a time; a cause evicted from the table (the
 * least recently seen goes first) drops its series. The title label is
 * cut to EW_PROM_TITLE_MAX bytes, on a character boundary. */
#define EW_PROM_TITLE_MAX 80
static void ew_prom_causes(ew_buf *b, const ew_snapshot *snap, int om)
{
    ew_prom_family(b, om, "errwatch_cause_failures_total", "counter",
                   "Failures by cause (the message with what varies per request taken out); "
                   "at most 32 series, one per row of the causes table.");
    uint32_t n = snap->causes != NULL ? snap->causes_len : 0;
    for (uint32_t i = 0; i < n; i++) {
        const ew_cause_stat *c = &snap->causes[i];
        /* The store's keys are unique; a series is never written twice
         * whatever a snapshot holds. */
        int seen = 0;
        for (uint32_t k = 0; k < i && !seen; k++) {
            seen = snap->causes[k].key == c->key;
        }
        if (seen) {
            continue;
        }
        char id[EW_CAUSE_ID_LEN];
        char title[EW_PROM_TITLE_MAX + 1];
        ew_format_cause_id(id, c->key);
        size_t len = strnlen(c->title, sizeof(c->title));
        if (len > EW_PROM_TITLE_MAX) {
            len = ew_utf8_cut(c->title, EW_PROM_TITLE_MAX);
        }
        memcpy(title, c->title, len);
        title[len] = '\0';
        ew_buf_puts(b, "errwatch_cause_failures_total{");
        ew_prom_label(b, 1, "cause", id);
        ew_prom_label(b, 0, "title", title);
        ew_buf_printf(b, "} %llu\n", (unsigned long long)c->count);
    }
    ew_prom_family(b, om, "errwatch_causes", "gauge",
                   "Rows in use in the causes table (at most 32).");
    ew_prom_u(b, "errwatch_causes", NULL, NULL, snap->causes_total);
    ew_prom_family(b, om, "errwatch_causes_evicted_total", "counter",
                   "Causes dropped from the causes table to make room for others.");
    ew_prom_u(b, "errwatch_causes_evicted_total", NULL, NULL, snap->causes_evicted);
}

static int ew_prom_is_always_code(int code)
{
    for (size_t i = 0; i < sizeof(ew_prom_always_codes) / sizeof(ew_prom_always_codes[0]); i++) {
        if (ew_prom_always_codes[i] == code) {
            return 1;
        }
    }
    return 0;
}

static void ew_prom_errwatch(ew_buf *b, const ew_snapshot *snap, int om)
{
    static const char *const classes[EW_CLASS_COUNT] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

    ew_prom_family(b, om, "errwatch_requests_total", "counter",
                   "Responses counted by errwatch, by status class.");
    for (int c = 1; c <= EW_CLASS_COUNT; c++) {
        int i = c % EW_CLASS_COUNT; /* 1xx..5xx, then other */
        ew_prom_u(b, "errwatch_requests_total", "class", classes[i], snap->requests_by_class[i]);
    }

    ew_prom_family(b, om, "errwatch_errors_total", "counter",
                   "5xx responses by status code; 500, 502, 503 and 504 are always present.");
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        int code = EW_CODE_FIRST + i;
        if (snap->errors_by_code[i] != 0 || ew_prom_is_always_code(code)) {
            char status[8];
            apr_snprintf(status, sizeof(status), "%d", code);
            ew_prom_u(b, "errwatch_errors_total", "status", status, snap->errors_by_code[i]);
        }
    }

    ew_prom_family(b, om, "errwatch_handler_errors_total", "counter",
                   "5xx responses by handler and status; pairs beyond the first 64 are counted "
                   "under the handler name other.");
    ew_prom_merged_counter(b, "errwatch_handler_errors_total", snap->handlers, snap->handlers_len,
                           ew_prom_handler_labels, ew_prom_handler_value);

    ew_prom_family(b, om, "errwatch_file_errors_total", "counter",
                   "5xx responses and crashes by script file, labelled with the handler of "
                   "its latest failure; a file evicted from the table restarts from 1.");
    ew_prom_merged_counter(b, "errwatch_file_errors_total", snap->files, snap->files_len,
                           ew_prom_file_labels, ew_prom_file_value);

    ew_prom_family(b, om, "errwatch_errors_window", "gauge",
                   "5xx responses in the last 1, 5 and 15 minutes, counted in 5 s buckets.");
    for (int s = 0; s < 2; s++) {
        const uint64_t *w = s == 0 ? snap->window_500 : snap->window_5xx;
        for (int i = 0; i < EW_WINDOW_COUNT; i++) {
            char window[16];
            apr_snprintf(window, sizeof(window), "%dm", ew_window_minutes[i]);
            ew_buf_puts(b, "errwatch_errors_window{");
            ew_prom_label(b, 1, "status", s == 0 ? "500" : "5xx");
            ew_prom_label(b, 0, "window", window);
            ew_buf_printf(b, "} %llu\n", (unsigned long long)w[i]);
        }
    }

    ew_prom_crashes(b, snap, om);
    ew_prom_causes(b, snap, om);

    ew_prom_family(b, om, "errwatch_file_evictions_total", "counter",
                   "Files dropped from the file table to make room for others.");
    ew_prom_u(b, "errwatch_file_evictions_total", NULL, NULL, snap->files_evicted);

    ew_prom_family(b, om, "errwatch_failures_recorded_total", "counter",
                   "Failures recorded in the file table and the ring of recent failures.");
    ew_prom_u(b, "errwatch_failures_recorded_total", NULL, NULL, snap->failures_recorded);

    ew_prom_family(b, om, "errwatch_lock_recoveries_total", "counter",
                   "Times the store lock was taken over from a process that died holding it.");
    ew_prom_u(b, "errwatch_lock_recoveries_total", NULL, NULL, snap->lock_recoveries);

    ew_prom_family(b, om, "errwatch_uptime_seconds", "gauge",
                   "Seconds since errwatch started counting; survives restarts.");
    ew_prom_i(b, "errwatch_uptime_seconds", NULL, NULL,
              ew_elapsed_s(snap->since_us, snap->taken_us));
}

static void ew_prom_apache(ew_buf *b, const ew_server_stats *s, const ew_snapshot *snap, int om)
{
    static const struct {
        char c;
        const char *state;
    } scoreboard[] = {
        {'_', "idle"},          {'S', "startup"},      {'R', "read"},      {'W', "reply"},
        {'K', "keepalive"},     {'D', "dns"},          {'C', "closing"},   {'L', "logging"},
        {'G', "graceful_stop"}, {'I', "idle_cleanup"}, {'.', "open_slot"},
    };

    ew_prom_family(b, om, "apache_up", "gauge", "Whether the server could be reached; always 1.");
    ew_prom_u(b, "apache_up", NULL, NULL, 1);

    ew_prom_family(b, om, "apache_info", "gauge", "Apache version information.");
    ew_buf_puts(b, "apache_info{");
    ew_prom_label(b, 1, "version", s->server_version);
    ew_prom_label(b, 0, "mpm", s->server_mpm);
    ew_buf_puts(b, "} 1\n");

    ew_prom_family(b, om, "apache_generation", "gauge", "Apache restart generation.");
    ew_prom_i(b, "apache_generation", "type", "config", s->config_generation);
    ew_prom_i(b, "apache_generation", "type", "mpm", s->mpm_generation);

    ew_prom_family(b, om, "apache_uptime_seconds_total", "counter",
                   "Seconds since the last restart.");
    ew_prom_u(b, "apache_uptime_seconds_total", NULL, NULL, s->uptime_s);

    ew_prom_family(b, om, "apache_load", "gauge", "System load average.");
    ew_prom_d(b, "apache_load", "interval", "1min", s->load1);
    ew_prom_d(b, "apache_load", "interval", "5min", s->load5);
    ew_prom_d(b, "apache_load", "interval", "15min", s->load15);

    ew_prom_family(b, om, "apache_accesses_total", "counter",
                   "Requests served since errwatch started counting.");
    ew_prom_u(b, "apache_accesses_total", NULL, NULL, snap->requests_total);

    /* apache_exporter says kilobytes and milliseconds; promtool's linter
     * insists on base units, so these three use bytes and seconds. */
    ew_prom_family(b, om, "apache_sent_bytes_total", "counter",
                   "Bytes sent since errwatch started counting.");
    ew_prom_u(b, "apache_sent_bytes_total", NULL, NULL, snap->bytes_sent);

    ew_prom_family(b, om, "apache_duration_seconds_total", "counter",
                   "Seconds spent serving requests since errwatch started counting.");
    ew_prom_seconds_us(b, "apache_duration_seconds_total", snap->duration_us_total);

    ew_prom_family(b, om, "apache_cpu_time_seconds_total", "counter",
                   "CPU time of the server and its children in seconds.");
    ew_prom_d(b, "apache_cpu_time_seconds_total", "type", "user",
              ew_prom_counter_value(s->cpu_user + s->cpu_children_user));
    ew_prom_d(b, "apache_cpu_time_seconds_total", "type", "system",
              ew_prom_counter_value(s->cpu_system + s->cpu_children_system));

    ew_prom_family(b, om, "apache_cpuload", "gauge", "CPU load of the server in percent.");
    ew_prom_d(b, "apache_cpuload", NULL, NULL, s->cpu_load);

    ew_prom_family(b, om, "apache_workers", "gauge", "Worker threads by state.");
    ew_prom_i(b, "apache_workers", "state", "busy", s->busy_workers);
    ew_prom_i(b, "apache_workers", "state", "idle", s->idle_workers);
    ew_prom_i(b, "apache_workers", "state", "graceful", s->graceful_workers);

    ew_prom_family(b, om, "apache_scoreboard", "gauge", "Scoreboard slots by state.");
    for (size_t i = 0; i < sizeof(scoreboard) / sizeof(scoreboard[0]); i++) {
        uint64_t n = 0;
        for (const char *p = s->scoreboard; p != NULL && *p != '\0'; p++) {
            if (*p == scoreboard[i].c) {
                n++;
            }
        }
        ew_prom_u(b, "apache_scoreboard", "state", scoreboard[i].state, n);
    }

    ew_prom_family(b, om, "apache_processes", "gauge",
                   "Server child processes, and those of them stopping.");
    ew_prom_i(b, "apache_processes", "state", "all", s->processes);
    ew_prom_i(b, "apache_processes", "state", "stopping", s->stopping);

    if (s->is_async) {
        ew_prom_family(b, om, "apache_connections", "gauge",
                       "Connections by state (event MPM only).");
        ew_prom_i(b, "apache_connections", "state", "total", s->conns_total);
        ew_prom_i(b, "apache_connections", "state", "writing", s->conns_async_writing);
        ew_prom_i(b, "apache_connections", "state", "keepalive", s->conns_async_keep_alive);
        ew_prom_i(b, "apache_connections", "state", "closing", s->conns_async_closing);
        ew_prom_i(b, "apache_connections", "state", "wait_io", s->conns_async_wait_io);
    }
}

void ew_format_metrics(ew_buf *b, const ew_server_stats *server, const ew_snapshot *snap,
                       int openmetrics)
{
    int om = openmetrics != 0;
    ew_prom_errwatch(b, snap, om);
    ew_prom_apache(b, server, snap, om);
    if (om) {
        ew_buf_puts(b, "# EOF\n");
    }
}

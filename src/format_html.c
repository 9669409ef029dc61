/*
 * The HTML status page for people: a summary (with the 1/5/15-minute
 * windows), requests per class and per 5xx status, failures by handler, the
 * top failing files and the most recent failures. No JavaScript;
 * every string from the snapshot goes through ew_escape_html().
 */
#include "ew_escape.h"
#include <apr_strings.h>

#include "ew_format.h"
#include "ew_slots.h"

/* Readable from phone width up: tables scroll sideways inside their own
 * box instead of widening the page, and the charts scale to the width. */
static const char ew_html_style[] =
    "<style>\n"
    "body{font-family:sans-serif;margin:1em 2em;color:#222;max-width:1400px}\n"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
    "th,td{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}\n"
    "th{background:#eee}\n"
    "td.n{text-align:right}\n"
    ".mono{font-family:monospace;word-break:break-all}\n"
    ".msg{max-width:40em;word-break:break-word}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "figure.chart{margin:.5em 0 1em;max-width:960px}\n"
    "figcaption{font-weight:bold}\n"
    "svg .bg{fill:#f6f6f6}svg .bar{fill:#c0392b}svg .bar.crash{fill:#6c3483}\n"
    "svg .mark{stroke:#1f618d;stroke-width:2;stroke-dasharray:4 2}\n"
    "svg .first{fill:#f39c12}svg text{font-size:11px;fill:#555}\n"
    ".chart-text{font-size:90%;color:#555;margin:.2em 0}\n"
    "nav.sort a{margin-right:1em}\n"
    ".changed{display:block;color:#555;font-size:90%}.changed.after{color:#b9770e;font-weight:bold}"
    "\n"
    ".changed.missing{color:#922}.ids{display:block;font-size:85%;color:#555}\n"
    "td.crash{color:#6c3483}\n"
    "@media (max-width:700px){body{margin:.5em}td,th{font-size:90%}.msg{max-width:20em}}\n"
    "</style>\n";

static void ew_html_head(ew_buf *b, const ew_html_options *opt)
{
    ew_buf_puts(b, "<!DOCTYPE html>\n"
                   "<html lang=\"en\">\n"
                   "<head>\n"
                   "<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (opt->refresh != 0) {
        /* No URL: the browser reloads this one, ?refresh and ?sort included. */
        ew_buf_printf(b, "<meta http-equiv=\"refresh\" content=\"%u\">\n", (unsigned)opt->refresh);
    }
    ew_buf_puts(b, "<title>mod_errwatch</title>\n");
    ew_buf_puts(b, ew_html_style);
    ew_buf_puts(b, "</head>\n<body>\n<h1>mod_errwatch</h1>\n");
}

/* "?sort=last&refresh=10": the query of a link that keeps the page's other
 * choice. */
static void ew_html_query(ew_buf *b, const ew_html_options *opt, int sort_by_last)
{
    ew_buf_puts(b, sort_by_last ? "?sort=last" : "?sort=count");
    if (opt->refresh != 0) {
        ew_buf_printf(b, "&amp;refresh=%u", (unsigned)opt->refresh);
    }
}

static uint32_t ew_html_min(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void ew_html_time(ew_buf *b, int64_t time_us)
{
    char iso[EW_ISO_TIME_LEN];
    ew_format_iso_time(iso, time_us);
    ew_escape_html(b, iso);
}

/* "3 min ago", with the exact time on hover and for machines. */
static void ew_html_ago(ew_buf *b, int64_t now_us, int64_t time_us)
{
    char iso[EW_ISO_TIME_LEN];
    char ago[EW_AGO_LEN];
    ew_format_iso_time(iso, time_us);
    ew_format_ago(ago, now_us, time_us);
    ew_buf_printf(b, "<time datetime=\"%s\" title=\"%s\">%s</time>", iso, iso, ago);
}

/* A message cell: the story's lines, one per line. Apache writes a line
 * break inside a logged message as the two characters \n (PHP's stack
 * traces are full of them); they are shown as line breaks too. An escaped
 * backslash (\\) stays as it is. */
static void ew_html_td_message(ew_buf *b, const char *msg, int is_story)
{
    ew_buf_puts(b, "<td class=\"msg\">");
    const char *start = msg;
    const char *p = msg;
    while (*p != '\0') {
        if (p[0] == '\\' && p[1] == '\\') {
            p += 2;
        } else if (p[0] == '\n' && is_story) {
            /* A line of the request's error story. */
            ew_escape_html_n(b, start, (size_t)(p - start));
            ew_buf_puts(b, "<br>");
            p++;
            start = p;
        } else if (p[0] == '\\' && p[1] == 'n') {
            ew_escape_html_n(b, start, (size_t)(p - start));
            ew_buf_puts(b, "<br>");
            p += 2;
            start = p;
        } else {
            p++;
        }
    }
    ew_escape_html_n(b, start, (size_t)(p - start));
    ew_buf_puts(b, "</td>");
}

/* A table cell holding an escaped string, with an optional class. */
static void ew_html_td(ew_buf *b, const char *cls, const char *s)
{
    if (cls != NULL) {
        ew_buf_printf(b, "<td class=\"%s\">", cls);
    } else {
        ew_buf_puts(b, "<td>");
    }
    ew_escape_html(b, s);
    ew_buf_puts(b, "</td>");
}

static void ew_html_td_u(ew_buf *b, uint64_t n)
{
    ew_buf_printf(b, "<td class=\"n\">%llu</td>", (unsigned long long)n);
}

/* "<tr><th>5xx, last 1m / 5m / 15m</th><td>1 / 3 / 3</td></tr>" */
static void ew_html_window_row(ew_buf *b, const char *what, const uint64_t counts[EW_WINDOW_COUNT])
{
    ew_buf_printf(b, "<tr><th>%s, last", what);
    for (int i = 0; i < EW_WINDOW_COUNT; i++) {
        ew_buf_printf(b, "%s%dm", i == 0 ? " " : " / ", ew_window_minutes[i]);
    }
    ew_buf_puts(b, "</th><td>");
    for (int i = 0; i < EW_WINDOW_COUNT; i++) {
        ew_buf_printf(b, "%s%llu", i == 0 ? "" : " / ", (unsigned long long)counts[i]);
    }
    ew_buf_puts(b, "</td></tr>\n");
}

static void ew_html_summary(ew_buf *b, const ew_snapshot *snap)
{
    long long uptime_s = ew_elapsed_s(snap->since_us, snap->taken_us);

    ew_buf_puts(b, "<table class=\"summary\">\n<tr><th>Counting since</th><td>");
    ew_html_time(b, snap->since_us);
    ew_buf_puts(b, "</td></tr>\n<tr><th>Now</th><td>");
    ew_html_time(b, snap->taken_us);
    ew_buf_printf(b, "</td></tr>\n<tr><th>Uptime</th><td>%lld seconds</td></tr>\n", uptime_s);
    ew_buf_printf(b, "<tr><th>Requests</th><td>%llu</td></tr>\n",
                  (unsigned long long)snap->requests_total);
    ew_buf_printf(b, "<tr><th>5xx responses</th><td>%llu</td></tr>\n",
                  (unsigned long long)snap->requests_by_class[5]);
    ew_buf_printf(b, "<tr><th>500 responses</th><td>%llu</td></tr>\n",
                  (unsigned long long)snap->errors_by_code[0]);
    ew_html_window_row(b, "5xx", snap->window_5xx);
    ew_html_window_row(b, "500", snap->window_500);
    ew_buf_printf(b,
                  "<tr><th>Files tracked</th><td>%u of %u (%llu evicted)</td></tr>\n"
                  "<tr><th>Failures recorded</th><td>%llu</td></tr>\n",
                  (unsigned)snap->files_total, (unsigned)snap->files_capacity,
                  (unsigned long long)snap->files_evicted,
                  (unsigned long long)snap->failures_recorded);
    ew_buf_puts(b, "</table>\n"
                   "<p>Machine-readable: <a href=\"?json\">?json</a> "
                   "<a href=\"?auto\">?auto</a> <a href=\"?metrics\">?metrics</a></p>\n");
}

static void ew_html_counts(ew_buf *b, const ew_snapshot *snap)
{
    static const char *const names[EW_CLASS_COUNT] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

    ew_buf_puts(b, "<h2>Requests</h2>\n<table class=\"classes\">\n"
                   "<tr><th>Class</th><th>Requests</th></tr>\n");
    for (int c = 1; c <= EW_CLASS_COUNT; c++) {
        int i = c % EW_CLASS_COUNT; /* 1xx..5xx, then other */
        ew_buf_printf(b, "<tr><td>%s</td>", names[i]);
        ew_html_td_u(b, snap->requests_by_class[i]);
        ew_buf_puts(b, "</tr>\n");
    }
    ew_buf_puts(b, "</table>\n");

    int any = 0;
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        if (snap->errors_by_code[i] == 0) {
            continue;
        }
        if (!any) {
            ew_buf_puts(b, "<table class=\"codes\">\n<tr><th>Status</th><th>Responses</th></tr>\n");
            any = 1;
        }
        ew_buf_printf(b, "<tr><td>%d</td>", EW_CODE_FIRST + i);
        ew_html_td_u(b, snap->errors_by_code[i]);
        ew_buf_puts(b, "</tr>\n");
    }
    if (any) {
        ew_buf_puts(b, "</table>\n");
    } else {
        ew_buf_puts(b, "<p>No 5xx responses.</p>\n");
    }
}

static void ew_html_handlers(ew_buf *b, const ew_snapshot *snap)
{
    ew_buf_puts(b, "<h2>By handler</h2>\n");
    if (snap->handlers_len == 0) {
        ew_buf_puts(b, "<p>No failures recorded.</p>\n");
        return;
    }
    ew_buf_puts(b, "<table class=\"handlers\">\n"
                   "<tr><th>Handler</th><th>Status</th><th>Count</th></tr>\n");
    for (uint32_t i = 0; i < snap->handlers_len; i++) {
        const ew_handler_stat *h = &snap->handlers[i];
        ew_buf_puts(b, "<tr>");
        ew_html_td(b, "mono", h->handler);
        ew_buf_printf(b, "<td>%u</td>", (unsigned)h->status);
        ew_html_td_u(b, h->count);
        ew_buf_puts(b, "</tr>\n");
    }
    ew_buf_puts(b, "</table>\n");
}

/* "5 min", "3 h": how many seconds apart two times are, for a reader. */
static void ew_html_span(ew_buf *b, long long s)
{
    s = s < 0 ? -s : s; /* never LLONG_MIN: seconds of an int64_t of microseconds */
    if (s < 120) {
        ew_buf_printf(b, "%lld s", s);
    } else if (s < 120LL * 60) {
        ew_buf_printf(b, "%lld min", s / 60);
    } else if (s < 48LL * 3600) {
        ew_buf_printf(b, "%lld h", s / 3600);
    } else {
        ew_buf_printf(b, "%lld days", s / 86400);
    }
}

/* What changed: "wp-settings.php modified 5 min before the first failure"
 * (the time on hover); after the first failure it is
 * marked, since a fix may be in; a file that could not be read is
 * "missing". name is what the line calls the file (NULL: "modified ..."
 * alone, in a row that names it already). */
static void ew_html_changed(ew_buf *b, const char *name, int64_t mtime_us, int64_t first_us,
                            const char *whose)
{
    if (mtime_us == EW_MTIME_UNREAD) {
        return;
    }
    int missing = mtime_us == EW_MTIME_MISSING;
    int after = !missing && mtime_us > first_us;
    /* The time on hover; never the path in a tag (file names are the
     * client's bytes: they stay in text, escaped). */
    ew_buf_printf(b, "<span class=\"changed%s\"", missing ? " missing" : after ? " after" : "");
    if (!missing) {
        char iso[EW_ISO_TIME_LEN];
        ew_format_iso_time(iso, mtime_us);
        ew_buf_printf(b, " title=\"modified %s\"", iso);
    }
    ew_buf_putc(b, '>');
    if (name != NULL) {
        ew_escape_html(b, name);
        ew_buf_putc(b, ' ');
    }
    if (missing) {
        ew_buf_puts(b, "missing (could not be read)");
    } else if (after) {
        ew_buf_puts(b, "modified ");
        ew_html_span(b, ew_changed_before_s(mtime_us, first_us));
        ew_buf_printf(b, " after %s first failure: a fix may be in", whose);
    } else {
        ew_buf_puts(b, "modified ");
        ew_html_span(b, ew_changed_before_s(mtime_us, first_us));
        ew_buf_printf(b, " before %s first failure", whose);
    }
    ew_buf_puts(b, "</span>");
}

static const char *ew_html_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* Failures grouped by cause, busiest first: above the files, since one
 * cause often fails many of them. */
static void ew_html_causes(ew_buf *b, const ew_snapshot *snap)
{
    uint32_t n = snap->causes != NULL ? snap->causes_len : 0;
    if (n == 0) {
        return;
    }
    ew_buf_puts(b, "<h2 id=\"causes\">Causes</h2>\n<div class=\"scroll\"><table class=\"causes\">\n"
                   "<tr><th>Count</th><th>Cause</th><th>Files</th><th>URIs</th>"
                   "<th>First seen</th><th>Last seen</th><th>What changed</th></tr>\n");
    for (uint32_t i = 0; i < n && i < EW_HTML_TOP_FILES; i++) {
        const ew_cause_stat *c = &snap->causes[i];
        char id[EW_CAUSE_ID_LEN];
        ew_format_cause_id(id, c->key);
        ew_buf_printf(b, "<tr id=\"cause-%s\">", id);
        ew_html_td_u(b, c->count);
        if (c->crashes == c->count) {
            ew_buf_puts(b, "<td class=\"crash msg\"><strong>");
            ew_escape_html(b, c->title);
            ew_buf_puts(b, "</strong></td>");
        } else {
            ew_html_td_message(b, c->title, 0);
        }
        ew_buf_puts(b, "<td class=\"mono\">");
        for (uint32_t k = 0; k < c->files_len && k < EW_CAUSE_TOP; k++) {
            ew_escape_html(b, c->files[k].text);
            ew_buf_printf(b, " (%llu)<br>", (unsigned long long)c->files[k].count);
        }
        ew_buf_printf(b, "%u file%s in all</td><td class=\"mono\">", (unsigned)c->files_total,
                      c->files_total == 1 ? "" : "s");
        for (uint32_t k = 0; k < c->uris_len && k < EW_CAUSE_TOP; k++) {
            if (k > 0) {
                ew_buf_puts(b, "<br>");
            }
            ew_escape_html(b, c->uris[k].text);
            ew_buf_printf(b, " (%llu)", (unsigned long long)c->uris[k].count);
        }
        ew_buf_puts(b, "</td><td>");
        ew_html_ago(b, snap->taken_us, c->first_seen_us);
        ew_buf_puts(b, "</td><td>");
        ew_html_ago(b, snap->taken_us, c->last_seen_us);
        ew_buf_puts(b, "</td><td>");
        for (uint32_t k = 0; k < c->changed_len && k < EW_CAUSE_NAMED; k++) {
            ew_html_changed(b, ew_html_basename(c->changed[k].path), c->changed[k].mtime_us,
                            c->first_seen_us, "the");
        }
        ew_buf_puts(b, "</td></tr>\n");
    }
    ew_buf_puts(b, "</table></div>\n");
}

/* The first n files; the page shows when each was first and last seen, the
 * /server-status section does not. */
static void ew_html_files_table(ew_buf *b, const ew_snapshot *snap, uint32_t n, int with_times)
{
    ew_buf_puts(b, "<table class=\"files\">\n<tr><th>File</th><th>Handler</th><th>Count</th>"
                   "<th>Last status</th>");
    if (with_times) {
        ew_buf_puts(b, "<th>First seen</th><th>Last seen</th>");
    }
    ew_buf_puts(b, "<th>Last message</th></tr>\n");
    for (uint32_t i = 0; i < n; i++) {
        const ew_file_stat *f = &snap->files[i];
        ew_buf_puts(b, "<tr>");
        if (with_times && f->script_mtime_us != EW_MTIME_UNREAD) {
            ew_buf_puts(b, "<td class=\"mono\">");
            ew_escape_html(b, f->file);
            ew_html_changed(b, NULL, f->script_mtime_us, f->first_seen_us, "its");
            ew_buf_puts(b, "</td>");
        } else {
            ew_html_td(b, "mono", f->file);
        }
        ew_html_td(b, NULL, f->handler);
        ew_html_td_u(b, f->count);
        if (f->crashes != 0) {
            ew_buf_printf(b, "<td class=\"crash\"><strong>%s, %llu crash%s</strong></td>",
                          f->last_status == 0 ? "crash" : "5xx", (unsigned long long)f->crashes,
                          f->crashes == 1 ? "" : "es");
        } else {
            ew_buf_printf(b, "<td>%u</td>", (unsigned)f->last_status);
        }
        if (with_times) {
            ew_buf_puts(b, "<td>");
            ew_html_ago(b, snap->taken_us, f->first_seen_us);
            ew_buf_puts(b, "</td><td>");
            ew_html_ago(b, snap->taken_us, f->last_seen_us);
            ew_buf_puts(b, "</td>");
        }
        ew_html_td_message(b, f->message, 0);
        ew_buf_puts(b, "</tr>\n");
    }
    ew_buf_puts(b, "</table>\n");
}

static void ew_html_files(ew_buf *b, const ew_snapshot *snap, const ew_html_options *opt)
{
    ew_buf_puts(b, opt->sort_by_last ? "<h2 id=\"files\">Failing files, latest first</h2>\n"
                                     : "<h2 id=\"files\">Top failing files</h2>\n");
    if (snap->files_len == 0) {
        ew_buf_puts(b, "<p>No failures recorded.</p>\n");
        return;
    }
    /* Links, not script: each view is its own URL. */
    ew_buf_puts(b, "<nav class=\"sort\">Sort: ");
    ew_buf_puts(b, opt->sort_by_last ? "<a href=\"" : "<strong>by count</strong> <a href=\"");
    if (opt->sort_by_last) {
        ew_html_query(b, opt, 0);
        ew_buf_puts(b, "#files\">by count</a> <strong>by last seen</strong>");
    } else {
        ew_html_query(b, opt, 1);
        ew_buf_puts(b, "#files\">by last seen</a>");
    }
    ew_buf_puts(b, "</nav>\n");
    uint32_t n = ew_html_min(snap->files_len, EW_HTML_TOP_FILES);
    if (n < snap->files_total) {
        ew_buf_printf(b, "<p>Showing %u of %u files.</p>\n", (unsigned)n,
                      (unsigned)snap->files_total);
    }
    ew_buf_puts(b, "<div class=\"scroll\">");
    ew_html_files_table(b, snap, n, 1);
    ew_buf_puts(b, "</div>\n");
}

static void ew_html_recent(ew_buf *b, const ew_snapshot *snap)
{
    ew_buf_puts(b, "<h2>Recent failures</h2>\n");
    if (snap->recent_len == 0) {
        ew_buf_puts(b, "<p>No failures recorded.</p>\n");
        return;
    }
    uint32_t n = ew_html_min(snap->recent_len, EW_HTML_RECENT);
    if (n < snap->recent_total) {
        ew_buf_printf(b, "<p>Showing the latest %u of %u.</p>\n", (unsigned)n,
                      (unsigned)snap->recent_total);
    }
    ew_buf_puts(b, "<div class=\"scroll\"><table "
                   "class=\"recent\">\n<tr><th>Time</th><th>Status</th><th>Method</th>"
                   "<th>URI</th><th>Virtual host</th><th>File</th><th>Handler</th>"
                   "<th>PID</th><th>Message</th></tr>\n");
    for (uint32_t i = 0; i < n; i++) {
        const ew_failure *f = &snap->recent[i];
        ew_buf_puts(b, "<tr><td>");
        ew_html_ago(b, snap->taken_us, f->time_us);
        if (f->crash_signal != 0) {
            /* No status was ever sent: say what happened instead. */
            char label[EW_SIGNAL_LABEL_MAX];
            const char *sig = ew_signal_label(f->crash_signal, label);
            ew_buf_printf(b,
                          "</td><td class=\"crash\"><strong>crash: %s</strong> (%u in "
                          "flight)</td>",
                          sig, (unsigned)f->in_flight);
        } else {
            ew_buf_printf(b, "</td><td>%u</td>", (unsigned)f->status);
        }
        ew_html_td(b, NULL, f->method);
        ew_buf_puts(b, "<td class=\"mono\">");
        ew_escape_html(b, f->uri);
        if (f->unique_id[0] != '\0' || f->trace_id[0] != '\0' || f->dd_trace_id[0] != '\0') {
            /* The ids that lead to the access-log line and the trace. */
            ew_buf_puts(b, "<span class=\"ids\">");
            const char *names[3] = {"id ", "trace ", "dd "};
            const char *ids[3] = {f->unique_id, f->trace_id, f->dd_trace_id};
            for (int k = 0; k < 3; k++) {
                if (ids[k][0] != '\0') {
                    ew_buf_puts(b, names[k]);
                    ew_escape_html(b, ids[k]);
                    ew_buf_putc(b, ' ');
                }
            }
            ew_buf_puts(b, "</span>");
        }
        ew_buf_puts(b, "</td>");
        ew_html_td(b, NULL, f->vhost);
        ew_html_td(b, "mono", f->file);
        ew_html_td(b, NULL, f->handler);
        ew_buf_printf(b, "<td>%lld</td>", (long long)f->pid);
        const char *story = snap->recent_story != NULL ? snap->recent_story[i] : NULL;
        ew_html_td_message(b, story != NULL ? story : f->message, story != NULL);
        ew_buf_puts(b, "</tr>\n");
    }
    ew_buf_puts(b, "</table></div>\n");
}

/* Starts, stops and restarts: where the evidence pauses. */
static void ew_html_events(ew_buf *b, const ew_snapshot *snap)
{
    if (snap->markers_len == 0) {
        return;
    }
    ew_buf_puts(b, "<h2>Server starts and restarts</h2>\n<ul class=\"events\">\n");
    for (uint32_t i = 0; i < snap->markers_len && i < 10; i++) {
        const ew_marker *m = &snap->markers[i];
        ew_buf_printf(b, "<li>%s ", ew_event_name(m->event));
        ew_html_ago(b, snap->taken_us, m->time_us);
        if (m->event == EW_EVENT_START && m->gap_us >= 0) {
            ew_buf_printf(b,
                          " (the state file was written %lld s before it: nothing was "
                          "recorded in between)",
                          (long long)(m->gap_us / 1000000));
        }
        ew_buf_puts(b, "</li>\n");
    }
    ew_buf_puts(b, "</ul>\n");
}

void ew_format_html_page(ew_buf *b, const ew_snapshot *snap, const ew_html_options *opt)
{
    ew_html_head(b, opt);
    ew_html_summary(b, snap);
    ew_format_html_chart(b, snap, 60, 1, "5xx per minute, last hour");
    ew_format_html_chart(b, snap, EW_HISTORY_MINUTES, 10, "5xx per 10 minutes, last 24 hours");
    ew_html_counts(b, snap);
    ew_html_handlers(b, snap);
    ew_html_causes(b, snap);
    ew_html_files(b, snap, opt);
    ew_html_recent(b, snap);
    ew_html_events(b, snap);
    ew_buf_puts(b, "</body>\n</html>\n");
}

void ew_format_html(ew_buf *b, const ew_snapshot *snap)
{
    ew_html_options plain = {0, 0};
    ew_format_html_page(b, snap, &plain);
}

void ew_format_html_section(ew_buf *b, const ew_snapshot *snap, int with_files)
{
    ew_buf_puts(b, "<hr />\n<h2>mod_errwatch</h2>\n<table class=\"summary\">\n");
    ew_buf_printf(b, "<tr><th>5xx responses</th><td>%llu</td></tr>\n",
                  (unsigned long long)snap->requests_by_class[5]);
    ew_buf_printf(b, "<tr><th>500 responses</th><td>%llu</td></tr>\n",
                  (unsigned long long)snap->errors_by_code[0]);
    ew_html_window_row(b, "5xx", snap->window_5xx);
    ew_html_window_row(b, "500", snap->window_500);
    ew_buf_puts(b, "</table>\n");
    if (!with_files) {
        ew_buf_puts(b, "<p>Failing files are shown to loopback clients only "
                       "(see ErrWatchAllowRemote).</p>\n");
        return;
    }
    uint32_t n = ew_html_min(snap->files_len, EW_HTML_SECTION_FILES);
    if (n == 0) {
        ew_buf_puts(b, "<p>No failures recorded.</p>\n");
        return;
    }
    ew_html_files_table(b, snap, n, 0);
}

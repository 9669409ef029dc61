/*
 * The HTML page's timeline: inline SVG bar charts of the per-minute
 * history (5xx per bar), with the server's starts, stops and restarts as
 * vertical lines and the minute each top failing file was first seen as a
 * dot. No JavaScript and no external assets: each bar, line and dot carries
 * a <title> (its exact figure on hover), and a text line under the chart
 * says the same for a terminal browser, which skips SVG. Every string from
 * the snapshot goes through ew_escape_html().
 */
#include <stdio.h>
#include <time.h>

#include <apr_strings.h>

#include "ew_escape.h"
#include "ew_format.h"

#define CHART_W 720
#define CHART_H 120
#define CHART_TOP 8
#define CHART_BOTTOM 20 /* room for the time labels */

/* "14:05" (UTC) of time_us. */
static void hh_mm(char out[8], int64_t time_us)
{
    time_t t = (time_t)(time_us / 1000000);
    struct tm tm;
    if (time_us < 0 || gmtime_r(&t, &tm) == NULL) {
        (void)snprintf(out, 8, "--:--");
        return;
    }
    (void)snprintf(out, 8, "%02d:%02d", tm.tm_hour % 24, tm.tm_min % 60);
}

/* x of a time within [from_us, to_us) on the chart's width. */
static double x_of(int64_t time_us, int64_t from_us, int64_t to_us)
{
    return (double)(time_us - from_us) * CHART_W / (double)(to_us - from_us);
}

typedef struct bar {
    int64_t start_us;
    uint64_t count_5xx, count_500, crashes;
} bar;

/* Bar i: minutes [i * per_bar, (i + 1) * per_bar) of h, added up. */
static bar sum_bar(const ew_history_minute *h, uint32_t i, uint32_t per_bar)
{
    size_t first = (size_t)i * per_bar;
    bar v = {.start_us = h[first].minute_us};
    for (size_t k = first; k < first + per_bar; k++) {
        v.count_5xx += h[k].count_5xx;
        v.count_500 += h[k].count_500;
        v.crashes += h[k].crashes;
    }
    return v;
}

static const char *marker_word(uint32_t event)
{
    return event == EW_EVENT_START ? "start" : event == EW_EVENT_STOP ? "stop" : "restart";
}

void ew_format_html_chart(ew_buf *b, const ew_snapshot *snap, uint32_t minutes, uint32_t per_bar,
                          const char *caption)
{
    if (snap->history_len < minutes || minutes == 0 || per_bar == 0 || minutes % per_bar != 0) {
        return;
    }
    const ew_history_minute *h = snap->history + (snap->history_len - minutes);
    uint32_t nbars = minutes / per_bar;
    int64_t from_us = h[0].minute_us;
    int64_t to_us = h[minutes - 1].minute_us + EW_MINUTE_US;
    uint64_t peak = 0, total = 0;
    int64_t peak_at = from_us;
    for (uint32_t i = 0; i < nbars; i++) {
        bar v = sum_bar(h, i, per_bar);
        uint64_t n = v.count_5xx + v.crashes;
        total += n;
        if (n > peak) {
            peak = n;
            peak_at = v.start_us;
        }
    }
    char from_label[8], to_label[8], peak_label[8];
    hh_mm(from_label, from_us);
    hh_mm(to_label, to_us);
    hh_mm(peak_label, peak_at);

    ew_buf_printf(b,
                  "<figure class=\"chart\">\n<figcaption>%s</figcaption>\n"
                  "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
                  "aria-label=\"%s: %llu failures\" xmlns=\"http://www.w3.org/2000/svg\">\n"
                  "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>\n",
                  caption, CHART_W, CHART_H, caption, (unsigned long long)total, CHART_W,
                  CHART_H - CHART_BOTTOM);
    double bar_w = (double)CHART_W / nbars;
    double plot_h = CHART_H - CHART_BOTTOM - CHART_TOP;
    for (uint32_t i = 0; i < nbars; i++) {
        bar v = sum_bar(h, i, per_bar);
        uint64_t n = v.count_5xx + v.crashes;
        if (n == 0) {
            continue;
        }
        double bh = plot_h * (double)n / (double)peak;
        if (bh < 1.5) {
            bh = 1.5; /* one failure stays visible next to a storm */
        }
        char at[8];
        hh_mm(at, v.start_us);
        ew_buf_printf(b,
                      "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                      "<title>%s UTC%s: %llu 5xx (%llu of them 500), %llu crash%s</title></rect>\n",
                      v.crashes != 0 ? "bar crash" : "bar", i * bar_w + 0.5,
                      CHART_TOP + plot_h - bh, bar_w > 2 ? bar_w - 1 : bar_w, bh, at,
                      per_bar > 1 ? apr_psprintf(b->pool, " + %u min", per_bar) : "",
                      (unsigned long long)v.count_5xx, (unsigned long long)v.count_500,
                      (unsigned long long)v.crashes, v.crashes == 1 ? "" : "es");
    }
    /* Starts, stops and restarts within the span. */
    for (uint32_t i = 0; i < snap->markers_len; i++) {
        const ew_marker *m = &snap->markers[i];
        if (m->time_us < from_us || m->time_us >= to_us) {
            continue;
        }
        double x = x_of(m->time_us, from_us, to_us);
        char iso[EW_ISO_TIME_LEN];
        ew_format_iso_time(iso, m->time_us);
        ew_buf_printf(b,
                      "<line class=\"mark\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\">"
                      "<title>server %s at %s</title></line>\n",
                      x, x, CHART_H - CHART_BOTTOM, marker_word(m->event), iso);
    }
    /* The minute each of the top files first failed. */
    for (uint32_t i = 0; i < snap->files_len && i < 5; i++) {
        const ew_file_stat *f = &snap->files[i];
        if (f->first_seen_us < from_us || f->first_seen_us >= to_us) {
            continue;
        }
        char iso[EW_ISO_TIME_LEN];
        ew_format_iso_time(iso, f->first_seen_us);
        ew_buf_printf(b, "<circle class=\"first\" cx=\"%.1f\" cy=\"%d\" r=\"4\"><title>",
                      x_of(f->first_seen_us, from_us, to_us), CHART_TOP);
        ew_escape_html(b, f->file);
        ew_buf_printf(b, " first failed at %s</title></circle>\n", iso);
    }
    ew_buf_printf(b,
                  "<text x=\"2\" y=\"%d\">%s</text>"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s UTC</text>\n</svg>\n",
                  CHART_H - 5, from_label, CHART_W - 2, CHART_H - 5, to_label);
    /* The same in words, for a reader without SVG. */
    ew_buf_printf(b, "<p class=\"chart-text\">%s: %llu failures", caption,
                  (unsigned long long)total);
    if (peak > 0) {
        ew_buf_printf(b, ", most in one bar %llu at %s UTC", (unsigned long long)peak, peak_label);
    }
    for (uint32_t i = 0; i < snap->markers_len; i++) {
        const ew_marker *m = &snap->markers[i];
        if (m->time_us >= from_us && m->time_us < to_us) {
            char at[8];
            hh_mm(at, m->time_us);
            ew_buf_printf(b, "; server %s at %s", marker_word(m->event), at);
        }
    }
    ew_buf_puts(b, ".</p>\n</figure>\n");
}

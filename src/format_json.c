/*
 * The ?json document. Compact, with a newline after each top-level member and
 * each array element so that it stays readable with curl alone:
 *
 *   {"since":"...","since_us":N,"now":"...","uptime_seconds":N,"latest_seq":N,
 *   "requests":{...},
 *   ...
 *   "status":{...},
 *   "window":{"500":{"1m":N,"5m":N,"15m":N},"5xx":{...}},
 *   "store":{...},
 *   "handlers":[
 *   {"handler":"...","status":N,"count":N}
 *   ],
 *   "files":[
 *   {...},
 *   {...}
 *   ],
 *   "recent":[
 *   {"seq":N,"time":"...",...}
 *   ]
 *   }
 */
#include "ew_escape.h"
#include "ew_format.h"

static void ew_json_time(ew_buf *b, int64_t time_us)
{
    char iso[EW_ISO_TIME_LEN];
    ew_format_iso_time(iso, time_us);
    ew_escape_json(b, iso);
}

static void ew_json_u(ew_buf *b, const char *key, uint64_t value)
{
    ew_buf_printf(b, "\"%s\":%llu", key, (unsigned long long)value);
}

static void ew_json_handlers(ew_buf *b, const ew_snapshot *snap)
{
    ew_buf_puts(b, "\"handlers\":[");
    for (uint32_t i = 0; i < snap->handlers_len; i++) {
        const ew_handler_stat *h = &snap->handlers[i];
        ew_buf_puts(b, i == 0 ? "\n{\"handler\":" : ",\n{\"handler\":");
        ew_escape_json(b, h->handler);
        ew_buf_printf(b, ",\"status\":%u,", (unsigned)h->status);
        ew_json_u(b, "count", h->count);
        ew_buf_putc(b, '}');
    }
    ew_buf_puts(b, snap->handlers_len > 0 ? "\n]" : "]");
}

static void ew_json_files(ew_buf *b, const ew_snapshot *snap)
{
    ew_buf_puts(b, "\"files\":[");
    for (uint32_t i = 0; i < snap->files_len; i++) {
        const ew_file_stat *f = &snap->files[i];
        ew_buf_puts(b, i == 0 ? "\n{\"file\":" : ",\n{\"file\":");
        ew_escape_json(b, f->file);
        ew_buf_puts(b, ",\"handler\":");
        ew_escape_json(b, f->handler);
        ew_buf_putc(b, ',');
        ew_json_u(b, "count", f->count);
        ew_buf_printf(b, ",\"last_status\":%u,\"first_seen\":", (unsigned)f->last_status);
        ew_json_time(b, f->first_seen_us);
        ew_buf_puts(b, ",\"last_seen\":");
        ew_json_time(b, f->last_seen_us);
        ew_buf_puts(b, ",\"message\":");
        ew_escape_json(b, f->message);
        ew_buf_putc(b, '}');
    }
    ew_buf_puts(b, snap->files_len > 0 ? "\n]" : "]");
}

static void ew_json_recent(ew_buf *b, const ew_snapshot *snap)
{
    ew_buf_puts(b, "\"recent\":[");
    for (uint32_t i = 0; i < snap->recent_len; i++) {
        const ew_failure *f = &snap->recent[i];
        ew_buf_printf(b, "%s{\"seq\":%llu,\"time\":", i == 0 ? "\n" : ",\n",
                      (unsigned long long)f->seq);
        ew_json_time(b, f->time_us);
        ew_buf_printf(b, ",\"time_us\":%lld,\"status\":%u,\"method\":", (long long)f->time_us,
                      (unsigned)f->status);
        ew_escape_json(b, f->method);
        ew_buf_puts(b, ",\"uri\":");
        ew_escape_json(b, f->uri);
        ew_buf_puts(b, ",\"vhost\":");
        ew_escape_json(b, f->vhost);
        ew_buf_puts(b, ",\"file\":");
        ew_escape_json(b, f->file);
        ew_buf_puts(b, ",\"handler\":");
        ew_escape_json(b, f->handler);
        ew_buf_printf(b, ",\"pid\":%lld,\"duration_us\":%lld,\"message\":", (long long)f->pid,
                      (long long)f->duration_us);
        ew_escape_json(b, f->message);
        ew_buf_putc(b, '}');
    }
    ew_buf_puts(b, snap->recent_len > 0 ? "\n]" : "]");
}

void ew_format_json(ew_buf *b, const ew_snapshot *snap)
{
    long long uptime_s = ew_elapsed_s(snap->since_us, snap->taken_us);

    ew_buf_puts(b, "{\"since\":");
    ew_json_time(b, snap->since_us);
    ew_buf_printf(b, ",\"since_us\":%lld,\"now\":", (long long)snap->since_us);
    ew_json_time(b, snap->taken_us);
    ew_buf_printf(b, ",\"uptime_seconds\":%lld,\"latest_seq\":%llu,\n", uptime_s,
                  (unsigned long long)snap->failures_recorded);

    ew_buf_puts(b, "\"requests\":{");
    ew_json_u(b, "total", snap->requests_total);
    for (int c = 1; c <= 5; c++) {
        ew_buf_printf(b, ",\"%dxx\":%llu", c, (unsigned long long)snap->requests_by_class[c]);
    }
    ew_buf_putc(b, ',');
    ew_json_u(b, "other", snap->requests_by_class[EW_CLASS_OTHER]);
    ew_buf_puts(b, "},\n");

    ew_json_u(b, "bytes_sent", snap->bytes_sent);
    ew_buf_puts(b, ",\n");

    ew_buf_puts(b, "\"status\":{");
    int first = 1;
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        if (snap->errors_by_code[i] != 0) {
            ew_buf_printf(b, "%s\"%d\":%llu", first ? "" : ",", EW_CODE_FIRST + i,
                          (unsigned long long)snap->errors_by_code[i]);
            first = 0;
        }
    }
    ew_buf_puts(b, "},\n");

    ew_buf_puts(b, "\"window\":{");
    for (int s = 0; s < 2; s++) {
        const uint64_t *w = s == 0 ? snap->window_500 : snap->window_5xx;
        ew_buf_puts(b, s == 0 ? "\"500\":{" : ",\"5xx\":{");
        for (int i = 0; i < EW_WINDOW_COUNT; i++) {
            ew_buf_printf(b, "%s\"%dm\":%llu", i == 0 ? "" : ",", ew_window_minutes[i],
                          (unsigned long long)w[i]);
        }
        ew_buf_putc(b, '}');
    }
    ew_buf_puts(b, "},\n");

    ew_buf_puts(b, "\"store\":{");
    ew_json_u(b, "files_capacity", snap->files_capacity);
    ew_buf_putc(b, ',');
    ew_json_u(b, "files_tracked", snap->files_len);
    ew_buf_putc(b, ',');
    ew_json_u(b, "files_evicted", snap->files_evicted);
    ew_buf_putc(b, ',');
    ew_json_u(b, "recent_capacity", snap->recent_capacity);
    ew_buf_putc(b, ',');
    ew_json_u(b, "failures_recorded", snap->failures_recorded);
    ew_buf_putc(b, ',');
    ew_json_u(b, "lock_recoveries", snap->lock_recoveries);
    /* What the two shared segments hold (src/shm.c maps each with 64 more
     * bytes for alignment): the figures an operator sizes memory by. */
    ew_buf_putc(b, ',');
    ew_json_u(b, "shm_header_bytes", ew_store_header_size());
    ew_buf_putc(b, ',');
    ew_json_u(b, "shm_tables_bytes",
              ew_store_tables_size(snap->files_capacity, snap->recent_capacity));
    ew_buf_puts(b, "},\n");

    ew_json_handlers(b, snap);
    ew_buf_puts(b, ",\n");
    ew_json_files(b, snap);
    ew_buf_puts(b, ",\n");
    ew_json_recent(b, snap);
    ew_buf_puts(b, "\n}\n");
}

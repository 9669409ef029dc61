/*
 * The lines of a live tail (?tail). One failure is always exactly one line:
 * every field is escaped so that no byte of a URI, file name or message can
 * end it early.
 *
 * Text (the default): a failure is a line that starts with its time, then
 * space-separated fields; every other line is a comment starting with "# ".
 *
 *   2026-12-02T00:10:00.123456Z 500 GET /wp/2024/hello/ seq=7
 *       handler=application/x-httpd-php file=/srv/wp/index.php msg="PHP ..."
 *   # keep-alive 2026-12-02T00:10:15.000000Z
 *
 * JSON (format=json): NDJSON, one object per line, each with a "type":
 * start, failure, keepalive, gap, ahead, end.
 */
#include "ew_escape.h"
#include "ew_format.h"
#include "ew_slots.h"

static void ew_tail_time(ew_buf *b, int64_t time_us, int json)
{
    char iso[EW_ISO_TIME_LEN];
    ew_format_iso_time(iso, time_us);
    if (json) {
        ew_escape_json(b, iso);
    } else {
        ew_buf_puts(b, iso);
    }
}

void ew_format_tail_failure(ew_buf *b, const ew_failure *f, int json)
{
    if (json) {
        ew_buf_puts(b, "{\"type\":\"failure\",");
        ew_format_json_failure_members(b, f);
        ew_buf_puts(b, "}\n");
        return;
    }
    ew_tail_time(b, f->time_us, 0);
    ew_buf_printf(b, " %u ", (unsigned)f->status);
    ew_escape_tail_field(b, f->method, 0);
    ew_buf_putc(b, ' ');
    ew_escape_tail_field(b, f->uri, 0);
    ew_buf_printf(b, " seq=%llu", (unsigned long long)f->seq);
    if (f->crash_signal != 0) {
        char sig[EW_SIGNAL_LABEL_MAX];
        ew_buf_printf(b, " crash=%s in_flight=%u", ew_signal_label(f->crash_signal, sig),
                      (unsigned)f->in_flight);
    }
    ew_buf_puts(b, " handler=");
    ew_escape_tail_field(b, f->handler, 0);
    ew_buf_puts(b, " file=");
    ew_escape_tail_field(b, f->file, 0);
    /* The cause and the ids before the message, which stays last (it is
     * the one quoted field). */
    if (f->cause_key != 0) {
        char id[EW_CAUSE_ID_LEN];
        ew_format_cause_id(id, f->cause_key);
        ew_buf_puts(b, " cause=");
        ew_buf_puts(b, id);
    }
    if (f->unique_id[0] != '\0') {
        ew_buf_puts(b, " unique_id=");
        ew_escape_tail_field(b, f->unique_id, 0);
    }
    if (f->trace_id[0] != '\0') {
        ew_buf_puts(b, " trace_id=");
        ew_escape_tail_field(b, f->trace_id, 0);
    }
    if (f->dd_trace_id[0] != '\0') {
        ew_buf_puts(b, " dd_trace_id=");
        ew_escape_tail_field(b, f->dd_trace_id, 0);
    }
    ew_buf_puts(b, " msg=");
    ew_escape_tail_field(b, f->message, 1);
    ew_buf_putc(b, '\n');
}

void ew_format_tail_start(ew_buf *b, int json, const ew_tail_info *info)
{
    if (json) {
        ew_buf_printf(b,
                      "{\"type\":\"start\",\"latest_seq\":%llu,\"pid\":%lld,"
                      "\"keepalive_seconds\":%u,\"max_seconds\":%u,\"time\":",
                      (unsigned long long)info->latest_seq, (long long)info->pid, info->keepalive_s,
                      info->max_s);
        ew_tail_time(b, info->now_us, 1);
        ew_buf_puts(b, "}\n");
        return;
    }
    ew_buf_printf(b,
                  "# errwatch tail: latest seq %llu, served by pid %lld; a keep-alive line every "
                  "%u s when idle, closes after %u s\n",
                  (unsigned long long)info->latest_seq, (long long)info->pid, info->keepalive_s,
                  info->max_s);
}

void ew_format_tail_keepalive(ew_buf *b, int json, int64_t now_us)
{
    ew_buf_puts(b, json ? "{\"type\":\"keepalive\",\"time\":" : "# keep-alive ");
    ew_tail_time(b, now_us, json);
    ew_buf_puts(b, json ? "}\n" : "\n");
}

void ew_format_tail_gap(ew_buf *b, int json, uint64_t first_missing, uint64_t last_missing,
                        uint32_t ring_capacity)
{
    if (json) {
        ew_buf_printf(b,
                      "{\"type\":\"gap\",\"first_seq\":%llu,\"last_seq\":%llu,"
                      "\"ring_capacity\":%u}\n",
                      (unsigned long long)first_missing, (unsigned long long)last_missing,
                      ring_capacity);
        return;
    }
    ew_buf_printf(b,
                  "# gap: failures seq %llu to %llu were recorded but the ring no longer holds "
                  "them (it keeps the newest %u; see ErrWatchRecent)\n",
                  (unsigned long long)first_missing, (unsigned long long)last_missing,
                  ring_capacity);
}

void ew_format_tail_ahead(ew_buf *b, int json, uint64_t since, uint64_t latest_seq)
{
    if (json) {
        ew_buf_printf(b, "{\"type\":\"ahead\",\"since\":%llu,\"latest_seq\":%llu}\n",
                      (unsigned long long)since, (unsigned long long)latest_seq);
        return;
    }
    ew_buf_printf(b,
                  "# since=%llu is past the latest seq %llu (was the store reset?); following "
                  "from %llu\n",
                  (unsigned long long)since, (unsigned long long)latest_seq,
                  (unsigned long long)latest_seq);
}

void ew_format_tail_end(ew_buf *b, int json, ew_tail_end reason, uint64_t last_seq)
{
    const char *why = reason == EW_TAIL_END_MAX_TIME ? "max_time" : "stopping";
    if (json) {
        ew_buf_printf(b, "{\"type\":\"end\",\"reason\":\"%s\",\"last_seq\":%llu}\n", why,
                      (unsigned long long)last_seq);
        return;
    }
    ew_buf_printf(b, "# end: %s; resume with ?tail&since=%llu\n",
                  reason == EW_TAIL_END_MAX_TIME ? "open for ErrWatchTailMaxTime"
                                                 : "the server is restarting or stopping",
                  (unsigned long long)last_seq);
}

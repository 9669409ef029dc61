/*
 * The ?json document. Compact, with a newline after each top-level member and
 * each array element so that it stays readable with curl alone:
 *
 *   {"version":"x.y.z","since":"...","since_us":N,"now":"...","uptime_seconds":N,"latest_seq":N,
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
#include <string.h>

#include "ew_escape.h"
#include <apr_strings.h>

#include "ew_format.h"
#include "ew_version.h"
#include "ew_slots.h"

/* A page of 1,024 files and 256 failures is ~100,000 appends: keys go in as
 * literals (EW_BUF_LIT), numbers and timestamps are formatted by hand, and
 * the buffer is sized once for the whole document. */

static void ew_json_time(ew_buf *b, int64_t time_us)
{
    /* The ISO text needs no escaping: quote, 27 characters, quote. */
    char *out = ew_buf_room(b, EW_ISO_TIME_LEN + 1);
    out[0] = '"';
    ew_format_iso_time(out + 1, time_us);
    out[EW_ISO_TIME_LEN] = '"';
    ew_buf_commit(b, EW_ISO_TIME_LEN + 1);
}

/* A bound on the document's size, so that it is built without regrowing:
 * the fixed part of each row plus its strings, which escaping rarely
 * lengthens (when it does, the buffer grows as usual). */
static size_t ew_json_size_hint(const ew_snapshot *snap)
{
    size_t n = 1024 + (size_t)snap->handlers_len * (EW_HANDLER_MAX + 64);
    for (uint32_t i = 0; i < snap->files_len; i++) {
        const ew_file_stat *f = &snap->files[i];
        n += 192 + strlen(f->file) + strlen(f->handler) + strlen(f->message);
    }
    n += (size_t)snap->causes_len * sizeof(ew_cause_stat);
    for (uint32_t i = 0; i < snap->recent_len; i++) {
        const ew_failure *f = &snap->recent[i];
        n += 256 + strlen(f->method) + strlen(f->uri) + strlen(f->vhost) + strlen(f->file) +
             strlen(f->handler) + strlen(f->message);
    }
    return n;
}

static void ew_json_signal(ew_buf *b, int signal)
{
    char buf[EW_SIGNAL_LABEL_MAX];
    ew_buf_putc(b, '"');
    ew_buf_puts(b, ew_signal_label(signal, buf));
    ew_buf_putc(b, '"');
}

void ew_format_cause_id(char out[EW_CAUSE_ID_LEN], uint64_t key)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[key & 0xf];
        key >>= 4;
    }
    out[16] = '\0';
}

static void ew_json_cause_ref(ew_buf *b, uint64_t key)
{
    if (key == 0) {
        EW_BUF_LIT(b, "null");
        return;
    }
    char id[EW_CAUSE_ID_LEN];
    ew_format_cause_id(id, key);
    ew_buf_putc(b, '"');
    ew_buf_append(b, id, 16);
    ew_buf_putc(b, '"');
}

/* {"path","mtime","missing","before_first_failure_s","after_first_failure"}
 * for a file read at mtime_us (EW_MTIME_MISSING: could not be read),
 * against the first failure it is shown with. */
static void ew_json_changed(ew_buf *b, const char *path, int64_t mtime_us, int64_t first_us)
{
    int missing = mtime_us == EW_MTIME_MISSING;
    EW_BUF_LIT(b, "{\"path\":");
    ew_escape_json(b, path);
    EW_BUF_LIT(b, ",\"mtime\":");
    if (missing) {
        EW_BUF_LIT(b, "null,\"missing\":true,\"before_first_failure_s\":null,"
                      "\"after_first_failure\":false}");
        return;
    }
    ew_json_time(b, mtime_us);
    EW_BUF_LIT(b, ",\"missing\":false,\"before_first_failure_s\":");
    ew_buf_put_i64(b, ew_changed_before_s(mtime_us, first_us));
    if (mtime_us > first_us) {
        EW_BUF_LIT(b, ",\"after_first_failure\":true}");
    } else {
        EW_BUF_LIT(b, ",\"after_first_failure\":false}");
    }
}

static void ew_json_refs(ew_buf *b, const ew_cause_ref *refs, uint32_t n, int uris)
{
    ew_buf_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            ew_buf_putc(b, ',');
        }
        if (uris) {
            EW_BUF_LIT(b, "{\"uri\":");
        } else {
            EW_BUF_LIT(b, "{\"file\":");
        }
        ew_escape_json(b, refs[i].text);
        EW_BUF_LIT(b, ",\"count\":");
        ew_buf_put_u64(b, refs[i].count);
        ew_buf_putc(b, '}');
    }
    ew_buf_putc(b, ']');
}

/* "causes":[...]: failures grouped by cause, busiest first. */
static void ew_json_causes(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "\"causes_total\":");
    ew_buf_put_u64(b, snap->causes_total);
    EW_BUF_LIT(b, ",\"causes_evicted\":");
    ew_buf_put_u64(b, snap->causes_evicted);
    EW_BUF_LIT(b, ",\"causes\":[");
    uint32_t n = snap->causes != NULL ? snap->causes_len : 0;
    for (uint32_t i = 0; i < n; i++) {
        const ew_cause_stat *c = &snap->causes[i];
        if (i == 0) {
            EW_BUF_LIT(b, "\n{\"id\":");
        } else {
            EW_BUF_LIT(b, ",\n{\"id\":");
        }
        ew_json_cause_ref(b, c->key);
        EW_BUF_LIT(b, ",\"title\":");
        ew_escape_json(b, c->title);
        EW_BUF_LIT(b, ",\"count\":");
        ew_buf_put_u64(b, c->count);
        EW_BUF_LIT(b, ",\"crashes\":");
        ew_buf_put_u64(b, c->crashes);
        EW_BUF_LIT(b, ",\"first_seen\":");
        ew_json_time(b, c->first_seen_us);
        EW_BUF_LIT(b, ",\"last_seen\":");
        ew_json_time(b, c->last_seen_us);
        EW_BUF_LIT(b, ",\"last_status\":");
        ew_buf_put_u64(b, c->last_status);
        EW_BUF_LIT(b, ",\"handler\":");
        ew_escape_json(b, c->handler);
        EW_BUF_LIT(b, ",\"message\":");
        ew_escape_json(b, c->message);
        EW_BUF_LIT(b, ",\"story\":");
        ew_escape_json(b, c->story);
        EW_BUF_LIT(b, ",\"files_total\":");
        ew_buf_put_u64(b, c->files_total);
        EW_BUF_LIT(b, ",\"files\":");
        ew_json_refs(b, c->files, c->files_len < EW_CAUSE_TOP ? c->files_len : EW_CAUSE_TOP, 0);
        EW_BUF_LIT(b, ",\"uris\":");
        ew_json_refs(b, c->uris, c->uris_len < EW_CAUSE_TOP ? c->uris_len : EW_CAUSE_TOP, 1);
        EW_BUF_LIT(b, ",\"changed\":[");
        int shown = 0;
        for (uint32_t k = 0; k < c->changed_len && k < EW_CAUSE_NAMED; k++) {
            if (c->changed[k].mtime_us == EW_MTIME_UNREAD) {
                continue;
            }
            if (shown++ > 0) {
                ew_buf_putc(b, ',');
            }
            ew_json_changed(b, c->changed[k].path, c->changed[k].mtime_us, c->first_seen_us);
        }
        EW_BUF_LIT(b, "]}");
    }
    if (n > 0) {
        EW_BUF_LIT(b, "\n]");
    } else {
        EW_BUF_LIT(b, "]");
    }
}

static void ew_json_handlers(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "\"handlers\":[");
    for (uint32_t i = 0; i < snap->handlers_len; i++) {
        const ew_handler_stat *h = &snap->handlers[i];
        if (i == 0) {
            EW_BUF_LIT(b, "\n{\"handler\":");
        } else {
            EW_BUF_LIT(b, ",\n{\"handler\":");
        }
        ew_escape_json(b, h->handler);
        EW_BUF_LIT(b, ",\"status\":");
        ew_buf_put_u64(b, h->status);
        EW_BUF_LIT(b, ",\"count\":");
        ew_buf_put_u64(b, h->count);
        ew_buf_putc(b, '}');
    }
    if (snap->handlers_len > 0) {
        EW_BUF_LIT(b, "\n]");
    } else {
        EW_BUF_LIT(b, "]");
    }
}

static void ew_json_files(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "\"files\":[");
    for (uint32_t i = 0; i < snap->files_len; i++) {
        const ew_file_stat *f = &snap->files[i];
        if (i == 0) {
            EW_BUF_LIT(b, "\n{\"file\":");
        } else {
            EW_BUF_LIT(b, ",\n{\"file\":");
        }
        ew_escape_json(b, f->file);
        EW_BUF_LIT(b, ",\"handler\":");
        ew_escape_json(b, f->handler);
        EW_BUF_LIT(b, ",\"count\":");
        ew_buf_put_u64(b, f->count);
        EW_BUF_LIT(b, ",\"last_status\":");
        ew_buf_put_u64(b, f->last_status);
        EW_BUF_LIT(b, ",\"crashes\":");
        ew_buf_put_u64(b, f->crashes);
        EW_BUF_LIT(b, ",\"first_seen\":");
        ew_json_time(b, f->first_seen_us);
        EW_BUF_LIT(b, ",\"last_seen\":");
        ew_json_time(b, f->last_seen_us);
        EW_BUF_LIT(b, ",\"message\":");
        ew_escape_json(b, f->message);
        EW_BUF_LIT(b, ",\"cause\":");
        ew_json_cause_ref(b, f->cause_key);
        EW_BUF_LIT(b, ",\"changed\":");
        if (f->script_mtime_us == EW_MTIME_UNREAD) {
            EW_BUF_LIT(b, "null");
        } else {
            ew_json_changed(b, f->file, f->script_mtime_us, f->first_seen_us);
        }
        ew_buf_putc(b, '}');
    }
    if (snap->files_len > 0) {
        EW_BUF_LIT(b, "\n]");
    } else {
        EW_BUF_LIT(b, "]");
    }
}

/* The members of one failure object, shared with the NDJSON tail so that
 * its failure lines stay exactly ?json's recent entries. */
void ew_format_json_failure_members(ew_buf *b, const ew_failure *f)
{
    EW_BUF_LIT(b, "\"seq\":");
    ew_buf_put_u64(b, f->seq);
    EW_BUF_LIT(b, ",\"time\":");
    ew_json_time(b, f->time_us);
    EW_BUF_LIT(b, ",\"time_us\":");
    ew_buf_put_i64(b, f->time_us);
    EW_BUF_LIT(b, ",\"status\":");
    ew_buf_put_u64(b, f->status);
    EW_BUF_LIT(b, ",\"method\":");
    ew_escape_json(b, f->method);
    EW_BUF_LIT(b, ",\"uri\":");
    ew_escape_json(b, f->uri);
    EW_BUF_LIT(b, ",\"vhost\":");
    ew_escape_json(b, f->vhost);
    EW_BUF_LIT(b, ",\"file\":");
    ew_escape_json(b, f->file);
    EW_BUF_LIT(b, ",\"handler\":");
    ew_escape_json(b, f->handler);
    EW_BUF_LIT(b, ",\"pid\":");
    ew_buf_put_i64(b, f->pid);
    EW_BUF_LIT(b, ",\"duration_us\":");
    ew_buf_put_i64(b, f->duration_us);
    EW_BUF_LIT(b, ",\"message\":");
    ew_escape_json(b, f->message);
    if (f->crash_signal != 0) {
        EW_BUF_LIT(b, ",\"crash\":");
        ew_json_signal(b, f->crash_signal);
        EW_BUF_LIT(b, ",\"in_flight\":");
        ew_buf_put_u64(b, f->in_flight);
    }
    EW_BUF_LIT(b, ",\"cause\":");
    ew_json_cause_ref(b, f->cause_key);
    /* The ids only when the request had them (ew_ids.h keeps them safe,
     * escaped all the same). */
    if (f->unique_id[0] != '\0') {
        EW_BUF_LIT(b, ",\"unique_id\":");
        ew_escape_json(b, f->unique_id);
    }
    if (f->trace_id[0] != '\0') {
        EW_BUF_LIT(b, ",\"trace_id\":");
        ew_escape_json(b, f->trace_id);
    }
    if (f->dd_trace_id[0] != '\0') {
        EW_BUF_LIT(b, ",\"dd_trace_id\":");
        ew_escape_json(b, f->dd_trace_id);
    }
}

/* ,"messages":[...]: the error story, one string per line. */
static void ew_json_story(ew_buf *b, const char *story)
{
    EW_BUF_LIT(b, ",\"messages\":[");
    const char *p = story;
    for (int first = 1;; first = 0) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (!first) {
            ew_buf_putc(b, ',');
        }
        ew_escape_json(b, apr_pstrndup(b->pool, p, n));
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
    ew_buf_putc(b, ']');
}

static void ew_json_recent(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "\"recent\":[");
    for (uint32_t i = 0; i < snap->recent_len; i++) {
        if (i == 0) {
            EW_BUF_LIT(b, "\n{");
        } else {
            EW_BUF_LIT(b, ",\n{");
        }
        ew_format_json_failure_members(b, &snap->recent[i]);
        if (snap->recent_story != NULL && snap->recent_story[i] != NULL) {
            ew_json_story(b, snap->recent_story[i]);
        }
        ew_buf_putc(b, '}');
    }
    if (snap->recent_len > 0) {
        EW_BUF_LIT(b, "\n]");
    } else {
        EW_BUF_LIT(b, "]");
    }
}

static const char *const ew_event_names[] = {"failure", "start", "stop", "restart"};

const char *ew_event_name(uint32_t event)
{
    return event < sizeof(ew_event_names) / sizeof(ew_event_names[0]) ? ew_event_names[event]
                                                                      : "unknown";
}

/* "events": the timeline's starts, stops and restarts, newest first, with
 * the gap (a start: seconds since the state file was last written; null
 * when not known). Kept out of "recent", which stays failures only. */
static void ew_json_events(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "\"events\":[");
    for (uint32_t i = 0; i < snap->markers_len; i++) {
        const ew_marker *m = &snap->markers[i];
        if (i > 0) {
            EW_BUF_LIT(b, ",");
        }
        EW_BUF_LIT(b, "\n{\"event\":\"");
        ew_buf_puts(b, ew_event_name(m->event));
        EW_BUF_LIT(b, "\",\"time\":");
        ew_json_time(b, m->time_us);
        EW_BUF_LIT(b, ",\"gap_s\":");
        if (m->gap_us >= 0) {
            ew_buf_put_u64(b, (uint64_t)(m->gap_us / 1000000));
        } else {
            EW_BUF_LIT(b, "null");
        }
        EW_BUF_LIT(b, "}");
    }
    EW_BUF_LIT(b, "]");
}

/* "history": per-minute counts as parallel arrays from `start` (the first
 * minute's start, Unix seconds) in steps of 60 s: compact for a chart or a
 * poller. */
static void ew_json_history_member(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "\"history\":{\"start\":");
    ew_buf_put_u64(b, snap->history_len > 0 && snap->history[0].minute_us > 0
                          ? (uint64_t)(snap->history[0].minute_us / 1000000)
                          : 0);
    EW_BUF_LIT(b, ",\"step\":60,\"minutes\":");
    ew_buf_put_u64(b, snap->history_len);
    static const char *const names[] = {"5xx", "500", "crashes"};
    for (int k = 0; k < 3; k++) {
        EW_BUF_LIT(b, ",\"");
        ew_buf_puts(b, names[k]);
        EW_BUF_LIT(b, "\":[");
        for (uint32_t i = 0; i < snap->history_len; i++) {
            const ew_history_minute *m = &snap->history[i];
            if (i > 0) {
                EW_BUF_LIT(b, ",");
            }
            ew_buf_put_u64(b, k == 0 ? m->count_5xx : k == 1 ? m->count_500 : m->crashes);
        }
        EW_BUF_LIT(b, "]");
    }
    EW_BUF_LIT(b, "}");
}

void ew_format_json_history(ew_buf *b, const ew_snapshot *snap)
{
    EW_BUF_LIT(b, "{");
    ew_json_history_member(b, snap);
    EW_BUF_LIT(b, ",\n");
    ew_json_events(b, snap);
    EW_BUF_LIT(b, "\n}\n");
}

void ew_format_json(ew_buf *b, const ew_snapshot *snap)
{
    long long uptime_s = ew_elapsed_s(snap->since_us, snap->taken_us);

    (void)ew_buf_room(b, ew_json_size_hint(snap));
    EW_BUF_LIT(b, "{\"version\":\"" EW_VERSION "\",\"since\":");
    ew_json_time(b, snap->since_us);
    EW_BUF_LIT(b, ",\"since_us\":");
    ew_buf_put_i64(b, snap->since_us);
    EW_BUF_LIT(b, ",\"now\":");
    ew_json_time(b, snap->taken_us);
    EW_BUF_LIT(b, ",\"uptime_seconds\":");
    ew_buf_put_i64(b, uptime_s);
    EW_BUF_LIT(b, ",\"latest_seq\":");
    ew_buf_put_u64(b, snap->failures_recorded);
    EW_BUF_LIT(b, ",\n");

    EW_BUF_LIT(b, "\"requests\":{\"total\":");
    ew_buf_put_u64(b, snap->requests_total);
    for (int c = 1; c <= 5; c++) {
        char key[8] = {',', '"', (char)('0' + c), 'x', 'x', '"', ':', '\0'};
        ew_buf_append(b, key, 7);
        ew_buf_put_u64(b, snap->requests_by_class[c]);
    }
    EW_BUF_LIT(b, ",\"other\":");
    ew_buf_put_u64(b, snap->requests_by_class[EW_CLASS_OTHER]);
    EW_BUF_LIT(b, "},\n");

    EW_BUF_LIT(b, "\"bytes_sent\":");
    ew_buf_put_u64(b, snap->bytes_sent);
    EW_BUF_LIT(b, ",\n");

    /* Requests lost with a child killed by a signal, in total and by
     * signal. */
    EW_BUF_LIT(b, "\"crashes\":");
    ew_buf_put_u64(b, snap->crashes_total);
    EW_BUF_LIT(b, ",\"crashes_by_signal\":{");
    int first_signal = 1;
    for (int i = 0; i < EW_SIGNAL_COUNT; i++) {
        if (snap->crashes_by_signal[i] != 0) {
            if (!first_signal) {
                ew_buf_putc(b, ',');
            }
            ew_json_signal(b, i);
            ew_buf_putc(b, ':');
            ew_buf_put_u64(b, snap->crashes_by_signal[i]);
            first_signal = 0;
        }
    }
    EW_BUF_LIT(b, "},\n");

    EW_BUF_LIT(b, "\"status\":{");
    int first = 1;
    for (int i = 0; i < EW_CODE_COUNT; i++) {
        if (snap->errors_by_code[i] != 0) {
            ew_buf_printf(b, "%s\"%d\":%llu", first ? "" : ",", EW_CODE_FIRST + i,
                          (unsigned long long)snap->errors_by_code[i]);
            first = 0;
        }
    }
    EW_BUF_LIT(b, "},\n");

    EW_BUF_LIT(b, "\"window\":{");
    for (int s = 0; s < 2; s++) {
        const uint64_t *w = s == 0 ? snap->window_500 : snap->window_5xx;
        ew_buf_puts(b, s == 0 ? "\"500\":{" : ",\"5xx\":{");
        for (int i = 0; i < EW_WINDOW_COUNT; i++) {
            ew_buf_printf(b, "%s\"%dm\":%llu", i == 0 ? "" : ",", ew_window_minutes[i],
                          (unsigned long long)w[i]);
        }
        ew_buf_putc(b, '}');
    }
    EW_BUF_LIT(b, "},\n");

    EW_BUF_LIT(b, "\"store\":{\"files_capacity\":");
    ew_buf_put_u64(b, snap->files_capacity);
    EW_BUF_LIT(b, ",\"files_tracked\":");
    ew_buf_put_u64(b, snap->files_total);
    EW_BUF_LIT(b, ",\"files_evicted\":");
    ew_buf_put_u64(b, snap->files_evicted);
    EW_BUF_LIT(b, ",\"recent_capacity\":");
    ew_buf_put_u64(b, snap->recent_capacity);
    EW_BUF_LIT(b, ",\"failures_recorded\":");
    ew_buf_put_u64(b, snap->failures_recorded);
    EW_BUF_LIT(b, ",\"lock_recoveries\":");
    ew_buf_put_u64(b, snap->lock_recoveries);
    EW_BUF_LIT(b, ",\"tail_waiters\":");
    ew_buf_put_u64(b, snap->tail_waiters);
    /* What the two shared segments hold (src/shm.c maps each with 64 more
     * bytes for alignment): the figures an operator sizes memory by. */
    EW_BUF_LIT(b, ",\"shm_header_bytes\":");
    ew_buf_put_u64(b, ew_store_header_size());
    EW_BUF_LIT(b, ",\"shm_tables_bytes\":");
    ew_buf_put_u64(b, ew_store_tables_size(snap->files_capacity, snap->recent_capacity));
    EW_BUF_LIT(b, "},\n");

    ew_json_handlers(b, snap);
    EW_BUF_LIT(b, ",\n");
    ew_json_causes(b, snap);
    EW_BUF_LIT(b, ",\n");
    ew_json_files(b, snap);
    EW_BUF_LIT(b, ",\n");
    ew_json_recent(b, snap);
    EW_BUF_LIT(b, ",\n");
    ew_json_events(b, snap);
    if (snap->history_len > 0) {
        EW_BUF_LIT(b, ",\n");
        ew_json_history_member(b, snap);
    }
    EW_BUF_LIT(b, "\n}\n");
}

/*
 * The timeline: per-minute history and the start/stop/restart markers.
 *
 * Per-minute history: 5xx, 500 and crashes per minute for the last 24 h,
 * in the store's header (a ring of EW_HISTORY_MINUTES minutes, slot =
 * minute % size, each slot knowing its minute so a stale one reads as
 * empty). Counted under the store's lock on the error path only, at the
 * time the failure was logged, like the windows.
 */
#include "ew_store.h"

#include <errno.h>
#include <string.h>

#include "store_internal.h"

static void add_to(ew_minute *m, const ew_failure *f)
{
    if (f->crash_signal != 0) {
        m->crashes++;
    }
    if (f->status >= 500 && f->status <= 599) {
        m->count_5xx++;
        if (f->status == 500) {
            m->count_500++;
        }
    }
}

void ew_store_history_count(ew_store *st, const ew_failure *f)
{
    int64_t t = f->time_us + (f->duration_us > 0 ? f->duration_us : 0);
    if (t < 0) {
        return;
    }
    int64_t minute = t / EW_MINUTE_US;
    ew_minute *m = &st->h->history[minute % EW_HISTORY_MINUTES];
    if (m->minute != minute) {
        if (m->minute > minute) {
            return; /* older than the history keeps */
        }
        memset(m, 0, sizeof(*m));
        m->minute = minute;
    }
    add_to(m, f);
}

void ew_store_history_put(ew_store *st, const ew_minute *saved)
{
    if (saved->minute < 0) {
        return;
    }
    ew_minute *m = &st->h->history[saved->minute % EW_HISTORY_MINUTES];
    if (m->minute < saved->minute ||
        (m->minute == saved->minute && m->count_5xx == 0 && m->crashes == 0)) {
        *m = *saved;
    }
}

int ew_store_history(ew_store *st, int64_t now_us, uint32_t minutes, ew_history_minute *out)
{
    if (minutes == 0 || minutes > EW_HISTORY_MINUTES || now_us < 0) {
        return EINVAL;
    }
    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    int64_t last = now_us / EW_MINUTE_US;
    for (uint32_t i = 0; i < minutes; i++) {
        int64_t minute = last - (int64_t)(minutes - 1 - i);
        ew_history_minute *o = &out[i];
        memset(o, 0, sizeof(*o));
        o->minute_us = minute * EW_MINUTE_US;
        if (minute < 0) {
            continue;
        }
        const ew_minute *m = &st->h->history[minute % EW_HISTORY_MINUTES];
        if (m->minute == minute) {
            o->count_5xx = m->count_5xx;
            o->count_500 = m->count_500;
            o->crashes = m->crashes;
        }
    }
    ew_store_unlock(st);
    return 0;
}

/* ---- markers ------------------------------------------------------------ */

void ew_store_put_marker(ew_store *st, const ew_marker *m)
{
    st->h->markers[st->h->markers_added % EW_MARKERS] = *m;
    st->h->markers_added++;
}

int ew_store_add_marker(ew_store *st, uint32_t event, int64_t time_us, int64_t gap_us)
{
    if (event != EW_EVENT_START && event != EW_EVENT_STOP && event != EW_EVENT_RESTART) {
        return EINVAL;
    }
    int rc = ew_store_lock(st);
    if (rc != 0) {
        return rc;
    }
    ew_marker m = {.time_us = time_us, .gap_us = gap_us < 0 ? -1 : gap_us, .event = event};
    ew_store_put_marker(st, &m);
    ew_store_unlock(st);
    return 0;
}

uint32_t ew_store_read_markers(const ew_store *st, ew_marker *out)
{
    uint64_t added = st->h->markers_added;
    uint32_t n = 0;
    while (n < EW_MARKERS && n < added) {
        out[n] = st->h->markers[(added - 1 - n) % EW_MARKERS];
        n++;
    }
    return n;
}

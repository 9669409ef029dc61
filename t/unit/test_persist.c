/* Unit tests of the state file: a round trip keeps every count, row and
 * ring entry; smaller tables keep the most recent; damaged data is refused
 * without touching the store. */
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>

#include "ew_store.h"
#include "unit.h"

static ew_store *fresh(uint32_t files, uint32_t recent, int64_t now_us)
{
    size_t len = ew_store_size(files, recent);
    void *base = apr_pcalloc(pool, len + 64);
    base = (char *)base + (64 - (uintptr_t)base % 64) % 64;
    ew_store *st = ew_store_init(pool, base, len, files, recent, now_us);
    ck_assert_ptr_nonnull(st);
    return st;
}

static void fail_at(ew_store *st, const char *file, int status, int64_t t)
{
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.time_us = t;
    f.status = (uint16_t)status;
    ew_copy_field(f.method, sizeof(f.method), "GET");
    ew_copy_field(f.uri, sizeof(f.uri), "/x");
    ew_copy_field(f.handler, sizeof(f.handler), "php");
    ew_copy_field(f.file, sizeof(f.file), file);
    ew_copy_field(f.message, sizeof(f.message), "PHP Fatal error");
    ew_store_count_response(st, status);
    ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
}

static const int64_t T0 = 1700000000000000LL;

/* Five failures over three files, plus 200s and traffic. */
static ew_store *busy_store(void)
{
    ew_store *st = fresh(16, 8, T0);
    for (int i = 0; i < 7; i++) {
        ew_store_count_response(st, 200);
    }
    ew_store_add_traffic(st, 1234, 567);
    fail_at(st, "/a.php", 500, T0 + 1000000);
    fail_at(st, "/b.php", 503, T0 + 2000000);
    fail_at(st, "/a.php", 500, T0 + 3000000);
    fail_at(st, "/c.php", 502, T0 + 4000000);
    fail_at(st, "/a.php", 500, T0 + 5000000);
    return st;
}

START_TEST(round_trip_keeps_everything)
{
    ew_store *st = busy_store();
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);
    ew_snapshot before;
    ck_assert_int_eq(ew_store_snapshot(st, pool, T0 + 6000000, &before), 0);

    /* The new start is later: since_us must go back to the original. */
    ew_store *st2 = fresh(16, 8, T0 + 600000000);
    ew_store_count_response(st2, 200); /* counted before the restore: kept */
    const char *why = NULL;
    int64_t written = 0;
    ck_assert_int_eq(ew_store_restore(st2, data, len, &written, &why), 0);
    ck_assert_int_eq(written, T0 + 6000000);
    ew_snapshot after;
    ck_assert_int_eq(ew_store_snapshot(st2, pool, T0 + 6000000, &after), 0);

    ck_assert_int_eq(after.since_us, T0);
    ck_assert_uint_eq(after.requests_total, before.requests_total + 1);
    ck_assert_uint_eq(after.requests_by_class[2], before.requests_by_class[2] + 1);
    ck_assert_mem_eq(after.errors_by_code, before.errors_by_code, sizeof(before.errors_by_code));
    ck_assert_uint_eq(after.bytes_sent, 1234);
    ck_assert_uint_eq(after.duration_us_total, 567);
    ck_assert_uint_eq(after.failures_recorded, 5);
    for (int w = 0; w < EW_WINDOW_COUNT; w++) {
        ck_assert_uint_eq(after.window_500[w], before.window_500[w]);
        ck_assert_uint_eq(after.window_5xx[w], before.window_5xx[w]);
    }
    ck_assert_uint_eq(after.handlers_len, before.handlers_len);
    ck_assert_mem_eq(after.handlers, before.handlers,
                     before.handlers_len * sizeof(ew_handler_stat));
    ck_assert_uint_eq(after.files_len, 3);
    ck_assert_mem_eq(after.files, before.files, 3 * sizeof(ew_file_stat));
    ck_assert_uint_eq(after.recent_len, 5);
    for (uint32_t i = 0; i < 5; i++) {
        ck_assert_uint_eq(after.recent[i].seq, before.recent[i].seq);
        ck_assert_str_eq(after.recent[i].file, before.recent[i].file);
        ck_assert_int_eq(after.recent[i].time_us, before.recent[i].time_us);
    }

    /* Counting continues from the restored seq. */
    fail_at(st2, "/d.php", 500, T0 + 7000000);
    ck_assert_int_eq(ew_store_snapshot(st2, pool, T0 + 7000000, &after), 0);
    ck_assert_uint_eq(after.recent[0].seq, 6);
    ck_assert_uint_eq(after.failures_recorded, 6);
}
END_TEST

START_TEST(round_trip_keeps_crashes)
{
    ew_store *st = fresh(16, 8, T0);
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.time_us = T0 + 1000000;
    f.crash_signal = 11;
    f.in_flight = 1;
    ew_copy_field(f.file, sizeof(f.file), "/var/www/crash.php");
    ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 2000000, &data, &len), 0);
    ew_store *st2 = fresh(16, 8, T0 + 600000000);
    const char *why = NULL;
    ck_assert_int_eq(ew_store_restore(st2, data, len, NULL, &why), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st2, pool, T0 + 2000000, &s), 0);
    ck_assert_uint_eq(s.crashes_total, 1);
    ck_assert_uint_eq(s.crashes_by_signal[11], 1);
    ck_assert_uint_eq(s.files_len, 1);
    ck_assert_uint_eq(s.files[0].crashes, 1);
    ck_assert_int_eq(s.recent[0].crash_signal, 11);
}
END_TEST

START_TEST(smaller_tables_keep_the_most_recent)
{
    ew_store *st = busy_store();
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);
    ew_store *st2 = fresh(2, 3, T0 + 600000000);
    const char *why = NULL;
    ck_assert_int_eq(ew_store_restore(st2, data, len, NULL, &why), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st2, pool, T0 + 6000000, &s), 0);
    /* /b.php failed least recently: it is the one left out. */
    ck_assert_uint_eq(s.files_len, 2);
    ck_assert_str_eq(s.files[0].file, "/a.php");
    ck_assert_uint_eq(s.files[0].count, 3);
    ck_assert_str_eq(s.files[1].file, "/c.php");
    ck_assert_uint_eq(s.files_evicted, 1);
    ck_assert_uint_eq(s.recent_len, 3);
    ck_assert_uint_eq(s.recent[0].seq, 5);
    ck_assert_uint_eq(s.recent[2].seq, 3);
}
END_TEST

/* Refused with a reason, and the store is left as it was. One store for
 * every case (a refusal must not change it), so thousands of cases cost
 * one store's memory. */
static ew_store *target;

static void assert_refused(const char *data, size_t len)
{
    if (target == NULL) {
        target = fresh(16, 8, T0);
    }
    ew_store *st = target;
    const char *why = NULL;
    ck_assert_int_ne(ew_store_restore(st, data, len, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    /* A pool per check: thousands of snapshots must not pile up in the
     * test's pool. */
    apr_pool_t *sub;
    apr_pool_create(&sub, pool);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, sub, T0, &s), 0);
    ck_assert_uint_eq(s.requests_total, 0);
    ck_assert_uint_eq(s.files_len, 0);
    ck_assert_uint_eq(s.recent_len, 0);
    ck_assert_uint_eq(s.causes_len, 0);
    ck_assert_int_eq(s.since_us, T0);
    apr_pool_destroy(sub);
}

START_TEST(damaged_data_is_refused)
{
    ew_store *st = busy_store();
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);
    target = NULL; /* the pool of the previous test is gone */
    /* Truncated at every length, including every section boundary. */
    for (size_t n = 0; n < len; n++) {
        assert_refused(data, n);
    }
    /* Any single flipped byte: the checksum or a check catches it. */
    char *copy = malloc(len);
    for (size_t i = 0; i < len; i += 7) {
        memcpy(copy, data, len);
        copy[i] ^= 0x5a;
        assert_refused(copy, len);
    }
    free(copy);
    assert_refused(NULL, 0);
}
END_TEST

/* A checksum is no defence against a hand edit that recomputes it: the
 * field checks must hold on their own. Rewrites the trailer after edits. */
static void reseal(char *data, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len - 8; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ull;
    }
    memcpy(data + len - 8, &h, 8);
}

/* The state file's layout as the tests walk it (src/store_persist.c): a
 * 56-byte header, then sections of a 16-byte header (tag, rows, bytes)
 * and their rows, then an 8-byte checksum. */
#define FILE_HEADER 56
#define SECTION_HEADER 16
enum { S_COUNTERS = 1, S_BUCKETS, S_HANDLERS, S_FILES, S_RING, S_HISTORY, S_MARKERS, S_CAUSES };

/* Offset of section tag's first row; its rows and bytes into the outs. */
static size_t section_rows(const char *data, uint32_t tag, uint32_t *rows, uint64_t *bytes)
{
    size_t at = FILE_HEADER;
    for (;;) {
        uint32_t t;
        memcpy(&t, data + at, 4);
        memcpy(rows, data + at + 4, 4);
        memcpy(bytes, data + at + 8, 8);
        if (t == tag) {
            return at + SECTION_HEADER;
        }
        ck_assert_uint_lt(t, tag);
        at += SECTION_HEADER + (size_t)*bytes;
    }
}

/* Rewrites a current file as an older version would have written it:
 * version 2 (no causes section; ring entries and file rows end before
 * version 3's fields) or version 1 (no markers either, and no
 * lock_recoveries at the end of the counters row). Returns the length. */
static size_t downgrade(const char *data, size_t len, uint32_t version, char *out)
{
    (void)len;
    size_t o = FILE_HEADER;
    memcpy(out, data, FILE_HEADER);
    uint32_t last = version == 1 ? S_HISTORY : S_MARKERS;
    for (uint32_t tag = S_COUNTERS; tag <= last; tag++) {
        uint32_t rows;
        uint64_t bytes;
        size_t at = section_rows(data, tag, &rows, &bytes);
        size_t size = rows > 0 ? (size_t)(bytes / rows) : 0;
        size_t keep = size;
        if (tag == S_RING) {
            keep = EW_FAILURE_V2_SIZE;
        } else if (tag == S_FILES) {
            keep = EW_FILE_STAT_V2_SIZE;
        } else if (tag == S_COUNTERS && version == 1) {
            keep = size - 8;
        }
        uint64_t new_bytes = (uint64_t)rows * keep;
        memcpy(out + o, &tag, 4);
        memcpy(out + o + 4, &rows, 4);
        memcpy(out + o + 8, &new_bytes, 8);
        o += SECTION_HEADER;
        for (uint32_t i = 0; i < rows; i++) {
            memcpy(out + o, data + at + i * size, keep);
            o += keep;
        }
    }
    uint32_t sizes[2] = {EW_FAILURE_V2_SIZE, EW_FILE_STAT_V2_SIZE};
    memcpy(out + 16, sizes, sizeof(sizes));
    memcpy(out + 8, &version, 4);
    uint32_t sections = last;
    memcpy(out + 8 + 4 + 4 + 5 * 4, &sections, 4);
    o += 8;
    reseal(out, o);
    return o;
}

START_TEST(resealed_edits_are_refused)
{
    ew_store *st = busy_store();
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);
    char *copy = malloc(len);
    target = NULL;
    uint32_t rows;
    uint64_t bytes;
    size_t last = section_rows(data, S_RING, &rows, &bytes) + (rows - 1) * sizeof(ew_failure);

    memcpy(copy, data, len);
    memset(copy + last + offsetof(ew_failure, uri), 'A', EW_URI_MAX); /* unterminated */
    reseal(copy, len);
    assert_refused(copy, len);

    memcpy(copy, data, len);
    uint64_t seq = 999;
    memcpy(copy + last + offsetof(ew_failure, seq), &seq, sizeof(seq)); /* beyond recorded */
    reseal(copy, len);
    assert_refused(copy, len);

    memcpy(copy, data, len);
    uint32_t version = 4;
    memcpy(copy + 8, &version, sizeof(version));
    reseal(copy, len);
    assert_refused(copy, len);

    /* A trace id that is not hex, and a cause with an unterminated title. */
    memcpy(copy, data, len);
    memcpy(copy + last + offsetof(ew_failure, trace_id), "<script>", 8);
    reseal(copy, len);
    assert_refused(copy, len);

    memcpy(copy, data, len);
    size_t cause = section_rows(data, S_CAUSES, &rows, &bytes);
    ck_assert_uint_gt(rows, 0);
    memset(copy + cause + offsetof(ew_cause_stat, title), 'A', EW_CAUSE_TITLE_MAX);
    reseal(copy, len);
    assert_refused(copy, len);

    /* Unchanged but resealed: accepted (the reseal itself is right). */
    memcpy(copy, data, len);
    reseal(copy, len);
    ew_store *st2 = fresh(16, 8, T0);
    const char *why = NULL;
    ck_assert_int_eq(ew_store_restore(st2, copy, len, NULL, &why), 0);
    free(copy);
}
END_TEST

/* Version 3 keeps causes, ids and modification times; a version 2 file
 * (before them) is still read, with those empty and the causes worked out
 * again by the next failures. */
START_TEST(causes_and_ids_round_trip_and_version_2_is_read)
{
    ew_store *st = busy_store();
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.time_us = T0 + 5500000;
    f.status = 500;
    ew_copy_field(f.method, sizeof(f.method), "GET");
    ew_copy_field(f.uri, sizeof(f.uri), "/t");
    ew_copy_field(f.file, sizeof(f.file), "/t.php");
    ew_copy_field(f.message, sizeof(f.message), "PHP Fatal error: t");
    ew_copy_field(f.trace_id, sizeof(f.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    ew_copy_field(f.unique_id, sizeof(f.unique_id), "Y4c8cX8AAQEAABX3ZXUAAAAA");
    ew_copy_field(f.dd_trace_id, sizeof(f.dd_trace_id), "1234567890");
    ew_mtimes_wanted w;
    ck_assert_int_eq(ew_store_record_failure_cause(st, &f, "line one", NULL, &w), 0);
    ck_assert_int_eq(w.script, 1);
    ck_assert_int_eq(ew_store_note_mtimes(st, "/t.php", T0 - 120000000, 0, NULL, 0), 0);
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);

    ew_store *st2 = fresh(16, 8, T0);
    const char *why = NULL;
    ck_assert_int_eq(ew_store_restore(st2, data, len, NULL, &why), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st2, pool, T0 + 6000000, &s), 0);
    ck_assert_str_eq(s.recent[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_str_eq(s.recent[0].unique_id, "Y4c8cX8AAQEAABX3ZXUAAAAA");
    ck_assert_str_eq(s.recent[0].dd_trace_id, "1234567890");
    ck_assert_uint_ne(s.recent[0].cause_key, 0);
    /* Every failure under one cause; the new one's row as recorded. */
    uint64_t counted = 0;
    uint32_t files = 0;
    const ew_cause_stat *mine = NULL;
    for (uint32_t i = 0; i < s.causes_len; i++) {
        counted += s.causes[i].count;
        files += s.causes[i].files_total;
        if (s.causes[i].key == s.recent[0].cause_key) {
            mine = &s.causes[i];
        }
    }
    ck_assert_uint_eq(counted, 6);
    ck_assert_uint_eq(files, 4);
    ck_assert_ptr_nonnull(mine);
    ck_assert_uint_eq(mine->count, 1);
    ck_assert_str_eq(mine->story, "line one");
    ck_assert_str_eq(mine->files[0].text, "/t.php");
    int found = 0;
    for (uint32_t i = 0; i < s.files_len; i++) {
        if (strcmp(s.files[i].file, "/t.php") == 0) {
            ck_assert_int_eq(s.files[i].script_mtime_us, T0 - 120000000);
            ck_assert_uint_eq(s.files[i].cause_key, s.recent[0].cause_key);
            found = 1;
        }
    }
    ck_assert_int_eq(found, 1);

    char *v2 = malloc(len);
    size_t v2_len = downgrade(data, len, 2, v2);
    ck_assert_uint_lt(v2_len, len);
    ew_store *st3 = fresh(16, 8, T0);
    ck_assert_int_eq(ew_store_restore(st3, v2, v2_len, NULL, &why), 0);
    ck_assert_int_eq(ew_store_snapshot(st3, pool, T0 + 6000000, &s), 0);
    ck_assert_uint_eq(s.failures_recorded, 6);
    ck_assert_uint_eq(s.recent_len, 6 < 8 ? 6 : 8);
    ck_assert_str_eq(s.recent[0].uri, "/t");
    ck_assert_str_eq(s.recent[0].trace_id, "");
    ck_assert_uint_eq(s.recent[0].cause_key, 0);
    ck_assert_uint_eq(s.causes_len, 0);
    ck_assert_uint_eq(s.files_len, 4);
    for (uint32_t i = 0; i < s.files_len; i++) {
        ck_assert_int_eq(s.files[i].script_mtime_us, EW_MTIME_UNREAD);
    }
    free(v2);
}
END_TEST

/* Markers (start, stop, restart) survive the file, newest first; a
 * version 1 file (no markers section) from before them is still read, and
 * a marker with an unknown event is refused. */
START_TEST(markers_round_trip_and_version_1_is_read)
{
    ew_store *st = busy_store();
    ck_assert_int_eq(ew_store_add_marker(st, EW_EVENT_START, T0, -1), 0);
    ck_assert_int_eq(ew_store_add_marker(st, EW_EVENT_RESTART, T0 + 2000000, -1), 0);
    ck_assert_int_eq(ew_store_add_marker(st, EW_EVENT_STOP, T0 + 5500000, -1), 0);
    ck_assert_int_eq(ew_store_add_marker(st, 9, T0, -1), EINVAL);
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);
    ew_store *st2 = fresh(16, 8, T0 + 600000000);
    const char *why = NULL;
    ck_assert_int_eq(ew_store_restore(st2, data, len, NULL, &why), 0);
    ck_assert_int_eq(ew_store_add_marker(st2, EW_EVENT_START, T0 + 9000000, 3000000), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_summary(st2, T0 + 9000000, &s), 0);
    ck_assert_uint_eq(s.markers_len, 4);
    ck_assert_uint_eq(s.markers[0].event, EW_EVENT_START);
    ck_assert_int_eq(s.markers[0].gap_us, 3000000);
    ck_assert_uint_eq(s.markers[1].event, EW_EVENT_STOP);
    ck_assert_uint_eq(s.markers[2].event, EW_EVENT_RESTART);
    ck_assert_int_eq(s.markers[2].time_us, T0 + 2000000);
    ck_assert_uint_eq(s.markers[3].event, EW_EVENT_START);
    ck_assert_int_eq(s.markers[3].gap_us, -1);

    /* A marker edited to an unknown event, resealed: refused. */
    char *copy = malloc(len);
    memcpy(copy, data, len);
    uint32_t bad = 7;
    uint32_t rows;
    uint64_t bytes;
    size_t mk = section_rows(data, S_MARKERS, &rows, &bytes);
    memcpy(copy + mk + (rows - 1) * sizeof(ew_marker) + offsetof(ew_marker, event), &bad,
           sizeof(bad));
    reseal(copy, len);
    target = NULL;
    assert_refused(copy, len);

    /* Version 1: the same file without the markers section, without
     * lock_recoveries at the end of the counters row, and with version 2's
     * shorter rows. */
    ew_store *plain = busy_store();
    char *v3;
    size_t v3_len;
    ck_assert_int_eq(ew_store_serialize(plain, pool, T0 + 6000000, &v3, &v3_len), 0);
    free(copy);
    copy = malloc(v3_len);
    size_t v1_len = downgrade(v3, v3_len, 1, copy);
    ew_store *st3 = fresh(16, 8, T0);
    ck_assert_int_eq(ew_store_restore(st3, copy, v1_len, NULL, &why), 0);
    ck_assert_int_eq(ew_store_summary(st3, T0 + 6000000, &s), 0);
    ck_assert_uint_eq(s.failures_recorded, 5);
    ck_assert_uint_eq(s.markers_len, 0);
    free(copy);
}
END_TEST

START_TEST(restore_refuses_a_used_store)
{
    ew_store *st = busy_store();
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, T0 + 6000000, &data, &len), 0);
    const char *why = NULL;
    ck_assert_int_eq(ew_store_restore(st, data, len, NULL, &why), EBUSY);
}
END_TEST

START_TEST(change_mark_moves_with_responses_and_failures)
{
    ew_store *st = fresh(4, 4, T0);
    uint64_t m0 = ew_store_change_mark(st);
    ew_store_count_response(st, 200);
    uint64_t m1 = ew_store_change_mark(st);
    ck_assert_uint_ne(m0, m1);
    ck_assert_uint_eq(m1, ew_store_change_mark(st));
    fail_at(st, "/a.php", 500, T0);
    ck_assert_uint_ne(m1, ew_store_change_mark(st));
}
END_TEST

/* The history over a day and a half, with the clock injected through the
 * failures' times: minutes fill, empty ones read as zero, a minute a day
 * old is reused, and the history survives a round trip. */
START_TEST(history_over_time)
{
    ew_store *st = fresh(8, 8, T0);
    const int64_t M = EW_MINUTE_US;
    const int64_t base = (T0 / M) * M; /* start of a minute */
    fail_at(st, "/a.php", 500, base + 1000000);
    fail_at(st, "/a.php", 503, base + 2000000);
    fail_at(st, "/b.php", 500, base + 2 * M + 5000000);
    ew_failure crash;
    memset(&crash, 0, sizeof(crash));
    crash.time_us = base + 2 * M + 6000000;
    crash.crash_signal = 11;
    ew_copy_field(crash.uri, sizeof(crash.uri), "/crash");
    ck_assert_int_eq(ew_store_record_failure(st, &crash), 0);

    ew_history_minute h[EW_HISTORY_MINUTES];
    ck_assert_int_eq(ew_store_history(st, base + 2 * M + 30000000, 3, h), 0);
    ck_assert_int_eq(h[0].minute_us, base);
    ck_assert_uint_eq(h[0].count_5xx, 2);
    ck_assert_uint_eq(h[0].count_500, 1);
    ck_assert_uint_eq(h[1].count_5xx, 0);
    ck_assert_int_eq(h[1].minute_us, base + M);
    ck_assert_uint_eq(h[2].count_5xx, 1);
    ck_assert_uint_eq(h[2].crashes, 1);

    /* An hour later: 61 minutes reach back to base + 2 M exactly. */
    ck_assert_int_eq(ew_store_history(st, base + 62 * M, 61, h), 0);
    uint64_t total = 0;
    for (int i = 0; i < 61; i++) {
        total += h[i].count_5xx;
    }
    ck_assert_uint_eq(total, 1); /* only the minute at base + 2 M */
    ck_assert_uint_eq(h[0].count_5xx, 1);

    /* Round trip. */
    char *data;
    size_t len;
    ck_assert_int_eq(ew_store_serialize(st, pool, base + 3 * M, &data, &len), 0);
    ew_store *st2 = fresh(8, 8, base + 10 * M);
    const char *why = NULL;
    ck_assert_msg(ew_store_restore(st2, data, len, NULL, &why) == 0, "refused: %s", why);
    ew_history_minute h2[3];
    ck_assert_int_eq(ew_store_history(st2, base + 2 * M, 3, h2), 0);
    ck_assert_uint_eq(h2[0].count_5xx, 2);
    ck_assert_uint_eq(h2[2].crashes, 1);

    /* A day later the same slot belongs to a new minute: the old counts
     * are gone, not added. */
    fail_at(st, "/a.php", 500, base + (int64_t)EW_HISTORY_MINUTES * M + 1000000);
    ck_assert_int_eq(ew_store_history(st, base + (int64_t)EW_HISTORY_MINUTES * M, 1, h), 0);
    ck_assert_uint_eq(h[0].count_5xx, 1);
    ck_assert_int_eq(ew_store_history(st, base, EW_HISTORY_MINUTES, h), 0);
    ck_assert_uint_eq(h[EW_HISTORY_MINUTES - 1].count_5xx, 0); /* base itself: overwritten */
    ck_assert_int_eq(ew_store_history(st, base, EW_HISTORY_MINUTES + 1, h), EINVAL);
}
END_TEST

Suite *persist_suite(void)
{
    Suite *s = suite_create("persist");
    TCase *tc = tcase_create("state file");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_keeps_everything);
    tcase_add_test(tc, smaller_tables_keep_the_most_recent);
    tcase_add_test(tc, damaged_data_is_refused);
    tcase_add_test(tc, resealed_edits_are_refused);
    tcase_add_test(tc, restore_refuses_a_used_store);
    tcase_add_test(tc, markers_round_trip_and_version_1_is_read);
    tcase_add_test(tc, causes_and_ids_round_trip_and_version_2_is_read);
    tcase_add_test(tc, change_mark_moves_with_responses_and_failures);
    tcase_add_test(tc, round_trip_keeps_crashes);
    tcase_add_test(tc, history_over_time);
    suite_add_tcase(s, tc);
    return s;
}

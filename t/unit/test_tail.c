/* Unit tests of the live tail: seqs and ew_store_failures_after, the futex
 * wake-ups across threads and processes, the slots, and the line formats. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ew_escape.h"
#include "ew_format.h"
#include "ew_store.h"
#include "ew_tail.h"
#include "unit.h"

static ew_store *shared_store(uint32_t files, uint32_t recent)
{
    size_t len = ew_store_size(files, recent);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    ew_store *st = ew_store_init(pool, p, len, files, recent, 1000);
    ck_assert_ptr_nonnull(st);
    return st;
}

static ew_failure failure_at(int64_t t, const char *uri)
{
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.seq = 999999; /* callers leave it unset: the store must overwrite it */
    f.time_us = t;
    f.status = 500;
    f.pid = 7;
    SET(f.method, "GET");
    SET(f.uri, uri);
    SET(f.file, "/srv/x.php");
    SET(f.handler, "application/x-httpd-php");
    return f;
}

static void record(ew_store *st, int64_t t, const char *uri)
{
    ew_failure f = failure_at(t, uri);
    ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- seqs ---------------------------------------------------------------- */

START_TEST(seqs_count_from_one_in_recording_order)
{
    ew_store *st = shared_store(8, 16);
    ew_failure out[16];
    uint32_t n = 99;
    uint64_t latest = 99;
    ck_assert_int_eq(ew_store_failures_after(st, 0, out, 16, &n, &latest), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(latest, 0);
    record(st, 10, "/a");
    record(st, 20, "/b");
    record(st, 30, "/c");
    ck_assert_int_eq(ew_store_failures_after(st, 0, out, 16, &n, &latest), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(latest, 3);
    ck_assert_str_eq(out[0].uri, "/a");
    ck_assert_uint_eq(out[0].seq, 1);
    ck_assert_uint_eq(out[2].seq, 3);
    /* After 1: exactly 2 and 3, oldest first. */
    ck_assert_int_eq(ew_store_failures_after(st, 1, out, 16, &n, &latest), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(out[0].uri, "/b");
    ck_assert_str_eq(out[1].uri, "/c");
    /* After the latest: nothing. */
    ck_assert_int_eq(ew_store_failures_after(st, 3, out, 16, &n, &latest), 0);
    ck_assert_uint_eq(n, 0);
    /* The snapshot shows the same seqs (newest first) and the latest. */
    ew_snapshot snap;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 100, &snap), 0);
    ck_assert_uint_eq(snap.failures_recorded, 3);
    ck_assert_uint_eq(snap.recent[0].seq, 3);
    ck_assert_uint_eq(snap.recent[2].seq, 1);
}
END_TEST

START_TEST(batches_resume_without_gaps_or_duplicates)
{
    ew_store *st = shared_store(8, 64);
    for (int i = 0; i < 50; i++) {
        record(st, i, "/x");
    }
    ew_failure out[7];
    uint64_t last = 10;
    uint64_t expect = 11;
    for (;;) {
        uint32_t n;
        uint64_t latest;
        ck_assert_int_eq(ew_store_failures_after(st, last, out, 7, &n, &latest), 0);
        ck_assert_uint_eq(latest, 50);
        for (uint32_t i = 0; i < n; i++) {
            ck_assert_uint_eq(out[i].seq, expect);
            expect++;
        }
        if (n == 0) {
            break;
        }
        ck_assert_uint_le(n, 7);
        last = out[n - 1].seq;
    }
    ck_assert_uint_eq(expect, 51);
}
END_TEST

START_TEST(overwritten_failures_show_as_missing_seqs)
{
    ew_store *st = shared_store(8, 4);
    for (int i = 0; i < 10; i++) {
        record(st, i, "/x");
    }
    ew_failure out[8];
    uint32_t n;
    uint64_t latest;
    /* The ring holds 7..10; 3..6 are gone. */
    ck_assert_int_eq(ew_store_failures_after(st, 2, out, 8, &n, &latest), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(out[0].seq, 7);
    ck_assert_uint_eq(out[3].seq, 10);
    ck_assert_uint_eq(latest, 10);
}
END_TEST

/* Replay in small batches from any point: each entry the ring holds comes
 * once, in order, also across torn entries (crash repair marks the one a
 * dead child was writing unused), which are skipped, not an end. */
START_TEST(replay_skips_torn_entries_and_resumes_anywhere)
{
    ew_store *st = shared_store(8, 64);
    for (int i = 0; i < 90; i++) {
        record(st, i, "/x");
    }
    /* The ring holds 27..90. */
    ck_assert_int_eq(ew_store_test_tear(st, 40), 0);
    ck_assert_int_eq(ew_store_test_tear(st, 41), 0);
    ck_assert_int_eq(ew_store_test_tear(st, 90), 0);
    ck_assert_int_eq(ew_store_test_tear(st, 3), -1);
    for (uint64_t start = 0; start <= 92; start++) {
        ew_failure out[3];
        uint32_t n;
        uint64_t latest;
        uint64_t last = start;
        uint64_t want = start < 27 ? 27 : start + 1;
        for (;;) {
            ck_assert_int_eq(ew_store_failures_after(st, last, out, 3, &n, &latest), 0);
            ck_assert_uint_eq(latest, 90);
            if (n == 0) {
                break;
            }
            for (uint32_t i = 0; i < n; i++) {
                while (want == 40 || want == 41) {
                    want++;
                }
                ck_assert_uint_eq(out[i].seq, want);
                want++;
                last = out[i].seq;
            }
        }
        ck_assert_uint_eq(want, start >= 89 ? start + 1 : 90);
    }
}
END_TEST

START_TEST(resize_keeps_the_seqs)
{
    ew_store *st = shared_store(8, 8);
    for (int i = 0; i < 5; i++) {
        record(st, i, "/x");
    }
    size_t len = ew_store_tables_size(8, 3);
    void *t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int rc = -1;
    ew_store *big = ew_store_resize(pool, st, t, len, 8, 3, 1000, &rc);
    ck_assert_ptr_nonnull(big);
    record(big, 9, "/after");
    ew_failure out[8];
    uint32_t n;
    uint64_t latest;
    ck_assert_int_eq(ew_store_failures_after(big, 0, out, 8, &n, &latest), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(out[0].seq, 4);
    ck_assert_uint_eq(out[1].seq, 5);
    ck_assert_uint_eq(out[2].seq, 6);
    ck_assert_str_eq(out[2].uri, "/after");
    ck_assert_uint_eq(latest, 6);
    /* A child of the old generation still records into the old tables: its
     * seq is taken, and missing from the new ring. */
    record(st, 10, "/old-child");
    record(big, 11, "/new");
    ck_assert_int_eq(ew_store_failures_after(big, 6, out, 8, &n, &latest), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].seq, 8);
    ck_assert_uint_eq(latest, 8);
}
END_TEST

/* ---- wake-ups ------------------------------------------------------------ */

START_TEST(wait_times_out_when_nothing_happens)
{
    ew_store *st = shared_store(8, 8);
    ew_tail_shared *t = ew_store_tail(st);
    uint32_t w = ew_tail_word(t);
    int64_t start = now_ms();
    ck_assert_int_eq(ew_tail_wait(t, w, 150), 0);
    int64_t took = now_ms() - start;
    ck_assert_int_ge(took, 140);
    ck_assert_int_lt(took, 5000);
    /* A stale word returns at once. */
    start = now_ms();
    ck_assert_int_eq(ew_tail_wait(t, w + 1, 5000), 1);
    ck_assert_int_lt(now_ms() - start, 1000);
}
END_TEST

static void *record_later(void *arg)
{
    usleep(100000);
    record(arg, 1, "/later");
    return NULL;
}

START_TEST(recording_wakes_a_waiting_thread)
{
    ew_store *st = shared_store(8, 8);
    ew_tail_shared *t = ew_store_tail(st);
    uint32_t w = ew_tail_word(t);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, record_later, st), 0);
    int64_t start = now_ms();
    ck_assert_int_eq(ew_tail_wait(t, w, 20000), 1);
    ck_assert_int_lt(now_ms() - start, 10000); /* woken, not timed out */
    pthread_join(th, NULL);
    ck_assert_uint_eq(t->waiters, 0);
}
END_TEST

START_TEST(recording_wakes_a_waiter_in_another_process)
{
    ew_store *st = shared_store(8, 8);
    ew_tail_shared *t = ew_store_tail(st);
    uint32_t w = ew_tail_word(t);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Exit 0 only if woken well before the timeout. */
        int64_t start = now_ms();
        int changed = ew_tail_wait(t, w, 20000);
        _exit(changed && now_ms() - start < 10000 ? 0 : 1);
    }
    /* Record once the child is asleep (it counts itself as a waiter). */
    for (int i = 0; i < 1000 && atomic_load(&t->waiters) == 0; i++) {
        usleep(1000);
    }
    record(st, 1, "/x");
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* A tail SIGKILLed while it sleeps leaves its waiter count behind; the
 * parent's heal clears it once no live tail holds a slot (issue 17). */
START_TEST(waiters_of_killed_tails_are_healed)
{
    ew_store *st = shared_store(8, 8);
    ew_tail_shared *t = ew_store_tail(st);
    uint32_t w = ew_tail_word(t);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        (void)ew_tail_claim(t, 4, (int32_t)getpid());
        (void)ew_tail_wait(t, w, 60000);
        _exit(0);
    }
    for (int i = 0; i < 5000 && atomic_load(&t->waiters) == 0; i++) {
        usleep(1000);
    }
    ck_assert_uint_eq(atomic_load(&t->waiters), 1);
    /* While it lives, nothing is healed. */
    ck_assert_uint_eq(ew_tail_heal(t), 0);
    ck_assert_uint_eq(atomic_load(&t->waiters), 1);
    kill(pid, SIGKILL);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_uint_eq(atomic_load(&t->waiters), 1); /* the leak */
    ck_assert_uint_eq(ew_tail_heal(t), 1);
    ck_assert_uint_eq(atomic_load(&t->waiters), 0);
    ck_assert_uint_eq(ew_tail_open(t, 4), 0);
    /* A live tail's own count is never taken away. */
    int slot = ew_tail_claim(t, 4, (int32_t)getpid());
    ck_assert_int_ge(slot, 0);
    atomic_fetch_add(&t->waiters, 1);
    ck_assert_uint_eq(ew_tail_heal(t), 0);
    ck_assert_uint_eq(atomic_load(&t->waiters), 1);
    atomic_fetch_sub(&t->waiters, 1);
    ew_tail_release(t, slot, (int32_t)getpid());
}
END_TEST

/* ---- slots --------------------------------------------------------------- */

START_TEST(slots_bound_open_tails)
{
    ew_store *st = shared_store(8, 8);
    ew_tail_shared *t = ew_store_tail(st);
    int32_t me = (int32_t)getpid();
    int a = ew_tail_claim(t, 2, me);
    int b = ew_tail_claim(t, 2, me);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, 0);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(ew_tail_claim(t, 2, me), -1);
    ck_assert_uint_eq(ew_tail_open(t, 2), 2);
    ew_tail_release(t, a, me);
    ck_assert_uint_eq(ew_tail_open(t, 2), 1);
    ck_assert_int_eq(ew_tail_claim(t, 2, me), a);
    /* Releasing with another pid does nothing. */
    ew_tail_release(t, b, me + 1);
    ck_assert_uint_eq(ew_tail_open(t, 2), 2);
    /* The cap is clamped to the slots there are. */
    ck_assert_int_ge(ew_tail_claim(t, EW_TAIL_SLOTS + 100, me), 2);
    ew_tail_release_pid(t, me);
    ck_assert_uint_eq(ew_tail_open(t, EW_TAIL_SLOTS), 0);
    ck_assert_int_eq(ew_tail_claim(t, 0, me), -1);
}
END_TEST

START_TEST(slots_of_killed_processes_are_reclaimed)
{
    ew_store *st = shared_store(8, 8);
    ew_tail_shared *t = ew_store_tail(st);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        ew_tail_claim(t, 1, (int32_t)getpid());
        pause(); /* until SIGKILLed: never releases */
        _exit(0);
    }
    for (int i = 0; i < 5000 && ew_tail_open(t, 1) == 0; i++) {
        usleep(1000);
    }
    ck_assert_uint_eq(ew_tail_open(t, 1), 1);
    /* Alive: its slot is kept. */
    ck_assert_int_eq(ew_tail_claim(t, 1, (int32_t)getpid()), -1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(ew_tail_claim(t, 1, (int32_t)getpid()), 0);
}
END_TEST

/* ---- line formats -------------------------------------------------------- */

static const char *tail_line(const ew_failure *f, int json)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_format_tail_failure(&b, f, json);
    return b.data;
}

START_TEST(text_line_has_every_field)
{
    ew_failure f = failure_at(1700000060250000LL, "/wp/2024/hello-world/");
    f.seq = 42;
    SET(f.message, "PHP Fatal error:  Uncaught Error: Failed opening required 'x.phpp'");
    ck_assert_str_eq(tail_line(&f, 0),
                     "2023-11-14T22:14:20.250000Z 500 GET /wp/2024/hello-world/ seq=42 "
                     "handler=application/x-httpd-php file=/srv/x.php "
                     "msg=\"PHP Fatal error:  Uncaught Error: Failed opening required "
                     "'x.phpp'\"\n");
    memset(f.file, 0, sizeof(f.file));
    memset(f.message, 0, sizeof(f.message));
    ck_assert_str_eq(tail_line(&f, 0), "2023-11-14T22:14:20.250000Z 500 GET "
                                       "/wp/2024/hello-world/ seq=42 "
                                       "handler=application/x-httpd-php file=- msg=\"\"\n");
    /* The cause and the ids, before the message. */
    f.cause_key = 0xab;
    SET(f.unique_id, "Y4c8-_@");
    SET(f.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    SET(f.dd_trace_id, "42");
    ck_assert_str_eq(tail_line(&f, 0),
                     "2023-11-14T22:14:20.250000Z 500 GET /wp/2024/hello-world/ seq=42 "
                     "handler=application/x-httpd-php file=- cause=00000000000000ab "
                     "unique_id=Y4c8-_@ trace_id=4bf92f3577b34da6a3ce929d0e0e4736 "
                     "dd_trace_id=42 msg=\"\"\n");
}
END_TEST

START_TEST(text_line_escapes_hostile_bytes)
{
    ew_failure f = failure_at(0, "/a b\nc\r\"d\\e\x01\x7f");
    f.seq = 1;
    SET(f.file, "/srv/\xff\xfe\xc3(x\xe2\x82.php");
    SET(f.message, "line1\nline2\t\"q\" \\ \xc3\xa9 \xed\xa0\x80");
    SET(f.handler, "h h");
    const char *line = tail_line(&f, 0);
    ck_assert_str_eq(line, "1970-01-01T00:00:00.000000Z 500 GET "
                           "/a\\x20b\\x0ac\\x0d\\x22d\\x5ce\\x01\\x7f seq=1 "
                           "handler=h\\x20h file=/srv/\\xff\\xfe\\xc3(x\\xe2\\x82.php "
                           "msg=\"line1\\x0aline2\\x09\\\"q\\\" \\\\ \xc3\xa9 "
                           "\\xed\\xa0\\x80\"\n");
    /* One line, and only printable ASCII but for the valid é. */
    ck_assert_uint_eq(count_occurrences(line, "\n"), 1);
    ck_assert_int_eq(line[strlen(line) - 1], '\n');
}
END_TEST

START_TEST(json_line_is_one_object)
{
    ew_failure f = failure_at(2, "/x\ny");
    f.seq = 18446744073709551615ULL;
    f.duration_us = 1500;
    SET(f.vhost, "example.test:80");
    SET(f.message, "bad \xff byte\n");
    const char *line = tail_line(&f, 1);
    ck_assert_str_eq(line,
                     "{\"type\":\"failure\",\"seq\":18446744073709551615,"
                     "\"time\":\"1970-01-01T00:00:00.000002Z\",\"time_us\":2,"
                     "\"status\":500,\"method\":\"GET\",\"uri\":\"/x\\ny\","
                     "\"vhost\":\"example.test:80\",\"file\":\"/srv/x.php\","
                     "\"handler\":\"application/x-httpd-php\",\"pid\":7,"
                     "\"duration_us\":1500,\"message\":\"bad \\ufffd byte\\n\",\"cause\":null}\n");
    ck_assert_uint_eq(count_occurrences(line, "\n"), 1);
}
END_TEST

START_TEST(control_lines)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_tail_info info = {.latest_seq = 9, .pid = 123, .keepalive_s = 15, .max_s = 600, .now_us = 0};
    ew_format_tail_start(&b, 0, &info);
    ew_format_tail_keepalive(&b, 0, 1000000);
    ew_format_tail_gap(&b, 0, 3, 6, 4);
    ew_format_tail_ahead(&b, 0, 50, 9);
    ew_format_tail_end(&b, 0, EW_TAIL_END_MAX_TIME, 12);
    ew_format_tail_end(&b, 0, EW_TAIL_END_STOPPING, 12);
    ck_assert_str_eq(b.data,
                     "# errwatch tail: latest seq 9, served by pid 123; a keep-alive line every "
                     "15 s when idle, closes after 600 s\n"
                     "# keep-alive 1970-01-01T00:00:01.000000Z\n"
                     "# gap: failures seq 3 to 6 were recorded but the ring no longer holds "
                     "them (it keeps the newest 4; see ErrWatchRecent)\n"
                     "# since=50 is past the latest seq 9 (was the store reset?); following "
                     "from 9\n"
                     "# end: open for ErrWatchTailMaxTime; resume with ?tail&since=12\n"
                     "# end: the server is restarting or stopping; resume with "
                     "?tail&since=12\n");
    ew_buf_init(&b, pool, 0);
    ew_format_tail_start(&b, 1, &info);
    ew_format_tail_keepalive(&b, 1, 1000000);
    ew_format_tail_gap(&b, 1, 3, 6, 4);
    ew_format_tail_ahead(&b, 1, 50, 9);
    ew_format_tail_end(&b, 1, EW_TAIL_END_MAX_TIME, 12);
    ew_format_tail_end(&b, 1, EW_TAIL_END_STOPPING, 12);
    ck_assert_str_eq(b.data,
                     "{\"type\":\"start\",\"latest_seq\":9,\"pid\":123,\"keepalive_seconds\":15,"
                     "\"max_seconds\":600,\"time\":\"1970-01-01T00:00:00.000000Z\"}\n"
                     "{\"type\":\"keepalive\",\"time\":\"1970-01-01T00:00:01.000000Z\"}\n"
                     "{\"type\":\"gap\",\"first_seq\":3,\"last_seq\":6,\"ring_capacity\":4}\n"
                     "{\"type\":\"ahead\",\"since\":50,\"latest_seq\":9}\n"
                     "{\"type\":\"end\",\"reason\":\"max_time\",\"last_seq\":12}\n"
                     "{\"type\":\"end\",\"reason\":\"stopping\",\"last_seq\":12}\n");
}
END_TEST

START_TEST(tail_field_escaping)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_escape_tail_field(&b, NULL, 0);
    ew_buf_putc(&b, '|');
    ew_escape_tail_field(&b, "", 1);
    ew_buf_putc(&b, '|');
    ew_escape_tail_field(&b, "a\"b", 0);
    ew_buf_putc(&b, '|');
    ew_escape_tail_field(&b, "\xf0\x9f\x98\x80 \xf4\x90\x80\x80", 1);
    ck_assert_str_eq(b.data, "-|\"\"|a\\x22b|\"\xf0\x9f\x98\x80 \\xf4\\x90\\x80\\x80\"");
}
END_TEST

/* NEL (U+0085), the other C1 controls, U+2028 and U+2029 split a line for
 * Unicode-aware readers: escaped byte by byte; their neighbours are not. */
START_TEST(tail_field_escapes_unicode_line_breaks)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_escape_tail_field(&b,
                         "a\xc2\x85"
                         "b\xe2\x80\xa8"
                         "c\xe2\x80\xa9"
                         "d\xc2\x9f"
                         "e\xc2\xa0"
                         "f\xe2\x80\xa7",
                         0);
    ck_assert_str_eq(b.data, "a\\xc2\\x85b\\xe2\\x80\\xa8c\\xe2\\x80\\xa9d\\xc2\\x9fe\xc2\xa0"
                             "f\xe2\x80\xa7");
    ew_buf_init(&b, pool, 0);
    ew_escape_tail_field(&b, "\xe2\x80\xa8", 1);
    ck_assert_str_eq(b.data, "\"\\xe2\\x80\\xa8\"");
}
END_TEST

Suite *tail_suite(void)
{
    Suite *s = suite_create("tail");
    TCase *tc = tcase_create("tail");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, seqs_count_from_one_in_recording_order);
    tcase_add_test(tc, batches_resume_without_gaps_or_duplicates);
    tcase_add_test(tc, overwritten_failures_show_as_missing_seqs);
    tcase_add_test(tc, replay_skips_torn_entries_and_resumes_anywhere);
    tcase_add_test(tc, resize_keeps_the_seqs);
    tcase_add_test(tc, wait_times_out_when_nothing_happens);
    tcase_add_test(tc, recording_wakes_a_waiting_thread);
    tcase_add_test(tc, recording_wakes_a_waiter_in_another_process);
    tcase_add_test(tc, waiters_of_killed_tails_are_healed);
    tcase_add_test(tc, slots_bound_open_tails);
    tcase_add_test(tc, slots_of_killed_processes_are_reclaimed);
    tcase_add_test(tc, text_line_has_every_field);
    tcase_add_test(tc, text_line_escapes_hostile_bytes);
    tcase_add_test(tc, tail_field_escapes_unicode_line_breaks);
    tcase_add_test(tc, json_line_is_one_object);
    tcase_add_test(tc, control_lines);
    tcase_add_test(tc, tail_field_escaping);
    suite_add_tcase(s, tc);
    return s;
}

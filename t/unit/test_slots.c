/* Unit tests of the per-worker slots: summing, reuse by a new child,
 * crash recording. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_pools.h>

#include "ew_slots.h"
#include "ew_store.h"
#include "unit.h"

static void *map_zeroed(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

static ew_slots *new_slots(uint32_t count)
{
    size_t len = ew_slots_size(count);
    ck_assert_uint_gt(len, 0);
    ew_slots *s = ew_slots_init(pool, map_zeroed(len), len, count);
    ck_assert_ptr_nonnull(s);
    return s;
}

static ew_store *new_store(void)
{
    size_t len = ew_store_size(64, 64);
    ew_store *st = ew_store_init(pool, map_zeroed(len), len, 64, 64, 1000);
    ck_assert_ptr_nonnull(st);
    return st;
}

START_TEST(sizes_and_bounds)
{
    ck_assert_uint_eq(ew_slots_size(0), 0);
    ew_slots *s = new_slots(4);
    ck_assert_uint_eq(ew_slots_count(s), 4);
    ck_assert_ptr_nonnull(ew_slots_get(s, 3));
    ck_assert_ptr_null(ew_slots_get(s, 4));
    /* Neighbouring slots share no cache line. */
    ptrdiff_t gap = (char *)ew_slots_get(s, 1) - (char *)ew_slots_get(s, 0);
    ck_assert_int_eq(gap % 64, 0);
    ck_assert_ptr_null(ew_slots_init(pool, (char *)map_zeroed(4096) + 8, 4096, 1));
}
END_TEST

/* Every status lands in its class (1xx..5xx, anything else "other"),
 * which the counting works out without a divide. */
START_TEST(each_status_counted_in_its_class)
{
    ew_slots *s = new_slots(1);
    ew_worker_slot *w = ew_slots_get(s, 0);
    uint64_t want[EW_CLASS_COUNT] = {0};
    for (int status = -1; status <= 1000; status++) {
        ew_slot_count(w, status, 0, 0);
        want[status >= 100 && status <= 599 ? status / 100 : EW_CLASS_OTHER]++;
        for (int c = 0; c < EW_CLASS_COUNT; c++) {
            if (atomic_load(&w->requests_by_class[c]) != want[c]) {
                ck_abort_msg("status %d: class %d counts %llu, want %llu", status, c,
                             (unsigned long long)atomic_load(&w->requests_by_class[c]),
                             (unsigned long long)want[c]);
            }
        }
    }
}
END_TEST

/* Several processes, each counting into its own slot, summed by a reader. */
START_TEST(sum_over_processes)
{
    ew_slots *s = new_slots(8);
    enum { PROCS = 4, PER = 1000 };
    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            ew_worker_slot *w = ew_slots_get(s, (uint32_t)p);
            for (int i = 0; i < PER; i++) {
                ew_slot_begin(w, 1, getpid(), 1, 0, NULL, "/x", 0, 0);
                ew_slot_end(w, i % 10 == 0 ? 503 : 200, 100, 2);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int status = 0;
        ck_assert_int_gt(wait(&status), 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ew_snapshot out;
    memset(&out, 0, sizeof(out));
    ew_slots_sum(s, &out);
    ck_assert_uint_eq(out.requests_total, PROCS * PER);
    ck_assert_uint_eq(out.requests_by_class[2], PROCS * PER * 9 / 10);
    ck_assert_uint_eq(out.requests_by_class[5], PROCS * PER / 10);
    ck_assert_uint_eq(out.errors_by_code[3], PROCS * PER / 10);
    ck_assert_uint_eq(out.bytes_sent, PROCS * PER * 100ull);
    ck_assert_uint_eq(out.duration_us_total, PROCS * PER * 2ull);
    ck_assert_uint_eq(ew_slots_in_flight(s, 1), 0);
}
END_TEST

/* A new child in the same slot (after the old one exited, or after a
 * graceful restart re-attached the region) keeps adding to its counters. */
START_TEST(reuse_keeps_counts)
{
    size_t len = ew_slots_size(2);
    void *base = map_zeroed(len);
    ew_slots *s = ew_slots_init(pool, base, len, 2);
    ew_slot_end(ew_slots_get(s, 1), 200, 10, 1);
    ew_slot_end(ew_slots_get(s, 1), 500, 10, 1);

    ew_slots *again = ew_slots_attach(pool, base, len);
    ck_assert_ptr_nonnull(again);
    ck_assert_uint_eq(ew_slots_count(again), 2);
    ew_worker_slot *w = ew_slots_get(again, 1);
    ew_slot_begin(w, 1, 777, 5, 0, NULL, "/new", 0, 0);
    ew_slot_end(w, 200, 10, 1);

    ew_snapshot out;
    memset(&out, 0, sizeof(out));
    ew_slots_sum(again, &out);
    ck_assert_uint_eq(out.requests_total, 3);
    ck_assert_uint_eq(out.errors_by_code[0], 1);
    ck_assert_uint_eq(out.bytes_sent, 30);
    ck_assert_ptr_null(ew_slots_attach(pool, base, len - 1));
}
END_TEST

/* The store's readers add the slots to the shared counters. */
START_TEST(store_sums_slots)
{
    ew_store *st = new_store();
    ew_slots *s = new_slots(3);
    ew_store_count_response(st, 200); /* a request with no slot */
    ew_store_use_slots(st, s);
    ew_slot_end(ew_slots_get(s, 0), 200, 5, 1);
    ew_slot_end(ew_slots_get(s, 2), 502, 5, 1);
    ew_snapshot out;
    ck_assert_int_eq(ew_store_summary(st, 2000, &out), 0);
    ck_assert_uint_eq(out.requests_total, 3);
    ck_assert_uint_eq(out.requests_by_class[2], 2);
    ck_assert_uint_eq(out.errors_by_code[2], 1);
    ck_assert_uint_eq(out.bytes_sent, 10);

    ew_snapshot base;
    memset(&base, 0, sizeof(base));
    base.requests_by_class[5] = 7;
    base.errors_by_code[0] = 7;
    base.crashes_by_signal[SIGSEGV] = 2;
    ck_assert_int_eq(ew_store_add_base(st, &base), 0);
    ck_assert_int_eq(ew_store_snapshot(st, pool, 2000, &out), 0);
    ck_assert_uint_eq(out.requests_total, 10);
    ck_assert_uint_eq(out.errors_by_code[0], 7);
    ck_assert_uint_eq(out.crashes_total, 2);
}
END_TEST

/* Slot i's request: method number 2 + i, no name (the namer gives one),
 * vhost ref 0x5000 + i, tag 80. */
static void begin(ew_slots *s, uint32_t i, int32_t pid, const char *uri)
{
    ew_worker_slot *w = ew_slots_get(s, i);
    ew_slot_begin(w, (uint64_t)i + 1, pid, 1000 + i, (int32_t)(2 + i), NULL, uri, 0x5000 + i, 80);
    ew_slot_set_target(w, "application/x-httpd-php", "/srv/www/crash.php");
}

/* A stand-in for the glue's namer: writes what it was given, so that the
 * test sees each request's own numbers reach it. */
static void test_namer(void *ctx, int32_t method_number, uint64_t vhost_ref, uint64_t vhost_tag,
                       ew_failure *f)
{
    (*(int *)ctx)++;
    if (f->method[0] == '\0') {
        (void)snprintf(f->method, sizeof(f->method), "M%d", (int)method_number);
    }
    (void)snprintf(f->vhost, sizeof(f->vhost), "ref%llx:%llu", (unsigned long long)vhost_ref,
                   (unsigned long long)vhost_tag);
}

/* Every in-flight request of the dead process is recorded once, with their
 * number; another process's requests and finished ones are not. */
START_TEST(crash_records_in_flight_of_pid)
{
    ew_store *st = new_store();
    ew_slots *s = new_slots(8);
    ew_store_use_slots(st, s);
    begin(s, 0, 100, "/a");
    begin(s, 1, 100, "/b");
    begin(s, 2, 100, "/c");
    ew_slot_end(ew_slots_get(s, 2), 200, 1, 1); /* finished before the crash */
    begin(s, 3, 200, "/other");
    ck_assert_uint_eq(ew_slots_in_flight(s, 100), 2);

    /* A method without a number keeps its name. */
    ew_slot_begin(ew_slots_get(s, 4), 9, 100, 1004, 99, "BREW", "/pot", 0x5004, 80);

    uint32_t recorded = 99;
    int named = 0;
    ck_assert_int_eq(
        ew_slots_record_crash(s, st, 100, SIGSEGV, 5000, test_namer, &named, &recorded), 0);
    ck_assert_uint_eq(recorded, 3);
    ck_assert_int_eq(named, 3);
    ck_assert_uint_eq(ew_slots_in_flight(s, 100), 0);
    ck_assert_uint_eq(ew_slots_in_flight(s, 200), 1);
    /* A second report of the same pid records nothing more. */
    ck_assert_int_eq(ew_slots_record_crash(s, st, 100, SIGSEGV, 5000, NULL, NULL, &recorded), 0);
    ck_assert_uint_eq(recorded, 0);

    ew_snapshot out;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 6000, &out), 0);
    ck_assert_uint_eq(out.crashes_total, 3);
    ck_assert_uint_eq(out.crashes_by_signal[SIGSEGV], 3);
    ck_assert_uint_eq(out.failures_recorded, 3);
    ck_assert_uint_eq(out.requests_total, 1);
    ck_assert_uint_eq(out.window_5xx[0], 0);
    ck_assert_uint_eq(out.recent_len, 3);
    int seen_a = 0, seen_b = 0, seen_pot = 0;
    for (uint32_t i = 0; i < out.recent_len; i++) {
        const ew_failure *f = &out.recent[i];
        ck_assert_uint_eq(f->status, 0);
        ck_assert_int_eq(f->crash_signal, SIGSEGV);
        ck_assert_uint_eq(f->in_flight, 3);
        ck_assert_int_eq(f->pid, 100);
        if (strcmp(f->uri, "/a") == 0) {
            seen_a++;
            ck_assert_str_eq(f->method, "M2");
            ck_assert_str_eq(f->vhost, "ref5000:80");
        } else if (strcmp(f->uri, "/b") == 0) {
            seen_b++;
            ck_assert_str_eq(f->method, "M3");
            ck_assert_str_eq(f->vhost, "ref5001:80");
        } else {
            ck_assert_str_eq(f->uri, "/pot");
            seen_pot++;
            ck_assert_str_eq(f->method, "BREW");
            ck_assert_str_eq(f->handler, "");
            continue;
        }
        ck_assert_str_eq(f->handler, "application/x-httpd-php");
        ck_assert_str_eq(f->file, "/srv/www/crash.php");
    }
    ck_assert_int_eq(seen_a, 1);
    ck_assert_int_eq(seen_b, 1);
    ck_assert_int_eq(seen_pot, 1);
    ck_assert_uint_eq(out.files_len, 2);
    for (uint32_t i = 0; i < out.files_len; i++) {
        if (strcmp(out.files[i].file, "/srv/www/crash.php") == 0) {
            ck_assert_uint_eq(out.files[i].count, 2);
            ck_assert_uint_eq(out.files[i].crashes, 2);
        }
    }
}
END_TEST

/* Requests of a child that a hard restart killed are forgotten, never
 * recorded; pids are listed once each. */
START_TEST(forget_and_busy_pids)
{
    ew_store *st = new_store();
    ew_slots *s = new_slots(6);
    begin(s, 0, 10, "/a");
    begin(s, 1, 10, "/b");
    begin(s, 4, 11, "/c");
    int32_t pids[8];
    ck_assert_uint_eq(ew_slots_busy_pids(s, pids, 8), 2);
    ck_assert_int_eq(pids[0], 10);
    ck_assert_int_eq(pids[1], 11);
    ck_assert_uint_eq(ew_slots_forget(s, 10), 2);
    uint32_t recorded = 9;
    ck_assert_int_eq(ew_slots_record_crash(s, st, 10, SIGKILL, 5000, NULL, NULL, &recorded), 0);
    ck_assert_uint_eq(recorded, 0);
    ew_snapshot out;
    ck_assert_int_eq(ew_store_summary(st, 6000, &out), 0);
    ck_assert_uint_eq(out.crashes_total, 0);
    ck_assert_str_eq(ew_signal_name(SIGSEGV), "SIGSEGV");
    ck_assert_str_eq(ew_signal_name(SIGKILL), "SIGKILL");
    ck_assert_ptr_null(ew_signal_name(0));
    char buf[EW_SIGNAL_LABEL_MAX];
    ck_assert_str_eq(ew_signal_label(SIGSEGV, buf), "SIGSEGV");
    ck_assert_str_eq(ew_signal_label(63, buf), "SIG63");
}
END_TEST

/* A request that ended on another worker (event's write completion) is
 * counted in that worker's slot and clears its own slot only while the slot
 * still holds it: never the request its worker began since. */
START_TEST(release_clears_only_its_own_request)
{
    ew_slots *s = new_slots(4);
    ew_worker_slot *a = ew_slots_get(s, 0);
    ew_worker_slot *b = ew_slots_get(s, 1);

    ew_slot_begin(a, 0x1001, 100, 1, 0, NULL, "/first", 0, 0);
    ew_slot_count(b, 200, 10, 1); /* logged by worker b */
    ew_slot_release(a, 0x1001);
    ck_assert_uint_eq(ew_slots_in_flight(s, 100), 0);

    ew_slot_begin(a, 0x1002, 100, 2, 0, NULL, "/second", 0, 0);
    ew_slot_begin(a, 0x1003, 100, 3, 0, NULL, "/third", 0, 0); /* a moved on */
    ew_slot_release(a, 0x1002);                                /* late: a stale tag */
    ck_assert_uint_eq(ew_slots_in_flight(s, 100), 1);
    ew_slot_count(a, 200, 10, 1);
    ew_slot_finish(a, 0x1002); /* the pipelined case: a's later request stays */
    ck_assert_uint_eq(ew_slots_in_flight(s, 100), 1);
    ew_slot_finish(a, 0x1003);
    ck_assert_uint_eq(ew_slots_in_flight(s, 100), 0);

    ew_snapshot out;
    memset(&out, 0, sizeof(out));
    ew_slots_sum(s, &out);
    ck_assert_uint_eq(out.requests_by_class[2], 2);
    ck_assert_uint_eq(out.bytes_sent, 20);
}
END_TEST

/* mod_wsgi's daemon logs a request's traceback in another process: its
 * lines wait under the worker's slot and the request's tag until the worker
 * takes them, in order, with the most severe line as the message. */
START_TEST(remote_story_in_order_then_taken)
{
    ew_slots *s = new_slots(4);
    ew_worker_slot *w = ew_slots_get(s, 2);
    ew_slot_begin(w, 0x5000, 100, 1, 0, NULL, "/app", 0, 0);
    ck_assert_int_eq(ew_slots_remote_add(s, 2, 0x5000, 3, "Traceback (most recent call last):"), 1);
    ck_assert_int_eq(ew_slots_remote_add(s, 2, 0x5000, 3, "  File \"/srv/app.wsgi\", line 2"), 1);
    ck_assert_int_eq(ew_slots_remote_add(s, 2, 0x5000, 3, "ValueError: two\nlines"), 1);
    ck_assert_int_eq(ew_slots_remote_add(s, 2, 0x5000, 5, "a notice after it"), 1);
    /* Not in flight there: refused. */
    ck_assert_int_eq(ew_slots_remote_add(s, 2, 0x6000, 3, "other"), 0);
    ck_assert_int_eq(ew_slots_remote_add(s, 3, 0x5000, 3, "other"), 0);
    ck_assert_int_eq(ew_slots_remote_add(s, 9, 0x5000, 3, "out of range"), 0);

    char story[EW_STORY_MAX] = "AH01071: the worker's own line";
    char message[EW_MESSAGE_MAX] = "";
    ck_assert_uint_eq(
        ew_slots_remote_take(s, 2, 0x5000, story, sizeof(story), message, sizeof(message)), 4);
    ck_assert_str_eq(story, "AH01071: the worker's own line\nTraceback (most recent call last):\n"
                            "  File \"/srv/app.wsgi\", line 2\nValueError: two\\nlines\n"
                            "a notice after it");
    ck_assert_str_eq(message, "ValueError: two\\nlines"); /* most severe, last on ties */
    /* Taken once: the entry is free. */
    story[0] = '\0';
    ck_assert_uint_eq(
        ew_slots_remote_take(s, 2, 0x5000, story, sizeof(story), message, sizeof(message)), 0);
    ck_assert_str_eq(story, "");
}
END_TEST

/* More than fits: the first lines, a cut marker, the last line; entries of
 * requests that left their slot are reused, so 32 never run out. */
START_TEST(remote_story_bounds_and_reuse)
{
    ew_slots *s = new_slots(64);
    ew_worker_slot *w = ew_slots_get(s, 0);
    ew_slot_begin(w, 0x7000, 100, 1, 0, NULL, "/big", 0, 0);
    char line[200];
    for (int i = 0; i < 100; i++) {
        (void)snprintf(line, sizeof(line), "frame %03d %0150d", i, 0);
        ck_assert_int_eq(ew_slots_remote_add(s, 0, 0x7000, 3, line), 1);
    }
    char story[EW_STORY_MAX] = "";
    char message[EW_MESSAGE_MAX] = "kept: the worker's own";
    ew_slots_remote_take(s, 0, 0x7000, story, sizeof(story), message, sizeof(message));
    ck_assert_ptr_nonnull(strstr(story, "frame 000 "));
    ck_assert_ptr_nonnull(strstr(story, "lines cut ...]\nframe 099 "));
    ck_assert_uint_lt(strlen(story), sizeof(story));
    ck_assert_str_eq(message, "kept: the worker's own");

    /* 40 requests in turn, each ending without a take (a 200): entries
     * are reused once their request left the slot. */
    for (uint32_t r = 0; r < 40; r++) {
        ew_worker_slot *x = ew_slots_get(s, r);
        ew_slot_begin(x, 0x9000 + r, 100, 1, 0, NULL, "/ok", 0, 0);
        ck_assert_int_eq(ew_slots_remote_add(s, r, 0x9000 + r, 4, "a warning"), 1);
        ew_slot_finish(x, 0x9000 + r);
    }
    /* 32 in flight at once hold all entries; the 33rd finds none. */
    for (uint32_t r = 0; r < 33; r++) {
        ew_slot_begin(ew_slots_get(s, r), 0xa000 + r, 100, 1, 0, NULL, "/x", 0, 0);
        ck_assert_int_eq(ew_slots_remote_add(s, r, 0xa000 + r, 3, "held"), r < 32 ? 1 : 0);
    }
}
END_TEST

/* 2 daemon processes x 4 threads log for 8 requests at once: every story
 * holds its own request's lines only, all of them. */
typedef struct {
    ew_slots *s;
    uint32_t index;
} remote_writer;

static void *write_remote(void *arg)
{
    const remote_writer *rw = arg;
    char line[64];
    for (int j = 0; j < 20; j++) {
        (void)snprintf(line, sizeof(line), "request-%u line-%02d", rw->index, j);
        ck_assert_int_eq(ew_slots_remote_add(rw->s, rw->index, 0xb000 + rw->index, 3, line), 1);
    }
    return NULL;
}

START_TEST(remote_story_concurrent_writers)
{
    size_t len = ew_slots_size(8);
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(base, MAP_FAILED);
    ew_slots *s = ew_slots_init(pool, base, len, 8);
    for (uint32_t i = 0; i < 8; i++) {
        ew_slot_begin(ew_slots_get(s, i), 0xb000 + i, 100, 1, 0, NULL, "/app", 0, 0);
    }
    pid_t kids[2];
    for (int p = 0; p < 2; p++) {
        kids[p] = fork();
        ck_assert_int_ge(kids[p], 0);
        if (kids[p] == 0) {
            ew_slots *mine = ew_slots_attach_static(base, len);
            pthread_t t[4];
            remote_writer rw[4];
            for (int k = 0; k < 4; k++) {
                rw[k].s = mine;
                rw[k].index = (uint32_t)(p * 4 + k);
                pthread_create(&t[k], NULL, write_remote, &rw[k]);
            }
            for (int k = 0; k < 4; k++) {
                pthread_join(t[k], NULL);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int st = 0;
        waitpid(kids[p], &st, 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (uint32_t i = 0; i < 8; i++) {
        char story[EW_STORY_MAX] = "";
        char message[EW_MESSAGE_MAX] = "";
        ck_assert_uint_eq(
            ew_slots_remote_take(s, i, 0xb000 + i, story, sizeof(story), message, sizeof(message)),
            20);
        char own[32];
        (void)snprintf(own, sizeof(own), "request-%u ", i);
        ck_assert_uint_eq(count_occurrences(story, "request-"), 20);
        ck_assert_uint_eq(count_occurrences(story, own), 20);
        (void)snprintf(own, sizeof(own), "request-%u line-19", i);
        ck_assert_str_eq(message, own);
    }
    munmap(base, len);
}
END_TEST

Suite *slots_suite(void)
{
    Suite *s = suite_create("slots");
    TCase *tc = tcase_create("slots");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, sizes_and_bounds);
    tcase_add_test(tc, each_status_counted_in_its_class);
    tcase_add_test(tc, sum_over_processes);
    tcase_add_test(tc, reuse_keeps_counts);
    tcase_add_test(tc, store_sums_slots);
    tcase_add_test(tc, crash_records_in_flight_of_pid);
    tcase_add_test(tc, forget_and_busy_pids);
    tcase_add_test(tc, release_clears_only_its_own_request);
    tcase_add_test(tc, remote_story_in_order_then_taken);
    tcase_add_test(tc, remote_story_bounds_and_reuse);
    tcase_add_test(tc, remote_story_concurrent_writers);
    suite_add_tcase(s, tc);
    return s;
}

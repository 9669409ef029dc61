/* Unit tests of the shared-memory store: counters, file table, ring, lock. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_pools.h>

#include "ew_store.h"
#include "unit.h"

/* Shared anonymous memory, as the module uses, so forked children see it. */
static void *map_shared(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

static ew_store *new_store(uint32_t files, uint32_t recent, void **base, size_t *len)
{
    *len = ew_store_size(files, recent);
    ck_assert_uint_gt(*len, 0);
    *base = map_shared(*len);
    ew_store *st = ew_store_init(pool, *base, *len, files, recent, 1000);
    ck_assert_ptr_nonnull(st);
    return st;
}

/* New, zeroed tables for a resize, as the module maps them. */
static ew_store *resize_to(ew_store *old, uint32_t files, uint32_t recent, void **base, size_t *len)
{
    *len = ew_store_tables_size(files, recent);
    *base = map_shared(*len);
    int rc = -1;
    ew_store *st = ew_store_resize(pool, old, *base, *len, files, recent, 1000, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(st);
    return st;
}

static ew_failure make_failure(const char *file, int status, int64_t t, const char *message)
{
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.time_us = t;
    f.status = (uint16_t)status;
    f.pid = 42;
    ew_copy_field(f.method, sizeof(f.method), "GET");
    ew_copy_field(f.uri, sizeof(f.uri), "/u");
    ew_copy_field(f.vhost, sizeof(f.vhost), "localhost:80");
    ew_copy_field(f.handler, sizeof(f.handler), "application/x-httpd-php");
    ew_copy_field(f.file, sizeof(f.file), file);
    ew_copy_field(f.message, sizeof(f.message), message);
    return f;
}

static const ew_file_stat *find_file(const ew_snapshot *s, const char *file)
{
    for (uint32_t i = 0; i < s->files_len; i++) {
        if (strcmp(s->files[i].file, file) == 0) {
            return &s->files[i];
        }
    }
    return NULL;
}

START_TEST(size_and_init_reject_bad_input)
{
    ck_assert_uint_eq(ew_store_size(0, 10), 0);
    ck_assert_uint_eq(ew_store_size(10, 0), 0);
    ck_assert_uint_eq(ew_store_size(EW_FILES_MAX + 1, 10), 0);
    ck_assert_uint_eq(ew_store_size(10, EW_RECENT_MAX + 1), 0);
    size_t len = ew_store_size(16, 8);
    ck_assert_uint_gt(len, 16 * sizeof(ew_file_stat) + 8 * sizeof(ew_failure));
    size_t hdr = ew_store_header_size();
    char *base = map_shared(len + 64);
    ck_assert_ptr_null(ew_store_init(pool, base, len - 1, 16, 8, 0));
    ck_assert_ptr_null(ew_store_init(pool, base + 8, len, 16, 8, 0)); /* misaligned */
    /* Not formatted yet. */
    ck_assert_ptr_null(ew_store_attach(pool, base, hdr, base + hdr, len - hdr));
    ew_store *st = ew_store_init(pool, base, len, 16, 8, 0);
    ck_assert_ptr_nonnull(st);
    ew_store_count_response(st, 500);
    /* Re-opened (as after a restart): the same counters and sizes. */
    ew_store *again = ew_store_attach(pool, base, hdr, base + hdr, len - hdr);
    ck_assert_ptr_nonnull(again);
    ck_assert_uint_eq(ew_store_files_capacity(again), 16);
    ck_assert_uint_eq(ew_store_recent_capacity(again), 8);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_summary(again, 0, &s), 0);
    ck_assert_uint_eq(s.errors_by_code[0], 1);
    /* Tables too short for their own capacities are refused. */
    ck_assert_ptr_null(ew_store_attach(pool, base, hdr, base + hdr, len - hdr - 1));
    munmap(base, len + 64);
}
END_TEST

START_TEST(counters_by_class_and_code)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 4, &base, &len);
    int statuses[] = {200, 200, 204, 301, 404, 500, 500, 502, 503, 599, 101, 99, 600};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        ew_store_count_response(st, statuses[i]);
    }
    ew_store_add_traffic(st, 1000, 10);
    ew_store_add_traffic(st, 24, 5);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.requests_total, 13);
    ck_assert_uint_eq(s.requests_by_class[1], 1);
    ck_assert_uint_eq(s.requests_by_class[2], 3);
    ck_assert_uint_eq(s.requests_by_class[3], 1);
    ck_assert_uint_eq(s.requests_by_class[4], 1);
    ck_assert_uint_eq(s.requests_by_class[5], 5);
    ck_assert_uint_eq(s.requests_by_class[EW_CLASS_OTHER], 2);
    ck_assert_uint_eq(s.errors_by_code[0], 2);
    ck_assert_uint_eq(s.errors_by_code[2], 1);
    ck_assert_uint_eq(s.errors_by_code[3], 1);
    ck_assert_uint_eq(s.errors_by_code[99], 1);
    ck_assert_uint_eq(s.errors_by_code[1], 0);
    ck_assert_uint_eq(s.bytes_sent, 1024);
    ck_assert_uint_eq(s.duration_us_total, 15);
    ck_assert_int_eq(s.since_us, 1000);
    /* Counting responses does not touch the table or the ring. */
    ck_assert_uint_eq(s.files_len, 0);
    ck_assert_uint_eq(s.recent_len, 0);
    munmap(base, len);
}
END_TEST

START_TEST(status_class)
{
    ck_assert_int_eq(ew_status_class(100), 1);
    ck_assert_int_eq(ew_status_class(299), 2);
    ck_assert_int_eq(ew_status_class(500), 5);
    ck_assert_int_eq(ew_status_class(599), 5);
    ck_assert_int_eq(ew_status_class(600), EW_CLASS_OTHER);
    ck_assert_int_eq(ew_status_class(0), EW_CLASS_OTHER);
    ck_assert_int_eq(ew_status_class(-500), EW_CLASS_OTHER);
}
END_TEST

START_TEST(table_aggregates_per_file)
{
    void *base;
    size_t len;
    ew_store *st = new_store(8, 8, &base, &len);
    ew_failure a1 = make_failure("/w/a.php", 500, 2000, "first");
    ew_failure b1 = make_failure("/w/b.php", 502, 2500, "b fails");
    ew_failure a2 = make_failure("/w/a.php", 503, 3000, "");
    ck_assert_int_eq(ew_store_record_failure(st, &a1), 0);
    ck_assert_int_eq(ew_store_record_failure(st, &b1), 0);
    ck_assert_int_eq(ew_store_record_failure(st, &a2), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.files_len, 2);
    ck_assert_uint_eq(s.failures_recorded, 3);
    /* Sorted by count: a.php first. */
    ck_assert_str_eq(s.files[0].file, "/w/a.php");
    ck_assert_uint_eq(s.files[0].count, 2);
    ck_assert_int_eq(s.files[0].first_seen_us, 2000);
    ck_assert_int_eq(s.files[0].last_seen_us, 3000);
    ck_assert_uint_eq(s.files[0].last_status, 503);
    /* An empty message does not erase the last useful one. */
    ck_assert_str_eq(s.files[0].message, "first");
    ck_assert_str_eq(s.files[1].file, "/w/b.php");
    ck_assert_uint_eq(s.files[1].count, 1);
    ck_assert_str_eq(s.files[1].handler, "application/x-httpd-php");
    munmap(base, len);
}
END_TEST

START_TEST(failure_without_file_is_keyed_by_uri)
{
    void *base;
    size_t len;
    ew_store *st = new_store(8, 8, &base, &len);
    ew_failure f = make_failure("", 500, 2000, "m");
    ew_copy_field(f.uri, sizeof(f.uri), "/proxied/path");
    ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.files_len, 1);
    ck_assert_str_eq(s.files[0].file, "/proxied/path");
    /* The ring keeps the failure as recorded. */
    ck_assert_str_eq(s.recent[0].file, "");
    munmap(base, len);
}
END_TEST

START_TEST(table_evicts_least_recently_failed)
{
    void *base;
    size_t len;
    ew_store *st = new_store(3, 8, &base, &len);
    const char *names[] = {"/a", "/b", "/c", "/a", "/d"};
    for (int i = 0; i < 5; i++) {
        ew_failure f = make_failure(names[i], 500, 2000 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    }
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.files_len, 3);
    ck_assert_uint_eq(s.files_evicted, 1);
    ck_assert_ptr_null(find_file(&s, "/b"));
    ck_assert_uint_eq(find_file(&s, "/a")->count, 2);
    ck_assert_ptr_nonnull(find_file(&s, "/c"));
    ck_assert_ptr_nonnull(find_file(&s, "/d"));
    /* /b comes back as a new entry and evicts /c, now the oldest. */
    ew_failure b = make_failure("/b", 500, 3000, "m");
    ck_assert_int_eq(ew_store_record_failure(st, &b), 0);
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.files_evicted, 2);
    ck_assert_ptr_null(find_file(&s, "/c"));
    ck_assert_uint_eq(find_file(&s, "/b")->count, 1);
    ck_assert_int_eq(find_file(&s, "/b")->first_seen_us, 3000);
    munmap(base, len);
}
END_TEST

/* Random traffic against a plain-array LRU model: the table must agree with
 * the model after every step (this exercises backward-shift deletion). */
START_TEST(table_matches_lru_model)
{
    enum { CAP = 8, NAMES = 24, STEPS = 3000 };
    void *base;
    size_t len;
    ew_store *st = new_store(CAP, 4, &base, &len);
    char names[NAMES][24];
    for (int i = 0; i < NAMES; i++) {
        snprintf(names[i], sizeof(names[i]), "/f%d.php", i);
    }
    int model_name[CAP];
    uint64_t model_count[CAP];
    int64_t model_last[CAP];
    int model_len = 0;
    uint64_t evicted = 0;
    unsigned seed = 12345;
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        /* Skewed choice so some names stay hot. */
        int n = (int)((seed >> 16) % NAMES);
        if (n > 12 && (seed & 1u)) {
            n %= 4;
        }
        int64_t t = 10000 + step;
        ew_failure f = make_failure(names[n], 500, t, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);

        int found = -1;
        for (int i = 0; i < model_len; i++) {
            if (model_name[i] == n) {
                found = i;
            }
        }
        if (found < 0) {
            if (model_len < CAP) {
                found = model_len++;
            } else {
                found = 0;
                for (int i = 1; i < model_len; i++) {
                    if (model_last[i] < model_last[found]) {
                        found = i;
                    }
                }
                evicted++;
            }
            model_name[found] = n;
            model_count[found] = 0;
        }
        model_count[found]++;
        model_last[found] = t;

        if (step % 97 == 0 || step == STEPS - 1) {
            ew_snapshot s;
            ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
            ck_assert_uint_eq(s.files_len, (uint32_t)model_len);
            ck_assert_uint_eq(s.files_evicted, evicted);
            for (int i = 0; i < model_len; i++) {
                const ew_file_stat *fs = find_file(&s, names[model_name[i]]);
                ck_assert_msg(fs != NULL, "step %d: %s missing", step, names[model_name[i]]);
                ck_assert_uint_eq(fs->count, model_count[i]);
                ck_assert_int_eq(fs->last_seen_us, model_last[i]);
            }
        }
    }
    munmap(base, len);
}
END_TEST

START_TEST(ring_wraps_newest_first)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 4, &base, &len);
    for (int i = 0; i < 10; i++) {
        ew_failure f = make_failure("/r.php", 500 + i, 5000 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    }
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.recent_capacity, 4);
    ck_assert_uint_eq(s.recent_len, 4);
    for (uint32_t i = 0; i < 4; i++) {
        ck_assert_int_eq(s.recent[i].time_us, 5009 - (int64_t)i);
        ck_assert_uint_eq(s.recent[i].status, 509 - i);
    }
    ck_assert_uint_eq(s.failures_recorded, 10);
    munmap(base, len);
}
END_TEST

/* A ring entry is written field by field, only the bytes in use: a short
 * failure over a long one reads back exactly, every field and number, and
 * a field the caller left unterminated is cut at its last byte. */
START_TEST(ring_entry_written_field_by_field)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 1, &base, &len);
    ew_failure longf = make_failure("/a/very/long/path/to/a/script.php", 503, 7000,
                                    "a long message about what went wrong");
    memset(longf.uri, 'u', sizeof(longf.uri)); /* unterminated */
    memset(longf.unique_id, 'i', sizeof(longf.unique_id));
    memset(longf.trace_id, 't', sizeof(longf.trace_id));
    memset(longf.dd_trace_id, '9', sizeof(longf.dd_trace_id));
    longf.crash_signal = 11;
    longf.in_flight = 3;
    longf.duration_us = 123;
    ck_assert_int_eq(ew_store_record_failure(st, &longf), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(strlen(s.recent[0].uri), sizeof(longf.uri) - 1);
    ck_assert_uint_eq(strlen(s.recent[0].unique_id), sizeof(longf.unique_id) - 1);
    ck_assert_uint_eq(strlen(s.recent[0].trace_id), sizeof(longf.trace_id) - 1);
    ck_assert_uint_eq(strlen(s.recent[0].dd_trace_id), sizeof(longf.dd_trace_id) - 1);
    ck_assert_int_eq(s.recent[0].crash_signal, 11);
    ck_assert_uint_eq(s.recent[0].in_flight, 3);

    ew_failure shortf = make_failure("/s.php", 500, 7001, "m");
    ew_copy_field(shortf.trace_id, sizeof(shortf.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_int_eq(ew_store_record_failure(st, &shortf), 0);
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.recent_len, 1);
    const ew_failure *got = &s.recent[0];
    ck_assert_str_eq(got->method, "GET");
    ck_assert_str_eq(got->uri, "/u");
    ck_assert_str_eq(got->vhost, "localhost:80");
    ck_assert_str_eq(got->handler, "application/x-httpd-php");
    ck_assert_str_eq(got->file, "/s.php");
    ck_assert_str_eq(got->message, "m");
    ck_assert_str_eq(got->unique_id, "");
    ck_assert_str_eq(got->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_str_eq(got->dd_trace_id, "");
    ck_assert_int_eq(got->time_us, 7001);
    ck_assert_int_eq(got->duration_us, 0);
    ck_assert_int_eq(got->pid, 42);
    ck_assert_uint_eq(got->status, 500);
    ck_assert_int_eq(got->crash_signal, 0);
    ck_assert_uint_eq(got->in_flight, 0);
    ck_assert_uint_eq(got->seq, 2);
    ck_assert_uint_ne(got->cause_key, 0);
    munmap(base, len);
}
END_TEST

START_TEST(ring_partially_filled)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 8, &base, &len);
    for (int i = 0; i < 3; i++) {
        ew_failure f = make_failure("/r.php", 500, 100 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    }
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.recent_len, 3);
    ck_assert_int_eq(s.recent[0].time_us, 102);
    ck_assert_int_eq(s.recent[2].time_us, 100);
    munmap(base, len);
}
END_TEST

START_TEST(copy_field_truncates_on_utf8_boundary)
{
    char out[6];
    ew_copy_field(out, sizeof(out), "abc");
    ck_assert_str_eq(out, "abc");
    ew_copy_field(out, sizeof(out), "abcdefgh");
    ck_assert_str_eq(out, "abcde");
    /* "abcd" + U+00E9 (2 bytes): the é would be cut, so it is dropped. */
    ew_copy_field(out, sizeof(out), "abcd\xc3\xa9z");
    ck_assert_str_eq(out, "abcd");
    /* A 3-byte character ending exactly at the limit is kept. */
    ew_copy_field(out, sizeof(out), "ab\xe2\x82\xac");
    ck_assert_str_eq(out, "ab\xe2\x82\xac");
    ew_copy_field(out, sizeof(out), NULL);
    ck_assert_str_eq(out, "");
    /* Fields of a recorded failure are bounded. */
    char longname[2000];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ew_failure f = make_failure(longname, 500, 1, longname);
    ck_assert_uint_eq(strlen(f.file), EW_FILE_MAX - 1);
    ck_assert_uint_eq(strlen(f.message), EW_MESSAGE_MAX - 1);
}
END_TEST

/* A child that dies holding the lock, in the middle of an update, must not
 * wedge anyone: the next locker repairs the table and carries on. */
START_TEST(dead_lock_holder_is_recovered)
{
    void *base;
    size_t len;
    ew_store *st = new_store(8, 8, &base, &len);
    const char *names[] = {"/a", "/b", "/c"};
    for (int i = 0; i < 3; i++) {
        ew_failure f = make_failure(names[i], 500, 100 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Slot 1 holds /b: pretend it was being rewritten, trash the index. */
        ew_store_test_lock_and_mark_busy(st, 1);
        raise(SIGKILL);
        _exit(0);
    }
    int wstatus;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    ck_assert(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);

    ew_failure a = make_failure("/a", 500, 200, "again");
    ck_assert_int_eq(ew_store_record_failure(st, &a), 0);
    ew_failure d = make_failure("/d", 500, 201, "new");
    ck_assert_int_eq(ew_store_record_failure(st, &d), 0);

    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.lock_recoveries, 1);
    /* The busy slot is dropped, the others are intact and findable. */
    ck_assert_ptr_null(find_file(&s, "/b"));
    ck_assert_uint_eq(find_file(&s, "/a")->count, 2);
    ck_assert_uint_eq(find_file(&s, "/c")->count, 1);
    ck_assert_uint_eq(find_file(&s, "/d")->count, 1);
    ck_assert_uint_eq(s.files_len, 3);
    munmap(base, len);
}
END_TEST

typedef struct worker_arg {
    ew_store *st;
    int id;
} worker_arg;

enum { THREADS = 8, PER_THREAD = 20000, FAIL_EVERY = 100 };

static void *hammer(void *p)
{
    worker_arg *w = p;
    char file[32];
    snprintf(file, sizeof(file), "/t%d.php", w->id % 3);
    for (int i = 0; i < PER_THREAD; i++) {
        if (i % FAIL_EVERY == 0) {
            ew_store_count_response(w->st, 500);
            ew_failure f = make_failure(file, 500, i, "m");
            ew_store_record_failure(w->st, &f);
        } else {
            ew_store_count_response(w->st, 200);
            ew_store_add_traffic(w->st, 10, 1);
        }
    }
    return NULL;
}

START_TEST(threads_and_processes_count_exactly)
{
    void *base;
    size_t len;
    ew_store *st = new_store(16, 16, &base, &len);
    /* Two processes, each with THREADS threads, all on the same store. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    pthread_t tids[THREADS];
    worker_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i].st = st;
        args[i].id = i;
        pthread_create(&tids[i], NULL, hammer, &args[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tids[i], NULL);
    }
    if (pid == 0) {
        _exit(0);
    }
    int wstatus;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    ck_assert(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);

    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    uint64_t total = 2ull * THREADS * PER_THREAD;
    uint64_t failures = total / FAIL_EVERY;
    ck_assert_uint_eq(s.requests_total, total);
    ck_assert_uint_eq(s.requests_by_class[5], failures);
    ck_assert_uint_eq(s.errors_by_code[0], failures);
    ck_assert_uint_eq(s.bytes_sent, 10 * (total - failures));
    ck_assert_uint_eq(s.failures_recorded, failures);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s.files_len; i++) {
        sum += s.files[i].count;
    }
    ck_assert_uint_eq(s.files_len, 3);
    ck_assert_uint_eq(sum, failures);
    ck_assert_uint_eq(s.lock_recoveries, 0);
    munmap(base, len);
}
END_TEST

START_TEST(resize_keeps_counters_and_busiest_files)
{
    void *base1, *base2;
    size_t len1, len2;
    ew_store *old = new_store(8, 8, &base1, &len1);
    for (int i = 0; i < 5; i++) {
        ew_store_count_response(old, 200);
    }
    ew_store_count_response(old, 503);
    ew_store_add_traffic(old, 4096, 77);
    /* /hot fails 3 times, /warm twice, /cold once. */
    const char *seq[] = {"/hot", "/warm", "/hot", "/cold", "/warm", "/hot"};
    for (int i = 0; i < 6; i++) {
        ew_failure f = make_failure(seq[i], 500, 100 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(old, &f), 0);
    }
    ew_store *neu = resize_to(old, 2, 3, &base2, &len2);

    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(neu, pool, 0, &s), 0);
    ck_assert_int_eq(s.since_us, 1000);
    ck_assert_uint_eq(s.requests_total, 6);
    ck_assert_uint_eq(s.requests_by_class[2], 5);
    ck_assert_uint_eq(s.errors_by_code[3], 1);
    ck_assert_uint_eq(s.bytes_sent, 4096);
    ck_assert_uint_eq(s.duration_us_total, 77);
    ck_assert_uint_eq(s.failures_recorded, 6);
    ck_assert_uint_eq(s.files_len, 2);
    ck_assert_uint_eq(s.files_evicted, 1);
    ck_assert_uint_eq(find_file(&s, "/hot")->count, 3);
    ck_assert_uint_eq(find_file(&s, "/warm")->count, 2);
    ck_assert_ptr_null(find_file(&s, "/cold"));
    ck_assert_uint_eq(s.recent_len, 3);
    ck_assert_int_eq(s.recent[0].time_us, 105);
    ck_assert_int_eq(s.recent[2].time_us, 103);
    /* The new tables work: lookups hit the copied rows. */
    ew_failure f = make_failure("/warm", 500, 300, "m");
    ck_assert_int_eq(ew_store_record_failure(neu, &f), 0);
    ck_assert_int_eq(ew_store_snapshot(neu, pool, 0, &s), 0);
    ck_assert_uint_eq(find_file(&s, "/warm")->count, 3);
    ck_assert_uint_eq(s.files_len, 2);
    /* Handler rows and window buckets are shared, never copied. */
    ck_assert_uint_eq(s.handlers_len, 1);
    ck_assert_uint_eq(s.handlers[0].count, 7);
    ck_assert_uint_eq(s.window_5xx[0], 7);
    /* A child of the previous generation keeps the old handle: its
     * responses and failures still count; only its rows stay behind. */
    ew_store_count_response(old, 500);
    ew_failure late = make_failure("/late", 500, 400, "m");
    ck_assert_int_eq(ew_store_record_failure(old, &late), 0);
    ck_assert_int_eq(ew_store_snapshot(neu, pool, 0, &s), 0);
    ck_assert_uint_eq(s.requests_total, 7);
    ck_assert_uint_eq(s.errors_by_code[0], 1);
    ck_assert_uint_eq(s.failures_recorded, 8);
    ck_assert_uint_eq(s.window_5xx[0], 8);
    ck_assert_ptr_null(find_file(&s, "/late"));
    munmap(base1, len1);
    munmap(base2, len2);
}
END_TEST

#define SEC 1000000LL

static void record_at(ew_store *st, int status, int64_t t)
{
    ew_failure f = make_failure("/w.php", status, t, "m");
    ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
}

/* The windows move with an injected clock: failures leave the 1-minute
 * window after 60 s (+ at most one 5 s bucket), the 15-minute one after
 * 15 minutes. */
START_TEST(windows_move_with_the_clock)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 4, &base, &len);
    int64_t t0 = 1700000000LL * SEC; /* a multiple of 5 s */
    record_at(st, 500, t0);
    record_at(st, 500, t0 + 1 * SEC);
    record_at(st, 503, t0 + 2 * SEC);
    record_at(st, 500, t0 + 4 * 60 * SEC); /* four minutes later */

    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, t0 + 4 * 60 * SEC, &s), 0);
    ck_assert_uint_eq(s.window_500[0], 1); /* 1m: only the newest */
    ck_assert_uint_eq(s.window_5xx[0], 1);
    ck_assert_uint_eq(s.window_500[1], 3); /* 5m: all */
    ck_assert_uint_eq(s.window_5xx[1], 4);
    ck_assert_uint_eq(s.window_500[2], 3);
    ck_assert_uint_eq(s.window_5xx[2], 4);

    /* 5m01s after t0 + 4 s: the first three are out of the 5m window. */
    ck_assert_int_eq(ew_store_snapshot(st, pool, t0 + 5 * 60 * SEC + 5 * SEC, &s), 0);
    ck_assert_uint_eq(s.window_500[0], 0);
    ck_assert_uint_eq(s.window_500[1], 1);
    ck_assert_uint_eq(s.window_5xx[1], 1);
    ck_assert_uint_eq(s.window_5xx[2], 4);

    /* Just inside, then just past, the 15-minute edge of the newest. */
    ck_assert_int_eq(ew_store_snapshot(st, pool, t0 + 19 * 60 * SEC - 1, &s), 0);
    ck_assert_uint_eq(s.window_5xx[2], 1);
    ck_assert_int_eq(ew_store_snapshot(st, pool, t0 + 19 * 60 * SEC, &s), 0);
    ck_assert_uint_eq(s.window_5xx[2], 0);
    /* Counters are not windows: they keep everything. */
    ck_assert_uint_eq(s.failures_recorded, 4);
    munmap(base, len);
}
END_TEST

/* A bucket slot is reused when the clock comes round to it again: the old
 * counts must not leak into the new period. */
START_TEST(window_buckets_are_reused_cleanly)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 4, &base, &len);
    int64_t t0 = 1700000000LL * SEC;
    record_at(st, 500, t0);
    int64_t later = t0 + (int64_t)EW_BUCKETS * EW_BUCKET_US; /* same slot */
    record_at(st, 502, later);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, later, &s), 0);
    ck_assert_uint_eq(s.window_500[2], 0);
    ck_assert_uint_eq(s.window_5xx[2], 1);
    /* A late arrival older than the slot's period is not counted. */
    record_at(st, 500, t0 + 1 * SEC);
    ck_assert_int_eq(ew_store_snapshot(st, pool, later, &s), 0);
    ck_assert_uint_eq(s.window_500[2], 0);
    munmap(base, len);
}
END_TEST

/* The window uses when the request was logged (time + duration). */
START_TEST(window_counts_response_start)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 4, &base, &len);
    int64_t t0 = 1700000000LL * SEC;
    ew_failure f = make_failure("/slow.php", 500, t0, "m");
    f.duration_us = 120 * SEC;
    ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, t0 + 150 * SEC, &s), 0);
    ck_assert_uint_eq(s.window_500[0], 1);
    munmap(base, len);
}
END_TEST

START_TEST(handler_table_counts_pairs_and_overflows)
{
    void *base;
    size_t len;
    ew_store *st = new_store(4, 4, &base, &len);
    ew_failure f = make_failure("/a", 500, 1, "m");
    ew_store_record_failure(st, &f);
    ew_store_record_failure(st, &f);
    f.status = 503;
    ew_store_record_failure(st, &f);
    ew_copy_field(f.handler, sizeof(f.handler), "cgi-script");
    f.status = 500;
    ew_store_record_failure(st, &f);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.handlers_len, 3);
    ck_assert_str_eq(s.handlers[0].handler, "application/x-httpd-php");
    ck_assert_uint_eq(s.handlers[0].status, 500);
    ck_assert_uint_eq(s.handlers[0].count, 2);
    ck_assert_uint_eq(s.handlers[1].status, 503);
    ck_assert_str_eq(s.handlers[2].handler, "cgi-script");

    /* Fill the table; further pairs land in "other" by status. */
    for (int i = 0; i < EW_HANDLER_SLOTS + 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "h%03d", i);
        ew_copy_field(f.handler, sizeof(f.handler), name);
        f.status = 502;
        ew_store_record_failure(st, &f);
    }
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.handlers_len, EW_HANDLER_SLOTS + 1);
    const ew_handler_stat *last = &s.handlers[s.handlers_len - 1];
    ck_assert_str_eq(last->handler, EW_HANDLER_OTHER);
    ck_assert_uint_eq(last->status, 502);
    ck_assert_uint_eq(last->count, 3 + 5); /* 64 slots - 3 used before = 61 fit */
    munmap(base, len);
}
END_TEST

/* The summary agrees with the full snapshot on everything it carries. */
/* A view that shows the top k files and the newest m failures gets exactly
 * the first k rows and m entries of the full snapshot, and the full sizes;
 * ties in count go to the most recent, then by name, as in the full order. */
START_TEST(top_view_is_the_head_of_the_full_snapshot)
{
    void *base;
    size_t len;
    ew_store *st = new_store(64, 32, &base, &len);
    char name[32];
    for (int i = 0; i < 200; i++) {
        int file = (i * 7) % 40; /* 40 files, uneven counts, interleaved times */
        (void)snprintf(name, sizeof(name), "/w/f%02d.php", file % 13 == 0 ? file : file % 17);
        ew_failure f = make_failure(name, 500, 1000 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    }
    ew_snapshot full;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &full), 0);
    ck_assert_uint_gt(full.files_len, 5);
    for (uint32_t k = 0; k <= full.files_len + 1; k++) {
        for (uint32_t m = 0; m <= 33; m += 11) {
            ew_snapshot top;
            ck_assert_int_eq(ew_store_snapshot_top(st, pool, 0, k, m, &top), 0);
            uint32_t want = k < full.files_len ? k : full.files_len;
            ck_assert_uint_eq(top.files_len, want);
            ck_assert_uint_eq(top.files_total, full.files_len);
            for (uint32_t i = 0; i < want; i++) {
                ck_assert_str_eq(top.files[i].file, full.files[i].file);
                ck_assert_uint_eq(top.files[i].count, full.files[i].count);
            }
            uint32_t want_recent = m < full.recent_len ? m : full.recent_len;
            ck_assert_uint_eq(top.recent_len, want_recent);
            ck_assert_uint_eq(top.recent_total, full.recent_len);
            for (uint32_t i = 0; i < want_recent; i++) {
                ck_assert_uint_eq(top.recent[i].seq, full.recent[i].seq);
            }
            ck_assert_uint_eq(top.requests_total, full.requests_total);
        }
    }
    munmap(base, len);
}
END_TEST

/* Stories are kept for the newest EW_STORIES failures, with their own
 * failure only; a failure without one has none. */
START_TEST(stories_follow_their_failures)
{
    void *base;
    size_t len;
    ew_store *st = new_store(8, 128, &base, &len);
    char story[64];
    for (int i = 0; i < EW_STORIES + 10; i++) {
        ew_failure f = make_failure("/s.php", 500, 100 + i, "m");
        (void)snprintf(story, sizeof(story), "line one of %d\nline two of %d", i, i);
        ck_assert_int_eq(ew_store_record_failure_story(st, &f, i == EW_STORIES + 9 ? "" : story),
                         0);
    }
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &s), 0);
    ck_assert_uint_eq(s.recent_len, EW_STORIES + 10);
    ck_assert_ptr_nonnull(s.recent_story);
    ck_assert_ptr_null(s.recent_story[0]); /* the newest had an empty story */
    for (uint32_t i = 1; i < EW_STORIES; i++) {
        int n = (int)(EW_STORIES + 9 - i);
        (void)snprintf(story, sizeof(story), "line one of %d\nline two of %d", n, n);
        ck_assert_ptr_nonnull(s.recent_story[i]);
        ck_assert_str_eq(s.recent_story[i], story);
    }
    for (uint32_t i = EW_STORIES; i < s.recent_len; i++) {
        ck_assert_ptr_null(s.recent_story[i]); /* overwritten by newer ones */
    }
    /* The top view copies the stories of what it shows. */
    ck_assert_int_eq(ew_store_snapshot_top(st, pool, 0, 1, 3, &s), 0);
    ck_assert_uint_eq(s.recent_len, 3);
    ck_assert_ptr_null(s.recent_story[0]);
    ck_assert_ptr_nonnull(s.recent_story[2]);
    munmap(base, len);
}
END_TEST

START_TEST(summary_matches_snapshot)
{
    void *base;
    size_t len;
    ew_store *st = new_store(2, 4, &base, &len);
    const char *names[] = {"/a", "/b", "/c", "/a"};
    for (int i = 0; i < 4; i++) {
        ew_store_count_response(st, i == 3 ? 503 : 500);
        ew_failure f = make_failure(names[i], i == 3 ? 503 : 500, 100 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(st, &f), 0);
    }
    ew_store_count_response(st, 200);
    ew_snapshot full, sum;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 0, &full), 0);
    ck_assert_int_eq(ew_store_summary(st, 0, &sum), 0);
    ck_assert_uint_eq(sum.requests_total, 5);
    ck_assert_uint_eq(sum.requests_total, full.requests_total);
    ck_assert_uint_eq(sum.errors_by_code[0], full.errors_by_code[0]);
    ck_assert_uint_eq(sum.errors_by_code[3], 1);
    ck_assert_uint_eq(sum.files_total, 2);
    ck_assert_uint_eq(sum.files_len, 0);
    ck_assert_uint_eq(sum.files_total, full.files_len);
    ck_assert_uint_eq(full.files_total, full.files_len);
    ck_assert_uint_eq(sum.files_evicted, full.files_evicted);
    ck_assert_uint_eq(sum.failures_recorded, 4);
    ck_assert_uint_eq(sum.window_5xx[2], full.window_5xx[2]);
    ck_assert_uint_eq(sum.window_500[2], 3);
    ck_assert_ptr_null(sum.files);
    ck_assert_uint_eq(sum.recent_len, 0);
    munmap(base, len);
}
END_TEST

/* After a resize the eviction order is still least recently failed first,
 * not least busy first. */
START_TEST(resize_keeps_the_eviction_order)
{
    void *base1, *base2;
    size_t len1, len2;
    ew_store *old = new_store(4, 4, &base1, &len1);
    const char *seq[] = {"/a", "/a", "/a", "/b", "/c"};
    for (int i = 0; i < 5; i++) {
        ew_failure f = make_failure(seq[i], 500, 100 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(old, &f), 0);
    }
    ew_store *neu = resize_to(old, 2, 4, &base2, &len2);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(neu, pool, 0, &s), 0);
    /* Kept: the busiest (/a) and, of the rest, the most recent (/c). */
    ck_assert_ptr_nonnull(find_file(&s, "/a"));
    ck_assert_ptr_nonnull(find_file(&s, "/c"));
    /* /a failed longest ago, so a new file evicts it, not /c. */
    ew_failure d = make_failure("/d", 500, 200, "m");
    ck_assert_int_eq(ew_store_record_failure(neu, &d), 0);
    ck_assert_int_eq(ew_store_snapshot(neu, pool, 0, &s), 0);
    ck_assert_ptr_null(find_file(&s, "/a"));
    ck_assert_ptr_nonnull(find_file(&s, "/c"));
    ck_assert_ptr_nonnull(find_file(&s, "/d"));
    munmap(base1, len1);
    munmap(base2, len2);
}
END_TEST

/* A previous-generation child that dies mid-update leaves its own (old)
 * tables torn: the new generation's tables are untouched, and the old
 * tables are repaired by the next process that uses them. */
START_TEST(torn_tables_are_repaired_by_their_own_users)
{
    void *base1, *base2;
    size_t len1, len2;
    ew_store *old = new_store(8, 8, &base1, &len1);
    const char *names[] = {"/a", "/b", "/c"};
    for (int i = 0; i < 3; i++) {
        ew_failure f = make_failure(names[i], 500, 100 + i, "m");
        ck_assert_int_eq(ew_store_record_failure(old, &f), 0);
    }
    ew_store *neu = resize_to(old, 8, 8, &base2, &len2);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        ew_store_test_lock_and_mark_busy(old, 1); /* /b, in the old tables */
        raise(SIGKILL);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);

    ew_failure d = make_failure("/d", 500, 200, "m");
    ck_assert_int_eq(ew_store_record_failure(neu, &d), 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(neu, pool, 0, &s), 0);
    ck_assert_uint_eq(s.lock_recoveries, 1);
    ck_assert_uint_eq(s.files_len, 4); /* a, b, c copied; d new */
    ck_assert_ptr_nonnull(find_file(&s, "/b"));

    ew_failure a = make_failure("/a", 500, 300, "m");
    ck_assert_int_eq(ew_store_record_failure(old, &a), 0);
    ck_assert_int_eq(ew_store_snapshot(old, pool, 0, &s), 0);
    ck_assert_ptr_null(find_file(&s, "/b"));
    ck_assert_uint_eq(find_file(&s, "/a")->count, 2);
    ck_assert_uint_eq(find_file(&s, "/c")->count, 1);
    munmap(base1, len1);
    munmap(base2, len2);
}
END_TEST

/* A process stuck holding the lock must not hang a restart: the resize
 * gives up after its timeout and the store carries on as it was. */
START_TEST(resize_gives_up_on_a_stuck_lock)
{
    void *base1, *base2;
    size_t len1, len2;
    ew_store *old = new_store(4, 4, &base1, &len1);
    ew_store_count_response(old, 500);
    ew_failure f = make_failure("/a", 500, 100, "m");
    ck_assert_int_eq(ew_store_record_failure(old, &f), 0);

    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        ew_store_test_lock(old);
        (void)!write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);

    len2 = ew_store_tables_size(2, 2);
    base2 = map_shared(len2);
    int rc = 0;
    ck_assert_ptr_null(ew_store_resize(pool, old, base2, len2, 2, 2, 100, &rc));
    ck_assert_int_eq(rc, ETIMEDOUT);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    /* Unchanged, and it recovers from its dead holder. */
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(old, pool, 0, &s), 0);
    ck_assert_uint_eq(s.requests_total, 1);
    ck_assert_uint_eq(s.files_capacity, 4);
    ck_assert_uint_eq(s.lock_recoveries, 1);
    ck_assert_uint_eq(s.files_len, 1);
    close(ready[0]);
    close(ready[1]);
    munmap(base1, len1);
    munmap(base2, len2);
}
END_TEST

/* Formatting writes the header only: the rest of a fresh mapping stays
 * untouched, so large capacities cost no RAM until rows fill. */
START_TEST(init_leaves_the_tables_untouched)
{
    size_t len = ew_store_size(4096, 1024);
    unsigned char *base = map_shared(len);
    /* A pattern in the last page would be wiped by a full memset. */
    memset(base + len - 4096, 0xAB, 4096);
    ck_assert_ptr_nonnull(ew_store_init(pool, base, len, 4096, 1024, 0));
    ck_assert_uint_eq(base[len - 1], 0xAB);
    munmap(base, len);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, size_and_init_reject_bad_input);
    tcase_add_test(tc, counters_by_class_and_code);
    tcase_add_test(tc, status_class);
    tcase_add_test(tc, table_aggregates_per_file);
    tcase_add_test(tc, failure_without_file_is_keyed_by_uri);
    tcase_add_test(tc, table_evicts_least_recently_failed);
    tcase_add_test(tc, table_matches_lru_model);
    tcase_add_test(tc, ring_wraps_newest_first);
    tcase_add_test(tc, ring_partially_filled);
    tcase_add_test(tc, ring_entry_written_field_by_field);
    tcase_add_test(tc, copy_field_truncates_on_utf8_boundary);
    tcase_add_test(tc, dead_lock_holder_is_recovered);
    tcase_add_test(tc, threads_and_processes_count_exactly);
    tcase_add_test(tc, resize_keeps_counters_and_busiest_files);
    tcase_add_test(tc, windows_move_with_the_clock);
    tcase_add_test(tc, window_buckets_are_reused_cleanly);
    tcase_add_test(tc, window_counts_response_start);
    tcase_add_test(tc, handler_table_counts_pairs_and_overflows);
    tcase_add_test(tc, summary_matches_snapshot);
    tcase_add_test(tc, top_view_is_the_head_of_the_full_snapshot);
    tcase_add_test(tc, stories_follow_their_failures);
    tcase_add_test(tc, resize_gives_up_on_a_stuck_lock);
    tcase_add_test(tc, resize_keeps_the_eviction_order);
    tcase_add_test(tc, torn_tables_are_repaired_by_their_own_users);
    tcase_add_test(tc, init_leaves_the_tables_untouched);
    suite_add_tcase(s, tc);
    return s;
}

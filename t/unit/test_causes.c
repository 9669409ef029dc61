/* Unit tests of the store's causes table (src/store_causes.c): grouping by
 * key, the busiest files and URIs under a cause, eviction, the
 * modification-time claims, and repair of a torn row. The causes are given
 * (ew_cause_id made here), so these tests do not depend on how a message
 * is fingerprinted (test_cause.c covers that). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_pools.h>

#include "ew_cause.h"
#include "ew_store.h"
#include "unit.h"

/* One shared mapping for every test (forked children see it), zeroed for
 * each: under valgrind (CK_FORK=no) a mapping per test would add up. */
static ew_store *store(void)
{
    static void *p = NULL;
    size_t len = ew_store_size(64, 16);
    if (p == NULL) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(p, MAP_FAILED);
    }
    memset(p, 0, len);
    ew_store *st = ew_store_init(pool, p, len, 64, 16, 1000);
    ck_assert_ptr_nonnull(st);
    return st;
}

static ew_cause_id cause(uint64_t key, const char *title, const char *named)
{
    ew_cause_id c;
    memset(&c, 0, sizeof(c));
    c.key = key;
    ew_copy_field(c.title, sizeof(c.title), title);
    if (named != NULL) {
        ew_copy_field(c.named[0], sizeof(c.named[0]), named);
        c.named_len = 1;
    }
    return c;
}

static void record(ew_store *st, const ew_cause_id *c, const char *file, const char *uri, int64_t t,
                   ew_mtimes_wanted *w)
{
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.time_us = t;
    f.status = 500;
    ew_copy_field(f.method, sizeof(f.method), "GET");
    ew_copy_field(f.uri, sizeof(f.uri), uri);
    ew_copy_field(f.handler, sizeof(f.handler), "application/x-httpd-php");
    ew_copy_field(f.file, sizeof(f.file), file);
    ew_copy_field(f.message, sizeof(f.message), c->title);
    ck_assert_int_eq(ew_store_record_failure_cause(st, &f, "the story", c, w), 0);
}

static const ew_cause_stat *find(const ew_snapshot *s, uint64_t key)
{
    for (uint32_t i = 0; i < s->causes_len; i++) {
        if (s->causes[i].key == key) {
            return &s->causes[i];
        }
    }
    return NULL;
}

START_TEST(one_cause_covers_many_files)
{
    ew_store *st = store();
    ew_cause_id inc = cause(7, "Failed opening required '/w/x.phpp'", "/w/settings.php");
    ew_cause_id other = cause(9, "Call to undefined function f()", NULL);
    const char *entries[] = {"/w/index.php", "/w/login.php", "/w/admin.php", "/w/cron.php"};
    for (int i = 0; i < 20; i++) {
        char uri[32];
        snprintf(uri, sizeof(uri), "/page/%d", i % 5);
        record(st, &inc, entries[i % 4], uri, 1000000 + i, NULL);
    }
    record(st, &other, "/w/other.php", "/o", 5000000, NULL);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 6000000, &s), 0);
    ck_assert_uint_eq(s.causes_len, 2);
    ck_assert_uint_eq(s.causes[0].key, 7); /* busiest first */
    ck_assert_uint_eq(s.causes[0].count, 20);
    ck_assert_uint_eq(s.causes[0].files_total, 4);
    ck_assert_int_eq(s.causes[0].first_seen_us, 1000000);
    ck_assert_int_eq(s.causes[0].last_seen_us, 1000019);
    ck_assert_str_eq(s.causes[0].title, "Failed opening required '/w/x.phpp'");
    ck_assert_str_eq(s.causes[0].story, "the story");
    ck_assert_uint_eq(s.causes[0].changed_len, 1);
    ck_assert_str_eq(s.causes[0].changed[0].path, "/w/settings.php");
    /* Four files, three kept: each 5 times, space-saving keeps the counts
     * an upper bound, busiest first. */
    ck_assert_uint_eq(s.causes[0].files_len, EW_CAUSE_TOP);
    ck_assert_uint_ge(s.causes[0].files[0].count, s.causes[0].files[1].count);
    ck_assert_uint_ge(s.causes[0].files[0].count, 5);
    ck_assert_uint_eq(s.causes[0].uris_len, EW_CAUSE_TOP);
    ck_assert_uint_eq(s.causes[1].files_total, 1);
    ck_assert_str_eq(s.causes[1].files[0].text, "/w/other.php");
    /* Every file row says which cause it failed with last. */
    for (uint32_t i = 0; i < s.files_len; i++) {
        ck_assert_uint_eq(s.files[i].cause_key,
                          strcmp(s.files[i].file, "/w/other.php") == 0 ? 9 : 7);
    }
    ck_assert_uint_eq(s.recent[0].cause_key, 9);
}
END_TEST

START_TEST(space_saving_keeps_the_heavy_hitter)
{
    ew_store *st = store();
    ew_cause_id c = cause(3, "x", NULL);
    /* /hot fails 30 times among 40 one-off files. */
    for (int i = 0; i < 70; i++) {
        char file[32];
        snprintf(file, sizeof(file), "/one-off-%d.php", i);
        record(st, &c, i % 7 < 3 ? "/hot.php" : file, "/u", 1000 + i, NULL);
    }
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 5000, &s), 0);
    const ew_cause_stat *row = find(&s, 3);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(row->files[0].text, "/hot.php");
    ck_assert_uint_ge(row->files[0].count, 30);
}
END_TEST

START_TEST(a_full_table_evicts_the_least_recently_seen)
{
    ew_store *st = store();
    for (uint64_t k = 1; k <= EW_CAUSES + 1; k++) {
        ew_cause_id c = cause(k, "c", NULL);
        record(st, &c, "/f.php", "/u", (int64_t)(1000 + k), NULL);
        if (k == 1) {
            record(st, &c, "/f.php", "/u", 999999, NULL); /* 1 is seen again, last */
        }
    }
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 2000000, &s), 0);
    ck_assert_uint_eq(s.causes_len, EW_CAUSES);
    ck_assert_uint_eq(s.causes_evicted, 1);
    ck_assert_ptr_nonnull(find(&s, 1));
    ck_assert_ptr_null(find(&s, 2)); /* the least recently seen */
    ck_assert_ptr_nonnull(find(&s, EW_CAUSES + 1));
    ew_snapshot sum;
    ck_assert_int_eq(ew_store_summary(st, 2000000, &sum), 0);
    ck_assert_uint_eq(sum.causes_total, EW_CAUSES);
}
END_TEST

START_TEST(mtimes_are_read_once_a_minute_by_one_caller)
{
    ew_store *st = store();
    ew_cause_id c = cause(5, "c", "/w/settings.php");
    ew_mtimes_wanted w;
    const int64_t t0 = 1700000000000000LL;
    record(st, &c, "/w/index.php", "/", t0, &w);
    ck_assert_int_eq(w.script, 1);
    ck_assert_int_eq(w.named, 1);
    int64_t named = t0 - 120000000;
    ck_assert_int_eq(ew_store_note_mtimes(st, "/w/index.php", EW_MTIME_MISSING, 5, &named, 1), 0);
    /* Within the minute: nobody reads again, a new file's row does. */
    record(st, &c, "/w/index.php", "/", t0 + 30000000, &w);
    ck_assert_int_eq(w.script, 0);
    ck_assert_int_eq(w.named, 0);
    record(st, &c, "/w/login.php", "/", t0 + 31000000, &w);
    ck_assert_int_eq(w.script, 1);
    ck_assert_int_eq(w.named, 0);
    /* A minute on: both are due again. */
    record(st, &c, "/w/index.php", "/", t0 + 61000000, &w);
    ck_assert_int_eq(w.script, 1);
    ck_assert_int_eq(w.named, 1);
    /* A failure without a script path never asks for a read. */
    record(st, &c, "", "/no-file", t0 + 62000000, &w);
    ck_assert_int_eq(w.script, 0);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, t0 + 70000000, &s), 0);
    const ew_cause_stat *row = find(&s, 5);
    ck_assert_int_eq(row->changed[0].mtime_us, named);
    for (uint32_t i = 0; i < s.files_len; i++) {
        if (strcmp(s.files[i].file, "/w/index.php") == 0) {
            ck_assert_int_eq(s.files[i].script_mtime_us, EW_MTIME_MISSING);
        } else {
            ck_assert_int_eq(s.files[i].script_mtime_us, EW_MTIME_UNREAD);
        }
    }
}
END_TEST

START_TEST(a_torn_cause_row_is_cleared)
{
    ew_store *st = store();
    ew_cause_id a = cause(11, "a", NULL);
    ew_cause_id b = cause(12, "b", NULL);
    record(st, &a, "/a.php", "/a", 1000, NULL);
    record(st, &b, "/b.php", "/b", 2000, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        ew_store_test_tear_cause(st, 12); /* dies holding the lock mid-update */
        raise(SIGKILL);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ew_snapshot s;
    ck_assert_int_eq(ew_store_snapshot(st, pool, 3000, &s), 0);
    ck_assert_uint_eq(s.causes_len, 1);
    ck_assert_uint_eq(s.causes[0].key, 11);
    ck_assert_uint_eq(s.causes[0].files_total, 1);
    record(st, &b, "/b.php", "/b", 4000, NULL);
    ck_assert_int_eq(ew_store_snapshot(st, pool, 5000, &s), 0);
    ck_assert_uint_eq(s.causes_len, 2);
    ck_assert_uint_eq(find(&s, 12)->count, 1);
    ck_assert_uint_eq(find(&s, 12)->files_total, 1);
}
END_TEST

Suite *causes_suite(void)
{
    Suite *s = suite_create("causes");
    TCase *tc = tcase_create("causes");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, one_cause_covers_many_files);
    tcase_add_test(tc, space_saving_keeps_the_heavy_hitter);
    tcase_add_test(tc, a_full_table_evicts_the_least_recently_seen);
    tcase_add_test(tc, mtimes_are_read_once_a_minute_by_one_caller);
    tcase_add_test(tc, a_torn_cause_row_is_cleared);
    suite_add_tcase(s, tc);
    return s;
}

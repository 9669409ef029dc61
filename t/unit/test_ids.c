/* Unit tests of the request and trace ids (src/ids.c): only well-formed
 * ids are taken, so every format can print them as they are. */
#include <string.h>

#include "ew_ids.h"
#include "ew_store.h"
#include "unit.h"

START_TEST(traceparent_trace_id)
{
    char out[EW_TRACE_ID_MAX];
    ck_assert_int_eq(ew_take_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                         out, sizeof(out)),
                     1);
    ck_assert_str_eq(out, "4bf92f3577b34da6a3ce929d0e0e4736");
    /* A later version may add fields; version 00 may not. */
    ck_assert_int_eq(
        ew_take_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz", out,
                            sizeof(out)),
        1);
    const char *bad[] = {
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz", /* 00 with more */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     /* zero parent id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     /* version ff */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     /* uppercase */
        "00-4bf92f3577b34da6a3ce929d0e0e473<-00f067aa0ba902b7-01",     /* not hex */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",        /* short */
        "",
        NULL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(out, "junk");
        ck_assert_int_eq(ew_take_traceparent(bad[i], out, sizeof(out)), 0);
        ck_assert_str_eq(out, "");
    }
}
END_TEST

START_TEST(datadog_trace_id)
{
    char out[EW_DD_TRACE_MAX];
    ck_assert_int_eq(ew_take_dd_trace_id("1234567890123456789", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "1234567890123456789");
    ck_assert_int_eq(ew_take_dd_trace_id("18446744073709551615", out, sizeof(out)), 1);
    ck_assert_int_eq(ew_take_dd_trace_id("0042", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "42");
    const char *bad[] = {"18446744073709551616",  "0", "000", "-1", "12a", "", " 1",
                         "123456789012345678901", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(ew_take_dd_trace_id(bad[i], out, sizeof(out)), 0);
        ck_assert_str_eq(out, "");
    }
}
END_TEST

START_TEST(unique_id)
{
    char out[EW_UNIQUE_ID_MAX];
    ck_assert_int_eq(ew_take_unique_id("Y4c8cX8AAQEAABX3ZXUAAAAA", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "Y4c8cX8AAQEAABX3ZXUAAAAA");
    ck_assert_int_eq(ew_take_unique_id("aZ09@-_", out, sizeof(out)), 1);
    char longest[EW_UNIQUE_ID_MAX + 1];
    memset(longest, 'a', sizeof(longest) - 1);
    longest[EW_UNIQUE_ID_MAX] = '\0';
    const char *bad[] = {"<b>", "a b", "", "a\"b", longest, NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(ew_take_unique_id(bad[i], out, sizeof(out)), 0);
        ck_assert_str_eq(out, "");
    }
    longest[EW_UNIQUE_ID_MAX - 1] = '\0';
    ck_assert_int_eq(ew_take_unique_id(longest, out, sizeof(out)), 1);
}
END_TEST

Suite *ids_suite(void)
{
    Suite *s = suite_create("ids");
    TCase *tc = tcase_create("ids");
    tcase_add_test(tc, traceparent_trace_id);
    tcase_add_test(tc, datadog_trace_id);
    tcase_add_test(tc, unique_id);
    suite_add_tcase(s, tc);
    return s;
}

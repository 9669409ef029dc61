/* Unit tests of the Accept header reading behind ?metrics' content type. */
#include "ew_accept.h"
#include "unit.h"

START_TEST(openmetrics_listed)
{
    ck_assert_int_eq(ew_accept_wants_openmetrics("application/openmetrics-text"), 1);
    ck_assert_int_eq(ew_accept_wants_openmetrics("Application/OpenMetrics-Text; version=1.0.0"), 1);
    /* What Prometheus 2.x sends. */
    ck_assert_int_eq(ew_accept_wants_openmetrics(
                         "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                     1);
    ck_assert_int_eq(ew_accept_wants_openmetrics("text/plain, application/openmetrics-text ;q=0.5"),
                     1);
    ck_assert_int_eq(ew_accept_wants_openmetrics("application/openmetrics-text;q=0.001"), 1);
    /* A malformed q is read as if absent. */
    ck_assert_int_eq(ew_accept_wants_openmetrics("application/openmetrics-text;q=zero"), 1);
}
END_TEST

START_TEST(openmetrics_refused_with_q_zero)
{
    ck_assert_int_eq(ew_accept_wants_openmetrics("application/openmetrics-text;q=0"), 0);
    ck_assert_int_eq(ew_accept_wants_openmetrics("application/openmetrics-text; Q = 0.000 "), 0);
    ck_assert_int_eq(
        ew_accept_wants_openmetrics(
            "text/plain;version=0.0.4, application/openmetrics-text;version=1.0.0;q=0.0"),
        0);
}
END_TEST

START_TEST(openmetrics_not_listed)
{
    ck_assert_int_eq(ew_accept_wants_openmetrics(NULL), 0);
    ck_assert_int_eq(ew_accept_wants_openmetrics(""), 0);
    ck_assert_int_eq(ew_accept_wants_openmetrics("*/*"), 0);
    ck_assert_int_eq(ew_accept_wants_openmetrics("text/plain;version=0.0.4"), 0);
    /* The name inside another type or a parameter is not the type. */
    ck_assert_int_eq(ew_accept_wants_openmetrics("application/openmetrics-text-x"), 0);
    ck_assert_int_eq(ew_accept_wants_openmetrics("text/plain;profile=application/openmetrics-text"),
                     0);
    ck_assert_int_eq(ew_accept_wants_openmetrics(",,;;=,"), 0);
}
END_TEST

Suite *accept_suite(void)
{
    Suite *s = suite_create("accept");
    TCase *tc = tcase_create("openmetrics");
    tcase_add_test(tc, openmetrics_listed);
    tcase_add_test(tc, openmetrics_refused_with_q_zero);
    tcase_add_test(tc, openmetrics_not_listed);
    suite_add_tcase(s, tc);
    return s;
}

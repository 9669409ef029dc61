/* Unit tests of the status URL's query parser. */
#include <string.h>

#include "ew_query.h"
#include "unit.h"

static ew_query_kind kind_of(const char *args)
{
    ew_query q;
    int rc = ew_query_parse(args, &q);
    ck_assert_int_eq(rc, q.kind == EW_QUERY_INVALID ? -1 : 0);
    return q.kind;
}

START_TEST(valid_forms)
{
    ck_assert_int_eq(kind_of(NULL), EW_QUERY_HTML);
    ck_assert_int_eq(kind_of(""), EW_QUERY_HTML);
    ck_assert_int_eq(kind_of("auto"), EW_QUERY_AUTO);
    ck_assert_int_eq(kind_of("auto="), EW_QUERY_AUTO);
    ck_assert_int_eq(kind_of("json"), EW_QUERY_JSON);
    ck_assert_int_eq(kind_of("json="), EW_QUERY_JSON);
    ck_assert_int_eq(kind_of("metrics"), EW_QUERY_METRICS);
    ck_assert_int_eq(kind_of("metrics="), EW_QUERY_METRICS);
}
END_TEST

START_TEST(invalid_forms)
{
    const char *bad[] = {"foo",  "auto=1",       "autox", "aut",   "json==",
                         "JSON", "metrics&json", "=auto", "auto&", " json"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(kind_of(bad[i]) == EW_QUERY_INVALID, "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(valid_forms_message_names_every_query)
{
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?auto"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?json"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?metrics"));
    ck_assert_int_eq(ew_query_valid_forms[strlen(ew_query_valid_forms) - 1], '\n');
}
END_TEST

Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, valid_forms);
    tcase_add_test(tc, invalid_forms);
    tcase_add_test(tc, valid_forms_message_names_every_query);
    suite_add_tcase(s, tc);
    return s;
}

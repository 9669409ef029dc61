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

static ew_query parsed(const char *args)
{
    ew_query q;
    ck_assert_msg(ew_query_parse(args, &q) == 0, "'%s' refused: %s", args,
                  q.error != NULL ? q.error : "");
    ck_assert_int_eq(q.kind, EW_QUERY_TAIL);
    ck_assert_ptr_null(q.error);
    return q;
}

START_TEST(tail_forms)
{
    ew_query q = parsed("tail");
    ck_assert_int_eq(q.tail_json, 0);
    ck_assert_int_eq(q.since_given, 0);
    q = parsed("tail=");
    ck_assert_int_eq(q.since_given, 0);
    q = parsed("tail&format=json");
    ck_assert_int_eq(q.tail_json, 1);
    q = parsed("format=json&tail");
    ck_assert_int_eq(q.tail_json, 1);
    q = parsed("tail&format=text");
    ck_assert_int_eq(q.tail_json, 0);
    q = parsed("since=42&tail");
    ck_assert_int_eq(q.since_given, 1);
    ck_assert_uint_eq(q.since, 42);
    q = parsed("tail&since=0");
    ck_assert_int_eq(q.since_given, 1);
    ck_assert_uint_eq(q.since, 0);
    q = parsed("since=9223372036854775807&format=json&tail=");
    ck_assert_uint_eq(q.since, 9223372036854775807ULL);
    ck_assert_int_eq(q.tail_json, 1);
}
END_TEST

static void refused(const char *args, const char *why)
{
    ew_query q;
    ck_assert_msg(ew_query_parse(args, &q) == -1, "'%s' accepted", args);
    ck_assert_int_eq(q.kind, EW_QUERY_INVALID);
    ck_assert_ptr_nonnull(q.error);
    ck_assert_msg(strstr(q.error, why) != NULL, "'%s': error '%s' lacks '%s'", args, q.error, why);
    ck_assert_ptr_null(strchr(q.error, '\n'));
}

START_TEST(tail_bad_forms)
{
    refused("format=json", "with ?tail only");
    refused("since=3", "with ?tail only");
    refused("since=3&format=text", "with ?tail only");
    refused("tail&format=xml", "format must be text or json");
    refused("tail&format=", "format must be text or json");
    refused("tail&format=JSON", "format must be text or json");
    refused("tail&since=", "since must be a seq");
    refused("tail&since=-1", "since must be a seq");
    refused("tail&since=+1", "since must be a seq");
    refused("tail&since=1x", "since must be a seq");
    refused("tail&since= 1", "since must be a seq");
    refused("tail&since=9223372036854775808", "since must be a seq");
    refused("tail&since=99999999999999999999", "since must be a seq");
    refused("tail&since=1&since=2", "since is given twice");
    refused("tail&format=json&format=text", "format is given twice");
    refused("tail&tail", "tail is given twice");
    refused("tail&", "empty parameter");
    refused("&tail", "empty parameter");
    refused("tail&&since=1", "empty parameter");
    refused("tail&json", "unknown query");
    refused("json&tail", "unknown query");
    refused("tail=1", "unknown query");
    refused("tails", "unknown query");
    refused("tail&since", "unknown query");
    refused("foo", "unknown query");
}
END_TEST

static ew_query view(const char *args, ew_query_kind kind)
{
    ew_query q;
    ck_assert_msg(ew_query_parse(args, &q) == 0, "'%s' refused: %s", args,
                  q.error != NULL ? q.error : "");
    ck_assert_int_eq(q.kind, kind);
    return q;
}

/* History spans, the page's refresh and sort, in any order. */
START_TEST(view_parameters)
{
    ck_assert_uint_eq(view("json&history=1h", EW_QUERY_JSON).history_minutes, 60);
    ck_assert_uint_eq(view("history=24h&json", EW_QUERY_JSON).history_minutes, 1440);
    ck_assert_uint_eq(view("json", EW_QUERY_JSON).history_minutes, 0);
    ck_assert_uint_eq(view("history=6h", EW_QUERY_HISTORY).history_minutes, 360);
    ew_query q = view("refresh=10&sort=last", EW_QUERY_HTML);
    ck_assert_uint_eq(q.refresh, 10);
    ck_assert_int_eq(q.sort_by_last, 1);
    q = view("sort=count", EW_QUERY_HTML);
    ck_assert_uint_eq(q.refresh, 0);
    ck_assert_int_eq(q.sort_by_last, 0);
    ck_assert_uint_eq(view("refresh=3600", EW_QUERY_HTML).refresh, 3600);
    ck_assert_uint_eq(view("refresh=1", EW_QUERY_HTML).refresh, 1);

    const char *bad[] = {"history=2h",
                         "history=",
                         "json&history=1h&history=1h",
                         "refresh=0",
                         "refresh=3601",
                         "refresh=-1",
                         "refresh=1e3",
                         "refresh=",
                         "refresh=99999999999999999999",
                         "sort=name",
                         "sort=count&sort=last",
                         "json&refresh=5",
                         "json&sort=last",
                         "auto&history=1h",
                         "metrics&refresh=5",
                         "history=1h&sort=last",
                         "json&auto",
                         "refresh=5&tail",
                         "json&&history=1h",
                         "history=1h&"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ew_query bq;
        ck_assert_msg(ew_query_parse(bad[i], &bq) == -1, "'%s' accepted", bad[i]);
        ck_assert_int_eq(bq.kind, EW_QUERY_INVALID);
        ck_assert_ptr_nonnull(bq.error);
    }
}
END_TEST

START_TEST(valid_forms_message_names_every_query)
{
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?history=1h"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?refresh=N"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?sort=count"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?auto"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?json"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?metrics"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "?tail"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "&format=json"));
    ck_assert_ptr_nonnull(strstr(ew_query_valid_forms, "&since=SEQ"));
    ck_assert_int_eq(ew_query_valid_forms[strlen(ew_query_valid_forms) - 1], '\n');
}
END_TEST

Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, valid_forms);
    tcase_add_test(tc, invalid_forms);
    tcase_add_test(tc, tail_forms);
    tcase_add_test(tc, tail_bad_forms);
    tcase_add_test(tc, valid_forms_message_names_every_query);
    tcase_add_test(tc, view_parameters);
    suite_add_tcase(s, tc);
    return s;
}

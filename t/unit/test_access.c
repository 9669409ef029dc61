/* Unit tests of who may read the status URL: forwarding headers and the
 * Host forms. */
#include "ew_access.h"
#include "unit.h"

START_TEST(forwarding_headers)
{
    const char *yes[] = {"Forwarded",       "X-Forwarded-For", "x-forwarded-for",  "X-Real-IP",
                         "X-Client-IP",     "True-Client-IP",  "CF-Connecting-IP", "VIA",
                         "cf-connecting-ip"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        ck_assert_msg(ew_is_forwarding_header(yes[i]), "%s not seen as forwarding", yes[i]);
    }
    const char *no[] = {
        "Host", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded-For", "Viaduct", "", "Accept"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(!ew_is_forwarding_header(no[i]), "%s taken as forwarding", no[i]);
    }
    ck_assert(!ew_is_forwarding_header(NULL));
}
END_TEST

START_TEST(host_forms)
{
    const char *local[] = {NULL,       "",    "localhost", "LocalHost", "localhost.", "127.0.0.1",
                           "10.1.2.3", "::1", "[::1]",     "[fe80::1]", "0.0.0.0"};
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        ck_assert_msg(ew_host_is_local_form(local[i]), "%s refused", local[i] ? local[i] : "NULL");
    }
    const char *foreign[] = {"rebind.attacker.example",
                             "localhost.attacker.example",
                             "127.0.0.1.nip.io",
                             "[::1",
                             "::1]",
                             "[example.com]",
                             "1.2.3",
                             "localhost:80",
                             "[127.0.0.1]"};
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        ck_assert_msg(!ew_host_is_local_form(foreign[i]), "%s accepted", foreign[i]);
    }
}
END_TEST

START_TEST(host_names_and_wildcards)
{
    ck_assert(ew_host_matches("www.example.com", "www.example.com"));
    ck_assert(ew_host_matches("WWW.Example.COM", "www.example.com"));
    ck_assert(ew_host_matches("a.example.com", "*.example.com"));
    ck_assert(ew_host_matches("a.b.example.com", "*.example.com"));
    ck_assert(ew_host_matches("web1.example.com", "web?.example.com"));
    ck_assert(ew_host_matches("x", "*"));
    ck_assert(!ew_host_matches("example.com", "*.example.com"));
    ck_assert(!ew_host_matches("www.example.com.evil", "www.example.com"));
    ck_assert(!ew_host_matches("web10.example.com", "web?.example.com"));
    ck_assert(!ew_host_matches("evil-example.com", "*.example.com"));
    ck_assert(!ew_host_matches(NULL, "x"));
    ck_assert(!ew_host_matches("x", NULL));
    ck_assert(ew_host_matches("aXbXc", "a*b*c"));
    ck_assert(!ew_host_matches("aXbXd", "a*b*c"));
}
END_TEST

Suite *access_suite(void)
{
    Suite *s = suite_create("access");
    TCase *tc = tcase_create("access");
    tcase_add_test(tc, forwarding_headers);
    tcase_add_test(tc, host_forms);
    tcase_add_test(tc, host_names_and_wildcards);
    suite_add_tcase(s, tc);
    return s;
}

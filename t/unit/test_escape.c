/* Unit tests for ew_buf and the escapers. Expected strings are written
 * out by hand from the rules in include/ew_escape.h. */
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>

#include "ew_buf.h"
#include "ew_escape.h"
#include "unit.h"

#define A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Escapes s into a fresh buffer and checks the result byte for byte. A macro,
 * so that a failure reports the line of the case. */
#define CHECK_ESCAPE(fn, s, expected)                                                              \
    do {                                                                                           \
        ew_buf b_;                                                                                 \
        ew_buf_init(&b_, pool, 16);                                                                \
        fn(&b_, (s));                                                                              \
        ck_assert_str_eq(b_.data, (expected));                                                     \
        ck_assert_uint_eq(b_.len, strlen(expected));                                               \
    } while (0)

/* ---- ew_buf ---- */

START_TEST(buf_init_empty)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.data, "");
    ck_assert_uint_gt(b.cap, 0);
}
END_TEST

START_TEST(buf_growth_putc)
{
    ew_buf b;
    char expected[3001];
    ew_buf_init(&b, pool, 8);
    for (int i = 0; i < 3000; i++) {
        char c = (char)('a' + i % 26);
        ew_buf_putc(&b, c);
        expected[i] = c;
    }
    expected[3000] = '\0';
    ck_assert_uint_eq(b.len, 3000);
    ck_assert_uint_gt(b.cap, 3000);
    ck_assert_str_eq(b.data, expected);
}
END_TEST

START_TEST(buf_append_and_puts)
{
    ew_buf b;
    ew_buf_init(&b, pool, 4);
    ew_buf_append(&b, "hello, world", 5);
    ew_buf_puts(&b, " there");
    ew_buf_append(&b, "", 0);
    ew_buf_puts(&b, NULL);
    ew_buf_putc(&b, '!');
    ck_assert_str_eq(b.data, "hello there!");
    ck_assert_uint_eq(b.len, 12);
    /* Embedded NUL bytes are kept: append copies exactly n bytes. */
    ew_buf_append(&b, "a\0b", 3);
    ck_assert_uint_eq(b.len, 15);
    ck_assert_int_eq(memcmp(b.data + 12, "a\0b\0", 4), 0);
}
END_TEST

START_TEST(buf_printf_long)
{
    ew_buf b;
    char big[5001];
    memset(big, 'x', 5000);
    big[5000] = '\0';

    ew_buf_init(&b, pool, 16);
    ew_buf_puts(&b, "head:");
    ew_buf_printf(&b, "[%s]%d", big, 42);
    ck_assert_uint_eq(b.len, 5 + 1 + 5000 + 1 + 2);
    ck_assert_int_eq(strncmp(b.data, "head:[xxx", 9), 0);
    ck_assert_str_eq(b.data + 5 + 1 + 5000, "]42");
    ck_assert_uint_eq(strlen(b.data), b.len);

    /* A short printf that fits in the remaining room. */
    ew_buf_printf(&b, "%s=%llu", "n", 18446744073709551615ULL);
    ck_assert_str_eq(b.data + 5 + 1 + 5000, "]42n=18446744073709551615");
}
END_TEST

START_TEST(buf_printf_many)
{
    ew_buf b;
    ew_buf_init(&b, pool, 1);
    for (int i = 0; i < 1000; i++) {
        ew_buf_printf(&b, "%03d,", i);
    }
    ck_assert_uint_eq(b.len, 4000);
    ck_assert_int_eq(strncmp(b.data, "000,001,002,", 12), 0);
    ck_assert_str_eq(b.data + 3992, "998,999,");
}
END_TEST

/* ---- HTML ---- */

START_TEST(html_entities)
{
    CHECK_ESCAPE(ew_escape_html, "<script>alert('x')</script>",
                 "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    CHECK_ESCAPE(ew_escape_html, "a&b\"c'd", "a&amp;b&quot;c&#39;d");
    CHECK_ESCAPE(ew_escape_html, "&amp;", "&amp;amp;");
    CHECK_ESCAPE(ew_escape_html, "plain /path/to/file.php", "plain /path/to/file.php");
    CHECK_ESCAPE(ew_escape_html, "", "");
}
END_TEST

START_TEST(html_controls)
{
    /* Tab stays; newline, other C0 controls and DEL become U+FFFD. */
    CHECK_ESCAPE(ew_escape_html,
                 "a\tb\nc\rd\x01"
                 "e\x7f"
                 "f\x1f",
                 "a\tb\xEF\xBF\xBD"
                 "c\xEF\xBF\xBD"
                 "d\xEF\xBF\xBD"
                 "e\xEF\xBF\xBD"
                 "f\xEF\xBF\xBD");
}
END_TEST

START_TEST(html_high_bytes_pass)
{
    /* UTF-8 and even invalid high bytes pass through: the page is declared
     * UTF-8 and browsers show invalid bytes as U+FFFD themselves. */
    CHECK_ESCAPE(ew_escape_html, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xC0\x80 \xFF",
                 "caf\xC3\xA9 \xF0\x9F\x98\x80 \xC0\x80 \xFF");
}
END_TEST

START_TEST(html_null_appends_nothing)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_buf_puts(&b, "x");
    ew_escape_html(&b, NULL);
    ck_assert_str_eq(b.data, "x");
    ck_assert_uint_eq(b.len, 1);
}
END_TEST

/* ---- JSON ---- */

START_TEST(json_basic)
{
    CHECK_ESCAPE(ew_escape_json, NULL, "\"\"");
    CHECK_ESCAPE(ew_escape_json, "", "\"\"");
    CHECK_ESCAPE(ew_escape_json, "abc", "\"abc\"");
    CHECK_ESCAPE(ew_escape_json, "a\"b\\c", "\"a\\\"b\\\\c\"");
    /* No escaping of '/', '<' or '>'. */
    CHECK_ESCAPE(ew_escape_json, "</script><b>&'", "\"</script><b>&'\"");
}
END_TEST

START_TEST(json_controls)
{
    CHECK_ESCAPE(ew_escape_json, "\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    CHECK_ESCAPE(ew_escape_json, "\x01\x1f\x7f\x0b\x1b", "\"\\u0001\\u001f\\u007f\\u000b\\u001b\"");
    CHECK_ESCAPE(ew_escape_json, "line1\nline2", "\"line1\\nline2\"");
}
END_TEST

START_TEST(json_valid_utf8_passes)
{
    /* é (2 bytes), € (3), 😀 (4), and the edges of the valid ranges. */
    CHECK_ESCAPE(ew_escape_json, "caf\xC3\xA9", "\"caf\xC3\xA9\"");
    CHECK_ESCAPE(ew_escape_json, "\xE2\x82\xAC", "\"\xE2\x82\xAC\"");
    CHECK_ESCAPE(ew_escape_json, "\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\"");
    CHECK_ESCAPE(ew_escape_json, "\xC2\x80", "\"\xC2\x80\"");                 /* U+0080 */
    CHECK_ESCAPE(ew_escape_json, "\xE0\xA0\x80", "\"\xE0\xA0\x80\"");         /* U+0800 */
    CHECK_ESCAPE(ew_escape_json, "\xED\x9F\xBF", "\"\xED\x9F\xBF\"");         /* U+D7FF */
    CHECK_ESCAPE(ew_escape_json, "\xEE\x80\x80", "\"\xEE\x80\x80\"");         /* U+E000 */
    CHECK_ESCAPE(ew_escape_json, "\xEF\xBF\xBF", "\"\xEF\xBF\xBF\"");         /* U+FFFF */
    CHECK_ESCAPE(ew_escape_json, "\xF0\x90\x80\x80", "\"\xF0\x90\x80\x80\""); /* U+10000 */
    CHECK_ESCAPE(ew_escape_json, "\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""); /* U+10FFFF */
}
END_TEST

START_TEST(json_invalid_utf8)
{
    /* Each invalid byte becomes one \ufffd escape. */
    CHECK_ESCAPE(ew_escape_json, "\xC0\x80", "\"\\ufffd\\ufffd\""); /* overlong NUL */
    CHECK_ESCAPE(ew_escape_json, "\xC1\xBF", "\"\\ufffd\\ufffd\""); /* overlong */
    CHECK_ESCAPE(ew_escape_json, "\xE0\x80\xAF", "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_ESCAPE(ew_escape_json, "\xF0\x80\x80\xAF", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* Surrogates U+D800 and U+DFFF. */
    CHECK_ESCAPE(ew_escape_json,
                 "a\xED\xA0\x80"
                 "z",
                 "\"a\\ufffd\\ufffd\\ufffdz\"");
    CHECK_ESCAPE(ew_escape_json, "\xED\xBF\xBF", "\"\\ufffd\\ufffd\\ufffd\"");
    /* Above U+10FFFF, and lead bytes that never occur. */
    CHECK_ESCAPE(ew_escape_json, "\xF4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    CHECK_ESCAPE(ew_escape_json, "\xF5\xFE\xFF", "\"\\ufffd\\ufffd\\ufffd\"");
    /* Truncated sequences: at the end, and followed by ASCII. */
    CHECK_ESCAPE(ew_escape_json, "\xE2\x82", "\"\\ufffd\\ufffd\"");
    CHECK_ESCAPE(ew_escape_json, "\xE2\x82x", "\"\\ufffd\\ufffdx\"");
    CHECK_ESCAPE(ew_escape_json, "\xC3", "\"\\ufffd\"");
    CHECK_ESCAPE(ew_escape_json, "\xF0\x9F\x98", "\"\\ufffd\\ufffd\\ufffd\"");
    /* Stray continuation byte between valid characters. */
    CHECK_ESCAPE(ew_escape_json, "\xC3\xA9\x80\xC3\xA9", "\"\xC3\xA9\\ufffd\xC3\xA9\"");
}
END_TEST

START_TEST(json_hostile_mix)
{
    CHECK_ESCAPE(ew_escape_json,
                 "<script>\"x\"</script>\\\n\x01\xFF"
                 "\xC3\xA9",
                 "\"<script>\\\"x\\\"</script>\\\\\\n\\u0001\\ufffd\xC3\xA9\"");
}
END_TEST

/* ---- ?auto line values ---- */

/* The escapers copy plain bytes sixteen at a time: a byte that needs
 * escaping must be found at every position of a chunk and of the tail, and
 * nothing may be lost at the seams. Each case is a run of 'a's with one
 * special sequence at position k, for every length up to 50, checked
 * against the same text built by hand. */
START_TEST(json_and_prom_chunk_seams)
{
    static const struct {
        const char *raw, *json, *prom;
    } specials[] = {
        {"\"", "\\\"", "\\\""},
        {"\\", "\\\\", "\\\\"},
        {"\n", "\\n", "\\n"},
        {"\x01", "\\u0001", "\xEF\xBF\xBD"},
        {"\x7f", "\\u007f", "\xEF\xBF\xBD"},
        {"\xC3\xA9", "\xC3\xA9", "\xC3\xA9"},             /* valid UTF-8 passes */
        {"\xFF", "\\ufffd", "\xEF\xBF\xBD"},              /* invalid byte */
        {"\xE2\x82\xAC", "\xE2\x82\xAC", "\xE2\x82\xAC"}, /* across a seam too */
    };
    for (size_t c = 0; c < sizeof(specials) / sizeof(specials[0]); c++) {
        for (size_t len = 0; len <= 50; len++) {
            for (size_t k = 0; k <= len; k++) {
                char *in =
                    apr_pstrcat(pool, apr_psprintf(pool, "%.*s", (int)k, A50), specials[c].raw,
                                apr_psprintf(pool, "%.*s", (int)(len - k), A50), NULL);
                char *want_json = apr_pstrcat(
                    pool, "\"", apr_psprintf(pool, "%.*s", (int)k, A50), specials[c].json,
                    apr_psprintf(pool, "%.*s", (int)(len - k), A50), "\"", NULL);
                char *want_prom =
                    apr_pstrcat(pool, apr_psprintf(pool, "%.*s", (int)k, A50), specials[c].prom,
                                apr_psprintf(pool, "%.*s", (int)(len - k), A50), NULL);
                ew_buf b;
                ew_buf_init(&b, pool, 0);
                ew_escape_json(&b, in);
                ck_assert_str_eq(b.data, want_json);
                ck_assert_uint_eq(b.len, strlen(want_json));
                ew_buf_init(&b, pool, 0);
                ew_escape_prom_label(&b, in);
                ck_assert_str_eq(b.data, want_prom);
                ck_assert_uint_eq(b.len, strlen(want_prom));
            }
        }
    }
}
END_TEST

START_TEST(line_controls)
{
    CHECK_ESCAPE(ew_escape_line, "a\r\nb", "a  b");
    CHECK_ESCAPE(ew_escape_line, "x\ty\x01z\x7f\x1f", "x y z  ");
    CHECK_ESCAPE(ew_escape_line, "Apache/2.4 (Debian) caf\xC3\xA9 <&>\"'",
                 "Apache/2.4 (Debian) caf\xC3\xA9 <&>\"'");
    CHECK_ESCAPE(ew_escape_line, NULL, "");
    CHECK_ESCAPE(ew_escape_line, "", "");
}
END_TEST

/* ---- Prometheus / OpenMetrics label values ---- */

START_TEST(prom_basic)
{
    CHECK_ESCAPE(ew_escape_prom_label, NULL, "");
    CHECK_ESCAPE(ew_escape_prom_label, "", "");
    CHECK_ESCAPE(ew_escape_prom_label, "application/x-httpd-php", "application/x-httpd-php");
    /* No quotes around the value; only \\, \" and \n are escaped. */
    CHECK_ESCAPE(ew_escape_prom_label, "a\\b\"c\nd", "a\\\\b\\\"c\\nd");
    CHECK_ESCAPE(ew_escape_prom_label, "\\\\", "\\\\\\\\");
    /* Nothing else is special inside a quoted label value. */
    CHECK_ESCAPE(ew_escape_prom_label, "{x=\"}\"} <&> ' , =", "{x=\\\"}\\\"} <&> ' , =");
}
END_TEST

START_TEST(prom_controls)
{
    /* CR, tab, other C0 controls and DEL become U+FFFD; newline is \n. */
    CHECK_ESCAPE(ew_escape_prom_label,
                 "a\r\nb\tc\x01"
                 "d\x1f"
                 "e\x7f",
                 "a\xEF\xBF\xBD\\nb\xEF\xBF\xBD"
                 "c\xEF\xBF\xBD"
                 "d\xEF\xBF\xBD"
                 "e\xEF\xBF\xBD");
}
END_TEST

START_TEST(prom_utf8)
{
    /* Valid UTF-8 passes through, including U+FFFD itself. */
    CHECK_ESCAPE(ew_escape_prom_label, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD",
                 "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD");
    /* Each invalid byte becomes one raw U+FFFD (EF BF BD). */
    CHECK_ESCAPE(ew_escape_prom_label, "\xFF", "\xEF\xBF\xBD");
    CHECK_ESCAPE(ew_escape_prom_label, "\xC0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_ESCAPE(ew_escape_prom_label,
                 "a\xED\xA0\x80"
                 "z",
                 "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
    CHECK_ESCAPE(ew_escape_prom_label, "\xF4\x90\x80\x80",
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_ESCAPE(ew_escape_prom_label, "\xE2\x82x", "\xEF\xBF\xBD\xEF\xBF\xBDx");
    CHECK_ESCAPE(ew_escape_prom_label, "\xC3", "\xEF\xBF\xBD");
    CHECK_ESCAPE(ew_escape_prom_label, "\xC3\xA9\x80\xC3\xA9", "\xC3\xA9\xEF\xBF\xBD\xC3\xA9");
}
END_TEST

START_TEST(prom_hostile_mix)
{
    CHECK_ESCAPE(ew_escape_prom_label,
                 "/srv/<x>&\"y\"\\z\n}{\xFF"
                 "\xC3\xA9",
                 "/srv/<x>&\\\"y\\\"\\\\z\\n}{\xEF\xBF\xBD\xC3\xA9");
}
END_TEST

START_TEST(prom_appends)
{
    ew_buf b;
    ew_buf_init(&b, pool, 0);
    ew_buf_puts(&b, "x=\"");
    ew_escape_prom_label(&b, "a\"b");
    ew_escape_prom_label(&b, NULL);
    ew_buf_putc(&b, '"');
    ck_assert_str_eq(b.data, "x=\"a\\\"b\"");
    ck_assert_uint_eq(b.len, 8);
}
END_TEST

Suite *escape_suite(void)
{
    Suite *s = suite_create("escape");

    TCase *tc = tcase_create("buf");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, buf_init_empty);
    tcase_add_test(tc, buf_growth_putc);
    tcase_add_test(tc, buf_append_and_puts);
    tcase_add_test(tc, buf_printf_long);
    tcase_add_test(tc, buf_printf_many);
    suite_add_tcase(s, tc);

    tc = tcase_create("html");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, html_entities);
    tcase_add_test(tc, html_controls);
    tcase_add_test(tc, html_high_bytes_pass);
    tcase_add_test(tc, html_null_appends_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, json_basic);
    tcase_add_test(tc, json_controls);
    tcase_add_test(tc, json_valid_utf8_passes);
    tcase_add_test(tc, json_invalid_utf8);
    tcase_add_test(tc, json_hostile_mix);
    tcase_add_test(tc, json_and_prom_chunk_seams);
    suite_add_tcase(s, tc);

    tc = tcase_create("line");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, line_controls);
    suite_add_tcase(s, tc);

    tc = tcase_create("prom");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, prom_basic);
    tcase_add_test(tc, prom_controls);
    tcase_add_test(tc, prom_utf8);
    tcase_add_test(tc, prom_hostile_mix);
    tcase_add_test(tc, prom_appends);
    suite_add_tcase(s, tc);

    return s;
}

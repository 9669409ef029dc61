/* The failing page's own words (src/excerpt.c). */
#include <string.h>

#include "ew_excerpt.h"
#include "unit.h"

/* The excerpt of body fed in pieces of `piece` bytes (0: all at once). */
static const char *excerpt_of(const char *body, int html, size_t piece)
{
    static ew_excerpt e;
    static char out[EW_EXCERPT_MAX];
    ew_excerpt_init(&e, html);
    size_t len = strlen(body);
    size_t step = piece == 0 ? len : piece;
    for (size_t at = 0; at < len; at += step) {
        size_t n = len - at < step ? len - at : step;
        if (ew_excerpt_feed(&e, body + at, n)) {
            break;
        }
    }
    (void)ew_excerpt_write(&e, out, sizeof(out));
    return out;
}

static const char *WP_DB_DOWN =
    "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en-US\">\n<head>\n"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\" />\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<title>WordPress &rsaquo; Error</title>\n<style type=\"text/css\">html { background: "
    "#f1f1f1; } h1 { color: #666; }</style>\n</head>\n<body id=\"error-page\">\n"
    "<div class=\"wp-die-message\"><h1>Error establishing a database connection</h1></div>"
    "</body>\n</html>";

/* WordPress's page with its database down: the heading, whatever the
 * pieces the body arrives in. */
START_TEST(heading_first_in_any_pieces)
{
    for (size_t piece = 0; piece < 40; piece++) {
        ck_assert_str_eq(excerpt_of(WP_DB_DOWN, 1, piece),
                         "Error establishing a database connection");
    }
}
END_TEST

START_TEST(title_then_text)
{
    ck_assert_str_eq(excerpt_of("<html><head><title> Service \n Unavailable </title></head>"
                                "<body><p>Try later</p></body></html>",
                                1, 0),
                     "Service Unavailable");
    ck_assert_str_eq(excerpt_of("<html><body><p>Something   went\n\twrong</p><p>twice</p>", 1, 0),
                     "Something went wrong twice");
    /* PHP's own error output (display_errors On). */
    ck_assert_str_eq(excerpt_of("<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined "
                                "function mysqli_connect() in /var/www/db.php:3",
                                1, 0),
                     "Fatal error: Uncaught Error: Call to undefined function mysqli_connect() "
                     "in /var/www/db.php:3");
    ck_assert_str_eq(excerpt_of("", 1, 0), "");
    ck_assert_str_eq(excerpt_of("<html><body>  </body></html>", 1, 0), "");
}
END_TEST

/* What a person does not see is not the excerpt: scripts, styles,
 * comments, attributes, declarations. */
START_TEST(hidden_parts_skipped)
{
    ck_assert_str_eq(excerpt_of("<!DOCTYPE html><!-- <h1>not this</h1> --><script>var a = "
                                "'<h1>nor this</h1>'; if (a < b) {}</script><style>h1{}</style>"
                                "<p title=\"<h1>attr</h1>\">Visible</p>",
                                1, 0),
                     "Visible");
    ck_assert_str_eq(excerpt_of("<?xml version=\"1.0\"?><div>After</div>", 1, 0), "After");
    /* An empty heading does not win over the text. */
    ck_assert_str_eq(excerpt_of("<h1><img src=x></h1><p>Text</p>", 1, 0), "Text");
}
END_TEST

START_TEST(entities_and_stray_markup)
{
    ck_assert_str_eq(excerpt_of("<h1>Fish &amp; chips &lt;3 &quot;ok&quot; &#39;x&#39; "
                                "&#233;t&#xE9; &bogus; AT&T</h1>",
                                1, 0),
                     "Fish & chips <3 \"ok\" 'x' \xc3\xa9t\xc3\xa9 &bogus; AT&T");
    ck_assert_str_eq(excerpt_of("<p>a < b and c > d</p>", 1, 0), "a < b and c > d");
    /* A hostile entity cannot produce a NUL or a surrogate. */
    ck_assert_str_eq(excerpt_of("<p>x&#0;y&#xD800;z&#99999999999;</p>", 1, 0),
                     "x&#0;y&#xD800;z&#99999999999;");
}
END_TEST

START_TEST(plain_text_and_bounds)
{
    ck_assert_str_eq(excerpt_of("Upstream said <no>\n", 0, 0), "Upstream said <no>");
    /* At most EW_EXCERPT_MAX - 1 bytes, never a cut UTF-8 character. */
    char big[4096];
    size_t n = 0;
    big[n++] = 'x';
    while (n + 2 < sizeof(big)) {
        big[n++] = '\xc3';
        big[n++] = '\xa9';
    }
    big[n] = '\0';
    const char *out = excerpt_of(big, 0, 7);
    size_t len = strlen(out);
    ck_assert_uint_le(len, EW_EXCERPT_MAX - 1);
    ck_assert_uint_eq(len % 2, 1); /* 'x' then whole two-byte characters */
    /* Only EW_EXCERPT_SCAN bytes are read: a heading after them is not. */
    static char late[EW_EXCERPT_SCAN + 64];
    memset(late, ' ', EW_EXCERPT_SCAN);
    strcpy(late + EW_EXCERPT_SCAN, "<h1>late</h1>");
    ck_assert_str_eq(excerpt_of(late, 1, 1000), "");
}
END_TEST

Suite *excerpt_suite(void)
{
    Suite *s = suite_create("excerpt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, heading_first_in_any_pieces);
    tcase_add_test(tc, title_then_text);
    tcase_add_test(tc, hidden_parts_skipped);
    tcase_add_test(tc, entities_and_stray_markup);
    tcase_add_test(tc, plain_text_and_bounds);
    suite_add_tcase(s, tc);
    return s;
}

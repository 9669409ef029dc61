/* Unit tests of cause fingerprints (src/cause.c), on the lines real
 * handlers log (taken from the integration tests' error logs): the same
 * bug gives the same key across entry points, URLs, processes and
 * handlers; different bugs give different keys; what varies per request is
 * gone from the title; hostile input stays bounded. */
#include <stdlib.h>
#include <string.h>

#include "ew_cause.h"
#include "unit.h"

static ew_cause_id fp(const char *message)
{
    ew_cause_id c;
    ew_cause_fingerprint(message, NULL, 500, 0, "application/x-httpd-php", "/srv/www/index.php",
                         &c);
    ck_assert_uint_ne(c.key, 0);
    return c;
}

/* The seed incident through two entry points of a WordPress tree, under
 * mod_php: the stack traces differ, the cause does not. */
#define WP_FATAL(entry)                                                                            \
    "PHP Fatal error:  Uncaught Error: Failed opening required "                                   \
    "'/srv/www/wp-includes/class-wp-locale.phpp' (include_path='.:/usr/share/php') in "            \
    "/srv/www/wp-settings.php:4\\nStack trace:\\n#0 /srv/www/wp-config.php(4): "                   \
    "require_once()\\n#1 /srv/www/wp-load.php(2): require_once('/srv/www/wp-con...')\\n#2 "        \
    "/srv/www/" entry "(3): require('/srv/www/wp-load...')\\n#3 {main}\\n  thrown in "             \
    "/srv/www/wp-settings.php on line 4"

START_TEST(one_include_many_entry_points)
{
    ew_cause_id a = fp(WP_FATAL("index.php"));
    ew_cause_id b = fp(WP_FATAL("wp-login.php"));
    ew_cause_id c = fp(WP_FATAL("wp-admin/index.php"));
    ck_assert_uint_eq(a.key, b.key);
    ck_assert_uint_eq(a.key, c.key);
    ck_assert_str_eq(a.title, "PHP Fatal error: Uncaught Error: Failed opening required "
                              "'/srv/www/wp-includes/class-wp-locale.phpp' "
                              "(include_path='.:/usr/share/php') in /srv/www/wp-settings.php:#");
    ck_assert_uint_eq(a.named_len, 2);
    ck_assert_str_eq(a.named[0], "/srv/www/wp-includes/class-wp-locale.phpp");
    ck_assert_str_eq(a.named[1], "/srv/www/wp-settings.php");
}
END_TEST

/* PHP-FPM wraps PHP's line in httpd's AH01071 and "PHP message: ": the
 * same error is the same cause under either handler. (ew_message_focus
 * leaves the recorded message starting at "PHP message: "; the whole
 * wrapper is accepted too.) */
START_TEST(fpm_and_mod_php_agree)
{
    ew_cause_id php = fp(WP_FATAL("index.php"));
    ew_cause_id fpm = fp("PHP message: " WP_FATAL("index.php"));
    ew_cause_id wrapped = fp("AH01071: Got error 'PHP message: " WP_FATAL("xmlrpc.php") "'");
    ck_assert_uint_eq(php.key, fpm.key);
    ck_assert_uint_eq(php.key, wrapped.key);
    ck_assert_str_eq(php.title, wrapped.title);
}
END_TEST

START_TEST(different_bugs_differ)
{
    ew_cause_id f1 = fp("PHP Fatal error:  Uncaught Error: Call to undefined function "
                        "mysqli_connect() in /srv/www/wp-includes/class-wpdb.php:1787");
    ew_cause_id f2 = fp("PHP Fatal error:  Uncaught Error: Call to undefined function "
                        "imagecreatetruecolor() in /srv/www/wp-includes/class-wpdb.php:1787");
    ew_cause_id f3 = fp("PHP Fatal error:  Uncaught Error: Call to undefined function "
                        "mysqli_connect() in /srv/www/shop/db.php:12");
    ck_assert_uint_ne(f1.key, f2.key); /* another function */
    ck_assert_uint_ne(f1.key, f3.key); /* another place that calls it */
    /* The same call at another line of the same file (an edit moved it):
     * still the same bug. */
    ew_cause_id f4 = fp("PHP Fatal error:  Uncaught Error: Call to undefined function "
                        "mysqli_connect() in /srv/www/wp-includes/class-wpdb.php:1790");
    ck_assert_uint_eq(f1.key, f4.key);
    ew_cause_id parse = fp("PHP Parse error:  syntax error, unexpected end of file in "
                           "/srv/www/parse.php on line 3");
    ck_assert_uint_ne(parse.key, f1.key);
    ck_assert_str_eq(parse.title,
                     "PHP Parse error: syntax error, unexpected end of file in /srv/www/parse.php "
                     "on line #");
}
END_TEST

/* Proxy errors: the backend's address and port go, the httpd code stays. */
START_TEST(proxy_errors_drop_addresses)
{
    ew_cause_id a = fp("AH00957: http: attempt to connect to 127.0.0.1:39617 (127.0.0.1:39617) "
                       "failed");
    ew_cause_id b = fp("AH00957: http: attempt to connect to 10.1.2.3:8080 (10.1.2.3:8080) "
                       "failed");
    ck_assert_uint_eq(a.key, b.key);
    ck_assert_str_eq(a.title, "AH00957: http: attempt to connect to # (#) failed");
    ew_cause_id down = fp("AH01114: HTTP: failed to make connection to backend: 127.0.0.1");
    ew_cause_id hangup =
        fp("AH01102: error reading status line from remote server 127.0.0.1:39617");
    ck_assert_uint_ne(down.key, hangup.key);
    ck_assert_str_eq(hangup.title, "AH01102: error reading status line from remote server #");
    ew_cause_id url = fp("upstream GET http://10.0.0.5:8080/api/v1/users?id=42 failed after 30.5s");
    ck_assert_str_eq(url.title, "upstream GET http://#/api/v1/users failed after #s");
}
END_TEST

/* Times, ids, quoted input and query strings vary per request. */
START_TEST(what_varies_is_gone)
{
    ew_cause_id a = fp("[response body] Database connection failed at 2026-12-05 14:33:12 for "
                       "request 7f3a9b2c-1d2e-4f5a-9b8c-0123456789ab (0x7ffd5e3c)");
    ew_cause_id b = fp("[response body] Database connection failed at 2026-11-30 09:01:59 for "
                       "request 0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5 (0x55aa)");
    ck_assert_uint_eq(a.key, b.key);
    ck_assert_str_eq(a.title,
                     "[response body] Database connection failed at # # for request # (#)");
    ew_cause_id q1 = fp("PHP Warning:  Undefined array key \"alice's search\" in /srv/a.php on "
                        "line 4");
    ew_cause_id q2 = fp("PHP Warning:  Undefined array key \"bob <script>\" in /srv/a.php on "
                        "line 4");
    ck_assert_uint_eq(q1.key, q2.key);
    ck_assert_str_eq(q1.title, "PHP Warning: Undefined array key \"*\" in /srv/a.php on line #");
    /* Code the message quotes is kept. */
    ew_cause_id k1 = fp("PHP Warning:  Undefined array key \"user_id\" in /srv/a.php on line 4");
    ew_cause_id k2 = fp("PHP Warning:  Undefined array key \"post_id\" in /srv/a.php on line 4");
    ck_assert_uint_ne(k1.key, k2.key);
    ew_cause_id p1 = fp("script not found: /srv/www/app.php?id=1&token=abc");
    ew_cause_id p2 = fp("script not found: /srv/www/app.php?id=2&token=xyz");
    ck_assert_uint_eq(p1.key, p2.key);
    ck_assert_str_eq(p1.named[0], "/srv/www/app.php");
}
END_TEST

/* Lines as the handler-matrix and mod_wsgi tests log them. */
START_TEST(real_lines)
{
    ew_cause_id fpm =
        fp("PHP message: PHP Fatal error:  Uncaught Error: Class \"Billing\\\\Invoice\" "
           "not found in /tmp/t-0_xcnX/htdocs/fpm/missing-class.php:3\\nStack "
           "trace:\\n#0 {main}\\n  thrown in /tmp/t-0_xcnX/htdocs/fpm/missing-class.php on "
           "line 3'");
    ck_assert_str_eq(fpm.title, "PHP Fatal error: Uncaught Error: Class \"Billing\\\\Invoice\" not "
                                "found in /tmp/t-0_xcnX/htdocs/fpm/missing-class.php:#");
    ew_cause_id v1 = fp("ValueError: request-1 failed in pid 7423");
    ew_cause_id v2 = fp("ValueError: request-17 failed in pid 7424");
    ck_assert_uint_eq(v1.key, v2.key);
    ck_assert_str_eq(v1.title, "ValueError: request-# failed in pid #");
    ew_cause_id hdr = fp("malformed header from script 'bad.cgi': Bad header: this is not a header "
                         "line");
    ck_assert_str_eq(hdr.title, "malformed header from script 'bad.cgi': Bad header: this is not a "
                                "header line");
    ew_cause_id unknown = fp("AH01071: Got error 'Primary script unknown'");
    ck_assert_str_eq(unknown.title, "Primary script unknown"); /* PHP-FPM's own words */
    ck_assert_uint_eq(fp("(20014)Internal error (specific information not available): AH01102: "
                         "error reading status line from remote server 127.0.0.1:43889")
                          .key,
                      fp("(20014)Internal error (specific information not available): AH01102: "
                         "error reading status line from remote server 10.0.0.2:80")
                          .key);
}
END_TEST

/* mod_wsgi's traceback: the message is the exception's line, the file is
 * the innermost frame of the story. */
START_TEST(python_traceback)
{
    const char *story = "mod_wsgi (pid=1234): Exception occurred processing WSGI script "
                        "'/srv/app/app.wsgi'.\n"
                        "Traceback (most recent call last):\n"
                        "  File \"/srv/app/app.wsgi\", line 9, in application\n"
                        "    return handle(environ)\n"
                        "  File \"/srv/app/views.py\", line 31, in handle\n"
                        "    ratio = total / count\n"
                        "ZeroDivisionError: division by zero";
    ew_cause_id a;
    ew_cause_fingerprint("ZeroDivisionError: division by zero", story, 500, 0, "wsgi-script",
                         "/srv/app/app.wsgi", &a);
    ck_assert_str_eq(a.title, "ZeroDivisionError: division by zero");
    ck_assert_uint_eq(a.named_len, 1);
    ck_assert_str_eq(a.named[0], "/srv/app/views.py");
    ew_cause_id other;
    ew_cause_fingerprint("ZeroDivisionError: division by zero",
                         "  File \"/srv/app/report.py\", line 3, in r\n", 500, 0, "wsgi-script",
                         "/srv/app/app.wsgi", &other);
    ck_assert_uint_ne(a.key, other.key); /* the same error in another place */
}
END_TEST

/* CGI: mod_cgi's AH01215 line ends with the script; Perl's message names
 * it too. A directory with a version number is not a named file. */
START_TEST(cgi_stderr)
{
    ew_cause_id a = fp("AH01215: Can't locate Foo.pm in @INC (you may need to install the Foo "
                       "module) (@INC contains: /etc/perl /usr/lib/x86_64-linux-gnu/perl/5.36.0) "
                       "at /usr/lib/cgi-bin/a.cgi line 3.: /usr/lib/cgi-bin/a.cgi");
    ck_assert_uint_eq(a.named_len, 1);
    ck_assert_str_eq(a.named[0], "/usr/lib/cgi-bin/a.cgi");
    ew_cause_id headers = fp("End of script output before headers: broken.cgi");
    ck_assert_str_eq(headers.title, "End of script output before headers: broken.cgi");
}
END_TEST

START_TEST(silent_failures_and_crashes)
{
    ew_cause_id a;
    ew_cause_id b;
    ew_cause_fingerprint("", NULL, 500, 0, "application/x-httpd-php", "/srv/a.php", &a);
    ew_cause_fingerprint(NULL, NULL, 500, 0, "application/x-httpd-php", "/srv/b.php", &b);
    ck_assert_str_eq(a.title, "HTTP 500, nothing logged");
    ck_assert_str_eq(a.named[0], "/srv/a.php");
    ck_assert_uint_ne(a.key, b.key); /* each silent script is its own cause */
    ew_cause_id s1;
    ew_cause_id s2;
    ew_cause_id k;
    ew_cause_fingerprint("", NULL, 0, 11, "application/x-httpd-php", "/srv/a.php", &s1);
    ew_cause_fingerprint("", NULL, 0, 11, "application/x-httpd-php", "/srv/b.php", &s2);
    ew_cause_fingerprint("", NULL, 0, 9, "application/x-httpd-php", "/srv/a.php", &k);
    ck_assert_str_eq(s1.title, "crash SIGSEGV in application/x-httpd-php");
    ck_assert_uint_eq(s1.key, s2.key); /* one bad extension, every script */
    ck_assert_uint_ne(s1.key, k.key);
    ck_assert_uint_eq(s1.named_len, 0);
}
END_TEST

/* Hostile input: long, unterminated quotes, many paths, invalid UTF-8;
 * bounded output, no crash, the same key twice. */
START_TEST(hostile_input_stays_bounded)
{
    size_t big = 100000;
    char *m = malloc(big + 1);
    const char *pieces[] = {"'", "\"", "/a/b.php ", "12:34 ", "\xff\xfe", "\xe2\x82", "x", "?q=1"};
    for (int p = 0; p < 8; p++) {
        for (size_t i = 0; i < big; i++) {
            m[i] = pieces[p][i % strlen(pieces[p])];
        }
        m[big] = '\0';
        ew_cause_id a;
        ew_cause_id b;
        ew_cause_fingerprint(m, m, 500, 0, m, m, &a);
        ew_cause_fingerprint(m, m, 500, 0, m, m, &b);
        ck_assert_uint_eq(a.key, b.key);
        ck_assert_uint_lt(strlen(a.title), EW_CAUSE_TEMPLATE_MAX);
        ck_assert_uint_le(a.named_len, EW_CAUSE_NAMED_MAX);
        for (uint32_t i = 0; i < a.named_len; i++) {
            ck_assert_uint_lt(strlen(a.named[i]), EW_FILE_MAX);
            ck_assert_int_eq(a.named[i][0], '/');
        }
    }
    /* A cut never splits a UTF-8 character. */
    for (size_t i = 0; i + 2 < big; i += 3) {
        memcpy(m + i, "\xe2\x82\xac", 3);
    }
    m[big - big % 3] = '\0';
    ew_cause_id e = fp(m);
    size_t n = strlen(e.title);
    ck_assert_uint_eq(n % 3, 0);
    free(m);
}
END_TEST

Suite *cause_suite(void)
{
    Suite *s = suite_create("cause");
    TCase *tc = tcase_create("cause");
    tcase_add_test(tc, one_include_many_entry_points);
    tcase_add_test(tc, fpm_and_mod_php_agree);
    tcase_add_test(tc, different_bugs_differ);
    tcase_add_test(tc, proxy_errors_drop_addresses);
    tcase_add_test(tc, what_varies_is_gone);
    tcase_add_test(tc, real_lines);
    tcase_add_test(tc, python_traceback);
    tcase_add_test(tc, cgi_stderr);
    tcase_add_test(tc, silent_failures_and_crashes);
    tcase_add_test(tc, hostile_input_stays_bounded);
    suite_add_tcase(s, tc);
    return s;
}

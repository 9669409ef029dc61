/* Unit tests of proxy-target normalisation and PHP-FPM message focus. */
#include <stdio.h>
#include <string.h>

#include "ew_attribution.h"
#include "ew_store.h"
#include "unit.h"

static void check_target(const char *filename, const char *handler, const char *want_file,
                         const char *want_handler)
{
    char file[EW_FILE_MAX];
    char h[EW_HANDLER_MAX];
    ew_normalize_target(filename, handler, file, sizeof(file), h, sizeof(h));
    ck_assert_str_eq(file, want_file);
    ck_assert_str_eq(h, want_handler);
}

START_TEST(fcgi_tcp_target)
{
    check_target("proxy:fcgi://127.0.0.1:9000/var/www/html/index.php", "proxy-server",
                 "/var/www/html/index.php", "proxy:fcgi");
}
END_TEST

START_TEST(fcgi_unix_socket_target)
{
    check_target("proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost/srv/x.php",
                 "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost", "/srv/x.php",
                 "proxy:fcgi");
}
END_TEST

START_TEST(other_proxy_schemes)
{
    check_target("proxy:http://backend:8080/app/login", "proxy-server", "/app/login", "proxy:http");
    check_target("proxy:balancer://cluster/", "proxy-server", "/", "proxy:balancer");
    check_target("proxy:http://backend", "proxy-server", "", "proxy:http");
    /* mod_proxy_http's r->filename carries the query: never recorded. */
    check_target("proxy:http://127.0.0.1:1//app?token=SECRET", "proxy-server", "//app",
                 "proxy:http");
    check_target("proxy:fcgi://127.0.0.1:9000/srv/x.php?a=1#frag", "proxy-server", "/srv/x.php",
                 "proxy:fcgi");
}
END_TEST

START_TEST(handler_only_proxy)
{
    /* Failed before mod_proxy rewrote r->filename: the handler still says
     * where it was going. */
    check_target("/var/www/html/x.php", "proxy:unix:/run/fpm.sock|fcgi://localhost",
                 "/var/www/html/x.php", "proxy:fcgi");
}
END_TEST

START_TEST(non_proxy_unchanged)
{
    check_target("/var/www/html/x.php", "application/x-httpd-php", "/var/www/html/x.php",
                 "application/x-httpd-php");
    check_target(NULL, NULL, "", "");
    /* Malformed proxy strings are kept as they are. */
    check_target("proxy:unix:/run/fpm.sock", "proxy:nonsense", "proxy:unix:/run/fpm.sock",
                 "proxy:nonsense");
    check_target("proxy:://x/y", "h", "proxy:://x/y", "h");
}
END_TEST

START_TEST(focus_keeps_short_lines_whole)
{
    const char *line = "AH01071: Got error 'PHP message: PHP Warning:  x; PHP message: PHP "
                       "Fatal error:  Uncaught Error: boom'";
    ck_assert_ptr_eq(ew_message_focus(line), line);
    ck_assert_str_eq(ew_message_focus(NULL), "");
    ck_assert_str_eq(ew_message_focus("plain"), "plain");
}
END_TEST

START_TEST(focus_finds_the_fatal_error_in_a_long_line)
{
    char line[2 * EW_MESSAGE_MAX];
    char warning[EW_MESSAGE_MAX];
    memset(warning, 'w', sizeof(warning) - 1);
    warning[sizeof(warning) - 1] = '\0';
    snprintf(line, sizeof(line),
             "AH01071: Got error 'PHP message: PHP Warning:  %s\nPHP message: PHP Fatal error:  "
             "Uncaught Error: Failed opening required 'x.phpp''",
             warning);
    ck_assert_str_eq(ew_message_focus(line),
                     "PHP message: PHP Fatal error:  Uncaught Error: Failed opening required "
                     "'x.phpp''");
    /* Without its label, the error itself is the start. */
    snprintf(line, sizeof(line), "%s PHP Parse error:  syntax error", warning);
    ck_assert_str_eq(ew_message_focus(line), "PHP Parse error:  syntax error");
    /* Long, but nothing to focus on. */
    ck_assert_ptr_eq(ew_message_focus(warning), warning);
}
END_TEST

/* The vhost of every record: "host:port", cut like snprintf would. */
START_TEST(vhost_formatted_and_cut)
{
    char buf[32];
    ew_format_vhost(buf, sizeof(buf), "www.example.com", 8080);
    ck_assert_str_eq(buf, "www.example.com:8080");
    ew_format_vhost(buf, sizeof(buf), NULL, 0);
    ck_assert_str_eq(buf, ":0");
    ew_format_vhost(buf, sizeof(buf), "h", 65535);
    ck_assert_str_eq(buf, "h:65535");
    /* Cut exactly where snprintf("%s:%u") would cut, for every size. */
    const char *host = "a-rather-long-host.example.org";
    char want[64];
    for (size_t size = 1; size <= sizeof(buf); size++) {
        memset(buf, 'X', sizeof(buf));
        ew_format_vhost(buf, size, host, 443);
        /* snprintf's cut: the first size - 1 bytes of the whole. */
        const char *whole = "a-rather-long-host.example.org:443";
        size_t keep = strlen(whole) < size - 1 ? strlen(whole) : size - 1;
        memcpy(want, whole, keep);
        want[keep] = '\0';
        ck_assert_str_eq(buf, want);
    }
    buf[0] = 'X';
    ew_format_vhost(buf, 0, host, 443); /* nothing written */
    ck_assert_int_eq(buf[0], 'X');
}
END_TEST

Suite *attribution_suite(void)
{
    Suite *s = suite_create("attribution");
    TCase *tc = tcase_create("attribution");
    tcase_add_test(tc, fcgi_tcp_target);
    tcase_add_test(tc, fcgi_unix_socket_target);
    tcase_add_test(tc, other_proxy_schemes);
    tcase_add_test(tc, handler_only_proxy);
    tcase_add_test(tc, non_proxy_unchanged);
    tcase_add_test(tc, focus_keeps_short_lines_whole);
    tcase_add_test(tc, focus_finds_the_fatal_error_in_a_long_line);
    tcase_add_test(tc, vhost_formatted_and_cut);
    suite_add_tcase(s, tc);
    return s;
}

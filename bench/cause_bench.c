/*
 * What a failure's cause costs on the error path: the fingerprint of real
 * messages (src/cause.c), the capture's memo hit that replaces it when the
 * same failure repeats (an outage), and the stat() of "what changed" that
 * the store asks for at most once a minute per file and per cause.
 *
 *   make bench-cause                 ns per call (wall clock)
 *   valgrind --tool=callgrind build/cause_bench 1000 and 11000: instructions
 *   per call = (Ir(11000) - Ir(1000)) / 10000 / 3 (three messages a round)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ew_cause.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Lines as mod_php, PHP-FPM and a proxy log them (t/unit/test_cause.c). */
static const char *const messages[] = {
    "PHP Fatal error:  Uncaught Error: Failed opening required "
    "'/srv/www/wp-includes/class-wp-locale.phpp' (include_path='.:/usr/share/php') in "
    "/srv/www/wp-settings.php:4\\nStack trace:\\n#0 /srv/www/wp-config.php(4): "
    "require_once()\\n#1 {main}\\n  thrown in /srv/www/wp-settings.php on line 4",
    "PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function mysqli_connect() "
    "in /srv/www/wp-includes/class-wpdb.php:1787\\nStack trace:\\n#0 {main}",
    "AH01102: error reading status line from remote server 127.0.0.1:39617",
};

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    volatile uint64_t sink = 0;
    ew_cause_id c;
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++) {
        for (int m = 0; m < 3; m++) {
            ew_cause_fingerprint(messages[m], NULL, 500, 0, "application/x-httpd-php",
                                 "/srv/www/index.php", &c);
            sink += c.key;
        }
    }
    double per = (now_ns() - t0) / (double)rounds / 3;
    /* The memo's work when the failure repeats: the inputs compared. */
    static char last[512];
    strncpy(last, messages[0], sizeof(last) - 1);
    double t1 = now_ns();
    for (long i = 0; i < rounds; i++) {
        sink += strcmp(last, messages[0]) == 0;
    }
    double memo = (now_ns() - t1) / (double)rounds;
    struct stat sb;
    double t2 = now_ns();
    for (long i = 0; i < rounds; i++) {
        sink += (uint64_t)stat(argv[0], &sb);
    }
    double st = (now_ns() - t2) / (double)rounds;
    printf("fingerprint: %.0f ns per message (mean of 3 real lines, %ld rounds)\n", per, rounds);
    printf("memo hit (the message compared): %.0f ns\n", memo);
    printf("stat() of a file: %.0f ns\n", st);
    return sink == 42 ? 1 : 0;
}

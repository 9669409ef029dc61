/* The failure the store benchmarks record: a WordPress-shaped 500 with a
 * realistic message, file number i. Header-only, for the bench programs. */
#ifndef BENCH_FAILURE_H
#define BENCH_FAILURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ew_store.h"

static inline ew_failure bench_failure(uint32_t i)
{
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.time_us = 1700000000000000LL + (int64_t)i;
    f.status = 500;
    ew_copy_field(f.method, sizeof(f.method), "GET");
    ew_copy_field(f.uri, sizeof(f.uri), "/wp/2024/a-pretty-permalink/");
    ew_copy_field(f.vhost, sizeof(f.vhost), "www.example.com:443");
    ew_copy_field(f.handler, sizeof(f.handler), "application/x-httpd-php");
    (void)snprintf(f.file, sizeof(f.file), "/var/www/html/wp-content/plugins/p%07u/x.php",
                   (unsigned)i);
    ew_copy_field(f.message, sizeof(f.message),
                  "PHP Fatal error:  Uncaught Error: Failed opening required "
                  "'/var/www/html/wp-includes/class-wp-locale.phpp' (include_path='.:/usr/share/"
                  "php') in /var/www/html/wp-settings.php:2");
    return f;
}

#endif

/*
 * ew_buf: a growable byte buffer in an APR pool. Formatters write into one;
 * the status handler sends it with a single ap_rwrite().
 */
#ifndef EW_BUF_H
#define EW_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include <apr_pools.h>

typedef struct ew_buf {
    apr_pool_t *pool;
    char *data; /* always NUL-terminated */
    size_t len;
    size_t cap;
} ew_buf;

void ew_buf_init(ew_buf *b, apr_pool_t *pool, size_t initial);
void ew_buf_append(ew_buf *b, const char *s, size_t n);
void ew_buf_puts(ew_buf *b, const char *s);
void ew_buf_putc(ew_buf *b, char c);
void ew_buf_printf(ew_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

/*
 * ew_buf: a growable, NUL-terminated byte buffer allocated from an APR pool.
 *
 * Growth allocates a new block from the pool and copies; the old block stays
 * in the pool until it is cleared. Buffers live for one status request, so
 * the waste is bounded by the doubling (at most the final size again).
 */
#include <stdio.h>
#include <string.h>

#include "ew_buf.h"

#define EW_BUF_MIN_CAP 64

/* Makes room for `extra` more bytes plus the terminating NUL. */
static void ew_buf_reserve(ew_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return;
    }
    size_t cap = b->cap < EW_BUF_MIN_CAP ? EW_BUF_MIN_CAP : b->cap;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *data = apr_palloc(b->pool, cap);
    if (b->len > 0) {
        memcpy(data, b->data, b->len);
    }
    data[b->len] = '\0';
    b->data = data;
    b->cap = cap;
}

void ew_buf_init(ew_buf *b, apr_pool_t *pool, size_t initial)
{
    b->pool = pool;
    b->len = 0;
    b->cap = initial < EW_BUF_MIN_CAP ? EW_BUF_MIN_CAP : initial;
    b->data = apr_palloc(pool, b->cap);
    b->data[0] = '\0';
}

void ew_buf_append(ew_buf *b, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    ew_buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ew_buf_puts(ew_buf *b, const char *s)
{
    if (s != NULL) {
        ew_buf_append(b, s, strlen(s));
    }
}

void ew_buf_putc(ew_buf *b, char c)
{
    ew_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void ew_buf_printf(ew_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room = b->cap - b->len;

    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is the line above */
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        /* Encoding error: leave the buffer as it was. */
        b->data[b->len] = '\0';
        return;
    }
    size_t want = (size_t)n;
    if (want >= room) {
        ew_buf_reserve(b, want);
        va_start(ap, fmt);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->data[b->len] = '\0';
            return;
        }
        want = (size_t)n;
    }
    b->len += want;
}

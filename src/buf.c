/*
 * ew_buf: a growable, NUL-terminated byte buffer allocated from an APR pool.
 *
 * Growth allocates a new block from the pool and copies; the old block stays
 * in the pool until it is cleared. Buffers live for one status request, so
 * the waste is bounded by the doubling (at most the final size again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ew_buf.h"

#define EW_BUF_MIN_CAP 64

void ew_buf_grow(ew_buf *b, size_t extra)
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

void ew_buf_puts(ew_buf *b, const char *s)
{
    if (s != NULL) {
        ew_buf_append(b, s, strlen(s));
    }
}

const char ew_digit_pairs[200] = "0001020304050607080910111213141516171819"
                                 "2021222324252627282930313233343536373839"
                                 "4041424344454647484950515253545556575859"
                                 "6061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

/* Decimal digits of v: 1 .. 20. */
static unsigned ew_decimal_digits(uint64_t v)
{
    unsigned n = 1;
    for (;;) {
        if (v < 10) {
            return n;
        }
        if (v < 100) {
            return n + 1;
        }
        if (v < 1000) {
            return n + 2;
        }
        if (v < 10000) {
            return n + 3;
        }
        v /= 10000;
        n += 4;
    }
}

void ew_buf_put_u64(ew_buf *b, uint64_t v)
{
    unsigned n = ew_decimal_digits(v);
    char *out = ew_buf_room(b, n);
    char *p = out + n;
    while (v >= 100) {
        p -= 2;
        ew_put_2digits(p, (unsigned)(v % 100));
        v /= 100;
    }
    if (v >= 10) {
        ew_put_2digits(p - 2, (unsigned)v);
    } else {
        p[-1] = (char)('0' + v);
    }
    ew_buf_commit(b, n);
}

void ew_buf_put_i64(ew_buf *b, int64_t v)
{
    if (v < 0) {
        ew_buf_putc(b, '-');
        /* Negated in unsigned arithmetic: INT64_MIN has no positive twin. */
        ew_buf_put_u64(b, 0u - (uint64_t)v);
    } else {
        ew_buf_put_u64(b, (uint64_t)v);
    }
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
        ew_buf_grow(b, want);
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

void ew_buf_put_double(ew_buf *b, double d)
{
    char text[40];
    for (int digits = 6; digits <= 17; digits++) {
        (void)snprintf(text, sizeof(text), "%.*g", digits, d);
        if (digits == 17 || strtod(text, NULL) == d) {
            break;
        }
    }
    ew_buf_puts(b, text);
}

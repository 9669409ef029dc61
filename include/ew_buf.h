/*
 * ew_buf: a growable byte buffer in an APR pool. Formatters write into one;
 * the status handler sends it with a single ap_rwrite().
 *
 * Appending is inline: a status page is tens of thousands of small appends,
 * and the call would cost as much as the copy.
 */
#ifndef EW_BUF_H
#define EW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_pools.h>

typedef struct ew_buf {
    apr_pool_t *pool;
    char *data; /* always NUL-terminated */
    size_t len;
    size_t cap;
} ew_buf;

void ew_buf_init(ew_buf *b, apr_pool_t *pool, size_t initial);
void ew_buf_puts(ew_buf *b, const char *s);
void ew_buf_printf(ew_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Grows the buffer so that `extra` more bytes and the NUL fit (ew_buf_room's
 * slow path). */
void ew_buf_grow(ew_buf *b, size_t extra);

/* Room for `extra` more bytes and the NUL: returns where they go. The caller
 * writes up to `extra` bytes there and then calls ew_buf_commit with how many
 * it wrote. */
static inline char *ew_buf_room(ew_buf *b, size_t extra)
{
    if (extra >= b->cap - b->len) {
        ew_buf_grow(b, extra);
    }
    return b->data + b->len;
}

static inline void ew_buf_commit(ew_buf *b, size_t written)
{
    b->len += written;
    b->data[b->len] = '\0';
}

static inline void ew_buf_append(ew_buf *b, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    memcpy(ew_buf_room(b, n), s, n);
    ew_buf_commit(b, n);
}

static inline void ew_buf_putc(ew_buf *b, char c)
{
    *ew_buf_room(b, 1) = c;
    ew_buf_commit(b, 1);
}

/* A string literal, without measuring it at run time. */
#define EW_BUF_LIT(b, lit) ew_buf_append((b), "" lit, sizeof(lit) - 1)

/* "00" "01" ... "99": decimal digits are written two at a time. */
extern const char ew_digit_pairs[200];

/* Writes v (0 .. 99) as two digits at p. */
static inline void ew_put_2digits(char *p, unsigned v)
{
    memcpy(p, ew_digit_pairs + 2 * v, 2);
}

/* Decimal integers, as printf's %llu and %lld write them. */
void ew_buf_put_u64(ew_buf *b, uint64_t v);
void ew_buf_put_i64(ew_buf *b, int64_t v);
/* A finite double in the shortest %g form that reads back as the same
 * double (at most 17 significant digits): a counter summed in floating point
 * never loses steps the way %g's 6 digits do. */
void ew_buf_put_double(ew_buf *b, double d);

#endif

/*
 * Shared code of the libFuzzer targets (t/fuzz/fuzz_*.c): a reader that
 * turns the fuzz bytes into values and snapshots, reference versions of the
 * escaping rules written independently of src/escape.c, and strict checkers
 * (a JSON parser, an HTML token walk) for the invariants that every output
 * must keep whatever the input. A broken invariant prints what broke and
 * aborts, which libFuzzer records as a crash with the input that caused it.
 */
#ifndef EW_FUZZ_SUPPORT_H
#define EW_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

#include "ew_buf.h"
#include "ew_format.h"
#include "ew_store.h"

/* Fails the run when cond is false: prints the condition and the output
 * being checked (shortened), then aborts. */
#define FZ_CHECK(cond, out)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fz_fail(__FILE__, __LINE__, #cond, (out));                                             \
        }                                                                                          \
    } while (0)
void fz_fail(const char *file, int line, const char *what, const char *out)
    __attribute__((noreturn));

/* A pool for one input: created by fz_begin() from a root pool made once,
 * destroyed by fz_end(). */
apr_pool_t *fz_begin(void);
void fz_end(apr_pool_t *p);

/* Reads values off the fuzz bytes; past the end every value is 0 / "". */
typedef struct fz_reader {
    const uint8_t *p;
    size_t n;
} fz_reader;

uint8_t fz_u8(fz_reader *r);
uint32_t fz_u32(fz_reader *r);
uint64_t fz_u64(fz_reader *r);
/* A string for a field of size bytes: a 2-byte length (mod size), then
 * that many bytes (fewer if the input ends). A NUL among them ends the
 * string early, as in a C field. */
void fz_str(fz_reader *r, char *dst, size_t size);
/* The same into pool memory, at most max bytes long. */
char *fz_pstr(fz_reader *r, apr_pool_t *p, size_t max);

/* A snapshot with up to 12 handler rows, files and recent failures, every
 * count and string taken from the reader. */
void fz_snapshot(fz_reader *r, apr_pool_t *p, ew_snapshot *snap);
/* Server figures for ?auto and ?metrics, strings from the reader. */
void fz_server_stats(fz_reader *r, apr_pool_t *p, ew_server_stats *s);

/* Reference rules (see the ew_escape.h comments), independent of
 * src/escape.c. Each writes the expected *decoded* value of an escaped
 * string into b. */

/* Length of the well-formed UTF-8 sequence at s (1..4), decoded by value
 * (range, shortest form, no surrogates), or 0. */
size_t fz_utf8_seq(const unsigned char *s);
/* Nonzero if s[0..n) is well-formed UTF-8. */
int fz_utf8_valid(const char *s, size_t n);
/* s with each byte outside a well-formed sequence replaced by U+FFFD, and
 * (when controls is set) each ASCII control byte that is not in keep also
 * replaced by U+FFFD. */
void fz_expect_utf8(ew_buf *b, const char *s, int controls, const char *keep);

/* Strict RFC 8259 parser. Values live in the pool. */
typedef enum { FZ_JNULL, FZ_JBOOL, FZ_JNUM, FZ_JSTR, FZ_JARR, FZ_JOBJ } fz_json_type;
typedef struct fz_json {
    fz_json_type type;
    const char *str; /* FZ_JSTR: decoded UTF-8; FZ_JNUM: the number's text */
    size_t len;
    size_t count;          /* FZ_JARR / FZ_JOBJ */
    const char **keys;     /* FZ_JOBJ: decoded keys */
    struct fz_json **kids; /* elements or member values */
} fz_json;

/* The document, or NULL (with *err set) if text[0..len) is not exactly one
 * JSON value with optional whitespace around it. */
fz_json *fz_json_parse(apr_pool_t *p, const char *text, size_t len, const char **err);
/* Member key of an object, or NULL. */
const fz_json *fz_json_get(const fz_json *obj, const char *key);

#endif

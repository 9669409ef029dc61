/*
 * The four escapers of ew_escape.h and ew_copy_field, on the fuzz bytes as
 * one NUL-terminated string. Each output must keep its format's rules and
 * decode back to the input, with only the documented replacements.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_escape.h"
#include "fuzz_support.h"

/* HTML: no raw metacharacter or control byte (tab aside); every '&' opens
 * one of the five entities; decoding them gives the input with controls
 * replaced by U+FFFD. */
static void check_html(apr_pool_t *p, const char *in)
{
    static const struct {
        const char *entity;
        char c;
    } entities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    ew_buf out, dec, want;
    ew_buf_init(&out, p, 64);
    ew_buf_init(&dec, p, 64);
    ew_buf_init(&want, p, 64);
    ew_escape_html(&out, in);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        FZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'', out.data);
        FZ_CHECK(c >= 0x20 ? c != 0x7F : c == '\t', out.data);
        if (c != '&') {
            ew_buf_putc(&dec, (char)c);
            continue;
        }
        size_t k = 0;
        while (k < sizeof(entities) / sizeof(entities[0]) &&
               strncmp(out.data + i, entities[k].entity, strlen(entities[k].entity)) != 0) {
            k++;
        }
        FZ_CHECK(k < sizeof(entities) / sizeof(entities[0]), out.data);
        ew_buf_putc(&dec, entities[k].c);
        i += strlen(entities[k].entity) - 1;
    }
    /* Bytes >= 0x80 pass through unchanged (the page is sent as UTF-8 and
     * browsers show a bad sequence as U+FFFD themselves). */
    for (const unsigned char *q = (const unsigned char *)in; *q != 0; q++) {
        if ((*q < 0x20 && *q != '\t') || *q == 0x7F) {
            ew_buf_puts(&want, "\xEF\xBF\xBD");
        } else {
            ew_buf_putc(&want, (char)*q);
        }
    }
    FZ_CHECK(dec.len == want.len && memcmp(dec.data, want.data, dec.len) == 0, out.data);
}

/* JSON: a valid JSON string whose value is the input with each byte that
 * is not well-formed UTF-8 replaced by U+FFFD. */
static void check_json(apr_pool_t *p, const char *in)
{
    ew_buf out, want;
    ew_buf_init(&out, p, 64);
    ew_buf_init(&want, p, 64);
    ew_escape_json(&out, in);
    const char *err;
    fz_json *v = fz_json_parse(p, out.data, out.len, &err);
    FZ_CHECK(v != NULL && v->type == FZ_JSTR, out.data);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        FZ_CHECK(c >= 0x20 && c != 0x7F, out.data);
    }
    fz_expect_utf8(&want, in, 0, "");
    FZ_CHECK(v->len == want.len && memcmp(v->str, want.data, want.len) == 0, out.data);
}

/* ?auto values: same length, no control byte, controls became spaces. */
static void check_line(apr_pool_t *p, const char *in)
{
    ew_buf out;
    ew_buf_init(&out, p, 64);
    ew_escape_line(&out, in);
    FZ_CHECK(out.len == strlen(in), out.data);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        unsigned char o = (unsigned char)in[i];
        int control = o < 0x20 || o == 0x7F;
        FZ_CHECK(control ? c == ' ' : c == o, out.data);
    }
}

/* Prometheus label values: only the \\, \" and \n escapes, no raw quote,
 * newline or control byte, well-formed UTF-8; decoding gives the input with
 * other controls and malformed bytes replaced by U+FFFD. */
static void check_prom(apr_pool_t *p, const char *in)
{
    ew_buf out, dec, want;
    ew_buf_init(&out, p, 64);
    ew_buf_init(&dec, p, 64);
    ew_buf_init(&want, p, 64);
    ew_escape_prom_label(&out, in);
    FZ_CHECK(fz_utf8_valid(out.data, out.len), out.data);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        FZ_CHECK(c >= 0x20 && c != 0x7F && c != '"', out.data);
        if (c != '\\') {
            ew_buf_putc(&dec, (char)c);
            continue;
        }
        FZ_CHECK(i + 1 < out.len, out.data);
        char e = out.data[++i];
        FZ_CHECK(e == '\\' || e == '"' || e == 'n', out.data);
        ew_buf_putc(&dec, e == 'n' ? '\n' : e);
    }
    fz_expect_utf8(&want, in, 1, "\n");
    FZ_CHECK(dec.len == want.len && memcmp(dec.data, want.data, dec.len) == 0, out.data);
}

/* ew_copy_field: a prefix that fits, cut only at a character boundary. */
static void check_copy_field(const char *in, size_t size)
{
    char *dst = malloc(size + 1);
    if (dst == NULL) {
        abort();
    }
    dst[size] = 'X'; /* one guard byte beyond the field */
    ew_copy_field(dst, size, in);
    FZ_CHECK(dst[size] == 'X', in);
    if (size > 0) {
        size_t n = strlen(dst);
        size_t in_len = strlen(in);
        FZ_CHECK(n < size && strncmp(dst, in, n) == 0, dst);
        if (in_len < size) {
            FZ_CHECK(n == in_len, dst);
        }
        /* Well-formed input loses at most one character's 3 leading bytes
         * and stays well-formed; malformed input may lose more. */
        if (fz_utf8_valid(in, in_len)) {
            FZ_CHECK((in_len < size || size - 1 - n <= 3) && fz_utf8_valid(dst, n), dst);
        }
    }
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the terminator. */
    char *in = malloc(size + 1);
    if (in == NULL) {
        return 0;
    }
    memcpy(in, data, size);
    in[size] = '\0';

    apr_pool_t *p = fz_begin();
    check_html(p, in);
    check_json(p, in);
    check_line(p, in);
    check_prom(p, in);
    check_copy_field(in, size > 0 ? data[0] % 24 : 0);
    check_copy_field(in, size + 1);
    fz_end(p);
    free(in);
    return 0;
}

/*
 * The live tail's lines (src/format_tail.c) and their field escaper
 * (ew_escape_tail_field). Every line, whatever the bytes of a URI, file or
 * message, must be exactly one line: the text form splits into its fields
 * and decodes back to the failure's bytes; the NDJSON form is one strict
 * JSON object whose strings read back as the failure's bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_escape.h"
#include "ew_format.h"
#include "fuzz_support.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes one escaped field of out[0..len): \xHH always; \\ and \" when
 * quoted (and then the surrounding quotes are required). */
static void decode_field(ew_buf *dec, const char *out, size_t len, int quoted)
{
    if (quoted) {
        FZ_CHECK(len >= 2 && out[0] == '"' && out[len - 1] == '"', out);
        out++;
        len -= 2;
    } else if (len == 1 && out[0] == '-') {
        return; /* the empty field */
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        FZ_CHECK(c >= 0x20 && c != 0x7F, out);
        FZ_CHECK(quoted ? c != '"' : c != ' ' && c != '"', out);
        if (c != '\\') {
            ew_buf_putc(dec, (char)c);
            continue;
        }
        FZ_CHECK(i + 1 < len, out);
        char e = out[++i];
        if (quoted && (e == '\\' || e == '"')) {
            ew_buf_putc(dec, e);
            continue;
        }
        FZ_CHECK(e == 'x' && i + 2 < len, out);
        int hi = hex_value(out[i + 1]);
        int lo = hex_value(out[i + 2]);
        FZ_CHECK(hi >= 0 && lo >= 0, out);
        ew_buf_putc(dec, (char)(hi * 16 + lo));
        i += 2;
    }
}

/* The escaped field is printable, well-formed UTF-8 and decodes back to s
 * ("-" and "\"\"" stand for the empty string). */
static void check_field(apr_pool_t *p, const char *s, int quoted)
{
    ew_buf out, dec;
    ew_buf_init(&out, p, 64);
    ew_buf_init(&dec, p, 64);
    ew_escape_tail_field(&out, s, quoted);
    FZ_CHECK(fz_utf8_valid(out.data, out.len), out.data);
    decode_field(&dec, out.data, out.len, quoted);
    if (!quoted && strcmp(s, "-") == 0) {
        return; /* a literal "-" and the empty field print alike (documented) */
    }
    FZ_CHECK(dec.len == strlen(s) && memcmp(dec.data, s, dec.len) == 0, out.data);
}

/* One line: ends in its only newline, no other control byte. */
static void check_one_line(const ew_buf *b)
{
    FZ_CHECK(b->len > 0 && b->data[b->len - 1] == '\n', b->data);
    for (size_t i = 0; i + 1 < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        FZ_CHECK(c >= 0x20 && c != 0x7F, b->data);
    }
}

/* A text line also holds no line break of Unicode's: no C1 control
 * (U+0080..U+009F, NEL among them) and no U+2028 or U+2029, which
 * str.splitlines() and other Unicode-aware readers split on. */
static void check_no_unicode_break(const ew_buf *b)
{
    const unsigned char *d = (const unsigned char *)b->data;
    for (size_t i = 0; i + 1 < b->len; i++) {
        FZ_CHECK(!(d[i] == 0xC2 && d[i + 1] >= 0x80 && d[i + 1] <= 0x9F), b->data);
        FZ_CHECK(!(i + 2 < b->len && d[i] == 0xE2 && d[i + 1] == 0x80 &&
                   (d[i + 2] == 0xA8 || d[i + 2] == 0xA9)),
                 b->data);
    }
}

static const fz_json *json_line(apr_pool_t *p, const ew_buf *b, const char *type)
{
    check_one_line(b);
    const char *err = NULL;
    fz_json *v = fz_json_parse(p, b->data, b->len - 1, &err);
    FZ_CHECK(v != NULL && v->type == FZ_JOBJ, b->data);
    const fz_json *t = fz_json_get(v, "type");
    FZ_CHECK(t != NULL && t->type == FZ_JSTR && strcmp(t->str, type) == 0, b->data);
    return v;
}

static void check_json_string(apr_pool_t *p, const fz_json *obj, const char *key, const char *s,
                              const char *out)
{
    ew_buf want;
    ew_buf_init(&want, p, 64);
    fz_expect_utf8(&want, s, 0, "");
    const fz_json *v = fz_json_get(obj, key);
    FZ_CHECK(v != NULL && v->type == FZ_JSTR, out);
    FZ_CHECK(v->len == want.len && memcmp(v->str, want.data, want.len) == 0, out);
}

/* The text line: time, status, method, URI, seq=, handler=, file=, msg=,
 * split on single spaces; each field decodes back to the failure's. */
static void check_text_failure(apr_pool_t *p, const ew_failure *f, const ew_buf *b)
{
    check_one_line(b);
    check_no_unicode_break(b);
    FZ_CHECK(b->data[0] != '#', b->data);
    const char *prefix[] = {NULL, NULL, NULL, NULL, "seq=", "handler=", "file=", "msg="};
    const char *want[] = {NULL, NULL, f->method, f->uri, NULL, f->handler, f->file, f->message};
    const char *at = b->data;
    const char *end = b->data + b->len - 1;
    for (size_t k = 0; k < sizeof(prefix) / sizeof(prefix[0]); k++) {
        /* msg= runs to the end of the line; the others end at a space. */
        const char *stop =
            k + 1 == sizeof(prefix) / sizeof(prefix[0]) ? end : memchr(at, ' ', (size_t)(end - at));
        FZ_CHECK(stop != NULL, b->data);
        if (prefix[k] != NULL) {
            size_t n = strlen(prefix[k]);
            FZ_CHECK((size_t)(stop - at) >= n && memcmp(at, prefix[k], n) == 0, b->data);
            at += n;
        }
        if (want[k] != NULL) {
            ew_buf dec;
            ew_buf_init(&dec, p, 64);
            decode_field(&dec, at, (size_t)(stop - at), k == 7);
            if (strcmp(want[k], "-") != 0) {
                FZ_CHECK(dec.len == strlen(want[k]) && memcmp(dec.data, want[k], dec.len) == 0,
                         b->data);
            }
        }
        at = stop + 1;
    }
}

static void check_failure(apr_pool_t *p, const ew_failure *f)
{
    ew_buf b;
    ew_buf_init(&b, p, 256);
    ew_format_tail_failure(&b, f, 0);
    check_text_failure(p, f, &b);

    ew_buf_init(&b, p, 256);
    ew_format_tail_failure(&b, f, 1);
    const fz_json *v = json_line(p, &b, "failure");
    check_json_string(p, v, "method", f->method, b.data);
    check_json_string(p, v, "uri", f->uri, b.data);
    check_json_string(p, v, "vhost", f->vhost, b.data);
    check_json_string(p, v, "file", f->file, b.data);
    check_json_string(p, v, "handler", f->handler, b.data);
    check_json_string(p, v, "message", f->message, b.data);
}

/* The other lines: one line each; text ones are comments, JSON ones
 * parse with their type. */
static void check_other_lines(apr_pool_t *p, fz_reader *r)
{
    ew_tail_info info = {.latest_seq = fz_u64(r),
                         .pid = (int64_t)fz_u64(r),
                         .keepalive_s = fz_u32(r),
                         .max_s = fz_u32(r),
                         .now_us = (int64_t)fz_u64(r)};
    uint64_t a = fz_u64(r), c = fz_u64(r);
    uint32_t cap = fz_u32(r);
    int64_t now = (int64_t)fz_u64(r);
    ew_tail_end why = (fz_u8(r) & 1) ? EW_TAIL_END_MAX_TIME : EW_TAIL_END_STOPPING;
    static const char *const types[] = {"start", "keepalive", "gap", "ahead", "end"};
    for (int json = 0; json <= 1; json++) {
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
            ew_buf b;
            ew_buf_init(&b, p, 128);
            switch (k) {
            case 0:
                ew_format_tail_start(&b, json, &info);
                break;
            case 1:
                ew_format_tail_keepalive(&b, json, now);
                break;
            case 2:
                ew_format_tail_gap(&b, json, a, c, cap);
                break;
            case 3:
                ew_format_tail_ahead(&b, json, a, c);
                break;
            default:
                ew_format_tail_end(&b, json, why, c);
                break;
            }
            if (json) {
                (void)json_line(p, &b, types[k]);
            } else {
                check_one_line(&b);
                check_no_unicode_break(&b);
                FZ_CHECK(b.len >= 2 && b.data[0] == '#' && b.data[1] == ' ', b.data);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_begin();
    fz_reader r = {data, size};
    ew_failure f;
    memset(&f, 0, sizeof(f));
    f.seq = fz_u64(&r);
    f.time_us = (int64_t)fz_u64(&r);
    f.duration_us = (int64_t)fz_u64(&r);
    f.pid = (int32_t)fz_u32(&r);
    f.status = (uint16_t)fz_u32(&r);
    fz_str(&r, f.method, sizeof(f.method));
    fz_str(&r, f.uri, sizeof(f.uri));
    fz_str(&r, f.vhost, sizeof(f.vhost));
    fz_str(&r, f.handler, sizeof(f.handler));
    fz_str(&r, f.file, sizeof(f.file));
    fz_str(&r, f.message, sizeof(f.message));
    check_field(p, f.uri, 0);
    check_field(p, f.message, 1);
    check_failure(p, &f);
    check_other_lines(p, &r);
    fz_end(p);
    return 0;
}

/*
 * Escaping for the three output formats. Each function copies runs of bytes
 * that need no escaping in one ew_buf_append() and handles the rest byte by
 * byte.
 */
#include <stddef.h>

#include "ew_escape.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char ew_replacement_utf8[] = "\xEF\xBF\xBD";

static int ew_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void ew_escape_html(ew_buf *b, const char *s)
{
    if (s == NULL) {
        return;
    }
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        const char *rep;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            rep = (ew_is_control(c) && c != '\t') ? ew_replacement_utf8 : NULL;
            break;
        }
        if (rep != NULL) {
            ew_buf_append(b, run, (size_t)(p - run));
            ew_buf_puts(b, rep);
            run = p + 1;
        }
    }
    ew_buf_puts(b, run);
}

static int ew_is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/*
 * Length of the well-formed UTF-8 sequence starting at p (1 to 4), or 0 if
 * the byte at p does not start one. Follows RFC 3629 / Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF. The string is
 * NUL-terminated, and NUL is never a continuation byte, so reading stops at
 * the terminator.
 */
static size_t ew_utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return ew_is_cont(p[1]) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xE0) {
            lo = 0xA0; /* overlong below U+0800 */
        } else if (c == 0xED) {
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
        }
        if (p[1] < lo || p[1] > hi || !ew_is_cont(p[2])) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xF0) {
            lo = 0x90; /* overlong below U+10000 */
        } else if (c == 0xF4) {
            hi = 0x8F; /* above U+10FFFF */
        }
        if (p[1] < lo || p[1] > hi || !ew_is_cont(p[2]) || !ew_is_cont(p[3])) {
            return 0;
        }
        return 4;
    }
    /* 0x80..0xC1 (stray continuation, overlong lead) and 0xF5..0xFF. */
    return 0;
}

void ew_escape_json(ew_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    ew_buf_putc(b, '"');
    if (s == NULL) {
        ew_buf_putc(b, '"');
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p;
    while (*p != '\0') {
        unsigned char c = *p;
        const char *rep = NULL;
        char ubuf[7];
        size_t n = 1;

        switch (c) {
        case '"':
            rep = "\\\"";
            break;
        case '\\':
            rep = "\\\\";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        case '\b':
            rep = "\\b";
            break;
        case '\f':
            rep = "\\f";
            break;
        default:
            if (ew_is_control(c)) {
                ubuf[0] = '\\';
                ubuf[1] = 'u';
                ubuf[2] = '0';
                ubuf[3] = '0';
                ubuf[4] = hex[c >> 4];
                ubuf[5] = hex[c & 0x0f];
                ubuf[6] = '\0';
                rep = ubuf;
            } else if (c >= 0x80) {
                n = ew_utf8_len(p);
                if (n == 0) {
                    rep = "\\ufffd";
                    n = 1;
                }
            }
            break;
        }
        if (rep != NULL) {
            ew_buf_append(b, (const char *)run, (size_t)(p - run));
            ew_buf_puts(b, rep);
            p += n;
            run = p;
        } else {
            p += n;
        }
    }
    ew_buf_append(b, (const char *)run, (size_t)(p - run));
    ew_buf_putc(b, '"');
}

void ew_escape_line(ew_buf *b, const char *s)
{
    if (s == NULL) {
        return;
    }
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        if (ew_is_control((unsigned char)*p)) {
            ew_buf_append(b, run, (size_t)(p - run));
            ew_buf_putc(b, ' ');
            run = p + 1;
        }
    }
    ew_buf_puts(b, run);
}

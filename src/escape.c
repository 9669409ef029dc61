/*
 * Escaping for the output formats. Each function copies runs of bytes
 * that need no escaping in one go and handles the rest byte by byte.
 */
#include <stddef.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ew_escape.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char ew_replacement_utf8[] = "\xEF\xBF\xBD";

static int ew_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void ew_escape_html(ew_buf *b, const char *s)
{
    if (s != NULL) {
        ew_escape_html_n(b, s, strlen(s));
    }
}

void ew_escape_html_n(ew_buf *b, const char *s, size_t n)
{
    const char *run = s;
    const char *end = s + n;
    for (const char *p = s; p < end && *p != '\0'; p++) {
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
    ew_buf_append(b, run, strnlen(run, (size_t)(end - run)));
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

/*
 * Walks a NUL-terminated string as strict UTF-8 and appends it to b. ASCII
 * bytes for which ascii_rep() returns a replacement are replaced by it;
 * every byte that does not belong to a well-formed sequence (ew_utf8_len)
 * becomes invalid_rep. Everything else is copied as it is.
 *
 * Replacements are at most EW_REP_MAX bytes per input byte, so room for the
 * whole result is reserved once and the bytes are written straight into the
 * buffer; most of every page is plain ASCII, which is copied sixteen bytes
 * at a time where SSE2 is there (every x86-64) and through a table
 * otherwise.
 */
typedef const char *ew_ascii_rep_fn(unsigned char c, char tmp[8]);
#define EW_REP_MAX 6 /* "\u001f", "\ufffd" */

/* 1 for printable ASCII other than the two bytes both JSON and Prometheus
 * escape (" and \\): copied as they are, without asking ascii_rep. */
static const unsigned char ew_plain_ascii[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/* Copies the plain bytes from *src (at most up to end) to *dst and advances
 * both to the first byte that is not plain. */
static void ew_copy_plain(const unsigned char **src, const unsigned char *end, char **dst)
{
    const unsigned char *p = *src;
    char *out = *dst;
#if defined(__SSE2__)
    /* Sixteen bytes are stored before they are checked: the room reserved
     * for them as replacements covers it. A byte is special when, read as
     * signed, it is below 0x20 (controls and every byte >= 0x80), or it is
     * '"', '\\' or DEL. */
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i del = _mm_set1_epi8(0x7f);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        _mm_storeu_si128((__m128i *)(void *)out, v);
        __m128i special =
            _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, quote)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, del)));
        unsigned mask = (unsigned)_mm_movemask_epi8(special);
        if (mask != 0) {
            unsigned k = (unsigned)__builtin_ctz(mask);
            *src = p + k;
            *dst = out + k;
            return;
        }
        p += 16;
        out += 16;
    }
#endif
    while (p < end && ew_plain_ascii[*p]) {
        *out++ = (char)*p++;
    }
    *src = p;
    *dst = out;
}

static void ew_escape_utf8(ew_buf *b, const char *s, ew_ascii_rep_fn *ascii_rep,
                           const char *invalid_rep)
{
    size_t len = strlen(s);
    if (len > (((size_t)-1) >> 4)) {
        return; /* cannot be a string in memory, and EW_REP_MAX * len would wrap */
    }
    char *const start = ew_buf_room(b, len * EW_REP_MAX);
    char *out = start;
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *const end = p + len;
    for (;;) {
        ew_copy_plain(&p, end, &out);
        if (p == end) {
            break;
        }
        const char *rep = NULL;
        /* cppcheck-suppress variableScope ; rep may point into tmp below the branch */
        char tmp[8];
        size_t n = 1;

        if (*p < 0x80) {
            rep = ascii_rep(*p, tmp);
        } else {
            n = ew_utf8_len(p);
            if (n == 0) {
                rep = invalid_rep;
                n = 1;
            }
        }
        if (rep != NULL) {
            while (*rep != '\0') { /* at most EW_REP_MAX bytes */
                *out++ = *rep++;
            }
        } else {
            memcpy(out, p, n);
            out += n;
        }
        p += n;
    }
    ew_buf_commit(b, (size_t)(out - start));
}

static const char *ew_json_ascii_rep(unsigned char c, char tmp[8])
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    default:
        if (!ew_is_control(c)) {
            return NULL;
        }
        tmp[0] = '\\';
        tmp[1] = 'u';
        tmp[2] = '0';
        tmp[3] = '0';
        tmp[4] = hex[c >> 4];
        tmp[5] = hex[c & 0x0f];
        tmp[6] = '\0';
        return tmp;
    }
}

void ew_escape_json(ew_buf *b, const char *s)
{
    ew_buf_putc(b, '"');
    if (s != NULL) {
        ew_escape_utf8(b, s, ew_json_ascii_rep, "\\ufffd");
    }
    ew_buf_putc(b, '"');
}

/* NOLINTNEXTLINE(readability-non-const-parameter): the ew_ascii_rep_fn signature */
static const char *ew_prom_ascii_rep(unsigned char c, char tmp[8])
{
    (void)tmp;
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    default:
        return ew_is_control(c) ? ew_replacement_utf8 : NULL;
    }
}

void ew_escape_prom_label(ew_buf *b, const char *s)
{
    if (s != NULL) {
        ew_escape_utf8(b, s, ew_prom_ascii_rep, ew_replacement_utf8);
    }
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

/* Appends byte c as "\xHH". */
static void ew_put_hex_escape(ew_buf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[4] = {'\\', 'x', hex[c >> 4], hex[c & 0x0f]};
    ew_buf_append(b, tmp, sizeof(tmp));
}

/* The C1 controls (U+0080..U+009F, NEL among them) and U+2028/U+2029, as
 * the n-byte UTF-8 sequence at p: line breaks to Python's splitlines() and
 * to the Unicode standard, though not to ASCII readers. */
static int is_unicode_line_break(const unsigned char *p, size_t n)
{
    return (n == 2 && p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) ||
           (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9));
}

void ew_escape_tail_field(ew_buf *b, const char *s, int quoted)
{
    if (s == NULL || s[0] == '\0') {
        ew_buf_puts(b, quoted ? "\"\"" : "-");
        return;
    }
    if (quoted) {
        ew_buf_putc(b, '"');
    }
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p;
    while (*p != '\0') {
        size_t n = ew_utf8_len(p);
        int escape =
            n == 0 || ew_is_control(*p) || *p == '\\' || *p == '"' || (!quoted && *p == ' ');
        if (!escape && is_unicode_line_break(p, n)) {
            /* Every byte of it as \xNN: a reader that splits lines the
             * Unicode way must still see one failure per line. */
            ew_buf_append(b, (const char *)run, (size_t)(p - run));
            for (size_t i = 0; i < n; i++) {
                ew_put_hex_escape(b, p[i]);
            }
            p += n;
            run = p;
            continue;
        }
        if (!escape) {
            p += n;
            continue;
        }
        ew_buf_append(b, (const char *)run, (size_t)(p - run));
        if (quoted && (*p == '\\' || *p == '"')) {
            ew_buf_putc(b, '\\');
            ew_buf_putc(b, (char)*p);
        } else {
            ew_put_hex_escape(b, *p);
        }
        p++;
        run = p;
    }
    ew_buf_append(b, (const char *)run, (size_t)(p - run));
    if (quoted) {
        ew_buf_putc(b, '"');
    }
}

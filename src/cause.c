/*
 * Cause fingerprints (see include/ew_cause.h): one pass over the first line
 * of a failure's message, writing a template in which what varies from
 * request to request is replaced and what names the bug is kept.
 */
#include "ew_cause.h"

#include <stdio.h>
#include <string.h>

#include "ew_slots.h"

/* The template being written: at most cap bytes (the last byte of the
 * buffer is kept for the NUL); full once a byte did not fit. */
typedef struct tbuf {
    char *s;
    size_t len;
    size_t cap;
    int full;
} tbuf;

static void put(tbuf *t, const char *p, size_t n)
{
    if (t->full) {
        return;
    }
    if (n > t->cap - t->len) {
        n = t->cap - t->len;
        t->full = 1;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
}

static inline void put_c(tbuf *t, char c)
{
    if (t->len < t->cap) {
        t->s[t->len++] = c;
    } else {
        t->full = 1;
    }
}

/* Character classes, one table lookup each: the fingerprint looks at
 * every byte of a message several times. */
enum { C_DIGIT = 1, C_ALPHA = 2, C_WORD = 4, C_HEX = 8, C_SPACE = 16, C_PATH_END = 32 };
static const unsigned char char_class[256] = {
    32, 0,  0,  0,  0,  0,  0,  0,  0,  48, 0,  0,  0,  48, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  48, 0,  32, 0,  0,  0,  0,  32, 32, 32, 0,  0,  32, 0,  0,  0,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 0,  32, 32, 0,  32, 0,  0,  14, 14, 14, 14, 14, 14, 6,
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  32, 0,  32, 0,  4,
    0,  14, 14, 14, 14, 14, 14, 6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,
    6,  6,  6,  0,  0,  0,  0,  0,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
};

static inline int has(char c, unsigned mask)
{
    return (char_class[(unsigned char)c] & mask) != 0;
}

static inline int is_digit(char c)
{
    return has(c, C_DIGIT);
}

static inline int is_alpha(char c)
{
    return has(c, C_ALPHA);
}

/* Letters, digits, '_' and any byte of a multi-byte character. */
static inline int is_word(char c)
{
    return has(c, C_WORD);
}

static inline int is_hex(char c)
{
    return has(c, C_HEX);
}

static inline int is_space(char c)
{
    return has(c, C_SPACE);
}

/* Where the message's first line ends: a newline, an escaped one (httpd
 * escapes control characters before the error_log hook sees a line), or
 * PHP's "Stack trace:", whose frames differ from entry point to entry
 * point. */
static size_t first_line(const char *s)
{
    for (const char *p = s;; p++) {
        p = strpbrk(p, "\n\\S"); /* libc's scan; only those three can end it */
        if (p == NULL) {
            return strlen(s);
        }
        if (*p == '\n' || (p[0] == '\\' && p[1] == 'n') ||
            (p[0] == 'S' && strncmp(p, "Stack trace:", 12) == 0)) {
            return (size_t)(p - s);
        }
    }
}

/* Skips what wraps the same error differently per handler. *quoted: the
 * line was inside PHP-FPM's "Got error '...'" (drop its closing quote). */
static const char *unwrap(const char *s, int *quoted)
{
    static const char got_error[] = "AH01071: Got error '";
    static const char php_message[] = "PHP message: ";
    *quoted = 0;
    if (strncmp(s, got_error, sizeof(got_error) - 1) == 0) {
        s += sizeof(got_error) - 1;
        *quoted = 1;
    }
    if (strncmp(s, php_message, sizeof(php_message) - 1) == 0) {
        s += sizeof(php_message) - 1;
    }
    return s;
}

/* A path's last component has an extension ("x.php"): a file the message
 * names, worth a stat. */
static int names_a_file(const char *p, size_t n)
{
    size_t dot = n;
    for (size_t i = n; i > 0; i--) {
        if (p[i - 1] == '/') {
            break;
        }
        if (p[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    /* "x.php", not "perl/5.36.0" */
    return dot > 0 && dot + 1 < n && n - dot - 1 <= 8 && p[dot - 1] != '/' && is_alpha(p[dot + 1]);
}

static void add_named(ew_cause_id *out, const char *p, size_t n)
{
    if (out->named_len >= EW_CAUSE_NAMED_MAX || n >= EW_FILE_MAX || n < 2 || !names_a_file(p, n)) {
        return;
    }
    for (uint32_t i = 0; i < out->named_len; i++) {
        if (strlen(out->named[i]) == n && memcmp(out->named[i], p, n) == 0) {
            return;
        }
    }
    memcpy(out->named[out->named_len], p, n);
    out->named[out->named_len][n] = '\0';
    out->named_len++;
}

/* Where a path ends: a space, a quote, a bracket, a separator. */
static inline int path_end(char c)
{
    return has(c, C_PATH_END);
}

/* An absolute path at s[0] (a '/'), up to end: kept verbatim but for a
 * query string and a trailing line number (":156"); returns its length in
 * s. */
static size_t take_path(const char *s, size_t end, tbuf *t, ew_cause_id *out)
{
    size_t n = 0;
    while (n < end && !path_end(s[n])) {
        n++;
    }
    const char *query = memchr(s, '?', n);
    size_t keep = query != NULL ? (size_t)(query - s) : n;
    /* "/x.php:156" and a sentence's full stop. */
    size_t d = keep;
    while (d > 0 && is_digit(s[d - 1])) {
        d--;
    }
    if (d < keep && d > 0 && s[d - 1] == ':') {
        keep = d - 1;
    }
    while (keep > 1 && (s[keep - 1] == '.' || s[keep - 1] == ':')) {
        keep--;
    }
    put(t, s, keep);
    add_named(out, s, keep);
    if (keep < n && s[keep] == ':' && keep + 1 < n && is_digit(s[keep + 1])) {
        put(t, ":#", 2);
    }
    return n;
}

/* A run that starts with a digit: a number, a time, a date, an address, a
 * port, a hex value or an id. One "#" for all of it. */
static size_t take_number(const char *s, size_t end)
{
    size_t n = 0;
    while (n < end && (is_hex(s[n]) || s[n] == '.' || s[n] == ':' || s[n] == '-' || s[n] == 'x' ||
                       s[n] == 'X')) {
        n++;
    }
    while (n > 1 && (s[n - 1] == '.' || s[n - 1] == ':' || s[n - 1] == '-')) {
        n--; /* punctuation after the number, not part of it */
    }
    return n;
}

/* A word (letters, digits, '_', '-'): a hex id ("7f3a9b2c-1d2e-...",
 * "ab12cd") is one "#"; otherwise it is kept, but a number inside it that
 * follows a '-' or '_' ("request-17", "worker_3") is "#" too. Digits right
 * after letters are part of a name ("AH01071", "utf8", "sha256"). */
static size_t take_word(const char *s, size_t end, tbuf *t)
{
    size_t n = 0;
    int hex = 1;
    int digits = 0;
    while (n < end && (is_word(s[n]) || s[n] == '-')) {
        hex &= is_hex(s[n]) || s[n] == '-';
        digits += is_digit(s[n]);
        n++;
    }
    if (hex && digits > 0 && n >= 6) {
        put_c(t, '#');
        return n;
    }
    if (digits == 0 || memchr(s, '-', n) == NULL) {
        if (digits == 0 || memchr(s, '_', n) == NULL) {
            put(t, s, n); /* the common case: a plain word */
            return n;
        }
    }
    for (size_t i = 0; i < n;) {
        if (is_digit(s[i]) && i > 0 && (s[i - 1] == '-' || s[i - 1] == '_')) {
            while (i < n && is_digit(s[i])) {
                i++;
            }
            put_c(t, '#');
        } else {
            put_c(t, s[i]);
            i++;
        }
    }
    return n;
}

/* Code the message quotes (a function, a class, an array key): kept; a
 * path: kept as a path; anything else (what a user typed) becomes '*'. */
static int is_code(const char *s, size_t n)
{
    if (n == 0 || n > 64 || !(is_alpha(s[0]) || s[0] == '_' || s[0] == '\\' || s[0] == '$')) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_word(s[i]) && s[i] != '\\' && s[i] != ':' && s[i] != '$' && s[i] != '.' &&
            s[i] != '-' && s[i] != '>' && s[i] != '(' && s[i] != ')') {
            return 0;
        }
    }
    return 1;
}

/* A quoted run at s[0]: returns its length in s (with both quotes), or 0
 * when the quote does not close on this line. */
static size_t take_quoted(const char *s, size_t end, tbuf *t, ew_cause_id *out)
{
    char q = s[0];
    const char *close = memchr(s + 1, q, end - 1);
    if (close == NULL) {
        return 0;
    }
    size_t n = (size_t)(close - (s + 1));
    const char *in = s + 1;
    put_c(t, q);
    if (memchr(in, '/', n) != NULL) {
        /* A path or a value with one (include_path): as paths are. */
        for (size_t i = 0; i < n;) {
            if (in[i] == '/' &&
                (i == 0 || in[i - 1] == ':' || in[i - 1] == '=' || is_space(in[i - 1]))) {
                i += take_path(in + i, n - i, t, out);
            } else if (is_digit(in[i]) && (i == 0 || !is_word(in[i - 1]))) {
                i += take_number(in + i, n - i);
                put_c(t, '#');
            } else {
                put_c(t, in[i]);
                i++;
            }
        }
    } else if (is_code(in, n)) {
        put(t, in, n);
    } else {
        put_c(t, '*');
    }
    put_c(t, q);
    return n + 2;
}

/* A URL: its scheme and path, without the host's address or the query. */
static size_t take_url(const char *s, size_t end, tbuf *t)
{
    size_t n = 0;
    while (n < end && !path_end(s[n])) {
        n++;
    }
    const char *scheme_end = strstr(s, "://");
    size_t host = (size_t)(scheme_end - s) + 3;
    put(t, s, host);
    size_t i = host;
    while (i < n && s[i] != '/' && s[i] != '?') {
        i++;
    }
    put_c(t, '#');
    size_t path = i;
    while (i < n && s[i] != '?') {
        i++;
    }
    put(t, s + path, i - path);
    return n;
}

static int starts_url(const char *s, size_t end)
{
    if (memchr(s, ':', end < 11 ? end : 11) == NULL) {
        return 0; /* most words: no scheme's colon in reach */
    }
    size_t i = 0;
    while (i < end && i < 10 && is_alpha(s[i])) {
        i++;
    }
    return i > 0 && i + 3 <= end && strncmp(s + i, "://", 3) == 0;
}

static void normalise(const char *s, size_t end, tbuf *t, ew_cause_id *out)
{
    size_t i = 0;
    while (i < end && !t->full) {
        char c = s[i];
        char prev = ' ';
        if (i > 0) {
            prev = s[i - 1];
        }
        int token_start = !is_word(prev) && prev != '.' && prev != '-';
        if (is_space(c)) {
            while (i < end && is_space(s[i])) {
                i++;
            }
            if (t->len > 0 && i < end) {
                put_c(t, ' ');
            }
        } else if (c == '/' && (token_start || prev == ':') && prev != '/') {
            i += take_path(s + i, end - i, t, out);
        } else if ((c == '\'' || c == '"') && !is_word(prev)) {
            size_t n = take_quoted(s + i, end - i, t, out);
            if (n == 0) {
                put_c(t, c);
                i++;
            } else {
                i += n;
            }
        } else if (is_digit(c) && token_start) {
            i += take_number(s + i, end - i);
            put_c(t, '#');
        } else if (is_alpha(c) && token_start && starts_url(s + i, end - i)) {
            i += take_url(s + i, end - i, t);
        } else if (is_word(c)) {
            i += take_word(s + i, end - i, t);
        } else {
            put_c(t, c);
            i++;
        }
    }
}

/* The innermost frame of a Python traceback in the story:
 *   File "/srv/app.py", line 12, in application */
static void python_frame(const char *story, ew_cause_id *out)
{
    static const char marker[] = "File \"/";
    const char *last = NULL;
    for (const char *p = strstr(story, marker); p != NULL; p = strstr(p + 1, marker)) {
        last = p;
    }
    if (last != NULL) {
        const char *path = last + sizeof(marker) - 2;
        const char *close = strchr(path, '"');
        if (close != NULL) {
            add_named(out, path, (size_t)(close - path));
        }
    }
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void ew_cause_fingerprint(const char *message, const char *story, int status, int crash_signal,
                          const char *handler, const char *file, ew_cause_id *out)
{
    out->key = 0;
    out->named_len = 0;
    out->title[0] = '\0';
    char buf[EW_CAUSE_TEMPLATE_MAX + 8];
    tbuf t = {buf, 0, sizeof(buf) - 1, 0};

    if (status == 0 && crash_signal != 0) {
        char label[EW_SIGNAL_LABEL_MAX];
        put(&t, "crash ", 6);
        const char *sig = ew_signal_label(crash_signal, label);
        put(&t, sig, strlen(sig));
        if (handler != NULL && handler[0] != '\0') {
            put(&t, " in ", 4);
            put(&t, handler, strlen(handler));
        }
    } else {
        int quoted;
        const char *line = unwrap(message != NULL ? message : "", &quoted);
        size_t end = first_line(line);
        while (end > 0 && is_space(line[end - 1])) {
            end--;
        }
        if (quoted && end > 0 && line[end - 1] == '\'') {
            end--;
        }
        normalise(line, end, &t, out);
        if (t.len == 0) {
            char head[48];
            int n = snprintf(head, sizeof(head), "HTTP %d, nothing logged", status);
            put(&t, head, n > 0 ? (size_t)n : 0);
            if (file != NULL && file[0] == '/') {
                add_named(out, file, strnlen(file, EW_FILE_MAX));
            }
        } else if (out->named_len == 0 && story != NULL) {
            python_frame(story, out);
        }
    }
    size_t len = t.len;
    if (len > EW_CAUSE_TEMPLATE_MAX - 1) {
        len = EW_CAUSE_TEMPLATE_MAX - 1;
    }
    if (len > 0 && len < t.len) {
        buf[t.len] = '\0';
        len = ew_utf8_cut(buf, len);
    }
    memcpy(out->title, buf, len);
    out->title[len] = '\0';

    uint64_t h = fnv(1469598103934665603ull, out->title, len + 1);
    for (uint32_t i = 0; i < out->named_len; i++) {
        h = fnv(h, out->named[i], strlen(out->named[i]) + 1);
    }
    out->key = h != 0 ? h : 1;
}

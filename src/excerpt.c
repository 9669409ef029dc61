/*
 * A failing page's own words (include/ew_excerpt.h): a small streaming
 * reader of HTML that keeps the first heading, the title and the first
 * visible text. It is not an HTML parser; it only has to find words a
 * person would read on an error page, and never to overrun its buffers on
 * any input.
 */
#include <string.h>

#include "ew_excerpt.h"

enum {
    MODE_TEXT,
    MODE_TAG_OPEN, /* after '<' */
    MODE_TAG_NAME,
    MODE_TAG_REST, /* attributes, up to '>' */
    MODE_BANG,     /* after "<!" */
    MODE_COMMENT,  /* inside <!-- --> */
    MODE_DECL,     /* <!DOCTYPE ...> and the like, up to '>' */
    MODE_ENTITY    /* after '&' */
};

enum { SKIP_NONE, SKIP_SCRIPT, SKIP_STYLE };

void ew_excerpt_init(ew_excerpt *e, int html)
{
    memset(e, 0, sizeof(*e));
    e->html = html != 0;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

/* Appends c to buf, collapsing whitespace (and control characters) into
 * one space, and nothing once the buffer is full. */
static void append(char *buf, uint16_t *len, unsigned char c)
{
    if (*len >= EW_EXCERPT_MAX - 1) {
        return;
    }
    if (is_space(c) || c < 0x20 || c == 0x7f) {
        if (*len > 0 && buf[*len - 1] != ' ') {
            buf[(*len)++] = ' ';
        }
        return;
    }
    buf[(*len)++] = (char)c;
}

/* A visible character: into the title, or into the text and the heading
 * being read. */
static void emit(ew_excerpt *e, unsigned char c)
{
    if (e->skip != SKIP_NONE) {
        return;
    }
    if (e->in_title) {
        append(e->title, &e->title_len, c);
        return;
    }
    append(e->text, &e->text_len, c);
    if (e->heading && !e->heading_done) {
        append(e->heading_text, &e->heading_len, c);
    }
}

static void emit_str(ew_excerpt *e, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        emit(e, (unsigned char)s[i]);
    }
}

static int name_is(const ew_excerpt *e, const char *name)
{
    size_t n = strlen(name);
    return e->name_len == n && memcmp(e->name, name, n) == 0;
}

/* Tags after which the next words are separate ones. */
static int breaks_words(const ew_excerpt *e)
{
    static const char *const blocks[] = {
        "br", "p",  "div", "li",  "tr",    "td", "th", "h1",    "h2",   "h3",      "h4",
        "h5", "h6", "hr",  "pre", "title", "ul", "ol", "table", "body", "section", "article"};
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
        if (name_is(e, blocks[i])) {
            return 1;
        }
    }
    return 0;
}

/* A whole tag was read (its name, and whether it closes). */
static void end_tag(ew_excerpt *e)
{
    if (e->skip != SKIP_NONE) {
        if (e->closing && ((e->skip == SKIP_SCRIPT && name_is(e, "script")) ||
                           (e->skip == SKIP_STYLE && name_is(e, "style")))) {
            e->skip = SKIP_NONE;
        }
        return;
    }
    if (breaks_words(e)) {
        emit(e, ' ');
    }
    if (name_is(e, "script")) {
        e->skip = e->closing ? SKIP_NONE : SKIP_SCRIPT;
    } else if (name_is(e, "style")) {
        e->skip = e->closing ? SKIP_NONE : SKIP_STYLE;
    } else if (name_is(e, "title")) {
        e->in_title = !e->closing;
    } else if (name_is(e, "h1") || name_is(e, "h2") || name_is(e, "h3")) {
        if (!e->closing && !e->heading_done) {
            e->heading = 1;
        } else if (e->closing && e->heading) {
            e->heading = 0;
            /* A heading of only tags or spaces does not count. */
            e->heading_done =
                e->heading_len > 0 && !(e->heading_len == 1 && e->heading_text[0] == ' ');
            if (!e->heading_done) {
                e->heading_len = 0;
            }
        }
    }
}

/* Writes code point cp as UTF-8 into out; returns its length, 0 if it is
 * not a character a page would show. */
static size_t utf8_encode(unsigned long cp, char out[4])
{
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* "&name;" was read (ent holds name): emits what it stands for, or the
 * text as it was when it is not an entity this knows. */
static void end_entity(ew_excerpt *e)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'},  {"lt", '<'},    {"gt", '>'},
                 {"quot", '"'}, {"apos", '\''}, {"nbsp", ' '}};
    const char *ent = e->ent;
    size_t n = e->ent_len;
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (strlen(named[i].name) == n && memcmp(named[i].name, ent, n) == 0) {
            emit(e, (unsigned char)named[i].c);
            return;
        }
    }
    if (n >= 2 && ent[0] == '#') {
        unsigned long cp = 0;
        int hex = ent[1] == 'x' || ent[1] == 'X';
        size_t i = hex ? 2 : 1;
        int ok = i < n;
        for (; ok && i < n && cp <= 0x10ffff; i++) {
            unsigned char d = (unsigned char)ent[i];
            if (d >= '0' && d <= '9') {
                cp = cp * (hex ? 16u : 10u) + (unsigned long)(d - '0');
            } else if (hex && ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')) {
                cp = cp * 16u + (unsigned long)((d | 0x20) - 'a' + 10);
            } else {
                ok = 0;
            }
        }
        char utf8[4];
        size_t len = ok ? utf8_encode(cp, utf8) : 0;
        if (len > 0) {
            emit_str(e, utf8, len);
            return;
        }
    }
    emit(e, '&');
    emit_str(e, ent, n);
    emit(e, ';');
}

/* One byte through the parser. A byte that ends a state without being
 * part of it (the '<' of "a < b", the character after "&amp" without ';')
 * goes round again in the new state. */
static void take(ew_excerpt *e, unsigned char c)
{
    for (;;) {
        switch (e->mode) {
        case MODE_TEXT:
            if (c == '<') {
                e->mode = MODE_TAG_OPEN;
            } else if (c == '&') {
                e->mode = MODE_ENTITY;
                e->ent_len = 0;
            } else {
                emit(e, c);
            }
            return;
        case MODE_ENTITY:
            if (c == ';') {
                end_entity(e);
                e->mode = MODE_TEXT;
                return;
            }
            if ((is_alnum(c) || c == '#') && e->ent_len < sizeof(e->ent)) {
                e->ent[e->ent_len++] = (char)c;
                return;
            }
            /* Not an entity: the ampersand and what followed are text. */
            emit(e, '&');
            emit_str(e, e->ent, e->ent_len);
            e->mode = MODE_TEXT;
            continue;
        case MODE_TAG_OPEN:
            e->closing = 0;
            e->name_len = 0;
            e->quote = 0;
            if (c == '/') {
                e->closing = 1;
                e->mode = MODE_TAG_NAME;
            } else if (c == '!') {
                e->mode = MODE_BANG;
                e->dashes = 0;
            } else if (c == '?') {
                e->mode = MODE_DECL;
            } else if (is_alpha(c)) {
                e->name[e->name_len++] = (char)(c | 0x20);
                e->mode = MODE_TAG_NAME;
            } else {
                /* "a < b": the '<' was text. */
                emit(e, '<');
                e->mode = MODE_TEXT;
                continue;
            }
            return;
        case MODE_TAG_NAME:
            if (is_alnum(c)) {
                if (e->name_len < sizeof(e->name)) {
                    e->name[e->name_len++] = (char)(c | 0x20);
                }
                return;
            }
            e->mode = MODE_TAG_REST;
            continue;
        case MODE_TAG_REST:
            if (e->quote != 0) {
                if (c == e->quote) {
                    e->quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                e->quote = c;
            } else if (c == '>') {
                end_tag(e);
                e->mode = MODE_TEXT;
            }
            return;
        case MODE_BANG:
            if (c == '-') {
                if (++e->dashes == 2) {
                    e->mode = MODE_COMMENT;
                    e->dashes = 0;
                }
                return;
            }
            e->mode = MODE_DECL;
            continue;
        case MODE_COMMENT:
            if (c == '-') {
                if (e->dashes < 2) {
                    e->dashes++;
                }
            } else if (c == '>' && e->dashes == 2) {
                e->mode = MODE_TEXT;
            } else {
                e->dashes = 0;
            }
            return;
        default: /* MODE_DECL */
            if (c == '>') {
                e->mode = MODE_TEXT;
            }
            return;
        }
    }
}

int ew_excerpt_feed(ew_excerpt *e, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (e->heading_done || e->scanned >= EW_EXCERPT_SCAN) {
            return 1;
        }
        e->scanned++;
        unsigned char c = (unsigned char)data[i];
        if (e->html) {
            take(e, c);
        } else {
            append(e->text, &e->text_len, c);
        }
    }
    return e->heading_done || e->scanned >= EW_EXCERPT_SCAN;
}

/* Copies buf[0, len) without its spaces at either end, cut at a UTF-8
 * boundary. */
static size_t write_trimmed(const char *buf, size_t len, char *out, size_t size)
{
    size_t start = 0;
    while (start < len && buf[start] == ' ') {
        start++;
    }
    while (len > start && buf[len - 1] == ' ') {
        len--;
    }
    size_t n = len - start < size ? len - start : size - 1;
    /* Do not end inside a UTF-8 sequence: find the last lead byte and keep
     * it only if its whole sequence fits. */
    size_t lead = n;
    while (lead > 0 && ((unsigned char)buf[start + lead - 1] & 0xc0) == 0x80) {
        lead--;
    }
    if (lead > 0) {
        unsigned char b = (unsigned char)buf[start + lead - 1];
        size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        if (lead - 1 + need > n) {
            n = lead - 1;
        }
    }
    while (n > 0 && buf[start + n - 1] == ' ') {
        n--;
    }
    memcpy(out, buf + start, n);
    out[n] = '\0';
    return n;
}

size_t ew_excerpt_write(const ew_excerpt *e, char *out, size_t size)
{
    if (size == 0) {
        return 0;
    }
    size_t n = 0;
    if (e->heading_done || e->heading_len > 0) {
        n = write_trimmed(e->heading_text, e->heading_len, out, size);
    }
    if (n == 0) {
        n = write_trimmed(e->title, e->title_len, out, size);
    }
    if (n == 0) {
        n = write_trimmed(e->text, e->text_len, out, size);
    }
    return n;
}

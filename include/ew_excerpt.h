/*
 * ew_excerpt: a failing page's own words. For a 5xx whose request logged
 * nothing (WordPress with its database down silences the mysqli warning and
 * answers "Error establishing a database connection"), the visible text of
 * the response body says why. The excerpt is the page's first heading, else
 * its title, else its first visible text: tags stripped, <script>, <style>
 * and comments skipped, the common entities decoded, whitespace collapsed,
 * at most EW_EXCERPT_MAX - 1 bytes. Fed the body in pieces as the output
 * filter sees it, with no allocation. Plain C; never includes httpd.h.
 */
#ifndef EW_EXCERPT_H
#define EW_EXCERPT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes an excerpt may hold, with its NUL. */
#define EW_EXCERPT_MAX 201
/* Body bytes examined at most: a heading or text further down is not worth
 * reading a large page for. */
#define EW_EXCERPT_SCAN 16384

/* What the excerpt's message starts with in the record, to say that the
 * words are the page's, not the error log's. */
#define EW_EXCERPT_MARK "[response body] "

typedef struct ew_excerpt {
    uint32_t scanned; /* body bytes fed so far */
    uint8_t html;     /* parse markup (else the body is plain text) */
    uint8_t mode;     /* where the parser is: text, a tag, a comment, ... */
    uint8_t closing;  /* the tag being read is a closing tag */
    uint8_t quote;    /* inside a quoted attribute value: its quote */
    uint8_t in_title;
    uint8_t heading; /* inside the first h1..h3 */
    uint8_t heading_done;
    uint8_t skip;   /* inside <script> or <style>: 1 or 2 */
    uint8_t dashes; /* comment parsing: dashes seen in a row */
    uint8_t name_len;
    uint8_t ent_len;
    char name[12]; /* the tag name, lowercase (cut) */
    char ent[12];  /* an entity being read, after '&' */
    uint16_t title_len, heading_len, text_len;
    char title[EW_EXCERPT_MAX];
    char heading_text[EW_EXCERPT_MAX];
    char text[EW_EXCERPT_MAX];
} ew_excerpt;

/* Starts an excerpt; html: the body is markup (text/html, application/xhtml
 * and the like), else plain text. */
void ew_excerpt_init(ew_excerpt *e, int html);

/* Feeds the next len bytes of the body. Returns 1 once nothing more is
 * wanted (a heading was read whole, or EW_EXCERPT_SCAN bytes were fed). */
int ew_excerpt_feed(ew_excerpt *e, const char *data, size_t len);

/* Writes the excerpt (the heading, else the title, else the first text)
 * into out, NUL-terminated and cut at a UTF-8 boundary; returns its length,
 * 0 if the page had no visible text. */
size_t ew_excerpt_write(const ew_excerpt *e, char *out, size_t size);

#endif

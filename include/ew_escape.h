/*
 * ew_escape: escaping for every output format. Each function appends the
 * escaped form of a NUL-terminated string to a buffer. NULL is treated as "".
 */
#ifndef EW_ESCAPE_H
#define EW_ESCAPE_H

#include "ew_buf.h"

/* HTML text and attribute values: & < > " ' become entities; control
 * characters other than tab become U+FFFD. */
void ew_escape_html(ew_buf *b, const char *s);
/* The same for the first n bytes of s (or up to its NUL). */
void ew_escape_html_n(ew_buf *b, const char *s, size_t n);

/* A JSON string with its quotes. Invalid UTF-8 becomes U+FFFD so that the
 * document stays valid whatever bytes a file name holds. */
void ew_escape_json(ew_buf *b, const char *s);

/* A value for a "Key: value" line of ?auto: CR, LF and other control
 * characters become spaces so one value never spans two lines. */
void ew_escape_line(ew_buf *b, const char *s);

/* A Prometheus / OpenMetrics label value, without the surrounding quotes:
 * backslash, double quote and newline become \\, \" and \n; other control
 * characters (CR, tab, DEL, ...) and bytes that are not strict UTF-8 become
 * U+FFFD, so a sample always stays on one well-formed line. */
void ew_escape_prom_label(ew_buf *b, const char *s);

/* A field of a ?tail text line. Control characters (tab, CR, LF, ...),
 * DEL, backslash, double quote and every byte that is not strict UTF-8
 * become \xHH (quoted: backslash and quote become \\ and \"), so that a
 * failure is always one line whose fields split on spaces. Unquoted, a
 * space becomes \x20 and "" (or NULL) prints as "-"; quoted, the value is
 * wrapped in double quotes. */
void ew_escape_tail_field(ew_buf *b, const char *s, int quoted);

#endif

/*
 * ew_story: a failing request's error story, the error-log lines it (and its
 * internal-redirect chain) produced, in order, within a fixed budget. When
 * there are more, the first lines (what happened) and the last ones (where
 * it ended) are kept and the cut is marked; the most severe line survives
 * any cut. The builder is filled by the error_log hook without allocating
 * (it lives in the worker thread's own memory) and written out once, when
 * the failure is recorded. Plain C; never includes httpd.h.
 */
#ifndef EW_STORY_H
#define EW_STORY_H

#include <stddef.h>
#include <stdint.h>

/* What a recorded story may hold (bytes, lines joined by '\n'). A PHP fatal
 * with its stack trace (one line with Apache's \n escapes), or a 15-frame
 * Python traceback (about 32 lines of 60 to 100 bytes), fits whole. */
#define EW_STORY_MAX 3072
/* The builder keeps the first EW_STORY_HEAD lines and the last
 * EW_STORY_TAIL, each cut at EW_STORY_LINE_MAX bytes. */
#define EW_STORY_HEAD 8
#define EW_STORY_TAIL 40
#define EW_STORY_LINE_MAX 240

typedef struct ew_story_builder {
    uint64_t id;       /* which request owns it (the glue's claim ticket) */
    uint32_t added;    /* lines offered since the reset */
    uint32_t head_len; /* lines in head */
    uint32_t tail_len; /* lines in the tail ring */
    uint32_t tail_next;
    int worst_level;                 /* the most severe level seen (lower is worse), -1: none */
    uint32_t worst_at;               /* its position among the lines offered */
    uint32_t tail_at[EW_STORY_TAIL]; /* each tail line's position */
    char worst[EW_STORY_LINE_MAX];
    char head[EW_STORY_HEAD][EW_STORY_LINE_MAX];
    char tail[EW_STORY_TAIL][EW_STORY_LINE_MAX];
} ew_story_builder;

/* Empties the builder (its id is left alone). */
void ew_story_reset(ew_story_builder *b);

/* Offers one line at an APLOG-style level (0 most severe). A raw line
 * break or carriage return inside it is stored as the two characters \n or
 * \r, so a line stays one line; a line longer than EW_STORY_LINE_MAX is cut
 * at a UTF-8 boundary. */
void ew_story_add(ew_story_builder *b, int level, const char *line);

/* Copies line into dst (EW_STORY_LINE_MAX bytes) as one story line: a
 * raw line break or carriage return becomes the two characters \n or \r,
 * and a line too long is cut, never inside an escape or a UTF-8
 * character. Returns the length. */
size_t ew_story_line(char *dst, const char *line);

/* Writes the story into out (size bytes, NUL-terminated): the lines in
 * order joined by '\n'; if lines were dropped, a marker line
 * "[... N lines cut ...]" where they were, followed by the most severe line
 * when it was among them. If that is longer than size, lines are dropped
 * from the middle (the oldest tail lines first) until it fits, and the
 * marker counts them too. Returns the length written (0 for no lines). */
size_t ew_story_write(const ew_story_builder *b, char *out, size_t size);

#endif

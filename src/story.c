/*
 * A failing request's error story (include/ew_story.h): the first
 * EW_STORY_HEAD lines, a ring of the last EW_STORY_TAIL, and the most
 * severe line on the side, so that a cut can never lose it.
 */
#include <stdio.h>
#include <string.h>

#include "ew_store.h"
#include "ew_story.h"

void ew_story_reset(ew_story_builder *b)
{
    b->added = 0;
    b->head_len = 0;
    b->tail_len = 0;
    b->tail_next = 0;
    b->worst_level = -1;
    b->worst_at = 0;
    b->worst[0] = '\0';
}

/* line into dst (EW_STORY_LINE_MAX), raw \n and \r as two characters. */
size_t ew_story_line(char *dst, const char *line)
{
    const size_t room = EW_STORY_LINE_MAX - 1;
    size_t n = 0;
    const char *p = line;
    /* Every byte read gives at least one byte out, so no more than room + 1
     * of the line can matter; memchr over a known length is several times
     * faster than strcspn over the whole line (every failure's lines pass
     * here). */
    size_t left = strnlen(line, room + 1);
    while (left > 0 && n < room) {
        const char *nl = memchr(p, '\n', left);
        const char *cr = memchr(p, '\r', nl != NULL ? (size_t)(nl - p) : left);
        const char *stop = cr != NULL ? cr : nl;
        size_t run = stop != NULL ? (size_t)(stop - p) : left;
        if (run > room - n) {
            size_t take = ew_utf8_cut(p, room - n); /* never half a character */
            memcpy(dst + n, p, take);
            n += take;
            break;
        }
        if (run > 0) {
            memcpy(dst + n, p, run);
            n += run;
            p += run;
            left -= run;
            continue;
        }
        if (n + 2 > room) {
            break; /* never half an escape */
        }
        dst[n++] = '\\';
        dst[n++] = *p == '\n' ? 'n' : 'r';
        p++;
        left--;
    }
    dst[n] = '\0';
    return n;
}

void ew_story_add(ew_story_builder *b, int level, const char *line)
{
    if (line == NULL) {
        return;
    }
    uint32_t at = b->added++;
    char *kept;
    size_t kept_len;
    if (b->head_len < EW_STORY_HEAD) {
        kept = b->head[b->head_len++];
        kept_len = ew_story_line(kept, line);
    } else {
        kept = b->tail[b->tail_next];
        kept_len = ew_story_line(kept, line);
        b->tail_at[b->tail_next] = at;
        b->tail_next = (b->tail_next + 1) % EW_STORY_TAIL;
        if (b->tail_len < EW_STORY_TAIL) {
            b->tail_len++;
        }
    }
    /* The most severe, the last of them on ties: as the single message.
     * A copy of the line just kept, already escaped and cut. */
    if (b->worst_level < 0 || level <= b->worst_level) {
        b->worst_level = level;
        b->worst_at = at;
        memcpy(b->worst, kept, kept_len + 1);
    }
}

/* The i-th oldest line in the tail ring. */
static uint32_t tail_slot(const ew_story_builder *b, uint32_t i)
{
    return (b->tail_next + EW_STORY_TAIL - b->tail_len + i) % EW_STORY_TAIL;
}

/* Length of the story with the tail's first `skip` lines dropped. */
static size_t story_len(const ew_story_builder *b, uint32_t head, uint32_t skip, char *marker,
                        size_t marker_size, int *worst_shown)
{
    size_t len = 0;
    uint32_t lines = 0;
    for (uint32_t i = 0; i < head; i++) {
        len += strlen(b->head[i]) + 1;
        lines++;
    }
    uint32_t kept_tail = b->tail_len - skip;
    uint32_t cut = b->added - head - kept_tail;
    int worst_kept = b->worst_level < 0 || b->worst_at < head;
    for (uint32_t i = skip; i < b->tail_len; i++) {
        uint32_t s = tail_slot(b, i);
        len += strlen(b->tail[s]) + 1;
        worst_kept = worst_kept || b->tail_at[s] == b->worst_at;
    }
    marker[0] = '\0';
    *worst_shown = 0;
    if (cut > 0) {
        (void)snprintf(marker, marker_size, "[... %u line%s cut ...]", (unsigned)cut,
                       cut == 1 ? "" : "s");
        len += strlen(marker) + 1;
        if (!worst_kept) {
            len += strlen(b->worst) + 1;
            *worst_shown = 1;
        }
    }
    return len; /* one '\n' too many: room for the NUL */
}

static char *put(char *p, const char *line, int *first)
{
    if (!*first) {
        *p++ = '\n';
    }
    *first = 0;
    size_t n = strlen(line);
    memcpy(p, line, n + 1); /* the NUL is overwritten by the next line, or kept */
    return p + n;
}

size_t ew_story_write(const ew_story_builder *b, char *out, size_t size)
{
    if (size == 0) {
        return 0;
    }
    out[0] = '\0';
    if (b->added == 0) {
        return 0;
    }
    char marker[64];
    int worst_shown = 0;
    uint32_t head = b->head_len;
    uint32_t skip = 0;
    /* Drop from the middle until it fits: the oldest tail lines, then the
     * last head lines (the first line always stays). */
    size_t need;
    while ((need = story_len(b, head, skip, marker, sizeof(marker), &worst_shown)) > size) {
        if (skip < b->tail_len) {
            skip++;
        } else if (head > 1) {
            head--;
        } else {
            break;
        }
    }
    char *p = out;
    int first = 1;
    if (need > size) {
        /* Even one line and the marker are too long: the first line, cut. */
        ew_copy_field(out, size, b->head[0]);
        return strlen(out);
    }
    for (uint32_t i = 0; i < head; i++) {
        p = put(p, b->head[i], &first);
    }
    if (marker[0] != '\0') {
        p = put(p, marker, &first);
        if (worst_shown) {
            p = put(p, b->worst, &first);
        }
    }
    for (uint32_t i = skip; i < b->tail_len; i++) {
        p = put(p, b->tail[tail_slot(b, i)], &first);
    }
    *p = '\0';
    return (size_t)(p - out);
}

/*
 * The error-story builder: any lines at any levels, written into any
 * budget. The story is NUL-terminated within the budget, has no carriage
 * return, at most the kept lines plus a marker and the most severe line,
 * starts with the first line offered, and, whenever lines were cut and the
 * budget holds it, carries the most severe line whole.
 * Input: a budget byte, then records of a level byte and a line, each
 * ended by a zero byte.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_story.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ew_story_builder b;
static char out[EW_STORY_MAX + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t budget = data[0] == 0 ? EW_STORY_MAX : (size_t)data[0] * 12;
    if (budget > EW_STORY_MAX) {
        budget = EW_STORY_MAX;
    }
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    ew_story_reset(&b);
    char first[EW_STORY_LINE_MAX] = "";
    size_t at = 0;
    while (at + 1 < size) {
        int level = (unsigned char)copy[at] % 8;
        const char *line = copy + at + 1;
        if (b.added == 0) {
            ew_story_add(&b, level, line);
            memcpy(first, b.head[0], sizeof(first));
        } else {
            ew_story_add(&b, level, line);
        }
        at += 1 + strlen(line) + 1;
    }
    size_t n = ew_story_write(&b, out, budget);
    FZ_CHECK(n < budget && n == strlen(out), out);
    FZ_CHECK(strchr(out, '\r') == NULL, out);
    uint32_t lines = n > 0 ? 1 : 0;
    for (const char *p = out; *p != '\0'; p++) {
        lines += *p == '\n';
    }
    FZ_CHECK(lines <= EW_STORY_HEAD + EW_STORY_TAIL + 2, out);
    FZ_CHECK(b.added == 0 || strncmp(out, first, strcspn(out, "\n")) == 0, out);
    if (b.added > 0 && budget == EW_STORY_MAX) {
        /* Every kept line fits 3 KB only partly; but the worst line is
         * never what a cut drops. */
        int found = 0;
        size_t wl = strlen(b.worst);
        for (const char *p = out; p != NULL; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
            if (strncmp(p, b.worst, wl) == 0 && (p[wl] == '\n' || p[wl] == '\0')) {
                found = 1;
                break;
            }
        }
        FZ_CHECK(found, out);
    }
    free(copy);
    return 0;
}

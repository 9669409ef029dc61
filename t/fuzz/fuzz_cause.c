/*
 * Cause fingerprints: any message and story. The key is never 0 and the
 * same for the same input; the title is NUL-terminated inside its bound
 * and valid UTF-8 whenever the message was; at most EW_CAUSE_NAMED_MAX
 * named files, each an absolute path inside its bound. Input: a status
 * byte, then the message, a zero byte, and the story.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_cause.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ew_cause_id a;
static ew_cause_id b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int status = data[0] < 8 ? 0 : 500 + data[0] % 100;
    int signal = status == 0 ? data[0] + 1 : 0;
    char *copy = malloc(size + 1);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    copy[size] = '\0';
    const char *message = copy;
    size_t mlen = strlen(message);
    const char *story = mlen + 1 < size ? copy + mlen + 1 : NULL;
    ew_cause_fingerprint(message, story, status, signal, "handler", message, &a);
    ew_cause_fingerprint(message, story, status, signal, "handler", message, &b);
    FZ_CHECK(a.key != 0, a.title);
    FZ_CHECK(a.key == b.key && strcmp(a.title, b.title) == 0, a.title);
    size_t n = strnlen(a.title, sizeof(a.title));
    FZ_CHECK(n < sizeof(a.title), "title not terminated");
    FZ_CHECK(!fz_utf8_valid(message, mlen) || fz_utf8_valid(a.title, n), a.title);
    FZ_CHECK(a.named_len <= EW_CAUSE_NAMED_MAX, a.title);
    for (uint32_t i = 0; i < a.named_len; i++) {
        FZ_CHECK(strnlen(a.named[i], EW_FILE_MAX) < EW_FILE_MAX, "named not terminated");
        FZ_CHECK(a.named[i][0] == '/', a.named[i]);
        FZ_CHECK(strcmp(a.named[i], b.named[i]) == 0, a.named[i]);
    }
    free(copy);
    return 0;
}

/*
 * The page excerpt: any body, fed in pieces of any sizes, as html or plain
 * text. The excerpt fits its buffer, is NUL-terminated at its length, has no
 * control character, no space at either end and never two spaces in a row.
 * Input: a flags byte (bit 0: html; the rest: the piece size), then the
 * body.
 */
#include <string.h>

#include "ew_excerpt.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ew_excerpt e;
static char out[EW_EXCERPT_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    ew_excerpt_init(&e, data[0] & 1);
    size_t piece = (size_t)(data[0] >> 1) + 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    for (size_t at = 0; at < len; at += piece) {
        if (ew_excerpt_feed(&e, body + at, len - at < piece ? len - at : piece)) {
            break;
        }
    }
    size_t n = ew_excerpt_write(&e, out, sizeof(out));
    FZ_CHECK(n < sizeof(out) && n == strlen(out), out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        FZ_CHECK(c >= 0x20 && c != 0x7f, out);
        FZ_CHECK(c != ' ' || (i > 0 && i + 1 < n && out[i - 1] != ' '), out);
    }
    /* A smaller buffer gets a prefix of the same excerpt. */
    char small[17];
    size_t m = ew_excerpt_write(&e, small, sizeof(small));
    FZ_CHECK(m < sizeof(small) && m <= n && strncmp(small, out, m) == 0, small);
    return 0;
}

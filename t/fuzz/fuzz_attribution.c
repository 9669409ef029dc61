/*
 * ew_normalize_target and ew_message_focus on fuzzed file names, handler
 * names and error-log lines. Outputs stay inside their fields and come from
 * the input: the file is a prefix of the file name or, for a proxy target,
 * its path without query or fragment; the handler is a prefix of the
 * handler or "proxy:<scheme>"; the focus is a suffix of the line.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_attribution.h"
#include "fuzz_support.h"

/* The field with one guard byte after it. */
static char *field(size_t size)
{
    char *f = malloc(size + 1);
    if (f == NULL) {
        abort();
    }
    memset(f, 'G', size + 1);
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    apr_pool_t *p = fz_begin();
    size_t file_size = 1 + fz_u8(&r) % EW_FILE_MAX;
    size_t handler_size = 1 + fz_u8(&r) % EW_HANDLER_MAX;
    int null_handler = fz_u8(&r) == 0;
    const char *filename = fz_pstr(&r, p, 2048);
    const char *handler = null_handler ? NULL : fz_pstr(&r, p, 256);
    const char *line = fz_pstr(&r, p, 4096);

    char *file_out = field(file_size);
    char *handler_out = field(handler_size);
    ew_normalize_target(filename, handler, file_out, file_size, handler_out, handler_size);
    FZ_CHECK(file_out[file_size] == 'G' && handler_out[handler_size] == 'G', filename);
    size_t fn = strnlen(file_out, file_size);
    size_t hn = strnlen(handler_out, handler_size);
    FZ_CHECK(fn < file_size && hn < handler_size, filename);

    int proxied = strncmp(filename, "proxy:", 6) == 0 && strstr(filename, "://") != NULL;
    if (strncmp(file_out, filename, fn) != 0) {
        /* Only a proxy target's path may differ from the name's prefix. */
        FZ_CHECK(proxied && strstr(filename, file_out) != NULL, file_out);
        FZ_CHECK(strpbrk(file_out, "?#") == NULL, file_out);
    }
    int handler_prefix = handler != NULL ? strncmp(handler_out, handler, hn) == 0 : hn == 0;
    FZ_CHECK(handler_prefix || strncmp(handler_out, "proxy:", hn < 6 ? hn : 6) == 0, handler_out);
    free(file_out);
    free(handler_out);

    const char *focus = ew_message_focus(line);
    size_t len = strlen(line);
    FZ_CHECK(focus >= line && focus <= line + len, line);
    if (len < EW_MESSAGE_MAX) {
        FZ_CHECK(focus == line, line);
    }
    FZ_CHECK(ew_message_focus(NULL) != NULL && ew_message_focus(NULL)[0] == '\0', NULL);
    fz_end(p);
    return 0;
}

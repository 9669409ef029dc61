/*
 * ew_query_parse on any query string: it answers 0 with a renderable kind
 * or -1 with EW_QUERY_INVALID (the status handler's 200 or 400), the same
 * way every time, and never reads past the terminator (the string is an
 * exact-size heap copy, so ASan would see it).
 */
#include <stdlib.h>
#include <string.h>

#include "ew_query.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args = malloc(size + 1);
    if (args == NULL) {
        return 0;
    }
    memcpy(args, data, size);
    args[size] = '\0';

    ew_query q, again;
    memset(&q, 0xA5, sizeof(q));
    int rc = ew_query_parse(args, &q);
    FZ_CHECK(rc == 0 || rc == -1, args);
    FZ_CHECK((rc == -1) == (q.kind == EW_QUERY_INVALID), args);
    /* Set, not left as the 0xA5 filler (the enum may grow, hence no upper name). */
    FZ_CHECK((unsigned)q.kind < 64, args);
    /* The HTML page: an empty query, or only its own refresh= and sort=. */
    if (args[0] == '\0') {
        FZ_CHECK(q.kind == EW_QUERY_HTML, args);
    } else if (q.kind == EW_QUERY_HTML) {
        for (const char *p = args; p != NULL; p = strchr(p, '&'), p = p != NULL ? p + 1 : NULL) {
            FZ_CHECK(strncmp(p, "refresh=", 8) == 0 || strncmp(p, "sort=", 5) == 0, args);
        }
        FZ_CHECK(q.refresh <= 3600, args);
    }
    if (q.kind == EW_QUERY_HISTORY || (q.kind == EW_QUERY_JSON && q.history_minutes != 0)) {
        FZ_CHECK(q.history_minutes == 60 || q.history_minutes == 360 || q.history_minutes == 1440,
                 args);
    }

    memset(&again, 0x5A, sizeof(again));
    FZ_CHECK(ew_query_parse(args, &again) == rc && again.kind == q.kind, args);

    /* The 400's body is one line. */
    const char *nl = strchr(ew_query_valid_forms, '\n');
    FZ_CHECK(nl != NULL && nl[1] == '\0', ew_query_valid_forms);
    free(args);
    return 0;
}

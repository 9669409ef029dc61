/*
 * Parsing of the status URL's query string. Each format is a bare word,
 * optionally followed by "=": Prometheus builds the query from its params
 * map and always writes the "=".
 */
#include <string.h>

#include "ew_query.h"

const char ew_query_valid_forms[] = "valid queries: none (HTML), ?auto (mod_status format), "
                                    "?json (JSON), ?metrics (Prometheus/OpenMetrics)\n";

/* "name" or "name=". */
static int query_is(const char *args, const char *name)
{
    size_t n = strlen(name);
    return strncmp(args, name, n) == 0 && (args[n] == '\0' || strcmp(args + n, "=") == 0);
}

int ew_query_parse(const char *args, ew_query *out)
{
    static const struct {
        const char *name;
        ew_query_kind kind;
    } forms[] = {
        {"auto", EW_QUERY_AUTO},
        {"json", EW_QUERY_JSON},
        {"metrics", EW_QUERY_METRICS},
    };
    if (args == NULL || args[0] == '\0') {
        out->kind = EW_QUERY_HTML;
        return 0;
    }
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        if (query_is(args, forms[i].name)) {
            out->kind = forms[i].kind;
            return 0;
        }
    }
    out->kind = EW_QUERY_INVALID;
    return -1;
}

/*
 * Accept header reading for ?metrics. Plain C: no httpd.h, so the unit tests
 * cover it. Only the question the status URL asks is answered: is
 * application/openmetrics-text listed with a q above zero?
 */
#include <ctype.h>
#include <stddef.h>
#include <strings.h>

#include "ew_accept.h"

static const char OPENMETRICS[] = "application/openmetrics-text";

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

static const char *trim_end(const char *start, const char *end)
{
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    return end;
}

/* A qvalue is 0 only if it is "0" optionally followed by "." and zeros
 * (RFC 9110 grammar). Anything else, malformed values included, counts as
 * acceptable, as if no q were given. */
static int qvalue_is_zero(const char *p, const char *end)
{
    if (p >= end || *p != '0') {
        return 0;
    }
    p++;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p == '0') {
            p++;
        }
    }
    return p == end;
}

/* One media range, [start, end): "type/subtype *( ; param )". */
static int range_wants_openmetrics(const char *start, const char *end)
{
    const char *p = skip_space(start, end);
    const char *type_end = p;
    while (type_end < end && *type_end != ';') {
        type_end++;
    }
    const char *type_last = trim_end(p, type_end);
    size_t len = (size_t)(type_last - p);
    if (len != sizeof(OPENMETRICS) - 1 || strncasecmp(p, OPENMETRICS, len) != 0) {
        return 0;
    }
    p = type_end;
    while (p < end) {
        const char *param = skip_space(p + 1, end); /* past the ';' */
        const char *param_end = param;
        while (param_end < end && *param_end != ';') {
            param_end++;
        }
        const char *name_end = param;
        while (name_end < param_end && *name_end != '=') {
            name_end++;
        }
        if (trim_end(param, name_end) - param == 1 && tolower((unsigned char)*param) == 'q' &&
            name_end < param_end) {
            const char *value = skip_space(name_end + 1, param_end);
            return !qvalue_is_zero(value, trim_end(value, param_end));
        }
        p = param_end;
    }
    return 1;
}

int ew_accept_wants_openmetrics(const char *accept)
{
    if (accept == NULL) {
        return 0;
    }
    const char *p = accept;
    for (;;) {
        const char *end = p;
        while (*end != '\0' && *end != ',') {
            end++;
        }
        if (range_wants_openmetrics(p, end)) {
            return 1;
        }
        if (*end == '\0') {
            return 0;
        }
        p = end + 1;
    }
}

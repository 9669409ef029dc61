/* Helpers shared by the unit suites (declared in unit.h). */
#include <string.h>

#include "unit.h"

void set_field(char *dst, size_t size, const char *s)
{
    size_t n = strlen(s);
    ck_assert_uint_lt(n, size);
    memcpy(dst, s, n + 1);
}

size_t count_occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    size_t len = strlen(needle);
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + len, needle)) {
        n++;
    }
    return n;
}

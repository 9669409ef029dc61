/* Helpers shared by the unit suites (declared in unit.h). */
#include <string.h>

#include "unit.h"

apr_pool_t *pool;

void unit_pool_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

void unit_pool_teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

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

/* Check suites of the unit-test binary (build/unit_tests). */
#ifndef EW_UNIT_H
#define EW_UNIT_H

#include <stddef.h>

#include <check.h>

#include <apr_pools.h>

Suite *store_suite(void);
Suite *escape_suite(void);
Suite *format_suite(void);
Suite *net_suite(void);
Suite *attribution_suite(void);
Suite *metrics_suite(void);
Suite *query_suite(void);
Suite *tail_suite(void);
Suite *persist_suite(void);
Suite *accept_suite(void);
Suite *slots_suite(void);
Suite *story_suite(void);
Suite *access_suite(void);
Suite *excerpt_suite(void);
Suite *causes_suite(void);
Suite *cause_suite(void);
Suite *ids_suite(void);
Suite *ids_suite(void);

/* unit_util.c: helpers shared by the suites. */

/* A fresh pool for each test: tcase_add_checked_fixture(tc,
 * unit_pool_setup, unit_pool_teardown). */
extern apr_pool_t *pool;
void unit_pool_setup(void);
void unit_pool_teardown(void);

/* Copies s into a fixed-size field (the store's job in real use); fails the
 * test if it does not fit. */
void set_field(char *dst, size_t size, const char *s);
#define SET(field, s) set_field((field), sizeof(field), (s))

/* How many non-overlapping times needle occurs in hay. */
size_t count_occurrences(const char *hay, const char *needle);

#endif

/* Check suites of the unit-test binary (build/unit_tests). */
#ifndef EW_UNIT_H
#define EW_UNIT_H

#include <check.h>

Suite *store_suite(void);
Suite *escape_suite(void);
Suite *format_suite(void);
Suite *net_suite(void);
Suite *attribution_suite(void);
Suite *metrics_suite(void);

#endif

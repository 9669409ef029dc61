/* Runs every unit suite; the runner prints Check's summary line. */
#include <stdlib.h>

#include <apr_general.h>

#include "unit.h"

int main(void)
{
    apr_initialize();
    SRunner *runner = srunner_create(store_suite());
    srunner_add_suite(runner, escape_suite());
    srunner_add_suite(runner, format_suite());
    srunner_add_suite(runner, net_suite());
    srunner_add_suite(runner, attribution_suite());
    srunner_add_suite(runner, metrics_suite());
    srunner_add_suite(runner, query_suite());
    srunner_add_suite(runner, tail_suite());
    srunner_add_suite(runner, persist_suite());
    srunner_add_suite(runner, accept_suite());
    srunner_add_suite(runner, slots_suite());
    srunner_add_suite(runner, story_suite());
    srunner_add_suite(runner, access_suite());
    srunner_add_suite(runner, excerpt_suite());
    srunner_add_suite(runner, causes_suite());
    srunner_add_suite(runner, cause_suite());
    srunner_add_suite(runner, ids_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Unit tests of the loopback check behind the status URL's lock-down. */
#include <apr_network_io.h>
#include <apr_pools.h>

#include "ew_net.h"
#include "unit.h"

static int loopback(const char *ip, apr_int32_t family)
{
    apr_sockaddr_t *sa = NULL;
    ck_assert_int_eq(apr_sockaddr_info_get(&sa, ip, family, 80, 0, pool), APR_SUCCESS);
    return ew_sockaddr_is_loopback(sa);
}

START_TEST(loopback_addresses)
{
    ck_assert_int_eq(loopback("127.0.0.1", APR_INET), 1);
    ck_assert_int_eq(loopback("127.255.3.4", APR_INET), 1);
    ck_assert_int_eq(loopback("::1", APR_INET6), 1);
    ck_assert_int_eq(loopback("::ffff:127.0.0.1", APR_INET6), 1);
}
END_TEST

START_TEST(other_addresses)
{
    ck_assert_int_eq(loopback("10.0.0.1", APR_INET), 0);
    ck_assert_int_eq(loopback("128.0.0.1", APR_INET), 0);
    ck_assert_int_eq(loopback("0.0.0.0", APR_INET), 0);
    ck_assert_int_eq(loopback("::", APR_INET6), 0);
    ck_assert_int_eq(loopback("::2", APR_INET6), 0);
    ck_assert_int_eq(loopback("::ffff:10.0.0.1", APR_INET6), 0);
    ck_assert_int_eq(loopback("fe80::1", APR_INET6), 0);
    ck_assert_int_eq(ew_sockaddr_is_loopback(NULL), 0);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("loopback");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, loopback_addresses);
    tcase_add_test(tc, other_addresses);
    suite_add_tcase(s, tc);
    return s;
}

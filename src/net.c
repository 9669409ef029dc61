/* Loopback test on the TCP peer address (never on a header that a client or
 * a proxy could set). */
#include "ew_net.h"

#include <netinet/in.h>
#include <string.h>

int ew_sockaddr_is_loopback(const apr_sockaddr_t *sa)
{
    if (sa == NULL) {
        return 0;
    }
    if (sa->family == AF_INET) {
        const unsigned char *b = (const unsigned char *)&sa->sa.sin.sin_addr;
        return b[0] == 127;
    }
#if APR_HAVE_IPV6
    if (sa->family == AF_INET6) {
        const struct in6_addr *a = &sa->sa.sin6.sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) {
            return 1;
        }
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
#endif
    return 0;
}

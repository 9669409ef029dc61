/* ew_net: network-address checks used by the status URL's lock-down. */
#ifndef EW_NET_H
#define EW_NET_H

#include <apr_network_io.h>

/* True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8 (::ffff:127.x.y.z). */
int ew_sockaddr_is_loopback(const apr_sockaddr_t *sa);

#endif

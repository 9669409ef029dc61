/* ew_accept: reading the Accept header for the ?metrics content type. */
#ifndef EW_ACCEPT_H
#define EW_ACCEPT_H

/* True if accept (an HTTP Accept header value, may be NULL) lists
 * application/openmetrics-text with a non-zero q. A media range with q=0
 * means "not acceptable" (RFC 9110, 12.4.2), so it must not select
 * OpenMetrics. */
int ew_accept_wants_openmetrics(const char *accept);

#endif

/*
 * ew_access: who may read the status URL, the parts that need no httpd.
 * "Local only" must survive a reverse proxy on the same machine (every
 * visitor then arrives from 127.0.0.1) and DNS rebinding (a web page that
 * points its own name at 127.0.0.1). Plain C; never includes httpd.h.
 */
#ifndef EW_ACCESS_H
#define EW_ACCESS_H

/* A header that a proxy adds to say whom it forwards for: Forwarded,
 * X-Forwarded-For, X-Real-IP, X-Client-IP, True-Client-IP,
 * CF-Connecting-IP or Via (any case). A request carrying one came through
 * a proxy, so its loopback peer says nothing about the real client. */
int ew_is_forwarding_header(const char *name);

/* The Host forms any local client may use: none (HTTP/1.0), an IP literal
 * (IPv4, or IPv6 with or without brackets), or "localhost" (any case).
 * host is the name without its port, as httpd parsed it (r->hostname). */
int ew_host_is_local_form(const char *host);

/* Does host equal pattern, case-insensitively, where pattern may hold the
 * wildcards * and ? (as ServerAlias does)? */
int ew_host_matches(const char *host, const char *pattern);

#endif

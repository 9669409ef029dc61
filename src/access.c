/*
 * Who may read the status URL (include/ew_access.h): the forwarding
 * headers and the Host forms, without httpd.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "ew_access.h"

int ew_is_forwarding_header(const char *name)
{
    static const char *const names[] = {"Forwarded",   "X-Forwarded-For", "X-Real-IP",
                                        "X-Client-IP", "True-Client-IP",  "CF-Connecting-IP",
                                        "Via"};
    if (name == NULL) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int ew_host_is_local_form(const char *host)
{
    if (host == NULL || host[0] == '\0') {
        return 1;
    }
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0) {
        return 1;
    }
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        return 1;
    }
    size_t n = strlen(host);
    if (n > 2 && n < 64 && host[0] == '[' && host[n - 1] == ']') {
        char inner[64];
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        return inet_pton(AF_INET6, inner, addr) == 1;
    }
    return 0;
}

static unsigned char lower(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 'A' && u <= 'Z' ? (unsigned char)(u | 0x20u) : u;
}

int ew_host_matches(const char *host, const char *pattern)
{
    if (host == NULL || pattern == NULL) {
        return 0;
    }
    /* Iterative wildcard match: the last '*' is the only backtrack point. */
    const char *h = host;
    const char *p = pattern;
    const char *star = NULL;
    const char *resume = NULL;
    while (*h != '\0') {
        if (*p == '*') {
            star = p++;
            resume = h;
        } else if (*p != '\0' && (*p == '?' || lower(*p) == lower(*h))) {
            p++;
            h++;
        } else if (star != NULL) {
            p = star + 1;
            h = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

/* Attribution helpers: proxy targets and PHP-FPM messages (see the header). */
#include "ew_attribution.h"

#include <string.h>

#include "ew_store.h"

#define PROXY_PREFIX "proxy:"
#define UNIX_PREFIX "unix:"

/* For "proxy:[unix:/sock|]scheme://authority/path", sets *scheme (length
 * *scheme_len) and *path; returns 0 when s is not such a target. */
static int parse_proxy_target(const char *s, const char **scheme, size_t *scheme_len,
                              const char **path)
{
    if (s == NULL || strncmp(s, PROXY_PREFIX, strlen(PROXY_PREFIX)) != 0) {
        return 0;
    }
    const char *url = s + strlen(PROXY_PREFIX);
    if (strncmp(url, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0) {
        const char *bar = strchr(url, '|');
        if (bar == NULL) {
            return 0;
        }
        url = bar + 1;
    }
    const char *sep = strstr(url, "://");
    if (sep == NULL || sep == url) {
        return 0;
    }
    *scheme = url;
    *scheme_len = (size_t)(sep - url);
    const char *slash = strchr(sep + 3, '/');
    *path = slash != NULL ? slash : "";
    return 1;
}

static void copy_proxy_handler(char *out, size_t size, const char *scheme, size_t scheme_len)
{
    char buf[EW_HANDLER_MAX];
    size_t prefix = strlen(PROXY_PREFIX);
    if (scheme_len > sizeof(buf) - prefix - 1) {
        scheme_len = sizeof(buf) - prefix - 1;
    }
    memcpy(buf, PROXY_PREFIX, prefix);
    memcpy(buf + prefix, scheme, scheme_len);
    buf[prefix + scheme_len] = '\0';
    ew_copy_field(out, size, buf);
}

void ew_normalize_target(const char *filename, const char *handler, char *file_out,
                         size_t file_size, char *handler_out, size_t handler_size)
{
    const char *scheme;
    size_t scheme_len;
    const char *path;
    if (parse_proxy_target(filename, &scheme, &scheme_len, &path)) {
        /* mod_proxy_http keeps the query string in r->filename: it is not
         * part of the file, and it may carry secrets. */
        char buf[EW_FILE_MAX];
        size_t n = strcspn(path, "?#");
        if (n >= sizeof(buf)) {
            n = sizeof(buf) - 1;
        }
        memcpy(buf, path, n);
        buf[n] = '\0';
        ew_copy_field(file_out, file_size, buf);
        copy_proxy_handler(handler_out, handler_size, scheme, scheme_len);
        return;
    }
    ew_copy_field(file_out, file_size, filename);
    if (parse_proxy_target(handler, &scheme, &scheme_len, &path)) {
        copy_proxy_handler(handler_out, handler_size, scheme, scheme_len);
    } else {
        ew_copy_field(handler_out, handler_size, handler);
    }
}

const char *ew_message_focus(const char *line)
{
    static const char *const severe[] = {"PHP Fatal error:", "PHP Parse error:"};
    static const char segment[] = "PHP message: ";
    if (line == NULL) {
        return "";
    }
    /* Only worth it when something would otherwise be cut: a line that
     * fits is kept whole, without searching it. */
    if (strnlen(line, EW_MESSAGE_MAX) < EW_MESSAGE_MAX) {
        return line;
    }
    const char *best = NULL;
    for (size_t i = 0; i < sizeof(severe) / sizeof(severe[0]); i++) {
        for (const char *p = strstr(line, severe[i]); p != NULL; p = strstr(p + 1, severe[i])) {
            if (best == NULL || p > best) {
                best = p;
            }
        }
    }
    if (best == NULL) {
        return line;
    }
    /* Start at this error's own "PHP message: " label when it has one. */
    size_t seg = sizeof(segment) - 1;
    if ((size_t)(best - line) >= seg && strncmp(best - seg, segment, seg) == 0) {
        best -= seg;
    }
    return best;
}

/* "host:port" into dst, truncated like snprintf would, at a fraction of
 * its cost (every failure pays it). */
void ew_format_vhost(char *dst, size_t size, const char *host, unsigned port)
{
    if (size == 0) {
        return;
    }
    char digits[8];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + port % 10);
        port /= 10;
    } while (port != 0 && nd < sizeof(digits));
    size_t n = host != NULL ? strnlen(host, size - 1) : 0;
    memcpy(dst, host != NULL ? host : "", n);
    if (n + 1 < size) {
        dst[n++] = ':';
    }
    while (nd > 0 && n + 1 < size) {
        dst[n++] = digits[--nd];
    }
    dst[n] = '\0';
}

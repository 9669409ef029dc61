/*
 * ew_attribution: turns what httpd knows about a failed request into the
 * file, handler and message that mod_errwatch records. Pure string work, so
 * the unit tests cover every form.
 */
#ifndef EW_ATTRIBUTION_H
#define EW_ATTRIBUTION_H

#include <stddef.h>

/*
 * A proxied request's r->filename is "proxy:" + URL, e.g.
 *   proxy:fcgi://127.0.0.1:9000/var/www/x.php
 *   proxy:unix:/run/php/php-fpm.sock|fcgi://localhost/var/www/x.php
 * and its handler may be the whole SetHandler value. Both become the script
 * path ("/var/www/x.php", without any query string) and "proxy:<scheme>"
 * ("proxy:fcgi"). Anything that
 * is not a proxy target is copied unchanged. NULL inputs give "".
 */
void ew_normalize_target(const char *filename, const char *handler, char *file_out,
                         size_t file_size, char *handler_out, size_t handler_size);

/*
 * The part of an error-log line worth keeping when it will be truncated.
 * PHP-FPM's stderr reaches the log as one line,
 *   Got error 'PHP message: PHP Warning: ...; PHP message: PHP Fatal error: ...'
 * where the warning can push the fatal error past any sensible bound; this
 * returns a pointer to the last fatal or parse error's "PHP message: "
 * segment, or to the whole line when there is none.
 */
const char *ew_message_focus(const char *line);

/* "host:port" into dst (size bytes, NUL-terminated), truncated like
 * snprintf would; a NULL host is "". The vhost every record names. */
void ew_format_vhost(char *dst, size_t size, const char *host, unsigned port);

#endif

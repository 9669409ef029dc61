/*
 * The status URL skips per-directory processing, so that a front
 * controller's .htaccess (WordPress: RewriteCond !-f, !-d, RewriteRule .
 * /index.php) cannot swallow it. mod_proxy does the same for its requests.
 *
 * httpd's ap_process_request_internal() runs, in order: the location walk,
 * translate_name, then map_to_storage with the per-dir config reset to the
 * server's defaults (core's map_to_storage does the <Directory> walk, which
 * reads .htaccess, and the <Files> walk), then the location walk again,
 * which overrides whatever map_to_storage merged. So:
 *   - translate_name (first, before mod_rewrite's: capture.c's
 *     begin_request) sees the <Location> config of the first walk and notes
 *     whether it says `SetHandler errwatch`;
 *   - map_to_storage (first, capture.c's skip_directory_walk) returns OK
 *     for such a request, so core's directory walk, and with it every
 *     .htaccess, is skipped;
 *   - the second location walk puts the <Location "/errwatch"> block back,
 *     so SetHandler errwatch and Require local apply as before.
 * Per-directory rewrites run in the fixups hook from .htaccess: skipped
 * with the walk. Only <Location>-level SetHandler errwatch gets this: a
 * <Directory> or <Files> one is not known before the walk.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_request.h"

#include "ew_module.h"

int ew_status_url_configured(request_rec *r)
{
    const core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    /* One pointer test for every request outside a SetHandler block. */
    if (d->expr_handler == NULL) {
        return 0;
    }
    const char *err = NULL;
    const char *handler = ap_expr_str_exec(r, d->expr_handler, &err);
    return err == NULL && handler != NULL && strcmp(handler, EW_HANDLER_NAME) == 0;
}

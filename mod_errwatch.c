/*
 * mod_errwatch: records every 5xx response in shared memory and serves the
 * counts, the failing files and the recent failures at a status URL.
 *
 * This file is the module record and hook registration only:
 *   capture  (src/capture.c)       hooks that see every request
 *   store    (src/store.c, shm.c)  counters, file table, ring in shared memory
 *   render   (src/status_handler.c, src/status_hook.c, src/format_*.c)
 *   config   (src/config.c)
 */
#include "httpd.h"
#include "http_config.h"
#include "mpm_common.h" /* ap_hook_monitor */

#include "ew_module.h"

static void errwatch_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(ew_shm_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ew_version_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(ew_tail_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_monitor(ew_tail_monitor, NULL, NULL, APR_HOOK_MIDDLE);
    ew_capture_register_hooks(p);
    ew_crash_register_hooks();
    ew_status_hook_register();
    ew_persist_register_hooks();
}

AP_DECLARE_MODULE(errwatch) = {
    STANDARD20_MODULE_STUFF, ew_create_dir_conf, /* per-directory config */
    ew_merge_dir_conf,                           /* merge per-directory config */
    ew_create_server_conf,                       /* per-server config */
    ew_merge_server_conf,                        /* merge per-server config */
    ew_directives,                               /* directives */
    errwatch_register_hooks,                     /* hooks */
    AP_MODULE_FLAG_NONE,                         /* flags */
};

/*
 * The module's version in the Server header (mod_errwatch/x.y.z, shown only
 * as far as ServerTokens allows: ap_add_version_component honours it) and
 * in one start-up log line.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_core.h"

#include "ew_module.h"
#include "ew_version.h"

APLOG_USE_MODULE(errwatch);

int ew_version_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    ap_add_version_component(pconf, "mod_errwatch/" EW_VERSION);
    /* post_config runs twice at the first start (config check, then the real
     * run); log once per real start or restart. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "EW1401: mod_errwatch " EW_VERSION " loaded");
    }
    return OK;
}

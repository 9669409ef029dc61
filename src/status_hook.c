/*
 * mod_status integration: when mod_status is loaded, /server-status?auto
 * also carries errwatch's "Errors*" lines and the /server-status page gets a
 * short errwatch section. Registered as mod_status's optional status_hook, so
 * nothing happens when mod_status is absent.
 */
#include "httpd.h"
#include "apr_optional_hooks.h"
#include "apr_time.h"
#include "http_protocol.h"
#include "mod_status.h"

#include "ew_buf.h"
#include "ew_format.h"
#include "ew_module.h"

static int errwatch_status_hook(request_rec *r, int flags)
{
    ew_store *store = ew_shm_store();
    ew_snapshot snap;
    if (store == NULL) {
        return OK;
    }
    int short_report = (flags & AP_STATUS_SHORT) != 0;
    int with_files = !short_report && ew_client_may_see_details(r);
    int rc = with_files ? ew_store_snapshot_top(store, r->pool, apr_time_now(),
                                                EW_HTML_SECTION_FILES, 0, &snap)
                        : ew_store_summary(store, apr_time_now(), &snap);
    if (rc != 0) {
        return OK;
    }
    ew_buf out;
    ew_buf_init(&out, r->pool, 4096);
    if (short_report) {
        ew_format_auto_errors(&out, &snap);
    } else {
        /* mod_status's page is often open to a monitoring network: the
         * file rows obey the same lock-down as /errwatch. */
        ew_format_html_section(&out, &snap, with_files);
    }
    ew_write_body(r, out.data, out.len);
    return OK;
}

void ew_status_hook_register(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, errwatch_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}

/*
 * mod_errwatch_test: a test-only module that fails on demand, for the
 * integration tests in t/integration/. Never load it on a real server.
 *
 * Handlers (chosen with SetHandler):
 *   errwatch-test-500         logs "errwatch-test: deliberate failure in
 *                             handler" at APLOG_ERR and returns 500. Any
 *                             handler name that starts with
 *                             "errwatch-test-500" does the same, so tests can
 *                             give the failing handler a hostile name
 *                             (quotes, backslashes, ...).
 *   errwatch-test-status      returns the status given as the query string
 *                             (e.g. "?503", 200..599); a 5xx status logs
 *                             "errwatch-test: deliberate status N" first.
 *                             200 answers with a short text body.
 *   errwatch-test-subreq-500  runs a subrequest for the URI in the query
 *                             string (default /errwatch-test/fail), which is
 *                             expected to fail, then answers 200 with
 *                             "subrequest status N".
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "apr_strings.h"

APLOG_USE_MODULE(errwatch_test);

#define EWT_DEFAULT_SUBREQ_URI "/errwatch-test/fail"
#define EWT_FAIL_PREFIX "errwatch-test-500"

/* "errwatch-test-500" and every handler name that starts with it. */
static int ewt_is_fail_handler(const char *handler)
{
    return strncmp(handler, EWT_FAIL_PREFIX, sizeof(EWT_FAIL_PREFIX) - 1) == 0;
}

static int ewt_fail_500(request_rec *r)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "errwatch-test: deliberate failure in handler");
    return HTTP_INTERNAL_SERVER_ERROR;
}

static int ewt_status(request_rec *r)
{
    int status = 0;

    if (r->args != NULL && r->args[0] != '\0') {
        char *end = NULL;
        apr_int64_t v = apr_strtoi64(r->args, &end, 10);
        if (end != NULL && *end == '\0' && v >= 200 && v <= 599) {
            status = (int)v;
        }
    }
    if (status == 0) {
        return HTTP_BAD_REQUEST;
    }
    if (status >= 500) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "errwatch-test: deliberate status %d", status);
    }
    if (status != HTTP_OK) {
        return status;
    }
    ap_set_content_type(r, "text/plain");
    if (!r->header_only) {
        ap_rputs("errwatch-test: ok\n", r);
    }
    return OK;
}

static int ewt_subreq(request_rec *r)
{
    const char *uri = EWT_DEFAULT_SUBREQ_URI;
    request_rec *sub;
    int rc;

    if (r->args != NULL && r->args[0] == '/') {
        uri = r->args;
    }
    sub = ap_sub_req_lookup_uri(uri, r, r->output_filters);
    rc = sub->status == HTTP_OK ? ap_run_sub_req(sub) : sub->status;
    if (rc == OK) {
        rc = sub->status;
    }
    ap_destroy_sub_req(sub);

    ap_set_content_type(r, "text/plain");
    if (!r->header_only) {
        ap_rprintf(r, "subrequest status %d\n", rc);
    }
    return OK;
}

static int ewt_handler(request_rec *r)
{
    if (r->handler == NULL) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        /* GET covers HEAD too. */
        if (ewt_is_fail_handler(r->handler) || strcmp(r->handler, "errwatch-test-status") == 0 ||
            strcmp(r->handler, "errwatch-test-subreq-500") == 0) {
            return HTTP_METHOD_NOT_ALLOWED;
        }
        return DECLINED;
    }
    if (ewt_is_fail_handler(r->handler)) {
        return ewt_fail_500(r);
    }
    if (strcmp(r->handler, "errwatch-test-status") == 0) {
        return ewt_status(r);
    }
    if (strcmp(r->handler, "errwatch-test-subreq-500") == 0) {
        return ewt_subreq(r);
    }
    return DECLINED;
}

static void ewt_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(ewt_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA errwatch_test_module = {
    STANDARD20_MODULE_STUFF,
    NULL,               /* per-directory config creator */
    NULL,               /* per-directory config merger */
    NULL,               /* per-server config creator */
    NULL,               /* per-server config merger */
    NULL,               /* command table */
    ewt_register_hooks, /* hook registration */
    AP_MODULE_FLAG_NONE /* flags */
};

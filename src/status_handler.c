/*
 * The status URL (`SetHandler errwatch`): picks the format from the query,
 * takes a snapshot of the store and hands both to a formatter. The store's
 * lock is held only while the snapshot is copied, never while rendering.
 */
#include <string.h>

#include "httpd.h"
#include "apr_strings.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "ew_accept.h"
#include "ew_buf.h"
#include "ew_format.h"
#include "ew_module.h"
#include "ew_net.h"
#include "ew_query.h"

APLOG_USE_MODULE(errwatch);

#define CONTENT_TYPE_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

void ew_write_body(request_rec *r, const char *data, size_t len)
{
    /* ap_rwrite takes an int: write huge pages (a million hostile file
     * names) in pieces. */
    const size_t piece = (size_t)1 << 30;
    while (len > 0) {
        size_t n = len < piece ? len : piece;
        if (ap_rwrite(data, (int)n, r) < 0) {
            return; /* the client went away */
        }
        data += n;
        len -= n;
    }
}

static int send_text(request_rec *r, int status, const char *content_type, const char *body,
                     size_t len)
{
    r->status = status;
    ap_set_content_type(r, content_type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ew_write_body(r, body, len);
    }
    return OK;
}

/* Prometheus asks for OpenMetrics first in its Accept header; anything
 * that does not accept it (absent, or listed with q=0) gets the classic
 * text format. */
static int wants_openmetrics(const request_rec *r)
{
    return ew_accept_wants_openmetrics(apr_table_get(r->headers_in, "Accept"));
}

/* Defence in depth: even if Require lines admit a remote client, file paths
 * and error messages stay local unless the admin opts in. Both the TCP peer
 * and the client address that mod_remoteip may have taken from a trusted
 * proxy must be loopback: behind a local reverse proxy the peer alone is
 * always 127.0.0.1. */
int ew_client_may_see_details(const request_rec *r)
{
    if (ew_dir_config(r)->allow_remote == 1) {
        return 1;
    }
    return ew_sockaddr_is_loopback(r->connection->client_addr) &&
           ew_sockaddr_is_loopback(r->useragent_addr);
}

static __attribute__((noinline)) int serve_status(request_rec *r);

/* Every request passes the handler hook: turn away the ones that are not
 * ours (nearly all of them on the first byte of the handler name) before
 * serve_status's large frame is set up. */
int ew_status_handler(request_rec *r)
{
    if (r->handler == NULL || r->handler[0] != EW_HANDLER_NAME[0] ||
        strcmp(r->handler, EW_HANDLER_NAME) != 0) {
        return DECLINED;
    }
    return serve_status(r);
}

static int serve_status(request_rec *r)
{
    if (!ew_client_may_see_details(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "EW0201: status page refused to non-loopback client %s "
                      "(see ErrWatchAllowRemote)",
                      r->useragent_ip);
        return HTTP_FORBIDDEN;
    }
    /* The Allow header of the 405 (GET implies HEAD). */
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, -1);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ew_query query;
    if (ew_query_parse(r->args, &query) != 0) {
        const char *body =
            apr_pstrcat(r->pool, "errwatch: ", query.error, "\n", ew_query_valid_forms, NULL);
        return send_text(r, HTTP_BAD_REQUEST, "text/plain; charset=utf-8", body, strlen(body));
    }
    ew_query_kind kind = query.kind;

    ew_store *store = ew_shm_store();
    if (kind == EW_QUERY_TAIL && store != NULL) {
        return ew_tail_serve(r, &query);
    }
    ew_snapshot snap;
    int rc = -1;
    if (store != NULL) {
        /* ?auto is scraped often and prints no rows: skip copying them. */
        /* The HTML page copies only the rows it shows. */
        apr_time_t now = apr_time_now();
        if (kind == EW_QUERY_AUTO || kind == EW_QUERY_HISTORY) {
            rc = ew_store_summary(store, now, &snap);
        } else if (kind == EW_QUERY_HTML) {
            rc = query.sort_by_last
                     ? ew_store_snapshot_latest(store, r->pool, now, EW_HTML_TOP_FILES,
                                                EW_HTML_RECENT, &snap)
                     : ew_store_snapshot_top(store, r->pool, now, EW_HTML_TOP_FILES, EW_HTML_RECENT,
                                             &snap);
        } else {
            rc = ew_store_snapshot(store, r->pool, now, &snap);
        }
        /* The timeline: the page charts 24 h, ?json carries the last hour
         * unless history= asks for more. */
        uint32_t minutes = kind == EW_QUERY_HTML        ? EW_HISTORY_MINUTES
                           : query.history_minutes != 0 ? query.history_minutes
                                                        : 60;
        if (rc == 0 &&
            (kind == EW_QUERY_HTML || kind == EW_QUERY_JSON || kind == EW_QUERY_HISTORY)) {
            snap.history = apr_palloc(r->pool, minutes * sizeof(ew_history_minute));
            rc = ew_store_history(store, now, minutes, snap.history);
            snap.history_len = rc == 0 ? minutes : 0;
        }
    }
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rc > 0 ? rc : 0, r,
                      "EW0202: cannot read the errwatch store");
        return HTTP_SERVICE_UNAVAILABLE;
    }

    ew_buf out;
    ew_buf_init(&out, r->pool, 16384);
    switch (kind) {
    case EW_QUERY_METRICS: {
        ew_server_stats server;
        ew_read_server_stats(r, &server);
        int openmetrics = wants_openmetrics(r);
        ew_format_metrics(&out, &server, &snap, openmetrics);
        apr_table_mergen(r->headers_out, "Vary", "Accept");
        return send_text(r, HTTP_OK,
                         openmetrics ? CONTENT_TYPE_OPENMETRICS : CONTENT_TYPE_PROMETHEUS, out.data,
                         out.len);
    }
    case EW_QUERY_AUTO: {
        ew_server_stats server;
        ew_read_server_stats(r, &server);
        ew_format_auto(&out, &server, &snap);
        return send_text(r, HTTP_OK, "text/plain; charset=utf-8", out.data, out.len);
    }
    case EW_QUERY_JSON:
        ew_format_json(&out, &snap);
        return send_text(r, HTTP_OK, "application/json", out.data, out.len);
    case EW_QUERY_HISTORY:
        ew_format_json_history(&out, &snap);
        return send_text(r, HTTP_OK, "application/json", out.data, out.len);
    default: {
        ew_html_options opt = {query.refresh, query.sort_by_last};
        ew_format_html_page(&out, &snap, &opt);
        return send_text(r, HTTP_OK, "text/html; charset=utf-8", out.data, out.len);
    }
    }
}

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
#include "ew_access.h"
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
    /* A second line of defence for the page's attacker-written strings: no
     * script, no outside resource, no framing; the inline style and the
     * inline SVG charts need nothing more. */
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                   "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
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

/* Why a request may not see the store's details. */
typedef enum {
    EW_ACCESS_OK,
    EW_ACCESS_REMOTE,  /* the client is not on this machine */
    EW_ACCESS_PROXIED, /* a local proxy forwarded it for someone unknown */
    EW_ACCESS_HOST     /* a foreign Host: DNS rebinding, or a wrong name */
} ew_access;

static int has_forwarding_header(const request_rec *r)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)(void *)arr->elts;
    for (int i = 0; i < arr->nelts; i++) {
        if (ew_is_forwarding_header(e[i].key)) {
            return 1;
        }
    }
    return 0;
}

/* The vhost's ServerName or one of its ServerAlias names (wildcards too). */
static int names_this_server(const request_rec *r, const char *host)
{
    const server_rec *s = r->server;
    if (s->server_hostname != NULL && ew_host_matches(host, s->server_hostname)) {
        return 1;
    }
    const apr_array_header_t *lists[2] = {s->names, s->wild_names};
    for (int l = 0; l < 2; l++) {
        const apr_array_header_t *names = lists[l];
        for (int i = 0; names != NULL && i < names->nelts; i++) {
            if (ew_host_matches(host, ((const char *const *)(void *)names->elts)[i])) {
                return 1;
            }
        }
    }
    return 0;
}

/* Defence in depth: even if Require lines admit a remote client, file
 * paths and error messages stay local unless the admin opts in
 * (ErrWatchAllowRemote On hands the decision to Require alone).
 * - The client: when mod_remoteip resolved it from a trusted proxy, that
 *   address (mod_remoteip stops at the first untrusted hop, whatever a
 *   client wrote into the header); otherwise the TCP peer, and a request
 *   that carries a forwarding header came through a proxy: behind a local
 *   reverse proxy the peer is always 127.0.0.1, so it counts as remote.
 * - The Host: none, an IP literal, localhost, or this vhost's own names; a
 *   page that rebinds its own name to 127.0.0.1 sends its name. */
static ew_access access_of(const request_rec *r)
{
    if (ew_dir_config(r)->allow_remote == 1) {
        return EW_ACCESS_OK;
    }
    const conn_rec *c = r->connection;
    int resolved = r->useragent_addr != NULL && r->useragent_addr != c->client_addr;
    if (resolved) {
        if (!ew_sockaddr_is_loopback(r->useragent_addr)) {
            return EW_ACCESS_REMOTE;
        }
    } else {
        if (!ew_sockaddr_is_loopback(c->client_addr)) {
            return EW_ACCESS_REMOTE;
        }
        if (has_forwarding_header(r)) {
            return EW_ACCESS_PROXIED;
        }
    }
    if (!ew_host_is_local_form(r->hostname) && !names_this_server(r, r->hostname)) {
        return EW_ACCESS_HOST;
    }
    return EW_ACCESS_OK;
}

int ew_client_may_see_details(const request_rec *r)
{
    return access_of(r) == EW_ACCESS_OK;
}

/* A refusal: one line for the client, one info line for the log (not
 * warn: a scanner must not be able to fill the error log). */
static int refuse(request_rec *r, ew_access why)
{
    const char *body;
    int status = HTTP_FORBIDDEN;
    switch (why) {
    case EW_ACCESS_PROXIED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "EW1501: status page refused: request forwarded by a proxy at %s "
                      "(trust the proxy with mod_remoteip, or see ErrWatchAllowRemote)",
                      r->useragent_ip);
        body = "errwatch: forwarded by a proxy, so the client is not known to be local\n";
        break;
    case EW_ACCESS_HOST:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "EW1502: status page refused: Host \"%s\" is not this server's name, "
                      "an IP address or localhost",
                      r->hostname);
        status = HTTP_MISDIRECTED_REQUEST;
        body = "errwatch: this Host is not this server's name, an IP address or localhost\n";
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "EW0201: status page refused to non-loopback client %s "
                      "(see ErrWatchAllowRemote)",
                      r->useragent_ip);
        body = "errwatch: the status page is for clients on this machine\n";
        break;
    }
    return send_text(r, status, "text/plain; charset=utf-8", body, strlen(body));
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
    ew_access access = access_of(r);
    if (access != EW_ACCESS_OK) {
        return refuse(r, access);
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

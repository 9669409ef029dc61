/*
 * ?tail: a live stream of new failures, one line each, until the client
 * goes away, ErrWatchTailMaxTime passes or the server stops.
 *
 * A tail holds a worker for as long as it is open (a process under
 * prefork, a thread under event), so ErrWatchTailMax bounds them across
 * all children. While idle it sleeps on the store's futex word
 * (ew_tail_wait) and wakes when a failure is recorded, when a keep-alive
 * is due, or once a second to notice a client that hung up: no busy
 * polling.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "apr_strings.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_main.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"

#include "ew_buf.h"
#include "ew_format.h"
#include "ew_module.h"
#include "ew_query.h"
#include "ew_tail.h"

APLOG_USE_MODULE(errwatch);

/* Failures copied out of the store per lock. */
#define EW_TAIL_BATCH 16
/* The longest a tail sleeps before it checks the client and the deadline. */
#define EW_TAIL_CHECK_MS 1000

typedef struct tail_slot {
    ew_tail_shared *shared;
    int slot;
    int32_t pid;
    /* For a child that exits while the tail sleeps (below). */
    volatile sig_atomic_t sleeping;
    request_rec *r;
    int fd; /* the client's socket (socket_fd), or -1 */
    ew_buf *out;
    int json;
    uint64_t last;
} tail_slot;

/* prefork's children end a plain restart (SIGHUP) and a hard stop in the
 * signal handler: they destroy their pools and exit, and the request never
 * returns to the loop that would send the closing line. This cleanup runs
 * then, while the tail sleeps (the response is flushed, at a chunk
 * boundary), and writes the documented `# end:` line straight to the
 * socket, as one chunk plus the last one when the response is chunked.
 * Not over TLS or HTTP/2, whose framing only their filters know: there the
 * client sees the connection close without it. */
static apr_status_t end_on_exit(void *data)
{
    tail_slot *ts = data;
    if (!ts->sleeping || ts->r->connection->master != NULL ||
        ap_ssl_conn_is_ssl(ts->r->connection)) {
        return APR_SUCCESS;
    }
    ts->sleeping = 0;
    if (ts->fd < 0) {
        return APR_SUCCESS;
    }
    ew_buf *b = ts->out;
    b->len = 0;
    ew_format_tail_end(b, ts->json, EW_TAIL_END_STOPPING, ts->last);
    char head[24];
    char tail[] = "\r\n0\r\n\r\n";
    int chunked = ts->r->chunked;
    int head_len = chunked ? snprintf(head, sizeof(head), "%zx\r\n", b->len) : 0;
    struct iovec iov[3] = {
        {.iov_base = head, .iov_len = (size_t)(head_len > 0 ? head_len : 0)},
        {.iov_base = b->data, .iov_len = b->len},
        {.iov_base = tail, .iov_len = chunked ? sizeof(tail) - 1 : 0},
    };
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
    (void)sendmsg(ts->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    return APR_SUCCESS;
}

static apr_status_t release_slot(void *data)
{
    tail_slot *ts = data;
    ew_tail_release(ts->shared, ts->slot, ts->pid);
    return APR_SUCCESS;
}

void ew_tail_child_init(apr_pool_t *p, server_rec *s)
{
    (void)p;
    (void)s;
    ew_store *store = ew_shm_store();
    if (store != NULL) {
        ew_tail_release_pid(ew_store_tail(store), (int32_t)getpid());
    }
}

/* The parent, about once a second: what tails killed while waiting left in
 * the shared header (their waiter count, their slots) is cleared, so that
 * failures stop paying a futex wake for nobody. */
int ew_tail_monitor(apr_pool_t *p, server_rec *s)
{
    (void)p;
    ew_store *store = ew_shm_store();
    if (store != NULL) {
        uint32_t healed = ew_tail_heal(ew_store_tail(store));
        if (healed != 0) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                         "EW1701: cleared %u waiter(s) left by tails that were killed", healed);
        }
    }
    return DECLINED;
}

/* The client closed its end (curl was interrupted): POLLRDHUP. A client
 * that sends more bytes is not taken for gone. */
static int client_gone(int fd)
{
    if (fd < 0) {
        return 0;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static int server_stopping(void)
{
    int state = 0;
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state == AP_MPMQ_STOPPING;
}

/* Sends what b holds and pushes it to the client; -1 once it is gone. */
static int send_now(request_rec *r, ew_buf *b)
{
    if (b->len > 0 && ap_rwrite(b->data, (int)b->len, r) < 0) {
        return -1;
    }
    b->len = 0;
    b->data[0] = '\0';
    if (ap_rflush(r) < 0) {
        return -1;
    }
    return r->connection->aborted ? -1 : 0;
}

static int socket_fd(request_rec *r)
{
    apr_socket_t *sock = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd = -1;
    if (sock == NULL || apr_os_sock_get(&fd, sock) != APR_SUCCESS) {
        return -1;
    }
    return fd;
}

static int refuse(request_rec *r, const char *body)
{
    r->status = HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Retry-After", "10");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int ew_tail_serve(request_rec *r, const ew_query *query)
{
    ew_store *store = ew_shm_store();
    /* Tails are bounded server-wide: the main server's values count. */
    uint32_t cap = ew_conf_tail_max(ap_server_conf);
    int64_t max_us = (int64_t)ew_conf_tail_max_time(ap_server_conf) * APR_USEC_PER_SEC;
    int64_t keepalive_us = (int64_t)ew_conf_tail_keepalive(ap_server_conf) * APR_USEC_PER_SEC;
    int json = query->tail_json;

    if (cap == 0) {
        return refuse(r, "errwatch: ?tail is turned off here (ErrWatchTailMax 0)\n");
    }
    ew_tail_shared *shared = ew_store_tail(store);
    tail_slot *ts = apr_palloc(r->pool, sizeof(*ts));
    ts->shared = shared;
    ts->pid = (int32_t)getpid();
    ts->slot = ew_tail_claim(shared, cap, ts->pid);
    if (ts->slot < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "EW0301: ?tail refused: %u tails are open already (ErrWatchTailMax)", cap);
        return refuse(r, apr_psprintf(r->pool,
                                      "errwatch: %u live tails are open already, the most "
                                      "ErrWatchTailMax allows; close one or raise it\n",
                                      cap));
    }
    /* Freed however the request ends, even if the client vanishes. */
    apr_pool_cleanup_register(r->pool, ts, release_slot, apr_pool_cleanup_null);

    ap_set_content_type(r, json ? "application/x-ndjson" : "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    /* nginx and similar proxies: pass every line through at once; and no
     * mod_deflate (Debian compresses text/plain), which would buffer. */
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    apr_table_setn(r->subprocess_env, "no-gzip", "1");
    if (r->header_only) {
        return OK;
    }

    ew_failure *batch = apr_palloc(r->pool, EW_TAIL_BATCH * sizeof(ew_failure));
    ew_buf b;
    ew_buf_init(&b, r->pool, 8192);
    int fd = socket_fd(r);
    ts->sleeping = 0;
    ts->r = r;
    ts->fd = fd;
    ts->out = &b;
    ts->json = json;
    ts->last = 0;
    /* Registered after release_slot, so it runs first. */
    apr_pool_cleanup_register(r->pool, ts, end_on_exit, apr_pool_cleanup_null);
    int64_t opened = apr_time_now();
    int64_t deadline = opened + max_us;

    /* Load the word before the first read: whatever is recorded after that
     * read changes it, so the first wait cannot miss it. */
    uint32_t word = ew_tail_word(shared);
    uint32_t n;
    uint64_t latest;
    int rc = ew_store_failures_after(store, UINT64_MAX, batch, 0, &n, &latest);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rc, r, "EW0302: ?tail cannot read the errwatch store");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ew_tail_info info = {
        .latest_seq = latest,
        .pid = ts->pid,
        .keepalive_s = (unsigned)(keepalive_us / APR_USEC_PER_SEC),
        .max_s = (unsigned)(max_us / APR_USEC_PER_SEC),
        .now_us = opened,
    };
    ew_format_tail_start(&b, json, &info);
    uint64_t last = latest;
    if (query->since_given) {
        if (query->since > latest) {
            ew_format_tail_ahead(&b, json, query->since, latest);
        } else {
            last = query->since;
        }
    }
    uint32_t ring_cap = ew_store_recent_capacity(store);
    int64_t last_write = opened;

    for (;;) {
        rc = ew_store_failures_after(store, last, batch, EW_TAIL_BATCH, &n, &latest);
        if (rc != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rc, r,
                          "EW0303: ?tail stopped: cannot read the errwatch store");
            break;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (batch[i].seq > last + 1) {
                ew_format_tail_gap(&b, json, last + 1, batch[i].seq - 1, ring_cap);
            }
            ew_format_tail_failure(&b, &batch[i], json);
            last = batch[i].seq;
        }
        if (n < EW_TAIL_BATCH && latest > last) {
            ew_format_tail_gap(&b, json, last + 1, latest, ring_cap);
            last = latest;
        }
        if (b.len > 0) {
            if (send_now(r, &b) != 0) {
                break;
            }
            last_write = apr_time_now();
        }
        if (n == EW_TAIL_BATCH && apr_time_now() < deadline && !server_stopping()) {
            continue; /* more are waiting: no sleep */
        }

        /* Sleep until a failure is recorded; wake up for keep-alives, the
         * deadline, a hung-up client and a stopping server. */
        int done = 0;
        for (;;) {
            int64_t now = apr_time_now();
            if (now >= deadline || server_stopping()) {
                ew_format_tail_end(
                    &b, json, now >= deadline ? EW_TAIL_END_MAX_TIME : EW_TAIL_END_STOPPING, last);
                send_now(r, &b);
                done = 1;
                break;
            }
            if (now - last_write >= keepalive_us) {
                ew_format_tail_keepalive(&b, json, now);
                if (send_now(r, &b) != 0) {
                    done = 1;
                    break;
                }
                last_write = now;
            }
            if (client_gone(fd)) {
                done = 1;
                break;
            }
            int64_t sleep_us = min64(min64(deadline - now, last_write + keepalive_us - now),
                                     (int64_t)EW_TAIL_CHECK_MS * 1000);
            int sleep_ms = (int)((sleep_us + 999) / 1000);
            ts->last = last;
            ts->sleeping = 1;
            int woken = ew_tail_wait(shared, word, sleep_ms);
            ts->sleeping = 0;
            if (woken) {
                word = ew_tail_word(shared);
                break;
            }
        }
        if (done) {
            break;
        }
    }
    return OK;
}

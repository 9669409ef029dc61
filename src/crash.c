/*
 * Crashes and per-worker slots: the httpd side of include/ew_slots.h.
 *
 * - post_config (parent): one slot per scoreboard worker (HARD_LIMIT_DAEMONS
 *   x HARD_LIMIT_THREADS) in a shared segment kept in ap_retained_data, so
 *   slot counters survive graceful and hard restarts; the store's readers
 *   sum them (ew_store_use_slots).
 * - post_read_request / handler / log_transaction (children): the worker
 *   writes its own slot, found through the scoreboard handle of the
 *   connection (the worker serving it now, which on event may not be the
 *   one that accepted it). HTTP/2 streams share their connection's worker,
 *   so they count into the store's shared atomics instead.
 * - error_log (parent): httpd's AH00052/AH00051 line "child pid N exit
 *   signal NAME (S)", from ap_process_child_status, right after the parent
 *   reaped the child: every request still in flight in that pid is
 *   recorded as a crash. httpd logs this for every signal but the ones it
 *   sends itself (SIGTERM, SIGHUP, SIGUSR1) and SIGKILL.
 * - monitor (parent): a pid with requests in flight that no longer exists
 *   and was never reported died by a signal httpd does not report; httpd
 *   itself sends SIGKILL only at stop and restart (when the monitor does
 *   not run), so this is recorded as SIGKILL (the OOM killer's signal).
 * - Requests in flight in children that a stop or hard restart killed are
 *   forgotten at the next post_config, never recorded.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "apr_shm.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mpm_common.h"
#include "scoreboard.h"

#include "ew_module.h"
#include "ew_slots.h"

APLOG_USE_MODULE(errwatch);

#define EW_SLOTS_KEY "mod_errwatch/slots"
#define EW_SLOTS_SEGMENT_ALIGN 64
#define EW_BUSY_PIDS_MAX 1024

typedef struct ew_slots_retained {
    apr_shm_t *shm;
    void *base;
    size_t len;
} ew_slots_retained;

static ew_slots *current_slots;
static pid_t parent_pid;
static int32_t child_pid; /* getpid() is a system call: once per child */

/* ---- parent: the region ---------------------------------------------------- */

static uint32_t worker_count(void)
{
    int daemons = 0, threads = 0;
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) != APR_SUCCESS || daemons <= 0) {
        return 0;
    }
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads) != APR_SUCCESS || threads <= 0) {
        threads = 1;
    }
    uint64_t n = (uint64_t)daemons * (uint64_t)threads;
    return n <= UINT32_MAX ? (uint32_t)n : 0;
}

static ew_slots *make_slots(apr_pool_t *pconf, server_rec *s, ew_slots_retained *kept,
                            uint32_t count)
{
    size_t len = ew_slots_size(count);
    if (len == 0 || apr_shm_create(&kept->shm, len + EW_SLOTS_SEGMENT_ALIGN, NULL,
                                   s->process->pool) != APR_SUCCESS) {
        kept->shm = NULL;
        return NULL;
    }
    char *base = apr_shm_baseaddr_get(kept->shm);
    base += (EW_SLOTS_SEGMENT_ALIGN - (uintptr_t)base % EW_SLOTS_SEGMENT_ALIGN) %
            EW_SLOTS_SEGMENT_ALIGN;
    kept->base = base;
    kept->len = len;
    return ew_slots_init(pconf, base, len, count);
}

/* Requests of children that are gone without a crash report (a stop or
 * hard restart killed them) are not crashes. */
static void forget_dead(ew_slots *slots)
{
    int32_t pids[EW_BUSY_PIDS_MAX];
    uint32_t n = ew_slots_busy_pids(slots, pids, EW_BUSY_PIDS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        if (kill((pid_t)pids[i], 0) != 0 && errno == ESRCH) {
            ew_slots_forget(slots, pids[i]);
        }
    }
}

static int slots_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    current_slots = NULL;
    ew_store *store = ew_shm_store();
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG || store == NULL) {
        return OK;
    }
    parent_pid = getpid();
    uint32_t count = worker_count();
    ew_slots_retained *kept = ap_retained_data_get(EW_SLOTS_KEY);
    if (kept == NULL) {
        kept = ap_retained_data_create(EW_SLOTS_KEY, sizeof(*kept));
    }
    ew_slots *slots = NULL;
    if (kept->base != NULL) {
        slots = ew_slots_attach(pconf, kept->base, kept->len);
        if (slots != NULL && ew_slots_count(slots) != count) {
            /* The limits changed: the old slots' counts go into the
             * store's shared counters, so nothing is lost. */
            ew_snapshot sums;
            memset(&sums, 0, sizeof(sums));
            ew_slots_sum(slots, &sums);
            ew_store_add_base(store, &sums);
            apr_shm_destroy(kept->shm);
            memset(kept, 0, sizeof(*kept));
            slots = NULL;
        }
    }
    if (slots == NULL) {
        slots = make_slots(pconf, s, kept, count);
    }
    if (slots == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "EW1101: no per-worker slots for %u workers: counting with shared "
                     "atomics, and crashes are not recorded",
                     count);
        return OK;
    }
    forget_dead(slots);
    ew_store_use_slots(store, slots);
    current_slots = slots;
    return OK;
}

/* ---- children: the worker's own slot -------------------------------------- */

static ew_worker_slot *worker_slot(const conn_rec *c)
{
    if (current_slots == NULL || c->master != NULL || c->sbh == NULL ||
        ap_scoreboard_image == NULL) {
        return NULL;
    }
    const worker_score *ws = ap_get_scoreboard_worker(c->sbh);
    if (ws == NULL) {
        return NULL;
    }
    /* The scoreboard's worker records are one array, process slot major. */
    ptrdiff_t index = ws - ap_scoreboard_image->servers[0];
    return index >= 0 ? ew_slots_get(current_slots, (uint32_t)index) : NULL;
}

/* "host:port" of the request's virtual host. Formatting it cost more than
 * the rest of the slot's writes together, and a worker serves the same
 * vhost over and over: each thread keeps the last one. */
static const char *vhost_of(const request_rec *r)
{
    static _Thread_local const server_rec *last_server;
    static _Thread_local unsigned last_port;
    static _Thread_local char last_vhost[EW_VHOST_MAX];
    const server_rec *s = r->server;
    unsigned port = s->port != 0 ? s->port : r->connection->local_addr->port;
    if (s != last_server || port != last_port) {
        ew_format_vhost(last_vhost, sizeof(last_vhost), s->server_hostname, port);
        last_server = s;
        last_port = port;
    }
    return last_vhost;
}

/* The request this thread is serving and its slot, so that the hooks after
 * post_read_request skip the scoreboard lookup (a request runs on one thread
 * from post_read_request to log_transaction). */
static _Thread_local const request_rec *serving;
static _Thread_local ew_worker_slot *serving_slot;

static inline ew_worker_slot *slot_of(const request_rec *r)
{
    return r == serving ? serving_slot : worker_slot(r->connection);
}

static int slot_begin(request_rec *r)
{
    if (r->main != NULL || r->prev != NULL) {
        return DECLINED;
    }
    ew_worker_slot *slot = worker_slot(r->connection);
    serving = r;
    serving_slot = slot;
    if (slot != NULL) {
        ew_slot_begin(slot, child_pid, r->request_time, r->method,
                      r->parsed_uri.path != NULL ? r->parsed_uri.path : r->uri, vhost_of(r));
    }
    return DECLINED;
}

static int slot_target(request_rec *r)
{
    if (r->main == NULL && r->handler != NULL) {
        ew_worker_slot *slot = slot_of(r);
        if (slot != NULL) {
            /* A static file (dispatched by its content type, as
             * ap_invoke_handler does when no handler was set) keeps only
             * its URI: copying its path costs more than the rest of the
             * request's slot writes, and no script runs to crash. */
            ew_slot_set_target(slot, r->handler,
                               r->handler == r->content_type ? NULL : r->filename);
        }
    }
    return DECLINED;
}

void ew_count_response(ew_store *store, const request_rec *r, int status, uint64_t bytes,
                       uint64_t duration_us)
{
    ew_worker_slot *slot = slot_of(r);
    serving = NULL;
    if (slot != NULL) {
        ew_slot_end(slot, status, bytes, duration_us);
        return;
    }
    ew_store_count_response(store, status);
    ew_store_add_traffic(store, bytes, duration_us);
}

/* Runs after errwatch's own log_transaction: a request it did not count
 * (ErrWatch Off) must not stay in flight, or the child's normal exit would
 * later look like a crash. */
/* cppcheck-suppress constParameter ; the hook's type */
static int slot_release(request_rec *r)
{
    if (r == serving) {
        serving = NULL;
        if (serving_slot != NULL) {
            ew_slot_clear(serving_slot);
        }
    }
    return DECLINED;
}

/* ---- parent: dead children ------------------------------------------------- */

/* "AH00052: child pid N exit signal NAME (S)" (AH00051 adds ", possible
 * coredump in DIR"): the pid and the signal number. */
static int parse_child_signal(const char *msg, long *pid, int *sig)
{
    if (strncmp(msg, "AH00052: ", 9) != 0 && strncmp(msg, "AH00051: ", 9) != 0) {
        return 0;
    }
    const char *p = msg + 9;
    if (strncmp(p, "child pid ", 10) != 0) {
        return 0;
    }
    char *end;
    *pid = strtol(p + 10, &end, 10);
    if (end == p + 10 || *pid <= 0 || strncmp(end, " exit signal ", 13) != 0) {
        return 0;
    }
    const char *open = strchr(end + 13, '(');
    if (open == NULL) {
        return 0;
    }
    long s = strtol(open + 1, &end, 10);
    if (end == open + 1 || *end != ')' || s <= 0 || s > 1024) {
        return 0;
    }
    *sig = (int)s;
    return 1;
}

static void record_crash(server_rec *s, long pid, int sig, const char *how)
{
    uint32_t n = 0;
    int rc =
        ew_slots_record_crash(current_slots, ew_shm_store(), (int32_t)pid, sig, apr_time_now(), &n);
    if (rc != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rc, s,
                     "EW1102: could not record every request lost with pid %ld: store lock "
                     "unavailable",
                     pid);
    }
    if (n > 0) {
        char label[EW_SIGNAL_LABEL_MAX];
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "EW1103: recorded %u request(s) in flight in pid %ld, killed by %s (%s)", n,
                     pid, ew_signal_label(sig, label), how);
    }
}

static void watch_parent_log(const ap_errorlog_info *info, const char *errstr)
{
    if (info->r != NULL || info->c != NULL || errstr == NULL || current_slots == NULL ||
        getpid() != parent_pid) {
        return;
    }
    long pid;
    int sig;
    if (parse_child_signal(errstr, &pid, &sig)) {
        record_crash(ap_server_conf, pid, sig, "reported by httpd");
    }
}

static int watch_children(apr_pool_t *p, server_rec *s)
{
    (void)p;
    if (current_slots == NULL) {
        return DECLINED;
    }
    int32_t pids[EW_BUSY_PIDS_MAX];
    uint32_t n = ew_slots_busy_pids(current_slots, pids, EW_BUSY_PIDS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        if (kill((pid_t)pids[i], 0) != 0 && errno == ESRCH) {
            record_crash(s, pids[i], SIGKILL, "gone without an exit report");
        }
    }
    return DECLINED;
}

static void slots_child_init(apr_pool_t *p, server_rec *s)
{
    (void)p;
    (void)s;
    child_pid = (int32_t)getpid();
}

void ew_crash_register_hooks(void)
{
    ap_hook_child_init(slots_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(slots_post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_post_read_request(slot_begin, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_handler(slot_target, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_log_transaction(slot_release, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_error_log(watch_parent_log, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_monitor(watch_children, NULL, NULL, APR_HOOK_MIDDLE);
}

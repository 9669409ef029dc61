/*
 * Crashes and per-worker slots: the httpd side of include/ew_slots.h.
 *
 * - post_config (parent): one slot per scoreboard worker (HARD_LIMIT_DAEMONS
 *   x HARD_LIMIT_THREADS) in a shared segment kept in ap_retained_data, so
 *   slot counters survive graceful and hard restarts; the store's readers
 *   sum them (ew_store_use_slots).
 * - children: capture.c's hooks write the worker's own slot
 *   (the request at translate_name, the handler and script at
 *   the handler, cleared when logged), found through the scoreboard handle
 *   of the connection (the worker serving it now, which on event may not
 *   be the one that accepted it). HTTP/2 streams share their connection's
 *   worker, so they count into the store's shared atomics instead.
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
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mpm_common.h"
#include "scoreboard.h"

#include "ew_attribution.h"
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
ew_slot_hot ew_hot_slots;
static pid_t parent_pid;

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
    ew_hot_slots.base = NULL;
    ew_hot_slots.count = 0;
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
    ew_hot_slots.base = ew_slots_get(slots, 0);
    ew_hot_slots.count = ew_slots_count(slots);
    return OK;
}

/* ---- children: the worker's own slot -------------------------------------- */

ew_worker_slot *ew_worker_slot_lookup(const conn_rec *c)
{
    if (ew_hot_slots.base == NULL || c->master != NULL || c->sbh == NULL ||
        ap_scoreboard_image == NULL) {
        return NULL;
    }
    const worker_score *ws = ap_get_scoreboard_worker(c->sbh);
    if (ws == NULL) {
        return NULL;
    }
    /* The scoreboard's worker records are one array, process slot major. */
    ptrdiff_t index = ws - ap_scoreboard_image->servers[0];
    return index >= 0 && (unsigned long)index < ew_hot_slots.count ? &ew_hot_slots.base[index]
                                                                   : NULL;
}

/* ---- remote stories: mod_wsgi's daemon mode ------------------------------------ */

/* The key that travels with a mod_wsgi request to its daemon process (the
 * daemon gets the request's whole subprocess_env): "slot index:tag". */
void ew_remote_key_set(request_rec *r, const ew_worker_slot *slot, const request_rec *origin)
{
    if (slot == NULL || ew_hot_slots.base == NULL) {
        return;
    }
    apr_table_setn(r->subprocess_env, EW_REMOTE_KEY,
                   apr_psprintf(r->pool, "%lu:%" APR_UINT64_T_HEX_FMT,
                                (unsigned long)(slot - ew_hot_slots.base),
                                (apr_uint64_t)ew_request_tag(origin)));
}

/* The slots as this process can reach them without allocating: a daemon
 * forked by mod_wsgi before this generation's post_config ran (a restart)
 * still has the parent's retained region mapped. */
static ew_slots *reachable_slots(void)
{
    if (current_slots != NULL) {
        return current_slots;
    }
    const ew_slots_retained *kept = ap_retained_data_get(EW_SLOTS_KEY);
    return kept != NULL && kept->base != NULL ? ew_slots_attach_static(kept->base, kept->len)
                                              : NULL;
}

int ew_remote_line(const char *key, int level, const char *line)
{
    char *end;
    unsigned long index = strtoul(key, &end, 10);
    if (end == key || *end != ':') {
        return 0;
    }
    const char *hex = end + 1;
    unsigned long long tag = strtoull(hex, &end, 16);
    if (end == hex || *end != '\0' || index > UINT32_MAX) {
        return 0;
    }
    ew_slots *slots = reachable_slots();
    return slots != NULL && ew_slots_remote_add(slots, (uint32_t)index, (uint64_t)tag, level, line);
}

uint32_t ew_remote_take(const ew_worker_slot *slot, const request_rec *origin, char *story,
                        size_t story_size, char *message, size_t message_size)
{
    if (slot == NULL || current_slots == NULL || ew_hot_slots.base == NULL) {
        return 0;
    }
    return ew_slots_remote_take(current_slots, (uint32_t)(slot - ew_hot_slots.base),
                                ew_request_tag(origin), story, story_size, message, message_size);
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

/* ew_slot_namer: the method's name from its number, and the vhost from the
 * server_rec address a child of this generation kept (checked against the
 * parent's own list, never dereferenced blindly). ctx is a scratch pool. */
static void name_request(void *ctx, int32_t method_number, uint64_t vhost_ref,
                         uint64_t vhost_tag_value, ew_failure *f)
{
    if (f->method[0] == '\0') {
        /* HEAD shares M_GET in httpd's registry (a HEAD came by name). */
        const char *name = method_number == M_GET ? "GET" : ap_method_name_of(ctx, method_number);
        ew_copy_field(f->method, sizeof(f->method), name != NULL ? name : "-");
    }
    if ((uint32_t)(vhost_tag_value >> 16) != (uint32_t)ap_state_query(AP_SQ_CONFIG_GEN)) {
        return; /* a child of an earlier generation: its servers are gone */
    }
    for (const server_rec *s = ap_server_conf; s != NULL; s = s->next) {
        if ((uint64_t)(uintptr_t)s == vhost_ref) {
            ew_format_vhost(f->vhost, sizeof(f->vhost), s->server_hostname,
                            (unsigned)(vhost_tag_value & 0xffffu));
            break;
        }
    }
}

static void record_crash(server_rec *s, long pid, int sig, const char *how)
{
    uint32_t n = 0;
    apr_pool_t *scratch = NULL;
    if (apr_pool_create(&scratch, s->process->pool) != APR_SUCCESS) {
        scratch = NULL;
    }
    int rc = ew_slots_record_crash(current_slots, ew_shm_store(), (int32_t)pid, sig, apr_time_now(),
                                   scratch != NULL ? name_request : NULL, scratch, &n);
    if (scratch != NULL) {
        apr_pool_destroy(scratch);
    }
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
    ew_hot_slots.pid = (int32_t)getpid();
    ew_hot_slots.generation = ap_state_query(AP_SQ_CONFIG_GEN);
    /* These three number their connections as the scoreboard numbers its
     * workers (process slot x ThreadLimit + thread; event renumbers a
     * connection when another worker takes it up): the slot index without
     * a scoreboard lookup. */
    const char *mpm = ap_show_mpm();
    ew_hot_slots.by_conn_id =
        strcmp(mpm, "prefork") == 0 || strcmp(mpm, "worker") == 0 || strcmp(mpm, "event") == 0;
}

void ew_crash_register_hooks(void)
{
    ap_hook_child_init(slots_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(slots_post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_error_log(watch_parent_log, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_monitor(watch_children, NULL, NULL, APR_HOOK_MIDDLE);
}

/*
 * The store's shared-memory segment.
 *
 * The parent creates one anonymous segment at start-up; children inherit the
 * mapping through fork(), so no child_init step and no lock file is needed.
 * The segment is allocated from the process pool, which lives for the whole
 * life of the parent, and its address is kept in ap_retained_data, which
 * survives graceful and plain restarts (the module's DSO does not, so nothing
 * there points into this file's code). Counters therefore keep counting
 * across restarts. If ErrWatchFiles or ErrWatchRecent change, a new segment
 * is made and the old one's contents are migrated into it; the old segment
 * stays mapped because children of the previous generation may still be
 * finishing requests that write to it.
 */
#include "httpd.h"
#include "apr_shm.h"
#include "http_core.h"
#include "apr_time.h"
#include "http_config.h"
#include "http_log.h"

#include "ew_module.h"

APLOG_USE_MODULE(errwatch);

#define EW_RETAINED_KEY "mod_errwatch/store"
#define EW_SEGMENT_ALIGN 64
#define EW_MIGRATE_TIMEOUT_MS 2000

/* Kept across restarts. Its layout must not change between versions: a new
 * module can be loaded by a graceful restart over an old one's data. */
typedef struct ew_retained {
    void *base; /* the store's segment, NULL until the first real start */
    size_t len;
} ew_retained;

/* Set in the parent's post_config, inherited by the children. */
static ew_store *current_store;

ew_store *ew_shm_store(void)
{
    return current_store;
}

static ew_store *create_store(server_rec *s, uint32_t files, uint32_t recent, size_t *len_out)
{
    size_t need = ew_store_size(files, recent);
    apr_shm_t *shm = NULL;
    /* apr_shm's base is only 8-byte aligned: over-allocate and align up. */
    apr_status_t rv = apr_shm_create(&shm, need + EW_SEGMENT_ALIGN, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "EW0001: cannot create a %lu-byte shared memory segment",
                     (unsigned long)(need + EW_SEGMENT_ALIGN));
        return NULL;
    }
    uintptr_t base = (uintptr_t)apr_shm_baseaddr_get(shm);
    uintptr_t aligned = (base + EW_SEGMENT_ALIGN - 1) & ~(uintptr_t)(EW_SEGMENT_ALIGN - 1);
    ew_store *st = ew_store_init((void *)aligned, need, files, recent, apr_time_now());
    *len_out = need;
    if (st == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EW0002: cannot format the store");
    }
    return st;
}

int ew_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    /* The first pass only checks the configuration. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    uint32_t files = ew_conf_files(s);
    uint32_t recent = ew_conf_recent(s);

    ew_retained *retained = ap_retained_data_get(EW_RETAINED_KEY);
    if (retained == NULL) {
        retained = ap_retained_data_create(EW_RETAINED_KEY, sizeof(*retained));
        retained->base = NULL;
        retained->len = 0;
    }
    ew_store *old = NULL;
    if (retained->base != NULL) {
        /* NULL when a module upgrade changed the store's layout. */
        old = ew_store_attach(retained->base, retained->len);
        if (old == NULL) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                         "EW0004: the store's layout changed (module upgrade): "
                         "counting starts again");
        }
    }
    if (old != NULL && ew_store_files_capacity(old) == files &&
        ew_store_recent_capacity(old) == recent) {
        current_store = old;
        return OK;
    }

    size_t len = 0;
    ew_store *st = create_store(s, files, recent, &len);
    if (st == NULL && old != NULL) {
        /* A resize that cannot get memory must not take the server down. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "EW0005: keeping the store at %u files and %u recent failures",
                     ew_store_files_capacity(old), ew_store_recent_capacity(old));
        current_store = old;
        return OK;
    }
    if (st == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR; /* httpd refuses to start; EW0001 says why */
    }
    if (old != NULL) {
        /* Bounded wait: a stuck child holding the old lock must not hang
         * the restart. */
        int rc = ew_store_migrate(st, old, EW_MIGRATE_TIMEOUT_MS);
        if (rc != 0) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rc, s,
                         "EW0006: store resized; counters kept, but the failing-file table "
                         "and recent failures could not be copied");
        } else {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                         "EW0003: store resized to %u files and %u recent failures; "
                         "counters kept",
                         files, recent);
        }
    }
    retained->base = st;
    retained->len = len;
    current_store = st;
    return OK;
}

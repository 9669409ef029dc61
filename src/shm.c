/*
 * The store's shared memory: two anonymous segments made by the parent, the
 * header (counters, lock, windows, handler rows; fixed size) and the tables
 * (file rows, index, ring; sized by ErrWatchFiles and ErrWatchRecent).
 *
 * Children inherit both mappings through fork(), so no child_init step and
 * no lock file is needed. The segments come from the process pool, which
 * lives as long as the parent, and their addresses are kept in
 * ap_retained_data, which survives graceful and plain restarts (the module's
 * DSO does not, so nothing there points into this file's code). Counters
 * therefore keep counting across restarts.
 *
 * When the sizes change, only the tables are replaced (ew_store_resize):
 * children of the previous generation keep the old tables, which the new
 * segment is not mapped in, but count into the same header, so no response
 * is lost; only the rows they add after the resize stay behind. The parent
 * then unmaps the old tables; their memory goes when the last old child
 * exits.
 */
#include "httpd.h"
#include "apr_shm.h"
#include "apr_time.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "ew_module.h"

APLOG_USE_MODULE(errwatch);

#define EW_RETAINED_KEY "mod_errwatch/segments"
#define EW_SEGMENT_ALIGN 64
#define EW_RESIZE_TIMEOUT_MS 2000

typedef struct ew_segment {
    apr_shm_t *shm;
    void *base; /* 64-byte aligned within the shm */
    size_t len;
} ew_segment;

/* Kept across restarts; ap_retained_data_create zeroes it. */
typedef struct ew_retained {
    ew_segment header; /* base is NULL until the first real start */
    ew_segment tables;
} ew_retained;

/* Set in the parent's post_config (from pconf, so one per generation) and
 * inherited by that generation's children. */
ew_store *ew_shm_current;
static int current_store_is_new;

int ew_shm_store_is_new(void)
{
    return current_store_is_new;
}

static int make_segment(server_rec *s, size_t len, ew_segment *out)
{
    /* apr_shm's base is only 8-byte aligned: over-allocate and align up. */
    apr_status_t rv = apr_shm_create(&out->shm, len + EW_SEGMENT_ALIGN, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "EW0001: cannot create a %lu-byte shared memory segment",
                     (unsigned long)(len + EW_SEGMENT_ALIGN));
        return 0;
    }
    char *base = apr_shm_baseaddr_get(out->shm);
    out->base = base + (EW_SEGMENT_ALIGN - (uintptr_t)base % EW_SEGMENT_ALIGN) % EW_SEGMENT_ALIGN;
    out->len = len;
    return 1;
}

static void drop_segment(ew_segment *seg)
{
    if (seg->shm != NULL) {
        apr_shm_destroy(seg->shm);
    }
    seg->shm = NULL;
    seg->base = NULL;
    seg->len = 0;
}

/* A new store in two new segments. */
static ew_store *create_store(apr_pool_t *pconf, server_rec *s, ew_retained *retained,
                              uint32_t files, uint32_t recent)
{
    ew_segment header, tables;
    if (!make_segment(s, ew_store_header_size(), &header)) {
        return NULL;
    }
    if (!make_segment(s, ew_store_tables_size(files, recent), &tables)) {
        drop_segment(&header);
        return NULL;
    }
    ew_store *st = ew_store_create(pconf, header.base, header.len, tables.base, tables.len, files,
                                   recent, apr_time_now());
    if (st == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "EW0002: cannot format the store");
        drop_segment(&header);
        drop_segment(&tables);
        return NULL;
    }
    retained->header = header;
    retained->tables = tables;
    return st;
}

/* New tables for changed sizes; the old store when that cannot be done. */
static ew_store *resize_store(apr_pool_t *pconf, server_rec *s, ew_retained *retained,
                              ew_store *old, uint32_t files, uint32_t recent)
{
    ew_segment tables;
    if (!make_segment(s, ew_store_tables_size(files, recent), &tables)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "EW0005: keeping the store at %u files and %u recent failures",
                     ew_store_files_capacity(old), ew_store_recent_capacity(old));
        return old;
    }
    /* Bounded wait: a stuck child holding the lock must not hang the
     * restart. */
    int rc = 0;
    ew_store *st = ew_store_resize(pconf, old, tables.base, tables.len, files, recent,
                                   EW_RESIZE_TIMEOUT_MS, &rc);
    if (st == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rc, s,
                     "EW0006: could not resize the store (its lock stayed busy); keeping %u "
                     "files and %u recent failures",
                     ew_store_files_capacity(old), ew_store_recent_capacity(old));
        drop_segment(&tables);
        return old;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                 "EW0003: store resized to %u files and %u recent failures; counters kept", files,
                 recent);
    /* Only this process's mapping goes; children of the previous
     * generation keep theirs until they exit. */
    drop_segment(&retained->tables);
    retained->tables = tables;
    return st;
}

int ew_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
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
    }
    ew_store *old = NULL;
    if (retained->header.base != NULL) {
        old = ew_store_attach(pconf, retained->header.base, retained->header.len,
                              retained->tables.base, retained->tables.len);
        if (old == NULL) {
            /* A module upgrade changed the layout: the old segments are
             * not trusted (old children keep their own mappings). */
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                         "EW0004: the store's layout changed (module upgrade): "
                         "counting starts again");
            drop_segment(&retained->header);
            drop_segment(&retained->tables);
        }
    }
    current_store_is_new = old == NULL;
    if (old == NULL) {
        ew_shm_current = create_store(pconf, s, retained, files, recent);
        /* httpd refuses to start; EW0001 or EW0002 says why. */
        return ew_shm_current != NULL ? OK : HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ew_store_files_capacity(old) == files && ew_store_recent_capacity(old) == recent) {
        ew_shm_current = old;
        return OK;
    }
    ew_shm_current = resize_store(pconf, s, retained, old, files, recent);
    return OK;
}

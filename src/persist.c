/*
 * The state file's httpd side: restored once when the store is new (a
 * full start, not a restart, which keeps the shared memory anyway), and
 * written by the parent only, never by a child serving requests:
 *   - from the monitor hook every ErrWatchStateInterval seconds, when
 *     something changed (a kill -9 of the whole server loses at most that);
 *   - from a cleanup of the configuration pool, which httpd clears on every
 *     restart and destroys on exit. On `graceful-stop` the parent reaches it
 *     only after the MPM has waited for the children to finish their
 *     requests, so those requests are in the final write.
 * The file is untrusted at start-up: anything odd is logged (EW13xx), moved
 * aside and the server starts fresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpd.h"
#include "apr_strings.h"
#include "apr_time.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "mpm_common.h"

#include "ew_module.h"

APLOG_USE_MODULE(errwatch);

/* A state file larger than this is not ours (the largest store is smaller). */
#define EW_STATE_MAX_BYTES ((off_t)4 << 30)

typedef struct persist_state {
    const char *path; /* NULL: ErrWatchStateFile none */
    apr_interval_time_t interval;
    apr_time_t last_write;
    uint64_t written_mark;
    pid_t parent;
    server_rec *s;
} persist_state;

/* One per generation, from pconf, in the parent. */
static persist_state *state;

static void move_aside(server_rec *s, const char *path, apr_pool_t *p)
{
    const char *aside =
        apr_psprintf(p, "%s.bad-%" APR_TIME_T_FMT, path, apr_time_sec(apr_time_now()));
    if (rename(path, aside) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s,
                     "EW1302: could not move the state file %s aside; removing it", path);
        (void)unlink(path);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "EW1303: the state file was kept as %s", aside);
}

/* Reads the whole file if it is one we may trust; NULL with *why set if not
 * (and *why NULL when there is simply no file). */
static char *read_trusted(apr_pool_t *p, const char *path, size_t *len, const char **why)
{
    *why = NULL;
    struct stat ls;
    if (lstat(path, &ls) != 0) {
        if (errno != ENOENT) {
            *why = apr_psprintf(p, "cannot stat it: %s", strerror(errno));
        }
        return NULL;
    }
    if (S_ISLNK(ls.st_mode)) {
        *why = "it is a symbolic link";
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = apr_psprintf(p, "cannot open it: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "it is not a regular file";
    } else if (st.st_uid != geteuid()) {
        *why = apr_psprintf(p, "it is owned by uid %ld, not by the server's uid %ld",
                            (long)st.st_uid, (long)geteuid());
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        *why = "it is writable by group or others";
    } else if (st.st_size > EW_STATE_MAX_BYTES) {
        *why = "it is too large to be a state file";
    } else {
        buf = apr_palloc(p, (apr_size_t)st.st_size + 1);
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
        }
        if (got != (size_t)st.st_size) {
            *why = "it could not be read whole";
            buf = NULL;
        }
        *len = got;
    }
    close(fd);
    return buf;
}

/* Restores the state file; returns when it was written, or -1. */
static int64_t restore(apr_pool_t *ptemp, server_rec *s, ew_store *st, const char *path)
{
    size_t len = 0;
    const char *why;
    char *data = read_trusted(ptemp, path, &len, &why);
    if (data == NULL) {
        if (why != NULL) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "EW1301: not restoring the state file %s: %s; starting fresh", path, why);
            move_aside(s, path, ptemp);
        }
        return -1;
    }
    int64_t written_us = 0;
    int rc = ew_store_restore(st, data, len, &written_us, &why);
    if (rc != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "EW1304: not restoring the state file %s: %s; starting fresh", path, why);
        move_aside(s, path, ptemp);
        return -1;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                 "EW1305: restored the state file %s, written %" APR_INT64_T_FMT
                 " s before this start",
                 path, (apr_time_now() - written_us) / APR_USEC_PER_SEC);
    return written_us;
}

/* Temporary file, fsync, rename: a crash mid-write leaves the old file. */
static int write_state(persist_state *ps, apr_pool_t *p)
{
    ew_store *st = ew_shm_store();
    if (st == NULL || ps->path == NULL) {
        return 0;
    }
    uint64_t mark = ew_store_change_mark(st);
    char *data;
    size_t len;
    int rc = ew_store_serialize(st, p, apr_time_now(), &data, &len);
    if (rc != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rc, ps->s, "EW1306: could not read the store");
        return rc;
    }
    const char *tmp = apr_psprintf(p, "%s.tmp.%ld", ps->path, (long)getpid());
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rc, ps->s, "EW1307: cannot create %s", tmp);
        return rc;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    rc = done == len && fsync(fd) == 0 ? 0 : (errno != 0 ? errno : EIO);
    if (close(fd) != 0 && rc == 0) {
        rc = errno;
    }
    if (rc == 0 && rename(tmp, ps->path) != 0) {
        rc = errno;
    }
    if (rc != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rc, ps->s,
                     "EW1308: could not write the state file %s", ps->path);
        (void)unlink(tmp);
        return rc;
    }
    ps->written_mark = mark;
    ps->last_write = apr_time_now();
    return 0;
}

/* On restart and exit (pconf); children inherit the pool but must not
 * write. */
static apr_status_t final_write(void *data)
{
    persist_state *ps = data;
    if (getpid() == ps->parent) {
        /* A stop (not a restart, which clears pconf and configures again):
         * the timeline shows where the evidence pauses. */
        ew_store *st = ew_shm_store();
        if (st != NULL && ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_EXITING) {
            (void)ew_store_add_marker(st, EW_EVENT_STOP, apr_time_now(), -1);
        }
        apr_pool_t *p;
        if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
            (void)write_state(ps, p);
            apr_pool_destroy(p);
        }
    }
    state = NULL;
    return APR_SUCCESS;
}

static int persist_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    ew_store *st = ew_shm_store();
    persist_state *ps = apr_pcalloc(pconf, sizeof(*ps));
    ps->path = ew_conf_state_file(pconf, s);
    ps->interval = apr_time_from_sec(ew_conf_state_interval(s));
    ps->parent = getpid();
    ps->s = s;
    ps->last_write = apr_time_now();
    if (st == NULL) {
        return OK;
    }
    /* The timeline's start and restart markers; a start says how long
     * before it the evidence was last written (the gap nothing saw). */
    int64_t written_us = -1;
    if (ew_shm_store_is_new() && ps->path != NULL) {
        written_us = restore(ptemp, s, st, ps->path);
    }
    apr_time_t now = apr_time_now();
    (void)ew_store_add_marker(st, ew_shm_store_is_new() ? EW_EVENT_START : EW_EVENT_RESTART, now,
                              written_us >= 0 && now > written_us ? now - written_us : -1);
    if (ps->path == NULL) {
        return OK;
    }
    ps->written_mark = ew_store_change_mark(st);
    state = ps;
    apr_pool_cleanup_register(pconf, ps, final_write, apr_pool_cleanup_null);
    return OK;
}

static int persist_monitor(apr_pool_t *p, server_rec *s)
{
    (void)s;
    persist_state *ps = state;
    if (ps == NULL || getpid() != ps->parent || apr_time_now() - ps->last_write < ps->interval) {
        return DECLINED;
    }
    if (ew_store_change_mark(ew_shm_store()) != ps->written_mark) {
        (void)write_state(ps, p);
    } else {
        ps->last_write = apr_time_now();
    }
    return DECLINED;
}

void ew_persist_register_hooks(void)
{
    /* After the store exists: src/shm.c's post_config runs first. */
    ap_hook_post_config(persist_post_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_monitor(persist_monitor, NULL, NULL, APR_HOOK_MIDDLE);
}

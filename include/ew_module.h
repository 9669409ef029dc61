/*
 * Internal interface between the httpd glue files of mod_errwatch. Only these
 * files include httpd.h; the store and the formatters never do.
 */
#ifndef EW_MODULE_H
#define EW_MODULE_H

#include "httpd.h"
#include "http_config.h"

#include "ew_query.h"
#include "ew_store.h"

extern module AP_MODULE_DECLARE_DATA errwatch_module;

/* The handler name of the status URL: `SetHandler errwatch`. */
#define EW_HANDLER_NAME "errwatch"

/* Value of a dir-config flag that was not set in this context. */
#define EW_UNSET (-1)

/* Server config. Only the main server's values count: the store is one
 * segment for the whole server. */
typedef struct ew_server_conf {
    uint32_t files;  /* ErrWatchFiles: file-table capacity; 0 = unset */
    uint32_t recent; /* ErrWatchRecent: ring capacity; 0 = unset */
    /* Live tails (?tail); UINT32_MAX = unset. */
    uint32_t tail_max;       /* ErrWatchTailMax: tails open at once, server-wide */
    uint32_t tail_max_time;  /* ErrWatchTailMaxTime: seconds one may stay open */
    uint32_t tail_keepalive; /* ErrWatchTailKeepAlive: seconds between keep-alives */
    const char *state_file;  /* ErrWatchStateFile: NULL = unset, "" = none */
    uint32_t state_interval; /* ErrWatchStateInterval: seconds; UINT32_MAX = unset */
} ew_server_conf;

/* Defaults and limits of the tail directives (docs/configuration.md). */
#define EW_TAIL_MAX_DEFAULT 4
#define EW_TAIL_MAX_TIME_DEFAULT 600
#define EW_TAIL_MAX_TIME_LIMIT 86400
#define EW_TAIL_KEEPALIVE_DEFAULT 15
#define EW_TAIL_KEEPALIVE_LIMIT 300
#define EW_STATE_FILE_DEFAULT "errwatch.state"
#define EW_STATE_INTERVAL_DEFAULT 10
#define EW_STATE_INTERVAL_LIMIT 86400

/* Per-directory config (<Directory>, <Location>; .htaccess only for
 * ErrWatchBodyExcerpt). */
typedef struct ew_dir_conf {
    int enabled;      /* ErrWatch On|Off: count and record requests here */
    int allow_remote; /* ErrWatchAllowRemote: status URL answers non-loopback clients */
    int query_string; /* ErrWatchQueryString: keep the query string in recorded URIs */
    int body_excerpt; /* ErrWatchBodyExcerpt: a silent 5xx keeps its page's words */
} ew_dir_conf;

/* config.c */
extern const command_rec ew_directives[];
void *ew_create_server_conf(apr_pool_t *p, server_rec *s);
void *ew_merge_server_conf(apr_pool_t *p, void *base, void *add);
void *ew_create_dir_conf(apr_pool_t *p, char *dir);
void *ew_merge_dir_conf(apr_pool_t *p, void *base, void *add);
uint32_t ew_conf_files(const server_rec *s);
uint32_t ew_conf_recent(const server_rec *s);
uint32_t ew_conf_tail_max(const server_rec *s);
uint32_t ew_conf_tail_max_time(const server_rec *s);
uint32_t ew_conf_tail_keepalive(const server_rec *s);
/* The state file's path (DefaultRuntimeDir-relative default), or NULL for
 * `ErrWatchStateFile none`. */
const char *ew_conf_state_file(apr_pool_t *p, const server_rec *s);
uint32_t ew_conf_state_interval(const server_rec *s);
static inline const ew_dir_conf *ew_dir_config(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &errwatch_module);
}

/* shm.c: the store, created in the parent and inherited by every child
 * (NULL if it could not be made). Read inline on every request. */
int ew_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
extern ew_store *ew_shm_current __attribute__((visibility("hidden")));
static inline ew_store *ew_shm_store(void)
{
    return ew_shm_current;
}
/* src/version.c: the Server header token and the start-up log line. */
int ew_version_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* Was the store made new in this generation (first start, not a restart)? */
int ew_shm_store_is_new(void);

/* persist.c: the state file, restored at start-up and written by the
 * parent (monitor hook, stop and restart). */
void ew_persist_register_hooks(void);

/* capture.c: hooks that see every request. */
void ew_capture_register_hooks(apr_pool_t *p);
/* The client's URL path, %-decoded, without the query string. */
static inline const char *ew_request_path(const request_rec *r)
{
    return r->parsed_uri.path != NULL ? r->parsed_uri.path : r->uri;
}

/* src/crash.c: per-worker slots and crash recording. */
struct ew_worker_slot;
void ew_crash_register_hooks(void);

/* What the hot path needs to find and fill the worker's slot, set by
 * crash.c (post_config, child_init); read inline by capture.c's hooks, so
 * that the 200 path makes no call for it. Hidden: no GOT load. */
typedef struct ew_slot_hot {
    struct ew_worker_slot *base; /* slot 0, or NULL without slots */
    unsigned long count;
    int by_conn_id; /* the MPM numbers connections as the scoreboard does */
    int32_t pid;    /* this child's (getpid() once per child) */
    int generation; /* the config generation this child serves */
} ew_slot_hot;
extern ew_slot_hot ew_hot_slots __attribute__((visibility("hidden")));

/* The slot keeps the vhost as the server_rec's address plus this tag of
 * the generation and port: the parent, which forked the child with the
 * same configuration, names it if the generation is still its own
 * (name_request in src/crash.c decodes it). */
static inline uint64_t ew_vhost_tag(int generation, unsigned port)
{
    return ((uint64_t)(uint32_t)generation << 16) | (port & 0xffffu);
}

/* The scoreboard way to the worker's slot (MPMs other than prefork,
 * worker and event). */
struct ew_worker_slot *ew_worker_slot_lookup(const conn_rec *c);

/* The tag a request's slot holds while it is in flight (ew_slot_begin):
 * the address of the chain's first request_rec, never 0. */
static inline uint64_t ew_request_tag(const request_rec *origin)
{
    return (uint64_t)(uintptr_t)origin;
}
/* mod_wsgi's daemon mode (src/crash.c): the request's key in the
 * subprocess_env that mod_wsgi hands to its daemon process; a line the
 * daemon logs for a request with that key (ew_remote_line, returns 1 if
 * kept); the worker takes the lines when it records the failure. */
#define EW_REMOTE_KEY "mod_errwatch.request"
void ew_remote_key_set(request_rec *r, const struct ew_worker_slot *slot,
                       const request_rec *origin);
int ew_remote_line(const char *key, int level, const char *line);
uint32_t ew_remote_take(const struct ew_worker_slot *slot, const request_rec *origin, char *story,
                        size_t story_size, char *message, size_t message_size);

/* The translate_name part of the status URL (src/status_map.c): whether
 * r's <Location> says SetHandler errwatch. */
int ew_status_url_configured(request_rec *r);

/* status_handler.c: the status URL. */
int ew_status_handler(request_rec *r);
/* May this client see file paths and messages (loopback, or
 * ErrWatchAllowRemote On)? */
int ew_client_may_see_details(const request_rec *r);
/* ap_rwrite for any length. */
void ew_write_body(request_rec *r, const char *data, size_t len);

/* tail.c: ?tail, a live stream of new failures. */
int ew_tail_serve(request_rec *r, const ew_query *query);
void ew_tail_child_init(apr_pool_t *p, server_rec *s);
int ew_tail_monitor(apr_pool_t *p, server_rec *s);

/* status_hook.c: errwatch lines in mod_status's pages. */
void ew_status_hook_register(void);

/* server_stats.c: mod_status's figures, read from the scoreboard. */
struct ew_server_stats;
void ew_read_server_stats(request_rec *r, struct ew_server_stats *out);

#endif

/*
 * Capture: the hooks that see every request.
 *
 * A 5xx can be raised in many places (see docs/design.md): by a handler that
 * returns an error, by a handler that returns OK with r->status = 500 (mod_php),
 * by ap_send_error_response() after the content filters are gone, or before any
 * handler runs (.htaccess). All of them leave the final status on the last
 * request of the internal-redirect chain by the time httpd logs it, which is
 * what mod_log_config's %>s reads: log_transaction counts every client
 * response from there and records a 5xx with every error-log line the
 * request produced. No output filter is needed.
 *
 * Per-request state hangs off each request_rec of the internal-redirect
 * chain. The non-error path takes no lock: one small allocation, a few
 * pointer reads, one clock read, the request's URI copied into the worker's
 * slot (src/crash.c: what the parent records if the child dies) and a few
 * plain stores into that slot's counters. BENCHMARKS.md measures it.
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpd.h"
#include "apr_strings.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_connection.h"

#include "ew_attribution.h"
#include "ew_cause.h"
#include "ew_excerpt.h"
#include "ew_ids.h"
#include "ew_module.h"
#include "ew_slots.h"
#include "ew_story.h"

APLOG_USE_MODULE(errwatch);

/* Name recorded when the request failed before any handler was chosen. */
#define EW_NO_HANDLER "-"

typedef struct ew_req_state {
    const char *handler;          /* the handler this request was dispatched with */
    ew_worker_slot *slot;         /* the worker's slot (the chain's first request only) */
    int status_url;               /* a <Location> says SetHandler errwatch */
    uint64_t story_id;            /* the chain's claim on its thread's story builder */
    int message_level;            /* APLOG level of message, or -1 if none */
    const request_rec *owner;     /* the request using it; NULL once logged */
    char *excerpt;                /* its page's words (ErrWatchBodyExcerpt), or NULL */
    int remote;                   /* handed to mod_wsgi, which may run it in a daemon */
    char message[EW_MESSAGE_MAX]; /* valid when message_level >= 0 */
} ew_req_state;

/* The states of a connection's requests, made once per connection
 * (pre_connection): a request takes a free one when it first needs it and
 * gives it back when it is logged. Three cover a request, the one after it
 * (HTTP/1.1 pipelining logs a request after the next one began) and an
 * internal redirect; beyond that a request takes a state from its own pool
 * (never in the error_log hook, which must not allocate). Why not always
 * the request's pool: a 600-byte allocation early in every request shifts
 * every later allocation of the request, which cost httpd's own string
 * functions 85 instructions per request in alignment alone (measured,
 * BENCHMARKS.md section 6). */
#define EW_CONN_STATES 3
typedef struct ew_conn_states {
    ew_req_state state[EW_CONN_STATES];
} ew_conn_states;

/* A request's cell, its entry in r->request_config, holds NULL, a state,
 * or (bit 0 set) a light cell: no state at all, but the worker's slot and
 * a few flags packed in one word. A 200 for a static file never needs more
 * than that, so it never takes a state; the first error-log line or a
 * script handler turns the cell into a state, carrying its contents over.
 * Slots are 64-byte aligned, which leaves the low bits for the flags. */
#define EW_CELL_LIGHT 0x1u
#define EW_CELL_STATUS_URL 0x2u /* a <Location> says SetHandler errwatch */
#define EW_CELL_STATIC 0x4u     /* dispatched by its content type */
#define EW_CELL_FLAGS ((uintptr_t)0x3f)

static inline uintptr_t cell_of(const request_rec *r)
{
    return (uintptr_t)ap_get_module_config(r->request_config, &errwatch_module);
}

/* A cell's word as an address: the one place a word becomes a pointer
 * (the cell packs an address and flags in one word by design). */
static inline void *cell_ptr(uintptr_t word)
{
    return (void *)word; /* NOLINT(performance-no-int-to-ptr) */
}

static inline void cell_set(const request_rec *r, uintptr_t cell)
{
    ap_set_module_config(r->request_config, &errwatch_module, cell_ptr(cell));
}

/* The request's state, or NULL while it has none (a light cell). */
static inline ew_req_state *state_peek(const request_rec *r)
{
    uintptr_t cell = cell_of(r);
    return (cell & EW_CELL_LIGHT) != 0 ? NULL : (ew_req_state *)cell_ptr(cell);
}

/* The slot a request began in, from either kind of cell. */
static inline ew_worker_slot *cell_slot(uintptr_t cell)
{
    if ((cell & EW_CELL_LIGHT) != 0) {
        return cell_ptr(cell & ~EW_CELL_FLAGS);
    }
    return cell != 0 ? ((const ew_req_state *)cell_ptr(cell))->slot : NULL;
}

/* Not inlined (here and below, for the functions every request calls out
 * of a hook): a caller with a large frame pays its prologue on every call. */
#define EW_NOINLINE __attribute__((noinline))

/* A state for r: a free one of its connection's, else (if may_allocate)
 * one from r's pool, else NULL. It takes over a light cell's slot and
 * flags. message is not cleared: it is read only once message_level says
 * it holds a line. */
static EW_NOINLINE ew_req_state *state_take(const request_rec *r, int may_allocate)
{
    uintptr_t cell = cell_of(r);
    ew_req_state *st = NULL;
    if (r->main == NULL) {
        ew_conn_states *cs = ap_get_module_config(r->connection->conn_config, &errwatch_module);
        for (int i = 0; cs != NULL && i < EW_CONN_STATES; i++) {
            if (cs->state[i].owner == NULL) {
                st = &cs->state[i];
                break;
            }
        }
    }
    if (st == NULL) {
        if (!may_allocate) {
            return NULL;
        }
        st = apr_palloc(r->pool, sizeof(*st));
    }
    int light = (cell & EW_CELL_LIGHT) != 0;
    st->owner = r;
    st->handler = light && (cell & EW_CELL_STATIC) != 0 ? r->content_type : NULL;
    st->slot = light ? cell_slot(cell) : NULL;
    st->status_url = light && (cell & EW_CELL_STATUS_URL) != 0;
    st->story_id = 0;
    st->message_level = -1;
    st->excerpt = NULL;
    st->remote = 0;
    cell_set(r, (uintptr_t)st);
    return st;
}

/* The request's state, made when a hook first needs one: a script's
 * handler, or (state_take without allocating) the error_log hook. */
static inline ew_req_state *state_get(const request_rec *r)
{
    ew_req_state *st = state_peek(r);
    return st != NULL ? st : state_take(r, 1);
}

/* pre_connection: the connection's request states, once per connection
 * rather than once per request. Only their owners need a value: state_take
 * sets every other field when it hands a state out, so the 2 KB are not
 * cleared (a connection that carries one request, as every 500 does, paid
 * 240 instructions for it). */
static int make_conn_states(conn_rec *c, void *csd)
{
    (void)csd;
    if (ew_shm_store() != NULL) {
        ew_conn_states *cs = apr_palloc(c->pool, sizeof(*cs));
        for (int i = 0; i < EW_CONN_STATES; i++) {
            cs->state[i].owner = NULL;
        }
        ap_set_module_config(c->conn_config, &errwatch_module, cs);
    }
    return OK;
}

static request_rec *chain_origin(request_rec *r)
{
    while (r->prev != NULL) {
        r = r->prev;
    }
    return r;
}

static request_rec *chain_final(request_rec *r)
{
    while (r->next != NULL) {
        r = r->next;
    }
    return r;
}

/* The URI a record keeps: the path, and the query string only with
 * ErrWatchQueryString On. */
static const char *recorded_uri(request_rec *origin)
{
    const char *path = ew_request_path(origin);
    if (origin->args != NULL && ew_dir_config(origin)->query_string == 1) {
        return apr_pstrcat(origin->pool, path, "?", origin->args, NULL);
    }
    return path;
}

/* The failing request: the earliest one in the chain whose own status is
 * 5xx. For ErrorDocument that is the original request; behind a rewrite
 * front controller it is the script that ran. Without one, the final
 * request. */
static request_rec *attributed_request(request_rec *origin)
{
    for (request_rec *r = origin; r != NULL; r = r->next) {
        if (r->status >= 500 && r->status <= 599) {
            return r;
        }
    }
    return chain_final(origin);
}

/* `ErrWatch Off` on the client's URL or on any request up to the one that
 * answered (or failed). An ErrorDocument page further down the chain does
 * not count: its location says nothing about the failure it reports. */
static int chain_disabled(request_rec *origin)
{
    const request_rec *last = attributed_request(origin);
    for (const request_rec *r = origin; r != NULL; r = r->next) {
        if (ew_dir_config(r)->enabled == 0) {
            return 1;
        }
        if (r == last) {
            break;
        }
    }
    return 0;
}

/* Microseconds since the request arrived; 0 if the clock stepped back. */
static apr_time_t elapsed_since(const request_rec *origin)
{
    apr_time_t d = apr_time_now() - origin->request_time;
    return d > 0 ? d : 0;
}

/* The worker's slot: by the connection's number where the MPM numbers
 * connections as the scoreboard numbers workers, else by the scoreboard.
 * NULL without slots and for HTTP/2 streams (they count into the store's
 * shared counters). */
static inline ew_worker_slot *worker_slot(const conn_rec *c)
{
    if (ew_hot_slots.base == NULL || c->master != NULL) {
        return NULL;
    }
    if (ew_hot_slots.by_conn_id) {
        return c->id >= 0 && (unsigned long)c->id < ew_hot_slots.count ? &ew_hot_slots.base[c->id]
                                                                       : NULL;
    }
    return ew_worker_slot_lookup(c);
}

/* A request starts in the worker's slot: what the parent records if the
 * process dies (src/crash.c). The method and the vhost go in as numbers
 * the parent names; only the URI is copied. */
static inline void slot_begin(ew_worker_slot *slot, const request_rec *r)
{
    const server_rec *s = r->server;
    unsigned port = s->port != 0 ? s->port : r->connection->local_addr->port;
    /* HEAD shares GET's number, and a method without one has none: only
     * those are copied by name. */
    const char *method = r->method_number >= M_INVALID || r->header_only ? r->method : NULL;
    ew_slot_begin(slot, ew_request_tag(r), ew_hot_slots.pid, r->request_time, r->method_number,
                  method, ew_request_path(r), (uint64_t)(uintptr_t)s,
                  ew_vhost_tag(ew_hot_slots.generation, port));
}

/* translate_name, first and before mod_rewrite's: the request line and
 * the first location walk are done. A request starts (the chain's first
 * request only): the worker's slot gets it, so that the parent can record
 * it if the process dies. And the status URL is noted (src/status_map.c
 * then skips its directory walk). One hook for both, because every
 * request pays for each hook it passes. The cell is set before the slot
 * is filled, so that little is live across the URI's copy. */
static int begin_request(request_rec *r)
{
    const core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    int status_url = d->expr_handler != NULL && ew_status_url_configured(r);
    ew_worker_slot *slot = NULL;
    if (r->main == NULL && r->prev == NULL && ew_shm_store() != NULL) {
        slot = worker_slot(r->connection);
    }
    ew_req_state *st = state_peek(r);
    if (st != NULL) { /* a line logged while the request was read */
        st->slot = slot;
        st->status_url = status_url;
    } else {
        cell_set(r, (uintptr_t)slot | EW_CELL_LIGHT | (status_url ? EW_CELL_STATUS_URL : 0));
    }
    if (slot != NULL) {
        slot_begin(slot, r);
    }
    return DECLINED;
}

/* ---- a failing page's own words --------------------------------------------- */

/* Added by dispatch_handler for a script's handler only (a static file is
 * never a silent 5xx worth reading, and its requests must not pay): when
 * the response turns out to be a 5xx and the request has logged nothing,
 * it reads the first EW_EXCERPT_SCAN bytes of the body as they pass and
 * keeps the page's heading, title or first text. Otherwise it removes
 * itself at the first brigade. */
static ap_filter_rec_t *excerpt_filter_handle;

static int is_markup(const char *content_type)
{
    return content_type == NULL || strncasecmp(content_type, "text/html", 9) == 0 ||
           strncasecmp(content_type, "application/xhtml", 17) == 0;
}

static apr_status_t excerpt_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    ew_req_state *st = state_peek(r);
    ew_excerpt *ex = f->ctx;
    if (ex == NULL) {
        if (r->status < 500 || r->status > 599 || st == NULL || st->message_level >= 0) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        ex = apr_palloc(r->pool, sizeof(*ex));
        ew_excerpt_init(ex, is_markup(r->content_type));
        st->excerpt = apr_palloc(r->pool, EW_EXCERPT_MAX);
        st->excerpt[0] = '\0';
        f->ctx = ex;
    }
    int done = 0;
    /* APR's ring macros cast through char *, which clang's -Wcast-align
     * flags; the cast is APR's own and correct. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-align"
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb) && !done;
         b = APR_BUCKET_NEXT(b)) {
#pragma GCC diagnostic pop
        if (APR_BUCKET_IS_EOS(b)) {
            done = 1;
        } else if (!APR_BUCKET_IS_METADATA(b)) {
            const char *data;
            apr_size_t len;
            if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
                done = 1;
            } else {
                done = ew_excerpt_feed(ex, data, len);
            }
        }
    }
    (void)ew_excerpt_write(ex, st->excerpt, EW_EXCERPT_MAX);
    if (done) {
        ap_remove_output_filter(f);
    }
    return ap_pass_brigade(f->next, bb);
}

/* ---- handler ---------------------------------------------------------------- */

/* A main request whose handler was set by name (a script's), or that
 * already has a state: remember the handler, and give a script's handler
 * and path to the worker's slot. */
static EW_NOINLINE int dispatch_named(request_rec *r)
{
    ew_req_state *st = state_get(r);
    st->handler = r->handler;
    if (r->handler != r->content_type) {
        if (ew_dir_config(r)->body_excerpt != 0) {
            ap_add_output_filter_handle(excerpt_filter_handle, NULL, r, r->connection);
        }
        request_rec *origin = chain_origin(r);
        ew_worker_slot *slot = cell_slot(cell_of(origin));
        if (slot != NULL) {
            /* mod_wsgi in daemon mode runs the script in another
             * process, which gets this key with the request. */
            if ((r->handler[0] == 'w' && strcmp(r->handler, "wsgi-script") == 0) ||
                (r->handler[0] == 'a' && strcmp(r->handler, "application/x-httpd-wsgi") == 0)) {
                ew_remote_key_set(r, slot, origin);
                st->remote = 1;
            }
            ew_slot_set_target(slot, r->handler, r->filename);
            if (origin->args != NULL && ew_dir_config(origin)->query_string == 1) {
                ew_slot_set_uri(slot, recorded_uri(origin));
            }
        }
    }
    return ew_status_handler(r);
}

/* Runs first among handlers: r->handler is the dispatched name here, and
 * ap_invoke_handler() may restore it to NULL afterwards. One hook does
 * three things, since every request pays for each hook it passes: it
 * remembers the handler, gives a script's handler and path to the worker's
 * slot, and serves the status URL. */
static int dispatch_handler(request_rec *r)
{
    const char *handler = r->handler;
    if (handler == NULL) {
        return DECLINED;
    }
    if (r->main == NULL) {
        /* A static file (dispatched by its content type, as
         * ap_invoke_handler does when no handler was set) keeps only its
         * URI in the slot, and a flag for its handler: no script runs to
         * crash, and copying its path would cost more than the rest of the
         * slot's writes. */
        uintptr_t cell = cell_of(r);
        if (handler != r->content_type || (cell & EW_CELL_LIGHT) == 0) {
            return dispatch_named(r);
        }
        cell_set(r, cell | EW_CELL_STATIC);
    }
    /* The status handler's own first test, without the call. */
    return handler[0] == EW_HANDLER_NAME[0] ? ew_status_handler(r) : DECLINED;
}

/* map_to_storage, first: the status URL skips the directory walk and with
 * it every .htaccess (src/status_map.c says why). */
static int skip_directory_walk(request_rec *r)
{
    uintptr_t cell = cell_of(r);
    int status_url = (cell & EW_CELL_LIGHT) != 0 ? (cell & EW_CELL_STATUS_URL) != 0
                     : cell != 0 ? ((const ew_req_state *)cell_ptr(cell))->status_url
                                 : 0;
    return status_url ? OK : DECLINED;
}

/* ---- error-log messages --------------------------------------------------- */

/* The request's error story is built in its thread's own builder: the
 * error_log hook must not allocate, a request runs on one thread from its
 * first line to its logging, and only failing requests pay for the copy.
 * A chain claims the builder with a ticket at its first line; a later
 * chain on the same thread takes it over (the earlier one has been logged,
 * or was suspended, and then keeps its single message only). */
static _Thread_local ew_story_builder story_builder;
static _Atomic uint64_t story_tickets;

/* Lines up to notice: info and debug lines are not a failure's story. */
#define EW_STORY_LEVEL APLOG_NOTICE

static void add_to_story(const request_rec *r, int level, const char *errstr)
{
    const request_rec *origin = r;
    while (origin->prev != NULL) {
        origin = origin->prev;
    }
    if (level > EW_STORY_LEVEL) {
        return;
    }
    ew_req_state *os = state_peek(origin);
    if (os == NULL) {
        os = state_take(origin, 0);
    }
    if (os == NULL || os->owner != origin) {
        return;
    }
    ew_story_builder *sb = &story_builder;
    if (os->story_id == 0) {
        os->story_id = atomic_fetch_add_explicit(&story_tickets, 1, memory_order_relaxed) + 1;
        sb->id = os->story_id;
        ew_story_reset(sb);
    }
    if (sb->id == os->story_id) {
        ew_story_add(sb, level, errstr);
    }
}

/* Keeps the most severe message of each request (the last one on ties),
 * and every line for its story. Called for every line that passes
 * LogLevel, so it does nothing for lines that are not about a request. */
static void capture_error_log(const ap_errorlog_info *info, const char *errstr)
{
    if (info->r == NULL || info->level < 0 || errstr == NULL) {
        return;
    }
    const request_rec *r = info->r;
    while (r->main != NULL) {
        r = r->main; /* a nested subrequest's messages belong to the client's request */
    }
    /* A request this process does not serve but runs for a worker of
     * another process (mod_wsgi's daemon): the line goes to that worker's
     * slot. The worker's own requests always have a cell by now. */
    if (cell_of(r) == 0 && r->subprocess_env != NULL && info->level <= EW_STORY_LEVEL) {
        const char *key = apr_table_get(r->subprocess_env, EW_REMOTE_KEY);
        if (key != NULL && ew_remote_line(key, info->level, errstr)) {
            return;
        }
    }
    if (ew_shm_store() == NULL) {
        return;
    }
    ew_req_state *st = state_peek(r);
    if (st == NULL) {
        st = state_take(r, 0); /* a line before translate_name */
    }
    add_to_story(r, info->level, errstr);
    /* owner: a line about a request that was already logged (from a pool
     * cleanup, say) must not land in the request now using its state. */
    if (st == NULL || st->owner != r ||
        (st->message_level >= 0 && info->level > st->message_level)) {
        return;
    }
    st->message_level = info->level;
    ew_copy_field(st->message, sizeof(st->message), ew_message_focus(errstr));
}

/* ---- commit --------------------------------------------------------------- */

/* The attributed request's message, or the chain's most severe one. */
static const char *failure_message(request_rec *origin, request_rec *culprit)
{
    const ew_req_state *cs = state_peek(culprit);
    if (cs != NULL && cs->message_level >= 0) {
        return cs->message;
    }
    const ew_req_state *best = NULL;
    for (request_rec *r = origin; r != NULL; r = r->next) {
        const ew_req_state *st = state_peek(r);
        if (st != NULL && st->message_level >= 0 &&
            (best == NULL || st->message_level <= best->message_level)) {
            best = st;
        }
    }
    return best != NULL ? best->message : "";
}

/* The handler the request was dispatched with, or "-" if none ran. */
static const char *dispatched_handler(const request_rec *r)
{
    uintptr_t cell = cell_of(r);
    if ((cell & EW_CELL_LIGHT) != 0) {
        return (cell & EW_CELL_STATIC) != 0 && r->content_type != NULL ? r->content_type
                                                                       : EW_NO_HANDLER;
    }
    const ew_req_state *st = cell_ptr(cell);
    return st != NULL && st->handler != NULL ? st->handler : EW_NO_HANDLER;
}

/* Whether the chain was handed to mod_wsgi, whose daemon may have logged
 * its story in another process. */
static int handed_to_daemon(request_rec *origin)
{
    for (const request_rec *q = origin; q != NULL; q = q->next) {
        const ew_req_state *qs = state_peek(q);
        if (qs != NULL && qs->remote) {
            return 1;
        }
    }
    return 0;
}

/* ---- a failure's cause, ids and what changed -------------------------------- */

/* The last failure's cause on this thread. In an outage every failure is
 * the same one: comparing the inputs costs far less than working the
 * cause out again (BENCHMARKS.md, the error path). The fingerprint depends
 * on nothing else. */
typedef struct ew_cause_memo {
    int valid;
    int status;
    char message[EW_MESSAGE_MAX];
    char handler[EW_HANDLER_MAX];
    char file[EW_FILE_MAX];
    char story[EW_STORY_MAX];
    ew_cause_id cause;
} ew_cause_memo;
static _Thread_local ew_cause_memo cause_memo;

static const ew_cause_id *cause_of(const ew_failure *f, const char *story)
{
    ew_cause_memo *m = &cause_memo;
    if (m->valid && m->status == f->status && strcmp(m->message, f->message) == 0 &&
        strcmp(m->file, f->file) == 0 && strcmp(m->handler, f->handler) == 0 &&
        strcmp(m->story, story) == 0) {
        return &m->cause;
    }
    ew_cause_fingerprint(f->message, story, f->status, 0, f->handler, f->file, &m->cause);
    m->status = f->status;
    ew_copy_field(m->message, sizeof(m->message), f->message);
    ew_copy_field(m->handler, sizeof(m->handler), f->handler);
    ew_copy_field(m->file, sizeof(m->file), f->file);
    ew_copy_field(m->story, sizeof(m->story), story);
    /* A story cut by the copy would compare unequal next time: no harm. */
    m->valid = 1;
    return &m->cause;
}

/* The request's ids, each only when present and well-formed. */
static void take_ids(const request_rec *origin, ew_failure *f)
{
    const char *uid =
        origin->subprocess_env != NULL ? apr_table_get(origin->subprocess_env, "UNIQUE_ID") : NULL;
    (void)ew_take_unique_id(uid, f->unique_id, sizeof(f->unique_id));
    (void)ew_take_traceparent(apr_table_get(origin->headers_in, "traceparent"), f->trace_id,
                              sizeof(f->trace_id));
    (void)ew_take_dd_trace_id(apr_table_get(origin->headers_in, "x-datadog-trace-id"),
                              f->dd_trace_id, sizeof(f->dd_trace_id));
}

/* A file's modification time, or EW_MTIME_MISSING. Only plain absolute
 * paths: a name taken from a message is not followed through "..". */
static int64_t mtime_of(const char *path)
{
    struct stat sb;
    if (path[0] != '/' || strstr(path, "/../") != NULL || stat(path, &sb) != 0) {
        return EW_MTIME_MISSING;
    }
    int64_t t = (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
    return t > 0 ? t : EW_MTIME_MISSING;
}

/* What the store asked this caller to read (at most once a minute per
 * file and per cause): the failing script's time and the cause's named
 * files' times. Outside the store's lock; a stat() on the error path only. */
static void note_what_changed(ew_store *store, request_rec *origin, const ew_failure *f,
                              const ew_cause_id *cause, const ew_mtimes_wanted *wanted)
{
    int64_t script = wanted->script ? mtime_of(f->file) : EW_MTIME_UNREAD;
    int64_t named[EW_CAUSE_NAMED_MAX];
    uint32_t n = wanted->named ? cause->named_len : 0;
    for (uint32_t i = 0; i < n && i < EW_CAUSE_NAMED_MAX; i++) {
        named[i] = mtime_of(cause->named[i]);
    }
    int rc = ew_store_note_mtimes(store, f->file, script, cause->key, named, n);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rc, origin,
                      "EW0102: could not note modification times: store lock unavailable");
    }
}

/* The request's vhost as "host:port". A thread's failures in an outage
 * come from one or two vhosts: the text is kept for the last one (a child
 * never sees its server_recs change). */
typedef struct ew_vhost_memo {
    const server_rec *server;
    unsigned port;
    char text[EW_VHOST_MAX];
} ew_vhost_memo;
static _Thread_local ew_vhost_memo vhost_memo;

static void vhost_of(const request_rec *origin, char *dst, size_t size)
{
    const server_rec *s = origin->server;
    unsigned port = s->port != 0 ? s->port : origin->connection->local_addr->port;
    ew_vhost_memo *m = &vhost_memo;
    if (m->server != s || m->port != port) {
        ew_format_vhost(m->text, sizeof(m->text), s->server_hostname, port);
        m->server = s;
        m->port = port;
    }
    ew_copy_field(dst, size, m->text);
}

/* Runs while the worker's slot still holds the request: a daemon's story
 * for it is kept under the slot and the request's tag until then. */
static EW_NOINLINE void record_failure(ew_store *store, request_rec *origin, int status,
                                       apr_time_t duration_us)
{
    request_rec *culprit = attributed_request(origin);
    ew_failure f;

    f.time_us = origin->request_time;
    f.duration_us = duration_us;
    f.pid = (int32_t)getpid();
    f.status = (uint16_t)status;
    /* A response, not a crash or a marker: these are stored and persisted. */
    f.crash_signal = 0;
    f.in_flight = 0;
    f.event = EW_EVENT_FAILURE;
    take_ids(origin, &f);
    ew_copy_field(f.method, sizeof(f.method), origin->method);

    ew_copy_field(f.uri, sizeof(f.uri), recorded_uri(origin));

    vhost_of(origin, f.vhost, sizeof(f.vhost));
    ew_normalize_target(culprit->filename, dispatched_handler(culprit), f.file, sizeof(f.file),
                        f.handler, sizeof(f.handler));
    ew_copy_field(f.message, sizeof(f.message), failure_message(origin, culprit));

    /* The chain's story, if this thread's builder still holds it. */
    char story[EW_STORY_MAX];
    story[0] = '\0';
    const ew_req_state *os = state_peek(origin);
    if (os != NULL && os->story_id != 0 && story_builder.id == os->story_id) {
        (void)ew_story_write(&story_builder, story, sizeof(story));
        story_builder.id = 0;
    }
    /* Lines another process logged for it (mod_wsgi's daemon): after the
     * worker's own, and the most severe as the message if it has none. */
    if (handed_to_daemon(origin)) {
        (void)ew_remote_take(cell_slot(cell_of(origin)), origin, story, sizeof(story), f.message,
                             sizeof(f.message));
    }
    /* Nothing logged at all: the page's own words, marked as such. */
    const ew_req_state *cs = state_peek(culprit);
    if (f.message[0] == '\0' && cs != NULL && cs->excerpt != NULL && cs->excerpt[0] != '\0') {
        ew_copy_field(f.message, sizeof(f.message),
                      apr_pstrcat(origin->pool, EW_EXCERPT_MARK, cs->excerpt, NULL));
        if (story[0] == '\0') {
            ew_copy_field(story, sizeof(story), f.message);
        }
    }
    const ew_cause_id *cause = cause_of(&f, story);
    ew_mtimes_wanted wanted;
    int rc = ew_store_record_failure_cause(store, &f, story, cause, &wanted);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rc, origin,
                      "EW0101: could not record a %d response: store lock unavailable", status);
    } else if (wanted.script || wanted.named) {
        note_what_changed(store, origin, &f, cause, &wanted);
    }
}

/* The chain was logged: its states are free for the connection's next
 * requests. */
static void release_states(request_rec *origin)
{
    for (request_rec *q = origin; q != NULL; q = q->next) {
        ew_req_state *st = state_peek(q);
        if (st != NULL && st->owner == q) {
            st->owner = NULL;
        }
    }
}

/* The request is being logged: its response is complete (or the client went
 * away), and the final request of the chain holds the status the client
 * got, as mod_log_config's %>s. Count it, and record a 5xx. Every case but
 * the common one (below) comes here. */
static EW_NOINLINE int commit_chain(request_rec *r)
{
    ew_store *store = ew_shm_store();
    request_rec *origin = chain_origin(r);
    ew_worker_slot *slot = cell_slot(cell_of(origin));
    if (store == NULL) {
        return DECLINED;
    }
    /* The slot of the worker logging it: the one that began it, except
     * on event when the response was finished in write completion; then
     * it is counted here, never in the other worker's slot, whose worker
     * may be counting its own next request. */
    ew_worker_slot *here = worker_slot(r->connection);
    /* A lone request (no internal redirect) only has its own ErrWatch
     * setting to look at. Not counted, it must not stay in flight either,
     * or the child's normal exit would later look like a crash. */
    if (origin->next == NULL ? ew_dir_config(origin)->enabled != 0 : !chain_disabled(origin)) {
        const request_rec *final = chain_final(origin);
        int status = final->status;
        apr_time_t duration_us = elapsed_since(origin);
        uint64_t bytes = (uint64_t)(final->bytes_sent > 0 ? final->bytes_sent : 0);
        if (here != NULL) {
            ew_slot_count(here, status, bytes, (uint64_t)duration_us);
        } else {
            ew_store_count_response(store, status);
            ew_store_add_traffic(store, bytes, (uint64_t)duration_us);
        }
        if (status >= 500 && status <= 599) {
            record_failure(store, origin, status, duration_us);
        }
    }
    /* Out of flight last: until then a daemon's story stays reserved for
     * this request. */
    if (slot == here && slot != NULL) {
        ew_slot_finish(slot, ew_request_tag(origin));
    } else if (slot != NULL) {
        ew_slot_release(slot, ew_request_tag(origin));
    }
    release_states(origin);
    return DECLINED;
}

/* log_transaction. The common case, a lone request that never needed a
 * state (a light cell), that did not fail and that the worker which began
 * it logs, is counted and taken out of flight here with no call: it is
 * what commit_chain does for it, without the chain walks and the states
 * (BENCHMARKS.md section 6). */
static int commit_transaction(request_rec *r)
{
    uintptr_t cell = cell_of(r);
    int status = r->status;
    if ((cell & EW_CELL_LIGHT) != 0 && r->next == NULL && (status < 500 || status > 599)) {
        /* Only the chain's first request has a slot in its cell (so r is
         * a lone request), and only if the store was there when it began. */
        ew_worker_slot *slot = cell_ptr(cell & ~EW_CELL_FLAGS);
        if (slot != NULL && slot == worker_slot(r->connection) && ew_dir_config(r)->enabled != 0) {
            ew_slot_count(slot, status, (uint64_t)(r->bytes_sent > 0 ? r->bytes_sent : 0),
                          (uint64_t)elapsed_since(r));
            ew_slot_finish(slot, ew_request_tag(r));
            return DECLINED;
        }
    }
    return commit_chain(r);
}

void ew_capture_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_connection(make_conn_states, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(skip_directory_walk, NULL, NULL, APR_HOOK_FIRST);
    static const char *const before_rewrite[] = {"mod_rewrite.c", NULL};
    ap_hook_translate_name(begin_request, NULL, before_rewrite, APR_HOOK_FIRST);
    ap_hook_handler(dispatch_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_error_log(capture_error_log, NULL, NULL, APR_HOOK_MIDDLE);
    /* First among content filters: the body as the script wrote it, before
     * compression. */
    excerpt_filter_handle =
        ap_register_output_filter("ERRWATCH_EXCERPT", excerpt_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_log_transaction(commit_transaction, NULL, NULL, APR_HOOK_MIDDLE);
}

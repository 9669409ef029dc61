/*
 * ew_store: the shared-memory store of mod_errwatch.
 *
 * Plain C over APR and POSIX threads; never includes httpd.h. The store is
 * written against plain memory (base, len) so that the module places its two
 * parts, a fixed header and resizable tables, in anonymous shared-memory
 * segments and the unit tests in mmap'd memory. The layout is drawn in
 * src/store.c.
 *
 * Concurrency contract:
 * - ew_store_count_response() and ew_store_add_traffic() use atomics only;
 *   they are the hot path of every request and never take a lock.
 * - ew_store_record_failure() and ew_store_snapshot() take one robust,
 *   process-shared mutex that lives in the header. A holder that dies (even
 *   by SIGKILL) hands the lock to the next caller; tables it left
 *   half-written are repaired by the next process that uses them.
 */
#ifndef EW_STORE_H
#define EW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

#include "ew_tail.h"

/* Field sizes in bytes, including the terminating NUL. Longer values are
 * truncated at a UTF-8 character boundary. */
#define EW_METHOD_MAX 16
#define EW_URI_MAX 512
#define EW_VHOST_MAX 128
#define EW_HANDLER_MAX 64
#define EW_FILE_MAX 512
#define EW_MESSAGE_MAX 512
#define EW_UNIQUE_ID_MAX 48 /* mod_unique_id's ids are 24 or 27 characters */
#define EW_TRACE_ID_MAX 33  /* 32 hex digits */
#define EW_DD_TRACE_MAX 24  /* a 64-bit decimal */

/* Per-code counters cover 500..599. */
#define EW_CODE_FIRST 500
#define EW_CODE_COUNT 100

/* Request classes: index 1..5 are 1xx..5xx, 0 is anything else. */
#define EW_CLASS_OTHER 0
#define EW_CLASS_COUNT 6

/* Limits accepted for the two table sizes (directive values). */
#define EW_FILES_MIN 1
#define EW_FILES_MAX 1000000
#define EW_RECENT_MIN 1
#define EW_RECENT_MAX 100000
#define EW_FILES_DEFAULT 1024
#define EW_RECENT_DEFAULT 256

/* One failing client response. */
typedef struct ew_failure {
    uint64_t seq;        /* set by the store: 1, 2, ... in recording order,
                            server-wide and kept across restarts */
    int64_t time_us;     /* when the request arrived, microseconds since the epoch */
    int64_t duration_us; /* from arrival until the request was logged (%D) */
    int32_t pid;         /* the child process that served it */
    uint16_t status;     /* final status sent to the client */
    char method[EW_METHOD_MAX];
    char uri[EW_URI_MAX]; /* the client's URL path, %-decoded (as r->uri
                           before any rewrite); query left out by default */
    char vhost[EW_VHOST_MAX];
    char handler[EW_HANDLER_MAX];
    char file[EW_FILE_MAX];       /* script path of the attributed request */
    char message[EW_MESSAGE_MAX]; /* the request's most severe error-log line */
    int32_t crash_signal;         /* a crash (status 0): the signal that killed the child;
                                     0 for a failure that got a response */
    uint16_t in_flight;           /* a crash: requests in flight in that process */
    uint8_t event;                /* EW_EVENT_FAILURE, or a server start/stop/restart
                                     marker in the ring (status 0, no file) */
    /* State file version 3 on (older files end here: their rows are read
     * with these fields empty, see EW_FAILURE_V2_SIZE). */
    uint64_t cause_key;                /* the failure's cause (ew_cause.h); 0: none */
    char unique_id[EW_UNIQUE_ID_MAX];  /* mod_unique_id's UNIQUE_ID, or "" */
    char trace_id[EW_TRACE_ID_MAX];    /* W3C traceparent trace id, 32 hex digits, or "" */
    char dd_trace_id[EW_DD_TRACE_MAX]; /* x-datadog-trace-id (decimal), or "" */
} ew_failure;

/* Sizes of a ring entry and a file row before version 3 of the state file
 * added fields at their ends (checked in src/store_persist.c). */
#define EW_FAILURE_V2_SIZE 1784u
#define EW_FILE_STAT_V2_SIZE 1128u

/* Kinds of ring entries (ew_failure.event). */
enum { EW_EVENT_FAILURE = 0, EW_EVENT_START, EW_EVENT_STOP, EW_EVENT_RESTART };

/* Crash counters are kept per signal number below this. */
#define EW_SIGNAL_COUNT 65

/* Rolling windows: 5 s buckets; the windows are 1, 5 and 15 minutes. */
#define EW_WINDOW_COUNT 3
#define EW_BUCKET_US 5000000LL
#define EW_BUCKETS 192 /* > 15 min / 5 s, plus the bucket in progress */
extern const int ew_window_minutes[EW_WINDOW_COUNT];

/* Failures per (handler, status) pair; pairs beyond this many are counted
 * under the handler name EW_HANDLER_OTHER. */
#define EW_HANDLER_SLOTS 64
#define EW_HANDLER_OTHER "other"

typedef struct ew_handler_stat {
    char handler[EW_HANDLER_MAX];
    uint16_t status;
    uint64_t count;
} ew_handler_stat;

/* Aggregate per failing file. */
typedef struct ew_file_stat {
    uint64_t count;
    int64_t first_seen_us;
    int64_t last_seen_us;
    uint16_t last_status;
    uint64_t crashes; /* of count, how many were crashes */
    char file[EW_FILE_MAX];
    char handler[EW_HANDLER_MAX]; /* handler of the latest failure */
    char message[EW_MESSAGE_MAX]; /* latest non-empty message */
    /* State file version 3 on. */
    uint64_t cause_key;       /* the cause of its latest failure */
    int64_t script_mtime_us;  /* the file's modification time when last read:
                                 EW_MTIME_UNREAD, EW_MTIME_MISSING or a time */
    int64_t mtime_checked_us; /* when it was last read (at most once a minute) */
} ew_file_stat;

/* Modification times ("what changed"): not read yet, or the file could
 * not be read (missing, or not a file path). */
#define EW_MTIME_UNREAD 0
#define EW_MTIME_MISSING (-1)
/* A failing file's or a cause's named files' times are read again at most
 * this often. */
#define EW_MTIME_EVERY_US 60000000LL

/* ---- causes: failures grouped by what went wrong (src/store_causes.c) ---- */

/* The table holds the EW_CAUSES most recently seen causes; a new cause
 * beyond that evicts the least recently seen one (counted). Under each,
 * the EW_CAUSE_TOP busiest files and URIs are kept (space-saving counts:
 * exact for a heavy hitter, an upper bound for a newcomer), and the
 * modification times of the files its message names. */
#define EW_CAUSES 32
#define EW_CAUSE_TOP 3
#define EW_CAUSE_TITLE_MAX 256
#define EW_CAUSE_REF_MAX 256
#define EW_CAUSE_STORY_MAX 512
#define EW_CAUSE_NAMED 3

typedef struct ew_cause_ref {
    uint64_t count;
    char text[EW_CAUSE_REF_MAX];
} ew_cause_ref;

typedef struct ew_changed_file {
    int64_t mtime_us; /* EW_MTIME_UNREAD, EW_MTIME_MISSING or a time */
    char path[EW_CAUSE_REF_MAX];
} ew_changed_file;

typedef struct ew_cause_stat {
    uint64_t key; /* 0: an unused row */
    uint64_t count;
    uint64_t crashes;
    int64_t first_seen_us;
    int64_t last_seen_us;
    int64_t checked_us;   /* when the named files' times were last read */
    uint64_t example_seq; /* the failure its message and story come from */
    uint32_t last_status;
    uint32_t files_len;
    uint32_t uris_len;
    uint32_t changed_len;
    uint32_t files_total; /* file rows whose latest failure had this cause */
    uint32_t reserved;
    char title[EW_CAUSE_TITLE_MAX];   /* the normalised message (ew_cause.h) */
    char handler[EW_HANDLER_MAX];     /* of its first failure */
    char message[EW_MESSAGE_MAX];     /* its first failure's message */
    char story[EW_CAUSE_STORY_MAX];   /* and the start of its story */
    ew_cause_ref files[EW_CAUSE_TOP]; /* busiest first in a snapshot */
    ew_cause_ref uris[EW_CAUSE_TOP];
    ew_changed_file changed[EW_CAUSE_NAMED]; /* the files its message names */
} ew_cause_stat;

/* A consistent copy of the store, taken under the lock and owned by a pool. */
/* A server start, stop or restart on the timeline (EW_EVENT_START, _STOP,
 * _RESTART), kept apart from the failures so that failure counts, seqs and
 * the ring stay failures only. gap_us: for a start, how long before it the
 * state file was last written (the stretch nothing was recorded); -1 when
 * not known (no state file restored). */
#define EW_MARKERS 32

typedef struct ew_marker {
    int64_t time_us;
    int64_t gap_us;
    uint32_t event;
    uint32_t reserved;
} ew_marker;

typedef struct ew_history_minute {
    int64_t minute_us; /* start of the minute, microseconds since the epoch */
    uint64_t count_5xx;
    uint64_t count_500;
    uint64_t crashes;
} ew_history_minute;

typedef struct ew_snapshot {
    int64_t since_us; /* when counting started (survives restarts) */
    int64_t taken_us; /* when this snapshot was taken */
    uint64_t requests_total;
    uint64_t requests_by_class[EW_CLASS_COUNT];
    uint64_t errors_by_code[EW_CODE_COUNT]; /* index = status - 500 */
    uint64_t bytes_sent;
    uint64_t duration_us_total;
    uint64_t failures_recorded; /* failures that reached the table and ring;
                                   also the seq of the latest one */
    uint64_t files_evicted;
    uint64_t lock_recoveries; /* times a dead holder's lock was taken over */
    uint32_t tail_waiters;    /* live tails asleep now (plus, until the parent's next
                                 monitor round, ones killed while asleep) */
    uint64_t crashes_total;   /* requests lost with a child killed by a signal */
    uint64_t crashes_by_signal[EW_SIGNAL_COUNT];
    /* Failures recorded in the last 1, 5 and 15 minutes (ew_window_minutes),
     * counted in whole 5 s buckets up to the one holding taken_us. */
    uint64_t window_500[EW_WINDOW_COUNT];
    uint64_t window_5xx[EW_WINDOW_COUNT];
    uint32_t handlers_len;
    ew_handler_stat *handlers; /* by handler name, then status */
    uint32_t files_capacity;
    uint32_t files_total; /* files in the table */
    uint32_t files_len;   /* rows copied into files (a view may ask for fewer) */
    ew_file_stat *files;  /* sorted: count descending, then most recent first */
    uint32_t recent_capacity;
    uint32_t recent_total; /* failures the ring holds */
    uint32_t recent_len;   /* the newest of them, copied into recent */
    ew_failure *recent;    /* newest first */
    /* recent[i]'s error story (lines joined by '\n'), or NULL: kept for
     * the newest EW_STORIES failures. NULL itself when no view asked. */
    char **recent_story;
    uint32_t markers_len;
    ew_marker markers[EW_MARKERS]; /* newest first */
    /* Filled by the caller with ew_store_history when a view shows it;
     * oldest minute first. */
    uint32_t history_len;
    ew_history_minute *history;
    /* Causes, count descending (ew_store_snapshot*; not the summary). */
    uint32_t causes_len;
    uint32_t causes_total; /* causes in the table */
    uint64_t causes_evicted;
    ew_cause_stat *causes;
} ew_snapshot;

typedef struct ew_store ew_store;

/* Bytes for the header (counters, lock, windows, handler rows), for the
 * tables (file rows, index, ring) with these capacities (0 if out of range),
 * and for both in one region. */
size_t ew_store_header_size(void);
size_t ew_store_tables_size(uint32_t files, uint32_t recent);
size_t ew_store_size(uint32_t files, uint32_t recent);

/* Formats a fresh store, the header in [header, +header_len) and the tables
 * in [tables, +tables_len), and returns a handle from pool. Both parts must
 * be 64-byte aligned and the tables zero-filled (a new anonymous mapping or
 * apr_shm segment, or calloc'd memory): only the parts' headers are
 * written, so unused capacity costs no RAM. Returns NULL if a length is too
 * small, a base is misaligned or a capacity is out of range. */
ew_store *ew_store_create(apr_pool_t *pool, void *header, size_t header_len, void *tables,
                          size_t tables_len, uint32_t files, uint32_t recent, int64_t now_us);

/* The same with the tables right after the header in one region of
 * ew_store_size() bytes. */
ew_store *ew_store_init(apr_pool_t *pool, void *base, size_t len, uint32_t files, uint32_t recent,
                        int64_t now_us);

/* A handle on parts that ew_store_create formatted (e.g. after a restart).
 * Returns NULL if they are not a store of this version and layout. */
ew_store *ew_store_attach(apr_pool_t *pool, void *header, size_t header_len, void *tables,
                          size_t tables_len);

/* Moves a store to new, zero-filled tables with other capacities and
 * returns the handle that uses them; the old handle stays valid on the old
 * tables (children of the previous generation keep it until they exit).
 * Counters, windows and handler rows live in the shared header, so every
 * generation keeps counting into them and nothing is copied or lost. The
 * busiest files and the newest failures are copied, in the same eviction
 * order; files that no longer fit count as evicted. The lock is awaited at
 * most timeout_ms. Returns NULL with *rc_out set (ETIMEDOUT if a stuck
 * process holds the lock, EINVAL, ENOMEM) if nothing was done. */
ew_store *ew_store_resize(apr_pool_t *pool, ew_store *old, void *tables, size_t tables_len,
                          uint32_t files, uint32_t recent, int timeout_ms, int *rc_out);

uint32_t ew_store_files_capacity(const ew_store *st);
uint32_t ew_store_recent_capacity(const ew_store *st);

/* Counters, windows and table sizes only (files_total, not the rows): what
 * ?auto needs, without copying the tables. files, recent and handlers are
 * left empty. Returns 0 or an errno value. */
int ew_store_summary(ew_store *st, int64_t now_us, ew_snapshot *out);

/* Hot path, lock-free: one response with this final status. */
void ew_store_count_response(ew_store *st, int status);

/* Hot path, lock-free: bytes and time spent serving one response. */
void ew_store_add_traffic(ew_store *st, uint64_t bytes, uint64_t duration_us);

/* Error path: adds a failure to the file table, the ring, the handler table
 * and the window bucket of time_us + duration_us (when the request was
 * logged). Returns 0, or an errno value if the lock could not be taken. */
int ew_store_record_failure(ew_store *st, const ew_failure *failure);

/* The same with the request's error story (include/ew_story.h; NULL or ""
 * for none), kept for the newest EW_STORIES failures. */
#define EW_STORIES 64
int ew_store_record_failure_story(ew_store *st, const ew_failure *failure, const char *story);

/* The same with the failure's cause already worked out (ew_cause.h; NULL:
 * worked out here, before the lock is taken). *wanted (may be NULL) says
 * which modification times the caller should now read and hand to
 * ew_store_note_mtimes: the store claims each read for one caller at most
 * once every EW_MTIME_EVERY_US. */
struct ew_cause_id;
typedef struct ew_mtimes_wanted {
    int script; /* the failure's file row is new or due */
    int named;  /* the cause is new or due: its named files */
} ew_mtimes_wanted;
int ew_store_record_failure_cause(ew_store *st, const ew_failure *failure, const char *story,
                                  const struct ew_cause_id *cause, ew_mtimes_wanted *wanted);

/* What the caller read: the file row of file (the failure's file, or its
 * URI when it had none) gets script_mtime_us, and the cause key's named
 * files named_mtime_us[0..named_len) (in the order of ew_cause_id.named).
 * Rows that have gone meanwhile are skipped. Returns 0 or an errno value. */
int ew_store_note_mtimes(ew_store *st, const char *file, int64_t script_mtime_us, uint64_t key,
                         const int64_t *named_mtime_us, uint32_t named_len);

/* Per-worker counters (ew_slots.h): from now on ew_store_summary and
 * ew_store_snapshot add the slots' sums to the shared counters. The slots
 * outlive every handle (the module keeps them for the parent's lifetime). */
typedef struct ew_slots ew_slots;
void ew_store_use_slots(ew_store *st, ew_slots *slots);

/* Adds totals counted elsewhere (e.g. restored from disk) to the shared
 * counters: requests_by_class, errors_by_code, bytes_sent,
 * duration_us_total and crashes_by_signal. Returns 0 or an errno value. */
int ew_store_add_base(ew_store *st, const ew_snapshot *totals);

/* Live tails: the failures the ring holds with a seq above `after`, oldest
 * first, at most max of them, copied into out; *n_out is how many, and
 * *latest_out the seq of the latest failure recorded. Seqs missing between
 * `after` and the entries (or *latest_out, when fewer than max came back)
 * are failures the ring no longer holds (overwritten, or recorded by a
 * child of an older generation into its own tables after a resize).
 * Returns 0 or an errno value. */
int ew_store_failures_after(ew_store *st, uint64_t after, ew_failure *out, uint32_t max,
                            uint32_t *n_out, uint64_t *latest_out);

/* What live tails share: the wake-up word and the slots (ew_tail.h). */
ew_tail_shared *ew_store_tail(ew_store *st);

/* Copies the store into pool memory as of now_us (which sets taken_us and
 * the windows' end). Returns 0 or an errno value. */
int ew_store_snapshot(ew_store *st, apr_pool_t *pool, int64_t now_us, ew_snapshot *out);

/* The same for a view that shows at most files_max files (the first ones in
 * the snapshot's order) and the recent_max newest failures: only those are
 * copied, so the lock is held for a scan of the file rows' counts and
 * O(files_max + recent_max) copies, not for a copy of whole tables (a row
 * is about 1 KB: 1 GB at ErrWatchFiles 1000000). files_total and
 * recent_total still give the full sizes. */
int ew_store_snapshot_top(ew_store *st, apr_pool_t *pool, int64_t now_us, uint32_t files_max,
                          uint32_t recent_max, ew_snapshot *out);

/* The same with the files_max files that failed last, most recent first
 * (the HTML page's ?sort=last); a whole table is sorted the same way. */
int ew_store_snapshot_latest(ew_store *st, apr_pool_t *pool, int64_t now_us, uint32_t files_max,
                             uint32_t recent_max, ew_snapshot *out);

/* Copies src into a field of dst_size bytes, truncating at a UTF-8 character
 * boundary; NULL becomes "". */
void ew_copy_field(char *dst, size_t dst_size, const char *src);
/* Where to cut s, which continues past n bytes, so that s[0, result) ends
 * on a UTF-8 character boundary: n, or less when s[n] continues the
 * character before it. */
size_t ew_utf8_cut(const char *s, size_t n);

/* Class index (see EW_CLASS_*) of an HTTP status. */
int ew_status_class(int status);

/* Per-minute history (src/store_history.c): 5xx, 500 and crashes per
 * minute for the last 24 h, counted when each failure was logged. */
#define EW_HISTORY_MINUTES 1440
#define EW_MINUTE_US 60000000LL

/* Adds a start, stop or restart to the timeline (the oldest of
 * EW_MARKERS is dropped). Returns 0, EINVAL for another event, or an errno
 * value of the lock. */
int ew_store_add_marker(ew_store *st, uint32_t event, int64_t time_us, int64_t gap_us);

/* The `minutes` (1..EW_HISTORY_MINUTES) minutes ending with the one holding
 * now_us, oldest first, into out[0..minutes); a minute with nothing
 * recorded is all zero but its minute_us. Returns 0 or an errno value. */
int ew_store_history(ew_store *st, int64_t now_us, uint32_t minutes, ew_history_minute *out);

/* The state file (src/store_persist.c): the store's evidence written out
 * so that it survives a full stop and start. The format is this build's own
 * (host byte order, this build's row sizes): a file from another version is
 * refused, never guessed at. */

/* Serializes counters, window buckets, handler rows, file rows and the ring
 * into pool memory as of now_us. Returns 0 or an errno value. */
int ew_store_serialize(ew_store *st, apr_pool_t *pool, int64_t now_us, char **data_out,
                       size_t *len_out);

/* Restores what data holds into a fresh store (nothing recorded yet):
 * counters are added to the store's (so Prometheus counters continue),
 * since_us goes back to the original start, file rows and ring entries that
 * fit the store's capacities are put back, most recent kept. Every length,
 * index and string is checked first; on any defect nothing is changed and
 * *why_out says what was wrong. *written_us_out (may be NULL) is when the
 * file was written. Returns 0, EINVAL (bad data) or an errno value. */
int ew_store_restore(ew_store *st, const void *data, size_t len, int64_t *written_us_out,
                     const char **why_out);

/* A number that changes whenever anything the state file holds changed
 * (responses counted or failures recorded); cheap, no lock. */
uint64_t ew_store_change_mark(ew_store *st);

#ifdef EW_STORE_TESTING
/* Test hook: take the lock and return without releasing it, so a test can
 * kill the process while it holds the lock mid-update. */
void ew_store_test_lock_and_mark_busy(ew_store *st, uint32_t file_slot);
/* Test hook: take the lock, mark cause key's row as being written and
 * scribble over it, and return holding the lock (a holder that died). */
void ew_store_test_tear_cause(ew_store *st, uint64_t key);
/* Test hook: take the lock and keep it. */
int ew_store_test_lock(ew_store *st);
/* Test hook: marks the ring entry of failure seq unused, as crash repair
 * marks a torn one. Returns 0, or -1 if the ring does not hold it. */
int ew_store_test_tear(ew_store *st, uint64_t seq);
#endif

#endif

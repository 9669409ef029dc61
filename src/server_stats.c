/*
 * Reads the figures mod_status prints in ?auto from httpd's scoreboard, so
 * the ?auto page works whether or not mod_status is loaded. The rendering is
 * in format_auto.c; this file only collects numbers.
 */
#include <sys/times.h>
#include <unistd.h>

#include "httpd.h"
#include "ap_mpm.h"
#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"
#include "scoreboard.h"
#include "util_time.h"

#include "ew_format.h"
#include "ew_module.h"

/* mod_status's CurrentTime/RestartTime format (local time). */
#define EW_STATUS_TIME_FORMAT "%A, %d-%b-%Y %H:%M:%S %Z"

/* Scoreboard characters, as mod_status prints them. */
static char state_char(int state)
{
    switch (state) {
    case SERVER_DEAD:
        return '.';
    case SERVER_READY:
        return '_';
    case SERVER_STARTING:
        return 'S';
    case SERVER_BUSY_READ:
        return 'R';
    case SERVER_BUSY_WRITE:
        return 'W';
    case SERVER_BUSY_KEEPALIVE:
        return 'K';
    case SERVER_BUSY_LOG:
        return 'L';
    case SERVER_BUSY_DNS:
        return 'D';
    case SERVER_CLOSING:
        return 'C';
    case SERVER_GRACEFUL:
        return 'G';
    case SERVER_IDLE_KILL:
        return 'I';
    default:
        return '?';
    }
}

typedef struct mpm_limits {
    int server_limit, thread_limit, max_servers, threads_per_child, is_async;
    ap_generation_t generation;
} mpm_limits;

static mpm_limits query_mpm(void)
{
    mpm_limits m = {0, 0, 0, 0, 0, 0};
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &m.server_limit);
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &m.thread_limit);
    ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &m.max_servers);
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &m.threads_per_child);
    ap_mpm_query(AP_MPMQ_IS_ASYNC, &m.is_async);
    ap_mpm_query(AP_MPMQ_GENERATION, &m.generation);
    if (m.threads_per_child == 0) {
        m.threads_per_child = 1; /* prefork reports 0 */
    }
    return m;
}

/* Worker states, busy/idle/graceful counts and the scoreboard string; CPU
 * times when ExtendedStatus keeps them per worker. */
static void read_workers(request_rec *r, const mpm_limits *m, ew_server_stats *out)
{
    char *board = apr_palloc(r->pool, (apr_size_t)(m->server_limit * m->thread_limit) + 1);
    size_t len = 0;
    worker_score ws;
    clock_t tu = 0, ts = 0, tcu = 0, tcs = 0;

    for (int i = 0; i < m->server_limit; i++) {
        process_score *ps = ap_get_scoreboard_process(i);
        clock_t pu = 0, pst = 0, pcu = 0, pcs = 0;
        for (int j = 0; j < m->thread_limit; j++) {
            ap_copy_scoreboard_worker(&ws, i, j);
            int state = ws.status;
            /* Slots beyond the configured limits are not shown. */
            if ((i >= m->max_servers || j >= m->threads_per_child) && state == SERVER_DEAD) {
                continue;
            }
            board[len++] = state_char(state);
            if (!ps->quiescing && ps->pid) {
                if (state == SERVER_READY) {
                    if (ps->generation == m->generation) {
                        out->idle_workers++;
                    }
                } else if (state != SERVER_DEAD && state != SERVER_STARTING &&
                           state != SERVER_IDLE_KILL) {
                    if (state == SERVER_GRACEFUL) {
                        out->graceful_workers++;
                    } else {
                        out->busy_workers++;
                    }
                }
            }
            /* Per-process CPU time: threads share it, so take the largest
             * sample of the process rather than a sum. */
            if (ws.times.tms_utime > pu || ws.times.tms_stime > pst || ws.times.tms_cutime > pcu ||
                ws.times.tms_cstime > pcs) {
                pu = ws.times.tms_utime;
                pst = ws.times.tms_stime;
                pcu = ws.times.tms_cutime;
                pcs = ws.times.tms_cstime;
            }
        }
        tu += pu;
        ts += pst;
        tcu += pcu;
        tcs += pcs;
    }
    board[len] = '\0';
    out->scoreboard = board;

    global_score *g = ap_get_scoreboard_global();
    double tick = (double)sysconf(_SC_CLK_TCK);
    if (tick <= 0) {
        tick = 100.0;
    }
    out->cpu_user = (double)(g->times.tms_utime + tu) / tick;
    out->cpu_system = (double)(g->times.tms_stime + ts) / tick;
    out->cpu_children_user = (double)(g->times.tms_cutime + tcu) / tick;
    out->cpu_children_system = (double)(g->times.tms_cstime + tcs) / tick;
    double cpu =
        out->cpu_user + out->cpu_system + out->cpu_children_user + out->cpu_children_system;
    out->cpu_load = out->uptime_s > 0 ? cpu / out->uptime_s * 100.0 : 0.0;
}

/* Processes for every MPM; connection states exist only in async MPMs. */
static void read_processes(const mpm_limits *m, ew_server_stats *out)
{
    for (int i = 0; i < m->server_limit; i++) {
        process_score *ps = ap_get_scoreboard_process(i);
        if (!ps->pid) {
            continue;
        }
        out->processes++;
        if (ps->quiescing) {
            out->stopping++;
        }
        out->conns_total += (int)ps->connections;
        out->conns_async_wait_io += (int)ps->wait_io;
        out->conns_async_writing += (int)ps->write_completion;
        out->conns_async_keep_alive += (int)ps->keep_alive;
        out->conns_async_closing += (int)ps->lingering_close;
    }
}

void ew_read_server_stats(request_rec *r, ew_server_stats *out)
{
    memset(out, 0, sizeof(*out));
    apr_time_t now = apr_time_now();
    mpm_limits m = query_mpm();

    out->server_version = ap_get_server_description();
    out->server_mpm = ap_show_mpm();
    out->server_built = ap_get_server_built();
    out->current_time = ap_ht_time(r->pool, now, EW_STATUS_TIME_FORMAT, 0);
    out->config_generation = ap_state_query(AP_SQ_CONFIG_GEN);
    out->mpm_generation = (int)m.generation;

    ap_loadavg_t load;
    ap_get_loadavg(&load);
    out->load1 = load.loadavg;
    out->load5 = load.loadavg5;
    out->load15 = load.loadavg15;

    if (!ap_exists_scoreboard_image()) {
        out->scoreboard = "";
        return;
    }
    apr_time_t restart = ap_scoreboard_image->global->restart_time;
    out->restart_time = ap_ht_time(r->pool, restart, EW_STATUS_TIME_FORMAT, 0);
    out->uptime_s = (uint32_t)apr_time_sec(now - restart);

    read_workers(r, &m, out);
    out->is_async = m.is_async;
    read_processes(&m, out);
}

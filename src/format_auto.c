/*
 * The ?auto format: mod_status 2.4's machine-readable keys in its order
 * (without its first line, the bare server name), then errwatch's own
 * "Errors*" keys. Monitoring agents that parse mod_status keep working.
 */
#include "ew_escape.h"
#include "ew_format.h"

/* "Key: value\n" with the value flattened onto one line. */
static void ew_auto_str(ew_buf *b, const char *key, const char *value)
{
    ew_buf_puts(b, key);
    ew_buf_puts(b, ": ");
    ew_escape_line(b, value);
    ew_buf_putc(b, '\n');
}

/* mod_status's show_time(): " 1 day 2 hours 1 minute 5 seconds", nothing
 * for 0. */
static void ew_auto_show_time(ew_buf *b, uint32_t tsecs)
{
    unsigned secs = tsecs % 60;
    tsecs /= 60;
    unsigned mins = tsecs % 60;
    tsecs /= 60;
    unsigned hrs = tsecs % 24;
    unsigned days = tsecs / 24;

    if (days != 0) {
        ew_buf_printf(b, " %u day%s", days, days == 1 ? "" : "s");
    }
    if (hrs != 0) {
        ew_buf_printf(b, " %u hour%s", hrs, hrs == 1 ? "" : "s");
    }
    if (mins != 0) {
        ew_buf_printf(b, " %u minute%s", mins, mins == 1 ? "" : "s");
    }
    if (secs != 0) {
        ew_buf_printf(b, " %u second%s", secs, secs == 1 ? "" : "s");
    }
}

/* Whole seconds since counting started; 0 if the clock went backwards. */
static long long ew_auto_period_s(const ew_snapshot *snap)
{
    return ew_elapsed_s(snap->since_us, snap->taken_us);
}

void ew_format_auto(ew_buf *b, const ew_server_stats *server, const ew_snapshot *snap)
{
    const ew_server_stats *s = server;

    ew_auto_str(b, "ServerVersion", s->server_version);
    ew_auto_str(b, "ServerMPM", s->server_mpm);
    ew_auto_str(b, "Server Built", s->server_built);
    ew_auto_str(b, "CurrentTime", s->current_time);
    ew_auto_str(b, "RestartTime", s->restart_time);
    ew_buf_printf(b, "ParentServerConfigGeneration: %d\n", s->config_generation);
    ew_buf_printf(b, "ParentServerMPMGeneration: %d\n", s->mpm_generation);
    ew_buf_printf(b, "ServerUptimeSeconds: %u\n", (unsigned)s->uptime_s);
    ew_buf_puts(b, "ServerUptime:");
    ew_auto_show_time(b, s->uptime_s);
    ew_buf_putc(b, '\n');
    ew_buf_printf(b, "Load1: %.2f\nLoad5: %.2f\nLoad15: %.2f\n", s->load1, s->load5, s->load15);

    unsigned long long total = (unsigned long long)snap->requests_total;
    unsigned long long kbytes = (unsigned long long)(snap->bytes_sent / 1024);
    unsigned long long duration_ms = (unsigned long long)(snap->duration_us_total / 1000);
    ew_buf_printf(b, "Total Accesses: %llu\nTotal kBytes: %llu\nTotal Duration: %llu\n", total,
                  kbytes, duration_ms);

    /* Cumulative CPU seconds: exact, as the counters they are. */
    static const char *const cpu_keys[] = {
        "CPUUser: ", "\nCPUSystem: ", "\nCPUChildrenUser: ", "\nCPUChildrenSystem: "};
    const double cpu[] = {s->cpu_user, s->cpu_system, s->cpu_children_user, s->cpu_children_system};
    for (size_t i = 0; i < sizeof(cpu) / sizeof(cpu[0]); i++) {
        ew_buf_puts(b, cpu_keys[i]);
        ew_buf_put_double(b, cpu[i]);
    }
    ew_buf_putc(b, '\n');
    if (s->cpu_load > 0) {
        ew_buf_puts(b, "CPULoad: ");
        ew_buf_put_double(b, s->cpu_load);
        ew_buf_putc(b, '\n');
    }

    ew_buf_printf(b, "Uptime: %u\n", (unsigned)s->uptime_s);
    /* errwatch's counters run from since_us, not from the last restart, so
     * the rates divide by that period. */
    double period = ((double)snap->taken_us - (double)snap->since_us) / 1e6;
    if (period >= 1.0) {
        ew_buf_printf(b, "ReqPerSec: %g\n", (double)total / period);
        ew_buf_printf(b, "BytesPerSec: %g\n", (double)(kbytes * 1024) / period);
    }
    if (total > 0) {
        ew_buf_printf(b, "BytesPerReq: %g\n", (double)(kbytes * 1024) / (double)total);
        ew_buf_printf(b, "DurationPerReq: %g\n", (double)duration_ms / (double)total);
    }

    ew_buf_printf(b, "BusyWorkers: %d\nGracefulWorkers: %d\nIdleWorkers: %d\n", s->busy_workers,
                  s->graceful_workers, s->idle_workers);
    if (s->is_async) {
        ew_buf_printf(b, "Processes: %d\nStopping: %d\n", s->processes, s->stopping);
        ew_buf_printf(b,
                      "ConnsTotal: %d\nConnsAsyncWaitIO: %d\nConnsAsyncWriting: %d\n"
                      "ConnsAsyncKeepAlive: %d\nConnsAsyncClosing: %d\n",
                      s->conns_total, s->conns_async_wait_io, s->conns_async_writing,
                      s->conns_async_keep_alive, s->conns_async_closing);
    }
    ew_auto_str(b, "Scoreboard", s->scoreboard);

    ew_format_auto_errors(b, snap);
}

void ew_format_auto_errors(ew_buf *b, const ew_snapshot *snap)
{
    ew_buf_printf(b, "Errors500: %llu\n", (unsigned long long)snap->errors_by_code[0]);
    ew_buf_printf(b, "Errors5xx: %llu\n", (unsigned long long)snap->requests_by_class[5]);
    for (int i = 1; i < EW_CODE_COUNT; i++) {
        if (snap->errors_by_code[i] != 0) {
            ew_buf_printf(b, "Errors%d: %llu\n", EW_CODE_FIRST + i,
                          (unsigned long long)snap->errors_by_code[i]);
        }
    }
    ew_buf_printf(b, "Crashes: %llu\n", (unsigned long long)snap->crashes_total);
    ew_buf_printf(b, "ErrorFiles: %u\n", (unsigned)snap->files_total);
    ew_buf_printf(b, "ErrorFilesEvicted: %llu\n", (unsigned long long)snap->files_evicted);
    ew_buf_printf(b, "ErrorCauses: %llu\n", (unsigned long long)snap->causes_total);
    ew_buf_printf(b, "ErrWatchUptime: %lld\n", ew_auto_period_s(snap));
    for (int i = 0; i < EW_WINDOW_COUNT; i++) {
        ew_buf_printf(b, "Errors500Last%dm: %llu\n", ew_window_minutes[i],
                      (unsigned long long)snap->window_500[i]);
    }
    for (int i = 0; i < EW_WINDOW_COUNT; i++) {
        ew_buf_printf(b, "Errors5xxLast%dm: %llu\n", ew_window_minutes[i],
                      (unsigned long long)snap->window_5xx[i]);
    }
}

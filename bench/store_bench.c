/*
 * Store micro-benchmark: how long the error path holds the store's lock, and
 * how long a reader (the status page) holds it while copying a full store.
 * Wall-clock figures on a shared machine: read them as orders of magnitude.
 *
 *   make bench-store
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "ew_format.h"
#include "ew_store.h"
#include "bench_failure.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}


int main(int argc, char **argv)
{
    uint32_t files = argc > 1 ? (uint32_t)atoi(argv[1]) : EW_FILES_DEFAULT;
    uint32_t recent = argc > 2 ? (uint32_t)atoi(argv[2]) : EW_RECENT_DEFAULT;
    enum { ROUNDS = 200000, READS = 2000 };

    apr_initialize();
    apr_pool_t *pool, *reads;
    apr_pool_create(&pool, NULL);
    apr_pool_create(&reads, NULL); /* cleared between snapshots */
    size_t len = ew_store_size(files, recent);
    size_t alloc = (len + 63) & ~(size_t)63;
    void *base = aligned_alloc(64, alloc);
    memset(base, 0, alloc); /* ew_store_init wants zeroed memory */
    ew_store *st = ew_store_init(pool, base, len, files, recent, 0);
    if (st == NULL) {
        fprintf(stderr, "bad sizes\n");
        return 1;
    }

    double t0 = now_ns();
    for (int i = 0; i < ROUNDS; i++) {
        ew_store_count_response(st, 200);
    }
    double count_ns = (now_ns() - t0) / ROUNDS;

    /* The same file over and over: the table hit path. */
    ew_failure same = bench_failure(0);
    t0 = now_ns();
    for (int i = 0; i < ROUNDS; i++) {
        ew_store_record_failure(st, &same);
    }
    double hit_ns = (now_ns() - t0) / ROUNDS;

    /* A new file every time with a full table: eviction on every call. */
    ew_failure *distinct = malloc(ROUNDS * sizeof(*distinct));
    for (int i = 0; i < ROUNDS; i++) {
        distinct[i] = bench_failure((uint32_t)i + 1);
    }
    t0 = now_ns();
    for (int i = 0; i < ROUNDS; i++) {
        ew_store_record_failure(st, &distinct[i]);
    }
    double evict_ns = (now_ns() - t0) / ROUNDS;

    ew_snapshot snap;
    t0 = now_ns();
    for (int i = 0; i < READS; i++) {
        apr_pool_clear(reads);
        ew_store_snapshot(st, reads, 0, &snap);
    }
    double snap_ns = (now_ns() - t0) / READS;

    /* Rendering the full store's snapshot (what a status page costs on top
     * of the request): CPU time of each format, best of RENDERS. */
    enum { RENDERS = 200 };
    static const char *const names[] = {"?json", "?metrics", "HTML"};
    double render_ns[3];
    size_t render_bytes[3];
    ew_server_stats server;
    memset(&server, 0, sizeof(server));
    apr_pool_t *pages;
    apr_pool_create(&pages, NULL);
    for (int fmt = 0; fmt < 3; fmt++) {
        render_ns[fmt] = -1;
        for (int i = 0; i < RENDERS; i++) {
            apr_pool_clear(pages);
            ew_buf b;
            ew_buf_init(&b, pages, 16384); /* as the status handler does */
            t0 = now_ns();
            if (fmt == 0) {
                ew_format_json(&b, &snap);
            } else if (fmt == 1) {
                ew_format_metrics(&b, &server, &snap, 0);
            } else {
                ew_format_html(&b, &snap);
            }
            double ns = now_ns() - t0;
            if (render_ns[fmt] < 0 || ns < render_ns[fmt]) {
                render_ns[fmt] = ns;
            }
            render_bytes[fmt] = b.len;
        }
    }
    apr_pool_destroy(pages);

    printf("store: %u files, %u recent, %zu bytes of shared memory\n", files, recent, len);
    printf("count_response (200 path, atomics)   %10.1f ns\n", count_ns);
    printf("record_failure, same file (hit)      %10.1f ns\n", hit_ns);
    printf("record_failure, new file (evicting)  %10.1f ns\n", evict_ns);
    printf("snapshot of the full store           %10.1f ns  (%u files, %u recent)\n", snap_ns,
           snap.files_len, snap.recent_len);
    for (int fmt = 0; fmt < 3; fmt++) {
        printf("render %-8s of that snapshot       %10.1f us  (%zu bytes, best of %d)\n",
               names[fmt], render_ns[fmt] / 1000, render_bytes[fmt], RENDERS);
    }
    free(distinct);
    free(base);
    apr_pool_destroy(reads);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

/*
 * How long each reader holds the store's lock at the largest table sizes
 * (issue 17): a ?tail&since=0 replay (16 failures per batch, as src/tail.c
 * asks) and each status view. Every 5xx waits for the lock while a reader
 * holds it, so these holds are the latency a reader adds to the error path.
 *
 *   make bench-lock                  ErrWatchFiles 1000000, ErrWatchRecent 100000
 *   build/lock_bench FILES RECENT    other sizes
 *
 * The store is built with EW_STORE_BENCH, which times each hold inside
 * ew_store_lock_within / ew_store_unlock. Built with EW_BENCH_BEFORE, the
 * views copy the whole store as they did before ew_store_snapshot_top
 * (BENCHMARKS.md, section 7, has both). Wall-clock figures: run on a quiet
 * machine and read them as orders of magnitude.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "ew_format.h"
#include "ew_store.h"
#include "bench_failure.h"

extern double ew_store_bench_last_hold_ns;

#define BATCH 16


/* A view: the store call the status handler makes for it. */
typedef struct view {
    const char *name;
    uint32_t files_max; /* UINT32_MAX: the whole table */
    uint32_t recent_max;
    int summary;
} view;

static int read_view(ew_store *st, apr_pool_t *pool, const view *v, ew_snapshot *out)
{
    if (v->summary) {
        return ew_store_summary(st, 0, out);
    }
#ifdef EW_BENCH_BEFORE
    return ew_store_snapshot(st, pool, 0, out);
#else
    if (v->files_max == UINT32_MAX) {
        return ew_store_snapshot(st, pool, 0, out);
    }
    return ew_store_snapshot_top(st, pool, 0, v->files_max, v->recent_max, out);
#endif
}

int main(int argc, char **argv)
{
    uint32_t files = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : EW_FILES_MAX;
    uint32_t recent = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : EW_RECENT_MAX;
    apr_initialize();
    apr_pool_t *root;
    apr_pool_create(&root, NULL);
    size_t len = ew_store_size(files, recent);
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ew_store *st = base == MAP_FAILED ? NULL : ew_store_init(root, base, len, files, recent, 0);
    if (st == NULL) {
        fprintf(stderr, "lock_bench: no store of %u files, %u recent\n", files, recent);
        return 1;
    }
    for (uint32_t i = 0; i < files; i++) {
        ew_failure f = bench_failure(i);
        if (ew_store_record_failure(st, &f) != 0) {
            return 1;
        }
    }
    printf("store: %u files, %u recent (%.0f MiB)%s\n", files, recent, (double)len / 1048576.0,
#ifdef EW_BENCH_BEFORE
           ", views as before (whole store copied)"
#else
           ""
#endif
    );

    /* ?tail&since=0: the whole ring in batches. */
    ew_failure batch[BATCH];
    uint64_t last = 0;
    uint64_t latest = 0;
    uint32_t n = 0;
    uint64_t batches = 0;
    uint64_t delivered = 0;
    double total = 0;
    double worst = 0;
    do {
        if (ew_store_failures_after(st, last, batch, BATCH, &n, &latest) != 0) {
            return 1;
        }
        batches++;
        total += ew_store_bench_last_hold_ns;
        worst = ew_store_bench_last_hold_ns > worst ? ew_store_bench_last_hold_ns : worst;
        if (n > 0) {
            last = batch[n - 1].seq;
            delivered += n;
        }
    } while (n == BATCH);
    printf("| ?tail&since=0 replay | %llu holds, %llu failures | %.3f ms in all | max %.1f us |\n",
           (unsigned long long)batches, (unsigned long long)delivered, total / 1e6, worst / 1e3);

    const view views[] = {
        {"?auto (summary)", 0, 0, 1},
        {"/server-status section (top 5 files)", EW_HTML_SECTION_FILES, 0, 0},
        {"HTML page (top 50 files, 50 newest)", EW_HTML_TOP_FILES, EW_HTML_RECENT, 0},
        {"?json and ?metrics (everything)", UINT32_MAX, UINT32_MAX, 0},
    };
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
        double best = -1;
        double worst_view = 0;
        for (int rep = 0; rep < 3; rep++) {
            apr_pool_t *pool;
            apr_pool_create(&pool, root);
            ew_snapshot snap;
            if (read_view(st, pool, &views[i], &snap) != 0) {
                return 1;
            }
            double h = ew_store_bench_last_hold_ns;
            best = best < 0 || h < best ? h : best;
            worst_view = h > worst_view ? h : worst_view;
            apr_pool_destroy(pool);
        }
        printf("| %s | lock held %.3f ms (min of 3; max %.3f ms) |\n", views[i].name, best / 1e6,
               worst_view / 1e6);
    }
    munmap(base, len);
    apr_pool_destroy(root);
    apr_terminate();
    return 0;
}

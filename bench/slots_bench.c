/*
 * Per-worker counting against shared atomics, with P processes (default 2)
 * counting at once: ns per counted response, as each process sees it.
 *
 *   build/slots_bench [processes [responses per process]]
 *
 * "shared" is what every response did before issue 11 (relaxed atomic adds
 * on the store header's lines, which every process writes); "slots" is
 * ew_slot_end into the process's own slot. Both count 200s and a 1-in-50
 * 500, with bytes and duration. Wall-clock: run on a quiet machine for
 * figures to quote.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "ew_slots.h"
#include "ew_store.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *map_zeroed(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

/* Runs `procs` children counting n responses each; returns the mean ns per
 * response over the children (each times its own loop). */
static double run(int procs, long n, int use_slots, ew_store *st, ew_slots *slots)
{
    double *ns = map_zeroed(sizeof(double) * (size_t)procs);
    for (int p = 0; p < procs; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            ew_worker_slot *w = ew_slots_get(slots, (uint32_t)p);
            double t0 = now_ns();
            for (long i = 0; i < n; i++) {
                int status = i % 50 == 0 ? 500 : 200;
                if (use_slots) {
                    ew_slot_end(w, status, 1024, 100);
                } else {
                    ew_store_count_response(st, status);
                    ew_store_add_traffic(st, 1024, 100);
                }
            }
            ns[p] = (now_ns() - t0) / (double)n;
            _exit(0);
        }
    }
    for (int p = 0; p < procs; p++) {
        wait(NULL);
    }
    double sum = 0;
    for (int p = 0; p < procs; p++) {
        sum += ns[p];
    }
    munmap(ns, sizeof(double) * (size_t)procs);
    return sum / procs;
}

int main(int argc, char **argv)
{
    int procs = argc > 1 ? atoi(argv[1]) : 2;
    long n = argc > 2 ? atol(argv[2]) : 20000000L;
    if (procs < 1 || procs > 64 || n < 1) {
        fprintf(stderr, "usage: %s [processes 1..64 [responses per process]]\n", argv[0]);
        return 2;
    }
    apr_pool_t *pool;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    size_t len = ew_store_size(64, 64);
    ew_store *st = ew_store_init(pool, map_zeroed(len), len, 64, 64, 0);
    size_t slen = ew_slots_size((uint32_t)procs);
    ew_slots *slots = ew_slots_init(pool, map_zeroed(slen), slen, (uint32_t)procs);
    if (st == NULL || slots == NULL) {
        fprintf(stderr, "cannot set up the store\n");
        return 1;
    }
    double shared = run(procs, n, 0, st, slots);
    double own = run(procs, n, 1, st, slots);
    ew_store_use_slots(st, slots);
    ew_snapshot sum;
    ew_store_summary(st, 0, &sum);
    printf("processes=%d responses/process=%ld\n", procs, n);
    printf("shared atomics: %.2f ns/response\n", shared);
    printf("per-worker slots: %.2f ns/response\n", own);
    printf("counted: %llu (expected %llu)\n", (unsigned long long)sum.requests_total,
           (unsigned long long)(2 * (unsigned long long)procs * (unsigned long long)n));
    return sum.requests_total == 2ull * (unsigned long long)procs * (unsigned long long)n ? 0 : 1;
}

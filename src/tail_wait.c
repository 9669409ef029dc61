/*
 * Live-tail wake-ups and slots, shared across processes (see ew_tail.h).
 * The store's header lives in MAP_SHARED memory, so a process-shared
 * (non-private) futex on wake_word reaches waiters in every child.
 */
#include "ew_tail.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t), "futex word must be 32 bits");

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
    return syscall(SYS_futex, (uint32_t *)(void *)word, op, val, timeout, NULL, 0);
}

void ew_tail_notify(ew_tail_shared *t)
{
    atomic_fetch_add_explicit(&t->wake_word, 1, memory_order_seq_cst);
    /* Pairs with the waiter's increment of waiters before it loads the word
     * (both seq_cst): either it sees the new word or this sees it waiting. */
    if (atomic_load_explicit(&t->waiters, memory_order_seq_cst) != 0) {
        futex(&t->wake_word, FUTEX_WAKE, INT_MAX, NULL);
    }
}

uint32_t ew_tail_word(ew_tail_shared *t)
{
    return atomic_load_explicit(&t->wake_word, memory_order_seq_cst);
}

int ew_tail_wait(ew_tail_shared *t, uint32_t seen, int timeout_ms)
{
    if (timeout_ms < 0) {
        timeout_ms = 0;
    }
    struct timespec ts = {.tv_sec = timeout_ms / 1000,
                          .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    atomic_fetch_add_explicit(&t->waiters, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&t->wake_word, memory_order_seq_cst) == seen && timeout_ms > 0) {
        /* The kernel compares the word again before sleeping. EINTR
         * (a signal, e.g. a graceful restart) and ETIMEDOUT just return. */
        futex(&t->wake_word, FUTEX_WAIT, seen, &ts);
    }
    atomic_fetch_sub_explicit(&t->waiters, 1, memory_order_seq_cst);
    return atomic_load_explicit(&t->wake_word, memory_order_seq_cst) != seen;
}

static int process_is_gone(int32_t pid)
{
    /* EPERM means it exists under another user: alive. */
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int ew_tail_claim(ew_tail_shared *t, uint32_t cap, int32_t pid)
{
    if (cap > EW_TAIL_SLOTS) {
        cap = EW_TAIL_SLOTS;
    }
    if (pid <= 0) {
        return -1;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < cap; i++) {
            int32_t owner = atomic_load_explicit(&t->slot_pid[i], memory_order_acquire);
            if (owner != 0 && (pass == 0 || !process_is_gone(owner))) {
                continue;
            }
            /* A free slot, or (second pass) one a dead process left. */
            if (atomic_compare_exchange_strong(&t->slot_pid[i], &owner, pid)) {
                return (int)i;
            }
        }
    }
    return -1;
}

void ew_tail_release(ew_tail_shared *t, int slot, int32_t pid)
{
    if (slot < 0 || slot >= EW_TAIL_SLOTS) {
        return;
    }
    int32_t expected = pid;
    atomic_compare_exchange_strong(&t->slot_pid[slot], &expected, 0);
}

void ew_tail_release_pid(ew_tail_shared *t, int32_t pid)
{
    for (int i = 0; i < EW_TAIL_SLOTS; i++) {
        ew_tail_release(t, i, pid);
    }
}

uint32_t ew_tail_open(ew_tail_shared *t, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < cap && i < EW_TAIL_SLOTS; i++) {
        n += atomic_load_explicit(&t->slot_pid[i], memory_order_relaxed) != 0;
    }
    return n;
}

uint32_t ew_tail_heal(ew_tail_shared *t)
{
    /* Read the count before looking at the slots: a tail whose increment
     * is in it claimed its slot earlier, so the scan below sees that slot. */
    uint32_t stale = atomic_load_explicit(&t->waiters, memory_order_seq_cst);
    int live = 0;
    for (int i = 0; i < EW_TAIL_SLOTS; i++) {
        int32_t owner = atomic_load_explicit(&t->slot_pid[i], memory_order_seq_cst);
        if (owner == 0) {
            continue;
        }
        if (process_is_gone(owner)) {
            atomic_compare_exchange_strong(&t->slot_pid[i], &owner, 0);
        } else {
            live = 1;
        }
    }
    /* No live tail: every waiter counted is a dead one. A tail that starts
     * now counts itself after this, so the exchange cannot drop it. */
    if (live || stale == 0 || !atomic_compare_exchange_strong(&t->waiters, &stale, 0)) {
        return 0;
    }
    return stale;
}

/*
 * ew_tail: what live tails (?tail) share across processes, in the store's
 * header: a wake-up word that waiters sleep on with a futex, and the slots
 * that bound how many tails are open at once. Plain C over POSIX and Linux
 * futexes; never includes httpd.h.
 *
 * Waking: the recorder of a failure bumps wake_word after it has released
 * the store's lock, and calls FUTEX_WAKE only when a waiter is counted, so
 * the error path costs one atomic add when nobody tails, and the non-error
 * path nothing. A waiter loads wake_word before it reads the store and
 * sleeps only while the word still has that value, so no wake-up is lost.
 *
 * Slots: each open tail holds one slot, marked with its process id. A
 * process killed while tailing (even by SIGKILL) leaves its slot behind;
 * the next claim that finds every slot taken frees those whose process is
 * gone, so the cap never leaks.
 */
#ifndef EW_TAIL_H
#define EW_TAIL_H

#include <stdatomic.h>
#include <stdint.h>

/* Upper bound of ErrWatchTailMax. */
#define EW_TAIL_SLOTS 64

typedef struct ew_tail_shared {
    _Atomic uint32_t wake_word;              /* bumped once per recorded failure */
    _Atomic uint32_t waiters;                /* tails sleeping on wake_word right now */
    _Atomic int32_t slot_pid[EW_TAIL_SLOTS]; /* 0 = free */
} ew_tail_shared;

/* Recorder side: wakes every sleeping tail. */
void ew_tail_notify(ew_tail_shared *t);

/* The current wake word, to pass to ew_tail_wait later. */
uint32_t ew_tail_word(ew_tail_shared *t);

/* Sleeps until wake_word differs from seen, timeout_ms passes, or a signal
 * arrives; returns at once if it differs already. Uses no CPU while it
 * sleeps. Returns 1 if the word changed, 0 otherwise. */
int ew_tail_wait(ew_tail_shared *t, uint32_t seen, int timeout_ms);

/* Claims one of the first cap slots for process pid; returns the slot, or
 * -1 if cap tails are open already (after freeing the slots of dead
 * processes). */
int ew_tail_claim(ew_tail_shared *t, uint32_t cap, int32_t pid);

/* Frees a slot that ew_tail_claim returned to pid. */
void ew_tail_release(ew_tail_shared *t, int slot, int32_t pid);

/* Frees every slot marked with pid: a new process holds none, so slots with
 * its id were left by a dead process whose id was reused. */
void ew_tail_release_pid(ew_tail_shared *t, int32_t pid);

/* Slots in use, among the first cap. */
uint32_t ew_tail_open(ew_tail_shared *t, uint32_t cap);

/* Repairs what tails killed while waiting left behind (SIGKILL, prefork's
 * plain restart): frees the slots of dead processes and, when no live tail
 * holds a slot, zeroes the waiter count, which would otherwise make every
 * later failure pay a FUTEX_WAKE. Safe against tails that start meanwhile
 * (a tail claims its slot before it counts itself as a waiter). The parent
 * calls it from its monitor hook. Returns how many stale waiters it cleared. */
uint32_t ew_tail_heal(ew_tail_shared *t);

#endif

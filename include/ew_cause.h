/*
 * ew_cause: a failure's cause, worked out from its message so that one bug
 * is one cause across URLs, entry points, processes and handlers, and two
 * bugs are two causes. Pure string work, no allocation, linear in the
 * message and the story.
 *
 * What is kept (it names the bug): the error's kind and class, the
 * message's words, the files it names (a path in the message, quoted or
 * not; for a Python traceback, the innermost frame's file), code it quotes
 * (a function, a class, an array key). What is dropped (it varies from
 * request to request): everything after the message's first line (PHP's
 * stack trace differs per entry point), numbers of every kind (line
 * numbers, ports, pids, times, dates, IP addresses, sizes) and long hex ids
 * as "#", a URL's host and every query string, quoted text that is not code
 * or a path (what a user typed) as "*", and the wrappers PHP-FPM puts
 * around PHP's own line ("AH01071: Got error 'PHP message: ..."), so that
 * the same error through mod_php and PHP-FPM is the same cause.
 *
 * A failure that logged nothing is "HTTP <status>, nothing logged" under
 * its script (every silent script its own cause); a crash is "crash
 * <signal> in <handler>" (one bad extension that kills every script is one
 * cause).
 */
#ifndef EW_CAUSE_H
#define EW_CAUSE_H

#include <stdint.h>

#include "ew_store.h"

#define EW_CAUSE_TEMPLATE_MAX EW_CAUSE_TITLE_MAX
#define EW_CAUSE_NAMED_MAX EW_CAUSE_NAMED

typedef struct ew_cause_id {
    uint64_t key;                      /* never 0 */
    char title[EW_CAUSE_TEMPLATE_MAX]; /* the template: readable, NUL-terminated */
    uint32_t named_len;                /* files the cause names, first seen first */
    char named[EW_CAUSE_NAMED_MAX][EW_FILE_MAX];
} ew_cause_id;

/* message: the failure's most severe line (NULL or "" for none); story:
 * its lines joined by '\n' (may be NULL); status: 0 for a crash, whose
 * signal is crash_signal; handler and file: the recorded handler and
 * script path (may be NULL). The key hashes the title and the named
 * files. */
void ew_cause_fingerprint(const char *message, const char *story, int status, int crash_signal,
                          const char *handler, const char *file, ew_cause_id *out);

#endif

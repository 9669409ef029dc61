#include "ew_cause.h"
#include <string.h>
void ew_cause_fingerprint(const char *message, const char *story, int status, int crash_signal,
                          const char *handler, const char *file, ew_cause_id *out)
{
    (void)story;
    (void)crash_signal;
    (void)handler;
    (void)file;
    memset(out, 0, sizeof(*out));
    uint64_t h = 1469598103934665603ull;
    for (const char *p = message ? message : ""; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    h ^= (uint64_t)status;
    out->key = h ? h : 1;
    ew_copy_field(out->title, sizeof(out->title), message);
}

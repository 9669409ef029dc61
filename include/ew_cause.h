/* placeholder: replaced by the fingerprint helper's header */
#ifndef EW_CAUSE_H
#define EW_CAUSE_H
#include <stdint.h>
#include "ew_store.h"
#define EW_CAUSE_TEMPLATE_MAX 256
#define EW_CAUSE_NAMED_MAX 3
typedef struct ew_cause_id {
    uint64_t key;
    char title[EW_CAUSE_TEMPLATE_MAX];
    uint32_t named_len;
    char named[EW_CAUSE_NAMED_MAX][EW_FILE_MAX];
} ew_cause_id;
void ew_cause_fingerprint(const char *message, const char *story, int status, int crash_signal,
                          const char *handler, const char *file, ew_cause_id *out);
#endif

/*
 * The state-file reader (ew_store_restore): whatever the bytes, it must
 * refuse them or restore a store whose every string is terminated within
 * its field and whose rows fit the capacities, and an accepted file must
 * survive a second round trip. The first byte chooses whether the checksum
 * is recomputed over the rest (odd), so that mutations get past it and
 * reach the field checks, as a hand edit would.
 */
#include <stdlib.h>
#include <string.h>

#include "ew_store.h"
#include "fuzz_support.h"

#define FILES 4
#define RECENT 3

static ew_store *fresh(apr_pool_t *p)
{
    size_t len = ew_store_size(FILES, RECENT);
    char *base = apr_pcalloc(p, len + 64);
    base += (64 - (uintptr_t)base % 64) % 64;
    return ew_store_init(p, base, len, FILES, RECENT, 1000);
}

static void check_terminated(const char *field, size_t size)
{
    FZ_CHECK(memchr(field, '\0', size) != NULL, "unterminated field");
}

static void check_store(ew_store *st, apr_pool_t *p)
{
    ew_snapshot s;
    FZ_CHECK(ew_store_snapshot(st, p, 2000000000000000LL, &s) == 0, "snapshot");
    FZ_CHECK(s.files_len <= FILES && s.recent_len <= RECENT, "rows beyond capacity");
    for (uint32_t i = 0; i < s.files_len; i++) {
        check_terminated(s.files[i].file, EW_FILE_MAX);
        check_terminated(s.files[i].handler, EW_HANDLER_MAX);
        check_terminated(s.files[i].message, EW_MESSAGE_MAX);
    }
    for (uint32_t i = 0; i < s.recent_len; i++) {
        const ew_failure *f = &s.recent[i];
        check_terminated(f->method, EW_METHOD_MAX);
        check_terminated(f->uri, EW_URI_MAX);
        check_terminated(f->vhost, EW_VHOST_MAX);
        check_terminated(f->handler, EW_HANDLER_MAX);
        check_terminated(f->file, EW_FILE_MAX);
        check_terminated(f->message, EW_MESSAGE_MAX);
        FZ_CHECK(f->seq <= s.failures_recorded, "seq beyond failures recorded");
        FZ_CHECK(i == 0 || f->seq < s.recent[i - 1].seq, "ring out of order");
    }
    for (uint32_t i = 0; i < s.handlers_len; i++) {
        check_terminated(s.handlers[i].handler, EW_HANDLER_MAX);
    }
    FZ_CHECK(s.markers_len <= EW_MARKERS, "too many markers");
    for (uint32_t i = 0; i < s.markers_len; i++) {
        FZ_CHECK(s.markers[i].event >= EW_EVENT_START && s.markers[i].event <= EW_EVENT_RESTART,
                 "a marker of no known event");
        FZ_CHECK(s.markers[i].gap_us >= -1, "a marker's gap out of range");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    apr_pool_t *p = fz_begin();
    size_t len = size - 1;
    unsigned char *copy = apr_palloc(p, len + 1);
    memcpy(copy, data + 1, len);
    if ((data[0] & 1) != 0 && len >= 8) {
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < len - 8; i++) {
            h ^= copy[i];
            h *= 1099511628211ull;
        }
        memcpy(copy + len - 8, &h, 8);
    }
    ew_store *st = fresh(p);
    FZ_CHECK(st != NULL, "store");
    const char *why = NULL;
    if (ew_store_restore(st, copy, len, NULL, &why) != 0) {
        FZ_CHECK(why != NULL, "refused without a reason");
        fz_end(p);
        return 0;
    }
    check_store(st, p);
    char *again;
    size_t again_len;
    FZ_CHECK(ew_store_serialize(st, p, 3000, &again, &again_len) == 0, "serialize");
    ew_store *st2 = fresh(p);
    FZ_CHECK(ew_store_restore(st2, again, again_len, NULL, &why) == 0,
             "a restored store's own file is refused");
    check_store(st2, p);
    fz_end(p);
    return 0;
}

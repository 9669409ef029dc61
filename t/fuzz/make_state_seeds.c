/* Writes the state-file seeds t/fuzz/corpus/state/v3-causes{,-resealed}: five
 * failures over three files (with their causes, one with trace and request
 * ids) and four timeline markers, through the store
 * itself (ew_store_serialize), so the seeds follow the format. The first
 * byte is the fuzz target's reseal switch. Run it when the format changes:
 *   make fuzz-state-seeds */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "ew_store.h"
static void put(const char *path, int lead, const char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    fputc(lead, f);
    fwrite(d, 1, n, f);
    fclose(f);
}
int main(int argc, char **argv)
{
    (void)argc;
    apr_initialize();
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    size_t len = ew_store_size(4, 3);
    char *base = apr_pcalloc(p, len + 64);
    base += (64 - (uintptr_t)base % 64) % 64;
    ew_store *st = ew_store_init(p, base, len, 4, 3, 1000);
    const char *files[] = {"/a.php", "/b.php", "/a.php", "/c.php", "/a.php"};
    for (int i = 0; i < 5; i++) {
        ew_failure f;
        memset(&f, 0, sizeof f);
        f.time_us = 1700000000000000LL + i * 1000000LL;
        f.status = 500;
        f.event = EW_EVENT_FAILURE;
        ew_copy_field(f.method, sizeof f.method, "GET");
        ew_copy_field(f.uri, sizeof f.uri, "/x");
        ew_copy_field(f.file, sizeof f.file, files[i]);
        ew_copy_field(f.handler, sizeof f.handler, "php");
        ew_copy_field(f.message, sizeof f.message,
                      i < 3 ? "PHP Fatal error: a in /a.php:3" : "PHP Fatal error: b in /b.php:4");
        if (i == 4) {
            ew_copy_field(f.trace_id, sizeof f.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
            ew_copy_field(f.unique_id, sizeof f.unique_id, "Y4c8cX8AAQEAABX3ZXUAAAAA");
            ew_copy_field(f.dd_trace_id, sizeof f.dd_trace_id, "1234567890");
        }
        ew_store_count_response(st, 500);
        ew_store_record_failure(st, &f);
    }
    ew_store_add_marker(st, EW_EVENT_START, 1699999990000000LL, -1);
    ew_store_add_marker(st, EW_EVENT_RESTART, 1700000002000000LL, -1);
    ew_store_add_marker(st, EW_EVENT_STOP, 1700000009000000LL, -1);
    ew_store_add_marker(st, EW_EVENT_START, 1700000060000000LL, 51000000);
    char *d;
    size_t n;
    ew_store_serialize(st, p, 1700000010000000LL, &d, &n);
    char path[512];
    snprintf(path, sizeof path, "%s/v3-causes", argv[1]);
    put(path, 0, d, n);
    snprintf(path, sizeof path, "%s/v3-causes-resealed", argv[1]);
    put(path, 1, d, n);
    return 0;
}

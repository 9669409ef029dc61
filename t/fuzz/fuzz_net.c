/*
 * ew_sockaddr_is_loopback on any peer address: the answer agrees with the
 * address's text form from inet_ntop(): "127.*", "::1" or "::ffff:127.*",
 * and an unknown family is never loopback.
 */
#include <arpa/inet.h>
#include <string.h>

#include "ew_net.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    apr_sockaddr_t sa;
    memset(&sa, 0, sizeof(sa));
    uint8_t pick = fz_u8(&r);
    sa.family = pick % 3 == 0 ? AF_INET : pick % 3 == 1 ? AF_INET6 : (int)fz_u8(&r);
    uint8_t bytes[16] = {0};
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = fz_u8(&r);
    }
    /* Mostly v4-mapped or :: prefixes, so the interesting cases are hit. */
    if (pick & 0x10) {
        memset(bytes, 0, 10);
        bytes[10] = bytes[11] = (pick & 0x20) ? 0xff : 0;
    }
    char text[INET6_ADDRSTRLEN];
    int want = 0;
    if (sa.family == AF_INET) {
        memcpy(&sa.sa.sin.sin_addr, bytes, 4);
        FZ_CHECK(inet_ntop(AF_INET, bytes, text, sizeof(text)) != NULL, NULL);
        want = strncmp(text, "127.", 4) == 0;
    } else if (sa.family == AF_INET6) {
        memcpy(&sa.sa.sin6.sin6_addr, bytes, 16);
        FZ_CHECK(inet_ntop(AF_INET6, bytes, text, sizeof(text)) != NULL, NULL);
        want = strcmp(text, "::1") == 0 || strncmp(text, "::ffff:127.", 11) == 0;
    } else {
        memcpy(&sa.sa, bytes, sizeof(bytes));
        strcpy(text, "(other family)");
    }
    FZ_CHECK(ew_sockaddr_is_loopback(&sa) == want, text);
    FZ_CHECK(ew_sockaddr_is_loopback(NULL) == 0, NULL);
    return 0;
}

/* Request and trace ids (see the header). */
#include "ew_ids.h"

#include <string.h>

int ew_unique_id_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' ||
           c == '-' || c == '_';
}

int ew_hex_char(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int ew_digit_char(int c)
{
    return c >= '0' && c <= '9';
}

static int give_up(char *out, size_t size)
{
    if (size > 0) {
        out[0] = '\0';
    }
    return 0;
}

int ew_take_unique_id(const char *value, char *out, size_t size)
{
    if (value == NULL || size < 2) {
        return give_up(out, size);
    }
    size_t n = 0;
    while (n < size && value[n] != '\0') {
        if (!ew_unique_id_char((unsigned char)value[n])) {
            return give_up(out, size);
        }
        n++;
    }
    if (n == 0 || n >= size) {
        return give_up(out, size);
    }
    memcpy(out, value, n + 1);
    return 1;
}

/* n hex digits at s, not all of them zero. */
static int hex_run(const char *s, size_t n)
{
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ew_hex_char((unsigned char)s[i])) {
            return 0;
        }
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

int ew_take_traceparent(const char *value, char *out, size_t size)
{
    /* version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2. */
    enum { VERSION = 0, TRACE = 3, PARENT = 36, FLAGS = 53, END = 55 };
    if (value == NULL || size < 33 || strnlen(value, END + 1) < END) {
        return give_up(out, size);
    }
    int version_ok = ew_hex_char((unsigned char)value[0]) && ew_hex_char((unsigned char)value[1]) &&
                     !(value[0] == 'f' && value[1] == 'f');
    int shape_ok = value[2] == '-' && value[TRACE + 32] == '-' && value[PARENT + 16] == '-' &&
                   ew_hex_char((unsigned char)value[FLAGS]) &&
                   ew_hex_char((unsigned char)value[FLAGS + 1]);
    /* Version 00 ends there; a later one may go on after a '-'. */
    int end_ok = value[END] == '\0' || (value[END] == '-' && !(value[0] == '0' && value[1] == '0'));
    if (!version_ok || !shape_ok || !end_ok || !hex_run(value + TRACE, 32) ||
        !hex_run(value + PARENT, 16)) {
        return give_up(out, size);
    }
    memcpy(out, value + TRACE, 32);
    out[32] = '\0';
    return 1;
}

int ew_take_dd_trace_id(const char *value, char *out, size_t size)
{
    static const char max[] = "18446744073709551615";
    if (value == NULL || size < sizeof(max)) {
        return give_up(out, size);
    }
    size_t n = 0;
    while (value[n] != '\0') {
        if (!ew_digit_char((unsigned char)value[n]) || n >= sizeof(max) - 1) {
            return give_up(out, size);
        }
        n++;
    }
    while (n > 1 && value[0] == '0') { /* leading zeros say nothing */
        value++;
        n--;
    }
    if (n == 0 || (n == 1 && value[0] == '0') || (n == sizeof(max) - 1 && strcmp(value, max) > 0)) {
        return give_up(out, size);
    }
    memcpy(out, value, n + 1);
    return 1;
}

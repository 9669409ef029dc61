/* ISO 8601 timestamps in UTC with microseconds. */
#include <string.h>
#include <time.h>

#include "ew_format.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the range that fits
 * four year digits. Values outside are clamped. */
#define EW_ISO_MIN_US (-62167219200LL * 1000000LL)
#define EW_ISO_MAX_US (253402300799LL * 1000000LL + 999999LL)

/* Writes v as exactly `width` decimal digits (v is range-checked by the
 * caller). */
static void ew_put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void ew_format_iso_time(char out[EW_ISO_TIME_LEN], int64_t time_us)
{
    if (time_us < EW_ISO_MIN_US) {
        time_us = EW_ISO_MIN_US;
    } else if (time_us > EW_ISO_MAX_US) {
        time_us = EW_ISO_MAX_US;
    }
    /* Floor division, so that -1 us is 1969-12-31T23:59:59.999999Z. */
    int64_t secs = time_us / 1000000;
    int64_t usec = time_us % 1000000;
    if (usec < 0) {
        usec += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        memcpy(out, "1970-01-01T00:00:00.000000Z", EW_ISO_TIME_LEN);
        return;
    }
    /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
    memcpy(out, "0000-00-00T00:00:00.000000Z", EW_ISO_TIME_LEN);
    ew_put_digits(out, (unsigned)(tm.tm_year + 1900), 4);
    ew_put_digits(out + 5, (unsigned)(tm.tm_mon + 1), 2);
    ew_put_digits(out + 8, (unsigned)tm.tm_mday, 2);
    ew_put_digits(out + 11, (unsigned)tm.tm_hour, 2);
    ew_put_digits(out + 14, (unsigned)tm.tm_min, 2);
    ew_put_digits(out + 17, (unsigned)tm.tm_sec, 2);
    ew_put_digits(out + 20, (unsigned)usec, 6);
}

long long ew_elapsed_s(int64_t from_us, int64_t to_us)
{
    if (to_us <= from_us) {
        return 0;
    }
    /* Exact in unsigned arithmetic, and at most 2^64 / 10^6 seconds. */
    return (long long)(((uint64_t)to_us - (uint64_t)from_us) / 1000000u);
}

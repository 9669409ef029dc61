/* ISO 8601 timestamps in UTC with microseconds. */
#include <stdio.h>
#include <string.h>

#include "ew_buf.h"
#include "ew_format.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the range that fits
 * four year digits. Values outside are clamped. */
#define EW_ISO_MIN_US (-62167219200LL * 1000000LL)
#define EW_ISO_MAX_US (253402300799LL * 1000000LL + 999999LL)

/* The proleptic Gregorian date of a day counted from 1970-01-01, by eras
 * of 400 years (146,097 days), each counted from March 1 so that the leap
 * day is the last of its year. Plain arithmetic: gmtime_r costs more than
 * the rest of a ?json row (it takes the time-zone lock). */
static void ew_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    int64_t z = days + 719468; /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* 0 .. 146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0 .. 399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0 .. 365 */
    int64_t mp = (5 * doy + 2) / 153; /* 0 = March .. 11 = February */
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
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
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    ew_civil_from_days(days, &year, &month, &day);
    /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ"; the clamp keeps year in 0 .. 9999. */
    memcpy(out, "0000-00-00T00:00:00.000000Z", EW_ISO_TIME_LEN);
    unsigned y = (unsigned)year, s = (unsigned)sod, u = (unsigned)usec;
    ew_put_2digits(out, y / 100);
    ew_put_2digits(out + 2, y % 100);
    ew_put_2digits(out + 5, month);
    ew_put_2digits(out + 8, day);
    ew_put_2digits(out + 11, s / 3600);
    ew_put_2digits(out + 14, s / 60 % 60);
    ew_put_2digits(out + 17, s % 60);
    ew_put_2digits(out + 20, u / 10000);
    ew_put_2digits(out + 22, u / 100 % 100);
    ew_put_2digits(out + 24, u % 100);
}

long long ew_elapsed_s(int64_t from_us, int64_t to_us)
{
    if (to_us <= from_us) {
        return 0;
    }
    /* Exact in unsigned arithmetic, and at most 2^64 / 10^6 seconds. */
    return (long long)(((uint64_t)to_us - (uint64_t)from_us) / 1000000u);
}

void ew_format_ago(char out[EW_AGO_LEN], int64_t now_us, int64_t time_us)
{
    long long s = ew_elapsed_s(time_us, now_us);
    if (s < 5) {
        (void)snprintf(out, EW_AGO_LEN, "just now");
    } else if (s < 120) {
        (void)snprintf(out, EW_AGO_LEN, "%lld s ago", s);
    } else if (s < 7200) {
        (void)snprintf(out, EW_AGO_LEN, "%lld min ago", s / 60);
    } else if (s < 172800) {
        (void)snprintf(out, EW_AGO_LEN, "%lld h ago", s / 3600);
    } else {
        (void)snprintf(out, EW_AGO_LEN, "%lld days ago", s / 86400);
    }
}

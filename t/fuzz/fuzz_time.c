/*
 * ew_format_iso_time on any 64-bit time: the text always has the
 * "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" shape with fields in range, and reading it
 * back gives the input clamped to years 0000..9999.
 */
#include <string.h>

#include "fuzz_support.h"

#define ISO_MIN_US (-62167219200LL * 1000000LL)
#define ISO_MAX_US (253402300799LL * 1000000LL + 999999LL)

/* Days since 1970-01-01 of a proleptic Gregorian date (civil-from-days
 * inverted by eras of 400 years). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t field(const char *s, int width)
{
    int64_t v = 0;
    for (int i = 0; i < width; i++) {
        FZ_CHECK(s[i] >= '0' && s[i] <= '9', s);
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    int64_t t = (int64_t)fz_u64(&r);
    char out[EW_ISO_TIME_LEN + 1];
    memset(out, '#', sizeof(out));
    ew_format_iso_time(out, t);
    FZ_CHECK(out[EW_ISO_TIME_LEN] == '#', NULL); /* wrote no more than it said */
    FZ_CHECK(out[EW_ISO_TIME_LEN - 1] == '\0' && strlen(out) == EW_ISO_TIME_LEN - 1, NULL);
    FZ_CHECK(out[4] == '-' && out[7] == '-' && out[10] == 'T' && out[13] == ':' && out[16] == ':' &&
                 out[19] == '.' && out[26] == 'Z',
             out);
    int64_t y = field(out, 4), mo = field(out + 5, 2), d = field(out + 8, 2);
    int64_t h = field(out + 11, 2), mi = field(out + 14, 2), s = field(out + 17, 2);
    int64_t us = field(out + 20, 6);
    FZ_CHECK(mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo), out);
    FZ_CHECK(h <= 23 && mi <= 59 && s <= 59, out);

    int64_t want = t < ISO_MIN_US ? ISO_MIN_US : t > ISO_MAX_US ? ISO_MAX_US : t;
    int64_t got = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s;
    got = got * 1000000 + us;
    FZ_CHECK(got == want, out);

    /* ew_elapsed_s on any pair, against 128-bit arithmetic. */
    int64_t from = (int64_t)fz_u64(&r);
    __int128 diff = (__int128)t - (__int128)from;
    FZ_CHECK(ew_elapsed_s(from, t) == (diff > 0 ? (long long)(diff / 1000000) : 0), NULL);
    return 0;
}

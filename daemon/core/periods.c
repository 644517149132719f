/* Pure calendar arithmetic: local hours, days, months, quarters and years of
 * the park's time zone as Unix times. */
#include "daemon/core/periods.h"

#include <inttypes.h>
#include <stdio.h>

#define HOUR 3600
#define DAY 86400

long
tz_offset(const struct tzone *z, int64_t utc)
{
    return z->offset ? z->offset(z, utc) : z->fixed;
}

/* a / b rounded towards minus infinity, for b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return a % b < 0 ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil ("chrono-Compatible Low-Level Date
 * Algorithms", howardhinnant.github.io/date_algorithms.html): count from
 * 0000-03-01 in 400-year eras of 146097 days, with March as the first month
 * so that the leap day ends the year. */
int64_t
period_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                         /* [0, 399] */
    int64_t mp = m > 2 ? m - 3 : m + 9;                  /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468; /* 719468: 0000-03-01 to 1970 */
}

/* The inverse, from the same source. */
void
period_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The local calendar date of t (offset in force at t). */
static void
local_civil(int64_t t, const struct tzone *z, int64_t *y, unsigned *m,
            unsigned *d)
{
    period_civil_from_days(floor_div(t + tz_offset(z, t), DAY), y, m, d);
}

static int64_t
local_time(int64_t u, const struct tzone *z)
{
    return u + tz_offset(z, u);
}

/* The first UTC second whose local time is `local` or later. The offsets a
 * day either side of `local` are the ones before and after any transition
 * near it (at most one per two days is assumed): when clocks go forward over
 * midnight the day starts when they jump past it; when they go back over it
 * the day starts the first time the clock reads midnight (for a fold that
 * starts exactly at midnight, when the clock reads it after the repeated
 * hour). */
static int64_t
local_to_utc(int64_t local, const struct tzone *z)
{
    long p = tz_offset(z, local - DAY), q = tz_offset(z, local + DAY);
    int64_t c[2] = {local - p, local - q}, best = INT64_MAX;
    if (p == q)
        return c[0];
    for (int i = 0; i < 2; i++)
        if (local_time(c[i], z) >= local && c[i] < best)
            best = c[i];
    if (best == INT64_MAX) /* not one transition: keep the later guess */
        return c[0] > c[1] ? c[0] : c[1];
    if (local_time(best, z) > local) {
        /* In a gap: local time jumps past `local` at the transition, which
         * lies in (best - jump, best]; find it by bisection. */
        int64_t lo = best - (local_time(best, z) - local), hi = best;
        if (local_time(lo, z) >= local)
            return lo;
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (local_time(mid, z) >= local)
                hi = mid;
            else
                lo = mid;
        }
        best = hi;
    }
    return best;
}

int64_t
period_hour_start(int64_t t, const struct tzone *z)
{
    /* With the offset in force at t: across a transition each UTC hour of
     * the repeated or skipped local hour keeps its own start. */
    long off = tz_offset(z, t);
    return floor_div(t + off, HOUR) * HOUR - off;
}

/* Bounds of the period p containing the local date y-m-d. */
static void
civil_bounds(enum conf_period p, int64_t y, unsigned m, unsigned d,
             const struct tzone *z, int64_t *start, int64_t *end)
{
    int64_t d0, d1;
    unsigned m0;
    switch (p) {
    case PERIOD_MONTH:
        d0 = period_days_from_civil(y, m, 1);
        d1 = m == 12 ? period_days_from_civil(y + 1, 1, 1)
                     : period_days_from_civil(y, m + 1, 1);
        break;
    case PERIOD_QUARTER:
        m0 = (m - 1) / 3 * 3 + 1;
        d0 = period_days_from_civil(y, m0, 1);
        d1 = m0 == 10 ? period_days_from_civil(y + 1, 1, 1)
                      : period_days_from_civil(y, m0 + 3, 1);
        break;
    case PERIOD_YEAR:
        d0 = period_days_from_civil(y, 1, 1);
        d1 = period_days_from_civil(y + 1, 1, 1);
        break;
    case PERIOD_DAY:
    default:
        d0 = period_days_from_civil(y, m, d);
        d1 = d0 + 1;
        break;
    }
    *start = local_to_utc(d0 * DAY, z);
    *end = local_to_utc(d1 * DAY, z);
}

void
period_bounds(enum conf_period p, int64_t t, const struct tzone *z,
              int64_t *start, int64_t *end)
{
    int64_t y;
    unsigned m, d;
    local_civil(t, z, &y, &m, &d);
    civil_bounds(p, y, m, d, z, start, end);
}

int
period_label(enum conf_period p, int64_t t, const struct tzone *z, char *buf,
             size_t len)
{
    int64_t y;
    unsigned m, d;
    int n;
    local_civil(t, z, &y, &m, &d);
    switch (p) {
    case PERIOD_MONTH:
        n = snprintf(buf, len, "%04" PRId64 "-%02u", y, m);
        break;
    case PERIOD_QUARTER:
        n = snprintf(buf, len, "%04" PRId64 "-Q%u", y, (m - 1) / 3 + 1);
        break;
    case PERIOD_YEAR:
        n = snprintf(buf, len, "%04" PRId64, y);
        break;
    case PERIOD_DAY:
    default:
        n = snprintf(buf, len, "%04" PRId64 "-%02u-%02u", y, m, d);
        break;
    }
    return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Exactly n decimal digits at s (stops at the first non-digit, so it never
 * reads past a terminating NUL). */
static int
digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int
period_parse(const char *label, const struct tzone *z, enum conf_period *kind,
             int64_t *start, int64_t *end)
{
    unsigned y, m;
    enum conf_period k;
    if (label == NULL || digits(label, 4, &y) == -1 || y < 1970 || y > 9999)
        return -1;
    const char *r = label + 4;
    if (r[0] == '\0') {
        k = PERIOD_YEAR;
        m = 1;
    } else if (r[0] == '-' && r[1] == 'Q' && r[2] >= '1' && r[2] <= '4' &&
               r[3] == '\0') {
        k = PERIOD_QUARTER;
        m = (unsigned)(r[2] - '0') * 3 - 2;
    } else if (r[0] == '-' && digits(r + 1, 2, &m) == 0 && r[3] == '\0' &&
               m >= 1 && m <= 12) {
        k = PERIOD_MONTH;
    } else {
        return -1;
    }
    *kind = k;
    civil_bounds(k, y, m, 1, z, start, end);
    return 0;
}

/* Unit tests of calendar periods. Every expected Unix time is worked out by
 * hand in the comment beside it, from these anchors:
 *   days(2000-01-01) = 10957 (30 years, 7 leap days: 10950 + 7)
 *   days(2026-01-01) = 10957 + 26 * 365 + 7 (2000..2024) = 20454
 *   day-of-year at the 1st of each month, 2026 (not leap):
 *   Jan 0, Feb 31, Mar 59, Apr 90, May 120, Jun 151, Jul 181, Aug 212,
 *   Sep 243, Oct 273, Nov 304, Dec 334
 *   Asia/Shanghai is a fixed +8 h = 28800 s: local midnight of day D is
 *   D * 86400 - 28800 in UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/core/periods.h"

static const struct tzone shanghai = {NULL, NULL, 28800};
static const struct tzone utc0 = {NULL, NULL, 0};

/* 2026-11-22: day 20454 + 304 + 21 = 20779; 20779 * 86400 = 1795305600
 * (2026-11-22T00:00Z); local midnight = 1795305600 - 28800 = 1795276800. */
#define NOV22_LOCAL_MIDNIGHT INT64_C(1795276800)

static void
test_hour_start(void **state)
{
    (void)state;
    /* 12:34:56 local = midnight + 43200 + 2040 + 56 = 1795322096;
     * hour start 12:00 local = 1795276800 + 43200 = 1795320000. */
    assert_int_equal(period_hour_start(INT64_C(1795322096), &shanghai),
                     INT64_C(1795320000));
    assert_int_equal(period_hour_start(INT64_C(1795320000), &shanghai),
                     INT64_C(1795320000));
    assert_int_equal(period_hour_start(INT64_C(1795319999), &shanghai),
                     INT64_C(1795316400));
    /* +5:30 (19800 s): 1795322096 is 04:34:56Z = 10:04:56 local; the local
     * hour 10:00 starts at 04:30Z = 1795305600 + 16200 = 1795321800. */
    const struct tzone india = {NULL, NULL, 19800};
    assert_int_equal(period_hour_start(INT64_C(1795322096), &india),
                     INT64_C(1795321800));
    /* Before 1970 the division must round down: -1 is 1969-12-31 23:59:59Z,
     * hour start -3600. */
    assert_int_equal(period_hour_start(-1, &utc0), -3600);
    /* -5 h: -1 is 18:59:59 local, hour 18:00 local = 23:00Z = -3600. */
    const struct tzone west = {NULL, NULL, -18000};
    assert_int_equal(period_hour_start(-1, &west), -3600);
}

static void
test_day_bounds(void **state)
{
    (void)state;
    int64_t s, e;
    /* 2026-11-22 12:00 local = 1795276800 + 43200 = 1795320000. */
    period_bounds(PERIOD_DAY, INT64_C(1795320000), &shanghai, &s, &e);
    assert_int_equal(s, NOV22_LOCAL_MIDNIGHT);
    assert_int_equal(e, NOV22_LOCAL_MIDNIGHT + 86400); /* 1795363200 */
    /* The first and last seconds of that local day. */
    period_bounds(PERIOD_DAY, NOV22_LOCAL_MIDNIGHT, &shanghai, &s, &e);
    assert_int_equal(s, NOV22_LOCAL_MIDNIGHT);
    period_bounds(PERIOD_DAY, NOV22_LOCAL_MIDNIGHT + 86399, &shanghai, &s, &e);
    assert_int_equal(s, NOV22_LOCAL_MIDNIGHT);
    /* One second earlier is 2026-11-21. */
    period_bounds(PERIOD_DAY, NOV22_LOCAL_MIDNIGHT - 1, &shanghai, &s, &e);
    assert_int_equal(s, NOV22_LOCAL_MIDNIGHT - 86400);
    assert_int_equal(e, NOV22_LOCAL_MIDNIGHT);
}

static void
test_month_bounds(void **state)
{
    (void)state;
    int64_t s, e;
    /* January 2026: 20454 * 86400 = 1767225600 -> 1767196800 local;
     * Feb 1 = day 20485 -> 1769904000 - 28800 = 1769875200 (31 days). */
    period_bounds(PERIOD_MONTH, INT64_C(1768000000), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1767196800));
    assert_int_equal(e, INT64_C(1769875200));
    /* February 2026: Mar 1 = day 20513 -> 1772323200 - 28800 = 1772294400,
     * 1769875200 + 28 * 86400 = 1772294400 (28 days). */
    period_bounds(PERIOD_MONTH, INT64_C(1769875200), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1769875200));
    assert_int_equal(e, INT64_C(1772294400));
    /* February 2028 (leap): 2028-01-01 = 20454 + 365 + 365 = 21184;
     * Feb 1 = 21215 -> 1832976000 - 28800 = 1832947200;
     * Mar 1 = 21244 -> 1835481600 - 28800 = 1835452800 (29 days).
     * 2028-02-29 12:00 local = day 21243: 1835395200 - 28800 + 43200. */
    period_bounds(PERIOD_MONTH, INT64_C(1835409600), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1832947200));
    assert_int_equal(e, INT64_C(1835452800));
    period_bounds(PERIOD_DAY, INT64_C(1835409600), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1835366400));
    assert_int_equal(e, INT64_C(1835452800));
    char b[16];
    assert_int_equal(
        period_label(PERIOD_DAY, INT64_C(1835409600), &shanghai, b, sizeof b),
        10);
    assert_string_equal(b, "2028-02-29");
    /* February 2100 (not leap: divisible by 100, not 400): 2100-01-01 =
     * 10957 + 100 * 365 + 25 = 47482; Feb 1 = 47513 -> 4105123200;
     * Mar 1 = 47541 -> 4107542400; minus 28800 each (28 days). */
    period_bounds(PERIOD_MONTH, INT64_C(4105123200), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(4105094400));
    assert_int_equal(e, INT64_C(4107513600));
    assert_int_equal(period_days_from_civil(2100, 3, 1) -
                         period_days_from_civil(2100, 2, 1),
                     28);
    /* February 2000 (leap: divisible by 400): Feb 1 = 10988 -> 949363200;
     * Mar 1 = 11017 -> 951868800 (29 days). */
    period_bounds(PERIOD_MONTH, INT64_C(950000000), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(949363200) - 28800);
    assert_int_equal(e, INT64_C(951868800) - 28800);
    /* December wraps into the next year: 2026-12 ends at 2027-01-01 local,
     * day 20819 -> 1798761600 - 28800 = 1798732800. Dec 1 = day 20788 ->
     * 1796083200 - 28800 = 1796054400. */
    period_bounds(PERIOD_MONTH, INT64_C(1798732799), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1796054400));
    assert_int_equal(e, INT64_C(1798732800));
}

static void
test_quarter_year_bounds(void **state)
{
    (void)state;
    int64_t s, e;
    /* Q4 2026: Oct 1 = day 20727 -> 1790812800 - 28800 = 1790784000;
     * Jan 1 2027 local = 1798732800; 7948800 s = 92 days. */
    period_bounds(PERIOD_QUARTER, INT64_C(1795320000), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1790784000));
    assert_int_equal(e, INT64_C(1798732800));
    /* Q1 2026: Jan 1 local .. Apr 1 local (day 20544 -> 1775001600 - 28800
     * = 1774972800). */
    period_bounds(PERIOD_QUARTER, INT64_C(1767196800), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1767196800));
    assert_int_equal(e, INT64_C(1774972800));
    /* 2026-12-31 23:59:59 local = 1798732799 is in 2026:
     * [1767196800, 1798732800). */
    period_bounds(PERIOD_YEAR, INT64_C(1798732799), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1767196800));
    assert_int_equal(e, INT64_C(1798732800));
    /* 2027-01-01 00:00 local = 2026-12-31T16:00:00Z = 1798732800 is in 2027,
     * which ends at 2028-01-01 local: day 21184 -> 1830297600 - 28800. */
    period_bounds(PERIOD_YEAR, INT64_C(1798732800), &shanghai, &s, &e);
    assert_int_equal(s, INT64_C(1798732800));
    assert_int_equal(e, INT64_C(1830268800));
    /* 1970 local starts 8 h before the epoch. */
    period_bounds(PERIOD_YEAR, 0, &shanghai, &s, &e);
    assert_int_equal(s, -28800);
    assert_int_equal(e, 365 * 86400 - 28800);
}

static void
test_labels(void **state)
{
    (void)state;
    char b[16];
    const int64_t t = INT64_C(1795320000); /* 2026-11-22 12:00 local */
    assert_int_equal(period_label(PERIOD_DAY, t, &shanghai, b, sizeof b), 10);
    assert_string_equal(b, "2026-11-22");
    assert_int_equal(period_label(PERIOD_MONTH, t, &shanghai, b, sizeof b), 7);
    assert_string_equal(b, "2026-11");
    assert_int_equal(period_label(PERIOD_QUARTER, t, &shanghai, b, sizeof b),
                     7);
    assert_string_equal(b, "2026-Q4");
    assert_int_equal(period_label(PERIOD_YEAR, t, &shanghai, b, sizeof b), 4);
    assert_string_equal(b, "2026");
    /* Around the new year: 1798732799 is 2026-12-31 23:59:59 local, but
     * 2026-12-31 15:59:59 in UTC; 1798732800 is 2027-01-01 local. */
    period_label(PERIOD_DAY, INT64_C(1798732799), &shanghai, b, sizeof b);
    assert_string_equal(b, "2026-12-31");
    period_label(PERIOD_QUARTER, INT64_C(1798732799), &shanghai, b, sizeof b);
    assert_string_equal(b, "2026-Q4");
    period_label(PERIOD_DAY, INT64_C(1798732800), &shanghai, b, sizeof b);
    assert_string_equal(b, "2027-01-01");
    period_label(PERIOD_MONTH, INT64_C(1798732800), &shanghai, b, sizeof b);
    assert_string_equal(b, "2027-01");
    period_label(PERIOD_QUARTER, INT64_C(1798732800), &shanghai, b, sizeof b);
    assert_string_equal(b, "2027-Q1");
    period_label(PERIOD_YEAR, INT64_C(1798732800), &shanghai, b, sizeof b);
    assert_string_equal(b, "2027");
    period_label(PERIOD_DAY, INT64_C(1798732800), &utc0, b, sizeof b);
    assert_string_equal(b, "2026-12-31");
    /* Quarters by month: 2026-04-01 local (1774972800) is Q2, the second
     * before is Q1. */
    period_label(PERIOD_QUARTER, INT64_C(1774972800), &shanghai, b, sizeof b);
    assert_string_equal(b, "2026-Q2");
    period_label(PERIOD_QUARTER, INT64_C(1774972799), &shanghai, b, sizeof b);
    assert_string_equal(b, "2026-Q1");
    /* Too small: "2026-11-22" needs 11 bytes with its NUL. */
    assert_int_equal(period_label(PERIOD_DAY, t, &shanghai, b, 10), -1);
    assert_int_equal(period_label(PERIOD_DAY, t, &shanghai, b, 11), 10);
    assert_int_equal(period_label(PERIOD_YEAR, t, &shanghai, b, 4), -1);
}

static void
test_parse_good(void **state)
{
    (void)state;
    enum conf_period k;
    int64_t s, e;
    assert_int_equal(period_parse("2026", &shanghai, &k, &s, &e), 0);
    assert_int_equal(k, PERIOD_YEAR);
    assert_int_equal(s, INT64_C(1767196800));
    assert_int_equal(e, INT64_C(1798732800));
    assert_int_equal(period_parse("2026-Q4", &shanghai, &k, &s, &e), 0);
    assert_int_equal(k, PERIOD_QUARTER);
    assert_int_equal(s, INT64_C(1790784000));
    assert_int_equal(e, INT64_C(1798732800));
    assert_int_equal(period_parse("2026-Q1", &shanghai, &k, &s, &e), 0);
    assert_int_equal(s, INT64_C(1767196800));
    assert_int_equal(e, INT64_C(1774972800));
    /* 2026-11: Nov 1 = day 20758 -> 1793491200 - 28800 = 1793462400;
     * Dec 1 local = 1796054400; 2592000 s = 30 days. */
    assert_int_equal(period_parse("2026-11", &shanghai, &k, &s, &e), 0);
    assert_int_equal(k, PERIOD_MONTH);
    assert_int_equal(s, INT64_C(1793462400));
    assert_int_equal(e, INT64_C(1796054400));
    assert_int_equal(period_parse("2026-12", &shanghai, &k, &s, &e), 0);
    assert_int_equal(s, INT64_C(1796054400));
    assert_int_equal(e, INT64_C(1798732800));
    assert_int_equal(period_parse("2026-01", &shanghai, &k, &s, &e), 0);
    assert_int_equal(s, INT64_C(1767196800));
    assert_int_equal(e, INT64_C(1769875200));
    /* The extremes of the range. */
    assert_int_equal(period_parse("1970", &shanghai, &k, &s, &e), 0);
    assert_int_equal(s, -28800);
    assert_int_equal(e, 31536000 - 28800);
    /* 9999-12: Dec 1 9999 .. 10000-01-01, 31 days. */
    assert_int_equal(period_parse("9999-12", &utc0, &k, &s, &e), 0);
    assert_int_equal(e - s, 31 * 86400);
    assert_int_equal(e, period_days_from_civil(10000, 1, 1) * 86400);
}

static void
test_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2026-13",  "2026-Q5",  "2026-1",     "2026-011", " 2026",
        "2026x",    "1969",     "",           "2026-Q0",  "2026-00",
        "+2026",    "-2026",    "2026-11-22", "10000",    "2026-q4",
        "2026-Q",   "2026-",    "20260",      "2026-1a",  "2026 ",
        "2026-Q44", "2026-Q4 ", "202",        "2026-+1",  "2026-Q-1"};
    enum conf_period k = PERIOD_DAY;
    int64_t s = 7, e = 9;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (period_parse(bad[i], &shanghai, &k, &s, &e) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(period_parse(NULL, &shanghai, &k, &s, &e), -1);
    /* Nothing is written on failure. */
    assert_int_equal(k, PERIOD_DAY);
    assert_int_equal(s, 7);
    assert_int_equal(e, 9);
}

/* Every day from 1970-01-01 to 2400-12-31 against a calendar counted by
 * hand: month lengths and the Gregorian leap rule (divisible by 4, except
 * centuries not divisible by 400). */
static void
test_civil_round_trip(void **state)
{
    (void)state;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    int64_t y = 1970;
    unsigned m = 1, d = 1;
    int64_t days = 0;
    assert_int_equal(period_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(period_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(period_days_from_civil(2000, 1, 1), 10957);
    assert_int_equal(period_days_from_civil(2026, 1, 1), 20454);
    while (y <= 2400) {
        int64_t cy;
        unsigned cm, cd;
        if (period_days_from_civil(y, m, d) != days)
            fail_msg("days_from_civil(%d-%u-%u)", (int)y, m, d);
        period_civil_from_days(days, &cy, &cm, &cd);
        if (cy != y || cm != m || cd != d)
            fail_msg("civil_from_days(%d) = %d-%u-%u, not %d-%u-%u", (int)days,
                     (int)cy, cm, cd, (int)y, m, d);
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        unsigned len = mdays[m - 1] + (m == 2 && leap);
        days++;
        if (++d > len) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    /* 1970..2400: 431 years, leap days: (2400 - 1972) / 4 + 1 = 108 minus
     * 2100, 2200, 2300 = 105; 431 * 365 + 105 = 157420. */
    assert_int_equal(days, 157420);
    /* Before the epoch: 1969-12-31, and 1600-03-01 (day -135080:
     * 1600-03-01 .. 2000-03-01 is one 400-year era of 146097 days and
     * 2000-03-01 is day 11017). */
    int64_t cy;
    unsigned cm, cd;
    period_civil_from_days(-1, &cy, &cm, &cd);
    assert_true(cy == 1969 && cm == 12 && cd == 31);
    assert_int_equal(period_days_from_civil(1600, 3, 1), 11017 - 146097);
    period_civil_from_days(11017 - 146097, &cy, &cm, &cd);
    assert_true(cy == 1600 && cm == 3 && cd == 1);
}

/* A zone like Central Europe in 2026: +1 h, and +2 h from 2026-03-29T01:00Z
 * until 2026-10-25T01:00Z. Or any other pair of instants and offsets. */
struct dst_rule {
    int64_t from, to;
    long std, dst;
};

static long
dst_offset(const struct tzone *z, int64_t utc)
{
    const struct dst_rule *r = z->arg;
    return utc >= r->from && utc < r->to ? r->dst : r->std;
}

/* 2026-03-29: day 20454 + 59 + 28 = 20541 -> 1774742400 (00:00Z).
 * 2026-10-25: day 20454 + 273 + 24 = 20751 -> 1792886400 (00:00Z). */
#define MAR29 INT64_C(1774742400)
#define OCT25 INT64_C(1792886400)

static void
test_dst_zone(void **state)
{
    (void)state;
    struct dst_rule r = {MAR29 + 3600, OCT25 + 3600, 3600, 7200};
    struct tzone cet = {dst_offset, &r, 0};
    int64_t s, e;
    /* Spring forward: the day of 2026-03-29 runs from 00:00 local at +1 h
     * (MAR29 - 3600 = 1774738800) to 2026-03-30 00:00 local at +2 h
     * (MAR29 + 86400 - 7200 = 1774821600): 23 hours. The same before
     * and after the change (01:59:59 and 03:00 local). */
    period_bounds(PERIOD_DAY, r.from - 1, &cet, &s, &e);
    assert_int_equal(s, INT64_C(1774738800));
    assert_int_equal(e, INT64_C(1774821600));
    period_bounds(PERIOD_DAY, r.from, &cet, &s, &e);
    assert_int_equal(s, INT64_C(1774738800));
    assert_int_equal(e, INT64_C(1774821600));
    /* Fall back: 2026-10-25 runs from 00:00 local at +2 h (OCT25 - 7200 =
     * 1792879200) to 2026-10-26 00:00 at +1 h (OCT25 + 86400 - 3600 =
     * 1792969200): 25 hours. */
    period_bounds(PERIOD_DAY, r.to, &cet, &s, &e);
    assert_int_equal(s, INT64_C(1792879200));
    assert_int_equal(e, INT64_C(1792969200));
    /* March 2026: Mar 1 (day 20513, 1772323200) at +1 h = 1772319600, to
     * Apr 1 (day 20544, 1775001600) at +2 h = 1774994400. */
    period_bounds(PERIOD_MONTH, r.from, &cet, &s, &e);
    assert_int_equal(s, INT64_C(1772319600));
    assert_int_equal(e, INT64_C(1774994400));
    /* The year from midsummer: both ends at +1 h: 1767225600 - 3600 and
     * 1798761600 - 3600. */
    period_bounds(PERIOD_YEAR, INT64_C(1782864000), &cet, &s, &e);
    assert_int_equal(s, INT64_C(1767222000));
    assert_int_equal(e, INT64_C(1798758000));
    /* Hours keep their own starts at the changes: 01:59:59 local at +1 h is
     * in the hour from 01:00 local = 00:00Z = MAR29; 03:00 at +2 h starts
     * the hour r.from. In autumn 02:59:59 at +2 h (r.to - 1) is in the hour
     * from 02:00 at +2 h = 00:00Z = OCT25, and the repeated 02:00 at +1 h
     * starts at r.to. */
    assert_int_equal(period_hour_start(r.from - 1, &cet), MAR29);
    assert_int_equal(period_hour_start(r.from, &cet), r.from);
    assert_int_equal(period_hour_start(r.to - 1, &cet), OCT25);
    assert_int_equal(period_hour_start(r.to, &cet), r.to);
    assert_int_equal(period_hour_start(r.to + 3599, &cet), r.to);
    assert_int_equal(period_hour_start(r.to + 3600, &cet), r.to + 3600);
    /* Labels and parsing follow the zone too: 2026 starts at +1 h. */
    enum conf_period k;
    assert_int_equal(period_parse("2026-Q2", &cet, &k, &s, &e), 0);
    /* Apr 1 (1775001600) and Jul 1 (day 20635 -> 1782864000), both +2 h */
    assert_int_equal(s, INT64_C(1775001600) - 7200);
    assert_int_equal(e, INT64_C(1782864000) - 7200);
}

/* Clocks that jump over midnight itself, as some zones have done: the day
 * starts when the clock jumps past midnight, or when it reads midnight after
 * the repeated hour. */
static void
test_transition_at_midnight(void **state)
{
    (void)state;
    int64_t s, e;
    /* -3 h, and -2 h from 2026-11-01 00:00 local at -3 h = 03:00Z =
     * 1793491200 + 10800 = 1793502000: the clock goes from 23:59:59 to
     * 01:00. Oct 31 runs from 1793491200 - 86400 + 10800 = 1793415600 to
     * the jump; Nov 1 from the jump to Nov 2 00:00 at -2 h = 1793491200 +
     * 86400 + 7200 = 1793584800 (23 hours). */
    struct dst_rule fwd = {INT64_C(1793502000), INT64_MAX, -10800, -7200};
    struct tzone zf = {dst_offset, &fwd, 0};
    period_bounds(PERIOD_DAY, fwd.from - 1, &zf, &s, &e);
    assert_int_equal(s, INT64_C(1793415600));
    assert_int_equal(e, INT64_C(1793502000));
    period_bounds(PERIOD_DAY, fwd.from, &zf, &s, &e);
    assert_int_equal(s, INT64_C(1793502000));
    assert_int_equal(e, INT64_C(1793584800));
    period_bounds(PERIOD_MONTH, fwd.from, &zf, &s, &e);
    assert_int_equal(s, INT64_C(1793502000));
    /* The same jump, but 30 minutes before midnight (23:30 -> 00:30 local,
     * at 1793502000 - 1800): Nov 1 starts at the jump. */
    struct dst_rule half = {INT64_C(1793500200), INT64_MAX, -10800, -7200};
    struct tzone zh = {dst_offset, &half, 0};
    period_bounds(PERIOD_DAY, half.from, &zh, &s, &e);
    assert_int_equal(s, INT64_C(1793500200));
    period_bounds(PERIOD_DAY, half.from - 1, &zh, &s, &e);
    assert_int_equal(e, INT64_C(1793500200));
    /* -2 h, and -3 h from 2027-02-21 00:00 local at -2 h (day 20819 + 31 +
     * 20 = 20870 -> 1803168000; + 7200 = 1803175200): the clock goes back
     * to 23:00 on Feb 20. Feb 20 runs from 1803168000 - 86400 + 7200 =
     * 1803088800 to the second midnight, 1803168000 + 10800 = 1803178800
     * (25 hours); the repeated 23:30 is still Feb 20. */
    struct dst_rule back = {INT64_C(1803175200), INT64_MAX, -7200, -10800};
    struct tzone zb = {dst_offset, &back, 0};
    period_bounds(PERIOD_DAY, back.from + 1800, &zb, &s, &e);
    assert_int_equal(s, INT64_C(1803088800));
    assert_int_equal(e, INT64_C(1803178800));
    period_bounds(PERIOD_DAY, INT64_C(1803178800), &zb, &s, &e);
    assert_int_equal(s, INT64_C(1803178800));
    assert_int_equal(e, INT64_C(1803178800) + 86400);
}

/* For every hour (plus a prime number of seconds) of 2026 in both zones,
 * each period contains t and its ends are fixed points. */
static void
test_bounds_contain(void **state)
{
    (void)state;
    struct dst_rule r = {MAR29 + 3600, OCT25 + 3600, 3600, 7200};
    struct tzone cet = {dst_offset, &r, 0};
    const struct tzone *zones[] = {&shanghai, &cet};
    for (int zi = 0; zi < 2; zi++) {
        for (int64_t t = INT64_C(1767100000); t < INT64_C(1798800000);
             t += 3607) {
            for (int p = PERIOD_DAY; p <= PERIOD_YEAR; p++) {
                int64_t s, e, s2, e2;
                period_bounds((enum conf_period)p, t, zones[zi], &s, &e);
                if (!(s <= t && t < e))
                    fail_msg("zone %d period %d t %lld", zi, p, (long long)t);
                period_bounds((enum conf_period)p, s, zones[zi], &s2, &e2);
                assert_true(s2 == s && e2 == e);
                period_bounds((enum conf_period)p, e, zones[zi], &s2, &e2);
                assert_int_equal(s2, e);
            }
            int64_t h = period_hour_start(t, zones[zi]);
            assert_true(h <= t && t < h + 3600);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hour_start),
        cmocka_unit_test(test_day_bounds),
        cmocka_unit_test(test_month_bounds),
        cmocka_unit_test(test_quarter_year_bounds),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_dst_zone),
        cmocka_unit_test(test_transition_at_midnight),
        cmocka_unit_test(test_bounds_contain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of value added over a span. Bounds are Asia/Shanghai (+8 h)
 * local midnights worked out by hand (see test_periods.c for the method):
 *   2026-01-01 1767196800   2026-10-01 1790784000   2026-11-01 1793462400
 *   2026-11-15 1793462400 + 14 * 86400 = 1794672000
 *   2026-12-01 1796054400   2026-12-15 1796054400 + 14 * 86400 = 1797264000
 *   2027-01-01 1798732800   2027-02-01 1798732800 + 31 * 86400 = 1801411200
 * The year 2026 is 365 days, Q4 92, November 30, December 31. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/core/valueadded.h"

#define Y2026 INT64_C(1767196800)
#define OCT01 INT64_C(1790784000)
#define NOV01 INT64_C(1793462400)
#define NOV15 INT64_C(1794672000)
#define DEC01 INT64_C(1796054400)
#define DEC15 INT64_C(1797264000)
#define Y2027 INT64_C(1798732800)
#define FEB27 INT64_C(1801411200)
#define DAY 86400

/* Relative closeness; the pro-rata divisions round once or twice. */
static void
assert_near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static const struct va_entry year = {PERIOD_YEAR, Y2026, Y2027, 1.2e9};

static void
test_year_only(void **state)
{
    (void)state;
    double cov;
    /* November of a 1.2e9 year: 1.2e9 * 30 / 365 = 3.6e10 / 365 =
     * 98630136.98630137 (365 * 98630136 = 35999999640, remainder 360). */
    assert_near(va_for_span(&year, 1, NOV01, DEC01, &cov), 98630136.98630137);
    assert_true(cov == 30.0 * DAY);
    /* The whole year gives its value exactly. */
    assert_true(va_for_span(&year, 1, Y2026, Y2027, &cov) == 1.2e9);
    assert_true(cov == 365.0 * DAY);
    /* One day: 1.2e9 / 365 = 3287671.2328767123. */
    assert_near(va_for_span(&year, 1, NOV01, NOV01 + DAY, NULL),
                3287671.2328767123);
}

/* A month given inside a year: that month counts its own value, every other
 * instant of the year counts at the year's density. The year's density is
 * not reduced by the month's value (the year's figure says how fast value
 * accrues wherever nothing finer is known), so the total over the year is
 * not the year's figure. */
static void
test_year_and_month(void **state)
{
    (void)state;
    const struct va_entry e[] = {
        year,
        {PERIOD_MONTH, NOV01, DEC01, 1.5e8},
    };
    double cov;
    /* November: its own 1.5e8, exactly. */
    assert_true(va_for_span(e, 2, NOV01, DEC01, &cov) == 1.5e8);
    assert_true(cov == 30.0 * DAY);
    /* Order does not matter. */
    const struct va_entry r[] = {e[1], e[0]};
    assert_true(va_for_span(r, 2, NOV01, DEC01, NULL) == 1.5e8);
    /* The whole year: 1.5e8 + 1.2e9 * 335 / 365 = 1.5e8 + 4.02e11 / 365 =
     * 1.5e8 + 1101369863.0136986 (365 * 1101369863 = 401999999995,
     * remainder 5) = 1251369863.0136986. */
    assert_near(va_for_span(e, 2, Y2026, Y2027, &cov), 1251369863.0136986);
    assert_true(cov == 365.0 * DAY);
    /* Nov 15 .. Dec 15: 16 days of the month (1.5e8 * 16 / 30 = 8e7) and
     * 14 days of the year (1.2e9 * 14 / 365 = 1.68e10 / 365 =
     * 46027397.260273973): 126027397.26027397. */
    assert_near(va_for_span(e, 2, NOV15, DEC15, &cov), 126027397.26027397);
    assert_true(cov == 30.0 * DAY);
}

static void
test_quarter_and_month(void **state)
{
    (void)state;
    const struct va_entry e[] = {
        {PERIOD_QUARTER, OCT01, Y2027, 3e8},
        {PERIOD_MONTH, NOV01, DEC01, 1.2e8},
        year,
    };
    double cov;
    /* Q4: November's own 1.2e8 plus October and December, 31 + 31 = 62 of
     * the quarter's 92 days: 3e8 * 62 / 92 = 1.86e10 / 92 = 202173913.04347826
     * (92 * 202173913 = 18599999996, remainder 4), total 322173913.04347826.
     * The year is not used where the quarter is. */
    assert_near(va_for_span(e, 3, OCT01, Y2027, &cov), 322173913.04347826);
    assert_true(cov == 92.0 * DAY);
    /* October alone: 3e8 * 31 / 92 = 9.3e9 / 92 = 101086956.52173913. */
    assert_near(va_for_span(e, 3, OCT01, NOV01, NULL), 101086956.52173913);
    /* Nov 15 .. Dec 15: 1.2e8 * 16 / 30 = 6.4e7 from the month and
     * 3e8 * 14 / 92 = 4.2e9 / 92 = 45652173.913043478 from the quarter:
     * 109652173.91304348. */
    assert_near(va_for_span(e, 3, NOV15, DEC15, NULL), 109652173.91304348);
    /* Sep 1 .. Oct 1 comes from the year: Sep 1 = Oct 1 - 30 days;
     * 1.2e9 * 30 / 365 = 98630136.98630137. */
    assert_near(va_for_span(e, 3, OCT01 - 30 * DAY, OCT01, NULL),
                98630136.98630137);
}

static void
test_partly_covered(void **state)
{
    (void)state;
    double cov;
    /* Dec 1 2026 .. Feb 1 2027 with only 2026 known: 31 days covered,
     * 1.2e9 * 31 / 365 = 3.72e10 / 365 = 101917808.21917808 (365 *
     * 101917808 = 37199999920, remainder 80). */
    assert_near(va_for_span(&year, 1, DEC01, FEB27, &cov), 101917808.21917808);
    assert_true(cov == 31.0 * DAY);
    assert_true(cov < (double)(FEB27 - DEC01));
    /* Starting before the year too: Dec 31 2025 .. Jan 2 2026 covers one
     * day: 1.2e9 / 365 = 3287671.2328767123. */
    assert_near(va_for_span(&year, 1, Y2026 - DAY, Y2026 + DAY, &cov),
                3287671.2328767123);
    assert_true(cov == 1.0 * DAY);
    /* A gap between two months is not filled. */
    const struct va_entry e[] = {
        {PERIOD_MONTH, OCT01, NOV01, 3.1e7},
        {PERIOD_MONTH, DEC01, Y2027, 6.2e7},
    };
    /* Oct 1 .. Jan 1: 3.1e7 + 6.2e7 = 9.3e7 over 62 of 92 days. */
    assert_true(va_for_span(e, 2, OCT01, Y2027, &cov) == 9.3e7);
    assert_true(cov == 62.0 * DAY);
}

static void
test_nothing_covers(void **state)
{
    (void)state;
    double cov = -1;
    assert_true(isnan(va_for_span(NULL, 0, NOV01, DEC01, &cov)));
    assert_true(cov == 0);
    cov = -1;
    assert_true(isnan(va_for_span(&year, 1, Y2027, FEB27, &cov)));
    assert_true(cov == 0);
    /* An empty span is covered nowhere. */
    assert_true(isnan(va_for_span(&year, 1, NOV01, NOV01, &cov)));
    assert_true(cov == 0);
    /* An entry that ends where the span starts does not count. */
    assert_true(isnan(va_for_span(&year, 1, Y2027, Y2027 + 1, NULL)));
    /* A covered span of 0 yuan is 0, not NAN. */
    const struct va_entry zero = {PERIOD_YEAR, Y2026, Y2027, 0};
    assert_true(va_for_span(&zero, 1, NOV01, DEC01, NULL) == 0);
}

/* The acceptance numbers: 10^6 yuan known for exactly the span queried. */
static void
test_acceptance(void **state)
{
    (void)state;
    const struct va_entry m = {PERIOD_MONTH, NOV01, DEC01, 1e6};
    double cov;
    assert_true(va_for_span(&m, 1, NOV01, DEC01, &cov) == 1e6);
    assert_true(cov == 30.0 * DAY);
    const struct va_entry e[] = {year, m};
    assert_true(va_for_span(e, 2, NOV01, DEC01, NULL) == 1e6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_year_only),
        cmocka_unit_test(test_year_and_month),
        cmocka_unit_test(test_quarter_and_month),
        cmocka_unit_test(test_partly_covered),
        cmocka_unit_test(test_nothing_covers),
        cmocka_unit_test(test_acceptance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

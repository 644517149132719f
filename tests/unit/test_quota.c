/* Unit tests of quota evaluation and alert states (DESIGN §5). The period
 * is 2026 in Asia/Shanghai (+8 h) unless said otherwise:
 *   start 2026-01-01 00:00 local = 20454 * 86400 - 28800 = 1767196800
 *   end   2027-01-01 00:00 local = 20819 * 86400 - 28800 = 1798732800
 *   365 days = 31536000 s. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/core/quota.h"
#include "daemon/core/valueadded.h"

#define Y2026 INT64_C(1767196800)
#define Y2027 INT64_C(1798732800)
#define DAY 86400
#define WEEK (7 * DAY)

static const struct quota_levels lv = {0.80, 0.95, 0.02};

static void
assert_near(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

/* (a) 20000 kg for 2026, used at a steady rate that ends the year at 110 %:
 * 22000 kg / 365 days. At 2026-03-01 00:00 local (59 days in: Y2026 +
 * 59 * 86400 = 1772294400) used = 22000 * 59 / 365 = 3556.1643835616438,
 * and the 7-day window (from 1771689600) saw 22000 * 7 / 365 =
 * 421.91780821917808.
 *   rate      = 22000 / 31536000 kg/s = 6.9761542364282089e-4
 *   projected = 22000 * (59 + 306) / 365 = 22000
 *   fraction  = 3556.1643835616438 / 20000 = 0.17780821917808219
 *   expected  = 59 / 365 = 0.16164383561643836
 *   exhaust   = when 22000 * d / 365 = 20000: d = 3650 / 11 =
 *               331.81818... days = 28669090.909 s after Y2026; the first
 *               whole second is Y2026 + 28669091 = 1795865891, i.e.
 *               day 331 (Nov 28, as Nov 1 is day 304) at 0.8181... * 86400
 *               = 70690.9 s = 19:38:10.9 local: 2026-11-28 19:38:11 local
 *               = 11:38:11Z = 20785 * 86400 + 41891 = 1795865891. */
static void
test_amount_on_track_for_110(void **state)
{
    (void)state;
    const int64_t now = INT64_C(1772294400);
    struct quota_amount_in in = {
        .limit = 20000,
        .used = 22000.0 * 59 / 365,
        .window_used = 22000.0 * 7 / 365,
        .window_start = now - WEEK,
        .start = Y2026,
        .end = Y2027,
        .now = now,
    };
    struct quota_result r;
    quota_eval_amount(&in, &r);
    assert_near(r.projected, 22000, 1e-9);
    assert_near(r.fraction, 0.17780821917808219, 1e-12);
    assert_near(r.expected, 0.16164383561643836, 1e-12);
    assert_near(r.rate, 6.9761542364282089e-4, 1e-12);
    assert_true(r.used == in.used);
    assert_int_equal(r.exhaust_at, INT64_C(1795865891));
    assert_true(r.exhaust_at > Y2026 && r.exhaust_at < Y2027);
    /* warn by projection (1.1 > 1) long before the fraction reaches 0.8. */
    assert_int_equal(
        quota_next_state(QS_OK, r.fraction, r.projected / 20000, &lv), QS_WARN);
}

/* (b) 50 % used at exactly mid-year, 2026-07-02 12:00 local = Y2026 +
 * 182.5 * 86400 = 1782964800, at a steady rate: projected == limit, which is
 * not over it, so ok. With 36500 kg the numbers are whole: 100 kg a day,
 * used 18250, 700 in the last week; projected = 18250 + 700 * 15768000 /
 * 604800 = 18250 + 18250 = 36500 exactly, and the limit is reached exactly
 * at the end, not before it. */
static void
test_amount_half_at_mid_year(void **state)
{
    (void)state;
    const int64_t now = INT64_C(1782964800);
    struct quota_amount_in in = {
        .limit = 36500,
        .used = 18250,
        .window_used = 700,
        .window_start = now - WEEK,
        .start = Y2026,
        .end = Y2027,
        .now = now,
    };
    struct quota_result r;
    quota_eval_amount(&in, &r);
    assert_true(r.projected == 36500);
    assert_true(r.fraction == 0.5);
    assert_true(r.expected == 0.5);
    assert_int_equal(r.exhaust_at, -1);
    assert_int_equal(
        quota_next_state(QS_OK, r.fraction, r.projected / 36500, &lv), QS_OK);
    /* 20000 kg with the window as long as the period so far: used 10000
     * over 15768000 s, projected 10000 + 10000 * 15768000 / 15768000. */
    in.limit = 20000;
    in.used = 10000;
    in.window_used = 10000;
    in.window_start = Y2026;
    quota_eval_amount(&in, &r);
    assert_true(r.projected == 20000);
    assert_int_equal(r.exhaust_at, -1);
    assert_int_equal(
        quota_next_state(QS_OK, r.fraction, r.projected / 20000, &lv), QS_OK);
    /* One kg more in the window: projected 20001 > 20000 -> warn, and the
     * limit falls 10000 * 15768000 / 10001 = 15766423.357... s after now:
     * the first whole second is now + 15766424 = 1798731224. */
    in.window_used = 10001;
    quota_eval_amount(&in, &r);
    assert_near(r.projected, 20001, 1e-15);
    assert_int_equal(r.exhaust_at, INT64_C(1798731224));
    assert_int_equal(
        quota_next_state(QS_OK, r.fraction, r.projected / 20000, &lv), QS_WARN);
}

static void
test_amount_edges(void **state)
{
    (void)state;
    struct quota_result r;
    /* At the start: no window, rate 0, nothing projected. */
    struct quota_amount_in in = {
        .limit = 1200,
        .used = 0,
        .window_used = 0,
        .window_start = Y2026,
        .start = Y2026,
        .end = Y2026 + DAY,
        .now = Y2026,
    };
    quota_eval_amount(&in, &r);
    assert_true(r.rate == 0);
    assert_true(r.projected == 0);
    assert_true(r.expected == 0);
    assert_true(r.fraction == 0);
    assert_int_equal(r.exhaust_at, -1);
    /* 6 h into a 1200 m3 day, 300 used, all in the window: rate 300 /
     * 21600 s; projected 300 + 300 * 64800 / 21600 = 1200; the limit is
     * reached exactly at the end, so no exhaust_at. With 330 used: rate
     * 330 / 21600, projected 330 + 990 = 1320, the remaining 870 take
     * 870 * 21600 / 330 = 56945.45... s: now + 56946. */
    in.now = Y2026 + 21600;
    in.used = in.window_used = 300;
    quota_eval_amount(&in, &r);
    assert_true(r.projected == 1200);
    assert_true(r.expected == 0.25);
    assert_int_equal(r.exhaust_at, -1);
    in.used = in.window_used = 330;
    quota_eval_amount(&in, &r);
    assert_true(r.projected == 1320);
    assert_int_equal(r.exhaust_at, Y2026 + 21600 + 56946);
    /* Already over the limit: no exhaust_at, fraction 1300 / 1200. */
    in.used = in.window_used = 1300;
    quota_eval_amount(&in, &r);
    assert_int_equal(r.exhaust_at, -1);
    assert_near(r.fraction, 1300.0 / 1200, 1e-15);
    /* No limit: fraction NAN, no exhaust_at, the state stays. */
    in.limit = 0;
    in.used = in.window_used = 300;
    quota_eval_amount(&in, &r);
    assert_true(isnan(r.fraction));
    assert_int_equal(r.exhaust_at, -1);
    assert_int_equal(quota_next_state(QS_WARN, r.fraction, NAN, &lv), QS_WARN);
}

/* (f) At and after the end: expected 1, projected = used, no exhaust_at. */
static void
test_amount_at_end(void **state)
{
    (void)state;
    struct quota_amount_in in = {
        .limit = 20000,
        .used = 15000,
        .window_used = 500,
        .window_start = Y2027 - WEEK,
        .start = Y2026,
        .end = Y2027,
        .now = Y2027,
    };
    struct quota_result r;
    quota_eval_amount(&in, &r);
    assert_true(r.expected == 1);
    assert_true(r.projected == 15000);
    assert_true(r.fraction == 0.75);
    assert_int_equal(r.exhaust_at, -1);
    assert_near(r.rate, 500.0 / 604800, 1e-15);
    in.now = Y2027 + 3600;
    quota_eval_amount(&in, &r);
    assert_true(r.expected == 1);
    assert_true(r.projected == 15000);
    assert_int_equal(r.exhaust_at, -1);
}

/* (c) 10000 kWh x 0.1229 kgce/kWh = 1229 kgce = 1.229 tce, with 10^6 yuan
 * of value added over the same span (November 2026: 1793462400 ..
 * 1796054400): 1.229 / (10^6 / 10^4) = 0.01229 tce per 10^4 yuan
 * (12.29 kgce per 10^4 yuan). */
static void
test_intensity_acceptance(void **state)
{
    (void)state;
    const int64_t s = INT64_C(1793462400), e = INT64_C(1796054400);
    const struct va_entry nov = {PERIOD_MONTH, s, e, 1e6};
    double va = va_for_span(&nov, 1, s, e, NULL);
    struct quota_intensity_in in = {
        .limit = 0.3811,
        .tce_used = 10000 * 0.1229 / 1000,
        .tce_window = 0,
        .window_start = e,
        .va_so_far = va,
        .va_period = va,
        .start = s,
        .end = e,
        .now = e,
    };
    struct quota_result r;
    quota_eval_intensity(&in, &r);
    assert_near(r.used, 0.01229, 1e-12);
    assert_near(r.used * 1000, 12.29, 1e-12);
    assert_near(r.projected, 0.01229, 1e-12);
    assert_near(r.fraction, 0.01229 / 0.3811, 1e-12);
    assert_true(r.expected == 1);
    assert_int_equal(r.exhaust_at, -1);
}

/* A short made-up period [0, 1000) at now = 400 with a 100 s window:
 * 4 tce used on 400000 yuan so far (intensity 4 / 40 = 0.1), 3 tce in the
 * window (rate 0.03 tce/s), 10^6 yuan for the period.
 *   projected = (4 + 3 * 600 / 100) / 100 = 0.22
 * With value added accruing linearly from 40 to 100 (10^4 yuan) over the
 * remaining 600 s, at x s after now the intensity is
 * (4 + 0.03 x) / (40 + 0.1 x); it reaches 0.125 when
 * 4 + 0.03 x = 5 + 0.0125 x: x = 1 / 0.0175 = 57.142857 s, first whole
 * second 458 (at 457: 5.71 / 45.7 = 0.12495; at 458: 5.74 / 45.8 =
 * 0.12533). It reaches 0.25 at x = 6 / 0.005 = 1200 s: after the end. */
static void
test_intensity_exhaust(void **state)
{
    (void)state;
    struct quota_intensity_in in = {
        .limit = 0.125,
        .tce_used = 4,
        .tce_window = 3,
        .window_start = 300,
        .va_so_far = 400000,
        .va_period = 1e6,
        .start = 0,
        .end = 1000,
        .now = 400,
    };
    struct quota_result r;
    quota_eval_intensity(&in, &r);
    assert_true(r.used == 0.1);
    assert_near(r.fraction, 0.8, 1e-15);
    assert_near(r.projected, 0.22, 1e-15);
    assert_near(r.rate, 0.03, 1e-15);
    assert_true(r.expected == 0.4);
    assert_int_equal(r.exhaust_at, 458);
    in.limit = 0.25;
    quota_eval_intensity(&in, &r);
    assert_int_equal(r.exhaust_at, -1);
    /* Falling intensity (0.5 tce in the window: (4 + 0.005 x) / (40 +
     * 0.1 x) goes from 0.1 to 0.07) never reaches 0.125. */
    in.limit = 0.125;
    in.tce_window = 0.5;
    quota_eval_intensity(&in, &r);
    assert_int_equal(r.exhaust_at, -1);
    assert_near(r.projected, 0.07, 1e-15);
    /* Already above: 6 / 40 = 0.15 > 0.125. */
    in.tce_window = 3;
    in.tce_used = 6;
    quota_eval_intensity(&in, &r);
    assert_int_equal(r.exhaust_at, -1);
    assert_near(r.fraction, 1.2, 1e-15);
    assert_int_equal(
        quota_next_state(QS_OK, r.fraction, r.projected / 0.125, &lv),
        QS_EXCEEDED);
}

static void
test_intensity_unknown_va(void **state)
{
    (void)state;
    struct quota_intensity_in in = {
        .limit = 0.125,
        .tce_used = 4,
        .tce_window = 3,
        .window_start = 300,
        .va_so_far = NAN,
        .va_period = NAN,
        .start = 0,
        .end = 1000,
        .now = 400,
    };
    struct quota_result r;
    quota_eval_intensity(&in, &r);
    assert_true(isnan(r.used));
    assert_true(isnan(r.fraction));
    assert_true(isnan(r.projected));
    assert_int_equal(r.exhaust_at, -1);
    assert_near(r.rate, 0.03, 1e-15);
    assert_int_equal(
        quota_next_state(QS_CRITICAL, r.fraction, r.projected / 0.125, &lv),
        QS_CRITICAL);
    /* Known so far, unknown for the period: used but no projection. */
    in.va_so_far = 400000;
    quota_eval_intensity(&in, &r);
    assert_true(r.used == 0.1);
    assert_true(isnan(r.projected));
    assert_int_equal(r.exhaust_at, -1);
    /* 0 yuan is treated as unknown, not as an infinite intensity. */
    in.va_so_far = 0;
    quota_eval_intensity(&in, &r);
    assert_true(isnan(r.used));
}

/* (d) Ladders with warn 0.80, critical 0.95, hysteresis 0.02, projection
 * below the limit unless said. */
static void
test_state_ladder(void **state)
{
    (void)state;
    enum quota_state s = QS_OK;
    static const struct {
        double fraction, ratio;
        enum quota_state want;
    } steps[] = {
        {0.79, 0.9, QS_OK},        /* below warn */
        {0.80, 0.9, QS_WARN},      /* up at 0.80 */
        {0.79, 0.9, QS_WARN},      /* 0.79 >= 0.78: stays */
        {0.781, 0.9, QS_WARN},     /* still in the band */
        {0.779, 0.9, QS_OK},       /* < 0.78: falls */
        {0.95, 0.9, QS_CRITICAL},  /* ok -> critical at once */
        {0.94, 0.9, QS_CRITICAL},  /* >= 0.93 */
        {0.931, 0.9, QS_CRITICAL}, /* >= 0.93 */
        {0.92, 0.9, QS_WARN},      /* < 0.93: falls to warn (0.92 >= 0.8) */
        {0.95, 0.9, QS_CRITICAL},  /* back up */
        {1.0, 0.9, QS_EXCEEDED},   /* at 1.0 */
        {0.99, 0.9, QS_EXCEEDED},  /* >= 0.98: stays */
        {0.981, 0.9, QS_EXCEEDED}, /* >= 0.98: stays */
        {0.97, 0.9, QS_CRITICAL},  /* < 0.98, >= 0.95: critical */
        {1.2, 0.9, QS_EXCEEDED},   /* up */
        {0.94, 0.9, QS_WARN},      /* < 0.98; 0.94 < 0.95, >= 0.8: warn */
        {0.5, 0.9, QS_OK},         /* < 0.78 and ratio < 0.98 */
        {0.0, 1.01, QS_WARN},      /* projected over the limit */
        {0.0, 1.0, QS_WARN},       /* 1.0 >= 0.98: stays */
        {0.5, 0.99, QS_WARN},      /* 0.99 >= 0.98: stays */
        {0.5, 0.97, QS_OK},        /* both below their bands */
        {0.0, 1.0, QS_OK},         /* projected == limit is not over */
        {0.79, 1.5, QS_WARN},      /* by projection */
        {0.79, 0.5, QS_WARN},      /* 0.79 >= 0.78 holds warn */
        {1.0, 0.5, QS_EXCEEDED},   /* warn -> exceeded at once */
        {0.5, 1.2, QS_WARN},       /* exceeded falls to warn by projection */
        {0.96, 1.2, QS_CRITICAL},  /* up */
        {0.6, 1.2, QS_WARN},       /* critical falls to warn (projection) */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        enum quota_state next =
            quota_next_state(s, steps[i].fraction, steps[i].ratio, &lv);
        if (next != steps[i].want)
            fail_msg("step %zu: %s -> %s at %g/%g, want %s", i,
                     quota_state_name(s), quota_state_name(next),
                     steps[i].fraction, steps[i].ratio,
                     quota_state_name(steps[i].want));
        s = next;
    }
}

/* (e) NAN fraction keeps every state, whatever the projection says. */
static void
test_state_nan(void **state)
{
    (void)state;
    for (int s = QS_OK; s <= QS_EXCEEDED; s++) {
        assert_int_equal(quota_next_state((enum quota_state)s, NAN, 2.0, &lv),
                         s);
        assert_int_equal(quota_next_state((enum quota_state)s, NAN, NAN, &lv),
                         s);
    }
    /* A NAN projection alone neither raises nor holds warn. */
    assert_int_equal(quota_next_state(QS_OK, 0.5, NAN, &lv), QS_OK);
    assert_int_equal(quota_next_state(QS_WARN, 0.5, NAN, &lv), QS_OK);
}

static void
test_state_names(void **state)
{
    (void)state;
    assert_string_equal(quota_state_name(QS_OK), "ok");
    assert_string_equal(quota_state_name(QS_WARN), "warn");
    assert_string_equal(quota_state_name(QS_CRITICAL), "critical");
    assert_string_equal(quota_state_name(QS_EXCEEDED), "exceeded");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amount_on_track_for_110),
        cmocka_unit_test(test_amount_half_at_mid_year),
        cmocka_unit_test(test_amount_edges),
        cmocka_unit_test(test_amount_at_end),
        cmocka_unit_test(test_intensity_acceptance),
        cmocka_unit_test(test_intensity_exhaust),
        cmocka_unit_test(test_intensity_unknown_va),
        cmocka_unit_test(test_state_ladder),
        cmocka_unit_test(test_state_nan),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

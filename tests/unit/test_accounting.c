/* Unit tests of accounting: totals, wraps, resets, hour splitting, flow-rate
 * integration, pollutant masses and energy. Every expected number is worked
 * out by hand in the comment next to it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/core/accounting.h"

/* 2026-11-22 08:00:00 in Asia/Shanghai (+08:00) = 2026-11-22 00:00:00 UTC:
 * 20779 days after 1970-01-01, 20779 * 86400 = 1795305600. The zone's
 * offset is whole hours, so local hours start at T0 + k * 3600. */
#define T0 1795305600.0
#define HOUR_ANY INT64_MIN
#define OUTLET_ANY (-2)
#define NMETER 8
#define NPOINT 4
#define NOUTLET 4

struct fix {
    struct conf c;
    struct conf_profile prof[NMETER];
    struct conf_point pts[NMETER][NPOINT];
    struct conf_meter met[NMETER];
    struct conf_enterprise ent;
    struct conf_outlet outlet[NOUTLET];
    int ent_meters[NMETER];
    int park_meters[NMETER];
    struct tzone z;
    struct acct *a;
    struct acct_sink sink;
};

/* One park (fixed +08:00) with one enterprise and no meters yet; the
 * default energy factors of DESIGN §4. */
static int
setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->c.profiles = f->prof;
    f->c.meters = f->met;
    f->c.enterprises = &f->ent;
    f->c.nenterprises = 1;
    f->c.park.meters = f->park_meters;
    f->c.energy_factors.electricity_kgce_per_kwh = 0.1229;
    f->c.energy_factors.gas_kgce_per_m3 = 1.2143;
    f->c.energy_factors.steam_kgce_per_t = 128.6;
    f->c.energy_factors.heat_kgce_per_gj = 34.12;
    snprintf(f->ent.id, sizeof(f->ent.id), "bomin");
    f->ent.meters = f->ent_meters;
    f->ent.outlets = f->outlet;
    f->z.fixed = 8 * 3600;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fix *f = *state;
    acct_free(f->a);
    acct_sink_free(&f->sink);
    free(f);
    return 0;
}

/* A meter of the enterprise (enterprise 0) or of the park (-1) with a
 * profile of its own; returns its index. */
static int
add_meter(struct fix *f, int enterprise, double interval)
{
    assert_true(f->c.nmeters < NMETER);
    int m = (int)f->c.nmeters++;
    struct conf_meter *me = &f->met[m];
    snprintf(me->id, sizeof(me->id), "m%d", m);
    me->enterprise = enterprise;
    me->profile = m;
    me->interval = interval;
    me->ct = me->pt = 1;
    f->prof[m].points = f->pts[m];
    f->c.nprofiles++;
    if (enterprise == 0)
        f->ent_meters[f->ent.nmeters++] = m;
    else
        f->park_meters[f->c.park.nmeters++] = m;
    return m;
}

/* A point of meter m; returns its index. */
static int
add_point(struct fix *f, int m, enum conf_kind kind, enum conf_type type,
          double scale)
{
    assert_true(f->prof[m].npoints < NPOINT);
    int p = (int)f->prof[m].npoints++;
    struct conf_point *pt = &f->pts[m][p];
    snprintf(pt->name, sizeof(pt->name), "p%d", p);
    pt->kind = kind;
    pt->pollutant = POLL_NONE;
    pt->type = type;
    pt->scale = scale;
    return p;
}

static void
set_max_rate(struct fix *f, int m, int p, double rate)
{
    f->pts[m][p].has_max_rate = true;
    f->pts[m][p].max_rate = rate;
}

static struct conf_ref
ref(int m, int p)
{
    struct conf_ref r = {.meter = m, .point = p};
    snprintf(r.text, sizeof(r.text), "m%d.p%d", m, p);
    return r;
}

/* An outlet measured by point (m, p); returns its index. */
static int
add_outlet(struct fix *f, int m, int p)
{
    assert_true(f->ent.noutlets < NOUTLET);
    int o = (int)f->ent.noutlets++;
    snprintf(f->outlet[o].id, sizeof(f->outlet[o].id), "o%d", o);
    f->outlet[o].volume = ref(m, p);
    return o;
}

/* A concentration point on meter m, referenced by outlet o. */
static int
add_conc(struct fix *f, int o, int m, enum conf_pollutant pol)
{
    int p = add_point(f, m, KIND_CONCENTRATION, TYPE_FLOAT32, 1);
    f->pts[m][p].pollutant = pol;
    f->outlet[o].has_conc[pol] = true;
    f->outlet[o].conc[pol] = ref(m, p);
    return p;
}

static void
start(struct fix *f)
{
    f->a = acct_new(&f->c, &f->z);
    assert_non_null(f->a);
}

static int
feed(struct fix *f, int m, int p, double ts, double v, char flag)
{
    struct sample s = {
        .ts = ts,
        .value = v,
        .meter = (uint32_t)m,
        .point = (uint16_t)p,
        .flag = flag,
    };
    return acct_feed(f->a, &s, &f->sink);
}

static int64_t
hour(int k)
{
    return (int64_t)T0 + (int64_t)k * 3600;
}

static bool
row_matches(const struct acct_incr *in, enum acct_measure m, int outlet,
            enum conf_pollutant pol, int64_t h)
{
    return in->measure == m && (outlet == OUTLET_ANY || in->outlet == outlet) &&
           (m != AM_POLLUTANT_KG && m != AM_CONC_M3 ? true
                                                    : in->pollutant == pol) &&
           (h == HOUR_ANY || in->hour == h);
}

/* The sum of a measure's increments (of one outlet and hour, or any). */
static double
sum(const struct acct_sink *s, enum acct_measure m, int outlet,
    enum conf_pollutant pol, int64_t h)
{
    double t = 0;
    for (size_t i = 0; i < s->nincr; i++)
        if (row_matches(&s->incr[i], m, outlet, pol, h))
            t += s->incr[i].amount;
    return t;
}

static double
covered(const struct acct_sink *s, enum acct_measure m, int64_t h)
{
    double t = 0;
    for (size_t i = 0; i < s->nincr; i++)
        if (row_matches(&s->incr[i], m, OUTLET_ANY, POLL_NONE, h))
            t += s->incr[i].covered;
    return t;
}

static unsigned
flags(const struct acct_sink *s, enum acct_measure m, int64_t h)
{
    unsigned fl = 0;
    for (size_t i = 0; i < s->nincr; i++)
        if (row_matches(&s->incr[i], m, OUTLET_ANY, POLL_NONE, h))
            fl |= s->incr[i].flags;
    return fl;
}

/* The hours a measure has rows in. */
static size_t
nhours(const struct acct_sink *s, enum acct_measure m)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nincr; i++) {
        if (s->incr[i].measure != m)
            continue;
        size_t j = 0;
        while (j < i &&
               (s->incr[j].measure != m || s->incr[j].hour != s->incr[i].hour))
            j++;
        n += j == i;
    }
    return n;
}

static size_t
nevents(const struct acct_sink *s, enum acct_event_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nev; i++)
        n += s->ev[i].kind == k;
    return n;
}

/* Within 1e-9 relative (absolute near 0). */
static void
assert_near(double got, double want)
{
    double tol = 1e-9 * fmax(fabs(want), 1e-3);
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g", got, want);
}

/* A flowmeter (total, interval 10) and a COD analyzer on one outlet. */
struct outlet_fix {
    int flow, total, o, an, cod;
};

static struct outlet_fix
outlet_fix(struct fix *f, enum conf_type type, double cod_interval)
{
    struct outlet_fix x;
    x.flow = add_meter(f, 0, 10);
    x.total = add_point(f, x.flow, KIND_VOLUME_TOTAL, type, 1);
    x.o = add_outlet(f, x.flow, x.total);
    x.an = add_meter(f, 0, cod_interval);
    x.cod = add_conc(f, x.o, x.an, POLL_COD);
    start(f);
    return x;
}

/* Acceptance: a flowmeter total rising 36 m3/h for 10 h, read every 10 s
 * from 08:00:00, COD 50 mg/L read every 60 s. */
static void
test_acceptance_effluent(void **state)
{
    struct fix *f = *state;
    struct outlet_fix x = outlet_fix(f, TYPE_FLOAT32, 60);
    /* 3601 readings, k = 0..3600: total 1000 + 0.1 k (36 m3/h = 0.1 m3 per
     * 10 s); COD 50 every 6th tick, before the total. */
    for (int k = 0; k <= 3600; k++) {
        double t = T0 + 10.0 * k;
        if (k % 6 == 0)
            assert_int_equal(feed(f, x.an, x.cod, t, 50, 'N'), 0);
        assert_int_equal(feed(f, x.flow, x.total, t, 1000 + k / 10.0, 'N'), 0);
    }
    /* 10 h * 36 m3/h = 360 m3, 36 in each of the hours 08..17 (the slice
     * ending at 09:00:00 belongs to 08). */
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, HOUR_ANY), 360);
    assert_int_equal(nhours(&f->sink, AM_EFFLUENT_M3), 10);
    for (int h = 0; h < 10; h++) {
        assert_near(sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, hour(h)), 36);
        /* a full hour covered: 360 slices of 10 s */
        assert_near(covered(&f->sink, AM_EFFLUENT_M3, hour(h)), 3600);
    }
    /* G = 360 m3 * 50 mg/L * 1e-3 = 18 kg, all 360 m3 with a valid COD */
    assert_near(sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_COD, HOUR_ANY), 18);
    assert_near(sum(&f->sink, AM_CONC_M3, x.o, POLL_COD, HOUR_ANY), 360);
    /* hour 08: 36 m3 * 50e-3 = 1.8 kg; mean 1.8 / 36 * 1e3 = 50 mg/L */
    assert_near(sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_COD, hour(0)), 1.8);
    assert_true(sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_NH3N, HOUR_ANY) == 0);
    assert_int_equal(f->sink.nev, 0);
}

/* The same with an integer register of whole m3 (1 m3 every 100 s): the
 * hourly sums are exact. */
static void
test_acceptance_effluent_exact(void **state)
{
    struct fix *f = *state;
    struct outlet_fix x = outlet_fix(f, TYPE_UINT32, 60);
    for (int k = 0; k <= 3600; k++) {
        double t = T0 + 10.0 * k;
        if (k % 6 == 0)
            assert_int_equal(feed(f, x.an, x.cod, t, 50, 'N'), 0);
        /* 1000 + floor(k / 10): +1 m3 at every 10th tick */
        assert_int_equal(feed(f, x.flow, x.total, t, 1000 + k / 10, 'N'), 0);
    }
    /* the step to 1036 comes at k = 360 = 09:00:00, on the slice that ends
     * there: hour 08 has 36 steps of 1, and so on: 10 rows of 36 */
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, HOUR_ANY) == 360);
    for (int h = 0; h < 10; h++)
        assert_true(sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, hour(h)) ==
                    36);
    assert_int_equal(nhours(&f->sink, AM_EFFLUENT_M3), 10);
    assert_true(sum(&f->sink, AM_CONC_M3, x.o, POLL_COD, HOUR_ANY) == 360);
    /* 360 * 50e-3 = 18 kg */
    assert_near(sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_COD, HOUR_ANY), 18);
}

/* Acceptance: only a flow rate, 36 m3/h read every 10 s for 10 h. */
static void
test_acceptance_flow_rate(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int q = add_point(f, m, KIND_FLOW_RATE, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, q);
    start(f);
    for (int k = 0; k <= 3600; k++)
        assert_int_equal(feed(f, m, q, T0 + 10.0 * k, 36, 'N'), 0);
    /* 3600 trapezoids of (36 + 36) / 2 * 10 / 3600 = 0.1 m3 = 360 m3 */
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY), 360);
    for (int h = 0; h < 10; h++)
        assert_near(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(h)), 36);
    assert_int_equal(nhours(&f->sink, AM_EFFLUENT_M3), 10);
}

/* Acceptance: an electricity total rising 10,000 kWh. */
static void
test_acceptance_electricity(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 36);
    int p = add_point(f, m, KIND_ELECTRICITY_TOTAL, TYPE_UINT32, 1);
    start(f);
    /* +10 kWh every 36 s for 10 h: 1000 readings after the baseline */
    for (int k = 0; k <= 1000; k++)
        assert_int_equal(feed(f, m, p, T0 + 36.0 * k, 50000 + 10.0 * k, 'N'),
                         0);
    /* 1000 * 10 = 10000 kWh; 100 slices of 10 kWh = 1000 kWh an hour */
    assert_true(sum(&f->sink, AM_ELECTRICITY_KWH, -1, POLL_NONE, HOUR_ANY) ==
                10000);
    for (int h = 0; h < 10; h++)
        assert_true(sum(&f->sink, AM_ELECTRICITY_KWH, -1, POLL_NONE, hour(h)) ==
                    1000);
    /* 10000 kWh * 0.1229 kgce/kWh / 1000 = 1.229 tce */
    assert_near(sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY), 1.229);
    assert_near(sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, hour(3)), 0.1229);
    assert_true(
        sum(&f->sink, AM_EFFLUENT_M3, OUTLET_ANY, POLL_NONE, HOUR_ANY) == 0);
}

/* A reading every 7 s across hour boundaries: 1 m3/s from 07:59:58. */
static void
test_split_seven_seconds(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 7);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_UINT32, 1);
    int o = add_outlet(f, m, p);
    int m2 = add_meter(f, 0, 7);
    int p2 = add_point(f, m2, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o2 = add_outlet(f, m2, p2);
    start(f);
    /* t_k = T0 - 2 + 7k, value 7k, k = 0..1100: ends at T0 + 7698 =
     * 10:08:18. The slice [T0 - 2, T0 + 5] puts 7 * 2/7 = 2 into 07 and 5
     * into 08; [T0 + 3596, T0 + 3603] (k = 514) puts 4 into 08 and 3 into
     * 09; [T0 + 7194, T0 + 7201] (k = 1028) 6 into 09 and 1 into 10. At
     * 1 m3/s each hour gets its seconds. */
    for (int k = 0; k <= 1100; k++)
        assert_int_equal(feed(f, m, p, T0 - 2 + 7.0 * k, 7.0 * k, 'N'), 0);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(-1)) == 2);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(0)) == 3600);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(1)) == 3600);
    /* 7698 - 7200 = 498 s of hour 10 */
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(2)) == 498);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 7700);
    assert_true(covered(&f->sink, AM_EFFLUENT_M3, hour(-1)) == 2);
    assert_true(covered(&f->sink, AM_EFFLUENT_M3, hour(2)) == 498);

    /* One slice across 09:00 with an uneven amount: 100 at 08:59:57, 107.7
     * at 09:00:04: 3 s of 7 in hour 08 = 7.7 * 3/7 = 3.3, then 4.4. */
    acct_sink_free(&f->sink);
    assert_int_equal(feed(f, m2, p2, T0 + 3597, 100, 'N'), 0);
    assert_int_equal(feed(f, m2, p2, T0 + 3604, 107.7, 'N'), 0);
    assert_int_equal(f->sink.nincr, 2);
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, o2, POLL_NONE, hour(0)), 3.3);
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, o2, POLL_NONE, hour(1)), 4.4);
    assert_true(f->sink.incr[0].covered == 3 && f->sink.incr[1].covered == 4);
    assert_true(f->sink.incr[0].flags == 0);
}

/* COD changing mid-hour: 30 min of 36 m3/h at 40 mg/L, then 30 min of
 * 72 m3/h at 60 mg/L. Both read every 10 s; at each tick the total comes
 * before the analyzer, so the slice ending at t uses the COD read at
 * t - 10. */
static void
test_cod_changes_mid_hour(void **state)
{
    struct fix *f = *state;
    struct outlet_fix x = outlet_fix(f, TYPE_FLOAT32, 10);
    for (int t = 0; t <= 3600; t += 10) {
        double v = t <= 1800 ? t / 100.0 : 18 + (t - 1800) / 50.0;
        assert_int_equal(feed(f, x.flow, x.total, T0 + t, v, 'N'), 0);
        assert_int_equal(feed(f, x.an, x.cod, T0 + t, t < 1800 ? 40 : 60, 'N'),
                         0);
    }
    /* slices ending 10..1800: 180 * 0.1 = 18 m3 at 40 mg/L = 0.72 kg;
     * slices ending 1810..3600: 180 * 0.2 = 36 m3 at 60 mg/L = 2.16 kg */
    double v = sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, hour(0));
    double g = sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_COD, hour(0));
    double cv = sum(&f->sink, AM_CONC_M3, x.o, POLL_COD, hour(0));
    assert_near(v, 54);
    assert_near(cv, 54);
    assert_near(g, 2.88);
    /* flow-weighted mean = 2.88 / 54 * 1e3 = 53.333... = 160/3 mg/L (the
     * time-weighted mean would be 50) */
    assert_near(g / cv * 1e3, 160.0 / 3);
}

/* COD flagged B from 08:20:00 to 08:29:50: those slices carry volume but
 * no mass and no conc-m3. */
static void
test_conc_flagged_b(void **state)
{
    struct fix *f = *state;
    struct outlet_fix x = outlet_fix(f, TYPE_FLOAT32, 10);
    for (int t = 0; t <= 3600; t += 10) {
        assert_int_equal(feed(f, x.flow, x.total, T0 + t, t / 100.0, 'N'), 0);
        bool b = t >= 1200 && t < 1800;
        assert_int_equal(
            feed(f, x.an, x.cod, T0 + t, b ? NAN : 50, b ? 'B' : 'N'), 0);
    }
    /* slices ending at 1210..1800 see the B: 60 slices = 6 m3 without COD;
     * the other 300 slices = 30 m3 at 50 mg/L = 1.5 kg */
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, hour(0)), 36);
    assert_near(sum(&f->sink, AM_CONC_M3, x.o, POLL_COD, hour(0)), 30);
    assert_near(sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_COD, hour(0)), 1.5);
}

/* A concentration older than 3 intervals is no longer valid. */
static void
test_conc_expires(void **state)
{
    struct fix *f = *state;
    struct outlet_fix x = outlet_fix(f, TYPE_FLOAT32, 60);
    assert_int_equal(feed(f, x.an, x.cod, T0, 50, 'N'), 0);
    for (int t = 0; t <= 300; t += 10)
        assert_int_equal(feed(f, x.flow, x.total, T0 + t, t / 100.0, 'N'), 0);
    /* valid up to T0 + 3 * 60 = T0 + 180: slices ending 10..180 = 18 * 0.1
     * = 1.8 m3 with COD, 1.8 * 50e-3 = 0.09 kg; 3.0 m3 in all */
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, x.o, POLL_NONE, HOUR_ANY), 3.0);
    assert_near(sum(&f->sink, AM_CONC_M3, x.o, POLL_COD, HOUR_ANY), 1.8);
    assert_near(sum(&f->sink, AM_POLLUTANT_KG, x.o, POLL_COD, HOUR_ANY), 0.09);
}

/* A totalizer reset, 99999 -> 3: not usage; counting goes on from 3. */
static void
test_reset(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, p);
    /* an integer register: 99999 is in the lower half of uint32, so this is
     * no wrap either */
    int m2 = add_meter(f, 0, 10);
    int p2 = add_point(f, m2, KIND_VOLUME_TOTAL, TYPE_UINT32, 1);
    start(f);
    assert_int_equal(feed(f, m, p, T0, 99990, 'N'), 0);
    assert_int_equal(feed(f, m, p, T0 + 10, 99999, 'N'), 0); /* +9 */
    assert_int_equal(feed(f, m, p, T0 + 20, 3, 'N'), 0);     /* reset */
    assert_int_equal(feed(f, m, p, T0 + 30, 5, 'N'), 0);     /* +2 */
    /* 9 + 2 = 11 */
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 11);
    assert_int_equal(f->sink.nev, 1);
    assert_int_equal(f->sink.ev[0].kind, AE_RESET);
    assert_int_equal(f->sink.ev[0].meter, m);
    assert_int_equal(f->sink.ev[0].point, p);
    assert_true(f->sink.ev[0].ts == T0 + 20);
    assert_true(f->sink.ev[0].from == 99999 && f->sink.ev[0].to == 3);
    assert_int_equal(acct_event_flag(AE_RESET), 'D');

    assert_int_equal(feed(f, m2, p2, T0, 99999, 'N'), 0);
    assert_int_equal(feed(f, m2, p2, T0 + 10, 3, 'N'), 0);
    assert_int_equal(nevents(&f->sink, AE_RESET), 2);
    assert_int_equal(nevents(&f->sink, AE_WRAP), 0);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 11);
}

/* A meter swapped: 500 -> 90000 in 10 s with max_rate 100 m3/h. */
static void
test_jump(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, p);
    set_max_rate(f, m, p, 100);
    start(f);
    assert_int_equal(feed(f, m, p, T0, 500, 'N'), 0);
    /* 89500 > 100 * 10 / 3600 = 0.278 m3: a jump */
    assert_int_equal(feed(f, m, p, T0 + 10, 90000, 'N'), 0);
    /* from the new value: +1 in 60 s, within 100 * 60 / 3600 = 1.667 */
    assert_int_equal(feed(f, m, p, T0 + 70, 90001, 'N'), 0);
    assert_int_equal(f->sink.nev, 1);
    assert_int_equal(f->sink.ev[0].kind, AE_JUMP);
    assert_true(f->sink.ev[0].from == 500 && f->sink.ev[0].to == 90000);
    assert_int_equal(acct_event_flag(AE_JUMP), 'T');
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 1);
    double ts, v;
    assert_int_equal(acct_last(f->a, m, p, &ts, &v), 0);
    assert_true(ts == T0 + 70 && v == 90001);
}

/* uint16 and int16 registers wrapping. */
static void
test_wrap_16(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_UINT16, 1);
    int o = add_outlet(f, m, p);
    set_max_rate(f, m, p, 4000); /* 4000 * 10 / 3600 = 11.1 m3 per 10 s */
    int m2 = add_meter(f, 0, 10);
    int p2 = add_point(f, m2, KIND_VOLUME_TOTAL, TYPE_UINT16, 1);
    int o2 = add_outlet(f, m2, p2);
    set_max_rate(f, m2, p2, 100); /* 0.278 m3 per 10 s */
    int m3 = add_meter(f, 0, 10);
    int p3 = add_point(f, m3, KIND_VOLUME_TOTAL, TYPE_INT16, 1);
    int o3 = add_outlet(f, m3, p3);
    start(f);

    assert_int_equal(feed(f, m, p, T0, 65520, 'N'), 0);
    assert_int_equal(feed(f, m, p, T0 + 10, 65530, 'N'), 0); /* +10 */
    /* 4 - 65530 + 65536 = 10 <= 11.1, 65530 >= 32768 > 4: a wrap */
    assert_int_equal(feed(f, m, p, T0 + 20, 4, 'N'), 0);
    assert_int_equal(feed(f, m, p, T0 + 30, 14, 'N'), 0); /* +10 */
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 30);
    assert_int_equal(f->sink.nev, 1);
    assert_int_equal(f->sink.ev[0].kind, AE_WRAP);
    assert_int_equal(acct_event_flag(AE_WRAP), 'N'); /* counted */
    assert_true(f->sink.ev[0].from == 65530 && f->sink.ev[0].to == 4);
    /* only the wrapped slice is flagged */
    assert_int_equal(f->sink.nincr, 3);
    assert_int_equal(f->sink.incr[0].flags, 0);
    assert_int_equal(f->sink.incr[1].flags, ACCT_F_WRAP);
    assert_true(f->sink.incr[1].amount == 10);
    assert_int_equal(f->sink.incr[2].flags, 0);

    /* the same wrap at max_rate 100: 10 m3 in 10 s is 3600 m3/h, so it is
     * no plausible wrap but a reset */
    assert_int_equal(feed(f, m2, p2, T0, 65530, 'N'), 0);
    assert_int_equal(feed(f, m2, p2, T0 + 10, 4, 'N'), 0);
    assert_int_equal(f->sink.nev, 2);
    assert_int_equal(f->sink.ev[1].kind, AE_RESET);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o2, POLL_NONE, HOUR_ANY) == 0);

    /* int16 wraps from max to min: -32766 - 32760 + 65536 = 10 */
    assert_int_equal(feed(f, m3, p3, T0, 32760, 'N'), 0);
    assert_int_equal(feed(f, m3, p3, T0 + 10, -32766, 'N'), 0);
    assert_int_equal(f->sink.ev[2].kind, AE_WRAP);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o3, POLL_NONE, HOUR_ANY) == 10);
    /* going back from the lower half is a reset, not a wrap: -32756 (+10),
     * then -32766 */
    assert_int_equal(feed(f, m3, p3, T0 + 20, -32756, 'N'), 0);
    assert_int_equal(feed(f, m3, p3, T0 + 30, -32766, 'N'), 0);
    assert_int_equal(f->sink.nev, 4);
    assert_int_equal(f->sink.ev[3].kind, AE_RESET);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o3, POLL_NONE, HOUR_ANY) == 20);
}

/* 32-bit registers: uint32 with scale 0.01, uint32+milli, int32+float32. */
static void
test_wrap_32(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_UINT32, 0.01);
    int o = add_outlet(f, m, p);
    set_max_rate(f, m, p, 100);
    int m2 = add_meter(f, 0, 10);
    int p2 = add_point(f, m2, KIND_VOLUME_TOTAL, TYPE_UINT32_MILLI, 1);
    int o2 = add_outlet(f, m2, p2);
    int m3 = add_meter(f, 0, 10);
    int p3 = add_point(f, m3, KIND_VOLUME_TOTAL, TYPE_INT32_FLOAT32, 1);
    int o3 = add_outlet(f, m3, p3);
    start(f);

    /* raw 4294967290 -> 6: 6 - 4294967290 + 2^32 = 12 counts * 0.01 =
     * 0.12 m3 <= 100 * 10 / 3600 */
    assert_int_equal(feed(f, m, p, T0, 4294967290.0 * 0.01, 'N'), 0);
    assert_int_equal(feed(f, m, p, T0 + 10, 6 * 0.01, 'N'), 0);
    assert_int_equal(f->sink.nev, 1);
    assert_int_equal(f->sink.ev[0].kind, AE_WRAP);
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY), 0.12);
    assert_int_equal(flags(&f->sink, AM_EFFLUENT_M3, hour(0)), ACCT_F_WRAP);

    /* uint32+milli: 4294967295.500 -> 0.250: 0.25 - 4294967295.5 + 2^32 =
     * 0.75 */
    assert_int_equal(feed(f, m2, p2, T0, 4294967295.5, 'N'), 0);
    assert_int_equal(feed(f, m2, p2, T0 + 10, 0.25, 'N'), 0);
    assert_int_equal(f->sink.ev[1].kind, AE_WRAP);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o2, POLL_NONE, HOUR_ANY) == 0.75);

    /* int32+float32 from max to min: 2147483647.5 -> -2147483648 + 0.25:
     * -2147483647.75 - 2147483647.5 + 2^32 = 0.75 */
    assert_int_equal(feed(f, m3, p3, T0, 2147483647.5, 'N'), 0);
    assert_int_equal(feed(f, m3, p3, T0 + 10, -2147483647.75, 'N'), 0);
    assert_int_equal(f->sink.ev[2].kind, AE_WRAP);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o3, POLL_NONE, HOUR_ANY) == 0.75);
}

/* The gateway down for 2 h (B readings), then the total resumes higher:
 * the whole delta counts, spread over the gap's hours. */
static void
test_gap_spread(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, p);
    start(f);
    assert_int_equal(feed(f, m, p, T0 + 1800, 1000, 'N'), 0); /* 08:30 */
    for (int t = 1810; t < 9000; t += 10)
        assert_int_equal(feed(f, m, p, T0 + t, NAN, 'B'), 0);
    assert_int_equal(feed(f, m, p, T0 + 9000, 1072, 'N'), 0); /* 10:30 */
    /* 72 m3 over 7200 s: 08 gets 72 * 1800 / 7200 = 18, 09 gets 36, 10 the
     * remaining 18 */
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(0)) == 18);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(1)) == 36);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, hour(2)) == 18);
    assert_true(covered(&f->sink, AM_EFFLUENT_M3, hour(0)) == 1800);
    assert_true(covered(&f->sink, AM_EFFLUENT_M3, hour(1)) == 3600);
    assert_true(covered(&f->sink, AM_EFFLUENT_M3, hour(2)) == 1800);
    for (int h = 0; h < 3; h++)
        assert_int_equal(flags(&f->sink, AM_EFFLUENT_M3, hour(h)),
                         ACCT_F_SPREAD);
    assert_int_equal(f->sink.nev, 0);
    /* the next 10 s are ordinary again */
    acct_sink_free(&f->sink);
    assert_int_equal(feed(f, m, p, T0 + 9010, 1073, 'N'), 0);
    assert_int_equal(f->sink.nincr, 1);
    assert_int_equal(f->sink.incr[0].flags, 0);
    assert_true(f->sink.incr[0].amount == 1);
    /* a gap of exactly 3 intervals is no spread yet */
    assert_int_equal(feed(f, m, p, T0 + 9040, 1076, 'N'), 0);
    assert_int_equal(f->sink.nincr, 2);
    assert_int_equal(f->sink.incr[1].flags, 0);
}

/* Samples not newer than the point's newest are refused. */
static void
test_older_sample(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, p);
    start(f);
    assert_int_equal(feed(f, m, p, T0 + 10, 100, 'N'), 0);
    assert_int_equal(feed(f, m, p, T0 + 10, 200, 'N'), 1);
    assert_int_equal(feed(f, m, p, T0 + 5, 50, 'N'), 1);
    assert_int_equal(feed(f, m, p, T0 + 20, NAN, 'B'), 0);
    assert_int_equal(feed(f, m, p, T0 + 15, 150, 'N'), 1);
    assert_int_equal(feed(f, m, p, NAN, 150, 'N'), 1);
    assert_int_equal(f->sink.nincr, 0);
    double ts, v;
    assert_int_equal(acct_last(f->a, m, p, &ts, &v), 0);
    assert_true(ts == T0 + 10 && v == 100);
    /* T0 + 10 -> T0 + 30: +1 */
    assert_int_equal(feed(f, m, p, T0 + 30, 101, 'N'), 0);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 1);
    /* unknown meters and points */
    assert_int_equal(feed(f, 7, 0, T0 + 40, 1, 'N'), 1);
    assert_int_equal(feed(f, m, 3, T0 + 40, 1, 'N'), 1);
    assert_int_equal(acct_last(f->a, m, 3, &ts, &v), -1);
}

/* A restart: the second run, restored from acct_last of the first,
 * continues exactly. */
static void
test_restore(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_UINT32, 1);
    int o = add_outlet(f, m, p);
    start(f);
    double ts, v;
    assert_int_equal(acct_last(f->a, m, p, &ts, &v), -1);
    for (int k = 0; k <= 10; k++)
        assert_int_equal(feed(f, m, p, T0 + 10.0 * k, 1000 + k, 'N'), 0);
    assert_int_equal(acct_last(f->a, m, p, &ts, &v), 0);
    assert_true(ts == T0 + 100 && v == 1010);
    double first = sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY);

    acct_free(f->a);
    start(f);
    acct_restore(f->a, m, p, ts, v);
    assert_int_equal(feed(f, m, p, T0 + 100, 5000, 'N'), 1); /* not newer */
    for (int k = 11; k <= 20; k++)
        assert_int_equal(feed(f, m, p, T0 + 10.0 * k, 1000 + k, 'N'), 0);
    /* 10 m3 before, 10 after: 20, the same as one run over k = 0..20 */
    assert_true(first == 10);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 20);
    assert_int_equal(f->sink.nev, 0);
}

/* D, T, B, C and M readings of a total are ignored; nothing is lost. */
static void
test_flagged_totals_ignored(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, p);
    start(f);
    assert_int_equal(feed(f, m, p, T0, 100, 'N'), 0);
    assert_int_equal(feed(f, m, p, T0 + 10, 5000, 'D'), 0);
    assert_int_equal(feed(f, m, p, T0 + 20, 1e9, 'T'), 0);
    assert_int_equal(feed(f, m, p, T0 + 30, NAN, 'B'), 0);
    assert_int_equal(feed(f, m, p, T0 + 40, 7, 'C'), 0);
    assert_int_equal(feed(f, m, p, T0 + 50, 8, 'M'), 0);
    assert_int_equal(f->sink.nincr, 0);
    /* 100 -> 101 over [T0, T0 + 60]: 1 m3 */
    assert_int_equal(feed(f, m, p, T0 + 60, 101, 'N'), 0);
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 1);
    assert_true(covered(&f->sink, AM_EFFLUENT_M3, HOUR_ANY) == 60);
    assert_int_equal(f->sink.nev, 0);
    /* 60 s is 6 intervals: a spread estimate */
    assert_int_equal(flags(&f->sink, AM_EFFLUENT_M3, HOUR_ANY), ACCT_F_SPREAD);
}

/* Flow-rate runs: a non-N reading or more than 3 intervals end a run. */
static void
test_flow_rate_runs(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int q = add_point(f, m, KIND_FLOW_RATE, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, q);
    start(f);
    assert_int_equal(feed(f, m, q, T0, 36, 'N'), 0);
    assert_int_equal(feed(f, m, q, T0 + 10, 72, 'N'), 0);
    /* (36 + 72) / 2 * 10 / 3600 = 0.15 */
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY), 0.15);
    assert_int_equal(feed(f, m, q, T0 + 20, 36, 'M'), 0);  /* ends the run */
    assert_int_equal(feed(f, m, q, T0 + 30, 36, 'N'), 0);  /* starts one */
    assert_int_equal(feed(f, m, q, T0 + 40, 36, 'N'), 0);  /* +0.1 */
    assert_int_equal(feed(f, m, q, T0 + 80, 36, 'N'), 0);  /* 40 s > 30 */
    assert_int_equal(feed(f, m, q, T0 + 110, 36, 'N'), 0); /* 30 s: +0.3 */
    assert_int_equal(feed(f, m, q, T0 + 120, -5, 'N'), 0); /* (36+0)/2: 0.05 */
    /* 0.15 + 0.1 + 0.3 + 0.05 = 0.6 */
    assert_near(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY), 0.6);
    assert_int_equal(flags(&f->sink, AM_EFFLUENT_M3, HOUR_ANY), 0);
    assert_int_equal(f->sink.nev, 0);
}

/* Gas, steam, heat and reuse totals; energy factors from the config. */
static void
test_energy(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int gas = add_point(f, m, KIND_GAS_TOTAL, TYPE_FLOAT32, 1);
    int steam = add_point(f, m, KIND_STEAM_TOTAL, TYPE_FLOAT32, 1);
    int heat = add_point(f, m, KIND_HEAT_TOTAL, TYPE_FLOAT32, 1);
    int reuse = add_point(f, m, KIND_REUSE_TOTAL, TYPE_FLOAT32, 1);
    start(f);
    double tce;

    feed(f, m, gas, T0, 0, 'N');
    feed(f, m, gas, T0 + 10, 1000, 'N');
    /* 1000 m3 * 1.2143 / 1000 = 1.2143 tce */
    tce = sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY);
    assert_near(tce, 1.2143);
    feed(f, m, steam, T0, 0, 'N');
    feed(f, m, steam, T0 + 10, 10, 'N');
    /* 10 t * 128.6 / 1000 = 1.286 tce */
    assert_near(sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY) - tce,
                1.286);
    tce = sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY);
    feed(f, m, heat, T0, 0, 'N');
    feed(f, m, heat, T0 + 10, 100, 'N');
    /* 100 GJ * 34.12 / 1000 = 3.412 tce */
    assert_near(sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY) - tce,
                3.412);
    feed(f, m, reuse, T0, 0, 'N');
    feed(f, m, reuse, T0 + 10, 25, 'N');
    assert_true(sum(&f->sink, AM_REUSE_M3, -1, POLL_NONE, HOUR_ANY) == 25);
    /* none of them is electricity or effluent */
    assert_true(sum(&f->sink, AM_ELECTRICITY_KWH, OUTLET_ANY, POLL_NONE,
                    HOUR_ANY) == 0);
    assert_true(
        sum(&f->sink, AM_EFFLUENT_M3, OUTLET_ANY, POLL_NONE, HOUR_ANY) == 0);
    for (size_t i = 0; i < f->sink.nincr; i++) {
        assert_int_equal(f->sink.incr[i].enterprise, 0);
        assert_int_equal(f->sink.incr[i].outlet, -1);
    }
}

static void
test_energy_factor_override(void **state)
{
    struct fix *f = *state;
    f->c.energy_factors.electricity_kgce_per_kwh = 0.404;
    f->c.energy_factors.gas_kgce_per_m3 = 1.33;
    int m = add_meter(f, 0, 10);
    int kwh = add_point(f, m, KIND_ELECTRICITY_TOTAL, TYPE_FLOAT32, 1);
    int gas = add_point(f, m, KIND_GAS_TOTAL, TYPE_FLOAT32, 1);
    start(f);
    feed(f, m, kwh, T0, 0, 'N');
    feed(f, m, kwh, T0 + 10, 10000, 'N');
    /* 10000 kWh * 0.404 / 1000 = 4.04 tce */
    assert_true(sum(&f->sink, AM_ELECTRICITY_KWH, -1, POLL_NONE, HOUR_ANY) ==
                10000);
    assert_near(sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY), 4.04);
    feed(f, m, gas, T0, 0, 'N');
    feed(f, m, gas, T0 + 10, 1000, 'N');
    /* + 1000 m3 * 1.33 / 1000 = 1.33: 5.37 */
    assert_near(sum(&f->sink, AM_ENERGY_TCE, -1, POLL_NONE, HOUR_ANY), 5.37);
}

/* The park's inflow from a volume_total of a park meter; a point may feed
 * several things (an enterprise's outlet and the park's inflow). */
static void
test_park_inflow(void **state)
{
    struct fix *f = *state;
    int pm = add_meter(f, -1, 60);
    int in = add_point(f, pm, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int kwh = add_point(f, pm, KIND_ELECTRICITY_TOTAL, TYPE_FLOAT32, 1);
    f->c.park.has_wwtp = true;
    f->c.park.has_wwtp_inflow = true;
    f->c.park.wwtp_inflow = ref(pm, in);
    start(f);
    feed(f, pm, in, T0, 100, 'N');
    feed(f, pm, in, T0 + 60, 106.25, 'N');
    /* 6.25 m3, for the park (enterprise -1, no outlet) */
    assert_int_equal(f->sink.nincr, 1);
    assert_int_equal(f->sink.incr[0].measure, AM_INFLOW_M3);
    assert_int_equal(f->sink.incr[0].enterprise, -1);
    assert_int_equal(f->sink.incr[0].outlet, -1);
    assert_true(f->sink.incr[0].amount == 6.25);
    assert_true(f->sink.incr[0].hour == hour(0));
    /* the park's own energy meters feed no enterprise */
    feed(f, pm, kwh, T0, 0, 'N');
    feed(f, pm, kwh, T0 + 60, 50, 'N');
    assert_int_equal(f->sink.nincr, 1);
}

static void
test_point_feeds_several(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 10);
    int p = add_point(f, m, KIND_VOLUME_TOTAL, TYPE_FLOAT32, 1);
    int o = add_outlet(f, m, p);
    f->c.park.has_wwtp_inflow = true;
    f->c.park.wwtp_inflow = ref(m, p);
    start(f);
    feed(f, m, p, T0, 0, 'N');
    feed(f, m, p, T0 + 10, 0.5, 'N');
    assert_true(sum(&f->sink, AM_EFFLUENT_M3, o, POLL_NONE, HOUR_ANY) == 0.5);
    assert_true(sum(&f->sink, AM_INFLOW_M3, -1, POLL_NONE, HOUR_ANY) == 0.5);
    assert_int_equal(f->sink.nincr, 2);
}

/* The sink grows from empty, and is reused by zeroing its counts. */
static void
test_sink_and_names(void **state)
{
    struct fix *f = *state;
    int m = add_meter(f, 0, 3600);
    int p = add_point(f, m, KIND_ELECTRICITY_TOTAL, TYPE_FLOAT32, 1);
    start(f);
    feed(f, m, p, T0, 0, 'N');
    /* 200 days at 1 kWh per hour in one delta (a 4800-hour gap): 4800 hours
     * of 2 rows each */
    assert_int_equal(feed(f, m, p, T0 + 4800 * 3600.0, 4800, 'N'), 0);
    assert_int_equal(f->sink.nincr, 9600);
    assert_true(sum(&f->sink, AM_ELECTRICITY_KWH, -1, POLL_NONE, hour(4799)) ==
                1);
    assert_true(sum(&f->sink, AM_ELECTRICITY_KWH, -1, POLL_NONE, HOUR_ANY) ==
                4800);
    f->sink.nincr = f->sink.nev = 0;
    assert_int_equal(feed(f, m, p, T0 + 4801 * 3600.0, 4801, 'N'), 0);
    assert_int_equal(f->sink.nincr, 2);

    assert_string_equal(acct_measure_name(AM_EFFLUENT_M3), "effluent_m3");
    assert_string_equal(acct_measure_name(AM_REUSE_M3), "reuse_m3");
    assert_string_equal(acct_measure_name(AM_POLLUTANT_KG), "pollutant_kg");
    assert_string_equal(acct_measure_name(AM_CONC_M3), "conc_m3");
    assert_string_equal(acct_measure_name(AM_ELECTRICITY_KWH),
                        "electricity_kwh");
    assert_string_equal(acct_measure_name(AM_ENERGY_TCE), "energy_tce");
    assert_string_equal(acct_measure_name(AM_INFLOW_M3), "inflow_m3");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_acceptance_effluent),
        T(test_acceptance_effluent_exact),
        T(test_acceptance_flow_rate),
        T(test_acceptance_electricity),
        T(test_split_seven_seconds),
        T(test_cod_changes_mid_hour),
        T(test_conc_flagged_b),
        T(test_conc_expires),
        T(test_reset),
        T(test_jump),
        T(test_wrap_16),
        T(test_wrap_32),
        T(test_gap_spread),
        T(test_older_sample),
        T(test_restore),
        T(test_flagged_totals_ignored),
        T(test_flow_rate_runs),
        T(test_energy),
        T(test_energy_factor_override),
        T(test_park_inflow),
        T(test_point_feeds_several),
        T(test_sink_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

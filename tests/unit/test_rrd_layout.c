/* Unit tests of the RRD layout: paths, DS and RRA strings, update lines. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rrd/rrd_layout.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A profile with one point of every kind, in enum order. */
static struct conf_point all_kinds[] = {
    {.name = "volume", .kind = KIND_VOLUME_TOTAL},
    {.name = "flow", .kind = KIND_FLOW_RATE},
    {.name = "reuse", .kind = KIND_REUSE_TOTAL},
    {.name = "import_kwh", .kind = KIND_ELECTRICITY_TOTAL},
    {.name = "gas", .kind = KIND_GAS_TOTAL},
    {.name = "steam", .kind = KIND_STEAM_TOTAL},
    {.name = "heat", .kind = KIND_HEAT_TOTAL},
    {.name = "power", .kind = KIND_POWER},
    {.name = "cod", .kind = KIND_CONCENTRATION, .pollutant = POLL_COD},
    {.name = "ph", .kind = KIND_PH},
    {.name = "temperature_inlet_1", .kind = KIND_INFO}, /* 19 chars */
};

static struct conf_point flow_points[] = {
    {.name = "flow", .kind = KIND_FLOW_RATE},
    {.name = "total", .kind = KIND_VOLUME_TOTAL},
};

static struct conf_point bad_points[] = {
    {.name = "flow rate", .kind = KIND_FLOW_RATE},
};

static struct conf_point dup_points[] = {
    {.name = "total", .kind = KIND_VOLUME_TOTAL},
    {.name = "total", .kind = KIND_VOLUME_TOTAL},
};

static struct conf_profile profiles[] = {
    {.id = "all-kinds", .points = all_kinds, .npoints = N(all_kinds)},
    {.id = "flowmeter-f32", .points = flow_points, .npoints = N(flow_points)},
    {.id = "bad", .points = bad_points, .npoints = N(bad_points)},
    {.id = "dup", .points = dup_points, .npoints = N(dup_points)},
    {.id = "empty", .points = NULL, .npoints = 0},
};

static struct conf_meter meters[] = {
    {.id = "bomin-flow", .enterprise = 0, .profile = 1, .interval = 10},
    {.id = "bomin-all", .enterprise = 0, .profile = 0, .interval = 100.2},
    {.id = "wwtp-in", .enterprise = -1, .profile = 1, .interval = 60},
    {.id = "bad", .enterprise = 1, .profile = 2, .interval = 10},
    {.id = "dup", .enterprise = 1, .profile = 3, .interval = 10},
    {.id = "empty", .enterprise = 1, .profile = 4, .interval = 10},
};

static struct conf_quota bomin_quotas[] = {
    {.id = "effluent-day", .measure = MEASURE_EFFLUENT_M3},
    {.id = "cod-year", .measure = MEASURE_POLLUTANT_KG},
};

static struct conf_quota park_quotas[] = {
    {.id = "energy-year", .measure = MEASURE_ENERGY_TCE},
};

static struct conf_enterprise enterprises[] = {
    {.id = "bomin", .quotas = bomin_quotas, .nquotas = N(bomin_quotas)},
    {.id = "zhihao"},
};

static void
make_conf(struct conf *c, char *rrd_dir, int step)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->park.id, sizeof(c->park.id), "dongsheng");
    c->park.quotas = park_quotas;
    c->park.nquotas = N(park_quotas);
    c->storage.rrd_dir = rrd_dir;
    c->storage.rrd_step = step;
    c->profiles = profiles;
    c->nprofiles = N(profiles);
    c->meters = meters;
    c->nmeters = N(meters);
    c->enterprises = enterprises;
    c->nenterprises = N(enterprises);
}

static void
test_paths(void **state)
{
    (void)state;
    struct conf c;
    char dir[] = "/var/lib/ecmond/rrd", slashed[] = "/srv/rrd//", root[] = "/";
    char b[256];

    make_conf(&c, dir, 60);
    assert_int_equal(rrdlayout_meter_path(&c, 0, b, sizeof(b)),
                     strlen("/var/lib/ecmond/rrd/bomin/bomin-flow.rrd"));
    assert_string_equal(b, "/var/lib/ecmond/rrd/bomin/bomin-flow.rrd");
    rrdlayout_meter_path(&c, 2, b, sizeof(b));
    assert_string_equal(b, "/var/lib/ecmond/rrd/park/wwtp-in.rrd");
    rrdlayout_quota_path(&c, 0, 1, b, sizeof(b));
    assert_string_equal(b, "/var/lib/ecmond/rrd/bomin/quota-cod-year.rrd");
    rrdlayout_quota_path(&c, -1, 0, b, sizeof(b));
    assert_string_equal(b, "/var/lib/ecmond/rrd/park/quota-energy-year.rrd");
    rrdlayout_capacity_path(&c, b, sizeof(b));
    assert_string_equal(b, "/var/lib/ecmond/rrd/park/capacity.rrd");

    /* Out of range, too small. */
    assert_int_equal(rrdlayout_meter_path(&c, -1, b, sizeof(b)), -1);
    assert_int_equal(rrdlayout_meter_path(&c, (int)N(meters), b, sizeof(b)),
                     -1);
    assert_int_equal(rrdlayout_quota_path(&c, 0, 2, b, sizeof(b)), -1);
    assert_int_equal(rrdlayout_quota_path(&c, 1, 0, b, sizeof(b)), -1);
    assert_int_equal(rrdlayout_quota_path(&c, -2, 0, b, sizeof(b)), -1);
    assert_int_equal(rrdlayout_quota_path(&c, 2, 0, b, sizeof(b)), -1);
    assert_int_equal(rrdlayout_meter_path(&c, 0, b, 40), -1);
    assert_int_equal(rrdlayout_meter_path(&c, 0, b, 41), 40);

    /* Trailing slashes of rrd_dir. */
    make_conf(&c, slashed, 60);
    rrdlayout_meter_path(&c, 0, b, sizeof(b));
    assert_string_equal(b, "/srv/rrd/bomin/bomin-flow.rrd");
    make_conf(&c, root, 60);
    rrdlayout_capacity_path(&c, b, sizeof(b));
    assert_string_equal(b, "/park/capacity.rrd");
    c.storage.rrd_dir = NULL;
    assert_int_equal(rrdlayout_capacity_path(&c, b, sizeof(b)), -1);
}

static void
test_kinds_and_ds(void **state)
{
    (void)state;
    static const char *const want[] = {
        "DS:volume:DDERIVE:301:0:U",
        "DS:flow:GAUGE:301:U:U",
        "DS:reuse:DDERIVE:301:0:U",
        "DS:import_kwh:DDERIVE:301:0:U",
        "DS:gas:DDERIVE:301:0:U",
        "DS:steam:DDERIVE:301:0:U",
        "DS:heat:DDERIVE:301:0:U",
        "DS:power:GAUGE:301:U:U",
        "DS:cod:GAUGE:301:U:U",
        "DS:ph:GAUGE:301:U:U",
        "DS:temperature_inlet_1:GAUGE:301:U:U",
    };
    struct conf c;
    char dir[] = "/r", err[256] = "", b[128];
    struct rrdlayout *l;
    size_t i;

    assert_int_equal(rrdlayout_kind_dst(KIND_VOLUME_TOTAL), RRDLAYOUT_DDERIVE);
    assert_int_equal(rrdlayout_kind_dst(KIND_FLOW_RATE), RRDLAYOUT_GAUGE);
    assert_string_equal(rrdlayout_dst_name(RRDLAYOUT_GAUGE), "GAUGE");
    assert_string_equal(rrdlayout_dst_name(RRDLAYOUT_DDERIVE), "DDERIVE");

    /* Heartbeat: max(2 * step, 3 * interval), rounded up. */
    assert_int_equal(rrdlayout_heartbeat(60, 10), 120);
    assert_int_equal(rrdlayout_heartbeat(60, 40), 120);
    assert_int_equal(rrdlayout_heartbeat(60, 60), 180);
    assert_int_equal(rrdlayout_heartbeat(60, 100.2), 301);
    assert_int_equal(rrdlayout_heartbeat(10, 0.5), 20);
    assert_int_equal(rrdlayout_heartbeat(60, 1e300), 1000000000);

    assert_int_equal(
        rrdlayout_ds_def(b, sizeof(b), "x", RRDLAYOUT_GAUGE, 120, -5.5, 1e6),
        strlen("DS:x:GAUGE:120:-5.5:1000000"));
    assert_string_equal(b, "DS:x:GAUGE:120:-5.5:1000000");
    assert_int_equal(
        rrdlayout_ds_def(b, 10, "x", RRDLAYOUT_GAUGE, 120, NAN, NAN), -1);

    assert_true(rrdlayout_ds_name_ok("a"));
    assert_true(rrdlayout_ds_name_ok("temperature_inlet_1"));
    assert_true(rrdlayout_ds_name_ok("Import-kWh_2"));
    assert_false(rrdlayout_ds_name_ok(""));
    assert_false(rrdlayout_ds_name_ok("temperature_inlet_12")); /* 20 */
    assert_false(rrdlayout_ds_name_ok("flow rate"));
    assert_false(rrdlayout_ds_name_ok("a:b"));
    assert_false(rrdlayout_ds_name_ok("a.b"));

    make_conf(&c, dir, 60);
    l = rrdlayout_meter(&c, 1, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(l->path, "/r/bomin/bomin-all.rrd");
    assert_string_equal(l->relpath, "bomin/bomin-all.rrd");
    assert_int_equal(l->step, 60);
    assert_int_equal(l->nds, N(all_kinds));
    assert_int_equal(l->argc, N(all_kinds) + 12);
    for (i = 0; i < N(all_kinds); i++) {
        assert_string_equal(l->argv[i], want[i]);
        assert_string_equal(l->ds_names[i], all_kinds[i].name);
    }
    assert_string_equal(l->template_,
                        "volume:flow:reuse:import_kwh:gas:steam:heat:power:"
                        "cod:ph:temperature_inlet_1");
    assert_string_equal(l->argv[N(all_kinds)], "RRA:AVERAGE:0.5:1:2880");
    assert_string_equal(l->argv[l->argc - 1], "RRA:MAX:0.5:1440:3653");
    assert_int_equal(l->line_max, rrdlayout_update_max(N(all_kinds)));
    rrdlayout_free(l);
}

static void
test_meter_layout(void **state)
{
    (void)state;
    static const char *const want[] = {
        "DS:flow:GAUGE:120:U:U",   "DS:total:DDERIVE:120:0:U",
        "RRA:AVERAGE:0.5:1:2880",  "RRA:MIN:0.5:1:2880",
        "RRA:MAX:0.5:1:2880",      "RRA:AVERAGE:0.5:5:4032",
        "RRA:MIN:0.5:5:4032",      "RRA:MAX:0.5:5:4032",
        "RRA:AVERAGE:0.5:60:9600", "RRA:MIN:0.5:60:9600",
        "RRA:MAX:0.5:60:9600",     "RRA:AVERAGE:0.5:1440:3653",
        "RRA:MIN:0.5:1440:3653",   "RRA:MAX:0.5:1440:3653",
    };
    struct conf c;
    char dir[] = "/var/lib/ecmond/rrd/", err[256] = "", b[64];
    struct rrdlayout *l;
    int i;

    make_conf(&c, dir, 60);
    l = rrdlayout_meter(&c, 0, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(l->path, "/var/lib/ecmond/rrd/bomin/bomin-flow.rrd");
    assert_string_equal(l->relpath, "bomin/bomin-flow.rrd");
    assert_string_equal(l->template_, "flow:total");
    assert_int_equal(l->argc, N(want));
    for (i = 0; i < l->argc; i++)
        assert_string_equal(l->argv[i], want[i]);
    rrdlayout_free(l);

    /* A park meter polled every 60 s: heartbeat 180. */
    l = rrdlayout_meter(&c, 2, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(l->path, "/var/lib/ecmond/rrd/park/wwtp-in.rrd");
    assert_string_equal(l->argv[0], "DS:flow:GAUGE:180:U:U");
    assert_string_equal(l->argv[1], "DS:total:DDERIVE:180:0:U");
    rrdlayout_free(l);

    assert_int_equal(rrdlayout_meter_template(&c, 0, b, sizeof(b)),
                     strlen("flow:total"));
    assert_string_equal(b, "flow:total");
    assert_int_equal(rrdlayout_meter_template(&c, 0, b, 10), -1);
    assert_int_equal(rrdlayout_meter_template(&c, 0, b, 11), 10);
    assert_int_equal(rrdlayout_meter_template(&c, 99, b, sizeof(b)), -1);

    /* Points that cannot be data sources. */
    err[0] = '\0';
    assert_null(rrdlayout_meter(&c, 3, err, sizeof(err)));
    assert_non_null(strstr(err, "meter bad"));
    assert_non_null(strstr(err, "\"flow rate\""));
    err[0] = '\0';
    assert_null(rrdlayout_meter(&c, 4, err, sizeof(err)));
    assert_non_null(strstr(err, "\"total\" twice"));
    err[0] = '\0';
    assert_null(rrdlayout_meter(&c, 5, err, sizeof(err)));
    assert_non_null(strstr(err, "no data sources"));
    err[0] = '\0';
    assert_null(rrdlayout_meter(&c, 6, err, sizeof(err)));
    assert_non_null(strstr(err, "out of range"));
    c.storage.rrd_step = 0;
    err[0] = '\0';
    assert_null(rrdlayout_meter(&c, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "rrd_step"));
}

static void
test_quota_capacity_layout(void **state)
{
    (void)state;
    struct conf c;
    char dir[] = "/r", err[256] = "";
    struct rrdlayout *l;

    make_conf(&c, dir, 60);
    l = rrdlayout_quota(&c, 0, 0, 300, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(l->path, "/r/bomin/quota-effluent-day.rrd");
    assert_string_equal(l->relpath, "bomin/quota-effluent-day.rrd");
    assert_int_equal(l->nds, 3);
    assert_string_equal(l->template_, "used:limit:projected");
    assert_string_equal(l->argv[0], "DS:used:GAUGE:900:U:U");
    assert_string_equal(l->argv[1], "DS:limit:GAUGE:900:U:U");
    assert_string_equal(l->argv[2], "DS:projected:GAUGE:900:U:U");
    assert_int_equal(l->argc, 15);
    rrdlayout_free(l);

    l = rrdlayout_quota(&c, -1, 0, 60, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(l->path, "/r/park/quota-energy-year.rrd");
    assert_string_equal(l->argv[0], "DS:used:GAUGE:180:U:U");
    rrdlayout_free(l);
    assert_null(rrdlayout_quota(&c, 1, 0, 60, err, sizeof(err)));

    l = rrdlayout_capacity(&c, 60, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(l->path, "/r/park/capacity.rrd");
    assert_string_equal(l->relpath, "park/capacity.rrd");
    assert_string_equal(l->template_, "inflow:capacity:headroom");
    assert_string_equal(l->argv[0], "DS:inflow:GAUGE:180:U:U");
    assert_string_equal(l->argv[1], "DS:capacity:GAUGE:180:U:U");
    assert_string_equal(l->argv[2], "DS:headroom:GAUGE:180:U:U");
    rrdlayout_free(l);
}

/* Files with the same data sources, heartbeat and step share their DS
 * names, template and create arguments; each keeps its own path. */
static void
test_shared_layout(void **state)
{
    (void)state;
    static struct conf_meter twins[] = {
        {.id = "a", .enterprise = 0, .profile = 1, .interval = 10},
        {.id = "b", .enterprise = 1, .profile = 1, .interval = 10},
        {.id = "c", .enterprise = 0, .profile = 1, .interval = 60},
        {.id = "d", .enterprise = 0, .profile = 0, .interval = 10},
    };
    struct conf c;
    char dir[] = "/r", err[256] = "";
    struct rrdlayout *a, *b, *lc, *ld, *q0, *q1, *cap, *a300;

    make_conf(&c, dir, 60);
    c.meters = twins;
    c.nmeters = N(twins);
    a = rrdlayout_meter(&c, 0, err, sizeof(err));
    b = rrdlayout_meter(&c, 1, err, sizeof(err));
    lc = rrdlayout_meter(&c, 2, err, sizeof(err));
    ld = rrdlayout_meter(&c, 3, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(lc);
    assert_non_null(ld);
    assert_string_equal(a->path, "/r/bomin/a.rrd");
    assert_string_equal(b->path, "/r/zhihao/b.rrd");
    assert_string_equal(b->relpath, "zhihao/b.rrd");
    assert_ptr_equal(a->argv, b->argv);
    assert_ptr_equal(a->ds_names, b->ds_names);
    assert_ptr_equal(a->template_, b->template_);
    /* Another heartbeat, another profile: their own. */
    assert_ptr_not_equal(a->argv, lc->argv);
    assert_string_equal(lc->argv[0], "DS:flow:GAUGE:180:U:U");
    assert_string_equal(lc->argv[2], "RRA:AVERAGE:0.5:1:2880");
    assert_ptr_not_equal(a->argv, ld->argv);
    assert_int_equal(ld->nds, N(all_kinds));

    /* A layout outlives the one it shares with. */
    rrdlayout_free(a);
    assert_string_equal(b->argv[0], "DS:flow:GAUGE:120:U:U");
    assert_string_equal(b->argv[1], "DS:total:DDERIVE:120:0:U");
    assert_string_equal(b->argv[b->argc - 1], "RRA:MAX:0.5:1440:3653");
    assert_string_equal(b->ds_names[1], "total");
    assert_string_equal(b->template_, "flow:total");
    rrdlayout_free(b);
    a = rrdlayout_meter(&c, 0, err, sizeof(err));
    assert_non_null(a);
    assert_string_equal(a->argv[1], "DS:total:DDERIVE:120:0:U");

    /* Another step: other RRAs. */
    c.storage.rrd_step = 300;
    a300 = rrdlayout_meter(&c, 0, err, sizeof(err));
    assert_non_null(a300);
    assert_ptr_not_equal(a->argv, a300->argv);
    assert_string_equal(a300->argv[0], "DS:flow:GAUGE:600:U:U");
    assert_string_equal(a300->argv[2], "RRA:AVERAGE:0.5:1:4032");
    c.storage.rrd_step = 60;

    /* Quota files share; the capacity file has other names. */
    q0 = rrdlayout_quota(&c, 0, 0, 300, err, sizeof(err));
    q1 = rrdlayout_quota(&c, 0, 1, 300, err, sizeof(err));
    cap = rrdlayout_capacity(&c, 300, err, sizeof(err));
    assert_non_null(q0);
    assert_non_null(q1);
    assert_non_null(cap);
    assert_ptr_equal(q0->argv, q1->argv);
    assert_ptr_not_equal(q0->argv, cap->argv);
    assert_string_equal(q1->path, "/r/bomin/quota-cod-year.rrd");
    assert_string_equal(cap->argv[0], "DS:inflow:GAUGE:900:U:U");

    rrdlayout_free(q1);
    rrdlayout_free(cap);
    rrdlayout_free(q0);
    rrdlayout_free(a300);
    rrdlayout_free(ld);
    rrdlayout_free(lc);
    rrdlayout_free(a);
    rrdlayout_free(NULL);
}

/* Check that out[] holds, per resolution, AVERAGE, MIN and MAX with the
 * given pdp_per_row and rows. */
static void
check_rras(const struct rrdlayout_rra *out, size_t n,
           const unsigned long (*want)[2], size_t nwant)
{
    static const char *const cfs[] = {"AVERAGE", "MIN", "MAX"};
    size_t i;

    assert_int_equal(n, 3 * nwant);
    for (i = 0; i < n; i++) {
        assert_string_equal(out[i].cf, cfs[i % 3]);
        assert_int_equal(out[i].pdp_per_row, want[i / 3][0]);
        assert_int_equal(out[i].rows, want[i / 3][1]);
    }
}

static void
test_rras(void **state)
{
    (void)state;
    struct rrdlayout_rra out[RRDLAYOUT_RRA_MAX];
    char b[64];

    /* Step 60: 1 min x 2 d, 5 min x 14 d, 1 h x 400 d, 1 d x 3653 d. */
    {
        static const unsigned long w[][2] = {
            {1, 2880}, {5, 4032}, {60, 9600}, {1440, 3653}};
        check_rras(out, rrdlayout_rras(60, out), w, N(w));
    }
    /* Step 10: the same spans at the same resolutions. */
    {
        static const unsigned long w[][2] = {
            {6, 2880}, {30, 4032}, {360, 9600}, {8640, 3653}};
        check_rras(out, rrdlayout_rras(10, out), w, N(w));
    }
    /* Step 45: 60 s is not a multiple: rows of 90 s, 315 s, 3600 s, 1 d. */
    {
        static const unsigned long w[][2] = {
            {2, 1920}, {7, 3840}, {80, 9600}, {1920, 3653}};
        check_rras(out, rrdlayout_rras(45, out), w, N(w));
    }
    /* Step 300: "1 min" becomes 5 min, kept once, for 14 days. */
    {
        static const unsigned long w[][2] = {
            {1, 4032}, {12, 9600}, {288, 3653}};
        check_rras(out, rrdlayout_rras(300, out), w, N(w));
    }
    /* Step 1 day: one resolution. Step 7 days: rows still cover 10 years. */
    {
        static const unsigned long w[][2] = {{1, 3653}};
        check_rras(out, rrdlayout_rras(86400, out), w, N(w));
    }
    {
        static const unsigned long w[][2] = {{1, 522}};
        check_rras(out, rrdlayout_rras(7 * 86400, out), w, N(w));
    }
    assert_int_equal(rrdlayout_rras(0, out), 0);

    rrdlayout_rras(60, out);
    assert_int_equal(rrdlayout_rra_def(b, sizeof(b), &out[4]),
                     strlen("RRA:MIN:0.5:5:4032"));
    assert_string_equal(b, "RRA:MIN:0.5:5:4032");
    assert_int_equal(rrdlayout_rra_def(b, 10, &out[4]), -1);
}

/* v formats to want (if not NULL) and strtod reads back the same double. */
static void
check_value(double v, const char *want)
{
    char b[RRDLAYOUT_NUM_MAX + 1];
    double back;
    int n = rrdlayout_format_value(b, sizeof(b), v);

    assert_true(n > 0 && n <= RRDLAYOUT_NUM_MAX);
    assert_int_equal((size_t)n, strlen(b));
    if (want != NULL)
        assert_string_equal(b, want);
    back = strtod(b, NULL);
    assert_memory_equal(&back, &v, sizeof(v)); /* bit for bit, -0 too */
}

static void
test_format_value(void **state)
{
    (void)state;
    char b[64];
    long i;

    assert_int_equal(rrdlayout_format_value(b, sizeof(b), NAN), 1);
    assert_string_equal(b, "U");
    rrdlayout_format_value(b, sizeof(b), INFINITY);
    assert_string_equal(b, "U");
    rrdlayout_format_value(b, sizeof(b), -INFINITY);
    assert_string_equal(b, "U");

    check_value(0.0, "0");
    check_value(-0.0, "-0");
    check_value(12.5, "12.5");
    check_value(0.1, "0.1");
    check_value(1e-7, "1e-07");
    check_value(123456789.123, "123456789.123");
    check_value(0.1 + 0.2, "0.30000000000000004");
    check_value(4294967295.0, "4294967295");
    check_value(9007199254740992.0, "9007199254740992");
    check_value(-9007199254740994.0, "-9007199254740994");
    /* float32 registers decoded to double keep every bit. */
    check_value((double)0.1f, "0.10000000149011612");
    check_value((double)123.456f, "123.45600128173828");
    check_value((double)16777216.0f, "16777216");
    check_value((double)1e-7f, NULL);
    check_value((double)3.4028234663852886e38f, NULL);
    /* Extremes: the longest strings. */
    check_value(-2.2250738585072014e-308, "-2.2250738585072014e-308");
    check_value(4.9406564584124654e-324, NULL);
    check_value(-1.7976931348623157e308, "-1.7976931348623157e+308");

    /* Too small a buffer. */
    assert_int_equal(rrdlayout_format_value(b, 4, 2.5), 3);
    assert_int_equal(rrdlayout_format_value(b, 4, 12.25), -1);
    assert_int_equal(rrdlayout_format_value(b, 1, NAN), -1);

    /* Many doubles, float32-derived values and integers round-trip. */
    srand(1);
    for (i = 0; i < 100000; i++) {
        double mant = (double)rand() / RAND_MAX - 0.5;
        double v = ldexp(mant, rand() % 200 - 100);

        check_value(v, NULL);
        check_value((double)(float)v, NULL);
        check_value((double)(rand() % 100000000) * (rand() % 2 ? 1 : -1), NULL);
    }
}

static void
test_format_update(void **state)
{
    (void)state;
    const double v[] = {12.5, NAN, 0.1, -0.0, (double)0.1f, INFINITY, 1e-7};
    char b[256];
    double worst[40];
    size_t i, max;

    assert_int_equal(rrdlayout_format_update(b, sizeof(b), 1795331400, v, N(v)),
                     strlen("1795331400:12.5:U:0.1:-0:0.10000000149011612:U:"
                            "1e-07"));
    assert_string_equal(b, "1795331400:12.5:U:0.1:-0:0.10000000149011612:U:"
                           "1e-07");
    /* No values: the time alone. */
    assert_int_equal(rrdlayout_format_update(b, sizeof(b), 1, v, 0), 1);
    assert_string_equal(b, "1");

    /* Every prefix too small fails; the exact size fits. */
    rrdlayout_format_update(b, sizeof(b), 1795331400, v, 3);
    assert_string_equal(b, "1795331400:12.5:U:0.1");
    for (i = 0; i < sizeof("1795331400:12.5:U:0.1"); i++)
        assert_int_equal(rrdlayout_format_update(b, i, 1795331400, v, 3), -1);
    assert_int_equal(rrdlayout_format_update(b, i, 1795331400, v, 3),
                     (int)i - 1);

    /* rrdlayout_update_max is enough for the longest values. */
    for (i = 0; i < N(worst); i++)
        worst[i] = -2.2250738585072014e-308;
    max = rrdlayout_update_max(N(worst));
    {
        char *big = malloc(max);

        assert_non_null(big);
        assert_int_equal(
            rrdlayout_format_update(big, max, INT64_MIN, worst, N(worst)),
            (int)max - 1);
        free(big);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_kinds_and_ds),
        cmocka_unit_test(test_meter_layout),
        cmocka_unit_test(test_quota_capacity_layout),
        cmocka_unit_test(test_shared_layout),
        cmocka_unit_test(test_rras),
        cmocka_unit_test(test_format_value),
        cmocka_unit_test(test_format_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

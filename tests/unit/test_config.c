/* Unit tests of the config loader (config/load.c, validate.c, print.c),
 * from in-memory configs. The golden files in tests/config cover the
 * messages; these check the model the other modules read. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

#define PARK "park = { id = \"p\"; timezone = \"UTC\"; };\nprofile_dirs = [];\n"

static const char base[] = PARK
    "buses = ( { id = \"gw\"; tcp = { host = \"127.0.0.1\"; }; },\n"
    "          { id = \"rs\"; rtu = { device = \"/dev/ttyS0\"; baud = 19200;"
    " parity = \"E\"; }; } );\n"
    "profiles = ( { id = \"f\"; points = (\n"
    "  { name = \"flow\"; kind = \"flow_rate\"; table = \"input\";"
    " address = 0x1010; type = \"float32\"; },\n"
    "  { name = \"total\"; kind = \"volume_total\"; table = \"input\";"
    " address = 0x1018; type = \"int32+float32\"; max_rate = 400; },\n"
    "  { name = \"cod\"; kind = \"concentration\"; pollutant = \"cod\";"
    " table = \"holding\"; address = 0x1005; type = \"float32\";"
    " order = \"cdab\"; } ); } );\n"
    "enterprises = ( { id = \"e\";\n"
    "  meters = ( { id = \"m\"; bus = \"rs\"; slave = 3; profile = \"f\";"
    " interval = 10; max_regs = 20; } );\n"
    "  outlets = ( { id = \"o\"; volume = \"m.total\";"
    " concentrations = { cod = \"m.cod\"; }; limits_mg_l = { cod = 80; }; } "
    ");\n"
    "  quotas = ( { id = \"q\"; measure = \"cod_kg\"; period = \"year\";"
    " limit = 20000; } );\n"
    "  value_added = ( { period = \"2026\"; yuan = 5000000000; } ); } );\n";

static struct conf *
load(const char *text, struct conf_errors *errs)
{
    memset(errs, 0, sizeof(*errs));
    return conf_load_string(text, "t.conf", errs);
}

static void
dump_errors(const struct conf_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "  %s\n", errs->msgs[i]);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct conf_errors errs;
    struct conf *c = load(PARK, &errs);
    dump_errors(&errs);
    assert_non_null(c);
    assert_string_equal(c->park.id, "p");
    assert_string_equal(c->park.name, "p");
    assert_string_equal(c->mqtt.host, "127.0.0.1");
    assert_int_equal(c->mqtt.port, 1883);
    assert_string_equal(c->mqtt.prefix, "ecmon");
    assert_int_equal(c->mqtt.qos, 1);
    assert_int_equal(c->mqtt.keepalive, 30);
    assert_string_equal(c->mqtt.client_id, "ecmond-p");
    assert_false(c->mqtt.tls);
    assert_null(c->mqtt.username);
    assert_string_equal(c->storage.state_dir, "/var/lib/ecmond");
    assert_string_equal(c->storage.rrd_dir, "/var/lib/ecmond/rrd");
    assert_int_equal(c->storage.rrd_step, 60);
    assert_null(c->storage.rrdcached);
    assert_string_equal(c->control.socket, "/run/ecmond/ecmond.sock");
    assert_true(c->alerts.warn == 0.80);
    assert_true(c->alerts.critical == 0.95);
    assert_true(c->alerts.hysteresis == 0.02);
    assert_int_equal(c->alerts.forecast_window_days, 7);
    assert_null(c->alerts.exec);
    assert_int_equal(c->alerts.exec_timeout, 10);
    assert_true(c->energy_factors.electricity_kgce_per_kwh == 0.1229);
    assert_true(c->energy_factors.gas_kgce_per_m3 == 1.2143);
    assert_true(c->energy_factors.steam_kgce_per_t == 128.6);
    assert_true(c->energy_factors.heat_kgce_per_gj == 34.12);
    assert_true(c->outbox.max_mb == 256);
    assert_int_equal(c->outbox.max_age_days, 30);
    assert_null(c->run_as);
    assert_false(c->http.enabled);
    assert_int_equal(c->nprofile_dirs, 0);
    conf_free(c);
    conf_errors_free(&errs);
}

static void
test_model(void **state)
{
    (void)state;
    struct conf_errors errs;
    struct conf *c = load(base, &errs);
    dump_errors(&errs);
    assert_non_null(c);
    assert_int_equal(c->nbuses, 2);
    const struct conf_bus *rs = &c->buses[1];
    assert_int_equal(rs->kind, BUS_RTU);
    assert_int_equal(rs->baud, 19200);
    assert_int_equal(rs->parity, 'E');
    assert_int_equal(rs->frame_gap_ms, 3); /* 3.5 x 11 bits at 19200 */
    assert_int_equal(c->buses[0].port, 502);
    assert_int_equal(c->nmeters, 1);
    const struct conf_meter *m = &c->meters[0];
    assert_int_equal(m->enterprise, 0);
    assert_int_equal(m->bus, 1);
    assert_int_equal(m->profile, 0);
    assert_int_equal(m->slave, 3);
    assert_true(m->interval == 10);
    assert_true(m->ct == 1 && m->pt == 1);
    assert_int_equal(m->max_gap, -1);
    assert_int_equal(m->max_regs, 20);
    const struct conf_point *p = conf_meter_point(c, 0, 1);
    assert_string_equal(p->name, "total");
    assert_int_equal(p->address, 0x1018);
    assert_int_equal(p->type, TYPE_INT32_FLOAT32);
    assert_int_equal(conf_type_width(p->type), 4);
    assert_string_equal(p->unit, "m3");
    assert_true(p->has_max_rate && p->max_rate == 400);
    assert_true(p->scale == 1 && p->offset == 0);
    p = conf_meter_point(c, 0, 2);
    assert_int_equal(p->pollutant, POLL_COD);
    assert_int_equal(p->order, ORDER_CDAB);
    assert_int_equal(p->table, TABLE_HOLDING);
    const struct conf_enterprise *e = &c->enterprises[0];
    assert_int_equal(e->nmeters, 1);
    assert_int_equal(e->meters[0], 0);
    const struct conf_outlet *o = &e->outlets[0];
    assert_int_equal(o->volume.meter, 0);
    assert_int_equal(o->volume.point, 1);
    assert_true(o->has_conc[POLL_COD]);
    assert_int_equal(o->conc[POLL_COD].point, 2);
    assert_true(o->has_limit[POLL_COD] && o->limit_mg_l[POLL_COD] == 80);
    assert_false(o->has_conc[POLL_NH3N]);
    assert_int_equal(e->quotas[0].measure, MEASURE_POLLUTANT_KG);
    assert_int_equal(e->quotas[0].pollutant, POLL_COD);
    assert_int_equal(e->quotas[0].period, PERIOD_YEAR);
    /* Too large for 32 bits: libconfig 1.5 alone would truncate it. */
    assert_true(e->value_added[0].yuan == 5e9);
    assert_string_equal(e->value_added[0].period, "2026");
    assert_string_equal(o->src.file, "t.conf");
    assert_int_equal(o->src.line, 11);
    conf_free(c);
    conf_errors_free(&errs);
}

static void
test_park_meters(void **state)
{
    (void)state;
    struct conf_errors errs;
    const char *text =
        "park = { id = \"p\"; timezone = \"Asia/Shanghai\";\n"
        "  wwtp = { capacity_m3_per_day = 9000; inflow = \"in.flow\"; };\n"
        "  meters = ( { id = \"in\"; bus = \"gw\"; slave = 1; profile = \"f\"; "
        "} ); };\n"
        "profile_dirs = [];\n"
        "buses = ( { id = \"gw\"; tcp = { host = \"h\"; }; } );\n"
        "profiles = ( { id = \"f\"; points = ( { name = \"flow\";"
        " kind = \"flow_rate\"; table = \"input\"; address = 0;"
        " type = \"float32\"; } ); } );\n";
    struct conf *c = load(text, &errs);
    dump_errors(&errs);
    assert_non_null(c);
    assert_int_equal(c->park.nmeters, 1);
    assert_int_equal(c->meters[c->park.meters[0]].enterprise, -1);
    assert_true(c->park.has_wwtp && c->park.has_wwtp_inflow);
    assert_true(c->park.wwtp_capacity_m3_per_day == 9000);
    assert_int_equal(c->park.wwtp_inflow.meter, 0);
    assert_int_equal(c->park.wwtp_inflow.point, 0);
    conf_free(c);
    conf_errors_free(&errs);
}

static void
test_all_errors(void **state)
{
    (void)state;
    struct conf_errors errs;
    const char *text =
        PARK "mqtt = { port = 0; qos = 3; };\n"
             "buses = ( { id = \"gw\"; tcp = { host = \"h\"; }; foo = 1; } );\n"
             "enterprises = ( { id = \"park\"; } );\n";
    struct conf *c = load(text, &errs);
    assert_null(c);
    assert_int_equal(errs.n, 4);
    assert_string_equal(errs.msgs[0], "t.conf:3: 'port' must be between 1 and "
                                      "65535, not 0");
    assert_string_equal(errs.msgs[1],
                        "t.conf:3: 'qos' must be between 0 and 2, "
                        "not 3");
    assert_string_equal(errs.msgs[2], "t.conf:4: unknown key 'foo' in bus");
    assert_string_equal(errs.msgs[3], "t.conf:5: enterprise id 'park' is "
                                      "reserved (it is a topic level of the "
                                      "park)");
    conf_errors_free(&errs);
    assert_int_equal(errs.n, 0);

    c = load("park = { id = \"p\" ", &errs);
    assert_null(c);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.msgs[0], "t.conf:1: syntax error");
    conf_errors_free(&errs);
}

static void
test_errors_add(void **state)
{
    (void)state;
    struct conf_errors errs = {0};
    struct conf_src a = {"x.conf", 7}, b = {"y.conf", 0};
    conf_errors_add(&errs, &a, "bad %s", "thing\nwith newline");
    conf_errors_add(&errs, &b, "whole file");
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.msgs[0], "x.conf:7: bad thing?with newline");
    assert_string_equal(errs.msgs[1], "y.conf: whole file");
    conf_errors_free(&errs);
}

/* Print c into a string. */
static char *
print(const struct conf *c)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    conf_print(c, f);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    char *buf = calloc(1, (size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return buf;
}

static void
test_print_round_trip(void **state)
{
    (void)state;
    struct conf_errors errs;
    struct conf *c = load(base, &errs);
    assert_non_null(c);
    char *one = print(c);
    conf_free(c);
    c = load(one, &errs);
    dump_errors(&errs);
    assert_non_null(c);
    char *two = print(c);
    assert_string_equal(one, two);
    /* Defaults are explicit; numbers are floats where floats belong. */
    assert_non_null(strstr(one, "frame_gap_ms = 3;"));
    assert_non_null(strstr(one, "max_regs = 20;"));
    assert_non_null(strstr(one, "interval = 10.0;"));
    assert_non_null(strstr(one, "yuan = 5000000000.0;"));
    assert_non_null(strstr(one, "address = 0x1018;"));
    assert_non_null(strstr(one, "profile_dirs = [ ];"));
    free(one);
    free(two);
    conf_free(c);
    conf_errors_free(&errs);
}

static void
test_print_numbers(void **state)
{
    (void)state;
    static const double values[] = {0.1,    1e-7,    123456789.123456789,
                                    1e300,  0.3811,  1e17,
                                    2.5e-5, 1.0 / 3, 5e-324};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), PARK "outbox = { max_mb = %.17g; };\n",
                 values[i]);
        struct conf_errors errs;
        struct conf *c = load(text, &errs);
        dump_errors(&errs);
        assert_non_null(c);
        double want = c->outbox.max_mb;
        char *out = print(c);
        conf_free(c);
        c = load(out, &errs);
        assert_non_null(c);
        assert_true(c->outbox.max_mb == want);
        const char *v = strstr(out, "max_mb = ") + 9;
        assert_true(strcspn(v, ".e") < strcspn(v, ";"));
        free(out);
        conf_free(c);
        conf_errors_free(&errs);
    }
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_library(void **state)
{
    (void)state;
    char dir[] = "/tmp/ecmon-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[128], b[128], text[1024];
    snprintf(a, sizeof(a), "%s/a.conf", dir);
    snprintf(b, sizeof(b), "%s/b.conf", dir);
    write_file(a, "profiles = ( { id = \"lib\"; points = ( { name = \"x\";"
                  " kind = \"info\"; table = \"input\"; address = 1;"
                  " type = \"uint16\"; } ); },\n"
                  "  { id = \"over\"; points = ( { name = \"y\";"
                  " kind = \"info\"; table = \"input\"; address = 2;"
                  " type = \"uint16\"; } ); } );\n");
    write_file(b, "");
    snprintf(text, sizeof(text),
             "park = { id = \"p\"; timezone = \"UTC\"; };\n"
             "profile_dirs = [ \"%s\" ];\n"
             "buses = ( { id = \"gw\"; tcp = { host = \"h\"; }; } );\n"
             "profiles = ( { id = \"over\"; points = ( { name = \"z\";"
             " kind = \"info\"; table = \"holding\"; address = 3;"
             " type = \"uint16\"; } ); } );\n"
             "enterprises = ( { id = \"e\"; meters = (\n"
             "  { id = \"m1\"; bus = \"gw\"; slave = 1; profile = \"lib\"; },\n"
             "  { id = \"m2\"; bus = \"gw\"; slave = 2; profile = \"over\"; }"
             " ); } );\n",
             dir);
    struct conf_errors errs;
    /* b.conf has no `profiles`: an error with its name. */
    struct conf *c = load(text, &errs);
    assert_null(c);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msgs[0], "/b.conf: missing 'profiles"));
    conf_errors_free(&errs);

    write_file(b, "profiles = ();\n");
    c = load(text, &errs);
    dump_errors(&errs);
    assert_non_null(c);
    assert_int_equal(c->nprofiles, 2); /* inline "over", library "lib" */
    const struct conf_profile *p1 = &c->profiles[c->meters[0].profile];
    const struct conf_profile *p2 = &c->profiles[c->meters[1].profile];
    assert_string_equal(p1->id, "lib");
    assert_true(p1->builtin);
    assert_string_equal(p2->id, "over");
    assert_false(p2->builtin);
    assert_string_equal(p2->points[0].name, "z"); /* inline wins */
    conf_free(c);

    write_file(b, "profiles = ( { id = \"lib\"; points = ( { name = \"x\";"
                  " kind = \"info\"; table = \"input\"; address = 1;"
                  " type = \"uint16\"; } ); } );\n");
    c = load(text, &errs);
    assert_null(c);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msgs[0], "/b.conf:1: profile 'lib' is also "
                                         "defined at"));
    conf_errors_free(&errs);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_park_meters),
        cmocka_unit_test(test_all_errors),
        cmocka_unit_test(test_errors_add),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_print_numbers),
        cmocka_unit_test(test_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

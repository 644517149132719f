/* Unit tests of ecmon-sim's pure parts: value model, PDU answers, CRC and
 * control commands, on a config loaded from a string. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/decode.h"
#include "tests/sim/sim.h"
#include "tests/sim/sim_pdu.h"

static const char conf_text[] =
    "park = { id = \"p\"; name = \"P\"; timezone = \"UTC\"; };\n"
    "buses = ( { id = \"gw1\"; tcp = { host = \"127.0.0.1\"; port = 1502; };"
    " } );\n"
    "profiles = ( { id = \"f\"; points = (\n"
    "  { name = \"flow\"; kind = \"flow_rate\"; table = \"input\";"
    "    address = 0x10; type = \"float32\"; },\n"
    "  { name = \"total\"; kind = \"volume_total\"; table = \"input\";"
    "    address = 0x18; type = \"float64\"; },\n"
    "  { name = \"cod\"; kind = \"concentration\"; pollutant = \"cod\";"
    "    table = \"holding\"; address = 0; type = \"uint16\"; scale = 0.1; },\n"
    "  { name = \"gas\"; kind = \"gas_total\"; table = \"holding\";"
    "    address = 4; type = \"uint32\"; order = \"cdab\"; scale = 0.01; },\n"
    "  { name = \"fwd\"; kind = \"info\"; table = \"input\";"
    "    address = 0x20; type = \"int32+float32\"; }\n"
    "); } );\n"
    "enterprises = ( { id = \"e\"; name = \"E\"; meters = (\n"
    "  { id = \"m\"; bus = \"gw1\"; slave = 7; profile = \"f\"; interval = 10;"
    " } ); } );\n";

struct fixture {
    struct conf *conf;
    struct sim sim;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct conf_errors errs = {0};

    assert_non_null(f);
    f->conf = conf_load_string(conf_text, "test.conf", &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    conf_errors_free(&errs);
    assert_non_null(f->conf);
    assert_int_equal(sim_init(&f->sim, f->conf, 1), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    sim_free(&f->sim);
    conf_free(f->conf);
    free(f);
    return 0;
}

static struct sim_meter *
meter(void **state)
{
    return &((struct fixture *)*state)->sim.meters[0];
}

static void
test_crc(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    /* Sent as 84 0A: low byte first. */
    assert_int_equal(sim_crc16(req, sizeof req), 0x0a84);
    /* DESIGN §9: a Modbus CRC over this HJ 212 segment gives 0759. */
    static const char hj[] =
        "QN=20160801085857223;ST=32;CN=1062;PW=100000;"
        "MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
    assert_int_equal(sim_crc16((const uint8_t *)hj, strlen(hj)), 0x0759);
}

/* The total is the integral of the flow (m3/h over seconds / 3600). */
static void
test_total_integrates_flow(void **state)
{
    struct sim_meter *m = meter(state);
    double integral = 0, t0 = 1000, t1 = 1600, dt = 0.5;

    for (double t = t0; t < t1; t += dt)
        integral += (sim_point_get(m, 0, t) + sim_point_get(m, 0, t + dt)) / 2 *
                    dt / 3600;
    double grown = sim_point_get(m, 1, t1) - sim_point_get(m, 1, t0);
    assert_true(grown > 0);
    assert_true(fabs(grown - integral) < 1e-4 * integral);
    /* The flow wanders around its default mean of 50 m3/h. */
    double v = sim_point_get(m, 0, 12345);
    assert_true(v > 25 && v < 75);
}

static void
test_set_free_reset(void **state)
{
    struct sim_meter *m = meter(state);

    sim_point_set(m, 0, 3600, 100); /* 1 m3 per second from t=100 */
    double at100 = sim_point_get(m, 1, 100);
    assert_true(fabs(sim_point_get(m, 1, 110) - at100 - 10) < 1e-9);
    assert_true(sim_point_get(m, 0, 105) == 3600);

    sim_point_set(m, 1, 5000.5, 110); /* frozen total */
    assert_true(sim_point_get(m, 1, 130) == 5000.5);
    sim_point_free(m, 1, 130); /* counts on from the frozen value */
    assert_true(fabs(sim_point_get(m, 1, 140) - 5010.5) < 1e-9);

    sim_meter_reset_totals(m, 150);
    assert_true(sim_point_get(m, 1, 150) == 0);
    assert_true(fabs(sim_point_get(m, 1, 160) - 10) < 1e-9);
    /* The gas total has no rate point: mean is its growth per hour. */
    assert_int_equal(sim_point_mean(m, 3, 36, 160), 0);
    assert_int_equal(sim_point_mean(m, 1, 36, 160), -1);
    sim_point_free(m, 0, 170);
    assert_true(sim_point_get(m, 0, 170) != 3600);
}

/* A set value is served as its nearest representable register value. */
static void
test_set_is_representable(void **state)
{
    struct sim_meter *m = meter(state);

    sim_point_set(m, 2, 12.34, 0); /* uint16 x 0.1 */
    assert_true(sim_point_get(m, 2, 0) == 123 * 0.1);
    sim_point_set(m, 0, 12.3, 0); /* float32 */
    assert_true(sim_point_get(m, 0, 0) == (double)12.3f);
    m->fault = FAULT_NAN;
    assert_true(isnan(sim_point_get(m, 0, 0)));
    assert_true(sim_point_get(m, 2, 0) == 123 * 0.1); /* integers unaffected */
    m->fault = FAULT_NONE;
}

static size_t
ask(void **state, uint8_t unit, uint8_t fc, unsigned addr, unsigned count,
    uint8_t *out)
{
    struct fixture *f = *state;
    uint8_t pdu[5] = {fc, (uint8_t)(addr >> 8), (uint8_t)addr,
                      (uint8_t)(count >> 8), (uint8_t)count};
    struct sim_answer a;
    return sim_pdu_answer(&f->sim, 0, unit, pdu, sizeof pdu, 0, &a, out);
}

static void
test_pdu(void **state)
{
    struct sim_meter *m = meter(state);
    uint8_t out[SIM_PDU_MAX];

    sim_point_set(m, 3, 70000.01, 0); /* uint32 cdab x 0.01: 7000001 */
    assert_int_equal(ask(state, 7, 3, 4, 2, out), 6);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 4);
    /* 7000001 = 0x006ACFC1, low word first. */
    static const uint8_t want[] = {0xcf, 0xc1, 0x00, 0x6a};
    assert_memory_equal(out + 2, want, 4);

    /* Gap between cod (0) and gas (4..5) reads as 0; strict refuses it. */
    assert_int_equal(ask(state, 7, 3, 0, 6, out), 14);
    assert_int_equal(out[4] | out[5] | out[6] | out[7] | out[8] | out[9], 0);
    m->strict = true;
    assert_int_equal(ask(state, 7, 3, 0, 6, out), 2);
    assert_int_equal(out[0], 0x83);
    assert_int_equal(out[1], 2);
    m->strict = false;

    assert_int_equal(ask(state, 7, 3, 0, 7, out), 2); /* past the points */
    assert_int_equal(out[1], 2);
    assert_int_equal(ask(state, 7, 3, 0, 126, out), 2);
    assert_int_equal(out[1], 3);
    assert_int_equal(ask(state, 7, 3, 0, 0, out), 2);
    assert_int_equal(out[1], 3);
    assert_int_equal(ask(state, 7, 6, 0, 1, out), 2);
    assert_int_equal(out[0], 0x86);
    assert_int_equal(out[1], 1);
    assert_int_equal(ask(state, 8, 3, 0, 1, out), 0); /* no such unit */

    m->rejects[0] = (struct sim_reject){TABLE_INPUT, 0x19, 1};
    m->nrejects = 1;
    assert_int_equal(ask(state, 7, 4, 0x18, 4, out), 2);
    assert_int_equal(ask(state, 7, 4, 0x10, 2, out), 6);
    m->nrejects = 0;

    m->fault = FAULT_TIMEOUT;
    assert_int_equal(ask(state, 7, 4, 0x10, 2, out), 0);
    m->fault = FAULT_NONE;
    assert_int_equal(m->stats.requests, 10);
    assert_int_equal(m->stats.exceptions, 6);
    assert_int_equal(m->stats.unanswered, 1);
}

static const char *
ctl(void **state, const char *cmd)
{
    static char reply[256];
    char line[256];
    struct fixture *f = *state;

    snprintf(line, sizeof line, "%s", cmd);
    sim_ctl_exec(&f->sim, line, 0, reply, sizeof reply);
    return reply;
}

/* nan, inf and -inf: every float register holds that value (for a split
 * total, its fraction; the integer part stays); integers are unaffected. */
static void
test_bad_floats(void **state)
{
    struct sim_meter *m = meter(state);
    const enum sim_fault faults[] = {FAULT_NAN, FAULT_INF, FAULT_NEG_INF};
    const char *names[] = {"nan", "inf", "-inf"};
    char cmd[32];
    uint16_t regs[4];
    double raw;

    sim_point_set(m, 0, 12.5, 0);   /* flow, float32 */
    sim_point_set(m, 2, 48.7, 0);   /* cod, uint16 x 0.1 */
    sim_point_set(m, 4, 1234.5, 0); /* fwd, int32+float32 */
    for (size_t i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "fault m %s", names[i]);
        assert_string_equal(ctl(state, cmd), "ok");
        assert_int_equal(m->fault, faults[i]);
        sim_point_regs(m, 0, 0, regs);
        float f;
        uint32_t bits = (uint32_t)regs[0] << 16 | regs[1];
        memcpy(&f, &bits, sizeof f);
        if (faults[i] == FAULT_NAN)
            assert_true(isnan(f));
        else
            assert_true(f == (faults[i] == FAULT_INF ? INFINITY : -INFINITY));
        assert_int_equal(decode_raw(m->points[0].cp, regs, &raw), DECODE_NAN);
        sim_point_regs(m, 1, 0, regs);
        assert_int_equal(decode_raw(m->points[1].cp, regs, &raw), DECODE_NAN);
        sim_point_regs(m, 4, 0, regs);
        assert_int_equal((uint32_t)regs[0] << 16 | regs[1], 1234);
        assert_int_equal(decode_raw(m->points[4].cp, regs, &raw),
                         DECODE_BADFRAC);
        assert_true(isnan(sim_point_get(m, 0, 0)));
        assert_true(sim_point_get(m, 2, 0) == 487 * 0.1);
    }
    assert_string_equal(ctl(state, "fault m none"), "ok");
    assert_true(sim_point_get(m, 4, 0) == 1234.5);
}

static void
test_ctl(void **state)
{
    assert_string_equal(ctl(state, "set m flow 12.3"), "ok 12.300000190734863");
    assert_string_equal(ctl(state, "get m flow"), "ok 12.300000190734863");
    assert_string_equal(ctl(state, "set m cod 48.7"), "ok 48.700000000000003");
    assert_string_equal(ctl(state, "set m nope 1"),
                        "err meter m has no point nope");
    assert_string_equal(ctl(state, "set x flow 1"), "err unknown meter x");
    assert_string_equal(ctl(state, "set m flow abc"), "err bad value abc");
    assert_string_equal(ctl(state, "mean m total 3"),
                        "err m.total integrates m.flow: set the mean of flow");
    assert_string_equal(ctl(state, "fault m exception:6"), "ok");
    assert_int_equal(meter(state)->exc_code, 6);
    assert_string_equal(ctl(state, "fault m exception"), "ok");
    assert_int_equal(meter(state)->exc_code, 4);
    assert_string_equal(ctl(state, "fault m badcrc"),
                        "err badcrc needs an RTU bus; m is on TCP bus gw1");
    assert_string_equal(ctl(state, "fault m none"), "ok");
    assert_string_equal(ctl(state, "reject m input 0x10 2"), "ok");
    assert_string_equal(ctl(state, "reject m input 65535 2"),
                        "err bad count 2 (1..1)");
    assert_string_equal(ctl(state, "strict m on"), "ok");
    assert_true(meter(state)->strict);
    assert_string_equal(ctl(state, "stats m"),
                        "ok requests=0 exceptions=0 unanswered=0");
    assert_string_equal(ctl(state, "pause nobus"), "err unknown bus nobus");
    assert_string_equal(ctl(state, "frobnicate"),
                        "err unknown command frobnicate");
    assert_string_equal(ctl(state, "quit"), "ok bye");
    assert_true(((struct fixture *)*state)->sim.quit);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc),
        cmocka_unit_test_setup_teardown(test_total_integrates_flow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set_free_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_is_representable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_floats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pdu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

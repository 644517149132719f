/* Unit tests of one meter's polls (drivers/meter_poll.c), driven by hand
 * with the outcomes a link would report: values and flags, retries, split
 * requests and dead points, state changes reported once, counters. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/log.h"
#include "drivers/meter_poll.h"

static const char conf_text[] =
    "park = { id = \"p\"; timezone = \"UTC\"; };\nprofile_dirs = [];\n"
    "buses = ( { id = \"gw\"; tcp = { host = \"127.0.0.1\"; };"
    " retries = 1; } );\n"
    "profiles = ( { id = \"six\"; points = (\n"
    "  { name = \"a\"; kind = \"info\"; table = \"holding\"; address = 0;"
    " type = \"uint16\"; },\n"
    "  { name = \"b\"; kind = \"info\"; table = \"holding\"; address = 1;"
    " type = \"uint16\"; },\n"
    "  { name = \"c\"; kind = \"info\"; table = \"holding\"; address = 2;"
    " type = \"uint16\"; max = 100; },\n"
    "  { name = \"d\"; kind = \"info\"; table = \"holding\"; address = 3;"
    " type = \"uint16\"; scale = 0.5; } ); } );\n"
    "enterprises = ( { id = \"e\"; meters = (\n"
    "  { id = \"m\"; bus = \"gw\"; slave = 1; profile = \"six\";"
    " interval = 10; } ); } );\n";

struct fixture {
    struct conf *conf;
    struct mpoll m;
};

static int
setup(void **state)
{
    static struct fixture f;
    struct conf_errors errs = {0};
    f.conf = conf_load_string(conf_text, "t.conf", &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    conf_errors_free(&errs);
    if (f.conf == NULL)
        return -1;
    /* Monotonic 1000 is Unix 1e6: the slots are 10 s apart from 1000 plus
     * the meter's offset. */
    if (mpoll_init(&f.m, f.conf, 0, 1000.0, 1e6 - 1000.0) == -1)
        return -1;
    *state = &f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    mpoll_free(&f->m);
    conf_free(f->conf);
    return 0;
}

static void
test_good_poll(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;
    struct meter_event ev;
    const uint16_t regs[4] = {1, 2, 300, 9};

    double s0 = m->sched.next;
    assert_true(fabs(s0 - 1000.0 - 10 * mpoll_offset("m")) < 1e-6);
    assert_int_equal(m->plan.nreqs, 1);
    mpoll_begin(m, s0 + 0.01, 1e6 + 0.01);
    const struct plan_req *r = mpoll_next(m);
    assert_non_null(r);
    assert_int_equal(r->addr, 0);
    assert_int_equal(r->count, 4);
    assert_int_equal(mpoll_answer(m, MBL_OK, 0, regs, ""), 0);
    assert_null(mpoll_next(m));
    assert_true(mpoll_end(m, true, s0 + 0.05, 1e6 + 0.05, &ev));
    assert_int_equal(ev.online, 1);
    assert_int_equal(ev.meter, 0);

    assert_true(m->out[0].value == 1 && m->out[0].flag == 'N');
    assert_true(m->out[1].value == 2 && m->out[1].flag == 'N');
    assert_true(m->out[2].value == 300 && m->out[2].flag == 'T');
    assert_true(m->out[3].value == 4.5 && m->out[3].flag == 'N');
    assert_true(m->out[3].ts == 1e6 + 0.01);
    assert_int_equal(m->st.polls, 1);
    assert_int_equal(m->st.requests, 1);
    assert_int_equal(m->st.late, 0);
    assert_true(m->st.last_ok == 1e6 + 0.01);
    assert_true(m->sched.next == s0 + 10);

    /* The same state again: no event. */
    mpoll_begin(m, s0 + 10, 1e6 + 10);
    mpoll_next(m);
    mpoll_answer(m, MBL_OK, 0, regs, "");
    assert_false(mpoll_end(m, true, s0 + 10.1, 1e6 + 10.1, &ev));
}

static void
test_retry_then_fail_flags_b_once(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;
    struct meter_event ev;
    const uint16_t regs[4] = {1, 2, 3, 4};

    mpoll_begin(m, 1000.0, 1e6);
    mpoll_next(m);
    assert_int_equal(mpoll_answer(m, MBL_OK, 0, regs, ""), 0);
    assert_null(mpoll_next(m));
    assert_true(mpoll_end(m, true, 1000.1, 1e6, &ev));

    /* retries = 1: one timeout is retried, the second ends the poll. */
    for (int poll = 0; poll < 2; poll++) {
        double t = 1010.0 + 10 * poll;
        mpoll_begin(m, t, 1e6 + t - 1000);
        assert_non_null(mpoll_next(m));
        assert_int_equal(mpoll_answer(m, MBL_TIMEOUT, 0, NULL, "timed out"), 0);
        assert_non_null(mpoll_next(m));
        assert_int_equal(mpoll_answer(m, MBL_TIMEOUT, 0, NULL, "timed out"),
                         -1);
        assert_string_equal(m->err, "timed out");
        bool changed = mpoll_end(m, false, t + 0.7, 1e6, &ev);
        assert_int_equal(changed, poll == 0);
        for (int p = 0; p < 4; p++) {
            assert_int_equal(m->out[p].flag, 'B');
            assert_true(isnan(m->out[p].value));
        }
    }
    assert_int_equal(ev.online, 0);
    assert_string_equal(ev.reason, "timed out");
    assert_int_equal(m->st.errors, 2);
    assert_int_equal(m->st.requests, 5);
    assert_int_equal(m->st.polls, 3);
    assert_int_equal(m->st.online, 0);
}

static void
test_broken_link_is_not_retried(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;

    mpoll_begin(m, 1000.0, 1e6);
    mpoll_next(m);
    assert_int_equal(mpoll_answer(m, MBL_IO, 0, NULL, "connection reset"), -1);
    assert_int_equal(m->requests, 1);
}

static void
test_gateway_exceptions_count_as_no_answer(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;

    mpoll_begin(m, 1000.0, 1e6);
    mpoll_next(m);
    assert_int_equal(mpoll_answer(m, MBL_EXCEPTION, 11, NULL, "exception 11"),
                     0);
    mpoll_next(m);
    assert_int_equal(mpoll_answer(m, MBL_EXCEPTION, 10, NULL, "exception 10"),
                     -1);
    assert_int_equal(m->exceptions, 2);
}

static void
test_device_failure_flags_d(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;
    struct meter_event ev;

    mpoll_begin(m, 1000.0, 1e6);
    mpoll_next(m);
    assert_int_equal(mpoll_answer(m, MBL_EXCEPTION, 4, NULL, "exception 4"), 0);
    assert_null(mpoll_next(m));
    /* The device answered: online, every point D. */
    assert_true(mpoll_end(m, true, 1000.1, 1e6, &ev));
    assert_int_equal(ev.online, 1);
    for (int p = 0; p < 4; p++)
        assert_int_equal(m->out[p].flag, 'D');
    assert_int_equal(m->st.exceptions, 1);
}

/* The device rejects register 2 (point c): the block is halved until c
 * stands alone and is dead; every other point is read in this same poll,
 * and from then on c is not requested, until an hour later. */
static void
test_rejected_block_is_split(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;
    struct meter_event ev;
    const struct plan_req *r;
    uint16_t regs[4];
    int sent = 0;

    mpoll_begin(m, 1000.0, 1e6);
    while ((r = mpoll_next(m)) != NULL) {
        sent++;
        if (r->addr <= 2 && r->addr + r->count > 2) {
            assert_int_equal(mpoll_answer(m, MBL_EXCEPTION, 2, NULL,
                                          "exception 2 (illegal data address)"),
                             0);
            continue;
        }
        for (unsigned i = 0; i < r->count; i++)
            regs[i] = (uint16_t)(10 + r->addr + i);
        assert_int_equal(mpoll_answer(m, MBL_OK, 0, regs, ""), 0);
    }
    assert_true(mpoll_end(m, true, 1000.2, 1e6, &ev));
    /* 0-3 rejected; 0-1 read; 2-3 rejected; 2 rejected, dead; 3 read. */
    assert_int_equal(sent, 5);
    assert_int_equal(m->out[0].flag, 'N');
    assert_true(m->out[1].value == 11);
    assert_int_equal(m->out[2].flag, 'D');
    assert_true(m->out[3].value == 13 * 0.5);
    assert_int_equal(m->st.dead, 1);
    assert_int_equal(m->st.nreqs, 3);

    /* Next poll: two requests, c flagged D without asking. */
    sent = 0;
    mpoll_begin(m, 1010.0, 1e6 + 10);
    while ((r = mpoll_next(m)) != NULL) {
        sent++;
        assert_false(r->addr <= 2 && r->addr + r->count > 2);
        mpoll_answer(m, MBL_OK, 0, regs, "");
    }
    assert_int_equal(sent, 2);
    assert_int_equal(m->out[2].flag, 'D');
    mpoll_end(m, true, 1010.1, 1e6 + 10, &ev);

    /* An hour on, c is asked for again. */
    sent = 0;
    mpoll_begin(m, 1000.0 + 3600, 1e6 + 3600);
    while ((r = mpoll_next(m)) != NULL) {
        sent++;
        mpoll_answer(m, MBL_OK, 0, regs, "");
    }
    assert_int_equal(sent, 3);
    assert_int_equal(m->out[2].flag, 'N');
}

static void
test_late_and_skipped_slots(void **state)
{
    struct fixture *f = *state;
    struct mpoll *m = &f->m;
    struct meter_event ev;

    /* The first slot's poll starts 0.7 s late and runs 25 s: the next two
     * slots are skipped, the next poll is 30 s after the first. */
    double s0 = m->sched.next;
    mpoll_begin(m, s0 + 0.7, 1e6);
    mpoll_fail(m, "bus gw not connected");
    mpoll_end(m, false, s0 + 25.0, 1e6, &ev);
    assert_int_equal(m->st.late, 1);
    assert_int_equal(m->st.skipped, 2);
    assert_int_equal(m->st.polls, 1);
    assert_true(m->sched.next == s0 + 30);
    assert_string_equal(ev.reason, "bus gw not connected");
}

/* Offsets: fixed per id, in [0, 1), and spread. */
static void
test_offsets_spread_meters(void **state)
{
    (void)state;
    int bins[10] = {0};
    char id[16];

    assert_true(mpoll_offset("m") == mpoll_offset("m"));
    assert_true(mpoll_offset("m") != mpoll_offset("n"));
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "d%d", i);
        double f = mpoll_offset(id);
        assert_true(f >= 0 && f < 1);
        bins[(int)(f * 10)]++;
    }
    for (int i = 0; i < 10; i++)
        assert_in_range(bins[i], 60, 140);
}

int
main(void)
{
    log_init("test_meter_poll", 1, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_then_fail_flags_b_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_link_is_not_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_gateway_exceptions_count_as_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_failure_flags_d, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejected_block_is_split, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_late_and_skipped_slots, setup,
                                        teardown),
        cmocka_unit_test(test_offsets_spread_meters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

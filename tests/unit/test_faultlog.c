/* Unit tests of faultlog: a fault is reported when it begins or changes and
 * its end once, never on every poll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/faultlog.h"

#define MAX_LINES 8

struct lines {
    char text[MAX_LINES][800];
    bool warn[MAX_LINES];
    size_t n;
};

static void
collect(void *arg, bool warn, const char *line)
{
    struct lines *l = arg;
    assert_true(l->n < MAX_LINES);
    snprintf(l->text[l->n], sizeof l->text[l->n], "%s", line);
    l->warn[l->n++] = warn;
}

static const char *
exc_name(int code)
{
    return code == 4 ? "server device failure" : "other";
}

static struct conf_point points[3];

static int
setup(void **state)
{
    static struct faultlog f;
    memset(points, 0, sizeof points);
    snprintf(points[0].name, sizeof points[0].name, "flow");
    snprintf(points[0].unit, sizeof points[0].unit, "m3/h");
    points[0].has_min = points[0].has_max = true;
    points[0].min = 0;
    points[0].max = 100;
    snprintf(points[1].name, sizeof points[1].name, "total");
    snprintf(points[1].unit, sizeof points[1].unit, "m3");
    snprintf(points[2].name, sizeof points[2].name, "cod");
    snprintf(points[2].unit, sizeof points[2].unit, "mg/L");
    points[2].has_max = true;
    points[2].max = 1000;
    assert_int_equal(faultlog_init(&f, "m1", points, 3), 0);
    *state = &f;
    return 0;
}

static int
teardown(void **state)
{
    faultlog_free(*state);
    return 0;
}

/* One poll: conditions of the three points, then the report. */
static void
poll3(struct faultlog *f, enum faultlog_cond a, enum faultlog_cond b,
      enum faultlog_cond c, struct lines *l)
{
    memset(l, 0, sizeof *l);
    faultlog_set(f, 0, a, 4, 150);
    faultlog_set(f, 1, b, 4, 0);
    faultlog_set(f, 2, c, 4, 5000);
    faultlog_report(f, exc_name, collect, l);
}

static void
test_quiet_while_normal(void **state)
{
    struct lines l;
    for (int i = 0; i < 3; i++) {
        poll3(*state, FAULTLOG_NORMAL, FAULTLOG_NORMAL, FAULTLOG_NORMAL, &l);
        assert_int_equal(l.n, 0);
    }
}

/* An exception on every point: one line, once; the end: one line. */
static void
test_exception_once(void **state)
{
    struct lines l;
    poll3(*state, FAULTLOG_EXCEPTION, FAULTLOG_EXCEPTION, FAULTLOG_EXCEPTION,
          &l);
    assert_int_equal(l.n, 1);
    assert_true(l.warn[0]);
    assert_string_equal(l.text[0], "meter m1: flow, total, cod: exception 4 "
                                   "(server device failure); flagged D");
    for (int i = 0; i < 5; i++) {
        poll3(*state, FAULTLOG_EXCEPTION, FAULTLOG_EXCEPTION,
              FAULTLOG_EXCEPTION, &l);
        assert_int_equal(l.n, 0);
    }
    poll3(*state, FAULTLOG_NORMAL, FAULTLOG_NORMAL, FAULTLOG_NORMAL, &l);
    assert_int_equal(l.n, 1);
    assert_false(l.warn[0]);
    assert_string_equal(l.text[0], "meter m1: flow, total, cod: normal again");
    poll3(*state, FAULTLOG_NORMAL, FAULTLOG_NORMAL, FAULTLOG_NORMAL, &l);
    assert_int_equal(l.n, 0);
}

/* Different causes, different lines; a range fault names value and range
 * and stays one fault while the value moves. */
static void
test_causes(void **state)
{
    struct faultlog *f = *state;
    struct lines l;
    poll3(f, FAULTLOG_RANGE, FAULTLOG_BADFRAC, FAULTLOG_RANGE, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.text[0],
                        "meter m1: flow: 150 m3/h outside 0..100; flagged T");
    assert_string_equal(l.text[1], "meter m1: total: fraction register out "
                                   "of range; flagged D");
    assert_string_equal(l.text[2], "meter m1: cod: 5000 mg/L above the "
                                   "maximum 1000; flagged T");
    memset(&l, 0, sizeof l);
    faultlog_set(f, 0, FAULTLOG_RANGE, 0, 170);
    faultlog_report(f, exc_name, collect, &l);
    assert_int_equal(l.n, 0);
    /* total: from a bad fraction to NaN is a new fault; cod ends. */
    poll3(f, FAULTLOG_RANGE, FAULTLOG_NAN, FAULTLOG_NORMAL, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "meter m1: total: not a finite number "
                                   "(NaN or infinity); flagged D");
    assert_string_equal(l.text[1], "meter m1: cod: normal again");
}

/* A point not recorded in a poll (one the plan skips) keeps its condition;
 * a discarded poll reports nothing later. */
static void
test_keep_and_discard(void **state)
{
    struct faultlog *f = *state;
    struct lines l;
    poll3(f, FAULTLOG_NAN, FAULTLOG_NAN, FAULTLOG_NORMAL, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "meter m1: flow, total: not a finite "
                                   "number (NaN or infinity); flagged D");
    memset(&l, 0, sizeof l);
    faultlog_set(f, 0, FAULTLOG_NAN, 0, 0);
    faultlog_report(f, exc_name, collect, &l);
    assert_int_equal(l.n, 0);
    faultlog_set(f, 0, FAULTLOG_NORMAL, 0, 0);
    faultlog_set(f, 1, FAULTLOG_NORMAL, 0, 0);
    faultlog_discard(f);
    faultlog_report(f, exc_name, collect, &l);
    assert_int_equal(l.n, 0);
}

/* Names that do not fit are cut with "...". */
static void
test_long_names(void **state)
{
    (void)state;
    struct conf_point many[40];
    struct faultlog f;
    struct lines l = {0};
    memset(many, 0, sizeof many);
    for (size_t i = 0; i < 40; i++)
        snprintf(many[i].name, sizeof many[i].name, "point_number_%02zu", i);
    assert_int_equal(faultlog_init(&f, "m2", many, 40), 0);
    for (size_t i = 0; i < 40; i++)
        faultlog_set(&f, i, FAULTLOG_NAN, 0, 0);
    faultlog_report(&f, exc_name, collect, &l);
    assert_int_equal(l.n, 1);
    assert_non_null(strstr(l.text[0], "point_number_00, point_number_01"));
    assert_non_null(strstr(l.text[0], "...: not a finite number"));
    faultlog_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quiet_while_normal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exception_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_causes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_and_discard, setup, teardown),
        cmocka_unit_test(test_long_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

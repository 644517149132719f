/* Unit tests of the RRD store's batching (storage.rrd_flush): updates wait
 * in memory, are written together when their turn comes, when the batch is
 * full or on a flush, and none is lost or written twice. Real RRD files in
 * a temporary directory, read back with librrd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <rrd.h>

#include "rrd/rrd_store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A multiple of 60: the batches' periods start on it. */
#define BASE 1700000040.0

static struct conf_point flow_points[] = {
    {.name = "flow", .kind = KIND_FLOW_RATE},
    {.name = "total", .kind = KIND_VOLUME_TOTAL},
};

static struct conf_profile profiles[] = {
    {.id = "flowmeter", .points = flow_points, .npoints = N(flow_points)},
};

static struct conf_meter meters[] = {
    {.id = "m0", .enterprise = 0, .profile = 0, .interval = 1},
    {.id = "m1", .enterprise = 0, .profile = 0, .interval = 1},
};

static struct conf_enterprise enterprises[] = {
    {.id = "acme"},
};

struct fixture {
    char dir[64];
    struct conf c;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_rrd_store.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->c.park.id, sizeof(f->c.park.id), "p");
    f->c.storage.rrd_dir = f->dir;
    f->c.storage.rrd_step = 60;
    f->c.storage.rrd_flush = 60;
    f->c.profiles = profiles;
    f->c.nprofiles = N(profiles);
    f->c.meters = meters;
    f->c.nmeters = N(meters);
    f->c.enterprises = enterprises;
    f->c.nenterprises = N(enterprises);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
path_of(const struct fixture *f, int meter, char *buf, size_t len)
{
    snprintf(buf, len, "%s/acme/%s.rrd", f->dir, meters[meter].id);
}

/* The file's last update time and the flow value written with it. */
static time_t
last_update(const struct fixture *f, int meter, double *flow)
{
    char path[256], **names = NULL, **values = NULL;
    unsigned long n = 0, i;
    time_t last = 0;

    path_of(f, meter, path, sizeof(path));
    rrd_clear_error();
    assert_int_equal(rrd_lastupdate_r(path, &last, &n, &names, &values), 0);
    assert_int_equal(n, 2);
    if (flow)
        *flow = strcmp(values[0], "U") == 0 ? -1 : atof(values[0]);
    for (i = 0; i < n; i++) {
        rrd_freemem(names[i]);
        rrd_freemem(values[i]);
    }
    rrd_freemem(names);
    rrd_freemem(values);
    return last;
}

static int
update(struct rrdstore *st, int meter, double ts, double flow)
{
    double v[2] = {flow, flow * 10};
    char err[512];
    int rc = rrdstore_update_meter(st, meter, ts, v, err, sizeof(err));

    if (rc < 0)
        fprintf(stderr, "update: %s\n", err);
    return rc;
}

/* Updates wait until a flush; then all of them are in the file. */
static void
test_waits_then_flush(void **state)
{
    struct fixture *f = *state;
    char err[512];
    double flow;
    int i;
    struct rrdstore *st = rrdstore_open(&f->c, err, sizeof(err));

    assert_non_null(st);
    for (i = 1; i <= 10; i++)
        assert_int_equal(update(st, 0, BASE + i, i), 0);
    /* Created at the first update, one second before it; nothing written. */
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE);
    /* Not newer than what waits: skipped, as for a written update. */
    assert_int_equal(update(st, 0, BASE + 10.5, 99), RRDSTORE_SKIPPED);
    assert_int_equal(update(st, 0, BASE + 3, 99), RRDSTORE_SKIPPED);
    assert_int_equal(rrdstore_flush_meter(st, 0, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, &flow), (time_t)BASE + 10);
    assert_true(flow == 10);
    /* Nothing waits any more: a second flush writes nothing, and the next
     * update goes on from there. */
    assert_int_equal(rrdstore_flush(st, err, sizeof(err)), 0);
    assert_int_equal(update(st, 0, BASE + 11, 11), 0);
    assert_int_equal(rrdstore_flush(st, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, &flow), (time_t)BASE + 11);
    assert_true(flow == 11);
    /* Flushing a meter out of range is an error, not a crash. */
    assert_int_equal(rrdstore_flush_meter(st, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "out of range"));
    rrdstore_close(st);
}

/* A full batch (64 updates) is written without waiting for its turn. */
static void
test_full_batch(void **state)
{
    struct fixture *f = *state;
    char err[512];
    double flow;
    int i;
    struct rrdstore *st = rrdstore_open(&f->c, err, sizeof(err));

    assert_non_null(st);
    for (i = 1; i <= 63; i++)
        assert_int_equal(update(st, 0, BASE + i, i), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE);
    assert_int_equal(update(st, 0, BASE + 64, 64), 0);
    assert_int_equal(last_update(f, 0, &flow), (time_t)BASE + 64);
    assert_true(flow == 64);
    rrdstore_close(st);
}

/* Each file is written once per period at its own phase: with two meters
 * and 60 s, m0 at :00 and m1 at :30. A clock that goes back writes. */
static void
test_tick_turns(void **state)
{
    struct fixture *f = *state;
    char err[512];
    struct rrdstore *st = rrdstore_open(&f->c, err, sizeof(err));

    assert_non_null(st);
    assert_int_equal(update(st, 0, BASE + 1, 1), 0);
    assert_int_equal(update(st, 1, BASE + 1, 1), 0);
    assert_int_equal(rrdstore_tick(st, BASE + 29.9, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE);
    assert_int_equal(last_update(f, 1, NULL), (time_t)BASE);
    assert_int_equal(rrdstore_tick(st, BASE + 30, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE);
    assert_int_equal(last_update(f, 1, NULL), (time_t)BASE + 1);
    assert_int_equal(rrdstore_tick(st, BASE + 59.9, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE);
    assert_int_equal(rrdstore_tick(st, BASE + 60, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE + 1);

    /* The clock went back an hour: what waits is written at once. */
    assert_int_equal(update(st, 0, BASE + 70, 70), 0);
    assert_int_equal(rrdstore_tick(st, BASE - 3600, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE + 70);
    rrdstore_close(st);
}

/* rrd_flush = 0: every update is written at once; quota and capacity
 * files never wait. */
static void
test_no_batching(void **state)
{
    struct fixture *f = *state;
    char err[512];
    double flow;
    struct rrdstore *st;

    f->c.storage.rrd_flush = 0;
    st = rrdstore_open(&f->c, err, sizeof(err));
    assert_non_null(st);
    assert_int_equal(update(st, 1, BASE + 5, 5), 0);
    assert_int_equal(last_update(f, 1, &flow), (time_t)BASE + 5);
    assert_true(flow == 5);
    assert_int_equal(rrdstore_tick(st, BASE + 1e6, err, sizeof(err)), 0);
    rrdstore_close(st);
}

/* A batch that cannot be written is reported with its count; the next
 * update reads the file's state again (here: makes a new file). */
static void
test_write_error(void **state)
{
    struct fixture *f = *state;
    char err[512], path[256], aside[300];
    struct rrdstore *st = rrdstore_open(&f->c, err, sizeof(err));

    assert_non_null(st);
    assert_int_equal(update(st, 0, BASE + 1, 1), 0);
    assert_int_equal(update(st, 0, BASE + 2, 2), 0);
    assert_int_equal(update(st, 1, BASE + 2, 2), 0);
    /* m0's file is replaced by a directory behind the store's back. */
    path_of(f, 0, path, sizeof(path));
    snprintf(aside, sizeof(aside), "%s.aside", path);
    assert_int_equal(rename(path, aside), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(rrdstore_flush(st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "m0.rrd"));
    assert_non_null(strstr(err, "(2 updates not written)"));
    /* m1's batch was written all the same. */
    assert_int_equal(last_update(f, 1, NULL), (time_t)BASE + 2);
    /* With the directory gone, the next update makes a new file. */
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(update(st, 0, BASE + 3, 3), 0);
    assert_int_equal(rrdstore_flush(st, err, sizeof(err)), 0);
    assert_int_equal(last_update(f, 0, NULL), (time_t)BASE + 3);
    rrdstore_close(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_waits_then_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_batching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

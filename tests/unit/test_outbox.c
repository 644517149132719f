/* Unit tests of the outbox over a real ecmond.db (SQLite in a temporary
 * directory), with the MQTT publisher replaced at link time by the fake
 * below: order, acknowledgement, restart, window, bounds, retained state. */
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

#include "daemon/clock.h"
#include "daemon/ledger_store.h"
#include "daemon/mqtt_pub.h"
#include "daemon/outbox.h"

/* ---- the fake publisher ---- */

struct sent {
    int mid;
    char topic[128];
    char payload[256];
    bool retain;
    int qos;
};

static struct {
    bool connected;
    int next_mid;
    struct sent sent[4096];
    size_t nsent;
    void (*ack)(void *, int);
    void *ack_arg;
} fake;

bool
mqttp_connected(struct mqtt_pub *m)
{
    (void)m;
    return fake.connected;
}

static int
record(const char *topic, const char *payload, size_t len, int qos, bool retain)
{
    assert_true(fake.nsent < sizeof fake.sent / sizeof fake.sent[0]);
    struct sent *s = &fake.sent[fake.nsent++];
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->payload, sizeof s->payload, "%.*s", (int)len, payload);
    s->retain = retain;
    s->qos = qos;
    s->mid = ++fake.next_mid;
    return s->mid;
}

int
mqttp_publish(struct mqtt_pub *m, const char *topic, const char *payload,
              size_t len, int qos, bool retain)
{
    (void)m;
    if (!fake.connected)
        return -1;
    record(topic, payload, len, qos, retain);
    return 0;
}

int
mqttp_send(struct mqtt_pub *m, const char *topic, const char *payload,
           size_t len, int qos, int *mid)
{
    (void)m;
    if (!fake.connected)
        return -1;
    *mid = record(topic, payload, len, qos, false);
    if (qos == 0) /* libmosquitto: written at once, acknowledged at once */
        fake.ack(fake.ack_arg, *mid);
    return 0;
}

void
mqttp_cork(struct mqtt_pub *m, bool on)
{
    (void)m;
    (void)on;
}

void
mqttp_on_ack(struct mqtt_pub *m, void (*fn)(void *arg, int mid), void *arg)
{
    (void)m;
    fake.ack = fn;
    fake.ack_arg = arg;
}

/* ---- helpers ---- */

struct fx {
    char dir[64], path[96];
    struct conf c;
    struct ledger *l;
    struct outbox *o;
    double now; /* monotonic, moved by the tests */
};

static struct outbox *
reopen(struct fx *f)
{
    char err[256];
    outbox_close(f->o);
    f->o = outbox_open(&f->c, f->l, NULL, err, sizeof err);
    assert_non_null(f->o);
    return f->o;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/test_outbox.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/ecmond.db", f->dir);
    snprintf(f->c.park.id, sizeof f->c.park.id, "p");
    f->c.mqtt.prefix = "ecmon";
    f->c.mqtt.qos = 1;
    f->c.outbox.max_mb = 256;
    f->c.outbox.max_age_days = 30;
    f->l = ledger_open(f->path, err, sizeof err);
    assert_non_null(f->l);
    memset(&fake, 0, sizeof fake);
    reopen(f);
    f->now = 1000;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    outbox_close(f->o);
    ledger_close(f->l);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
put(struct fx *f, int i)
{
    char topic[64], payload[64];
    snprintf(topic, sizeof topic, "ecmon/p/e/m/pt%d", i % 3);
    int n = snprintf(payload, sizeof payload, "{\"ts\":%d,\"value\":%d}", i, i);
    outbox_publish(f->o, topic, payload, (size_t)n, false);
}

static void
tick(struct fx *f)
{
    f->now += 0.25;
    outbox_tick(f->o, f->now);
}

/* How many readings (not retained) were sent from index `from` on. */
static size_t
readings(size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < fake.nsent; i++)
        n += !fake.sent[i].retain;
    return n;
}

static const struct sent *
reading(size_t from, size_t k)
{
    for (size_t i = from; i < fake.nsent; i++)
        if (!fake.sent[i].retain && k-- == 0)
            return &fake.sent[i];
    return NULL;
}

static int
payload_ts(const struct sent *s)
{
    int ts = -1;
    sscanf(s->payload, "{\"ts\":%d", &ts);
    return ts;
}

static void
ack_all(size_t from)
{
    for (size_t i = from; i < fake.nsent; i++)
        if (!fake.sent[i].retain)
            fake.ack(fake.ack_arg, fake.sent[i].mid);
}

static struct outbox_stats
stats(struct fx *f)
{
    struct outbox_stats st;
    outbox_stats(f->o, &st);
    return st;
}

static const struct sent *
last_status(void)
{
    for (size_t i = fake.nsent; i-- > 0;)
        if (strcmp(fake.sent[i].topic, "ecmon/p/outbox") == 0)
            return &fake.sent[i];
    return NULL;
}

/* ---- tests ---- */

/* Offline: kept, nothing sent; after connecting: sent in order with the
 * original payload; a row leaves only with its acknowledgement. */
static void
test_offline_then_in_order(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 10; i++)
        put(f, i);
    tick(f);
    assert_int_equal(fake.nsent, 0);
    assert_int_equal(stats(f).queued, 10);
    assert_true(isfinite(stats(f).oldest));

    fake.connected = true;
    tick(f);
    assert_int_equal(readings(0), 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(payload_ts(reading(0, (size_t)i)), i);
        assert_int_equal(reading(0, (size_t)i)->qos, 1);
    }
    assert_string_equal(reading(0, 1)->topic, "ecmon/p/e/m/pt1");
    assert_int_equal(stats(f).inflight, 10);
    assert_int_equal(stats(f).queued, 10);
    /* On connecting, the retained state with the backlog. */
    assert_non_null(last_status());
    assert_true(last_status()->retain);

    ack_all(0);
    tick(f);
    assert_int_equal(stats(f).queued, 0);
    assert_int_equal(stats(f).inflight, 0);
    assert_int_equal(stats(f).bytes, 0);
    assert_true(isnan(stats(f).oldest));
    assert_string_equal(last_status()->payload, "{\"queued\":0,\"dropped\":0}");
    /* Nothing is sent twice. */
    size_t before = fake.nsent;
    tick(f);
    assert_int_equal(readings(before), 0);
}

/* A backlog far larger than the writes after it (the pending array grows,
 * then is given back and grows again): every message kept, in order. */
static void
test_backlog_then_small_writes(void **state)
{
    struct fx *f = *state;
    int i, next = 0;

    for (i = 0; i < 20000; i++)
        put(f, i);
    tick(f);
    for (; i < 20010; i++)
        put(f, i);
    tick(f);
    for (; i < 20020; i++)
        put(f, i);
    tick(f);
    assert_int_equal(stats(f).queued, 20020);

    fake.connected = true;
    while (next < 20020) {
        tick(f);
        assert_true(readings(0) > 0);
        for (size_t k = 0; k < readings(0); k++)
            assert_int_equal(payload_ts(reading(0, k)), next++);
        ack_all(0);
        fake.nsent = 0;
    }
    tick(f);
    assert_int_equal(stats(f).queued, 0);
}

/* A restart sends again what was not acknowledged, from the oldest, and
 * new messages after it. */
static void
test_restart_resends_unacked(void **state)
{
    struct fx *f = *state;
    fake.connected = true;
    for (int i = 0; i < 6; i++)
        put(f, i);
    tick(f);
    assert_int_equal(readings(0), 6);
    /* The broker acknowledges the first two only. */
    fake.ack(fake.ack_arg, reading(0, 0)->mid);
    fake.ack(fake.ack_arg, reading(0, 1)->mid);
    tick(f);
    reopen(f);
    assert_int_equal(stats(f).queued, 4);
    size_t from = fake.nsent;
    put(f, 6);
    tick(f);
    assert_int_equal(readings(from), 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(payload_ts(reading(from, (size_t)k)), 2 + k);
    ack_all(from);
    tick(f);
    reopen(f);
    assert_int_equal(stats(f).queued, 0);
}

/* While older messages wait, a new one waits behind them even though the
 * broker is there; no more than the window is unacknowledged. */
static void
test_window_and_order(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 500; i++)
        put(f, i);
    tick(f);
    fake.connected = true;
    tick(f);
    size_t n = readings(0);
    assert_true(n > 0 && n < 500);
    assert_true(n <= MQTTP_MAX_INFLIGHT);
    assert_int_equal(stats(f).inflight, n);
    put(f, 500);
    int expect = 0;
    size_t from = 0;
    for (int rounds = 0; rounds < 100 && expect <= 500; rounds++) {
        size_t k = readings(from);
        for (size_t i = 0; i < k; i++)
            assert_int_equal(payload_ts(reading(from, i)), expect++);
        ack_all(from);
        from = fake.nsent;
        tick(f);
    }
    assert_int_equal(expect, 501);
    assert_int_equal(stats(f).queued, 0);
}

/* Acknowledgements that never come while connected: after a minute the
 * outbox sends the messages again itself. */
static void
test_stalled_acks_resend(void **state)
{
    struct fx *f = *state;
    fake.connected = true;
    for (int i = 0; i < 3; i++)
        put(f, i);
    tick(f);
    assert_int_equal(readings(0), 3);
    size_t from = fake.nsent;
    for (int i = 0; i < 200; i++)
        tick(f); /* 50 s */
    assert_int_equal(readings(from), 0);
    for (int i = 0; i < 60; i++)
        tick(f);
    assert_int_equal(readings(from), 3);
    assert_int_equal(payload_ts(reading(from, 0)), 0);
}

/* QoS 0: the library reports a message as published while it is sent. */
static void
test_qos0(void **state)
{
    struct fx *f = *state;
    f->c.mqtt.qos = 0;
    fake.connected = true;
    for (int i = 0; i < 200; i++)
        put(f, i);
    tick(f);
    tick(f);
    tick(f);
    tick(f);
    assert_int_equal(stats(f).queued, 0);
    assert_int_equal(readings(0), 200);
}

/* Retained state is not kept: sent when connected, else dropped (the
 * caller publishes it again on connecting). */
static void
test_retained_not_queued(void **state)
{
    struct fx *f = *state;
    outbox_publish(f->o, "ecmon/p/e/m/status", "{}", 2, true);
    tick(f);
    assert_int_equal(stats(f).queued, 0);
    assert_int_equal(fake.nsent, 0);
    fake.connected = true;
    outbox_publish(f->o, "ecmon/p/e/m/status", "{}", 2, true);
    assert_int_equal(fake.nsent, 1);
    assert_true(fake.sent[0].retain);
}

static int
count_lines(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    int n = 0;
    assert_non_null(fp);
    while (fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

/* Over max_mb: the oldest go, the newest stay in order; logged once with
 * the count; the count survives a restart and is published. */
static void
test_size_bound_drops_oldest(void **state)
{
    struct fx *f = *state;
    char log[128];
    f->c.outbox.max_mb = 2000.0 / 1048576.0; /* 2000 bytes */
    reopen(f);
    snprintf(log, sizeof log, "%s/stderr", f->dir);
    fflush(stderr);
    int saved = dup(2);
    assert_true(freopen(log, "w", stderr) != NULL);
    for (int i = 0; i < 1000; i++) {
        put(f, i);
        tick(f);
    }
    fflush(stderr);
    struct outbox_stats st = stats(f);
    assert_true(st.bytes <= 2000);
    assert_true(st.queued > 10);
    assert_int_equal(st.dropped + st.queued, 1000);
    /* Once when dropping starts, once with the count when it stopped. */
    for (int i = 0; i < 300; i++)
        tick(f); /* 75 s without new messages */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char line[96];
    snprintf(line, sizeof line, "dropped the %llu oldest messages",
             (unsigned long long)st.dropped);
    assert_int_equal(count_lines(log, "outbox: "), 2);
    assert_int_equal(count_lines(log, "dropping the oldest messages"), 1);
    assert_int_equal(count_lines(log, line), 1);
    assert_int_equal(count_lines(log, "over max_mb = 0.00190735"), 2);

    reopen(f);
    assert_int_equal(stats(f).dropped, st.dropped);
    fake.connected = true;
    tick(f);
    size_t n = readings(0);
    assert_int_equal(n, st.queued);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(payload_ts(reading(0, k)), 1000 - (int)n + (int)k);
    char want[64];
    snprintf(want, sizeof want, "{\"queued\":0,\"dropped\":%llu}",
             (unsigned long long)st.dropped);
    ack_all(0);
    tick(f);
    assert_string_equal(last_status()->payload, want);
}

/* Older than max_age_days: dropped, at start-up too; younger rows stay. */
static void
test_age_bound(void **state)
{
    struct fx *f = *state;
    char err[256];
    double now = real_now();
    outbox_close(f->o);
    f->o = NULL;
    /* Rows an earlier run left: two too old, one young. */
    assert_int_equal(ledger_outbox_put(f->l, 1, now - 40 * 86400.0, "a/b",
                                       "old1", 4, err, sizeof err),
                     0);
    assert_int_equal(ledger_outbox_put(f->l, 2, now - 31 * 86400.0, "a/b",
                                       "old2", 4, err, sizeof err),
                     0);
    assert_int_equal(ledger_outbox_put(f->l, 3, now - 29 * 86400.0, "a/b",
                                       "young", 5, err, sizeof err),
                     0);
    reopen(f);
    assert_int_equal(stats(f).queued, 3);
    put(f, 7);
    tick(f);
    assert_int_equal(stats(f).queued, 2);
    assert_int_equal(stats(f).dropped, 2);
    fake.connected = true;
    tick(f);
    assert_int_equal(fake.nsent, 3); /* young, then #7, then the status */
    assert_string_equal(fake.sent[0].payload, "young");
    assert_int_equal(payload_ts(&fake.sent[1]), 7);
}

/* ---- outbox.hold_ms: what the broker acknowledges in time is never
 * written to ecmond.db ---- */

static int64_t
rows(struct fx *f)
{
    int64_t count, bytes, max_id;
    assert_int_equal(ledger_outbox_totals(f->l, &count, &bytes, &max_id), 0);
    return count;
}

static void
hold(struct fx *f, int ms)
{
    f->c.outbox.hold_ms = ms;
    reopen(f);
    tick(f); /* the outbox's clock is the tests' from now on */
}

/* Sent from memory at once; acknowledged within the hold: no row, ever. */
static void
test_hold_acked_never_written(void **state)
{
    struct fx *f = *state;
    hold(f, 1000);
    fake.connected = true;
    for (int i = 0; i < 10; i++)
        put(f, i);
    tick(f);
    assert_int_equal(readings(0), 10);
    assert_int_equal(rows(f), 0);
    assert_int_equal(stats(f).queued, 10);
    ack_all(0);
    for (int i = 0; i < 8; i++) /* 2 s */
        tick(f);
    assert_int_equal(rows(f), 0);
    assert_int_equal(stats(f).queued, 0);
    assert_int_equal(stats(f).bytes, 0);
    reopen(f);
    assert_int_equal(stats(f).queued, 0);
}

/* Not acknowledged within the hold: written; the late acknowledgement
 * deletes the rows; nothing is sent twice. */
static void
test_hold_late_ack(void **state)
{
    struct fx *f = *state;
    hold(f, 1000);
    fake.connected = true;
    for (int i = 0; i < 3; i++)
        put(f, i);
    tick(f);
    assert_int_equal(readings(0), 3);
    tick(f);
    tick(f); /* 0.75 s after the tick before they came: still held */
    assert_int_equal(rows(f), 0);
    tick(f);
    tick(f);
    assert_int_equal(rows(f), 3);
    assert_int_equal(readings(0), 3);
    ack_all(0);
    tick(f);
    assert_int_equal(rows(f), 0);
    assert_int_equal(stats(f).queued, 0);
    assert_int_equal(readings(0), 3);
}

/* Without a broker the hold is pointless: written at the next tick. After
 * connecting, the table's messages go first, then the held ones, in
 * order. */
static void
test_hold_offline_written_at_once(void **state)
{
    struct fx *f = *state;
    hold(f, 1000);
    for (int i = 0; i < 5; i++)
        put(f, i);
    tick(f);
    assert_int_equal(rows(f), 5);
    fake.connected = true;
    put(f, 5);
    put(f, 6);
    tick(f);
    assert_int_equal(readings(0), 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(payload_ts(reading(0, (size_t)i)), i);
    assert_int_equal(rows(f), 5);
    ack_all(0);
    tick(f);
    assert_int_equal(rows(f), 0);
    assert_int_equal(stats(f).queued, 0);
}

/* A stop writes what is held and not acknowledged; the next run sends it
 * again. */
static void
test_hold_stop_writes(void **state)
{
    struct fx *f = *state;
    hold(f, 60000);
    fake.connected = true;
    for (int i = 0; i < 4; i++)
        put(f, i);
    tick(f);
    fake.ack(fake.ack_arg, reading(0, 0)->mid);
    assert_int_equal(rows(f), 0);
    reopen(f);
    assert_int_equal(rows(f), 3);
    assert_int_equal(stats(f).queued, 3);
    size_t from = fake.nsent;
    tick(f);
    assert_int_equal(readings(from), 3);
    for (int k = 0; k < 3; k++)
        assert_int_equal(payload_ts(reading(from, (size_t)k)), 1 + k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_offline_then_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backlog_then_small_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_resends_unacked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_window_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_acks_resend, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_qos0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retained_not_queued, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_size_bound_drops_oldest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_age_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_acked_never_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hold_late_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_offline_written_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_stop_writes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

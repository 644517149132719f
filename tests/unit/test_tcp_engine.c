/* Tests of the Modbus TCP engine against a gateway in this process that
 * misbehaves on purpose, per unit id: answers too late for the timeout
 * (the late answers must be dropped, not taken for the next meter's),
 * answers in two pieces, a stale frame and the answer in one write, and
 * bytes that are not Modbus TCP (the engine must reconnect). The gateway
 * frames its answers by hand, independently of drivers/mbtcp.c. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "drivers/tcp_engine.h"

#define LATE_MS 300 /* unit 2 answers after this; the timeout is 150 */
#define SPLIT_MS 30 /* unit 3's answer comes in two writes this far apart */
#define MAX_CONNS 8
#define MAX_PENDING 16

struct pending {
    double at;
    size_t len;
    uint8_t b[64];
};

struct conn {
    int fd;
    size_t rxlen;
    uint8_t rx[256];
    struct pending out[MAX_PENDING];
    size_t nout;
};

struct gateway {
    int lfd[2]; /* bus A, bus B */
    atomic_int accepted[2];
    atomic_int stop;
    struct conn conns[MAX_CONNS];
    pthread_t thr;
};

static void
queue_out(struct conn *c, double at, const uint8_t *b, size_t len)
{
    assert_true(c->nout < MAX_PENDING && len <= sizeof c->out[0].b);
    c->out[c->nout].at = at;
    c->out[c->nout].len = len;
    memcpy(c->out[c->nout].b, b, len);
    c->nout++;
}

/* The answer to a request (12 bytes), as the unit's misbehaviour wants. */
static void
answer(struct conn *c, const uint8_t *req, double now)
{
    uint8_t a[64];
    unsigned unit = req[6], fc = req[7];
    unsigned addr = (unsigned)req[8] << 8 | req[9];
    unsigned count = (unsigned)req[10] << 8 | req[11];
    size_t len = 9 + 2 * (size_t)count;

    memcpy(a, req, 4); /* transaction id, protocol id */
    a[4] = 0;
    a[5] = (uint8_t)(3 + 2 * count);
    a[6] = (uint8_t)unit;
    a[7] = (uint8_t)fc;
    a[8] = (uint8_t)(2 * count);
    for (unsigned i = 0; i < count; i++) {
        unsigned v = 100 * unit + addr + i;
        a[9 + 2 * i] = (uint8_t)(v >> 8);
        a[10 + 2 * i] = (uint8_t)v;
    }
    switch (unit) {
    case 2:
        queue_out(c, now + LATE_MS / 1000.0, a, len);
        break;
    case 3:
        queue_out(c, now, a, 5);
        queue_out(c, now + SPLIT_MS / 1000.0, a + 5, len - 5);
        break;
    case 4: {
        /* An answer to an older transaction, then this one's: one write. */
        uint8_t two[128];
        memcpy(two, a, len);
        two[1] = (uint8_t)(two[1] - 1);
        for (unsigned i = 0; i < count; i++)
            two[9 + 2 * i] = 0xde, two[10 + 2 * i] = 0xad;
        memcpy(two + len, a, len);
        queue_out(c, now, two, 2 * len);
        break;
    }
    case 5: {
        static const uint8_t junk[] = {0, 1, 0, 7, 0, 5, 5, 3, 2, 0, 0};
        queue_out(c, now, junk, sizeof junk);
        break;
    }
    default:
        queue_out(c, now, a, len);
    }
}

static void *
gateway_main(void *arg)
{
    struct gateway *g = arg;

    while (!atomic_load(&g->stop)) {
        struct pollfd p[2 + MAX_CONNS];
        double now = mono_now(), next = now + 0.02;
        for (int i = 0; i < 2; i++)
            p[i] = (struct pollfd){g->lfd[i], POLLIN, 0};
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &g->conns[i];
            p[2 + i] = (struct pollfd){c->fd, POLLIN, 0};
            for (size_t k = 0; k < c->nout; k++)
                next = fmin(next, c->out[k].at);
        }
        int ms = (int)ceil((next - now) * 1000);
        poll(p, 2 + MAX_CONNS, ms < 0 ? 0 : ms);
        now = mono_now();
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            int fd = accept(g->lfd[i], NULL, NULL);
            for (int k = 0; fd != -1 && k < MAX_CONNS; k++) {
                if (g->conns[k].fd == -1) {
                    memset(&g->conns[k], 0, sizeof g->conns[k]);
                    g->conns[k].fd = fd;
                    fd = -1;
                }
            }
            if (fd != -1)
                close(fd);
            atomic_fetch_add(&g->accepted[i], 1);
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &g->conns[i];
            if (c->fd == -1)
                continue;
            if (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n =
                    read(c->fd, c->rx + c->rxlen, sizeof c->rx - c->rxlen);
                if (n <= 0) {
                    close(c->fd);
                    c->fd = -1;
                    continue;
                }
                c->rxlen += (size_t)n;
                while (c->rxlen >= 12) {
                    answer(c, c->rx, now);
                    memmove(c->rx, c->rx + 12, c->rxlen - 12);
                    c->rxlen -= 12;
                }
            }
            /* Due writes, in order. */
            size_t k = 0;
            while (k < c->nout) {
                if (c->out[k].at > now) {
                    k++;
                    continue;
                }
                ssize_t w = write(c->fd, c->out[k].b, c->out[k].len);
                (void)w;
                memmove(&c->out[k], &c->out[k + 1],
                        (c->nout - k - 1) * sizeof c->out[0]);
                c->nout--;
            }
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (g->conns[i].fd != -1)
            close(g->conns[i].fd);
    return NULL;
}

static int
listen_any(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Bus a (timeout 150 ms, one retry): units 1 to 4; bus b: unit 5. */
static const char conf_fmt[] =
    "park = { id = \"p\"; timezone = \"UTC\"; };\n"
    "profile_dirs = [];\n"
    "buses = (\n"
    "  { id = \"a\"; tcp = { host = \"127.0.0.1\"; port = %d; };\n"
    "    timeout_ms = 150; retries = 1; },\n"
    "  { id = \"b\"; tcp = { host = \"127.0.0.1\"; port = %d; };\n"
    "    timeout_ms = 150; } );\n"
    "profiles = ( { id = \"two\"; points = (\n"
    "  { name = \"x\"; kind = \"info\"; table = \"holding\"; address = 10;\n"
    "    type = \"uint16\"; },\n"
    "  { name = \"y\"; kind = \"info\"; table = \"holding\"; address = 11;\n"
    "    type = \"uint16\"; } ); } );\n"
    "enterprises = ( { id = \"e\"; meters = (\n"
    "  { id = \"m1\"; bus = \"a\"; slave = 1; profile = \"two\"; interval = "
    "0.5; },\n"
    "  { id = \"m2\"; bus = \"a\"; slave = 2; profile = \"two\"; interval = "
    "0.5; },\n"
    "  { id = \"m3\"; bus = \"a\"; slave = 3; profile = \"two\"; interval = "
    "0.5; },\n"
    "  { id = \"m4\"; bus = \"a\"; slave = 4; profile = \"two\"; interval = "
    "0.5; },\n"
    "  { id = \"m5\"; bus = \"b\"; slave = 5; profile = \"two\"; interval = "
    "0.5; }\n"
    ") } );\n";

static struct conf *
make_conf(int port_a, int port_b)
{
    char text[sizeof conf_fmt + 16];
    struct conf_errors errs = {0};
    snprintf(text, sizeof text, conf_fmt, port_a, port_b);
    struct conf *c = conf_load_string(text, "t.conf", &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    conf_errors_free(&errs);
    return c;
}

static void
test_misbehaving_gateway(void **state)
{
    (void)state;
    struct gateway g = {0};
    int port_a, port_b;
    char err[256];

    g.lfd[0] = listen_any(&port_a);
    g.lfd[1] = listen_any(&port_b);
    for (int i = 0; i < MAX_CONNS; i++)
        g.conns[i].fd = -1;
    assert_int_equal(pthread_create(&g.thr, NULL, gateway_main, &g), 0);
    struct conf *c = make_conf(port_a, port_b);
    assert_non_null(c);
    struct sampleq q;
    assert_int_equal(sampleq_init(&q, 100000), 0);
    struct tcp_engine *e = tcpeng_start(c, &q, err, sizeof err);
    assert_non_null(e);

    /* Until every meter has been polled 5 times (about five slots; a
     * deadline, not a time to wait, so that a busy machine only makes it
     * slower). */
    struct sampleq_buf got = {0}, all = {0};
    struct mpoll_stats st[5];
    double end = mono_now() + 60;
    int wakes = 0, done = 0;
    while (!done && mono_now() < end) {
        struct pollfd p = {q.efd, POLLIN, 0};
        if (poll(&p, 1, 100) == 1) {
            wakes++;
            sampleq_take(&q, &got);
            sampleq_buf_add(&all, got.samples, got.nsamples, NULL);
        }
        done = 1;
        for (int m = 0; m < 5; m++) {
            assert_int_equal(tcpeng_meter_stats(e, m, &st[m]), 0);
            done &= st[m].polls >= 5;
        }
    }
    assert_true(done);
    /* The counters: 2 requests for each poll of the late meter (retries =
     * 1), 1 for the others. */
    for (int m = 0; m < 5; m++)
        assert_int_equal(tcpeng_meter_stats(e, m, &st[m]), 0);
    assert_true(st[0].polls >= 4);
    assert_int_equal(st[0].requests, st[0].polls);
    assert_int_equal(st[0].errors, 0);
    assert_int_equal(st[0].online, 1);
    assert_int_equal(st[1].requests, 2 * st[1].polls);
    assert_int_equal(st[1].errors, st[1].polls);
    assert_int_equal(st[1].online, 0);
    assert_int_equal(st[2].requests, st[2].polls);
    assert_int_equal(st[3].requests, st[3].polls);
    assert_int_equal(st[4].online, 0);
    assert_int_equal(st[4].errors, st[4].polls);

    /* Stops with requests in flight (a hang is ctest's timeout). */
    tcpeng_stop(e);
    sampleq_take(&q, &got);
    sampleq_buf_add(&all, got.samples, got.nsamples, NULL);

    size_t n[5] = {0};
    for (size_t i = 0; i < all.nsamples; i++) {
        const struct sample *s = &all.samples[i];
        unsigned unit = s->meter + 1;
        n[s->meter]++;
        if (unit == 2 || unit == 5) {
            assert_int_equal(s->flag, 'B');
        } else {
            /* Every value is this unit's, never a late or stale one. */
            assert_int_equal(s->flag, 'N');
            assert_true(s->value == 100 * unit + 10 + s->point);
        }
    }
    for (int m = 0; m < 5; m++)
        assert_true(n[m] >= 8); /* 2 points, at least 4 polls each */
    assert_true(wakes < (int)(all.nsamples / 2)); /* batches, not polls */

    sampleq_destroy(&q);
    sampleq_buf_free(&got);
    sampleq_buf_free(&all);
    /* The garbage made the engine reconnect for every poll of bus b; bus
     * a kept its one connection through timeouts and stale answers. */
    assert_true(atomic_load(&g.accepted[1]) >= 4);
    assert_int_equal(atomic_load(&g.accepted[0]), 1);

    atomic_store(&g.stop, 1);
    pthread_join(g.thr, NULL);
    close(g.lfd[0]);
    close(g.lfd[1]);
    conf_free(c);
}

int
main(void)
{
    log_init("test_tcp_engine", 1, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_misbehaving_gateway),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The Modbus TCP engine: one thread, epoll, every TCP bus.
 *
 * Each bus (gateway) has one connection and one transaction in flight at a
 * time: gateways serialize requests to the meters behind them, and a
 * single outstanding request keeps timeout_ms, retries and frame_gap_ms
 * meaning what they mean on a threaded bus. A bus is a small state machine:
 *
 *   DOWN --connect()--> CONNECTING --writable--> IDLE --send--> WAIT
 *                                                 ^   <--answer/timeout--'
 *                                                 '-- GAP (frame_gap_ms)
 *
 * The per-meter side (plan, schedule, flags, counters, state changes) is
 * drivers/meter_poll.c, shared with the RTU worker. Timers (each meter's
 * next slot; each bus's connect or answer deadline or end of frame gap)
 * live in one min-heap, so a wakeup costs O(log n) per timer that fires,
 * never a scan of all buses. A meter whose slot comes while its bus is busy
 * waits in the bus's queue of due meters, in slot order; the schedule
 * counts the slots it misses (never polled in a burst).
 *
 * A late answer to a request that timed out carries an old transaction id
 * and is dropped when it arrives, so a timeout keeps the connection. A
 * timeout with part of a frame received, or bytes that are not Modbus TCP,
 * mean the stream's framing is lost: the connection is closed and opened
 * again at once. A connection that cannot be opened is retried with a
 * backoff of 1 s doubling to 60 s, logged once, and its meters' polls fail
 * (flag B) meanwhile, as on an RTU bus.
 *
 * Sockets are moved to descriptors >= FD_SETSIZE when the limit allows, so
 * that the descriptors below stay free for libraries that wait with
 * select() (libmodbus on the RTU lines). Host names are resolved when a
 * connection is opened, in this thread (a name lookup blocks every bus for
 * its duration: gateways are normally given by address). */
#include "drivers/tcp_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "drivers/mbtcp.h"
#include "drivers/theap.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0
#define MAX_EVENTS 256
/* Timers fire, and finished polls go to the main loop, on a grid of this
 * step: a thousand meters spread over a second then cost 200 wakeups of
 * each thread a second, not a thousand, for at most 5 ms more delay. */
#define TICK_S 0.005

#define container_of(p, type, member)                                          \
    ((type *)(void *)((char *)(p)-offsetof(type, member)))

enum bus_state { BUS_DOWN, BUS_CONNECTING, BUS_IDLE, BUS_GAP, BUS_WAIT };

struct tbus;

struct tmeter {
    struct mpoll mp;
    struct tbus *bus;
    struct theap_node slot; /* its next slot, while not due */
    struct tmeter *next_due;
};

struct tbus {
    const struct conf_bus *cb;
    int fd;
    enum bus_state state;
    struct tmeter *cur;            /* the meter being polled */
    struct tmeter *due, *due_tail; /* waiting for the bus, in slot order */
    struct theap_node deadline;    /* CONNECTING, GAP, WAIT */
    struct mbtcp_req req;          /* WAIT: the request in flight */
    uint16_t tid;
    double next_connect, backoff;
    double last_tx; /* monotonic end of the last transaction */
    bool logged_down;
    struct addrinfo *addrs, *ai; /* resolved; the address being tried */
    char connerr[120];           /* why the last connect failed */
    size_t rxlen;
    uint8_t rx[MBTCP_ADU_MAX];
};

struct tcp_engine {
    const struct conf *conf;
    struct sampleq *q;
    struct tbus *buses;
    size_t nbuses;
    struct tmeter *meters;
    size_t nmeters;
    struct tmeter **by_meter; /* conf meter index -> its tmeter or NULL */
    struct theap timers;
    int epfd, wakefd;
    struct sampleq_buf batch; /* polls ended since the last hand-over */
    double flush_at;          /* when to hand the batch over */
    uint16_t regs[MBTCP_MAX_REGS];
    atomic_int stop;
    bool started;
    pthread_t thr;
    pthread_mutex_t mtx; /* guards every mpoll.st */
};

static void bus_step(struct tcp_engine *e, struct tbus *b, double now);

/* The first tick of the grid at or after t. */
static double
tick_after(double t)
{
    double tick = ceil(t / TICK_S) * TICK_S;
    return tick < t ? t : tick;
}

/* A heap node is either a meter's slot or a bus's deadline. */
static bool
is_slot(const struct tcp_engine *e, const struct theap_node *n)
{
    uintptr_t p = (uintptr_t)n;
    return p >= (uintptr_t)e->meters && p < (uintptr_t)(e->meters + e->nmeters);
}

static void
bus_close(struct tcp_engine *e, struct tbus *b)
{
    if (b->fd != -1)
        close(b->fd); /* also leaves the epoll set */
    b->fd = -1;
    b->state = BUS_DOWN;
    b->rxlen = 0;
    theap_del(&e->timers, &b->deadline);
}

static void
forget_addrs(struct tbus *b)
{
    if (b->addrs)
        freeaddrinfo(b->addrs);
    b->addrs = b->ai = NULL;
}

/* The poll of b->cur is over: hand its samples over, schedule its next
 * slot. */
static void
finish_poll(struct tcp_engine *e, struct tbus *b, bool ok, double now)
{
    struct tmeter *m = b->cur;
    struct meter_event ev;

    b->cur = NULL;
    pthread_mutex_lock(&e->mtx);
    bool changed = mpoll_end(&m->mp, ok, now, real_now(), &ev);
    pthread_mutex_unlock(&e->mtx);
    const struct meter_event *evp = changed ? &ev : NULL;
    if (e->batch.nsamples == 0 && e->batch.nevents == 0)
        e->flush_at = tick_after(now);
    if (sampleq_buf_add(&e->batch, m->mp.out, m->mp.prof->npoints, evp) == -1)
        sampleq_push(e->q, m->mp.out, m->mp.prof->npoints, evp);
    mpoll_announce(&m->mp, ok, evp);
    theap_set(&e->timers, &m->slot, m->mp.sched.next);
}

/* The outcome of the request in flight (or of the one that could not be
 * sent). */
static void
deliver(struct tcp_engine *e, struct tbus *b, enum mblink_status st, int exc,
        const char *why, double now)
{
    b->last_tx = now;
    if (st == MBL_IO) {
        bus_close(e, b);
        b->next_connect = now; /* reconnect at once */
    }
    if (b->cur == NULL)
        return;
    if (mpoll_answer(&b->cur->mp, st, exc, e->regs, why) == -1)
        finish_poll(e, b, false, now);
    else
        bus_step(e, b, now);
}

/* The connection broke. A request in flight fails (MBL_IO); a poll waiting
 * for its frame gap goes on over a new connection. */
static void
bus_lost(struct tcp_engine *e, struct tbus *b, const char *why, double now)
{
    bool in_flight = b->state == BUS_WAIT;
    bus_close(e, b);
    b->next_connect = now;
    if (in_flight)
        deliver(e, b, MBL_IO, 0, why, now);
    else if (b->cur)
        bus_step(e, b, now);
}

static void
connect_failed(struct tcp_engine *e, struct tbus *b, double now)
{
    if (!b->logged_down)
        log_warnx("bus %s: cannot connect: %s", b->cb->id, b->connerr);
    b->logged_down = true;
    b->next_connect = now + b->backoff;
    b->backoff = fmin(b->backoff * 2, BACKOFF_MAX);
    bus_close(e, b);
    forget_addrs(b); /* resolve again next time */
    if (b->cur) {
        char why[320];
        snprintf(why, sizeof why, "bus %s: %s", b->cb->id, b->connerr);
        mpoll_fail(&b->cur->mp, why);
        finish_poll(e, b, false, now);
    }
}

/* Leave the descriptors below FD_SETSIZE to select() users if the limit
 * lets us. */
static int
move_high(int fd)
{
    if (fd >= FD_SETSIZE)
        return fd;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
    if (hi == -1)
        return fd;
    close(fd);
    return hi;
}

/* Start connecting to b->ai or the addresses after it. */
static void
try_connect(struct tcp_engine *e, struct tbus *b, double now)
{
    for (; b->ai != NULL; b->ai = b->ai->ai_next) {
        int fd = socket(b->ai->ai_family,
                        b->ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        b->ai->ai_protocol);
        if (fd == -1) {
            snprintf(b->connerr, sizeof b->connerr, "socket: %s",
                     strerror(errno));
            continue;
        }
        fd = move_high(fd);
        if (connect(fd, b->ai->ai_addr, b->ai->ai_addrlen) == -1 &&
            errno != EINPROGRESS) {
            snprintf(b->connerr, sizeof b->connerr, "%s", strerror(errno));
            close(fd);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = b};
        if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
            snprintf(b->connerr, sizeof b->connerr, "epoll: %s",
                     strerror(errno));
            close(fd);
            continue;
        }
        b->fd = fd;
        b->state = BUS_CONNECTING;
        theap_set(&e->timers, &b->deadline, now + b->cb->timeout_ms / 1000.0);
        return;
    }
    connect_failed(e, b, now);
}

static void
start_connect(struct tcp_engine *e, struct tbus *b, double now)
{
    if (b->addrs == NULL) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_NUMERICSERV};
        char port[8];
        snprintf(port, sizeof port, "%d", b->cb->port);
        int rc = getaddrinfo(b->cb->host, port, &hints, &b->addrs);
        if (rc != 0) {
            b->addrs = NULL;
            snprintf(b->connerr, sizeof b->connerr, "%s: %s", b->cb->host,
                     gai_strerror(rc));
            connect_failed(e, b, now);
            return;
        }
    }
    snprintf(b->connerr, sizeof b->connerr, "no address");
    b->ai = b->addrs;
    try_connect(e, b, now);
}

/* CONNECTING and the socket is writable (or failed). */
static void
connect_done(struct tcp_engine *e, struct tbus *b, double now)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
        soerr = errno;
    if (soerr != 0) {
        snprintf(b->connerr, sizeof b->connerr, "%s", strerror(soerr));
        bus_close(e, b);
        b->ai = b->ai->ai_next;
        try_connect(e, b, now);
        return;
    }
    int one = 1;
    setsockopt(b->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = b};
    epoll_ctl(e->epfd, EPOLL_CTL_MOD, b->fd, &ev);
    theap_del(&e->timers, &b->deadline);
    if (b->logged_down)
        log_info("bus %s: connected", b->cb->id);
    b->logged_down = false;
    b->backoff = BACKOFF_MIN;
    b->state = BUS_IDLE;
    b->rxlen = 0;
    if (b->cur)
        bus_step(e, b, now);
}

static void
send_request(struct tcp_engine *e, struct tbus *b, const struct plan_req *r,
             double now)
{
    uint8_t out[MBTCP_REQ_LEN];
    mbtcp_encode_read(out, &b->req, ++b->tid, (uint8_t)b->cur->mp.cm->slave,
                      r->table, r->addr, r->count);
    ssize_t n = send(b->fd, out, sizeof out, MSG_NOSIGNAL);
    if (n != (ssize_t)sizeof out) {
        /* 12 bytes into an empty send buffer: short only if the gateway
         * stopped reading long ago. */
        char why[160];
        snprintf(why, sizeof why, "send: %s",
                 n == -1 ? strerror(errno) : "the gateway does not read");
        deliver(e, b, MBL_IO, 0, why, now);
        return;
    }
    b->state = BUS_WAIT;
    theap_set(&e->timers, &b->deadline, now + b->cb->timeout_ms / 1000.0);
}

/* Move the poll under way on: the next request, after connecting or a
 * frame gap if need be, or the end of the poll. */
static void
bus_step(struct tcp_engine *e, struct tbus *b, double now)
{
    const struct plan_req *r = mpoll_next(&b->cur->mp);
    if (r == NULL) {
        finish_poll(e, b, true, now);
        return;
    }
    switch (b->state) {
    case BUS_DOWN:
        if (now < b->next_connect) {
            char why[160];
            snprintf(why, sizeof why,
                     "bus %s not connected (next try in %.0f s)", b->cb->id,
                     b->next_connect - now);
            mpoll_fail(&b->cur->mp, why);
            finish_poll(e, b, false, now);
        } else {
            start_connect(e, b, now);
        }
        return;
    case BUS_IDLE: {
        double gap_end = b->last_tx + b->cb->frame_gap_ms / 1000.0;
        if (b->cb->frame_gap_ms > 0 && now < gap_end) {
            b->state = BUS_GAP;
            theap_set(&e->timers, &b->deadline, gap_end);
        } else {
            send_request(e, b, r, now);
        }
        return;
    }
    case BUS_CONNECTING:
    case BUS_GAP:
    case BUS_WAIT:
        return; /* their event moves the poll on */
    }
}

/* Start the polls of the meters waiting for b while it is free. */
static void
bus_kick(struct tcp_engine *e, struct tbus *b, double now)
{
    while (b->cur == NULL && b->due != NULL) {
        struct tmeter *m = b->due;
        b->due = m->next_due;
        if (b->due == NULL)
            b->due_tail = NULL;
        b->cur = m;
        mpoll_begin(&m->mp, now, real_now());
        bus_step(e, b, now);
    }
}

/* Frames in b->rx: answers, stale answers, garbage. Returns -1 when the
 * connection was closed. */
static int
parse_rx(struct tcp_engine *e, struct tbus *b, double now)
{
    for (;;) {
        char why[160];
        size_t used;
        int exc;
        const struct mbtcp_req *expect = b->state == BUS_WAIT ? &b->req : NULL;
        enum mbtcp_result r = mbtcp_parse(b->rx, b->rxlen, expect, e->regs,
                                          &exc, &used, why, sizeof why);
        if (r == MBTCP_MORE)
            return 0;
        if (r == MBTCP_DESYNC) {
            bus_lost(e, b, why, now);
            return -1;
        }
        memmove(b->rx, b->rx + used, b->rxlen - used);
        b->rxlen -= used;
        if (r == MBTCP_STALE)
            continue;
        theap_del(&e->timers, &b->deadline);
        b->state = BUS_IDLE;
        enum mblink_status st = r == MBTCP_ANSWER      ? MBL_OK
                                : r == MBTCP_EXCEPTION ? MBL_EXCEPTION
                                                       : MBL_BADFRAME;
        deliver(e, b, st, exc, why, now);
        if (b->fd == -1)
            return -1;
    }
}

static void
bus_read(struct tcp_engine *e, struct tbus *b, double now)
{
    /* One read per readiness: an answer fits; more wakes us again. */
    ssize_t n = recv(b->fd, b->rx + b->rxlen, sizeof b->rx - b->rxlen, 0);
    if (n > 0) {
        b->rxlen += (size_t)n;
        parse_rx(e, b, now);
        return;
    }
    if (n == -1 && (errno == EAGAIN || errno == EINTR))
        return;
    bus_lost(e, b,
             n == 0 ? "connection closed by the gateway" : strerror(errno),
             now);
}

static void
bus_io(struct tcp_engine *e, struct tbus *b, uint32_t events, double now)
{
    if (b->fd == -1)
        return;
    if (b->state == BUS_CONNECTING)
        connect_done(e, b, now);
    else if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        bus_read(e, b, now);
    bus_kick(e, b, now);
}

static void
bus_deadline(struct tcp_engine *e, struct tbus *b, double now)
{
    char why[160];
    switch (b->state) {
    case BUS_CONNECTING:
        snprintf(b->connerr, sizeof b->connerr, "connection timed out");
        bus_close(e, b);
        b->ai = b->ai->ai_next;
        try_connect(e, b, now);
        break;
    case BUS_GAP:
        b->state = BUS_IDLE;
        bus_step(e, b, now);
        break;
    case BUS_WAIT:
        if (b->rxlen > 0) {
            snprintf(why, sizeof why,
                     "%zu bytes of an answer in %d ms; reconnecting", b->rxlen,
                     b->cb->timeout_ms);
            bus_lost(e, b, why, now);
        } else {
            snprintf(why, sizeof why, "no answer in %d ms", b->cb->timeout_ms);
            b->state = BUS_IDLE;
            deliver(e, b, MBL_TIMEOUT, 0, why, now);
        }
        break;
    case BUS_DOWN:
    case BUS_IDLE:
        break;
    }
    bus_kick(e, b, now);
}

static void
meter_due(struct tcp_engine *e, struct tmeter *m, double now)
{
    struct tbus *b = m->bus;
    m->next_due = NULL;
    if (b->due_tail)
        b->due_tail->next_due = m;
    else
        b->due = m;
    b->due_tail = m;
    bus_kick(e, b, now);
}

static void
run_timers(struct tcp_engine *e, double now)
{
    struct theap_node *t;
    while ((t = theap_top(&e->timers)) != NULL && t->at <= now) {
        theap_del(&e->timers, t);
        if (is_slot(e, t))
            meter_due(e, container_of(t, struct tmeter, slot), now);
        else
            bus_deadline(e, container_of(t, struct tbus, deadline), now);
    }
}

/* Milliseconds until the tick of the next timer or of the batch's hand-over,
 * rounded up so as not to wake early; -1 if there is neither. */
static int
wait_ms(const struct tcp_engine *e, double now)
{
    const struct theap_node *t = theap_top(&e->timers);
    double until = t ? tick_after(t->at) : INFINITY;
    if (e->batch.nsamples || e->batch.nevents)
        until = fmin(until, e->flush_at);
    if (until == INFINITY)
        return -1;
    double ms = ceil((until - now) * 1000.0);
    return ms <= 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static void *
engine_main(void *arg)
{
    struct tcp_engine *e = arg;
    struct epoll_event evs[MAX_EVENTS];

    while (!atomic_load(&e->stop)) {
        double now = mono_now();
        run_timers(e, now);
        if (now >= e->flush_at)
            sampleq_push_batch(e->q, &e->batch);
        int n = epoll_wait(e->epfd, evs, MAX_EVENTS, wait_ms(e, mono_now()));
        if (n == -1 && errno != EINTR) {
            log_warn("tcp engine: epoll_wait"); /* EBADF/EINVAL: a bug */
            break;
        }
        now = mono_now();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                uint64_t v;
                ssize_t r = read(e->wakefd, &v, sizeof v);
                (void)r;
                continue;
            }
            bus_io(e, evs[i].data.ptr, evs[i].events, now);
        }
    }
    sampleq_push_batch(e->q, &e->batch);
    for (size_t i = 0; i < e->nbuses; i++)
        bus_close(e, &e->buses[i]);
    return NULL;
}

static void
free_engine(struct tcp_engine *e)
{
    for (size_t i = 0; i < e->nmeters; i++)
        mpoll_free(&e->meters[i].mp);
    for (size_t i = 0; i < e->nbuses; i++) {
        if (e->buses[i].fd != -1)
            close(e->buses[i].fd);
        forget_addrs(&e->buses[i]);
    }
    free(e->meters);
    free(e->buses);
    free(e->by_meter);
    theap_free(&e->timers);
    sampleq_buf_free(&e->batch);
    if (e->epfd != -1)
        close(e->epfd);
    if (e->wakefd != -1)
        close(e->wakefd);
    pthread_mutex_destroy(&e->mtx);
    free(e);
}

/* Buses and meters, every slot timer queued. */
static int
setup(struct tcp_engine *e)
{
    const struct conf *c = e->conf;
    struct tbus **bus_of = calloc(c->nbuses ? c->nbuses : 1, sizeof *bus_of);
    e->by_meter = calloc(c->nmeters ? c->nmeters : 1, sizeof *e->by_meter);
    if (bus_of == NULL || e->by_meter == NULL)
        goto oom;
    for (size_t i = 0; i < c->nbuses; i++)
        e->nbuses += c->buses[i].kind == BUS_TCP;
    for (size_t i = 0; i < c->nmeters; i++)
        e->nmeters += c->buses[c->meters[i].bus].kind == BUS_TCP;
    e->buses = calloc(e->nbuses ? e->nbuses : 1, sizeof *e->buses);
    e->meters = calloc(e->nmeters ? e->nmeters : 1, sizeof *e->meters);
    if (e->buses == NULL || e->meters == NULL ||
        theap_init(&e->timers, e->nbuses + e->nmeters) == -1)
        goto oom;
    size_t k = 0;
    for (size_t i = 0; i < c->nbuses; i++) {
        if (c->buses[i].kind != BUS_TCP)
            continue;
        struct tbus *b = &e->buses[k++];
        b->cb = &c->buses[i];
        b->fd = -1;
        b->backoff = BACKOFF_MIN;
        bus_of[i] = b;
    }
    double mono = mono_now();
    double clock_off = real_now() - mono;
    k = 0;
    for (size_t i = 0; i < c->nmeters; i++) {
        struct tbus *b = bus_of[c->meters[i].bus];
        if (b == NULL)
            continue;
        struct tmeter *m = &e->meters[k++];
        m->bus = b;
        e->by_meter[i] = m;
        if (mpoll_init(&m->mp, c, (int)i, mono, clock_off) == -1)
            goto oom;
    }
    for (size_t i = 0; i < e->nmeters; i++)
        theap_set(&e->timers, &e->meters[i].slot, e->meters[i].mp.sched.next);
    free(bus_of);
    return 0;
oom:
    free(bus_of);
    return -1;
}

struct tcp_engine *
tcpeng_start(const struct conf *conf, struct sampleq *q, char *err,
             size_t errlen)
{
    struct tcp_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->conf = conf;
    e->q = q;
    e->epfd = e->wakefd = -1;
    pthread_mutex_init(&e->mtx, NULL);
    atomic_init(&e->stop, 0);
    if (setup(e) == -1) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    e->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (e->epfd == -1 || e->wakefd == -1 ||
        epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->wakefd, &ev) == -1) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        goto fail;
    }

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&e->thr, NULL, engine_main, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    e->started = true;
    return e;
fail:
    free_engine(e);
    return NULL;
}

void
tcpeng_request_stop(struct tcp_engine *e)
{
    if (e == NULL)
        return;
    atomic_store(&e->stop, 1);
    uint64_t one = 1;
    ssize_t r = write(e->wakefd, &one, sizeof one);
    (void)r;
}

void
tcpeng_stop(struct tcp_engine *e)
{
    if (e == NULL)
        return;
    tcpeng_request_stop(e);
    if (e->started)
        pthread_join(e->thr, NULL);
    free_engine(e);
}

int
tcpeng_meter_stats(struct tcp_engine *e, int meter, struct mpoll_stats *out)
{
    if (meter < 0 || (size_t)meter >= e->conf->nmeters ||
        e->by_meter[meter] == NULL)
        return -1;
    pthread_mutex_lock(&e->mtx);
    *out = e->by_meter[meter]->mp.st;
    pthread_mutex_unlock(&e->mtx);
    return 0;
}

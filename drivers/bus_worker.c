/* A bus worker: one thread per RTU bus, polling its meters on a fixed-rate
 * schedule, one transaction at a time, and handing samples to the main loop.
 * What a poll does with each answer is drivers/meter_poll.c's. */
#include "drivers/bus_worker.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "drivers/modbus_link.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0

struct bus_worker {
    const struct conf *conf;
    const struct conf_bus *bus;
    struct mblink *link;
    struct sampleq *q;
    struct mpoll *meters;
    size_t nmeters;
    double next_connect;
    double backoff;
    double last_tx; /* monotonic end of the last transaction */
    int link_logged_down;

    pthread_t thr;
    pthread_mutex_t mtx; /* guards stop and every mpoll.st */
    pthread_cond_t cond;
    int stop;
};

/* poll_meter: the worker was asked to stop before the poll was done. */
#define POLL_STOPPED (-2)

static int
stopping(struct bus_worker *w)
{
    pthread_mutex_lock(&w->mtx);
    int stop = w->stop;
    pthread_mutex_unlock(&w->mtx);
    return stop;
}

/* Sleep until monotonic time `until` or a stop request. Returns 1 on stop. */
static int
wait_until(struct bus_worker *w, double until)
{
    struct timespec ts;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&w->mtx);
    while (!w->stop) {
        if (pthread_cond_timedwait(&w->cond, &w->mtx, &ts) == ETIMEDOUT)
            break;
    }
    int stop = w->stop;
    pthread_mutex_unlock(&w->mtx);
    return stop;
}

static int
ensure_link(struct bus_worker *w, char *err, size_t errlen)
{
    if (mblink_connected(w->link))
        return 0;
    double now = mono_now();
    if (now < w->next_connect) {
        snprintf(err, errlen, "bus %s not connected (next try in %.0f s)",
                 w->bus->id, w->next_connect - now);
        return -1;
    }
    char why[160];
    if (mblink_connect(w->link, why, sizeof why) == -1) {
        if (!w->link_logged_down)
            log_warnx("bus %s: cannot connect: %s", w->bus->id, why);
        w->link_logged_down = 1;
        w->next_connect = now + w->backoff;
        w->backoff = fmin(w->backoff * 2, BACKOFF_MAX);
        snprintf(err, errlen, "bus %s: %s", w->bus->id, why);
        return -1;
    }
    if (w->link_logged_down)
        log_info("bus %s: connected", w->bus->id);
    w->link_logged_down = 0;
    w->backoff = BACKOFF_MIN;
    return 0;
}

/* Keep frame_gap_ms of silence between the end of one transaction and the
 * start of the next, whichever meter they are for. */
static void
frame_gap(struct bus_worker *w)
{
    if (w->bus->frame_gap_ms <= 0)
        return;
    double wait = w->last_tx + w->bus->frame_gap_ms / 1000.0 - mono_now();
    if (wait > 0) {
        struct timespec ts = {(time_t)wait,
                              (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* One poll of one meter. Returns 0 when the device answered, -1 (the
 * reason in m->err) when it could not be reached, or POLL_STOPPED when a
 * stop was requested between two transactions. */
static int
poll_meter(struct bus_worker *w, struct mpoll *m)
{
    uint16_t regs[PLAN_MAX_REGS];
    const struct plan_req *r;
    char why[320];

    if (ensure_link(w, why, sizeof why) == -1)
        return mpoll_fail(m, why);
    while ((r = mpoll_next(m)) != NULL) {
        int exc = 0;
        if (stopping(w))
            return POLL_STOPPED;
        frame_gap(w);
        enum mblink_status st =
            mblink_read(w->link, m->cm->slave, r->table, r->addr, r->count,
                        regs, &exc, why, sizeof why);
        w->last_tx = mono_now();
        if (st == MBL_IO)
            w->next_connect = w->last_tx; /* reconnect at once */
        if (mpoll_answer(m, st, exc, regs, why) == -1)
            return -1;
    }
    return 0;
}

static void *
worker_main(void *arg)
{
    struct bus_worker *w = arg;

    for (;;) {
        struct mpoll *due = NULL;
        for (size_t i = 0; i < w->nmeters; i++)
            if (due == NULL || w->meters[i].sched.next < due->sched.next)
                due = &w->meters[i];
        if (due == NULL || wait_until(w, due->sched.next))
            break;

        /* Read the wall clock now: it may have been stepped since start
         * (NTP on a gateway without RTC). */
        mpoll_begin(due, mono_now(), real_now());
        int rc = poll_meter(w, due);
        if (rc == POLL_STOPPED)
            break;
        struct meter_event ev;
        pthread_mutex_lock(&w->mtx);
        bool changed = mpoll_end(due, rc == 0, mono_now(), real_now(), &ev);
        pthread_mutex_unlock(&w->mtx);
        sampleq_push(w->q, due->out, due->prof->npoints, changed ? &ev : NULL);
        mpoll_announce(due, rc == 0, changed ? &ev : NULL);
    }
    mblink_close(w->link);
    return NULL;
}

static void
free_worker(struct bus_worker *w)
{
    for (size_t i = 0; i < w->nmeters; i++)
        mpoll_free(&w->meters[i]);
    free(w->meters);
    mblink_free(w->link);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mtx);
    free(w);
}

struct bus_worker *
busw_start(const struct conf *conf, int bus, struct sampleq *q, char *err,
           size_t errlen)
{
    struct bus_worker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mtx, NULL);
    w->conf = conf;
    w->bus = &conf->buses[bus];
    w->q = q;
    w->backoff = BACKOFF_MIN;
    w->link = mblink_new(w->bus, err, errlen);
    if (w->link == NULL)
        goto fail;

    for (size_t i = 0; i < conf->nmeters; i++)
        if (conf->meters[i].bus == bus)
            w->nmeters++;
    w->meters = calloc(w->nmeters ? w->nmeters : 1, sizeof *w->meters);
    if (w->meters == NULL)
        goto oom;
    double mono = mono_now();
    double clock_off = real_now() - mono;
    size_t k = 0;
    for (size_t i = 0; i < conf->nmeters; i++) {
        if (conf->meters[i].bus != bus)
            continue;
        if (mpoll_init(&w->meters[k++], conf, (int)i, mono, clock_off) == -1)
            goto oom;
    }

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&w->thr, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    return w;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free_worker(w);
    return NULL;
}

void
busw_request_stop(struct bus_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mtx);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mtx);
}

void
busw_stop(struct bus_worker *w)
{
    if (w == NULL)
        return;
    busw_request_stop(w);
    pthread_join(w->thr, NULL);
    free_worker(w);
}

int
busw_meter_stats(struct bus_worker *w, int meter, struct mpoll_stats *out)
{
    for (size_t i = 0; i < w->nmeters; i++) {
        if (w->meters[i].meter != meter)
            continue;
        pthread_mutex_lock(&w->mtx);
        *out = w->meters[i].st;
        pthread_mutex_unlock(&w->mtx);
        return 0;
    }
    return -1;
}

/* A bus worker: one thread per bus, polling its meters on a fixed-rate
 * schedule, one transaction at a time, and handing samples to the main loop. */
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
#include "drivers/decode.h"
#include "drivers/faultlog.h"
#include "drivers/modbus_link.h"
#include "drivers/plan.h"
#include "drivers/schedule.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0
#define DEAD_RETRY_S 3600.0
#define LATE_TOLERANCE_S 0.5

struct bus_meter {
    int meter; /* index into conf->meters */
    const struct conf_meter *cm;
    const struct conf_profile *prof;
    struct plan plan;
    struct sched sched;
    struct busw_meter_stats st;
    struct sample *out;   /* one per point, reused every poll */
    bool *dead_reported;  /* per point: its rejection was logged */
    struct faultlog flog; /* device faults and ranges, reported once */
    double dead_retry_at;
};

struct bus_worker {
    const struct conf *conf;
    const struct conf_bus *bus;
    struct mblink *link;
    struct sampleq *q;
    struct bus_meter *meters;
    size_t nmeters;
    double clock_off; /* realtime - monotonic at start: the slots' phase */
    double next_connect;
    double backoff;
    double last_tx; /* monotonic end of the last transaction */
    int link_logged_down;

    pthread_t thr;
    pthread_mutex_t mtx; /* guards stop and every bus_meter.st */
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

static void
set_state(struct bus_worker *w, struct bus_meter *m, int online,
          const char *reason)
{
    struct meter_event ev = {0};
    int changed;

    pthread_mutex_lock(&w->mtx);
    changed = m->st.online != online;
    m->st.online = online;
    ev.errors = m->st.errors;
    ev.last_ok = m->st.last_ok;
    pthread_mutex_unlock(&w->mtx);
    if (!changed)
        return;
    if (online)
        log_info("meter %s: online", m->cm->id);
    else
        log_warnx("meter %s: offline: %s", m->cm->id, reason);
    ev.ts = real_now();
    ev.meter = (uint32_t)m->meter;
    ev.online = online;
    snprintf(ev.reason, sizeof ev.reason, "%s", online ? "" : reason);
    sampleq_push(w->q, NULL, 0, &ev);
}

static void
log_fault(void *arg, bool warn, const char *line)
{
    (void)arg;
    if (warn)
        log_warnx("%s", line);
    else
        log_info("%s", line);
}

static int
ensure_link(struct bus_worker *w, char *err, size_t errlen)
{
    if (w->link->connected)
        return 0;
    double now = mono_now();
    if (now < w->next_connect) {
        snprintf(err, errlen, "bus %s not connected (next try in %.0f s)",
                 w->bus->id, w->next_connect - now);
        return -1;
    }
    char why[160];
    if (w->link->ops->connect(w->link, why, sizeof why) == -1) {
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

static void
fill_points(struct bus_meter *m, const struct plan_req *r, const uint16_t *regs,
            double ts)
{
    for (unsigned j = 0; j < r->npoints; j++) {
        uint16_t pi = m->plan.idx[r->first + j];
        const struct conf_point *p = &m->prof->points[pi];
        struct sample *s = &m->out[pi];
        double v;
        s->ts = ts;
        enum decode_status st = decode_point(p, regs + (p->address - r->addr),
                                             m->cm->ct, m->cm->pt, &v);
        if (st != DECODE_OK) {
            s->value = NAN;
            s->flag = FLAG_DEVICE;
            faultlog_set(&m->flog, pi,
                         st == DECODE_NAN ? FAULTLOG_NAN : FAULTLOG_BADFRAC, 0,
                         v);
        } else {
            if (m->dead_reported[pi]) {
                log_info("meter %s: point %s is read again", m->cm->id,
                         p->name);
                m->dead_reported[pi] = false;
            }
            s->value = v;
            s->flag = FLAG_NORMAL;
            if ((p->has_min && v < p->min) || (p->has_max && v > p->max))
                s->flag = FLAG_OVERRANGE;
            faultlog_set(&m->flog, pi,
                         s->flag == FLAG_NORMAL ? FAULTLOG_NORMAL
                                                : FAULTLOG_RANGE,
                         0, v);
        }
    }
}

static void
flag_points(struct bus_meter *m, const struct plan_req *r, double ts, char flag)
{
    for (unsigned j = 0; j < r->npoints; j++) {
        struct sample *s = &m->out[m->plan.idx[r->first + j]];
        s->ts = ts;
        s->value = NAN;
        s->flag = flag;
    }
}

/* What one poll cost, added to the meter's counters with the poll itself. */
struct poll_counts {
    uint64_t requests, exceptions;
};

/* One poll of one meter. Returns 0 when the device answered, -1 with the
 * reason in err when it could not be reached, or POLL_STOPPED when a stop
 * was requested between two transactions. Counts its requests in pc. */
static int
poll_meter(struct bus_worker *w, struct bus_meter *m, double ts,
           struct poll_counts *pc, char *err, size_t errlen)
{
    uint16_t regs[PLAN_MAX_REGS];
    uint64_t requests = 0, exceptions = 0;
    int rc = 0;

    if (ensure_link(w, err, errlen) == -1)
        return -1;
    for (size_t i = 0; i < m->plan.nreqs && rc == 0; i++) {
        struct plan_req *r = &m->plan.reqs[i];
        if (r->dead) {
            flag_points(m, r, ts, FLAG_DEVICE);
            continue;
        }
        for (int attempt = 0;; attempt++) {
            int exc = 0;
            char why[160];
            if (stopping(w)) {
                rc = POLL_STOPPED;
                break;
            }
            frame_gap(w);
            requests++;
            enum mblink_status st =
                w->link->ops->read(w->link, m->cm->slave, r->table, r->addr,
                                   r->count, regs, &exc, why, sizeof why);
            w->last_tx = mono_now();
            if (st == MBL_OK) {
                r->fails = 0;
                fill_points(m, r, regs, ts);
                break;
            }
            if (st == MBL_EXCEPTION && (exc == 10 || exc == 11)) {
                /* A gateway answered for a meter it cannot reach: the meter
                 * itself did not answer, as after a timeout. */
                exceptions++;
                st = MBL_TIMEOUT;
            }
            if (st == MBL_EXCEPTION) {
                exceptions++;
                if (exc == 2 || exc == 3) {
                    /* The device rejects this block: read it in smaller
                     * parts from now on, starting with this poll. */
                    uint16_t addr = r->addr, count = r->count,
                             npoints = r->npoints;
                    int n = plan_split(&m->plan, i);
                    if (n > 0) {
                        /* A point revived by plan_retry_dead and rejected
                         * again was reported already: say nothing. */
                        if (npoints > 1)
                            log_info("meter %s: %s at %u+%u; splitting the "
                                     "request",
                                     m->cm->id, why, addr, count);
                        r = &m->plan.reqs[i];
                        if (r->dead) {
                            uint16_t pi = m->plan.idx[r->first];
                            if (!m->dead_reported[pi])
                                log_warnx("meter %s: point %s rejected by "
                                          "the device; retrying it hourly",
                                          m->cm->id, m->prof->points[pi].name);
                            m->dead_reported[pi] = true;
                            flag_points(m, r, ts, FLAG_DEVICE);
                            break;
                        }
                        continue;
                    }
                }
                flag_points(m, r, ts, FLAG_DEVICE);
                for (unsigned j = 0; j < r->npoints; j++)
                    faultlog_set(&m->flog, m->plan.idx[r->first + j],
                                 FAULTLOG_EXCEPTION, exc, NAN);
                break;
            }
            if (st == MBL_IO || attempt >= w->bus->retries) {
                snprintf(err, errlen, "%s", why);
                if (st == MBL_IO)
                    w->next_connect = mono_now(); /* reconnect at once */
                rc = -1;
                break;
            }
        }
    }
    pc->requests = requests;
    pc->exceptions = exceptions;
    return rc;
}

/* Add a finished poll to the meter's counters; w->mtx held. All of them
 * move together, so a snapshot never shows the requests of a poll without
 * the poll (requests / polls is what `ecmonctl meters` reports). */
static void
count_poll(struct bus_meter *m, const struct poll_counts *pc, int rc, double ts)
{
    m->st.requests += pc->requests;
    m->st.exceptions += pc->exceptions;
    m->st.nreqs = (unsigned)m->plan.nreqs;
    unsigned dead = 0;
    for (size_t i = 0; i < m->plan.nreqs; i++)
        dead += m->plan.reqs[i].dead ? m->plan.reqs[i].npoints : 0;
    m->st.dead = dead;
    if (rc == 0)
        m->st.last_ok = ts;
    else
        m->st.errors++;
    m->st.polls = m->sched.done;
    m->st.skipped = m->sched.skipped;
    m->st.late = m->sched.late;
}

static void *
worker_main(void *arg)
{
    struct bus_worker *w = arg;

    for (;;) {
        struct bus_meter *due = NULL;
        for (size_t i = 0; i < w->nmeters; i++)
            if (due == NULL || w->meters[i].sched.next < due->sched.next)
                due = &w->meters[i];
        if (due == NULL || wait_until(w, due->sched.next))
            break;

        double start = mono_now();
        /* Read the wall clock now: it may have been stepped since start
         * (NTP on a gateway without RTC), and clock_off would keep every
         * timestamp off by that step until the next reload. */
        double ts = real_now();
        char err[320] = "";
        if (start >= due->dead_retry_at) {
            plan_retry_dead(&due->plan);
            due->dead_retry_at = start + DEAD_RETRY_S;
        }
        struct poll_counts pc = {0};
        int rc = poll_meter(w, due, ts, &pc, err, sizeof err);
        if (rc == POLL_STOPPED)
            break;
        if (rc != 0) {
            /* HJ 212 flag B: no value this slot, the meter did not answer. */
            for (size_t p = 0; p < due->prof->npoints; p++) {
                due->out[p].ts = ts;
                due->out[p].value = NAN;
                due->out[p].flag = FLAG_COMM;
            }
        }
        sampleq_push(w->q, due->out, due->prof->npoints, NULL);
        double end = mono_now();
        pthread_mutex_lock(&w->mtx);
        sched_done(&due->sched, start, end, LATE_TOLERANCE_S);
        count_poll(due, &pc, rc, ts);
        pthread_mutex_unlock(&w->mtx);
        set_state(w, due, rc == 0, rc == 0 ? "" : err);
        if (rc == 0)
            faultlog_report(&due->flog, mblink_exception_name, log_fault, NULL);
        else
            faultlog_discard(&due->flog);
    }
    w->link->ops->close(w->link);
    return NULL;
}

static void
free_worker(struct bus_worker *w)
{
    for (size_t i = 0; i < w->nmeters; i++) {
        plan_free(&w->meters[i].plan);
        free(w->meters[i].out);
        free(w->meters[i].dead_reported);
        faultlog_free(&w->meters[i].flog);
    }
    free(w->meters);
    if (w->link)
        w->link->ops->destroy(w->link);
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
    w->clock_off = real_now() - mono;
    size_t k = 0;
    for (size_t i = 0; i < conf->nmeters; i++) {
        const struct conf_meter *cm = &conf->meters[i];
        if (cm->bus != bus)
            continue;
        struct bus_meter *m = &w->meters[k++];
        m->meter = (int)i;
        m->cm = cm;
        m->prof = &conf->profiles[cm->profile];
        m->st.online = -1;
        m->out =
            calloc(m->prof->npoints ? m->prof->npoints : 1, sizeof *m->out);
        m->dead_reported = calloc(m->prof->npoints ? m->prof->npoints : 1,
                                  sizeof *m->dead_reported);
        if (m->out == NULL || m->dead_reported == NULL ||
            faultlog_init(&m->flog, cm->id, m->prof->points,
                          m->prof->npoints) == -1)
            goto oom;
        for (size_t p = 0; p < m->prof->npoints; p++) {
            m->out[p].meter = (uint32_t)i;
            m->out[p].point = (uint16_t)p;
        }
        unsigned max_regs =
            (unsigned)(cm->max_regs > 0 ? cm->max_regs : w->bus->max_regs);
        unsigned max_gap =
            (unsigned)(cm->max_gap >= 0 ? cm->max_gap : w->bus->max_gap);
        if (plan_build(&m->plan, m->prof->points, m->prof->npoints, max_regs,
                       max_gap) == -1)
            goto oom;
        m->st.nreqs = (unsigned)m->plan.nreqs;
        /* Slots fall on wall-clock multiples of the interval. */
        double phase = fmod(-w->clock_off, cm->interval);
        if (phase < 0)
            phase += cm->interval;
        sched_init(&m->sched, cm->interval, phase, mono);
        m->dead_retry_at = mono + DEAD_RETRY_S;
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
busw_meter_stats(struct bus_worker *w, int meter, struct busw_meter_stats *out)
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

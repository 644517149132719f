/* One meter's polls: plan, schedule, samples, flags, state and counters,
 * shared by the RTU bus worker and the Modbus TCP engine. */
#include "drivers/meter_poll.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "drivers/decode.h"

#define DEAD_RETRY_S 3600.0
#define LATE_TOLERANCE_S 0.5

/* FNV-1a over the id, then MurmurHash3's 64-bit finalizer (fmix64) so that
 * ids that differ only in their last characters ("d1", "d2") land far
 * apart. */
double
mpoll_offset(const char *id)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (double)(h >> 11) * 0x1p-53;
}

int
mpoll_init(struct mpoll *m, const struct conf *conf, int meter, double now,
           double clock_off)
{
    const struct conf_meter *cm = &conf->meters[meter];

    memset(m, 0, sizeof *m);
    m->meter = meter;
    m->cm = cm;
    m->prof = &conf->profiles[cm->profile];
    m->bus = &conf->buses[cm->bus];
    m->st.online = -1;
    size_t np = m->prof->npoints ? m->prof->npoints : 1;
    m->out = calloc(np, sizeof *m->out);
    m->dead_reported = calloc(np, sizeof *m->dead_reported);
    if (m->out == NULL || m->dead_reported == NULL ||
        faultlog_init(&m->flog, cm->id, m->prof->points, m->prof->npoints) ==
            -1)
        return -1;
    for (size_t p = 0; p < m->prof->npoints; p++) {
        m->out[p].meter = (uint32_t)meter;
        m->out[p].point = (uint16_t)p;
    }
    unsigned max_regs =
        (unsigned)(cm->max_regs > 0 ? cm->max_regs : m->bus->max_regs);
    unsigned max_gap =
        (unsigned)(cm->max_gap >= 0 ? cm->max_gap : m->bus->max_gap);
    if (plan_build(&m->plan, m->prof->points, m->prof->npoints, max_regs,
                   max_gap) == -1)
        return -1;
    m->st.nreqs = (unsigned)m->plan.nreqs;
    /* Slots fall on wall-clock multiples of the interval, shifted by the
     * meter's own offset. */
    double phase =
        fmod(-clock_off + mpoll_offset(cm->id) * cm->interval, cm->interval);
    if (phase < 0)
        phase += cm->interval;
    sched_init(&m->sched, cm->interval, phase, now);
    m->dead_retry_at = now + DEAD_RETRY_S;
    return 0;
}

void
mpoll_free(struct mpoll *m)
{
    plan_free(&m->plan);
    free(m->out);
    free(m->dead_reported);
    faultlog_free(&m->flog);
    m->out = NULL;
    m->dead_reported = NULL;
}

void
mpoll_begin(struct mpoll *m, double start, double ts)
{
    if (start >= m->dead_retry_at) {
        plan_retry_dead(&m->plan);
        m->dead_retry_at = start + DEAD_RETRY_S;
    }
    m->start = start;
    m->ts = ts;
    m->cur = 0;
    m->attempt = 0;
    m->requests = m->exceptions = 0;
    m->err[0] = '\0';
}

static void
fill_points(struct mpoll *m, const struct plan_req *r, const uint16_t *regs)
{
    for (unsigned j = 0; j < r->npoints; j++) {
        uint16_t pi = m->plan.idx[r->first + j];
        const struct conf_point *p = &m->prof->points[pi];
        struct sample *s = &m->out[pi];
        double v;
        s->ts = m->ts;
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
flag_points(struct mpoll *m, const struct plan_req *r, char flag)
{
    for (unsigned j = 0; j < r->npoints; j++) {
        struct sample *s = &m->out[m->plan.idx[r->first + j]];
        s->ts = m->ts;
        s->value = NAN;
        s->flag = flag;
    }
}

const struct plan_req *
mpoll_next(struct mpoll *m)
{
    while (m->cur < m->plan.nreqs && m->plan.reqs[m->cur].dead) {
        flag_points(m, &m->plan.reqs[m->cur], FLAG_DEVICE);
        m->cur++;
    }
    return m->cur < m->plan.nreqs ? &m->plan.reqs[m->cur] : NULL;
}

/* Request m->cur moves on to its successor. */
static int
advance(struct mpoll *m)
{
    m->cur++;
    m->attempt = 0;
    return 0;
}

/* The device rejects block m->cur (exception 2 or 3): read it in smaller
 * parts from now on, starting with this poll. */
static int
split(struct mpoll *m, const char *why)
{
    const struct plan_req *r = &m->plan.reqs[m->cur];
    uint16_t addr = r->addr, count = r->count, npoints = r->npoints;

    if (plan_split(&m->plan, m->cur) <= 0) {
        flag_points(m, r, FLAG_DEVICE);
        return advance(m);
    }
    /* A point revived by plan_retry_dead and rejected again was reported
     * already: say nothing. */
    if (npoints > 1)
        log_info("meter %s: %s at %u+%u; splitting the request", m->cm->id, why,
                 addr, count);
    r = &m->plan.reqs[m->cur];
    m->attempt = 0;
    if (!r->dead)
        return 0; /* the first part, next */
    uint16_t pi = m->plan.idx[r->first];
    if (!m->dead_reported[pi])
        log_warnx("meter %s: point %s rejected by the device; retrying it "
                  "hourly",
                  m->cm->id, m->prof->points[pi].name);
    m->dead_reported[pi] = true;
    flag_points(m, r, FLAG_DEVICE);
    return advance(m);
}

int
mpoll_answer(struct mpoll *m, enum mblink_status st, int exc,
             const uint16_t *regs, const char *why)
{
    struct plan_req *r = &m->plan.reqs[m->cur];

    m->requests++;
    if (st == MBL_OK) {
        r->fails = 0;
        fill_points(m, r, regs);
        return advance(m);
    }
    if (st == MBL_EXCEPTION && (exc == 10 || exc == 11)) {
        /* A gateway answered for a meter it cannot reach: the meter itself
         * did not answer, as after a timeout. */
        m->exceptions++;
        st = MBL_TIMEOUT;
    }
    if (st == MBL_EXCEPTION) {
        m->exceptions++;
        if (exc == 2 || exc == 3)
            return split(m, why);
        flag_points(m, r, FLAG_DEVICE);
        for (unsigned j = 0; j < r->npoints; j++)
            faultlog_set(&m->flog, m->plan.idx[r->first + j],
                         FAULTLOG_EXCEPTION, exc, NAN);
        return advance(m);
    }
    if (st == MBL_IO || m->attempt >= m->bus->retries)
        return mpoll_fail(m, why);
    m->attempt++;
    return 0;
}

int
mpoll_fail(struct mpoll *m, const char *why)
{
    snprintf(m->err, sizeof m->err, "%s", why);
    return -1;
}

bool
mpoll_end(struct mpoll *m, bool ok, double end, double now,
          struct meter_event *ev)
{
    if (!ok) {
        /* HJ 212 flag B: no value this slot, the meter did not answer. */
        for (size_t p = 0; p < m->prof->npoints; p++) {
            m->out[p].ts = m->ts;
            m->out[p].value = NAN;
            m->out[p].flag = FLAG_COMM;
        }
    }
    sched_done(&m->sched, m->start, end, LATE_TOLERANCE_S);

    /* All the counters move together, so a snapshot never shows the
     * requests of a poll without the poll (requests / polls is what
     * `ecmonctl meters` reports). */
    struct mpoll_stats *st = &m->st;
    st->requests += m->requests;
    st->exceptions += m->exceptions;
    st->nreqs = (unsigned)m->plan.nreqs;
    unsigned dead = 0;
    for (size_t i = 0; i < m->plan.nreqs; i++)
        dead += m->plan.reqs[i].dead ? m->plan.reqs[i].npoints : 0;
    st->dead = dead;
    if (ok)
        st->last_ok = m->ts;
    else
        st->errors++;
    st->polls = m->sched.done;
    st->skipped = m->sched.skipped;
    st->late = m->sched.late;

    int online = ok ? 1 : 0;
    if (st->online == online)
        return false;
    st->online = online;
    memset(ev, 0, sizeof *ev);
    ev->ts = now;
    ev->meter = (uint32_t)m->meter;
    ev->online = online;
    ev->errors = st->errors;
    ev->last_ok = st->last_ok;
    snprintf(ev->reason, sizeof ev->reason, "%.*s", (int)sizeof ev->reason - 1,
             ok ? "" : m->err);
    return true;
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

void
mpoll_announce(struct mpoll *m, bool ok, const struct meter_event *ev)
{
    if (ev != NULL && ev->online)
        log_info("meter %s: online", m->cm->id);
    else if (ev != NULL)
        log_warnx("meter %s: offline: %s", m->cm->id, m->err);
    if (ok)
        faultlog_report(&m->flog, mblink_exception_name, log_fault, NULL);
    else
        faultlog_discard(&m->flog);
}

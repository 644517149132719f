/* One meter's polls, whatever carries its requests: the request plan, the
 * fixed-rate schedule, the samples and their HJ 212 flags, the dead-point
 * fallback, online/offline changes and the counters. The RTU bus worker
 * (a thread, libmodbus) and the Modbus TCP engine (epoll) both drive it:
 *
 *   mpoll_begin(m, start, ts);
 *   while ((r = mpoll_next(m)) != NULL) {
 *       send r, wait for its outcome;
 *       if (mpoll_answer(m, status, exc, regs, why) == -1)
 *           break;                          (the poll failed: m->err)
 *   }
 *   lock; changed = mpoll_end(m, ok, end, now, &ev); unlock;
 *   hand m->out (and ev if changed) to the main loop;
 *   mpoll_announce(m, ok, changed ? &ev : NULL);
 *
 * No I/O but logging (a change of state, a split request, a dead point, a
 * device fault or an out-of-range value: each once). Times are passed in. */
#ifndef ECMON_METER_POLL_H
#define ECMON_METER_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/faultlog.h"
#include "drivers/mblink.h"
#include "drivers/plan.h"
#include "drivers/sampleq.h"
#include "drivers/schedule.h"

/* Counters of one meter, as the control socket shows them. */
struct mpoll_stats {
    int online;        /* -1 not polled yet, 0 offline, 1 online */
    uint64_t polls;    /* slots polled */
    uint64_t skipped;  /* slots missed because the bus was busy */
    uint64_t late;     /* polls started late */
    uint64_t errors;   /* polls that failed (no answer, broken link) */
    uint64_t requests; /* Modbus requests sent */
    uint64_t exceptions;
    double last_ok; /* Unix time of the last good poll, 0 if none */
    unsigned nreqs; /* requests in the current plan */
    unsigned dead;  /* points the device rejects */
};

struct mpoll {
    int meter; /* index into conf->meters */
    const struct conf_meter *cm;
    const struct conf_profile *prof;
    const struct conf_bus *bus;
    struct plan plan;
    struct sched sched;
    struct mpoll_stats st; /* guarded by the driver's lock: see mpoll_end */
    struct sample *out;    /* one per point, reused every poll */
    bool *dead_reported;   /* per point: its rejection was logged */
    struct faultlog flog;  /* device faults and ranges, reported once */
    double dead_retry_at;

    /* The poll under way. */
    double start, ts; /* monotonic start; Unix time of its samples */
    size_t cur;       /* the plan request being read */
    int attempt;      /* retries of it so far */
    uint64_t requests, exceptions;
    char err[200]; /* why the poll failed */
};

/* Where in its interval a meter is polled: a fraction in [0, 1) drawn from
 * its id, the same at every start. Meters with the same interval are thus
 * spread over it instead of all polled at the same instant, which would
 * send a burst of readings through the main loop and the broker once per
 * interval (1,000 meters at 1 s: 4,000 messages at once, the last ones
 * delayed by the whole burst). */
double mpoll_offset(const char *id);

/* Set up meter `meter` of conf (plan, schedule, sample buffers): its slots
 * fall on wall-clock multiples of its interval plus mpoll_offset(id) times
 * the interval, `clock_off` being realtime minus monotonic time, and the
 * first is the first one at or after monotonic `now`. Returns 0, or -1 when out
 * of memory (mpoll_free cleans up either way). The only allocations of a
 * meter's life are here. */
int mpoll_init(struct mpoll *m, const struct conf *conf, int meter, double now,
               double clock_off);
void mpoll_free(struct mpoll *m);

/* Start a poll at monotonic `start`; its samples carry Unix time `ts`. Once
 * an hour, points the device rejected are tried again. */
void mpoll_begin(struct mpoll *m, double start, double ts);

/* The request to send next, or NULL when every request has its outcome.
 * Requests for dead points are passed over (their points flagged D). */
const struct plan_req *mpoll_next(struct mpoll *m);

/* The outcome of the request mpoll_next returned, `why` saying what went
 * wrong. Returns 0 to go on with mpoll_next (the same request again for a
 * retry, smaller ones after a block was rejected), or -1 when the poll
 * failed: no answer after the bus's retries, or a broken link (MBL_IO,
 * never retried). Exceptions 10 and 11 (a gateway that cannot reach the
 * meter) count as no answer; 2 and 3 split the request (plan_split); any
 * other flags the request's points D. */
int mpoll_answer(struct mpoll *m, enum mblink_status st, int exc,
                 const uint16_t *regs, const char *why);

/* The poll cannot go on, e.g. the bus is not connected: record why, for
 * mpoll_end. Returns -1. */
int mpoll_fail(struct mpoll *m, const char *why);

/* End the poll at monotonic `end` (`now`: Unix time): a failed poll flags
 * every point B (HJ 212: no answer). Moves the schedule past `end` and
 * counts late and skipped slots, adds the poll to the counters. The caller
 * holds the lock that guards m->st against readers. Returns true when the
 * meter went online or offline, with the event for the main loop in *ev. */
bool mpoll_end(struct mpoll *m, bool ok, double end, double now,
               struct meter_event *ev);

/* After every poll, without the lock held and before the next
 * mpoll_begin: log the change of state mpoll_end reported, if any (ev;
 * "meter X: online", "meter X: offline: why", the whole reason being in
 * m->err), then, after a poll the device answered (ok), the device faults
 * and out-of-range values that began, changed or ended (drivers/faultlog.h);
 * after a failed poll those of its points are forgotten. */
void mpoll_announce(struct mpoll *m, bool ok, const struct meter_event *ev);

#endif

/* Pure fixed-rate poll schedule: slots on a grid, late polls never shift it. */
#ifndef ECMON_SCHEDULE_H
#define ECMON_SCHEDULE_H

#include <stdint.h>

struct sched {
    double interval; /* seconds, > 0 */
    double base;     /* slot k is at base + k * interval: no drift */
    uint64_t k;
    double next;      /* the next slot: base + k * interval */
    uint64_t done;    /* slots polled */
    uint64_t skipped; /* slots missed because a poll ran past them */
    uint64_t
        late; /* polls that started more than `tolerance` after their slot */
};

/* Start a schedule at time `now` whose slots fall on multiples of the
 * interval plus `phase` (0 <= phase < interval), so meters with the same
 * interval can be spread. The first slot is the first grid point >= now. */
void sched_init(struct sched *s, double interval, double phase, double now);

/* A poll of the current slot started at `start` and ended at `end`. Moves
 * `next` to the first grid slot after `end`, counts the slots passed over as
 * skipped (never polled in a burst), and counts the poll late when it started
 * more than `tolerance` seconds after its slot. Returns the number of slots
 * skipped. */
uint64_t sched_done(struct sched *s, double start, double end,
                    double tolerance);

#endif

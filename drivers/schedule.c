/* Pure fixed-rate poll schedule: slots on a grid, late polls never shift it. */
#include "drivers/schedule.h"

#include <math.h>

void
sched_init(struct sched *s, double interval, double phase, double now)
{
    s->interval = interval;
    s->base = ceil((now - phase) / interval) * interval + phase;
    if (s->base < now)
        s->base += interval;
    s->k = 0;
    s->next = s->base;
    s->done = s->skipped = s->late = 0;
}

uint64_t
sched_done(struct sched *s, double start, double end, double tolerance)
{
    uint64_t missed = 0;

    s->done++;
    if (start - s->next > tolerance)
        s->late++;
    s->k++;
    s->next = s->base + (double)s->k * s->interval;
    if (s->next <= end) {
        /* Every slot at or before `end` has passed while we were busy. */
        missed = (uint64_t)floor((end - s->next) / s->interval) + 1;
        s->k += missed;
        s->next = s->base + (double)s->k * s->interval;
        s->skipped += missed;
    }
    return missed;
}

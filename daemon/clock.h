/* Clock readings in seconds as doubles: monotonic for deadlines, real for
 * timestamps. */
#ifndef ECMON_CLOCK_H
#define ECMON_CLOCK_H

#include <time.h>

static inline double
clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double
mono_now(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

static inline double
real_now(void)
{
    return clock_seconds(CLOCK_REALTIME);
}

#endif

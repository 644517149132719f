/* A bus worker: the thread that polls every meter of one bus on schedule. */
#ifndef ECMON_BUS_WORKER_H
#define ECMON_BUS_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/sampleq.h"

struct bus_worker;

/* Counters of one meter, as the control socket shows them. */
struct busw_meter_stats {
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

/* Start the thread for conf->buses[bus], polling its meters and pushing
 * samples and status events to q. `conf` must outlive the worker. Returns
 * NULL with a message in err. */
struct bus_worker *busw_start(const struct conf *conf, int bus,
                              struct sampleq *q, char *err, size_t errlen);

/* Ask the thread to stop and return at once; it stops after the Modbus
 * transaction under way, if any. Stopping many workers: request them all,
 * then busw_stop each, so their last transactions overlap. NULL is ignored. */
void busw_request_stop(struct bus_worker *w);

/* Ask the thread to stop, wait for it (at most one Modbus transaction or
 * connect, so about one timeout) and free it. NULL is ignored. */
void busw_stop(struct bus_worker *w);

/* A consistent snapshot of a meter's counters; returns -1 if the meter is
 * not on this bus. Thread-safe. */
int busw_meter_stats(struct bus_worker *w, int meter,
                     struct busw_meter_stats *out);

#endif

/* A bus worker: the thread that polls every meter of one RTU bus on
 * schedule, through libmodbus. (TCP buses: drivers/tcp_engine.h.) */
#ifndef ECMON_BUS_WORKER_H
#define ECMON_BUS_WORKER_H

#include <stddef.h>

#include "config/config.h"
#include "drivers/meter_poll.h"
#include "drivers/sampleq.h"

struct bus_worker;

/* Start the thread for conf->buses[bus] (an RTU bus), polling its meters
 * and pushing samples and status events to q. `conf` must outlive the
 * worker. Returns NULL with a message in err. */
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
int busw_meter_stats(struct bus_worker *w, int meter, struct mpoll_stats *out);

#endif

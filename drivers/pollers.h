/* Everything that polls meters: the Modbus TCP engine (one thread for all
 * TCP buses) and a bus worker thread per RTU bus, started and stopped
 * together. */
#ifndef ECMON_POLLERS_H
#define ECMON_POLLERS_H

#include <stddef.h>

#include "config/config.h"
#include "drivers/meter_poll.h"
#include "drivers/sampleq.h"

struct pollers;

/* Start polling every meter of conf, pushing samples and status events to
 * q. `conf` must outlive the pollers. Returns NULL with a message in err
 * (naming the bus at fault) if any part cannot start. */
struct pollers *pollers_start(const struct conf *conf, struct sampleq *q,
                              char *err, size_t errlen);

/* Stop every poller (all asked at once, so their last transactions
 * overlap) and free them. NULL is ignored. */
void pollers_stop(struct pollers *p);

/* A consistent snapshot of a meter's counters, or -1 for an unknown meter.
 * Thread-safe. */
int pollers_meter_stats(struct pollers *p, int meter, struct mpoll_stats *out);

#endif

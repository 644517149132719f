/* The Modbus TCP engine: one thread serves every TCP bus (gateway) of the
 * configuration with non-blocking sockets and epoll, framing Modbus TCP
 * itself (drivers/mbtcp.c). RTU buses keep a thread each
 * (drivers/bus_worker.c). */
#ifndef ECMON_TCP_ENGINE_H
#define ECMON_TCP_ENGINE_H

#include <stddef.h>

#include "config/config.h"
#include "drivers/meter_poll.h"
#include "drivers/sampleq.h"

struct tcp_engine;

/* Start the thread for every TCP bus of conf and the meters on them, which
 * it polls on schedule, pushing samples and status events to q in batches.
 * `conf` must outlive the engine. Allocates everything here: polls
 * allocate nothing. Returns NULL with a message in err. */
struct tcp_engine *tcpeng_start(const struct conf *conf, struct sampleq *q,
                                char *err, size_t errlen);

/* Ask the thread to stop and return at once. NULL is ignored. */
void tcpeng_request_stop(struct tcp_engine *e);

/* Stop the thread (transactions under way are abandoned: those polls give
 * no samples), close every connection and free the engine. NULL is
 * ignored. */
void tcpeng_stop(struct tcp_engine *e);

/* A consistent snapshot of a meter's counters; -1 if the meter is not on
 * a TCP bus. Thread-safe. */
int tcpeng_meter_stats(struct tcp_engine *e, int meter,
                       struct mpoll_stats *out);

#endif

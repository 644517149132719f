/* The daemon's state, owned by the main loop. */
#ifndef ECMON_ECMOND_H
#define ECMON_ECMOND_H

#include <signal.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/sampleq.h"

struct bus_worker;
struct mqtt_pub;
struct rrdstore;
struct control;

/* What the main loop knows of one meter. */
struct meter_rt {
    const char *owner; /* enterprise id, or "park" */
    char **topics;     /* one reading topic per point */
    char *status_topic;
    int online;   /* -1 unknown */
    double since; /* of the current state */
    uint64_t errors;
    double last_ok;
    char reason[120];
    double *last; /* last value per point */
    char *last_flag;
    double last_ts;
    int rrd_failing; /* an RRD error was logged; log the recovery */
};

struct ecmond {
    const char *conf_path;
    struct conf *conf;
    int foreground;
    struct sampleq q;
    struct sampleq_buf batch;
    struct bus_worker **workers; /* one per bus */
    struct mqtt_pub *mqtt;
    struct rrdstore *rrd;
    struct control *ctl;
    struct meter_rt *meters; /* one per conf meter */
    int lock_fd;
    sigset_t sigmask; /* for ppoll: the handled signals open */
    double started;   /* Unix time */
    uint64_t samples; /* samples handled since start */
    uint64_t reloads;
};

/* Install the signal handlers (the signals stay blocked until the loop
 * waits), then start every part for d->conf (state dirs, lock, control
 * socket, RRD, MQTT, bus workers). Returns 0, or -1 after logging why. */
int ecmond_start(struct ecmond *d);

/* Run the main loop until SIGTERM/SIGINT; SIGHUP reloads. Returns the exit
 * code. */
int ecmond_run(struct ecmond *d);

/* Stop every part and free the state; flushes MQTT and RRD. */
void ecmond_stop(struct ecmond *d);

#endif

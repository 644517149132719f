/* The daemon's state, owned by the main loop. */
#ifndef ECMON_ECMOND_H
#define ECMON_ECMOND_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/core/periods.h"
#include "drivers/sampleq.h"

struct pollers;
struct mqtt_pub;
struct rrdstore;
struct control;
struct ledger;
struct engine;
struct alert_out;
struct http;
struct outbox;

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
    int rrd_failing; /* an RRD error was logged; log the recovery */
};

struct ecmond {
    const char *conf_path;
    struct conf *conf;
    struct sampleq q;
    struct sampleq_buf batch;
    struct pollers *pollers; /* the TCP engine and the RTU bus workers */
    struct mqtt_pub *mqtt;
    struct outbox *outbox; /* every publish goes through it */
    struct rrdstore *rrd;
    struct control *ctl;
    struct meter_rt *meters; /* one per conf meter */
    struct tzone tz;         /* the park's */
    struct ledger *ledger;
    struct engine *engine;
    struct alert_out *alerts;
    struct http *http;        /* NULL without an http group */
    double next_eval;         /* monotonic: next engine evaluation */
    double next_publish;      /* monotonic: next quota/capacity publish */
    double next_rrd;          /* monotonic: next write of waiting RRD updates */
    double next_ledger_write; /* monotonic: next write of accounted samples */
    int rrd_writes_failing;   /* a failed batch write was logged */
    int lock_fd;
    sigset_t sigmask; /* for ppoll: the handled signals open */
    double started;   /* Unix time */
    uint64_t samples; /* samples handled since start */
    uint64_t reloads;
    uint64_t alerts_raised; /* alert transitions since start */
};

/* Open what readings flow into (time zone, ledger, engine, alerts, RRD,
 * MQTT and its outbox) without the pollers or the control socket: the
 * daemon and replay share it. `replay`: judge hours without grace. Returns 0 or
 * -1 after logging why. */
int ecmond_open_outputs(struct ecmond *d, bool replay);

/* One batch of samples: the ledger first (it may flag a total's reading
 * that is not counted, see engine_feed), then MQTT and RRD (one update per
 * meter poll). Samples older than the ledger's for their point are refused
 * and counted in *refused (may be NULL). */
void ecmond_samples(struct ecmond *d, struct sample *s, size_t n,
                    size_t *refused);

/* Evaluate quotas and capacity at Unix time `now`; with `publish` also
 * publish their topics and update their RRD files. */
void ecmond_evaluate(struct ecmond *d, double now, bool publish);

/* Create state_dir and rrd_dir, then lock <state_dir>/ecmond.lock; -1
 * (logged) if that fails or another process holds the lock. */
int ecmond_lock(struct ecmond *d);

/* With run_as and started as root: give state_dir, rrd_dir and the
 * control socket to that user and become it. Returns 0, or -1 (logged). */
int ecmond_drop_root(struct ecmond *d);

/* Install the signal handlers (the signals stay blocked until the loop
 * waits), then start every part for d->conf (state dirs, lock, control
 * socket, RRD, MQTT, pollers). Returns 0, or -1 after logging why. */
int ecmond_start(struct ecmond *d);

/* Run the main loop until SIGTERM/SIGINT; SIGHUP reloads. Returns the exit
 * code. */
int ecmond_run(struct ecmond *d);

/* Stop every part and free the state; flushes MQTT and RRD. */
void ecmond_stop(struct ecmond *d);

#endif

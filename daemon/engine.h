/* The accounting engine: samples -> ledger rows; quotas, concentration
 * limits and park capacity evaluated from the ledger; alert transitions.
 * Used by the daemon's main loop and by replay, with `now` passed in. */
#ifndef ECMON_ENGINE_H
#define ECMON_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/core/periods.h"
#include "daemon/core/quota.h"
#include "daemon/core/sample.h"

struct ledger;

/* An alert transition, handed to the engine's `alert` output. */
struct engine_alert {
    const char *owner; /* enterprise id or "park" */
    const char *name;  /* quota id, or "<outlet>.<pollutant>" */
    const char *from;  /* state names: "ok" "warn" "critical" "exceeded" */
    const char *to;
    double ts;           /* when it changed (the sample time in replay) */
    const char *payload; /* the retained alert payload (JSON, with since) */
};

struct engine_out {
    /* Publish a message (topic under the configured prefix and park). */
    void (*publish)(void *arg, const char *topic, const char *payload,
                    bool retain);
    /* An alert changed state: deliver it (MQTT, log, exec hook). */
    void (*alert)(void *arg, const struct engine_alert *a);
    /* An evaluation at `now` with `publish` is done (engine_quotas and
     * engine_capacity hold its results) and about to be committed: store
     * what derives from it (the RRD files) first, so that a kill between
     * the two leaves the evaluation to be made again, never a gap. May be
     * NULL. */
    void (*evaluated)(void *arg, double now, bool publish);
    void *arg;
};

/* What the engine knows of one quota, for ecmonctl and the HTTP API. */
struct engine_quota {
    int enterprise; /* -1: a park quota */
    const struct conf_quota *q;
    char owner[CONF_ID_MAX];
    char measure[32]; /* "cod_kg" */
    char period[16];  /* the current period's label */
    struct quota_result r;
    double limit;
    enum quota_state state;
    double since;
    bool evaluated;
};

/* An outlet's concentration limit and its last complete hour. */
struct engine_conc {
    int enterprise, outlet;
    enum conf_pollutant pollutant;
    double limit; /* mg/L */
    char key[2 * CONF_ID_MAX + 8];
    int64_t hour;           /* the last hour evaluated, -1 none */
    double mean;            /* its flow-weighted mean, NAN if no volume */
    enum quota_state state; /* QS_OK or QS_EXCEEDED */
    double since;
};

struct engine_capacity {
    bool enabled;
    double capacity, today, utilization, peak30, headroom;
    int64_t day_start;
};

struct engine;

/* Open for config c (outliving the engine): loads point baselines, value
 * added and alert states from the ledger. `grace`: seconds after an hour's
 * end before its concentration mean is judged (samples still in flight);
 * 0 for replay. Returns NULL with a message in err. */
struct engine *engine_open(const struct conf *c, const struct tzone *z,
                           struct ledger *l, const struct engine_out *out,
                           double grace, char *err, size_t errlen);
void engine_close(struct engine *e);

/* Account a batch of samples, in memory: the hourly increments, events
 * and baselines wait for engine_write. Samples older than a point's last
 * accepted one are refused and counted in *refused (may be NULL). A
 * total's reading that is not counted gets its event's flag in s[i].flag
 * (acct_event_flag: D for a reset, T for a jump), so that it is published
 * and stored as such. Returns 0, or -1 after logging that memory ran out
 * (the rest of the batch keeps its baselines). */
int engine_feed(struct engine *e, struct sample *s, size_t n, size_t *refused);

/* Write what engine_feed accounted since the last write to the ledger in
 * one transaction (a kill leaves all of it or none). engine_evaluate and
 * engine_close write first. Returns 0, or -1 after logging the ledger's
 * error: nothing is lost, it goes with the next write (up to a bound). */
int engine_write(struct engine *e);

/* Evaluate quotas, concentration hours and capacity at `now`; publish their
 * topics when `publish` (the caller's once-a-minute tick) or when a state
 * changed; raise alerts. */
void engine_evaluate(struct engine *e, double now, bool publish);

/* Publish the retained state again without evaluating: quota and capacity
 * topics as last evaluated, alert states as last announced (for quotas and
 * limits still in the config). For after a reconnection: the broker may
 * lack what was published while it was away. */
void engine_republish(struct engine *e);

/* The start of the hour of the last evaluation that the ledger holds, -1
 * before the first: a replay judges again the hour boundaries after it
 * whose readings the ledger already has (a run killed between writing
 * them and judging them). */
int64_t engine_judged_hour(const struct engine *e);

/* Set an enterprise's value added for a period label; validates the owner,
 * the label and the amount (finite, >= 0). Returns 0, or -1 with the reason
 * in err, changing nothing. Re-evaluates at `now`. */
int engine_set_va(struct engine *e, const char *owner, const char *period,
                  double yuan, const char *source, double now, char *err,
                  size_t errlen);

/* Read-only views for the control socket. */
size_t engine_quotas(const struct engine *e, const struct engine_quota **q);
size_t engine_concs(const struct engine *e, const struct engine_conc **c);
const struct engine_capacity *engine_capacity(const struct engine *e);

/* Format a quota's payload (DESIGN §6) into buf; with_since adds "since".
 * Returns the length or -1. */
int engine_quota_payload(const struct engine_quota *q, bool with_since,
                         char *buf, size_t len);

/* Format a concentration limit's alert payload (DESIGN §6: the last judged
 * hour's flow-weighted mean against the limit, with since) into buf.
 * Returns the length or -1. */
int engine_conc_payload(const struct engine *e, const struct engine_conc *k,
                        char *buf, size_t len);

#endif

/* ecmon-sim's shared model: the meters a config describes, their simulated
 * values and faults, and the counters the control socket reports. */
#ifndef ECMON_SIM_H
#define ECMON_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define SIM_WAVES 4      /* sinusoids summed into one wandering value */
#define SIM_REJECTS 8    /* `reject` ranges per meter */
#define SIM_REGS_MAX 125 /* registers per FC 03/04 request */

/* A smooth deterministic wander: mean * (1 + rel * u(t)) + abs * u(t), with
 * u(t) a weighted sum of sinusoids of seeded periods and phases, |u| <= 1.
 * Its integral has a closed form, so totals stay exact at any read time. */
struct sim_wander {
    double mean;
    double rel; /* relative amplitude, 0..1 */
    double abs; /* absolute amplitude (pH) */
    double amp[SIM_WAVES], omega[SIM_WAVES], phase[SIM_WAVES];
};

enum sim_role {
    ROLE_WANDER, /* flow_rate, power, concentration, ph, info */
    ROLE_TOTAL,  /* every *_total kind */
};

struct sim_point {
    const struct conf_point *cp;
    enum sim_role role;
    struct sim_wander w; /* the value (wanderer), or the growth per hour
                            (a total without a rate point) */
    int rate;        /* total: the meter's rate point it integrates (m3/h -> m3,
                        kW -> kWh), or -1 */
    double base, tb; /* total: its value at time tb (seconds) */
    bool frozen;
    double frozen_value; /* engineering value given to `set` */
};

enum sim_fault {
    FAULT_NONE,
    FAULT_TIMEOUT,
    FAULT_EXCEPTION,
    FAULT_NAN,     /* float registers hold NaN */
    FAULT_INF,     /* ... +infinity */
    FAULT_NEG_INF, /* ... -infinity */
    FAULT_BADUNIT,
    FAULT_BADCRC,
};

struct sim_reject {
    enum conf_table table;
    unsigned addr, count;
};

struct sim_stats {
    unsigned long requests, exceptions, unanswered;
};

struct sim_meter {
    const struct conf_meter *cm;
    struct sim_point *points;
    size_t npoints;
    enum sim_fault fault;
    uint8_t exc_code;
    bool strict;
    struct sim_reject rejects[SIM_REJECTS];
    size_t nrejects;
    /* per table: the registers spanned by its points, lo..hi-1 */
    unsigned span_lo[2], span_hi[2];
    struct sim_stats stats;
};

struct sim {
    const struct conf *conf;
    struct sim_meter *meters;
    size_t nmeters;
    int16_t (*unit_map)[256]; /* per bus: unit id -> meter index, or -1 */
    struct sim_stats orphan;  /* requests for unit ids no meter has */
    unsigned long bad_frames; /* RTU frames dropped for CRC or framing */
    bool quit;
    /* Set by the transport layer; called by `pause`/`resume`. */
    int (*bus_pause)(void *net, int bus, bool pause, char *err, size_t errlen);
    void *net;
};

/* sim_model.c: the value model. Every function takes `now`, seconds on the
 * monotonic clock since the simulator started, and does no I/O. */

/* Build the model of every meter of `conf` (kept by reference). Returns 0,
 * or -1 on allocation failure. */
int sim_init(struct sim *s, const struct conf *conf, uint64_t seed);
void sim_free(struct sim *s);

/* Meter index by id, point index by name; -1 if none. */
int sim_meter_find(const struct sim *s, const char *id);
int sim_point_find(const struct sim_meter *m, const char *name);

/* The registers point `pi` of meter `m` serves at `now` (width of its type),
 * honouring frozen values and the nan/inf/-inf faults. */
void sim_point_regs(const struct sim_meter *m, size_t pi, double now,
                    uint16_t *regs);

/* The engineering value a read at `now` returns: decode_point of the
 * registers served. NAN when they do not decode. */
double sim_point_get(const struct sim_meter *m, size_t pi, double now);

/* Fill out[0..count) with registers addr.. of table `t` at `now`; registers
 * of no point read as 0. */
void sim_meter_regs(const struct sim_meter *m, enum conf_table t, unsigned addr,
                    unsigned count, double now, uint16_t *out);

/* 0 if the request may be served, else the Modbus exception code (02) that
 * strict mode, the points' span or a `reject` range asks for. */
int sim_meter_check(const struct sim_meter *m, enum conf_table t, unsigned addr,
                    unsigned count);

/* Control actions on one point; they keep totals continuous. */
void sim_point_set(struct sim_meter *m, size_t pi, double value, double now);
void sim_point_free(struct sim_meter *m, size_t pi, double now);
/* Returns -1 when the point is a total that integrates a rate point (set the
 * rate's mean instead). */
int sim_point_mean(struct sim_meter *m, size_t pi, double mean, double now);
/* Every totalizer of the meter restarts from 0 at `now`. */
void sim_meter_reset_totals(struct sim_meter *m, double now);

/* sim_ctl.c: one control command line -> one reply line (no newline) in
 * `reply`. Sets s->quit on `quit`. Returns 0 for "ok", -1 for "err". */
int sim_ctl_exec(struct sim *s, char *line, double now, char *reply,
                 size_t replylen);

#endif

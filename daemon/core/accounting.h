/* Pure accounting (DESIGN §4): samples in time order -> increments of each
 * enterprise's measures, split at local hour boundaries, plus the events
 * (totalizer reset, jump, wrap) that the daemon logs and flags. */
#ifndef ECMON_ACCOUNTING_H
#define ECMON_ACCOUNTING_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/core/periods.h"
#include "daemon/core/sample.h"

enum acct_measure {
    AM_EFFLUENT_M3,     /* per outlet: from its `volume` point */
    AM_REUSE_M3,        /* enterprise: reuse_total points */
    AM_POLLUTANT_KG,    /* per outlet and pollutant: G = dV * C * 1e-3 */
    AM_CONC_M3,         /* per outlet and pollutant: the volume that had a
                           valid concentration (flow-weighted mean = kg /
                           this * 1e3 mg/L) */
    AM_ELECTRICITY_KWH, /* enterprise: electricity_total points */
    AM_ENERGY_TCE,      /* enterprise: every energy total times its factor */
    AM_INFLOW_M3,       /* park (enterprise -1): park.wwtp.inflow */
    AM_COUNT,
};

/* Quality of an increment (ORed into the hourly row). */
#define ACCT_F_SPREAD                                                          \
    0x1u                 /* a total's delta spread over a gap longer than      \
                            3 intervals: where in it the volume went is        \
                            estimated pro rata */
#define ACCT_F_WRAP 0x2u /* the register wrapped; counted */

struct acct_incr {
    int enterprise; /* index into conf.enterprises; -1 for the park */
    int outlet;     /* index into the enterprise's outlets; -1 if none */
    enum acct_measure measure;
    enum conf_pollutant pollutant; /* AM_POLLUTANT_KG, AM_CONC_M3 only */
    int64_t hour;                  /* period_hour_start() of the slice */
    double amount;                 /* m3, kg, kWh or tce */
    double covered;                /* seconds of that hour the slice spans */
    unsigned flags;
};

enum acct_event_kind {
    AE_RESET, /* a total went backwards: not usage; counting restarts */
    AE_JUMP,  /* a total grew faster than max_rate allows: not usage */
    AE_WRAP,  /* an integer register wrapped: counted */
};

struct acct_event {
    enum acct_event_kind kind;
    int meter, point;
    double ts;
    double from, to; /* the previous and the new reading */
};

/* Where acct_feed appends; reuse it by setting the counts to 0. */
struct acct_sink {
    struct acct_incr *incr;
    size_t nincr, capincr;
    struct acct_event *ev;
    size_t nev, capev;
};

struct acct;

/* Accounting state for every point of `c` (which must outlive it); `z` for
 * hour boundaries. Returns NULL on allocation failure. */
struct acct *acct_new(const struct conf *c, const struct tzone *z);
void acct_free(struct acct *a);

/* The last accepted reading of a point, as saved by the ledger: deltas of a
 * total continue from it after a restart, and older samples are refused. */
void acct_restore(struct acct *a, int meter, int point, double ts,
                  double value);

/* The last accepted reading of a point; returns 0, or -1 if it has none. */
int acct_last(const struct acct *a, int meter, int point, double *ts,
              double *value);

/* Feed one sample. Samples of one point must come in time order: one not
 * newer than the point's last accepted sample is ignored (returns 1).
 * Otherwise returns 0, or -1 when the sink cannot grow.
 *
 * Totals (volume, reuse, electricity, gas, steam, heat): only flag N readings
 * count; the first one only sets the baseline; a delta >= 0 is usage over
 * [last ts, ts] unless the point has max_rate and the delta exceeds
 * max_rate * dt / 3600 (AE_JUMP, not counted, the baseline moves); a delta
 * < 0 is an integer register wrap when the type is an integer one and the
 * wrapped delta is plausible (AE_WRAP, counted), else AE_RESET (not counted,
 * the baseline moves). A flow_rate used as an outlet's volume is integrated
 * by the trapezoid rule between consecutive N readings at most 3 meter
 * intervals apart. A concentration is valid from an N reading until a
 * reading with another flag, or until it is older than 3 meter intervals;
 * each volume slice of an outlet gives kg and conc-m3 for every pollutant
 * that has a valid concentration at the slice's end. Energy: tce = delta *
 * factor (kgce per unit, conf.energy_factors) / 1000. */
int acct_feed(struct acct *a, const struct sample *s, struct acct_sink *out);

void acct_sink_free(struct acct_sink *s);

/* The HJ 212 flag of the reading that caused an event: D for a total that
 * went back (reset or replaced: the meter's count was lost), T for a jump
 * beyond max_rate (more than the meter can measure), N for a wrap (a
 * correct reading, counted). */
char acct_event_flag(enum acct_event_kind kind);

const char *acct_measure_name(enum acct_measure m); /* "effluent_m3" ... */

#endif

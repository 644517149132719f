/* Pure RRD layout (DESIGN §7): file paths, DS and RRA definitions, update
 * templates and update lines. No I/O; rrd_store.c is the librrd user. */
#ifndef ECMON_RRD_LAYOUT_H
#define ECMON_RRD_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Directory of park-level files (park meters, park quotas, capacity). */
#define RRDLAYOUT_PARK_DIR "park"

/* RRAs of a file: 4 resolutions x AVERAGE, MIN, MAX at most. */
#define RRDLAYOUT_RRA_MAX 12

/* Bytes that one formatted value may take, without separator or NUL
 * ("-2.2250738585072014e-308" is 24). */
#define RRDLAYOUT_NUM_MAX 24

/* Data source types. Totals are DDERIVE, not DERIVE: librrd 1.7 refuses a
 * DERIVE (and COUNTER) value that is not an integer ("not a simple signed
 * integer: '12.5'"); DDERIVE is the same per-second rate on doubles. */
enum rrdlayout_dst {
    RRDLAYOUT_GAUGE,
    RRDLAYOUT_DDERIVE,
};

/* One round-robin archive: consolidation function, primary data points per
 * row, rows; the xff is always 0.5. */
struct rrdlayout_rra {
    const char *cf; /* "AVERAGE", "MIN", "MAX" */
    unsigned long pdp_per_row;
    unsigned long rows;
};

struct rrdlayout_shared;

/* Everything needed to create and update one RRD file. Built once (at store
 * open), read-only afterwards, freed by rrdlayout_free. The path is the
 * layout's own; ds_names, template_ and argv (the same for every file with
 * the same data sources, heartbeat and step: every meter of one profile and
 * interval) point into a part shared with those files, kept once, counted
 * and freed with the last of them. The functions are thread-safe. */
struct rrdlayout {
    char *path;          /* <rrd_dir>/<dir>/<file>.rrd */
    const char *relpath; /* "<dir>/<file>.rrd": the tail of path */
    unsigned long step;  /* storage.rrd_step */
    size_t nds;
    const char **ds_names; /* nds names, in DS order */
    const char *template_; /* "name1:name2:...", for rrd_update_r */
    int argc;              /* nds DS definitions, then the RRA definitions */
    const char **argv;
    size_t line_max; /* bytes an update line of this file needs, with NUL */
    struct rrdlayout_shared *shared_; /* private to rrd_layout.c */
};

/* The DS type of a point kind: DDERIVE for the cumulative totals
 * (volume, reuse, electricity, gas, steam, heat), GAUGE otherwise. */
enum rrdlayout_dst rrdlayout_kind_dst(enum conf_kind k);
const char *rrdlayout_dst_name(enum rrdlayout_dst t);

/* Heartbeat in seconds for a file updated every `interval` seconds:
 * max(2 * step, 3 * interval), rounded up to whole seconds. */
unsigned long rrdlayout_heartbeat(unsigned long step, double interval);

/* True if `name` is a valid DS name for librrd: 1..19 of [A-Za-z0-9_-]. */
bool rrdlayout_ds_name_ok(const char *name);

/* Write "DS:<name>:<type>:<heartbeat>:<min>:<max>" to buf; a NaN min or max
 * is written "U". Returns the length, or -1 if it does not fit in len. */
int rrdlayout_ds_def(char *buf, size_t len, const char *name,
                     enum rrdlayout_dst type, unsigned long heartbeat,
                     double min, double max);

/* The RRAs for `step` (> 0): 1 min for 2 days, 5 min for 14 days, 1 h for
 * 400 days, 1 day for 3653 days (10 years with leap days), each AVERAGE,
 * MIN and MAX. A resolution finer than step becomes step, and rows cover
 * the whole span (rounded up). When two resolutions fall on the same
 * pdp_per_row (a coarse step), only the longer one is kept. Fills out[]
 * (RRDLAYOUT_RRA_MAX entries) and returns how many. */
size_t rrdlayout_rras(unsigned long step,
                      struct rrdlayout_rra out[RRDLAYOUT_RRA_MAX]);

/* Write "RRA:<cf>:0.5:<pdp_per_row>:<rows>". Returns the length, or -1. */
int rrdlayout_rra_def(char *buf, size_t len, const struct rrdlayout_rra *r);

/* Paths. Each writes a file path into buf and returns its length, or -1 if
 * it does not fit in len or an index is out of range.
 * Meter: <rrd_dir>/<enterprise id>/<meter id>.rrd, park meters (enterprise
 * -1) under <rrd_dir>/park/. Quota: <rrd_dir>/<enterprise id>/quota-<quota
 * id>.rrd, enterprise -1 for c->park.quotas (under park/). Capacity:
 * <rrd_dir>/park/capacity.rrd. Trailing slashes of rrd_dir are dropped. */
int rrdlayout_meter_path(const struct conf *c, int meter, char *buf,
                         size_t len);
int rrdlayout_quota_path(const struct conf *c, int enterprise, int quota,
                         char *buf, size_t len);
int rrdlayout_capacity_path(const struct conf *c, char *buf, size_t len);

/* Write the update template of a meter, "<point 1>:<point 2>:...", in
 * profile order. Returns the length, or -1. */
int rrdlayout_meter_template(const struct conf *c, int meter, char *buf,
                             size_t len);

/* Build the layout of a file. Meter: one DS per profile point (DS name =
 * point name), heartbeat from the meter's interval. Quota: used, limit,
 * projected (GAUGE); capacity: inflow, capacity, headroom (GAUGE); both with
 * heartbeats from `interval`, the seconds between their updates. Return
 * NULL with a message in err on a bad index, an invalid DS name, a path too
 * long, or no memory. The result does not point into c. */
struct rrdlayout *rrdlayout_meter(const struct conf *c, int meter, char *err,
                                  size_t errlen);
struct rrdlayout *rrdlayout_quota(const struct conf *c, int enterprise,
                                  int quota, double interval, char *err,
                                  size_t errlen);
struct rrdlayout *rrdlayout_capacity(const struct conf *c, double interval,
                                     char *err, size_t errlen);
void rrdlayout_free(struct rrdlayout *l);

/* Write one value as rrdtool reads it: "U" for NaN and infinities, else the
 * shortest of %.15g, %.16g, %.17g that strtod reads back as the same double
 * (so integers, float32-derived values and every other double round-trip
 * exactly through the text). rrdtool keeps this text as the DS's last_ds;
 * the number it stores is librrd 1.7's own parse of it, which is not
 * correctly rounded (off by up to 3 ulp for 15-35 % of non-integers).
 * Assumes LC_NUMERIC "C". Returns the length (at most RRDLAYOUT_NUM_MAX),
 * or -1 if it does not fit in len. */
int rrdlayout_format_value(char *buf, size_t len, double v);

/* Bytes an update line with n values needs, with the NUL. */
size_t rrdlayout_update_max(size_t n);

/* Write "<ts>:<v1>:...:<vn>" into buf with rrdlayout_format_value's rules.
 * No allocation. Returns the length, or -1 if it does not fit in len
 * (rrdlayout_update_max(n) always fits). */
int rrdlayout_format_update(char *buf, size_t len, int64_t ts,
                            const double *values, size_t n);

/* Format an error message into err (ignored when err is NULL or errlen
 * 0): the one error formatter of the RRD modules. */
void rrdlayout_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

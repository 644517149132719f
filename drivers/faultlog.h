/* Fault reports of one meter's points (pure): a device fault or an
 * out-of-range value is reported when it begins or changes, and its end
 * once, never on every poll. */
#ifndef ECMON_FAULTLOG_H
#define ECMON_FAULTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Why a point has (or has not) a normal value after a poll. */
enum faultlog_cond {
    FAULTLOG_NORMAL,    /* flag N */
    FAULTLOG_EXCEPTION, /* flag D: the device answered with an exception */
    FAULTLOG_NAN,       /* flag D: NaN or an infinity */
    FAULTLOG_BADFRAC,   /* flag D: a split total's fraction out of range */
    FAULTLOG_RANGE,     /* flag T: outside the point's min/max */
};

struct faultlog_point {
    uint8_t cond; /* enum faultlog_cond */
    uint8_t code; /* FAULTLOG_EXCEPTION: the exception code */
    double value; /* FAULTLOG_RANGE: the value read */
};

struct faultlog {
    const char *meter;
    const struct conf_point *points;
    size_t npoints;
    struct faultlog_point *was; /* as last reported */
    struct faultlog_point *now; /* this poll */
};

/* Receives one line to log: `warn` for a fault, else its end. */
typedef void faultlog_emit(void *arg, bool warn, const char *line);

/* Every point starts normal. `meter` and `points` are kept by reference.
 * Returns 0, or -1 when out of memory. */
int faultlog_init(struct faultlog *f, const char *meter,
                  const struct conf_point *points, size_t npoints);
void faultlog_free(struct faultlog *f);

/* Record point i's condition in this poll; a point not recorded keeps the
 * condition it had. `code` is for FAULTLOG_EXCEPTION, `value` for
 * FAULTLOG_RANGE. */
void faultlog_set(struct faultlog *f, size_t i, enum faultlog_cond cond,
                  int code, double value);

/* After a poll the device answered: emit a line for each condition that
 * began or changed (points with the same exception, or the same decoding
 * fault, share one line; an out-of-range value has its own) and one line
 * naming every point that is normal again; then remember this poll as
 * reported. `exc_name` names an exception code. */
void faultlog_report(struct faultlog *f, const char *(*exc_name)(int),
                     faultlog_emit *emit, void *arg);

/* After a poll that failed half-way: forget what it recorded. */
void faultlog_discard(struct faultlog *f);

#endif

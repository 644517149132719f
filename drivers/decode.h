/* Pure register decoding: Modbus registers of one point -> engineering value. */
#ifndef ECMON_DECODE_H
#define ECMON_DECODE_H

#include <stdint.h>

#include "config/config.h"

enum decode_status {
    DECODE_OK = 0,
    DECODE_NAN,      /* the registers hold NaN or an infinity: flag D */
    DECODE_BADFRAC,  /* a split total's fraction is out of range: flag D */
};

/* Decode `regs` (conf_type_width(p->type) registers, as received: each
 * register's high byte first) per p->type and p->order, then apply
 * value = raw * scale + offset and, for points with `ratio`, multiply by the
 * meter's ct and/or pt. Writes the value to *out and returns DECODE_OK, or
 * returns another status and leaves *out as NAN. No I/O, no allocation. */
enum decode_status decode_point(const struct conf_point *p, const uint16_t *regs,
                                double ct, double pt, double *out);

/* The inverse, for the simulator and tests: encode `value` (already divided
 * by scale/ratio and offset removed by the caller, i.e. the raw value) into
 * regs per p->type and p->order. Integer types round to nearest and clamp to
 * the type's range. */
void decode_encode_raw(const struct conf_point *p, double raw, uint16_t *regs);

/* The raw value that decodes to `value` for point p on a meter with ratios
 * ct and pt: (value / ratio - offset) / scale. */
double decode_raw_for(const struct conf_point *p, double value, double ct,
                      double pt);

#endif

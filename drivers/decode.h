/* Pure register decoding: Modbus registers of one point -> engineering value.
 */
#ifndef ECMON_DECODE_H
#define ECMON_DECODE_H

#include <stdint.h>

#include "config/config.h"

enum decode_status {
    DECODE_OK = 0,
    DECODE_NAN,     /* the registers hold NaN or an infinity: flag D */
    DECODE_BADFRAC, /* a split total's fraction is out of range: flag D */
};

/* Decode `regs` (conf_type_width(p->type) registers, as received: each
 * register's high byte first) per p->type and p->order, then apply
 * value = raw * scale + offset and, for points with `ratio`, multiply by the
 * meter's ct and/or pt. Writes the value to *out and returns DECODE_OK, or
 * returns another status and leaves *out as NAN. No I/O, no allocation.
 *
 * Orders: cdab/dcba reverse the register order, badc/dcba swap the bytes in
 * each register; so a 1-register value (uint16, int16, the milli part) is
 * byte-swapped under badc and dcba. A split type applies the order to each
 * part separately; the integer part always comes first on the wire.
 * int32+float32 is int + frac with frac in (-1, 1) (else DECODE_BADFRAC, also
 * for a NaN fraction); uint32+milli is int + milli / 1000 with milli <= 999
 * (else DECODE_BADFRAC). A float that is NaN or infinite, and a result that
 * scale, offset or the ratios make non-finite, give DECODE_NAN. */
enum decode_status decode_point(const struct conf_point *p,
                                const uint16_t *regs, double ct, double pt,
                                double *out);

/* The raw value alone (before scale, offset and ratios), same statuses as
 * decode_point; *raw is NAN unless DECODE_OK. */
enum decode_status decode_raw(const struct conf_point *p, const uint16_t *regs,
                              double *raw);

/* The inverse, for the simulator and tests: encode `value` (already divided
 * by scale/ratio and offset removed by the caller, i.e. the raw value) into
 * regs per p->type and p->order. Integer types round to nearest and clamp to
 * the type's range.
 * Details: integer types round halves away from zero and map NaN to 0.
 * float32 clamps finite values to +-FLT_MAX; NaN and infinities are encoded
 * as such (a simulator can serve a D flag on purpose). int32+float32 splits
 * into trunc(raw) and a same-signed fraction, clamped to
 * INT32_MIN - (1 - 2^-24) .. INT32_MAX + (1 - 2^-24); NaN gives a NaN
 * fraction. uint32+milli splits into floor(raw) and round(thousandths),
 * carrying 1000 into the integer, clamped to 0 .. 2^32 - 1 + 0.999. */
void decode_encode_raw(const struct conf_point *p, double raw, uint16_t *regs);

/* The raw value that decodes to `value` for point p on a meter with ratios
 * ct and pt: (value / ratio - offset) / scale. */
double decode_raw_for(const struct conf_point *p, double value, double ct,
                      double pt);

#endif

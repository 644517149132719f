/* Pure register decoding: the registers of one point -> a value. */
#include "drivers/decode.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Floats are read by copying their IEEE 754 bits (memcpy, no pointer casts). */
_Static_assert(sizeof(float) == 4 && FLT_MANT_DIG == 24,
               "float must be IEEE 754 binary32");
_Static_assert(sizeof(double) == 8 && DBL_MANT_DIG == 53,
               "double must be IEEE 754 binary64");

/* cdab, dcba: the last register on the wire holds the high-order bytes. */
static bool
regs_reversed(enum conf_order o)
{
    return o == ORDER_CDAB || o == ORDER_DCBA;
}

/* badc, dcba: each register carries its two bytes low byte first. */
static bool
bytes_swapped(enum conf_order o)
{
    return o == ORDER_BADC || o == ORDER_DCBA;
}

static uint16_t
swap16(uint16_t r)
{
    return (uint16_t)((r << 8) | (r >> 8));
}

/* The big-endian value (bytes a b c d ... in order) of n registers. */
static uint64_t
load(const uint16_t *regs, int n, enum conf_order o)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++) {
        uint16_t r = regs[regs_reversed(o) ? n - 1 - i : i];
        v = (v << 16) | (bytes_swapped(o) ? swap16(r) : r);
    }
    return v;
}

/* The inverse of load(): the low 16*n bits of v into n registers. */
static void
store(uint64_t v, int n, enum conf_order o, uint16_t *regs)
{
    for (int i = n - 1; i >= 0; i--) {
        uint16_t r = (uint16_t)(v & 0xffff);
        v >>= 16;
        regs[regs_reversed(o) ? n - 1 - i : i] =
            bytes_swapped(o) ? swap16(r) : r;
    }
}

/* Two's complement reinterpretations: exact-width types have no padding and
 * are two's complement by definition, so memcpy is exact and defined. */
static int16_t
as_int16(uint64_t v)
{
    uint16_t u = (uint16_t)v;
    int16_t s;
    memcpy(&s, &u, sizeof s);
    return s;
}

static int32_t
as_int32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    int32_t s;
    memcpy(&s, &u, sizeof s);
    return s;
}

static int64_t
as_int64(uint64_t v)
{
    int64_t s;
    memcpy(&s, &v, sizeof s);
    return s;
}

static float
as_float(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double
as_double(uint64_t v)
{
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static uint32_t
float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t
double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

enum decode_status
decode_raw(const struct conf_point *p, const uint16_t *regs, double *raw)
{
    enum conf_order o = p->order;
    double f;

    *raw = NAN;
    switch (p->type) {
    case TYPE_UINT16:
        *raw = (double)load(regs, 1, o);
        return DECODE_OK;
    case TYPE_INT16:
        *raw = as_int16(load(regs, 1, o));
        return DECODE_OK;
    case TYPE_UINT32:
        *raw = (double)load(regs, 2, o);
        return DECODE_OK;
    case TYPE_INT32:
        *raw = as_int32(load(regs, 2, o));
        return DECODE_OK;
    case TYPE_UINT64:
        *raw = (double)load(regs, 4, o);
        return DECODE_OK;
    case TYPE_INT64:
        *raw = (double)as_int64(load(regs, 4, o));
        return DECODE_OK;
    case TYPE_FLOAT32:
        f = as_float(load(regs, 2, o));
        break;
    case TYPE_FLOAT64:
        f = as_double(load(regs, 4, o));
        break;
    case TYPE_INT32_FLOAT32:
        f = as_float(load(regs + 2, 2, o));
        if (!(f > -1.0 && f < 1.0)) /* also rejects NaN */
            return DECODE_BADFRAC;
        *raw = as_int32(load(regs, 2, o)) + f;
        return DECODE_OK;
    case TYPE_UINT32_MILLI: {
        uint64_t milli = load(regs + 2, 1, o);
        if (milli > 999)
            return DECODE_BADFRAC;
        *raw = (double)load(regs, 2, o) + (double)milli / 1000.0;
        return DECODE_OK;
    }
    default:
        return DECODE_NAN;
    }
    if (!isfinite(f))
        return DECODE_NAN;
    *raw = f;
    return DECODE_OK;
}

static double
ratio_of(const struct conf_point *p, double ct, double pt)
{
    double r = 1.0;

    if (p->ratio & RATIO_CT)
        r *= ct;
    if (p->ratio & RATIO_PT)
        r *= pt;
    return r;
}

enum decode_status
decode_point(const struct conf_point *p, const uint16_t *regs, double ct,
             double pt, double *out)
{
    double v;
    enum decode_status st = decode_raw(p, regs, &v);

    *out = NAN;
    if (st != DECODE_OK)
        return st;
    v = (v * p->scale + p->offset) * ratio_of(p, ct, pt);
    if (!isfinite(v))
        return DECODE_NAN;
    *out = v;
    return DECODE_OK;
}

double
decode_raw_for(const struct conf_point *p, double value, double ct, double pt)
{
    return (value / ratio_of(p, ct, pt) - p->offset) / p->scale;
}

/* Round to nearest (halves away from zero) and clamp to [0, max]; NaN -> 0.
 * Every comparison happens in double before converting, so the conversion
 * is always in range. */
static uint64_t
enc_uint(double raw, uint64_t max)
{
    double r = round(raw);

    if (!(r > 0.0))
        return 0;
    if (r >= (double)max) /* (double)UINT64_MAX is 2^64 */
        return max;
    return (uint64_t)r;
}

/* Same for a signed range; the result is returned as its two's complement
 * bits (conversion to unsigned is modular, hence defined). */
static uint64_t
enc_int(double raw, int64_t min, int64_t max)
{
    double r = round(raw);

    if (isnan(r))
        return 0;
    if (r <= (double)min)
        return (uint64_t)min;
    if (r >= (double)max) /* (double)INT64_MAX is 2^63 */
        return (uint64_t)max;
    return (uint64_t)(int64_t)r;
}

/* Finite values beyond the float range clamp to +-FLT_MAX; NaN and the
 * infinities are kept, so a simulator can serve them on purpose. */
static float
enc_float(double raw)
{
    if (isfinite(raw) && raw > FLT_MAX)
        return FLT_MAX;
    if (isfinite(raw) && raw < -FLT_MAX)
        return -FLT_MAX;
    return (float)raw;
}

/* int32 integer part and float32 fraction of the same sign, |frac| < 1. */
static void
enc_int32_float32(double raw, int32_t *ip, float *fp)
{
    const float below_one = 0.99999994f; /* 1 - 2^-24 */
    double t;
    float f;

    if (isnan(raw)) { /* decodes as DECODE_BADFRAC */
        *ip = 0;
        *fp = NAN;
        return;
    }
    if (raw >= 2147483648.0) {
        *ip = INT32_MAX;
        *fp = below_one;
        return;
    }
    if (raw <= -2147483649.0) {
        *ip = INT32_MIN;
        *fp = -below_one;
        return;
    }
    t = trunc(raw);
    f = (float)(raw - t); /* raw - t is exact; the float may round to +-1 */
    if (f >= 1.0f) {
        t += 1.0;
        f = 0.0f;
    } else if (f <= -1.0f) {
        t -= 1.0;
        f = 0.0f;
    }
    if (t > INT32_MAX) {
        t = INT32_MAX;
        f = below_one;
    } else if (t < INT32_MIN) {
        t = INT32_MIN;
        f = -below_one;
    }
    *ip = (int32_t)t;
    *fp = f;
}

/* uint32 integer part and thousandths 0..999; clamps to 0 .. 2^32-1 + 0.999. */
static void
enc_uint32_milli(double raw, uint32_t *ip, uint16_t *mp)
{
    double t, m;

    if (!(raw > 0.0)) { /* negative or NaN */
        *ip = 0;
        *mp = 0;
        return;
    }
    if (raw >= 4294967295.9995) {
        *ip = UINT32_MAX;
        *mp = 999;
        return;
    }
    t = floor(raw);
    m = round((raw - t) * 1000.0);
    if (m >= 1000.0) { /* cannot overflow: raw < 2^32 - 1 + 0.9995 */
        t += 1.0;
        m = 0.0;
    }
    *ip = (uint32_t)t;
    *mp = (uint16_t)m;
}

void
decode_encode_raw(const struct conf_point *p, double raw, uint16_t *regs)
{
    enum conf_order o = p->order;

    switch (p->type) {
    case TYPE_UINT16:
        store(enc_uint(raw, UINT16_MAX), 1, o, regs);
        break;
    case TYPE_INT16:
        store(enc_int(raw, INT16_MIN, INT16_MAX), 1, o, regs);
        break;
    case TYPE_UINT32:
        store(enc_uint(raw, UINT32_MAX), 2, o, regs);
        break;
    case TYPE_INT32:
        store(enc_int(raw, INT32_MIN, INT32_MAX), 2, o, regs);
        break;
    case TYPE_UINT64:
        store(enc_uint(raw, UINT64_MAX), 4, o, regs);
        break;
    case TYPE_INT64:
        store(enc_int(raw, INT64_MIN, INT64_MAX), 4, o, regs);
        break;
    case TYPE_FLOAT32:
        store(float_bits(enc_float(raw)), 2, o, regs);
        break;
    case TYPE_FLOAT64:
        store(double_bits(raw), 4, o, regs);
        break;
    case TYPE_INT32_FLOAT32: {
        int32_t i;
        float f;
        enc_int32_float32(raw, &i, &f);
        store((uint32_t)i, 2, o, regs);
        store(float_bits(f), 2, o, regs + 2);
        break;
    }
    case TYPE_UINT32_MILLI: {
        uint32_t i;
        uint16_t m;
        enc_uint32_milli(raw, &i, &m);
        store(i, 2, o, regs);
        store(m, 1, o, regs + 2);
        break;
    }
    }
}

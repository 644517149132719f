/* Unit tests of drivers/decode.c: hand-made vectors and round trips. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/decode.h"

#define A ORDER_ABCD
#define C ORDER_CDAB
#define B ORDER_BADC
#define D ORDER_DCBA

static const char *const order_names[] = {"abcd", "cdab", "badc", "dcba"};

static struct conf_point
mkpt(enum conf_type type, enum conf_order order)
{
    struct conf_point p;

    memset(&p, 0, sizeof p);
    p.type = type;
    p.order = order;
    p.scale = 1.0;
    p.offset = 0.0;
    return p;
}

/* want == got, or within tol; NaN only equals NaN. */
static int
close_to(double want, double got, double tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    return want == got || fabs(want - got) <= tol;
}

/* One hand-made vector. exact: the registers are also what the encoder must
 * produce for `want` (the value is exactly representable in the type). */
struct vec {
    enum conf_type type;
    enum conf_order order;
    uint16_t regs[4];
    double want;
    double tol;
    enum decode_status st;
    int exact;
};

/*
 * Every type in every order. The bytes of each value are worked out here from
 * its two's complement or IEEE 754 form; the order then only moves them:
 *   abcd: as is; cdab: register order reversed; badc: bytes swapped in each
 *   register; dcba: both (4 registers: abcdefgh ghefcdab badcfehg hgfedcba).
 *
 * uint16 4660 = 0x1234.
 * int16 -300 = 0x10000 - 300 = 65236 = 0xFED4.
 * uint32 305419896 = 0x12345678.
 * int32 -123456789: 123456789 = 0x075BCD15, ~ = 0xF8A432EA, +1 = 0xF8A432EB.
 * uint64 0x0123456789ABCDEF = 81985529216486895; nearest double ...896.
 * int64 -81985529216486895 = ~0x0123456789ABCDEF + 1 = 0xFEDCBA9876543211.
 * float32 123.456 = 1.929 * 2^6: sign 0, exponent 127+6 = 133 = 10000101b,
 *   mantissa round(0.929 * 2^23) = 7793017 = 0x76E979; 0 10000101 111011...
 *   -> 0x42F6E979. Decodes to (double)123.456f.
 * float32 -1.5 = -1.1b * 2^0: 1 01111111 1000... = 0xBFC00000.
 * float64 123.456: exponent 1023+6 = 1029 = 0x405, mantissa
 *   round(0.929 * 2^52) = 0xEDD2F1A9FBE77 -> 0x405EDD2F1A9FBE77.
 * float64 -2.5 = -1.01b * 2^1: sign 1, exponent 1024 = 0x400, mantissa
 *   0.25 * 2^52 = 0x4000000000000 -> 0xC004000000000000.
 * int32+float32 12345 + 0.678: 12345 = 0x00003039; 0.678 = 1.356 * 2^-1:
 *   exponent 126 = 0x7E, mantissa round(0.356 * 2^23) = 2986344 = 0x2D9168
 *   -> 0 01111110 0101101... = 0x3F2D9168. Each part ordered separately.
 * int32+float32 -7 - 0.25: -7 = 0xFFFFFFF9; -0.25 = -1.0b * 2^-2: exponent
 *   125 = 0x7D -> 1 01111101 000... = 0xBE800000.
 * uint32+milli 70000.123: 70000 = 65536 + 4464 = 0x00011170; 123 = 0x007B,
 *   a one-register part: byte-swapped (0x7B00) under badc and dcba.
 */
/* clang-format off */
static const struct vec vecs[] = {
    {TYPE_UINT16, A, {0x1234}, 4660, 0, DECODE_OK, 1},
    {TYPE_UINT16, C, {0x1234}, 4660, 0, DECODE_OK, 1},
    {TYPE_UINT16, B, {0x3412}, 4660, 0, DECODE_OK, 1},
    {TYPE_UINT16, D, {0x3412}, 4660, 0, DECODE_OK, 1},

    {TYPE_INT16, A, {0xFED4}, -300, 0, DECODE_OK, 1},
    {TYPE_INT16, C, {0xFED4}, -300, 0, DECODE_OK, 1},
    {TYPE_INT16, B, {0xD4FE}, -300, 0, DECODE_OK, 1},
    {TYPE_INT16, D, {0xD4FE}, -300, 0, DECODE_OK, 1},

    {TYPE_UINT32, A, {0x1234, 0x5678}, 305419896, 0, DECODE_OK, 1},
    {TYPE_UINT32, C, {0x5678, 0x1234}, 305419896, 0, DECODE_OK, 1},
    {TYPE_UINT32, B, {0x3412, 0x7856}, 305419896, 0, DECODE_OK, 1},
    {TYPE_UINT32, D, {0x7856, 0x3412}, 305419896, 0, DECODE_OK, 1},

    {TYPE_INT32, A, {0xF8A4, 0x32EB}, -123456789, 0, DECODE_OK, 1},
    {TYPE_INT32, C, {0x32EB, 0xF8A4}, -123456789, 0, DECODE_OK, 1},
    {TYPE_INT32, B, {0xA4F8, 0xEB32}, -123456789, 0, DECODE_OK, 1},
    {TYPE_INT32, D, {0xEB32, 0xA4F8}, -123456789, 0, DECODE_OK, 1},

    {TYPE_UINT64, A, {0x0123, 0x4567, 0x89AB, 0xCDEF},
     (double)0x0123456789ABCDEFull, 0, DECODE_OK, 0},
    {TYPE_UINT64, C, {0xCDEF, 0x89AB, 0x4567, 0x0123},
     (double)0x0123456789ABCDEFull, 0, DECODE_OK, 0},
    {TYPE_UINT64, B, {0x2301, 0x6745, 0xAB89, 0xEFCD},
     (double)0x0123456789ABCDEFull, 0, DECODE_OK, 0},
    {TYPE_UINT64, D, {0xEFCD, 0xAB89, 0x6745, 0x2301},
     (double)0x0123456789ABCDEFull, 0, DECODE_OK, 0},

    {TYPE_INT64, A, {0xFEDC, 0xBA98, 0x7654, 0x3211},
     -(double)0x0123456789ABCDEFll, 0, DECODE_OK, 0},
    {TYPE_INT64, C, {0x3211, 0x7654, 0xBA98, 0xFEDC},
     -(double)0x0123456789ABCDEFll, 0, DECODE_OK, 0},
    {TYPE_INT64, B, {0xDCFE, 0x98BA, 0x5476, 0x1132},
     -(double)0x0123456789ABCDEFll, 0, DECODE_OK, 0},
    {TYPE_INT64, D, {0x1132, 0x5476, 0x98BA, 0xDCFE},
     -(double)0x0123456789ABCDEFll, 0, DECODE_OK, 0},

    {TYPE_FLOAT32, A, {0x42F6, 0xE979}, (double)123.456f, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, C, {0xE979, 0x42F6}, (double)123.456f, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, B, {0xF642, 0x79E9}, (double)123.456f, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, D, {0x79E9, 0xF642}, (double)123.456f, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, A, {0xBFC0, 0x0000}, -1.5, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, C, {0x0000, 0xBFC0}, -1.5, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, B, {0xC0BF, 0x0000}, -1.5, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, D, {0x0000, 0xC0BF}, -1.5, 0, DECODE_OK, 1},

    {TYPE_FLOAT64, A, {0x405E, 0xDD2F, 0x1A9F, 0xBE77}, 123.456, 0, DECODE_OK,
     1},
    {TYPE_FLOAT64, C, {0xBE77, 0x1A9F, 0xDD2F, 0x405E}, 123.456, 0, DECODE_OK,
     1},
    {TYPE_FLOAT64, B, {0x5E40, 0x2FDD, 0x9F1A, 0x77BE}, 123.456, 0, DECODE_OK,
     1},
    {TYPE_FLOAT64, D, {0x77BE, 0x9F1A, 0x2FDD, 0x5E40}, 123.456, 0, DECODE_OK,
     1},
    {TYPE_FLOAT64, A, {0xC004, 0x0000, 0x0000, 0x0000}, -2.5, 0, DECODE_OK, 1},
    {TYPE_FLOAT64, C, {0x0000, 0x0000, 0x0000, 0xC004}, -2.5, 0, DECODE_OK, 1},
    {TYPE_FLOAT64, B, {0x04C0, 0x0000, 0x0000, 0x0000}, -2.5, 0, DECODE_OK, 1},
    {TYPE_FLOAT64, D, {0x0000, 0x0000, 0x0000, 0x04C0}, -2.5, 0, DECODE_OK, 1},

    /* 12345 + (double)0.678f is exact: 14 + 24 significant bits. */
    {TYPE_INT32_FLOAT32, A, {0x0000, 0x3039, 0x3F2D, 0x9168},
     12345.0 + (double)0.678f, 0, DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, C, {0x3039, 0x0000, 0x9168, 0x3F2D},
     12345.0 + (double)0.678f, 0, DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, B, {0x0000, 0x3930, 0x2D3F, 0x6891},
     12345.0 + (double)0.678f, 0, DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, D, {0x3930, 0x0000, 0x6891, 0x2D3F},
     12345.0 + (double)0.678f, 0, DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, A, {0xFFFF, 0xFFF9, 0xBE80, 0x0000}, -7.25, 0,
     DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, C, {0xFFF9, 0xFFFF, 0x0000, 0xBE80}, -7.25, 0,
     DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, B, {0xFFFF, 0xF9FF, 0x80BE, 0x0000}, -7.25, 0,
     DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, D, {0xF9FF, 0xFFFF, 0x0000, 0x80BE}, -7.25, 0,
     DECODE_OK, 1},

    {TYPE_UINT32_MILLI, A, {0x0001, 0x1170, 0x007B}, 70000.123, 1e-9,
     DECODE_OK, 1},
    {TYPE_UINT32_MILLI, C, {0x1170, 0x0001, 0x007B}, 70000.123, 1e-9,
     DECODE_OK, 1},
    {TYPE_UINT32_MILLI, B, {0x0100, 0x7011, 0x7B00}, 70000.123, 1e-9,
     DECODE_OK, 1},
    {TYPE_UINT32_MILLI, D, {0x7011, 0x0100, 0x7B00}, 70000.123, 1e-9,
     DECODE_OK, 1},
};

/* Extremes and edge values. */
static const struct vec edges[] = {
    {TYPE_UINT16, A, {0xFFFF}, 65535, 0, DECODE_OK, 1},
    {TYPE_UINT16, A, {0x0000}, 0, 0, DECODE_OK, 1},
    {TYPE_INT16, A, {0x8000}, -32768, 0, DECODE_OK, 1},
    {TYPE_INT16, B, {0x0080}, -32768, 0, DECODE_OK, 1},
    {TYPE_INT16, A, {0x7FFF}, 32767, 0, DECODE_OK, 1},
    {TYPE_INT16, D, {0xFFFF}, -1, 0, DECODE_OK, 1},
    {TYPE_UINT32, C, {0xFFFF, 0xFFFF}, 4294967295.0, 0, DECODE_OK, 1},
    {TYPE_INT32, A, {0x8000, 0x0000}, -2147483648.0, 0, DECODE_OK, 1},
    {TYPE_INT32, C, {0x0000, 0x8000}, -2147483648.0, 0, DECODE_OK, 1},
    {TYPE_INT32, D, {0x0000, 0x0080}, -2147483648.0, 0, DECODE_OK, 1},
    {TYPE_INT32, A, {0x7FFF, 0xFFFF}, 2147483647.0, 0, DECODE_OK, 1},
    {TYPE_INT32, C, {0xFFFE, 0xFFFF}, -2, 0, DECODE_OK, 1},
    /* 2^64 - 1 decodes to the nearest double, 2^64. */
    {TYPE_UINT64, A, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, 18446744073709551616.0,
     0, DECODE_OK, 1},
    {TYPE_UINT64, D, {0x0100, 0, 0, 0}, 1, 0, DECODE_OK, 1},
    {TYPE_UINT64, C, {0x0001, 0, 0, 0}, 1, 0, DECODE_OK, 1},
    {TYPE_UINT64, B, {0, 0, 0, 0x0100}, 1, 0, DECODE_OK, 1},
    {TYPE_INT64, A, {0x8000, 0, 0, 0}, -9223372036854775808.0, 0, DECODE_OK,
     1},
    {TYPE_INT64, C, {0, 0, 0, 0x8000}, -9223372036854775808.0, 0, DECODE_OK,
     1},
    {TYPE_INT64, B, {0x0080, 0, 0, 0}, -9223372036854775808.0, 0, DECODE_OK,
     1},
    {TYPE_INT64, D, {0, 0, 0, 0x0080}, -9223372036854775808.0, 0, DECODE_OK,
     1},
    /* 2^63 - 1 decodes to 2^63. */
    {TYPE_INT64, A, {0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}, 9223372036854775808.0, 0,
     DECODE_OK, 0},
    {TYPE_INT64, D, {0xFFFF, 0xFFFF, 0xFFFF, 0xFF7F}, 9223372036854775808.0, 0,
     DECODE_OK, 0},
    {TYPE_INT64, A, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, -1, 0, DECODE_OK, 1},
    /* Largest finite float32 0x7F7FFFFF, smallest subnormal 0x00000001. */
    {TYPE_FLOAT32, A, {0x7F7F, 0xFFFF}, FLT_MAX, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, C, {0x0001, 0x0000}, 0x1p-149, 0, DECODE_OK, 1},
    {TYPE_FLOAT32, A, {0x8000, 0x0000}, -0.0, 0, DECODE_OK, 1},

    /* NaN 0x7FC00000, +Inf 0x7F800000, -Inf 0xFF800000, per order. */
    {TYPE_FLOAT32, A, {0x7FC0, 0x0000}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT32, C, {0x0000, 0x7FC0}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT32, B, {0xC07F, 0x0000}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT32, D, {0x0000, 0xC07F}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT32, A, {0x7F80, 0x0000}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT32, D, {0x0000, 0x80FF}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT32, A, {0xFFFF, 0xFFFF}, NAN, 0, DECODE_NAN, 0},
    /* float64 NaN 0x7FF8..., +Inf 0x7FF0..., -Inf 0xFFF0... */
    {TYPE_FLOAT64, A, {0x7FF8, 0, 0, 0}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT64, C, {0, 0, 0, 0x7FF0}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT64, B, {0xF0FF, 0, 0, 0}, NAN, 0, DECODE_NAN, 0},
    {TYPE_FLOAT64, D, {0, 0, 0, 0xF07F}, NAN, 0, DECODE_NAN, 0},

    /* int32+float32 fractions: 1.0f 0x3F800000, -1.0f 0xBF800000,
     * 1.5f 0x3FC00000, NaN, +Inf -> bad; 1 - 2^-24 = 0x3F7FFFFF and
     * -0.0 0x80000000 are fine. */
    {TYPE_INT32_FLOAT32, A, {0, 5, 0x3F80, 0x0000}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_INT32_FLOAT32, A, {0, 5, 0xBF80, 0x0000}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_INT32_FLOAT32, C, {5, 0, 0x0000, 0x3FC0}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_INT32_FLOAT32, A, {0, 5, 0x7FC0, 0x0000}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_INT32_FLOAT32, D, {0x0500, 0, 0x0000, 0x807F}, NAN, 0,
     DECODE_BADFRAC, 0},
    {TYPE_INT32_FLOAT32, A, {0, 5, 0x3F7F, 0xFFFF}, 5.0 + 0x1.fffffep-1, 0,
     DECODE_OK, 1},
    {TYPE_INT32_FLOAT32, A, {0, 5, 0x8000, 0x0000}, 5.0, 0, DECODE_OK, 0},
    /* uint32+milli: 999 = 0x03E7 fine, 1000 = 0x03E8 and 0xFFFF bad; under
     * badc 0x03E7 reads as 0xE703 = 59139: bad, 0xE703 reads as 999. */
    {TYPE_UINT32_MILLI, A, {0, 7, 0x03E7}, 7.999, 1e-12, DECODE_OK, 1},
    {TYPE_UINT32_MILLI, A, {0, 7, 0x03E8}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_UINT32_MILLI, C, {7, 0, 0xFFFF}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_UINT32_MILLI, B, {0, 0x0700, 0x03E7}, NAN, 0, DECODE_BADFRAC, 0},
    {TYPE_UINT32_MILLI, B, {0, 0x0700, 0xE703}, 7.999, 1e-12, DECODE_OK, 1},
    {TYPE_UINT32_MILLI, D, {0xFFFF, 0xFFFF, 0xE703}, 4294967295.999, 1e-6,
     DECODE_OK, 1},
};
/* clang-format on */

static void
check_vecs(const struct vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct conf_point p = mkpt(v[i].type, v[i].order);
        int w = conf_type_width(v[i].type);
        double got = 0, raw = 0;
        enum decode_status st = decode_point(&p, v[i].regs, 1, 1, &got);
        enum decode_status rst = decode_raw(&p, v[i].regs, &raw);

        if (st != v[i].st || rst != v[i].st ||
            !close_to(v[i].want, got, v[i].tol) ||
            !close_to(v[i].want, raw, v[i].tol) ||
            (st == DECODE_OK && signbit(raw) != signbit(v[i].want)))
            fail_msg("vector %zu (%s %s): status %d, value %.17g, want "
                     "status %d, value %.17g",
                     i, conf_type_name(v[i].type), order_names[v[i].order],
                     (int)st, got, (int)v[i].st, v[i].want);
        if (v[i].exact) {
            uint16_t enc[4] = {0};
            decode_encode_raw(&p, v[i].want, enc);
            if (memcmp(enc, v[i].regs, (size_t)w * sizeof enc[0]) != 0)
                fail_msg("vector %zu (%s %s): encoder gives %04x %04x %04x "
                         "%04x",
                         i, conf_type_name(v[i].type), order_names[v[i].order],
                         enc[0], enc[1], enc[2], enc[3]);
        }
    }
}

static void
test_every_type_and_order(void **state)
{
    (void)state;
    /* Every type x order appears in the table. */
    for (int t = TYPE_UINT16; t <= TYPE_UINT32_MILLI; t++)
        for (int o = A; o <= D; o++) {
            int found = 0;
            for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
                found |= vecs[i].type == (enum conf_type)t &&
                         vecs[i].order == (enum conf_order)o;
            if (!found)
                fail_msg("no vector for %s %s",
                         conf_type_name((enum conf_type)t), order_names[o]);
        }
    check_vecs(vecs, sizeof vecs / sizeof vecs[0]);
}

static void
test_edges(void **state)
{
    (void)state;
    check_vecs(edges, sizeof edges / sizeof edges[0]);
}

static void
test_nan_leaves_out_nan(void **state)
{
    struct conf_point p = mkpt(TYPE_FLOAT32, A);
    const uint16_t nan_regs[2] = {0x7FC0, 0x0000};
    double out = 42;

    (void)state;
    assert_int_equal(decode_point(&p, nan_regs, 1, 1, &out), DECODE_NAN);
    assert_true(isnan(out));
    p = mkpt(TYPE_UINT32_MILLI, A);
    out = 42;
    assert_int_equal(
        decode_point(&p, (const uint16_t[]){0, 1, 1000}, 1, 1, &out),
        DECODE_BADFRAC);
    assert_true(isnan(out));
}

static void
test_scale_offset(void **state)
{
    struct conf_point p = mkpt(TYPE_UINT16, A);
    double out;

    (void)state;
    p.scale = 0.1;
    p.offset = -10;
    assert_int_equal(decode_point(&p, (const uint16_t[]){1234}, 1, 1, &out),
                     DECODE_OK);
    assert_true(close_to(113.4, out, 1e-12)); /* 1234 * 0.1 - 10 */

    p = mkpt(TYPE_INT16, A);
    p.scale = 0.5;
    p.offset = 100;
    assert_int_equal(decode_point(&p, (const uint16_t[]){0xFED4}, 1, 1, &out),
                     DECODE_OK);
    assert_true(close_to(-50, out, 0)); /* -300 * 0.5 + 100 */

    /* ct/pt are ignored without `ratio`. */
    assert_int_equal(decode_point(&p, (const uint16_t[]){0xFED4}, 40, 10, &out),
                     DECODE_OK);
    assert_true(close_to(-50, out, 0));
}

/* Acrel DTSD1352 import energy (DESIGN §9): uint32 x PT x CT x 0.01 kWh.
 * 123456 = 0x0001E240. */
static void
test_ratio(void **state)
{
    struct conf_point p = mkpt(TYPE_UINT32, A);
    const uint16_t regs[2] = {0x0001, 0xE240};
    double out;

    (void)state;
    p.scale = 0.01;
    p.ratio = RATIO_CT | RATIO_PT;
    assert_int_equal(decode_point(&p, regs, 40, 10, &out), DECODE_OK);
    assert_true(close_to(493824.0, out, 1e-6)); /* 1234.56 * 400 */
    p.ratio = RATIO_CT;
    assert_int_equal(decode_point(&p, regs, 40, 10, &out), DECODE_OK);
    assert_true(close_to(49382.4, out, 1e-7));
    p.ratio = RATIO_PT;
    assert_int_equal(decode_point(&p, regs, 40, 10, &out), DECODE_OK);
    assert_true(close_to(12345.6, out, 1e-8));

    /* decode_raw_for inverts scale, offset and ratios. */
    p.offset = 5;
    p.ratio = RATIO_CT | RATIO_PT;
    assert_true(close_to((493824.0 / 400 - 5) / 0.01,
                         decode_raw_for(&p, 493824.0, 40, 10), 1e-9));
    for (double v = -1000; v <= 1000; v += 12.5) {
        uint16_t r[2];
        struct conf_point q = mkpt(TYPE_FLOAT32, C);
        q.scale = 0.25;
        q.offset = 3;
        q.ratio = RATIO_CT | RATIO_PT;
        decode_encode_raw(&q, decode_raw_for(&q, v, 40, 10), r);
        assert_int_equal(decode_point(&q, r, 40, 10, &out), DECODE_OK);
        assert_true(close_to(v, out, 1e-3));
    }
}

/* Scale or ratios that overflow to infinity: not a value either. */
static void
test_non_finite_result(void **state)
{
    struct conf_point p = mkpt(TYPE_FLOAT32, A);
    double out;

    (void)state;
    p.scale = 1e300;
    assert_int_equal(
        decode_point(&p, (const uint16_t[]){0x7F7F, 0xFFFF}, 1, 1, &out),
        DECODE_NAN);
    assert_true(isnan(out));
    p = mkpt(TYPE_FLOAT64, A);
    p.ratio = RATIO_CT;
    /* 0x7FEFFFFFFFFFFFFF = DBL_MAX, times ct 2 */
    assert_int_equal(
        decode_point(&p, (const uint16_t[]){0x7FEF, 0xFFFF, 0xFFFF, 0xFFFF}, 2,
                     1, &out),
        DECODE_NAN);
}

static void
expect_regs(enum conf_type t, enum conf_order o, double raw, uint16_t r0,
            uint16_t r1, uint16_t r2, uint16_t r3)
{
    struct conf_point p = mkpt(t, o);
    uint16_t got[4] = {0}, want[4] = {r0, r1, r2, r3};

    decode_encode_raw(&p, raw, got);
    if (memcmp(got, want, (size_t)conf_type_width(t) * sizeof got[0]) != 0)
        fail_msg("encode %s %s %.17g: %04x %04x %04x %04x", conf_type_name(t),
                 order_names[o], raw, got[0], got[1], got[2], got[3]);
}

static void
test_encode_round_and_clamp(void **state)
{
    (void)state;
    expect_regs(TYPE_UINT16, A, 2.5, 3, 0, 0, 0);
    expect_regs(TYPE_UINT16, A, 2.49, 2, 0, 0, 0);
    expect_regs(TYPE_UINT16, A, 70000, 0xFFFF, 0, 0, 0);
    expect_regs(TYPE_UINT16, A, -5, 0, 0, 0, 0);
    expect_regs(TYPE_UINT16, A, NAN, 0, 0, 0, 0);
    expect_regs(TYPE_INT16, A, -2.5, 0xFFFD, 0, 0, 0);
    expect_regs(TYPE_INT16, A, 40000, 0x7FFF, 0, 0, 0);
    expect_regs(TYPE_INT16, B, -40000, 0x0080, 0, 0, 0);
    expect_regs(TYPE_UINT32, A, 1e10, 0xFFFF, 0xFFFF, 0, 0);
    expect_regs(TYPE_INT32, C, -1e10, 0x0000, 0x8000, 0, 0);
    expect_regs(TYPE_INT32, A, INFINITY, 0x7FFF, 0xFFFF, 0, 0);
    expect_regs(TYPE_UINT64, A, 1e30, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF);
    expect_regs(TYPE_UINT64, A, 18446744073709551616.0, 0xFFFF, 0xFFFF, 0xFFFF,
                0xFFFF);
    expect_regs(TYPE_UINT64, A, 18446744073709549568.0, 0xFFFF, 0xFFFF, 0xFFFF,
                0xF800); /* 2^64 - 2048, the largest double below 2^64 */
    expect_regs(TYPE_INT64, A, -1e30, 0x8000, 0, 0, 0);
    expect_regs(TYPE_INT64, A, 1e30, 0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF);
    expect_regs(TYPE_INT64, A, -INFINITY, 0x8000, 0, 0, 0);
    /* float32: finite values beyond FLT_MAX clamp, infinities stay. */
    expect_regs(TYPE_FLOAT32, A, 1e39, 0x7F7F, 0xFFFF, 0, 0);
    expect_regs(TYPE_FLOAT32, A, -1e300, 0xFF7F, 0xFFFF, 0, 0);
    expect_regs(TYPE_FLOAT32, A, INFINITY, 0x7F80, 0x0000, 0, 0);
    expect_regs(TYPE_FLOAT32, D, -INFINITY, 0x0000, 0x80FF, 0, 0);
    /* int32+float32: out of range clamps to INT32_MAX + (1 - 2^-24). */
    expect_regs(TYPE_INT32_FLOAT32, A, 3e9, 0x7FFF, 0xFFFF, 0x3F7F, 0xFFFF);
    expect_regs(TYPE_INT32_FLOAT32, A, -3e9, 0x8000, 0x0000, 0xBF7F, 0xFFFF);
    /* 0.99999999 rounds to 1.0f as a fraction: carried, 1 + 0. */
    expect_regs(TYPE_INT32_FLOAT32, A, 0.99999999, 0, 1, 0, 0);
    expect_regs(TYPE_INT32_FLOAT32, A, -0.99999999, 0xFFFF, 0xFFFF, 0, 0);
    /* uint32+milli: 0.9996 -> 1.000, clamps at 0 and 2^32 - 1 + 0.999. */
    expect_regs(TYPE_UINT32_MILLI, A, 0.9996, 0, 1, 0, 0);
    expect_regs(TYPE_UINT32_MILLI, A, 12.3454, 0, 12, 345, 0);
    expect_regs(TYPE_UINT32_MILLI, A, -1, 0, 0, 0, 0);
    expect_regs(TYPE_UINT32_MILLI, A, NAN, 0, 0, 0, 0);
    expect_regs(TYPE_UINT32_MILLI, B, 5e9, 0xFFFF, 0xFFFF, 0xE703, 0);
    expect_regs(TYPE_UINT32_MILLI, A, 4294967295.9994, 0xFFFF, 0xFFFF, 999, 0);
}

static void
test_encode_nan(void **state)
{
    struct conf_point p = mkpt(TYPE_INT32_FLOAT32, C);
    uint16_t r[4];
    double out;

    (void)state;
    decode_encode_raw(&p, NAN, r);
    assert_int_equal(decode_point(&p, r, 1, 1, &out), DECODE_BADFRAC);
    p = mkpt(TYPE_FLOAT64, B);
    decode_encode_raw(&p, NAN, r);
    assert_int_equal(decode_point(&p, r, 1, 1, &out), DECODE_NAN);
    p = mkpt(TYPE_FLOAT32, D);
    decode_encode_raw(&p, -INFINITY, r);
    assert_int_equal(decode_point(&p, r, 1, 1, &out), DECODE_NAN);
}

/* Integer range of a type, as doubles. */
static void
int_range(enum conf_type t, double *lo, double *hi)
{
    switch (t) {
    case TYPE_UINT16:
        *lo = 0, *hi = 65535;
        return;
    case TYPE_INT16:
        *lo = -32768, *hi = 32767;
        return;
    case TYPE_UINT32:
        *lo = 0, *hi = 4294967295.0;
        return;
    case TYPE_INT32:
        *lo = -2147483648.0, *hi = 2147483647.0;
        return;
    case TYPE_UINT64:
        *lo = 0, *hi = 18446744073709551615.0;
        return;
    case TYPE_INT64:
        *lo = -9223372036854775808.0, *hi = 9223372036854775807.0;
        return;
    default:
        *lo = -INFINITY, *hi = INFINITY;
    }
}

/* encode -> decode for every type x order over a set of raw values. */
static void
test_round_trip(void **state)
{
    static const double values[] = {
        0,        1,       -1,         0.5,        -0.5,         0.4,
        2.5,      123.456, -123.456,   255,        256,          65535,
        65536,    -32768,  -32769,     1e6,        -1e6,         12345.678,
        999.9996, 0.0005,  4294967295, 4294967296, 2147483647.5, -2147483648.0,
        0x1p53,   -0x1p53, 1e15,       -1e15,      1e19,         1e300,
        -1e300,   3.4e38,  1e-30,      0.99999999, -0.99999999,  70000.123,
    };
    (void)state;
    for (int t = TYPE_UINT16; t <= TYPE_UINT32_MILLI; t++) {
        for (int o = A; o <= D; o++) {
            struct conf_point p = mkpt((enum conf_type)t, (enum conf_order)o);
            for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                double v = values[i], got, want, tol = 0, lo, hi;
                uint16_t r[4] = {0};

                decode_encode_raw(&p, v, r);
                if (decode_raw(&p, r, &got) != DECODE_OK)
                    fail_msg("%s %s %.17g: not decodable",
                             conf_type_name(p.type), order_names[o], v);
                switch (p.type) {
                case TYPE_FLOAT32:
                    want = fabs(v) > FLT_MAX ? copysign(FLT_MAX, v)
                                             : (double)(float)v;
                    break;
                case TYPE_FLOAT64:
                    want = v;
                    break;
                case TYPE_INT32_FLOAT32:
                    /* the fraction carries 24 bits; the clamp keeps
                     * INT32_MAX + (1 - 2^-24) */
                    want = fmax(fmin(v, 2147483648.0), -2147483649.0);
                    tol = 1e-6;
                    break;
                case TYPE_UINT32_MILLI:
                    want = fmax(fmin(v, 4294967295.999), 0.0);
                    tol = 0.0005 + 1e-6;
                    break;
                default:
                    int_range(p.type, &lo, &hi);
                    want = v <= lo ? lo : v >= hi ? hi : v;
                    tol = 0.5;
                    if (got != floor(got))
                        fail_msg("%s: %.17g not an integer",
                                 conf_type_name(p.type), got);
                }
                if (!close_to(want, got, tol))
                    fail_msg("%s %s %.17g: decoded %.17g, want %.17g",
                             conf_type_name(p.type), order_names[o], v, got,
                             want);
            }
        }
    }
}

/* Orders only permute bytes: the same value in abcd and in another order
 * holds the same multiset of bytes, placed as the order says. */
static void
test_orders_are_permutations(void **state)
{
    (void)state;
    for (int t = TYPE_UINT16; t <= TYPE_UINT32_MILLI; t++) {
        struct conf_point pa = mkpt((enum conf_type)t, A);
        struct conf_point pd = mkpt((enum conf_type)t, D);
        int w = conf_type_width((enum conf_type)t);
        uint16_t ra[4] = {0}, rd[4] = {0};
        /* A fraction part is ordered on its own: reverse each part. */
        int part = t == TYPE_INT32_FLOAT32 ? 2 : t == TYPE_UINT32_MILLI ? 2 : w;

        decode_encode_raw(&pa, 1234.5, ra);
        decode_encode_raw(&pd, 1234.5, rd);
        for (int k = 0; k < part; k++)
            assert_int_equal(rd[k], (uint16_t)((ra[part - 1 - k] << 8) |
                                               (ra[part - 1 - k] >> 8)));
        for (int k = part; k < w; k++) {
            int base = part, len = w - part;
            int src = base + len - 1 - (k - base);
            assert_int_equal(rd[k],
                             (uint16_t)((ra[src] << 8) | (ra[src] >> 8)));
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_and_order),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_nan_leaves_out_nan),
        cmocka_unit_test(test_scale_offset),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_non_finite_result),
        cmocka_unit_test(test_encode_round_and_clamp),
        cmocka_unit_test(test_encode_nan),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_orders_are_permutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* libFuzzer target for drivers/decode.c: any registers, any type and order.
 *
 * Input: byte 0 type, byte 1 order, bytes 2..9 four registers (high byte
 * first), optional bytes 10..17 scale and 18..25 offset (IEEE 754 doubles,
 * big-endian). Checks that decoding never fails unsafely, that OK values are
 * finite, and that encoding a decoded raw value gives it back.
 *
 * Built by tests/fuzz/CMakeLists.txt: with -DECMON_FUZZ=ON (clang) as a
 * libFuzzer binary, else with standalone.c to replay the corpus in ctest. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double
get_double(const uint8_t *b)
{
    uint64_t u = 0;
    double d;

    for (int i = 0; i < 8; i++)
        u = (u << 8) | b[i];
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Types whose every decodable register pattern survives a trip through a
 * double: encoding the decoded raw value gives the same registers. */
static int
exact_type(enum conf_type t)
{
    return t != TYPE_UINT64 && t != TYPE_INT64 && t != TYPE_INT32_FLOAT32;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_point p;
    uint16_t regs[4], again[4] = {0};
    double out, raw, back;
    enum decode_status st;
    int w;

    if (size < 10)
        return 0;
    memset(&p, 0, sizeof p);
    p.type = (enum conf_type)(data[0] % (TYPE_UINT32_MILLI + 1));
    p.order = (enum conf_order)(data[1] % 4);
    p.scale = size >= 18 ? get_double(data + 10) : 1.0;
    p.offset = size >= 26 ? get_double(data + 18) : 0.0;
    p.ratio = data[1] >> 6;
    for (int i = 0; i < 4; i++)
        regs[i] = (uint16_t)(data[2 + 2 * i] << 8 | data[3 + 2 * i]);
    w = conf_type_width(p.type);

    st = decode_point(&p, regs, 40.0, 10.0, &out);
    if (st == DECODE_OK ? !isfinite(out) : !isnan(out))
        abort();
    if (decode_raw(&p, regs, &raw) != DECODE_OK)
        return 0;
    if (!isfinite(raw))
        abort();

    /* encode(decode(regs)) decodes to the same raw value (int32+float32:
     * to within the fraction's float rounding, as int and fraction may be
     * re-split, e.g. 5 - 0.5 -> 4 + 0.5), and where exact gives the same
     * registers. */
    decode_encode_raw(&p, raw, again);
    if (decode_raw(&p, again, &back) != DECODE_OK)
        abort();
    if (p.type == TYPE_INT32_FLOAT32 ? fabs(back - raw) > 1e-6 : back != raw)
        abort();
    if (exact_type(p.type) && memcmp(regs, again, (size_t)w * 2) != 0)
        abort();
    return 0;
}

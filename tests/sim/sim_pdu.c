/* Modbus request PDUs -> answers from the simulated meters (FC 03/04), and
 * the RTU CRC. Pure: no I/O, no allocation. */
#include "tests/sim/sim_pdu.h"

uint16_t
sim_crc16(const uint8_t *buf, size_t len)
{
    uint16_t crc = 0xffff;

    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xa001)
                            : (uint16_t)(crc >> 1);
    }
    return crc;
}

static size_t
exception(struct sim_stats *st, uint8_t fc, uint8_t code, uint8_t *out)
{
    st->exceptions++;
    out[0] = (uint8_t)(fc | 0x80);
    out[1] = code;
    return 2;
}

size_t
sim_pdu_answer(struct sim *s, int bus, uint8_t unit, const uint8_t *pdu,
               size_t len, double now, struct sim_answer *a, uint8_t *out)
{
    int mi = s->unit_map[bus][unit];

    a->unit = unit;
    a->badcrc = false;
    if (mi < 0) {
        s->orphan.requests++;
        s->orphan.unanswered++;
        return 0;
    }
    struct sim_meter *m = &s->meters[mi];
    m->stats.requests++;
    switch (m->fault) {
    case FAULT_TIMEOUT:
        m->stats.unanswered++;
        return 0;
    case FAULT_BADUNIT:
        a->unit = (uint8_t)(unit + 1);
        break;
    case FAULT_BADCRC:
        a->badcrc = true;
        break;
    default:
        break;
    }
    uint8_t fc = len > 0 ? pdu[0] : 0;
    if (m->fault == FAULT_EXCEPTION)
        return exception(&m->stats, fc, m->exc_code, out);
    if (fc != 0x03 && fc != 0x04)
        return exception(&m->stats, fc, 0x01, out);
    if (len != 5)
        return exception(&m->stats, fc, 0x03, out);
    unsigned addr = (unsigned)pdu[1] << 8 | pdu[2];
    unsigned count = (unsigned)pdu[3] << 8 | pdu[4];
    if (count == 0 || count > SIM_REGS_MAX)
        return exception(&m->stats, fc, 0x03, out);
    if (addr + count > 65536)
        return exception(&m->stats, fc, 0x02, out);
    enum conf_table t = fc == 0x03 ? TABLE_HOLDING : TABLE_INPUT;
    int code = sim_meter_check(m, t, addr, count);
    if (code)
        return exception(&m->stats, fc, (uint8_t)code, out);

    uint16_t regs[SIM_REGS_MAX];
    sim_meter_regs(m, t, addr, count, now, regs);
    out[0] = fc;
    out[1] = (uint8_t)(2 * count);
    for (unsigned i = 0; i < count; i++) {
        out[2 + 2 * i] = (uint8_t)(regs[i] >> 8);
        out[3 + 2 * i] = (uint8_t)regs[i];
    }
    return 2 + 2 * (size_t)count;
}

/* Modbus PDUs for the simulator: requests in, answers out, no transport. */
#ifndef ECMON_SIM_PDU_H
#define ECMON_SIM_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/sim/sim.h"

#define SIM_PDU_MAX                                                            \
    253 /* longest PDU: FC 03 answer of 125 registers is 252                   \
         */

/* How to frame an answer. */
struct sim_answer {
    uint8_t unit; /* unit id to answer with (the badunit fault changes it) */
    bool badcrc;  /* RTU: corrupt the CRC (the badcrc fault) */
};

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); sent low byte first. */
uint16_t sim_crc16(const uint8_t *buf, size_t len);

/* Answer the request `pdu` (len bytes, function code first) sent to `unit`
 * on bus index `bus`, reading values at `now`. Writes the answer PDU to
 * `out` (SIM_PDU_MAX bytes) and returns its length, or 0 for no answer
 * (unknown unit id, timeout fault). Counts the request in the meter's
 * stats. FC 03/04 only; other codes get exception 01, a bad length or count
 * exception 03, registers outside the meter's points exception 02. */
size_t sim_pdu_answer(struct sim *s, int bus, uint8_t unit, const uint8_t *pdu,
                      size_t len, double now, struct sim_answer *a,
                      uint8_t *out);

#endif

/* Pure Modbus TCP framing for a client.
 *
 * The frame (MODBUS Messaging on TCP/IP Implementation Guide V1.0b, section
 * 3.1.3, and MODBUS Application Protocol Specification V1.1b3, sections 6.3,
 * 6.4 and 7), every field big-endian:
 *
 *   MBAP header: transaction id (2), protocol id (2, always 0), length (2:
 *   the bytes that follow it, unit id included), unit id (1); then the PDU:
 *   function code (1) and data. A read request's data is the start address
 *   (2) and the register count (2); its answer's is a byte count (1, twice
 *   the registers) and the registers; an exception answer is the function
 *   code with bit 7 set and one exception code byte.
 *
 * A PDU is at most 253 bytes, so the length field is 2 (unit id + function
 * code) + data, at most 254; the shortest answer (an exception) has 3. */
#include "drivers/mbtcp.h"

#include <stdbool.h>
#include <stdio.h>

#include "drivers/mblink.h"

#define LEN_MIN 3   /* unit id, function code, one byte of data */
#define LEN_MAX 254 /* unit id + a PDU of 253 bytes */

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

size_t
mbtcp_encode_read(uint8_t *out, struct mbtcp_req *req, uint16_t tid,
                  uint8_t unit, enum conf_table table, uint16_t addr,
                  uint16_t count)
{
    req->tid = tid;
    req->unit = unit;
    req->fc = table == TABLE_HOLDING ? 0x03 : 0x04;
    req->count = count;
    put16(out, tid);
    put16(out + 2, 0);
    put16(out + 4, 6); /* unit id, function code, address, count */
    out[6] = unit;
    out[7] = req->fc;
    put16(out + 8, addr);
    put16(out + 10, count);
    return MBTCP_REQ_LEN;
}

enum mbtcp_result
mbtcp_parse(const uint8_t *buf, size_t len, const struct mbtcp_req *req,
            uint16_t *dst, int *exc, size_t *used, char *err, size_t errlen)
{
    *used = 0;
    *exc = 0;
    if (len >= 4 && get16(buf + 2) != 0) {
        snprintf(err, errlen, "not a Modbus TCP frame (protocol id %u)",
                 get16(buf + 2));
        return MBTCP_DESYNC;
    }
    if (len < 6)
        return MBTCP_MORE;
    unsigned flen = get16(buf + 4);
    if (flen < LEN_MIN || flen > LEN_MAX) {
        snprintf(err, errlen, "not a Modbus TCP frame (length field %u)", flen);
        return MBTCP_DESYNC;
    }
    if (len < 6 + (size_t)flen)
        return MBTCP_MORE;
    *used = 6 + (size_t)flen;

    if (req == NULL || get16(buf) != req->tid)
        return MBTCP_STALE;
    const uint8_t *pdu = buf + MBTCP_MBAP_LEN;
    size_t pdulen = flen - 1;
    if (buf[6] != req->unit) {
        snprintf(err, errlen, "answer from unit %u to a request to unit %u",
                 buf[6], req->unit);
        return MBTCP_BAD;
    }
    if (pdu[0] == (req->fc | 0x80)) {
        if (pdulen != 2) {
            snprintf(err, errlen, "exception answer of %zu bytes", pdulen);
            return MBTCP_BAD;
        }
        *exc = pdu[1];
        snprintf(err, errlen, "exception %d (%s)", *exc,
                 mblink_exception_name(*exc));
        return MBTCP_EXCEPTION;
    }
    if (pdu[0] != req->fc) {
        snprintf(err, errlen, "answer with function %u to function %u", pdu[0],
                 req->fc);
        return MBTCP_BAD;
    }
    if (pdu[1] != 2 * req->count || pdulen != 2 + (size_t)pdu[1]) {
        snprintf(err, errlen,
                 "answer with %u data bytes in %zu (expected %u registers)",
                 pdu[1], pdulen - 2, req->count);
        return MBTCP_BAD;
    }
    for (unsigned i = 0; i < req->count; i++)
        dst[i] = get16(pdu + 2 + 2 * i);
    return MBTCP_ANSWER;
}

/* Pure Modbus TCP framing for a client: read requests (FC 03/04) out,
 * answers in from a byte stream. No I/O, no allocation. */
#ifndef ECMON_MBTCP_H
#define ECMON_MBTCP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define MBTCP_MBAP_LEN 7  /* transaction id, protocol id, length, unit id */
#define MBTCP_REQ_LEN 12  /* MBAP + function, address, count */
#define MBTCP_ADU_MAX 260 /* MBAP + the largest PDU (253 bytes) */
#define MBTCP_MAX_REGS 125

/* The request an answer must match. */
struct mbtcp_req {
    uint16_t tid;   /* transaction id */
    uint8_t unit;   /* unit id */
    uint8_t fc;     /* 0x03 holding or 0x04 input registers */
    uint16_t count; /* registers asked for, 1..125 */
};

/* Write the request "read `count` registers at `addr` of `table` from unit
 * `unit`" with transaction id `tid` into out (MBTCP_REQ_LEN bytes) and fill
 * *req with what the answer must match. Returns MBTCP_REQ_LEN. count must
 * be 1..125 (the caller's plan guarantees it). */
size_t mbtcp_encode_read(uint8_t *out, struct mbtcp_req *req, uint16_t tid,
                         uint8_t unit, enum conf_table table, uint16_t addr,
                         uint16_t count);

enum mbtcp_result {
    MBTCP_MORE,      /* no complete frame yet: read more */
    MBTCP_ANSWER,    /* the answer: req->count registers in dst */
    MBTCP_EXCEPTION, /* an exception answer: the code in *exc */
    MBTCP_STALE,     /* a well-framed answer to another transaction (e.g.
                        one that timed out): drop it and look again */
    MBTCP_BAD,       /* a well-framed answer to this transaction that does
                        not fit the request: wrong unit id, function, byte
                        count */
    MBTCP_DESYNC,    /* not a Modbus TCP frame (protocol id, length out of
                        range): the stream's framing is lost; reconnect */
};

/* Look at the front of the bytes received so far, buf[0 .. len), for the
 * answer to `req` (NULL: nothing is expected, so every complete frame is
 * MBTCP_STALE). On every result but MBTCP_MORE and MBTCP_DESYNC, *used is
 * the length of the frame, to be dropped from the front of the stream. On
 * MBTCP_BAD, MBTCP_DESYNC and MBTCP_EXCEPTION err says what was wrong
 * ("exception 2 (illegal data address)"). Checks the protocol id and the
 * length field as soon as their bytes are there, so that garbage is refused
 * without waiting for a timeout. dst has room for req->count registers. */
enum mbtcp_result mbtcp_parse(const uint8_t *buf, size_t len,
                              const struct mbtcp_req *req, uint16_t *dst,
                              int *exc, size_t *used, char *err, size_t errlen);

#endif

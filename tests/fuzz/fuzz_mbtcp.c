/* libFuzzer target for drivers/mbtcp.c: a byte stream from a Modbus TCP
 * server, as answers to one request.
 *
 * Input: bytes 0..1 transaction id, 2 unit id, 3 function (even: 03, odd:
 * 04), 4 register count (1..125); the rest is the stream. Parses it frame by
 * frame as a client would (dropping stale frames, stopping at a desync), once
 * from the whole buffer and once as it trickles in one byte at a time, and
 * checks that both see the same frames, that every frame consumed lies
 * within the bytes received, and that answers have the size the request
 * implies.
 *
 * Built by tests/fuzz/CMakeLists.txt: with -DECMON_FUZZ=ON (clang) as a
 * libFuzzer binary, else with standalone.c to replay the corpus in ctest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/mbtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 64

struct seen {
    enum mbtcp_result r[MAX_FRAMES];
    size_t used[MAX_FRAMES];
    uint16_t first[MAX_FRAMES];
    size_t n;
};

static void
check_frame(const struct mbtcp_req *req, enum mbtcp_result r, size_t used,
            size_t avail, int exc)
{
    if (r == MBTCP_MORE || r == MBTCP_DESYNC) {
        if (used != 0)
            abort();
        return;
    }
    if (used < 9 || used > MBTCP_ADU_MAX || used > avail)
        abort();
    if (r == MBTCP_ANSWER && used != 9 + 2 * (size_t)req->count)
        abort();
    if (r == MBTCP_EXCEPTION && (used != 9 || exc < 0 || exc > 255))
        abort();
}

/* Parse stream[0 .. len) from the front; returns the bytes consumed. */
static size_t
run(const struct mbtcp_req *req, const uint8_t *stream, size_t len,
    struct seen *s, int *stop)
{
    size_t off = 0;
    while (!*stop && s->n < MAX_FRAMES) {
        uint16_t regs[MBTCP_MAX_REGS] = {0};
        size_t used;
        int exc;
        char err[160];
        enum mbtcp_result r = mbtcp_parse(stream + off, len - off, req, regs,
                                          &exc, &used, err, sizeof err);
        check_frame(req, r, used, len - off, exc);
        if (r == MBTCP_MORE)
            break;
        if (strlen(err) >= sizeof err)
            abort();
        s->r[s->n] = r;
        s->used[s->n] = used;
        s->first[s->n] = r == MBTCP_ANSWER ? regs[0] : 0;
        s->n++;
        if (r == MBTCP_DESYNC) {
            *stop = 1;
            break;
        }
        off += used;
    }
    return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mbtcp_req req;
    uint8_t reqbuf[MBTCP_REQ_LEN];
    struct seen whole = {0}, trickle = {0};
    int stop = 0;

    if (size < 5)
        return 0;
    uint16_t count = (uint16_t)(data[4] % MBTCP_MAX_REGS + 1);
    mbtcp_encode_read(reqbuf, &req, (uint16_t)(data[0] << 8 | data[1]), data[2],
                      data[3] & 1 ? TABLE_INPUT : TABLE_HOLDING, 0, count);
    const uint8_t *stream = data + 5;
    size_t len = size - 5;

    run(&req, stream, len, &whole, &stop);

    /* The same stream arriving byte by byte into a client's buffer. */
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return 0;
    size_t have = 0, base = 0;
    stop = 0;
    for (size_t i = 0; i < len && !stop; i++) {
        buf[have++] = stream[i];
        size_t used = run(&req, buf + base, have - base, &trickle, &stop);
        base += used;
    }
    free(buf);
    if (whole.n != trickle.n)
        abort();
    for (size_t i = 0; i < whole.n; i++)
        if (whole.r[i] != trickle.r[i] || whole.used[i] != trickle.used[i] ||
            whole.first[i] != trickle.first[i])
            abort();
    return 0;
}

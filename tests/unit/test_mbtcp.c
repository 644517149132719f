/* Unit tests of the Modbus TCP codec: requests byte by byte, answers from a
 * stream (partial, several at once, stale, malformed). The frames here are
 * written out by hand from the spec, not made by the codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/mbtcp.h"

static char err[160];

static enum mbtcp_result
parse(const uint8_t *buf, size_t len, const struct mbtcp_req *req,
      uint16_t *dst, int *exc, size_t *used)
{
    err[0] = '\0';
    return mbtcp_parse(buf, len, req, dst, exc, used, err, sizeof err);
}

static void
test_encode_read_request(void **state)
{
    (void)state;
    uint8_t out[MBTCP_REQ_LEN];
    struct mbtcp_req req;
    static const uint8_t holding[] = {0x12, 0x34, 0x00, 0x00, 0x00, 0x06,
                                      0x07, 0x03, 0x10, 0x18, 0x00, 0x7d};
    static const uint8_t input[] = {0xff, 0xff, 0x00, 0x00, 0x00, 0x06,
                                    0xff, 0x04, 0x00, 0x00, 0x00, 0x01};

    assert_int_equal(
        mbtcp_encode_read(out, &req, 0x1234, 7, TABLE_HOLDING, 0x1018, 125),
        MBTCP_REQ_LEN);
    assert_memory_equal(out, holding, sizeof holding);
    assert_int_equal(req.tid, 0x1234);
    assert_int_equal(req.unit, 7);
    assert_int_equal(req.fc, 3);
    assert_int_equal(req.count, 125);

    mbtcp_encode_read(out, &req, 0xffff, 255, TABLE_INPUT, 0, 1);
    assert_memory_equal(out, input, sizeof input);
    assert_int_equal(req.fc, 4);
}

/* The answer to "read 2 holding registers from unit 1", transaction 5. */
static const uint8_t answer[] = {0x00, 0x05, 0x00, 0x00, 0x00, 0x07, 0x01,
                                 0x03, 0x04, 0x41, 0x48, 0x00, 0x01};
static const struct mbtcp_req req5 = {5, 1, 3, 2};

static void
test_answer(void **state)
{
    (void)state;
    uint16_t regs[2] = {0};
    size_t used;
    int exc;

    assert_int_equal(parse(answer, sizeof answer, &req5, regs, &exc, &used),
                     MBTCP_ANSWER);
    assert_int_equal(used, sizeof answer);
    assert_int_equal(regs[0], 0x4148);
    assert_int_equal(regs[1], 0x0001);
}

static void
test_partial_reads_ask_for_more(void **state)
{
    (void)state;
    uint16_t regs[2];
    size_t used;
    int exc;

    for (size_t n = 0; n < sizeof answer; n++)
        assert_int_equal(parse(answer, n, &req5, regs, &exc, &used),
                         MBTCP_MORE);
}

static void
test_several_frames_in_one_read(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint16_t regs[2] = {0};
    size_t used, off = 0;
    int exc;
    /* A late answer to transaction 4, then the answer to 5, then the start
     * of something else. */
    memcpy(buf, answer, sizeof answer);
    buf[1] = 0x04;
    buf[10] = 0x99;
    memcpy(buf + sizeof answer, answer, sizeof answer);
    memcpy(buf + 2 * sizeof answer, answer, 3);
    size_t len = 2 * sizeof answer + 3;

    assert_int_equal(parse(buf, len, &req5, regs, &exc, &used), MBTCP_STALE);
    assert_int_equal(used, sizeof answer);
    off += used;
    assert_int_equal(parse(buf + off, len - off, &req5, regs, &exc, &used),
                     MBTCP_ANSWER);
    assert_int_equal(regs[0], 0x4148);
    off += used;
    assert_int_equal(parse(buf + off, len - off, &req5, regs, &exc, &used),
                     MBTCP_MORE);
}

static void
test_nothing_expected_makes_every_frame_stale(void **state)
{
    (void)state;
    uint16_t regs[2];
    size_t used;
    int exc;

    assert_int_equal(parse(answer, sizeof answer, NULL, regs, &exc, &used),
                     MBTCP_STALE);
    assert_int_equal(used, sizeof answer);
}

static void
test_exception(void **state)
{
    (void)state;
    static const uint8_t ex[] = {0x00, 0x05, 0x00, 0x00, 0x00,
                                 0x03, 0x01, 0x83, 0x02};
    static const uint8_t ex_long[] = {0x00, 0x05, 0x00, 0x00, 0x00,
                                      0x04, 0x01, 0x83, 0x02, 0x00};
    uint16_t regs[2];
    size_t used;
    int exc;

    assert_int_equal(parse(ex, sizeof ex, &req5, regs, &exc, &used),
                     MBTCP_EXCEPTION);
    assert_int_equal(exc, 2);
    assert_int_equal(used, sizeof ex);
    assert_string_equal(err, "exception 2 (illegal data address)");

    assert_int_equal(parse(ex_long, sizeof ex_long, &req5, regs, &exc, &used),
                     MBTCP_BAD);
    assert_int_equal(used, sizeof ex_long);
}

static void
test_wrong_unit_and_function(void **state)
{
    (void)state;
    uint8_t buf[sizeof answer];
    uint16_t regs[2];
    size_t used;
    int exc;

    memcpy(buf, answer, sizeof buf);
    buf[6] = 2;
    assert_int_equal(parse(buf, sizeof buf, &req5, regs, &exc, &used),
                     MBTCP_BAD);
    assert_int_equal(used, sizeof buf);
    assert_non_null(strstr(err, "unit 2"));

    memcpy(buf, answer, sizeof buf);
    buf[7] = 4;
    assert_int_equal(parse(buf, sizeof buf, &req5, regs, &exc, &used),
                     MBTCP_BAD);
    memcpy(buf, answer, sizeof buf);
    buf[7] = 0x84; /* an exception to another function */
    assert_int_equal(parse(buf, sizeof buf, &req5, regs, &exc, &used),
                     MBTCP_BAD);
}

static void
test_byte_count_mismatch(void **state)
{
    (void)state;
    uint8_t buf[32];
    uint16_t regs[3];
    size_t used;
    int exc;
    const struct mbtcp_req req3 = {5, 1, 3, 3};

    /* Two registers where three were asked for. */
    assert_int_equal(parse(answer, sizeof answer, &req3, regs, &exc, &used),
                     MBTCP_BAD);
    assert_int_equal(used, sizeof answer);

    /* The byte count says 6 but the frame holds 4. */
    memcpy(buf, answer, sizeof answer);
    buf[8] = 6;
    assert_int_equal(parse(buf, sizeof answer, &req5, regs, &exc, &used),
                     MBTCP_BAD);

    /* The length field counts a byte more than the byte count: the frame
     * is consumed whole (the stream stays in step) and refused. */
    memcpy(buf, answer, sizeof answer);
    buf[5] = 8;
    buf[sizeof answer] = 0;
    assert_int_equal(parse(buf, sizeof answer + 1, &req5, regs, &exc, &used),
                     MBTCP_BAD);
    assert_int_equal(used, sizeof answer + 1);
}

static void
test_lying_header_desyncs_early(void **state)
{
    (void)state;
    uint8_t buf[sizeof answer];
    uint16_t regs[2];
    size_t used;
    int exc;

    /* Protocol id 1: refused as soon as its bytes are in. */
    memcpy(buf, answer, sizeof buf);
    buf[3] = 1;
    assert_int_equal(parse(buf, 4, &req5, regs, &exc, &used), MBTCP_DESYNC);
    assert_int_equal(parse(buf, 3, &req5, regs, &exc, &used), MBTCP_MORE);

    /* Length fields outside 3..254. */
    static const uint16_t lens[] = {0, 1, 2, 255, 0x1000, 0xffff};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memcpy(buf, answer, sizeof buf);
        buf[4] = (uint8_t)(lens[i] >> 8);
        buf[5] = (uint8_t)lens[i];
        assert_int_equal(parse(buf, 6, &req5, regs, &exc, &used), MBTCP_DESYNC);
    }

    /* A length of 254 is a frame: the codec waits for all of it. */
    memcpy(buf, answer, sizeof buf);
    buf[5] = 254;
    assert_int_equal(parse(buf, sizeof buf, &req5, regs, &exc, &used),
                     MBTCP_MORE);
}

static void
test_largest_answer(void **state)
{
    (void)state;
    uint8_t buf[MBTCP_ADU_MAX];
    uint16_t regs[MBTCP_MAX_REGS];
    size_t used;
    int exc;
    const struct mbtcp_req req = {0xbeef, 247, 4, 125};

    buf[0] = 0xbe;
    buf[1] = 0xef;
    buf[2] = buf[3] = 0;
    buf[4] = 0;
    buf[5] = 3 + 250;
    buf[6] = 247;
    buf[7] = 4;
    buf[8] = 250;
    for (int i = 0; i < 125; i++) {
        buf[9 + 2 * i] = (uint8_t)i;
        buf[10 + 2 * i] = (uint8_t)(255 - i);
    }
    assert_int_equal(parse(buf, 259, &req, regs, &exc, &used), MBTCP_ANSWER);
    assert_int_equal(used, 259);
    assert_int_equal(regs[0], 0x00ff);
    assert_int_equal(regs[124], (124 << 8) | 131);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_read_request),
        cmocka_unit_test(test_answer),
        cmocka_unit_test(test_partial_reads_ask_for_more),
        cmocka_unit_test(test_several_frames_in_one_read),
        cmocka_unit_test(test_nothing_expected_makes_every_frame_stale),
        cmocka_unit_test(test_exception),
        cmocka_unit_test(test_wrong_unit_and_function),
        cmocka_unit_test(test_byte_count_mismatch),
        cmocka_unit_test(test_lying_header_desyncs_early),
        cmocka_unit_test(test_largest_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

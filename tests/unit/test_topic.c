/* Unit tests of topic and payload formatting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/core/topic.h"

static void
test_topics(void **state)
{
    (void)state;
    char b[128];
    assert_int_equal(topic_reading(b, sizeof b, "ecmon", "dongsheng", "bomin",
                                   "bomin-flow", "flow"),
                     strlen("ecmon/dongsheng/bomin/bomin-flow/flow"));
    assert_string_equal(b, "ecmon/dongsheng/bomin/bomin-flow/flow");
    topic_meter_status(b, sizeof b, "ecmon", "dongsheng", "park", "wwtp-in");
    assert_string_equal(b, "ecmon/dongsheng/park/wwtp-in/status");
    topic_park_status(b, sizeof b, "ecmon", "dongsheng");
    assert_string_equal(b, "ecmon/dongsheng/status");
    assert_int_equal(topic_reading(b, 10, "ecmon", "dongsheng", "a", "b", "c"),
                     -1);
}

static void
test_doubles_round_trip(void **state)
{
    (void)state;
    const double vs[] = {0,
                         12.5,
                         0.1,
                         -0.1,
                         1e-7,
                         1e300,
                         -2.5e-300,
                         123456789.123,
                         (double)123.456f,
                         (double)(float)0.1,
                         36.0,
                         4294967295.0,
                         -9007199254740993.0,
                         0.30000000000000004};
    char b[32];
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        assert_true(topic_fmt_double(b, sizeof b, vs[i]) > 0);
        assert_true(strtod(b, NULL) == vs[i]);
    }
    topic_fmt_double(b, sizeof b, 12.5);
    assert_string_equal(b, "12.5");
    topic_fmt_double(b, sizeof b, 0.1);
    assert_string_equal(b, "0.1");
    topic_fmt_double(b, sizeof b, NAN);
    assert_string_equal(b, "null");
    topic_fmt_double(b, sizeof b, INFINITY);
    assert_string_equal(b, "null");
}

static void
test_payloads(void **state)
{
    (void)state;
    char b[256];
    payload_reading(b, sizeof b, 1763791200.123, 12.5, "m3/h", 'N');
    assert_string_equal(
        b, "{\"ts\":1763791200.123,\"value\":12.5,\"unit\":\"m3/h\","
           "\"flag\":\"N\"}");
    payload_reading(b, sizeof b, 1.5, NAN, "a\"b\\c\n", 'D');
    assert_string_equal(b, "{\"ts\":1.500,\"value\":null,"
                           "\"unit\":\"a\\\"b\\\\c\\u000a\",\"flag\":\"D\"}");
    payload_meter_status(b, sizeof b, 1, 0, 100.25, 100.25, NULL);
    assert_string_equal(b, "{\"state\":\"online\",\"errors\":0,"
                           "\"last_ok\":100.250,\"since\":100.250}");
    payload_meter_status(b, sizeof b, 0, 3, 0, 200, "timed out");
    assert_string_equal(b, "{\"state\":\"offline\",\"errors\":3,"
                           "\"last_ok\":null,\"since\":200.000,"
                           "\"reason\":\"timed out\"}");
    assert_int_equal(payload_reading(b, 20, 1, 1, "m", 'N'), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_doubles_round_trip),
        cmocka_unit_test(test_payloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the value-added MQTT input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/core/va_message.h"

#define TOPIC "ecmon/dongsheng/bomin/value_added/set"

static int
parse(const char *topic, const char *payload, struct va_message *m, char *err)
{
    return va_message_parse("ecmon", "dongsheng", topic, payload,
                            strlen(payload), m, err, 256);
}

static void
test_good(void **state)
{
    (void)state;
    struct va_message m;
    char err[256];
    assert_int_equal(
        parse(TOPIC, "{\"period\":\"2026-11\",\"yuan\":1.0e8}", &m, err), 0);
    assert_string_equal(m.enterprise, "bomin");
    assert_string_equal(m.period, "2026-11");
    assert_true(m.yuan == 1.0e8);
    assert_int_equal(
        parse(TOPIC, " {\"yuan\": 5, \"period\": \"2026\"} ", &m, err), 0);
    assert_true(m.yuan == 5.0);
}

static void
test_bad(void **state)
{
    (void)state;
    struct va_message m;
    char err[256];
    static const struct {
        const char *topic, *payload, *why;
    } bad[] = {
        {"ecmon/dongsheng/bomin/value_added", "{}", "unexpected topic"},
        {"ecmon/other/bomin/value_added/set", "{}", "unexpected topic"},
        {"ecmon/dongsheng//value_added/set", "{}", "unexpected topic"},
        {"ecmon/dongsheng/a/b/value_added/set", "{}", "unexpected topic"},
        {"ecmonx/dongsheng/bomin/value_added/set", "{}", "unexpected topic"},
        {TOPIC, "{\"period\":\"2026-11\",", "malformed JSON"},
        {TOPIC, "{\"period\":\"2026\",\"yuan\":1e999}", "malformed JSON"},
        {TOPIC, "{\"period\":\"2026\",\"yuan\":1,\"period\":\"2025\"}",
         "malformed JSON"},
        {TOPIC, "{\"period\":\"2026-11\",\"yuan\":\"1e8\"}", "expected {"},
        {TOPIC, "{\"period\":\"2026-11\",\"yuan\":1,\"x\":1}", "expected {"},
        {TOPIC, "[\"2026-11\", 1]", "expected {"},
        {TOPIC, "{\"period\":\"2026-11-01T00:00:00\",\"yuan\":1}",
         "bad period"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (parse(bad[i].topic, bad[i].payload, &m, err) != -1)
            fail_msg("%s %s: accepted", bad[i].topic, bad[i].payload);
        if (strstr(err, bad[i].why) != err)
            fail_msg("%s %s: '%s', expected '%s'", bad[i].topic, bad[i].payload,
                     err, bad[i].why);
    }
    char big[VA_MESSAGE_MAX + 2];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(parse(TOPIC, big, &m, err), -1);
    assert_string_equal(err, "payload larger than 4096 bytes");
    assert_string_equal(m.enterprise, "bomin"); /* named in the log */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

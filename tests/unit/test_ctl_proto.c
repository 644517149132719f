/* Unit tests of the control protocol codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/ctl_proto.h"

static int
parse(const char *s, struct ctl_req *r, char *err)
{
    return ctl_parse(s, strlen(s), r, err, 128);
}

static void
test_good_requests(void **state)
{
    (void)state;
    struct ctl_req r;
    char err[128];
    assert_int_equal(parse("status\n", &r, err), 0);
    assert_int_equal(r.cmd, CTL_STATUS);
    assert_int_equal(r.argc, 0);
    assert_int_equal(parse("  meters  \r\n", &r, err), 0);
    assert_int_equal(r.cmd, CTL_METERS);
    assert_int_equal(parse("value-added bomin 2026-11 1.0e8", &r, err), 0);
    assert_int_equal(r.cmd, CTL_VALUE_ADDED);
    assert_int_equal(r.argc, 3);
    assert_string_equal(r.argv[0], "bomin");
    assert_string_equal(r.argv[1], "2026-11");
    assert_string_equal(r.argv[2], "1.0e8");
    assert_int_equal(parse("usage bomin", &r, err), 0);
    assert_string_equal(ctl_cmd_name(r.cmd), "usage");
}

static void
test_bad_requests(void **state)
{
    (void)state;
    struct ctl_req r;
    char err[128];
    assert_int_equal(parse("", &r, err), -1);
    assert_string_equal(err, "empty request");
    assert_int_equal(parse("\n", &r, err), -1);
    assert_int_equal(parse("frobnicate", &r, err), -1);
    assert_string_equal(err, "unknown command 'frobnicate'");
    assert_int_equal(parse("status now", &r, err), -1);
    assert_string_equal(err, "status: wrong number of arguments");
    assert_int_equal(parse("value-added bomin", &r, err), -1);
    assert_int_equal(parse("usage bo\"min", &r, err), -1);
    assert_string_equal(err, "bad character 0x22 in request");
    assert_int_equal(parse("usage a b c d e f", &r, err), -1);
    char big[CTL_MAX_LINE + 10];
    memset(big, 'a', sizeof big);
    assert_int_equal(ctl_parse(big, sizeof big, &r, err, sizeof err), -1);
    char arg[200] = "usage ";
    memset(arg + 6, 'x', 150);
    arg[156] = '\0';
    assert_int_equal(parse(arg, &r, err), -1);
    const char nul[] = "status\0x";
    assert_int_equal(ctl_parse(nul, sizeof nul - 1, &r, err, sizeof err), -1);
}

static void
test_random_bytes_never_crash(void **state)
{
    (void)state;
    struct ctl_req r;
    char err[128], buf[300];
    srand(42);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(rand() % (int)sizeof buf);
        for (size_t j = 0; j < n; j++)
            buf[j] =
                (char)(rand() % 4 == 0 ? ' ' : "status meters-x1"[rand() % 16]);
        if (ctl_parse(buf, n, &r, err, sizeof err) == 0)
            assert_true(r.argc >= 0 && r.argc <= CTL_MAX_ARGS);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_requests),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

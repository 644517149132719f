/* Unit tests of the HTTP API's routes and bearer tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/http_route.h"

static void
test_routes(void **state)
{
    (void)state;
    struct http_route r;
    assert_int_equal(http_route_parse("GET", "/api/v1/status", &r), 200);
    assert_int_equal(r.ep, HEP_STATUS);
    assert_false(r.has_a);
    assert_int_equal(http_route_parse("HEAD", "/api/v1/usage/alpha", &r), 200);
    assert_int_equal(r.ep, HEP_USAGE);
    assert_true(r.has_a);
    assert_string_equal(r.a, "alpha");
    assert_int_equal(http_route_parse("GET", "/api/v1/meters/m-1_x", &r), 200);
    assert_int_equal(r.ep, HEP_METERS);
    assert_string_equal(r.a, "m-1_x");
    assert_int_equal(
        http_route_parse("GET", "/api/v1/graph/quota/alpha/cod-year.svg", &r),
        200);
    assert_int_equal(r.ep, HEP_GRAPH_QUOTA);
    assert_string_equal(r.a, "alpha");
    assert_string_equal(r.b, "cod-year");
    assert_string_equal(r.fmt, "svg");
    assert_int_equal(
        http_route_parse("GET", "/api/v1/graph/meter/park/wwtp-in.png", &r),
        200);
    assert_int_equal(r.ep, HEP_GRAPH_METER);
    assert_string_equal(r.fmt, "png");
    assert_int_equal(http_route_parse("GET", "/api/v1/graph/capacity.png", &r),
                     200);
    assert_int_equal(r.ep, HEP_GRAPH_CAPACITY);
    assert_int_equal(http_route_parse("GET", "/api/v1/events", &r), 200);
    assert_int_equal(r.ep, HEP_EVENTS);
    assert_int_equal(http_route_parse("GET", "/", &r), 200);
    assert_int_equal(r.ep, HEP_ASSET);
    assert_string_equal(r.a, "/");
}

static void
test_bad_routes(void **state)
{
    (void)state;
    struct http_route r;
    static const char *const bad[] = {
        "/api/v1/",
        "/api/v1/statusx",
        "/api/v1/status/alpha",
        "/api/v1/usage/",
        "/api/v1/usage/Alpha",
        "/api/v1/usage/alpha/x",
        "/api/v1/usage/..",
        "/api/v1/usage/a%2fb",
        "/api/v1/usage/"
        "a123456789012345678901234567890123456789012345678901234567890123",
        "/api/v1/graph/quota/alpha",
        "/api/v1/graph/quota/alpha/q.gif",
        "/api/v1/graph/quota/alpha/.png",
        "/api/v1/graph/quota//q.png",
        "/api/v1/graph/capacity.pngx",
        "/api/v1/graph/meter/a/b.png/",
        "api/v1/status",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = http_route_parse("GET", bad[i], &r);
        if (st == 200)
            fail_msg("%s: routed to %d", bad[i], r.ep);
        if (st != 404)
            fail_msg("%s: %d", bad[i], st);
    }
    /* Other paths are page files, looked up by name (404 when none). */
    assert_int_equal(http_route_parse("GET", "/api/v2/status", &r), 200);
    assert_int_equal(r.ep, HEP_ASSET);
    assert_int_equal(http_route_parse("POST", "/api/v1/status", &r), 405);
    assert_int_equal(http_route_parse("DELETE", "/", &r), 405);
    assert_int_equal(http_route_parse("get", "/", &r), 405);
    assert_int_equal(http_route_parse(NULL, "/", &r), 400);
}

static void
test_tokens(void **state)
{
    (void)state;
    char hex[65];
    /* sha256("abc"), FIPS 180-2 appendix B.1 */
    http_sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    struct conf_token t[2] = {{.role = "staff"}, {.role = "enterprise:alpha"}};
    http_sha256_hex("staff-secret-1234", 17, t[0].sha256);
    http_sha256_hex("alpha-secret-5678", 17, t[1].sha256);
    struct conf c = {0};
    c.http.tokens = t;
    c.http.ntokens = 2;
    assert_int_equal(http_auth(&c, "Bearer staff-secret-1234"), 0);
    assert_int_equal(http_auth(&c, "bearer  alpha-secret-5678 "), 1);
    assert_int_equal(http_auth(&c, "Bearer alpha-secret-567"), -1);
    assert_int_equal(http_auth(&c, "Bearer "), -1);
    assert_int_equal(http_auth(&c, "Basic YWxwaGE6YQ=="), -1);
    assert_int_equal(http_auth(&c, "staff-secret-1234"), -1);
    assert_int_equal(http_auth(&c, NULL), -1);
    /* The hash itself is not a token. */
    char auth[80];
    snprintf(auth, sizeof auth, "Bearer %s", t[0].sha256);
    assert_int_equal(http_auth(&c, auth), -1);

    assert_null(http_role_only("staff"));
    assert_string_equal(http_role_only("enterprise:alpha"), "alpha");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_bad_routes),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

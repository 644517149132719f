/* Fuzz target: the HTTP API's request parsing (daemon/http_route.c). The
 * input is "METHOD\nPATH\nAUTHORIZATION". Whatever it is, the route's ids
 * are well-formed ids and a token is found only for its own hash. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < CONF_ID_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char *method = in, *path = strchr(method, '\n'), *auth = NULL;
    if (path) {
        *path++ = '\0';
        auth = strchr(path, '\n');
        if (auth)
            *auth++ = '\0';
    }
    struct http_route r;
    int st = http_route_parse(method, path, &r);
    assert(st == 200 || st == 400 || st == 404 || st == 405);
    if (st == 200 && r.ep != HEP_ASSET) {
        assert(!r.has_a || is_id(r.a));
        assert(!r.has_b || is_id(r.b));
        if (r.ep >= HEP_GRAPH_QUOTA && r.ep <= HEP_GRAPH_METER)
            assert(strcmp(r.fmt, "png") == 0 || strcmp(r.fmt, "svg") == 0);
    }

    /* One configured token: "the-staff-token". */
    struct conf_token tok = {.role = "staff"};
    http_sha256_hex("the-staff-token", 15, tok.sha256);
    struct conf c = {0};
    c.http.tokens = &tok;
    c.http.ntokens = 1;
    int who = http_auth(&c, auth);
    if (who == 0) {
        const char *t = auth + 7;
        t += strspn(t, " ");
        assert(strncmp(t, "the-staff-token", 15) == 0);
    }
    free(in);
    return 0;
}

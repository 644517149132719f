/* The HTTP API's request parsing, free of sockets: which endpoint a
 * method and path ask for, with its arguments, and who a bearer token is.
 * Pure, so that it is unit-tested and fuzzed (tests/fuzz/fuzz_http.c). */
#ifndef ECMON_HTTP_ROUTE_H
#define ECMON_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

enum http_ep {
    HEP_ASSET,          /* a page file: arg a is its path */
    HEP_WHOAMI,         /* /api/v1/whoami */
    HEP_PARK,           /* /api/v1/park */
    HEP_STATUS,         /* /api/v1/status */
    HEP_METERS,         /* /api/v1/meters[/a] */
    HEP_USAGE,          /* /api/v1/usage[/a] */
    HEP_ALERTS,         /* /api/v1/alerts */
    HEP_CAPACITY,       /* /api/v1/capacity */
    HEP_GRAPH_QUOTA,    /* /api/v1/graph/quota/a/b.fmt */
    HEP_GRAPH_CAPACITY, /* /api/v1/graph/capacity.fmt */
    HEP_GRAPH_METER,    /* /api/v1/graph/meter/a/b.fmt */
    HEP_EVENTS,         /* /api/v1/events */
};

struct http_route {
    enum http_ep ep;
    bool has_a, has_b;
    char a[CONF_ID_MAX], b[CONF_ID_MAX]; /* ids from the path */
    char fmt[4];                         /* "png" or "svg" for graphs */
};

/* Parse `method` and `path` (no query string; MHD has split it off).
 * Returns 200 with *r filled, or the HTTP status that answers the request:
 * 405 for a method other than GET and HEAD, 404 for an unknown path or an
 * id that is not a well-formed id (DESIGN §3: [a-z0-9_-], at most
 * CONF_ID_MAX - 1 characters). Page files are routed as HEP_ASSET with the
 * path in a (the caller looks them up). */
int http_route_parse(const char *method, const char *path,
                     struct http_route *r);

/* Who an Authorization header is: finds the token whose SHA-256 matches
 * "Bearer <token>" among c's http.tokens (comparing every stored hash in
 * constant time). Returns the token's index, or -1 for a missing,
 * malformed or unknown token. */
int http_auth(const struct conf *c, const char *authorization);

/* The enterprise a role is limited to: NULL for "staff", the id after
 * "enterprise:" otherwise. */
const char *http_role_only(const char *role);

/* The lower-case hex SHA-256 of the n bytes at s into hex[65]. */
void http_sha256_hex(const void *s, size_t n, char hex[65]);

#endif

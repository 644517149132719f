/* The HTTP API's routes and bearer tokens (docs/HTTP.md). */
#include "daemon/http_route.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <nettle/sha2.h>

#define API "/api/v1/"

/* Copy the path segment at *p (up to '/' or the end) into out when it is a
 * well-formed id; advance *p past it. With `ext`, the segment must end in
 * ".png" or ".svg", copied without it into out and the format into ext. */
static bool
take_id(const char **p, char out[CONF_ID_MAX], char ext[4])
{
    const char *s = *p, *end = strchr(s, '/');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    if (ext) {
        if (n < 5 || s[n - 4] != '.')
            return false;
        if (strncmp(s + n - 3, "png", 3) != 0 &&
            strncmp(s + n - 3, "svg", 3) != 0)
            return false;
        memcpy(ext, s + n - 3, 3);
        ext[3] = '\0';
        n -= 4;
    }
    if (n == 0 || n >= CONF_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_' || s[i] == '-'))
            return false;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = s + n + (ext ? 4 : 0);
    return true;
}

/* `rest` after a word: "" or "/<id>" filling r->a. */
static int
opt_id(const char *rest, struct http_route *r)
{
    if (*rest == '\0')
        return 200;
    if (*rest != '/' || rest[1] == '\0')
        return 404;
    rest++;
    if (!take_id(&rest, r->a, NULL) || *rest != '\0')
        return 404;
    r->has_a = true;
    return 200;
}

/* "<a>/<b>.<fmt>" for the quota and meter graphs. */
static int
two_ids(const char *rest, struct http_route *r)
{
    if (!take_id(&rest, r->a, NULL) || *rest++ != '/' ||
        !take_id(&rest, r->b, r->fmt) || *rest != '\0')
        return 404;
    r->has_a = r->has_b = true;
    return 200;
}

static int
api_route(const char *p, struct http_route *r)
{
    static const struct {
        const char *word;
        enum http_ep ep;
        bool id; /* may take "/<id>" */
    } plain[] = {
        {"whoami", HEP_WHOAMI, false},     {"park", HEP_PARK, false},
        {"status", HEP_STATUS, false},     {"meters", HEP_METERS, true},
        {"usage", HEP_USAGE, true},        {"alerts", HEP_ALERTS, false},
        {"capacity", HEP_CAPACITY, false}, {"events", HEP_EVENTS, false},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t n = strlen(plain[i].word);
        if (strncmp(p, plain[i].word, n) != 0)
            continue;
        r->ep = plain[i].ep;
        if (p[n] == '\0')
            return 200;
        return plain[i].id ? opt_id(p + n, r) : 404;
    }
    if (strncmp(p, "graph/quota/", 12) == 0) {
        r->ep = HEP_GRAPH_QUOTA;
        return two_ids(p + 12, r);
    }
    if (strncmp(p, "graph/meter/", 12) == 0) {
        r->ep = HEP_GRAPH_METER;
        return two_ids(p + 12, r);
    }
    if (strncmp(p, "graph/capacity.", 15) == 0) {
        r->ep = HEP_GRAPH_CAPACITY;
        if (strcmp(p + 15, "png") != 0 && strcmp(p + 15, "svg") != 0)
            return 404;
        memcpy(r->fmt, p + 15, 4);
        return 200;
    }
    return 404;
}

int
http_route_parse(const char *method, const char *path, struct http_route *r)
{
    memset(r, 0, sizeof *r);
    if (method == NULL || path == NULL)
        return 400;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return 405;
    if (strncmp(path, API, strlen(API)) == 0)
        return api_route(path + strlen(API), r);
    /* Page files: their names are looked up, never opened. */
    size_t n = strlen(path);
    if (n == 0 || path[0] != '/' || n >= sizeof r->a)
        return 404;
    r->ep = HEP_ASSET;
    memcpy(r->a, path, n + 1);
    return 200;
}

void
http_sha256_hex(const void *s, size_t n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, n, s);
    sha256_digest(&ctx, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

int
http_auth(const struct conf *c, const char *authorization)
{
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
        return -1;
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    while (n > 0 && tok[n - 1] == ' ')
        n--;
    if (n == 0)
        return -1;
    char hex[65];
    http_sha256_hex(tok, n, hex);
    int found = -1;
    for (size_t i = 0; i < c->http.ntokens; i++) {
        unsigned diff = 0;
        for (size_t k = 0; k < 64; k++)
            diff |= (unsigned)(hex[k] ^ c->http.tokens[i].sha256[k]);
        if (diff == 0 && found == -1)
            found = (int)i;
    }
    return found;
}

const char *
http_role_only(const char *role)
{
    return strncmp(role, "enterprise:", 11) == 0 ? role + 11 : NULL;
}

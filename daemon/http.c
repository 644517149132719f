/* The web dashboard and JSON API: libmicrohttpd in "external epoll" mode,
 * run by the main loop; event streams are suspended connections resumed
 * when an alert is pushed to them. */
#include "daemon/http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "daemon/clock.h"
#include "daemon/ecmond.h"
#include "daemon/engine.h"
#include "daemon/http_route.h"
#include "daemon/log.h"
#include "daemon/views.h"
#include "daemon/web_assets.h"
#include "rrd/rrd_graph.h"

#define MAX_CONNECTIONS 128
#define MAX_STREAMS 32
#define STREAM_BUF_MAX (256 * 1024) /* a client this far behind is dropped */
#define KEEPALIVE_S 15.0
#define CONN_TIMEOUT_S 30
#define CONN_MEMORY 32768 /* per connection: request line and headers */
#define TIME_ARG_MAX 40

/* One open event stream. */
struct stream {
    struct http *h;
    struct MHD_Connection *conn;
    char sha256[65]; /* its token, to close it when the token goes */
    char role[CONF_ID_MAX + 16];
    char *buf; /* not yet sent */
    size_t len, off;
    bool suspended;      /* waiting for data */
    bool closing;        /* end the stream once buf is sent */
    struct stream *next; /* in h->streams */
};

struct http {
    struct ecmond *d;
    struct MHD_Daemon *mhd;
    int lfd;
    struct stream *streams;
    size_t nstreams;
    double next_keepalive;
};

/* libmicrohttpd's own complaints (a client's malformed request among
 * them): debug level, so that a hostile client cannot flood the log. */
static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
    (void)arg;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    log_debug("http: %s", buf);
}

/* ---- answers ---- */

static void
common_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' blob: data:; "
                            "frame-ancestors 'none'");
}

/* Queue `len` bytes at `data` (malloc'd when `owned`, freed by MHD). */
static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, void *data,
      size_t len, bool owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, data, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        if (owned)
            free(data);
        return MHD_NO;
    }
    common_headers(r, type);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"ecmond\"");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
    char *s = view_dump(j);
    if (s == NULL)
        return MHD_NO;
    return reply(c, status, "application/json; charset=utf-8", s, strlen(s),
                 true);
}

static enum MHD_Result
reply_error(struct MHD_Connection *c, unsigned status, const char *why)
{
    return reply_json(c, status, json_pack("{s:s}", "error", why));
}

/* A view's answer: 404 when it is an {"error"} object. */
static enum MHD_Result
reply_view(struct MHD_Connection *c, json_t *j)
{
    bool err = j && json_object_get(j, "error") != NULL;
    return reply_json(c, err ? MHD_HTTP_NOT_FOUND : MHD_HTTP_OK, j);
}

static enum MHD_Result
reply_asset(struct MHD_Connection *c, const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (unsigned i = 0; i < web_nassets; i++)
        if (strcmp(web_assets[i].path, path) == 0)
            return reply(c, MHD_HTTP_OK, web_assets[i].type,
                         (void *)web_assets[i].data, web_assets[i].size, false);
    return reply_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* ---- graphs ---- */

/* A time argument for rrd_graph: rrdtool's time syntax needs no more than
 * these characters; anything else is refused before librrd sees it. */
static bool
time_arg_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= TIME_ARG_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789+-:., ") == n;
}

static bool
size_arg(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < RRDGRAPH_SIZE_MIN ||
        v > RRDGRAPH_SIZE_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* Does the quota or meter a graph names exist for that owner? */
static bool
graph_target_exists(const struct conf *c, const struct http_route *rt,
                    enum rrdgraph_what what)
{
    const struct conf_quota *q = NULL;
    size_t nq = 0;
    int owner = -2; /* -1: the park */
    if (strcmp(rt->a, CONF_PARK_ID) == 0) {
        owner = -1;
        q = c->park.quotas;
        nq = c->park.nquotas;
    }
    for (size_t i = 0; owner == -2 && i < c->nenterprises; i++)
        if (strcmp(c->enterprises[i].id, rt->a) == 0) {
            owner = (int)i;
            q = c->enterprises[i].quotas;
            nq = c->enterprises[i].nquotas;
        }
    if (owner == -2)
        return false;
    if (what == RRDGRAPH_METER) {
        int m = conf_find_meter(c, rt->b);
        return m >= 0 && c->meters[m].enterprise == owner;
    }
    for (size_t i = 0; i < nq; i++)
        if (strcmp(q[i].id, rt->b) == 0)
            return true;
    return false;
}

static enum MHD_Result
reply_graph(struct http *h, struct MHD_Connection *c,
            const struct http_route *rt, enum rrdgraph_what what)
{
    char target[2 * CONF_ID_MAX + 2], err[512];
    struct rrdgraph_req g = {.what = what};
    if (what == RRDGRAPH_CAPACITY && !h->d->conf->park.has_wwtp)
        return reply_error(c, MHD_HTTP_NOT_FOUND,
                           "no treatment plant (park.wwtp) configured");
    if (what != RRDGRAPH_CAPACITY) {
        if (!graph_target_exists(h->d->conf, rt, what))
            return reply_error(c, MHD_HTTP_NOT_FOUND,
                               what == RRDGRAPH_METER ? "no such meter"
                                                      : "no such quota");
        snprintf(target, sizeof target, "%s/%s", rt->a, rt->b);
        g.target = target;
    }
    g.from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    g.to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
    const char *w =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "width");
    const char *ht =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "height");
    if ((g.from && !time_arg_ok(g.from)) || (g.to && !time_arg_ok(g.to)))
        return reply_error(c, MHD_HTTP_BAD_REQUEST,
                           "from/to: expected rrdtool's time syntax, e.g. "
                           "now-7d or Unix seconds");
    if ((w && !size_arg(w, &g.width)) || (ht && !size_arg(ht, &g.height)))
        return reply_error(c, MHD_HTTP_BAD_REQUEST,
                           "width/height: expected 200..8000 pixels");
    unsigned char *img = NULL;
    size_t len = 0;
    if (rrdgraph_render_mem(h->d->conf, &g, rt->fmt, &img, &len, err,
                            sizeof err) == -1)
        return reply_error(c,
                           strstr(err, "no data") ? MHD_HTTP_NOT_FOUND
                                                  : MHD_HTTP_BAD_REQUEST,
                           err);
    return reply(c, MHD_HTTP_OK,
                 strcmp(rt->fmt, "svg") == 0 ? "image/svg+xml" : "image/png",
                 img, len, true);
}

/* ---- event streams ---- */

/* Wake a stream waiting for data. */
static void
stream_wake(struct stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* End a stream once what it holds is sent. */
static void
stream_end(struct stream *s)
{
    s->closing = true;
    stream_wake(s);
}

static void
stream_push(struct stream *s, const char *text, size_t n)
{
    if (s->closing)
        return;
    if (s->len - s->off + n > STREAM_BUF_MAX) {
        log_debug("http: dropping an event stream that does not read");
        stream_end(s);
        return;
    }
    if (s->off > 0) { /* drop what was sent */
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    char *b = realloc(s->buf, s->len + n);
    if (b == NULL) {
        stream_end(s);
        return;
    }
    memcpy(b + s->len, text, n);
    s->buf = b;
    s->len += n;
    stream_wake(s);
}

static ssize_t
stream_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = arg;
    (void)pos;
    if (s->off < s->len) {
        size_t n = s->len - s->off < max ? s->len - s->off : max;
        memcpy(buf, s->buf + s->off, n);
        s->off += n;
        return (ssize_t)n;
    }
    if (s->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing to send: wait for stream_push, not in a busy loop. */
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    return 0;
}

static void
stream_free(void *arg)
{
    struct stream *s = arg;
    for (struct stream **p = &s->h->streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            s->h->nstreams--;
            break;
        }
    free(s->buf);
    free(s);
}

static enum MHD_Result
open_stream(struct http *h, struct MHD_Connection *c,
            const struct conf_token *t)
{
    if (h->nstreams >= MAX_STREAMS)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "too many event streams");
    struct stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return MHD_NO;
    s->h = h;
    s->conn = c;
    memcpy(s->sha256, t->sha256, sizeof s->sha256);
    snprintf(s->role, sizeof s->role, "%s", t->role);
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (r == NULL) {
        free(s);
        return MHD_NO;
    }
    s->next = h->streams;
    h->streams = s;
    h->nstreams++;
    const char *only = http_role_only(t->role);
    char *hello =
        view_dump(json_pack("{s:s}", "role", only ? t->role : "staff"));
    if (hello) {
        char head[] = "retry: 3000\nevent: hello\ndata: ";
        stream_push(s, head, sizeof head - 1);
        stream_push(s, hello, strlen(hello));
        stream_push(s, "\n", 1);
        free(hello);
    }
    common_headers(r, "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

void
http_alert(struct http *h, const struct engine_alert *a)
{
    if (h == NULL || h->streams == NULL)
        return;
    json_t *payload = json_loads(a->payload, 0, NULL);
    char *data = view_dump(
        json_pack("{s:s, s:s, s:s, s:s, s:f, s:o}", "enterprise", a->owner,
                  "name", a->name, "from", a->from, "to", a->to, "ts", a->ts,
                  "alert", payload ? payload : json_object()));
    if (data == NULL)
        return;
    for (struct stream *s = h->streams; s; s = s->next) {
        if (!view_may_see(http_role_only(s->role), a->owner))
            continue;
        stream_push(s, "event: alert\ndata: ", 19);
        stream_push(s, data, strlen(data)); /* ends in '\n' */
        stream_push(s, "\n", 1);
    }
    free(data);
    MHD_run(h->mhd); /* send it now, not at the next poll */
}

void
http_reconf(struct http *h)
{
    if (h == NULL)
        return;
    const struct conf *c = h->d->conf;
    for (struct stream *s = h->streams; s; s = s->next) {
        bool kept = false;
        for (size_t i = 0; i < c->http.ntokens && !kept; i++)
            kept = strcmp(c->http.tokens[i].sha256, s->sha256) == 0 &&
                   strcmp(c->http.tokens[i].role, s->role) == 0;
        if (!kept)
            stream_end(s);
    }
}

/* ---- requests ---- */

/* Is `sel` (an enterprise or meter id) something `only` may see? */
static bool
may_see_sel(const struct ecmond *d, const char *only, const char *sel)
{
    if (view_may_see(only, sel))
        return true;
    const struct conf *c = d->conf;
    for (size_t i = 0; i < c->nmeters; i++)
        if (strcmp(c->meters[i].id, sel) == 0)
            return view_may_see(only, d->meters[i].owner);
    return false;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **state)
{
    struct http *h = cls;
    struct ecmond *d = h->d;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;

    struct http_route rt;
    int st = http_route_parse(method, url, &rt);
    if (st != 200)
        return reply_error(c, (unsigned)st,
                           st == 405 ? "only GET and HEAD" : "not found");
    if (rt.ep == HEP_ASSET)
        return reply_asset(c, rt.a);

    int ti = http_auth(
        d->conf, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_AUTHORIZATION));
    if (ti < 0)
        return reply_error(c, MHD_HTTP_UNAUTHORIZED,
                           "a valid bearer token is needed");
    const struct conf_token *t = &d->conf->http.tokens[ti];
    const char *only = http_role_only(t->role);
    if (d->engine == NULL)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");

    /* Every id in the path is checked against the role before anything
     * is looked up: the answer for another enterprise is 403 whether it
     * exists or not. */
    if ((rt.ep == HEP_CAPACITY || rt.ep == HEP_GRAPH_CAPACITY) && only)
        return reply_error(c, MHD_HTTP_FORBIDDEN, "staff only");
    if (rt.has_a && !(rt.ep == HEP_METERS ? may_see_sel(d, only, rt.a)
                                          : view_may_see(only, rt.a)))
        return reply_error(c, MHD_HTTP_FORBIDDEN, "not yours to see");

    switch (rt.ep) {
    case HEP_WHOAMI:
        return reply_json(c, MHD_HTTP_OK, view_whoami(d, t->role));
    case HEP_PARK:
        return reply_json(c, MHD_HTTP_OK, view_park(d, only));
    case HEP_STATUS:
        return reply_json(c, MHD_HTTP_OK, view_status(d, only));
    case HEP_METERS:
        return reply_view(c, view_meters(d, rt.has_a ? rt.a : NULL, only));
    case HEP_USAGE:
        return reply_view(c, view_usage(d, rt.has_a ? rt.a : NULL, only));
    case HEP_ALERTS:
        return reply_json(c, MHD_HTTP_OK, view_alerts(d, only));
    case HEP_CAPACITY:
        return reply_view(c, view_capacity(d));
    case HEP_GRAPH_QUOTA:
        return reply_graph(h, c, &rt, RRDGRAPH_QUOTA);
    case HEP_GRAPH_CAPACITY:
        return reply_graph(h, c, &rt, RRDGRAPH_CAPACITY);
    case HEP_GRAPH_METER:
        return reply_graph(h, c, &rt, RRDGRAPH_METER);
    case HEP_EVENTS:
        return open_stream(h, c, t);
    default:
        return reply_error(c, MHD_HTTP_NOT_FOUND, "not found");
    }
}

/* ---- the listener ---- */

/* Bind "host:port" or "[v6]:port"; -1 with a message in err. */
static int
listen_on(const char *spec, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hl = (size_t)(colon - spec);
    if (spec[0] == '[') {
        spec++;
        hl -= 2;
    }
    if (hl >= sizeof host) {
        snprintf(err, errlen, "listen %s: host too long", spec);
        return -1;
    }
    memcpy(host, spec, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE},
                    *ai;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "listen %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd =
        socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, 64) == -1) {
        snprintf(err, errlen, "listen %s:%s: %s", host, colon + 1,
                 strerror(errno));
        if (fd != -1)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

struct http *
http_open(struct ecmond *d, char *err, size_t errlen)
{
    struct http *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->d = d;
    h->lfd = listen_on(d->conf->http.listen, err, errlen);
    if (h->lfd == -1) {
        free(h);
        return NULL;
    }
    h->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, h->lfd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY, MHD_OPTION_END);
    if (h->mhd == NULL) {
        snprintf(err, errlen, "listen %s: libmicrohttpd cannot start",
                 d->conf->http.listen);
        close(h->lfd);
        free(h);
        return NULL;
    }
    h->next_keepalive = mono_now() + KEEPALIVE_S;
    return h;
}

int
http_fd(const struct http *h)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    return i ? i->epoll_fd : -1;
}

long
http_timeout_ms(struct http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->mhd, &ms) != MHD_YES)
        return -1;
    return ms > 60000 ? 60000 : (long)ms;
}

void
http_run(struct http *h, double now)
{
    if (now >= h->next_keepalive) {
        for (struct stream *s = h->streams; s; s = s->next)
            stream_push(s, ": keepalive\n\n", 13);
        h->next_keepalive = now + KEEPALIVE_S;
    }
    MHD_run(h->mhd);
}

void
http_close(struct http *h)
{
    if (h == NULL)
        return;
    /* libmicrohttpd must not be stopped with suspended connections. */
    for (struct stream *s = h->streams; s; s = s->next)
        stream_end(s);
    MHD_run(h->mhd);
    MHD_stop_daemon(h->mhd); /* closes the listening socket too */
    free(h);
}

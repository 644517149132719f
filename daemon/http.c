/* The web dashboard and JSON API: libmicrohttpd in "external epoll" mode,
 * run by the main loop; event streams are suspended connections resumed
 * when an alert is pushed to them. */
#include "daemon/http.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "daemon/clock.h"
#include "daemon/ecmond.h"
#include "daemon/engine.h"
#include "daemon/http_route.h"
#include "daemon/log.h"
#include "daemon/memtrim.h"
#include "daemon/spawn.h"
#include "daemon/views.h"
#include "daemon/web_assets.h"
#include "rrd/rrd_graph.h" /* sizes and kinds; drawn by ecmonctl */

#define MAX_CONNECTIONS 128
#define MAX_STREAMS 32
#define STREAM_BUF_MAX (256 * 1024) /* a client this far behind is dropped */
#define KEEPALIVE_S 15.0
#define CONN_TIMEOUT_S 30
#define CONN_MEMORY 32768 /* per connection: request line and headers */
#define TIME_ARG_MAX 40
#define MAX_JOBS 4 /* graphs drawn at once */
#define GRAPH_TIMEOUT_S 30.0
#define GRAPH_MAX (32 * 1024 * 1024) /* bytes of one image */

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

struct job;

struct http {
    struct ecmond *d;
    struct MHD_Daemon *mhd;
    int lfd;
    int efd; /* epoll: libmicrohttpd's descriptor and the graph jobs' */
    char *ecmonctl, *conf_path; /* the graph renderer and its config */
    struct job *jobs;
    size_t njobs;
    struct stream *streams;
    size_t nstreams;
    double next_keepalive;
    size_t trim; /* bytes of a large answer queued: memtrim once sent */
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

/* Queue the JSON answer s (malloc'd, NULL: out of memory). */
static enum MHD_Result
reply_dumped(struct MHD_Connection *c, unsigned status, char *s)
{
    if (s == NULL)
        return MHD_NO;
    return reply(c, status, "application/json; charset=utf-8", s, strlen(s),
                 true);
}

static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
    return reply_dumped(c, status, view_dump(j));
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

/* A graph is drawn by `ecmonctl graph -o -` in a child process: librrd
 * and the font libraries under it keep a little memory per drawing (a
 * daemon drawing for months would grow), and a year's graph takes long
 * enough to hold up the readings. The request's connection waits,
 * suspended, for the child's output. */
struct job {
    struct http *h;
    struct MHD_Connection *conn;
    pid_t pid;
    int out, err; /* read ends, -1 after EOF */
    unsigned char *img;
    size_t len, cap;
    char msg[512]; /* the child's standard error */
    size_t mlen;
    double deadline;
    int status; /* the child's wait status, once reaped */
    bool reaped, failed, resumed;
    char fmt[4];
    struct job *next;
};

/* The arguments of ecmonctl for a graph request; -1 with the answer
 * queued when the request is bad. */
static int
graph_args(struct http *h, struct MHD_Connection *c,
           const struct http_route *rt, enum rrdgraph_what what,
           char args[8][160], enum MHD_Result *answer)
{
    int w = 0, ht = 0, n = 0;
    const char *from =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    const char *to =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
    const char *ws =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "width");
    const char *hs =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "height");
    const char *why = NULL;
    unsigned status = MHD_HTTP_BAD_REQUEST;
    if (what == RRDGRAPH_CAPACITY && !h->d->conf->park.has_wwtp) {
        why = "no treatment plant (park.wwtp) configured";
        status = MHD_HTTP_NOT_FOUND;
    } else if (what != RRDGRAPH_CAPACITY &&
               !graph_target_exists(h->d->conf, rt, what)) {
        why = what == RRDGRAPH_METER ? "no such meter" : "no such quota";
        status = MHD_HTTP_NOT_FOUND;
    } else if ((from && !time_arg_ok(from)) || (to && !time_arg_ok(to))) {
        why = "from/to: expected rrdtool's time syntax, e.g. now-7d or Unix "
              "seconds";
    } else if ((ws && !size_arg(ws, &w)) || (hs && !size_arg(hs, &ht))) {
        why = "width/height: expected 200..8000 pixels";
    }
    if (why) {
        *answer = reply_error(c, status, why);
        return -1;
    }
    if (what == RRDGRAPH_CAPACITY)
        snprintf(args[n++], 160, "--capacity");
    else
        snprintf(args[n++], 160, "--%s=%s/%s",
                 what == RRDGRAPH_METER ? "meter" : "quota", rt->a, rt->b);
    if (from)
        snprintf(args[n++], 160, "--from=%s", from);
    if (to)
        snprintf(args[n++], 160, "--to=%s", to);
    if (w)
        snprintf(args[n++], 160, "--width=%d", w);
    if (ht)
        snprintf(args[n++], 160, "--height=%d", ht);
    snprintf(args[n++], 160, "--format=%s", rt->fmt);
    return n;
}

static void
job_close_fd(struct http *h, int *fd)
{
    if (*fd == -1)
        return;
    epoll_ctl(h->efd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
}

static int
job_watch(struct http *h, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(h->efd, EPOLL_CTL_ADD, fd, &ev);
}

static enum MHD_Result
start_graph(struct http *h, struct MHD_Connection *c,
            const struct http_route *rt, enum rrdgraph_what what, void **state)
{
    char args[8][160];
    enum MHD_Result answer;
    int n = graph_args(h, c, rt, what, args, &answer);
    if (n < 0)
        return answer;
    if (h->njobs >= MAX_JOBS)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "busy drawing other graphs; try again");
    char *argv[16] = {h->ecmonctl, "-c", h->conf_path, "graph"};
    int k = 4;
    for (int i = 0; i < n; i++)
        argv[k++] = args[i];
    argv[k++] = "-o";
    argv[k++] = "-";
    argv[k] = NULL;

    struct job *j = calloc(1, sizeof *j);
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    /* Only our ends do not block: the child writes as a program does. */
    if (j == NULL || pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 ||
        fcntl(po[0], F_SETFL, O_NONBLOCK) == -1 ||
        fcntl(pe[0], F_SETFL, O_NONBLOCK) == -1) {
        log_warn("http: graph");
        goto fail;
    }
    j->pid = spawn_child(argv, NULL, po[1], pe[1]);
    if (j->pid == -1) {
        log_warn("http: graph: fork");
        goto fail;
    }
    close(po[1]);
    close(pe[1]);
    j->h = h;
    j->conn = c;
    j->out = po[0];
    j->err = pe[0];
    j->deadline = mono_now() + GRAPH_TIMEOUT_S;
    memcpy(j->fmt, rt->fmt, sizeof j->fmt);
    if (job_watch(h, j->out) == -1 || job_watch(h, j->err) == -1) {
        log_warn("http: graph: epoll");
        j->failed = true;
    }
    j->next = h->jobs;
    h->jobs = j;
    h->njobs++;
    *state = j;
    MHD_suspend_connection(c);
    return MHD_YES;
fail:
    for (int i = 0; i < 2; i++) {
        if (po[i] != -1)
            close(po[i]);
        if (pe[i] != -1)
            close(pe[i]);
    }
    free(j);
    return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "cannot start the graph renderer");
}

/* Read what a child wrote; false at EOF or on an error. */
static bool
job_read(struct job *j, int fd)
{
    for (;;) {
        char buf[65536];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0 && fd == j->err) {
            size_t room = sizeof j->msg - 1 - j->mlen;
            size_t n = (size_t)r < room ? (size_t)r : room;
            memcpy(j->msg + j->mlen, buf, n);
            j->mlen += n;
            continue;
        }
        if (r > 0) {
            if (j->len + (size_t)r > GRAPH_MAX) {
                j->failed = true;
                return false;
            }
            if (j->len + (size_t)r > j->cap) {
                size_t cap = (j->len + (size_t)r) * 2;
                unsigned char *p = realloc(j->img, cap);
                if (p == NULL) {
                    j->failed = true;
                    return false;
                }
                j->img = p;
                j->cap = cap;
            }
            memcpy(j->img + j->len, buf, (size_t)r);
            j->len += (size_t)r;
            continue;
        }
        if (r == -1 && (errno == EAGAIN || errno == EINTR))
            return true;
        return false; /* EOF or an error */
    }
}

/* Advance a job: read, reap, time out; resume its request once done. */
static void
job_step(struct job *j, double now)
{
    struct http *h = j->h;
    if (j->resumed)
        return;
    if (j->out != -1 && !job_read(j, j->out))
        job_close_fd(h, &j->out);
    if (j->err != -1 && !job_read(j, j->err))
        job_close_fd(h, &j->err);
    if (!j->reaped && (j->failed || now >= j->deadline)) {
        kill(-j->pid, SIGKILL);
        j->failed = true;
    }
    if (!j->reaped && (j->out == -1 || j->failed) &&
        waitpid(j->pid, &j->status, WNOHANG) == j->pid)
        j->reaped = true;
    if (j->reaped) {
        job_close_fd(h, &j->out);
        job_close_fd(h, &j->err);
        j->resumed = true;
        MHD_resume_connection(j->conn);
    }
}

static void
job_unlink(struct job *j)
{
    struct http *h = j->h;
    for (struct job **p = &h->jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            h->njobs--;
            break;
        }
    job_close_fd(h, &j->out);
    job_close_fd(h, &j->err);
}

/* A request ended: a graph job it still had (the connection failed before
 * the answer) goes with it. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **state,
             enum MHD_RequestTerminationCode why)
{
    struct http *h = cls;
    (void)c;
    (void)why;
    /* libmicrohttpd has freed the answer by now (it destroys the response
     * before it tells us): give its memory back. */
    memtrim(h->trim);
    h->trim = 0;
    struct job *j = *state;
    if (j == NULL)
        return;
    *state = NULL;
    job_unlink(j);
    if (!j->reaped) {
        kill(-j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
    }
    free(j->img);
    free(j);
}

/* The answer to a graph request whose job is done. */
static enum MHD_Result
finish_graph(struct job *j)
{
    struct MHD_Connection *c = j->conn;
    job_unlink(j);
    enum MHD_Result rc;
    bool ok = !j->failed && WIFEXITED(j->status) &&
              WEXITSTATUS(j->status) == 0 && j->len > 0;
    if (ok) {
        rc = reply(c, MHD_HTTP_OK,
                   strcmp(j->fmt, "svg") == 0 ? "image/svg+xml" : "image/png",
                   j->img, j->len, true);
        j->img = NULL;
    } else {
        /* "ecmonctl: graph: <why>\n" */
        j->msg[j->mlen] = '\0';
        char *why = j->msg, *nl = strchr(why, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(why, "ecmonctl: graph: ", 17) == 0)
            why += 17;
        if (*why == '\0')
            why = j->failed ? "the graph took too long" : "cannot draw it";
        rc = reply_error(c,
                         strstr(why, "no data") ? MHD_HTTP_NOT_FOUND
                         : WIFEXITED(j->status) && WEXITSTATUS(j->status) == 1
                             ? MHD_HTTP_BAD_REQUEST
                             : MHD_HTTP_INTERNAL_SERVER_ERROR,
                         why);
        if (!WIFEXITED(j->status) || WEXITSTATUS(j->status) > 1)
            log_warnx("http: graph: %s", why);
    }
    free(j->img);
    free(j);
    return rc;
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

    if (*state != NULL) { /* a graph request, resumed: its job is done */
        struct job *j = *state;
        *state = NULL;
        return finish_graph(j);
    }

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
    case HEP_METERS: {
        bool found;
        char *s = view_meters_dump(d, rt.has_a ? rt.a : NULL, only, &found);
        if (s != NULL && strlen(s) > h->trim)
            h->trim = strlen(s);
        return reply_dumped(c, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, s);
    }
    case HEP_USAGE:
        return reply_view(c, view_usage(d, rt.has_a ? rt.a : NULL, only));
    case HEP_ALERTS:
        return reply_json(c, MHD_HTTP_OK, view_alerts(d, only));
    case HEP_CAPACITY:
        return reply_view(c, view_capacity(d));
    case HEP_GRAPH_QUOTA:
        return start_graph(h, c, &rt, RRDGRAPH_QUOTA, state);
    case HEP_GRAPH_CAPACITY:
        return start_graph(h, c, &rt, RRDGRAPH_CAPACITY, state);
    case HEP_GRAPH_METER:
        return start_graph(h, c, &rt, RRDGRAPH_METER, state);
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

/* The ecmonctl next to this ecmond (both are installed in one directory,
 * and sit in one directory of the build tree), malloc'd. */
static char *
sibling_ecmonctl(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *dir = dirname(self), *path = NULL;
    if (asprintf(&path, "%s/ecmonctl", dir) == -1)
        return NULL;
    return path;
}

static void
http_free(struct http *h)
{
    if (h->mhd)
        MHD_stop_daemon(h->mhd); /* closes the listening socket too */
    else if (h->lfd != -1)
        close(h->lfd);
    if (h->efd != -1)
        close(h->efd);
    free(h->ecmonctl);
    free(h->conf_path);
    free(h);
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
    h->efd = -1;
    h->ecmonctl = sibling_ecmonctl();
    /* The daemon may chdir("/") when it detaches. */
    h->conf_path = realpath(d->conf_path, NULL);
    if (h->conf_path == NULL)
        h->conf_path = strdup(d->conf_path);
    if (h->ecmonctl == NULL || h->conf_path == NULL) {
        snprintf(err, errlen, "cannot find ecmonctl next to ecmond");
        h->lfd = -1;
        http_free(h);
        return NULL;
    }
    if (access(h->ecmonctl, X_OK) == -1)
        log_warnx("http: %s: %s; graphs will answer 500", h->ecmonctl,
                  strerror(errno));
    h->lfd = listen_on(d->conf->http.listen, err, errlen);
    if (h->lfd == -1) {
        http_free(h);
        return NULL;
    }
    h->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_LISTEN_SOCKET,
        h->lfd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
        MHD_OPTION_END);
    const union MHD_DaemonInfo *i =
        h->mhd ? MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.fd = i ? i->epoll_fd : -1};
    if (i == NULL || (h->efd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
        epoll_ctl(h->efd, EPOLL_CTL_ADD, i->epoll_fd, &ev) == -1) {
        snprintf(err, errlen, "listen %s: libmicrohttpd cannot start",
                 d->conf->http.listen);
        http_free(h);
        return NULL;
    }
    h->next_keepalive = mono_now() + KEEPALIVE_S;
    return h;
}

int
http_fd(const struct http *h)
{
    return h->efd;
}

long
http_timeout_ms(struct http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    long t = -1;
    if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
        t = ms > 60000 ? 60000 : (long)ms;
    /* A child that closed its output is reaped on the next turns. */
    for (struct job *j = h->jobs; j; j = j->next)
        if (!j->resumed && j->out == -1 && (t == -1 || t > 10))
            t = 10;
    return t;
}

void
http_run(struct http *h, double now)
{
    if (now >= h->next_keepalive) {
        for (struct stream *s = h->streams; s; s = s->next)
            stream_push(s, ": keepalive\n\n", 13);
        h->next_keepalive = now + KEEPALIVE_S;
    }
    /* Whatever in the epoll set was ready: the jobs are few, each is
     * stepped (reads do not block), then libmicrohttpd runs. */
    for (struct job *j = h->jobs; j; j = j->next)
        job_step(j, now);
    MHD_run(h->mhd);
}

void
http_close(struct http *h)
{
    if (h == NULL)
        return;
    /* libmicrohttpd must not be stopped with suspended connections: end
     * the streams, kill the graph jobs and answer their requests. */
    for (struct stream *s = h->streams; s; s = s->next)
        stream_end(s);
    for (struct job *j = h->jobs; j; j = j->next) {
        if (j->resumed)
            continue;
        kill(-j->pid, SIGKILL);
        waitpid(j->pid, &j->status, 0);
        j->reaped = j->failed = true;
        job_step(j, mono_now());
    }
    MHD_run(h->mhd);
    MHD_run(h->mhd);
    http_free(h);
}

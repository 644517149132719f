/* ecmonctl: asks ecmond over its control socket and prints the answer as
 * text or, with -j, as the JSON that ecmond sent. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "rrd/rrd_graph.h"

#define DEFAULT_SOCKET "/run/ecmond/ecmond.sock"
#define DEFAULT_CONF "/etc/ecmond/ecmond.conf"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void
usage(FILE *f)
{
    fprintf(
        f, "usage: ecmonctl [-j] [-s SOCKET | -c FILE] COMMAND [ARGS]\n"
           "  -s SOCKET  ecmond's control socket (default " DEFAULT_SOCKET ")\n"
           "  -c FILE    take the socket from this configuration file\n"
           "  -j         print JSON\n"
           "commands:\n"
           "  status                 the daemon, MQTT and meter counts\n"
           "  meters [METER|ENT]     every meter: state, counters, values\n"
           "  usage [ENTERPRISE]     quota usage\n"
           "  alerts                 current alerts\n"
           "  capacity               the treatment plant's capacity\n"
           "  value-added ENT PERIOD YUAN\n"
           "  reload                 reload the configuration\n"
           "  flush [ENT METER]      write the RRD updates ecmond holds in\n"
           "                         memory (storage.rrd_flush) now\n"
           "  mqtt-acl               a mosquitto ACL file for the config\n"
           "                         (reads -c FILE, no daemon needed)\n"
           "  graph (--quota ENT/QUOTA | --capacity | --meter ENT/METER)\n"
           "        [--from TIME] [--to TIME] [--width W] [--height H]\n"
           "        (-o FILE.png|FILE.svg | -o - [--format png|svg])\n"
           "                         a graph from the RRD files (reads\n"
           "                         -c FILE, no daemon needed); -o -:\n"
           "                         to stdout, PNG unless --format svg\n"
           "exit status: 0 ok, 1 ecmond answered with an error, 2 usage,\n"
           "3 ecmond not reachable\n");
}

static char *
ask(const char *path, const char *request, bool quiet, int *rc)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        fprintf(stderr, "ecmonctl: socket path too long\n");
        *rc = EXIT_USAGE;
        return NULL;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
        if (!quiet)
            fprintf(stderr, "ecmonctl: %s: %s (is ecmond running?)\n", path,
                    strerror(errno));
        *rc = EXIT_UNREACHABLE;
        if (fd != -1)
            close(fd);
        return NULL;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = strlen(request);
    /* ecmond closes at once when all its client slots are taken: report
     * that rather than die of SIGPIPE. */
    if (send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
        if (!quiet)
            fprintf(stderr, "ecmonctl: %s: %s (is ecmond busy?)\n", path,
                    strerror(errno));
        close(fd);
        *rc = EXIT_UNREACHABLE;
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fprintf(stderr, "ecmonctl: out of memory\n");
            close(fd);
            *rc = EXIT_ERROR;
            return NULL;
        }
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (!quiet)
                fprintf(stderr, "ecmonctl: read: %s\n", strerror(errno));
            free(buf);
            close(fd);
            *rc = EXIT_UNREACHABLE;
            return NULL;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return buf;
}

static const char *
str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double
num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void
fmt_time(double t, char *buf, size_t len)
{
    if (!isfinite(t) || t <= 0) {
        snprintf(buf, len, "never");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void
print_status(json_t *j)
{
    json_t *m = json_object_get(j, "mqtt");
    double up = num(j, "uptime");
    printf("ecmond %s, pid %.0f, up %dd %02d:%02d:%02d\n", str(j, "version"),
           num(j, "pid"), (int)(up / 86400), (int)fmod(up / 3600, 24),
           (int)fmod(up / 60, 60), (int)fmod(up, 60));
    printf("park:     %s (%s)\n", str(j, "park"), str(j, "park_name"));
    printf("config:   %s (reloaded %.0f times)\n", str(j, "config"),
           num(j, "reloads"));
    printf("meters:   %.0f online of %.0f, on %.0f buses\n",
           num(j, "meters_online"), num(j, "meters"), num(j, "buses"));
    printf("samples:  %.0f handled, %.0f dropped in the queue\n",
           num(j, "samples"), num(j, "queue_dropped"));
    printf("mqtt:     %s %s:%.0f, %.0f published, %.0f retained not sent, "
           "%.0f connects\n",
           json_is_true(json_object_get(m, "connected")) ? "connected to"
                                                         : "NOT connected to",
           str(m, "host"), num(m, "port"), num(m, "published"),
           num(m, "dropped"), num(m, "connects"));
    json_t *o = json_object_get(j, "outbox");
    if (o == NULL)
        return;
    char since[64] = "";
    double oldest = num(o, "oldest");
    if (isfinite(oldest)) {
        char when[32];
        fmt_time(oldest, when, sizeof when);
        snprintf(since, sizeof since, ", oldest from %s", when);
    }
    printf("outbox:   %.0f queued (%.1f MB of %g, %.0f in flight)%s, %.0f "
           "dropped\n",
           num(o, "queued"), num(o, "bytes") / 1048576.0, num(o, "max_mb"),
           num(o, "inflight"), since, num(o, "dropped"));
}

static void
print_meters(json_t *j)
{
    json_t *a = json_object_get(j, "meters"), *m;
    size_t i;
    printf("%-18s %-10s %-8s %-7s %8s %6s %6s %8s  %s\n", "METER", "OWNER",
           "BUS", "STATE", "POLLS", "ERRORS", "SKIP", "REQ/POLL", "LAST OK");
    json_array_foreach(a, i, m)
    {
        char when[32];
        fmt_time(num(m, "last_ok"), when, sizeof when);
        printf("%-18s %-10s %-8s %-7s %8.0f %6.0f %6.0f %8.2f  %s\n",
               str(m, "id"), str(m, "owner"), str(m, "bus"), str(m, "state"),
               num(m, "polls"), num(m, "errors"), num(m, "skipped"),
               num(m, "requests_per_poll"), when);
        if (strcmp(str(m, "state"), "offline") == 0 && *str(m, "reason"))
            printf("    reason: %s\n", str(m, "reason"));
        const char *name;
        json_t *p;
        json_object_foreach(json_object_get(m, "points"), name, p)
        {
            json_t *v = json_object_get(p, "value");
            if (json_is_number(v))
                printf("    %-19s %16.6g %-8s %s\n", name, json_number_value(v),
                       str(p, "unit"), str(p, "flag"));
            else
                printf("    %-19s %16s %-8s %s\n", name, "-", str(p, "unit"),
                       str(p, "flag"));
        }
    }
}

static void
fmt_num(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
        snprintf(buf, len, "%.4g", v);
    else
        snprintf(buf, len, "%.3f", v);
}

static void
print_quota_rows(json_t *a)
{
    json_t *q;
    size_t i;
    printf("%-12s %-18s %-10s %12s %-22s %7s %7s %12s  %-16s %s\n",
           "ENTERPRISE", "QUOTA", "PERIOD", "USED", "LIMIT", "USED%", "EXPECT%",
           "PROJECTED", "EXHAUSTED AT", "STATE");
    json_array_foreach(a, i, q)
    {
        char used[24], lim[24], limit[48], proj[24], when[32];
        fmt_num(used, sizeof used, num(q, "used"));
        fmt_num(lim, sizeof lim, num(q, "limit"));
        snprintf(limit, sizeof limit, "%s %s", lim, str(q, "unit"));
        fmt_num(proj, sizeof proj, num(q, "projected"));
        double ex = num(q, "exhaust_at");
        if (isfinite(ex)) {
            time_t t = (time_t)ex;
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        } else {
            snprintf(when, sizeof when, "-");
        }
        printf("%-12s %-18s %-10s %12s %-22s %6.1f%% %6.1f%% %12s  %-16s %s\n",
               str(q, "enterprise"), str(q, "quota"), str(q, "period"), used,
               limit, 100 * num(q, "fraction"), 100 * num(q, "expected"), proj,
               when, str(q, "state"));
    }
}

static void
print_capacity(json_t *j)
{
    printf("treatment capacity: %.0f m3/day\n", num(j, "capacity_m3_day"));
    printf("inflow today:       %.1f m3 (%.1f%% of capacity)\n",
           num(j, "today_m3"), 100 * num(j, "utilization"));
    printf("30-day peak:        %.1f m3/day\n", num(j, "peak30_m3"));
    printf("headroom:           %.1f m3/day\n", num(j, "headroom_m3_day"));
}

static struct conf *
load_config(const char *path)
{
    struct conf_errors errs = {0};
    struct conf *c = conf_load(path, &errs);
    for (size_t i = 0; c == NULL && i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    conf_errors_free(&errs);
    return c;
}

/* A mosquitto ACL file: staff and ecmond see the whole park; each
 * enterprise's user (named by its id) reads only its own subtree and its
 * own alerts, and may set only its own value added. The `events` topic
 * mixes enterprises, so it is staff-only. */
static int
print_acl(const char *path)
{
    struct conf *c = load_config(path);
    if (c == NULL)
        return EXIT_USAGE;
    const char *pre = c->mqtt.prefix, *park = c->park.id;
    printf("# mosquitto acl_file for park %s, made by ecmonctl mqtt-acl from "
           "%s\n# Users: \"staff\" (everything), \"%s\" (the daemon), "
           "and one per enterprise, named by its id.\n\n",
           park, path, c->mqtt.username ? c->mqtt.username : "ecmond");
    printf("user %s\ntopic readwrite %s/%s/#\n\n",
           c->mqtt.username ? c->mqtt.username : "ecmond", pre, park);
    printf("user staff\ntopic read %s/%s/#\ntopic write %s/%s/+/value_added/"
           "set\n\n",
           pre, park, pre, park);
    for (size_t i = 0; i < c->nenterprises; i++) {
        const char *id = c->enterprises[i].id;
        printf("user %s\ntopic read %s/%s/status\ntopic read %s/%s/%s/#\n"
               "topic read %s/%s/alerts/%s/#\ntopic write %s/%s/%s/"
               "value_added/set\n\n",
               id, pre, park, pre, park, id, pre, park, id, pre, park, id);
    }
    conf_free(c);
    return EXIT_OK;
}

static int
parse_size(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < RRDGRAPH_SIZE_MIN ||
        v > RRDGRAPH_SIZE_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* graph -o -: the image, rendered in memory, to stdout. */
static int
graph_stdout(const struct conf *c, const struct rrdgraph_req *r,
             const char *format, char *err, size_t errlen)
{
    unsigned char *img;
    size_t len;
    if (rrdgraph_render_mem(c, r, format, &img, &len, err, errlen) == -1)
        return EXIT_ERROR;
    int rc = EXIT_OK;
    if (fwrite(img, 1, len, stdout) != len || fflush(stdout) != 0) {
        snprintf(err, errlen, "stdout: %s", strerror(errno));
        rc = EXIT_ERROR;
    }
    free(img);
    return rc;
}

/* graph: argv[0] is "graph". Renders from the RRD files that the config
 * names; ecmond need not run. */
/* A running ecmond keeps a meter's RRD updates in memory for up to
 * storage.rrd_flush seconds: ask it to write them before the file is
 * drawn. Without a daemon (or a reachable socket) the file is all there
 * is. */
static void
flush_meter(const struct conf *c, const char *target)
{
    const char *slash = strchr(target, '/');
    char request[512];
    int rc;

    if (slash == NULL || snprintf(request, sizeof request, "flush %.*s %s\n",
                                  (int)(slash - target), target,
                                  slash + 1) >= (int)sizeof request)
        return; /* the renderer reports the bad target */
    free(ask(c->control.socket, request, true, &rc));
}

static int
graph(const char *path, int argc, char **argv)
{
    static const struct option opts[] = {
        {"quota", required_argument, NULL, 'q'},
        {"capacity", no_argument, NULL, 'C'},
        {"meter", required_argument, NULL, 'm'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"width", required_argument, NULL, 'W'},
        {"height", required_argument, NULL, 'H'},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    struct rrdgraph_req r = {0};
    const char *format = NULL;
    int ch, kinds = 0;

    optind = 0;
    while ((ch = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'q':
            r.what = RRDGRAPH_QUOTA;
            r.target = optarg;
            kinds++;
            break;
        case 'C':
            r.what = RRDGRAPH_CAPACITY;
            kinds++;
            break;
        case 'm':
            r.what = RRDGRAPH_METER;
            r.target = optarg;
            kinds++;
            break;
        case 'f':
            r.from = optarg;
            break;
        case 't':
            r.to = optarg;
            break;
        case 'W':
        case 'H':
            if (parse_size(optarg, ch == 'W' ? &r.width : &r.height) == -1) {
                fprintf(stderr,
                        "ecmonctl: graph: --%s %s: expected %d..%d pixels\n",
                        ch == 'W' ? "width" : "height", optarg,
                        RRDGRAPH_SIZE_MIN, RRDGRAPH_SIZE_MAX);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            r.output = optarg;
            break;
        case 'F':
            format = optarg;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    bool to_stdout = r.output != NULL && strcmp(r.output, "-") == 0;
    if (optind != argc || kinds != 1 || r.output == NULL ||
        (format != NULL && !to_stdout)) {
        fprintf(stderr, "ecmonctl: graph: %s\n",
                optind != argc     ? "unexpected argument"
                : kinds != 1       ? "give one of --quota, --capacity, --meter"
                : r.output == NULL ? "-o FILE is required"
                                   : "--format goes with -o - (a file's "
                                     "extension picks its format)");
        usage(stderr);
        return EXIT_USAGE;
    }
    struct conf *c = load_config(path);
    if (c == NULL)
        return EXIT_ERROR;
    char err[1024];
    int rc = EXIT_OK;
    if (r.what == RRDGRAPH_METER)
        flush_meter(c, r.target);
    if (to_stdout)
        rc = graph_stdout(c, &r, format ? format : "png", err, sizeof err);
    else if (rrdgraph_render(c, &r, err, sizeof err) == -1)
        rc = EXIT_ERROR;
    if (rc != EXIT_OK)
        fprintf(stderr, "ecmonctl: graph: %s\n", err);
    conf_free(c);
    return rc;
}

static const char *
socket_from_config(const char *path)
{
    struct conf *c = load_config(path);
    if (c == NULL)
        return NULL;
    const char *sock = strdup(c->control.socket);
    conf_free(c);
    return sock;
}

int
main(int argc, char **argv)
{
    const char *sock = NULL, *conf = NULL;
    int json = 0, ch, rc = EXIT_OK;
    /* graph has options of its own: stop at the command word then. */
    const char *optstring = "c:hjs:";
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "graph") == 0)
            optstring = "+c:hjs:";

    while ((ch = getopt(argc, argv, optstring)) != -1) {
        switch (ch) {
        case 'c':
            conf = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 's':
            sock = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind == argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[optind], "mqtt-acl") == 0)
        return print_acl(conf ? conf : DEFAULT_CONF);
    if (strcmp(argv[optind], "graph") == 0)
        return graph(conf ? conf : DEFAULT_CONF, argc - optind, argv + optind);
    if (sock == NULL && conf != NULL &&
        (sock = socket_from_config(conf)) == NULL)
        return EXIT_USAGE;
    if (sock == NULL)
        sock = DEFAULT_SOCKET;

    char request[1024] = "";
    size_t off = 0;
    for (int i = optind; i < argc; i++) {
        int n = snprintf(request + off, sizeof request - off, "%s%s",
                         i > optind ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof request - off - 1) {
            fprintf(stderr, "ecmonctl: request too long\n");
            return EXIT_USAGE;
        }
        off += (size_t)n;
    }
    request[off++] = '\n';
    request[off] = '\0';

    char *reply = ask(sock, request, false, &rc);
    if (reply == NULL)
        return rc;
    json_error_t jerr;
    json_t *j = json_loads(reply, 0, &jerr);
    if (j == NULL) {
        fprintf(stderr, "ecmonctl: bad answer from ecmond: %s\n", jerr.text);
        free(reply);
        return EXIT_ERROR;
    }
    const char *cmd = argv[optind];
    /* Times in the park's zone, as its people read them. */
    if (*str(j, "timezone")) {
        setenv("TZ", str(j, "timezone"), 1);
        tzset();
    }
    if (json_object_get(j, "error")) {
        fprintf(stderr, "ecmonctl: %s\n", str(j, "error"));
        rc = EXIT_ERROR;
    } else if (json) {
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        if (s)
            puts(s);
        free(s);
    } else if (strcmp(cmd, "status") == 0) {
        print_status(j);
    } else if (strcmp(cmd, "meters") == 0) {
        print_meters(j);
    } else if (strcmp(cmd, "usage") == 0) {
        print_quota_rows(json_object_get(j, "usage"));
    } else if (strcmp(cmd, "alerts") == 0) {
        if (json_array_size(json_object_get(j, "alerts")) == 0)
            printf("no alerts\n");
        else
            print_quota_rows(json_object_get(j, "alerts"));
    } else if (strcmp(cmd, "capacity") == 0) {
        print_capacity(j);
    } else {
        const char *res = str(j, "result");
        printf("%s\n", *res ? res : "ok");
    }
    json_decref(j);
    free(reply);
    return rc;
}

/* The simulator's control commands: one line in, one reply line out. Shared
 * by the control socket and the -x start-up file. */
#include "tests/sim/sim.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 8

struct ctx {
    struct sim *s;
    double now;
    char *reply;
    size_t replylen;
};

static int reply(struct ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reply(struct ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->reply, c->replylen, "%s", rc == 0 ? "ok" : "err ");
    if (n < 0 || (size_t)n >= c->replylen)
        return rc;
    va_start(ap, fmt);
    vsnprintf(c->reply + n, c->replylen - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

static int
parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (*s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end != '\0' || errno == ERANGE || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Resolve METER (and POINT when pname is not NULL); replies on failure. */
static int
lookup(struct ctx *c, const char *mname, const char *pname,
       struct sim_meter **m, size_t *pi)
{
    int mi = sim_meter_find(c->s, mname);
    if (mi < 0)
        return reply(c, -1, "unknown meter %s", mname);
    *m = &c->s->meters[mi];
    if (!pname)
        return 0;
    int p = sim_point_find(*m, pname);
    if (p < 0)
        return reply(c, -1, "meter %s has no point %s", mname, pname);
    *pi = (size_t)p;
    return 0;
}

static int
reply_value(struct ctx *c, double v)
{
    if (isnan(v))
        return reply(c, 0, " nan");
    return reply(c, 0, " %.17g", v);
}

static int
cmd_set(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    size_t pi;
    double v;

    if (argc != 4)
        return reply(c, -1, "usage: set METER POINT VALUE");
    if (lookup(c, argv[1], argv[2], &m, &pi))
        return -1;
    if (parse_double(argv[3], &v))
        return reply(c, -1, "bad value %s", argv[3]);
    sim_point_set(m, pi, v, c->now);
    return reply_value(c, sim_point_get(m, pi, c->now));
}

static int
cmd_free(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    size_t pi;

    if (argc != 3)
        return reply(c, -1, "usage: free METER POINT");
    if (lookup(c, argv[1], argv[2], &m, &pi))
        return -1;
    sim_point_free(m, pi, c->now);
    return reply(c, 0, "%s", "");
}

static int
cmd_mean(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    size_t pi;
    double v;

    if (argc != 4)
        return reply(c, -1, "usage: mean METER POINT VALUE");
    if (lookup(c, argv[1], argv[2], &m, &pi))
        return -1;
    if (parse_double(argv[3], &v))
        return reply(c, -1, "bad value %s", argv[3]);
    if (sim_point_mean(m, pi, v, c->now) < 0)
        return reply(c, -1, "%s.%s integrates %s.%s: set the mean of %s",
                     argv[1], argv[2], argv[1],
                     m->points[m->points[pi].rate].cp->name,
                     m->points[m->points[pi].rate].cp->name);
    return reply(c, 0, "%s", "");
}

static int
cmd_get(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    size_t pi;

    if (argc != 3)
        return reply(c, -1, "usage: get METER POINT");
    if (lookup(c, argv[1], argv[2], &m, &pi))
        return -1;
    return reply_value(c, sim_point_get(m, pi, c->now));
}

static int
cmd_fault(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    const char *f = argc == 3 ? argv[2] : "";

    if (argc != 3)
        return reply(c, -1,
                     "usage: fault METER none|timeout|exception[:CODE]"
                     "|nan|inf|-inf|reset|badunit|badcrc");
    if (lookup(c, argv[1], NULL, &m, NULL))
        return -1;
    if (strcmp(f, "none") == 0) {
        m->fault = FAULT_NONE;
    } else if (strcmp(f, "timeout") == 0) {
        m->fault = FAULT_TIMEOUT;
    } else if (strncmp(f, "exception", 9) == 0 &&
               (f[9] == '\0' || f[9] == ':')) {
        unsigned long code = 4;
        if (f[9] == ':' && (parse_uint(f + 10, 255, &code) || code == 0))
            return reply(c, -1, "bad exception code %s", f + 10);
        m->fault = FAULT_EXCEPTION;
        m->exc_code = (uint8_t)code;
    } else if (strcmp(f, "nan") == 0) {
        m->fault = FAULT_NAN;
    } else if (strcmp(f, "inf") == 0) {
        m->fault = FAULT_INF;
    } else if (strcmp(f, "-inf") == 0) {
        m->fault = FAULT_NEG_INF;
    } else if (strcmp(f, "reset") == 0) {
        sim_meter_reset_totals(m, c->now);
    } else if (strcmp(f, "badunit") == 0) {
        m->fault = FAULT_BADUNIT;
    } else if (strcmp(f, "badcrc") == 0) {
        if (c->s->conf->buses[m->cm->bus].kind != BUS_RTU)
            return reply(c, -1, "badcrc needs an RTU bus; %s is on TCP bus %s",
                         m->cm->id, c->s->conf->buses[m->cm->bus].id);
        m->fault = FAULT_BADCRC;
    } else {
        return reply(c, -1, "unknown fault %s", f);
    }
    return reply(c, 0, "%s", "");
}

static int
parse_table(const char *s, enum conf_table *t)
{
    if (strcmp(s, "holding") == 0)
        *t = TABLE_HOLDING;
    else if (strcmp(s, "input") == 0)
        *t = TABLE_INPUT;
    else
        return -1;
    return 0;
}

static int
cmd_reject(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    enum conf_table t;
    unsigned long addr, count;

    if (argc == 3 && strcmp(argv[2], "clear") == 0) {
        if (lookup(c, argv[1], NULL, &m, NULL))
            return -1;
        m->nrejects = 0;
        return reply(c, 0, "%s", "");
    }
    if (argc != 5)
        return reply(c, -1,
                     "usage: reject METER holding|input ADDR COUNT, "
                     "reject METER clear");
    if (lookup(c, argv[1], NULL, &m, NULL))
        return -1;
    if (parse_table(argv[2], &t))
        return reply(c, -1, "bad table %s (holding or input)", argv[2]);
    if (parse_uint(argv[3], 65535, &addr))
        return reply(c, -1, "bad address %s (0..65535)", argv[3]);
    if (parse_uint(argv[4], 65536 - addr, &count) || count == 0)
        return reply(c, -1, "bad count %s (1..%lu)", argv[4], 65536 - addr);
    if (m->nrejects == SIM_REJECTS)
        return reply(c, -1, "meter %s has %d reject ranges already", m->cm->id,
                     SIM_REJECTS);
    m->rejects[m->nrejects++] =
        (struct sim_reject){t, (unsigned)addr, (unsigned)count};
    return reply(c, 0, "%s", "");
}

static int
cmd_strict(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;

    if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off")))
        return reply(c, -1, "usage: strict METER on|off");
    if (lookup(c, argv[1], NULL, &m, NULL))
        return -1;
    m->strict = strcmp(argv[2], "on") == 0;
    return reply(c, 0, "%s", "");
}

static int
cmd_stats(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;

    if (argc > 2)
        return reply(c, -1, "usage: stats [METER]");
    if (argc == 2) {
        if (lookup(c, argv[1], NULL, &m, NULL))
            return -1;
        return reply(c, 0, " requests=%lu exceptions=%lu unanswered=%lu",
                     m->stats.requests, m->stats.exceptions,
                     m->stats.unanswered);
    }
    struct sim_stats sum = c->s->orphan;
    for (size_t i = 0; i < c->s->nmeters; i++) {
        sum.requests += c->s->meters[i].stats.requests;
        sum.exceptions += c->s->meters[i].stats.exceptions;
        sum.unanswered += c->s->meters[i].stats.unanswered;
    }
    return reply(c, 0,
                 " requests=%lu exceptions=%lu unanswered=%lu "
                 "bad_frames=%lu",
                 sum.requests, sum.exceptions, sum.unanswered,
                 c->s->bad_frames);
}

static int
cmd_reset_stats(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return reply(c, -1, "usage: reset-stats");
    for (size_t i = 0; i < c->s->nmeters; i++)
        memset(&c->s->meters[i].stats, 0, sizeof c->s->meters[i].stats);
    memset(&c->s->orphan, 0, sizeof c->s->orphan);
    c->s->bad_frames = 0;
    return reply(c, 0, "%s", "");
}

static int
cmd_pause(struct ctx *c, int argc, char **argv)
{
    bool pause = strcmp(argv[0], "pause") == 0;
    char err[256];

    if (argc != 2)
        return reply(c, -1, "usage: %s BUS", argv[0]);
    for (size_t b = 0; b < c->s->conf->nbuses; b++) {
        if (strcmp(c->s->conf->buses[b].id, argv[1]) != 0)
            continue;
        if (!c->s->bus_pause)
            return reply(c, -1, "no transport");
        if (c->s->bus_pause(c->s->net, (int)b, pause, err, sizeof err))
            return reply(c, -1, "%s", err);
        return reply(c, 0, "%s", "");
    }
    return reply(c, -1, "unknown bus %s", argv[1]);
}

/* `list`: meter ids; `list METER`: its points as name:table:address:type. */
static int
cmd_list(struct ctx *c, int argc, char **argv)
{
    struct sim_meter *m = NULL;
    size_t n;

    if (argc > 2)
        return reply(c, -1, "usage: list [METER]");
    reply(c, 0, "%s", "");
    n = strlen(c->reply);
    if (argc == 1) {
        for (size_t i = 0; i < c->s->nmeters && n < c->replylen; i++)
            n += (size_t)snprintf(c->reply + n, c->replylen - n, " %s",
                                  c->s->meters[i].cm->id);
        return 0;
    }
    if (lookup(c, argv[1], NULL, &m, NULL))
        return -1;
    reply(c, 0, "%s", "");
    n = strlen(c->reply);
    for (size_t i = 0; i < m->npoints && n < c->replylen; i++) {
        const struct conf_point *cp = m->points[i].cp;
        n += (size_t)snprintf(c->reply + n, c->replylen - n, " %s:%s:%u:%s",
                              cp->name,
                              cp->table == TABLE_HOLDING ? "holding" : "input",
                              cp->address, conf_type_name(cp->type));
    }
    return 0;
}

static int
cmd_quit(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return reply(c, -1, "usage: quit");
    c->s->quit = true;
    return reply(c, 0, " bye");
}

static const struct {
    const char *name;
    int (*fn)(struct ctx *, int, char **);
} commands[] = {
    {"set", cmd_set},
    {"free", cmd_free},
    {"mean", cmd_mean},
    {"get", cmd_get},
    {"fault", cmd_fault},
    {"reject", cmd_reject},
    {"strict", cmd_strict},
    {"stats", cmd_stats},
    {"reset-stats", cmd_reset_stats},
    {"pause", cmd_pause},
    {"resume", cmd_pause},
    {"list", cmd_list},
    {"quit", cmd_quit},
};

int
sim_ctl_exec(struct sim *s, char *line, double now, char *replybuf,
             size_t replylen)
{
    struct ctx c = {s, now, replybuf, replylen};
    char *argv[MAX_ARGS];
    int argc = 0;
    char *save = NULL;

    for (char *tok = strtok_r(line, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == MAX_ARGS)
            return reply(&c, -1, "too many arguments");
        argv[argc++] = tok;
    }
    if (argc == 0)
        return reply(&c, -1, "empty command");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0)
            return commands[i].fn(&c, argc, argv);
    return reply(&c, -1, "unknown command %s", argv[0]);
}

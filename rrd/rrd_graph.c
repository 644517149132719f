/* Graphs of the RRD files: builds rrd_graph's arguments (DEF, CDEF, VDEF,
 * LINE, AREA, GPRINT) from the config, takes the image from librrd in
 * memory, and maps librrd's errors once. */
#include "rrd/rrd_graph.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>
#include <rrd_client.h>

#include "daemon/tz.h"
#include "daemon/core/periods.h"
#include "rrd/rrd_layout.h"

#define DAY 86400
/* More periods than this in the span: no pro-rated line (it would be a
 * comb, and its RPN expression grows with every period). */
#define PRORATED_MAX_PERIODS 100

static const char *const palette[] = {"1F77B4", "D62728", "2CA02C", "FF7F0E",
                                      "9467BD", "8C564B", "E377C2", "7F7F7F",
                                      "BCBD22", "17BECF"};

/* rrd_graph's argv, each string owned. */
struct args {
    char **v;
    int n, cap;
    bool oom;
};

static void add(struct args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct args *a, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    if (a->oom)
        return;
    if (a->n + 1 >= a->cap) {
        int cap = a->cap ? 2 * a->cap : 64;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (v == NULL) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) == -1)
        s = NULL;
    va_end(ap);
    if (s == NULL) {
        a->oom = true;
        return;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void
args_free(struct args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* s with ':' escaped as rrd_graph wants in file names and legends, and
 * '\' doubled; NULL if out of memory. */
static char *
escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += (*p == ':' || *p == '\\') ? 2 : 1;
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = s; *p; p++) {
        if (*p == ':' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* A number for a legend: short, no trailing zeros. */
static void
fmt_num(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.6g", v);
}

/* The span: [*start, *end) from the specs, each defaulting to the number
 * given. Times parse in the process's zone (the park's). */
static int
span(const struct rrdgraph_req *r, int64_t dstart, int64_t dend, int64_t *start,
     int64_t *end, char *err, size_t errlen)
{
    char sbuf[32], ebuf[32];
    const char *s = r->from, *e = r->to, *msg;
    rrd_time_value_t st, et;
    time_t ts, te;

    snprintf(sbuf, sizeof sbuf, "%lld", (long long)dstart);
    snprintf(ebuf, sizeof ebuf, "%lld", (long long)dend);
    if (s == NULL)
        s = sbuf;
    if (e == NULL)
        e = ebuf;
    if ((msg = rrd_parsetime(s, &st)) != NULL) {
        rrdlayout_errf(err, errlen, "--from %s: %s", s, msg);
        return -1;
    }
    if ((msg = rrd_parsetime(e, &et)) != NULL) {
        rrdlayout_errf(err, errlen, "--to %s: %s", e, msg);
        return -1;
    }
    rrd_clear_error();
    if (rrd_proc_start_end(&st, &et, &ts, &te) == -1) {
        rrdlayout_errf(err, errlen, "--from %s --to %s: %s", s, e,
                       rrd_get_error());
        rrd_clear_error();
        return -1;
    }
    if (ts >= te) {
        rrdlayout_errf(err, errlen, "--from %s is not before --to %s", s, e);
        return -1;
    }
    *start = ts;
    *end = te;
    return 0;
}

static int
find_owner(const struct conf *c, const char *id, size_t idlen, int *ent,
           char *err, size_t errlen)
{
    if (idlen == strlen(CONF_PARK_ID) && memcmp(id, CONF_PARK_ID, idlen) == 0) {
        *ent = -1;
        return 0;
    }
    for (size_t i = 0; i < c->nenterprises; i++)
        if (strlen(c->enterprises[i].id) == idlen &&
            memcmp(c->enterprises[i].id, id, idlen) == 0) {
            *ent = (int)i;
            return 0;
        }
    rrdlayout_errf(err, errlen, "unknown enterprise '%.*s'", (int)idlen, id);
    return -1;
}

/* Split "ENT/NAME" and find ENT; *name points into target. */
static int
split_target(const struct conf *c, const char *target, const char *what,
             int *ent, const char **name, char *err, size_t errlen)
{
    const char *slash = target ? strchr(target, '/') : NULL;
    if (slash == NULL || slash == target || slash[1] == '\0') {
        rrdlayout_errf(err, errlen, "expected ENTERPRISE/%s, got '%s'", what,
                       target ? target : "");
        return -1;
    }
    *name = slash + 1;
    return find_owner(c, target, (size_t)(slash - target), ent, err, errlen);
}

static const char *
owner_name(const struct conf *c, int ent)
{
    return ent < 0 ? c->park.name : c->enterprises[ent].name;
}

static const char *
owner_id(const struct conf *c, int ent)
{
    return ent < 0 ? CONF_PARK_ID : c->enterprises[ent].id;
}

static int
need_file(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return 0;
    if (errno == ENOENT)
        rrdlayout_errf(
            err, errlen,
            "no data yet: %s (ecmond creates it on its first update)", path);
    else
        rrdlayout_errf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
}

/* storage.rrdcached, or NULL when the files are written directly. */
static const char *
cached(const struct conf *c)
{
    const char *a = c->storage.rrdcached;
    return a != NULL && a[0] != '\0' ? a : NULL;
}

/* The name librrd gets for the file `path` (<rrd_dir>/<dir>/<file>.rrd):
 * for rrdcached over TCP, relative to its base directory (rrd_dir), as
 * rrd_store.c names it; librrd refuses absolute names there. Otherwise the
 * path itself. Points into path. */
static const char *
lib_name(const struct conf *c, const char *path)
{
    const char *a = cached(c);
    if (a == NULL || strncmp(a, "unix:", 5) == 0 || a[0] == '/')
        return path;
    const char *last = strrchr(path, '/'), *dir = NULL;
    if (last != NULL)
        dir = memrchr(path, '/', (size_t)(last - path));
    return dir != NULL ? dir + 1 : path;
}

/* With rrdcached, connect to it: librrd keeps one connection per process,
 * which rrdc_flush and rrd_graph --daemon use. */
static int
connect_cached(const struct conf *c, char *err, size_t errlen)
{
    const char *a = cached(c);
    int status;

    if (a == NULL)
        return 0;
    rrd_clear_error();
    status = rrdc_connect(a);
    if (status != 0 || !rrdc_is_connected(a)) {
        rrdlayout_errf(err, errlen, "rrdcached %s: %s", a,
                       rrd_test_error() ? rrd_get_error()
                       : status > 0     ? strerror(status)
                                        : "not connected");
        rrd_clear_error();
        return -1;
    }
    return 0;
}

/* With rrdcached, have it write what it holds for the file, so that the
 * file read directly (rrd_lastupdate_r) shows every update; rrd_graph's
 * own reads go through rrdcached (--daemon). */
static int
flush_cached(const struct conf *c, const char *path, char *err, size_t errlen)
{
    const char *a = cached(c), *name = lib_name(c, path);
    int status;

    if (a == NULL)
        return 0;
    if (connect_cached(c, err, errlen) == -1)
        return -1;
    rrd_clear_error();
    if ((status = rrdc_flush(name)) != 0) {
        rrdlayout_errf(err, errlen, "rrdcached %s: flush %s: %s", a, name,
                       rrd_test_error() ? rrd_get_error()
                       : status > 0     ? strerror(status)
                                        : "failed");
        rrd_clear_error();
        return -1;
    }
    return 0;
}

/* The last update of the file: its time and the values of the data
 * sources named (NAN if unknown). Returns 0 or -1 (no error kept). */
static int
last_values(const char *path, const char *const *names, double *vals, size_t n,
            int64_t *when)
{
    time_t last;
    unsigned long nds = 0;
    char **dsn = NULL, **dsv = NULL;

    for (size_t i = 0; i < n; i++)
        vals[i] = NAN;
    rrd_clear_error();
    if (rrd_lastupdate_r(path, &last, &nds, &dsn, &dsv) == -1) {
        rrd_clear_error();
        return -1;
    }
    for (unsigned long k = 0; k < nds; k++) {
        for (size_t i = 0; i < n; i++) {
            char *end;
            if (strcmp(dsn[k], names[i]) != 0)
                continue;
            double v = strtod(dsv[k], &end);
            if (end != dsv[k] && *end == '\0' && isfinite(v))
                vals[i] = v;
        }
        free(dsn[k]);
        free(dsv[k]);
    }
    free(dsn);
    free(dsv);
    *when = last;
    return 0;
}

/* Pro-rated usage over [start, end): in each period it crosses, 0 at the
 * period's start rising to the limit at its end. An RPN expression of
 * nested IFs on TIME, or false if the span holds too many periods. */
static bool
add_prorated(struct args *a, const struct conf_quota *q, const struct tzone *z,
             int64_t start, int64_t end)
{
    int64_t ps[PRORATED_MAX_PERIODS], pe[PRORATED_MAX_PERIODS];
    size_t n = 0;
    for (int64_t t = start; t < end; t = pe[n - 1]) {
        if (n == PRORATED_MAX_PERIODS)
            return false;
        period_bounds(q->period, t, z, &ps[n], &pe[n]);
        n++;
    }
    size_t cap = 64 + n * 160, off = 0;
    char *rpn = malloc(cap);
    if (rpn == NULL) {
        a->oom = true;
        return false;
    }
    off += (size_t)snprintf(rpn, cap, "used,POP");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(rpn + off, cap - off,
                                ",TIME,%lld,LT,TIME,%lld,-,%.17g,*,%lld,/",
                                (long long)pe[i], (long long)ps[i], q->limit,
                                (long long)(pe[i] - ps[i]));
    off += (size_t)snprintf(rpn + off, cap - off, ",UNKN");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(rpn + off, cap - off, ",IF");
    add(a, "CDEF:prorated=%s", rpn);
    free(rpn);
    return true;
}

static int
quota_graph(const struct conf *c, const struct rrdgraph_req *r,
            const struct tzone *z, struct args *a, char *err, size_t errlen)
{
    int ent;
    const char *qid;
    if (split_target(c, r->target, "QUOTA", &ent, &qid, err, errlen) == -1)
        return -1;
    const struct conf_quota *qs =
        ent < 0 ? c->park.quotas : c->enterprises[ent].quotas;
    size_t nq = ent < 0 ? c->park.nquotas : c->enterprises[ent].nquotas;
    int qi = -1;
    for (size_t i = 0; i < nq; i++)
        if (strcmp(qs[i].id, qid) == 0)
            qi = (int)i;
    if (qi < 0) {
        rrdlayout_errf(err, errlen, "%s has no quota '%s'", owner_id(c, ent),
                       qid);
        return -1;
    }
    const struct conf_quota *q = &qs[qi];

    char path[PATH_MAX];
    if (rrdlayout_quota_path(c, ent, qi, path, sizeof path) == -1) {
        rrdlayout_errf(err, errlen, "quota %s/%s: path too long",
                       owner_id(c, ent), qid);
        return -1;
    }
    if (need_file(path, err, errlen) == -1)
        return -1;

    int64_t now = (int64_t)time(NULL), ds, de, start, end;
    period_bounds(q->period, now, z, &ds, &de);
    if (span(r, ds, de, &start, &end, err, errlen) == -1)
        return -1;

    char first[32], last[32], label[80], measure[48], lim[32], warn[32];
    period_label(q->period, start, z, first, sizeof first);
    period_label(q->period, end - 1, z, last, sizeof last);
    if (strcmp(first, last) == 0)
        snprintf(label, sizeof label, "%s", first);
    else
        snprintf(label, sizeof label, "%s – %s", first, last);
    conf_measure_name(q, measure, sizeof measure);
    const char *unit = conf_measure_unit(q);
    double warn_at = c->alerts.warn * q->limit;
    fmt_num(lim, sizeof lim, q->limit);
    fmt_num(warn, sizeof warn, warn_at);

    char *file = escape(lib_name(c, path)), *eunit = escape(unit);
    if (file == NULL || eunit == NULL) {
        free(file);
        free(eunit);
        a->oom = true;
        return -1;
    }
    add(a, "--start=%lld", (long long)start);
    add(a, "--end=%lld", (long long)end);
    add(a, "--title=%s — %s (%s, %s)", owner_name(c, ent), q->id, measure,
        label);
    add(a, "--vertical-label=%s", unit);
    add(a, "--lower-limit=0");
    add(a, "--units-exponent=0");
    add(a, "DEF:used=%s:used:AVERAGE", file);
    add(a, "VDEF:usedlast=used,LAST");
    add(a, "VDEF:usedmax=used,MAXIMUM");
    /* librrd 1.7 does not parse a number as an expression's last token. */
    add(a, "CDEF:limit=%.17g,used,POP", q->limit);
    add(a, "CDEF:warn=%.17g,used,POP", warn_at);
    bool prorated = q->measure != MEASURE_ENERGY_INTENSITY &&
                    add_prorated(a, q, z, start, end);

    /* The forecast: from the last update's usage, straight to the
     * projected usage at the end of the period holding that update. */
    static const char *const names[] = {"used", "projected"};
    double lv[2];
    int64_t tl, fps, fpe;
    bool forecast = false;
    if (flush_cached(c, path, err, errlen) == -1) {
        free(file);
        free(eunit);
        return -1;
    }
    if (last_values(path, names, lv, 2, &tl) == 0 && isfinite(lv[0]) &&
        isfinite(lv[1])) {
        period_bounds(q->period, tl, z, &fps, &fpe);
        if (fpe > start && tl < end && fpe > tl) {
            forecast = true;
            add(a,
                "CDEF:forecast=used,POP,TIME,%lld,GE,TIME,%lld,LE,*,%.17g,"
                "%.17g,TIME,%lld,-,*,%lld,/,+,UNKN,IF",
                (long long)tl, (long long)fpe, lv[0], lv[1] - lv[0],
                (long long)tl, (long long)(fpe - tl));
        }
    }

    /* Dashed lines' legend marks are wider than the others: their legends
     * start with a space. */
    add(a, "AREA:used#9EC5E8");
    add(a, "LINE2:used#1F5FA8:used");
    add(a, "GPRINT:usedlast:last %%.6lg %s", eunit);
    add(a, "GPRINT:usedmax:max %%.6lg %s\\l", eunit);
    add(a, "LINE2:limit#D62728:limit %s %s\\l", lim, eunit);
    add(a, "LINE1:warn#FF7F0E: warn level %s %s (%g × limit)\\l:dashes=6,4",
        warn, eunit, c->alerts.warn);
    if (prorated)
        add(a, "LINE1:prorated#2CA02C:pro-rated (limit × elapsed share of the "
               "period)\\l");
    if (forecast) {
        char proj[32];
        fmt_num(proj, sizeof proj, lv[1]);
        add(a,
            "LINE2:forecast#9467BD: forecast to the period's end (%s %s)\\l"
            ":dashes=8,4",
            proj, eunit);
    }
    free(file);
    free(eunit);
    return 0;
}

static int
capacity_graph(const struct conf *c, const struct rrdgraph_req *r,
               struct args *a, char *err, size_t errlen)
{
    if (!c->park.has_wwtp) {
        rrdlayout_errf(err, errlen,
                       "park %s has no treatment plant (park.wwtp) in the "
                       "config",
                       c->park.id);
        return -1;
    }
    char path[PATH_MAX];
    if (rrdlayout_capacity_path(c, path, sizeof path) == -1) {
        rrdlayout_errf(err, errlen, "capacity: path too long");
        return -1;
    }
    if (need_file(path, err, errlen) == -1)
        return -1;
    int64_t now = (int64_t)time(NULL), start, end;
    if (span(r, now - 30 * DAY, now, &start, &end, err, errlen) == -1)
        return -1;
    char *file = escape(lib_name(c, path));
    if (file == NULL) {
        a->oom = true;
        return -1;
    }
    add(a, "--start=%lld", (long long)start);
    add(a, "--end=%lld", (long long)end);
    add(a, "--title=%s — treatment plant capacity", c->park.name);
    add(a, "--vertical-label=m3");
    add(a, "--lower-limit=0");
    add(a, "--units-exponent=0");
    add(a, "DEF:inflow=%s:inflow:MAX", file);
    add(a, "DEF:capacity=%s:capacity:AVERAGE", file);
    add(a, "DEF:headroom=%s:headroom:AVERAGE", file);
    add(a, "VDEF:inmax=inflow,MAXIMUM");
    add(a, "VDEF:caplast=capacity,LAST");
    add(a, "VDEF:hrlast=headroom,LAST");
    add(a, "AREA:inflow#9EC5E8:inflow of the day so far (m3)");
    add(a, "GPRINT:inmax:peak day %%.6lg m3\\l");
    add(a, "LINE2:capacity#D62728:capacity (m3/day)");
    add(a, "GPRINT:caplast:%%.6lg m3/day\\l");
    add(a,
        "LINE2:headroom#2CA02C: headroom (capacity − 30-day peak):dashes=6,4");
    add(a, "GPRINT:hrlast:%%.6lg m3/day\\l");
    free(file);
    return 0;
}

/* The unit of a total's rate once multiplied by 3600: per hour, and the
 * power for energy ("kWh" -> "kW"). */
static void
rate_unit(const char *unit, char *buf, size_t len)
{
    size_t n = strlen(unit);
    if (n > 1 && unit[n - 1] == 'h' &&
        toupper((unsigned char)unit[n - 2]) == 'W')
        snprintf(buf, len, "%.*s", (int)(n - 1), unit);
    else
        snprintf(buf, len, "%s/h", unit);
}

/* The unit a point is drawn in: its own, or its rate's for a total. */
static void
point_unit(const struct conf_point *pt, char *buf, size_t len)
{
    if (rrdlayout_kind_dst(pt->kind) == RRDLAYOUT_DDERIVE)
        rate_unit(pt->unit, buf, len);
    else
        snprintf(buf, len, "%s", pt->unit);
}

static int
meter_graph(const struct conf *c, const struct rrdgraph_req *r, struct args *a,
            char *err, size_t errlen)
{
    int ent;
    const char *mid;
    if (split_target(c, r->target, "METER", &ent, &mid, err, errlen) == -1)
        return -1;
    const int *ms = ent < 0 ? c->park.meters : c->enterprises[ent].meters;
    size_t nm = ent < 0 ? c->park.nmeters : c->enterprises[ent].nmeters;
    int m = -1;
    for (size_t i = 0; i < nm; i++)
        if (strcmp(c->meters[ms[i]].id, mid) == 0)
            m = ms[i];
    if (m < 0) {
        rrdlayout_errf(err, errlen, "%s has no meter '%s'", owner_id(c, ent),
                       mid);
        return -1;
    }
    char path[PATH_MAX];
    if (rrdlayout_meter_path(c, m, path, sizeof path) == -1) {
        rrdlayout_errf(err, errlen, "meter %s: path too long", mid);
        return -1;
    }
    if (need_file(path, err, errlen) == -1)
        return -1;
    int64_t now = (int64_t)time(NULL), start, end;
    if (span(r, now - 2 * DAY, now, &start, &end, err, errlen) == -1)
        return -1;
    char *file = escape(lib_name(c, path));
    if (file == NULL) {
        a->oom = true;
        return -1;
    }
    const struct conf_profile *p = &c->profiles[c->meters[m].profile];
    char unit[24], common[24] = "";
    bool same = true;
    for (size_t i = 0; i < p->npoints; i++) {
        point_unit(&p->points[i], unit, sizeof unit);
        if (i == 0)
            snprintf(common, sizeof common, "%s", unit);
        else if (strcmp(common, unit) != 0)
            same = false;
    }
    add(a, "--start=%lld", (long long)start);
    add(a, "--end=%lld", (long long)end);
    add(a, "--title=%s — %s (%s)", owner_name(c, ent), mid, p->id);
    if (same && *common)
        add(a, "--vertical-label=%s", common);
    for (size_t i = 0; i < p->npoints; i++) {
        const struct conf_point *pt = &p->points[i];
        const char *color = palette[i % (sizeof palette / sizeof *palette)];
        bool rate = rrdlayout_kind_dst(pt->kind) == RRDLAYOUT_DDERIVE;
        point_unit(pt, unit, sizeof unit);
        add(a, "DEF:p%zu=%s:%s:AVERAGE", i, file, pt->name);
        /* Totals are stored as rates per second: show them per hour. */
        if (rate)
            add(a, "CDEF:v%zu=p%zu,3600,*", i, i);
        else
            add(a, "CDEF:v%zu=p%zu", i, i);
        char *eu = escape(unit);
        if (eu == NULL) {
            free(file);
            a->oom = true;
            return -1;
        }
        add(a, "VDEF:last%zu=v%zu,LAST", i, i);
        add(a, "VDEF:avg%zu=v%zu,AVERAGE", i, i);
        add(a, "VDEF:max%zu=v%zu,MAXIMUM", i, i);
        add(a, "LINE2:v%zu#%s:%s%s (%s)", i, color, pt->name,
            rate ? " rate" : "", eu);
        add(a, "GPRINT:last%zu:last %%.4lg", i);
        add(a, "GPRINT:avg%zu:avg %%.4lg", i);
        add(a, "GPRINT:max%zu:max %%.4lg\\l", i);
        free(eu);
    }
    free(file);
    return 0;
}

static void
xml_put(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

/* cairo draws an SVG's text as glyph outlines: a copy of the SVG img with
 * a <title> and a <desc> (one legend line each) after its <svg> tag, so
 * that it says in text what it shows. */
static int
svg_describe(const unsigned char *img, size_t len, const char *title,
             rrd_info_t *info, unsigned char **out, size_t *outlen, char *err,
             size_t errlen)
{
    const unsigned char *tag = memmem(img, len, "<svg", 4), *gt = NULL;
    if (tag != NULL)
        gt = memchr(tag, '>', len - (size_t)(tag - img));
    if (gt == NULL) {
        rrdlayout_errf(err, errlen, "librrd's SVG has no <svg> element");
        return -1;
    }
    char *buf = NULL;
    size_t n = 0, head = (size_t)(gt + 1 - img);
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL) {
        rrdlayout_errf(err, errlen, "out of memory");
        return -1;
    }
    fwrite(img, 1, head, f);
    fputs("\n<title>", f);
    xml_put(f, title);
    fputs("</title>\n<desc>", f);
    for (rrd_info_t *i = info; i; i = i->next)
        if (strncmp(i->key, "legend[", 7) == 0 && i->type == RD_I_STR) {
            xml_put(f, i->value.u_str + strspn(i->value.u_str, " "));
            fputc('\n', f);
        }
    fputs("</desc>", f);
    fwrite(img + head, 1, len - head, f);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(buf);
        rrdlayout_errf(err, errlen, "out of memory");
        return -1;
    }
    *out = (unsigned char *)buf;
    *outlen = n;
    return 0;
}

/* librrd's --imgformat for "png" or "svg" (any case), or NULL. */
static const char *
lib_format(const char *format)
{
    if (format != NULL && strcasecmp(format, "png") == 0)
        return "PNG";
    if (format != NULL && strcasecmp(format, "svg") == 0)
        return "SVG";
    return NULL;
}

/* "png" or "svg" from the file name's extension, or NULL. */
static const char *
file_format(const char *file)
{
    const char *dot = strrchr(file, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return NULL;
    if (strcasecmp(dot, ".png") == 0)
        return "png";
    if (strcasecmp(dot, ".svg") == 0)
        return "svg";
    return NULL;
}

/* What the graph shows, for messages: "quota bomin/cod-month". */
static void
graph_name(const struct rrdgraph_req *r, char *buf, size_t len)
{
    switch (r->what) {
    case RRDGRAPH_QUOTA:
        snprintf(buf, len, "quota %s", r->target ? r->target : "");
        break;
    case RRDGRAPH_METER:
        snprintf(buf, len, "meter %s", r->target ? r->target : "");
        break;
    default:
        snprintf(buf, len, "capacity");
    }
}

/* The image of a successful rrd_graph_v: a malloc'd copy of its "image"
 * blob, or for an SVG that blob described (svg_describe). */
static int
take_image(rrd_info_t *info, const char *fmt, const struct args *a,
           unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
    const rrd_blob_t *blob = NULL;
    for (rrd_info_t *i = info; i; i = i->next)
        if (i->type == RD_I_BLO && strcmp(i->key, "image") == 0)
            blob = &i->value.u_blo;
    if (blob == NULL || blob->size == 0) {
        rrdlayout_errf(err, errlen, "librrd returned no image");
        return -1;
    }
    if (strcmp(fmt, "SVG") == 0) {
        const char *title = "";
        for (int i = 0; i < a->n; i++)
            if (strncmp(a->v[i], "--title=", 8) == 0)
                title = a->v[i] + 8;
        return svg_describe(blob->ptr, blob->size, title, info, out, outlen,
                            err, errlen);
    }
    unsigned char *img = malloc(blob->size);
    if (img == NULL) {
        rrdlayout_errf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(img, blob->ptr, blob->size);
    *out = img;
    *outlen = blob->size;
    return 0;
}

int
rrdgraph_render_mem(const struct conf *c, const struct rrdgraph_req *r,
                    const char *format, unsigned char **out, size_t *outlen,
                    char *err, size_t errlen)
{
    const char *fmt = lib_format(format);
    if (fmt == NULL) {
        rrdlayout_errf(err, errlen, "image format '%s': expected png or svg",
                       format ? format : "");
        return -1;
    }
    int w = r->width ? r->width : RRDGRAPH_WIDTH;
    int h = r->height ? r->height : RRDGRAPH_HEIGHT;
    if (w < RRDGRAPH_SIZE_MIN || w > RRDGRAPH_SIZE_MAX ||
        h < RRDGRAPH_SIZE_MIN || h > RRDGRAPH_SIZE_MAX) {
        rrdlayout_errf(err, errlen,
                       "image size %dx%d: each side must be %d..%d", w, h,
                       RRDGRAPH_SIZE_MIN, RRDGRAPH_SIZE_MAX);
        return -1;
    }
    struct tzone z;
    tz_use(c->park.timezone, &z);

    struct args a = {0};
    /* Options first (rrd_graph takes the first argument that is no option
     * as the file; "-": the image only in the info list), then the graph
     * elements. */
    add(&a, "graph");
    add(&a, "--imgformat=%s", fmt);
    add(&a, "--full-size-mode");
    add(&a, "--width=%d", w);
    add(&a, "--height=%d", h);
    add(&a, "--font=DEFAULT:0:%s", RRDGRAPH_FONT);
    add(&a, "--slope-mode");
    /* rrd_graph then reads each file through rrdcached (FETCH), which
     * first writes what it holds for the file. */
    if (cached(c) != NULL)
        add(&a, "--daemon=%s", cached(c));
    add(&a, "-");
    int rc;
    switch (r->what) {
    case RRDGRAPH_QUOTA:
        rc = quota_graph(c, r, &z, &a, err, errlen);
        break;
    case RRDGRAPH_CAPACITY:
        rc = capacity_graph(c, r, &a, err, errlen);
        break;
    case RRDGRAPH_METER:
        rc = meter_graph(c, r, &a, err, errlen);
        break;
    default:
        rrdlayout_errf(err, errlen, "unknown graph");
        rc = -1;
    }
    if (a.oom) {
        rrdlayout_errf(err, errlen, "out of memory");
        rc = -1;
    }
    /* Connected first: rrd_graph, unable to connect, draws from the files
     * and only leaves librrd's error, which does not say which rrdcached. */
    if (rc == 0)
        rc = connect_cached(c, err, errlen);
    if (rc == 0) {
        rrd_clear_error();
        rrd_info_t *info = rrd_graph_v(a.n, a.v);
        if (info == NULL || rrd_test_error()) {
            char name[160];
            graph_name(r, name, sizeof name);
            rrdlayout_errf(err, errlen, "rrd graph %s: %s", name,
                           rrd_test_error() ? rrd_get_error()
                                            : "failed (no detail from librrd)");
            rc = -1;
        } else {
            rc = take_image(info, fmt, &a, out, outlen, err, errlen);
        }
        rrd_info_free(info);
        rrd_clear_error();
    }
    args_free(&a);
    return rc;
}

/* Write len bytes of img to "<file>.tmp" and rename it over file. */
static int
write_file(const char *file, const unsigned char *img, size_t len, char *err,
           size_t errlen)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp) {
        rrdlayout_errf(err, errlen, "%s: path too long", file);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        rrdlayout_errf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    if (fwrite(img, 1, len, f) != len || fflush(f) != 0) {
        rrdlayout_errf(err, errlen, "%s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return -1;
    }
    if (fclose(f) != 0) {
        rrdlayout_errf(err, errlen, "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, file) != 0) {
        rrdlayout_errf(err, errlen, "%s: %s", file, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int
rrdgraph_render(const struct conf *c, const struct rrdgraph_req *r, char *err,
                size_t errlen)
{
    const char *fmt = r->output ? file_format(r->output) : NULL;
    if (fmt == NULL) {
        rrdlayout_errf(err, errlen,
                       "%s: the file name must end in .png or .svg",
                       r->output ? r->output : "(no file)");
        return -1;
    }
    unsigned char *img;
    size_t len;
    if (rrdgraph_render_mem(c, r, fmt, &img, &len, err, errlen) == -1)
        return -1;
    int rc = write_file(r->output, img, len, err, errlen);
    free(img);
    return rc;
}

/* Pure RRD layout (DESIGN §7): paths, DS and RRA strings, update lines. */
#include "rrd/rrd_layout.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XFF "0.5"

/* Upper bounds of one DS and one RRA definition ("DS:" name ":DDERIVE:"
 * heartbeat ":" min ":" max is at most 101 bytes). */
#define DS_DEF_MAX 128
#define RRA_DEF_MAX 64

static int
fitted(int n, size_t len)
{
    return n < 0 || (size_t)n >= len ? -1 : n;
}

void
rrdlayout_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

enum rrdlayout_dst
rrdlayout_kind_dst(enum conf_kind k)
{
    switch (k) {
    case KIND_VOLUME_TOTAL:
    case KIND_REUSE_TOTAL:
    case KIND_ELECTRICITY_TOTAL:
    case KIND_GAS_TOTAL:
    case KIND_STEAM_TOTAL:
    case KIND_HEAT_TOTAL:
        return RRDLAYOUT_DDERIVE;
    case KIND_FLOW_RATE:
    case KIND_POWER:
    case KIND_CONCENTRATION:
    case KIND_PH:
    case KIND_INFO:
        return RRDLAYOUT_GAUGE;
    }
    return RRDLAYOUT_GAUGE;
}

const char *
rrdlayout_dst_name(enum rrdlayout_dst t)
{
    return t == RRDLAYOUT_DDERIVE ? "DDERIVE" : "GAUGE";
}

unsigned long
rrdlayout_heartbeat(unsigned long step, double interval)
{
    unsigned long hb = 2 * step;
    double t = ceil(3 * interval);

    /* A heartbeat beyond ~30 years means nothing; keep the cast defined. */
    if (t > 1e9)
        t = 1e9;
    if (t > (double)hb)
        hb = (unsigned long)t;
    return hb;
}

bool
rrdlayout_ds_name_ok(const char *name)
{
    size_t n;

    for (n = 0; name[n] != '\0'; n++) {
        char ch = name[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return false;
    }
    return n >= 1 && n < CONF_DS_MAX;
}

int
rrdlayout_format_value(char *buf, size_t len, double v)
{
    char tmp[32];
    int n, prec;

    if (!isfinite(v)) {
        n = snprintf(tmp, sizeof(tmp), "U");
    } else {
        for (prec = 15;; prec++) {
            n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
            if (prec == 17 || strtod(tmp, NULL) == v)
                break;
        }
    }
    if (n < 0 || (size_t)n >= len)
        return -1;
    memcpy(buf, tmp, (size_t)n + 1);
    return n;
}

size_t
rrdlayout_update_max(size_t n)
{
    /* "-9223372036854775808" and NUL, then ":" and a value per value. */
    return 21 + n * (1 + RRDLAYOUT_NUM_MAX);
}

int
rrdlayout_format_update(char *buf, size_t len, int64_t ts, const double *values,
                        size_t n)
{
    size_t pos, i;
    int k;

    k = fitted(snprintf(buf, len, "%" PRId64, ts), len);
    if (k < 0)
        return -1;
    pos = (size_t)k;
    for (i = 0; i < n; i++) {
        if (pos + 1 >= len)
            return -1;
        buf[pos++] = ':';
        k = rrdlayout_format_value(buf + pos, len - pos, values[i]);
        if (k < 0)
            return -1;
        pos += (size_t)k;
    }
    return pos > INT_MAX ? -1 : (int)pos;
}

int
rrdlayout_ds_def(char *buf, size_t len, const char *name,
                 enum rrdlayout_dst type, unsigned long heartbeat, double min,
                 double max)
{
    char lo[RRDLAYOUT_NUM_MAX + 1], hi[RRDLAYOUT_NUM_MAX + 1];

    rrdlayout_format_value(lo, sizeof(lo), min);
    rrdlayout_format_value(hi, sizeof(hi), max);
    return fitted(snprintf(buf, len, "DS:%s:%s:%lu:%s:%s", name,
                           rrdlayout_dst_name(type), heartbeat, lo, hi),
                  len);
}

size_t
rrdlayout_rras(unsigned long step, struct rrdlayout_rra out[RRDLAYOUT_RRA_MAX])
{
    static const struct {
        unsigned long resolution, span; /* seconds */
    } res[] = {
        {60, 2 * 86400UL},
        {300, 14 * 86400UL},
        {3600, 400 * 86400UL},
        {86400, 3653 * 86400UL},
    };
    static const char *const cfs[] = {"AVERAGE", "MIN", "MAX"};
    const size_t nres = sizeof(res) / sizeof(res[0]);
    unsigned long ppr[sizeof(res) / sizeof(res[0])];
    size_t i, j, n = 0;

    if (step == 0)
        return 0;
    for (i = 0; i < nres; i++)
        ppr[i] = res[i].resolution <= step
                     ? 1
                     : (res[i].resolution + step - 1) / step;
    for (i = 0; i < nres; i++) {
        unsigned long row_secs = ppr[i] * step, rows;

        if (i + 1 < nres && ppr[i + 1] == ppr[i])
            continue; /* same resolution, and the next one lasts longer */
        rows = (res[i].span + row_secs - 1) / row_secs;
        for (j = 0; j < sizeof(cfs) / sizeof(cfs[0]); j++) {
            out[n].cf = cfs[j];
            out[n].pdp_per_row = ppr[i];
            out[n].rows = rows;
            n++;
        }
    }
    return n;
}

int
rrdlayout_rra_def(char *buf, size_t len, const struct rrdlayout_rra *r)
{
    return fitted(snprintf(buf, len, "RRA:%s:" XFF ":%lu:%lu", r->cf,
                           r->pdp_per_row, r->rows),
                  len);
}

/* Length of rrd_dir without trailing slashes, or -1 if it is unset. */
static int
dir_len(const struct conf *c)
{
    const char *d = c->storage.rrd_dir;
    size_t n;

    if (d == NULL || d[0] == '\0')
        return -1;
    n = strlen(d);
    while (n > 0 && d[n - 1] == '/')
        n--;
    return n > INT_MAX ? -1 : (int)n;
}

/* The directory under rrd_dir of an enterprise index (-1: the park). */
static const char *
owner_dir(const struct conf *c, int enterprise)
{
    if (enterprise == -1)
        return RRDLAYOUT_PARK_DIR;
    if (enterprise < 0 || (size_t)enterprise >= c->nenterprises)
        return NULL;
    return c->enterprises[enterprise].id;
}

static int
file_path(const struct conf *c, const char *dir, const char *prefix,
          const char *name, char *buf, size_t len)
{
    int dl = dir_len(c);

    if (dl < 0 || dir == NULL)
        return -1;
    return fitted(snprintf(buf, len, "%.*s/%s/%s%s.rrd", dl, c->storage.rrd_dir,
                           dir, prefix, name),
                  len);
}

int
rrdlayout_meter_path(const struct conf *c, int meter, char *buf, size_t len)
{
    const struct conf_meter *m;

    if (meter < 0 || (size_t)meter >= c->nmeters)
        return -1;
    m = &c->meters[meter];
    return file_path(c, owner_dir(c, m->enterprise), "", m->id, buf, len);
}

static const struct conf_quota *
find_quota(const struct conf *c, int enterprise, int quota)
{
    const struct conf_quota *qs;
    size_t nq;

    if (enterprise == -1) {
        qs = c->park.quotas;
        nq = c->park.nquotas;
    } else if (enterprise >= 0 && (size_t)enterprise < c->nenterprises) {
        qs = c->enterprises[enterprise].quotas;
        nq = c->enterprises[enterprise].nquotas;
    } else {
        return NULL;
    }
    if (quota < 0 || (size_t)quota >= nq)
        return NULL;
    return &qs[quota];
}

int
rrdlayout_quota_path(const struct conf *c, int enterprise, int quota, char *buf,
                     size_t len)
{
    const struct conf_quota *q = find_quota(c, enterprise, quota);

    if (q == NULL)
        return -1;
    return file_path(c, owner_dir(c, enterprise), "quota-", q->id, buf, len);
}

int
rrdlayout_capacity_path(const struct conf *c, char *buf, size_t len)
{
    return file_path(c, RRDLAYOUT_PARK_DIR, "", "capacity", buf, len);
}

int
rrdlayout_meter_template(const struct conf *c, int meter, char *buf, size_t len)
{
    const struct conf_profile *p;
    size_t i, pos = 0;

    if (meter < 0 || (size_t)meter >= c->nmeters || len == 0)
        return -1;
    p = &c->profiles[c->meters[meter].profile];
    buf[0] = '\0';
    for (i = 0; i < p->npoints; i++) {
        int k = fitted(snprintf(buf + pos, len - pos, "%s%s", i ? ":" : "",
                                p->points[i].name),
                       len - pos);
        if (k < 0)
            return -1;
        pos += (size_t)k;
    }
    return pos > INT_MAX ? -1 : (int)pos;
}

/* A data source to lay out. */
struct spec {
    const char *name;
    enum rrdlayout_dst dst;
};

/* Appends to the pool of a layout being built. */
struct pool {
    char *p;
    size_t left;
};

static const char *pool_put(struct pool *pl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *
pool_put(struct pool *pl, const char *fmt, ...)
{
    va_list ap;
    char *start = pl->p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(pl->p, pl->left, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= pl->left)
        return NULL;
    pl->p += n + 1;
    pl->left -= (size_t)n + 1;
    return start;
}

/* The part of a layout that does not depend on the file: DS names, the
 * template and the create arguments. Every meter of one profile and
 * interval has the same (10,000 meters would otherwise keep 10,000 copies),
 * so it is kept once in a table, counted, and freed with its last layout.
 * One allocation: the struct, ds_names (nds) and argv (nds + nrra), then
 * len bytes of text: the names, the template, the DS and RRA definitions,
 * each ending in NUL. */
struct rrdlayout_shared {
    struct rrdlayout_shared *next; /* in its bucket */
    size_t refs;
    uint32_t hash;
    size_t nds, nrra, len;
    const char *template_;
    const char **ds_names;
    const char **argv;
    char *text;
};

#define SHARED_BUCKETS 64

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rrdlayout_shared *shared_table[SHARED_BUCKETS];

/* FNV-1a of the text. */
static uint32_t
text_hash(const char *t, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)t[i]) * 16777619u;
    return h;
}

/* The shared part holding `text` (len bytes, as struct rrdlayout_shared
 * describes), with one more reference; NULL when out of memory. */
static struct rrdlayout_shared *
shared_get(const char *text, size_t len, size_t nds, size_t nrra)
{
    uint32_t h = text_hash(text, len);
    struct rrdlayout_shared **b = &shared_table[h % SHARED_BUCKETS], *sh;
    const char *p;
    size_t i;

    pthread_mutex_lock(&shared_lock);
    for (sh = *b; sh != NULL; sh = sh->next) {
        if (sh->hash == h && sh->nds == nds && sh->nrra == nrra &&
            sh->len == len && memcmp(sh->text, text, len) == 0) {
            sh->refs++;
            pthread_mutex_unlock(&shared_lock);
            return sh;
        }
    }
    sh = malloc(sizeof(*sh) + (2 * nds + nrra) * sizeof(char *) + len);
    if (sh == NULL) {
        pthread_mutex_unlock(&shared_lock);
        return NULL;
    }
    sh->refs = 1;
    sh->hash = h;
    sh->nds = nds;
    sh->nrra = nrra;
    sh->len = len;
    sh->ds_names = (const char **)(sh + 1);
    sh->argv = sh->ds_names + nds;
    sh->text = (char *)(sh->argv + nds + nrra);
    memcpy(sh->text, text, len);
    p = sh->text;
    for (i = 0; i < nds; i++, p += strlen(p) + 1)
        sh->ds_names[i] = p;
    sh->template_ = p;
    p += strlen(p) + 1;
    for (i = 0; i < nds + nrra; i++, p += strlen(p) + 1)
        sh->argv[i] = p;
    sh->next = *b;
    *b = sh;
    pthread_mutex_unlock(&shared_lock);
    return sh;
}

/* Drop a reference to sh; the last one frees it. */
static void
shared_put(struct rrdlayout_shared *sh)
{
    struct rrdlayout_shared **pp;

    pthread_mutex_lock(&shared_lock);
    if (--sh->refs == 0) {
        for (pp = &shared_table[sh->hash % SHARED_BUCKETS]; *pp != sh;
             pp = &(*pp)->next)
            ;
        *pp = sh->next;
        free(sh);
    }
    pthread_mutex_unlock(&shared_lock);
}

/* Lays out a file at `path` (rrd_dir is its first dl bytes) holding the DS
 * of `ds`: the path in one allocation with the struct, the rest shared. */
static struct rrdlayout *
build(const char *what, const char *path, int dl, unsigned long step,
      unsigned long heartbeat, const struct spec *ds, size_t nds, char *err,
      size_t errlen)
{
    struct rrdlayout_rra rras[RRDLAYOUT_RRA_MAX];
    size_t nrra = rrdlayout_rras(step, rras), i, j, poolsize, pathlen;
    struct rrdlayout *l;
    struct pool pl;
    char *text;
    bool overflow = false;

    if (nds == 0) {
        rrdlayout_errf(err, errlen, "%s: no data sources", what);
        return NULL;
    }
    if (nrra == 0) {
        rrdlayout_errf(err, errlen, "%s: bad rrd_step %lu", what, step);
        return NULL;
    }
    for (i = 0; i < nds; i++) {
        if (!rrdlayout_ds_name_ok(ds[i].name)) {
            rrdlayout_errf(err, errlen,
                           "%s: \"%s\" is not an RRD data source name "
                           "(1 to 19 of A-Z a-z 0-9 _ -)",
                           what, ds[i].name);
            return NULL;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(ds[i].name, ds[j].name) == 0) {
                rrdlayout_errf(err, errlen, "%s: data source \"%s\" twice",
                               what, ds[i].name);
                return NULL;
            }
        }
    }

    /* The shared text is written into a scratch pool of an upper bound
     * (names are at most CONF_DS_MAX - 1 bytes, each written twice), then
     * kept at its exact length. */
    poolsize = nds * (2 * CONF_DS_MAX + DS_DEF_MAX) + nrra * RRA_DEF_MAX;
    pathlen = strlen(path);
    text = malloc(poolsize);
    l = calloc(1, sizeof(*l) + pathlen + 1);
    if (text == NULL || l == NULL) {
        free(text);
        free(l);
        rrdlayout_errf(err, errlen, "%s: out of memory", what);
        return NULL;
    }
    pl.p = text;
    pl.left = poolsize;
    for (i = 0; i < nds; i++)
        overflow |= pool_put(&pl, "%s", ds[i].name) == NULL;
    /* The template: the names again, joined by ':' (the pool has room for
     * each name twice; valid names are at most CONF_DS_MAX - 1 bytes). */
    if (!overflow) {
        char *tp = pl.p;

        for (i = 0; i < nds; i++) {
            size_t n = strlen(ds[i].name);

            if (i > 0)
                *pl.p++ = ':';
            memcpy(pl.p, ds[i].name, n);
            pl.p += n;
        }
        *pl.p++ = '\0';
        pl.left -= (size_t)(pl.p - tp);
    }
    for (i = 0; i < nds && !overflow; i++) {
        char def[DS_DEF_MAX];
        bool total = ds[i].dst == RRDLAYOUT_DDERIVE;

        rrdlayout_ds_def(def, sizeof(def), ds[i].name, ds[i].dst, heartbeat,
                         total ? 0.0 : NAN, NAN);
        overflow |= pool_put(&pl, "%s", def) == NULL;
    }
    for (i = 0; i < nrra && !overflow; i++) {
        char def[RRA_DEF_MAX];

        rrdlayout_rra_def(def, sizeof(def), &rras[i]);
        overflow |= pool_put(&pl, "%s", def) == NULL;
    }
    /* The pool is an upper bound; check anyway. */
    if (overflow) {
        rrdlayout_errf(err, errlen, "%s: layout overflow", what);
        free(text);
        free(l);
        return NULL;
    }
    l->shared_ = shared_get(text, poolsize - pl.left, nds, nrra);
    free(text);
    if (l->shared_ == NULL) {
        rrdlayout_errf(err, errlen, "%s: out of memory", what);
        free(l);
        return NULL;
    }
    l->path = (char *)(l + 1);
    memcpy(l->path, path, pathlen + 1);
    l->relpath = path[dl] == '/' ? l->path + dl + 1 : l->path;
    l->step = step;
    l->nds = nds;
    l->ds_names = l->shared_->ds_names;
    l->template_ = l->shared_->template_;
    l->argc = (int)(nds + nrra);
    l->argv = l->shared_->argv;
    l->line_max = rrdlayout_update_max(nds);
    return l;
}

struct rrdlayout *
rrdlayout_meter(const struct conf *c, int meter, char *err, size_t errlen)
{
    const struct conf_meter *m;
    const struct conf_profile *p;
    struct rrdlayout *l;
    struct spec *ds;
    char path[PATH_MAX], what[CONF_ID_MAX + 8];
    size_t i;

    if (meter < 0 || (size_t)meter >= c->nmeters) {
        rrdlayout_errf(err, errlen, "meter index %d out of range", meter);
        return NULL;
    }
    m = &c->meters[meter];
    snprintf(what, sizeof(what), "meter %s", m->id);
    if (rrdlayout_meter_path(c, meter, path, sizeof(path)) < 0) {
        rrdlayout_errf(err, errlen, "%s: RRD path too long or rrd_dir unset",
                       what);
        return NULL;
    }
    p = &c->profiles[m->profile];
    ds = calloc(p->npoints ? p->npoints : 1, sizeof(*ds));
    if (ds == NULL) {
        rrdlayout_errf(err, errlen, "%s: out of memory", what);
        return NULL;
    }
    for (i = 0; i < p->npoints; i++) {
        ds[i].name = p->points[i].name;
        ds[i].dst = rrdlayout_kind_dst(p->points[i].kind);
    }
    l = build(
        what, path, dir_len(c), (unsigned long)c->storage.rrd_step,
        rrdlayout_heartbeat((unsigned long)c->storage.rrd_step, m->interval),
        ds, p->npoints, err, errlen);
    free(ds);
    return l;
}

struct rrdlayout *
rrdlayout_quota(const struct conf *c, int enterprise, int quota,
                double interval, char *err, size_t errlen)
{
    static const struct spec ds[] = {
        {"used", RRDLAYOUT_GAUGE},
        {"limit", RRDLAYOUT_GAUGE},
        {"projected", RRDLAYOUT_GAUGE},
    };
    const struct conf_quota *q = find_quota(c, enterprise, quota);
    char path[PATH_MAX], what[2 * CONF_ID_MAX + 16];
    unsigned long step = (unsigned long)c->storage.rrd_step;

    if (q == NULL) {
        rrdlayout_errf(err, errlen, "quota %d of enterprise %d out of range",
                       quota, enterprise);
        return NULL;
    }
    snprintf(what, sizeof(what), "quota %s/%s", owner_dir(c, enterprise),
             q->id);
    if (rrdlayout_quota_path(c, enterprise, quota, path, sizeof(path)) < 0) {
        rrdlayout_errf(err, errlen, "%s: RRD path too long or rrd_dir unset",
                       what);
        return NULL;
    }
    return build(what, path, dir_len(c), step,
                 rrdlayout_heartbeat(step, interval), ds,
                 sizeof(ds) / sizeof(ds[0]), err, errlen);
}

struct rrdlayout *
rrdlayout_capacity(const struct conf *c, double interval, char *err,
                   size_t errlen)
{
    static const struct spec ds[] = {
        {"inflow", RRDLAYOUT_GAUGE},
        {"capacity", RRDLAYOUT_GAUGE},
        {"headroom", RRDLAYOUT_GAUGE},
    };
    char path[PATH_MAX];
    unsigned long step = (unsigned long)c->storage.rrd_step;

    if (rrdlayout_capacity_path(c, path, sizeof(path)) < 0) {
        rrdlayout_errf(err, errlen,
                       "park capacity: RRD path too long or rrd_dir unset");
        return NULL;
    }
    return build("park capacity", path, dir_len(c), step,
                 rrdlayout_heartbeat(step, interval), ds,
                 sizeof(ds) / sizeof(ds[0]), err, errlen);
}

void
rrdlayout_free(struct rrdlayout *l)
{
    if (l == NULL)
        return;
    shared_put(l->shared_);
    free(l);
}

/* Pure accounting (DESIGN §4): per-point state turning readings of totals,
 * flow rates and concentrations into hourly increments and events. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon/core/accounting.h"

/* What a point feeds; a point may feed several things. */
enum target_kind {
    TG_EFFLUENT, /* an outlet's volume: m3 and its pollutant masses */
    TG_REUSE,
    TG_ELECTRICITY, /* kWh and tce */
    TG_ENERGY,      /* tce only */
    TG_INFLOW,      /* the park's treatment plant */
};

struct target {
    enum target_kind kind;
    int enterprise, outlet;
    double factor;        /* kgce per unit: TG_ELECTRICITY, TG_ENERGY */
    int conc[POLL_COUNT]; /* TG_EFFLUENT: state index of each pollutant's
                             concentration point, -1 if none */
    int next;             /* the point's next target, -1 at the end */
};

struct pstate {
    bool seen;      /* seen_ts is set */
    bool has_last;  /* last_ts/last_val are set */
    bool live;      /* flow rate: last starts a run; concentration: valid */
    double seen_ts; /* newest sample taken, whatever its flag */
    double last_ts; /* last N reading with a value: a total's baseline */
    double last_val;
    double window; /* 3 meter intervals, seconds */
    int target;    /* first target, -1 if none */
};

struct acct {
    const struct conf *c;
    const struct tzone *z;
    size_t *base; /* per meter: index of its first point in pt */
    struct pstate *pt;
    size_t npt;
    struct target *tg;
    size_t ntg;
};

/* One volume or energy increment on its way into hourly slices. */
struct emit {
    struct acct *a;
    const struct pstate *ps;
    struct acct_sink *out;
    unsigned flags;
};

static size_t
meter_npoints(const struct conf *c, size_t m)
{
    int p = c->meters[m].profile;
    if (p < 0 || (size_t)p >= c->nprofiles)
        return 0;
    return c->profiles[p].npoints;
}

static int
state_index(const struct acct *a, long meter, long point)
{
    if (meter < 0 || (size_t)meter >= a->c->nmeters || point < 0 ||
        (size_t)point >= meter_npoints(a->c, (size_t)meter))
        return -1;
    return (int)(a->base[meter] + (size_t)point);
}

/* The state index of a resolved reference to a point of `kind` (or of
 * `kind2`), else -1. */
static int
ref_index(const struct acct *a, const struct conf_ref *r, enum conf_kind kind,
          enum conf_kind kind2)
{
    int i = state_index(a, r->meter, r->point);
    if (i < 0)
        return -1;
    enum conf_kind k = conf_meter_point(a->c, r->meter, r->point)->kind;
    return k == kind || k == kind2 ? i : -1;
}

static struct target *
add_target(struct acct *a, int idx, enum target_kind kind, int enterprise,
           int outlet, double factor)
{
    struct target *t = &a->tg[a->ntg];
    t->kind = kind;
    t->enterprise = enterprise;
    t->outlet = outlet;
    t->factor = factor;
    for (int p = 0; p < POLL_COUNT; p++)
        t->conc[p] = -1;
    t->next = a->pt[idx].target;
    a->pt[idx].target = (int)a->ntg++;
    return t;
}

static void
add_outlet_targets(struct acct *a, int e)
{
    const struct conf_enterprise *ent = &a->c->enterprises[e];
    for (size_t o = 0; o < ent->noutlets; o++) {
        const struct conf_outlet *ol = &ent->outlets[o];
        int v = ref_index(a, &ol->volume, KIND_VOLUME_TOTAL, KIND_FLOW_RATE);
        if (v < 0)
            continue;
        struct target *t = add_target(a, v, TG_EFFLUENT, e, (int)o, 0);
        for (int p = 0; p < POLL_COUNT; p++)
            if (ol->has_conc[p])
                t->conc[p] = ref_index(a, &ol->conc[p], KIND_CONCENTRATION,
                                       KIND_CONCENTRATION);
    }
}

/* The kind-given target of an enterprise's point, if it has one. */
static void
add_kind_target(struct acct *a, int idx, int e, enum conf_kind kind)
{
    const struct conf *c = a->c;
    switch (kind) {
    case KIND_REUSE_TOTAL:
        add_target(a, idx, TG_REUSE, e, -1, 0);
        break;
    case KIND_ELECTRICITY_TOTAL:
        add_target(a, idx, TG_ELECTRICITY, e, -1,
                   c->energy_factors.electricity_kgce_per_kwh);
        break;
    case KIND_GAS_TOTAL:
        add_target(a, idx, TG_ENERGY, e, -1, c->energy_factors.gas_kgce_per_m3);
        break;
    case KIND_STEAM_TOTAL:
        add_target(a, idx, TG_ENERGY, e, -1,
                   c->energy_factors.steam_kgce_per_t);
        break;
    case KIND_HEAT_TOTAL:
        add_target(a, idx, TG_ENERGY, e, -1,
                   c->energy_factors.heat_kgce_per_gj);
        break;
    default:
        break;
    }
}

struct acct *
acct_new(const struct conf *c, const struct tzone *z)
{
    struct acct *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->c = c;
    a->z = z;
    a->base = calloc(c->nmeters + 1, sizeof(*a->base));
    if (a->base == NULL)
        goto fail;
    for (size_t m = 0; m < c->nmeters; m++) {
        a->base[m] = a->npt;
        a->npt += meter_npoints(c, m);
    }
    size_t maxtg = a->npt + 1; /* a kind target per point, the inflow */
    for (size_t e = 0; e < c->nenterprises; e++)
        maxtg += c->enterprises[e].noutlets;
    a->pt = calloc(a->npt + 1, sizeof(*a->pt));
    a->tg = calloc(maxtg, sizeof(*a->tg));
    if (a->pt == NULL || a->tg == NULL)
        goto fail;
    for (size_t m = 0; m < c->nmeters; m++)
        for (size_t p = 0; p < meter_npoints(c, m); p++) {
            struct pstate *ps = &a->pt[a->base[m] + p];
            ps->target = -1;
            ps->window = 3 * c->meters[m].interval;
        }

    for (size_t e = 0; e < c->nenterprises; e++)
        add_outlet_targets(a, (int)e);
    for (size_t m = 0; m < c->nmeters; m++) {
        int e = c->meters[m].enterprise;
        if (e < 0)
            continue; /* the park's own meters feed only the inflow */
        for (size_t p = 0; p < meter_npoints(c, m); p++)
            add_kind_target(a, (int)(a->base[m] + p), e,
                            conf_meter_point(c, (int)m, (int)p)->kind);
    }
    if (c->park.has_wwtp_inflow) {
        int v = ref_index(a, &c->park.wwtp_inflow, KIND_VOLUME_TOTAL,
                          KIND_FLOW_RATE);
        if (v >= 0)
            add_target(a, v, TG_INFLOW, -1, -1, 0);
    }
    return a;
fail:
    acct_free(a);
    return NULL;
}

void
acct_free(struct acct *a)
{
    if (a == NULL)
        return;
    free(a->base);
    free(a->pt);
    free(a->tg);
    free(a);
}

void
acct_restore(struct acct *a, int meter, int point, double ts, double value)
{
    int i = state_index(a, meter, point);
    if (i < 0 || !isfinite(ts) || !isfinite(value))
        return;
    struct pstate *ps = &a->pt[i];
    ps->seen = ps->has_last = ps->live = true;
    ps->seen_ts = ps->last_ts = ts;
    ps->last_val = value;
}

int
acct_last(const struct acct *a, int meter, int point, double *ts, double *value)
{
    int i = state_index(a, meter, point);
    if (i < 0 || !a->pt[i].has_last)
        return -1;
    *ts = a->pt[i].last_ts;
    *value = a->pt[i].last_val;
    return 0;
}

/* Grow an array of `size`-byte elements to hold one more; 0 or -1. */
static int
grow(void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 64;
    if (ncap > SIZE_MAX / size / 2)
        return -1;
    void *p = realloc(*arr, ncap * size);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int
push_incr(struct acct_sink *out, const struct acct_incr *in)
{
    void *arr = out->incr;
    if (grow(&arr, out->nincr, &out->capincr, sizeof(*in)) < 0)
        return -1;
    out->incr = arr;
    out->incr[out->nincr++] = *in;
    return 0;
}

static int
push_event(struct acct_sink *out, enum acct_event_kind kind,
           const struct sample *s, double from)
{
    void *arr = out->ev;
    if (grow(&arr, out->nev, &out->capev, sizeof(*out->ev)) < 0)
        return -1;
    out->ev = arr;
    out->ev[out->nev++] = (struct acct_event){
        .kind = kind,
        .meter = (int)s->meter,
        .point = s->point,
        .ts = s->ts,
        .from = from,
        .to = s->value,
    };
    return 0;
}

/* The local hour containing t, and the start of the next one. */
static int64_t
hour_of(const struct acct *a, double t)
{
    return period_hour_start((int64_t)floor(t), a->z);
}

static int64_t
next_hour(const struct acct *a, int64_t h)
{
    int64_t n = period_hour_start(h + 3600, a->z);
    return n > h ? n : h + 3600;
}

/* Whether concentration point `ci` is valid at time x, and its value. A
 * reading taken up to 3 intervals after x stands in for x too: samples of
 * different meters arrive in poll order, not in exact time order. */
static bool
conc_at(const struct acct *a, int ci, double x, double *v)
{
    if (ci < 0)
        return false;
    const struct pstate *cs = &a->pt[ci];
    if (!cs->live || !cs->has_last || fabs(x - cs->last_ts) > cs->window)
        return false;
    *v = cs->last_val;
    return true;
}

static int
push(struct emit *em, int enterprise, int outlet, enum acct_measure m,
     enum conf_pollutant pol, int64_t hour, double amount, double covered)
{
    struct acct_incr in = {
        .enterprise = enterprise,
        .outlet = outlet,
        .measure = m,
        .pollutant = pol,
        .hour = hour,
        .amount = amount,
        .covered = covered,
        .flags = em->flags,
    };
    return push_incr(em->out, &in);
}

/* One slice [end - covered, end] of hour `hour`: `amount` into everything
 * the point feeds. */
static int
slice(struct emit *em, int64_t hour, double amount, double covered, double end)
{
    int r = 0;
    for (int i = em->ps->target; i >= 0 && r == 0; i = em->a->tg[i].next) {
        const struct target *t = &em->a->tg[i];
        int e = t->enterprise;
        switch (t->kind) {
        case TG_EFFLUENT:
            r = push(em, e, t->outlet, AM_EFFLUENT_M3, POLL_NONE, hour, amount,
                     covered);
            for (int p = 0; p < POLL_COUNT && r == 0; p++) {
                double cv;
                if (!conc_at(em->a, t->conc[p], end, &cv))
                    continue;
                enum conf_pollutant pol = (enum conf_pollutant)p;
                r = push(em, e, t->outlet, AM_POLLUTANT_KG, pol, hour,
                         amount * cv * 1e-3, covered);
                if (r == 0)
                    r = push(em, e, t->outlet, AM_CONC_M3, pol, hour, amount,
                             covered);
            }
            break;
        case TG_REUSE:
            r = push(em, e, -1, AM_REUSE_M3, POLL_NONE, hour, amount, covered);
            break;
        case TG_ELECTRICITY:
            r = push(em, e, -1, AM_ELECTRICITY_KWH, POLL_NONE, hour, amount,
                     covered);
            if (r == 0)
                r = push(em, e, -1, AM_ENERGY_TCE, POLL_NONE, hour,
                         amount * t->factor / 1000, covered);
            break;
        case TG_ENERGY:
            r = push(em, e, -1, AM_ENERGY_TCE, POLL_NONE, hour,
                     amount * t->factor / 1000, covered);
            break;
        case TG_INFLOW:
            r = push(em, -1, -1, AM_INFLOW_M3, POLL_NONE, hour, amount,
                     covered);
            break;
        }
    }
    return r;
}

/* Split `amount`, accrued over [t0, t1], at local hour boundaries pro rata
 * by time; the last slice takes the remainder, so the slices add up to it. */
static int
spread(struct emit *em, double t0, double t1, double amount)
{
    if (!(t1 > t0))
        return slice(em, hour_of(em->a, t1), amount, 0, t1);
    double done = 0;
    for (double x = t0; x < t1;) {
        int64_t h = hour_of(em->a, x);
        double end = (double)next_hour(em->a, h), part;
        if (end <= x)
            end = x + 3600; /* a broken zone must not stall the loop */
        if (end >= t1) {
            end = t1;
            part = amount - done;
        } else {
            part = amount * (end - x) / (t1 - t0);
        }
        if (slice(em, h, part, end - x, end) < 0)
            return -1;
        done += part;
        x = end;
    }
    return 0;
}

/* The bits of a type's integer part, 0 if it has none; *is_signed. */
static int
int_bits(enum conf_type t, bool *is_signed)
{
    *is_signed = t == TYPE_INT16 || t == TYPE_INT32 || t == TYPE_INT64 ||
                 t == TYPE_INT32_FLOAT32;
    switch (t) {
    case TYPE_FLOAT32:
    case TYPE_FLOAT64:
        return 0;
    case TYPE_UINT32_MILLI:
    case TYPE_INT32_FLOAT32:
        return 32;
    default:
        return 16 * conf_type_width(t);
    }
}

static double
ratio_of(const struct conf_meter *m, const struct conf_point *p)
{
    return ((p->ratio & RATIO_CT) ? m->ct : 1) *
           ((p->ratio & RATIO_PT) ? m->pt : 1);
}

/* Whether a total going from `from` to `to` is an integer register wrap:
 * the previous raw count in the upper half of the range, the new one in the
 * lower half (signed types wrap from max to min). Fills *delta with the
 * wrapped delta in the point's unit, computed from raw counts. */
static bool
wrapped(const struct conf_meter *m, const struct conf_point *p, double from,
        double to, double *delta)
{
    bool sgn;
    int bits = int_bits(p->type, &sgn);
    double mult = p->scale * ratio_of(m, p);
    if (bits == 0 || mult == 0 || !isfinite(mult))
        return false;
    double r0 = (from - p->offset) / mult, r1 = (to - p->offset) / mult;
    if (p->type != TYPE_UINT32_MILLI && p->type != TYPE_INT32_FLOAT32) {
        r0 = nearbyint(r0); /* pure integers: exact counts */
        r1 = nearbyint(r1);
    }
    double mid = sgn ? 0 : ldexp(1, bits - 1), range = ldexp(1, bits);
    bool plausible;
    double counts;
    if (mult > 0) {
        plausible = r0 >= mid && r1 < mid;
        counts = r1 - r0 + range;
    } else { /* the raw count runs down as the value goes up */
        plausible = r0 < mid && r1 >= mid;
        counts = r0 - r1 + range;
    }
    if (!plausible || counts < 0)
        return false;
    *delta = counts * fabs(mult);
    return true;
}

/* A delta the meter cannot deliver in dt (1e-9 relative slack for the
 * rounding of decoded values). */
static bool
too_fast(const struct conf_point *p, double delta, double dt)
{
    return p->has_max_rate && delta > p->max_rate * dt / 3600 * (1 + 1e-9);
}

/* An N reading of a total: the increment or event since the baseline. */
static int
feed_total(struct emit *em, const struct conf_meter *m,
           const struct conf_point *p, const struct sample *s)
{
    const struct pstate *ps = em->ps;
    if (!ps->has_last)
        return 0; /* the baseline */
    double dt = s->ts - ps->last_ts, delta = s->value - ps->last_val;
    if (delta >= 0 && too_fast(p, delta, dt))
        return push_event(em->out, AE_JUMP, s, ps->last_val);
    if (delta < 0) {
        if (!wrapped(m, p, ps->last_val, s->value, &delta) ||
            too_fast(p, delta, dt))
            return push_event(em->out, AE_RESET, s, ps->last_val);
        if (push_event(em->out, AE_WRAP, s, ps->last_val) < 0)
            return -1;
        em->flags |= ACCT_F_WRAP;
    }
    if (dt > ps->window)
        em->flags |= ACCT_F_SPREAD;
    return spread(em, ps->last_ts, s->ts, delta);
}

/* An N reading of a flow rate (m3/h) continuing a run: the trapezoid since
 * the previous one. Reverse flow counts as none. */
static int
feed_rate(struct emit *em, const struct sample *s)
{
    const struct pstate *ps = em->ps;
    double dt = s->ts - ps->last_ts;
    if (!ps->live || !ps->has_last || dt > ps->window)
        return 0;
    double q0 = fmax(ps->last_val, 0), q1 = fmax(s->value, 0);
    return spread(em, ps->last_ts, s->ts, (q0 + q1) / 2 * dt / 3600);
}

int
acct_feed(struct acct *a, const struct sample *s, struct acct_sink *out)
{
    int i = state_index(a, (long)s->meter, (long)s->point);
    if (i < 0 || !isfinite(s->ts))
        return 1;
    struct pstate *ps = &a->pt[i];
    if (ps->seen && !(s->ts > ps->seen_ts))
        return 1;
    const struct conf_meter *m = &a->c->meters[s->meter];
    const struct conf_point *p = conf_meter_point(a->c, s->meter, s->point);
    bool ok = s->flag == FLAG_NORMAL && isfinite(s->value);
    struct emit em = {.a = a, .ps = ps, .out = out, .flags = 0};
    size_t nincr = out->nincr, nev = out->nev;
    int r = 0;
    switch (p->kind) {
    case KIND_VOLUME_TOTAL:
    case KIND_REUSE_TOTAL:
    case KIND_ELECTRICITY_TOTAL:
    case KIND_GAS_TOTAL:
    case KIND_STEAM_TOTAL:
    case KIND_HEAT_TOTAL:
        if (ok)
            r = feed_total(&em, m, p, s);
        break;
    case KIND_FLOW_RATE:
        if (ok)
            r = feed_rate(&em, s);
        break;
    default:
        break;
    }
    if (r < 0) { /* leave the sink and the state as they were */
        out->nincr = nincr;
        out->nev = nev;
        return -1;
    }
    ps->seen = true;
    ps->seen_ts = s->ts;
    ps->live = ok;
    if (ok) {
        ps->has_last = true;
        ps->last_ts = s->ts;
        ps->last_val = s->value;
    }
    return 0;
}

void
acct_sink_free(struct acct_sink *s)
{
    free(s->incr);
    free(s->ev);
    *s = (struct acct_sink){0};
}

char
acct_event_flag(enum acct_event_kind kind)
{
    switch (kind) {
    case AE_RESET:
        return FLAG_DEVICE;
    case AE_JUMP:
        return FLAG_OVERRANGE;
    case AE_WRAP:
        break;
    }
    return FLAG_NORMAL;
}

const char *
acct_measure_name(enum acct_measure m)
{
    static const char *const names[AM_COUNT] = {
        [AM_EFFLUENT_M3] = "effluent_m3",
        [AM_REUSE_M3] = "reuse_m3",
        [AM_POLLUTANT_KG] = "pollutant_kg",
        [AM_CONC_M3] = "conc_m3",
        [AM_ELECTRICITY_KWH] = "electricity_kwh",
        [AM_ENERGY_TCE] = "energy_tce",
        [AM_INFLOW_M3] = "inflow_m3",
    };
    return (unsigned)m < AM_COUNT ? names[m] : "?";
}

/* The simulator's value model: plausible, deterministic values per point,
 * evaluated at request time and encoded the way the point's profile says. */
#include "tests/sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "drivers/decode.h"

/* Defaults per kind, in the units the loader fixes for each kind (m3/h, kW,
 * mg/L; totals in m3, kWh, t, GJ per hour). */
struct kind_default {
    double mean;     /* wanderers: mean; totals: growth per hour */
    double rel, abs; /* wander amplitudes */
};

/* Info points are free-form; a few units suggest a plausible level, and
 * energy or volume units a counter (export kWh, say) that grows slowly. */
static const struct info_level {
    const char *unit;
    double mean; /* level, or growth per hour for a counter */
    bool counter;
} info_levels[] = {
    {"V", 230, false},   {"kV", 10, false},     {"A", 120, false},
    {"Hz", 50, false},   {"%", 60, false},      {"C", 25, false},
    {"degC", 25, false}, {"dB", 60, false},     {"MPa", 0.4, false},
    {"kPa", 400, false}, {"kvar", 80, false},   {"kVA", 320, false},
    {"kWh", 1.5, true},  {"MWh", 0.0015, true}, {"kvarh", 20, true},
    {"m3", 0.25, true},  {"t", 0.005, true},    {"GJ", 0.0025, true},
};

static const struct info_level *
info_level(const char *unit)
{
    for (size_t i = 0; i < sizeof info_levels / sizeof info_levels[0]; i++)
        if (strcmp(unit, info_levels[i].unit) == 0)
            return &info_levels[i];
    return NULL;
}

static struct kind_default
info_default(const char *unit)
{
    const struct info_level *l = info_level(unit);

    if (l && l->counter)
        return (struct kind_default){l->mean, 0.2, 0};
    return (struct kind_default){l ? l->mean : 100, 0.005, 0};
}

static struct kind_default
kind_default(const struct conf_point *p)
{
    static const double conc[POLL_COUNT] = {
        [POLL_COD] = 45, [POLL_NH3N] = 6, [POLL_TP] = 0.5,
        [POLL_TN] = 15,  [POLL_CU] = 0.2, [POLL_NI] = 0.1,
    };

    switch (p->kind) {
    case KIND_FLOW_RATE:
        return (struct kind_default){50, 0.25, 0};
    case KIND_POWER:
        return (struct kind_default){300, 0.2, 0};
    case KIND_CONCENTRATION:
        if (p->pollutant >= 0 && p->pollutant < POLL_COUNT)
            return (struct kind_default){conc[p->pollutant], 0.3, 0};
        return (struct kind_default){10, 0.3, 0};
    case KIND_PH:
        return (struct kind_default){7.2, 0, 0.3};
    case KIND_INFO:
        return info_default(p->unit);
    case KIND_VOLUME_TOTAL:
    case KIND_REUSE_TOTAL:
        return (struct kind_default){50, 0.2, 0};
    case KIND_ELECTRICITY_TOTAL:
        return (struct kind_default){300, 0.2, 0};
    case KIND_GAS_TOTAL:
        return (struct kind_default){20, 0.2, 0};
    case KIND_STEAM_TOTAL:
        return (struct kind_default){1, 0.2, 0};
    case KIND_HEAT_TOTAL:
        return (struct kind_default){0.5, 0.2, 0};
    }
    return (struct kind_default){1, 0, 0};
}

/* Totals, and info points that count (their unit is an energy or volume). */
static bool
is_counter(const struct conf_point *p)
{
    const struct info_level *l;

    switch (p->kind) {
    case KIND_VOLUME_TOTAL:
    case KIND_REUSE_TOTAL:
    case KIND_ELECTRICITY_TOTAL:
    case KIND_GAS_TOTAL:
    case KIND_STEAM_TOTAL:
    case KIND_HEAT_TOTAL:
        return true;
    case KIND_INFO:
        l = info_level(p->unit);
        return l && l->counter;
    default:
        return false;
    }
}

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
uniform(uint64_t *x)
{
    return (double)(splitmix64(x) >> 11) / 9007199254740992.0;
}

static uint64_t
fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static void
wander_init(struct sim_wander *w, struct kind_default d, uint64_t *rng)
{
    static const double weight[SIM_WAVES] = {0.15, 0.25, 0.3, 0.3};
    static const double period_lo[SIM_WAVES] = {60, 600, 3600, 6 * 3600};

    w->mean = d.mean;
    w->rel = d.rel;
    w->abs = d.abs;
    for (int i = 0; i < SIM_WAVES; i++) {
        double period = period_lo[i] * (1 + 2 * uniform(rng));
        w->amp[i] = weight[i];
        w->omega[i] = 2 * M_PI / period;
        w->phase[i] = 2 * M_PI * uniform(rng);
    }
}

static double
wander_amplitude(const struct sim_wander *w)
{
    return fabs(w->mean) * w->rel + w->abs;
}

static double
wander_value(const struct sim_wander *w, double t)
{
    double u = 0;
    for (int i = 0; i < SIM_WAVES; i++)
        u += w->amp[i] * sin(w->omega[i] * t + w->phase[i]);
    return w->mean + wander_amplitude(w) * u;
}

/* The integral of wander_value over [t0, t1], in value * seconds. */
static double
wander_integral(const struct sim_wander *w, double t0, double t1)
{
    double iu = 0;
    for (int i = 0; i < SIM_WAVES; i++)
        iu += w->amp[i] / w->omega[i] *
              (cos(w->omega[i] * t0 + w->phase[i]) -
               cos(w->omega[i] * t1 + w->phase[i]));
    return w->mean * (t1 - t0) + wander_amplitude(w) * iu;
}

/* A generous bound on the engineering values a type holds, to start
 * totalizers well inside it (float32 totals kept where they stay precise). */
static double
type_cap(const struct conf_point *p)
{
    double raw;
    switch (p->type) {
    case TYPE_UINT16:
        raw = 65535;
        break;
    case TYPE_INT16:
        raw = 32767;
        break;
    case TYPE_FLOAT32:
        raw = 1e5;
        break;
    case TYPE_UINT64:
    case TYPE_INT64:
    case TYPE_FLOAT64:
        raw = 1e12;
        break;
    default:
        raw = 2147483647.0;
        break;
    }
    return raw * fabs(p->scale) + p->offset;
}

/* Keep a default mean inside the point's min/max. */
static double
fit_range(const struct conf_point *p, double mean)
{
    if (p->has_min && p->has_max && (mean < p->min || mean > p->max))
        return (p->min + p->max) / 2;
    if (p->has_max && mean > p->max)
        return p->max / 2;
    if (p->has_min && mean < p->min)
        return p->min > 0 ? 2 * p->min : p->min + 1;
    return mean;
}

static int
find_kind(const struct conf_profile *prof, enum conf_kind k)
{
    for (size_t i = 0; i < prof->npoints; i++)
        if (prof->points[i].kind == k)
            return (int)i;
    return -1;
}

/* A totalizer of what flows back (export kWh, reverse m3): it barely moves
 * and follows no rate point. */
static bool
is_backward_total(const struct conf_point *p)
{
    return strstr(p->name, "export") || strstr(p->name, "reverse");
}

/* The rate point a total integrates, or -1. */
static int
rate_for(const struct conf_profile *prof, const struct conf_point *p)
{
    if (is_backward_total(p))
        return -1;
    switch (p->kind) {
    case KIND_VOLUME_TOTAL:
        return find_kind(prof, KIND_FLOW_RATE);
    case KIND_REUSE_TOTAL:
        if (find_kind(prof, KIND_VOLUME_TOTAL) >= 0)
            return -1;
        return find_kind(prof, KIND_FLOW_RATE);
    case KIND_ELECTRICITY_TOTAL:
        return find_kind(prof, KIND_POWER);
    default:
        return -1;
    }
}

static void
span_init(struct sim_meter *m)
{
    for (int t = 0; t < 2; t++) {
        m->span_lo[t] = 65536;
        m->span_hi[t] = 0;
    }
    for (size_t i = 0; i < m->npoints; i++) {
        const struct conf_point *cp = m->points[i].cp;
        unsigned lo = cp->address;
        unsigned hi = lo + (unsigned)conf_type_width(cp->type);
        if (lo < m->span_lo[cp->table])
            m->span_lo[cp->table] = lo;
        if (hi > m->span_hi[cp->table])
            m->span_hi[cp->table] = hi;
    }
}

static void
point_init(struct sim_meter *m, const struct conf_profile *prof, size_t i,
           uint64_t seed)
{
    struct sim_point *sp = &m->points[i];
    const struct conf_point *cp = &prof->points[i];
    uint64_t rng =
        fnv1a(cp->name, fnv1a(m->cm->id, 0xcbf29ce484222325ULL) ^ seed);
    struct kind_default d = kind_default(cp);

    sp->cp = cp;
    sp->rate = -1;
    if (!is_counter(cp)) {
        sp->role = ROLE_WANDER;
        d.mean = fit_range(cp, d.mean);
        wander_init(&sp->w, d, &rng);
        return;
    }
    /* Totals come after the wanderers: they start from the rate's mean. */
    sp->role = ROLE_TOTAL;
    sp->rate = rate_for(prof, cp);
    if (is_backward_total(cp) && cp->kind != KIND_INFO)
        d.mean *= 0.005; /* info counters are slow already */
    wander_init(&sp->w, d, &rng);
    double grow = sp->rate >= 0 ? m->points[sp->rate].w.mean : d.mean;
    double hours = 500 + 4500 * uniform(&rng);
    double cap = (0.05 + 0.05 * uniform(&rng)) * type_cap(cp);
    sp->base = fmin(fabs(grow) * hours, cap > 0 ? cap : 0);
    sp->base = round(sp->base * 1000) / 1000;
    sp->tb = 0;
}

static void
meter_init(struct sim_meter *m, const struct conf *conf, size_t mi,
           uint64_t seed)
{
    const struct conf_meter *cm = &conf->meters[mi];
    const struct conf_profile *prof = &conf->profiles[cm->profile];

    m->cm = cm;
    m->npoints = prof->npoints;
    m->exc_code = 4;
    for (size_t i = 0; i < prof->npoints; i++)
        if (!is_counter(&prof->points[i]))
            point_init(m, prof, i, seed);
    for (size_t i = 0; i < prof->npoints; i++)
        if (is_counter(&prof->points[i]))
            point_init(m, prof, i, seed);
    span_init(m);
}

int
sim_init(struct sim *s, const struct conf *conf, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->conf = conf;
    s->nmeters = conf->nmeters;
    s->meters = calloc(conf->nmeters ? conf->nmeters : 1, sizeof *s->meters);
    s->unit_map = calloc(conf->nbuses ? conf->nbuses : 1, sizeof *s->unit_map);
    if (!s->meters || !s->unit_map)
        goto fail;
    for (size_t b = 0; b < conf->nbuses; b++)
        for (int u = 0; u < 256; u++)
            s->unit_map[b][u] = -1;
    for (size_t i = 0; i < conf->nmeters; i++) {
        const struct conf_meter *cm = &conf->meters[i];
        size_t np = conf->profiles[cm->profile].npoints;
        s->meters[i].points = calloc(np ? np : 1, sizeof(struct sim_point));
        if (!s->meters[i].points)
            goto fail;
        meter_init(&s->meters[i], conf, i, seed);
        if (cm->slave >= 0 && cm->slave < 256 &&
            s->unit_map[cm->bus][cm->slave] < 0)
            s->unit_map[cm->bus][cm->slave] = (int16_t)i;
    }
    return 0;
fail:
    sim_free(s);
    return -1;
}

void
sim_free(struct sim *s)
{
    if (s->meters)
        for (size_t i = 0; i < s->nmeters; i++)
            free(s->meters[i].points);
    free(s->meters);
    free(s->unit_map);
    s->meters = NULL;
    s->unit_map = NULL;
}

int
sim_meter_find(const struct sim *s, const char *id)
{
    for (size_t i = 0; i < s->nmeters; i++)
        if (strcmp(s->meters[i].cm->id, id) == 0)
            return (int)i;
    return -1;
}

int
sim_point_find(const struct sim_meter *m, const char *name)
{
    for (size_t i = 0; i < m->npoints; i++)
        if (strcmp(m->points[i].cp->name, name) == 0)
            return (int)i;
    return -1;
}

/* The model's (unquantized) engineering value of a point. */
static double
point_value(const struct sim_meter *m, size_t pi, double now)
{
    const struct sim_point *sp = &m->points[pi];

    if (sp->frozen)
        return sp->frozen_value;
    if (sp->role == ROLE_WANDER)
        return wander_value(&sp->w, now);
    double per_hour_s;
    if (sp->rate < 0) {
        per_hour_s = wander_integral(&sp->w, sp->tb, now);
    } else {
        const struct sim_point *r = &m->points[sp->rate];
        per_hour_s = r->frozen ? r->frozen_value * (now - sp->tb)
                               : wander_integral(&r->w, sp->tb, now);
    }
    return sp->base + per_hour_s / 3600;
}

/* The value the nan, inf and -inf faults put in float registers. */
static bool
fault_float(enum sim_fault f, double *v)
{
    switch (f) {
    case FAULT_NAN:
        *v = NAN;
        return true;
    case FAULT_INF:
        *v = INFINITY;
        return true;
    case FAULT_NEG_INF:
        *v = -INFINITY;
        return true;
    default:
        return false;
    }
}

static void
encode(const struct sim_meter *m, size_t pi, double value, uint16_t *regs)
{
    const struct conf_point *cp = m->points[pi].cp;
    double raw = decode_raw_for(cp, value, m->cm->ct, m->cm->pt), bad;

    if (!fault_float(m->fault, &bad) ||
        (cp->type != TYPE_FLOAT32 && cp->type != TYPE_FLOAT64 &&
         cp->type != TYPE_INT32_FLOAT32)) {
        decode_encode_raw(cp, raw, regs);
        return;
    }
    if (cp->type != TYPE_INT32_FLOAT32) {
        decode_encode_raw(cp, bad, regs);
        return;
    }
    /* A split total: the integer part as it is, the bad value in its
     * fraction register (encoding the whole would clamp an infinity). */
    struct conf_point frac = *cp;
    frac.type = TYPE_FLOAT32;
    decode_encode_raw(cp, raw, regs);
    decode_encode_raw(&frac, bad, regs + 2);
}

void
sim_point_regs(const struct sim_meter *m, size_t pi, double now, uint16_t *regs)
{
    encode(m, pi, point_value(m, pi, now), regs);
}

double
sim_point_get(const struct sim_meter *m, size_t pi, double now)
{
    uint16_t regs[4];
    double v;

    sim_point_regs(m, pi, now, regs);
    if (decode_point(m->points[pi].cp, regs, m->cm->ct, m->cm->pt, &v) !=
        DECODE_OK)
        return NAN;
    return v;
}

void
sim_meter_regs(const struct sim_meter *m, enum conf_table t, unsigned addr,
               unsigned count, double now, uint16_t *out)
{
    memset(out, 0, count * sizeof *out);
    for (size_t i = 0; i < m->npoints; i++) {
        const struct conf_point *cp = m->points[i].cp;
        unsigned lo = cp->address;
        unsigned w = (unsigned)conf_type_width(cp->type);
        if (cp->table != t || lo + w <= addr || lo >= addr + count)
            continue;
        uint16_t regs[4];
        sim_point_regs(m, i, now, regs);
        for (unsigned k = 0; k < w; k++)
            if (lo + k >= addr && lo + k < addr + count)
                out[lo + k - addr] = regs[k];
    }
}

int
sim_meter_check(const struct sim_meter *m, enum conf_table t, unsigned addr,
                unsigned count)
{
    unsigned end = addr + count;

    for (size_t i = 0; i < m->nrejects; i++) {
        const struct sim_reject *r = &m->rejects[i];
        if (r->table == t && r->addr < end && addr < r->addr + r->count)
            return 2;
    }
    if (addr < m->span_lo[t] || end > m->span_hi[t])
        return 2;
    if (!m->strict)
        return 0;
    bool covered[SIM_REGS_MAX] = {false};
    for (size_t i = 0; i < m->npoints; i++) {
        const struct conf_point *cp = m->points[i].cp;
        unsigned lo = cp->address;
        unsigned hi = lo + (unsigned)conf_type_width(cp->type);
        if (cp->table != t)
            continue;
        for (unsigned a = lo; a < hi; a++)
            if (a >= addr && a < end)
                covered[a - addr] = true;
    }
    for (unsigned k = 0; k < count && k < SIM_REGS_MAX; k++)
        if (!covered[k])
            return 2;
    return 0;
}

/* Fold the growth so far into the base of every total that integrates
 * point `ri`, before its model changes. */
static void
checkpoint_dependents(struct sim_meter *m, size_t ri, double now)
{
    for (size_t i = 0; i < m->npoints; i++) {
        struct sim_point *sp = &m->points[i];
        if (sp->role != ROLE_TOTAL || sp->frozen)
            continue;
        if (i == ri || sp->rate == (int)ri) {
            sp->base = point_value(m, i, now);
            sp->tb = now;
        }
    }
}

void
sim_point_set(struct sim_meter *m, size_t pi, double value, double now)
{
    checkpoint_dependents(m, pi, now);
    m->points[pi].frozen = true;
    m->points[pi].frozen_value = value;
}

void
sim_point_free(struct sim_meter *m, size_t pi, double now)
{
    struct sim_point *sp = &m->points[pi];

    if (!sp->frozen)
        return;
    checkpoint_dependents(m, pi, now);
    if (sp->role == ROLE_TOTAL) {
        sp->base = sp->frozen_value;
        sp->tb = now;
    }
    sp->frozen = false;
}

int
sim_point_mean(struct sim_meter *m, size_t pi, double mean, double now)
{
    struct sim_point *sp = &m->points[pi];

    if (sp->role == ROLE_TOTAL && sp->rate >= 0)
        return -1;
    checkpoint_dependents(m, pi, now);
    sp->w.mean = mean;
    return 0;
}

void
sim_meter_reset_totals(struct sim_meter *m, double now)
{
    for (size_t i = 0; i < m->npoints; i++) {
        struct sim_point *sp = &m->points[i];
        if (sp->role != ROLE_TOTAL)
            continue;
        sp->frozen = false;
        sp->base = 0;
        sp->tb = now;
    }
}

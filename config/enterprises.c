/* The enterprises section: each enterprise with its meters (meters.c),
 * outlets, quotas and value added; quotas are also the park's. */
#include <ctype.h>
#include <string.h>

#include "config/loader.h"

static const char *const quota_keys[] = {"id", "measure", "period", "limit",
                                         NULL};

static const char *
nm_period(int i)
{
    return conf_period_name((enum conf_period)i);
}

/* measure name, as conf_measure_name spells it -> measure and pollutant;
 * false if unknown. */
static bool
parse_measure(const char *v, enum conf_measure *m, enum conf_pollutant *p)
{
    *p = POLL_NONE;
    for (int i = 0; i <= MEASURE_ENERGY_INTENSITY; i++) {
        bool kg = i == MEASURE_POLLUTANT_KG;
        for (int k = 0; k < (kg ? POLL_COUNT : 1); k++) {
            struct conf_quota q = {
                .measure = (enum conf_measure)i,
                .pollutant = kg ? (enum conf_pollutant)k : POLL_NONE,
            };
            char buf[32];
            if (strcmp(conf_measure_name(&q, buf, sizeof(buf)), v) == 0) {
                *m = q.measure;
                *p = q.pollutant;
                return true;
            }
        }
    }
    return false;
}

void
cload_quotas(struct cload *x, const config_setting_t *g,
             struct conf_quota **out, size_t *nout)
{
    const config_setting_t *l = cload_get_list(x, g, "quotas");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    *out = cload_calloc((size_t)n, sizeof(**out));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "quota");
        if (e == NULL)
            continue;
        struct conf_quota *q = &(*out)[(*nout)++];
        q->src = cload_src(x, e);
        q->pollutant = POLL_NONE;
        cload_check_keys(x, e, "quota", quota_keys);
        cload_get_id(x, e, "quota", q->id);
        const config_setting_t *s;
        const char *v = cload_get_string(x, e, "measure", "quota", true, &s);
        if (v && !parse_measure(v, &q->measure, &q->pollutant)) {
            q->measure = (enum conf_measure) - 1; /* checked no further */
            cload_err(
                x, s,
                "unknown measure '%s' (effluent_m3, reuse_m3, <pollutant>_kg "
                "with pollutant cod, nh3n, tp, tn, cu or ni, electricity_kwh, "
                "energy_tce or energy_intensity)",
                v);
        }
        int p = cload_get_enum(x, e, "period", "quota", true, nm_period,
                               PERIOD_YEAR + 1);
        if (p >= 0)
            q->period = (enum conf_period)p;
        cload_get_positive(x, e, "limit", "quota", true, false, &q->limit);
    }
}

static const char *const outlet_keys[] = {"id", "volume", "concentrations",
                                          "limits_mg_l", NULL};

/* A group whose keys are pollutant names: calls fn for each valid one. */
static void
each_pollutant(struct cload *x, const config_setting_t *g, const char *what,
               void (*fn)(struct cload *, const config_setting_t *,
                          enum conf_pollutant, struct conf_outlet *),
               struct conf_outlet *o)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        int p = cload_name_index(config_setting_name(m), cload_pollutant_word,
                                 POLL_COUNT);
        if (p < 0)
            cload_err(x, m,
                      "unknown pollutant '%s' in %s (cod, nh3n, tp, tn, cu or "
                      "ni)",
                      config_setting_name(m), what);
        else
            fn(x, m, (enum conf_pollutant)p, o);
    }
}

static void
outlet_conc(struct cload *x, const config_setting_t *m, enum conf_pollutant p,
            struct conf_outlet *o)
{
    const char *key = config_setting_name(m);
    o->has_conc[p] = cload_get_ref(x, config_setting_parent(m), key,
                                   "concentrations", false, &o->conc[p]);
}

static void
outlet_limit(struct cload *x, const config_setting_t *m, enum conf_pollutant p,
             struct conf_outlet *o)
{
    double v;
    if (!cload_num(x, m, config_setting_name(m), &v))
        return;
    if (v <= 0) {
        cload_err(x, m, "limit of %s must be > 0 mg/L, not %g",
                  conf_pollutant_name(p), v);
        return;
    }
    o->has_limit[p] = true;
    o->limit_mg_l[p] = v;
}

static void
load_outlets(struct cload *x, const config_setting_t *g,
             struct conf_enterprise *ent)
{
    const config_setting_t *l = cload_get_list(x, g, "outlets");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    ent->outlets = cload_calloc((size_t)n, sizeof(*ent->outlets));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "outlet");
        if (e == NULL)
            continue;
        struct conf_outlet *o = &ent->outlets[ent->noutlets++];
        o->src = cload_src(x, e);
        o->volume.meter = o->volume.point = -1;
        cload_check_keys(x, e, "outlet", outlet_keys);
        cload_get_id(x, e, "outlet", o->id);
        cload_get_ref(x, e, "volume", "outlet", true, &o->volume);
        const config_setting_t *c = cload_get_group(x, e, "concentrations");
        if (c)
            each_pollutant(x, c, "concentrations", outlet_conc, o);
        const config_setting_t *lim = cload_get_group(x, e, "limits_mg_l");
        if (lim)
            each_pollutant(x, lim, "limits_mg_l", outlet_limit, o);
    }
}

/* "YYYY", "YYYY-Qn" or "YYYY-MM". */
static bool
is_va_period(const char *s)
{
    size_t n = strlen(s);
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    if (s[0] == '0' || (n != 4 && n != 7) || (n == 7 && s[4] != '-'))
        return false;
    if (n == 4)
        return true;
    if (s[5] == 'Q')
        return s[6] >= '1' && s[6] <= '4';
    if (!isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]))
        return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    return m >= 1 && m <= 12;
}

static const char *const va_keys[] = {"period", "yuan", NULL};

static void
load_value_added(struct cload *x, const config_setting_t *g,
                 struct conf_enterprise *ent)
{
    const config_setting_t *l = cload_get_list(x, g, "value_added");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    ent->value_added = cload_calloc((size_t)n, sizeof(*ent->value_added));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e =
            cload_elem_group(x, l, i, "value_added entry");
        if (e == NULL)
            continue;
        struct conf_value_added *va = &ent->value_added[ent->nvalue_added++];
        va->src = cload_src(x, e);
        cload_check_keys(x, e, "value_added", va_keys);
        const config_setting_t *s;
        const char *p =
            cload_get_string(x, e, "period", "value_added", true, &s);
        if (p && !is_va_period(p))
            cload_err(x, s,
                      "'period' must be \"YYYY\", \"YYYY-Qn\" or \"YYYY-MM\", "
                      "not '%s'",
                      p);
        else if (p)
            strcpy(va->period, p);
        cload_get_positive(x, e, "yuan", "value_added", true, true, &va->yuan);
    }
}

static const char *const ent_keys[] = {"id",          "name",    "land_mu",
                                       "meters",      "outlets", "quotas",
                                       "value_added", NULL};

/* Enterprise ids that would collide with the park's own topics or files. */
static const char *const reserved_ent[] = {CONF_PARK_ID, "alerts",   "events",
                                           "status",     "capacity", NULL};

void
cload_enterprises(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *l = cload_get_list(x, root, "enterprises");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    c->enterprises = cload_calloc((size_t)n, sizeof(*c->enterprises));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "enterprise");
        if (e == NULL)
            continue;
        int idx = (int)c->nenterprises++;
        struct conf_enterprise *ent = &c->enterprises[idx];
        ent->src = cload_src(x, e);
        cload_check_keys(x, e, "enterprise", ent_keys);
        if (cload_get_id(x, e, "enterprise", ent->id))
            for (size_t r = 0; reserved_ent[r]; r++)
                if (strcmp(ent->id, reserved_ent[r]) == 0)
                    cload_err(x, cload_member(e, "id"),
                              "enterprise id '%s' is reserved "
                              "(it is a topic level of the park)",
                              ent->id);
        cload_get_strdup(x, e, "name", "enterprise", false, &ent->name);
        if (ent->name == NULL)
            ent->name = cload_strdup(ent->id);
        cload_get_positive(x, e, "land_mu", "enterprise", false, true,
                           &ent->land_mu);
        cload_meters(x, e, idx, &ent->meters, &ent->nmeters);
        load_outlets(x, e, ent);
        cload_quotas(x, e, &ent->quotas, &ent->nquotas);
        load_value_added(x, e, ent);
    }
}

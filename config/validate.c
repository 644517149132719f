/* Cross-reference checks of a loaded config: duplicate ids, `meter.point`
 * references, overlapping registers, quotas that nothing can measure.
 * Works on struct conf alone (no libconfig), so it also checks configs
 * built by hand in tests. */
#include <stddef.h>
#include <string.h>

#include "config/config.h"
#include "config/names.h"

/* Report each element of arr whose id (a char array at id_off) repeats an
 * earlier one; empty ids were reported by the loader. */
static size_t
check_dups(struct conf_errors *errs, const void *arr, size_t n, size_t stride,
           size_t id_off, size_t src_off, const char *what)
{
    size_t found = 0;
    const char *base = arr;
    for (size_t i = 0; i < n; i++) {
        const char *id = base + i * stride + id_off;
        if (id[0] == '\0')
            continue;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(id, base + k * stride + id_off) != 0)
                continue;
            const struct conf_src *first =
                (const struct conf_src *)(const void *)(base + k * stride +
                                                        src_off);
            const struct conf_src *src =
                (const struct conf_src *)(const void *)(base + i * stride +
                                                        src_off);
            conf_errors_add(errs, src,
                            "duplicate %s id '%s' (first defined "
                            "at %s:%d)",
                            what, id, first->file, first->line);
            found++;
            break;
        }
    }
    return found;
}

#define DUPS(errs, arr, n, type, what)                                         \
    check_dups(errs, arr, n, sizeof(type), offsetof(type, id),                 \
               offsetof(type, src), what)

static size_t
check_points(struct conf_errors *errs, const struct conf_profile *p)
{
    size_t found = 0;
    for (size_t j = 0; j < p->npoints; j++) {
        const struct conf_point *b = &p->points[j];
        if (b->name[0] == '\0')
            continue;
        for (size_t i = 0; i < j; i++)
            if (strcmp(p->points[i].name, b->name) == 0) {
                conf_errors_add(errs, &b->src,
                                "duplicate point name '%s' in "
                                "profile '%s' (first defined at %s:%d)",
                                b->name, p->id, p->points[i].src.file,
                                p->points[i].src.line);
                found++;
                break;
            }
        if (b->table != TABLE_HOLDING && b->table != TABLE_INPUT)
            continue; /* its address or type was wrong: reported */
        long b0 = b->address, b1 = b0 + conf_type_width(b->type) - 1;
        for (size_t i = 0; i < j; i++) {
            const struct conf_point *a = &p->points[i];
            long a0 = a->address, a1 = a0 + conf_type_width(a->type) - 1;
            if (a->table != b->table || a1 < b0 || b1 < a0)
                continue;
            conf_errors_add(errs, &b->src,
                            "point '%s' (%s registers %ld..%ld) "
                            "overlaps point '%s' (%ld..%ld) in profile '%s'",
                            b->name, cname_table(b->table), b0, b1, a->name, a0,
                            a1, p->id);
            found++;
            break;
        }
    }
    return found;
}

/* "the park" or "enterprise 'id'", in buf. */
static const char *
owner_name(const struct conf *c, int enterprise, char *buf, size_t len)
{
    if (enterprise < 0)
        snprintf(buf, len, "the park");
    else
        snprintf(buf, len, "enterprise '%s'", c->enterprises[enterprise].id);
    return buf;
}

/* Resolve r to a meter and point. `owner` >= -1: the meter must belong to
 * that enterprise (-1 the park); -2: any meter. Returns the point, or NULL
 * if r is empty, dangling (reported) or its meter's profile is unknown. */
static const struct conf_point *
resolve(struct conf *c, struct conf_errors *errs, struct conf_ref *r, int owner,
        size_t *found)
{
    if (r->text[0] == '\0')
        return NULL;
    const char *dot = strchr(r->text, '.');
    size_t mlen = (size_t)(dot - r->text);
    for (size_t i = 0; i < c->nmeters; i++) {
        const struct conf_meter *m = &c->meters[i];
        if (strlen(m->id) != mlen || strncmp(m->id, r->text, mlen) != 0)
            continue;
        if (owner >= -1 && m->enterprise != owner) {
            char a[CONF_ID_MAX + 16], b[CONF_ID_MAX + 16];
            conf_errors_add(errs, &r->src,
                            "'%s': meter '%s' belongs to %s, "
                            "not to %s",
                            r->text, m->id,
                            owner_name(c, m->enterprise, a, sizeof(a)),
                            owner_name(c, owner, b, sizeof(b)));
            (*found)++;
            return NULL;
        }
        if (m->profile < 0)
            return NULL;
        const struct conf_profile *p = &c->profiles[m->profile];
        for (size_t k = 0; k < p->npoints; k++)
            if (strcmp(p->points[k].name, dot + 1) == 0) {
                r->meter = (int)i;
                r->point = (int)k;
                return &p->points[k];
            }
        conf_errors_add(errs, &r->src,
                        "'%s': meter '%s' (profile '%s') has "
                        "no point '%s'",
                        r->text, m->id, p->id, dot + 1);
        (*found)++;
        return NULL;
    }
    conf_errors_add(errs, &r->src, "'%s': unknown meter '%.*s'", r->text,
                    (int)mlen, r->text);
    (*found)++;
    return NULL;
}

/* r must be a volume_total or flow_rate point. */
static void
check_volume_ref(struct conf *c, struct conf_errors *errs, struct conf_ref *r,
                 int owner, const char *key, size_t *found)
{
    const struct conf_point *p = resolve(c, errs, r, owner, found);
    if (p && p->kind != KIND_VOLUME_TOTAL && p->kind != KIND_FLOW_RATE) {
        conf_errors_add(errs, &r->src,
                        "'%s' must be a volume_total or "
                        "flow_rate point; '%s' is %s",
                        key, r->text, conf_kind_name(p->kind));
        (*found)++;
        r->meter = r->point = -1;
    }
}

static void
check_outlets(struct conf *c, struct conf_errors *errs, int e, size_t *found)
{
    struct conf_enterprise *ent = &c->enterprises[e];
    *found +=
        DUPS(errs, ent->outlets, ent->noutlets, struct conf_outlet, "outlet");
    for (size_t i = 0; i < ent->noutlets; i++) {
        struct conf_outlet *o = &ent->outlets[i];
        check_volume_ref(c, errs, &o->volume, e, "volume", found);
        for (int pol = 0; pol < POLL_COUNT; pol++) {
            const char *pn = conf_pollutant_name((enum conf_pollutant)pol);
            if (o->has_limit[pol] && !o->has_conc[pol]) {
                conf_errors_add(errs, &o->src,
                                "outlet '%s' has a %s limit but "
                                "no %s concentration to check it against",
                                o->id, pn, pn);
                (*found)++;
            }
            if (!o->has_conc[pol])
                continue;
            struct conf_ref *r = &o->conc[pol];
            const struct conf_point *p = resolve(c, errs, r, e, found);
            if (p && (p->kind != KIND_CONCENTRATION ||
                      p->pollutant != (enum conf_pollutant)pol)) {
                if (p->kind != KIND_CONCENTRATION)
                    conf_errors_add(errs, &r->src,
                                    "'%s' must be a "
                                    "concentration point of %s; '%s' is %s",
                                    pn, pn, r->text, conf_kind_name(p->kind));
                else
                    conf_errors_add(errs, &r->src,
                                    "'%s' must be a "
                                    "concentration point of %s; '%s' measures "
                                    "%s",
                                    pn, pn, r->text,
                                    conf_pollutant_name(p->pollutant));
                (*found)++;
                r->meter = r->point = -1;
            }
        }
    }
}

/* What the meters and outlets of one owner can measure. */
struct can {
    bool unknown; /* a meter's profile is unknown: assume anything */
    bool effluent, reuse, electricity, energy;
    bool pollutant[POLL_COUNT];
};

static void
add_can(const struct conf *c, int owner, struct can *can)
{
    for (size_t i = 0; i < c->nmeters; i++) {
        const struct conf_meter *m = &c->meters[i];
        if (m->enterprise != owner)
            continue;
        if (m->profile < 0) {
            can->unknown = true;
            continue;
        }
        const struct conf_profile *p = &c->profiles[m->profile];
        for (size_t k = 0; k < p->npoints; k++) {
            switch (p->points[k].kind) {
            case KIND_REUSE_TOTAL:
                can->reuse = true;
                break;
            case KIND_ELECTRICITY_TOTAL:
                can->electricity = can->energy = true;
                break;
            case KIND_GAS_TOTAL:
            case KIND_STEAM_TOTAL:
            case KIND_HEAT_TOTAL:
                can->energy = true;
                break;
            default:
                break;
            }
        }
    }
    if (owner < 0)
        return;
    const struct conf_enterprise *ent = &c->enterprises[owner];
    for (size_t i = 0; i < ent->noutlets; i++) {
        can->effluent = true;
        for (int pol = 0; pol < POLL_COUNT; pol++)
            if (ent->outlets[i].has_conc[pol])
                can->pollutant[pol] = true;
    }
}

static void
check_quotas(struct conf_errors *errs, const struct conf_quota *qs, size_t n,
             const struct can *can, const char *owner, size_t *found)
{
    *found += DUPS(errs, qs, n, struct conf_quota, "quota");
    if (can->unknown)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct conf_quota *q = &qs[i];
        const char *need = NULL;
        char buf[64];
        switch (q->measure) {
        case MEASURE_EFFLUENT_M3:
            if (!can->effluent)
                need = "outlet";
            break;
        case MEASURE_REUSE_M3:
            if (!can->reuse)
                need = "reuse_total point";
            break;
        case MEASURE_POLLUTANT_KG:
            if (q->pollutant >= 0 && q->pollutant < POLL_COUNT &&
                !can->pollutant[q->pollutant]) {
                snprintf(buf, sizeof(buf), "outlet with a %s concentration",
                         conf_pollutant_name(q->pollutant));
                need = buf;
            }
            break;
        case MEASURE_ELECTRICITY_KWH:
            if (!can->electricity)
                need = "electricity_total point";
            break;
        case MEASURE_ENERGY_TCE:
        case MEASURE_ENERGY_INTENSITY:
            if (!can->energy)
                need = "electricity, gas, steam or heat total point";
            break;
        }
        if (need == NULL)
            continue;
        char measure[32];
        conf_errors_add(errs, &q->src,
                        "quota '%s' measures %s, but %s has "
                        "no %s",
                        q->id, conf_measure_name(q, measure, sizeof(measure)),
                        owner, need);
        (*found)++;
    }
}

static void
check_value_added(struct conf_errors *errs, const struct conf_enterprise *ent,
                  size_t *found)
{
    for (size_t i = 0; i < ent->nvalue_added; i++) {
        const struct conf_value_added *v = &ent->value_added[i];
        if (v->period[0] == '\0')
            continue;
        for (size_t k = 0; k < i; k++)
            if (strcmp(ent->value_added[k].period, v->period) == 0) {
                conf_errors_add(errs, &v->src,
                                "duplicate value_added period "
                                "'%s' (first defined at %s:%d)",
                                v->period, ent->value_added[k].src.file,
                                ent->value_added[k].src.line);
                (*found)++;
                break;
            }
    }
}

static void
check_buses(const struct conf *c, struct conf_errors *errs, size_t *found)
{
    *found += DUPS(errs, c->buses, c->nbuses, struct conf_bus, "bus");
    for (size_t i = 0; i < c->nbuses; i++) {
        const struct conf_bus *b = &c->buses[i];
        if (b->kind != BUS_RTU || b->device == NULL)
            continue;
        for (size_t k = 0; k < i; k++) {
            const struct conf_bus *a = &c->buses[k];
            if (a->kind == BUS_RTU && a->device &&
                strcmp(a->device, b->device) == 0) {
                conf_errors_add(errs, &b->src,
                                "device '%s' is already used "
                                "by bus '%s' (%s:%d)",
                                b->device, a->id, a->src.file, a->src.line);
                (*found)++;
                break;
            }
        }
    }
}

static void
check_tokens(const struct conf *c, struct conf_errors *errs, size_t *found)
{
    for (size_t i = 0; i < c->http.ntokens; i++) {
        const struct conf_token *t = &c->http.tokens[i];
        if (strncmp(t->role, "enterprise:", 11) == 0) {
            bool known = false;
            for (size_t e = 0; e < c->nenterprises; e++)
                if (strcmp(c->enterprises[e].id, t->role + 11) == 0)
                    known = true;
            if (!known) {
                conf_errors_add(errs, &t->src,
                                "token role '%s' names an "
                                "unknown enterprise",
                                t->role);
                (*found)++;
            }
        }
        if (t->sha256[0] == '\0')
            continue;
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->http.tokens[k].sha256, t->sha256) == 0) {
                conf_errors_add(errs, &t->src,
                                "duplicate token sha256 (first "
                                "defined at %s:%d)",
                                c->http.tokens[k].src.file,
                                c->http.tokens[k].src.line);
                (*found)++;
                break;
            }
    }
}

size_t
conf_validate(struct conf *c, struct conf_errors *errs)
{
    size_t found = 0;
    check_buses(c, errs, &found);
    found +=
        DUPS(errs, c->profiles, c->nprofiles, struct conf_profile, "profile");
    for (size_t i = 0; i < c->nprofiles; i++)
        found += check_points(errs, &c->profiles[i]);
    found += DUPS(errs, c->enterprises, c->nenterprises, struct conf_enterprise,
                  "enterprise");
    found += DUPS(errs, c->meters, c->nmeters, struct conf_meter, "meter");
    if (c->park.has_wwtp_inflow)
        check_volume_ref(c, errs, &c->park.wwtp_inflow, -2, "inflow", &found);

    struct can all = {0};
    for (size_t e = 0; e < c->nenterprises; e++) {
        struct conf_enterprise *ent = &c->enterprises[e];
        check_outlets(c, errs, (int)e, &found);
        struct can can = {0};
        add_can(c, (int)e, &can);
        char owner[CONF_ID_MAX + 16];
        snprintf(owner, sizeof(owner), "enterprise '%s'", ent->id);
        check_quotas(errs, ent->quotas, ent->nquotas, &can, owner, &found);
        check_value_added(errs, ent, &found);
        all.unknown |= can.unknown;
        all.effluent |= can.effluent;
        all.reuse |= can.reuse;
        all.electricity |= can.electricity;
        all.energy |= can.energy;
        for (int p = 0; p < POLL_COUNT; p++)
            all.pollutant[p] |= can.pollutant[p];
    }
    add_can(c, -1, &all);
    check_quotas(errs, c->park.quotas, c->park.nquotas, &all,
                 "the park (with its enterprises)", &found);
    check_tokens(c, errs, &found);
    return found;
}

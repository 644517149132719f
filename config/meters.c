/* Meters, of the park and of each enterprise: read with their bus and
 * profile by name, resolved to indices once every bus and profile is
 * known. */
#include <limits.h>
#include <string.h>

#include "config/loader.h"

/* A meter's references by name, resolved once everything is read. */
struct cload_pending {
    char bus[CONF_ID_MAX], profile[CONF_ID_MAX];
    struct conf_src bus_src, profile_src, slave_src;
};

static const char *const meter_keys[] = {"id",      "bus",      "slave",
                                         "profile", "interval", "ratios",
                                         "max_gap", "max_regs", NULL};
static const char *const ratio_keys[] = {"ct", "pt", NULL};

void
cload_meters(struct cload *x, const config_setting_t *g, int ent, int **idx,
             size_t *nidx)
{
    struct conf *c = x->conf;
    const config_setting_t *l = cload_get_list(x, g, "meters");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    *idx = cload_calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "meter");
        if (e == NULL)
            continue;
        size_t nm = c->nmeters;
        struct conf_meter *m =
            cload_append(&c->meters, &c->nmeters, sizeof(*m));
        size_t np = nm;
        struct cload_pending *pd = cload_append(&x->pend, &np, sizeof(*pd));
        (*idx)[(*nidx)++] = (int)nm;
        m->src = cload_src(x, e);
        m->enterprise = ent;
        m->bus = m->profile = -1;
        m->slave = -1;
        m->interval = 60;
        m->ct = m->pt = 1;
        m->max_gap = m->max_regs = -1;
        cload_check_keys(x, e, "meter", meter_keys);
        if (cload_get_id(x, e, "meter", m->id) &&
            (strcmp(m->id, "quota") == 0 || strcmp(m->id, "value_added") == 0 ||
             strncmp(m->id, "quota-", 6) == 0 ||
             (ent < 0 && strcmp(m->id, "capacity") == 0)))
            cload_err(
                x, cload_member(e, "id"),
                "meter id '%s' is reserved (it would "
                "collide with a quota's or the park's topics or RRD files)",
                m->id);
        const config_setting_t *s;
        if (cload_get_strbuf(x, e, "bus", "meter", true, pd->bus,
                             sizeof(pd->bus)))
            pd->bus_src = cload_src(x, cload_member(e, "bus"));
        if (cload_get_strbuf(x, e, "profile", "meter", true, pd->profile,
                             sizeof(pd->profile)))
            pd->profile_src = cload_src(x, cload_member(e, "profile"));
        if (cload_get_int(x, e, "slave", "meter", true, INT_MIN, INT_MAX,
                          &m->slave, &s) == 1)
            pd->slave_src = cload_src(x, s);
        double v;
        if (cload_get_num(x, e, "interval", "meter", false, &v, &s) == 1) {
            if (v <= 0)
                cload_err(x, s, "'interval' must be > 0");
            else if (v > 86400)
                cload_err(x, s, "'interval' must be at most 86400 seconds");
            else
                m->interval = v;
        }
        const config_setting_t *r = cload_get_group(x, e, "ratios");
        if (r) {
            cload_check_keys(x, r, "ratios", ratio_keys);
            cload_get_positive(x, r, "ct", "ratios", false, false, &m->ct);
            cload_get_positive(x, r, "pt", "ratios", false, false, &m->pt);
        }
        cload_get_int(x, e, "max_gap", "meter", false, 0, 124, &m->max_gap,
                      NULL);
        cload_get_int(x, e, "max_regs", "meter", false, 1, 125, &m->max_regs,
                      NULL);
    }
}

void
cload_resolve_meters(struct cload *x)
{
    struct conf *c = x->conf;
    for (size_t i = 0; i < c->nmeters; i++) {
        struct conf_meter *m = &c->meters[i];
        const struct cload_pending *pd = &x->pend[i];
        if (pd->bus[0]) {
            for (size_t b = 0; b < c->nbuses; b++)
                if (strcmp(c->buses[b].id, pd->bus) == 0) {
                    m->bus = (int)b;
                    break;
                }
            if (m->bus < 0)
                cload_err_src(x, &pd->bus_src,
                              "meter '%s' refers to unknown bus "
                              "'%s'",
                              m->id, pd->bus);
        }
        if (pd->profile[0]) {
            for (size_t p = 0; p < c->nprofiles; p++)
                if (strcmp(c->profiles[p].id, pd->profile) == 0) {
                    m->profile = (int)p;
                    break;
                }
            if (m->profile < 0)
                cload_err_src(x, &pd->profile_src,
                              "meter '%s' refers to unknown "
                              "profile '%s'",
                              m->id, pd->profile);
        }
        if (pd->slave_src.file == NULL)
            continue;
        if (m->bus >= 0 && c->buses[m->bus].kind == BUS_RTU) {
            if (m->slave < 1 || m->slave > 247)
                cload_err_src(x, &pd->slave_src,
                              "'slave' must be between 1 and 247 "
                              "on serial bus '%s', not %d",
                              c->buses[m->bus].id, m->slave);
        } else if (m->slave < 0 || (m->slave > 247 && m->slave != 255)) {
            cload_err_src(x, &pd->slave_src,
                          "'slave' must be between 0 and 247 "
                          "(or 255) on a TCP bus, not %d",
                          m->slave);
        }
    }
}

/* Profiles, inline or from the library: a meter model's points, each with
 * its kind, unit, place in the register map, value type and byte order. */
#include <ctype.h>
#include <string.h>

#include "config/loader.h"
#include "config/names.h"

static const char *const profile_keys[] = {"id", "points", NULL};
static const char *const point_keys[] = {
    "name",    "kind", "pollutant", "unit",  "table",
    "address", "type", "order",     "scale", "offset",
    "min",     "max",  "max_rate",  "ratio", NULL};

/* The unit a kind is accounted in; NULL: free (info, ph). */
static const char *
kind_unit(enum conf_kind k)
{
    switch (k) {
    case KIND_VOLUME_TOTAL:
        return "m3";
    case KIND_FLOW_RATE:
        return "m3/h";
    case KIND_REUSE_TOTAL:
        return "m3";
    case KIND_ELECTRICITY_TOTAL:
        return "kWh";
    case KIND_GAS_TOTAL:
        return "m3";
    case KIND_STEAM_TOTAL:
        return "t";
    case KIND_HEAT_TOTAL:
        return "GJ";
    case KIND_POWER:
        return "kW";
    case KIND_CONCENTRATION:
        return "mg/L";
    case KIND_PH:
    case KIND_INFO:
        return NULL;
    }
    return NULL;
}

static bool
is_total(enum conf_kind k)
{
    return k == KIND_VOLUME_TOTAL || k == KIND_REUSE_TOTAL ||
           k == KIND_ELECTRICITY_TOTAL || k == KIND_GAS_TOTAL ||
           k == KIND_STEAM_TOTAL || k == KIND_HEAT_TOTAL;
}

static bool
is_ds_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* order name -> order; 8-byte names only for 4-register types. */
static int
parse_order(const char *v, int width)
{
    for (int i = ORDER_ABCD; i <= ORDER_DCBA; i++) {
        if (strcmp(v, cname_order((enum conf_order)i, false)) == 0)
            return i;
        if (width == 4 && strcmp(v, cname_order((enum conf_order)i, true)) == 0)
            return i;
    }
    return -1;
}

static const char *
nm_type(int i)
{
    return conf_type_name((enum conf_type)i);
}

static const char *
nm_kind(int i)
{
    return conf_kind_name((enum conf_kind)i);
}

static const char *
nm_table(int i)
{
    return cname_table((enum conf_table)i);
}

/* The point's name: an RRD DS name. */
static void
point_name(struct cload *x, const config_setting_t *e, struct conf_point *p)
{
    const config_setting_t *s;
    const char *name = cload_get_string(x, e, "name", "point", true, &s);
    if (name) {
        if (strlen(name) >= CONF_DS_MAX)
            cload_err(x, s,
                      "point name '%s' is too long (at most %d characters: "
                      "it is an RRD DS name)",
                      name, CONF_DS_MAX - 1);
        else if (!is_ds_name(name))
            cload_err(x, s,
                      "point name '%s' may only use A-Z, a-z, 0-9 and '_' "
                      "(it is an RRD DS name)",
                      name);
        else if (strcmp(name, "status") == 0)
            cload_err(x, s,
                      "point name 'status' is reserved (the meter's status "
                      "topic)");
        size_t len = strlen(name);
        if (len >= sizeof(p->name))
            len = sizeof(p->name) - 1; /* for later messages only */
        memcpy(p->name, name, len);
        p->name[len] = '\0';
    }
}

/* kind, pollutant and unit; returns the kind, or < 0 if it is not known
 * (p->kind is then info). */
static int
point_kind(struct cload *x, const config_setting_t *e, struct conf_point *p)
{
    const config_setting_t *s;
    int kind =
        cload_get_enum(x, e, "kind", "point", true, nm_kind, KIND_INFO + 1);
    if (kind >= 0)
        p->kind = (enum conf_kind)kind;
    else
        p->kind = KIND_INFO;
    int pol = cload_get_enum(x, e, "pollutant", "point", false,
                             cload_pollutant_word, POLL_COUNT);
    if (kind == KIND_CONCENTRATION) {
        if (pol >= 0)
            p->pollutant = (enum conf_pollutant)pol;
        else if (pol == -2)
            cload_err(x, e,
                      "point '%s' of kind concentration needs 'pollutant' "
                      "(cod, nh3n, tp, tn, cu or ni)",
                      p->name);
    } else if (pol != -2 && kind >= 0) {
        cload_err(x, cload_member(e, "pollutant"),
                  "'pollutant' is only for kind "
                  "concentration, not %s",
                  conf_kind_name(p->kind));
    }
    const char *want = kind >= 0 ? kind_unit(p->kind) : NULL;
    const char *unit = cload_get_string(x, e, "unit", "point", false, &s);
    if (unit) {
        if (strlen(unit) >= sizeof(p->unit))
            cload_err(x, s, "'unit' is too long (at most %zu characters)",
                      sizeof(p->unit) - 1);
        else if (want && strcmp(unit, want) != 0)
            cload_err(x, s,
                      "kind %s is accounted in %s, not '%s' (convert with "
                      "'scale')",
                      conf_kind_name(p->kind), want, unit);
        else
            strcpy(p->unit, unit);
    } else if (want) {
        strcpy(p->unit, want);
    } else if (kind == KIND_PH) {
        strcpy(p->unit, "pH");
    }
    return kind;
}

/* table, address, type and order. */
static void
point_place(struct cload *x, const config_setting_t *e, struct conf_point *p)
{
    const config_setting_t *s;
    int table = cload_get_enum(x, e, "table", "point", true, nm_table, 2);
    if (table >= 0)
        p->table = (enum conf_table)table;
    int type = cload_get_enum(x, e, "type", "point", true, nm_type,
                              TYPE_UINT32_MILLI + 1);
    if (type >= 0)
        p->type = (enum conf_type)type;
    int width = type >= 0 ? conf_type_width(p->type) : 1;
    int addr;
    int got =
        cload_get_int(x, e, "address", "point", true, 0, 65535, &addr, &s);
    bool placed = false;
    if (got == 1) {
        p->address = (uint16_t)addr;
        if (addr + width - 1 > 65535)
            cload_err(x, s,
                      "point '%s' at %d with type %s ends beyond register "
                      "65535",
                      p->name, addr, conf_type_name(p->type));
        else
            placed = type >= 0 && table >= 0;
    }
    if (!placed) /* no overlap checks for a point in no known place */
        p->table = (enum conf_table) - 1;
    const char *order = cload_get_string(x, e, "order", "point", false, &s);
    if (order) {
        int o = parse_order(order, type >= 0 ? width : 4);
        if (o < 0 && (width == 4 || type < 0))
            cload_err(
                x, s,
                "'order' must be abcd, cdab, badc, dcba or for 4 "
                "registers abcdefgh, ghefcdab, badcfehg, hgfedcba, not '%s'",
                order);
        else if (o < 0)
            cload_err(x, s,
                      "'order' must be abcd, cdab, badc or dcba, not '%s'",
                      order);
        else if (width == 1 && (o == ORDER_CDAB || o == ORDER_DCBA) &&
                 type >= 0)
            cload_err(x, s,
                      "'order' %s needs a type of 2 or more registers; a "
                      "%s is abcd or badc",
                      order, conf_type_name(p->type));
        else
            p->order = (enum conf_order)o;
    }
}

/* scale, offset, min, max, max_rate (checked against the kind if it is
 * known) and ratio. */
static void
point_values(struct cload *x, const config_setting_t *e, struct conf_point *p,
             bool kind_known)
{
    const config_setting_t *s;
    double v;
    if (cload_get_num(x, e, "scale", "point", false, &v, &s) == 1) {
        if (v == 0)
            cload_err(x, s, "'scale' must not be 0");
        else
            p->scale = v;
    }
    cload_get_num(x, e, "offset", "point", false, &p->offset, NULL);
    p->has_min = cload_get_num(x, e, "min", "point", false, &p->min, NULL) == 1;
    p->has_max = cload_get_num(x, e, "max", "point", false, &p->max, &s) == 1;
    if (p->has_min && p->has_max && !(p->min < p->max))
        cload_err(x, s, "'min' (%g) must be below 'max' (%g)", p->min, p->max);
    if (cload_get_num(x, e, "max_rate", "point", false, &v, &s) == 1) {
        if (kind_known && !is_total(p->kind))
            cload_err(x, s,
                      "'max_rate' is only for totals (volume_total, "
                      "reuse_total, electricity_total, gas_total, steam_total, "
                      "heat_total), not %s",
                      conf_kind_name(p->kind));
        else if (v <= 0)
            cload_err(x, s, "'max_rate' must be > 0, not %g", v);
        else {
            p->has_max_rate = true;
            p->max_rate = v;
        }
    }
    const char *ratio = cload_get_string(x, e, "ratio", "point", false, &s);
    if (ratio) {
        if (strcmp(ratio, "ct") == 0)
            p->ratio = RATIO_CT;
        else if (strcmp(ratio, "pt") == 0)
            p->ratio = RATIO_PT;
        else if (strcmp(ratio, "ct*pt") == 0 || strcmp(ratio, "pt*ct") == 0)
            p->ratio = RATIO_CT | RATIO_PT;
        else
            cload_err(x, s,
                      "'ratio' must be \"ct\", \"pt\" or \"ct*pt\", not '%s'",
                      ratio);
    }
}

static void
load_point(struct cload *x, const config_setting_t *e, struct conf_point *p)
{
    p->src = cload_src(x, e);
    p->pollutant = POLL_NONE;
    p->scale = 1;
    p->order = ORDER_ABCD;
    cload_check_keys(x, e, "point", point_keys);
    point_name(x, e, p);
    int kind = point_kind(x, e, p);
    point_place(x, e, p);
    point_values(x, e, p, kind >= 0);
}

static void
load_profile(struct cload *x, const config_setting_t *e, struct conf_profile *p,
             bool builtin)
{
    p->src = cload_src(x, e);
    p->builtin = builtin;
    cload_check_keys(x, e, "profile", profile_keys);
    cload_get_id(x, e, "profile", p->id);
    const config_setting_t *l = cload_get_list(x, e, "points");
    if (l == NULL) {
        if (cload_member(e, "points") == NULL)
            cload_missing(x, e, "points", "profile");
        return;
    }
    int n = config_setting_length(l);
    if (n == 0)
        cload_err(x, l, "profile '%s' has no points", p->id);
    p->points = cload_calloc((size_t)n, sizeof(*p->points));
    for (int i = 0; i < n; i++) {
        const config_setting_t *pe = cload_elem_group(x, l, i, "point");
        if (pe)
            load_point(x, pe, &p->points[p->npoints++]);
    }
}

void
cload_profiles(struct cload *x, const config_setting_t *g,
               struct conf_profile **out, size_t *nout, bool builtin)
{
    const config_setting_t *l = cload_get_list(x, g, "profiles");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "profile");
        if (e)
            load_profile(x, e, cload_append(out, nout, sizeof(**out)), builtin);
    }
}

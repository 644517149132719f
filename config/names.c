/* Name tables of the config model, shared by the loader, printer and logs. */
#include "config/config.h"

#include <string.h>
#include "config/names.h"

static const char *const type_names[] = {
    [TYPE_UINT16] = "uint16",
    [TYPE_INT16] = "int16",
    [TYPE_UINT32] = "uint32",
    [TYPE_INT32] = "int32",
    [TYPE_UINT64] = "uint64",
    [TYPE_INT64] = "int64",
    [TYPE_FLOAT32] = "float32",
    [TYPE_FLOAT64] = "float64",
    [TYPE_INT32_FLOAT32] = "int32+float32",
    [TYPE_UINT32_MILLI] = "uint32+milli",
};

static const char *const kind_names[] = {
    [KIND_VOLUME_TOTAL] = "volume_total",
    [KIND_FLOW_RATE] = "flow_rate",
    [KIND_REUSE_TOTAL] = "reuse_total",
    [KIND_ELECTRICITY_TOTAL] = "electricity_total",
    [KIND_GAS_TOTAL] = "gas_total",
    [KIND_STEAM_TOTAL] = "steam_total",
    [KIND_HEAT_TOTAL] = "heat_total",
    [KIND_POWER] = "power",
    [KIND_CONCENTRATION] = "concentration",
    [KIND_PH] = "ph",
    [KIND_INFO] = "info",
};

static const char *const pollutant_names[] = {
    [POLL_COD] = "cod", [POLL_NH3N] = "nh3n", [POLL_TP] = "tp",
    [POLL_TN] = "tn",   [POLL_CU] = "cu",     [POLL_NI] = "ni",
};

static const char *const period_names[] = {
    [PERIOD_DAY] = "day",
    [PERIOD_MONTH] = "month",
    [PERIOD_QUARTER] = "quarter",
    [PERIOD_YEAR] = "year",
};

static const char *const order_names[2][4] = {
    {"abcd", "cdab", "badc", "dcba"},
    {"abcdefgh", "ghefcdab", "badcfehg", "hgfedcba"},
};

const char *
conf_type_name(enum conf_type t)
{
    return type_names[t];
}

const char *
conf_kind_name(enum conf_kind k)
{
    return kind_names[k];
}

const char *
conf_pollutant_name(enum conf_pollutant p)
{
    return p >= 0 && p < POLL_COUNT ? pollutant_names[p] : "none";
}

const char *
conf_period_name(enum conf_period p)
{
    return period_names[p];
}

const char *
conf_measure_unit(const struct conf_quota *q)
{
    switch (q->measure) {
    case MEASURE_EFFLUENT_M3:
    case MEASURE_REUSE_M3:
        return "m3";
    case MEASURE_POLLUTANT_KG:
        return "kg";
    case MEASURE_ELECTRICITY_KWH:
        return "kWh";
    case MEASURE_ENERGY_TCE:
        return "tce";
    case MEASURE_ENERGY_INTENSITY:
        return "tce/1e4 yuan";
    }
    return "";
}

const char *
conf_measure_name(const struct conf_quota *q, char *buf, size_t len)
{
    const char *name = "";
    switch (q->measure) {
    case MEASURE_EFFLUENT_M3:
        name = "effluent_m3";
        break;
    case MEASURE_REUSE_M3:
        name = "reuse_m3";
        break;
    case MEASURE_POLLUTANT_KG:
        snprintf(buf, len, "%s_kg", conf_pollutant_name(q->pollutant));
        return buf;
    case MEASURE_ELECTRICITY_KWH:
        name = "electricity_kwh";
        break;
    case MEASURE_ENERGY_TCE:
        name = "energy_tce";
        break;
    case MEASURE_ENERGY_INTENSITY:
        name = "energy_intensity";
        break;
    }
    snprintf(buf, len, "%s", name);
    return buf;
}

int
conf_type_width(enum conf_type t)
{
    switch (t) {
    case TYPE_UINT16:
    case TYPE_INT16:
        return 1;
    case TYPE_UINT32:
    case TYPE_INT32:
    case TYPE_FLOAT32:
        return 2;
    case TYPE_UINT32_MILLI:
        return 3;
    case TYPE_UINT64:
    case TYPE_INT64:
    case TYPE_FLOAT64:
    case TYPE_INT32_FLOAT32:
        return 4;
    }
    return 1;
}

const char *
cname_order(enum conf_order o, bool eight)
{
    return order_names[eight][o];
}

const char *
cname_table(enum conf_table t)
{
    return t == TABLE_HOLDING ? "holding" : "input";
}

int
conf_find_meter(const struct conf *c, const char *id)
{
    for (size_t i = 0; i < c->nmeters; i++)
        if (strcmp(c->meters[i].id, id) == 0)
            return (int)i;
    return -1;
}

int
conf_find_point(const struct conf *c, int meter, const char *name)
{
    const struct conf_profile *p = &c->profiles[c->meters[meter].profile];
    for (size_t i = 0; i < p->npoints; i++)
        if (strcmp(p->points[i].name, name) == 0)
            return (int)i;
    return -1;
}

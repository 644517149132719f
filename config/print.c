/* The normalized config, as `ecmond -n -v` prints it: libconfig syntax that
 * conf_load reads back to the same print, every default explicit, only the
 * profiles meters use (expanded inline), numbers that reparse exactly. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/names.h"

/* A quoted string with libconfig's escapes. */
static void
put_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02X", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* The shortest decimal that reads back as v, in plain notation unless the
 * exponent is extreme, with a '.' or an exponent so that libconfig reads a
 * float. */
static void
put_num(FILE *out, double v)
{
    char buf[64];
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp >= -5 && exp < 17) {
        int decimals = prec - 1 - exp;
        snprintf(buf, sizeof(buf), "%.*f", decimals > 0 ? decimals : 0, v);
        if (strtod(buf, NULL) != v) /* cannot happen; stay exact anyway */
            snprintf(buf, sizeof(buf), "%.17g", v);
    }
    if (strpbrk(buf, ".e") == NULL)
        strcat(buf, ".0");
    fputs(buf, out);
}

static void
kv_str(FILE *out, const char *key, const char *v)
{
    fprintf(out, "%s = ", key);
    put_str(out, v);
    fputs("; ", out);
}

static void
kv_num(FILE *out, const char *key, double v)
{
    fprintf(out, "%s = ", key);
    put_num(out, v);
    fputs("; ", out);
}

static void
kv_int(FILE *out, const char *key, int v)
{
    fprintf(out, "%s = %d; ", key, v);
}

/* A member on its own line at `indent`. */
static void
line_str(FILE *out, int indent, const char *key, const char *v)
{
    fprintf(out, "%*s%s = ", indent, "", key);
    put_str(out, v);
    fputs(";\n", out);
}

static void
line_num(FILE *out, int indent, const char *key, double v)
{
    fprintf(out, "%*s%s = ", indent, "", key);
    put_num(out, v);
    fputs(";\n", out);
}

static void
line_int(FILE *out, int indent, const char *key, int v)
{
    fprintf(out, "%*s%s = %d;\n", indent, "", key, v);
}

/* The end of a list of n elements opened at `indent`. */
static void
close_list(FILE *out, int indent, size_t n)
{
    if (n)
        fprintf(out, "\n%*s);\n", indent, "");
    else
        fputs(");\n", out);
}

static void
print_quotas(FILE *out, int indent, const struct conf_quota *qs, size_t n)
{
    fprintf(out, "%*squotas = (", indent, "");
    for (size_t i = 0; i < n; i++) {
        const struct conf_quota *q = &qs[i];
        char measure[32];
        fprintf(out, "%s\n%*s{ ", i ? "," : "", indent + 2, "");
        kv_str(out, "id", q->id);
        kv_str(out, "measure", conf_measure_name(q, measure, sizeof(measure)));
        kv_str(out, "period", conf_period_name(q->period));
        kv_num(out, "limit", q->limit);
        fputs("}", out);
    }
    close_list(out, indent, n);
}

static void
print_meters(FILE *out, int indent, const struct conf *c, const int *idx,
             size_t n)
{
    fprintf(out, "%*smeters = (", indent, "");
    for (size_t i = 0; i < n; i++) {
        const struct conf_meter *m = &c->meters[idx[i]];
        const struct conf_bus *b = &c->buses[m->bus];
        fprintf(out, "%s\n%*s{ ", i ? "," : "", indent + 2, "");
        kv_str(out, "id", m->id);
        kv_str(out, "bus", b->id);
        kv_int(out, "slave", m->slave);
        kv_str(out, "profile", c->profiles[m->profile].id);
        kv_num(out, "interval", m->interval);
        fputs("ratios = { ", out);
        kv_num(out, "ct", m->ct);
        kv_num(out, "pt", m->pt);
        fputs("}; ", out);
        kv_int(out, "max_gap", m->max_gap >= 0 ? m->max_gap : b->max_gap);
        kv_int(out, "max_regs", m->max_regs > 0 ? m->max_regs : b->max_regs);
        fputs("}", out);
    }
    close_list(out, indent, n);
}

static void
print_park(FILE *out, const struct conf *c)
{
    fputs("park = {\n", out);
    line_str(out, 2, "id", c->park.id);
    line_str(out, 2, "name", c->park.name);
    line_str(out, 2, "timezone", c->park.timezone);
    if (c->park.has_wwtp) {
        fputs("  wwtp = { ", out);
        kv_num(out, "capacity_m3_per_day", c->park.wwtp_capacity_m3_per_day);
        if (c->park.has_wwtp_inflow)
            kv_str(out, "inflow", c->park.wwtp_inflow.text);
        fputs("};\n", out);
    }
    print_quotas(out, 2, c->park.quotas, c->park.nquotas);
    print_meters(out, 2, c, c->park.meters, c->park.nmeters);
    fputs("};\n", out);
}

static void
print_mqtt(FILE *out, const struct conf *c)
{
    fputs("mqtt = {\n", out);
    line_str(out, 2, "host", c->mqtt.host);
    line_int(out, 2, "port", c->mqtt.port);
    line_str(out, 2, "prefix", c->mqtt.prefix);
    line_int(out, 2, "qos", c->mqtt.qos);
    line_int(out, 2, "keepalive", c->mqtt.keepalive);
    line_str(out, 2, "client_id", c->mqtt.client_id);
    if (c->mqtt.username)
        line_str(out, 2, "username", c->mqtt.username);
    if (c->mqtt.password_file)
        line_str(out, 2, "password_file", c->mqtt.password_file);
    if (c->mqtt.tls) {
        fputs("  tls = {\n", out);
        if (c->mqtt.ca_file)
            line_str(out, 4, "ca_file", c->mqtt.ca_file);
        if (c->mqtt.ca_path)
            line_str(out, 4, "ca_path", c->mqtt.ca_path);
        if (c->mqtt.cert_file)
            line_str(out, 4, "cert_file", c->mqtt.cert_file);
        if (c->mqtt.key_file)
            line_str(out, 4, "key_file", c->mqtt.key_file);
        fprintf(out, "    insecure = %s;\n",
                c->mqtt.tls_insecure ? "true" : "false");
        fputs("  };\n", out);
    }
    fputs("};\n", out);
}

static void
print_storage(FILE *out, const struct conf *c)
{
    fputs("storage = {\n", out);
    line_str(out, 2, "state_dir", c->storage.state_dir);
    line_str(out, 2, "rrd_dir", c->storage.rrd_dir);
    line_int(out, 2, "rrd_step", c->storage.rrd_step);
    line_int(out, 2, "rrd_flush", c->storage.rrd_flush);
    if (c->storage.rrdcached)
        line_str(out, 2, "rrdcached", c->storage.rrdcached);
    fputs("};\n", out);
    fputs("control = {\n", out);
    line_str(out, 2, "socket", c->control.socket);
    fputs("};\n", out);
}

static void
print_buses(FILE *out, const struct conf *c)
{
    fputs("buses = (", out);
    for (size_t i = 0; i < c->nbuses; i++) {
        const struct conf_bus *b = &c->buses[i];
        fprintf(out, "%s\n  { ", i ? "," : "");
        kv_str(out, "id", b->id);
        if (b->kind == BUS_TCP) {
            fputs("tcp = { ", out);
            kv_str(out, "host", b->host);
            kv_int(out, "port", b->port);
        } else {
            fputs("rtu = { ", out);
            kv_str(out, "device", b->device);
            kv_int(out, "baud", b->baud);
            char parity[2] = {b->parity, '\0'};
            kv_str(out, "parity", parity);
            kv_int(out, "data_bits", b->data_bits);
            kv_int(out, "stop_bits", b->stop_bits);
        }
        fputs("};\n    ", out);
        kv_int(out, "timeout_ms", b->timeout_ms);
        kv_int(out, "retries", b->retries);
        kv_int(out, "frame_gap_ms", b->frame_gap_ms);
        kv_int(out, "max_gap", b->max_gap);
        kv_int(out, "max_regs", b->max_regs);
        fputs("}", out);
    }
    close_list(out, 0, c->nbuses);
}

static void
print_point(FILE *out, const struct conf_point *p)
{
    fputs("{ ", out);
    kv_str(out, "name", p->name);
    kv_str(out, "kind", conf_kind_name(p->kind));
    if (p->kind == KIND_CONCENTRATION)
        kv_str(out, "pollutant", conf_pollutant_name(p->pollutant));
    kv_str(out, "unit", p->unit);
    kv_str(out, "table", cname_table(p->table));
    fprintf(out, "address = 0x%04X; ", (unsigned)p->address);
    kv_str(out, "type", conf_type_name(p->type));
    /* int32+float32 is two 32-bit values: its order is a 4-byte name. */
    int width = p->type == TYPE_INT32_FLOAT32 ? 2 : conf_type_width(p->type);
    kv_str(out, "order", cname_order(p->order, width == 4));
    kv_num(out, "scale", p->scale);
    kv_num(out, "offset", p->offset);
    if (p->has_min)
        kv_num(out, "min", p->min);
    if (p->has_max)
        kv_num(out, "max", p->max);
    if (p->has_max_rate)
        kv_num(out, "max_rate", p->max_rate);
    if (p->ratio)
        kv_str(out, "ratio",
               p->ratio == RATIO_CT   ? "ct"
               : p->ratio == RATIO_PT ? "pt"
                                      : "ct*pt");
    fputs("}", out);
}

static void
print_profiles(FILE *out, const struct conf *c)
{
    fputs("profile_dirs = [ ];\n", out);
    fputs("profiles = (", out);
    bool first = true;
    for (size_t i = 0; i < c->nprofiles; i++) {
        bool used = false;
        for (size_t m = 0; m < c->nmeters && !used; m++)
            used = c->meters[m].profile == (int)i;
        if (!used)
            continue;
        const struct conf_profile *p = &c->profiles[i];
        fprintf(out, "%s\n  { ", first ? "" : ",");
        first = false;
        kv_str(out, "id", p->id);
        fputs("points = (", out);
        for (size_t k = 0; k < p->npoints; k++) {
            fprintf(out, "%s\n      ", k ? "," : "");
            print_point(out, &p->points[k]);
        }
        fputs("\n    ); }", out);
    }
    close_list(out, 0, !first);
}

static void
print_outlet(FILE *out, const struct conf_outlet *o)
{
    fputs("{ ", out);
    kv_str(out, "id", o->id);
    kv_str(out, "volume", o->volume.text);
    bool any = false;
    for (int p = 0; p < POLL_COUNT; p++)
        any |= o->has_conc[p];
    if (any) {
        fputs("concentrations = { ", out);
        for (int p = 0; p < POLL_COUNT; p++)
            if (o->has_conc[p])
                kv_str(out, conf_pollutant_name((enum conf_pollutant)p),
                       o->conc[p].text);
        fputs("}; ", out);
    }
    any = false;
    for (int p = 0; p < POLL_COUNT; p++)
        any |= o->has_limit[p];
    if (any) {
        fputs("limits_mg_l = { ", out);
        for (int p = 0; p < POLL_COUNT; p++)
            if (o->has_limit[p])
                kv_num(out, conf_pollutant_name((enum conf_pollutant)p),
                       o->limit_mg_l[p]);
        fputs("}; ", out);
    }
    fputs("}", out);
}

static void
print_enterprises(FILE *out, const struct conf *c)
{
    fputs("enterprises = (", out);
    for (size_t i = 0; i < c->nenterprises; i++) {
        const struct conf_enterprise *e = &c->enterprises[i];
        fprintf(out, "%s\n  {\n", i ? "," : "");
        line_str(out, 4, "id", e->id);
        line_str(out, 4, "name", e->name);
        line_num(out, 4, "land_mu", e->land_mu);
        print_meters(out, 4, c, e->meters, e->nmeters);
        fputs("    outlets = (", out);
        for (size_t k = 0; k < e->noutlets; k++) {
            fprintf(out, "%s\n      ", k ? "," : "");
            print_outlet(out, &e->outlets[k]);
        }
        close_list(out, 4, e->noutlets);
        print_quotas(out, 4, e->quotas, e->nquotas);
        fputs("    value_added = (", out);
        for (size_t k = 0; k < e->nvalue_added; k++) {
            fprintf(out, "%s\n      { ", k ? "," : "");
            kv_str(out, "period", e->value_added[k].period);
            kv_num(out, "yuan", e->value_added[k].yuan);
            fputs("}", out);
        }
        close_list(out, 4, e->nvalue_added);
        fputs("  }", out);
    }
    close_list(out, 0, c->nenterprises);
}

static void
print_rest(FILE *out, const struct conf *c)
{
    fputs("alerts = {\n", out);
    line_num(out, 2, "warn", c->alerts.warn);
    line_num(out, 2, "critical", c->alerts.critical);
    line_num(out, 2, "hysteresis", c->alerts.hysteresis);
    line_int(out, 2, "forecast_window_days", c->alerts.forecast_window_days);
    if (c->alerts.exec) {
        fputs("  exec = [ ", out);
        for (char **a = c->alerts.exec; *a; a++) {
            if (a != c->alerts.exec)
                fputs(", ", out);
            put_str(out, *a);
        }
        fputs(" ];\n", out);
    }
    line_int(out, 2, "exec_timeout", c->alerts.exec_timeout);
    fputs("};\n", out);
    fputs("energy_factors = {\n", out);
    line_num(out, 2, "electricity_kgce_per_kwh",
             c->energy_factors.electricity_kgce_per_kwh);
    line_num(out, 2, "gas_kgce_per_m3", c->energy_factors.gas_kgce_per_m3);
    line_num(out, 2, "steam_kgce_per_t", c->energy_factors.steam_kgce_per_t);
    line_num(out, 2, "heat_kgce_per_gj", c->energy_factors.heat_kgce_per_gj);
    fputs("};\n", out);
    fputs("outbox = {\n", out);
    line_num(out, 2, "max_mb", c->outbox.max_mb);
    line_int(out, 2, "max_age_days", c->outbox.max_age_days);
    line_int(out, 2, "hold_ms", c->outbox.hold_ms);
    fputs("};\n", out);
    if (c->run_as)
        line_str(out, 0, "run_as", c->run_as);
    if (c->http.enabled) {
        fputs("http = {\n", out);
        line_str(out, 2, "listen", c->http.listen);
        fputs("  tokens = (", out);
        for (size_t i = 0; i < c->http.ntokens; i++) {
            fprintf(out, "%s\n    { ", i ? "," : "");
            kv_str(out, "role", c->http.tokens[i].role);
            kv_str(out, "sha256", c->http.tokens[i].sha256);
            fputs("}", out);
        }
        close_list(out, 2, c->http.ntokens);
        fputs("};\n", out);
    }
}

void
conf_print(const struct conf *c, FILE *out)
{
    fputs("# ecmond configuration, normalized (ecmond -n -v)\n", out);
    print_park(out, c);
    print_mqtt(out, c);
    print_storage(out, c);
    print_buses(out, c);
    print_profiles(out, c);
    print_enterprises(out, c);
    print_rest(out, c);
}

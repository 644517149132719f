/* The daemon's own sections: mqtt, storage, control, alerts,
 * energy_factors, outbox, run_as and http, each with its defaults. */
#include <ctype.h>
#include <string.h>

#include "config/loader.h"

static const char *const mqtt_keys[] = {
    "host",      "port",     "prefix",        "qos", "keepalive",
    "client_id", "username", "password_file", "tls", NULL};
static const char *const tls_keys[] = {"ca_file",  "ca_path",  "cert_file",
                                       "key_file", "insecure", NULL};

static bool
topic_level_ok(const char *prefix)
{
    if (*prefix == '\0' || prefix[0] == '/' ||
        prefix[strlen(prefix) - 1] == '/' || strstr(prefix, "//"))
        return false;
    return strpbrk(prefix, "+#") == NULL;
}

void
cload_mqtt(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = cload_get_group(x, root, "mqtt");
    const config_setting_t *t = cload_get_group(x, g, "tls");
    if (g)
        cload_check_keys(x, g, "mqtt", mqtt_keys);
    c->mqtt.tls = t != NULL;
    c->mqtt.host = cload_strdup("127.0.0.1");
    c->mqtt.port = c->mqtt.tls ? 8883 : 1883;
    c->mqtt.prefix = cload_strdup("ecmon");
    c->mqtt.qos = 1;
    c->mqtt.keepalive = 30;
    c->mqtt.client_id = cload_asprintf("ecmond-%s", c->park.id);
    const config_setting_t *s;
    cload_get_nonempty(x, g, "host", "mqtt", false, &c->mqtt.host);
    cload_get_int(x, g, "port", "mqtt", false, 1, 65535, &c->mqtt.port, NULL);
    const char *v = cload_get_string(x, g, "prefix", "mqtt", false, &s);
    if (v && !topic_level_ok(v))
        cload_err(x, s,
                  "'prefix' must be a topic without '+', '#', empty levels or "
                  "leading/trailing '/', not '%s'",
                  v);
    else if (v)
        cload_strset(&c->mqtt.prefix, v);
    cload_get_int(x, g, "qos", "mqtt", false, 0, 2, &c->mqtt.qos, NULL);
    cload_get_int(x, g, "keepalive", "mqtt", false, 5, 65535,
                  &c->mqtt.keepalive, NULL);
    v = cload_get_string(x, g, "client_id", "mqtt", false, &s);
    if (v && (*v == '\0' || strlen(v) > 65535))
        cload_err(x, s, "'client_id' must not be empty");
    else if (v)
        cload_strset(&c->mqtt.client_id, v);
    cload_get_strdup(x, g, "username", "mqtt", false, &c->mqtt.username);
    cload_get_path(x, g, "password_file", "mqtt", false,
                   &c->mqtt.password_file);
    if (cload_member(g, "password_file") && !cload_member(g, "username"))
        cload_err(x, cload_member(g, "password_file"),
                  "'password_file' needs 'username'");
    if (t == NULL)
        return;
    cload_check_keys(x, t, "tls", tls_keys);
    cload_get_path(x, t, "ca_file", "tls", false, &c->mqtt.ca_file);
    cload_get_path(x, t, "ca_path", "tls", false, &c->mqtt.ca_path);
    cload_get_path(x, t, "cert_file", "tls", false, &c->mqtt.cert_file);
    cload_get_path(x, t, "key_file", "tls", false, &c->mqtt.key_file);
    cload_get_bool(x, t, "insecure", &c->mqtt.tls_insecure);
    if (!cload_member(t, "ca_file") && !cload_member(t, "ca_path"))
        cload_err(x, t, "'tls' needs 'ca_file' or 'ca_path'");
    if (!cload_member(t, "cert_file") != !cload_member(t, "key_file"))
        cload_err(x, t,
                  "'tls' needs both 'cert_file' and 'key_file', or neither");
}

static const char *const storage_keys[] = {"state_dir", "rrd_dir",   "rrd_step",
                                           "rrdcached", "rrd_flush", NULL};

void
cload_storage(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = cload_get_group(x, root, "storage");
    if (g)
        cload_check_keys(x, g, "storage", storage_keys);
    c->storage.state_dir = cload_strdup("/var/lib/ecmond");
    c->storage.rrd_step = 60;
    cload_get_path(x, g, "state_dir", "storage", false, &c->storage.state_dir);
    cload_get_path(x, g, "rrd_dir", "storage", false, &c->storage.rrd_dir);
    if (c->storage.rrd_dir == NULL)
        c->storage.rrd_dir = cload_asprintf("%s/rrd", c->storage.state_dir);
    cload_get_int(x, g, "rrd_step", "storage", false, 1, 86400,
                  &c->storage.rrd_step, NULL);
    c->storage.rrd_flush = 60;
    cload_get_int(x, g, "rrd_flush", "storage", false, 0, 3600,
                  &c->storage.rrd_flush, NULL);
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, "rrdcached", "storage", false, &s);
    if (v && *v == '\0')
        cload_err(x, s,
                  "'rrdcached' must not be empty (leave it out to write "
                  "files directly)");
    else if (v)
        c->storage.rrdcached = cload_strdup(v);
}

static const char *const control_keys[] = {"socket", NULL};

void
cload_control(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = cload_get_group(x, root, "control");
    if (g)
        cload_check_keys(x, g, "control", control_keys);
    c->control.socket = cload_strdup("/run/ecmond/ecmond.sock");
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, "socket", "control", false, &s);
    if (v == NULL)
        return;
    if (v[0] != '/')
        cload_err(x, s, "'socket' must be an absolute path, not '%s'", v);
    else if (strlen(v) > 107)
        cload_err(x, s,
                  "'socket' is too long for a unix socket (at most 107 "
                  "bytes)");
    else
        cload_strset(&c->control.socket, v);
}

static const char *const alerts_keys[] = {
    "warn", "critical",     "hysteresis", "forecast_window_days",
    "exec", "exec_timeout", NULL};

void
cload_alerts(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    c->alerts.warn = 0.80;
    c->alerts.critical = 0.95;
    c->alerts.hysteresis = 0.02;
    c->alerts.forecast_window_days = 7;
    c->alerts.exec_timeout = 10;
    const config_setting_t *g = cload_get_group(x, root, "alerts");
    if (g == NULL)
        return;
    cload_check_keys(x, g, "alerts", alerts_keys);
    const config_setting_t *s, *sc, *sh;
    double warn = c->alerts.warn, crit = c->alerts.critical,
           hyst = c->alerts.hysteresis;
    cload_get_num(x, g, "warn", "alerts", false, &warn, &s);
    cload_get_num(x, g, "critical", "alerts", false, &crit, &sc);
    cload_get_num(x, g, "hysteresis", "alerts", false, &hyst, &sh);
    if (warn <= 0)
        cload_err(x, s ? s : g, "'warn' must be > 0, not %g", warn);
    else if (warn >= crit)
        cload_err(x,
                  s    ? s
                  : sc ? sc
                       : g,
                  "'warn' (%g) must be below 'critical' "
                  "(%g)",
                  warn, crit);
    else if (crit >= 1)
        cload_err(x, sc ? sc : g,
                  "'critical' must be below 1 (1 is 'exceeded'), "
                  "not %g",
                  crit);
    c->alerts.warn = warn;
    c->alerts.critical = crit;
    if (hyst < 0 || hyst >= warn)
        cload_err(x, sh ? sh : g,
                  "'hysteresis' must be >= 0 and below "
                  "'warn' (%g), not %g",
                  warn, hyst);
    c->alerts.hysteresis = hyst;
    cload_get_int(x, g, "forecast_window_days", "alerts", false, 1, 366,
                  &c->alerts.forecast_window_days, NULL);
    size_t n;
    c->alerts.exec = cload_get_strings(x, g, "exec", &n, NULL);
    if (c->alerts.exec && n == 0) {
        cload_err(x, cload_member(g, "exec"), "'exec' must name a program");
    } else if (c->alerts.exec && c->alerts.exec[0][0] != '/') {
        cload_err(x, cload_member(g, "exec"),
                  "'exec' must start with an absolute path "
                  "(no shell, no PATH search), not '%s'",
                  c->alerts.exec[0]);
    }
    cload_get_int(x, g, "exec_timeout", "alerts", false, 1, 3600,
                  &c->alerts.exec_timeout, NULL);
}

static const char *const factor_keys[] = {"electricity_kgce_per_kwh",
                                          "gas_kgce_per_m3", "steam_kgce_per_t",
                                          "heat_kgce_per_gj", NULL};

void
cload_energy_factors(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    c->energy_factors.electricity_kgce_per_kwh = 0.1229;
    c->energy_factors.gas_kgce_per_m3 = 1.2143;
    c->energy_factors.steam_kgce_per_t = 128.6;
    c->energy_factors.heat_kgce_per_gj = 34.12;
    const config_setting_t *g = cload_get_group(x, root, "energy_factors");
    if (g == NULL)
        return;
    cload_check_keys(x, g, "energy_factors", factor_keys);
    cload_get_positive(x, g, factor_keys[0], "energy_factors", false, false,
                       &c->energy_factors.electricity_kgce_per_kwh);
    cload_get_positive(x, g, factor_keys[1], "energy_factors", false, false,
                       &c->energy_factors.gas_kgce_per_m3);
    cload_get_positive(x, g, factor_keys[2], "energy_factors", false, false,
                       &c->energy_factors.steam_kgce_per_t);
    cload_get_positive(x, g, factor_keys[3], "energy_factors", false, false,
                       &c->energy_factors.heat_kgce_per_gj);
}

static const char *const outbox_keys[] = {"max_mb", "max_age_days", "hold_ms",
                                          NULL};

void
cload_outbox(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    c->outbox.max_mb = 256;
    c->outbox.max_age_days = 30;
    c->outbox.hold_ms = 1000;
    const config_setting_t *g = cload_get_group(x, root, "outbox");
    if (g == NULL)
        return;
    cload_check_keys(x, g, "outbox", outbox_keys);
    cload_get_positive(x, g, "max_mb", "outbox", false, false,
                       &c->outbox.max_mb);
    cload_get_int(x, g, "max_age_days", "outbox", false, 1, 3650,
                  &c->outbox.max_age_days, NULL);
    cload_get_int(x, g, "hold_ms", "outbox", false, 0, 60000,
                  &c->outbox.hold_ms, NULL);
}

void
cload_run_as(struct cload *x, const config_setting_t *root)
{
    const config_setting_t *s;
    const char *v = cload_get_string(x, root, "run_as", "", false, &s);
    if (v == NULL)
        return;
    bool ok = *v != '\0' && *v != '-' && strlen(v) <= 32;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            ok = false;
    if (!ok)
        cload_err(x, s, "'run_as' must be a user name, not '%s'", v);
    else
        x->conf->run_as = cload_strdup(v);
}

/* "host:port" with a port in 1..65535; host may be [v6]. */
static bool
is_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL || colon == v || colon[1] == '\0')
        return false;
    if (v[0] == '[' && colon[-1] != ']')
        return false;
    if (v[0] != '[' && memchr(v, ':', (size_t)(colon - v)))
        return false;
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || port > 65535)
            return false;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

static const char *const http_keys[] = {"listen", "tokens", NULL};
static const char *const token_keys[] = {"role", "sha256", NULL};

static void
load_token(struct cload *x, const config_setting_t *e, struct conf_token *t)
{
    const config_setting_t *s;
    t->src = cload_src(x, e);
    cload_check_keys(x, e, "token", token_keys);
    const char *role = cload_get_string(x, e, "role", "token", true, &s);
    if (role) {
        if (strcmp(role, "staff") != 0 && strncmp(role, "enterprise:", 11) != 0)
            cload_err(x, s,
                      "'role' must be \"staff\" or \"enterprise:<id>\", "
                      "not '%s'",
                      role);
        else if (strlen(role) >= sizeof(t->role))
            cload_err(x, s, "'role' is too long: '%.40s...'", role);
        else
            strcpy(t->role, role);
    }
    const char *h = cload_get_string(x, e, "sha256", "token", true, &s);
    if (h) {
        bool ok = strlen(h) == 64;
        for (size_t k = 0; ok && k < 64; k++)
            ok = isxdigit((unsigned char)h[k]) != 0;
        if (!ok)
            cload_err(x, s,
                      "'sha256' must be 64 hex digits (sha256sum of the "
                      "token), not '%.70s'",
                      h);
        else
            for (size_t k = 0; k <= 64; k++)
                t->sha256[k] = (char)tolower((unsigned char)h[k]);
    }
}

void
cload_http(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *g = cload_get_group(x, root, "http");
    if (g == NULL)
        return;
    c->http.enabled = true;
    cload_check_keys(x, g, "http", http_keys);
    const config_setting_t *s;
    const char *v = cload_get_string(x, g, "listen", "http", false, &s);
    if (v && !is_listen(v))
        cload_err(x, s, "'listen' must be \"host:port\", not '%s'", v);
    c->http.listen = cload_strdup(v && is_listen(v) ? v : "127.0.0.1:8080");
    const config_setting_t *l = cload_get_list(x, g, "tokens");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    c->http.tokens = cload_calloc((size_t)n, sizeof(*c->http.tokens));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "token");
        if (e)
            load_token(x, e, &c->http.tokens[c->http.ntokens++]);
    }
}

/* JSON views of the daemon's state for ecmonctl and the HTTP API. */
#include "daemon/views.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "daemon/ecmond.h"
#include "daemon/engine.h"
#include "daemon/memtrim.h"
#include "daemon/mqtt_pub.h"
#include "daemon/outbox.h"
#include "drivers/pollers.h"

bool
view_may_see(const char *only, const char *owner)
{
    return only == NULL || (owner != NULL && strcmp(only, owner) == 0);
}

/* A JSON number, or null for NaN and infinities (jansson refuses them). */
static json_t *
jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *
view_whoami(struct ecmond *d, const char *role)
{
    const struct conf *c = d->conf;
    const char *only = strncmp(role, "enterprise:", 11) == 0 ? role + 11 : NULL;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "role",
                          only ? "enterprise" : "staff", "park", c->park.id,
                          "park_name", c->park.name ? c->park.name : "",
                          "timezone", c->park.timezone);
    if (j && only)
        json_object_set_new(j, "enterprise", json_string(only));
    return j;
}

static json_t *
quotas_json(const struct conf_quota *q, size_t n)
{
    json_t *a = json_array();
    char buf[64];
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:f}", "id", q[i].id, "measure",
                         conf_measure_name(&q[i], buf, sizeof buf), "period",
                         conf_period_name(q[i].period), "limit", q[i].limit));
    return a;
}

static json_t *
meter_ids(const struct conf *c, const int *idx, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(c->meters[idx[i]].id));
    return a;
}

json_t *
view_park(struct ecmond *d, const char *only)
{
    const struct conf *c = d->conf;
    json_t *ents = json_array();
    for (size_t i = 0; i < c->nenterprises; i++) {
        const struct conf_enterprise *e = &c->enterprises[i];
        if (!view_may_see(only, e->id))
            continue;
        json_array_append_new(
            ents, json_pack("{s:s, s:s, s:o, s:o}", "id", e->id, "name",
                            e->name ? e->name : e->id, "quotas",
                            quotas_json(e->quotas, e->nquotas), "meters",
                            meter_ids(c, e->meters, e->nmeters)));
    }
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:o, s:{s:f, s:f}}", "park", c->park.id,
                  "park_name", c->park.name ? c->park.name : "", "timezone",
                  c->park.timezone, "enterprises", ents, "levels", "warn",
                  c->alerts.warn, "critical", c->alerts.critical);
    if (j && only == NULL) {
        json_object_set_new(j, "wwtp", json_boolean(c->park.has_wwtp));
        json_object_set_new(j, "park_quotas",
                            quotas_json(c->park.quotas, c->park.nquotas));
        json_object_set_new(j, "park_meters",
                            meter_ids(c, c->park.meters, c->park.nmeters));
    }
    return j;
}

json_t *
view_status(struct ecmond *d, const char *only)
{
    size_t online = 0, nmeters = 0;
    for (size_t i = 0; i < d->conf->nmeters; i++) {
        if (!view_may_see(only, d->meters[i].owner))
            continue;
        nmeters++;
        online += d->meters[i].online == 1;
    }
    if (only != NULL)
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "version",
                         ECMON_VERSION, "park", d->conf->park.id, "park_name",
                         d->conf->park.name ? d->conf->park.name : "",
                         "enterprise", only, "meters", (json_int_t)nmeters,
                         "meters_online", (json_int_t)online, "timezone",
                         d->conf->park.timezone);
    struct mqttp_stats ms = {0};
    struct outbox_stats os = {.oldest = NAN};
    if (d->mqtt)
        mqttp_stats(d->mqtt, &ms);
    if (d->outbox)
        outbox_stats(d->outbox, &os);
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:{s:b, s:s, s:i, s:I, s:I, s:I, s:I}, "
        "s:{s:I, s:I, s:I, s:I, s:o, s:f, s:i}, s:s, s:s}",
        "version", ECMON_VERSION, "park", d->conf->park.id, "park_name",
        d->conf->park.name ? d->conf->park.name : "", "pid",
        (json_int_t)getpid(), "started", d->started, "uptime",
        real_now() - d->started, "buses", (json_int_t)d->conf->nbuses, "meters",
        (json_int_t)nmeters, "meters_online", (json_int_t)online, "samples",
        (json_int_t)d->samples, "queue_dropped",
        (json_int_t)sampleq_dropped(&d->q), "reloads", (json_int_t)d->reloads,
        "mqtt", "connected", ms.connected, "host", d->conf->mqtt.host, "port",
        d->conf->mqtt.port, "published", (json_int_t)ms.published, "dropped",
        (json_int_t)ms.dropped, "unacked", (json_int_t)ms.unacked, "connects",
        (json_int_t)ms.connects, "outbox", "queued", (json_int_t)os.queued,
        "bytes", (json_int_t)os.bytes, "inflight", (json_int_t)os.inflight,
        "dropped", (json_int_t)os.dropped, "oldest", jnum(os.oldest), "max_mb",
        d->conf->outbox.max_mb, "max_age_days", d->conf->outbox.max_age_days,
        "config", d->conf_path, "timezone", d->conf->park.timezone);
}

static json_t *
meter_json(struct ecmond *d, size_t i)
{
    const struct conf *c = d->conf;
    const struct conf_meter *cm = &c->meters[i];
    const struct conf_profile *p = &c->profiles[cm->profile];
    struct meter_rt *m = &d->meters[i];
    struct mpoll_stats st = {.online = -1};
    if (d->pollers)
        pollers_meter_stats(d->pollers, (int)i, &st);

    json_t *points = json_object();
    for (size_t k = 0; k < p->npoints; k++) {
        char flag[2] = {m->last_flag[k] ? m->last_flag[k] : '-', 0};
        json_object_set_new(points, p->points[k].name,
                            json_pack("{s:o, s:s, s:s}", "value",
                                      jnum(m->last[k]), "unit",
                                      p->points[k].unit, "flag", flag));
    }
    const char *state = st.online == 1   ? "online"
                        : st.online == 0 ? "offline"
                                         : "unknown";
    double rpp = st.polls ? (double)st.requests / (double)st.polls : 0;
    return json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:f, s:s, s:s, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:f, s:i, s:i, s:o, s:o}",
        "id", cm->id, "owner", m->owner, "bus", c->buses[cm->bus].id, "slave",
        cm->slave, "profile", p->id, "interval", cm->interval, "state", state,
        "reason", st.online == 0 ? m->reason : "", "polls",
        (json_int_t)st.polls, "skipped", (json_int_t)st.skipped, "late",
        (json_int_t)st.late, "errors", (json_int_t)st.errors, "requests",
        (json_int_t)st.requests, "exceptions", (json_int_t)st.exceptions,
        "requests_per_poll", rpp, "plan_requests", (int)st.nreqs, "dead_points",
        (int)st.dead, "last_ok",
        st.last_ok > 0 ? json_real(st.last_ok) : json_null(), "points", points);
}

/* Is meter i in the answer for `sel` (NULL: all) seen by `only`? */
static bool
meter_selected(struct ecmond *d, size_t i, const char *sel, const char *only)
{
    return view_may_see(only, d->meters[i].owner) &&
           (sel == NULL || strcmp(sel, d->conf->meters[i].id) == 0 ||
            strcmp(sel, d->meters[i].owner) == 0);
}

static json_t *
no_such_meter(void)
{
    return json_pack("{s:s}", "error", "no such meter or enterprise");
}

/* The quota payloads are the MQTT ones, so ecmonctl, HTTP and MQTT
 * agree. */
static json_t *
quota_json(const struct engine_quota *q)
{
    char buf[1024];
    if (engine_quota_payload(q, true, buf, sizeof buf) < 0)
        return json_object();
    json_t *o = json_loads(buf, 0, NULL);
    if (o == NULL)
        return json_object();
    json_object_set_new(o, "enterprise", json_string(q->owner));
    json_object_set_new(o, "quota", json_string(q->q->id));
    return o;
}

json_t *
view_usage(struct ecmond *d, const char *owner, const char *only)
{
    const struct engine_quota *q;
    size_t n = engine_quotas(d->engine, &q);
    bool known = owner == NULL || strcmp(owner, CONF_PARK_ID) == 0;
    for (size_t i = 0; owner && i < d->conf->nenterprises; i++)
        known |= strcmp(d->conf->enterprises[i].id, owner) == 0;
    if (!known)
        return json_pack("{s:s}", "error", "no such enterprise");
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        if (q[i].evaluated && view_may_see(only, q[i].owner) &&
            (owner == NULL || strcmp(owner, q[i].owner) == 0))
            json_array_append_new(a, quota_json(&q[i]));
    return json_pack("{s:o, s:s}", "usage", a, "timezone",
                     d->conf->park.timezone);
}

json_t *
view_alerts(struct ecmond *d, const char *only)
{
    const struct engine_quota *q;
    const struct engine_conc *k;
    size_t nq = engine_quotas(d->engine, &q);
    size_t nk = engine_concs(d->engine, &k);
    json_t *a = json_array();
    for (size_t i = 0; i < nq; i++)
        if (q[i].state != QS_OK && view_may_see(only, q[i].owner))
            json_array_append_new(a, quota_json(&q[i]));
    for (size_t i = 0; i < nk; i++) {
        const char *ent = d->conf->enterprises[k[i].enterprise].id;
        char buf[1024];
        if (k[i].state == QS_OK || !view_may_see(only, ent) ||
            engine_conc_payload(d->engine, &k[i], buf, sizeof buf) < 0)
            continue;
        /* The MQTT alert payload, as for quotas. */
        json_t *o = json_loads(buf, 0, NULL);
        if (o == NULL)
            continue;
        json_object_set_new(o, "enterprise", json_string(ent));
        json_object_set_new(o, "quota", json_string(k[i].key));
        json_array_append_new(a, o);
    }
    return json_pack("{s:o, s:s}", "alerts", a, "timezone",
                     d->conf->park.timezone);
}

json_t *
view_capacity(struct ecmond *d)
{
    const struct engine_capacity *cp = engine_capacity(d->engine);
    if (!cp->enabled)
        return json_pack("{s:s}", "error",
                         "no treatment plant (park.wwtp) configured");
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "capacity_m3_day",
                     jnum(cp->capacity), "today_m3", jnum(cp->today),
                     "utilization", jnum(cp->utilization), "peak30_m3",
                     jnum(cp->peak30), "headroom_m3_day", jnum(cp->headroom));
}

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* An answer being written by json_dump_callback, with room for the
 * newline and NUL. */
struct answer {
    char *p;
    size_t len, cap;
};

/* Make the buffer hold cap bytes (never less than it holds). */
static int
answer_reserve(struct answer *a, size_t cap)
{
    if (cap <= a->cap)
        return 0;
    char *p = realloc(a->p, cap);
    if (p == NULL)
        return -1;
    a->p = p;
    a->cap = cap;
    return 0;
}

static int
answer_put(const char *buf, size_t size, void *arg)
{
    struct answer *a = arg;
    if (a->cap - a->len < size + 2) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap - a->len < size + 2)
            cap *= 2;
        if (answer_reserve(a, cap) == -1)
            return -1;
    }
    memcpy(a->p + a->len, buf, size);
    a->len += size;
    return 0;
}

/* The answer with its newline, its unused end given back; NULL (and
 * freed) when rc is -1. */
static char *
answer_end(struct answer *a, int rc)
{
    if (rc == -1 || a->p == NULL) {
        free(a->p);
        return NULL;
    }
    a->p[a->len] = '\n';
    a->p[a->len + 1] = '\0';
    char *t = realloc(a->p, a->len + 2);
    return t != NULL ? t : a->p;
}

char *
view_dump(json_t *j)
{
    if (j == NULL)
        return NULL;
    /* Written into the answer itself: json_dumps copies its buffer once
     * more, 5 MB more at the peak of the answer about 10,000 meters. */
    struct answer a = {0};
    int rc = json_dump_callback(j, answer_put, &a, DUMP_FLAGS);
    json_decref(j);
    memtrim(a.len); /* the tree, freed: several times the answer */
    return answer_end(&a, rc);
}

char *
view_meters_dump(struct ecmond *d, const char *sel, const char *only,
                 bool *found)
{
    struct answer a = {0};
    size_t n = 0, total = 0;
    for (size_t i = 0; i < d->conf->nmeters; i++)
        total += meter_selected(d, i, sel, only);
    int rc = answer_put("{\"meters\":[", strlen("{\"meters\":["), &a);
    for (size_t i = 0; rc == 0 && i < d->conf->nmeters; i++) {
        if (!meter_selected(d, i, sel, only))
            continue;
        json_t *m = meter_json(d, i);
        if (m == NULL || (n++ > 0 && answer_put(",", 1, &a) == -1))
            rc = -1;
        else
            rc = json_dump_callback(m, answer_put, &a, DUMP_FLAGS);
        json_decref(m);
        /* Room for the rest at the first meter's size and a quarter more,
         * at once: doubling to 5 MB would hold up to three times that
         * while it grows and is copied. */
        if (rc == 0 && n == 1 && total > 1)
            rc = answer_reserve(&a, a.len + a.len * total / 4 * 5);
    }
    *found = sel == NULL || n > 0;
    if (rc == 0 && !*found) {
        free(a.p);
        return view_dump(no_such_meter());
    }
    if (rc == 0)
        rc = answer_put("]}", 2, &a);
    return answer_end(&a, rc);
}

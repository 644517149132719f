/* The accounting engine: samples -> ledger rows in one transaction per
 * batch; quotas, concentration limits and park capacity evaluated from the
 * ledger's hourly rows (never from RRD); alert transitions persisted so a
 * restart announces nothing that did not change. */
#include "daemon/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/accounting.h"
#include "daemon/core/topic.h"
#include "daemon/core/valueadded.h"
#include "daemon/ledger_store.h"
#include "daemon/log.h"

#define MAX_CATCHUP_HOURS 48 /* concentration hours judged after a gap */
#define PEAK_DAYS 30
#define MAX_PENDING_INCR (1u << 20) /* kept while the ledger fails */

/* An owner's value added: entries and their period labels, side by side so
 * that the entries go to va_for_span as they are. */
struct va_list_ {
    struct va_entry *v;
    char (*label)[16];
    size_t n, cap;
};

struct engine {
    const struct conf *c;
    const struct tzone *z;
    struct ledger *l;
    struct engine_out out;
    double grace;
    struct acct *acct;
    struct acct_sink sink;
    struct engine_quota *quotas;
    size_t nquotas;
    struct engine_conc *concs;
    size_t nconcs;
    struct va_list_ *va; /* per enterprise, then the park */
    struct engine_capacity cap;
    double peak_before_today; /* max daily inflow of the 29 days before */
    size_t *point_base;       /* first flat point index of each meter */
    unsigned char *dirty;     /* per flat point: save its baseline */
    unsigned *uncounted;      /* per flat point: readings in a row not
                                 counted (resets, jumps) */
    struct dirty_point {
        uint32_t meter;
        uint16_t point;
    } * dirty_list;
    size_t ndirty;
    /* What was judged, as the ledger holds it (meta "judged_hour" and
     * "conc_hour"), so that a restart neither skips nor repeats a
     * judgement: the hour of the last evaluation, and the last hour whose
     * concentration means were judged; -1 for none. */
    int64_t judged_hour, conc_hour;
};

/* ---- names ---- */

static const char *
owner_id(const struct engine *e, int ent)
{
    return ent >= 0 ? e->c->enterprises[ent].id : CONF_PARK_ID;
}

static const char *
incr_measure(const struct acct_incr *i, char *buf, size_t len)
{
    switch (i->measure) {
    case AM_EFFLUENT_M3:
        return "effluent_m3";
    case AM_REUSE_M3:
        return "reuse_m3";
    case AM_POLLUTANT_KG:
        snprintf(buf, len, "%s_kg", conf_pollutant_name(i->pollutant));
        return buf;
    case AM_CONC_M3:
        snprintf(buf, len, "%s_conc_m3", conf_pollutant_name(i->pollutant));
        return buf;
    case AM_ELECTRICITY_KWH:
        return "electricity_kwh";
    case AM_ENERGY_TCE:
        return "energy_tce";
    case AM_INFLOW_M3:
        return "inflow_m3";
    case AM_COUNT:
        break;
    }
    return "unknown";
}

static const char *const event_names[] = {
    [AE_RESET] = "reset", [AE_JUMP] = "jump", [AE_WRAP] = "wrap"};

static int
find_owner(const struct conf *c, const char *id)
{
    for (size_t i = 0; i < c->nenterprises; i++)
        if (strcmp(c->enterprises[i].id, id) == 0)
            return (int)i;
    return strcmp(id, CONF_PARK_ID) == 0 ? (int)c->nenterprises : -1;
}

/* ---- value added ---- */

static int
va_put(struct engine *e, int owner, const char *label, double yuan)
{
    struct va_list_ *vl = &e->va[owner];
    struct va_entry ent;
    if (period_parse(label, e->z, &ent.kind, &ent.start, &ent.end) == -1)
        return -1;
    ent.yuan = yuan;
    for (size_t i = 0; i < vl->n; i++)
        if (strcmp(vl->label[i], label) == 0) {
            vl->v[i] = ent;
            return 0;
        }
    if (vl->n == vl->cap) {
        size_t ncap = vl->cap ? vl->cap * 2 : 8;
        struct va_entry *nv = realloc(vl->v, ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        vl->v = nv;
        char(*nl)[16] = realloc(vl->label, ncap * sizeof *nl);
        if (nl == NULL)
            return -1;
        vl->label = nl;
        vl->cap = ncap;
    }
    snprintf(vl->label[vl->n], sizeof vl->label[vl->n], "%s", label);
    vl->v[vl->n++] = ent;
    return 0;
}

/* Value added of an owner over [from, to); the park's is its own if it has
 * any, else the sum of its enterprises'. NAN when unknown. */
static double
va_of(const struct engine *e, int owner, int64_t from, int64_t to)
{
    const struct va_list_ *vl = &e->va[owner];
    if (owner == (int)e->c->nenterprises && vl->n == 0) {
        double sum = NAN;
        for (size_t i = 0; i < e->c->nenterprises; i++) {
            double v = va_of(e, (int)i, from, to);
            if (!isnan(v))
                sum = isnan(sum) ? v : sum + v;
        }
        return sum;
    }
    return va_for_span(vl->v, vl->n, from, to, NULL);
}

static void
load_va(void *arg, const char *owner, const char *period, double yuan)
{
    struct engine *e = arg;
    int o = find_owner(e->c, owner);
    if (o >= 0)
        va_put(e, o, period, yuan);
}

/* ---- point baselines ---- */

static void
load_point(void *arg, const char *meter, const char *point, double ts,
           double value)
{
    struct engine *e = arg;
    int m = conf_find_meter(e->c, meter);
    int p = m >= 0 ? conf_find_point(e->c, m, point) : -1;
    if (p >= 0)
        acct_restore(e->acct, m, p, ts, value);
}

static void
mark_dirty(struct engine *e, const struct sample *s)
{
    size_t k = e->point_base[s->meter] + s->point;
    if (!e->dirty[k]) {
        e->dirty[k] = 1;
        e->dirty_list[e->ndirty++] = (struct dirty_point){s->meter, s->point};
    }
}

static int
save_dirty(struct engine *e, char *err, size_t errlen)
{
    const struct conf *c = e->c;
    for (size_t i = 0; i < e->ndirty; i++) {
        int m = (int)e->dirty_list[i].meter, p = e->dirty_list[i].point;
        double ts, v;
        if (acct_last(e->acct, m, p, &ts, &v) == 0 &&
            ledger_save_point(e->l, c->meters[m].id,
                              conf_meter_point(c, m, p)->name, ts, v, err,
                              errlen) == -1)
            return -1;
    }
    return 0;
}

/* After a commit: the baselines are saved, the increments written. */
static void
written(struct engine *e)
{
    for (size_t i = 0; i < e->ndirty; i++)
        e->dirty[e->point_base[e->dirty_list[i].meter] +
                 e->dirty_list[i].point] = 0;
    e->ndirty = 0;
    e->sink.nincr = e->sink.nev = 0;
}

/* A total's reading that an event keeps from counting carries the event's
 * flag. The first of a run of them is logged, the rest are only kept as
 * events, and the end of a longer run is logged once: a meter that jumps
 * on every poll must not flood the log. */
static void
judge(struct engine *e, struct sample *s, size_t first_ev)
{
    const struct conf *c = e->c;
    const char *meter = c->meters[s->meter].id;
    const char *point = conf_meter_point(c, (int)s->meter, s->point)->name;
    unsigned *run = &e->uncounted[e->point_base[s->meter] + s->point];

    if (first_ev == e->sink.nev) {
        if (*run == 0 || s->flag != FLAG_NORMAL || !isfinite(s->value))
            return; /* no run, or not a reading that counts */
        if (*run > 1)
            log_info("meter %s: %s counts again after %u readings not "
                     "counted as usage",
                     meter, point, *run);
        *run = 0;
        return;
    }
    for (size_t k = first_ev; k < e->sink.nev; k++) {
        const struct acct_event *v = &e->sink.ev[k];
        if (v->kind == AE_WRAP) {
            log_info("meter %s: %s wrapped from %.17g to %.17g; counted", meter,
                     point, v->from, v->to);
            continue;
        }
        s->flag = acct_event_flag(v->kind);
        if ((*run)++ == 0)
            log_warnx("meter %s: %s %s from %.17g to %.17g; not counted as "
                      "usage, flagged %c",
                      meter, point,
                      v->kind == AE_RESET ? "went back" : "jumped", v->from,
                      v->to, s->flag);
    }
}

/* ---- alerts ---- */

static int
fmt_num(char *buf, size_t len, double v)
{
    return topic_fmt_double(buf, len, v);
}

int
engine_quota_payload(const struct engine_quota *q, bool with_since, char *buf,
                     size_t len)
{
    char used[32], limit[32], fraction[32], expected[32], projected[32],
        exhaust[32], since[48] = "";
    fmt_num(used, sizeof used, q->r.used);
    fmt_num(limit, sizeof limit, q->limit);
    fmt_num(fraction, sizeof fraction, q->r.fraction);
    fmt_num(expected, sizeof expected, q->r.expected);
    fmt_num(projected, sizeof projected, q->r.projected);
    if (q->r.exhaust_at >= 0)
        snprintf(exhaust, sizeof exhaust, "%lld", (long long)q->r.exhaust_at);
    else
        snprintf(exhaust, sizeof exhaust, "null");
    if (with_since)
        snprintf(since, sizeof since, ",\"since\":%.3f", q->since);
    int n = snprintf(buf, len,
                     "{\"measure\":\"%s\",\"period\":\"%s\",\"used\":%s,"
                     "\"limit\":%s,\"fraction\":%s,\"expected\":%s,"
                     "\"projected\":%s,\"exhaust_at\":%s,\"state\":\"%s\","
                     "\"unit\":\"%s\"%s}",
                     q->measure, q->period, used, limit, fraction, expected,
                     projected, exhaust, quota_state_name(q->state),
                     conf_measure_unit(q->q), since);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int
engine_conc_payload(const struct engine *e, const struct engine_conc *k,
                    char *buf, size_t len)
{
    char mean[32], limit[32], fraction[32], hour[24];
    fmt_num(mean, sizeof mean, k->mean);
    fmt_num(limit, sizeof limit, k->limit);
    fmt_num(fraction, sizeof fraction, k->mean / k->limit);
    period_label(PERIOD_DAY, k->hour, e->z, hour, sizeof hour);
    long off = tz_offset(e->z, k->hour);
    int n =
        snprintf(buf, len,
                 "{\"measure\":\"%s_mg_l\",\"period\":\"%sT%02lld\","
                 "\"used\":%s,\"limit\":%s,\"fraction\":%s,"
                 "\"state\":\"%s\",\"unit\":\"mg/L\",\"since\":%.3f}",
                 conf_pollutant_name(k->pollutant), hour,
                 (long long)(((k->hour + off) % 86400 + 86400) % 86400 / 3600),
                 mean, limit, fraction, quota_state_name(k->state), k->since);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Persist and deliver one transition. */
static void
announce(struct engine *e, const char *owner, const char *name,
         enum quota_state from, enum quota_state to, double now,
         const char *payload)
{
    char key[2 * CONF_ID_MAX + 16], err[256];
    snprintf(key, sizeof key, "%s/%s", owner, name);
    if (ledger_set_alert(e->l, key, quota_state_name(to), now, payload, err,
                         sizeof err) == -1 ||
        ledger_add_alert_history(e->l, now, key, quota_state_name(from),
                                 quota_state_name(to), payload, err,
                                 sizeof err) == -1)
        log_warnx("%s", err);
    struct engine_alert a = {
        owner, name,   quota_state_name(from), quota_state_name(to),
        now,   payload};
    if (e->out.alert)
        e->out.alert(e->out.arg, &a);
}

static enum quota_state
state_from_name(const char *s)
{
    for (int i = QS_OK; i <= QS_EXCEEDED; i++)
        if (strcmp(s, quota_state_name((enum quota_state)i)) == 0)
            return (enum quota_state)i;
    return QS_OK;
}

/* The quota (0 ... nquotas - 1) or concentration limit (nquotas ...) of
 * an alert key, or -1 when the config has none. */
static long
alert_index(const struct engine *e, const char *key)
{
    char k[3 * CONF_ID_MAX + 16];
    for (size_t i = 0; i < e->nquotas; i++) {
        snprintf(k, sizeof k, "%s/%s", e->quotas[i].owner, e->quotas[i].q->id);
        if (strcmp(k, key) == 0)
            return (long)i;
    }
    for (size_t i = 0; i < e->nconcs; i++) {
        snprintf(k, sizeof k, "%s/%s", owner_id(e, e->concs[i].enterprise),
                 e->concs[i].key);
        if (strcmp(k, key) == 0)
            return (long)(e->nquotas + i);
    }
    return -1;
}

static void
load_alert(void *arg, const char *key, const char *state, double since,
           const char *payload)
{
    struct engine *e = arg;
    long i = alert_index(e, key);
    (void)payload;
    if (i >= 0 && (size_t)i < e->nquotas) {
        e->quotas[i].state = state_from_name(state);
        e->quotas[i].since = since;
    } else if (i >= 0) {
        e->concs[(size_t)i - e->nquotas].state = state_from_name(state);
        e->concs[(size_t)i - e->nquotas].since = since;
    }
}

/* ---- evaluation ---- */

static double
owner_sum(const struct engine *e, int ent, const char *measure, int64_t from,
          int64_t to)
{
    if (ent >= 0)
        return ledger_sum(e->l, e->c->enterprises[ent].id, NULL, measure, from,
                          to);
    double sum = 0;
    for (size_t i = 0; i < e->c->nenterprises; i++)
        sum +=
            ledger_sum(e->l, e->c->enterprises[i].id, NULL, measure, from, to);
    return sum;
}

/* When an owner's data for a measure begins: the first hourly row's hour,
 * moved to where its covered seconds start when it covers less than the
 * hour (a fresh ledger's first hour: they end at now). -1 when there is no
 * data. For the park, the earliest of its enterprises. */
static int64_t
data_start(const struct engine *e, int ent, const char *measure, int64_t now)
{
    int64_t best = -1, hour;
    double covered;
    for (size_t i = 0; i < e->c->nenterprises; i++) {
        if (ent >= 0 && (size_t)ent != i)
            continue;
        if (ledger_first(e->l, e->c->enterprises[i].id, measure, &hour,
                         &covered) == -1)
            continue;
        /* The covered seconds end where the hour (or, for the current
         * hour, now) ends. */
        int64_t until = hour + 3600 < now ? hour + 3600 : now;
        if (covered < (double)(until - hour))
            hour = until - (int64_t)covered;
        if (best == -1 || hour < best)
            best = hour;
    }
    return best;
}

static void
publish_topic(struct engine *e, const char *suffix, const char *payload,
              bool retain)
{
    char topic[512];
    snprintf(topic, sizeof topic, "%s/%s/%s", e->c->mqtt.prefix, e->c->park.id,
             suffix);
    if (e->out.publish)
        e->out.publish(e->out.arg, topic, payload, retain);
}

/* Usage is the sum of the hourly rows that started before `now`: the
 * current hour's row holds what came so far, later rows (a replay judging
 * the past) do not count. */
static void
eval_quota(struct engine *e, struct engine_quota *q, double now, bool publish)
{
    const struct conf *c = e->c;
    int64_t t = (int64_t)floor(now), start, end;
    period_bounds(q->q->period, t, e->z, &start, &end);
    period_label(q->q->period, t, e->z, q->period, sizeof q->period);
    int64_t wstart = t - (int64_t)c->alerts.forecast_window_days * 86400;
    wstart = period_hour_start(wstart < start ? start : wstart, e->z);
    if (wstart < start)
        wstart = start;
    /* The rate is taken over data the ledger has: a ledger younger than
     * the window (a new installation) must not dilute it. */
    int64_t ds = data_start(
        e, q->enterprise,
        q->q->measure == MEASURE_ENERGY_INTENSITY ? "energy_tce" : q->measure,
        t);
    if (ds > wstart && ds < t)
        wstart = ds;
    /* Rows are hourly: the window's sum starts at its first hour's row,
     * whose data (after a data start) all lies inside the window. */
    int64_t wrow = period_hour_start(wstart, e->z);
    q->limit = q->q->limit;
    if (q->q->measure == MEASURE_ENERGY_INTENSITY) {
        int owner = q->enterprise >= 0 ? q->enterprise : (int)c->nenterprises;
        struct quota_intensity_in in = {
            .limit = q->q->limit,
            .tce_used = owner_sum(e, q->enterprise, "energy_tce", start, t),
            .tce_window = owner_sum(e, q->enterprise, "energy_tce", wrow, t),
            .window_start = wstart,
            .va_so_far = va_of(e, owner, start, t),
            .va_period = va_of(e, owner, start, end),
            .start = start,
            .end = end,
            .now = t};
        quota_eval_intensity(&in, &q->r);
    } else {
        struct quota_amount_in in = {
            .limit = q->q->limit,
            .used = owner_sum(e, q->enterprise, q->measure, start, t),
            .window_used = owner_sum(e, q->enterprise, q->measure, wrow, t),
            .window_start = wstart,
            .start = start,
            .end = end,
            .now = t};
        quota_eval_amount(&in, &q->r);
    }
    struct quota_levels lv = {c->alerts.warn, c->alerts.critical,
                              c->alerts.hysteresis};
    enum quota_state prev = q->state;
    enum quota_state next = quota_next_state(prev, q->r.fraction,
                                             q->r.projected / q->q->limit, &lv);
    q->evaluated = true;
    char payload[1024], suffix[256];
    if (next != prev) {
        q->state = next;
        q->since = now;
        if (engine_quota_payload(q, true, payload, sizeof payload) > 0)
            announce(e, q->owner, q->q->id, prev, next, now, payload);
    }
    if ((publish || next != prev) &&
        engine_quota_payload(q, false, payload, sizeof payload) > 0) {
        snprintf(suffix, sizeof suffix, "%s/quota/%s", q->owner, q->q->id);
        publish_topic(e, suffix, payload, true);
    }
}

static void
eval_conc(struct engine *e, struct engine_conc *k, double now)
{
    int64_t h_now = period_hour_start((int64_t)floor(now - e->grace), e->z);
    /* After the last hour judged; from the last complete hour when there
     * is none, or when now is before it (a replay of older readings). */
    int64_t h =
        k->hour < 0 || k->hour > h_now - 3600 ? h_now - 3600 : k->hour + 3600;
    if (h < h_now - 3600 * MAX_CATCHUP_HOURS)
        h = h_now - 3600 * MAX_CATCHUP_HOURS;
    const char *owner = owner_id(e, k->enterprise);
    const char *outlet = e->c->enterprises[k->enterprise].outlets[k->outlet].id;
    char mkg[32], mvol[32];
    snprintf(mkg, sizeof mkg, "%s_kg", conf_pollutant_name(k->pollutant));
    snprintf(mvol, sizeof mvol, "%s_conc_m3",
             conf_pollutant_name(k->pollutant));
    for (; h + 3600 <= h_now; h += 3600) {
        double kg = ledger_sum(e->l, owner, outlet, mkg, h, h + 3600);
        double vol = ledger_sum(e->l, owner, outlet, mvol, h, h + 3600);
        k->hour = h;
        if (!(vol > 0))
            continue; /* no valid concentration this hour: no verdict */
        k->mean = kg / vol * 1e3;
        enum quota_state next = k->mean > k->limit ? QS_EXCEEDED : QS_OK;
        if (next == k->state)
            continue;
        enum quota_state prev = k->state;
        k->state = next;
        k->since = (double)(h + 3600);
        char payload[512];
        if (engine_conc_payload(e, k, payload, sizeof payload) > 0)
            announce(e, owner, k->key, prev, next, (double)(h + 3600), payload);
    }
}

static double
inflow_of_day(const struct engine *e, int64_t from, int64_t to)
{
    if (e->c->park.has_wwtp_inflow)
        return ledger_sum(e->l, CONF_PARK_ID, NULL, "inflow_m3", from, to);
    return owner_sum(e, -1, "effluent_m3", from, to);
}

static void
publish_capacity(struct engine *e)
{
    const struct engine_capacity *cp = &e->cap;
    char a[32], b[32], u[32], p[32], h[32], payload[512];
    fmt_num(a, sizeof a, cp->capacity);
    fmt_num(b, sizeof b, cp->today);
    fmt_num(u, sizeof u, cp->utilization);
    fmt_num(p, sizeof p, cp->peak30);
    fmt_num(h, sizeof h, cp->headroom);
    snprintf(payload, sizeof payload,
             "{\"capacity_m3_day\":%s,\"today_m3\":%s,\"utilization\":%s,"
             "\"peak30_m3\":%s,\"headroom_m3_day\":%s}",
             a, b, u, p, h);
    publish_topic(e, "capacity", payload, true);
}

static void
eval_capacity(struct engine *e, double now, bool publish)
{
    struct engine_capacity *cp = &e->cap;
    if (!cp->enabled)
        return;
    int64_t t = (int64_t)floor(now), start, end;
    period_bounds(PERIOD_DAY, t, e->z, &start, &end);
    if (start != cp->day_start) {
        /* A new day, or rows for the days before it came (engine_feed):
         * sum the 29 days before it. */
        double peak = 0;
        int64_t d = start;
        for (int i = 1; i < PEAK_DAYS; i++) {
            int64_t ds, de;
            period_bounds(PERIOD_DAY, d - 1, e->z, &ds, &de);
            double v = inflow_of_day(e, ds, de);
            if (v > peak)
                peak = v;
            d = ds;
        }
        e->peak_before_today = peak;
        cp->day_start = start;
    }
    cp->today = inflow_of_day(e, start, t < end ? t + 1 : end);
    cp->peak30 = fmax(cp->today, e->peak_before_today);
    cp->utilization = cp->today / cp->capacity;
    cp->headroom = cp->capacity - cp->peak30;
    if (publish)
        publish_capacity(e);
}

/* Note in the ledger what is judged, when it changed: an hour's worth. */
static int
save_judged(struct engine *e, const char *key, int64_t *have, int64_t v,
            char *err, size_t errlen)
{
    char buf[32];
    if (v == *have)
        return 0;
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    if (ledger_set_meta(e->l, key, buf, err, errlen) == -1)
        return -1;
    *have = v;
    return 0;
}

void
engine_evaluate(struct engine *e, double now, bool publish)
{
    char err[256];
    /* Quotas are judged on what the ledger holds: all of it. */
    engine_write(e);
    /* Alert states and history, and how far judging got, are written in
     * one transaction: a kill leaves all of it or none. */
    int tx = ledger_begin(e->l, err, sizeof err) == 0;
    int64_t judged = e->judged_hour, conc = e->conc_hour, conc_now = -1;
    for (size_t i = 0; i < e->nquotas; i++)
        eval_quota(e, &e->quotas[i], now, publish);
    for (size_t i = 0; i < e->nconcs; i++) {
        eval_conc(e, &e->concs[i], now);
        if (e->concs[i].hour > conc_now)
            conc_now = e->concs[i].hour;
    }
    eval_capacity(e, now, publish);
    if (e->out.evaluated)
        e->out.evaluated(e->out.arg, now, publish);
    if (save_judged(e, "judged_hour", &e->judged_hour,
                    period_hour_start((int64_t)floor(now), e->z), err,
                    sizeof err) == -1 ||
        save_judged(e, "conc_hour", &e->conc_hour, conc_now, err, sizeof err) ==
            -1 ||
        (tx && ledger_commit(e->l, err, sizeof err) == -1)) {
        log_warnx("%s", err);
        if (tx)
            ledger_rollback(e->l);
        /* Not written: what the ledger holds stays the truth. */
        e->judged_hour = judged;
        e->conc_hour = conc;
    }
}

int64_t
engine_judged_hour(const struct engine *e)
{
    return e->judged_hour;
}

static void
republish_alert(void *arg, const char *key, const char *state, double since,
                const char *payload)
{
    struct engine *e = arg;
    char suffix[3 * CONF_ID_MAX + 32];
    (void)state;
    (void)since;
    if (alert_index(e, key) < 0)
        return; /* its quota or limit left the config */
    snprintf(suffix, sizeof suffix, "alerts/%s", key);
    publish_topic(e, suffix, payload, true);
}

void
engine_republish(struct engine *e)
{
    char payload[1024], suffix[256];
    for (size_t i = 0; i < e->nquotas; i++) {
        struct engine_quota *q = &e->quotas[i];
        if (!q->evaluated ||
            engine_quota_payload(q, false, payload, sizeof payload) < 0)
            continue;
        snprintf(suffix, sizeof suffix, "%s/quota/%s", q->owner, q->q->id);
        publish_topic(e, suffix, payload, true);
    }
    if (e->cap.enabled && e->cap.day_start != -1)
        publish_capacity(e);
    if (ledger_load_alerts(e->l, republish_alert, e) == -1)
        log_warnx("ledger: cannot read the alert states");
}

/* ---- feeding ---- */

int
engine_feed(struct engine *e, struct sample *s, size_t n, size_t *refused)
{
    const struct conf *c = e->c;
    size_t nref = 0;
    int rc = 0;

    /* The sink still holds what a failed transaction did not write: the
     * accounting state has moved past it, so it is written now or lost. */
    if (e->sink.nincr > MAX_PENDING_INCR) {
        log_warnx("ledger: dropping %zu hourly increments and %zu events "
                  "that could not be written",
                  e->sink.nincr, e->sink.nev);
        e->sink.nincr = e->sink.nev = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i].meter >= c->nmeters)
            continue;
        size_t nev = e->sink.nev;
        int r = acct_feed(e->acct, &s[i], &e->sink);
        if (r == 1) {
            nref++;
            continue;
        }
        if (r == -1) {
            /* The rest keep their baselines: the next readings of their
             * totals still count what lies between. */
            log_warnx("accounting: out of memory");
            rc = -1;
            break;
        }
        mark_dirty(e, &s[i]);
        judge(e, &s[i], nev);
    }
    if (refused)
        *refused = nref;
    return rc;
}

int
engine_write(struct engine *e)
{
    const struct conf *c = e->c;
    char err[256], mbuf[32], outlet_none[1] = "";

    if (e->sink.nincr == 0 && e->sink.nev == 0 && e->ndirty == 0)
        return 0;
    if (ledger_begin(e->l, err, sizeof err) == -1)
        goto fail;
    for (size_t i = 0; i < e->sink.nincr; i++) {
        const struct acct_incr *x = &e->sink.incr[i];
        const char *outlet =
            x->outlet >= 0 && x->enterprise >= 0
                ? c->enterprises[x->enterprise].outlets[x->outlet].id
                : outlet_none;
        if (ledger_add(e->l, owner_id(e, x->enterprise), outlet,
                       incr_measure(x, mbuf, sizeof mbuf), x->hour, x->amount,
                       x->covered, x->flags, err, sizeof err) == -1)
            goto rollback;
    }
    for (size_t i = 0; i < e->sink.nev; i++) {
        const struct acct_event *v = &e->sink.ev[i];
        const char *meter = c->meters[v->meter].id;
        const char *point = conf_meter_point(c, v->meter, v->point)->name;
        if (ledger_add_event(e->l, v->ts, meter, point, event_names[v->kind],
                             v->from, v->to, err, sizeof err) == -1)
            goto rollback;
    }
    if (save_dirty(e, err, sizeof err) == -1 ||
        ledger_commit(e->l, err, sizeof err) == -1)
        goto rollback;
    /* The last slices of a day come with the first readings after it,
     * often after the new day's first evaluation summed the days before:
     * sum them again, or the peak would depend on when the daemon
     * started. */
    for (size_t i = 0; i < e->sink.nincr && e->cap.day_start != -1; i++)
        if (e->sink.incr[i].hour < e->cap.day_start)
            e->cap.day_start = -1;
    written(e);
    return 0;
rollback:
    ledger_rollback(e->l);
fail:
    /* Nothing of this transaction is kept: the increments, events and
     * baselines stay pending and go with the next write. */
    log_warnx("%s", err);
    return -1;
}

/* ---- set-up ---- */

static int
add_quota(struct engine *e, int ent, const struct conf_quota *q)
{
    struct engine_quota *x = &e->quotas[e->nquotas++];
    memset(x, 0, sizeof *x);
    x->enterprise = ent;
    x->q = q;
    snprintf(x->owner, sizeof x->owner, "%s", owner_id(e, ent));
    char buf[32];
    snprintf(x->measure, sizeof x->measure, "%s",
             q->measure == MEASURE_ENERGY_INTENSITY
                 ? "energy_intensity"
                 : conf_measure_name(q, buf, sizeof buf));
    x->state = QS_OK;
    x->r.exhaust_at = -1;
    return 0;
}

struct engine *
engine_open(const struct conf *c, const struct tzone *z, struct ledger *l,
            const struct engine_out *out, double grace, char *err,
            size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        goto oom;
    e->c = c;
    e->z = z;
    e->l = l;
    e->out = *out;
    e->grace = grace;
    e->acct = acct_new(c, z);
    size_t nq = c->park.nquotas, nk = 0, npoints = 0;
    for (size_t i = 0; i < c->nenterprises; i++) {
        nq += c->enterprises[i].nquotas;
        for (size_t o = 0; o < c->enterprises[i].noutlets; o++)
            for (int p = 0; p < POLL_COUNT; p++)
                nk += c->enterprises[i].outlets[o].has_limit[p];
    }
    e->quotas = calloc(nq ? nq : 1, sizeof *e->quotas);
    e->concs = calloc(nk ? nk : 1, sizeof *e->concs);
    e->va = calloc(c->nenterprises + 1, sizeof *e->va);
    e->point_base = calloc(c->nmeters ? c->nmeters : 1, sizeof *e->point_base);
    if (e->acct == NULL || e->quotas == NULL || e->concs == NULL ||
        e->va == NULL || e->point_base == NULL)
        goto oom;
    for (size_t m = 0; m < c->nmeters; m++) {
        e->point_base[m] = npoints;
        npoints += c->profiles[c->meters[m].profile].npoints;
    }
    e->dirty = calloc(npoints ? npoints : 1, 1);
    e->dirty_list = calloc(npoints ? npoints : 1, sizeof *e->dirty_list);
    e->uncounted = calloc(npoints ? npoints : 1, sizeof *e->uncounted);
    if (e->dirty == NULL || e->dirty_list == NULL || e->uncounted == NULL)
        goto oom;

    for (size_t i = 0; i < c->nenterprises; i++) {
        const struct conf_enterprise *en = &c->enterprises[i];
        for (size_t q = 0; q < en->nquotas; q++)
            add_quota(e, (int)i, &en->quotas[q]);
        for (size_t o = 0; o < en->noutlets; o++)
            for (int p = 0; p < POLL_COUNT; p++) {
                if (!en->outlets[o].has_limit[p])
                    continue;
                struct engine_conc *k = &e->concs[e->nconcs++];
                k->enterprise = (int)i;
                k->outlet = (int)o;
                k->pollutant = (enum conf_pollutant)p;
                k->limit = en->outlets[o].limit_mg_l[p];
                snprintf(k->key, sizeof k->key, "%s.%s", en->outlets[o].id,
                         conf_pollutant_name((enum conf_pollutant)p));
                k->hour = -1;
                k->mean = NAN;
                k->state = QS_OK;
            }
        for (size_t v = 0; v < en->nvalue_added; v++)
            if (va_put(e, (int)i, en->value_added[v].period,
                       en->value_added[v].yuan) == -1)
                goto oom;
    }
    for (size_t q = 0; q < c->park.nquotas; q++)
        add_quota(e, -1, &c->park.quotas[q]);
    e->cap.enabled = c->park.has_wwtp;
    e->cap.capacity = c->park.wwtp_capacity_m3_per_day;
    e->cap.day_start = -1;

    /* What the ledger knows wins over the config (later updates). */
    if (ledger_load_va(l, load_va, e) == -1 ||
        ledger_load_points(l, load_point, e) == -1 ||
        ledger_load_alerts(l, load_alert, e) == -1) {
        snprintf(err, errlen, "ledger: cannot read its state");
        engine_close(e);
        return NULL;
    }
    e->judged_hour = e->conc_hour = -1;
    char buf[32];
    if (ledger_get_meta(l, "judged_hour", buf, sizeof buf) == 0)
        e->judged_hour = strtoll(buf, NULL, 10);
    if (ledger_get_meta(l, "conc_hour", buf, sizeof buf) == 0)
        e->conc_hour = strtoll(buf, NULL, 10);
    /* Concentration hours go on after the last one judged. */
    for (size_t i = 0; i < e->nconcs; i++)
        e->concs[i].hour = e->conc_hour;
    char factors[256];
    snprintf(factors, sizeof factors,
             "electricity %.17g kgce/kWh, gas %.17g kgce/m3, steam %.17g "
             "kgce/t, heat %.17g kgce/GJ",
             c->energy_factors.electricity_kgce_per_kwh,
             c->energy_factors.gas_kgce_per_m3,
             c->energy_factors.steam_kgce_per_t,
             c->energy_factors.heat_kgce_per_gj);
    ledger_set_meta(l, "energy_factors", factors, NULL, 0);
    return e;
oom:
    snprintf(err, errlen, "out of memory");
    engine_close(e);
    return NULL;
}

void
engine_close(struct engine *e)
{
    if (e == NULL)
        return;
    engine_write(e);
    acct_free(e->acct);
    acct_sink_free(&e->sink);
    if (e->va)
        for (size_t i = 0; i <= e->c->nenterprises; i++) {
            free(e->va[i].v);
            free(e->va[i].label);
        }
    free(e->va);
    free(e->quotas);
    free(e->concs);
    free(e->point_base);
    free(e->dirty);
    free(e->dirty_list);
    free(e->uncounted);
    free(e);
}

int
engine_set_va(struct engine *e, const char *owner, const char *period,
              double yuan, const char *source, double now, char *err,
              size_t errlen)
{
    enum conf_period kind;
    int64_t s, t;
    int o = find_owner(e->c, owner);
    if (o < 0 || o == (int)e->c->nenterprises) {
        snprintf(err, errlen, "unknown enterprise '%s'", owner);
        return -1;
    }
    if (period_parse(period, e->z, &kind, &s, &t) == -1) {
        snprintf(err, errlen, "bad period '%s': use YYYY, YYYY-Qn or YYYY-MM",
                 period);
        return -1;
    }
    if (!isfinite(yuan) || yuan < 0) {
        snprintf(err, errlen, "bad amount: yuan must be a number >= 0");
        return -1;
    }
    if (ledger_set_va(e->l, owner, period, yuan, source, now, err, errlen) ==
        -1)
        return -1;
    if (va_put(e, o, period, yuan) == -1) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    log_info("value added of %s for %s set to %.17g yuan (%s)", owner, period,
             yuan, source);
    engine_evaluate(e, now, true);
    return 0;
}

size_t
engine_quotas(const struct engine *e, const struct engine_quota **q)
{
    *q = e->quotas;
    return e->nquotas;
}

size_t
engine_concs(const struct engine *e, const struct engine_conc **c)
{
    *c = e->concs;
    return e->nconcs;
}

const struct engine_capacity *
engine_capacity(const struct engine *e)
{
    return &e->cap;
}

/* The main loop: owns every descriptor and timer except the Modbus links.
 * Samples from the pollers become MQTT messages and RRD updates here. */
#include "daemon/ecmond.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon/alert_out.h"
#include "daemon/control.h"
#include "daemon/engine.h"
#include "daemon/http.h"
#include "daemon/ledger_store.h"
#include "daemon/tz.h"
#include "daemon/views.h"
#include "daemon/core/topic.h"
#include "daemon/core/va_message.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/mqtt_pub.h"
#include "daemon/outbox.h"
#include "daemon/privs.h"
#include "daemon/signals.h"
#include "drivers/pollers.h"
#include "rrd/rrd_store.h"

#define MAX_QUEUED_SAMPLES (1u << 20)
#define MAX_POLLFDS 32
#define STATUS_REFRESH_S 60.0
#define EVAL_INTERVAL_S 2.0     /* quotas, capacity, concentration hours */
#define PUBLISH_INTERVAL_S 60.0 /* quota and capacity topics, their RRDs */
#define LEDGER_WRITE_S 0.5      /* accounted samples to the ledger */

/* mkdir -p with `mode` for the directories it creates. */
static int
mkdirs(const char *path, mode_t mode)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) == -1 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) == -1 && errno != EEXIST)
        return -1;
    return 0;
}

static void
dirname_of(const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == NULL)
        snprintf(out, len, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* ---- meters as the loop sees them ---- */

static void
meters_free(struct ecmond *d)
{
    if (d->meters == NULL)
        return;
    for (size_t i = 0; i < d->conf->nmeters; i++) {
        struct meter_rt *m = &d->meters[i];
        const struct conf_profile *p =
            &d->conf->profiles[d->conf->meters[i].profile];
        for (size_t k = 0; m->topics && k < p->npoints; k++)
            free(m->topics[k]);
        free(m->topics);
        free(m->status_topic);
        free(m->last);
        free(m->last_flag);
    }
    free(d->meters);
    d->meters = NULL;
}

static int
meters_init(struct ecmond *d)
{
    const struct conf *c = d->conf;
    char buf[512];

    d->meters = calloc(c->nmeters ? c->nmeters : 1, sizeof *d->meters);
    if (d->meters == NULL)
        return -1;
    for (size_t i = 0; i < c->nmeters; i++) {
        const struct conf_meter *cm = &c->meters[i];
        const struct conf_profile *p = &c->profiles[cm->profile];
        struct meter_rt *m = &d->meters[i];
        m->owner = cm->enterprise >= 0 ? c->enterprises[cm->enterprise].id
                                       : TOPIC_PARK_OWNER;
        m->online = -1;
        m->topics = calloc(p->npoints ? p->npoints : 1, sizeof *m->topics);
        m->last = malloc((p->npoints ? p->npoints : 1) * sizeof *m->last);
        m->last_flag = calloc(p->npoints ? p->npoints : 1, 1);
        if (m->topics == NULL || m->last == NULL || m->last_flag == NULL)
            return -1;
        for (size_t k = 0; k < p->npoints; k++) {
            m->last[k] = NAN;
            if (topic_reading(buf, sizeof buf, c->mqtt.prefix, c->park.id,
                              m->owner, cm->id, p->points[k].name) < 0 ||
                (m->topics[k] = strdup(buf)) == NULL)
                return -1;
        }
        if (topic_meter_status(buf, sizeof buf, c->mqtt.prefix, c->park.id,
                               m->owner, cm->id) < 0 ||
            (m->status_topic = strdup(buf)) == NULL)
            return -1;
    }
    return 0;
}

static void
publish_meter_status(struct ecmond *d, size_t i)
{
    struct meter_rt *m = &d->meters[i];
    struct mpoll_stats st;
    char payload[512];
    if (m->online < 0 || d->outbox == NULL)
        return;
    /* The poller's counters are newer than the last state change's. */
    if (d->pollers && pollers_meter_stats(d->pollers, (int)i, &st) == 0) {
        m->errors = st.errors;
        m->last_ok = st.last_ok;
    }
    int n = payload_meter_status(payload, sizeof payload, m->online, m->errors,
                                 m->last_ok, m->since, m->reason);
    if (n > 0)
        outbox_publish(d->outbox, m->status_topic, payload, (size_t)n, true);
}

static void
publish_meter_statuses(struct ecmond *d)
{
    for (size_t i = 0; i < d->conf->nmeters; i++)
        publish_meter_status(d, i);
}

static void
on_mqtt_connect(void *arg)
{
    struct ecmond *d = arg;
    /* Retained state published while the broker was away was dropped, and
     * the broker may have lost the rest: publish ours again. Readings and
     * events wait in the outbox instead. */
    if (d->outbox == NULL)
        return; /* a start that failed half-way */
    publish_meter_statuses(d);
    if (d->engine)
        engine_republish(d->engine);
}

/* ---- samples ---- */

/* Write what the engine accounted, at most every LEDGER_WRITE_S: one
 * transaction per batch of samples cost more than the rest of a reading's
 * way at a thousand meters. What a crash keeps from being written is
 * counted all the same by the totals' next readings (from the last written
 * baseline). */
static void
ledger_tick(struct ecmond *d, double now)
{
    if (d->engine == NULL || now < d->next_ledger_write)
        return;
    engine_write(d->engine);
    d->next_ledger_write = now + LEDGER_WRITE_S;
}

static void
store_poll(struct ecmond *d, uint32_t meter, double ts)
{
    struct meter_rt *m = &d->meters[meter];
    char err[256];
    if (d->rrd == NULL)
        return;
    int rc =
        rrdstore_update_meter(d->rrd, (int)meter, ts, m->last, err, sizeof err);
    if (rc < 0) {
        if (!m->rrd_failing)
            log_warnx("rrd: meter %s: %s", d->conf->meters[meter].id, err);
        m->rrd_failing = 1;
    } else if (m->rrd_failing) {
        log_info("rrd: meter %s: updates work again",
                 d->conf->meters[meter].id);
        m->rrd_failing = 0;
    }
}

void
ecmond_samples(struct ecmond *d, struct sample *s, size_t n, size_t *refused)
{
    const struct conf *c = d->conf;
    char payload[256];

    /* The ledger judges first: a reading it does not count is published
     * and stored with its flag. */
    if (d->engine) {
        engine_feed(d->engine, s, n, refused);
        ledger_tick(d, mono_now());
    } else if (refused) {
        *refused = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sample *x = &s[i];
        if (x->meter >= c->nmeters)
            continue;
        struct meter_rt *m = &d->meters[x->meter];
        const struct conf_point *p =
            conf_meter_point(c, (int)x->meter, x->point);
        m->last[x->point] = x->flag == FLAG_NORMAL ? x->value : NAN;
        m->last_flag[x->point] = x->flag;
        int len = payload_reading(payload, sizeof payload, x->ts, x->value,
                                  p->unit, x->flag);
        if (len > 0 && d->outbox)
            outbox_publish(d->outbox, m->topics[x->point], payload, (size_t)len,
                           false);
        d->samples++;
        /* The samples of one poll arrive together: store them as one. */
        if (i + 1 == n || s[i + 1].meter != x->meter || s[i + 1].ts != x->ts)
            store_poll(d, x->meter, x->ts);
    }
}

static void
handle_events(struct ecmond *d, const struct meter_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ev[i].meter >= d->conf->nmeters)
            continue;
        struct meter_rt *m = &d->meters[ev[i].meter];
        m->online = ev[i].online;
        m->since = ev[i].ts;
        m->errors = ev[i].errors;
        m->last_ok = ev[i].last_ok;
        snprintf(m->reason, sizeof m->reason, "%s", ev[i].reason);
        publish_meter_status(d, ev[i].meter);
    }
}

static void
drain_queue(struct ecmond *d)
{
    sampleq_take(&d->q, &d->batch);
    ecmond_samples(d, d->batch.samples, d->batch.nsamples, NULL);
    handle_events(d, d->batch.events, d->batch.nevents);
}

/* ---- the engine's outputs ---- */

static void
engine_publish(void *arg, const char *topic, const char *payload, bool retain)
{
    struct ecmond *d = arg;
    if (d->outbox)
        outbox_publish(d->outbox, topic, payload, strlen(payload), retain);
}

static void
engine_alert(void *arg, const struct engine_alert *a)
{
    struct ecmond *d = arg;
    d->alerts_raised++;
    alert_out_deliver(d->alerts, a);
    http_alert(d->http, a);
}

/* The quota and capacity RRD files, written before the evaluation is
 * committed (engine_out.evaluated). */
static void
engine_evaluated(void *arg, double now, bool publish)
{
    struct ecmond *d = arg;
    if (!publish || d->rrd == NULL)
        return;
    const struct engine_quota *q;
    size_t n = engine_quotas(d->engine, &q);
    char err[512];
    for (size_t i = 0; i < n; i++) {
        if (!q[i].evaluated)
            continue;
        int qi =
            (int)(q[i].q - (q[i].enterprise >= 0
                                ? d->conf->enterprises[q[i].enterprise].quotas
                                : d->conf->park.quotas));
        if (rrdstore_update_quota(d->rrd, q[i].enterprise, qi, now, q[i].r.used,
                                  q[i].limit, q[i].r.projected, err,
                                  sizeof err) == -1)
            log_debug("rrd: %s", err);
    }
    const struct engine_capacity *cp = engine_capacity(d->engine);
    if (cp->enabled &&
        rrdstore_update_capacity(d->rrd, now, cp->today, cp->capacity,
                                 cp->headroom, err, sizeof err) == -1)
        log_debug("rrd: %s", err);
}

/* Write the meters' RRD updates whose turn has come (storage.rrd_flush);
 * a failing write is logged once until writes work again. */
static void
rrd_tick(struct ecmond *d)
{
    char err[512];
    if (d->rrd == NULL)
        return;
    if (rrdstore_tick(d->rrd, real_now(), err, sizeof err) == -1) {
        if (!d->rrd_writes_failing)
            log_warnx("rrd: %s", err);
        d->rrd_writes_failing = 1;
    } else if (d->rrd_writes_failing) {
        log_info("rrd: writes work again");
        d->rrd_writes_failing = 0;
    }
}

void
ecmond_evaluate(struct ecmond *d, double now, bool publish)
{
    if (d->engine)
        engine_evaluate(d->engine, now, publish);
}

/* <prefix>/<park>/<enterprise>/value_added/set {"period":..,"yuan":..} */
static void
on_value_added(void *arg, const char *topic, const char *payload, size_t len)
{
    struct ecmond *d = arg;
    const struct conf *c = d->conf;
    struct va_message m;
    char err[256];
    if (va_message_parse(c->mqtt.prefix, c->park.id, topic, payload, len, &m,
                         err, sizeof err) == -1) {
        if (m.enterprise[0])
            log_warnx("value added for %s via MQTT rejected: %s", m.enterprise,
                      err);
        else
            log_warnx("value added via MQTT: %s", err);
        return;
    }
    if (engine_set_va(d->engine, m.enterprise, m.period, m.yuan, "mqtt",
                      real_now(), err, sizeof err) == -1)
        log_warnx("value added for %s via MQTT rejected: %s", m.enterprise,
                  err);
}

/* ---- control requests ---- */

/* flush [ENTERPRISE METER]: write the RRD updates waiting in memory, of
 * every meter or of one (before its file is read, e.g. drawn). */
static json_t *
flush_reply(struct ecmond *d, const struct ctl_req *req)
{
    char err[512];
    int rc = 0;
    if (req->argc == 1)
        return json_pack("{s:s}", "error",
                         "flush: give ENTERPRISE METER, "
                         "or nothing for every file");
    if (d->rrd == NULL)
        return json_pack("{s:s}", "result", "nothing to flush");
    if (req->argc == 0) {
        rc = rrdstore_flush(d->rrd, err, sizeof err);
    } else {
        int i = conf_find_meter(d->conf, req->argv[1]);
        if (i < 0 || strcmp(d->meters[i].owner, req->argv[0]) != 0)
            return json_pack("{s:s}", "error", "flush: no such meter");
        rc = rrdstore_flush_meter(d->rrd, i, err, sizeof err);
    }
    if (rc == -1)
        return json_pack("{s:s}", "error", err);
    return json_pack("{s:s}", "result", "flushed");
}

static char *
control_reply(const struct ctl_req *req, void *arg)
{
    struct ecmond *d = arg;
    json_t *j = NULL;

    switch (req->cmd) {
    case CTL_STATUS:
        j = view_status(d, NULL);
        break;
    case CTL_METERS: {
        /* Written meter by meter: at 10,000 meters the whole tree would
         * take ten times the answer's size. */
        bool found;
        return view_meters_dump(d, req->argc == 1 ? req->argv[0] : NULL, NULL,
                                &found);
    }
    case CTL_RELOAD:
        sig_reload = 1;
        j = json_pack("{s:s}", "result", "reload requested");
        break;
    case CTL_USAGE:
        j = view_usage(d, req->argc ? req->argv[0] : NULL, NULL);
        break;
    case CTL_ALERTS:
        j = view_alerts(d, NULL);
        break;
    case CTL_CAPACITY:
        j = view_capacity(d);
        break;
    case CTL_VALUE_ADDED: {
        char err[256], *end;
        double yuan = strtod(req->argv[2], &end);
        if (end == req->argv[2] || *end != '\0')
            snprintf(err, sizeof err, "bad amount '%s'", req->argv[2]);
        else if (engine_set_va(d->engine, req->argv[0], req->argv[1], yuan,
                               "ecmonctl", real_now(), err, sizeof err) == 0)
            err[0] = '\0';
        j = err[0] ? json_pack("{s:s}", "error", err)
                   : json_pack("{s:s}", "result", "value added set");
        break;
    }
    case CTL_FLUSH:
        j = flush_reply(d, req);
        break;
    default:
        j = json_pack("{s:s}", "error", "not implemented yet");
        break;
    }
    return view_dump(j);
}

/* ---- start, stop, run ---- */

int
ecmond_lock(struct ecmond *d)
{
    const struct conf *c = d->conf;
    char path[4096];
    if (mkdirs(c->storage.state_dir, 0750) == -1) {
        log_warn("state_dir %s", c->storage.state_dir);
        return -1;
    }
    if (mkdirs(c->storage.rrd_dir, 0750) == -1) {
        log_warn("rrd_dir %s", c->storage.rrd_dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/ecmond.lock", d->conf->storage.state_dir);
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (d->lock_fd == -1) {
        log_warn("%s", path);
        return -1;
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        log_warnx("%s: another ecmond uses state_dir %s", path,
                  d->conf->storage.state_dir);
        close(d->lock_fd);
        d->lock_fd = -1;
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(d->lock_fd, 0) == 0 && write(d->lock_fd, pid, (size_t)n)) {
    }
    return 0;
}

int
ecmond_drop_root(struct ecmond *d)
{
    const struct conf *c = d->conf;
    struct privs p;
    char err[600];
    if (privs_init(&p, c->run_as, err, sizeof err) == -1) {
        log_warnx("%s", err);
        return -1;
    }
    if (!p.active) {
        if (c->run_as && geteuid() != 0)
            log_debug("run_as \"%s\": not started as root, running as uid "
                      "%ld",
                      c->run_as, (long)geteuid());
        return 0;
    }
    if (privs_own(&p, c->storage.state_dir, 1, err, sizeof err) == -1 ||
        privs_own(&p, c->storage.rrd_dir, 1, err, sizeof err) == -1 ||
        (d->ctl && privs_own(&p, c->control.socket, 0, err, sizeof err)) ||
        privs_drop(&p, err, sizeof err) == -1) {
        log_warnx("%s", err);
        return -1;
    }
    log_info("running as %s (uid %ld, gid %ld)", p.user, (long)p.uid,
             (long)p.gid);
    return 0;
}

int
ecmond_open_outputs(struct ecmond *d, bool replay)
{
    const struct conf *c = d->conf;
    char err[512], path[4096], filter[512];

    if (meters_init(d) == -1) {
        log_warnx("out of memory");
        return -1;
    }
    tz_use(c->park.timezone, &d->tz);
    snprintf(path, sizeof path, "%s/ecmond.db", c->storage.state_dir);
    d->ledger = ledger_open(path, err, sizeof err);
    if (d->ledger == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    d->rrd = rrdstore_open(c, err, sizeof err);
    if (d->rrd == NULL) {
        log_warnx("rrd: %s", err);
        return -1;
    }
    if (!replay) {
        /* Before polling starts: a first start with 10,000 meters writes
         * ~19 GB of new RRD files, which would hold up the main loop while
         * readings pile up. A replay creates them at its readings' time. */
        double t0 = mono_now();
        size_t failed = rrdstore_prepare_all(d->rrd, real_now());
        if (failed > 0)
            log_warnx("rrd: %zu files could not be prepared; their updates "
                      "will say why",
                      failed);
        if (mono_now() - t0 > 1.0)
            log_info("rrd: the files of %zu meters checked or created in "
                     "%.1f s",
                     c->nmeters, mono_now() - t0);
    }
    d->mqtt = mqttp_new(c, on_mqtt_connect, d, err, sizeof err);
    if (d->mqtt == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    d->outbox = outbox_open(c, d->ledger, d->mqtt, err, sizeof err);
    if (d->outbox == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    d->alerts = alert_out_new(c);
    if (d->alerts == NULL) {
        log_warnx("out of memory");
        return -1;
    }
    alert_out_set_outbox(d->alerts, d->outbox);
    struct engine_out out = {engine_publish, engine_alert, engine_evaluated, d};
    d->engine = engine_open(c, &d->tz, d->ledger, &out, replay ? 0 : 60, err,
                            sizeof err);
    if (d->engine == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    snprintf(filter, sizeof filter, "%s/%s/+/value_added/set", c->mqtt.prefix,
             c->park.id);
    if (!replay && mqttp_set_input(d->mqtt, filter, on_value_added, d) == -1)
        log_warnx("mqtt: cannot subscribe to %s", filter);
    return 0;
}

/* Descriptors beyond one per TCP bus: MQTT, control and HTTP clients,
 * RRD, SQLite, RTU lines, exec hooks. */
#define SPARE_FDS 256

/* One socket per TCP bus: raise the soft limit on open files to the hard
 * one (systemd starts services at 1024 soft, 524288 hard), and say so
 * clearly when even that is too low. */
static void
raise_nofile(const struct conf *c)
{
    size_t ntcp = 0;
    for (size_t b = 0; b < c->nbuses; b++)
        ntcp += c->buses[b].kind == BUS_TCP;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_debug("open files limit raised from %ju to %ju", (uintmax_t)was,
                      (uintmax_t)rl.rlim_cur);
        else
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < ntcp + SPARE_FDS)
        log_warnx("open files limit %ju is too low for %zu TCP buses (about "
                  "%zu needed): gateways beyond it will not be polled; raise "
                  "it (LimitNOFILE= in the systemd unit, ulimit -n)",
                  (uintmax_t)rl.rlim_cur, ntcp, ntcp + SPARE_FDS);
}

static int
start_parts(struct ecmond *d)
{
    const struct conf *c = d->conf;
    char err[512];

    if (sampleq_init(&d->q, MAX_QUEUED_SAMPLES) == -1) {
        log_warn("eventfd");
        return -1;
    }
    if (ecmond_open_outputs(d, false) == -1)
        return -1;
    raise_nofile(c);
    d->pollers = pollers_start(c, &d->q, err, sizeof err);
    if (d->pollers == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    d->next_eval = d->next_publish = mono_now(); /* evaluate at once */
    return 0;
}

static void
stop_parts(struct ecmond *d)
{
    pollers_stop(d->pollers);
    d->pollers = NULL;
    if (d->q.efd != -1) {
        /* What the pollers handed over before they stopped still counts. */
        drain_queue(d);
        sampleq_destroy(&d->q);
        d->q.efd = -1;
    }
    engine_close(d->engine);
    d->engine = NULL;
    if (d->alerts) {
        alert_out_drain(d->alerts, 2.0);
        alert_out_free(d->alerts);
        d->alerts = NULL;
    }
    /* Hand the last readings over, let the broker acknowledge what it can,
     * then write the outbox: the rest is sent by the next run. */
    if (d->outbox)
        outbox_tick(d->outbox, mono_now());
    mqttp_close(d->mqtt, 3.0);
    d->mqtt = NULL;
    outbox_close(d->outbox);
    d->outbox = NULL;
    ledger_close(d->ledger);
    d->ledger = NULL;
    if (d->rrd) {
        /* Through rrdcached, updates wait in its cache until flushed. */
        char err[512];
        if (rrdstore_flush(d->rrd, err, sizeof err) == -1)
            log_warnx("rrd: flush: %s", err);
        rrdstore_close(d->rrd);
    }
    d->rrd = NULL;
    meters_free(d);
}

int
ecmond_start(struct ecmond *d)
{
    const struct conf *c = d->conf;
    char err[512], dir[4096];

    d->lock_fd = -1;
    d->q.efd = -1;
    /* Before anything starts: a SIGHUP during start-up must not kill us
     * (it waits for the loop), and librrd's rrdcached client writes
     * without MSG_NOSIGNAL. */
    signals_init(&d->sigmask);
    tz_use(c->park.timezone, &d->tz); /* log times in park time from now */
    d->started = real_now();
    if (ecmond_lock(d) == -1)
        return -1;
    dirname_of(c->control.socket, dir, sizeof dir);
    if (mkdirs(dir, 0755) == -1) {
        log_warn("control socket directory %s", dir);
        return -1;
    }
    d->ctl = control_open(c->control.socket, control_reply, d, err, sizeof err);
    if (d->ctl == NULL) {
        log_warnx("control: %s", err);
        return -1;
    }
    if (c->http.enabled) {
        d->http = http_open(d, err, sizeof err);
        if (d->http == NULL) {
            log_warnx("http: %s", err);
            return -1;
        }
    }
    /* What needs root is open: the rest runs as run_as, reloads too. */
    if (ecmond_drop_root(d) == -1)
        return -1;
    if (start_parts(d) == -1)
        return -1;
    log_info("ecmond %s started: park %s, %zu meters on %zu buses",
             ECMON_VERSION, c->park.id, c->nmeters, c->nbuses);
    return 0;
}

void
ecmond_stop(struct ecmond *d)
{
    http_close(d->http);
    d->http = NULL;
    stop_parts(d);
    control_close(d->ctl);
    d->ctl = NULL;
    sampleq_buf_free(&d->batch);
    if (d->lock_fd != -1)
        close(d->lock_fd);
    d->lock_fd = -1;
}

/* After a reload to d->conf from `old`: the same listener keeps its event
 * streams (those whose token went are closed); a new one replaces it. */
static void
http_reload(struct ecmond *d, const struct conf *old)
{
    const struct conf *c = d->conf;
    char err[512];
    if (c->http.enabled == old->http.enabled &&
        (!c->http.enabled || strcmp(c->http.listen, old->http.listen) == 0)) {
        http_reconf(d->http);
        return;
    }
    http_close(d->http);
    d->http = NULL;
    if (c->http.enabled && (d->http = http_open(d, err, sizeof err)) == NULL)
        log_warnx("http: %s; the dashboard is off until a reload fixes it",
                  err);
}

/* SIGHUP: load the file again; a bad one is reported and the running
 * config stays. A good one replaces the running parts. */
static void
reload(struct ecmond *d)
{
    struct conf_errors errs = {0};
    log_info("reloading %s", d->conf_path);
    struct conf *nc = conf_load(d->conf_path, &errs);
    if (nc == NULL) {
        for (size_t i = 0; i < errs.n; i++)
            log_warnx("%s", errs.msgs[i]);
        log_warnx("reload failed: %zu error%s; the running configuration "
                  "stays",
                  errs.n, errs.n == 1 ? "" : "s");
        conf_errors_free(&errs);
        return;
    }
    conf_errors_free(&errs);
    if (strcmp(nc->storage.state_dir, d->conf->storage.state_dir) != 0 ||
        strcmp(nc->control.socket, d->conf->control.socket) != 0)
        log_warnx("reload: state_dir and control.socket changes need a "
                  "restart; keeping the old ones");
    if (strcmp(nc->storage.state_dir, d->conf->storage.state_dir) != 0) {
        free(nc->storage.state_dir);
        nc->storage.state_dir = strdup(d->conf->storage.state_dir);
    }
    if (strcmp(nc->control.socket, d->conf->control.socket) != 0) {
        free(nc->control.socket);
        nc->control.socket = strdup(d->conf->control.socket);
    }
    if (nc->storage.state_dir == NULL || nc->control.socket == NULL) {
        log_warnx("reload failed: out of memory; the running configuration "
                  "stays");
        conf_free(nc);
        return;
    }
    stop_parts(d);
    struct conf *old = d->conf;
    d->conf = nc;
    if (mkdirs(nc->storage.rrd_dir, 0750) == -1)
        log_warn("rrd_dir %s", nc->storage.rrd_dir);
    if (start_parts(d) == 0) {
        http_reload(d, old);
        conf_free(old);
        d->reloads++;
        log_info("reloaded: %zu meters on %zu buses", nc->nmeters, nc->nbuses);
        return;
    }
    /* E.g. an unreadable password_file or TLS file, a serial device that
     * cannot be set up: go back to what ran before (DESIGN §8). */
    log_warnx("reload failed: cannot start with the new configuration; the "
              "running configuration stays");
    stop_parts(d);
    d->conf = old;
    conf_free(nc);
    if (start_parts(d) == -1) {
        log_warnx("reload: cannot start the running configuration again");
        sig_terminate = 1;
    }
}

int
ecmond_run(struct ecmond *d)
{
    struct pollfd fds[MAX_POLLFDS];
    uint64_t watchdog_us = 0;
    double next_watchdog = 0;
    double next_status = mono_now() + STATUS_REFRESH_S;

#ifdef HAVE_SYSTEMD
    if (sd_watchdog_enabled(0, &watchdog_us) <= 0)
        watchdog_us = 0;
    sd_notify(0, "READY=1");
#endif
    while (!sig_terminate) {
        if (sig_reload) {
            sig_reload = 0;
            reload(d);
            continue;
        }
        size_t n = 0;
        fds[n++] = (struct pollfd){d->q.efd, POLLIN, 0};
        int mfd = mqttp_fd(d->mqtt);
        size_t mqtt_at = n;
        if (mfd != -1)
            fds[n++] = (struct pollfd){
                mfd,
                (short)(POLLIN | (mqttp_want_write(d->mqtt) ? POLLOUT : 0)), 0};
        int hfd = d->http ? http_fd(d->http) : -1;
        if (hfd != -1)
            fds[n++] = (struct pollfd){hfd, POLLIN, 0};
        size_t ctl_at = n;
        n += control_pollfds(d->ctl, fds + n, MAX_POLLFDS - n);

        struct timespec tmo = {0, 250 * 1000000L};
        long hms = d->http ? http_timeout_ms(d->http) : -1;
        if (hms >= 0 && hms < 250)
            tmo.tv_nsec = hms * 1000000L;
        int rc = ppoll(fds, n, &tmo, &d->sigmask);
        if (rc == -1 && errno != EINTR) {
            log_warn("poll"); /* EINVAL/ENOMEM only: a bug, not a state */
            fatal("main loop");
        }
        double now = mono_now();
        if (rc > 0 && fds[0].revents)
            drain_queue(d);
        bool rd = false, wr = false;
        if (rc > 0 && mfd != -1 && fds[mqtt_at].fd == mfd) {
            rd = fds[mqtt_at].revents & (POLLIN | POLLHUP | POLLERR);
            wr = fds[mqtt_at].revents & POLLOUT;
        }
        mqttp_handle(d->mqtt, rd, wr, now);
        if (d->http)
            http_run(d->http, now);
        if (rc > 0)
            control_handle(d->ctl, fds + ctl_at, n - ctl_at, now);
        else
            control_handle(d->ctl, fds + ctl_at, 0, now);
        if (now >= d->next_eval) {
            bool publish = now >= d->next_publish;
            ecmond_evaluate(d, real_now(), publish);
            d->next_eval = now + EVAL_INTERVAL_S;
            if (publish)
                d->next_publish = now + PUBLISH_INTERVAL_S;
        }
        alert_out_tick(d->alerts, now);
        ledger_tick(d, now);
        if (now >= d->next_rrd) {
            rrd_tick(d);
            d->next_rrd = now + 1.0;
        }
        if (now >= next_status) {
            /* Keep the retained statuses' counters and last_ok fresh. */
            publish_meter_statuses(d);
            next_status = now + STATUS_REFRESH_S;
        }
        /* Last: what this iteration queued goes out in it. */
        outbox_tick(d->outbox, now);
#ifdef HAVE_SYSTEMD
        if (watchdog_us && now >= next_watchdog) {
            sd_notify(0, "WATCHDOG=1");
            next_watchdog = now + (double)watchdog_us / 2e6;
        }
#else
        (void)watchdog_us;
        (void)next_watchdog;
#endif
    }
#ifdef HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
    log_info("terminating");
    return 0;
}

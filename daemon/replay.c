/* ecmond -r: feed readings from a CSV file (ts,enterprise,meter,point,
 * value,flag) through the daemon's own path — ledger, alerts, RRD, MQTT —
 * with their own timestamps, then print a summary. Quotas are judged at
 * every hour boundary of the readings' time, so a replayed month raises the
 * alerts a live month would have, in order. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/alert_out.h"
#include "daemon/clock.h"
#include "daemon/ecmond.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "daemon/mqtt_pub.h"
#include "daemon/outbox.h"
#include "daemon/replay.h"

#define BATCH 4096
#define CONNECT_WAIT_S 3.0
#define SEND_STALL_S 5.0 /* give up sending the outbox without progress */

struct replay {
    struct ecmond *d;
    struct sample batch[BATCH];
    size_t n;
    size_t lines, readings, accepted, refused, bad;
    double last_ts;
    int64_t next_hour;       /* the next hour boundary to evaluate at */
    size_t queued;           /* readings handed to the batch */
    size_t accepted_at_eval; /* r->accepted at the last boundary */
    size_t queued_at_eval;   /* r->queued at the last boundary */
};

static void
pump_mqtt(struct ecmond *d, int timeout_ms)
{
    int fd = mqttp_fd(d->mqtt);
    struct pollfd p = {fd, POLLIN, 0};
    if (fd != -1 && mqttp_want_write(d->mqtt))
        p.events |= POLLOUT;
    if (fd != -1 && poll(&p, 1, timeout_ms) < 0)
        p.revents = 0;
    mqttp_handle(d->mqtt, fd != -1 && (p.revents & (POLLIN | POLLHUP)),
                 fd != -1 && (p.revents & POLLOUT), mono_now());
    outbox_tick(d->outbox, mono_now());
    /* There is no main loop here: reap the exec hooks, or after
     * MAX_HOOKS alerts every further hook would be skipped. */
    alert_out_tick(d->alerts, mono_now());
}

static void
flush(struct replay *r)
{
    size_t refused = 0;
    if (r->n == 0)
        return;
    ecmond_samples(r->d, r->batch, r->n, &refused);
    r->accepted += r->n - refused;
    r->refused += refused;
    r->n = 0;
    pump_mqtt(r->d, 0);
}

/* Judge every hour boundary before ts: the readings at a boundary belong
 * to the hour that ends there, so they count before it is judged. */
static void
catch_up(struct replay *r, double ts)
{
    if (r->next_hour == 0)
        r->next_hour = period_hour_start((int64_t)floor(ts), &r->d->tz) + 3600;
    while ((double)r->next_hour < ts) {
        flush(r);
        /* Judge only hours that got new readings: replaying what the
         * ledger already holds must not re-judge (and re-announce) the
         * past. Readings it holds but never judged (a run killed between
         * writing them and judging their hour) are judged now. */
        bool fresh = r->accepted > r->accepted_at_eval;
        bool unjudged = r->queued > r->queued_at_eval &&
                        r->next_hour > engine_judged_hour(r->d->engine);
        if (fresh || unjudged)
            ecmond_evaluate(r->d, (double)r->next_hour, true);
        r->accepted_at_eval = r->accepted;
        r->queued_at_eval = r->queued;
        r->next_hour += 3600;
    }
}

/* Parse one line into a sample; returns 0, 1 for a header or blank line,
 * or -1 with the reason in err. */
static int
parse_line(const struct conf *c, char *line, struct sample *s, char *err,
           size_t errlen)
{
    char *f[7];
    int nf = 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#')
        return 1;
    for (char *p = line; nf < 7; nf++) {
        f[nf] = p;
        p = strchr(p, ',');
        if (p == NULL) {
            nf++;
            break;
        }
        *p++ = '\0';
    }
    if (nf < 5 || nf > 6) {
        snprintf(err, errlen,
                 "expected ts,enterprise,meter,point,value,flag"
                 " (%d fields)",
                 nf);
        return -1;
    }
    char *end;
    errno = 0;
    double ts = strtod(f[0], &end);
    if (end == f[0] || *end != '\0') {
        if (strcmp(f[0], "ts") == 0)
            return 1; /* the header */
        snprintf(err, errlen, "bad timestamp '%s'", f[0]);
        return -1;
    }
    if (!isfinite(ts) || ts < 0 || ts > 253402300799.0) {
        snprintf(err, errlen, "timestamp %s out of range", f[0]);
        return -1;
    }
    int m = conf_find_meter(c, f[2]);
    if (m < 0) {
        snprintf(err, errlen, "unknown meter '%s'", f[2]);
        return -1;
    }
    const struct conf_meter *cm = &c->meters[m];
    const char *owner =
        cm->enterprise >= 0 ? c->enterprises[cm->enterprise].id : CONF_PARK_ID;
    if (strcmp(owner, f[1]) != 0) {
        snprintf(err, errlen, "meter '%s' belongs to '%s', not '%s'", f[2],
                 owner, f[1]);
        return -1;
    }
    int pi = conf_find_point(c, m, f[3]);
    if (pi < 0) {
        snprintf(err, errlen, "meter '%s' has no point '%s'", f[2], f[3]);
        return -1;
    }
    char flag = FLAG_NORMAL;
    if (nf == 6) {
        if (strlen(f[5]) != 1 || strchr("NFMSDCTB", f[5][0]) == NULL) {
            snprintf(err, errlen, "bad flag '%s' (one of N F M S D C T B)",
                     f[5]);
            return -1;
        }
        flag = f[5][0];
    }
    double v = NAN;
    if (f[4][0] != '\0' && strcmp(f[4], "null") != 0) {
        v = strtod(f[4], &end);
        if (end == f[4] || *end != '\0' || isinf(v)) {
            snprintf(err, errlen, "bad value '%s'", f[4]);
            return -1;
        }
    }
    if (isnan(v) && flag == FLAG_NORMAL) {
        snprintf(err, errlen, "no value for a reading flagged N");
        return -1;
    }
    s->ts = ts;
    s->value = v;
    s->meter = (uint32_t)m;
    s->point = (uint16_t)pi;
    s->flag = flag;
    return 0;
}

int
ecmond_replay(struct ecmond *d, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "ecmond: %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct replay *r = calloc(1, sizeof *r);
    if (r == NULL) {
        fclose(f);
        return 1;
    }
    r->d = d;
    /* Every transition runs the hook, however fast the readings come. */
    alert_out_set_wait(d->alerts, true);
    double end = mono_now() + CONNECT_WAIT_S;
    struct mqttp_stats ms;
    do {
        pump_mqtt(d, 100);
        mqttp_stats(d->mqtt, &ms);
    } while (!ms.connected && mono_now() < end);
    if (!ms.connected)
        log_warnx("replay: MQTT broker %s:%d not reachable: readings and "
                  "events stay in the outbox for the daemon to send",
                  d->conf->mqtt.host, d->conf->mqtt.port);

    char *line = NULL, err[256];
    size_t cap = 0;
    while (getline(&line, &cap, f) != -1) {
        struct sample s;
        r->lines++;
        int rc = parse_line(d->conf, line, &s, err, sizeof err);
        if (rc == 1)
            continue;
        if (rc == -1) {
            fprintf(stderr, "%s:%zu: %s\n", path, r->lines, err);
            r->bad++;
            continue;
        }
        r->readings++;
        if (s.ts > r->last_ts)
            r->last_ts = s.ts;
        catch_up(r, s.ts);
        r->batch[r->n++] = s;
        r->queued++;
        if (r->n == BATCH)
            flush(r);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    flush(r);
    if (r->readings > 0)
        ecmond_evaluate(d, r->last_ts, true);
    /* Send the outbox while the broker takes it; what is left waits for
     * the daemon. */
    struct outbox_stats os;
    uint64_t last = UINT64_MAX;
    double stall = mono_now() + SEND_STALL_S;
    for (;;) {
        pump_mqtt(d, 10);
        outbox_stats(d->outbox, &os);
        mqttp_stats(d->mqtt, &ms);
        if (os.queued == 0 || !ms.connected || mono_now() >= stall)
            break;
        if (os.queued != last)
            stall = mono_now() + SEND_STALL_S;
        last = os.queued;
    }
    if (os.queued > 0)
        log_info("replay: %" PRIu64 " messages left in the outbox for the "
                 "daemon to send",
                 os.queued);
    /* The last hooks get their exec_timeout, as the others did. */
    alert_out_drain(d->alerts, d->conf->alerts.exec_timeout);

    printf("replayed %zu readings from %s: %zu accepted, %zu refused "
           "(not newer than the ledger's), %zu bad lines; alerts: %llu\n",
           r->readings, path, r->accepted, r->refused, r->bad,
           (unsigned long long)d->alerts_raised);
    int rc = r->bad > 0 ? 1 : 0;
    free(r);
    return rc;
}

/* The outbox: readings and events wait in ecmond.db until the broker has
 * acknowledged them, and are handed to the publisher in order, a bounded
 * number at a time. A row is deleted only when its acknowledgement came, so
 * a restart sends again what was not acknowledged (at least once, never
 * lost while within the bounds).
 *
 * A new message first waits in memory (pend[]) and is sent from there; only
 * if it is not acknowledged within outbox.hold_ms, or the broker is not
 * connected, or the daemon stops, is it written to the table. With a
 * broker that answers, most messages never touch the database: no SQLite
 * work and no flash wear per reading. Every message not acknowledged is in
 * exactly one place, pend[] or the table, and every id in the table is
 * lower than every id in pend[]: pend[] is written from its oldest end. */
#include "daemon/outbox.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/clock.h"
#include "daemon/ledger_store.h"
#include "daemon/log.h"
#include "daemon/memtrim.h"
#include "daemon/mqtt_pub.h"

/* Unacknowledged messages at once: most of the library's window, so that
 * retained state published meanwhile is not queued behind a backlog. */
#define WINDOW (MQTTP_MAX_INFLIGHT * 3 / 4)
#define MAX_PENDING 100000 /* unwritten messages kept while writes fail */
#define KEEP_PENDING 4096  /* slots of the pending array kept when unused */
#define STATUS_EVERY_S 60.0
#define DROP_QUIET_S 60.0 /* without drops: dropping has stopped */
#define AGE_CHECK_EVERY_S 60.0
#define ACK_STALL_S 60.0
#define META_DROPPED "outbox.dropped"

enum { DROP_SIZE = 1, DROP_AGE = 2 };

/* A new message, not written yet: topic and payload in one allocation. */
struct pending {
    int64_t id;
    double created; /* Unix time, kept in the table */
    double made;    /* outbox_tick's clock, for the hold */
    char *topic;
    const char *payload;
    size_t len;
    bool acked; /* freed without being written */
};

struct flight {
    int mid;
    int64_t id;
    int64_t size;
};

struct outbox {
    const struct conf *c;
    struct ledger *l;
    struct mqtt_pub *m;
    char status_topic[256];
    uint64_t max_bytes;
    struct pending *pend;
    size_t npend, cap_pend;
    int64_t *acked; /* ids to delete at the next write */
    size_t nacked, cap_acked;
    struct flight flight[WINDOW]; /* in send order */
    size_t nflight;
    int64_t next_id;   /* of the next new message */
    int64_t cursor;    /* every message up to this id was handed over */
    int64_t table_max; /* the highest id ever written to the table */
    double hold;       /* outbox.hold_ms in seconds */
    bool blocked;      /* the last send stopped: window full, or refused */
    uint64_t queued, bytes, dropped;
    bool dropping;    /* logged; the count follows when it stops */
    uint64_t episode; /* dropped since dropping started */
    unsigned drop_why;
    double now; /* of the last tick */
    double last_drop, next_age_check, next_status, last_progress;
    uint64_t acks; /* acknowledgements since the last tick */
    bool sending;  /* inside mqttp_send: QoS 0 is acknowledged at once */
    int early_mid;
    bool was_connected, write_failing;
    uint64_t status_backlog, status_dropped; /* as last published */
};

static void
why_text(const struct outbox *o, unsigned why, char *buf, size_t len)
{
    char mb[32];
    snprintf(mb, sizeof mb, "%g", o->c->outbox.max_mb);
    snprintf(buf, len, "%s%s%s", why & DROP_SIZE ? "over max_mb = " : "",
             why & DROP_SIZE ? mb : "",
             why == (DROP_SIZE | DROP_AGE) ? " and " : "");
    if (why & DROP_AGE)
        snprintf(buf + strlen(buf), len - strlen(buf),
                 "older than max_age_days = %d", o->c->outbox.max_age_days);
}

/* n messages of `bytes` bytes leave the outbox unsent. Logged once when
 * dropping starts, and once with the count when it stopped. */
static void
note_drops(struct outbox *o, uint64_t n, uint64_t bytes, unsigned why)
{
    char text[96];
    o->queued -= n;
    o->bytes -= bytes;
    o->dropped += n;
    o->episode += n;
    o->last_drop = o->now;
    if (!o->dropping) {
        why_text(o, why, text, sizeof text);
        log_warnx("outbox: %s: dropping the oldest messages", text);
    }
    o->dropping = true;
    o->drop_why |= why;
}

static void
log_drops_end(struct outbox *o, bool force)
{
    char text[96];
    if (!o->dropping || (!force && o->now - o->last_drop < DROP_QUIET_S))
        return;
    why_text(o, o->drop_why, text, sizeof text);
    log_warnx("outbox: dropped the %" PRIu64 " oldest messages (%s); %" PRIu64
              " dropped in total",
              o->episode, text, o->dropped);
    o->dropping = false;
    o->episode = 0;
    o->drop_why = 0;
}

/* The message id in pend[] (sorted by id), or NULL. */
static struct pending *
find_pending(struct outbox *o, int64_t id)
{
    size_t lo = 0, hi = o->npend;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->pend[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->npend && o->pend[lo].id == id ? &o->pend[lo] : NULL;
}

/* The first message of pend[] with an id above `after`. */
static size_t
pending_after(const struct outbox *o, int64_t after)
{
    size_t lo = 0, hi = o->npend;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->pend[mid].id <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
on_ack(void *arg, int mid)
{
    struct outbox *o = arg;
    size_t i = 0;
    while (i < o->nflight && o->flight[i].mid != mid)
        i++;
    if (i == o->nflight) {
        if (o->sending)
            o->early_mid = mid;
        return; /* retained state, the park status */
    }
    if (o->flight[i].id > o->table_max) {
        /* Still in memory: it will never be written. */
        struct pending *p = find_pending(o, o->flight[i].id);
        if (p != NULL)
            p->acked = true;
    } else if (o->nacked == o->cap_acked) {
        size_t cap = o->cap_acked ? 2 * o->cap_acked : WINDOW;
        int64_t *a = realloc(o->acked, cap * sizeof *a);
        if (a == NULL)
            return; /* stays in flight: sent again by the next run */
        o->acked = a;
        o->cap_acked = cap;
        o->acked[o->nacked++] = o->flight[i].id;
    } else {
        o->acked[o->nacked++] = o->flight[i].id;
    }
    o->queued--;
    o->bytes -= (uint64_t)o->flight[i].size;
    o->nflight--;
    memmove(&o->flight[i], &o->flight[i + 1],
            (o->nflight - i) * sizeof o->flight[0]);
    o->acks++;
}

struct outbox *
outbox_open(const struct conf *c, struct ledger *l, struct mqtt_pub *m,
            char *err, size_t errlen)
{
    struct outbox *o = calloc(1, sizeof *o);
    int64_t count, bytes, max_id;
    char buf[32];
    if (o == NULL) {
        snprintf(err, errlen, "outbox: out of memory");
        return NULL;
    }
    if (ledger_outbox_totals(l, &count, &bytes, &max_id) == -1) {
        snprintf(err, errlen, "outbox: cannot read the outbox table");
        free(o);
        return NULL;
    }
    o->c = c;
    o->l = l;
    o->m = m;
    o->queued = (uint64_t)count;
    o->bytes = (uint64_t)bytes;
    o->next_id = max_id + 1;
    o->table_max = max_id;
    o->hold = c->outbox.hold_ms / 1000.0;
    o->now = mono_now(); /* until the first outbox_tick */
    o->max_bytes = (uint64_t)(c->outbox.max_mb * 1048576.0);
    if (ledger_get_meta(l, META_DROPPED, buf, sizeof buf) == 0)
        o->dropped = strtoull(buf, NULL, 10);
    snprintf(o->status_topic, sizeof o->status_topic, "%s/%s/outbox",
             c->mqtt.prefix, c->park.id);
    mqttp_on_ack(m, on_ack, o);
    if (count > 0)
        log_info("outbox: %" PRId64 " messages from before to send", count);
    return o;
}

struct trim {
    uint64_t excess; /* bytes over the bound */
    double cutoff;   /* rows queued before are too old */
    int64_t upto;
    uint64_t n, bytes;
    unsigned why;
};

static int
trim_row(void *arg, int64_t id, double created, int64_t size)
{
    struct trim *t = arg;
    unsigned why = (t->bytes < t->excess ? DROP_SIZE : 0) |
                   (created < t->cutoff ? DROP_AGE : 0);
    if (why == 0)
        return 1;
    t->why |= why;
    t->upto = id;
    t->n++;
    t->bytes += (uint64_t)size;
    return 0;
}

/* Drop the first k messages of pend[]. */
static void
shift_pending(struct outbox *o, size_t k)
{
    if (k > 0) {
        for (size_t i = 0; i < k; i++)
            free(o->pend[i].topic);
        memmove(o->pend, o->pend + k, (o->npend - k) * sizeof o->pend[0]);
        o->npend -= k;
    }
    /* The array keeps its size from one tick to the next; one that grew
     * with a backlog (the readings that came while the main loop was held
     * up, or while the broker was away: megabytes) shrinks once little of
     * it is used. */
    if (o->cap_pend > KEEP_PENDING && o->npend < o->cap_pend / 4) {
        size_t old = o->cap_pend, cap = KEEP_PENDING;
        while (cap < 2 * o->npend)
            cap *= 2;
        struct pending *p = realloc(o->pend, cap * sizeof *p);
        if (p != NULL) {
            o->pend = p;
            o->cap_pend = cap;
            memtrim((old - cap) * sizeof *p); /* and the backlog's */
        }
    }
}

/* Messages whose hold is over (all of them with `all`), acknowledgements
 * and trimming go into one transaction: with the ledger's WAL and
 * synchronous=NORMAL a commit appends to the WAL without fsync (only
 * checkpoints sync), so a busy loop costs no disk flush per message, and a
 * crash of the process loses nothing committed; a power cut may lose the
 * last commits but never corrupts the file. Messages acknowledged while
 * held are dropped without a write. */
static int
write_batch(struct outbox *o, double now, bool all)
{
    bool age_due = now >= o->next_age_check;
    bool over = o->bytes > o->max_bytes;
    char err[256], num[32];
    size_t k = 0, nwrite = 0;
    /* The oldest end of pend[]: acknowledged, or due to be written. */
    while (k < o->npend &&
           (o->pend[k].acked || all || now - o->pend[k].made >= o->hold)) {
        nwrite += !o->pend[k].acked;
        k++;
    }
    if (nwrite == 0 && o->nacked == 0 && !age_due && !over) {
        shift_pending(o, k);
        return 0;
    }
    struct trim t = {.excess = over ? o->bytes - o->max_bytes : 0,
                     .cutoff = age_due ? real_now() -
                                             o->c->outbox.max_age_days * 86400.0
                                       : -INFINITY};
    int64_t table_max = o->table_max;
    if (ledger_begin(o->l, err, sizeof err) == -1)
        goto fail;
    for (size_t i = 0; i < k; i++) {
        struct pending *p = &o->pend[i];
        if (p->acked)
            continue;
        if (ledger_outbox_put(o->l, p->id, p->created, p->topic, p->payload,
                              p->len, err, sizeof err) == -1)
            goto rollback;
        table_max = p->id;
    }
    for (size_t i = 0; i < o->nacked; i++)
        if (ledger_outbox_del(o->l, o->acked[i], err, sizeof err) == -1)
            goto rollback;
    /* Rows in flight (up to the cursor) are never dropped: the library
     * holds them and sends them again after a reconnection. */
    if ((over || age_due) &&
        ledger_outbox_scan(o->l, o->cursor, trim_row, &t) == -1) {
        snprintf(err, sizeof err, "cannot scan the outbox table");
        goto rollback;
    }
    if (t.n > 0) {
        snprintf(num, sizeof num, "%" PRIu64, o->dropped + t.n);
        if (ledger_outbox_del_range(o->l, o->cursor, t.upto, err, sizeof err) ==
                -1 ||
            ledger_set_meta(o->l, META_DROPPED, num, err, sizeof err) == -1)
            goto rollback;
    }
    if (ledger_commit(o->l, err, sizeof err) == -1)
        goto rollback;
    shift_pending(o, k);
    o->table_max = table_max;
    o->nacked = 0;
    if (t.n > 0)
        note_drops(o, t.n, t.bytes, t.why);
    if (age_due)
        o->next_age_check = now + AGE_CHECK_EVERY_S;
    if (o->write_failing)
        log_info("outbox: writes work again");
    o->write_failing = false;
    return 0;
rollback:
    ledger_rollback(o->l);
fail:
    if (!o->write_failing)
        log_warnx("outbox: %s; keeping new messages in memory", err);
    o->write_failing = true;
    if (o->npend > MAX_PENDING) {
        size_t n = o->npend - MAX_PENDING;
        uint64_t bytes = 0, dropped = 0;
        for (size_t i = 0; i < n; i++)
            if (!o->pend[i].acked) {
                bytes += strlen(o->pend[i].topic) + o->pend[i].len;
                dropped++;
            }
        shift_pending(o, n);
        if (dropped > 0)
            note_drops(o, dropped, bytes, DROP_SIZE);
    }
    return -1;
}

static int
send_row(void *arg, int64_t id, const char *topic, const char *payload,
         size_t len)
{
    struct outbox *o = arg;
    int mid = 0;
    if (o->nflight == WINDOW) {
        o->blocked = true;
        return 1;
    }
    o->sending = true;
    o->early_mid = -1;
    int rc = mqttp_send(o->m, topic, payload, len, o->c->mqtt.qos, &mid);
    o->sending = false;
    if (rc == -1) {
        o->blocked = true;
        return 1;
    }
    o->flight[o->nflight++] =
        (struct flight){mid, id, (int64_t)(strlen(topic) + len)};
    o->cursor = id;
    if (o->early_mid == mid)
        on_ack(o, mid);
    return 0;
}

/* Hand the next messages to the publisher, in id order: the table's
 * first, then those held in memory. */
static void
send_next(struct outbox *o)
{
    o->blocked = false;
    if (o->cursor < o->table_max) {
        int want = (int)(WINDOW - o->nflight);
        int got = ledger_outbox_next(o->l, o->cursor, want, send_row, o);
        if (got == -1) {
            log_warnx("outbox: cannot read the outbox table");
            return;
        }
        if (o->blocked || got == want)
            return;
        /* Fewer than asked: the table has nothing after the cursor. */
        o->cursor = o->table_max;
    }
    for (size_t i = pending_after(o, o->cursor); i < o->npend; i++) {
        struct pending *p = &o->pend[i];
        if (p->acked) /* sent before a resend from the start */
            continue;
        if (send_row(o, p->id, p->topic, p->payload, p->len) != 0)
            return;
    }
}

/* Messages not handed to the publisher yet. */
static uint64_t
backlog(const struct outbox *o)
{
    return o->queued > o->nflight ? o->queued - o->nflight : 0;
}

static void
publish_status(struct outbox *o, double now)
{
    char buf[128];
    uint64_t n_backlog = backlog(o);
    int n = snprintf(buf, sizeof buf,
                     "{\"queued\":%" PRIu64 ",\"dropped\":%" PRIu64 "}",
                     n_backlog, o->dropped);
    if (mqttp_publish(o->m, o->status_topic, buf, (size_t)n, o->c->mqtt.qos,
                      true) == 0) {
        o->status_backlog = n_backlog;
        o->status_dropped = o->dropped;
    }
    o->next_status = now + STATUS_EVERY_S;
}

void
outbox_tick(struct outbox *o, double now)
{
    bool conn = mqttp_connected(o->m);
    o->now = now;
    /* Not connected: nothing will acknowledge the new messages soon. */
    write_batch(o, now, !conn);
    log_drops_end(o, false);

    /* The library sends unacknowledged messages again after reconnecting;
     * should acknowledgements stop while connected, send them ourselves. */
    if (!conn || o->nflight == 0 || o->acks > 0 || !o->was_connected)
        o->last_progress = now;
    else if (now - o->last_progress > ACK_STALL_S) {
        log_warnx("outbox: no acknowledgement for %.0f s; sending the %zu "
                  "unacknowledged messages again",
                  ACK_STALL_S, o->nflight);
        o->nflight = 0;
        o->cursor = 0;
        o->last_progress = now;
    }
    o->acks = 0;

    if (conn && o->cursor < o->next_id - 1 && o->nflight < WINDOW) {
        mqttp_cork(o->m, true);
        send_next(o);
        mqttp_cork(o->m, false);
    }

    /* The retained state: at once after connecting and when the backlog
     * is gone, else at most once a minute when it changed. */
    uint64_t waiting = backlog(o);
    if (conn && (!o->was_connected || (waiting == 0 && o->status_backlog) ||
                 (now >= o->next_status && (waiting != o->status_backlog ||
                                            o->dropped != o->status_dropped))))
        publish_status(o, now);
    o->was_connected = conn;
}

void
outbox_publish(struct outbox *o, const char *topic, const char *payload,
               size_t len, bool retain)
{
    if (retain) {
        mqttp_publish(o->m, topic, payload, len, o->c->mqtt.qos, true);
        return;
    }
    size_t tlen = strlen(topic);
    if (o->npend == o->cap_pend) {
        size_t cap = o->cap_pend ? 2 * o->cap_pend : 64;
        struct pending *p = realloc(o->pend, cap * sizeof *p);
        if (p == NULL) {
            o->queued++;
            note_drops(o, 1, 0, DROP_SIZE);
            return;
        }
        o->pend = p;
        o->cap_pend = cap;
    }
    struct pending *p = &o->pend[o->npend];
    p->topic = malloc(tlen + 1 + len);
    if (p->topic == NULL) {
        o->queued++;
        note_drops(o, 1, 0, DROP_SIZE);
        return;
    }
    memcpy(p->topic, topic, tlen + 1);
    memcpy(p->topic + tlen + 1, payload, len);
    p->payload = p->topic + tlen + 1;
    p->len = len;
    p->id = o->next_id++;
    p->created = real_now();
    p->made = o->now; /* the clock of outbox_tick, as of the last one */
    p->acked = false;
    o->npend++;
    o->queued++;
    o->bytes += tlen + len;
}

void
outbox_stats(struct outbox *o, struct outbox_stats *out)
{
    out->queued = o->queued;
    out->bytes = o->bytes;
    out->inflight = o->nflight;
    out->dropped = o->dropped;
    out->oldest = ledger_outbox_oldest(o->l);
    if (isnan(out->oldest) && o->npend > 0)
        out->oldest = o->pend[0].created;
}

void
outbox_close(struct outbox *o)
{
    if (o == NULL)
        return;
    o->now = mono_now();
    write_batch(o, o->now, true);
    log_drops_end(o, true);
    for (size_t i = 0; i < o->npend; i++)
        free(o->pend[i].topic);
    free(o->pend);
    free(o->acked);
    free(o);
}

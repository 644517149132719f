/* The outbox: every message the daemon publishes goes through here.
 * Readings and events (not retained) are kept in the outbox table of
 * ecmond.db until the broker acknowledges them, and are sent in order, with
 * a bounded number in flight; retained state goes out at once when
 * connected (the latest value is what matters; the caller publishes it
 * again after a reconnection). Bounded by outbox.max_mb and
 * outbox.max_age_days: the oldest unsent messages are dropped first. */
#ifndef ECMON_OUTBOX_H
#define ECMON_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct ledger;
struct mqtt_pub;
struct outbox;

struct outbox_stats {
    uint64_t queued;   /* messages not acknowledged yet, in flight included */
    uint64_t bytes;    /* their topic and payload bytes */
    uint64_t inflight; /* handed to the publisher, not acknowledged */
    uint64_t dropped;  /* dropped by the bounds, ever (kept in ecmond.db) */
    double oldest;     /* Unix time the oldest was queued, NAN if none */
};

/* Open on the ledger's database and the publisher (both outlive the
 * outbox); registers for the publisher's acknowledgements. Messages left
 * by an earlier run are sent first, from the oldest. Returns NULL with a
 * message in err. */
struct outbox *outbox_open(const struct conf *c, struct ledger *l,
                           struct mqtt_pub *m, char *err, size_t errlen);

/* Write what is pending, then free. Call after the publisher's last
 * acknowledgements (mqttp_close) and before the ledger closes; what was not
 * acknowledged is sent again by the next run. */
void outbox_close(struct outbox *o);

/* Publish with the configured QoS. Not retained: queued (in memory until
 * the next outbox_tick writes it) and sent after everything queued before
 * it. Retained: sent at once when connected, else dropped and counted by
 * the publisher. The message is copied. */
void outbox_publish(struct outbox *o, const char *topic, const char *payload,
                    size_t len, bool retain);

/* Once per main-loop iteration (`now` monotonic seconds): write the new
 * messages and delete the acknowledged ones in one transaction, apply the
 * bounds, then hand the next messages to the publisher while connected.
 * Also publishes the retained <prefix>/<park>/outbox state. */
void outbox_tick(struct outbox *o, double now);

void outbox_stats(struct outbox *o, struct outbox_stats *out);

#endif

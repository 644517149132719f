/* The MQTT publisher driven by the main loop: the only libmosquitto user. */
#ifndef ECMON_MQTT_PUB_H
#define ECMON_MQTT_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct mqtt_pub;

/* QoS > 0 messages the library has on the wire at once; more wait in its
 * queue. */
#define MQTTP_MAX_INFLIGHT 100

struct mqttp_stats {
    int connected;
    uint64_t published; /* messages handed to the library */
    uint64_t dropped;   /* mqttp_publish calls refused (not connected) */
    uint64_t unacked;   /* QoS > 0 messages not acknowledged yet */
    uint64_t connects;  /* successful connections */
};

/* Create the client (will, credentials, TLS) and start connecting without
 * blocking. Returns NULL with a message in err (e.g. unreadable
 * password_file, bad TLS files). `on_connect` runs on every (re)connection,
 * from mqttp_handle, so the caller can republish retained state. */
struct mqtt_pub *mqttp_new(const struct conf *c, void (*on_connect)(void *),
                           void *arg, char *err, size_t errlen);

/* The socket to poll (-1 while disconnected) and whether to poll it for
 * writing. */
int mqttp_fd(struct mqtt_pub *m);
bool mqttp_want_write(struct mqtt_pub *m);

/* Service the connection after poll: readable/writable as poll said. Also
 * call at least once a second with both false (keepalive, reconnect with
 * bounded backoff). `now` is monotonic seconds. */
void mqttp_handle(struct mqtt_pub *m, bool readable, bool writable, double now);

/* Whether the broker accepted the connection and it has not broken since,
 * as far as the library knows. */
bool mqttp_connected(struct mqtt_pub *m);

/* Publish; returns 0, or -1 when not connected (the message is counted as
 * dropped) or the library refused it. */
int mqttp_publish(struct mqtt_pub *m, const char *topic, const char *payload,
                  size_t len, int qos, bool retain);

/* Publish a message the caller keeps until it is acknowledged (the
 * outbox): not retained; *mid gets its message id. Returns 0, or -1 when
 * not connected or refused; nothing is counted as dropped. */
int mqttp_send(struct mqtt_pub *m, const char *topic, const char *payload,
               size_t len, int qos, int *mid);

/* Hold small writes back (on) while many messages are sent, so they leave
 * in full TCP segments; off sends what is held at once. Without a TCP
 * connection it does nothing. */
void mqttp_cork(struct mqtt_pub *m, bool on);

/* Call fn(arg, mid) from mqttp_handle when the broker acknowledged a
 * message (PUBACK for QoS 1, PUBCOMP for QoS 2; QoS 0 once written). The
 * library sends unacknowledged messages again after a reconnection, with
 * the same mid. */
void mqttp_on_ack(struct mqtt_pub *m, void (*fn)(void *arg, int mid),
                  void *arg);

/* Subscribe to `filter` (QoS 1) now and on every reconnection, and hand
 * each non-retained message to fn from mqttp_handle. The payload is not
 * NUL-terminated. Returns 0 or -1. */
int mqttp_set_input(struct mqtt_pub *m, const char *filter,
                    void (*fn)(void *arg, const char *topic,
                               const char *payload, size_t len),
                    void *arg);

void mqttp_stats(struct mqtt_pub *m, struct mqttp_stats *out);

/* Publish `offline` on the status topic, wait at most `timeout` seconds for
 * QoS > 0 messages to be acknowledged, disconnect and free. */
void mqttp_close(struct mqtt_pub *m, double timeout);

#endif

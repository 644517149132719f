/* The MQTT publisher driven by the main loop: the only libmosquitto user.
 * Errors from libmosquitto are mapped to text here, once. */
#include "daemon/mqtt_pub.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mosquitto.h>

#include "daemon/core/topic.h"
#include "daemon/clock.h"
#include "daemon/log.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0

struct mqtt_pub {
    struct mosquitto *mosq;
    const struct conf *conf;
    char status_topic[256];
    void (*on_connect)(void *);
    char *input_filter; /* subscribed on every connection */
    void (*on_input)(void *, const char *, const char *, size_t);
    void *input_arg;
    void (*on_ack)(void *, int);
    void *ack_arg;
    void *arg;
    int connected;
    int connecting;  /* a connect is in flight */
    int logged_down; /* the outage was logged */
    double next_try; /* monotonic */
    double backoff;
    struct mqttp_stats st;
};

static const char *
mosq_err(int rc)
{
    if (rc == MOSQ_ERR_ERRNO)
        return strerror(errno);
    return mosquitto_strerror(rc);
}

static void
cb_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct mqtt_pub *m = obj;
    (void)mosq;
    m->connecting = 0;
    if (rc != 0) {
        if (!m->logged_down)
            log_warnx("mqtt %s:%d: connection refused: %s", m->conf->mqtt.host,
                      m->conf->mqtt.port, mosquitto_connack_string(rc));
        m->logged_down = 1;
        return;
    }
    m->connected = 1;
    m->backoff = BACKOFF_MIN;
    m->st.connects++;
    /* unacked is not reset: libmosquitto keeps the QoS 1 messages that were
     * in flight when the connection broke and sends them again now. */
    log_info("mqtt %s:%d: connected", m->conf->mqtt.host, m->conf->mqtt.port);
    m->logged_down = 0;
    if (mosquitto_publish(m->mosq, NULL, m->status_topic, 6, "online", 1,
                          true) == MOSQ_ERR_SUCCESS)
        m->st.unacked++; /* its PUBACK comes through cb_publish too */
    if (m->input_filter && mosquitto_subscribe(m->mosq, NULL, m->input_filter,
                                               1) != MOSQ_ERR_SUCCESS)
        log_warnx("mqtt: cannot subscribe to %s", m->input_filter);
    if (m->on_connect)
        m->on_connect(m->arg);
}

static void
cb_message(struct mosquitto *mosq, void *obj,
           const struct mosquitto_message *msg)
{
    struct mqtt_pub *m = obj;
    (void)mosq;
    if (m->on_input && msg->topic && !msg->retain)
        m->on_input(m->input_arg, msg->topic,
                    msg->payload ? (const char *)msg->payload : "",
                    (size_t)(msg->payloadlen > 0 ? msg->payloadlen : 0));
}

int
mqttp_set_input(struct mqtt_pub *m, const char *filter,
                void (*fn)(void *arg, const char *topic, const char *payload,
                           size_t len),
                void *arg)
{
    free(m->input_filter);
    m->input_filter = strdup(filter);
    if (m->input_filter == NULL)
        return -1;
    m->on_input = fn;
    m->input_arg = arg;
    if (m->connected &&
        mosquitto_subscribe(m->mosq, NULL, filter, 1) != MOSQ_ERR_SUCCESS)
        return -1;
    return 0;
}

static void
cb_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    struct mqtt_pub *m = obj;
    (void)mosq;
    if (m->connected && rc != 0)
        log_warnx("mqtt %s:%d: connection lost", m->conf->mqtt.host,
                  m->conf->mqtt.port);
    if (m->connected)
        m->logged_down = rc != 0;
    m->connected = 0;
    m->connecting = 0;
}

static void
cb_publish(struct mosquitto *mosq, void *obj, int mid)
{
    struct mqtt_pub *m = obj;
    (void)mosq;
    if (m->st.unacked > 0)
        m->st.unacked--;
    if (m->on_ack)
        m->on_ack(m->ack_arg, mid);
}

void
mqttp_on_ack(struct mqtt_pub *m, void (*fn)(void *arg, int mid), void *arg)
{
    m->on_ack = fn;
    m->ack_arg = arg;
}

static int
read_password(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "password_file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fgets(buf, (int)len, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static void
try_connect(struct mqtt_pub *m, double now)
{
    int rc;
    if (m->st.connects == 0 && !m->connecting && m->next_try == 0)
        rc = mosquitto_connect_async(m->mosq, m->conf->mqtt.host,
                                     m->conf->mqtt.port,
                                     m->conf->mqtt.keepalive);
    else
        rc = mosquitto_reconnect_async(m->mosq);
    m->next_try = now + m->backoff;
    m->backoff = m->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : m->backoff * 2;
    if (rc != MOSQ_ERR_SUCCESS) {
        if (!m->logged_down)
            log_warnx("mqtt %s:%d: cannot connect: %s", m->conf->mqtt.host,
                      m->conf->mqtt.port, mosq_err(rc));
        m->logged_down = 1;
        m->connecting = 0;
        return;
    }
    m->connecting = 1;
}

struct mqtt_pub *
mqttp_new(const struct conf *c, void (*on_connect)(void *), void *arg,
          char *err, size_t errlen)
{
    static int lib_ready;
    if (!lib_ready) {
        mosquitto_lib_init();
        lib_ready = 1;
    }
    struct mqtt_pub *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->conf = c;
    m->on_connect = on_connect;
    m->arg = arg;
    m->backoff = BACKOFF_MIN;
    topic_park_status(m->status_topic, sizeof m->status_topic, c->mqtt.prefix,
                      c->park.id);
    m->mosq = mosquitto_new(c->mqtt.client_id, true, m);
    if (m->mosq == NULL) {
        snprintf(err, errlen, "mosquitto_new: %s", strerror(errno));
        free(m);
        return NULL;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                         MQTT_PROTOCOL_V311);
    mosquitto_int_option(m->mosq, MOSQ_OPT_SEND_MAXIMUM, MQTTP_MAX_INFLIGHT);
    /* A reading is one small packet: with Nagle's algorithm it waits for
     * the broker's ACK of the previous one (tens of ms with delayed ACKs),
     * which set the p99 delay to subscribers. */
    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m->mosq, cb_connect);
    mosquitto_disconnect_callback_set(m->mosq, cb_disconnect);
    mosquitto_publish_callback_set(m->mosq, cb_publish);
    mosquitto_message_callback_set(m->mosq, cb_message);
    int rc =
        mosquitto_will_set(m->mosq, m->status_topic, 7, "offline", 1, true);
    if (rc == MOSQ_ERR_SUCCESS && c->mqtt.username) {
        char pw[256] = "";
        if (c->mqtt.password_file &&
            read_password(c->mqtt.password_file, pw, sizeof pw, err, errlen) ==
                -1)
            goto fail;
        rc = mosquitto_username_pw_set(m->mosq, c->mqtt.username,
                                       c->mqtt.password_file ? pw : NULL);
        memset(pw, 0, sizeof pw);
    }
    if (rc == MOSQ_ERR_SUCCESS && c->mqtt.tls) {
        rc = mosquitto_tls_set(m->mosq, c->mqtt.ca_file, c->mqtt.ca_path,
                               c->mqtt.cert_file, c->mqtt.key_file, NULL);
        if (rc == MOSQ_ERR_SUCCESS && c->mqtt.tls_insecure)
            rc = mosquitto_tls_insecure_set(m->mosq, true);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(err, errlen, "mqtt setup: %s", mosq_err(rc));
        goto fail;
    }
    try_connect(m, mono_now());
    return m;
fail:
    mosquitto_destroy(m->mosq);
    free(m);
    return NULL;
}

int
mqttp_fd(struct mqtt_pub *m)
{
    return mosquitto_socket(m->mosq);
}

bool
mqttp_want_write(struct mqtt_pub *m)
{
    return mosquitto_want_write(m->mosq);
}

void
mqttp_handle(struct mqtt_pub *m, bool readable, bool writable, double now)
{
    int rc = MOSQ_ERR_SUCCESS;
    if (readable)
        rc = mosquitto_loop_read(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && writable)
        rc = mosquitto_loop_write(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_loop_misc(m->mosq);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
        if (m->connected)
            log_warnx("mqtt %s:%d: %s", m->conf->mqtt.host, m->conf->mqtt.port,
                      mosq_err(rc));
        else if (!m->logged_down)
            log_warnx("mqtt %s:%d: cannot connect: %s", m->conf->mqtt.host,
                      m->conf->mqtt.port, mosq_err(rc));
        m->logged_down = 1;
        m->connected = 0;
        m->connecting = 0;
        mosquitto_disconnect(m->mosq);
    }
    if (!m->connected && mosquitto_socket(m->mosq) == -1)
        m->connecting = 0;
    if (!m->connected && !m->connecting && now >= m->next_try)
        try_connect(m, now);
    /* A connect that hangs (no CONNACK) is abandoned after the backoff. */
    if (m->connecting && now >= m->next_try + 10) {
        mosquitto_disconnect(m->mosq);
        m->connecting = 0;
    }
}

bool
mqttp_connected(struct mqtt_pub *m)
{
    return m->connected;
}

static int
publish(struct mqtt_pub *m, const char *topic, const char *payload, size_t len,
        int qos, bool retain, int *mid)
{
    if (!m->connected ||
        mosquitto_publish(m->mosq, mid, topic, (int)len, payload, qos,
                          retain) != MOSQ_ERR_SUCCESS)
        return -1;
    m->st.published++;
    if (qos > 0)
        m->st.unacked++;
    return 0;
}

int
mqttp_publish(struct mqtt_pub *m, const char *topic, const char *payload,
              size_t len, int qos, bool retain)
{
    if (publish(m, topic, payload, len, qos, retain, NULL) == -1) {
        m->st.dropped++;
        return -1;
    }
    return 0;
}

void
mqttp_cork(struct mqtt_pub *m, bool on)
{
    int fd = m->connected ? mosquitto_socket(m->mosq) : -1, v = on;
    /* libmosquitto writes each packet at once: a second's thousands of
     * readings would leave as as many segments, each costing the sender
     * the TCP (and on loopback the receiver's) processing. A failure (not
     * TCP) leaves writes as they were. */
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v);
}

int
mqttp_send(struct mqtt_pub *m, const char *topic, const char *payload,
           size_t len, int qos, int *mid)
{
    return publish(m, topic, payload, len, qos, false, mid);
}

void
mqttp_stats(struct mqtt_pub *m, struct mqttp_stats *out)
{
    *out = m->st;
    out->connected = m->connected;
}

void
mqttp_close(struct mqtt_pub *m, double timeout)
{
    if (m == NULL)
        return;
    if (m->connected) {
        if (mosquitto_publish(m->mosq, NULL, m->status_topic, 7, "offline", 1,
                              true) == MOSQ_ERR_SUCCESS)
            m->st.unacked++;
        double end = mono_now() + timeout;
        while (m->connected && m->st.unacked > 0 && mono_now() < end) {
            struct pollfd p = {mosquitto_socket(m->mosq), POLLIN, 0};
            if (mosquitto_want_write(m->mosq))
                p.events |= POLLOUT;
            if (p.fd < 0 || poll(&p, 1, 100) < 0)
                break;
            mqttp_handle(m, p.revents & POLLIN, p.revents & POLLOUT,
                         mono_now());
        }
        mosquitto_disconnect(m->mosq);
    }
    mosquitto_destroy(m->mosq);
    free(m->input_filter);
    free(m);
}

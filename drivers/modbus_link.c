/* A Modbus link over libmodbus, TCP or RTU; maps libmodbus errors once. */
#include "drivers/modbus_link.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>

struct mb_link {
    struct mblink base;
    modbus_t *ctx;
};

static void
set_timeouts(modbus_t *ctx, int timeout_ms)
{
    uint32_t sec = (uint32_t)(timeout_ms / 1000);
    uint32_t usec = (uint32_t)(timeout_ms % 1000) * 1000;
    modbus_set_response_timeout(ctx, sec, usec);
    modbus_set_byte_timeout(ctx, sec, usec);
}

/* Connect a TCP socket ourselves, waiting with poll(): libmodbus 3.1.6
 * would wait with select(), which aborts the process for a descriptor >=
 * FD_SETSIZE. A link whose descriptor is that high is refused instead, as
 * libmodbus will select() on it for every answer. */
static int
tcp_connect(const struct conf_bus *bus, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res, *ai;
    char port[8];
    int fd = -1, rc;

    snprintf(port, sizeof port, "%d", bus->port);
    if ((rc = getaddrinfo(bus->host, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "%s: %s", bus->host, gai_strerror(rc));
        return -1;
    }
    snprintf(err, errlen, "no address");
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd == -1) {
            snprintf(err, errlen, "socket: %s", strerror(errno));
            continue;
        }
        if (fd >= FD_SETSIZE) {
            snprintf(err, errlen,
                     "descriptor %d is beyond libmodbus's limit of %d", fd,
                     FD_SETSIZE);
            close(fd);
            fd = -1;
            break;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t len = sizeof soerr;
            rc = poll(&p, 1, bus->timeout_ms);
            if (rc == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
                soerr == 0)
                break;
            snprintf(err, errlen, "%s",
                     rc == 0 ? "connection timed out" : strerror(soerr));
        } else {
            snprintf(err, errlen, "%s", strerror(errno));
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd != -1) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int
mb_connect(struct mblink *l, char *err, size_t errlen)
{
    struct mb_link *m = (struct mb_link *)l;
    if (l->bus->kind == BUS_TCP) {
        int fd = tcp_connect(l->bus, err, errlen);
        if (fd == -1)
            return -1;
        modbus_set_socket(m->ctx, fd);
    } else {
        if (modbus_connect(m->ctx) == -1) {
            snprintf(err, errlen, "%s", modbus_strerror(errno));
            return -1;
        }
        if (modbus_get_socket(m->ctx) >= FD_SETSIZE) {
            modbus_close(m->ctx);
            snprintf(err, errlen, "descriptor beyond FD_SETSIZE (%d)",
                     FD_SETSIZE);
            return -1;
        }
    }
    l->connected = 1;
    return 0;
}

static void
mb_close(struct mblink *l)
{
    struct mb_link *m = (struct mb_link *)l;
    if (l->connected)
        modbus_close(m->ctx);
    l->connected = 0;
}

static enum mblink_status
map_errno(int e, int *exc, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", modbus_strerror(e));
    if (e > MODBUS_ENOBASE && e < MODBUS_ENOBASE + 12) {
        *exc = e - MODBUS_ENOBASE;
        snprintf(err, errlen, "exception %d (%s)", *exc,
                 mblink_exception_name(*exc));
        return MBL_EXCEPTION;
    }
    switch (e) {
    case ETIMEDOUT:
        return MBL_TIMEOUT;
    case EMBBADCRC:
    case EMBBADDATA:
    case EMBBADEXC:
    case EMBMDATA:
#ifdef EMBBADSLAVE
    case EMBBADSLAVE:
#endif
        return MBL_BADFRAME;
    default:
        return MBL_IO;
    }
}

static enum mblink_status
mb_read(struct mblink *l, int slave, enum conf_table table, uint16_t addr,
        uint16_t count, uint16_t *dst, int *exc, char *err, size_t errlen)
{
    struct mb_link *m = (struct mb_link *)l;
    int n;

    *exc = 0;
    if (modbus_set_slave(m->ctx, slave) == -1) {
        snprintf(err, errlen, "bad unit id %d", slave);
        return MBL_BADFRAME;
    }
    errno = 0;
    if (table == TABLE_HOLDING)
        n = modbus_read_registers(m->ctx, addr, count, dst);
    else
        n = modbus_read_input_registers(m->ctx, addr, count, dst);
    if (n == count)
        return MBL_OK;
    if (n >= 0) {
        snprintf(err, errlen, "short answer: %d of %u registers", n, count);
        return MBL_BADFRAME;
    }
    int e = errno;
    enum mblink_status st = map_errno(e, exc, err, errlen);
    if (st == MBL_TIMEOUT || st == MBL_BADFRAME) {
        /* Drop a late or garbled answer so it cannot pass for the next. */
        modbus_flush(m->ctx);
        if (l->bus->kind == BUS_TCP && st == MBL_BADFRAME)
            st = MBL_IO; /* resynchronise the stream by reconnecting */
    }
    if (st == MBL_IO)
        mb_close(l);
    return st;
}

static void
mb_destroy(struct mblink *l)
{
    struct mb_link *m = (struct mb_link *)l;
    mb_close(l);
    modbus_free(m->ctx);
    free(m);
}

static const struct mblink_ops mb_ops = {
    .connect = mb_connect,
    .close = mb_close,
    .read = mb_read,
    .destroy = mb_destroy,
};

struct mblink *
mblink_new(const struct conf_bus *bus, char *err, size_t errlen)
{
    struct mb_link *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (bus->kind == BUS_TCP) {
        char port[8];
        snprintf(port, sizeof port, "%d", bus->port);
        m->ctx = modbus_new_tcp_pi(bus->host, port);
    } else {
        m->ctx = modbus_new_rtu(bus->device, bus->baud, bus->parity,
                                bus->data_bits, bus->stop_bits);
    }
    if (m->ctx == NULL) {
        snprintf(err, errlen, "%s", modbus_strerror(errno));
        free(m);
        return NULL;
    }
    set_timeouts(m->ctx, bus->timeout_ms);
    m->base.ops = &mb_ops;
    m->base.bus = bus;
    return &m->base;
}

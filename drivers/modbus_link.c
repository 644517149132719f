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

struct mblink {
    const struct conf_bus *bus;
    modbus_t *ctx;
    bool connected;
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

int
mblink_connect(struct mblink *l, char *err, size_t errlen)
{
    if (l->bus->kind == BUS_TCP) {
        int fd = tcp_connect(l->bus, err, errlen);
        if (fd == -1)
            return -1;
        modbus_set_socket(l->ctx, fd);
        l->connected = true;
        return 0;
    }
    if (modbus_connect(l->ctx) == -1) {
        snprintf(err, errlen, "%s", modbus_strerror(errno));
        return -1;
    }
    /* libmodbus 3.1.6 waits with select(), which aborts the process for a
     * descriptor >= FD_SETSIZE: refuse the line instead. (The TCP engine
     * keeps its sockets above FD_SETSIZE when it can, leaving the low
     * descriptors to the select() users.) */
    if (modbus_get_socket(l->ctx) >= FD_SETSIZE) {
        modbus_close(l->ctx);
        snprintf(err, errlen, "descriptor beyond FD_SETSIZE (%d)", FD_SETSIZE);
        return -1;
    }
    l->connected = true;
    return 0;
}

bool
mblink_connected(const struct mblink *l)
{
    return l->connected;
}

void
mblink_close(struct mblink *l)
{
    if (l->connected)
        modbus_close(l->ctx);
    l->connected = false;
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

enum mblink_status
mblink_read(struct mblink *l, int slave, enum conf_table table, uint16_t addr,
            uint16_t count, uint16_t *dst, int *exc, char *err, size_t errlen)
{
    int n;

    *exc = 0;
    if (modbus_set_slave(l->ctx, slave) == -1) {
        snprintf(err, errlen, "bad unit id %d", slave);
        return MBL_BADFRAME;
    }
    errno = 0;
    if (table == TABLE_HOLDING)
        n = modbus_read_registers(l->ctx, addr, count, dst);
    else
        n = modbus_read_input_registers(l->ctx, addr, count, dst);
    if (n == count)
        return MBL_OK;
    if (n >= 0) {
        snprintf(err, errlen, "short answer: %d of %u registers", n, count);
        return MBL_BADFRAME;
    }
    int e = errno;
    enum mblink_status st = map_errno(e, exc, err, errlen);
    if (st == MBL_TIMEOUT || st == MBL_BADFRAME) {
        modbus_flush(l->ctx); /* drop a late or garbled answer */
        if (l->bus->kind == BUS_TCP && st == MBL_BADFRAME)
            st = MBL_IO; /* resynchronise the stream by reconnecting */
    }
    if (st == MBL_IO)
        mblink_close(l);
    return st;
}

void
mblink_free(struct mblink *l)
{
    if (l == NULL)
        return;
    mblink_close(l);
    modbus_free(l->ctx);
    free(l);
}

struct mblink *
mblink_new(const struct conf_bus *bus, char *err, size_t errlen)
{
    struct mblink *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (bus->kind == BUS_TCP) {
        char port[8];
        snprintf(port, sizeof port, "%d", bus->port);
        l->ctx = modbus_new_tcp_pi(bus->host, port);
    } else {
        l->ctx = modbus_new_rtu(bus->device, bus->baud, bus->parity,
                                bus->data_bits, bus->stop_bits);
    }
    if (l->ctx == NULL) {
        snprintf(err, errlen, "%s", modbus_strerror(errno));
        free(l);
        return NULL;
    }
    set_timeouts(l->ctx, bus->timeout_ms);
    l->bus = bus;
    return l;
}

/* A Modbus RTU line over libmodbus; maps libmodbus errors once. */
#include "drivers/modbus_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

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

int
mblink_connect(struct mblink *l, char *err, size_t errlen)
{
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
    if (st == MBL_TIMEOUT || st == MBL_BADFRAME)
        modbus_flush(l->ctx); /* drop a late or garbled answer */
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
    if (bus->kind != BUS_RTU) {
        snprintf(err, errlen, "bus %s: not an RTU bus", bus->id);
        return NULL;
    }
    struct mblink *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->ctx = modbus_new_rtu(bus->device, bus->baud, bus->parity, bus->data_bits,
                            bus->stop_bits);
    if (l->ctx == NULL) {
        snprintf(err, errlen, "%s", modbus_strerror(errno));
        free(l);
        return NULL;
    }
    set_timeouts(l->ctx, bus->timeout_ms);
    l->bus = bus;
    return l;
}

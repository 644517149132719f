/* A Modbus RTU line over libmodbus: the only libmodbus user. Modbus TCP
 * buses are served by drivers/tcp_engine.c, which frames Modbus TCP itself
 * on epoll (libmodbus waits with select() and so cannot serve descriptors
 * >= FD_SETSIZE, nor thousands of gateways from one thread). */
#ifndef ECMON_MODBUS_LINK_H
#define ECMON_MODBUS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/mblink.h"

struct mblink;

/* A link for the RTU bus `bus`, not yet connected. Returns NULL with a
 * message in err on failure (bad serial settings, or a TCP bus). */
struct mblink *mblink_new(const struct conf_bus *bus, char *err, size_t errlen);

/* Open the line. Returns 0, or -1 with the reason in err. */
int mblink_connect(struct mblink *l, char *err, size_t errlen);

bool mblink_connected(const struct mblink *l);

void mblink_close(struct mblink *l);

/* Read `count` registers at `addr` of `table` from unit `slave` into dst,
 * waiting at most the bus's timeout_ms. On MBL_EXCEPTION *exc holds the
 * exception code; on MBL_IO the link is closed (connect again). A late or
 * garbled answer is flushed so that it cannot pass for the next one. */
enum mblink_status mblink_read(struct mblink *l, int slave,
                               enum conf_table table, uint16_t addr,
                               uint16_t count, uint16_t *dst, int *exc,
                               char *err, size_t errlen);

/* Close and free. NULL is ignored. */
void mblink_free(struct mblink *l);

#endif

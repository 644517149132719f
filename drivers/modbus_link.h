/* A Modbus link (one TCP gateway or one RTU line): the only libmodbus user. */
#ifndef ECMON_MODBUS_LINK_H
#define ECMON_MODBUS_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/mblink.h"

struct mblink;

/* What a link implementation provides (libmodbus TCP and RTU today; a
 * poll-driven Modbus TCP framer can be added behind the same interface). */
struct mblink_ops {
    int (*connect)(struct mblink *l, char *err, size_t errlen);
    void (*close)(struct mblink *l);
    /* Read `count` registers at `addr` of `table` from unit `slave` into
     * dst. On MBL_EXCEPTION *exc holds the exception code. */
    enum mblink_status (*read)(struct mblink *l, int slave,
                               enum conf_table table, uint16_t addr,
                               uint16_t count, uint16_t *dst, int *exc,
                               char *err, size_t errlen);
    void (*destroy)(struct mblink *l);
};

struct mblink {
    const struct mblink_ops *ops;
    const struct conf_bus *bus;
    int connected;
};

/* A link for `bus` (TCP or RTU by bus->kind), not yet connected. Returns
 * NULL with a message in err on failure (e.g. bad serial settings). */
struct mblink *mblink_new(const struct conf_bus *bus, char *err, size_t errlen);

#endif

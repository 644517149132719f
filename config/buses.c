/* The buses section: Modbus TCP gateways and RTU serial lines, with their
 * timing and request-merging limits. */
#include <limits.h>
#include <math.h>

#include "config/loader.h"

static const char *const bus_keys[] = {"id",         "tcp",      "rtu",
                                       "timeout_ms", "retries",  "frame_gap_ms",
                                       "max_gap",    "max_regs", NULL};
static const char *const tcp_keys[] = {"host", "port", NULL};
static const char *const rtu_keys[] = {"device",    "baud",      "parity",
                                       "data_bits", "stop_bits", NULL};

static bool
standard_baud(int b)
{
    static const int rates[] = {300,   600,   1200,  2400,   4800,  9600,
                                19200, 38400, 57600, 115200, 230400};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        if (rates[i] == b)
            return true;
    return false;
}

/* Milliseconds of 3.5 characters at the bus's speed, at least 2 (Modbus
 * over serial line: a fixed 1.75 ms above 19200 baud). */
static int
rtu_min_gap(const struct conf_bus *b)
{
    if (b->baud > 19200)
        return 2;
    int bits = 1 + b->data_bits + (b->parity != 'N') + b->stop_bits;
    return (int)ceil(3.5 * bits * 1000.0 / b->baud);
}

static const char *
nm_parity(int i)
{
    static const char *const p[] = {"N", "E", "O"};
    return p[i];
}

static void
load_tcp(struct cload *x, const config_setting_t *tcp, struct conf_bus *b)
{
    b->kind = BUS_TCP;
    b->port = 502;
    cload_check_keys(x, tcp, "tcp", tcp_keys);
    cload_get_nonempty(x, tcp, "host", "tcp", true, &b->host);
    cload_get_int(x, tcp, "port", "tcp", false, 1, 65535, &b->port, NULL);
}

static void
load_rtu(struct cload *x, const config_setting_t *rtu, struct conf_bus *b)
{
    b->kind = BUS_RTU;
    b->baud = 9600;
    b->parity = 'N';
    b->data_bits = 8;
    b->stop_bits = 1;
    cload_check_keys(x, rtu, "rtu", rtu_keys);
    cload_get_path(x, rtu, "device", "rtu", true, &b->device);
    const config_setting_t *s;
    int baud;
    if (cload_get_int(x, rtu, "baud", "rtu", false, INT_MIN, INT_MAX, &baud,
                      &s) == 1) {
        if (!standard_baud(baud))
            cload_err(x, s,
                      "'baud' must be a standard rate (300, 600, 1200, "
                      "2400, 4800, 9600, 19200, 38400, 57600, 115200 or "
                      "230400), not %d",
                      baud);
        else
            b->baud = baud;
    }
    int p = cload_get_enum(x, rtu, "parity", "rtu", false, nm_parity, 3);
    if (p >= 0)
        b->parity = nm_parity(p)[0];
    if (cload_get_int(x, rtu, "data_bits", "rtu", false, 7, 8, &b->data_bits,
                      NULL) < 0)
        b->data_bits = 8;
    if (cload_get_int(x, rtu, "stop_bits", "rtu", false, 1, 2, &b->stop_bits,
                      NULL) < 0)
        b->stop_bits = 1;
}

static void
load_bus(struct cload *x, const config_setting_t *e, struct conf_bus *b)
{
    b->src = cload_src(x, e);
    b->timeout_ms = 1000;
    b->retries = 1;
    b->max_gap = 8;
    b->max_regs = 125;
    cload_check_keys(x, e, "bus", bus_keys);
    cload_get_id(x, e, "bus", b->id);
    const config_setting_t *tcp = cload_get_group(x, e, "tcp");
    const config_setting_t *rtu = cload_get_group(x, e, "rtu");
    if (cload_member(e, "tcp") && cload_member(e, "rtu"))
        cload_err(x, cload_member(e, "rtu"),
                  "bus '%s' has both 'tcp' and 'rtu'; "
                  "give one",
                  b->id);
    else if (!cload_member(e, "tcp") && !cload_member(e, "rtu"))
        cload_err(x, e,
                  "bus '%s' needs 'tcp' = { host; port; } or 'rtu' = "
                  "{ device; ... }",
                  b->id);
    if (tcp)
        load_tcp(x, tcp, b);
    else if (rtu)
        load_rtu(x, rtu, b);
    cload_get_int(x, e, "timeout_ms", "bus", false, 1, 60000, &b->timeout_ms,
                  NULL);
    cload_get_int(x, e, "retries", "bus", false, 0, 10, &b->retries, NULL);
    cload_get_int(x, e, "max_gap", "bus", false, 0, 124, &b->max_gap, NULL);
    cload_get_int(x, e, "max_regs", "bus", false, 1, 125, &b->max_regs, NULL);
    int min_gap = b->kind == BUS_RTU && rtu ? rtu_min_gap(b) : 0;
    b->frame_gap_ms = min_gap;
    const config_setting_t *s;
    int gap;
    if (cload_get_int(x, e, "frame_gap_ms", "bus", false, 0, 10000, &gap, &s) ==
        1) {
        if (gap < min_gap)
            cload_err(x, s,
                      "'frame_gap_ms' must be at least %d at %d baud (3.5 "
                      "characters), not %d",
                      min_gap, b->baud, gap);
        else
            b->frame_gap_ms = gap;
    }
}

void
cload_buses(struct cload *x, const config_setting_t *root)
{
    struct conf *c = x->conf;
    const config_setting_t *l = cload_get_list(x, root, "buses");
    if (l == NULL)
        return;
    int n = config_setting_length(l);
    c->buses = cload_calloc((size_t)n, sizeof(*c->buses));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = cload_elem_group(x, l, i, "bus");
        if (e)
            load_bus(x, e, &c->buses[c->nbuses++]);
    }
}

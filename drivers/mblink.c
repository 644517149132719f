/* Modbus exception names (MODBUS Application Protocol Specification V1.1b3,
 * section 7). */
#include "drivers/mblink.h"

static const char *const exception_names[] = {
    [1] = "illegal function",
    [2] = "illegal data address",
    [3] = "illegal data value",
    [4] = "server device failure",
    [5] = "acknowledge",
    [6] = "server device busy",
    [7] = "negative acknowledge",
    [8] = "memory parity error",
    [10] = "gateway path unavailable",
    [11] = "gateway target device failed to respond",
};

const char *
mblink_exception_name(int code)
{
    if (code > 0 &&
        code < (int)(sizeof exception_names / sizeof exception_names[0]) &&
        exception_names[code])
        return exception_names[code];
    return "unknown exception";
}

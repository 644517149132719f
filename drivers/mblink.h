/* The vocabulary of a Modbus transaction's outcome, shared by the libmodbus
 * RTU link, the Modbus TCP engine and the per-meter poll logic. Pure. */
#ifndef ECMON_MBLINK_H
#define ECMON_MBLINK_H

enum mblink_status {
    MBL_OK = 0,
    MBL_EXCEPTION, /* the device answered with a Modbus exception */
    MBL_TIMEOUT,   /* no (complete) answer in time */
    MBL_BADFRAME,  /* CRC error, wrong unit id, malformed answer */
    MBL_IO,        /* the connection is gone: reconnect before the next read */
};

/* Modbus exception names for logs ("illegal data address"); "unknown
 * exception" for a code the standard does not define. */
const char *mblink_exception_name(int code);

#endif

/* The control protocol codec (pure): one request line in, a parsed request
 * out. Replies are one JSON document, then the server closes. */
#ifndef ECMON_CTL_PROTO_H
#define ECMON_CTL_PROTO_H

#include <stddef.h>

#define CTL_MAX_LINE 1024
#define CTL_MAX_ARGS 4
#define CTL_MAX_ARG 128

enum ctl_cmd {
    CTL_STATUS,
    CTL_METERS,
    CTL_USAGE,
    CTL_ALERTS,
    CTL_CAPACITY,
    CTL_VALUE_ADDED,
    CTL_RELOAD,
    CTL_MQTT_ACL,
    CTL_FLUSH,
};

struct ctl_req {
    enum ctl_cmd cmd;
    int argc;
    char argv[CTL_MAX_ARGS][CTL_MAX_ARG];
};

/* Parse one request line (without or with its trailing newline; `len` bytes,
 * not necessarily NUL-terminated). Returns 0, or -1 with a message in err:
 * unknown command, wrong number of arguments, a character outside
 * [A-Za-z0-9_.:+-], an argument or line too long. */
int ctl_parse(const char *buf, size_t len, struct ctl_req *req, char *err,
              size_t errlen);

/* The command's name ("status"), for logs and the client. */
const char *ctl_cmd_name(enum ctl_cmd cmd);

#endif

/* The control socket: a unix stream socket served from the main loop. */
#ifndef ECMON_CONTROL_H
#define ECMON_CONTROL_H

#include <poll.h>
#include <stddef.h>

#include "daemon/ctl_proto.h"

struct control;

/* Build the reply for a parsed request: a malloc'd NUL-terminated JSON
 * document (the control module frees it). */
typedef char *(*control_handler)(const struct ctl_req *req, void *arg);

/* Bind `path` with mode 0660. Refuses (-1, message in err) when another
 * process answers on it; removes a stale socket file. */
struct control *control_open(const char *path, control_handler h, void *arg,
                             char *err, size_t errlen);

/* Add the listener's and clients' pollfds to fds (at most `max`); returns
 * how many were added. */
size_t control_pollfds(struct control *c, struct pollfd *fds, size_t max);

/* Handle what poll returned for those fds, and drop clients idle longer than
 * a few seconds (`now` monotonic). */
void control_handle(struct control *c, const struct pollfd *fds, size_t n,
                    double now);

void control_close(struct control *c);

#endif

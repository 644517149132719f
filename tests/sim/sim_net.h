/* The simulator's transports: Modbus TCP listeners, RTU ptys and the
 * control socket, all served by one poll loop. */
#ifndef ECMON_SIM_NET_H
#define ECMON_SIM_NET_H

#include <signal.h>
#include <stddef.h>

#include "tests/sim/sim.h"

struct net;

/* Seconds on the monotonic clock since the first call. */
double sim_clock(void);

/* Bind every TCP bus (loopback hosts only), create every RTU bus's pty and
 * symlink, and the control socket at ctl_path (mode 0600) unless NULL.
 * Returns the transport, or NULL with a message in err; what was created
 * is removed again on failure. Registers pause/resume in s. */
struct net *net_open(struct sim *s, const char *ctl_path, char *err,
                     size_t errlen);

/* Serve until *stop is set (by a signal handler) or s->quit. `sigmask` is
 * the mask to wait with (the stop signals unblocked). Returns 0, or -1 if
 * poll fails. */
int net_run(struct net *n, volatile sig_atomic_t *stop,
            const sigset_t *sigmask);

/* Close everything; remove the symlinks and the control socket. */
void net_close(struct net *n);

#endif

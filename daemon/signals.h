/* Signal handling: handlers only set flags; the main loop acts on them. */
#ifndef ECMON_SIGNALS_H
#define ECMON_SIGNALS_H

#include <signal.h>

extern volatile sig_atomic_t sig_terminate;
extern volatile sig_atomic_t sig_reload;

/* Install the handlers for SIGTERM, SIGINT and SIGHUP, ignore SIGPIPE, and
 * block the three: they are delivered only inside
 * ppoll(…, &unblocked), so none is lost between a check and the wait.
 * Fills `unblocked` with the mask to pass to ppoll. */
void signals_init(sigset_t *unblocked);

#endif

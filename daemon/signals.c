/* Signal handling: handlers only set flags; the main loop acts on them. */
#include "daemon/signals.h"

#include <string.h>

volatile sig_atomic_t sig_terminate;
volatile sig_atomic_t sig_reload;

static void
on_signal(int sig)
{
    if (sig == SIGHUP)
        sig_reload = 1;
    else
        sig_terminate = 1;
}

void
signals_init(sigset_t *unblocked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, unblocked);
    sigdelset(unblocked, SIGTERM);
    sigdelset(unblocked, SIGINT);
    sigdelset(unblocked, SIGHUP);
}

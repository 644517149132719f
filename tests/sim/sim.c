/* ecmon-sim: serves, on loopback and ptys, the Modbus meters an ecmond
 * config describes, with plausible changing values and injectable faults. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/log.h"
#include "tests/sim/sim.h"
#include "tests/sim/sim_net.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void
usage(void)
{
    fprintf(stderr, "usage: ecmon-sim -c FILE [-C CTL_SOCKET] [-x COMMANDS] "
                    "[-s SEED] [-r READY_FILE] [-v]\n");
    exit(1);
}

/* Run the control commands of `path` (one per line, # comments). Returns 0,
 * or -1 after printing file:line: and the reply of the first failure. */
static int
run_commands(struct sim *s, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024], reply[1024];
    int lineno = 0;

    if (!f) {
        fprintf(stderr, "ecmon-sim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "#\n")] = '\0';
        if (line[strspn(line, " \t\r")] == '\0')
            continue;
        if (sim_ctl_exec(s, line, sim_clock(), reply, sizeof reply) < 0) {
            fprintf(stderr, "%s:%d: %s\n", path, lineno,
                    strncmp(reply, "err ", 4) == 0 ? reply + 4 : reply);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* Write our pid to `path` atomically, so a reader never sees it half done. */
static int
write_ready(const char *path)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")))
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *conf_path = NULL, *ctl_path = NULL, *cmds = NULL;
    const char *ready = NULL;
    unsigned long long seed = 1;
    int verbose = 0, ch, rc = 1;
    char *end;

    while ((ch = getopt(argc, argv, "c:C:x:s:r:v")) != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            break;
        case 'C':
            ctl_path = optarg;
            break;
        case 'x':
            cmds = optarg;
            break;
        case 's':
            errno = 0;
            seed = strtoull(optarg, &end, 0);
            if (*optarg == '\0' || *end != '\0' || errno)
                usage();
            break;
        case 'r':
            ready = optarg;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
        }
    }
    if (!conf_path || optind != argc)
        usage();
    log_init("ecmon-sim", 1, verbose);
    sim_clock();

    struct conf_errors errs = {0};
    struct conf *conf = conf_load(conf_path, &errs);
    if (!conf) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        if (errs.n == 0)
            fprintf(stderr, "ecmon-sim: %s: cannot load\n", conf_path);
        conf_errors_free(&errs);
        return 1;
    }
    conf_errors_free(&errs);

    struct sim sim;
    if (sim_init(&sim, conf, seed) < 0) {
        fprintf(stderr, "ecmon-sim: out of memory\n");
        conf_free(conf);
        return 1;
    }

    /* The stop signals are blocked except while the loop waits in ppoll. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, waitmask;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGHUP);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    char err[512];
    struct net *net = net_open(&sim, ctl_path, err, sizeof err);
    if (!net) {
        fprintf(stderr, "ecmon-sim: %s\n", err);
        goto out;
    }
    if (cmds && run_commands(&sim, cmds) < 0)
        goto out;
    fprintf(stderr, "ecmon-sim: serving %zu meters on %zu buses\n",
            conf->nmeters, conf->nbuses);
    if (ready && write_ready(ready) < 0) {
        fprintf(stderr, "ecmon-sim: %s: %s\n", ready, strerror(errno));
        goto out;
    }
    if (net_run(net, &stop, &waitmask) == 0)
        rc = 0;
    log_debug("exiting");
out:
    net_close(net);
    if (ready)
        unlink(ready);
    sim_free(&sim);
    conf_free(conf);
    return rc;
}

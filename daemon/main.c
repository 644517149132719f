/* ecmond: argument parsing and start-up. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/ecmond.h"
#include "daemon/log.h"
#include "daemon/replay.h"

#define DEFAULT_CONF "/etc/ecmond/ecmond.conf"

/* Go to the background. The parent exits only once the child reports that
 * it started (exit 0) or failed (exit 1), so init scripts see the truth.
 * Returns the pipe's write end in the child. */
static int
detach(void)
{
    int p[2];
    if (pipe(p) == -1) {
        perror("ecmond: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == -1) {
        perror("ecmond: fork");
        exit(1);
    }
    if (pid > 0) {
        char ok = 0;
        close(p[1]);
        if (read(p[0], &ok, 1) != 1 || ok != '1') {
            fprintf(stderr, "ecmond: start-up failed; see the system log\n");
            _exit(1);
        }
        _exit(0);
    }
    close(p[0]);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null != -1) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    }
    return p[1];
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: ecmond [-dnv] [-c FILE] [-r READINGS.csv]\n"
               "  -c FILE  configuration file (default " DEFAULT_CONF ")\n"
               "  -d       stay in the foreground and log to stderr\n"
               "  -n       check the configuration and exit\n"
               "  -v       more output: with -n print the normalized config,\n"
               "           else log debug messages\n"
               "  -r FILE  replay readings from a CSV file and exit\n"
               "  -h       this help; -V the version\n");
}

int
main(int argc, char **argv)
{
    const char *conf_path = DEFAULT_CONF;
    const char *replay = NULL;
    int foreground = 0, check = 0, verbose = 0, ch;

    while ((ch = getopt(argc, argv, "c:dnvr:hV")) != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            break;
        case 'd':
            foreground = 1;
            break;
        case 'n':
            check = 1;
            break;
        case 'v':
            verbose++;
            break;
        case 'r':
            replay = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("ecmond %s\n", ECMON_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    /* State files 0640, directories 0750 (DESIGN: not world-readable). */
    umask(027);
    struct conf_errors errs = {0};
    struct conf *conf = conf_load(conf_path, &errs);
    if (conf == NULL) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        fprintf(stderr, "ecmond: %zu error%s in configuration\n", errs.n,
                errs.n == 1 ? "" : "s");
        conf_errors_free(&errs);
        return 1;
    }
    conf_errors_free(&errs);
    if (check) {
        if (verbose)
            conf_print(conf, stdout);
        else
            fprintf(stderr, "configuration OK\n");
        conf_free(conf);
        return 0;
    }
    if (replay) {
        /* Backfill: the daemon's path, no meters polled, no control. */
        log_init("ecmond", 1, verbose);
        struct ecmond d = {.conf_path = conf_path, .conf = conf};
        d.q.efd = -1;
        d.lock_fd = -1;
        int rc = 1;
        if (ecmond_lock(&d) == 0 && ecmond_drop_root(&d) == 0 &&
            ecmond_open_outputs(&d, true) == 0)
            rc = ecmond_replay(&d, replay);
        ecmond_stop(&d);
        conf_free(d.conf);
        return rc;
    }
    /* Under systemd (Type=notify) stay in the foreground, log to syslog. */
    int ready_fd = -1;
    if (!foreground && getenv("NOTIFY_SOCKET") == NULL)
        ready_fd = detach();
    log_init("ecmond", foreground, verbose);

    struct ecmond d = {
        .conf_path = conf_path,
        .conf = conf,
    };
    if (ecmond_start(&d) == -1) {
        ecmond_stop(&d);
        conf_free(d.conf);
        return 1;
    }
    if (ready_fd != -1) {
        if (write(ready_fd, "1", 1) != 1) {
        }
        close(ready_fd);
    }
    int rc = ecmond_run(&d);
    ecmond_stop(&d);
    conf_free(d.conf);
    return rc;
}

/* ecmond: argument parsing and start-up. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "daemon/log.h"

#define DEFAULT_CONF "/etc/ecmond/ecmond.conf"

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ecmond [-dnv] [-c FILE] [-r READINGS.csv]\n"
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
    int foreground = 0, check = 0, verbose = 0, ch;

    while ((ch = getopt(argc, argv, "c:dnvr:hV")) != -1) {
        switch (ch) {
        case 'c': conf_path = optarg; break;
        case 'd': foreground = 1; break;
        case 'n': check = 1; break;
        case 'v': verbose++; break;
        case 'r': break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("ecmond %s\n", ECMON_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

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
    log_init("ecmond", foreground, verbose);
    (void)foreground;
    conf_free(conf);
    return 0;
}

/* Logging: stderr in the foreground, syslog as a daemon; thread-safe lines. */
#include "daemon/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static int log_stderr = 1;
static int log_verbose;
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, int to_stderr, int verbose)
{
    log_stderr = to_stderr;
    log_verbose = verbose;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!log_stderr) {
        if (suffix)
            syslog(pri, "%s: %s", msg, suffix);
        else
            syslog(pri, "%s", msg);
        return;
    }
    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    pthread_mutex_lock(&log_mtx);
    fprintf(stderr, "%s.%03ld %s%s%s\n", when, ts.tv_nsec / 1000000, msg,
            suffix ? ": " : "", suffix ? suffix : "");
    pthread_mutex_unlock(&log_mtx);
}

#define LOG_BODY(pri, suffix)                                                  \
    va_list ap;                                                                \
    va_start(ap, fmt);                                                         \
    vlog(pri, fmt, ap, suffix);                                                \
    va_end(ap)

void
log_warn(const char *fmt, ...)
{
    char buf[256];
    const char *e = strerror_r(errno, buf, sizeof buf);
    LOG_BODY(LOG_WARNING, e);
}

void
log_warnx(const char *fmt, ...)
{
    LOG_BODY(LOG_WARNING, NULL);
}

void
log_info(const char *fmt, ...)
{
    LOG_BODY(LOG_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
    if (!log_verbose)
        return;
    LOG_BODY(LOG_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
    char buf[256];
    const char *e = strerror_r(errno, buf, sizeof buf);
    LOG_BODY(LOG_CRIT, e);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, NULL);
    exit(1);
}

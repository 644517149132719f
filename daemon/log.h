/* Logging: stderr in the foreground, syslog as a daemon. */
#ifndef ECMON_LOG_H
#define ECMON_LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* to_stderr: log to stderr (foreground, tests); else syslog as `ident`.
 * verbose > 0 also prints log_debug. */
void log_init(const char *ident, int to_stderr, int verbose);
void log_warn(const char *fmt, ...) LOG_FMT(1, 2); /* appends strerror */
void log_warnx(const char *fmt, ...) LOG_FMT(1, 2);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(const char *fmt, ...) LOG_FMT(1, 2);
void fatal(const char *fmt, ...) LOG_FMT(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_FMT(1, 2) __attribute__((noreturn));

#endif

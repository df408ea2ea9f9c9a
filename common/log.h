/*
 * log.h: logging for both daemons.
 * stderr in the foreground, syslog when daemonized; printf-format checked.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* dest: 0 = stderr, 1 = syslog. verbose > 0 enables log_debug. */
void log_init(const char *ident, int to_syslog, int verbose);
void log_setverbose(int verbose);
int log_getverbose(void);

void log_warn(const char *, ...) LOG_FMT(1, 2); /* appends strerror(errno) */
void log_warnx(const char *, ...) LOG_FMT(1, 2);
void log_info(const char *, ...) LOG_FMT(1, 2);
void log_debug(const char *, ...) LOG_FMT(1, 2);
void log_event(int warn, const char *line); /* a kv.c line, as it is */
void fatal(const char *, ...) LOG_FMT(1, 2) __attribute__((noreturn));
void fatalx(const char *, ...) LOG_FMT(1, 2) __attribute__((noreturn));

#endif

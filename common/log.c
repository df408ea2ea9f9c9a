/*
 * log.c: logging for both daemons.
 * stderr in the foreground, syslog once daemonized; errno is preserved.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "sbuf.h"

static int log_syslog;
static int log_verbose;
static char log_ident[64] = "";

void
log_init(const char *ident, int to_syslog, int verbose)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "");
	log_verbose = verbose;
	if (log_syslog)
		closelog();
	log_syslog = to_syslog;
	if (log_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

/*
 * Format the message once; append ": strerror" when err is non-zero. The
 * stack buffer bounds the line, long messages are truncated. Names in a
 * message may come from peers or configs: control and non-ASCII bytes
 * are written as \xNN (sbuf_text), so a line can neither drive the
 * terminal nor forge another line.
 */
static void
put_line(int pri, const char *line)
{
	if (log_syslog)
		syslog(pri, "%s", line);
	else if (log_ident[0] != '\0')
		fprintf(stderr, "%s: %s\n", log_ident, line);
	else
		fprintf(stderr, "%s\n", line);
}

static void
vlog(int pri, int err, const char *fmt, va_list ap)
{
	char msg[2048], safe[4 * sizeof(msg)];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		msg[0] = '\0';
	if (err != 0) {
		size_t l = strlen(msg);

		snprintf(msg + l, sizeof(msg) - l, ": %s", strerror(err));
	}
	sbuf_text_copy(safe, sizeof(safe), msg);
	put_line(pri, safe);
}

/*
 * An event line (kv.c) is printable ASCII with its own escapes already:
 * written as it is, so that its backslashes are not escaped twice.
 */
void
log_event(int warn, const char *line)
{
	int saved = errno;

	put_line(warn ? LOG_ERR : LOG_INFO, line);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_verbose <= 0)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

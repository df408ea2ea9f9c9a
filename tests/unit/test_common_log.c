/*
 * test_common_log.c: log lines on stderr: the ident prefix, errno kept
 * and appended, and names with control or non-ASCII bytes written as
 * \xNN so that a line can neither drive the terminal nor forge another.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run f with stderr into a file; the text written into out. */
static void
capture(void (*f)(void), char *out, size_t len)
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd, saved;
	ssize_t n;

	fflush(stderr);
	assert_true((fd = mkstemp(path)) != -1);
	saved = dup(STDERR_FILENO);
	assert_true(saved != -1);
	assert_true(dup2(fd, STDERR_FILENO) != -1);
	f();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	assert_true(lseek(fd, 0, SEEK_SET) == 0);
	n = read(fd, out, len - 1);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	unlink(path);
}

static void
log_hostile(void)
{
	log_warnx("peer says \"%s\"", "ftp\033[2J\nsyncd: forged line\r\x9b");
}

static void
log_errno(void)
{
	errno = ENOENT;
	log_warn("open %s", "/etc/x");
}

static void
test_escaped(void **ctx)
{
	char buf[512];

	log_init("t", 0, 0);
	capture(log_hostile, buf, sizeof(buf));
	assert_string_equal(buf,
	    "t: peer says \"ftp\\x1b[2J\\x0asyncd: "
	    "forged line\\x0d\\x9b\"\n");
	/* One line, whatever the name held. */
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void
log_kvline(void)
{
	log_event(1,
	    "event=reload result=refused error=\"bad \\\"x\\\" \\\\\"");
}

/* An event line keeps its own escapes: its backslashes are not doubled. */
static void
test_event(void **ctx)
{
	char buf[512];

	log_init("t", 0, 0);
	capture(log_kvline, buf, sizeof(buf));
	assert_string_equal(buf,
	    "t: event=reload result=refused error=\"bad \\\"x\\\" \\\\\"\n");
}

static void
test_errno(void **ctx)
{
	char buf[512];

	log_init("t", 0, 0);
	errno = 0;
	capture(log_errno, buf, sizeof(buf));
	assert_string_equal(buf,
	    "t: open /etc/x: No such file or directory\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

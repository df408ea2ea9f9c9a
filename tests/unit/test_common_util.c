/*
 * test_common_util.c: process helpers: whole-file reads with a limit,
 * spawning with extra environment and a clean signal state, logging.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"

static void
test_read_file(void **state)
{
	char path[] = "/tmp/test_util.XXXXXX", *buf;
	size_t len;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(util_read_file(path, 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	assert_int_equal(util_read_file(path, 9, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(buf);
	unlink(path);
	assert_int_equal(util_read_file(path, 10, &buf, &len), -1);
	assert_int_equal(errno, ENOENT);
}

/*
 * The child shell reports its environment value and whether SIGTERM is
 * blocked or ignored: it prints FOO and then kills itself with TERM.
 */
static void
test_spawn(void **state)
{
	char out[] = "/tmp/test_spawn.XXXXXX", cmd[256], *buf;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char *env[] = { "FOO=bar baz", "CARP_TEST=1", NULL };
	sigset_t set, old;
	size_t len;
	pid_t pid;
	int st, fd;

	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
	    "echo \"$FOO/$CARP_TEST\" > %s;"
	    " kill -TERM $$; echo survived >> %s",
	    out, out);
	/* Parent state the child must not inherit. */
	setenv("FOO", "old", 1);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGTERM, SIG_IGN);
	pid = util_spawn(argv, env);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	assert_int_equal(util_read_file(out, 4096, &buf, &len), 0);
	assert_string_equal(buf, "bar baz/1\n");
	free(buf);
	unlink(out);
	unsetenv("FOO");

	argv[0] = "/nonexistent/script";
	pid = util_spawn(argv, NULL);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 127);
}

static void
test_nonblock(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(util_nonblock(p[0]), 0);
	assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	close(p[0]);
	close(p[1]);
	assert_int_equal(util_nonblock(p[0]), -1);
	assert_int_equal(util_sodium_init(), 0);
	assert_int_equal(util_sodium_init(), 0);
	assert_true(util_wallclock() > 1.5e9);
}

static void
test_log(void **state)
{
	char path[] = "/tmp/test_log.XXXXXX", *buf;
	size_t len;
	int fd, saved;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	log_init("tst", 0, 0);
	errno = ENOENT;
	log_warn("%s: open %s", "f", "x");
	assert_int_equal(errno, ENOENT);
	log_debug("hidden");
	log_setverbose(1);
	assert_int_equal(log_getverbose(), 1);
	log_debug("shown %d", 1);
	log_warnx("plain");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	assert_int_equal(util_read_file(path, 4096, &buf, &len), 0);
	assert_string_equal(buf,
	    "tst: f: open x: No such file or directory\n"
	    "tst: shown 1\ntst: plain\n");
	free(buf);
	unlink(path);
	log_setverbose(0);
}

/* A non-blocking send goes as far as the socket takes, then resumes. */
static void
test_send_nb(void **state)
{
	static char big[1 << 20], got[1 << 20];
	size_t off = 0, have = 0;
	ssize_t n;
	int sv[2];

	(void)state;
	memset(big, 'q', sizeof(big));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(util_send_nb(sv[0], big, sizeof(big), &off), 0);
	assert_true(off > 0 && off < sizeof(big)); /* the socket filled */
	while (have < sizeof(big)) {
		n = recv(sv[1], got + have, sizeof(got) - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		assert_int_equal(util_send_nb(sv[0], big, sizeof(big), &off),
		    0);
	}
	assert_int_equal(off, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	/* A closed peer is an error, not a signal. */
	close(sv[1]);
	off = 0;
	assert_int_equal(util_send_nb(sv[0], big, 10, &off), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_spawn),
		cmocka_unit_test(test_nonblock),
		cmocka_unit_test(test_send_nb),
		cmocka_unit_test(test_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

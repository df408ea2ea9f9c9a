/*
 * util.c: small process helpers: libsodium setup, daemonizing,
 * non-blocking fds, whole-file reads, spawning scripts.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

extern char **environ;

int
util_send_nb(int fd, const void *buf, size_t len, size_t *off)
{
	ssize_t n;

	while (*off < len) {
		n = send(fd, (const char *)buf + *off, len - *off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		*off += (size_t)n;
	}
	return 0;
}

int
util_sodium_init(void)
{
	/* 0 on first success, 1 when already initialised. */
	if (sodium_init() < 0) {
		log_warnx("%s: libsodium initialisation failed", __func__);
		return -1;
	}
	return 0;
}

int
util_daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	/* Second fork: never reacquire a controlling terminal. */
	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

int
util_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if ((fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

int
util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, saved, ret = -1;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((buf = malloc(max + 1)) == NULL)
		goto out;
	for (;;) {
		/* Read one byte beyond max to tell "too large" apart. */
		if (n == max) {
			char c;

			r = read(fd, &c, 1);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				goto out;
			if (r > 0) {
				errno = EFBIG;
				goto out;
			}
			break;
		}
		r = read(fd, buf + n, max - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	if (len != NULL)
		*len = n;
	ret = 0;
out:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return ret;
}

/*
 * glibc keeps freed heap memory for reuse, and entries still in use
 * between freed ones keep it from the top of the heap: after a diff's
 * copy of the table or a takeover the process would stay at that size
 * for good. malloc_trim also returns free pages inside the heap. A weak
 * reference: C libraries without it return memory their own way.
 */
int malloc_trim(size_t) __attribute__((weak));

void
util_heap_release(void)
{
	if (malloc_trim != NULL)
		malloc_trim(0);
}

double
util_wallclock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
env_overridden(const char *e, char *const extra[])
{
	const char *eq;
	size_t kl;

	if (extra == NULL || (eq = strchr(e, '=')) == NULL)
		return 0;
	kl = (size_t)(eq - e) + 1;
	for (; *extra != NULL; extra++)
		if (strncmp(*extra, e, kl) == 0)
			return 1;
	return 0;
}

static pid_t spawn(char *const argv[], char *const envp_extra[], int);

pid_t
util_spawn(char *const argv[], char *const envp_extra[])
{
	return spawn(argv, envp_extra, -1);
}

pid_t
util_spawn_quiet(char *const argv[])
{
	pid_t pid;
	int fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	pid = spawn(argv, NULL, fd);
	close(fd);
	return pid;
}

static pid_t
spawn(char *const argv[], char *const envp_extra[], int devnull)
{
	char **env;
	size_t n = 0, m = 0, i, k;
	sigset_t set;
	pid_t pid;
	int sig;

	if (argv == NULL || argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	while (environ != NULL && environ[n] != NULL)
		n++;
	while (envp_extra != NULL && envp_extra[m] != NULL)
		m++;
	/* Built before fork: the child must not allocate. */
	if ((env = calloc(n + m + 1, sizeof(*env))) == NULL)
		return -1;
	/* Extra entries replace inherited ones of the same name. */
	for (i = 0, k = 0; i < n; i++)
		if (!env_overridden(environ[i], envp_extra))
			env[k++] = environ[i];
	for (i = 0; i < m; i++)
		env[k++] = envp_extra[i];
	env[k] = NULL;

	if ((pid = fork()) == -1) {
		free(env);
		return -1;
	}
	if (pid == 0) {
		/* Its own process group, so that it and whatever it forks
		 * can be stopped together (kill(-pid)). */
		setpgid(0, 0);
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		if (devnull != -1 &&
		    (dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1 ||
			dup2(devnull, 2) == -1))
			_exit(126);
		execve(argv[0], argv, env);
		_exit(127);
	}
	/* Also here: the group exists when this returns (the child may not
	 * have run yet); whichever call comes second fails harmlessly. */
	setpgid(pid, pid);
	free(env);
	return pid;
}

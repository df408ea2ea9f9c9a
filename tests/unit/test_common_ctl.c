/*
 * test_common_ctl.c: the control socket: round trips with both clients,
 * pipelining and deferred answers, rejection of bad frames, socket mode,
 * streamed answers paced by the reader.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "ev.h"
#include "util.h"

#define MS 1000000ull

#define STREAM_PART  (16u << 10) /* one DATA frame */
#define STREAM_PARTS 64		 /* a 1 MiB answer */
#define STREAM_HIWAT (64u << 10)
#define STREAM_LOWAT (16u << 10)

struct srv {
	struct ev_loop *loop;
	int parts; /* streamed so far */
	size_t max_queued;
	int paused;
	struct ctl_server *ctl;
	struct ev_timer *deferred;
	struct ctl_conn *waiting;
	int closed;
	int requests;
	char path[108];
};

static void
defer_cb(struct ev_timer *t, void *arg)
{
	struct srv *s = arg;

	if (s->waiting != NULL)
		ctl_reply(s->waiting, 1, "deferred", 8);
	s->waiting = NULL;
}

/* Stream DATA frames until the queue is full, then wait for the reader;
 * the OK frame ends the answer. */
static void
stream_more(struct ctl_conn *c, void *arg)
{
	static char part[STREAM_PART];
	struct srv *s = arg;

	memset(part, 'd', sizeof(part));
	while (s->parts < STREAM_PARTS) {
		if (ctl_conn_queued(c) >= STREAM_HIWAT &&
		    ctl_conn_on_drain(c, STREAM_LOWAT, stream_more, s) == 0) {
			s->paused++;
			return;
		}
		assert_int_equal(ctl_send(c, CTL_DATA, part, sizeof(part)), 0);
		s->parts++;
		if (ctl_conn_queued(c) > s->max_queued)
			s->max_queued = ctl_conn_queued(c);
	}
	ctl_reply(c, 1, "end", 3);
}

static void
req_cb(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct srv *s = arg;
	char buf[CTL_REQ_MAX];
	size_t o = 0;
	int i;

	s->requests++;
	if (strcmp(argv[0], "echo") == 0) {
		for (i = 1; i < argc; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    i > 1 ? " " : "", argv[i]);
		ctl_reply(c, 1, buf, o);
	} else if (strcmp(argv[0], "defer") == 0) {
		s->waiting = c;
		ev_timer_arm(s->deferred, 5 * MS);
	} else if (strcmp(argv[0], "stream") == 0) {
		s->parts = 0;
		stream_more(c, s);
	} else if (strcmp(argv[0], "hold") == 0) {
		s->waiting = c; /* never answered */
	} else if (strcmp(argv[0], "sub") == 0) {
		ctl_conn_set_data(c, s);
		ctl_replyf(c, 1, "subscribed uid %u",
		    (unsigned)ctl_conn_uid(c));
	} else
		ctl_replyf(c, 0, "unknown command \"%s\"", argv[0]);
}

static void
/* cppcheck-suppress constParameter ; the type is ctl_close_cb's */
close_cb(struct ctl_conn *c, void *arg)
{
	struct srv *s = arg;

	s->closed++;
	if (c == s->waiting)
		s->waiting = NULL;
}

static int
setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->path, sizeof(s->path), "/tmp/test_ctl.%d.sock",
	    (int)getpid());
	s->loop = ev_loop_new();
	s->deferred = ev_timer_new(s->loop, defer_cb, s);
	/* A stale socket file must be replaced. */
	close(open(s->path, O_CREAT | O_WRONLY, 0600));
	assert_null(ctl_server_open(s->loop, s->path, 0600, req_cb, s));
	unlink(s->path);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
		assert_int_equal(
		    bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd);
	}
	s->ctl = ctl_server_open(s->loop, s->path, 0600, req_cb, s);
	assert_non_null(s->ctl);
	ctl_server_set_close_cb(s->ctl, close_cb);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct srv *s = *state;

	ctl_server_close(s->ctl);
	assert_int_equal(access(s->path, F_OK), -1);
	ev_timer_free(s->deferred);
	ev_loop_free(s->loop);
	free(s);
	return 0;
}

static int
raw_connect(struct srv *s)
{
	int fd = ctl_connect(s->path);

	assert_true(fd >= 0);
	return fd;
}

static void
raw_send(int fd, int type, const char *body, size_t len)
{
	uint8_t hdr[CTL_HDRLEN];

	ctl_frame_hdr(hdr, type, (uint32_t)len);
	assert_int_equal(send(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
	if (len > 0)
		assert_int_equal(send(fd, body, len, 0), (ssize_t)len);
}

/*
 * Run the loop until one whole frame is readable on fd. Returns its type
 * with the body in body, or -1 on EOF (after 2 s: fail).
 */
static int
raw_frame(struct srv *s, int fd, char *body, size_t cap)
{
	uint8_t hdr[CTL_HDRLEN];
	uint64_t end = ev_now_ns() + 2000 * MS;
	uint32_t len;
	ssize_t n;

	while (ev_now_ns() < end) {
		ev_loop_once(s->loop, 5);
		n = recv(fd, hdr, sizeof(hdr), MSG_DONTWAIT | MSG_PEEK);
		if (n == 0)
			return -1;
		if (n < (ssize_t)sizeof(hdr))
			continue;
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		assert_true(len < cap);
		ev_loop_once(s->loop, 5);
		assert_int_equal(recv(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
		assert_int_equal(recv(fd, body, len, MSG_WAITALL),
		    (ssize_t)len);
		body[len] = '\0';
		return hdr[4];
	}
	fail_msg("no frame within 2 s");
	return -1;
}

static void
test_mode(void **state)
{
	struct srv *s = *state;
	struct stat st;

	assert_int_equal(lstat(s->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second server on a live socket is refused. */
	assert_null(ctl_server_open(s->loop, s->path, 0600, req_cb, s));
	assert_int_equal(errno, EADDRINUSE);
}

static void
test_blocking_client(void **state)
{
	struct srv *s = *state;
	char *echo[] = { "echo", "x" }, *bad[] = { "nope" };
	char outf[64], errf[64], *text;
	size_t len;
	pid_t pid;
	int st = -1, i;

	snprintf(outf, sizeof(outf), "/tmp/test_ctl.%d.out", (int)getpid());
	snprintf(errf, sizeof(errf), "/tmp/test_ctl.%d.err", (int)getpid());
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct sbuf out;
		int fd, rc = 0;

		sbuf_init(&out);
		fd = ctl_connect(s->path);
		if (fd == -1 ||
		    ctl_request(fd, "echo  hello\tworld ", 2000, &out) !=
			CTL_OK ||
		    strcmp(out.p, "hello world") != 0)
			rc |= 1;
		if (ctl_request(fd, "nope", 2000, &out) != CTL_ERR ||
		    strstr(out.p, "unknown command") == NULL)
			rc |= 2;
		close(fd);
		if (freopen(outf, "w", stdout) == NULL ||
		    freopen(errf, "w", stderr) == NULL)
			rc |= 4;
		if (ctl_client_main("test", s->path, 2, echo) != 0)
			rc |= 8;
		if (ctl_client_main("test", s->path, 1, bad) != 1)
			rc |= 16;
		if (ctl_client_main("test", "/nonexistent/x.sock", 2, echo) !=
		    1)
			rc |= 32;
		/* Without privilege: the 0600 socket belongs to root. */
		if (geteuid() == 0 && setuid(65534) == 0 &&
		    ctl_client_main("test", s->path, 2, echo) != 1)
			rc |= 64;
		sbuf_free(&out);
		fflush(NULL);
		_exit(rc);
	}
	assert_true(pid > 0);
	for (i = 0; i < 400; i++) {
		ev_loop_once(s->loop, 5);
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(s->requests >= 4);
	assert_int_equal(util_read_file(outf, 4096, &text, &len), 0);
	assert_string_equal(text, "x\n");
	free(text);
	assert_int_equal(util_read_file(errf, 4096, &text, &len), 0);
	assert_non_null(strstr(text, "test: unknown command \"nope\"\n"));
	assert_non_null(strstr(text,
	    "test: cannot connect to"
	    " /nonexistent/x.sock: No such file or directory (is test"
	    " running?)\n"));
	if (geteuid() == 0)
		assert_non_null(strstr(text, "permission denied"));
	free(text);
	unlink(outf);
	unlink(errf);
}

/* A slow reader: sleeps now and then between parts. */
static int
slow_data(const char *body, size_t len, void *arg)
{
	static const struct timespec nap = { 0, 20 * 1000 * 1000 };
	size_t *got = arg;

	if (len != STREAM_PART || body[0] != 'd' || body[len - 1] != 'd')
		return -1;
	if ((*got += len) % (8 * STREAM_PART) == 0)
		nanosleep(&nap, NULL);
	return 0;
}

/* A streamed answer: the server pauses while the client has not read
 * (its queue stays bounded) and goes on when it has; the client gets
 * every part, then the end; a client that expects no stream refuses it;
 * a connection that goes away mid-stream cancels the wait. */
static void
test_stream(void **state)
{
	struct srv *s = *state;
	pid_t pid;
	int st = -1, i, fd;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct sbuf out;
		size_t got = 0;
		int rc = 0;

		sbuf_init(&out);
		fd = ctl_connect(s->path);
		if (ctl_request_stream(fd, "stream", 2000, slow_data, &got,
			&out) != CTL_OK ||
		    strcmp(out.p, "end") != 0)
			rc |= 1;
		if (got != STREAM_PARTS * STREAM_PART)
			rc |= 2;
		if (ctl_request(fd, "stream", 2000, &out) != -1 ||
		    errno != EPROTO)
			rc |= 4;
		close(fd);
		sbuf_free(&out);
		_exit(rc);
	}
	assert_true(pid > 0);
	for (i = 0; i < 2000; i++) {
		ev_loop_once(s->loop, 5);
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(s->paused > 0);
	assert_true(s->max_queued <= STREAM_HIWAT + STREAM_PART);
	/* Gone in the middle: dropped, the drain callback never runs. */
	for (i = 0; i < 20 && s->closed < 1; i++)
		ev_loop_once(s->loop, 5);
	s->closed = 0;
	fd = raw_connect(s);
	ev_loop_once(s->loop, 10);
	raw_send(fd, CTL_REQ, "stream", 6);
	for (i = 0; i < 10; i++)
		ev_loop_once(s->loop, 5);
	assert_true(s->parts < STREAM_PARTS);
	i = s->parts;
	close(fd);
	for (int j = 0; j < 20 && s->closed == 0; j++)
		ev_loop_once(s->loop, 5);
	assert_int_equal(s->closed, 1);
	assert_int_equal(s->parts, i);
}

static void
test_pipelined(void **state)
{
	struct srv *s = *state;
	static const char *reqs[] = { "echo 1", "defer", "echo 3", "" };
	char buf[6 * CTL_HDRLEN + 64], body[256];
	uint8_t hdr[CTL_HDRLEN];
	size_t o = 0, i;
	int fd = raw_connect(s);

	/* Four requests in one write; the second one is answered later. */
	for (i = 0; i < 4; i++) {
		ctl_frame_hdr(hdr, CTL_REQ, (uint32_t)strlen(reqs[i]));
		memcpy(buf + o, hdr, CTL_HDRLEN);
		memcpy(buf + o + CTL_HDRLEN, reqs[i], strlen(reqs[i]));
		o += CTL_HDRLEN + strlen(reqs[i]);
	}
	assert_int_equal(send(fd, buf, o, 0), (ssize_t)o);
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_OK);
	assert_string_equal(body, "1");
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_OK);
	assert_string_equal(body, "deferred");
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_OK);
	assert_string_equal(body, "3");
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_ERR);
	assert_string_equal(body, "empty request");
	/* The connection is still good. */
	raw_send(fd, CTL_REQ, "echo 4", 6);
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_OK);
	assert_string_equal(body, "4");
	assert_int_equal(s->closed, 0);
	close(fd);
	ev_loop_once(s->loop, 10);
	assert_int_equal(s->closed, 1);
}

/* A client that leaves while its request is pending is noticed. */
static void
test_leave_while_pending(void **state)
{
	struct srv *s = *state;
	int fd = raw_connect(s), i;

	raw_send(fd, CTL_REQ, "hold", 4);
	for (i = 0; i < 50 && s->waiting == NULL; i++)
		ev_loop_once(s->loop, 5);
	assert_non_null(s->waiting);
	close(fd);
	for (i = 0; i < 50 && s->closed == 0; i++)
		ev_loop_once(s->loop, 5);
	assert_int_equal(s->closed, 1);
	assert_null(s->waiting);
}

/* Send a bad frame on one connection; check ERR + close, and that a
 * second connection opened before keeps working. */
static void
reject(struct srv *s, int type, const char *body, size_t len,
    uint32_t fake_len, const char *why)
{
	char ans[256];
	uint8_t hdr[CTL_HDRLEN];
	int fd = raw_connect(s), other = raw_connect(s);

	if (fake_len > 0) {
		ctl_frame_hdr(hdr, type, fake_len);
		assert_int_equal(send(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
	} else
		raw_send(fd, type, body, len);
	assert_int_equal(raw_frame(s, fd, ans, sizeof(ans)), CTL_ERR);
	assert_non_null(strstr(ans, why));
	assert_int_equal(raw_frame(s, fd, ans, sizeof(ans)), -1);
	raw_send(other, CTL_REQ, "echo alive", 10);
	assert_int_equal(raw_frame(s, other, ans, sizeof(ans)), CTL_OK);
	assert_string_equal(ans, "alive");
	close(fd);
	close(other);
	ev_loop_once(s->loop, 10);
}

static void
test_reject(void **state)
{
	struct srv *s = *state;

	reject(s, CTL_REQ, NULL, 0, CTL_REQ_MAX + 1, "too large");
	reject(s, CTL_REQ, NULL, 0, 0xffffffffu, "too large");
	reject(s, CTL_OK, "echo x", 6, 0, "bad frame type");
	reject(s, CTL_REQ, "echo \001\002", 7, 0, "not printable");
	reject(s, CTL_REQ, "echo a\0b", 8, 0, "not printable");
	reject(s, CTL_REQ, "echo \xff", 6, 0, "not printable");
	assert_int_equal(s->closed, 12);
}

struct acl {
	char got[8][64];
	int types[8];
	int n;
	int down;
};

static void
amsg_cb(struct ctl_client *cl, int type, const char *body, size_t len,
    void *arg)
{
	struct acl *a = arg;

	assert_int_equal(strlen(body), len);
	if (a->n < 8) {
		a->types[a->n] = type;
		snprintf(a->got[a->n++], 64, "%s", body);
	}
}

static void
adown_cb(struct ctl_client *cl, void *arg)
{
	struct acl *a = arg;

	a->down++;
}

static int
/* cppcheck-suppress constParameter ; the match callback's type */
only_subscribed(struct ctl_conn *c, void *arg)
{
	return ctl_conn_data(c) == arg;
}

static void
test_async_client(void **state)
{
	struct srv *s = *state;
	struct acl a;
	struct ctl_client *cl;
	int i, other = raw_connect(s);

	memset(&a, 0, sizeof(a));
	cl = ctl_client_new(s->loop, s->path, amsg_cb, adown_cb, &a);
	assert_non_null(cl);
	assert_int_equal(ctl_client_send(cl, "echo early"), -1);
	assert_int_equal(ctl_client_connect(cl), 0);
	assert_true(ctl_client_connected(cl));
	assert_int_equal(ctl_client_send(cl, "sub"), 0);
	assert_int_equal(ctl_client_send(cl, "echo a"), 0);
	assert_int_equal(ctl_client_send(cl, "defer"), 0);
	assert_int_equal(ctl_client_send(cl, "echo b"), 0);
	for (i = 0; i < 400 && a.n < 4; i++)
		ev_loop_once(s->loop, 5);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.got[1], "a");
	assert_string_equal(a.got[2], "deferred");
	assert_string_equal(a.got[3], "b");
	/* Events reach only the subscribed connection. */
	ctl_server_broadcast(s->ctl, CTL_EVENT, "state MASTER", 12,
	    only_subscribed, s);
	for (i = 0; i < 400 && a.n < 5; i++)
		ev_loop_once(s->loop, 5);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.types[4], CTL_EVENT);
	assert_string_equal(a.got[4], "state MASTER");
	assert_int_equal(recv(other, a.got[0], 1, MSG_DONTWAIT), -1);
	assert_int_equal(a.down, 0);
	close(other);
	/* The server going away is reported. */
	ctl_server_close(s->ctl);
	for (i = 0; i < 400 && a.down == 0; i++)
		ev_loop_once(s->loop, 5);
	assert_int_equal(a.down, 1);
	assert_false(ctl_client_connected(cl));
	assert_int_equal(ctl_client_connect(cl), -1);
	ctl_client_free(cl);
	s->ctl = ctl_server_open(s->loop, s->path, 0600, req_cb, s);
	assert_non_null(s->ctl);
}

static void
test_slow_reader(void **state)
{
	struct srv *s = *state;
	char *big;
	int fd = raw_connect(s), i;
	size_t chunk = 1u << 20;

	ev_loop_once(s->loop, 10); /* accept */
	raw_send(fd, CTL_REQ, "sub", 3);
	ev_loop_once(s->loop, 10);
	big = malloc(chunk);
	assert_non_null(big);
	memset(big, 'e', chunk);
	/* Never read: the queue passes CTL_MSG_MAX and the conn goes. */
	for (i = 0; i < 40 && s->closed == 0; i++) {
		ctl_server_broadcast(s->ctl, CTL_EVENT, big, chunk,
		    only_subscribed, s);
		ev_loop_once(s->loop, 0);
	}
	assert_int_equal(s->closed, 1);
	free(big);
	close(fd);
}

/* Answers nobody reads: the server stops taking requests instead of
 * queueing answers without bound; all of them arrive once read. */
static void
test_unread_answers(void **state)
{
	struct srv *s = *state;
	static char req[CTL_HDRLEN + 4000], body[4096];
	size_t sent = 0, frames = 0, got = 0;
	int fd = raw_connect(s), idle = 0, t;
	ssize_t n;

	memset(req, 'x', sizeof(req));
	memcpy(req + CTL_HDRLEN, "echo ", 5);
	ctl_frame_hdr((uint8_t *)req, CTL_REQ, sizeof(req) - CTL_HDRLEN);
	while (frames < 2000 && idle < 50) {
		n = send(fd, req + sent, sizeof(req) - sent, MSG_DONTWAIT);
		if (n > 0) {
			idle = 0;
			sent += (size_t)n;
			if (sent == sizeof(req)) {
				sent = 0;
				frames++;
			}
		} else
			idle++;
		ev_loop_once(s->loop, 0);
	}
	assert_true(idle >= 50); /* the server stopped reading */
	assert_int_equal(s->closed, 0);
	assert_true((size_t)s->requests < frames);
	/* Finish the partial frame, then read every answer. */
	while (sent > 0 && sent < sizeof(req)) {
		n = send(fd, req + sent, sizeof(req) - sent, MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		else {
			t = raw_frame(s, fd, body, sizeof(body));
			assert_int_equal(t, CTL_OK);
			got++;
		}
	}
	if (sent == sizeof(req))
		frames++;
	while (got < frames) {
		assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_OK);
		assert_int_equal(strlen(body), sizeof(req) - CTL_HDRLEN - 5);
		got++;
	}
	assert_int_equal(s->requests, (int)frames);
	assert_int_equal(s->closed, 0);
	close(fd);
}

/* A full table: a client that has not sent a whole request gives way to
 * a new one; when every client has asked something, the new one is told. */
static void
test_full_table(void **state)
{
	struct srv *s = *state;
	int fds[CTL_MAXCONN], fd, i;
	char body[256];

	for (i = 0; i < CTL_MAXCONN; i++) {
		fds[i] = raw_connect(s);
		ev_loop_once(s->loop, 5);
		if (i % 2) /* a partial header, never finished */
			assert_int_equal(send(fds[i], "\0\0", 2, 0), 2);
	}
	for (i = 0; i < 10; i++)
		ev_loop_once(s->loop, 5);
	fd = raw_connect(s);
	raw_send(fd, CTL_REQ, "echo hi", 7);
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_OK);
	assert_string_equal(body, "hi");
	/* The oldest silent one went, with a reason. */
	assert_int_equal(raw_frame(s, fds[0], body, sizeof(body)), CTL_ERR);
	assert_non_null(strstr(body, "full"));
	assert_int_equal(s->closed, 1);
	close(fd);
	close(fds[0]);
	for (i = 1; i < CTL_MAXCONN; i++)
		close(fds[i]);
	for (i = 0; i < 20; i++)
		ev_loop_once(s->loop, 5);
	/* Every slot has asked something: the newcomer is refused. */
	for (i = 0; i < CTL_MAXCONN; i++) {
		fds[i] = raw_connect(s);
		raw_send(fds[i], CTL_REQ, "echo x", 6);
		assert_int_equal(raw_frame(s, fds[i], body, sizeof(body)),
		    CTL_OK);
	}
	fd = raw_connect(s);
	assert_int_equal(raw_frame(s, fd, body, sizeof(body)), CTL_ERR);
	assert_string_equal(body, "too many control connections");
	close(fd);
	for (i = 0; i < CTL_MAXCONN; i++)
		close(fds[i]);
}

static void
test_split(void **state)
{
	char b1[] = "  status   json\t", b2[] = "a\001", b3[] = "",
	     b4[] = "a b c d";
	char *argv[4];

	assert_int_equal(ctl_split(b1, argv, 4), 2);
	assert_string_equal(argv[0], "status");
	assert_string_equal(argv[1], "json");
	assert_int_equal(ctl_split(b2, argv, 4), -1);
	assert_int_equal(ctl_split(b3, argv, 4), 0);
	assert_int_equal(ctl_split(b4, argv, 3), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_while_pending,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unread_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_table, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * ctl_client.c: control socket clients: the blocking one behind
 * "carpd status" and friends, and the event-loop one carpd uses for syncd.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "log.h"
#include "util.h"

#define CTL_CLI_TIMEOUT 30000 /* ms, for ctl_client_main */

static int
ctl_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (ctl_sockaddr(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Milliseconds left until deadline (ns), or -1 with ETIMEDOUT. */
static int
ctl_left(uint64_t deadline)
{
	uint64_t now = ev_now_ns();

	if (now >= deadline) {
		errno = ETIMEDOUT;
		return -1;
	}
	return (int)((deadline - now + 999999) / 1000000);
}

static int
ctl_wait(int fd, short what, uint64_t deadline)
{
	struct pollfd pfd;
	int ms, n;

	for (;;) {
		if ((ms = ctl_left(deadline)) == -1)
			return -1;
		pfd.fd = fd;
		pfd.events = what;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n > 0)
			return 0;
	}
}

static int
ctl_write_all(int fd, const void *p, size_t len, uint64_t deadline)
{
	const char *b = p;
	ssize_t n;

	while (len > 0) {
		if (ctl_wait(fd, POLLOUT, deadline) == -1)
			return -1;
		n = send(fd, b, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes into p (or discard them when p is NULL). */
static int
ctl_read_all(int fd, void *p, size_t len, uint64_t deadline)
{
	char junk[4096], *b = p;
	size_t want;
	ssize_t n;

	while (len > 0) {
		if (ctl_wait(fd, POLLIN, deadline) == -1)
			return -1;
		want = len;
		if (b == NULL && want > sizeof(junk))
			want = sizeof(junk);
		/* cppcheck-suppress legacyUninitvar ; recv writes junk */
		n = recv(fd, b != NULL ? b : junk, want, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (b != NULL)
			b += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ctl_request(int fd, const char *req, int timeout_ms, struct sbuf *out)
{
	return ctl_request_stream(fd, req, timeout_ms, NULL, NULL, out);
}

int
ctl_request_stream(int fd, const char *req, int timeout_ms,
    ctl_data_cb data_cb, void *arg, struct sbuf *out)
{
	uint8_t hdr[CTL_HDRLEN];
	uint64_t deadline, span;
	size_t rlen = strlen(req);
	uint32_t len;
	char *body = NULL;
	int type, ret = -1;

	if (rlen > CTL_REQ_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (timeout_ms < 0)
		timeout_ms = 24 * 3600 * 1000;
	span = (uint64_t)timeout_ms * 1000000;
	deadline = ev_now_ns() + span;
	ctl_frame_hdr(hdr, CTL_REQ, (uint32_t)rlen);
	if (ctl_write_all(fd, hdr, sizeof(hdr), deadline) == -1 ||
	    ctl_write_all(fd, req, rlen, deadline) == -1)
		return -1;
	for (;;) {
		free(body);
		body = NULL;
		if (ctl_read_all(fd, hdr, sizeof(hdr), deadline) == -1)
			goto out;
		len = get_u32(hdr);
		type = hdr[4];
		if (len > CTL_MSG_MAX) {
			errno = EMSGSIZE;
			goto out;
		}
		if (type == CTL_EVENT) {
			if (ctl_read_all(fd, NULL, len, deadline) == -1)
				goto out;
			continue;
		}
		if (type != CTL_OK && type != CTL_ERR &&
		    (type != CTL_DATA || data_cb == NULL)) {
			errno = EPROTO;
			goto out;
		}
		if ((body = malloc(len + 1)) == NULL)
			goto out;
		if (ctl_read_all(fd, body, len, deadline) == -1)
			goto out;
		body[len] = '\0';
		if (type == CTL_DATA) {
			if (data_cb(body, len, arg) == -1)
				goto out;
			/* A stream may be long: bound the silence only. */
			deadline = ev_now_ns() + span;
			continue;
		}
		if (out != NULL) {
			sbuf_reset(out);
			if (sbuf_add(out, body, len) == -1) {
				errno = ENOMEM;
				goto out;
			}
		}
		ret = type;
		goto out;
	}
out:
	free(body);
	return ret;
}

/* A streamed part of the answer: straight to stdout. */
static int
ctl_print_data(const char *body, size_t len, void *arg)
{
	if (fwrite(body, 1, len, stdout) != len) {
		*(int *)arg = errno != 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

int
ctl_client_main(const char *progname, const char *path, int argc, char **argv)
{
	struct sbuf req, ans;
	int fd, type, rv = 1, werr = 0;

	sbuf_init(&req);
	sbuf_init(&ans);
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			sbuf_add(&req, " ", 1);
		sbuf_puts(&req, argv[i]);
	}
	if (req.err || req.len == 0 || req.len > CTL_REQ_MAX) {
		fprintf(stderr, "%s: %s\n", progname,
		    req.len == 0 ? "no command given" : "command too long");
		goto out;
	}
	if ((fd = ctl_connect(path)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr,
			    "%s: cannot connect to %s: %s (is %s"
			    " running?)\n",
			    progname, path, strerror(errno), progname);
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr,
			    "%s: cannot connect to %s: permission"
			    " denied (run as root or as the owner of the"
			    " socket)\n",
			    progname, path);
		else
			fprintf(stderr, "%s: cannot connect to %s: %s\n",
			    progname, path, strerror(errno));
		goto out;
	}
	type = ctl_request_stream(fd, req.p, CTL_CLI_TIMEOUT, ctl_print_data,
	    &werr, &ans);
	close(fd);
	if (type == -1 && werr != 0) {
		fprintf(stderr, "%s: stdout: %s\n", progname, strerror(werr));
		goto out;
	}
	if (type == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, path,
		    errno == ETIMEDOUT ?
			"no answer (timed out)" :
			errno == ECONNRESET ?
			"connection closed without an"
			" answer" :
			strerror(errno));
		goto out;
	}
	if (type == CTL_OK) {
		if (ans.len > 0) {
			fwrite(ans.p, 1, ans.len, stdout);
			if (ans.p[ans.len - 1] != '\n')
				fputc('\n', stdout);
		}
		if (fflush(stdout) == EOF) {
			fprintf(stderr, "%s: stdout: %s\n", progname,
			    strerror(errno));
			goto out;
		}
		rv = 0;
	} else {
		fflush(stdout); /* a stream's parts first */
		fprintf(stderr, "%s: %s%s", progname,
		    ans.len ? ans.p : "error",
		    ans.len && ans.p[ans.len - 1] == '\n' ? "" : "\n");
	}
out:
	sbuf_free(&req);
	sbuf_free(&ans);
	return rv;
}

/*
 * The event-loop client. Frames are reassembled in a growing input
 * buffer; requests are queued in the output buffer, also while the
 * connection is still being set up.
 */
struct ctl_client {
	struct ev_loop *loop;
	char *path;
	int fd;
	int connected;
	int connecting;
	ctl_msg_cb msg_cb;
	ctl_down_cb down_cb;
	void *arg;
	struct sbuf in;
	size_t inoff;
	struct sbuf out;
	size_t outoff;
	int busy;
	int freed;
};

static void ctl_client_io(int, int, void *);

struct ctl_client *
ctl_client_new(struct ev_loop *loop, const char *path, ctl_msg_cb msg_cb,
    ctl_down_cb down_cb, void *arg)
{
	struct ctl_client *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	if ((cl->path = strdup(path)) == NULL) {
		free(cl);
		return NULL;
	}
	cl->loop = loop;
	cl->fd = -1;
	cl->msg_cb = msg_cb;
	cl->down_cb = down_cb;
	cl->arg = arg;
	sbuf_init(&cl->in);
	sbuf_init(&cl->out);
	return cl;
}

static void
ctl_client_close(struct ctl_client *cl)
{
	if (cl->fd != -1) {
		ev_fd_del(cl->loop, cl->fd);
		close(cl->fd);
	}
	cl->fd = -1;
	cl->connected = cl->connecting = 0;
	sbuf_reset(&cl->in);
	sbuf_reset(&cl->out);
	cl->inoff = cl->outoff = 0;
	cl->in.err = cl->out.err = 0;
}

void
ctl_client_free(struct ctl_client *cl)
{
	if (cl == NULL)
		return;
	ctl_client_close(cl);
	if (cl->busy) {
		/* Inside one of our callbacks: finish there. */
		cl->freed = 1;
		return;
	}
	sbuf_free(&cl->in);
	sbuf_free(&cl->out);
	free(cl->path);
	free(cl);
}

static void
ctl_client_want(struct ctl_client *cl)
{
	int ev = EV_READ;

	if (cl->connecting || cl->out.len > cl->outoff)
		ev |= EV_WRITE;
	ev_fd_mod(cl->loop, cl->fd, ev);
}

int
ctl_client_connect(struct ctl_client *cl)
{
	struct sockaddr_un sun;
	int saved;

	ctl_client_close(cl);
	if (ctl_sockaddr(cl->path, &sun) == -1)
		return -1;
	cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (cl->fd == -1)
		return -1;
	if (connect(cl->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		cl->connected = 1;
	else if (errno == EINPROGRESS)
		cl->connecting = 1;
	else
		goto fail;
	if (ev_fd_add(cl->loop, cl->fd, cl->connecting ? EV_WRITE : EV_READ,
		ctl_client_io, cl) == -1)
		goto fail;
	if (cl->connecting) {
		errno = EINPROGRESS;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	close(cl->fd);
	cl->fd = -1;
	cl->connected = cl->connecting = 0;
	errno = saved;
	return -1;
}

int
ctl_client_connected(const struct ctl_client *cl)
{
	return cl->connected;
}

int
ctl_client_send(struct ctl_client *cl, const char *req)
{
	uint8_t hdr[CTL_HDRLEN];
	size_t len = strlen(req);

	if (!cl->connected && !cl->connecting) {
		errno = ENOTCONN;
		return -1;
	}
	if (len > CTL_REQ_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	ctl_frame_hdr(hdr, CTL_REQ, (uint32_t)len);
	if (sbuf_add(&cl->out, hdr, sizeof(hdr)) == -1 ||
	    sbuf_add(&cl->out, req, len) == -1) {
		errno = ENOMEM;
		return -1;
	}
	ctl_client_want(cl);
	return 0;
}

/* Connection lost: reset, then tell the owner (who may reconnect). */
static void
ctl_client_down(struct ctl_client *cl)
{
	ctl_client_close(cl);
	if (cl->down_cb != NULL)
		cl->down_cb(cl, cl->arg);
}

/* Deliver every complete frame; 0, or -1 when the stream is bad. */
static int
ctl_client_frames(struct ctl_client *cl)
{
	const uint8_t *h;
	uint32_t len;
	char *body, save;
	int fd = cl->fd;

	while (cl->in.len - cl->inoff >= CTL_HDRLEN) {
		h = (const uint8_t *)cl->in.p + cl->inoff;
		len = get_u32(h);
		if (len > CTL_MSG_MAX - CTL_HDRLEN || h[4] > CTL_EVENT ||
		    h[4] == CTL_REQ) {
			log_warnx("%s: bad frame from %s (type %u, %u"
				  " bytes)",
			    __func__, cl->path, h[4], len);
			return -1;
		}
		if (cl->in.len - cl->inoff < CTL_HDRLEN + len)
			break;
		body = cl->in.p + cl->inoff + CTL_HDRLEN;
		cl->inoff += CTL_HDRLEN + len;
		/* NUL-terminate for the callback (sbuf keeps a spare). */
		save = body[len];
		body[len] = '\0';
		cl->msg_cb(cl, h[4], body, len, cl->arg);
		if (cl->freed || cl->fd != fd)
			return 0;
		body[len] = save;
	}
	if (cl->inoff == cl->in.len) {
		sbuf_reset(&cl->in);
		cl->inoff = 0;
	} else if (cl->inoff > 0) {
		memmove(cl->in.p, cl->in.p + cl->inoff,
		    cl->in.len - cl->inoff);
		cl->in.len -= cl->inoff;
		cl->inoff = 0;
	}
	return 0;
}

static int
ctl_client_flush(struct ctl_client *cl)
{
	if (util_send_nb(cl->fd, cl->out.p, cl->out.len, &cl->outoff) == -1)
		return -1;
	if (cl->outoff == cl->out.len) {
		sbuf_reset(&cl->out);
		cl->outoff = 0;
	}
	return 0;
}

static void
ctl_client_io(int fd, int events, void *arg)
{
	struct ctl_client *cl = arg;
	char buf[65536];
	socklen_t sl = sizeof(int);
	ssize_t n;
	int err = 0;

	cl->busy++;
	if (cl->connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err != 0)
			goto down;
		cl->connecting = 0;
		cl->connected = 1;
	}
	if ((events & EV_WRITE) && ctl_client_flush(cl) == -1)
		goto down;
	if (events & EV_READ) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			goto down;
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				goto down;
		} else {
			if (sbuf_add(&cl->in, buf, (size_t)n) == -1)
				goto down;
			if (ctl_client_frames(cl) == -1)
				goto down;
			if (cl->freed || cl->fd != fd)
				goto out;
		}
	}
	ctl_client_want(cl);
	goto out;
down:
	ctl_client_down(cl);
out:
	if (--cl->busy == 0 && cl->freed) {
		cl->busy = 0;
		cl->freed = 0;
		ctl_client_free(cl);
	}
}

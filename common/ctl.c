/*
 * ctl.c: the control socket server of both daemons: framing, request
 * parsing, per-connection buffers, replies, events and broadcast.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "log.h"
#include "util.h"

#define CTL_INCAP     (CTL_HDRLEN + CTL_REQ_MAX)
#define CTL_BACKLOG   16
/* Answers queued beyond this: read no further requests until they drain. */
#define CTL_OUT_HIWAT (256u << 10)

struct ctl_conn {
	struct ctl_server *srv;
	struct ctl_conn *next, *prev;
	int fd;
	uid_t uid;
	void *data;
	uint8_t in[CTL_INCAP];
	size_t inlen;
	char *out;
	size_t outoff, outlen, outcap;
	int closing;	       /* rejected: close once sent */
	int eof;	       /* peer shut down its side */
	int waiting;	       /* request awaits its answer */
	int busy;	       /* inside its own dispatch */
	int dead;	       /* free when no longer busy */
	int asked;	       /* a whole request came in */
	ctl_drain_cb drain_cb; /* see ctl_conn_on_drain */
	void *drain_arg;
	size_t drain_lowat;
};

struct ctl_server {
	struct ev_loop *loop;
	int fd;
	char *path;
	ctl_req_cb req_cb;
	ctl_close_cb close_cb;
	void *arg;
	struct ctl_conn *conns;
	int nconns;
	struct ev_timer *kick; /* resume after deferred answers */
};

void
ctl_frame_hdr(uint8_t hdr[CTL_HDRLEN], int type, uint32_t len)
{
	put_u32(hdr, len);
	hdr[4] = (uint8_t)type;
}

int
ctl_split(char *body, char **argv, int maxargs)
{
	int argc = 0;

	for (unsigned char *p = (unsigned char *)body; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p >= 0x7f)
			return -1;
	for (unsigned char *p = (unsigned char *)body; *p != '\0';) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (argc >= maxargs)
			return -1;
		argv[argc++] = (char *)p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	if (argc < maxargs)
		argv[argc] = NULL;
	return argc;
}

static void ctl_conn_io(int, int, void *);

/* Tear a connection down; the memory goes once nobody is using it. */
static void
ctl_conn_drop(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;

	if (c->fd == -1)
		goto out;
	ev_fd_del(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	c->dead = 1;
	c->drain_cb = NULL;
	if (s->close_cb != NULL)
		s->close_cb(c, s->arg);
out:
	c->dead = 1;
	if (c->busy == 0) {
		free(c->out);
		free(c);
	}
}

static void
ctl_conn_want(struct ctl_conn *c)
{
	int ev = 0;

	/*
	 * Requests are handled one at a time, so answers go out in order;
	 * reading goes on while one waits, to notice a peer that left, but
	 * not while a client leaves a pile of answers unread.
	 */
	if (!c->closing && !c->eof && c->inlen < sizeof(c->in) &&
	    c->outlen - c->outoff < CTL_OUT_HIWAT)
		ev |= EV_READ;
	if (c->outlen > c->outoff)
		ev |= EV_WRITE;
	ev_fd_mod(c->srv->loop, c->fd, ev);
}

int
ctl_send(struct ctl_conn *c, int type, const char *body, size_t len)
{
	uint8_t hdr[CTL_HDRLEN];
	size_t need, ncap;
	char *n;

	if (c == NULL || c->dead || c->fd == -1)
		return -1;
	if (len > CTL_MSG_MAX - CTL_HDRLEN)
		return -1;
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	need = CTL_HDRLEN + len;
	if (c->outlen - c->outoff + need > CTL_MSG_MAX) {
		log_warnx("%s: control client (uid %u) is not reading its"
			  " answers, dropped",
		    __func__, (unsigned)c->uid);
		ctl_conn_drop(c);
		return -1;
	}
	if (c->outlen + need > c->outcap) {
		if (c->outoff > 0) {
			memmove(c->out, c->out + c->outoff,
			    c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		ncap = c->outcap ? c->outcap : 1024;
		while (ncap < c->outlen + need)
			ncap *= 2;
		if (ncap > c->outcap) {
			if ((n = realloc(c->out, ncap)) == NULL) {
				log_warn("%s: realloc", __func__);
				ctl_conn_drop(c);
				return -1;
			}
			c->out = n;
			c->outcap = ncap;
		}
	}
	ctl_frame_hdr(hdr, type, (uint32_t)len);
	memcpy(c->out + c->outlen, hdr, CTL_HDRLEN);
	if (len > 0)
		memcpy(c->out + c->outlen + CTL_HDRLEN, body, len);
	c->outlen += need;
	ctl_conn_want(c);
	return 0;
}

static int ctl_conn_flush(struct ctl_conn *);
static int ctl_conn_done(struct ctl_conn *);

int
ctl_reply(struct ctl_conn *c, int ok, const char *body, size_t len)
{
	int deferred;

	if (c == NULL || c->dead)
		return -1;
	deferred = c->waiting;
	if (c->waiting) {
		c->waiting = 0;
		/* Answered later: pick up requests already buffered. */
		if (c->busy == 0 && c->inlen >= CTL_HDRLEN &&
		    !ev_timer_pending(c->srv->kick))
			ev_timer_arm(c->srv->kick, 0);
	}
	if (ctl_send(c, ok ? CTL_OK : CTL_ERR, body, len) == -1)
		return -1;
	/*
	 * A deferred answer (a commit's, say) goes out now, not when the
	 * loop next polls: whatever else is ready in that turn (a table
	 * dump) would otherwise delay the one waiting for it. An error is
	 * left to the write handler, which drops the connection; so is a
	 * connection that has nothing more to say.
	 */
	if (deferred && c->busy == 0 && c->drain_cb == NULL &&
	    ctl_conn_flush(c) == 0 && !ctl_conn_done(c))
		ctl_conn_want(c);
	return 0;
}

int
ctl_replyf(struct ctl_conn *c, int ok, const char *fmt, ...)
{
	va_list ap;
	int n, rv;
	char *p;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ctl_reply(c, 0, "out of memory", 13);
	rv = ctl_reply(c, ok, p, (size_t)n);
	free(p);
	return rv;
}

/* Answer with an error and close once the answer has been sent. */
static void
ctl_conn_reject(struct ctl_conn *c, const char *why)
{
	ctl_send(c, CTL_ERR, why, strlen(why));
	if (c->dead)
		return;
	c->closing = 1;
	c->inlen = 0;
	ctl_conn_want(c);
}

/* Handle every complete request in the input buffer, in order. */
static void
ctl_conn_parse(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;
	char body[CTL_REQ_MAX + 1], why[128], *argv[CTL_MAXARGS + 1];
	uint32_t len;
	size_t used = 0;
	int argc, type;

	while (!c->dead && !c->closing && !c->waiting &&
	    c->outlen - c->outoff < CTL_OUT_HIWAT &&
	    c->inlen - used >= CTL_HDRLEN) {
		const uint8_t *h = c->in + used;

		len = get_u32(h);
		type = h[4];
		if (type != CTL_REQ) {
			snprintf(why, sizeof(why),
			    "bad frame type %d"
			    " (expected a request)",
			    type);
			ctl_conn_reject(c, why);
			return;
		}
		if (len > CTL_REQ_MAX) {
			snprintf(why, sizeof(why),
			    "request too large"
			    " (%u bytes, max %d)",
			    len, CTL_REQ_MAX);
			ctl_conn_reject(c, why);
			return;
		}
		if (c->inlen - used < CTL_HDRLEN + len)
			break;
		memcpy(body, h + CTL_HDRLEN, len);
		body[len] = '\0';
		used += CTL_HDRLEN + len;
		if (memchr(body, '\0', len) != NULL ||
		    (argc = ctl_split(body, argv, CTL_MAXARGS)) == -1) {
			snprintf(why, sizeof(why),
			    "request is not printable"
			    " text or has more than %d words",
			    CTL_MAXARGS);
			ctl_conn_reject(c, why);
			return;
		}
		if (argc == 0) {
			ctl_send(c, CTL_ERR, "empty request", 13);
			continue;
		}
		c->waiting = 1;
		c->asked = 1;
		c->busy++;
		s->req_cb(c, argc, argv, s->arg);
		c->busy--;
	}
	if (c->dead || c->closing)
		return;
	if (used > 0) {
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
}

static int
ctl_conn_flush(struct ctl_conn *c)
{
	if (util_send_nb(c->fd, c->out, c->outlen, &c->outoff) == -1)
		return -1;
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	return 0;
}

/* A streamed answer waits for the client to read: resume it. 1 when the
 * callback ran. */
static int
ctl_conn_drained(struct ctl_conn *c)
{
	ctl_drain_cb cb = c->drain_cb;

	if (cb == NULL || c->outlen - c->outoff > c->drain_lowat)
		return 0;
	c->drain_cb = NULL;
	cb(c, c->drain_arg);
	return 1;
}

static int
ctl_conn_has_frame(const struct ctl_conn *c)
{
	uint32_t len;

	if (c->inlen < CTL_HDRLEN)
		return 0;
	len = get_u32(c->in);
	/* A bad header counts: parsing it produces the ERR answer. */
	return c->in[4] != CTL_REQ || len > CTL_REQ_MAX ||
	    c->inlen >= CTL_HDRLEN + len;
}

/* Has everything that will ever be said on c been said? */
static int
ctl_conn_done(struct ctl_conn *c)
{
	if (c->outoff < c->outlen || c->waiting)
		return 0;
	if (c->closing)
		return 1;
	/* After EOF, go on answering requests that are still buffered. */
	return c->eof && !ctl_conn_has_frame(c);
}

static void
ctl_conn_release(struct ctl_conn *c)
{
	/* Dropped during the dispatch: already unlinked, just free. */
	if (--c->busy == 0 && c->dead) {
		free(c->out);
		free(c);
	}
}

static int
ctl_conn_readable(const struct ctl_conn *c)
{
	return !c->closing && !c->eof && c->inlen < sizeof(c->in) &&
	    c->outlen - c->outoff < CTL_OUT_HIWAT;
}

static int
ctl_conn_hungup(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

static void
ctl_conn_io(int fd, int events, void *arg)
{
	struct ctl_conn *c = arg;
	ssize_t n;

	c->busy++;
	if (events & EV_WRITE) {
		if (ctl_conn_flush(c) == -1)
			goto drop;
		if (ctl_conn_drained(c) && c->dead)
			goto out;
		/* Answers drained: requests held back can go on. */
		if (!c->waiting && !c->closing && ctl_conn_has_frame(c)) {
			ctl_conn_parse(c);
			if (c->dead)
				goto out;
		}
	}
	if ((events & EV_READ) && !ctl_conn_readable(c)) {
		/* A hangup is reported even when not asked for. */
		if (ctl_conn_hungup(fd))
			goto drop;
	} else if (events & EV_READ) {
		n = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
		    MSG_DONTWAIT);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			goto drop;
		if (n == 0)
			c->eof = 1;
		else if (n > 0)
			c->inlen += (size_t)n;
		ctl_conn_parse(c);
		if (c->dead)
			goto out;
	}
	if (ctl_conn_done(c))
		goto drop;
	ctl_conn_want(c);
	goto out;
drop:
	if (!c->dead)
		ctl_conn_drop(c);
out:
	ctl_conn_release(c);
}

/* Parse requests left in the buffers of connections whose deferred
 * answers have gone out. */
static void
ctl_kick(struct ev_timer *t, void *arg)
{
	struct ctl_server *s = arg;
	struct ctl_conn *next;

	for (struct ctl_conn *c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->waiting || c->closing || !ctl_conn_has_frame(c))
			continue;
		c->busy++;
		ctl_conn_parse(c);
		if (!c->dead) {
			if (ctl_conn_done(c))
				ctl_conn_drop(c);
			else
				ctl_conn_want(c);
		}
		/* next may have been dropped by a callback: restart. */
		next = c->dead ? s->conns : c->next;
		ctl_conn_release(c);
	}
}

/*
 * The table is full: make room by closing the oldest connection that has
 * not sent one whole request (idle or dribbling a partial frame), so that
 * clients that never finish cannot lock the others out. 0 or -1 (none).
 */
static int
ctl_evict(struct ctl_server *s)
{
	static const char why[] = "closed: no request sent while the control"
				  " socket was full";
	struct ctl_conn *old = NULL;
	uint8_t hdr[CTL_HDRLEN];

	/* New connections go to the head: the last match is the oldest. */
	for (struct ctl_conn *c = s->conns; c != NULL; c = c->next)
		if (!c->asked && !c->waiting && !c->closing && c->busy == 0)
			old = c;
	if (old == NULL)
		return -1;
	ctl_frame_hdr(hdr, CTL_ERR, sizeof(why) - 1);
	if (send(old->fd, hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    sizeof(hdr))
		send(old->fd, why, sizeof(why) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	ctl_conn_drop(old);
	return 0;
}

static void
ctl_accept(int fd, int events, void *arg)
{
	static const char full[] = "too many control connections";
	struct ctl_server *s = arg;
	struct ctl_conn *c;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	uint8_t hdr[CTL_HDRLEN];
	int cfd;

	for (int i = 0; i < 16; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("%s: accept", __func__);
			return;
		}
		if (s->nconns >= CTL_MAXCONN && ctl_evict(s) == -1) {
			ctl_frame_hdr(hdr, CTL_ERR, sizeof(full) - 1);
			if (send(cfd, hdr, sizeof(hdr),
				MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(hdr))
				send(cfd, full, sizeof(full) - 1,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(cfd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("%s: calloc", __func__);
			close(cfd);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		c->uid = (uid_t)-1;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
			c->uid = cr.uid;
		if (ev_fd_add(s->loop, cfd, EV_READ, ctl_conn_io, c) == -1) {
			log_warn("%s: ev_fd_add", __func__);
			close(cfd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}

/* Is a daemon answering on this path? Then it is not stale. */
static int
ctl_path_live(const struct sockaddr_un *sun)
{
	int fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

struct ctl_server *
ctl_server_open(struct ev_loop *loop, const char *path, mode_t mode,
    ctl_req_cb cb, void *arg)
{
	struct ctl_server *s = NULL;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int saved, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fd = -1;
	s->loop = loop;
	s->req_cb = cb;
	s->arg = arg;
	if ((s->path = strdup(path)) == NULL ||
	    (s->kick = ev_timer_new(loop, ctl_kick, s)) == NULL)
		goto fail;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			goto fail;
		}
		if (ctl_path_live(&sun)) {
			errno = EADDRINUSE;
			goto fail;
		}
		if (unlink(path) == -1)
			goto fail;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		goto fail;
	/* Never let the socket exist with looser permissions than mode. */
	old = umask(0177);
	rc = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1)
		goto fail;
	if (chmod(path, mode) == -1 || listen(s->fd, CTL_BACKLOG) == -1 ||
	    ev_fd_add(loop, s->fd, EV_READ, ctl_accept, s) == -1) {
		saved = errno;
		unlink(path);
		errno = saved;
		goto fail;
	}
	return s;
fail:
	saved = errno;
	if (s->fd != -1)
		close(s->fd);
	ev_timer_free(s->kick);
	free(s->path);
	free(s);
	errno = saved;
	return NULL;
}

void
ctl_server_set_close_cb(struct ctl_server *s, ctl_close_cb cb)
{
	s->close_cb = cb;
}

void
ctl_server_close(struct ctl_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		ctl_conn_drop(s->conns);
	ev_fd_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	ev_timer_free(s->kick);
	free(s->path);
	free(s);
}

void
ctl_server_broadcast(struct ctl_server *s, int type, const char *body,
    size_t len, int (*match)(struct ctl_conn *, void *), void *arg)
{
	struct ctl_conn *next;

	for (struct ctl_conn *c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing || c->dead)
			continue;
		if (match == NULL || match(c, arg))
			ctl_send(c, type, body, len);
	}
}

size_t
ctl_conn_queued(const struct ctl_conn *c)
{
	return c->outlen - c->outoff;
}

int
ctl_conn_on_drain(struct ctl_conn *c, size_t lowat, ctl_drain_cb cb, void *arg)
{
	c->drain_cb = NULL;
	if (cb == NULL || c->dead || c->outlen - c->outoff <= lowat)
		return -1;
	c->drain_cb = cb;
	c->drain_arg = arg;
	c->drain_lowat = lowat;
	return 0;
}

void
ctl_conn_set_data(struct ctl_conn *c, void *data)
{
	c->data = data;
}

void *
ctl_conn_data(struct ctl_conn *c)
{
	return c->data;
}

uid_t
ctl_conn_uid(struct ctl_conn *c)
{
	return c->uid;
}

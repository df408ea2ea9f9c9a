/*
 * tcpconn.c: traffic through the firewall pair for the failover lab.
 * Server: TCP and UDP echo. Client: N ping-pong TCP connections, one TCP
 * stream and one UDP probe flow; reports survivors and traffic gaps.
 *
 * usage:
 *   tcpconn -l ADDR:PORT [--idle-reset MS]     echo server (TCP and UDP)
 *   tcpconn -c ADDR:PORT [-n N] [-i MS] [-d S] [options]   client
 *
 * The client opens N connections; each sends a 16-byte message every -i ms
 * and waits for its echo before the next one (one message outstanding per
 * connection). One more connection carries a paced stream (--stream-us,
 * --stream-bytes) and a UDP flow sends one probe every --probe-us; the
 * largest interval between two successive echoes on each is the traffic
 * gap. A connection counts as lost when it saw an error (reset) or when
 * its last message is still unanswered at the end (--final-wait ms after
 * the run stops sending). Lines on stdout:
 *   READY conns=N                 all connections answered once
 *   status line every --status ms (human readable)
 *   MARK n=K tcp_gap_ms=X udp_gap_ms=Y udp_lost=L alive=A stalled=S
 *        dead=D reset=R total=T
 *                                 on SIGUSR1: gaps since the previous mark
 *   RESULT alive=A total=T reset=R timeout=X stalled_max=S
 *          tcp_gap_ms=G udp_gap_ms=U udp_lost=L
 * --rt runs the client or the server SCHED_FIFO (less scheduling noise in
 * the gaps). --rx-log FILE writes one line per UDP probe echo received:
 * "<CLOCK_REALTIME us> <probe seq>" (for plotting the traffic across an
 * event; "date +%s%N" stamps the event on the same clock).
 *
 * For the soak (tests/soak.sh) the client also has:
 *   --short RATE    open RATE short connections a second (connect, one
 *                   echo, close); one that errs or has not had its echo
 *                   within --short-timeout ms (default 2000) fails:
 *   SFAIL start=T end=T err=E at=S port=P
 *                   (T: wall-clock seconds; S: connect or echo, the step
 *                   it failed in; P: its local port, to find its flow)
 *   --udp-flows N   N more UDP flows, one datagram each every -i ms
 *   --series MS     every MS ms one line for the timeline:
 *   SERIES t=T probe_gap_ms=X stream_gap_ms=Y alive=A stalled=S dead=D
 *          short_ok=K short_fail=F short_open=O uflow_tx=U uflow_rx=V
 *                   (the gaps: the longest in that interval, the one still
 *                   running included; short_*: completed in the interval)
 *   LOST id=I t=T since=T err=E      a long-lived connection died, or
 *                   its message has been unanswered for --dead ms
 *   RECOVERED id=I t=T               such a stalled one answered after all
 * -n 0 with --short: short connections only.
 *
 * Churn mode (--churn K, for the firewall's new-connection rate): K short
 * TCP connections at a time for -d seconds, each one connect, 16 bytes out,
 * their echo back, then an abortive close (RST: no TIME_WAIT on the client,
 * CLOSE, not TIME_WAIT, in the firewall's table); a connection that does
 * not finish within --dead ms counts as failed. On SIGUSR1 and at the end:
 *   CHURN ok=N failed=F seconds=S rate=R    (R: connections done per s)
 * SIGTERM, SIGINT or SIGUSR2 end the run early (the final check still runs).
 * The RESULT line then also has short_ok, short_fail, short_skipped
 * (attempts not made: the loop was late or too many were open), uflow_tx
 * and uflow_rx.
 * Exit status: 0 if every connection is alive, 1 if some were lost, 2 on a
 * usage error, 3 if the connections could not be set up.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSGLEN	   16
#define SRV_BUF	   65536
#define MAX_CONNS  20000
#define MAGIC	   0x7463636eu /* "tccn" */
#define UF_MAGIC   0x74637566u /* "tcuf" */
#define MAX_RATE   20000       /* short connections a second */
#define MAX_UFLOWS 1024

enum cst {
	C_CONNECTING,
	C_UP,
	C_DEAD,
};

struct conn {
	int fd;
	uint32_t id;
	enum cst st;
	int err;      /* errno of the failure, if dead */
	uint32_t seq; /* last sent */
	int outstanding;
	int64_t sent_at;   /* us */
	int64_t next_send; /* us */
	uint8_t rx[MSGLEN];
	size_t rxlen;
	int answered; /* got at least one echo */
	int stalled;
	int lost_said; /* 1: LOST printed, 2: then RECOVERED */
};

/* A short connection: connect, one echo, close. */
enum sst {
	S_FREE,
	S_CONNECTING,
	S_WAIT,
};

struct sconn {
	int fd;
	enum sst st;
	int64_t start; /* us */
	unsigned port; /* local, once connected (0: not known) */
	uint8_t rx[MSGLEN];
	size_t rxlen;
};

struct srvconn {
	int fd;
	uint8_t *buf;
	size_t off, len;
	int want_out;
	int64_t last_rx; /* us */
	struct srvconn *prev, *next;
};

/*
 * --idle-reset MS: the server resets a connection that received nothing
 * for MS ms, as real servers time idle clients out. Without it, a
 * connection whose client gave up during a failover, and whose close the
 * firewall dropped then, stays open at the server for good: every later
 * connection from the same client port (SNAT keeps ports) then meets it,
 * gets an ACK for the old connection instead of a SYN-ACK, and fails.
 */
static int64_t srv_idle_us;
static struct srvconn *srv_list;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tcpconn -l ADDR:PORT [--rt] [--idle-reset MS]\n"
	    "       tcpconn -c ADDR:PORT [-n conns] [-i interval-ms] "
	    "[-d seconds]\n"
	    "               [--stream-us us] [--stream-bytes n] "
	    "[--probe-us us] [--no-stream]\n"
	    "               [--no-probe] [--status ms] [--dead ms] "
	    "[--final-wait ms] [--quiet] [--rt]\n"
	    "               [--short rate] [--short-timeout ms] "
	    "[--udp-flows n] [--series ms]\n"
	    "               [--rx-log file]\n"
	    "       tcpconn -c ADDR:PORT --churn K [-d seconds] [--dead "
	    "ms]\n");
	exit(2);
}

static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon;
	char *end;
	long port;

	colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	return 0;
}

static long
num_arg(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "tcpconn: bad number '%s' (%ld..%ld)\n", s, lo,
		    hi);
		usage();
	}
	return v;
}

static int
make_sigfd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		return -1;
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* ---------------------------------------------------------------- server */

static void
srv_close(int ep, struct srvconn *sc)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, sc->fd, NULL);
	if (sc->prev != NULL)
		sc->prev->next = sc->next;
	else
		srv_list = sc->next;
	if (sc->next != NULL)
		sc->next->prev = sc->prev;
	close(sc->fd);
	free(sc->buf);
	free(sc);
}

/* Echo what is readable; stop reading while output is pending. Bounded:
 * epoll (level-triggered) calls again for what is left. */
static void
srv_io(int ep, struct srvconn *sc)
{
	struct epoll_event ev;
	ssize_t n;

	for (int it = 0; it < 64; it++) {
		if (sc->len > sc->off) {
			n = send(sc->fd, sc->buf + sc->off, sc->len - sc->off,
			    MSG_NOSIGNAL);
			if (n == -1) {
				if (errno == EAGAIN)
					break;
				srv_close(ep, sc);
				return;
			}
			sc->off += n;
			if (sc->off < sc->len)
				break;
		}
		sc->off = sc->len = 0;
		n = recv(sc->fd, sc->buf, SRV_BUF, 0);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			srv_close(ep, sc);
			return;
		}
		if (n == -1)
			break;
		sc->len = n;
		sc->last_rx = now_us();
	}
	if ((sc->len > sc->off) != sc->want_out) {
		sc->want_out = sc->len > sc->off;
		memset(&ev, 0, sizeof(ev));
		ev.events = sc->want_out ? EPOLLOUT : EPOLLIN;
		ev.data.ptr = sc;
		epoll_ctl(ep, EPOLL_CTL_MOD, sc->fd, &ev);
	}
}

/* --idle-reset: reset (SO_LINGER 0) the connections idle too long; at
 * most every 100 ms. */
static void
srv_reap(int ep)
{
	static int64_t last;
	struct linger lg = { 1, 0 };
	struct srvconn *sc, *nx;
	int64_t now = now_us();

	if (srv_idle_us == 0 || now - last < 100000)
		return;
	last = now;
	for (sc = srv_list; sc != NULL; sc = nx) {
		nx = sc->next;
		if (now - sc->last_rx > srv_idle_us) {
			setsockopt(sc->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
			srv_close(ep, sc);
		}
	}
}

static int
run_server(const struct sockaddr_in *sin)
{
	struct epoll_event ev, evs[256];
	struct srvconn *sc;
	struct sockaddr_in from;
	socklen_t fl;
	uint8_t ubuf[2048];
	int ls, us, ep, sfd, i, n, fd, one = 1;
	ssize_t r;
	static int lmark, umark, smark;

	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	us = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (ls == -1 || us == -1)
		goto fail;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (const struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    listen(ls, 4096) == -1 ||
	    bind(us, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		goto fail;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (sfd = make_sigfd()) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &lmark;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.ptr = &umark;
	epoll_ctl(ep, EPOLL_CTL_ADD, us, &ev);
	ev.data.ptr = &smark;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	printf("LISTENING %s:%u\n", inet_ntoa(sin->sin_addr),
	    ntohs(sin->sin_port));
	fflush(stdout);
	for (;;) {
		n = epoll_wait(ep, evs, 256, srv_idle_us ? 100 : -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &smark)
				return 0; /* any signal ends the server */
			if (evs[i].data.ptr == &umark) {
				/* bounded: at most 64 datagrams per wakeup */
				for (int k = 0; k < 64; k++) {
					fl = sizeof(from);
					r = recvfrom(us, ubuf, sizeof(ubuf), 0,
					    (struct sockaddr *)&from, &fl);
					if (r <= 0)
						break;
					sendto(us, ubuf, r, 0,
					    (struct sockaddr *)&from, fl);
				}
				continue;
			}
			if (evs[i].data.ptr == &lmark) {
				for (int k = 0; k < 256; k++) {
					fd = accept4(ls, NULL, NULL,
					    SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd == -1)
						break;
					setsockopt(fd, IPPROTO_TCP,
					    TCP_NODELAY, &one, sizeof(one));
					sc = calloc(1, sizeof(*sc));
					if (sc == NULL ||
					    (sc->buf = malloc(SRV_BUF)) ==
						NULL) {
						free(sc);
						close(fd);
						continue;
					}
					sc->fd = fd;
					sc->last_rx = now_us();
					sc->next = srv_list;
					if (srv_list != NULL)
						srv_list->prev = sc;
					srv_list = sc;
					memset(&ev, 0, sizeof(ev));
					ev.events = EPOLLIN;
					ev.data.ptr = sc;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			srv_io(ep, evs[i].data.ptr);
		}
		/* after the events: none of them may name a freed one */
		srv_reap(ep);
	}
fail:
	perror("tcpconn: server");
	return 1;
}

/* ---------------------------------------------------------------- client */

struct client {
	struct sockaddr_in dst;
	int n;
	int64_t interval; /* us, per connection */
	int64_t duration; /* us */
	int64_t stream_us;
	int stream_bytes;
	int64_t probe_us;
	int64_t status_us;
	int64_t dead_us;
	int64_t final_us;
	int quiet;
	int rt;
	FILE *rxlog; /* --rx-log */
	int churn;   /* --churn K */

	int ep;
	struct conn *c;
	int64_t t0;
	int ready;

	/* stream */
	int sfd;
	int s_up;
	int s_dead;
	int64_t s_last; /* last rx, us */
	int64_t s_gap;	/* max since mark */
	int64_t s_gap_all;
	int64_t s_next;
	uint64_t s_tx, s_rx;

	/* UDP probe */
	int ufd;
	uint32_t u_seq;
	uint32_t u_rx_seq; /* highest seen */
	uint64_t u_rx;
	uint64_t u_lost, u_lost_mark;
	int64_t u_last;
	int64_t u_gap;
	int64_t u_gap_all;
	int64_t u_next;

	int marks;
	int stalled_max;

	int64_t rt0; /* wall clock at t0, us */

	/* short connections */
	int short_rate;	  /* a second; 0: none */
	int64_t short_to; /* us */
	struct sconn *sc;
	int sc_n;
	int sc_open;
	int64_t sh_t0;
	uint64_t sh_due, sh_ok, sh_fail, sh_skip;
	uint64_t sh_ok_b, sh_fail_b; /* since the last SERIES */
	int64_t sh_scan;

	/* more UDP flows */
	int uflows;
	int *uf_fd;
	uint64_t uf_tx, uf_rx;
	int64_t uf_next;

	/* SERIES */
	int64_t series_us;
	int64_t series_last;
	int64_t u_gap_b, s_gap_b;
};

/* epoll tags for the non-connection fds */
static int tag_timer, tag_sig, tag_stream, tag_udp;

/* Wall-clock seconds of a monotonic time (us). */
static double
wall(const struct client *cl, int64_t t)
{
	return (cl->rt0 + (t - cl->t0)) / 1e6;
}

static void
conn_lost(struct client *cl, struct conn *c, int64_t now, const char *why)
{
	if (c->lost_said || !cl->ready)
		return;
	c->lost_said = 1;
	printf("LOST id=%u t=%.3f since=%.3f err=%s\n", c->id, wall(cl, now),
	    wall(cl, c->sent_at), why);
}

static void
conn_fail(struct client *cl, struct conn *c, int err)
{
	if (c->st == C_DEAD)
		return;
	conn_lost(cl, c, now_us(), strerror(err));
	c->st = C_DEAD;
	c->err = err;
	epoll_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static int
tcp_open(struct client *cl, void *tag, int *fdp)
{
	struct epoll_event ev;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&cl->dst, sizeof(cl->dst)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = tag;
	if (epoll_ctl(cl->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

static int
sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) == -1)
		return errno;
	return e;
}

static void
conn_send(struct client *cl, struct conn *c, int64_t now)
{
	uint8_t m[MSGLEN];
	uint32_t v;
	ssize_t n;

	c->seq++;
	v = htonl(MAGIC);
	memcpy(m, &v, 4);
	v = htonl(c->id);
	memcpy(m + 4, &v, 4);
	v = htonl(c->seq);
	memcpy(m + 8, &v, 4);
	v = htonl((uint32_t)now);
	memcpy(m + 12, &v, 4);
	n = send(c->fd, m, MSGLEN, MSG_NOSIGNAL);
	if (n != MSGLEN) {
		/* 16 bytes into an almost empty socket buffer: a short
		 * write means the connection is broken */
		conn_fail(cl, c, n == -1 ? errno : EIO);
		return;
	}
	c->outstanding = 1;
	c->sent_at = now;
}

static void
conn_event(struct client *cl, struct conn *c, uint32_t events, int64_t now)
{
	struct epoll_event ev;
	uint32_t v;
	ssize_t n;
	int e;

	if (c->st == C_CONNECTING) {
		if ((e = sock_error(c->fd)) != 0) {
			conn_fail(cl, c, e);
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		c->st = C_UP;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(cl->ep, EPOLL_CTL_MOD, c->fd, &ev);
		conn_send(cl, c, now);
		return;
	}
	if (c->st != C_UP)
		return;
	for (int k = 0; k < 8; k++) {
		n = recv(c->fd, c->rx + c->rxlen, MSGLEN - c->rxlen, 0);
		if (n == 0) {
			conn_fail(cl, c, ECONNRESET);
			return;
		}
		if (n == -1) {
			if (errno != EAGAIN)
				conn_fail(cl, c, errno);
			return;
		}
		c->rxlen += n;
		if (c->rxlen < MSGLEN)
			continue;
		c->rxlen = 0;
		memcpy(&v, c->rx + 8, 4);
		if (!c->outstanding || ntohl(v) != c->seq) {
			conn_fail(cl, c, EPROTO); /* echo does not match */
			return;
		}
		memcpy(&v, c->rx + 4, 4);
		if (ntohl(v) != c->id) {
			conn_fail(cl, c, EPROTO);
			return;
		}
		c->outstanding = 0;
		c->answered = 1;
		c->stalled = 0;
		if (c->lost_said == 1) {
			c->lost_said = 2;
			printf("RECOVERED id=%u t=%.3f\n", c->id,
			    wall(cl, now));
		}
		c->next_send = now + cl->interval;
	}
}

static void
stream_event(struct client *cl, uint32_t events, int64_t now)
{
	struct epoll_event ev;
	uint8_t buf[65536];
	ssize_t n;
	int e;

	if (cl->s_dead)
		return;
	if (!cl->s_up) {
		if ((e = sock_error(cl->sfd)) != 0) {
			cl->s_dead = e;
			return;
		}
		cl->s_up = 1;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &tag_stream;
		epoll_ctl(cl->ep, EPOLL_CTL_MOD, cl->sfd, &ev);
		return;
	}
	for (int k = 0; k < 16; k++) {
		n = recv(cl->sfd, buf, sizeof(buf), 0);
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				cl->s_dead = n == 0 ? ECONNRESET : errno;
				epoll_ctl(cl->ep, EPOLL_CTL_DEL, cl->sfd,
				    NULL);
			}
			return;
		}
		if (cl->s_last != 0 && cl->ready) {
			if (now - cl->s_last > cl->s_gap)
				cl->s_gap = now - cl->s_last;
			if (now - cl->s_last > cl->s_gap_all)
				cl->s_gap_all = now - cl->s_last;
			if (now - cl->s_last > cl->s_gap_b)
				cl->s_gap_b = now - cl->s_last;
		}
		cl->s_last = now;
		cl->s_rx += n;
	}
}

static void
stream_tick(struct client *cl, int64_t now)
{
	static uint8_t buf[65536];
	ssize_t n;

	if (!cl->s_up || cl->s_dead)
		return;
	if (cl->s_next < now - 10 * cl->stream_us)
		cl->s_next = now; /* start, or the loop was late */
	while (cl->s_next <= now) {
		cl->s_next += cl->stream_us;
		n = send(cl->sfd, buf, cl->stream_bytes,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno != EAGAIN) {
			cl->s_dead = errno;
			return;
		}
		if (n > 0)
			cl->s_tx += n;
	}
}

static void
rx_log(FILE *f, uint32_t seq)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "%lld %u\n",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, seq);
}

static void
udp_event(struct client *cl, int64_t now)
{
	uint8_t buf[64];
	uint32_t v;
	ssize_t n;

	for (int k = 0; k < 64; k++) {
		n = recv(cl->ufd, buf, sizeof(buf), 0);
		if (n < 8)
			return;
		memcpy(&v, buf, 4);
		if (ntohl(v) != MAGIC)
			continue;
		memcpy(&v, buf + 4, 4);
		v = ntohl(v);
		if (v <= cl->u_rx_seq && cl->u_rx > 0)
			continue; /* duplicate or reordered */
		if (cl->rxlog != NULL)
			rx_log(cl->rxlog, v);
		if (cl->u_rx > 0)
			cl->u_lost += v - cl->u_rx_seq - 1;
		cl->u_rx_seq = v;
		cl->u_rx++;
		if (cl->u_last != 0 && cl->ready) {
			if (now - cl->u_last > cl->u_gap)
				cl->u_gap = now - cl->u_last;
			if (now - cl->u_last > cl->u_gap_all)
				cl->u_gap_all = now - cl->u_last;
			if (now - cl->u_last > cl->u_gap_b)
				cl->u_gap_b = now - cl->u_last;
		}
		cl->u_last = now;
	}
}

static void
udp_tick(struct client *cl, int64_t now)
{
	uint8_t buf[32];
	uint32_t v;

	if (cl->ufd == -1)
		return;
	if (cl->u_next < now - 10 * cl->probe_us)
		cl->u_next = now;
	while (cl->u_next <= now) {
		cl->u_next += cl->probe_us;
		memset(buf, 0, sizeof(buf));
		v = htonl(MAGIC);
		memcpy(buf, &v, 4);
		v = htonl(++cl->u_seq);
		memcpy(buf + 4, &v, 4);
		send(cl->ufd, buf, sizeof(buf), MSG_DONTWAIT);
	}
}

struct counts {
	int up, dead, reset, stalled, connecting, answered;
};

static void
count(struct client *cl, int64_t now, struct counts *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < cl->n; i++) {
		struct conn *c = &cl->c[i];

		switch (c->st) {
		case C_CONNECTING:
			k->connecting++;
			break;
		case C_UP:
			k->up++;
			if (c->outstanding && now - c->sent_at > cl->dead_us) {
				k->stalled++;
				c->stalled = 1;
				conn_lost(cl, c, now, "stalled");
			}
			break;
		case C_DEAD:
			k->dead++;
			if (c->err == ECONNRESET || c->err == EPIPE)
				k->reset++;
			break;
		}
		if (c->answered)
			k->answered++;
	}
}

static double
ms(int64_t us)
{
	return us / 1000.0;
}

/* The gap still running now counts too: an outage shows while it lasts. */
static int64_t
cur_gap(int64_t last, int64_t now, int64_t max)
{
	if (last != 0 && now - last > max)
		return now - last;
	return max;
}

static void
status(struct client *cl, int64_t now)
{
	struct counts k;
	char sgap[64] = "", ugap[64] = "";

	count(cl, now, &k);
	if (k.stalled > cl->stalled_max)
		cl->stalled_max = k.stalled;
	if (cl->quiet)
		return;
	if (cl->sfd != -1)
		snprintf(sgap, sizeof(sgap), " | stream %s gap %.1f ms",
		    cl->s_dead ? "DEAD" : "ok",
		    ms(cur_gap(cl->s_last, now, cl->s_gap)));
	if (cl->ufd != -1)
		snprintf(ugap, sizeof(ugap), " | probe gap %.1f ms lost %lu",
		    ms(cur_gap(cl->u_last, now, cl->u_gap)),
		    (unsigned long)cl->u_lost);
	printf("[%7.2fs] conns %d/%d alive, %d stalled, %d reset, "
	       "%d failed%s%s\n",
	    (now - cl->t0) / 1e6, k.up - k.stalled, cl->n, k.stalled, k.reset,
	    k.dead - k.reset, sgap, ugap);
	fflush(stdout);
}

static void
mark(struct client *cl, int64_t now)
{
	struct counts k;

	count(cl, now, &k);
	printf("MARK n=%d tcp_gap_ms=%.3f udp_gap_ms=%.3f udp_lost=%lu "
	       "alive=%d stalled=%d dead=%d reset=%d total=%d\n",
	    cl->marks++, ms(cur_gap(cl->s_last, now, cl->s_gap)),
	    ms(cur_gap(cl->u_last, now, cl->u_gap)),
	    (unsigned long)(cl->u_lost - cl->u_lost_mark), k.up - k.stalled,
	    k.stalled, k.dead, k.reset, cl->n);
	fflush(stdout);
	if (cl->rxlog != NULL)
		fflush(cl->rxlog);
	cl->s_gap = 0;
	cl->u_gap = 0;
	cl->u_lost_mark = cl->u_lost;
}

/* ---------------------------------------------------- short connections */

static const char *
err_name(int e)
{
	switch (e) {
	case ETIMEDOUT:
		return "timeout";
	case ECONNRESET:
		return "reset";
	case ECONNREFUSED:
		return "refused";
	case EHOSTUNREACH:
		return "unreachable";
	case EPROTO:
		return "badecho";
	default:
		return "error";
	}
}

/* The local port a connecting socket was given (0: unknown). */
static unsigned
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static void
short_end(struct client *cl, struct sconn *s, int err, int64_t now)
{
	const char *at = s->st == S_CONNECTING ? "connect" : "echo";

	epoll_ctl(cl->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	s->st = S_FREE;
	cl->sc_open--;
	if (err == 0) {
		cl->sh_ok++;
		cl->sh_ok_b++;
		return;
	}
	cl->sh_fail++;
	cl->sh_fail_b++;
	printf("SFAIL start=%.3f end=%.3f err=%s at=%s port=%u\n",
	    wall(cl, s->start), wall(cl, now), err_name(err), at, s->port);
}

static void
short_event(struct client *cl, struct sconn *s, uint32_t events, int64_t now)
{
	struct epoll_event ev;
	uint8_t m[MSGLEN];
	uint32_t v;
	ssize_t n;
	int e;

	if (s->st == S_CONNECTING) {
		if ((e = sock_error(s->fd)) != 0) {
			short_end(cl, s, e, now);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		memset(m, 0, sizeof(m));
		v = htonl(MAGIC);
		memcpy(m, &v, 4);
		v = htonl((uint32_t)(s - cl->sc));
		memcpy(m + 4, &v, 4);
		if (send(s->fd, m, MSGLEN, MSG_NOSIGNAL) != MSGLEN) {
			short_end(cl, s, errno ? errno : EIO, now);
			return;
		}
		s->st = S_WAIT;
		s->rxlen = 0;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = s;
		epoll_ctl(cl->ep, EPOLL_CTL_MOD, s->fd, &ev);
		return;
	}
	n = recv(s->fd, s->rx + s->rxlen, MSGLEN - s->rxlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		short_end(cl, s, n == 0 ? ECONNRESET : errno, now);
		return;
	}
	if (n == -1)
		return;
	s->rxlen += n;
	if (s->rxlen < MSGLEN)
		return;
	memcpy(&v, s->rx + 4, 4);
	/* the echo came: close (a normal FIN, the client side's TIME_WAIT) */
	short_end(cl, s, ntohl(v) == (uint32_t)(s - cl->sc) ? 0 : EPROTO, now);
}

static void short_expire(struct client *, int64_t);

/* Start the attempts due by now (bounded per call), time out old ones. */
static void
short_tick(struct client *cl, int64_t now)
{
	uint64_t due;
	int k, slot = 0;

	if (cl->short_rate == 0)
		return;
	due = (uint64_t)((now - cl->sh_t0) * cl->short_rate / 1000000);
	if (due > cl->sh_due + (uint64_t)cl->short_rate) {
		/* more than a second late: those are not made up for */
		cl->sh_skip += due - cl->sh_due - cl->short_rate;
		cl->sh_due = due - cl->short_rate;
	}
	for (k = 0; k < 64 && cl->sh_due < due; k++) {
		while (slot < cl->sc_n && cl->sc[slot].st != S_FREE)
			slot++;
		cl->sh_due++;
		if (slot == cl->sc_n) {
			cl->sh_skip++;
			continue;
		}
		cl->sc[slot].start = now;
		if (tcp_open(cl, &cl->sc[slot], &cl->sc[slot].fd) == -1) {
			cl->sc[slot].fd = -1;
			cl->sh_fail++;
			cl->sh_fail_b++;
			printf("SFAIL start=%.3f end=%.3f err=socket\n",
			    wall(cl, now), wall(cl, now));
			continue;
		}
		cl->sc[slot].st = S_CONNECTING;
		cl->sc[slot].port = local_port(cl->sc[slot].fd);
		cl->sc_open++;
	}
	short_expire(cl, now);
}

/* Fail the attempts older than the timeout (every 10 ms). */
static void
short_expire(struct client *cl, int64_t now)
{
	if (cl->sc == NULL || now - cl->sh_scan < 10000)
		return;
	cl->sh_scan = now;
	for (int i = 0; i < cl->sc_n; i++)
		if (cl->sc[i].st != S_FREE &&
		    now - cl->sc[i].start > cl->short_to)
			short_end(cl, &cl->sc[i], ETIMEDOUT, now);
}

static int
short_init(struct client *cl, int64_t now)
{
	if (cl->short_rate == 0)
		return 0;
	/* room for every attempt of one timeout and a second more */
	cl->sc_n = (int)(cl->short_rate * (cl->short_to / 1000000 + 2));
	if ((cl->sc = calloc(cl->sc_n, sizeof(*cl->sc))) == NULL)
		return -1;
	for (int i = 0; i < cl->sc_n; i++)
		cl->sc[i].fd = -1;
	cl->sh_t0 = now;
	return 0;
}

static int
is_short(const struct client *cl, const void *p)
{
	return cl->sc != NULL && (const struct sconn *)p >= cl->sc &&
	    (const struct sconn *)p < cl->sc + cl->sc_n;
}

/* ------------------------------------------------------- more UDP flows */

static int
uflow_init(struct client *cl, int64_t now)
{
	struct epoll_event ev;

	if (cl->uflows == 0)
		return 0;
	if ((cl->uf_fd = calloc(cl->uflows, sizeof(int))) == NULL)
		return -1;
	for (int i = 0; i < cl->uflows; i++) {
		cl->uf_fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (cl->uf_fd[i] == -1 ||
		    connect(cl->uf_fd[i], (struct sockaddr *)&cl->dst,
			sizeof(cl->dst)) == -1)
			return -1;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &cl->uf_fd[i];
		epoll_ctl(cl->ep, EPOLL_CTL_ADD, cl->uf_fd[i], &ev);
	}
	cl->uf_next = now;
	return 0;
}

static int
is_uflow(const struct client *cl, const void *p)
{
	return cl->uf_fd != NULL && (const int *)p >= cl->uf_fd &&
	    (const int *)p < cl->uf_fd + cl->uflows;
}

static void
uflow_event(struct client *cl, int fd)
{
	uint8_t buf[64];
	uint32_t v;

	for (int k = 0; k < 16; k++) {
		if (recv(fd, buf, sizeof(buf), 0) < 4)
			return;
		memcpy(&v, buf, 4);
		if (ntohl(v) == UF_MAGIC)
			cl->uf_rx++;
	}
}

static void
uflow_tick(struct client *cl, int64_t now)
{
	uint8_t buf[16];
	uint32_t v;

	if (cl->uflows == 0 || now < cl->uf_next)
		return;
	cl->uf_next = now + cl->interval;
	memset(buf, 0, sizeof(buf));
	v = htonl(UF_MAGIC);
	memcpy(buf, &v, 4);
	for (int i = 0; i < cl->uflows; i++)
		if (send(cl->uf_fd[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			cl->uf_tx++;
}

/* ------------------------------------------------------------ timeline */

static void
series_tick(struct client *cl, int64_t now)
{
	struct counts k;

	if (cl->series_us == 0 || now - cl->series_last < cl->series_us)
		return;
	cl->series_last = now;
	count(cl, now, &k);
	printf("SERIES t=%.3f probe_gap_ms=%.1f stream_gap_ms=%.1f alive=%d "
	       "stalled=%d dead=%d short_ok=%lu short_fail=%lu short_open=%d "
	       "uflow_tx=%lu uflow_rx=%lu\n",
	    wall(cl, now),
	    cl->ufd == -1 ? 0 : ms(cur_gap(cl->u_last, now, cl->u_gap_b)),
	    cl->sfd == -1 ? 0 : ms(cur_gap(cl->s_last, now, cl->s_gap_b)),
	    k.up - k.stalled, k.stalled, k.dead, (unsigned long)cl->sh_ok_b,
	    (unsigned long)cl->sh_fail_b, cl->sc_open,
	    (unsigned long)cl->uf_tx, (unsigned long)cl->uf_rx);
	cl->u_gap_b = cl->s_gap_b = 0;
	cl->sh_ok_b = cl->sh_fail_b = 0;
}

/* One epoll event of the client. */
static void
client_event(struct client *cl, struct epoll_event *e, int tfd, int sfd,
    int stopping, int64_t *end, int64_t now)
{
	struct signalfd_siginfo si;
	void *p = e->data.ptr;
	uint64_t x;

	if (p == &tag_timer) {
		if (read(tfd, &x, sizeof(x)) < 0)
			return;
	} else if (p == &tag_sig) {
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1)
				mark(cl, now);
			else if (si.ssi_signo != SIGPIPE && !stopping)
				*end = now;
		}
	} else if (p == &tag_stream)
		stream_event(cl, e->events, now);
	else if (p == &tag_udp)
		udp_event(cl, now);
	else if (is_short(cl, p))
		short_event(cl, p, e->events, now);
	else if (is_uflow(cl, p))
		uflow_event(cl, *(int *)p);
	else
		conn_event(cl, p, e->events, now);
}

static int
run_client(struct client *cl)
{
	struct epoll_event ev, evs[512];
	struct itimerspec its;
	struct timespec rt;
	struct counts k;
	int64_t now, end, last_status, stop_at = 0;
	int64_t last_scan = 0;
	int tfd, sfd, i, n, stopping = 0, timeout = 0;
	int connected_by = 0, alive;

	cl->ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sfd = make_sigfd();
	if (cl->ep == -1 || tfd == -1 || sfd == -1) {
		perror("tcpconn");
		return 3;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 200000;
	its.it_interval.tv_nsec = 200000; /* 0.2 ms tick */
	timerfd_settime(tfd, 0, &its, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_timer;
	epoll_ctl(cl->ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.ptr = &tag_sig;
	epoll_ctl(cl->ep, EPOLL_CTL_ADD, sfd, &ev);

	cl->t0 = now = now_us();
	clock_gettime(CLOCK_REALTIME, &rt);
	cl->rt0 = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000;
	end = cl->t0 + cl->duration;
	last_status = now;
	cl->c = calloc(cl->n > 0 ? cl->n : 1, sizeof(*cl->c));
	if (cl->c == NULL || short_init(cl, now) == -1 ||
	    uflow_init(cl, now) == -1) {
		perror("tcpconn");
		return 3;
	}
	for (i = 0; i < cl->n; i++) {
		struct conn *c = &cl->c[i];

		c->id = i;
		c->st = C_CONNECTING;
		if (tcp_open(cl, c, &c->fd) == -1) {
			perror("tcpconn: connect");
			return 3;
		}
	}
	if (cl->sfd == 0 && tcp_open(cl, &tag_stream, &cl->sfd) == -1)
		return 3;
	if (cl->ufd == 0) {
		cl->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (cl->ufd == -1 ||
		    connect(cl->ufd, (struct sockaddr *)&cl->dst,
			sizeof(cl->dst)) == -1)
			return 3;
		ev.data.ptr = &tag_udp;
		epoll_ctl(cl->ep, EPOLL_CTL_ADD, cl->ufd, &ev);
		cl->u_next = now;
	}

	for (;;) {
		n = epoll_wait(cl->ep, evs, 512, 100);
		now = now_us();
		for (i = 0; i < n; i++)
			client_event(cl, &evs[i], tfd, sfd, stopping, &end,
			    now);
		if (!cl->ready) {
			count(cl, now, &k);
			if (k.connecting == 0 && k.answered == cl->n &&
			    (cl->sfd == -1 || cl->s_last != 0) &&
			    (cl->ufd == -1 || cl->u_last != 0)) {
				cl->ready = 1;
				printf("READY conns=%d dead=%d\n", k.up,
				    k.dead);
				fflush(stdout);
			} else if (!connected_by &&
			    now - cl->t0 > 10 * 1000000) {
				connected_by = 1;
				fprintf(stderr,
				    "tcpconn: only %d of %d "
				    "connections answered within 10 s\n",
				    k.answered, cl->n);
			}
		}
		if (!stopping && now - last_scan >= 1000) {
			last_scan = now;
			for (i = 0; i < cl->n; i++) {
				struct conn *c = &cl->c[i];

				if (c->st == C_UP && !c->outstanding &&
				    c->next_send <= now)
					conn_send(cl, c, now);
			}
		}
		if (!stopping) {
			stream_tick(cl, now);
			udp_tick(cl, now);
			uflow_tick(cl, now);
			if (cl->ready)
				short_tick(cl, now);
		}
		series_tick(cl, now);
		if (now - last_status >= cl->status_us && !stopping) {
			last_status = now;
			status(cl, now);
		}
		if (!stopping && now >= end) {
			stopping = 1;
			stop_at = now;
			if (!cl->quiet) {
				printf("stopping: waiting up to %.1f s for "
				       "outstanding echoes\n",
				    cl->final_us / 1e6);
				fflush(stdout);
			}
		}
		if (stopping) {
			int pending = 0;

			for (i = 0; i < cl->n; i++)
				if (cl->c[i].st != C_DEAD &&
				    (cl->c[i].outstanding ||
					cl->c[i].st == C_CONNECTING))
					pending++;
			short_expire(cl, now);
			pending += cl->sc_open;
			if (pending == 0)
				break;
			if (now - stop_at >= cl->final_us) {
				timeout = pending;
				break;
			}
		}
	}

	count(cl, now, &k);
	if (cl->ready) {
		/* an outage still going on at the end counts too */
		cl->s_gap_all = cur_gap(cl->s_last, now, cl->s_gap_all);
		cl->u_gap_all = cur_gap(cl->u_last, now, cl->u_gap_all);
	}
	alive = 0;
	for (i = 0; i < cl->n; i++)
		if (cl->c[i].st == C_UP && !cl->c[i].outstanding &&
		    cl->c[i].answered)
			alive++;
	printf(
	    "RESULT alive=%d total=%d reset=%d failed=%d timeout=%d "
	    "stalled_max=%d tcp_gap_ms=%.3f udp_gap_ms=%.3f udp_lost=%lu "
	    "stream=%s ready=%d short_ok=%lu short_fail=%lu short_skipped=%lu "
	    "uflow_tx=%lu uflow_rx=%lu\n",
	    alive, cl->n, k.reset, k.dead - k.reset, timeout, cl->stalled_max,
	    ms(cl->s_gap_all), ms(cl->u_gap_all), (unsigned long)cl->u_lost,
	    cl->sfd == -1		       ? "none" :
		cl->s_dead		       ? "dead" :
		now - cl->s_last > cl->dead_us ? "stalled" :
						 "alive",
	    cl->ready, (unsigned long)cl->sh_ok, (unsigned long)cl->sh_fail,
	    (unsigned long)cl->sh_skip, (unsigned long)cl->uf_tx,
	    (unsigned long)cl->uf_rx);
	fflush(stdout);
	if (cl->rxlog != NULL)
		fclose(cl->rxlog);
	if (!cl->ready)
		return 3;
	return alive == cl->n ? 0 : 1;
}

/* ---------------------------------------------------------------- churn */

struct churn {
	struct client *cl;
	struct conn *c; /* cl->churn slots */
	uint64_t ok, failed, ok_mark, failed_mark;
	int64_t mark_at;
};

/* Open a fresh short connection in slot c. */
static void
churn_open(struct churn *ch, struct conn *c, int64_t now)
{
	if (tcp_open(ch->cl, c, &c->fd) == -1) {
		c->fd = -1;
		c->st = C_DEAD;
		ch->failed++;
		return;
	}
	c->st = C_CONNECTING;
	c->rxlen = 0;
	c->sent_at = now;
}

/* Close slot c abortively (RST) and count it. */
static void
churn_close(struct churn *ch, struct conn *c, int ok)
{
	struct linger lg = { 1, 0 };

	if (c->fd != -1) {
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		epoll_ctl(ch->cl->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->st = C_DEAD;
	if (ok)
		ch->ok++;
	else
		ch->failed++;
}

static void
churn_event(struct churn *ch, struct conn *c, int64_t now)
{
	struct epoll_event ev;
	ssize_t n;

	if (c->st == C_CONNECTING) {
		if (sock_error(c->fd) != 0) {
			churn_close(ch, c, 0);
			return;
		}
		c->st = C_UP;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ch->cl->ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->seq = 0;
		conn_send(ch->cl, c, now);
		if (c->st == C_DEAD) { /* conn_send closed it */
			c->fd = -1;
			ch->failed++;
		}
		return;
	}
	if (c->st != C_UP)
		return;
	n = recv(c->fd, c->rx + c->rxlen, MSGLEN - c->rxlen, 0);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		churn_close(ch, c, 0);
		return;
	}
	c->rxlen += n;
	if (c->rxlen == MSGLEN)
		churn_close(ch, c, 1);
}

static void
churn_report(struct churn *ch, int64_t now, uint64_t ok, uint64_t failed)
{
	double s = (now - ch->mark_at) / 1e6;

	printf("CHURN ok=%llu failed=%llu seconds=%.3f rate=%.1f\n",
	    (unsigned long long)ok, (unsigned long long)failed, s,
	    s > 0 ? ok / s : 0.0);
	fflush(stdout);
}

/* Replace finished slots, time out stuck ones. */
static void
churn_refill(struct churn *ch, int64_t now, int stopping)
{
	for (int i = 0; i < ch->cl->churn; i++) {
		struct conn *c = &ch->c[i];

		if (c->st != C_DEAD && now - c->sent_at > ch->cl->dead_us)
			churn_close(ch, c, 0);
		if (c->st == C_DEAD && !stopping)
			churn_open(ch, c, now);
	}
}

/* --churn K: short connections back to back, K at a time. */
static int
run_churn(struct client *cl)
{
	struct epoll_event evs[512];
	struct signalfd_siginfo si;
	struct churn ch;
	int64_t now, end;
	int sfd, n, i, busy;

	memset(&ch, 0, sizeof(ch));
	ch.cl = cl;
	cl->ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = make_sigfd();
	ch.c = calloc(cl->churn, sizeof(*ch.c));
	if (cl->ep == -1 || sfd == -1 || ch.c == NULL) {
		perror("tcpconn");
		return 3;
	}
	for (i = 0; i < cl->churn; i++) {
		ch.c[i].fd = -1;
		ch.c[i].st = C_DEAD;
	}
	ch.mark_at = now = now_us();
	end = now + cl->duration;
	churn_refill(&ch, now, 0);
	while (now < end) {
		n = epoll_wait(cl->ep, evs, 512, 10);
		now = now_us();
		for (i = 0; i < n; i++)
			churn_event(&ch, evs[i].data.ptr, now);
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1) {
				churn_report(&ch, now, ch.ok - ch.ok_mark,
				    ch.failed - ch.failed_mark);
				ch.ok_mark = ch.ok;
				ch.failed_mark = ch.failed;
				ch.mark_at = now;
			} else if (si.ssi_signo != SIGPIPE)
				end = now;
		}
		churn_refill(&ch, now, 0);
	}
	/* Let the connections in flight finish (bounded by --dead). */
	do {
		n = epoll_wait(cl->ep, evs, 512, 10);
		now = now_us();
		for (i = 0; i < n; i++)
			churn_event(&ch, evs[i].data.ptr, now);
		churn_refill(&ch, now, 1);
		for (busy = 0, i = 0; i < cl->churn; i++)
			busy += ch.c[i].st != C_DEAD;
	} while (busy > 0);
	churn_report(&ch, end, ch.ok - ch.ok_mark, ch.failed - ch.failed_mark);
	free(ch.c);
	return ch.ok > 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	/* clang-format off */
	static const struct option longopts[] = {
		{ "listen",	required_argument, NULL, 'l' },
		{ "connect",	required_argument, NULL, 'c' },
		{ "conns",	required_argument, NULL, 'n' },
		{ "interval",	required_argument, NULL, 'i' },
		{ "duration",	required_argument, NULL, 'd' },
		{ "stream-us",	required_argument, NULL, 'S' },
		{ "stream-bytes", required_argument, NULL, 'b' },
		{ "probe-us",	required_argument, NULL, 'U' },
		{ "no-stream",	no_argument,	   NULL, 'x' },
		{ "no-probe",	no_argument,	   NULL, 'y' },
		{ "status",	required_argument, NULL, 't' },
		{ "dead",	required_argument, NULL, 'D' },
		{ "final-wait",	required_argument, NULL, 'F' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "rt",		no_argument,	   NULL, 'r' },
		{ "short",	required_argument, NULL, 'H' },
		{ "short-timeout", required_argument, NULL, 'T' },
		{ "udp-flows",	required_argument, NULL, 'u' },
		{ "series",	required_argument, NULL, 'e' },
		{ "rx-log",	required_argument, NULL, 'L' },
		{ "churn",	required_argument, NULL, 'C' },
		{ "idle-reset",	required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 }
	};
	/* clang-format on */
	struct client cl;
	struct sockaddr_in sin;
	struct rlimit rl;
	const char *listen_at = NULL, *connect_to = NULL;
	int ch;

	memset(&cl, 0, sizeof(cl));
	cl.n = 300;
	cl.interval = 100000;
	cl.duration = 30 * 1000000LL;
	cl.stream_us = 1000;
	cl.stream_bytes = 256;
	cl.probe_us = 1000;
	cl.status_us = 1000000;
	cl.dead_us = 1000000;
	cl.final_us = 10 * 1000000LL;
	cl.short_to = 2000000;
	while ((ch = getopt_long(argc, argv, "l:c:n:i:d:q", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			listen_at = optarg;
			break;
		case 'c':
			connect_to = optarg;
			break;
		case 'n':
			cl.n = num_arg(optarg, 0, MAX_CONNS);
			break;
		case 'i':
			cl.interval = num_arg(optarg, 1, 600000) * 1000;
			break;
		case 'd':
			cl.duration = num_arg(optarg, 1, 3600) * 1000000LL;
			break;
		case 'S':
			cl.stream_us = num_arg(optarg, 100, 1000000);
			break;
		case 'b':
			cl.stream_bytes = num_arg(optarg, 1, 65536);
			break;
		case 'U':
			cl.probe_us = num_arg(optarg, 100, 1000000);
			break;
		case 'x':
			cl.sfd = -1;
			break;
		case 'y':
			cl.ufd = -1;
			break;
		case 't':
			cl.status_us = num_arg(optarg, 10, 600000) * 1000;
			break;
		case 'D':
			cl.dead_us = num_arg(optarg, 10, 600000) * 1000;
			break;
		case 'F':
			cl.final_us = num_arg(optarg, 0, 600000) * 1000;
			break;
		case 'q':
			cl.quiet = 1;
			break;
		case 'r':
			cl.rt = 1;
			break;
		case 'H':
			cl.short_rate = num_arg(optarg, 1, MAX_RATE);
			break;
		case 'T':
			cl.short_to = num_arg(optarg, 10, 60000) * 1000;
			break;
		case 'u':
			cl.uflows = num_arg(optarg, 1, MAX_UFLOWS);
			break;
		case 'e':
			cl.series_us = num_arg(optarg, 10, 60000) * 1000;
			break;
		case 'L':
			if ((cl.rxlog = fopen(optarg, "w")) == NULL) {
				perror(optarg);
				return 2;
			}
			setvbuf(cl.rxlog, NULL, _IOFBF, 1 << 16);
			break;
		case 'C':
			cl.churn = num_arg(optarg, 1, 4096);
			break;
		case 'I':
			srv_idle_us = num_arg(optarg, 100, 3600000) * 1000LL;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (listen_at == NULL) == (connect_to == NULL) ||
	    (cl.n == 0 && cl.short_rate == 0 && cl.churn == 0))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max; /* thousands of sockets */
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (cl.rt) {
		struct sched_param sp = { .sched_priority = 10 };

		/* less scheduling noise in the measured gaps */
		if (sched_setscheduler(0, SCHED_FIFO, &sp) == -1)
			perror("tcpconn: SCHED_FIFO (ignored)");
	}
	if (listen_at != NULL) {
		if (parse_addr(listen_at, &sin) == -1) {
			fprintf(stderr, "tcpconn: bad address '%s'\n",
			    listen_at);
			return 2;
		}
		return run_server(&sin);
	}
	if (parse_addr(connect_to, &cl.dst) == -1) {
		fprintf(stderr, "tcpconn: bad address '%s'\n", connect_to);
		return 2;
	}
	if (cl.churn > 0)
		return run_churn(&cl);
	return run_client(&cl);
}

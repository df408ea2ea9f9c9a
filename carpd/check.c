/*
 * check.c: running the health checks: exec (a command in its own process
 * group, killed with it when over its timeout), interface (link state from
 * rtnetlink) and ping (one ICMP echo a run); rise/fall and the demotion.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "carpd.h"
#include "check.h"
#include "ev.h"
#include "log.h"
#include "sbuf.h"
#include "util.h"

#define CHECK_REAP_RETRY_NS 100000000ULL /* killed, not reaped yet */
#define CHECK_PING_LEN	    24		 /* ICMP header and 16 bytes */
#define CHECK_PING_READS    64		 /* datagrams read a wake-up */

static void check_timer(struct ev_timer *, void *);

unsigned int
check_demotion(void)
{
	unsigned int sum = 0;

	for (int i = 0; i < carpd->nchecks; i++)
		if (carpd->checks[i]->failed)
			sum += carpd->checks[i]->weight;
	return sum > CARP_DEMOTE_MAX ? CARP_DEMOTE_MAX : sum;
}

/* One result: rise successes or fall failures in a row change the state. */
static void
check_result(struct carpd_check *c, int ok, const char *detail)
{
	int was = c->failed;

	c->runs++;
	snprintf(c->last, sizeof(c->last), "%s", detail);
	if (ok) {
		c->ok_run++;
		c->fail_run = 0;
	} else {
		c->fail_run++;
		c->ok_run = 0;
		c->failures++;
	}
	if (c->failed && c->ok_run >= c->rise)
		c->failed = 0;
	else if (!c->failed && c->fail_run >= c->fall)
		c->failed = 1;
	if (c->failed == was)
		return;
	c->last_change = ev_now_ns();
	log_info("check %s: %s (%s)%s", c->name, c->failed ? "failed" : "ok",
	    detail, c->weight ? "" : ", weight 0: not counted");
	carpd_set_demote(DEM_CHECK, check_demotion());
}

/* The run is over: the next one starts an interval after this one did. */
static void
check_done(struct carpd_check *c)
{
	c->busy = 0;
	ev_timer_arm_at(c->timer, c->started + c->interval_ms * 1000000ULL);
}

/* ---- exec ---- */

static void
exec_start(struct carpd_check *c)
{
	if ((c->pid = util_spawn_quiet(c->argv)) == -1) {
		c->pid = 0;
		check_result(c, 0, "cannot run");
		log_warn("check %s: run %s", c->name, c->argv[0]);
		check_done(c);
		return;
	}
	c->killed = 0;
	c->busy = 1;
	ev_timer_arm_at(c->timer, c->started + c->timeout_ms * 1000000ULL);
}

/* Over its timeout: counted failed, killed with all it started. */
static void
exec_timeout(struct carpd_check *c)
{
	if (kill(-c->pid, SIGKILL) == -1 && errno == ESRCH)
		kill(c->pid, SIGKILL);
	c->killed = 1;
	c->timeouts++;
	check_result(c, 0, "timeout");
	check_done(c);
}

/* SIGCHLD: 1 when pid was a check's. */
int
check_reaped(pid_t pid, int status)
{
	char d[CHECK_LASTLEN];

	for (int i = 0; i < carpd->nchecks; i++) {
		struct carpd_check *c = carpd->checks[i];

		if (c->kind != CHECK_EXEC || c->pid != pid || pid <= 0)
			continue;
		c->pid = 0;
		/* Whatever it left behind in its group goes too. */
		kill(-pid, SIGKILL);
		if (c->killed || !c->busy)
			return 1;
		if (WIFEXITED(status))
			snprintf(d, sizeof(d), "exit %d", WEXITSTATUS(status));
		else
			snprintf(d, sizeof(d), "signal %d",
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		check_result(c, WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    d);
		check_done(c);
		return 1;
	}
	return 0;
}

/* ---- interface ---- */

static void
iface_sample(struct carpd_check *c)
{
	check_result(c, c->ifp->running,
	    c->ifp->running ? "link up" : "no link");
}

void
check_link(const struct iface *ifp)
{
	for (int i = 0; i < carpd->nchecks; i++)
		if (carpd->checks[i]->kind == CHECK_IFACE &&
		    carpd->checks[i]->ifp == ifp)
			iface_sample(carpd->checks[i]);
}

/* ---- ping ---- */

static void
ping_close(struct carpd_check *c)
{
	if (c->fd == -1)
		return;
	ev_fd_del(carpd->loop, c->fd);
	close(c->fd);
	c->fd = -1;
}

static uint16_t
in_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An echo reply to this run's request? */
static int
ping_match(const struct carpd_check *c, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from)
{
	int v6 = c->dst.family == AF_INET6;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;

	if (v6 && !c->raw) {
		/* nothing to strip */
	} else if (!v6 && c->raw) {
		if (len < 20 || (size_t)(p[0] & 0x0f) * 4 > len)
			return 0;
		len -= (size_t)(p[0] & 0x0f) * 4;
		p += (size_t)(p[0] & 0x0f) * 4;
	}
	if (len < 8 || p[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) ||
	    p[1] != 0 || (p[6] << 8 | p[7]) != c->seq)
		return 0;
	/* A datagram socket gets only its own replies, ident rewritten. */
	if (c->raw && (p[4] << 8 | p[5]) != c->ident)
		return 0;
	if (v6)
		return from->ss_family == AF_INET6 &&
		    memcmp(&s6->sin6_addr, &c->dst.v6, 16) == 0;
	return from->ss_family == AF_INET &&
	    s4->sin_addr.s_addr == c->dst.v4.s_addr;
}

static void
ping_readable(int fd, int events, void *arg)
{
	struct carpd_check *c = arg;
	struct sockaddr_storage from;
	socklen_t fl;
	uint8_t buf[1500];
	char d[CHECK_LASTLEN];
	ssize_t n;

	for (int i = 0; i < CHECK_PING_READS; i++) {
		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &fl);
		if (n < 0)
			return;
		if (!ping_match(c, buf, (size_t)n, &from))
			continue;
		snprintf(d, sizeof(d), "rtt %.3f ms",
		    (double)(ev_now_ns() - c->started) / 1e6);
		ping_close(c);
		check_result(c, 1, d);
		check_done(c);
		return;
	}
}

/* A socket for one echo: an unprivileged ICMP datagram socket when
 * net.ipv4.ping_group_range allows, else a raw one (CAP_NET_RAW). */
static int
ping_socket(struct carpd_check *c)
{
	int af = c->dst.family,
	    proto = af == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	int fd;

	c->raw = 0;
	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd == -1) {
		c->raw = 1;
		fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    proto);
	}
	if (fd == -1)
		return -1;
	if (c->ifname[0] != '\0' &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->ifname,
		(socklen_t)strlen(c->ifname)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
ping_fail(struct carpd_check *c, const char *what)
{
	char d[CHECK_LASTLEN];

	snprintf(d, sizeof(d), "%s: %s", what, strerror(errno));
	ping_close(c);
	check_result(c, 0, d);
	check_done(c);
}

static void
ping_start(struct carpd_check *c)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	uint8_t pkt[CHECK_PING_LEN] = { 0 };
	int v6 = c->dst.family == AF_INET6;
	uint16_t ck;

	if ((c->fd = ping_socket(c)) == -1) {
		ping_fail(c, "socket");
		return;
	}
	if (ev_fd_add(carpd->loop, c->fd, EV_READ, ping_readable, c) == -1) {
		close(c->fd);
		c->fd = -1;
		ping_fail(c, "ev_fd_add");
		return;
	}
	c->seq++;
	if (getrandom(&c->ident, sizeof(c->ident), GRND_NONBLOCK) == -1)
		c->ident = (uint16_t)getpid();
	pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	pkt[4] = (uint8_t)(c->ident >> 8);
	pkt[5] = (uint8_t)c->ident;
	pkt[6] = (uint8_t)(c->seq >> 8);
	pkt[7] = (uint8_t)c->seq;
	memcpy(pkt + 8, &c->started, sizeof(c->started));
	/* IPv4 only: the kernel sums ICMPv6 (and fixes a datagram's). */
	if (!v6) {
		ck = in_cksum(pkt, sizeof(pkt));
		pkt[2] = (uint8_t)(ck >> 8);
		pkt[3] = (uint8_t)ck;
		s4->sin_family = AF_INET;
		s4->sin_addr = c->dst.v4;
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = c->dst.v6;
		if (c->ifname[0] != '\0')
			s6->sin6_scope_id = if_nametoindex(c->ifname);
	}
	if (sendto(c->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss,
		v6 ? sizeof(*s6) : sizeof(*s4)) == -1) {
		ping_fail(c, "send");
		return;
	}
	c->busy = 1;
	ev_timer_arm_at(c->timer, c->started + c->timeout_ms * 1000000ULL);
}

/* ---- scheduling ---- */

static void
check_timer(struct ev_timer *t, void *arg)
{
	struct carpd_check *c = arg;

	if (c->busy) {
		/* The timeout of the run under way. */
		if (c->kind == CHECK_EXEC) {
			exec_timeout(c);
			return;
		}
		ping_close(c);
		c->timeouts++;
		check_result(c, 0, "timeout");
		check_done(c);
		return;
	}
	if (c->pid != 0) {
		/* A killed command not reaped yet: no second one. */
		ev_timer_arm(t, CHECK_REAP_RETRY_NS);
		return;
	}
	c->started = ev_now_ns();
	switch (c->kind) {
	case CHECK_EXEC:
		exec_start(c);
		break;
	case CHECK_PING:
		ping_start(c);
		break;
	default:
		iface_sample(c);
		check_done(c);
		break;
	}
}

void
check_start_one(struct carpd_check *c, int failed)
{
	c->failed = failed;
	c->last_change = ev_now_ns();
	snprintf(c->last, sizeof(c->last), "not run yet");
	if ((c->timer = ev_timer_new(carpd->loop, check_timer, c)) == NULL)
		fatal("check timer");
	ev_timer_arm(c->timer, 0);
}

/*
 * Every check starts failed, its weight counted, until rise successes in
 * a row: a node coming up does not take mastership before its checks
 * have passed. The first runs start now.
 */
void
check_start(void)
{
	for (int i = 0; i < carpd->nchecks; i++)
		check_start_one(carpd->checks[i], 1);
}

void
check_stop_one(struct carpd_check *c)
{
	ev_timer_free(c->timer);
	c->timer = NULL;
	ping_close(c);
	if (c->pid > 0 && kill(-c->pid, SIGKILL) == -1 && errno == ESRCH)
		kill(c->pid, SIGKILL);
	c->pid = 0;
	c->busy = 0;
}

/* At exit: commands killed with their groups and reaped, sockets
 * closed. */
void
check_stop(void)
{
	for (int i = 0; i < carpd->nchecks; i++) {
		struct carpd_check *c = carpd->checks[i];
		pid_t pid = c->pid;

		check_stop_one(c);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	check_free_all();
}

/* ---- status ---- */

static const char *
check_target(const struct carpd_check *c, char *b, size_t len)
{
	char a[ADDR_STRLEN];

	switch (c->kind) {
	case CHECK_EXEC:
		snprintf(b, len, "%s", c->argv[0]);
		break;
	case CHECK_PING:
		snprintf(b, len, "%s%s%s", addr_fmt(&c->dst, -1, a, sizeof(a)),
		    c->ifname[0] ? " via " : "", c->ifname);
		break;
	default:
		snprintf(b, len, "%s", c->ifname);
		break;
	}
	return b;
}

void
check_status_json(struct sbuf *s, uint64_t now)
{
	char b[ADDR_STRLEN + IF_NAMESIZE + 8];

	sbuf_puts(s, "\"checks\":[");
	for (int i = 0; i < carpd->nchecks; i++) {
		const struct carpd_check *c = carpd->checks[i];

		sbuf_printf(s, "%s{\"name\":", i ? "," : "");
		sbuf_json_str(s, c->name);
		sbuf_printf(s,
		    ",\"type\":\"%s\",\"target\":", check_kind_names[c->kind]);
		sbuf_json_str(s, check_target(c, b, sizeof(b)));
		sbuf_printf(s, ",\"state\":\"%s\",\"weight\":%u,\"last\":",
		    c->failed ? "failed" : "ok", c->weight);
		sbuf_json_str(s, c->last);
		sbuf_printf(s,
		    ",\"since\":%.3f,\"interval\":%.3f,"
		    "\"timeout\":%.3f,\"rise\":%u,\"fall\":%u,\"runs\":"
		    "%" PRIu64 ",\"failures\":%" PRIu64
		    ",\"timeouts\":%" PRIu64 "}",
		    util_wallclock() - (double)(now - c->last_change) / 1e9,
		    c->interval_ms / 1e3, c->timeout_ms / 1e3, c->rise,
		    c->fall, c->runs, c->failures, c->timeouts);
	}
	sbuf_puts(s, "]");
}

void
check_status_text(struct sbuf *s, uint64_t now)
{
	char b[ADDR_STRLEN + IF_NAMESIZE + 8];

	for (int i = 0; i < carpd->nchecks; i++) {
		const struct carpd_check *c = carpd->checks[i];

		sbuf_printf(s,
		    "check %s (%s %s): %s for %.1f s, last %s, "
		    "weight %u\n",
		    c->name, check_kind_names[c->kind],
		    check_target(c, b, sizeof(b)), c->failed ? "failed" : "ok",
		    (double)(now - c->last_change) / 1e9, c->last, c->weight);
	}
}

/*
 * ctbench.c: rates of syncd's ct.c on N synthetic TCP states in a fresh
 * network namespace: import with and without a listener, dump with and
 * without one, update, delete, and message parsing (ct_parse_msg vs
 * libnetfilter_conntrack). The benchmark takes these as the kernel's
 * limit on this machine.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "ct.h"
#include "ct_msg.h"
#include "ev.h"
#include "log.h"

#define CHUNK 8192
#define PORTS 50000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
gen(struct ct_state *s, uint64_t i)
{
	uint32_t src = htonl(0x0a010000 + (uint32_t)(i / PORTS));
	uint32_t dst = htonl(0x0aff0001);

	memset(s, 0, sizeof(*s));
	s->orig.family = s->reply.family = AF_INET;
	s->orig.proto = s->reply.proto = IPPROTO_TCP;
	memcpy(s->orig.src, &src, 4);
	memcpy(s->orig.dst, &dst, 4);
	s->orig.sport = (uint16_t)(1024 + i % PORTS);
	s->orig.dport = 80;
	memcpy(s->reply.src, &dst, 4);
	memcpy(s->reply.dst, &src, 4);
	s->reply.sport = 80;
	s->reply.dport = s->orig.sport;
	s->status = 0x6;
	s->fields = CT_F_TCP | CT_F_TIMEOUT | CT_F_MARK;
	s->timeout = 3600;
	s->mark = (uint32_t)i;
	s->tcp_state = 3;
	s->tcp_wscale[0] = s->tcp_wscale[1] = 7;
	s->tcp_flags[0] = s->tcp_flags[1] = IP_CT_TCP_FLAG_SACK_PERM |
	    IP_CT_TCP_FLAG_WINDOW_SCALE;
}

static struct ct_state *chunk;

/* Import (or delete) N states through h; returns seconds. */
static double
run(struct ct_handle *h, uint64_t n, int del, uint64_t *ok)
{
	uint64_t i;
	size_t k, m;
	double t0 = now(), gt = 0, g0;

	*ok = 0;
	for (i = 0; i < n; i += m) {
		m = n - i < CHUNK ? (size_t)(n - i) : CHUNK;
		g0 = now();
		for (k = 0; k < m; k++)
			gen(&chunk[k], i + k);
		gt += now() - g0;
		*ok += (uint64_t)(del ?
			ct_delete(h, chunk, m) :
			ct_import(h, chunk, m));
	}
	/* Generating the states is not the import's cost. */
	return now() - t0 - gt;
}

static void
count_cb(const struct ct_state *s, void *arg)
{
	(*(uint64_t *)arg)++;
}

static void
ev_cb(enum ct_event ev, const struct ct_state *s, void *arg)
{
	(*(uint64_t *)arg)++;
}

/* The raw dump: datagrams back to back. */
static uint8_t *raw;
static size_t rawlen, rawcap;

static void
capture(void)
{
	struct mnl_socket *nl;
	uint8_t req[CT_MSG_MAX];
	const struct nlmsghdr *nlh;
	ssize_t n;
	size_t len;
	int rem, done = 0;

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1)
		err(1, "netlink");
	len = ct_msg_dump(req, 1, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET);
	if (mnl_socket_sendto(nl, req, len) == -1)
		err(1, "send");
	rawlen = 0;
	while (!done) {
		if (rawcap - rawlen < 65536) {
			rawcap = rawcap ? rawcap * 2 : (1 << 24);
			/* cppcheck-suppress memleakOnRealloc ; err() exits */
			if ((raw = realloc(raw, rawcap)) == NULL)
				err(1, "realloc");
		}
		n = recv(mnl_socket_get_fd(nl), raw + rawlen, 65536, 0);
		if (n <= 0)
			err(1, "recv");
		nlh = (const struct nlmsghdr *)(raw + rawlen);
		rem = (int)n;
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
			if (nlh->nlmsg_type == NLMSG_DONE ||
			    nlh->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
		if (done)
			rawlen = (size_t)((const uint8_t *)nlh - raw);
		else
			rawlen += (size_t)n;
	}
	mnl_socket_close(nl);
}

static uint64_t
parse_ct(void)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)raw;
	struct ct_state s;
	uint64_t n = 0, sum = 0;
	int rem = (int)rawlen;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
		if (ct_parse_msg(nlh, (size_t)rem, &s) == 0) {
			n++;
			sum += s.mark;
		}
	return n + (sum & 0);
}

/* The same fields through libnetfilter_conntrack, for comparison. */
static uint64_t
parse_nfct(void)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)raw;
	struct nf_conntrack *ct;
	struct ct_state s;
	uint64_t n = 0;
	int rem = (int)rawlen;

	if ((ct = nfct_new()) == NULL)
		err(1, "nfct_new");
	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		if (nfct_nlmsg_parse(nlh, ct) < 0)
			continue;
		memset(&s, 0, sizeof(s));
		s.orig.family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
		s.orig.proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
		memcpy(s.orig.src, nfct_get_attr(ct, ATTR_IPV4_SRC), 4);
		memcpy(s.orig.dst, nfct_get_attr(ct, ATTR_IPV4_DST), 4);
		s.orig.sport = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_SRC));
		s.orig.dport = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_DST));
		memcpy(s.reply.src, nfct_get_attr(ct, ATTR_REPL_IPV4_SRC), 4);
		memcpy(s.reply.dst, nfct_get_attr(ct, ATTR_REPL_IPV4_DST), 4);
		s.reply.sport = ntohs(
		    nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
		s.reply.dport = ntohs(
		    nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
		s.status = nfct_get_attr_u32(ct, ATTR_STATUS);
		s.timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
		s.mark = nfct_get_attr_u32(ct, ATTR_MARK);
		s.zone = nfct_get_attr_u16(ct, ATTR_ZONE);
		s.tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
		s.tcp_flags[0] = nfct_get_attr_u8(ct, ATTR_TCP_FLAGS_ORIG);
		s.tcp_flags[1] = nfct_get_attr_u8(ct, ATTR_TCP_FLAGS_REPL);
		s.tcp_wscale[0] = nfct_get_attr_u8(ct, ATTR_TCP_WSCALE_ORIG);
		s.tcp_wscale[1] = nfct_get_attr_u8(ct, ATTR_TCP_WSCALE_REPL);
		n++;
	}
	nfct_destroy(ct);
	return n;
}

static void
report(const char *what, uint64_t n, double t)
{
	printf("%-40s %9llu in %7.3f s  %10.0f/s\n", what,
	    (unsigned long long)n, t, t > 0 ? n / t : 0.0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ctbench [-n count]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct ct_handle *h, *lh;
	struct ct_callbacks cb = { ev_cb, NULL, NULL, NULL, NULL };
	struct ev_loop *l;
	uint64_t n = 100000, ok, cnt, evs = 0;
	double t, c0;
	char *ep;
	int ch, i;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoull(optarg, &ep, 10);
			if (*ep != '\0' || n == 0 || n > 100000000ULL)
				usage();
			break;
		default:
			usage();
		}
	}
	log_init("ctbench", 0, 0);
	if (unshare(CLONE_NEWNET) == -1)
		err(1, "unshare(CLONE_NEWNET) (needs CAP_SYS_ADMIN)");
	if ((chunk = calloc(CHUNK, sizeof(*chunk))) == NULL)
		err(1, "calloc");
	if ((l = ev_loop_new()) == NULL)
		err(1, "ev_loop_new");
	if ((h = ct_open(NULL, NULL, NULL, 0)) == NULL)
		err(1, "ct_open");

	printf("ctbench: %llu TCP states, fresh netns\n",
	    (unsigned long long)n);
	t = run(h, n, 0, &ok);
	report("import, no listener", ok, t);
	cnt = 0;
	t = now();
	c0 = cpu();
	if (ct_dump_sync(h, count_cb, &cnt) == -1)
		err(1, "dump");
	t = now() - t;
	report("dump (ct_dump_sync, parsed)", cnt, t);
	printf("%-40s %9.3f s CPU in this process\n", "  dump CPU",
	    cpu() - c0);

	capture();
	for (i = 0; i < 2; i++) {
		c0 = cpu();
		cnt = i == 0 ? parse_ct() : parse_nfct();
		t = cpu() - c0;
		report(i == 0 ? "parse ct_parse_msg (CPU)" :
				"parse nfct_nlmsg_parse+get_attr (CPU)",
		    cnt, t);
	}

	t = run(h, n, 0, &ok);
	report("re-import (EEXIST, then update)", ok, t);
	t = run(h, n, 1, &ok);
	report("delete", ok, t);

	/* syncd's case: it listens itself and imports through the same
	 * handle; the kernel still builds every event. */
	if ((lh = ct_open(l, &cb, &evs, 0)) == NULL)
		err(1, "ct_open listener");
	t = run(lh, n, 0, &ok);
	report("import, own listener (events filtered)", ok, t);
	ev_loop_once(l, 0);
	printf("%-40s overruns %llu events %llu own %llu\n", "  listener",
	    (unsigned long long)ct_stats(lh)->overruns,
	    (unsigned long long)ct_stats(lh)->events,
	    (unsigned long long)ct_stats(lh)->own_events);
	t = run(lh, n, 1, &ok);
	report("delete, own listener", ok, t);

	/* Somebody else listens (and does not read during the import). */
	t = run(h, n, 0, &ok);
	report("import, foreign listener", ok, t);
	for (i = 0; i < 1000 && ev_loop_once(l, 0) == 0; i++)
		if (evs >= n)
			break;
	printf("%-40s overruns %llu events %llu\n", "  listener",
	    (unsigned long long)ct_stats(lh)->overruns,
	    (unsigned long long)ct_stats(lh)->events);
	/* A dump while a listener is open (dumps make no events). */
	cnt = 0;
	t = now();
	if (ct_dump_sync(h, count_cb, &cnt) == -1)
		err(1, "dump");
	report("dump, listener open", cnt, now() - t);
	ct_close(lh);
	t = run(h, n, 1, &ok);
	report("delete, no listener", ok, t);

	ct_close(h);
	ev_loop_free(l);
	free(chunk);
	free(raw);
	return 0;
}

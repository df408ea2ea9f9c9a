/*
 * ctlag.c: replication lag of a conntrack sync daemon under a steady load,
 * for the benchmark. In the sender's network namespace it creates new TCP
 * states at --new per second and updates existing ones (their mark) at
 * --updates per second for --seconds, as batched ctnetlink requests paced
 * every millisecond. A second thread listens to conntrack NEW events in
 * both namespaces and stamps each with CLOCK_MONOTONIC (one clock for
 * every namespace of a machine); states are matched by their original
 * tuple, which encodes their number. The lag of a state runs from its
 * event on the sender to its event on the peer (the peer's daemon putting
 * it into the kernel table). The listening thread runs SCHED_FIFO so that
 * an event is stamped when it is queued, not when a busy machine gets
 * round to it.
 *
 * usage: ctlag --from NETNS --to NETNS [--new R] [--updates R]
 *              [--seconds S] [--wait S] [--base A.B.C.D] [--trace FILE]
 * NETNS: a path such as /run/netns/NAME. Prints one line:
 *   LAG states= matched= missing_from= missing_to= median_ms= p99_ms=
 *       max_ms= after_last_ms= new_rate= upd_rate= errors= overruns_from=
 *       overruns_to= censored=
 * A state still missing on the peer when the wait ends counts with the
 * time waited for it (a lower bound; "censored" says how many): the
 * percentiles are then lower bounds too.
 * --trace writes each arrived state's lag to FILE, "SECONDS LAG_MS" a
 * line, seconds from the first state's event on the sender.
 * Exit status 0 when every state arrived, 1 otherwise, 2 on bad usage.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "ct.h"
#include "ct_msg.h"
#include "log.h"

#define PORTS	   50000
#define SENDBUF	   (64 * 1024)
#define RCVBUF	   (64 << 20)
#define MAX_STATES 50000000ULL
#define DST_ADDR   0x0afe0001u /* 10.254.0.1:81 */
#define DST_PORT   81

struct side {
	struct mnl_socket *nl;
	int64_t *t; /* ns; 0: not seen */
	uint64_t events, foreign, overruns;
};

static struct side from, to;
static uint64_t nstates;	    /* capacity of the arrays */
static const char *trace;	    /* --trace FILE */
static uint32_t base = 0x0a400000u; /* 10.64.0.0 */
static int stopfd;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ctlag --from NETNS --to NETNS [--new rate] "
	    "[--updates rate] [--seconds s]\n"
	    "             [--wait s] [--base A.B.C.D] [--trace file]\n");
	exit(2);
}

static void
enter_ns(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	if (setns(fd, CLONE_NEWNET) == -1)
		err(1, "setns %s", path);
	close(fd);
}

static struct mnl_socket *
nl_open(unsigned int groups)
{
	struct mnl_socket *nl;
	int sz = RCVBUF;

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		err(1, "netlink");
	if (groups != 0 &&
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		sizeof(sz)) == -1)
		err(1, "SO_RCVBUFFORCE");
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) == -1)
		err(1, "bind");
	return nl;
}

/* State i: base+(i/PORTS):1024+(i%PORTS) -> 10.254.0.1:81, ESTABLISHED. */
static void
gen(struct ct_state *s, uint64_t i, uint32_t mark)
{
	uint32_t src = htonl(base + (uint32_t)(i / PORTS));
	uint32_t dst = htonl(DST_ADDR);

	memset(s, 0, sizeof(*s));
	s->orig.family = s->reply.family = AF_INET;
	s->orig.proto = s->reply.proto = IPPROTO_TCP;
	memcpy(s->orig.src, &src, 4);
	memcpy(s->orig.dst, &dst, 4);
	s->orig.sport = (uint16_t)(1024 + i % PORTS);
	s->orig.dport = DST_PORT;
	memcpy(s->reply.src, &dst, 4);
	memcpy(s->reply.dst, &src, 4);
	s->reply.sport = DST_PORT;
	s->reply.dport = s->orig.sport;
	s->status = IPS_ASSURED | IPS_SEEN_REPLY | IPS_CONFIRMED;
	s->fields = CT_F_TCP | CT_F_TIMEOUT | CT_F_MARK;
	s->timeout = 600;
	s->mark = mark;
	s->tcp_state = TCP_CONNTRACK_ESTABLISHED;
	s->tcp_wscale[0] = s->tcp_wscale[1] = 7;
	s->tcp_flags[0] = s->tcp_flags[1] = IP_CT_TCP_FLAG_SACK_PERM |
	    IP_CT_TCP_FLAG_WINDOW_SCALE;
}

/* The number of a state from its tuple; -1 if it is not one of ours. */
static int64_t
state_index(const struct ct_state *s)
{
	uint32_t src, dst;
	uint64_t i;

	if (s->orig.family != AF_INET || s->orig.proto != IPPROTO_TCP ||
	    s->orig.dport != DST_PORT || s->orig.sport < 1024 ||
	    s->orig.sport >= 1024 + PORTS)
		return -1;
	memcpy(&src, s->orig.src, 4);
	memcpy(&dst, s->orig.dst, 4);
	src = ntohl(src);
	if (ntohl(dst) != DST_ADDR || src < base)
		return -1;
	i = (uint64_t)(src - base) * PORTS + (s->orig.sport - 1024);
	return i < nstates ? (int64_t)i : -1;
}

/* Read what one event socket holds; stamp the first sight of each state. */
static void
side_read(struct side *sd)
{
	static uint8_t buf[1 << 18];
	const struct nlmsghdr *nlh;
	struct ct_state s;
	ssize_t n;
	int64_t t, i;
	int rem, k;

	for (k = 0; k < 64; k++) {
		n = recv(mnl_socket_get_fd(sd->nl), buf, sizeof(buf),
		    MSG_DONTWAIT);
		if (n == -1 && errno == ENOBUFS) {
			sd->overruns++;
			continue;
		}
		if (n <= 0)
			return;
		t = now_ns();
		nlh = (const struct nlmsghdr *)buf;
		rem = (int)n;
		for (; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (ct_parse_msg(nlh, (size_t)rem, &s) != 0)
				continue;
			sd->events++;
			if ((i = state_index(&s)) < 0) {
				sd->foreign++;
				continue;
			}
			if (sd->t[i] == 0)
				__atomic_store_n(&sd->t[i], t,
				    __ATOMIC_RELAXED);
		}
	}
}

static void *
listener(void *arg)
{
	struct epoll_event ev, evs[4];
	struct sched_param sp = { .sched_priority = 20 };
	int ep, n, i, stop;

	/* Stamp events as soon as they are queued: wake up first. */
	if ((errno = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) !=
	    0)
		warn("SCHED_FIFO for the listener (ignored)");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &from;
	epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(from.nl), &ev);
	ev.data.ptr = &to;
	epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(to.nl), &ev);
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, stopfd, &ev);
	for (stop = 0; !stop;) {
		n = epoll_wait(ep, evs, 4, 1000);
		for (i = 0; i < n; i++)
			if (evs[i].data.ptr == NULL)
				stop = 1;
		/* The sender's side first: a state's event there is older
		 * than its event on the peer read in the same wakeup. */
		side_read(&from);
		side_read(&to);
	}
	close(ep);
	return NULL;
}

/* Append a request to the batch; send the batch when it is full. */
static uint8_t sbuf[SENDBUF];
static size_t slen;
static uint64_t errors;

static void
batch_flush(struct mnl_socket *nl)
{
	uint8_t rbuf[8192];
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	ssize_t n;
	int rem;

	if (slen > 0 && mnl_socket_sendto(nl, sbuf, slen) == -1)
		err(1, "netlink send");
	slen = 0;
	/* No ACKs asked for: only failures come back. */
	while ((n = recv(mnl_socket_get_fd(nl), rbuf, sizeof(rbuf),
		    MSG_DONTWAIT)) > 0) {
		nlh = (const struct nlmsghdr *)rbuf;
		rem = (int)n;
		for (; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0)
				errors++;
		}
	}
}

static void
batch_add(struct mnl_socket *nl, const struct ct_state *s, int how)
{
	static uint32_t seq;

	if (SENDBUF - slen < CT_MSG_MAX)
		batch_flush(nl);
	slen += ct_msg_state(sbuf + slen, ++seq, s, how);
}

struct load {
	double new_rate, upd_rate, seconds;
	uint64_t created, updated;
	double elapsed;
};

/* Create and update at the asked rates, paced every millisecond. */
static void
generate(struct mnl_socket *nl, struct load *ld)
{
	struct timespec next;
	struct ct_state s;
	int64_t t0, t;
	uint64_t want_new, want_upd, cap_new, cap_upd;
	double el;

	cap_new = (uint64_t)(ld->new_rate / 100) + 1;
	cap_upd = (uint64_t)(ld->upd_rate / 100) + 1;
	t0 = now_ns();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		t = now_ns();
		el = (t - t0) / 1e9;
		if (el >= ld->seconds)
			break;
		want_new = (uint64_t)(ld->new_rate * el);
		want_upd = (uint64_t)(ld->upd_rate * el);
		if (want_new > nstates)
			want_new = nstates;
		/*
		 * At most 10 ms of work a tick: a machine that cannot keep
		 * up gets a lower rate (reported), not a longer run.
		 */
		if (want_new > ld->created + cap_new)
			want_new = ld->created + cap_new;
		if (want_upd > ld->updated + cap_upd)
			want_upd = ld->updated + cap_upd;
		while (ld->created < want_new) {
			gen(&s, ld->created++, 0);
			batch_add(nl, &s, CT_BUILD_CREATE);
		}
		while (ld->created > 0 && ld->updated < want_upd) {
			ld->updated++;
			gen(&s, ld->updated % ld->created,
			    (uint32_t)ld->updated);
			batch_add(nl, &s, CT_BUILD_NO_STATUS);
		}
		batch_flush(nl);
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		if ((int64_t)next.tv_sec * 1000000000 + next.tv_nsec <
		    now_ns())
			clock_gettime(CLOCK_MONOTONIC, &next); /* late */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	ld->elapsed = (now_ns() - t0) / 1e9;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Wait (bounded) for the peer to have every created state. */
static void
wait_arrivals(uint64_t n, double seconds)
{
	int64_t end = now_ns() + (int64_t)(seconds * 1e9);
	uint64_t i = 0;

	while (now_ns() < end) {
		while (i < n && __atomic_load_n(&to.t[i], __ATOMIC_RELAXED))
			i++;
		if (i == n)
			return;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
}

/* Each state's lag by when it was made: "SECONDS LAG_MS", seconds from
 * the first state's event. */
static void
write_trace(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return;
	}
	for (uint64_t i = 0; i < nstates; i++)
		if (from.t[i] != 0 && to.t[i] != 0 && from.t[0] != 0)
			fprintf(f, "%.4f %.3f\n",
			    (double)(from.t[i] - from.t[0]) / 1e9,
			    (double)(to.t[i] - from.t[i]) / 1e6);
	if (fclose(f) != 0)
		warn("%s", path);
}

static int
report(const struct load *ld, int64_t t_end)
{
	int64_t *lag, last_from = 0, last_to = 0;
	uint64_t i, m = 0, miss_from = 0, miss_to = 0, censored = 0;

	if ((lag = calloc(ld->created + 1, sizeof(*lag))) == NULL)
		err(1, "calloc");
	for (i = 0; i < ld->created; i++) {
		if (from.t[i] == 0)
			miss_from++;
		if (to.t[i] == 0)
			miss_to++;
		if (from.t[i] > last_from)
			last_from = from.t[i];
		if (to.t[i] > last_to)
			last_to = to.t[i];
		if (from.t[i] != 0 && to.t[i] != 0)
			lag[m++] = to.t[i] - from.t[i];
		else if (from.t[i] != 0) {
			/* Not there by the end: at least this late. */
			lag[m++] = t_end - from.t[i];
			censored++;
		}
	}
	if (trace != NULL)
		write_trace(trace);
	qsort(lag, m, sizeof(*lag), cmp_i64);
	printf("LAG states=%llu matched=%llu missing_from=%llu "
	       "missing_to=%llu median_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	       "after_last_ms=%.3f new_rate=%.0f upd_rate=%.0f errors=%llu "
	       "overruns_from=%llu overruns_to=%llu censored=%llu\n",
	    (unsigned long long)ld->created, (unsigned long long)m,
	    (unsigned long long)miss_from, (unsigned long long)miss_to,
	    m ? lag[m / 2] / 1e6 : -1.0, m ? lag[(m * 99) / 100] / 1e6 : -1.0,
	    m ? lag[m - 1] / 1e6 : -1.0,
	    last_from && last_to ? (last_to - last_from) / 1e6 : -1.0,
	    ld->created / ld->elapsed, ld->updated / ld->elapsed,
	    (unsigned long long)errors, (unsigned long long)from.overruns,
	    (unsigned long long)to.overruns, (unsigned long long)censored);
	free(lag);
	return miss_to == 0 && miss_from == 0 ? 0 : 1;
}

static double
num(const char *s, double lo, double hi)
{
	char *ep;
	double v = strtod(s, &ep);

	if (*ep != '\0' || v < lo || v > hi)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "new", required_argument, NULL, 'n' },
		{ "updates", required_argument, NULL, 'u' },
		{ "seconds", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "base", required_argument, NULL, 'b' },
		{ "trace", required_argument, NULL, 'T' }, { NULL, 0, NULL, 0 }
	};
	struct load ld = { 20000, 100000, 30, 0, 0, 0 };
	struct mnl_socket *req;
	struct in_addr a;
	const char *fpath = NULL, *tpath = NULL;
	double waits = 10;
	pthread_t th;
	uint64_t one = 1;
	int64_t t_end;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			fpath = optarg;
			break;
		case 't':
			tpath = optarg;
			break;
		case 'n':
			ld.new_rate = num(optarg, 1, 1e7);
			break;
		case 'u':
			ld.upd_rate = num(optarg, 0, 1e7);
			break;
		case 's':
			ld.seconds = num(optarg, 0.1, 3600);
			break;
		case 'w':
			waits = num(optarg, 0, 3600);
			break;
		case 'T':
			trace = optarg;
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			base = ntohl(a.s_addr);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || fpath == NULL || tpath == NULL)
		usage();
	log_init("ctlag", 0, 0);
	nstates = (uint64_t)(ld.new_rate * ld.seconds) + 1;
	if (nstates > MAX_STATES)
		errx(2, "more than %llu states",
		    (unsigned long long)MAX_STATES);
	from.t = calloc(nstates, sizeof(int64_t));
	to.t = calloc(nstates, sizeof(int64_t));
	if (from.t == NULL || to.t == NULL)
		err(1, "calloc");
	enter_ns(tpath);
	to.nl = nl_open(NF_NETLINK_CONNTRACK_NEW);
	enter_ns(fpath);
	from.nl = nl_open(NF_NETLINK_CONNTRACK_NEW);
	req = nl_open(0);
	if ((stopfd = eventfd(0, EFD_CLOEXEC)) == -1)
		err(1, "eventfd");
	if ((errno = pthread_create(&th, NULL, listener, NULL)) != 0)
		err(1, "pthread_create");
	generate(req, &ld);
	wait_arrivals(ld.created, waits);
	t_end = now_ns();
	if (write(stopfd, &one, sizeof(one)) != sizeof(one))
		err(1, "eventfd write");
	pthread_join(th, NULL);
	return report(&ld, t_end);
}

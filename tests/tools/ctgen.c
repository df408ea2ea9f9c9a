/*
 * ctgen.c: fill (or empty) the conntrack table of the current namespace
 * with synthetic ESTABLISHED TCP states through ct_import, for benchmarks;
 * or create one given state (--one), optionally with a helper, a label,
 * a fixed timeout and an expectation, for the tests.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "ct.h"
#include "log.h"

#define CHUNK 8192
#define PORTS 50000

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ctgen [-n count] [-b base] [-t timeout] "
	    "[-z zone] [-m mark] [-r rate]\n"
	    "             [--delete | --update | --dump]\n"
	    "       ctgen --one [--proto tcp|udp] --src A --sport P --dst A "
	    "--dport P\n"
	    "             [--snat A [--snat-port P]] [--dnat A "
	    "[--dnat-port P]] [--delete]\n"
	    "             [-t timeout] [-z zone] [-m mark] [--helper NAME] "
	    "[--label BIT]\n"
	    "             [--fixed-timeout] [--expect [--expect-flags N]]\n");
	exit(2);
}

static int
port_arg(const char *s)
{
	char *ep;
	long v;

	v = strtol(s, &ep, 10);
	if (*ep != '\0' || v <= 0 || v > 65535)
		usage();
	return (int)v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -r: hold the run to RATE states per second (in chunks of a 50th of a
 * second), so that a test can act while it is under way. */
static void
pace(double t0, uint64_t done, uint64_t rate)
{
	struct timespec ts;
	double ahead;

	ahead = (double)done / (double)rate - (now() - t0);
	if (ahead <= 0)
		return;
	ts.tv_sec = (time_t)ahead;
	ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* State i: base+(i/PORTS):1024+(i%PORTS) -> 10.255.0.1:80. */
static void
gen(struct ct_state *s, uint32_t base, uint64_t i, uint32_t timeout, int zone,
    int mark)
{
	uint32_t src = htonl(base + (uint32_t)(i / PORTS));
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
	s->status = IPS_ASSURED | IPS_SEEN_REPLY | IPS_CONFIRMED;
	s->fields = CT_F_TCP | CT_F_TIMEOUT;
	s->timeout = timeout;
	s->tcp_state = 3; /* TCP_CONNTRACK_ESTABLISHED */
	s->tcp_wscale[0] = s->tcp_wscale[1] = 7;
	s->tcp_flags[0] = s->tcp_flags[1] = IP_CT_TCP_FLAG_SACK_PERM |
	    IP_CT_TCP_FLAG_WINDOW_SCALE;
	if (zone >= 0) {
		s->fields |= CT_F_ZONE;
		s->zone = (uint16_t)zone;
	}
	if (mark >= 0) {
		s->fields |= CT_F_MARK;
		s->mark = (uint32_t)mark;
	}
}

/* One state given on the command line (--one). */
struct one {
	const char *proto, *src, *dst, *snat, *dnat, *helper;
	int sport, dport, snat_port, dnat_port, label, fixed;
	int expect;
	uint32_t expect_flags;
};

static int
addr_parse(const char *s, uint8_t *out, int *family)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* The reply tuple is the inverse of orig with the NAT applied to it. */
static int
one_build(const struct one *o, struct ct_state *s, uint32_t timeout, int zone,
    int mark)
{
	int f1, f2, f;

	gen(s, 0, 0, timeout, zone, mark);
	memset(s->orig.src, 0, 16);
	memset(s->orig.dst, 0, 16);
	if (o->src == NULL || o->dst == NULL ||
	    addr_parse(o->src, s->orig.src, &f1) == -1 ||
	    addr_parse(o->dst, s->orig.dst, &f2) == -1 || f1 != f2)
		return -1;
	s->orig.family = (uint8_t)f1;
	if (o->proto == NULL || strcmp(o->proto, "tcp") == 0)
		s->orig.proto = IPPROTO_TCP;
	else if (strcmp(o->proto, "udp") == 0) {
		s->orig.proto = IPPROTO_UDP;
		s->fields &= ~CT_F_TCP;
	} else
		return -1;
	s->orig.sport = (uint16_t)o->sport;
	s->orig.dport = (uint16_t)o->dport;
	s->reply = s->orig;
	memcpy(s->reply.src, s->orig.dst, 16);
	memcpy(s->reply.dst, s->orig.src, 16);
	s->reply.sport = s->orig.dport;
	s->reply.dport = s->orig.sport;
	if (o->snat != NULL) {
		memset(s->reply.dst, 0, 16);
		if (addr_parse(o->snat, s->reply.dst, &f) == -1 || f != f1)
			return -1;
		if (o->snat_port > 0)
			s->reply.dport = (uint16_t)o->snat_port;
	}
	if (o->dnat != NULL) {
		memset(s->reply.src, 0, 16);
		if (addr_parse(o->dnat, s->reply.src, &f) == -1 || f != f1)
			return -1;
		if (o->dnat_port > 0)
			s->reply.sport = (uint16_t)o->dnat_port;
	}
	if (o->helper != NULL) {
		if (strlen(o->helper) >= CT_HELPER_LEN)
			return -1;
		s->fields |= CT_F_HELPER;
		snprintf(s->helper, sizeof(s->helper), "%s", o->helper);
	}
	if (o->label >= 0) {
		s->fields |= CT_F_LABELS;
		s->labels[o->label / 8] |= (uint8_t)(1 << (o->label % 8));
	}
	if (o->fixed)
		s->status |= IPS_FIXED_TIMEOUT;
	return 0;
}

/* An expectation of the state's helper: the original source may open a
 * connection to the destination's port + 1, as a data channel. */
static void
one_expect(const struct one *o, const struct ct_state *s, struct ct_expect *x)
{
	memset(x, 0, sizeof(*x));
	x->master = s->orig;
	x->tuple = s->orig;
	x->tuple.sport = 0;
	x->tuple.dport = (uint16_t)(s->orig.dport + 1);
	memset(&x->mask, 0, sizeof(x->mask));
	memset(x->mask.src, 0xff, s->orig.family == AF_INET ? 4 : 16);
	memset(x->mask.dst, 0xff, s->orig.family == AF_INET ? 4 : 16);
	x->mask.dport = 0xffff;
	x->timeout = 300;
	x->flags = o->expect_flags;
	if (o->helper != NULL) {
		x->fields |= CT_EXP_F_HELPER;
		snprintf(x->helper, sizeof(x->helper), "%s", o->helper);
	}
}

static void
count_cb(const struct ct_state *s, void *arg)
{
	(*(uint64_t *)arg)++;
}

int
main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "delete", no_argument, NULL, 'D' },
		{ "update", no_argument, NULL, 'U' },
		{ "dump", no_argument, NULL, 'L' },
		{ "one", no_argument, NULL, '1' },
		{ "proto", required_argument, NULL, 'P' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "sport", required_argument, NULL, 'S' },
		{ "dport", required_argument, NULL, 'T' },
		{ "snat", required_argument, NULL, 'A' },
		{ "snat-port", required_argument, NULL, 'B' },
		{ "dnat", required_argument, NULL, 'C' },
		{ "dnat-port", required_argument, NULL, 'E' },
		{ "helper", required_argument, NULL, 'H' },
		{ "label", required_argument, NULL, 'l' },
		{ "fixed-timeout", no_argument, NULL, 'F' },
		{ "expect", no_argument, NULL, 'X' },
		{ "expect-flags", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct ct_handle *h;
	struct ct_state *v;
	struct ct_expect x;
	const struct ct_stats *st;
	struct in_addr base;
	uint64_t n = 100000, i, done = 0, cnt = 0, rate = 0;
	unsigned long long ull;
	uint32_t timeout = 3600;
	size_t k, m, chunk = CHUNK;
	double t0, t;
	struct one o;
	int ch, mode = 0, zone = -1, mark = -1, one = 0;
	char *ep;

	memset(&o, 0, sizeof(o));
	o.label = -1;
	inet_pton(AF_INET, "10.1.0.0", &base);
	while ((ch = getopt_long(argc, argv, "n:b:t:z:m:r:", lopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'n':
			ull = strtoull(optarg, &ep, 10);
			if (*ep != '\0' || ull == 0 || ull > 100000000ULL)
				usage();
			n = ull;
			break;
		case 'r':
			ull = strtoull(optarg, &ep, 10);
			if (*ep != '\0' || ull == 0 || ull > 100000000ULL)
				usage();
			rate = ull;
			chunk = (size_t)(rate / 50);
			if (chunk == 0)
				chunk = 1;
			else if (chunk > CHUNK)
				chunk = CHUNK;
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &base) != 1)
				usage();
			break;
		case 't':
			ull = strtoull(optarg, &ep, 10);
			if (*ep != '\0' || ull == 0 || ull > 0x7fffffff)
				usage();
			timeout = (uint32_t)ull;
			break;
		case 'z':
			zone = atoi(optarg);
			if (zone < 0 || zone > 65535)
				usage();
			break;
		case 'm':
			mark = atoi(optarg);
			if (mark < 0)
				usage();
			break;
		case 'D':
		case 'U':
		case 'L':
			mode = ch;
			break;
		case '1':
			one = 1;
			break;
		case 'P':
			o.proto = optarg;
			break;
		case 's':
			o.src = optarg;
			break;
		case 'd':
			o.dst = optarg;
			break;
		case 'S':
			o.sport = port_arg(optarg);
			break;
		case 'T':
			o.dport = port_arg(optarg);
			break;
		case 'A':
			o.snat = optarg;
			break;
		case 'B':
			o.snat_port = port_arg(optarg);
			break;
		case 'C':
			o.dnat = optarg;
			break;
		case 'E':
			o.dnat_port = port_arg(optarg);
			break;
		case 'H':
			o.helper = optarg;
			break;
		case 'l':
			o.label = atoi(optarg);
			if (o.label < 0 || o.label >= 8 * CT_LABELS_LEN)
				usage();
			break;
		case 'F':
			o.fixed = 1;
			break;
		case 'X':
			o.expect = 1;
			break;
		case 'x':
			o.expect_flags = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("ctgen", 0, 0);
	if ((h = ct_open(NULL, NULL, NULL, 0)) == NULL)
		err(1, "ct_open (needs CAP_NET_ADMIN)");
	if (mode == 'L') {
		t0 = now();
		if (ct_dump_sync(h, count_cb, &cnt) == -1)
			err(1, "dump");
		t = now() - t0;
		printf("dumped %llu in %.3f s (%.0f/s)\n",
		    (unsigned long long)cnt, t, t > 0 ? cnt / t : 0.0);
		ct_close(h);
		return 0;
	}
	if ((v = calloc(CHUNK, sizeof(*v))) == NULL)
		err(1, "calloc");
	if (one) {
		if (one_build(&o, v, timeout, zone, mark) == -1)
			usage();
		done = (uint64_t)(mode == 'D' ?
			ct_delete(h, v, 1) :
			ct_import(h, v, 1));
		printf("%s %llu\n", mode == 'D' ? "deleted" : "imported",
		    (unsigned long long)done);
		if (done == 1 && o.expect && mode != 'D') {
			one_expect(&o, v, &x);
			if (ct_import_expect(h, &x, 1) != 1)
				done = 0;
			printf("expectation %s\n",
			    done ? "imported" : "refused");
		}
		free(v);
		ct_close(h);
		return done == 1 ? 0 : 1;
	}
	t0 = now();
	for (i = 0; i < n; i += m) {
		if (rate > 0)
			pace(t0, i, rate);
		m = n - i < chunk ? (size_t)(n - i) : chunk;
		for (k = 0; k < m; k++)
			gen(&v[k], ntohl(base.s_addr), i + k, timeout, zone,
			    mark);
		if (mode == 'D')
			done += (uint64_t)ct_delete(h, v, m);
		else
			done += (uint64_t)ct_import(h, v, m);
	}
	t = now() - t0;
	st = ct_stats(h);
	printf("%s %llu of %llu in %.3f s (%.0f/s): created %llu updated %llu "
	       "deleted %llu errors %llu\n",
	    mode == 'D'	    ? "deleted" :
		mode == 'U' ? "updated" :
			      "imported",
	    (unsigned long long)done, (unsigned long long)n, t,
	    t > 0 ? done / t : 0.0, (unsigned long long)st->imported,
	    (unsigned long long)st->updated, (unsigned long long)st->deleted,
	    (unsigned long long)st->import_errors);
	free(v);
	ct_close(h);
	return done == n ? 0 : 1;
}

/*
 * test_syncd_ct.c: syncd/ct.c against the kernel, in a network namespace
 * of its own (unshare at start): import, dump back, events, delete,
 * ENOBUFS recovery. Needs root; each test skips with the reason otherwise.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "ct.h"
#include "ct_msg.h"
#include "ev.h"
#include "log.h"

#define TCP_ESTABLISHED_ST 3

static int ns_ok;
static char ns_why[128];

#define NEED_NS()                                                             \
	do {                                                                  \
		if (!ns_ok) {                                                 \
			print_message("# skipped: %s\n", ns_why);             \
			skip();                                               \
		}                                                             \
	} while (0)

/* A dump collected into an array. */
struct coll {
	struct ct_state *v;
	size_t n, cap;
};

static void
coll_cb(const struct ct_state *s, void *arg)
{
	struct coll *c = arg;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	c->v[c->n++] = *s;
}

static int
tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->family == b->family && a->proto == b->proto &&
	    a->sport == b->sport && a->dport == b->dport &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static const struct ct_state *
coll_find(const struct coll *c, const struct ct_state *s)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (tuple_eq(&c->v[i].orig, &s->orig) &&
		    c->v[i].zone == s->zone)
			return &c->v[i];
	return NULL;
}

static void
dump_all(struct ct_handle *h, struct coll *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(ct_dump_sync(h, coll_cb, c), 0);
}

static void
set_addr(struct ct_tuple *t, int family, const char *src, const char *dst)
{
	t->family = (uint8_t)family;
	assert_int_equal(inet_pton(family, src, t->src), 1);
	assert_int_equal(inet_pton(family, dst, t->dst), 1);
}

/* A state with the reply tuple as the plain inverse of orig. */
static void
mk(struct ct_state *s, int family, uint8_t proto, const char *src,
    const char *dst, uint16_t sport, uint16_t dport)
{
	memset(s, 0, sizeof(*s));
	set_addr(&s->orig, family, src, dst);
	s->orig.proto = proto;
	s->orig.sport = sport;
	s->orig.dport = dport;
	s->reply = s->orig;
	memcpy(s->reply.src, s->orig.dst, 16);
	memcpy(s->reply.dst, s->orig.src, 16);
	s->reply.sport = dport;
	s->reply.dport = sport;
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		/* sport = id; echo request -> echo reply */
		s->reply.sport = sport;
		s->reply.dport = proto == IPPROTO_ICMP ? 0 : (129 << 8);
	}
	s->status = IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED;
	s->fields = CT_F_TIMEOUT;
	s->timeout = 300;
	if (proto == IPPROTO_TCP) {
		s->fields |= CT_F_TCP;
		s->tcp_state = TCP_ESTABLISHED_ST;
		s->tcp_wscale[0] = 7;
		s->tcp_wscale[1] = 5;
		s->tcp_flags[0] = s->tcp_flags[1] =
		    IP_CT_TCP_FLAG_WINDOW_SCALE | IP_CT_TCP_FLAG_SACK_PERM;
	}
}

/* What an imported state must look like when dumped back. */
static void
check_same(const struct ct_state *want, const struct ct_state *got)
{
	assert_non_null(got);
	assert_true(tuple_eq(&want->orig, &got->orig));
	assert_true(tuple_eq(&want->reply, &got->reply));
	assert_int_equal(got->status & (IPS_SEEN_REPLY | IPS_ASSURED),
	    want->status & (IPS_SEEN_REPLY | IPS_ASSURED));
	if (want->fields & CT_F_MARK)
		assert_int_equal(got->mark, want->mark);
	assert_int_equal(got->zone, want->zone);
	if (want->fields & CT_F_LABELS) {
		assert_true(got->fields & CT_F_LABELS);
		assert_memory_equal(got->labels, want->labels, CT_LABELS_LEN);
	}
	assert_true(got->fields & CT_F_TIMEOUT);
	assert_true(got->timeout <= want->timeout);
	assert_true(got->timeout + 60 >= want->timeout);
	if (want->orig.proto == IPPROTO_TCP) {
		assert_true(got->fields & CT_F_TCP);
		assert_int_equal(got->tcp_state, want->tcp_state);
		assert_int_equal(got->tcp_wscale[0], want->tcp_wscale[0]);
		assert_int_equal(got->tcp_wscale[1], want->tcp_wscale[1]);
		assert_true(got->tcp_flags[0] & IP_CT_TCP_FLAG_BE_LIBERAL);
		assert_true(got->tcp_flags[1] & IP_CT_TCP_FLAG_BE_LIBERAL);
		assert_true(got->tcp_flags[0] & IP_CT_TCP_FLAG_SACK_PERM);
	}
}

static void
flush_table(void)
{
	struct ct_handle *h;
	struct coll c;

	h = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(h);
	dump_all(h, &c);
	ct_delete(h, c.v, c.n);
	free(c.v);
	ct_close(h);
}

/*
 * Parsing without the kernel.
 */

static void
test_parse_roundtrip(void **unused)
{
	uint8_t buf[CT_MSG_MAX];
	struct ct_state s, p;
	size_t len, cut;

	mk(&s, AF_INET6, IPPROTO_TCP, "fd00::1", "fd00::2", 40000, 443);
	s.fields |= CT_F_MARK | CT_F_ZONE | CT_F_SEQADJ;
	s.mark = 0x1234;
	s.zone = 7;
	s.seqadj[0].pos = 100;
	s.seqadj[1].after = 9;
	len = ct_msg_state(buf, 1, &s, CT_BUILD_CREATE);
	assert_true(len <= CT_MSG_MAX);
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, len, &p), 0);
	assert_true(tuple_eq(&p.orig, &s.orig));
	assert_true(tuple_eq(&p.reply, &s.reply));
	assert_int_equal(p.mark, 0x1234);
	assert_int_equal(p.zone, 7);
	assert_int_equal(p.tcp_state, TCP_ESTABLISHED_ST);
	assert_int_equal(p.tcp_wscale[1], 5);
	assert_true(p.tcp_flags[0] & IP_CT_TCP_FLAG_BE_LIBERAL);
	assert_int_equal(p.seqadj[0].pos, 100);
	assert_int_equal(p.seqadj[1].after, 9);
	assert_int_equal(p.status & IPS_ASSURED, IPS_ASSURED);
	/* Every truncation is refused or parsed within bounds. */
	for (cut = 0; cut < len; cut++)
		(void)ct_parse_msg((struct nlmsghdr *)buf, cut, &p);
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, 8, &p), -1);
	/* An update message has no reply tuple: refused as a state. */
	len = ct_msg_state(buf, 2, &s, 0);
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, len, &p), -1);
	/* A length of 2^31 or more (negative as an int) is longer than
	 * the bytes there: refused, not walked past the buffer. */
	len = ct_msg_state(buf, 3, &s, CT_BUILD_CREATE);
	((struct nlmsghdr *)buf)->nlmsg_len = 0xfffffff0;
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, len, &p), -1);
	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000000;
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, len, &p), -1);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len + 4;
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, len, &p), -1);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	assert_int_equal(ct_parse_msg((struct nlmsghdr *)buf, len, &p), 0);
}

static void
test_nat_detect(void **unused)
{
	struct ct_state s;

	mk(&s, AF_INET, IPPROTO_UDP, "10.0.0.1", "10.9.0.1", 1000, 53);
	assert_false(ct_state_snat(&s));
	assert_false(ct_state_dnat(&s));
	inet_pton(AF_INET, "10.9.9.9", s.reply.dst);
	assert_true(ct_state_snat(&s));
	assert_false(ct_state_dnat(&s));
	mk(&s, AF_INET, IPPROTO_UDP, "10.0.0.1", "10.9.0.1", 1000, 53);
	s.reply.sport = 5353;
	assert_true(ct_state_dnat(&s));
}

/*
 * Import and dump back.
 */

static void
test_import_dump(void **unused)
{
	struct ct_handle *h;
	struct ct_state s[7];
	struct coll c;
	size_t i;

	NEED_NS();
	flush_table();
	mk(&s[0], AF_INET, IPPROTO_TCP, "10.0.0.1", "10.9.0.1", 40000, 80);
	mk(&s[1], AF_INET, IPPROTO_UDP, "10.0.0.1", "10.9.0.1", 5000, 53);
	mk(&s[2], AF_INET, IPPROTO_ICMP, "10.0.0.1", "10.9.0.1", 77, 8 << 8);
	mk(&s[3], AF_INET6, IPPROTO_TCP, "fd00::1", "fd00:9::1", 40001, 22);
	mk(&s[4], AF_INET, IPPROTO_TCP, "10.0.0.2", "10.9.0.1", 40002, 80);
	s[4].fields |= CT_F_MARK;
	s[4].mark = 0xdeadbeef;
	mk(&s[5], AF_INET, IPPROTO_TCP, "10.0.0.3", "10.9.0.1", 40003, 80);
	s[5].fields |= CT_F_ZONE;
	s[5].zone = 42;
	mk(&s[6], AF_INET6, IPPROTO_ICMPV6, "fd00::1", "fd00:9::1", 9,
	    128 << 8);

	h = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(h);
	assert_int_equal(ct_import(h, s, 7), 7);
	assert_int_equal(ct_stats(h)->imported, 7);
	assert_int_equal(ct_stats(h)->import_errors, 0);

	dump_all(h, &c);
	assert_int_equal(c.n, 7);
	for (i = 0; i < 7; i++)
		check_same(&s[i], coll_find(&c, &s[i]));
	free(c.v);

	/* Importing again updates (mark changed, status kept). */
	s[4].mark = 0x55;
	s[0].status = IPS_SEEN_REPLY; /* kernel keeps ASSURED: EBUSY path */
	assert_int_equal(ct_import(h, s, 7), 7);
	assert_int_equal(ct_stats(h)->updated, 7);
	assert_int_equal(ct_stats(h)->import_errors, 0);
	dump_all(h, &c);
	assert_int_equal(c.n, 7);
	assert_int_equal(coll_find(&c, &s[4])->mark, 0x55);
	assert_true(coll_find(&c, &s[0])->status & IPS_ASSURED);
	free(c.v);

	/* Delete; deleting again is not an error. */
	assert_int_equal(ct_delete(h, s, 7), 7);
	assert_int_equal(ct_delete(h, s, 7), 0);
	assert_int_equal(ct_stats(h)->import_errors, 0);
	dump_all(h, &c);
	assert_int_equal(c.n, 0);
	free(c.v);
	ct_close(h);
}

static void
test_import_nat(void **unused)
{
	struct ct_handle *h;
	struct ct_state s[4];
	const struct ct_state *g;
	struct coll c;
	size_t i;

	NEED_NS();
	flush_table();
	/* SNAT 10.0.0.1:1000 -> 192.168.99.1:61000 */
	mk(&s[0], AF_INET, IPPROTO_UDP, "10.0.0.1", "10.9.0.1", 1000, 53);
	inet_pton(AF_INET, "192.168.99.1", s[0].reply.dst);
	s[0].reply.dport = 61000;
	s[0].status |= IPS_SRC_NAT | IPS_SRC_NAT_DONE;
	/* DNAT 10.9.0.2:80 -> 10.50.0.5:8080 */
	mk(&s[1], AF_INET, IPPROTO_TCP, "10.0.0.1", "10.9.0.2", 1001, 80);
	inet_pton(AF_INET, "10.50.0.5", s[1].reply.src);
	s[1].reply.sport = 8080;
	s[1].status |= IPS_DST_NAT | IPS_DST_NAT_DONE;
	/* IPv6 SNAT, address only */
	mk(&s[2], AF_INET6, IPPROTO_TCP, "fd00::1", "fd00:9::1", 1002, 80);
	inet_pton(AF_INET6, "fd00:99::1", s[2].reply.dst);
	/* both */
	mk(&s[3], AF_INET, IPPROTO_UDP, "10.0.0.7", "10.9.0.2", 1003, 53);
	inet_pton(AF_INET, "192.168.99.1", s[3].reply.dst);
	inet_pton(AF_INET, "10.50.0.6", s[3].reply.src);

	h = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(h);
	assert_int_equal(ct_import(h, s, 4), 4);
	dump_all(h, &c);
	assert_int_equal(c.n, 4);
	for (i = 0; i < 4; i++) {
		g = coll_find(&c, &s[i]);
		check_same(&s[i], g);
		if (ct_state_snat(&s[i]))
			assert_true(g->status & IPS_SRC_NAT);
		else
			assert_false(g->status & IPS_SRC_NAT);
		if (ct_state_dnat(&s[i]))
			assert_true(g->status & IPS_DST_NAT);
		else
			assert_false(g->status & IPS_DST_NAT);
	}
	free(c.v);
	ct_delete(h, s, 4);
	ct_close(h);
}

static void
test_import_labels(void **unused)
{
	struct ct_handle *h;
	struct ct_state s;
	struct coll c;

	NEED_NS();
	if (system("command -v nft >/dev/null 2>&1") != 0) {
		print_message("# skipped: nft not installed\n");
		skip();
	}
	/* Labels are kept only while some rule uses them. */
	if (system("nft -f - >/dev/null 2>&1 <<EOF\n"
		   "table inet ctlabels {\n"
		   " chain c { type filter hook prerouting priority 0;"
		   " ct label 127 counter; }\n"
		   "}\nEOF\n") != 0) {
		print_message("# skipped: nft rule with ct label refused\n");
		skip();
	}
	flush_table();
	mk(&s, AF_INET, IPPROTO_TCP, "10.0.0.1", "10.9.0.1", 2000, 80);
	s.fields |= CT_F_LABELS;
	s.labels[0] = 0x81;
	s.labels[15] = 0x80;
	h = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(h);
	assert_int_equal(ct_import(h, &s, 1), 1);
	dump_all(h, &c);
	assert_int_equal(c.n, 1);
	check_same(&s, coll_find(&c, &s));
	free(c.v);
	ct_delete(h, &s, 1);
	ct_close(h);
	/* Best effort: the table is gone already if the test failed early. */
	if (system("nft delete table inet ctlabels >/dev/null 2>&1") != 0)
		return;
}

/* SCTP with vtags, a protocol without ports, sequence adjustment. */
static void
test_import_more(void **unused)
{
	struct ct_handle *h;
	struct ct_state s[3];
	const struct ct_state *g;
	struct coll c;

	NEED_NS();
	flush_table();
	mk(&s[0], AF_INET, IPPROTO_SCTP, "10.0.7.1", "10.9.7.1", 7000, 7001);
	s[0].fields |= CT_F_SCTP;
	s[0].sctp_state = 3; /* SCTP_CONNTRACK_ESTABLISHED */
	s[0].sctp_vtag[0] = 0x11223344;
	s[0].sctp_vtag[1] = 0x55667788;
	mk(&s[1], AF_INET6, 50, "fd00::7", "fd00:9::7", 0, 0); /* ESP */
	mk(&s[2], AF_INET, IPPROTO_TCP, "10.0.7.2", "10.9.7.1", 7002, 21);
	s[2].fields |= CT_F_SEQADJ;
	s[2].seqadj[0].pos = 1000;
	s[2].seqadj[0].before = 5;
	s[2].seqadj[0].after = 9;
	s[2].seqadj[1].pos = 2000;
	s[2].seqadj[1].before = 7;
	s[2].seqadj[1].after = 3;

	h = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(h);
	assert_int_equal(ct_import(h, s, 3), 3);
	dump_all(h, &c);
	assert_int_equal(c.n, 3);
	g = coll_find(&c, &s[0]);
	check_same(&s[0], g);
	assert_true(g->fields & CT_F_SCTP);
	assert_int_equal(g->sctp_state, 3);
	assert_int_equal(g->sctp_vtag[0], 0x11223344);
	assert_int_equal(g->sctp_vtag[1], 0x55667788);
	check_same(&s[1], coll_find(&c, &s[1]));
	g = coll_find(&c, &s[2]);
	check_same(&s[2], g);
	assert_true(g->fields & CT_F_SEQADJ);
	assert_memory_equal(g->seqadj, s[2].seqadj, sizeof(s[2].seqadj));
	free(c.v);
	assert_int_equal(ct_delete(h, s, 3), 3);
	ct_close(h);
}

/*
 * Events, and the caller's view they maintain.
 */

struct view {
	struct coll c;
	int *gen; /* per entry: resync generation */
	int cur;
	int in_resync;
	int begins, ends;
	uint64_t news, updates, destroys;
	/* The hints (key only) seen last, and events not hinted before. */
	struct ct_state hinted[64];
	uint64_t hints, unhinted;
};

static void
view_hint(const struct ct_state *s, void *arg)
{
	struct view *v = arg;

	v->hinted[v->hints++ % 64] = *s;
}

/* Whether s's key was hinted before its event. */
static int
view_was_hinted(const struct view *v, const struct ct_state *s)
{
	for (uint64_t i = 0; i < v->hints && i < 64; i++)
		if (tuple_eq(&v->hinted[i].orig, &s->orig) &&
		    v->hinted[i].zone == s->zone)
			return 1;
	return 0;
}

static struct ct_state *
view_find(struct view *v, const struct ct_state *s, size_t *idx)
{
	size_t i;

	for (i = 0; i < v->c.n; i++)
		if (tuple_eq(&v->c.v[i].orig, &s->orig) &&
		    v->c.v[i].zone == s->zone) {
			*idx = i;
			return &v->c.v[i];
		}
	return NULL;
}

static void
view_del(struct view *v, size_t i)
{
	v->c.v[i] = v->c.v[v->c.n - 1];
	v->gen[i] = v->gen[v->c.n - 1];
	v->c.n--;
}

static void
view_state(enum ct_event ev, const struct ct_state *s, void *arg)
{
	struct view *v = arg;
	struct ct_state *p;
	size_t i;

	if (ev == CT_EV_NEW)
		v->news++;
	else if (ev == CT_EV_UPDATE)
		v->updates++;
	else
		v->destroys++;
	if (!view_was_hinted(v, s))
		v->unhinted++;
	p = view_find(v, s, &i);
	if (ev == CT_EV_DESTROY) {
		if (p != NULL)
			view_del(v, i);
		return;
	}
	if (p != NULL) {
		*p = *s;
		v->gen[i] = v->cur;
		return;
	}
	coll_cb(s, &v->c);
	v->gen = realloc(v->gen, v->c.cap * sizeof(int));
	assert_non_null(v->gen);
	v->gen[v->c.n - 1] = v->cur;
}

static void
view_begin(void *arg)
{
	struct view *v = arg;

	v->begins++;
	v->cur++;
	v->in_resync = 1;
}

static void
view_end(void *arg)
{
	struct view *v = arg;
	size_t i;

	v->ends++;
	v->in_resync = 0;
	for (i = 0; i < v->c.n;)
		if (v->gen[i] != v->cur)
			view_del(v, i);
		else
			i++;
}

/* Run the loop until cond(v) or about 5 s. */
static int
spin(struct ev_loop *l, struct view *v, int (*cond)(struct view *, void *),
    void *carg)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (cond(v, carg))
			return 1;
		ev_loop_once(l, 10);
	}
	return cond(v, carg);
}

static int
has_news(struct view *v, void *arg)
{
	return v->news >= *(uint64_t *)arg;
}

static int
has_destroys(struct view *v, void *arg)
{
	return v->destroys >= *(uint64_t *)arg;
}

static void
test_events(void **unused)
{
	struct ev_loop *l;
	struct ct_handle *h, *other;
	struct ct_callbacks cb = { view_state, NULL, view_begin, view_end,
		view_hint };
	struct ct_state s[3], mine;
	struct view v;
	uint64_t want;
	size_t i;
	int r;

	NEED_NS();
	flush_table();
	memset(&v, 0, sizeof(v));
	l = ev_loop_new();
	assert_non_null(l);
	h = ct_open(l, &cb, &v, 0);
	assert_non_null(h);
	other = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(other);

	/* Another socket's changes are delivered ... */
	mk(&s[0], AF_INET, IPPROTO_TCP, "10.0.1.1", "10.9.0.1", 3000, 80);
	mk(&s[1], AF_INET, IPPROTO_UDP, "10.0.1.1", "10.9.0.1", 3001, 53);
	mk(&s[2], AF_INET6, IPPROTO_TCP, "fd00::5", "fd00:9::1", 3002, 80);
	assert_int_equal(ct_import(other, s, 3), 3);
	/* ... and so are those of conntrack(8), when installed. */
	r = system("conntrack -I -s 10.0.2.1 -d 10.9.0.1 -p udp --sport 9 "
		   "--dport 9 -t 100 >/dev/null 2>&1");
	want = r == 0 ? 4 : 3;
	assert_true(spin(l, &v, has_news, &want));
	assert_int_equal(v.news, want);
	for (i = 0; i < 3; i++) {
		size_t k;

		assert_non_null(view_find(&v, &s[i], &k));
	}

	/* ... but not our own. */
	mk(&mine, AF_INET, IPPROTO_TCP, "10.0.3.1", "10.9.0.1", 4000, 80);
	assert_int_equal(ct_import(h, &mine, 1), 1);
	mine.fields |= CT_F_MARK;
	mine.mark = 3;
	assert_int_equal(ct_import(h, &mine, 1), 1); /* update */
	assert_int_equal(ct_delete(h, &mine, 1), 1);
	for (i = 0; i < 20; i++)
		ev_loop_once(l, 10);
	assert_int_equal(ct_stats(h)->own_events, 3);
	assert_int_equal(v.news, want);
	assert_int_equal(v.updates, 0);
	assert_int_equal(v.destroys, 0);

	/* Updates and deletes by another socket. */
	s[1].fields |= CT_F_MARK;
	s[1].mark = 77;
	assert_int_equal(ct_import(other, &s[1], 1), 1);
	assert_int_equal(ct_delete(other, s, 3), 3);
	want = 3;
	assert_true(spin(l, &v, has_destroys, &want));
	assert_int_equal(v.updates, 1);
	assert_int_equal(v.destroys, 3);
	assert_int_equal(ct_stats(h)->events, v.news + v.updates + v.destroys);
	assert_int_equal(ct_stats(h)->overruns, 0);
	/* Each event was hinted before it came (its key), and only those:
	 * not our own. */
	assert_int_equal(v.hints, ct_stats(h)->events);
	assert_int_equal(v.unhinted, 0);

	ct_close(other);
	ct_close(h);
	ev_loop_free(l);
	free(v.c.v);
	free(v.gen);
	flush_table();
}

/* A full async dump through the loop matches the table. */
static void
dump_done(void *arg, int err)
{
	int *d = arg;

	*d = err == 0 ? 1 : -1;
}

static int
done_set(struct view *v, void *arg)
{
	return *(int *)arg != 0;
}

static void
gen_states(struct ct_state *s, size_t n, uint8_t third)
{
	char a[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "10.%u.%zu.%zu", third, (i >> 8) & 0xff,
		    i & 0xff);
		mk(&s[i], AF_INET, IPPROTO_TCP, a, "10.9.0.1",
		    (uint16_t)(1024 + i / 65536), 80);
	}
}

static void
test_dump_async(void **unused)
{
	struct ev_loop *l;
	struct ct_handle *h, *other;
	struct ct_callbacks cb = { view_state, NULL, view_begin, view_end,
		NULL };
	struct ct_state *s;
	struct view v;
	size_t n = 3000, i, k;
	int done = 0;

	NEED_NS();
	flush_table();
	memset(&v, 0, sizeof(v));
	s = calloc(n, sizeof(*s));
	assert_non_null(s);
	gen_states(s, n, 20);
	other = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(other);
	assert_int_equal(ct_import(other, s, n), (long)n);

	l = ev_loop_new();
	assert_non_null(l);
	h = ct_open(l, &cb, &v, 0);
	assert_non_null(h);
	assert_int_equal(ct_dump_start(h, dump_done, &done), 0);
	assert_int_equal(ct_dump_start(h, dump_done, &done), -1);
	assert_int_equal(errno, EBUSY);
	/* A blocking dump meanwhile uses a socket of its own. */
	{
		struct coll c;

		dump_all(h, &c);
		assert_int_equal(c.n, n);
		free(c.v);
	}
	assert_true(spin(l, &v, done_set, &done));
	assert_int_equal(done, 1);
	assert_int_equal(v.c.n, n);
	for (i = 0; i < n; i++)
		assert_non_null(view_find(&v, &s[i], &k));
	assert_int_equal(ct_stats(h)->dumped, 2 * n); /* both dumps */

	ct_delete(other, s, n);
	ct_close(other);
	ct_close(h);
	ev_loop_free(l);
	free(v.c.v);
	free(v.gen);
	free(s);
}

static int
resynced(struct view *v, void *arg)
{
	return v->ends > 0 && !v->in_resync;
}

static int
resync_started(struct view *v, void *arg)
{
	return v->begins > 0;
}

static void
test_enobufs(void **unused)
{
	struct ev_loop *l;
	struct ct_handle *h, *other;
	struct ct_callbacks cb = { view_state, NULL, view_begin, view_end,
		NULL };
	struct ct_state *a, *b;
	struct coll kern;
	struct view v;
	size_t na = 200, nb = 5000, i, k;
	uint64_t want;
	int done = 0;

	NEED_NS();
	flush_table();
	memset(&v, 0, sizeof(v));
	a = calloc(na, sizeof(*a));
	b = calloc(nb, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	gen_states(a, na, 30);
	gen_states(b, nb, 31);

	l = ev_loop_new();
	assert_non_null(l);
	h = ct_open(l, &cb, &v, 4096); /* tiny: a burst overflows it */
	assert_non_null(h);
	other = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(other);

	/* The view learns a's states from events, a few at a time. */
	for (i = 0; i < na; i += 4) {
		assert_int_equal(ct_import(other, &a[i], 4), 4);
		want = i + 4;
		assert_true(spin(l, &v, has_news, &want));
	}
	assert_int_equal(v.c.n, na);
	assert_int_equal(ct_stats(h)->overruns, 0);

	/* Burst while nobody reads: half of a goes away, b arrives. */
	assert_int_equal(ct_delete(other, a, na / 2), (long)(na / 2));
	assert_int_equal(ct_import(other, b, nb), (long)nb);
	/* A dump asked for during the re-dump runs after it. */
	assert_true(spin(l, &v, resync_started, NULL));
	assert_int_equal(ct_dump_start(h, dump_done, &done), 0);
	assert_true(spin(l, &v, resynced, NULL));
	assert_true(spin(l, &v, done_set, &done));
	assert_int_equal(done, 1);
	/* Let the events queued behind the dump drain too. */
	for (i = 0; i < 50; i++)
		ev_loop_once(l, 10);

	assert_true(ct_stats(h)->overruns >= 1);
	assert_true(ct_stats(h)->resyncs >= 1);
	assert_true(v.begins >= 1);
	assert_int_equal(v.begins, v.ends);

	/* The view equals the kernel's table. */
	dump_all(other, &kern);
	assert_int_equal(kern.n, na - na / 2 + nb);
	assert_int_equal(v.c.n, kern.n);
	for (i = 0; i < kern.n; i++)
		assert_non_null(view_find(&v, &kern.v[i], &k));
	for (i = 0; i < na / 2; i++)
		assert_null(view_find(&v, &a[i], &k));
	free(kern.v);

	ct_delete(other, a, na);
	ct_delete(other, b, nb);
	ct_close(other);
	ct_close(h);
	ev_loop_free(l);
	free(v.c.v);
	free(v.gen);
	free(a);
	free(b);
}

/* Our own bulk import does not reach (or overrun) our own listener. */
static void
test_own_burst(void **unused)
{
	struct ev_loop *l;
	struct ct_handle *h;
	struct ct_callbacks cb = { view_state, NULL, view_begin, view_end,
		NULL };
	struct ct_state *s;
	struct view v;
	size_t n = 5000, i;

	NEED_NS();
	flush_table();
	memset(&v, 0, sizeof(v));
	s = calloc(n, sizeof(*s));
	assert_non_null(s);
	gen_states(s, n, 40);
	l = ev_loop_new();
	assert_non_null(l);
	h = ct_open(l, &cb, &v, 4096);
	assert_non_null(h);
	assert_int_equal(ct_import(h, s, n), (long)n);
	assert_int_equal(ct_delete(h, s, n), (long)n);
	for (i = 0; i < 50; i++)
		ev_loop_once(l, 10);
	assert_int_equal(ct_stats(h)->overruns, 0);
	assert_int_equal(ct_stats(h)->resyncs, 0);
	assert_int_equal(ct_stats(h)->events, 0);
	assert_int_equal(ct_stats(h)->own_events, 2 * n);
	assert_int_equal(v.begins, 0);
	ct_close(h);
	ev_loop_free(l);
	free(v.c.v);
	free(v.gen);
	free(s);
}

/* Expectations: import, event, dump; a related state with its master. */
struct expview {
	struct ct_expect ev, dumped;
	int nev, ndumped, done;
};

static void
exp_state_cb(enum ct_event ev, const struct ct_state *s, void *arg)
{
}

static void
exp_cb(enum ct_event ev, const struct ct_expect *e, void *arg)
{
	struct expview *x = arg;

	if (x->done == 0 && ev == CT_EV_NEW && x->nev > 0) {
		x->dumped = *e;
		x->ndumped++;
	} else if (ev == CT_EV_NEW) {
		x->ev = *e;
		x->nev++;
	}
}

static void
exp_done(void *arg, int err)
{
	struct expview *x = arg;

	x->done = err == 0 ? 1 : -1;
}

static int
exp_has_event(struct view *v, void *arg)
{
	return ((struct expview *)arg)->nev > 0;
}

static int
exp_dump_done(struct view *v, void *arg)
{
	return ((struct expview *)arg)->done != 0;
}

static void
check_expect(const struct ct_expect *want, const struct ct_expect *got)
{
	assert_true(tuple_eq(&want->master, &got->master));
	assert_true(tuple_eq(&want->tuple, &got->tuple));
	assert_int_equal(got->mask.sport, want->mask.sport);
	assert_int_equal(got->mask.dport, want->mask.dport);
	assert_memory_equal(got->mask.src, want->mask.src, 4);
	assert_memory_equal(got->mask.dst, want->mask.dst, 4);
	assert_string_equal(got->helper, "ftp");
	assert_int_equal(got->class, want->class);
	assert_true(got->timeout <= want->timeout);
	assert_true(got->timeout + 60 >= want->timeout);
}

static void
test_expect(void **unused)
{
	struct ev_loop *l;
	struct ct_handle *h, *other;
	struct ct_callbacks cb = { exp_state_cb, exp_cb, NULL, NULL, NULL };
	struct ct_state m, rel;
	struct ct_expect e;
	struct expview x;
	struct coll c;
	const struct ct_state *g;

	NEED_NS();
	flush_table();
	memset(&x, 0, sizeof(x));
	l = ev_loop_new();
	assert_non_null(l);
	h = ct_open(l, &cb, &x, 0);
	assert_non_null(h);
	other = ct_open(NULL, NULL, NULL, 0);
	assert_non_null(other);

	/* The FTP control connection, with its helper. */
	mk(&m, AF_INET, IPPROTO_TCP, "10.0.5.1", "10.9.5.1", 40000, 21);
	m.fields |= CT_F_HELPER;
	snprintf(m.helper, sizeof(m.helper), "ftp");
	if (ct_import(other, &m, 1) != 1) {
		print_message("# skipped: no ftp helper in this kernel\n");
		ct_close(other);
		ct_close(h);
		ev_loop_free(l);
		skip();
	}

	/* Expect 10.0.5.1:any -> 10.9.5.1:20000. */
	memset(&e, 0, sizeof(e));
	e.master = m.orig;
	set_addr(&e.tuple, AF_INET, "10.0.5.1", "10.9.5.1");
	e.tuple.proto = IPPROTO_TCP;
	e.tuple.dport = 20000;
	set_addr(&e.mask, AF_INET, "255.255.255.255", "255.255.255.255");
	e.mask.proto = IPPROTO_TCP;
	e.mask.sport = 0;
	e.mask.dport = 0xffff;
	e.timeout = 300;
	e.fields = CT_EXP_F_HELPER;
	snprintf(e.helper, sizeof(e.helper), "ftp");
	assert_int_equal(ct_import_expect(other, &e, 1), 1);
	assert_int_equal(ct_stats(other)->exp_import_errors, 0);

	/* Event for a foreign expectation. */
	assert_true(spin(l, NULL, exp_has_event, &x));
	check_expect(&e, &x.ev);

	/* Dump: states, then expectations. */
	assert_int_equal(ct_dump_start(h, exp_done, &x), 0);
	assert_true(spin(l, NULL, exp_dump_done, &x));
	assert_int_equal(x.done, 1);
	assert_int_equal(x.ndumped, 1);
	check_expect(&e, &x.dumped);

	/* The related data connection, created with its master. */
	mk(&rel, AF_INET, IPPROTO_TCP, "10.0.5.1", "10.9.5.1", 40001, 20001);
	rel.fields |= CT_F_MASTER;
	rel.master = m.orig;
	assert_int_equal(ct_import(other, &rel, 1), 1);
	dump_all(other, &c);
	g = coll_find(&c, &m);
	assert_non_null(g);
	assert_true(g->fields & CT_F_HELPER);
	assert_string_equal(g->helper, "ftp");
	g = coll_find(&c, &rel);
	assert_non_null(g);
	assert_true(g->fields & CT_F_MASTER);
	assert_true(tuple_eq(&g->master, &m.orig));
	assert_true(g->status & IPS_EXPECTED);
	free(c.v);

	/* Related before its master in the array: still linked. */
	{
		struct ct_state two[2], orphan;

		assert_int_equal(ct_delete(other, &rel, 1), 1);
		assert_int_equal(ct_delete(other, &m, 1), 1);
		two[0] = rel;
		two[1] = m;
		assert_int_equal(ct_import(other, two, 2), 2);
		/* A master that exists nowhere: kept as a plain state. */
		mk(&orphan, AF_INET, IPPROTO_TCP, "10.0.6.1", "10.9.6.1",
		    40002, 20002);
		orphan.fields |= CT_F_MASTER;
		orphan.master = m.orig;
		orphan.master.sport = 1;
		assert_int_equal(ct_import(other, &orphan, 1), 1);
		dump_all(other, &c);
		g = coll_find(&c, &rel);
		assert_non_null(g);
		assert_true(g->fields & CT_F_MASTER);
		assert_true(tuple_eq(&g->master, &m.orig));
		g = coll_find(&c, &orphan);
		assert_non_null(g);
		assert_false(g->fields & CT_F_MASTER);
		free(c.v);
	}

	ct_close(other);
	ct_close(h);
	ev_loop_free(l);
	flush_table();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_roundtrip),
		cmocka_unit_test(test_nat_detect),
		cmocka_unit_test(test_import_dump),
		cmocka_unit_test(test_import_nat),
		cmocka_unit_test(test_import_labels),
		cmocka_unit_test(test_import_more),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_dump_async),
		cmocka_unit_test(test_enobufs),
		cmocka_unit_test(test_own_burst),
		cmocka_unit_test(test_expect),
	};

	log_init("test_syncd_ct", 0, 0);
	if (geteuid() != 0)
		snprintf(ns_why, sizeof(ns_why),
		    "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for unshare)");
	else if (unshare(CLONE_NEWNET) == -1)
		snprintf(ns_why, sizeof(ns_why), "unshare(CLONE_NEWNET): %s",
		    strerror(errno));
	else
		ns_ok = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_syncd_ctfmt.c: "syncd dump"'s formatter against golden lines. The
 * plain ones are what conntrack -L (conntrack-tools 1.4.7) printed for
 * the same states made with conntrack -I in a namespace: TCP, SNAT,
 * DNAT, IPv6, UDP with mark and zone, ICMP, ICMPv6, SCTP, GRE; then the
 * fields conntrack -I cannot set (helper, labels, offload), a helper a
 * peer filled with control bytes, and the JSON form.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "cache.h"
#include "ctfmt.h"

#define TCP_ESTABLISHED	 3
#define SCTP_ESTABLISHED 4

/* A state from orig src/dst and ports; the reply is the inverse. */
static void
mk(struct ct_state *st, uint8_t proto, const char *src, const char *dst,
    uint16_t sport, uint16_t dport)
{
	int af = strchr(src, ':') != NULL ? AF_INET6 : AF_INET;

	memset(st, 0, sizeof(*st));
	st->orig.family = st->reply.family = (uint8_t)af;
	st->orig.proto = st->reply.proto = proto;
	assert_int_equal(inet_pton(af, src, st->orig.src), 1);
	assert_int_equal(inet_pton(af, dst, st->orig.dst), 1);
	memcpy(st->reply.src, st->orig.dst, 16);
	memcpy(st->reply.dst, st->orig.src, 16);
	st->orig.sport = st->reply.dport = sport;
	st->orig.dport = st->reply.sport = dport;
	st->status = IPS_CONFIRMED;
	st->fields = CT_F_TIMEOUT | CT_F_MARK;
	if (proto == IPPROTO_TCP) {
		st->fields |= CT_F_TCP;
		st->tcp_state = TCP_ESTABLISHED;
		st->status |= IPS_SEEN_REPLY | IPS_ASSURED;
	}
}

static void
addr(uint8_t *a, const char *s)
{
	memset(a, 0, 16);
	assert_true(
	    inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1);
}

static void
line_is(const struct ct_state *st, const char *want)
{
	struct sbuf b;

	sbuf_init(&b);
	ctfmt_line(&b, st);
	assert_false(b.err);
	assert_string_equal(b.p, want);
	sbuf_free(&b);
}

static void
test_tcp(void **ctx)
{
	struct ct_state st;

	mk(&st, IPPROTO_TCP, "10.1.1.1", "10.2.2.2", 1002, 80);
	st.timeout = 3598;
	line_is(&st,
	    "tcp      6 3598 ESTABLISHED src=10.1.1.1 dst=10.2.2.2 "
	    "sport=1002 dport=80 src=10.2.2.2 dst=10.1.1.1 sport=80 "
	    "dport=1002 [ASSURED] mark=0 use=1\n");
	/* SYN_SENT, not answered yet. */
	mk(&st, IPPROTO_TCP, "10.1.1.5", "10.2.2.2", 1003, 80);
	st.timeout = 119;
	st.tcp_state = 1;
	st.status = IPS_CONFIRMED;
	line_is(&st,
	    "tcp      6 119 SYN_SENT src=10.1.1.5 dst=10.2.2.2 "
	    "sport=1003 dport=80 [UNREPLIED] src=10.2.2.2 dst=10.1.1.5 "
	    "sport=80 dport=1003 mark=0 use=1\n");
	/* A state number the kernel does not have prints as NONE. */
	st.tcp_state = 200;
	line_is(&st,
	    "tcp      6 119 NONE src=10.1.1.5 dst=10.2.2.2 "
	    "sport=1003 dport=80 [UNREPLIED] src=10.2.2.2 dst=10.1.1.5 "
	    "sport=80 dport=1003 mark=0 use=1\n");
}

static void
test_nat(void **ctx)
{
	struct ct_state st;

	mk(&st, IPPROTO_TCP, "192.168.1.10", "10.2.2.2", 2000, 80);
	st.timeout = 3598;
	st.status |= IPS_SRC_NAT | IPS_SRC_NAT_DONE | IPS_DST_NAT_DONE;
	addr(st.reply.dst, "10.9.9.9");
	line_is(&st,
	    "tcp      6 3598 ESTABLISHED src=192.168.1.10 "
	    "dst=10.2.2.2 sport=2000 dport=80 src=10.2.2.2 dst=10.9.9.9 "
	    "sport=80 dport=2000 [ASSURED] mark=0 use=1\n");
	mk(&st, IPPROTO_TCP, "192.168.1.11", "10.2.2.3", 2001, 80);
	st.timeout = 3598;
	st.status |= IPS_DST_NAT | IPS_SRC_NAT_DONE | IPS_DST_NAT_DONE;
	addr(st.reply.src, "10.7.7.7");
	st.reply.sport = 8080;
	line_is(&st,
	    "tcp      6 3598 ESTABLISHED src=192.168.1.11 "
	    "dst=10.2.2.3 sport=2001 dport=80 src=10.7.7.7 "
	    "dst=192.168.1.11 sport=8080 dport=2001 [ASSURED] mark=0 "
	    "use=1\n");
}

static void
test_ipv6(void **ctx)
{
	struct ct_state st;

	mk(&st, IPPROTO_TCP, "fd00::1", "fd00::2", 5, 22);
	st.timeout = 3598;
	line_is(&st,
	    "tcp      6 3598 ESTABLISHED src=fd00::1 dst=fd00::2 "
	    "sport=5 dport=22 src=fd00::2 dst=fd00::1 sport=22 dport=5 "
	    "[ASSURED] mark=0 use=1\n");
	/* ICMPv6 echo: type 128 out, 129 back, id 77. */
	mk(&st, IPPROTO_ICMPV6, "fd00::1", "fd00::2", 77, 128 << 8);
	st.reply.sport = 77;
	st.reply.dport = 129 << 8;
	st.timeout = 28;
	line_is(&st,
	    "icmpv6   58 28 src=fd00::1 dst=fd00::2 type=128 code=0 "
	    "id=77 [UNREPLIED] src=fd00::2 dst=fd00::1 type=129 code=0 "
	    "id=77 mark=0 use=1\n");
}

static void
test_udp_icmp(void **ctx)
{
	struct ct_state st;

	mk(&st, IPPROTO_UDP, "10.1.1.1", "10.2.2.2", 53, 53);
	st.timeout = 599;
	st.mark = 7;
	st.zone = 5;
	st.fields |= CT_F_ZONE;
	line_is(&st,
	    "udp      17 599 src=10.1.1.1 dst=10.2.2.2 sport=53 "
	    "dport=53 [UNREPLIED] src=10.2.2.2 dst=10.1.1.1 sport=53 "
	    "dport=53 mark=7 zone=5 use=1\n");
	/* Answered; zone 0 is not printed, nor is a mark never read. */
	st.status |= IPS_SEEN_REPLY;
	st.zone = 0;
	st.fields &= ~CT_F_MARK;
	line_is(&st,
	    "udp      17 599 src=10.1.1.1 dst=10.2.2.2 sport=53 "
	    "dport=53 src=10.2.2.2 dst=10.1.1.1 sport=53 dport=53 mark=0 "
	    "use=1\n");
	mk(&st, IPPROTO_ICMP, "10.1.1.1", "10.2.2.2", 77, 8 << 8);
	st.reply.sport = 77;
	st.reply.dport = 0;
	st.timeout = 28;
	line_is(&st,
	    "icmp     1 28 src=10.1.1.1 dst=10.2.2.2 type=8 code=0 "
	    "id=77 [UNREPLIED] src=10.2.2.2 dst=10.1.1.1 type=0 code=0 "
	    "id=77 mark=0 use=1\n");
}

static void
test_sctp_gre(void **ctx)
{
	struct ct_state st;

	mk(&st, IPPROTO_SCTP, "10.1.1.7", "10.2.2.2", 1003, 80);
	st.fields |= CT_F_SCTP;
	st.sctp_state = SCTP_ESTABLISHED;
	st.timeout = 119;
	line_is(&st,
	    "sctp     132 119 ESTABLISHED src=10.1.1.7 dst=10.2.2.2 "
	    "sport=1003 dport=80 [UNREPLIED] src=10.2.2.2 dst=10.1.1.7 "
	    "sport=80 dport=1003 mark=0 use=1\n");
	mk(&st, IPPROTO_GRE, "10.1.1.8", "10.2.2.2", 1, 2);
	st.timeout = 119;
	line_is(&st,
	    "gre      47 119 src=10.1.1.8 dst=10.2.2.2 srckey=0x1 "
	    "dstkey=0x2 [UNREPLIED] src=10.2.2.2 dst=10.1.1.8 srckey=0x2 "
	    "dstkey=0x1 mark=0 use=1\n");
	/* A protocol conntrack has no name for; no timeout known. */
	mk(&st, 50, "10.1.1.9", "10.2.2.2", 0, 0);
	st.fields &= ~CT_F_TIMEOUT;
	line_is(&st,
	    "unknown  50 src=10.1.1.9 dst=10.2.2.2 [UNREPLIED] "
	    "src=10.2.2.2 dst=10.1.1.9 mark=0 use=1\n");
}

static void
test_helper_labels(void **ctx)
{
	struct ct_state st;

	mk(&st, IPPROTO_TCP, "127.0.0.1", "127.0.0.1", 40000, 2121);
	st.timeout = 431999;
	st.fields |= CT_F_HELPER | CT_F_LABELS;
	st.status |= IPS_HELPER;
	strcpy(st.helper, "ftp");
	st.labels[0] = 0x09;  /* bits 0 and 3 */
	st.labels[15] = 0x80; /* bit 127 */
	st.mark = 42;
	line_is(&st,
	    "tcp      6 431999 ESTABLISHED src=127.0.0.1 "
	    "dst=127.0.0.1 sport=40000 dport=2121 src=127.0.0.1 "
	    "dst=127.0.0.1 sport=2121 dport=40000 [ASSURED] mark=42 "
	    "helper=ftp use=1 labels=0,3,127\n");
	/* Labels flagged but all zero: nothing printed. */
	memset(st.labels, 0, sizeof(st.labels));
	/* A peer's helper name cannot break the line or its words. */
	memcpy(st.helper, "f\n o\\\x7f\xff", 8);
	line_is(&st,
	    "tcp      6 431999 ESTABLISHED src=127.0.0.1 "
	    "dst=127.0.0.1 sport=40000 dport=2121 src=127.0.0.1 "
	    "dst=127.0.0.1 sport=2121 dport=40000 [ASSURED] mark=42 "
	    "helper=f\\x0a\\x20o\\x5c\\x7f\\xff use=1\n");
	/* Not NUL-terminated: stops at the field's end. */
	memset(st.helper, 'h', sizeof(st.helper));
	st.fields &= ~CT_F_LABELS;
	st.status |= IPS_OFFLOAD;
	line_is(&st,
	    "tcp      6 431999 ESTABLISHED src=127.0.0.1 "
	    "dst=127.0.0.1 sport=40000 dport=2121 src=127.0.0.1 "
	    "dst=127.0.0.1 sport=2121 dport=40000 [OFFLOAD] mark=42 "
	    "helper=hhhhhhhhhhhhhhhh use=1\n");
}

/* What a cache entry holds comes back the same (the dump's path). */
static void
test_via_cache(void **ctx)
{
	struct cache *c = cache_new();
	struct ct_state st, out;
	struct centry *e, *old;
	struct sbuf a, b;

	assert_non_null(c);
	mk(&st, IPPROTO_UDP, "10.1.1.1", "10.2.2.2", 53, 53);
	st.timeout = 600;
	st.mark = 7;
	st.zone = 5;
	st.fields |= CT_F_ZONE | CT_F_HELPER;
	strcpy(st.helper, "tftp");
	assert_non_null(e = cache_put(c, &st, 100, &old));
	assert_int_equal(centry_state(e, 101, &out), 0);
	assert_int_equal(out.timeout, 599);
	st.timeout = 599;
	sbuf_init(&a);
	sbuf_init(&b);
	ctfmt_line(&a, &st);
	ctfmt_line(&b, &out);
	assert_string_equal(a.p, b.p);
	sbuf_free(&a);
	sbuf_free(&b);
	cache_free(c);
}

static void
test_json(void **ctx)
{
	struct ct_state st;
	struct sbuf b;

	mk(&st, IPPROTO_TCP, "192.168.1.10", "10.2.2.2", 2000, 80);
	st.timeout = 3598;
	st.status |= IPS_SRC_NAT;
	addr(st.reply.dst, "10.9.9.9");
	st.fields |= CT_F_HELPER | CT_F_LABELS | CT_F_ZONE;
	st.zone = 9;
	st.labels[0] = 0x02;
	memcpy(st.helper, "a\"\\\x01\xe9", 6);
	sbuf_init(&b);
	ctfmt_json(&b, &st, "10.9.0.1");
	assert_false(b.err);
	assert_string_equal(b.p,
	    "{\"peer\":\"10.9.0.1\",\"layer3\":\"ipv4\","
	    "\"layer4\":\"tcp\",\"protonum\":6,\"timeout\":3598,"
	    "\"state\":\"ESTABLISHED\",\"original\":{\"src\":\"192.168.1.10\","
	    "\"dst\":\"10.2.2.2\",\"sport\":2000,\"dport\":80},"
	    "\"reply\":{\"src\":\"10.2.2.2\",\"dst\":\"10.9.9.9\","
	    "\"sport\":80,\"dport\":2000},\"status\":[\"SEEN_REPLY\","
	    "\"ASSURED\",\"CONFIRMED\",\"SRC_NAT\"],\"mark\":0,\"zone\":9,"
	    "\"helper\":\"a\\\"\\\\\\u0001\\u00e9\",\"labels\":[1]}\n");
	/* ICMP tuples and no peer. */
	sbuf_reset(&b);
	mk(&st, IPPROTO_ICMP, "10.1.1.1", "10.2.2.2", 77, 8 << 8 | 1);
	st.reply.sport = 77;
	st.reply.dport = 1;
	st.fields &= ~CT_F_TIMEOUT;
	ctfmt_json(&b, &st, NULL);
	assert_string_equal(b.p,
	    "{\"layer3\":\"ipv4\",\"layer4\":\"icmp\","
	    "\"protonum\":1,\"original\":{\"src\":\"10.1.1.1\","
	    "\"dst\":\"10.2.2.2\",\"type\":8,\"code\":1,\"id\":77},"
	    "\"reply\":{\"src\":\"10.2.2.2\",\"dst\":\"10.1.1.1\",\"type\":0,"
	    "\"code\":1,\"id\":77},\"status\":[\"CONFIRMED\"],\"mark\":0,"
	    "\"zone\":0}\n");
	sbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_udp_icmp),
		cmocka_unit_test(test_sctp_gre),
		cmocka_unit_test(test_helper_labels),
		cmocka_unit_test(test_via_cache),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * ct_msg.c: ctnetlink messages <-> struct ct_state / ct_expect.
 * Pure encode/decode over libmnl: no sockets, no logging.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "ct.h"
#include "ct_msg.h"

#ifndef IPPROTO_DCCP
#define IPPROTO_DCCP 33
#endif

/* struct nf_ct_tcp_flags on the wire: flags, mask. */
#define CT_TCP_FLAGS_LEN 2

static int
ct_port_proto(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
	case IPPROTO_GRE:
		return 1;
	}
	return 0;
}

static int
ct_icmp_proto(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

static size_t
ct_addr_len(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

/*
 * Parsing. Every attribute length is checked before it is read; unknown
 * attributes are skipped. A message that is too short or whose tuple
 * lacks its addresses is an error.
 *
 * The walk over attributes follows libmnl's rules (mnl_attr_ok,
 * mnl_attr_next, mnl_attr_for_each_nested) but inline: libmnl's are calls
 * into the shared library, several per attribute, and parsing every event
 * of a busy table spent a fifth of the sender's time in them.
 */

static inline uint16_t
at_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static inline uint16_t
at_len(const struct nlattr *a)
{
	return (uint16_t)(a->nla_len - MNL_ATTR_HDRLEN);
}

static inline const void *
at_data(const struct nlattr *a)
{
	return (const uint8_t *)a + MNL_ATTR_HDRLEN;
}

/* Whether a whole attribute starts at a, with len bytes left. */
static inline int
at_ok(const struct nlattr *a, long len)
{
	return len >= (long)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	    (long)a->nla_len <= len;
}

static inline const struct nlattr *
at_next(const struct nlattr *a)
{
	return (
	    const struct nlattr *)((const uint8_t *)a + MNL_ALIGN(a->nla_len));
}

/* The attributes in [a, end). */
#define at_for_each(a, start, end)                                            \
	for ((a) = (start);                                                   \
	     at_ok((a), (const uint8_t *)(end) - (const uint8_t *)(a));       \
	     (a) = at_next(a))
#define at_for_each_msg(a, nlh, off)                                          \
	at_for_each (a, mnl_nlmsg_get_payload_offset((nlh), (off)),           \
	    mnl_nlmsg_get_payload_tail(nlh))
#define at_for_each_nested(a, nest)                                           \
	at_for_each (a, at_data(nest),                                        \
	    (const uint8_t *)at_data(nest) + at_len(nest))

static int
ct_get_u8(const struct nlattr *a, uint8_t *v)
{
	if (at_len(a) < 1)
		return -1;
	*v = *(const uint8_t *)at_data(a);
	return 0;
}

static int
ct_get_u16(const struct nlattr *a, uint16_t *v)
{
	uint16_t x;

	if (at_len(a) < 2)
		return -1;
	memcpy(&x, at_data(a), 2);
	*v = ntohs(x);
	return 0;
}

static int
ct_get_u32(const struct nlattr *a, uint32_t *v)
{
	uint32_t x;

	if (at_len(a) < 4)
		return -1;
	memcpy(&x, at_data(a), 4);
	*v = ntohl(x);
	return 0;
}

static int
ct_get_addr(const struct nlattr *a, uint8_t *dst, size_t len)
{
	if (at_len(a) < len)
		return -1;
	memcpy(dst, at_data(a), len);
	return 0;
}

static int
ct_parse_ip(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *a;
	int have = 0, fam = 0;

	/* One family for both addresses, the other family's attributes
	 * being a malformed tuple. */
	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_IP_V4_SRC:
		case CTA_IP_V4_DST:
			if (fam == AF_INET6)
				return -1;
			fam = AF_INET;
			break;
		case CTA_IP_V6_SRC:
		case CTA_IP_V6_DST:
			if (fam == AF_INET)
				return -1;
			fam = AF_INET6;
			break;
		}
	}
	memset(t->src, 0, sizeof(t->src));
	memset(t->dst, 0, sizeof(t->dst));
	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_IP_V4_SRC:
			if (ct_get_addr(a, t->src, 4) == -1)
				return -1;
			t->family = AF_INET;
			have |= 1;
			break;
		case CTA_IP_V4_DST:
			if (ct_get_addr(a, t->dst, 4) == -1)
				return -1;
			t->family = AF_INET;
			have |= 2;
			break;
		case CTA_IP_V6_SRC:
			if (ct_get_addr(a, t->src, 16) == -1)
				return -1;
			t->family = AF_INET6;
			have |= 1;
			break;
		case CTA_IP_V6_DST:
			if (ct_get_addr(a, t->dst, 16) == -1)
				return -1;
			t->family = AF_INET6;
			have |= 2;
			break;
		}
	}
	if (have != 3 || fam != t->family)
		return -1;
	return 0;
}

static int
ct_parse_proto(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *a;
	uint8_t v8;
	uint16_t v16;
	int have = 0;

	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_PROTO_NUM:
			if (ct_get_u8(a, &t->proto) == -1)
				return -1;
			have = 1;
			break;
		case CTA_PROTO_SRC_PORT:
		case CTA_PROTO_ICMP_ID:
		case CTA_PROTO_ICMPV6_ID:
			if (ct_get_u16(a, &t->sport) == -1)
				return -1;
			break;
		case CTA_PROTO_DST_PORT:
			if (ct_get_u16(a, &t->dport) == -1)
				return -1;
			break;
		case CTA_PROTO_ICMP_TYPE:
		case CTA_PROTO_ICMPV6_TYPE:
			if (ct_get_u8(a, &v8) == -1)
				return -1;
			v16 = t->dport & 0x00ff;
			t->dport = v16 | (uint16_t)(v8 << 8);
			break;
		case CTA_PROTO_ICMP_CODE:
		case CTA_PROTO_ICMPV6_CODE:
			if (ct_get_u8(a, &v8) == -1)
				return -1;
			t->dport = (t->dport & 0xff00) | v8;
			break;
		}
	}
	return have ? 0 : -1;
}

/* A CTA_TUPLE_* nest. zone (may be NULL) gets CTA_TUPLE_ZONE. */
static int
ct_parse_tuple(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *a;
	int have = 0;

	memset(t, 0, sizeof(*t));
	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_TUPLE_IP:
			if (ct_parse_ip(a, t) == -1)
				return -1;
			have |= 1;
			break;
		case CTA_TUPLE_PROTO:
			if (ct_parse_proto(a, t) == -1)
				return -1;
			have |= 2;
			break;
		}
	}
	return have == 3 ? 0 : -1;
}

static int
ct_parse_tcp(const struct nlattr *nest, struct ct_state *s)
{
	const struct nlattr *a;
	uint8_t v;

	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_PROTOINFO_TCP_STATE:
			if (ct_get_u8(a, &s->tcp_state) == -1)
				return -1;
			s->fields |= CT_F_TCP;
			break;
		case CTA_PROTOINFO_TCP_WSCALE_ORIGINAL:
			if (ct_get_u8(a, &s->tcp_wscale[0]) == -1)
				return -1;
			break;
		case CTA_PROTOINFO_TCP_WSCALE_REPLY:
			if (ct_get_u8(a, &s->tcp_wscale[1]) == -1)
				return -1;
			break;
		case CTA_PROTOINFO_TCP_FLAGS_ORIGINAL:
			if (ct_get_u8(a, &v) == -1)
				return -1;
			s->tcp_flags[0] = v;
			break;
		case CTA_PROTOINFO_TCP_FLAGS_REPLY:
			if (ct_get_u8(a, &v) == -1)
				return -1;
			s->tcp_flags[1] = v;
			break;
		}
	}
	return 0;
}

static int
ct_parse_sctp(const struct nlattr *nest, struct ct_state *s)
{
	const struct nlattr *a;

	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_PROTOINFO_SCTP_STATE:
			if (ct_get_u8(a, &s->sctp_state) == -1)
				return -1;
			s->fields |= CT_F_SCTP;
			break;
		case CTA_PROTOINFO_SCTP_VTAG_ORIGINAL:
			if (ct_get_u32(a, &s->sctp_vtag[0]) == -1)
				return -1;
			break;
		case CTA_PROTOINFO_SCTP_VTAG_REPLY:
			if (ct_get_u32(a, &s->sctp_vtag[1]) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

static int
ct_parse_protoinfo(const struct nlattr *nest, struct ct_state *s)
{
	const struct nlattr *a;

	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_PROTOINFO_TCP:
			if (ct_parse_tcp(a, s) == -1)
				return -1;
			break;
		case CTA_PROTOINFO_SCTP:
			if (ct_parse_sctp(a, s) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

static void
ct_get_str(const struct nlattr *a, char *dst, size_t size)
{
	size_t n;

	n = at_len(a);
	if (n >= size)
		n = size - 1;
	memcpy(dst, at_data(a), n);
	dst[n] = '\0';
}

static int
ct_parse_help(const struct nlattr *nest, struct ct_state *s)
{
	const struct nlattr *a;

	at_for_each_nested (a, nest) {
		if (at_type(a) == CTA_HELP_NAME) {
			ct_get_str(a, s->helper, sizeof(s->helper));
			if (s->helper[0] != '\0')
				s->fields |= CT_F_HELPER;
		}
	}
	return 0;
}

static int
ct_parse_seqadj(const struct nlattr *nest, struct ct_seqadj *sa)
{
	const struct nlattr *a;

	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_SEQADJ_CORRECTION_POS:
			if (ct_get_u32(a, &sa->pos) == -1)
				return -1;
			break;
		case CTA_SEQADJ_OFFSET_BEFORE:
			if (ct_get_u32(a, &sa->before) == -1)
				return -1;
			break;
		case CTA_SEQADJ_OFFSET_AFTER:
			if (ct_get_u32(a, &sa->after) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

/* A whole message in len bytes. mnl_nlmsg_ok compares the length as an
 * int, so a length of 2^31 or more passes it: checked unsigned too. */
static int
ct_msg_check(const struct nlmsghdr *nlh, size_t len)
{
	if (len < sizeof(*nlh) || len > INT32_MAX ||
	    !mnl_nlmsg_ok(nlh, (int)len) || nlh->nlmsg_len > len)
		return -1;
	if (nlh->nlmsg_len <
	    MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
		return -1;
	return 0;
}

int
ct_parse_key(const struct nlmsghdr *nlh, size_t len, struct ct_state *s)
{
	const struct nlattr *a;
	int have = 0;

	if (ct_msg_check(nlh, len) == -1)
		return -1;
	s->fields = 0;
	s->zone = 0;
	at_for_each_msg (a, nlh, sizeof(struct nfgenmsg)) {
		if (at_type(a) == CTA_TUPLE_ORIG) {
			if (ct_parse_tuple(a, &s->orig) == -1)
				return -1;
			have = 1;
		} else if (at_type(a) == CTA_ZONE) {
			if (ct_get_u16(a, &s->zone) == -1)
				return -1;
			s->fields |= CT_F_ZONE;
		}
	}
	return have ? 0 : -1;
}

int
ct_parse_msg(const struct nlmsghdr *nlh, size_t len, struct ct_state *s)
{
	const struct nlattr *a;
	size_t n;
	int have = 0;

	memset(s, 0, sizeof(*s));
	if (ct_msg_check(nlh, len) == -1)
		return -1;
	at_for_each_msg (a, nlh, sizeof(struct nfgenmsg)) {
		switch (at_type(a)) {
		case CTA_TUPLE_ORIG:
			if (ct_parse_tuple(a, &s->orig) == -1)
				return -1;
			have |= 1;
			break;
		case CTA_TUPLE_REPLY:
			if (ct_parse_tuple(a, &s->reply) == -1)
				return -1;
			have |= 2;
			break;
		case CTA_TUPLE_MASTER:
			if (ct_parse_tuple(a, &s->master) == -1)
				return -1;
			s->fields |= CT_F_MASTER;
			break;
		case CTA_STATUS:
			if (ct_get_u32(a, &s->status) == -1)
				return -1;
			break;
		case CTA_TIMEOUT:
			if (ct_get_u32(a, &s->timeout) == -1)
				return -1;
			s->fields |= CT_F_TIMEOUT;
			break;
		case CTA_MARK:
			if (ct_get_u32(a, &s->mark) == -1)
				return -1;
			s->fields |= CT_F_MARK;
			break;
		case CTA_ZONE:
			if (ct_get_u16(a, &s->zone) == -1)
				return -1;
			s->fields |= CT_F_ZONE;
			break;
		case CTA_LABELS:
			n = at_len(a);
			if (n > sizeof(s->labels))
				n = sizeof(s->labels);
			memcpy(s->labels, at_data(a), n);
			for (n = 0; n < sizeof(s->labels); n++)
				if (s->labels[n] != 0) {
					s->fields |= CT_F_LABELS;
					break;
				}
			break;
		case CTA_PROTOINFO:
			if (ct_parse_protoinfo(a, s) == -1)
				return -1;
			break;
		case CTA_HELP:
			if (ct_parse_help(a, s) == -1)
				return -1;
			break;
		case CTA_SEQ_ADJ_ORIG:
			if (ct_parse_seqadj(a, &s->seqadj[0]) == -1)
				return -1;
			s->fields |= CT_F_SEQADJ;
			break;
		case CTA_SEQ_ADJ_REPLY:
			if (ct_parse_seqadj(a, &s->seqadj[1]) == -1)
				return -1;
			s->fields |= CT_F_SEQADJ;
			break;
		}
	}
	/* A DESTROY event carries the tuples too; both are required. */
	if (have != 3)
		return -1;
	return 0;
}

static int
ct_parse_expect_nat(const struct nlattr *nest, struct ct_expect *e)
{
	const struct nlattr *a;
	uint32_t dir;

	at_for_each_nested (a, nest) {
		switch (at_type(a)) {
		case CTA_EXPECT_NAT_DIR:
			if (ct_get_u32(a, &dir) == -1)
				return -1;
			e->nat_dir = (uint8_t)dir;
			break;
		case CTA_EXPECT_NAT_TUPLE:
			if (ct_parse_tuple(a, &e->nat) == -1)
				return -1;
			e->fields |= CT_EXP_F_NAT;
			break;
		}
	}
	return 0;
}

int
ct_parse_expect_msg(const struct nlmsghdr *nlh, size_t len,
    struct ct_expect *e)
{
	const struct nlattr *a;
	const struct nfgenmsg *nfg;
	int have = 0;

	memset(e, 0, sizeof(*e));
	if (ct_msg_check(nlh, len) == -1)
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	at_for_each_msg (a, nlh, sizeof(struct nfgenmsg)) {
		switch (at_type(a)) {
		case CTA_EXPECT_MASTER:
			if (ct_parse_tuple(a, &e->master) == -1)
				return -1;
			have |= 1;
			break;
		case CTA_EXPECT_TUPLE:
			if (ct_parse_tuple(a, &e->tuple) == -1)
				return -1;
			have |= 2;
			break;
		case CTA_EXPECT_MASK:
			if (ct_parse_tuple(a, &e->mask) == -1)
				return -1;
			have |= 4;
			break;
		case CTA_EXPECT_TIMEOUT:
			if (ct_get_u32(a, &e->timeout) == -1)
				return -1;
			break;
		case CTA_EXPECT_FLAGS:
			if (ct_get_u32(a, &e->flags) == -1)
				return -1;
			break;
		case CTA_EXPECT_CLASS:
			if (ct_get_u32(a, &e->class) == -1)
				return -1;
			break;
		case CTA_EXPECT_ZONE:
			if (ct_get_u16(a, &e->zone) == -1)
				return -1;
			e->fields |= CT_EXP_F_ZONE;
			break;
		case CTA_EXPECT_HELP_NAME:
			ct_get_str(a, e->helper, sizeof(e->helper));
			if (e->helper[0] != '\0')
				e->fields |= CT_EXP_F_HELPER;
			break;
		case CTA_EXPECT_NAT:
			if (ct_parse_expect_nat(a, e) == -1)
				return -1;
			break;
		}
	}
	if (have != 7)
		return -1;
	/* The kernel's mask carries no family of its own. */
	if (e->mask.family == 0)
		e->mask.family = nfg->nfgen_family;
	return 0;
}

/*
 * Building. The caller's buffer holds CT_MSG_MAX bytes, more than the
 * largest message below; libmnl does no bounds checks of its own here.
 */

static struct nlmsghdr *
ct_msg_head(void *buf, uint32_t seq, uint8_t subsys, uint8_t type,
    uint16_t flags, uint8_t family)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)(subsys << 8 | type);
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static void
ct_put_tuple(struct nlmsghdr *nlh, uint16_t type, const struct ct_tuple *t)
{
	struct nlattr *n1, *n2;
	size_t alen = ct_addr_len(t->family);

	n1 = mnl_attr_nest_start(nlh, type);
	n2 = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (t->family == AF_INET6) {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, alen, t->src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, alen, t->dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, alen, t->src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, alen, t->dst);
	}
	mnl_attr_nest_end(nlh, n2);
	n2 = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	if (t->proto == IPPROTO_ICMP) {
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMP_ID, htons(t->sport));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_TYPE, t->dport >> 8);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_CODE, t->dport & 0xff);
	} else if (t->proto == IPPROTO_ICMPV6) {
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMPV6_ID, htons(t->sport));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_TYPE, t->dport >> 8);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_CODE, t->dport & 0xff);
	} else if (ct_port_proto(t->proto) || t->sport != 0 || t->dport != 0) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	}
	mnl_attr_nest_end(nlh, n2);
	mnl_attr_nest_end(nlh, n1);
}

int
ct_state_snat(const struct ct_state *s)
{
	size_t alen = ct_addr_len(s->orig.family);

	if (memcmp(s->reply.dst, s->orig.src, alen) != 0)
		return 1;
	if (ct_port_proto(s->orig.proto) && s->reply.dport != s->orig.sport)
		return 1;
	if (ct_icmp_proto(s->orig.proto) && s->reply.sport != s->orig.sport)
		return 1;
	return 0;
}

int
ct_state_dnat(const struct ct_state *s)
{
	size_t alen = ct_addr_len(s->orig.family);

	if (memcmp(s->reply.src, s->orig.dst, alen) != 0)
		return 1;
	if (ct_port_proto(s->orig.proto) && s->reply.sport != s->orig.dport)
		return 1;
	return 0;
}

/* CTA_NAT_SRC/DST: translate to addr (and port when the protocol has
 * one; the ICMP id counts as a port for NAT). */
static void
ct_put_nat(struct nlmsghdr *nlh, uint16_t type, uint8_t family, uint8_t proto,
    const uint8_t *addr, uint16_t port)
{
	struct nlattr *n1, *n2;

	n1 = mnl_attr_nest_start(nlh, type);
	if (family == AF_INET6) {
		mnl_attr_put(nlh, CTA_NAT_V6_MINIP, 16, addr);
		mnl_attr_put(nlh, CTA_NAT_V6_MAXIP, 16, addr);
	} else {
		mnl_attr_put(nlh, CTA_NAT_V4_MINIP, 4, addr);
		mnl_attr_put(nlh, CTA_NAT_V4_MAXIP, 4, addr);
	}
	if (ct_port_proto(proto) || ct_icmp_proto(proto)) {
		n2 = mnl_attr_nest_start(nlh, CTA_NAT_PROTO);
		mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MIN, htons(port));
		mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MAX, htons(port));
		mnl_attr_nest_end(nlh, n2);
	}
	mnl_attr_nest_end(nlh, n1);
}

static void
ct_put_seqadj(struct nlmsghdr *nlh, uint16_t type, const struct ct_seqadj *sa)
{
	struct nlattr *n;

	n = mnl_attr_nest_start(nlh, type);
	mnl_attr_put_u32(nlh, CTA_SEQADJ_CORRECTION_POS, htonl(sa->pos));
	mnl_attr_put_u32(nlh, CTA_SEQADJ_OFFSET_BEFORE, htonl(sa->before));
	mnl_attr_put_u32(nlh, CTA_SEQADJ_OFFSET_AFTER, htonl(sa->after));
	mnl_attr_nest_end(nlh, n);
}

static void
ct_put_protoinfo(struct nlmsghdr *nlh, const struct ct_state *s)
{
	struct nlattr *n1, *n2;
	uint8_t f[CT_TCP_FLAGS_LEN];

	if (s->orig.proto == IPPROTO_TCP) {
		n1 = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		n2 = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		/* Without a known state, at least make it liberal. */
		if (s->fields & CT_F_TCP) {
			mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE,
			    s->tcp_state);
			mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL,
			    s->tcp_wscale[0]);
			mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_REPLY,
			    s->tcp_wscale[1]);
		}
		/*
		 * The sequence tracking data (td_end, td_maxwin, ...) cannot
		 * be set over ctnetlink, so imported states must be liberal
		 * or the first packets after a takeover look out of window.
		 */
		f[0] = s->tcp_flags[0] | IP_CT_TCP_FLAG_BE_LIBERAL;
		f[1] = 0xff;
		mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(f),
		    f);
		f[0] = s->tcp_flags[1] | IP_CT_TCP_FLAG_BE_LIBERAL;
		mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_REPLY, sizeof(f), f);
		mnl_attr_nest_end(nlh, n2);
		mnl_attr_nest_end(nlh, n1);
	} else if (s->orig.proto == IPPROTO_SCTP && (s->fields & CT_F_SCTP)) {
		n1 = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		n2 = mnl_attr_nest_start(nlh, CTA_PROTOINFO_SCTP);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_SCTP_STATE, s->sctp_state);
		mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_ORIGINAL,
		    htonl(s->sctp_vtag[0]));
		mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_REPLY,
		    htonl(s->sctp_vtag[1]));
		mnl_attr_nest_end(nlh, n2);
		mnl_attr_nest_end(nlh, n1);
	}
}

size_t
ct_msg_state(void *buf, uint32_t seq, const struct ct_state *s, int how)
{
	struct nlmsghdr *nlh;
	struct nlattr *n;
	struct ct_tuple r;
	uint8_t ones[CT_LABELS_LEN];
	uint32_t status;
	uint16_t flags = 0;
	int create = how & CT_BUILD_CREATE;
	int snat = 0, dnat = 0;

	if (create)
		flags = NLM_F_CREATE | NLM_F_EXCL;
	nlh = ct_msg_head(buf, seq, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW,
	    flags, s->orig.family);
	ct_put_tuple(nlh, CTA_TUPLE_ORIG, &s->orig);
	if (create) {
		/*
		 * The kernel only builds a NAT binding through CTA_NAT_*:
		 * send the reply tuple as the plain inverse of the original
		 * and let nf_nat derive the translated one.
		 */
		r = s->reply;
		if ((snat = ct_state_snat(s))) {
			memcpy(r.dst, s->orig.src, sizeof(r.dst));
			if (ct_port_proto(r.proto))
				r.dport = s->orig.sport;
			else if (ct_icmp_proto(r.proto))
				r.sport = s->orig.sport;
		}
		if ((dnat = ct_state_dnat(s))) {
			memcpy(r.src, s->orig.dst, sizeof(r.src));
			if (ct_port_proto(r.proto))
				r.sport = s->orig.dport;
		}
		ct_put_tuple(nlh, CTA_TUPLE_REPLY, &r);
	}
	if (s->fields & CT_F_ZONE)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(s->zone));
	if (create || !(how & CT_BUILD_NO_STATUS)) {
		/*
		 * The kernel compares the status with the entry's own, which
		 * is CONFIRMED by the time it looks (also for a new one):
		 * leaving the bit out is EBUSY.
		 */
		status = (s->status & CT_IMPORT_STATUS) | IPS_CONFIRMED;
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
	}
	mnl_attr_put_u32(nlh, CTA_TIMEOUT,
	    htonl((s->fields & CT_F_TIMEOUT) ?
		    (s->timeout ? s->timeout : 1) :
		    CT_DEFAULT_TIMEOUT));
	if (s->fields & CT_F_MARK)
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(s->mark));
	if (s->fields & CT_F_LABELS) {
		memset(ones, 0xff, sizeof(ones));
		mnl_attr_put(nlh, CTA_LABELS, sizeof(s->labels), s->labels);
		mnl_attr_put(nlh, CTA_LABELS_MASK, sizeof(ones), ones);
	}
	ct_put_protoinfo(nlh, s);
	if (s->fields & CT_F_SEQADJ) {
		ct_put_seqadj(nlh, CTA_SEQ_ADJ_ORIG, &s->seqadj[0]);
		ct_put_seqadj(nlh, CTA_SEQ_ADJ_REPLY, &s->seqadj[1]);
	}
	if (!create)
		return nlh->nlmsg_len;
	/* Only a new entry may get NAT, a helper and a master. */
	if (snat)
		ct_put_nat(nlh, CTA_NAT_SRC, s->orig.family, s->orig.proto,
		    s->reply.dst,
		    ct_icmp_proto(s->orig.proto) ?
			s->reply.sport :
			s->reply.dport);
	if (dnat)
		ct_put_nat(nlh, CTA_NAT_DST, s->orig.family, s->orig.proto,
		    s->reply.src, s->reply.sport);
	if ((s->fields & CT_F_HELPER) && s->helper[0] != '\0' &&
	    !(how & CT_BUILD_NO_HELPER)) {
		n = mnl_attr_nest_start(nlh, CTA_HELP);
		mnl_attr_put_strz(nlh, CTA_HELP_NAME, s->helper);
		mnl_attr_nest_end(nlh, n);
	}
	if ((s->fields & CT_F_MASTER) && !(how & CT_BUILD_NO_MASTER))
		ct_put_tuple(nlh, CTA_TUPLE_MASTER, &s->master);
	return nlh->nlmsg_len;
}

size_t
ct_msg_delete(void *buf, uint32_t seq, const struct ct_state *s)
{
	struct nlmsghdr *nlh;

	nlh = ct_msg_head(buf, seq, NFNL_SUBSYS_CTNETLINK,
	    IPCTNL_MSG_CT_DELETE, 0, s->orig.family);
	ct_put_tuple(nlh, CTA_TUPLE_ORIG, &s->orig);
	if (s->fields & CT_F_ZONE)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(s->zone));
	return nlh->nlmsg_len;
}

size_t
ct_msg_expect(void *buf, uint32_t seq, const struct ct_expect *e)
{
	struct nlmsghdr *nlh;
	struct nlattr *n;
	struct ct_tuple m;

	/* Without NLM_F_EXCL an existing expectation gets a new timeout. */
	nlh = ct_msg_head(buf, seq, NFNL_SUBSYS_CTNETLINK_EXP,
	    IPCTNL_MSG_EXP_NEW, NLM_F_CREATE, e->tuple.family);
	ct_put_tuple(nlh, CTA_EXPECT_MASTER, &e->master);
	ct_put_tuple(nlh, CTA_EXPECT_TUPLE, &e->tuple);
	m = e->mask;
	m.family = e->tuple.family;
	m.proto = e->tuple.proto;
	ct_put_tuple(nlh, CTA_EXPECT_MASK, &m);
	mnl_attr_put_u32(nlh, CTA_EXPECT_TIMEOUT,
	    htonl(e->timeout ? e->timeout : 1));
	if (e->fields & CT_EXP_F_ZONE)
		mnl_attr_put_u16(nlh, CTA_EXPECT_ZONE, htons(e->zone));
	mnl_attr_put_u32(nlh, CTA_EXPECT_FLAGS, htonl(e->flags));
	mnl_attr_put_u32(nlh, CTA_EXPECT_CLASS, htonl(e->class));
	if ((e->fields & CT_EXP_F_HELPER) && e->helper[0] != '\0')
		mnl_attr_put_strz(nlh, CTA_EXPECT_HELP_NAME, e->helper);
	if (e->fields & CT_EXP_F_NAT) {
		n = mnl_attr_nest_start(nlh, CTA_EXPECT_NAT);
		mnl_attr_put_u32(nlh, CTA_EXPECT_NAT_DIR, htonl(e->nat_dir));
		ct_put_tuple(nlh, CTA_EXPECT_NAT_TUPLE, &e->nat);
		mnl_attr_nest_end(nlh, n);
	}
	return nlh->nlmsg_len;
}

size_t
ct_msg_dump(void *buf, uint32_t seq, uint8_t subsys, uint8_t type)
{
	struct nlmsghdr *nlh;

	nlh = ct_msg_head(buf, seq, subsys, type, NLM_F_DUMP, AF_UNSPEC);
	return nlh->nlmsg_len;
}

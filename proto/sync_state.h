/*
 * sync_state.h: the sync protocol's data model: a conntrack state and an
 * expectation as syncd carries them between the kernel (syncd/ct.c), the
 * caches and the wire (proto/sync.c). This is the "fat" interchange form;
 * caches may store it more compactly.
 */
#ifndef PROTO_SYNC_STATE_H
#define PROTO_SYNC_STATE_H

#include <stdint.h>

/* Addresses in network order; IPv4 in the first 4 bytes, rest zero.
 * Ports in host order. ICMP/ICMPv6: sport = id, dport = type << 8 | code. */
struct ct_tuple {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t proto;	/* IPPROTO_* */
	uint16_t sport;
	uint16_t dport;
	uint8_t src[16];
	uint8_t dst[16];
};

/* Which optional parts of a ct_state are present. */
#define CT_F_MARK    0x0001
#define CT_F_ZONE    0x0002
#define CT_F_LABELS  0x0004
#define CT_F_HELPER  0x0008
#define CT_F_MASTER  0x0010 /* related: master tuple present */
#define CT_F_SEQADJ  0x0020
#define CT_F_TCP     0x0040 /* tcp_* fields valid */
#define CT_F_SCTP    0x0080
#define CT_F_TIMEOUT 0x0100

#define CT_HELPER_LEN 16
#define CT_LABELS_LEN 16 /* 128 connlabel bits */

struct ct_seqadj {
	uint32_t pos;
	uint32_t before;
	uint32_t after;
};

struct ct_state {
	struct ct_tuple orig;
	/* The reply tuple as the kernel reports it: with SNAT its dst is the
	 * translated source, with DNAT its src is the translated dest. */
	struct ct_tuple reply;
	uint32_t fields;  /* CT_F_* */
	uint32_t status;  /* IPS_* bits */
	uint32_t timeout; /* seconds left when read */
	uint32_t mark;
	uint16_t zone;
	uint8_t tcp_state;     /* TCP_CONNTRACK_* */
	uint8_t tcp_wscale[2]; /* original, reply */
	uint8_t tcp_flags[2];  /* IP_CT_TCP_FLAG_* */
	uint8_t sctp_state;
	uint32_t sctp_vtag[2];
	uint8_t labels[CT_LABELS_LEN];
	char helper[CT_HELPER_LEN]; /* NUL-terminated */
	struct ct_tuple master;	    /* CT_F_MASTER */
	struct ct_seqadj seqadj[2]; /* CT_F_SEQADJ: original, reply */
};

#define CT_EXP_F_NAT	0x0001
#define CT_EXP_F_HELPER 0x0002
#define CT_EXP_F_ZONE	0x0004

struct ct_expect {
	struct ct_tuple master; /* the master connection's orig tuple */
	struct ct_tuple tuple;	/* what is expected */
	struct ct_tuple mask;
	uint32_t fields;  /* CT_EXP_F_* */
	uint32_t timeout; /* seconds left */
	uint32_t flags;	  /* NF_CT_EXPECT_* */
	uint32_t class;
	uint16_t zone;
	uint8_t nat_dir;
	struct ct_tuple nat; /* CT_EXP_F_NAT */
	char helper[CT_HELPER_LEN];
};

enum ct_event {
	CT_EV_NEW,
	CT_EV_UPDATE,
	CT_EV_DESTROY,
};

#endif

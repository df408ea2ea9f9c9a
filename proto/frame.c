/*
 * frame.c: the Ethernet frames carpd sends whole (advertisements, ARP,
 * neighbour advertisements), built through the bounded cursor of buf.h.
 */
#include <string.h>

#include "buf.h"
#include "frame.h"

#define IP4_HLEN	     20
#define IP4_VHL		     0x45 /* version 4, 5 words */
#define IP4_DF		     0x4000
#define IP4_CKSUM_OFF	     10
#define IP6_VTCFL	     0x60000000 /* version 6, class and label 0 */
#define IPPROTO_ICMP6	     58
#define ARP_HRD_ETHER	     1
#define ARP_OP_REQUEST	     1
#define ICMP6_NA	     136
#define ICMP6_CKSUM_OFF	     2
#define NA_FLAG_OVERRIDE     0x20000000
#define NA_LEN		     32 /* header, target, one option */
#define ND_OPT_TARGET_LLADDR 2

const uint8_t frame_bcast_mac[FRAME_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff };
/* 33:33 and the low 32 bits of ff02::12 and ff02::1 (RFC 2464 7). */
static const uint8_t carp6_mac[FRAME_ALEN] = { 0x33, 0x33, 0x00, 0x00, 0x00,
	0x12 };
static const uint8_t allnodes_mac[FRAME_ALEN] = { 0x33, 0x33, 0x00, 0x00, 0x00,
	0x01 };
static const struct in6_addr carp_group6 = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0x12 } } };
static const struct in6_addr allnodes = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0x01 } } };

void
frame_mcast4_mac(struct in_addr group, uint8_t mac[FRAME_ALEN])
{
	uint32_t g = ntohl(group.s_addr);

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((g >> 16) & 0x7f);
	mac[4] = (uint8_t)(g >> 8);
	mac[5] = (uint8_t)g;
}

void
frame_vmac(uint8_t vhid, uint8_t mac[FRAME_ALEN])
{
	static const uint8_t vrrp_prefix[FRAME_ALEN - 1] = { 0x00, 0x00, 0x5e,
		0x00, 0x01 };

	memcpy(mac, vrrp_prefix, sizeof(vrrp_prefix));
	mac[FRAME_ALEN - 1] = vhid;
}

static void
eth_hdr(struct wr *w, const uint8_t dst[FRAME_ALEN],
    const uint8_t src[FRAME_ALEN], uint16_t type)
{
	wr_bytes(w, dst, FRAME_ALEN);
	wr_bytes(w, src, FRAME_ALEN);
	wr_u16(w, type);
}

static void
ip6_hdr(struct wr *w, uint16_t paylen, uint8_t next,
    const struct in6_addr *src, const struct in6_addr *dst)
{
	wr_u32(w, IP6_VTCFL);
	wr_u16(w, paylen);
	wr_u8(w, next);
	wr_u8(w, CARP_TTL); /* 255 for both CARP and neighbour discovery */
	wr_bytes(w, src, sizeof(*src));
	wr_bytes(w, dst, sizeof(*dst));
}

int
frame_carp4_encode(const struct frame_carp4 *f,
    const uint8_t carp[CARP_HDRLEN], uint8_t *buf, size_t len)
{
	uint8_t *ip;
	struct wr w;

	wr_init(&w, buf, len);
	eth_hdr(&w, f->dst_mac, f->src_mac, FRAME_ETHERTYPE_IP);
	ip = buf + w.off;
	wr_u8(&w, IP4_VHL);
	wr_u8(&w, FRAME_IPTOS_LOWDELAY);
	wr_u16(&w, IP4_HLEN + CARP_HDRLEN);
	wr_u16(&w, f->id);
	wr_u16(&w, IP4_DF);
	wr_u8(&w, CARP_TTL);
	wr_u8(&w, CARP_PROTO);
	wr_u16(&w, 0); /* checksum, below */
	wr_bytes(&w, &f->src, 4);
	wr_bytes(&w, &f->dst, 4);
	wr_bytes(&w, carp, CARP_HDRLEN);
	if (w.err)
		return -1;
	put_u16(ip + IP4_CKSUM_OFF, carp_cksum(ip, IP4_HLEN));
	return (int)w.off;
}

int
frame_carp6_encode(const uint8_t src_mac[FRAME_ALEN],
    const struct in6_addr *src, const uint8_t carp[CARP_HDRLEN], uint8_t *buf,
    size_t len)
{
	struct wr w;

	wr_init(&w, buf, len);
	eth_hdr(&w, carp6_mac, src_mac, FRAME_ETHERTYPE_IP6);
	ip6_hdr(&w, CARP_HDRLEN, CARP_PROTO, src, &carp_group6);
	wr_bytes(&w, carp, CARP_HDRLEN);
	return w.err ? -1 : (int)w.off;
}

int
frame_garp_encode(const uint8_t mac[FRAME_ALEN], const struct in_addr *ip,
    uint8_t *buf, size_t len)
{
	static const uint8_t unknown[FRAME_ALEN];
	struct wr w;

	wr_init(&w, buf, len);
	eth_hdr(&w, frame_bcast_mac, mac, FRAME_ETHERTYPE_ARP);
	wr_u16(&w, ARP_HRD_ETHER);
	wr_u16(&w, FRAME_ETHERTYPE_IP);
	wr_u8(&w, FRAME_ALEN);
	wr_u8(&w, sizeof(*ip));
	wr_u16(&w, ARP_OP_REQUEST);
	wr_bytes(&w, mac, FRAME_ALEN); /* sender */
	wr_bytes(&w, ip, sizeof(*ip));
	wr_bytes(&w, unknown, FRAME_ALEN); /* target */
	wr_bytes(&w, ip, sizeof(*ip));
	while (!w.err && w.off < FRAME_MIN)
		wr_u8(&w, 0);
	return w.err ? -1 : (int)w.off;
}

/* The ICMPv6 checksum: over the pseudo-header (RFC 8200 8.1) and the
 * message. */
static uint16_t
icmp6_cksum(const struct in6_addr *src, const struct in6_addr *dst,
    const uint8_t *icmp, size_t len)
{
	uint8_t buf[2 * sizeof(struct in6_addr) + 8 + NA_LEN];
	struct wr w;

	wr_init(&w, buf, sizeof(buf));
	wr_bytes(&w, src, sizeof(*src));
	wr_bytes(&w, dst, sizeof(*dst));
	wr_u32(&w, (uint32_t)len);
	wr_u32(&w, IPPROTO_ICMP6);
	wr_bytes(&w, icmp, len);
	return carp_cksum(buf, w.off);
}

int
frame_na_encode(const uint8_t mac[FRAME_ALEN], const struct in6_addr *ip,
    uint8_t *buf, size_t len)
{
	uint8_t *icmp;
	struct wr w;

	wr_init(&w, buf, len);
	eth_hdr(&w, allnodes_mac, mac, FRAME_ETHERTYPE_IP6);
	ip6_hdr(&w, NA_LEN, IPPROTO_ICMP6, ip, &allnodes);
	icmp = buf + w.off;
	wr_u8(&w, ICMP6_NA);
	wr_u8(&w, 0);  /* code */
	wr_u16(&w, 0); /* checksum, below */
	wr_u32(&w, NA_FLAG_OVERRIDE);
	wr_bytes(&w, ip, sizeof(*ip)); /* target */
	wr_u8(&w, ND_OPT_TARGET_LLADDR);
	wr_u8(&w, 1); /* option length, in 8 bytes */
	wr_bytes(&w, mac, FRAME_ALEN);
	if (w.err)
		return -1;
	put_u16(icmp + ICMP6_CKSUM_OFF,
	    icmp6_cksum(ip, &allnodes, icmp, NA_LEN));
	return (int)w.off;
}

/*
 * frame.h: the whole Ethernet frames carpd sends: CARP advertisements in
 * IPv4 and IPv6, gratuitous ARP and unsolicited neighbour advertisements.
 * Pure encoders: no I/O, no logging.
 */
#ifndef PROTO_FRAME_H
#define PROTO_FRAME_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "carp.h"

#define FRAME_ETHERTYPE_IP   0x0800
#define FRAME_ETHERTYPE_ARP  0x0806
#define FRAME_ETHERTYPE_VLAN 0x8100
#define FRAME_ETHERTYPE_IP6  0x86dd
#define FRAME_ALEN	     6	  /* an Ethernet address */
#define FRAME_MIN	     60	  /* shortest frame, without the FCS */
#define FRAME_MAX	     128  /* room for any frame built here */
#define FRAME_IPTOS_LOWDELAY 0x10 /* what BSD carp sends */

extern const uint8_t frame_bcast_mac[FRAME_ALEN];

/*
 * Ethernet | IPv4 (20 bytes: DF, TOS low delay, TTL 255, protocol 112) |
 * the 36-byte advertisement. The destination MAC is the caller's: the
 * group's (frame_mcast4_mac) or broadcast (ucarp --nomcast).
 */
struct frame_carp4 {
	uint8_t dst_mac[FRAME_ALEN];
	uint8_t src_mac[FRAME_ALEN];
	struct in_addr src;
	struct in_addr dst;
	uint16_t id; /* IPv4 identification */
};

/* The MAC of an IPv4 multicast group: 01:00:5e and its low 23 bits
 * (RFC 1112 6.4). */
void frame_mcast4_mac(struct in_addr group, uint8_t mac[FRAME_ALEN]);

/* The virtual MAC of a vhid, as VRRP's: 00:00:5e:00:01:vhid (RFC 5798
 * 7.3). */
void frame_vmac(uint8_t vhid, uint8_t mac[FRAME_ALEN]);

/* Each returns the frame's length, or -1 when len is too small. */
int frame_carp4_encode(const struct frame_carp4 *,
    const uint8_t carp[CARP_HDRLEN], uint8_t *buf, size_t len);
/* Ethernet | IPv6 (hop limit 255, next header 112) from src to
 * ff02::12 | the advertisement. */
int frame_carp6_encode(const uint8_t src_mac[FRAME_ALEN],
    const struct in6_addr *src, const uint8_t carp[CARP_HDRLEN], uint8_t *buf,
    size_t len);
/* A broadcast ARP request for ip from ip (gratuitous ARP), padded to
 * FRAME_MIN. */
int frame_garp_encode(const uint8_t mac[FRAME_ALEN], const struct in_addr *ip,
    uint8_t *buf, size_t len);
/* An unsolicited neighbour advertisement (RFC 4861 7.2.6) from ip to
 * ff02::1: Override set, the target link-layer address option. */
int frame_na_encode(const uint8_t mac[FRAME_ALEN], const struct in6_addr *ip,
    uint8_t *buf, size_t len);

#endif

/*
 * carp.h: CARP v2 advertisements (IP protocol 112): encode, decode,
 * Internet checksum and the HMAC-SHA1 digest. Pure code: no I/O, no logging.
 */
#ifndef PROTO_CARP_H
#define PROTO_CARP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The advertisement, 36 bytes in network byte order:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Type  |     VHID      |    AdvSkew    |    AuthLen    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    Demote     |    AdvBase    |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     Counter (64 bits)                         |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  HMAC-SHA1 (20 bytes)                         |
 *   ~                                                               ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Version 2, type 1 (advertisement), authlen 7 (32-bit words of counter
 * and digest). Demote is OpenBSD's group demotion count; FreeBSD and
 * ucarp send 0 there. The checksum covers these 36 bytes only.
 */

#define CARP_PROTO	 112
#define CARP_VERSION	 2
#define CARP_TYPE_ADV	 1
#define CARP_AUTHLEN	 7
#define CARP_TTL	 255
#define CARP_HDRLEN	 36
#define CARP_KEYLEN	 20
#define CARP_MDLEN	 20
#define CARP_PASS_MAX	 19  /* ucarp: at most; BSD cuts */
#define CARP_MAXSKEW	 240 /* clamp of advskew + demotion */
#define CARP_BOWOUT	 255 /* advbase, advskew: bow-out */
#define CARP_RELEASE	 254 /* advskew with advbase 255: one vhid leaves */
/* The node demotion while its state tables are not in sync with the peer
 * (OpenBSD pfsync demotes by as much during its bulk update): syncd asks
 * carpd for it, carpd assumes it while syncd has not answered. */
#define CARP_DEMOTE_SYNC 32
#define CARP_DEMOTE_MAX	 255 /* the demote field is one byte */
#define CARP_VHID_MAX	 255
#define CARP_GROUP4	 "224.0.0.18"
#define CARP_GROUP6	 "ff02::12"

struct carp_hdr {
	uint8_t version;
	uint8_t type;
	uint8_t vhid;
	uint8_t advskew;
	uint8_t authlen;
	uint8_t demote;
	uint8_t advbase;
	uint16_t cksum;	    /* as received; set by encode */
	uint8_t counter[8]; /* hashed as on the wire */
	uint8_t md[CARP_MDLEN];
};

/* Reject reasons: each has its own counter in carpd (OpenBSD carpstats). */
enum carp_err {
	CARP_OK = 0,
	CARP_E_BADLEN,	   /* short packet or wrong IP lengths */
	CARP_E_BADTTL,	   /* TTL / hop limit not 255 */
	CARP_E_BADSUM,	   /* checksum */
	CARP_E_BADVER,	   /* version != 2 */
	CARP_E_BADTYPE,	   /* type != advertisement */
	CARP_E_BADAUTHLEN, /* authlen != 7 */
	CARP_E_BADPROTO,   /* not IP protocol 112 / not IP at all */
	CARP_E_BADVHID,	   /* no such vhid here (caller) */
	CARP_E_BADAUTH,	   /* HMAC mismatch (caller) */
	CARP_E_LOOP,	   /* our own packet came back (caller) */
	CARP_E_MAX
};

extern const char *const carp_err_names[CARP_E_MAX];

/* The addresses a vhid hashes, already sorted (carp_addrs_sort). */
struct carp_addrs {
	const struct in_addr *v4;
	size_t n4;
	const struct in6_addr *v6;
	size_t n6;
};

/* A received IP packet carrying CARP, after carp_ip_decode. */
struct carp_ip {
	int family; /* AF_INET or AF_INET6 */
	uint8_t ttl;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} src, dst;
	const uint8_t *payload; /* the 36-byte CARP header */
	size_t paylen;
};

/* Key from a passphrase: raw bytes zero-padded to 20. -1 when longer than
 * CARP_PASS_MAX bytes. */
int carp_key_from_pass(const char *pass, uint8_t key[CARP_KEYLEN]);

/* Internet checksum (RFC 1071) of len bytes, as a host-order value ready to
 * be stored big-endian. */
uint16_t carp_cksum(const uint8_t *, size_t);

/* Write the 36-byte header (checksum computed here) into buf; returns
 * CARP_HDRLEN or -1 when len is too small. */
int carp_encode(const struct carp_hdr *, uint8_t *buf, size_t len);
/* Parse and check length, checksum, version, type and authlen. Returns
 * CARP_OK or the reject reason. Extra bytes after the header are
 * accepted (some senders pad) only when exact is 0; the checksum covers
 * all len bytes. */
enum carp_err
carp_decode(const uint8_t *buf, size_t len, struct carp_hdr *, int exact);

/* Parse an IPv4 or IPv6 packet (no link header) carrying protocol 112;
 * checks lengths, protocol and TTL / hop limit. IPv4 fragments are
 * CARP_E_BADLEN. IPv6 extension headers are not supported (CARP senders
 * do not use them): CARP_E_BADPROTO. */
enum carp_err carp_ip_decode(const uint8_t *pkt, size_t len, struct carp_ip *);

/* Sort address lists in place, ascending (IPv4 numerically, IPv6 by
 * memcmp), as every BSD hashes them. */
void carp_addrs_sort(struct in_addr *, size_t, struct in6_addr *, size_t);

/* HMAC-SHA1 over version, type, vhid, the IPv4 addresses, the IPv6
 * addresses (link-local scope bytes cleared) and the counter. */
void carp_hmac(const uint8_t key[CARP_KEYLEN], uint8_t vhid,
    const struct carp_addrs *, const uint8_t counter[8],
    uint8_t md[CARP_MDLEN]);
/* 0 when the digest in h matches, -1 otherwise (constant time compare). */
int carp_hmac_verify(const uint8_t key[CARP_KEYLEN], const struct carp_addrs *,
    const struct carp_hdr *);

/* Advertisement interval and master-down interval in nanoseconds, per
 * OpenBSD: advbase 0 gives advskew/256 s (1/256 s when both are 0) and a
 * master-down time of three of those. */
uint64_t carp_adv_ns(unsigned int advbase, unsigned int advskew);
uint64_t carp_down_ns(unsigned int advbase, unsigned int advskew);

#endif

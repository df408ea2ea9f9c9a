/*
 * carp.c: CARP v2 advertisement encode/decode, checksum and HMAC-SHA1.
 * No I/O and no logging: callers count the reject reasons.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nettle/hmac.h>

#include "buf.h"
#include "carp.h"

const char *const carp_err_names[CARP_E_MAX] = {
	[CARP_OK] = "ok",
	[CARP_E_BADLEN] = "badlen",
	[CARP_E_BADTTL] = "badttl",
	[CARP_E_BADSUM] = "badsum",
	[CARP_E_BADVER] = "badver",
	[CARP_E_BADTYPE] = "badtype",
	[CARP_E_BADAUTHLEN] = "badauthlen",
	[CARP_E_BADPROTO] = "badproto",
	[CARP_E_BADVHID] = "badvhid",
	[CARP_E_BADAUTH] = "badauth",
	[CARP_E_LOOP] = "loop",
};

int
carp_key_from_pass(const char *pass, uint8_t key[CARP_KEYLEN])
{
	size_t n;

	memset(key, 0, CARP_KEYLEN);
	if (pass == NULL)
		return 0;
	n = strlen(pass);
	if (n > CARP_PASS_MAX)
		return -1;
	memcpy(key, pass, n);
	return 0;
}

uint16_t
carp_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int
carp_encode(const struct carp_hdr *h, uint8_t *buf, size_t len)
{
	struct wr w;
	uint8_t *ck;

	wr_init(&w, buf, len);
	wr_u8(&w, (uint8_t)((h->version & 0x0f) << 4 | (h->type & 0x0f)));
	wr_u8(&w, h->vhid);
	wr_u8(&w, h->advskew);
	wr_u8(&w, h->authlen);
	wr_u8(&w, h->demote);
	wr_u8(&w, h->advbase);
	ck = wr_reserve(&w, 2);
	wr_bytes(&w, h->counter, sizeof(h->counter));
	wr_bytes(&w, h->md, sizeof(h->md));
	if (w.err || ck == NULL)
		return -1;
	put_u16(ck, 0);
	put_u16(ck, carp_cksum(buf, CARP_HDRLEN));
	return CARP_HDRLEN;
}

enum carp_err
carp_decode(const uint8_t *buf, size_t len, struct carp_hdr *h, int exact)
{
	struct rd r;
	uint8_t vt;

	memset(h, 0, sizeof(*h));
	if (len < CARP_HDRLEN || (exact && len != CARP_HDRLEN))
		return CARP_E_BADLEN;
	/*
	 * The sum over the whole payload, checksum included, must be
	 * 0xffff, as in OpenBSD's carp_input: bytes after the header are
	 * covered too (zero padding leaves the sum unchanged).
	 */
	if (carp_cksum(buf, len) != 0)
		return CARP_E_BADSUM;
	rd_init(&r, buf, CARP_HDRLEN);
	if (rd_u8(&r, &vt) == -1 || rd_u8(&r, &h->vhid) == -1 ||
	    rd_u8(&r, &h->advskew) == -1 || rd_u8(&r, &h->authlen) == -1 ||
	    rd_u8(&r, &h->demote) == -1 || rd_u8(&r, &h->advbase) == -1 ||
	    rd_u16(&r, &h->cksum) == -1 ||
	    rd_bytes(&r, h->counter, sizeof(h->counter)) == -1 ||
	    rd_bytes(&r, h->md, sizeof(h->md)) == -1)
		return CARP_E_BADLEN;
	h->version = vt >> 4;
	h->type = vt & 0x0f;
	if (h->version != CARP_VERSION)
		return CARP_E_BADVER;
	if (h->type != CARP_TYPE_ADV)
		return CARP_E_BADTYPE;
	if (h->authlen != CARP_AUTHLEN)
		return CARP_E_BADAUTHLEN;
	return CARP_OK;
}

enum carp_err
carp_ip_decode(const uint8_t *pkt, size_t len, struct carp_ip *ip)
{
	struct rd r;
	uint8_t vhl, ttl, proto, nxt, hlim;
	uint16_t totlen, frag, plen;
	size_t ihl;

	memset(ip, 0, sizeof(*ip));
	if (len < 1)
		return CARP_E_BADLEN;
	rd_init(&r, pkt, len);
	switch (pkt[0] >> 4) {
	case 4:
		/*
		 * 0 vhl, 1 tos, 2 len, 4 id, 6 frag, 8 ttl, 9 proto,
		 * 10 sum, 12 src, 16 dst.
		 */
		if (rd_u8(&r, &vhl) == -1 || rd_skip(&r, 1) == -1 ||
		    rd_u16(&r, &totlen) == -1 || rd_skip(&r, 2) == -1 ||
		    rd_u16(&r, &frag) == -1 || rd_u8(&r, &ttl) == -1 ||
		    rd_u8(&r, &proto) == -1 || rd_skip(&r, 2) == -1 ||
		    rd_bytes(&r, &ip->src.v4, 4) == -1 ||
		    rd_bytes(&r, &ip->dst.v4, 4) == -1)
			return CARP_E_BADLEN;
		ihl = (size_t)(vhl & 0x0f) * 4;
		if (ihl < 20 || totlen < ihl || totlen > len)
			return CARP_E_BADLEN;
		/*
		 * A fragment (more fragments, or an offset) is not a whole
		 * advertisement: nothing reassembles what a packet socket
		 * captures, and CARP senders never fragment 56 bytes.
		 */
		if ((frag & 0x3fff) != 0)
			return CARP_E_BADLEN;
		ip->family = AF_INET;
		ip->ttl = ttl;
		if (proto != CARP_PROTO)
			return CARP_E_BADPROTO;
		ip->payload = pkt + ihl;
		ip->paylen = totlen - ihl;
		break;
	case 6:
		/* 0 vtcfl, 4 plen, 6 nxt, 7 hlim, 8 src, 24 dst. */
		if (rd_skip(&r, 4) == -1 || rd_u16(&r, &plen) == -1 ||
		    rd_u8(&r, &nxt) == -1 || rd_u8(&r, &hlim) == -1 ||
		    rd_bytes(&r, &ip->src.v6, 16) == -1 ||
		    rd_bytes(&r, &ip->dst.v6, 16) == -1)
			return CARP_E_BADLEN;
		if (plen > r.len)
			return CARP_E_BADLEN;
		ip->family = AF_INET6;
		ip->ttl = hlim;
		if (nxt != CARP_PROTO)
			return CARP_E_BADPROTO;
		ip->payload = r.p;
		ip->paylen = plen;
		break;
	default:
		return CARP_E_BADPROTO;
	}
	if (ip->ttl != CARP_TTL)
		return CARP_E_BADTTL;
	if (ip->paylen < CARP_HDRLEN)
		return CARP_E_BADLEN;
	return CARP_OK;
}

static int
cmp4(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
	uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);

	return x < y ? -1 : x > y;
}

static int
cmp6(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

void
carp_addrs_sort(struct in_addr *v4, size_t n4, struct in6_addr *v6, size_t n6)
{
	if (n4 > 1)
		qsort(v4, n4, sizeof(*v4), cmp4);
	if (n6 > 1)
		qsort(v6, n6, sizeof(*v6), cmp6);
}

void
carp_hmac(const uint8_t key[CARP_KEYLEN], uint8_t vhid,
    const struct carp_addrs *a, const uint8_t counter[8],
    uint8_t md[CARP_MDLEN])
{
	struct hmac_sha1_ctx ctx;
	uint8_t vt[2] = { CARP_VERSION, CARP_TYPE_ADV };
	struct in6_addr in6;

	hmac_sha1_set_key(&ctx, CARP_KEYLEN, key);
	hmac_sha1_update(&ctx, sizeof(vt), vt);
	hmac_sha1_update(&ctx, 1, &vhid);
	for (size_t i = 0; i < a->n4; i++)
		hmac_sha1_update(&ctx, 4, (const uint8_t *)&a->v4[i]);
	for (size_t i = 0; i < a->n6; i++) {
		in6 = a->v6[i];
		/* KAME embeds the scope in bytes 2-3 of link-locals. */
		if (in6.s6_addr[0] == 0xfe && (in6.s6_addr[1] & 0xc0) == 0x80)
			in6.s6_addr[2] = in6.s6_addr[3] = 0;
		hmac_sha1_update(&ctx, 16, in6.s6_addr);
	}
	hmac_sha1_update(&ctx, 8, counter);
	hmac_sha1_digest(&ctx, CARP_MDLEN, md);
}

int
carp_hmac_verify(const uint8_t key[CARP_KEYLEN], const struct carp_addrs *a,
    const struct carp_hdr *h)
{
	uint8_t md[CARP_MDLEN];
	uint8_t diff = 0;

	carp_hmac(key, h->vhid, a, h->counter, md);
	for (size_t i = 0; i < CARP_MDLEN; i++)
		diff |= (uint8_t)(md[i] ^ h->md[i]);
	return diff == 0 ? 0 : -1;
}

uint64_t
carp_adv_ns(unsigned int advbase, unsigned int advskew)
{
	if (advbase == 0 && advskew == 0)
		advskew = 1;
	return (uint64_t)advbase * 1000000000ULL +
	    (uint64_t)advskew * 1000000000ULL / 256;
}

uint64_t
carp_down_ns(unsigned int advbase, unsigned int advskew)
{
	if (advbase == 0)
		return 3 * carp_adv_ns(0, advskew);
	return (uint64_t)advbase * 3000000000ULL +
	    (uint64_t)advskew * 1000000000ULL / 256;
}

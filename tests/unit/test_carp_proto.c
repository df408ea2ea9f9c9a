/*
 * test_carp_proto.c: CARP header encode/decode against golden bytes, the
 * HMAC vectors of the reference notes, and every malformed case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "buf.h"
#include "carp.h"

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	unsigned int b;

	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static const uint8_t counter1[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
	0xef };

/* The worked advertisement of the notes: vhid 1, advbase 1, vector #1. */
/* clang-format off */
static const char *worked_ip =
    "45100038" "1c464000" "ff70bd42" "c0a80102" "e0000012"
    "21010007" "000150c8" "0123456789abcdef"
    "4a56e25fb9b79c9940542d9b83e21d4eaf46ae9a";
/* clang-format on */

static void
hmac_case(const char *pass, uint8_t vhid, const char **v4, size_t n4,
    const char **v6, size_t n6, const char *want)
{
	uint8_t key[CARP_KEYLEN], md[CARP_MDLEN], exp[CARP_MDLEN];
	struct in_addr a4[8];
	struct in6_addr a6[8];
	struct carp_addrs a;
	size_t i;

	assert_int_equal(carp_key_from_pass(pass, key), 0);
	for (i = 0; i < n4; i++)
		assert_int_equal(inet_pton(AF_INET, v4[i], &a4[i]), 1);
	for (i = 0; i < n6; i++)
		assert_int_equal(inet_pton(AF_INET6, v6[i], &a6[i]), 1);
	carp_addrs_sort(a4, n4, a6, n6);
	a.v4 = a4;
	a.n4 = n4;
	a.v6 = a6;
	a.n6 = n6;
	carp_hmac(key, vhid, &a, counter1, md);
	unhex(want, exp, sizeof(exp));
	assert_memory_equal(md, exp, CARP_MDLEN);
}

static void
test_hmac_vectors(void **state)
{
	const char *v1[] = { "192.168.1.10" };
	/* Given out of order: the hash must sort them. */
	const char *v2[] = { "10.0.0.20", "10.0.0.3" };
	const char *v3[] = { "172.16.0.1" };
	const char *v4[] = { "2001:db8::10" };

	(void)state;
	hmac_case("mekmitasdigoat", 1, v1, 1, NULL, 0,
	    "4a56e25fb9b79c9940542d9b83e21d4eaf46ae9a");
	hmac_case("s3cret", 7, v2, 2, NULL, 0,
	    "e1598b9516858e32a48654f8bac2788e9c579ed6");
	hmac_case("", 9, v3, 1, NULL, 0,
	    "c664a834cad27067d44dbda0cb9b29608c25d005");
	hmac_case("v6pass", 3, NULL, 0, v4, 1,
	    "d3dff9914eeec62f36bd287b97f882b9e92949a9");
	hmac_case("wrongpass", 1, v1, 1, NULL, 0,
	    "97f1bf9c8d34f8d2f785edc11377a39be1209d15");
}

static void
test_hmac_verify(void **state)
{
	uint8_t key[CARP_KEYLEN], bad[CARP_KEYLEN];
	struct in_addr a4;
	struct carp_addrs a = { &a4, 1, NULL, 0 };
	struct carp_hdr h;

	(void)state;
	inet_pton(AF_INET, "192.168.1.10", &a4);
	carp_key_from_pass("mekmitasdigoat", key);
	carp_key_from_pass("wrongpass", bad);
	memset(&h, 0, sizeof(h));
	h.vhid = 1;
	memcpy(h.counter, counter1, 8);
	carp_hmac(key, 1, &a, h.counter, h.md);
	assert_int_equal(carp_hmac_verify(key, &a, &h), 0);
	assert_int_equal(carp_hmac_verify(bad, &a, &h), -1);
	h.vhid = 2;
	assert_int_equal(carp_hmac_verify(key, &a, &h), -1);
}

static void
test_key(void **state)
{
	uint8_t key[CARP_KEYLEN];

	(void)state;
	assert_int_equal(carp_key_from_pass("1234567890123456789", key), 0);
	assert_int_equal(key[18], '9');
	assert_int_equal(key[19], 0);
	assert_int_equal(carp_key_from_pass("12345678901234567890", key), -1);
	assert_int_equal(carp_key_from_pass(NULL, key), 0);
	assert_int_equal(key[0], 0);
}

static void
test_worked_packet(void **state)
{
	uint8_t pkt[56], out[CARP_HDRLEN];
	struct carp_ip ip;
	struct carp_hdr h;
	char s[INET_ADDRSTRLEN];

	(void)state;
	unhex(worked_ip, pkt, sizeof(pkt));
	assert_int_equal(carp_ip_decode(pkt, sizeof(pkt), &ip), CARP_OK);
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip.ttl, 255);
	inet_ntop(AF_INET, &ip.src.v4, s, sizeof(s));
	assert_string_equal(s, "192.168.1.2");
	assert_int_equal(ip.paylen, CARP_HDRLEN);
	assert_int_equal(carp_decode(ip.payload, ip.paylen, &h, 1), CARP_OK);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.type, 1);
	assert_int_equal(h.vhid, 1);
	assert_int_equal(h.advskew, 0);
	assert_int_equal(h.advbase, 1);
	assert_int_equal(h.demote, 0);
	assert_int_equal(h.authlen, 7);
	assert_int_equal(h.cksum, 0x50c8);
	assert_memory_equal(h.counter, counter1, 8);
	/* Round trip gives the same bytes. */
	assert_int_equal(carp_encode(&h, out, sizeof(out)), CARP_HDRLEN);
	assert_memory_equal(out, pkt + 20, CARP_HDRLEN);
	/* ucarp with advskew 100: checksum ecc7. */
	h.advskew = 100;
	carp_encode(&h, out, sizeof(out));
	assert_int_equal(out[6] << 8 | out[7], 0xecc7);
	assert_int_equal(carp_encode(&h, out, CARP_HDRLEN - 1), -1);
}

static void
test_roundtrip(void **state)
{
	struct carp_hdr h, g;
	uint8_t b[CARP_HDRLEN];
	int i;

	(void)state;
	for (i = 0; i < 256; i += 17) {
		memset(&h, 0, sizeof(h));
		h.version = CARP_VERSION;
		h.type = CARP_TYPE_ADV;
		h.authlen = CARP_AUTHLEN;
		h.vhid = (uint8_t)(i + 1);
		h.advskew = (uint8_t)(255 - i);
		h.advbase = (uint8_t)i;
		h.demote = (uint8_t)(i / 3);
		memset(h.counter, i, 8);
		memset(h.md, 255 - i, 20);
		assert_int_equal(carp_encode(&h, b, sizeof(b)), CARP_HDRLEN);
		assert_int_equal(carp_decode(b, sizeof(b), &g, 1), CARP_OK);
		h.cksum = g.cksum;
		assert_memory_equal(&h, &g, sizeof(h));
	}
}

static void
test_malformed(void **state)
{
	uint8_t pkt[56], p[80];
	struct carp_ip ip;
	struct carp_hdr h;
	uint8_t *c = pkt + 20;

	(void)state;
	unhex(worked_ip, pkt, sizeof(pkt));

	/* Truncations at every length. */
	for (size_t n = 0; n < sizeof(pkt); n++) {
		enum carp_err e = carp_ip_decode(pkt, n, &ip);
		assert_int_not_equal(e, CARP_OK);
	}
	for (size_t n = 0; n < CARP_HDRLEN; n++)
		assert_int_equal(carp_decode(c, n, &h, 0), CARP_E_BADLEN);
	/* Padded payload: not exact. */
	memcpy(p, c, CARP_HDRLEN);
	p[CARP_HDRLEN] = 0;
	assert_int_equal(carp_decode(p, CARP_HDRLEN + 1, &h, 1),
	    CARP_E_BADLEN);
	/* Zero padding keeps the sum: accepted when not exact. */
	memset(p + CARP_HDRLEN, 0, 8);
	assert_int_equal(carp_decode(p, CARP_HDRLEN + 8, &h, 0), CARP_OK);
	/*
	 * A longer payload whose checksum covers only the first 36 bytes:
	 * OpenBSD sums the whole payload and drops it, so do we.
	 */
	memcpy(p + CARP_HDRLEN, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(carp_decode(p, CARP_HDRLEN + 8, &h, 0),
	    CARP_E_BADSUM);
	assert_int_equal(carp_decode(p, CARP_HDRLEN + 1, &h, 0),
	    CARP_E_BADSUM);
	/* The same with the checksum over all 44 bytes: accepted. */
	put_u16(p + 6, 0);
	put_u16(p + 6, carp_cksum(p, CARP_HDRLEN + 8));
	assert_int_equal(carp_decode(p, CARP_HDRLEN + 8, &h, 0), CARP_OK);

	/* TTL. */
	memcpy(p, pkt, sizeof(pkt));
	p[8] = 254;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADTTL);
	/* Protocol. */
	memcpy(p, pkt, sizeof(pkt));
	p[9] = 17;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADPROTO);
	/* IP total length longer than the packet, shorter than a header. */
	memcpy(p, pkt, sizeof(pkt));
	p[3] = 0x40;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADLEN);
	memcpy(p, pkt, sizeof(pkt));
	p[3] = 0x30;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADLEN);
	/* Fragments: more fragments, an offset, both. */
	memcpy(p, pkt, sizeof(pkt));
	p[6] = 0x20;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADLEN);
	p[6] = 0x00;
	p[7] = 0x01;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADLEN);
	p[6] = 0x40;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADLEN);
	p[7] = 0x00;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_OK);
	/* IHL below 5. */
	memcpy(p, pkt, sizeof(pkt));
	p[0] = 0x44;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADLEN);
	/* Not IP. */
	memcpy(p, pkt, sizeof(pkt));
	p[0] = 0x55;
	assert_int_equal(carp_ip_decode(p, sizeof(pkt), &ip), CARP_E_BADPROTO);

	/* Checksum. */
	memcpy(p, c, CARP_HDRLEN);
	p[7] ^= 1;
	assert_int_equal(carp_decode(p, CARP_HDRLEN, &h, 1), CARP_E_BADSUM);
	/* Version 3 (VRRPv3) with a fixed checksum. */
	memcpy(&h, &(struct carp_hdr){ 0 }, sizeof(h));
	assert_int_equal(carp_decode(c, CARP_HDRLEN, &h, 1), CARP_OK);
	h.version = 3;
	carp_encode(&h, p, CARP_HDRLEN);
	assert_int_equal(carp_decode(p, CARP_HDRLEN, &h, 1), CARP_E_BADVER);
	carp_decode(c, CARP_HDRLEN, &h, 1);
	h.type = 2;
	carp_encode(&h, p, CARP_HDRLEN);
	assert_int_equal(carp_decode(p, CARP_HDRLEN, &h, 1), CARP_E_BADTYPE);
	carp_decode(c, CARP_HDRLEN, &h, 1);
	h.authlen = 6;
	carp_encode(&h, p, CARP_HDRLEN);
	assert_int_equal(carp_decode(p, CARP_HDRLEN, &h, 1),
	    CARP_E_BADAUTHLEN);
}

static void
test_ipv6(void **state)
{
	uint8_t p[40 + CARP_HDRLEN];
	struct carp_hdr h;
	struct carp_ip ip;

	(void)state;
	memset(p, 0, sizeof(p));
	memset(&h, 0, sizeof(h));
	p[0] = 0x60;
	p[5] = CARP_HDRLEN;
	p[6] = CARP_PROTO;
	p[7] = 255;
	p[8] = 0xfe;
	p[9] = 0x80;
	p[23] = 1;
	inet_pton(AF_INET6, CARP_GROUP6, p + 24);
	h.version = 2;
	h.type = 1;
	h.authlen = 7;
	h.vhid = 3;
	carp_encode(&h, p + 40, CARP_HDRLEN);
	assert_int_equal(carp_ip_decode(p, sizeof(p), &ip), CARP_OK);
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(carp_decode(ip.payload, ip.paylen, &h, 1), CARP_OK);
	assert_int_equal(h.vhid, 3);
	p[7] = 1;
	assert_int_equal(carp_ip_decode(p, sizeof(p), &ip), CARP_E_BADTTL);
	p[7] = 255;
	p[5] = CARP_HDRLEN + 1;
	assert_int_equal(carp_ip_decode(p, sizeof(p), &ip), CARP_E_BADLEN);
	p[5] = CARP_HDRLEN;
	p[6] = 0; /* hop-by-hop header: not supported */
	assert_int_equal(carp_ip_decode(p, sizeof(p), &ip), CARP_E_BADPROTO);
}

static void
test_timers(void **state)
{
	(void)state;
	assert_int_equal(carp_adv_ns(1, 0), 1000000000ULL);
	assert_int_equal(carp_adv_ns(1, 128), 1500000000ULL);
	assert_int_equal(carp_down_ns(1, 128), 3500000000ULL);
	assert_int_equal(carp_adv_ns(0, 32), 125000000ULL);
	assert_int_equal(carp_down_ns(0, 32), 375000000ULL);
	assert_int_equal(carp_adv_ns(0, 0), 1000000000ULL / 256);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_hmac_verify),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_worked_packet),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_timers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

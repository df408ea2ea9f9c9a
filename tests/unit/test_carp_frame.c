/*
 * test_carp_frame.c: the frames carpd sends whole (proto/frame.c) against
 * golden bytes checked by hand (the IPv4 header checksum) or with an
 * independent checksum (ICMPv6), and every encoder given too little room.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "frame.h"

static const uint8_t mac1[FRAME_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static uint8_t carp[CARP_HDRLEN]; /* 0x00, 0x01, ... 0x23 */

static int
setup(void **state)
{
	for (size_t i = 0; i < sizeof(carp); i++)
		carp[i] = (uint8_t)i;
	return 0;
}

static void
test_macs(void **state)
{
	static const uint8_t carp4[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x12 };
	/* Only the low 23 bits of the group: 239.255.1.2 -> 7f:01:02. */
	static const uint8_t high[] = { 0x01, 0x00, 0x5e, 0x7f, 0x01, 0x02 };
	static const uint8_t vmac[] = { 0x00, 0x00, 0x5e, 0x00, 0x01, 0xc8 };
	struct in_addr g;
	uint8_t mac[FRAME_ALEN];

	inet_pton(AF_INET, "224.0.0.18", &g);
	frame_mcast4_mac(g, mac);
	assert_memory_equal(mac, carp4, sizeof(mac));
	inet_pton(AF_INET, "239.255.1.2", &g);
	frame_mcast4_mac(g, mac);
	assert_memory_equal(mac, high, sizeof(mac));
	frame_vmac(200, mac);
	assert_memory_equal(mac, vmac, sizeof(mac));
}

static void
test_carp4(void **state)
{
	static const uint8_t want[14 + 20] = {
		/* Ethernet: group MAC, virtual MAC of vhid 4, IPv4 */
		0x01,
		0x00,
		0x5e,
		0x00,
		0x00,
		0x12,
		0x00,
		0x00,
		0x5e,
		0x00,
		0x01,
		0x04,
		0x08,
		0x00,
		/* IPv4: 45, TOS 0x10, length 56, id 0x1234, DF, TTL 255,
		 * protocol 112, checksum 0x7efe (hand-summed), 10.0.0.1 ->
		 * 224.0.0.18 */
		0x45,
		0x10,
		0x00,
		0x38,
		0x12,
		0x34,
		0x40,
		0x00,
		0xff,
		0x70,
		0x7e,
		0xfe,
		0x0a,
		0x00,
		0x00,
		0x01,
		0xe0,
		0x00,
		0x00,
		0x12,
	};
	struct frame_carp4 f;
	uint8_t buf[FRAME_MAX];

	memset(&f, 0, sizeof(f));
	inet_pton(AF_INET, "10.0.0.1", &f.src);
	inet_pton(AF_INET, "224.0.0.18", &f.dst);
	frame_mcast4_mac(f.dst, f.dst_mac);
	frame_vmac(4, f.src_mac);
	f.id = 0x1234;
	assert_int_equal(frame_carp4_encode(&f, carp, buf, sizeof(buf)),
	    sizeof(want) + CARP_HDRLEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_memory_equal(buf + sizeof(want), carp, CARP_HDRLEN);
	/* The header sums to zero with its checksum in place. */
	assert_int_equal(carp_cksum(buf + 14, 20), 0);
	for (size_t n = 0; n < sizeof(want) + CARP_HDRLEN; n++)
		assert_int_equal(frame_carp4_encode(&f, carp, buf, n), -1);
}

static void
test_carp6(void **state)
{
	static const uint8_t want[14 + 40] = {
		0x33,
		0x33,
		0x00,
		0x00,
		0x00,
		0x12,
		0x02,
		0x00,
		0x00,
		0x00,
		0x00,
		0x01,
		0x86,
		0xdd,
		/* version 6, payload 36, next header 112, hop limit 255 */
		0x60,
		0x00,
		0x00,
		0x00,
		0x00,
		0x24,
		0x70,
		0xff,
		/* fe80::1 */
		0xfe,
		0x80,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0x01,
		/* ff02::12 */
		0xff,
		0x02,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0x12,
	};
	struct in6_addr src;
	uint8_t buf[FRAME_MAX];

	inet_pton(AF_INET6, "fe80::1", &src);
	assert_int_equal(
	    frame_carp6_encode(mac1, &src, carp, buf, sizeof(buf)),
	    sizeof(want) + CARP_HDRLEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_memory_equal(buf + sizeof(want), carp, CARP_HDRLEN);
	for (size_t n = 0; n < sizeof(want) + CARP_HDRLEN; n++)
		assert_int_equal(frame_carp6_encode(mac1, &src, carp, buf, n),
		    -1);
}

static void
test_garp(void **state)
{
	uint8_t want[FRAME_MIN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x01, 0x08, 0x06,
		/* Ethernet, IPv4, 6, 4, request */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		/* sender 02:..:01 10.0.0.100, target 0 10.0.0.100 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x64,
		/* padding to 60 bytes follows */
	};
	struct in_addr ip;
	uint8_t buf[FRAME_MAX];

	memset(buf, 0xaa, sizeof(buf));
	inet_pton(AF_INET, "10.0.0.100", &ip);
	assert_int_equal(frame_garp_encode(mac1, &ip, buf, sizeof(buf)),
	    FRAME_MIN);
	assert_memory_equal(buf, want, sizeof(want));
	for (size_t n = 0; n < FRAME_MIN; n++)
		assert_int_equal(frame_garp_encode(mac1, &ip, buf, n), -1);
}

static void
test_na(void **state)
{
	static const uint8_t want[14 + 40 + 32] = {
		0x33,
		0x33,
		0x00,
		0x00,
		0x00,
		0x01,
		0x02,
		0x00,
		0x00,
		0x00,
		0x00,
		0x01,
		0x86,
		0xdd,
		/* version 6, payload 32, ICMPv6, hop limit 255 */
		0x60,
		0x00,
		0x00,
		0x00,
		0x00,
		0x20,
		0x3a,
		0xff,
		/* fd00::100 -> ff02::1 */
		0xfd,
		0x00,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0x01,
		0x00,
		0xff,
		0x02,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0x01,
		/* NA, code 0, checksum 0x589d, Override */
		0x88,
		0x00,
		0x58,
		0x9d,
		0x20,
		0x00,
		0x00,
		0x00,
		/* target fd00::100 */
		0xfd,
		0x00,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0x01,
		0x00,
		/* target link-layer address, 1 x 8 bytes */
		0x02,
		0x01,
		0x02,
		0x00,
		0x00,
		0x00,
		0x00,
		0x01,
	};
	struct in6_addr ip;
	uint8_t buf[FRAME_MAX];

	inet_pton(AF_INET6, "fd00::100", &ip);
	assert_int_equal(frame_na_encode(mac1, &ip, buf, sizeof(buf)),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	for (size_t n = 0; n < sizeof(want); n++)
		assert_int_equal(frame_na_encode(mac1, &ip, buf, n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_macs),
		cmocka_unit_test(test_carp4),
		cmocka_unit_test(test_carp6),
		cmocka_unit_test(test_garp),
		cmocka_unit_test(test_na),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

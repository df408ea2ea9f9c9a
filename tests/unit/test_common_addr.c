/*
 * test_common_addr.c: address parsing, formatting and ordering.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

static void
test_parse_fmt(void **state)
{
	static const struct {
		const char *in;
		int family;
		int plen;
		const char *out;
	} ok[] = {
		{ "192.0.2.1", AF_INET, -1, "192.0.2.1" },
		{ "10.0.0.1/24", AF_INET, 24, "10.0.0.1/24" },
		{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0/0" },
		{ "255.255.255.255/32", AF_INET, 32, "255.255.255.255/32" },
		{ "2001:db8::1", AF_INET6, -1, "2001:db8::1" },
		{ "2001:DB8:0:0::1/64", AF_INET6, 64, "2001:db8::1/64" },
		{ "fe80::1/128", AF_INET6, 128, "fe80::1/128" },
		{ "::ffff:10.0.0.1", AF_INET6, -1, "::ffff:10.0.0.1" },
	};
	static const char *bad[] = {
		"",
		"1.2.3",
		"1.2.3.4/33",
		"1.2.3.4/",
		"1.2.3.4/-1",
		"1.2.3.4/+1",
		"1.2.3.4/24x",
		"::1/129",
		"fe80::1%eth0",
		"256.0.0.1",
		" 1.2.3.4",
		"1.2.3.4 ",
		"1.2.3.4/2/3",
		"2001:db8::1::2",
		"hello",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb/64",
	};
	struct addr a;
	char buf[ADDR_STRLEN];
	size_t i;
	int plen;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(addr_parse(ok[i].in, &a, &plen), 0);
		assert_int_equal(a.family, ok[i].family);
		assert_int_equal(plen, ok[i].plen);
		assert_string_equal(addr_fmt(&a, plen, buf, sizeof(buf)),
		    ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(addr_parse(bad[i], &a, &plen), -1);
		assert_int_equal(a.family, 0);
	}
	/* A prefix where none is wanted. */
	assert_int_equal(addr_parse("10.0.0.1", &a, NULL), 0);
	assert_int_equal(addr_parse("10.0.0.1/8", &a, NULL), -1);
	memset(&a, 0, sizeof(a));
	assert_string_equal(addr_fmt(&a, -1, buf, sizeof(buf)), "(none)");
	/* Longest form fits ADDR_STRLEN. */
	assert_int_equal(
	    addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:"
		       "255.255.255.255/128",
		&a, &plen),
	    0);
	addr_fmt(&a, plen, buf, sizeof(buf));
	assert_string_equal(buf,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void
test_cmp(void **state)
{
	struct addr a, b, c, d;

	addr_parse("10.0.0.1", &a, NULL);
	addr_parse("10.0.0.2", &b, NULL);
	addr_parse("::1", &c, NULL);
	addr_parse("10.0.0.1", &d, NULL);
	assert_int_equal(addr_cmp(&a, &b), -1);
	assert_int_equal(addr_cmp(&b, &a), 1);
	assert_int_equal(addr_cmp(&a, &d), 0);
	/* AF_INET sorts before AF_INET6. */
	assert_int_equal(addr_cmp(&b, &c), -1);
	assert_int_equal(addr_cmp(&c, &a), 1);
	/* Byte order, not host integer order. */
	addr_parse("1.0.0.2", &a, NULL);
	addr_parse("2.0.0.1", &b, NULL);
	assert_int_equal(addr_cmp(&a, &b), -1);
	assert_int_equal(addr_len(&a), 4);
	assert_int_equal(addr_len(&c), 16);
	memset(&d, 0, sizeof(d));
	assert_int_equal(addr_len(&d), 0);
}

static void
test_linklocal(void **state)
{
	struct addr a;

	addr_parse("fe80::1", &a, NULL);
	assert_true(addr_is_linklocal(&a));
	addr_parse("fec0::1", &a, NULL);
	assert_false(addr_is_linklocal(&a));
	addr_parse("2001:db8::1", &a, NULL);
	assert_false(addr_is_linklocal(&a));
	addr_parse("169.254.1.1", &a, NULL);
	assert_true(addr_is_linklocal(&a));
	addr_parse("10.0.0.1", &a, NULL);
	assert_false(addr_is_linklocal(&a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fmt),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_linklocal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

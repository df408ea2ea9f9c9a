/*
 * test_common_prom.c: the Prometheus text writer: HELP and TYPE before
 * samples, counters named *_total, label and HELP escaping, names checked,
 * values as integers and floats; the listener's ADDR:PORT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <math.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "prom.h"
#include "prom_http.h"

static void
test_counter_and_gauge(void **state)
{
	struct sbuf b;
	struct prom p;

	sbuf_init(&b);
	prom_init(&p, &b);
	assert_int_equal(
	    prom_family(&p, "x_rx_total", PROM_COUNTER, "Packets received."),
	    0);
	assert_int_equal(
	    prom_u64(&p, 18446744073709551615ULL, "vhid", "1", "interface",
		"eth0", PROM_END),
	    0);
	assert_int_equal(prom_u64(&p, 0, PROM_END), 0);
	assert_int_equal(prom_family(&p, "x_up", PROM_GAUGE, "Up."), 0);
	assert_int_equal(prom_f64(&p, 1.5, "peer", "10.0.0.1", PROM_END), 0);
	assert_int_equal(prom_f64(&p, NAN, PROM_END), 0);
	assert_int_equal(prom_f64(&p, -INFINITY, PROM_END), 0);
	assert_int_equal(prom_f64(&p, 1764514012.125, PROM_END), 0);
	assert_int_equal(p.err, 0);
	assert_string_equal(b.p,
	    "# HELP x_rx_total Packets received.\n"
	    "# TYPE x_rx_total counter\n"
	    "x_rx_total{vhid=\"1\",interface=\"eth0\"} 18446744073709551615\n"
	    "x_rx_total 0\n"
	    "# HELP x_up Up.\n"
	    "# TYPE x_up gauge\n"
	    "x_up{peer=\"10.0.0.1\"} 1.5\n"
	    "x_up NaN\n"
	    "x_up -Inf\n"
	    "x_up 1764514012.125\n");
	sbuf_free(&b);
}

static void
test_escaping(void **state)
{
	struct sbuf b;
	struct prom p;

	sbuf_init(&b);
	prom_init(&p, &b);
	assert_int_equal(
	    prom_family(&p, "x_info", PROM_GAUGE,
		"A \"quoted\" back\\slash\nand a new line."),
	    0);
	assert_int_equal(prom_u64(&p, 1, "name", "a\\b\"c\nd", PROM_END), 0);
	assert_int_equal(prom_u64(&p, 1, "name", "", PROM_END), 0);
	/* HELP keeps the quote; a label value escapes it. */
	assert_string_equal(b.p,
	    "# HELP x_info A \"quoted\" back\\\\slash\\nand a new line.\n"
	    "# TYPE x_info gauge\n"
	    "x_info{name=\"a\\\\b\\\"c\\nd\"} 1\n"
	    "x_info{name=\"\"} 1\n");
	sbuf_reset(&b);
	prom_label_value(&b, "\\\\\"\n\n");
	assert_string_equal(b.p, "\\\\\\\\\\\"\\n\\n");
	sbuf_free(&b);
}

/* Each misuse latches err and writes nothing more. */
static void
expect_refused(const char *fam, enum prom_type t, const char *label)
{
	struct sbuf b;
	struct prom p;
	size_t len;

	sbuf_init(&b);
	prom_init(&p, &b);
	if (prom_family(&p, fam, t, "h") == 0)
		assert_int_equal(prom_u64(&p, 1, label, "v", PROM_END), -1);
	assert_int_equal(p.err, 1);
	len = b.len;
	assert_int_equal(prom_family(&p, "ok_total", PROM_COUNTER, "h"), -1);
	assert_int_equal(prom_u64(&p, 1, PROM_END), -1);
	assert_int_equal(b.len, len);
	sbuf_free(&b);
}

static void
test_refused(void **state)
{
	struct sbuf b;
	struct prom p;

	expect_refused("x_rx", PROM_COUNTER, "a");  /* counter: _total */
	expect_refused("x_total", PROM_GAUGE, "a"); /* gauge: not */
	expect_refused("9x", PROM_GAUGE, "a");
	expect_refused("x-y", PROM_GAUGE, "a");
	expect_refused("", PROM_GAUGE, "a");
	expect_refused("x", PROM_GAUGE, "__name");
	expect_refused("x", PROM_GAUGE, "a:b");
	expect_refused("x", PROM_GAUGE, "1a");
	expect_refused("x", PROM_GAUGE, "a b");
	/* A sample before any family. */
	sbuf_init(&b);
	prom_init(&p, &b);
	assert_int_equal(prom_u64(&p, 1, PROM_END), -1);
	assert_int_equal(p.err, 1);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
	assert_true(prom_valid_name("job:rate_5m"));
	assert_true(prom_valid_name("_x9"));
	assert_true(prom_valid_label("_x9"));
	assert_false(prom_valid_name(NULL));
}

static void
test_http_parse(void **state)
{
	static const char *const bad[] = { "", "10.0.0.1",
		"10.0.0.1:", ":9100", "10.0.0.1:0", "10.0.0.1:65536",
		"10.0.0.1:x", "10.0.0.1:91 00", "localhost:9100", "::1:9100",
		"[::1]9100", "[::1]:", "[10.0.0.1]:9100", "[::1:9100",
		"[]:9100", "fd00::1]:9100", "10.0.0.1:9100:1",
		"10.0.0.256:9100", "[fd00::1%eth0]:9100" };
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char err[256], a[64];
	socklen_t len;

	assert_int_equal(
	    prom_http_parse("10.1.2.3:9100", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(*s4));
	assert_int_equal(ntohs(s4->sin_port), 9100);
	assert_string_equal(inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)),
	    "10.1.2.3");
	assert_int_equal(
	    prom_http_parse("[fd00::7]:65535", &ss, &len, err, sizeof(err)),
	    0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(*s6));
	assert_int_equal(ntohs(s6->sin6_port), 65535);
	assert_string_equal(inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)),
	    "fd00::7");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (prom_http_parse(bad[i], &ss, &len, err, sizeof(err)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(err, bad[i]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_and_gauge),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_http_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_common_kv.c: the key=value grammar of event log lines: bare and
 * quoted values, escapes, truncation of an overlong line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kv.h"

static void
test_quote(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{ "eth0", "eth0" },
		{ "192.168.99.2", "192.168.99.2" },
		{ "", "\"\"" },
		{ "master timed out", "\"master timed out\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "k=v", "\"k=v\"" },
		{ "nl\ncr\rtab\t", "\"nl\\ncr\\rtab\\t\"" },
		{ "\001\037\177", "\"\\x01\\x1f\\x7f\"" },
		{ "caf\xc3\xa9", "\"caf\\xc3\\xa9\"" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(kv_quote(out, sizeof(out), v[i].in), 0);
		assert_string_equal(out, v[i].out);
	}
	assert_int_equal(kv_quote(out, 4, "abcd"), -1);
	assert_int_equal(kv_quote(out, 6, "a b"), 0);
	assert_string_equal(out, "\"a b\"");
	assert_int_equal(kv_quote(out, 5, "a b"), -1);
}

static void
test_line(void **state)
{
	struct kv k;

	kv_init(&k, "transition");
	kv_uint(&k, "vhid", 1);
	kv_str(&k, "iface", "eth0");
	kv_str(&k, "from", "BACKUP");
	kv_str(&k, "to", "MASTER");
	kv_int(&k, "delta", -3);
	kv_str(&k, "reason", "master timed out");
	assert_string_equal(kv_line(&k),
	    "event=transition vhid=1 iface=eth0 "
	    "from=BACKUP to=MASTER delta=-3 reason=\"master timed out\"");
}

static void
test_truncate(void **state)
{
	char big[KV_LINE];
	struct kv k;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	kv_init(&k, "peer");
	kv_str(&k, "peer", "10.0.0.1");
	kv_str(&k, "msg", big);
	assert_int_equal(strlen(kv_line(&k)), KV_LINE - 1);
	assert_string_equal(kv_line(&k) + KV_LINE - 4, "...");
	assert_memory_equal(kv_line(&k), "event=peer peer=10.0.0.1", 24);
	/* Full: later keys are dropped, the line stays as it is. */
	kv_uint(&k, "n", 5);
	assert_int_equal(strlen(kv_line(&k)), KV_LINE - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

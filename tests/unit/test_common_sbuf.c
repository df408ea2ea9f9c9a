/*
 * test_common_sbuf.c: the string buffer, its JSON string escaping and
 * its control-safe text escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sbuf.h"

static void
test_append(void **state)
{
	struct sbuf sb;
	int i;

	sbuf_init(&sb);
	assert_int_equal(sbuf_puts(&sb, ""), 0);
	assert_non_null(sb.p);
	assert_string_equal(sb.p, "");
	assert_int_equal(sbuf_puts(&sb, "abc"), 0);
	assert_int_equal(sbuf_printf(&sb, "-%d-%s", 42, "x"), 0);
	assert_int_equal(sbuf_add(&sb, "yz", 2), 0);
	assert_string_equal(sb.p, "abc-42-xyz");
	assert_int_equal(sb.len, 10);
	/* Growth across many appends keeps content and NUL. */
	for (i = 0; i < 1000; i++)
		sbuf_printf(&sb, "%04d", i);
	assert_int_equal(sb.len, 10 + 4000);
	assert_memory_equal(sb.p + 10 + 4 * 999, "0999", 5);
	sbuf_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.p, "");
	assert_int_equal(sb.err, 0);
	sbuf_free(&sb);
	assert_null(sb.p);
}

static void
test_json(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{ "", "\"\"" },
		{ "eth0", "\"eth0\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "nl\ncr\rtab\t", "\"nl\\ncr\\rtab\\t\"" },
		{ "\001\037\177", "\"\\u0001\\u001f\\u007f\"" },
		{ "\b\f", "\"\\b\\f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "/", "\"/\"" },
		/* Terminal escapes (ESC [ 2 J) and 8-bit CSI as C1 in UTF-8. */
		{ "\033[2J", "\"\\u001b[2J\"" },
		{ "a\xc2\x9b"
		  "b",
		    "\"a\\u009bb\"" },
		/* Ill-formed UTF-8: lone bytes, overlong, surrogate, cut. */
		{ "\x80\xff", "\"\\u0080\\u00ff\"" },
		{ "\xc0\xaf", "\"\\u00c0\\u00af\"" },
		{ "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"" },
		{ "\xe2\x82", "\"\\u00e2\\u0082\"" },
		/* Well-formed 3 and 4 byte sequences pass. */
		{ "\xe2\x82\xac\xf0\x9f\x98\x80",
		    "\"\xe2\x82\xac\xf0\x9f\x98\x80\"" },
		{ "\xc2\xa0", "\"\xc2\xa0\"" },
	};
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sbuf_reset(&sb);
		assert_int_equal(sbuf_json_str(&sb, v[i].in), 0);
		assert_string_equal(sb.p, v[i].out);
	}
	sbuf_free(&sb);
}

static void
test_text(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{ "", "" },
		{ "ftp", "ftp" },
		{ "sip-5060 ~!", "sip-5060 ~!" },
		{ "\033[31mred", "\\x1b[31mred" },
		{ "a\nb\rc\td", "a\\x0ab\\x0dc\\x09d" },
		{ "back\\", "back\\\\" },
		{ "\x7f\x80\xc2\x9b\xff", "\\x7f\\x80\\xc2\\x9b\\xff" },
	};
	char buf[64], small[6];
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sbuf_reset(&sb);
		assert_int_equal(sbuf_text(&sb, v[i].in), 0);
		assert_string_equal(sb.p != NULL ? sb.p : "", v[i].out);
		assert_string_equal(sbuf_text_copy(buf, sizeof(buf), v[i].in),
		    v[i].out);
	}
	sbuf_free(&sb);
	/* Cut before an escape that does not fit, never inside one. */
	assert_string_equal(sbuf_text_copy(small, sizeof(small), "ab\033cd"),
	    "ab");
	assert_string_equal(sbuf_text_copy(small, sizeof(small), "abcdefgh"),
	    "abcde");
	assert_string_equal(sbuf_text_copy(small, sizeof(small), "abc\\\\"),
	    "abc\\\\");
	small[0] = 'x';
	sbuf_text_copy(small, 1, "abc");
	assert_int_equal(small[0], '\0');
}

static void
test_error_latch(void **state)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_puts(&sb, "keep");
	sb.err = 1; /* as after a failed allocation */
	assert_int_equal(sbuf_puts(&sb, "more"), -1);
	assert_int_equal(sbuf_printf(&sb, "%d", 1), -1);
	assert_int_equal(sbuf_json_str(&sb, "x"), -1);
	assert_string_equal(sb.p, "keep");
	sbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_error_latch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_common_conf.c: the configuration line reader: words, quotes,
 * escapes, comments, braces, errors with file:line, number helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

/* Collects lines as "lineno:word|word|..." strings. */
struct coll {
	char out[16][256];
	int n;
	int fail_on; /* line number whose callback fails */
};

static int
coll_cb(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	struct coll *c = arg;
	size_t o;
	int i;

	if (cl->lineno == c->fail_on) {
		snprintf(err, errlen, "unknown keyword \"%s\"", cl->argv[0]);
		return -1;
	}
	assert_true(c->n < 16);
	assert_null(cl->argv[cl->argc]);
	o = (size_t)snprintf(c->out[c->n], 256, "%d:", cl->lineno);
	for (i = 0; i < cl->argc; i++)
		o += (size_t)snprintf(c->out[c->n] + o, 256 - o, "%s%s",
		    i ? "|" : "", cl->argv[i]);
	c->n++;
	return 0;
}

static int
parse(const char *text, struct coll *c, char *err, size_t errlen)
{
	memset(c->out, 0, sizeof(c->out));
	c->n = 0;
	return conf_parse_buf("test.conf", text, strlen(text), coll_cb, c, err,
	    errlen);
}

static void
test_good(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "vhid 1 {\n"
	    "\tinterface eth0   # trailing comment\n"
	    "\taddress 10.0.0.1/24\n"
	    "}\n"
	    "pass \"a secret # not a comment\"\n"
	    "x{y}z\r\n"
	    "last line without newline";
	struct coll c = { .fail_on = -1 };
	char err[CONF_ERRLEN];

	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 7);
	assert_string_equal(c.out[0], "3:vhid|1|{");
	assert_string_equal(c.out[1], "4:interface|eth0");
	assert_string_equal(c.out[2], "5:address|10.0.0.1/24");
	assert_string_equal(c.out[3], "6:}");
	assert_string_equal(c.out[4], "7:pass|a secret # not a comment");
	assert_string_equal(c.out[5], "8:x|{|y|}|z");
	assert_string_equal(c.out[6], "9:last|line|without|newline");
}

static void
test_quotes(void **state)
{
	struct coll c = { .fail_on = -1 };
	char err[CONF_ERRLEN];

	assert_int_equal(
	    parse("a \"b \\\"c\\\" \\\\d\" \"\" e\"f g\"\n", &c, err,
		sizeof(err)),
	    0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.out[0], "1:a|b \"c\" \\d||ef g");

	assert_int_equal(
	    parse("ok\nok\nname \"unterminated\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "test.conf:3:"));
	assert_non_null(strstr(err, "unterminated quote"));

	assert_int_equal(parse("a \"bad \\n escape\"\n", &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "test.conf:1:"));
	assert_non_null(strstr(err, "escape"));
}

static void
test_errors(void **state)
{
	struct coll c = { .fail_on = -1 };
	char err[CONF_ERRLEN], *big;
	size_t i;

	/* The callback's reason gets file:line in front. */
	c.fail_on = 3;
	assert_int_equal(parse("a\nb\nfoo bar\nd\n", &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "test.conf:3: unknown keyword \"foo\"");
	assert_int_equal(c.n, 2);
	c.fail_on = -1;

	/* Non-printable byte on line 2. */
	assert_int_equal(
	    conf_parse_buf("t", "a\nb\001c\n", 6, coll_cb, &c, err,
		sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "t:2: non-printable"));
	assert_int_equal(
	    conf_parse_buf("t", "a\0b\n", 4, coll_cb, &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "t:1: non-printable"));

	/* Too many words. */
	assert_int_equal(
	    parse("a b c d e f g h i j k l m n o p q r s t u v"
		  " w x y z 1 2 3 4 5 6 7\n",
		&c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "test.conf:1: too many words"));

	/* Too long a line, on line 2. */
	big = malloc(CONF_MAXLINE + 16);
	assert_non_null(big);
	memcpy(big, "ok\n", 3);
	for (i = 3; i < CONF_MAXLINE + 10; i++)
		big[i] = 'x';
	big[i] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "test.conf:2: line too long"));
	/* The longest allowed line passes. */
	big[3 + CONF_MAXLINE - 1] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), 0);
	free(big);
}

static void
test_file(void **state)
{
	char path[] = "/tmp/test_conf.XXXXXX", err[CONF_ERRLEN];
	struct coll c = { .fail_on = -1 };
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "one\n\ntwo three\n", 15), 15);
	close(fd);
	assert_int_equal(conf_parse_file(path, coll_cb, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.out[1], "3:two|three");
	unlink(path);
	assert_int_equal(conf_parse_file(path, coll_cb, &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
}

static void
test_numbers(void **state)
{
	unsigned long v;
	unsigned long long w;

	assert_int_equal(conf_uint("1", 1, 255, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(conf_uint("255", 1, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(conf_uint("0", 1, 255, &v), -1);
	assert_int_equal(conf_uint("256", 1, 255, &v), -1);
	assert_int_equal(conf_uint("-1", 0, 255, &v), -1);
	assert_int_equal(conf_uint(" 1", 0, 255, &v), -1);
	assert_int_equal(conf_uint("1x", 0, 255, &v), -1);
	assert_int_equal(conf_uint("", 0, 255, &v), -1);
	assert_int_equal(conf_uint("99999999999999999999999", 0, ~0ul, &v),
	    -1);
	assert_int_equal(conf_u64("0x10", &w), 0);
	assert_int_equal(w, 16);
	assert_int_equal(conf_u64("18446744073709551615", &w), 0);
	assert_true(w == ~0ull);
	assert_int_equal(conf_u64("18446744073709551616", &w), -1);
	assert_int_equal(conf_u64("0x", &w), -1);
	assert_int_equal(conf_u64("-5", &w), -1);
	assert_int_equal(conf_bool("yes"), 1);
	assert_int_equal(conf_bool("ON"), 1);
	assert_int_equal(conf_bool("false"), 0);
	assert_int_equal(conf_bool("0"), 0);
	assert_int_equal(conf_bool("maybe"), -1);
}

/* Lists: commas, blanks or both; empty items, too many, too long. */
static void
test_lists(void **state)
{
	char it[4][CONF_ITEMLEN], err[128], out[64], lng[80];
	static const char *same[] = { "a,b,c", "a, b, c", "a b c",
		" a ,b\t, c ", "a ,b c" };

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(
		    conf_list_split(same[i], it, 4, err, sizeof(err)), 3);
		conf_list_join(it, 3, out, sizeof(out));
		assert_string_equal(out, "a,b,c");
	}
	assert_int_equal(conf_list_split("10.0.0.2", it, 4, err, sizeof(err)),
	    1);
	assert_string_equal(it[0], "10.0.0.2");
	assert_int_equal(conf_list_split("", it, 4, err, sizeof(err)), -1);
	assert_int_equal(conf_list_split("  ", it, 4, err, sizeof(err)), -1);
	assert_int_equal(conf_list_split("a,,b", it, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "an empty item");
	assert_int_equal(conf_list_split(",a", it, 4, err, sizeof(err)), -1);
	assert_int_equal(conf_list_split("a,", it, 4, err, sizeof(err)), -1);
	assert_int_equal(conf_list_split("a, ,b", it, 4, err, sizeof(err)),
	    -1);
	assert_int_equal(conf_list_split("a,b,c,d", it, 4, err, sizeof(err)),
	    4);
	assert_int_equal(conf_list_split("a,b,c,d,e", it, 4, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "more than 4 items");
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(conf_list_split(lng, it, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	/* A join that does not fit is cut, still terminated. */
	assert_int_equal(
	    conf_list_split("aaaa,bbbb,cccc", it, 4, err, sizeof(err)), 3);
	conf_list_join(it, 3, out, 8);
	assert_int_equal(strlen(out), 7);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

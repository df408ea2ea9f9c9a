/*
 * test_syncd_reload.c: the pure parts of syncd's reload: which keywords
 * only a restart changes and the error that names them (file:line), and
 * the policy keywords that changed, each as a line, sorted into send
 * filter and import policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "policy.h"
#include "reload.h"
#include "sbuf.h"

static void
conf_init(struct syncd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->file = "/etc/syncd.conf";
	snprintf(c->fixed[FIX_PORT], FIX_VALLEN, "7475");
	snprintf(c->fixed[FIX_KEY], FIX_VALLEN, "/etc/syncd.key");
	snprintf(c->fixed[FIX_STAGE], FIX_VALLEN, "yes");
	policy_init(&c->policy);
}

static int
set(struct policy *p, const char *line)
{
	char buf[256], *argv[CONF_MAXARGS + 1], *t, *save = NULL;
	char err[CONF_ERRLEN];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (t = strtok_r(buf, " ", &save); t != NULL && argc < CONF_MAXARGS;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	return policy_set(p, argc, argv, err, sizeof(err));
}

static void
test_fixed_names(void **state)
{
	(void)state;
	for (int i = 0; i < FIX_N; i++)
		assert_int_equal(reload_fixed_index(reload_fixed_name(i)), i);
	assert_int_equal(reload_fixed_index("port"), FIX_PORT);
	assert_int_equal(reload_fixed_index("peer"), -1);
	assert_int_equal(reload_fixed_index("import-zones"), -1);
}

static void
test_fixed_diff(void **state)
{
	struct syncd_conf run, c;
	char err[CONF_ERRLEN];

	(void)state;
	conf_init(&run);
	conf_init(&c);
	err[0] = '\0';
	assert_int_equal(reload_fixed_diff(&run, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");

	/* A port set on line 6: named with the line. */
	snprintf(c.fixed[FIX_PORT], FIX_VALLEN, "7476");
	c.fixed_line[FIX_PORT] = 6;
	assert_int_equal(reload_fixed_diff(&run, &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "/etc/syncd.conf:6: port cannot change on reload (7476, "
	    "running with 7475); restart syncd");

	/* An interface dropped from the file: no line to name. */
	conf_init(&c);
	snprintf(run.fixed[FIX_INTERFACE], FIX_VALLEN, "sync0");
	assert_int_equal(reload_fixed_diff(&run, &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "/etc/syncd.conf: interface cannot change on reload (not set, "
	    "running with sync0); restart syncd");

	/* The first that differs is named. */
	snprintf(c.fixed[FIX_INTERFACE], FIX_VALLEN, "sync0");
	snprintf(c.fixed[FIX_KEY], FIX_VALLEN, "/etc/other.key");
	snprintf(c.fixed[FIX_USER], FIX_VALLEN, "nobody");
	c.fixed_line[FIX_KEY] = 3;
	assert_int_equal(reload_fixed_diff(&run, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: key cannot change on reload"));
}

static void
test_policy_diff(void **state)
{
	struct policy a, b;
	struct sbuf out;
	int send, import;

	(void)state;
	policy_init(&a);
	policy_init(&b);
	sbuf_init(&out);
	assert_int_equal(reload_policy_diff(&a, &b, &out, &send, &import), 0);
	assert_int_equal(send, 0);
	assert_int_equal(import, 0);
	assert_int_equal(out.len, 0);

	assert_int_equal(set(&b, "import-zones 0 5"), 1);
	assert_int_equal(reload_policy_diff(&a, &b, &out, &send, &import), 1);
	assert_string_equal(out.p, "import-zones 0 5 (was: 0)\n");
	assert_int_equal(send, 0);
	assert_int_equal(import, 1);

	sbuf_reset(&out);
	policy_init(&b);
	assert_int_equal(set(&b, "send-ignore 10.0.0.0/8"), 1);
	assert_int_equal(set(&b, "import-max-states 10"), 1);
	assert_int_equal(reload_policy_diff(&a, &b, &out, &send, &import), 2);
	assert_non_null(strstr(out.p, "send-ignore 10.0.0.0/8 (was: none)\n"));
	assert_non_null(
	    strstr(out.p, "import-max-states 10 (was: 1048576)\n"));
	assert_int_equal(send, 1);
	assert_int_equal(import, 1);

	/* The protocols are both ways. */
	sbuf_reset(&out);
	policy_init(&b);
	assert_int_equal(set(&b, "sync-protocols tcp"), 1);
	assert_int_equal(reload_policy_diff(&a, &b, &out, &send, &import), 1);
	assert_string_equal(out.p, "sync-protocols tcp (was: all)\n");
	assert_int_equal(send, 1);
	assert_int_equal(import, 1);
	sbuf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_names),
		cmocka_unit_test(test_fixed_diff),
		cmocka_unit_test(test_policy_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_syncd_policy.c: syncd's send filter and import policy: defaults,
 * keywords (good and bad), each limit accepting and refusing, this
 * node's addresses, helper detection from a module directory, and the
 * printed policy read back.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "conf.h"
#include "policy.h"
#include "sbuf.h"

/* client 10.1.0.5:40000 -> server 192.0.2.10:80, forwarded. */
static void
mk(struct ct_state *st)
{
	memset(st, 0, sizeof(*st));
	st->orig.family = st->reply.family = AF_INET;
	st->orig.proto = st->reply.proto = IPPROTO_TCP;
	inet_pton(AF_INET, "10.1.0.5", st->orig.src);
	inet_pton(AF_INET, "192.0.2.10", st->orig.dst);
	inet_pton(AF_INET, "192.0.2.10", st->reply.src);
	inet_pton(AF_INET, "10.1.0.5", st->reply.dst);
	st->orig.sport = st->reply.dport = 40000;
	st->orig.dport = st->reply.sport = 80;
	st->fields = CT_F_TCP | CT_F_TIMEOUT;
	st->timeout = 300;
	st->status = IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED;
}

/* Apply "keyword args..." (blank separated); returns policy_set's. */
static int
set(struct policy *p, const char *line)
{
	char buf[512], *argv[CONF_MAXARGS + 1], *t, *save = NULL;
	char err[CONF_ERRLEN];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (t = strtok_r(buf, " ", &save); t != NULL && argc < CONF_MAXARGS;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	err[0] = '\0';
	return policy_set(p, argc, argv, err, sizeof(err));
}

static struct pol_local local;
static struct pol_helpers helpers;

static enum pol_reason
imp(const struct policy *p, const struct ct_state *st)
{
	char why[128];

	return policy_import(p, &local, &helpers, st, why, sizeof(why));
}

static void
test_defaults(void **ctx)
{
	struct policy p;
	struct ct_state st;

	policy_init(&p);
	mk(&st);
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	assert_int_equal(imp(&p, &st), POL_OK);
	/* Every supported protocol is synced. */
	st.orig.proto = IPPROTO_UDP;
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	st.orig.proto = IPPROTO_ICMP;
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	st.orig.proto = IPPROTO_SCTP;
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	/* Zone 0 only. */
	mk(&st);
	st.fields |= CT_F_ZONE;
	st.zone = 0;
	assert_int_equal(imp(&p, &st), POL_OK);
	st.zone = 1;
	assert_int_equal(imp(&p, &st), POL_ZONE);
	/* Any mark and label bits. */
	mk(&st);
	st.fields |= CT_F_MARK | CT_F_LABELS;
	st.mark = 0xffffffff;
	memset(st.labels, 0xff, sizeof(st.labels));
	assert_int_equal(imp(&p, &st), POL_OK);
	/* Five days at most, no fixed timeout. */
	mk(&st);
	st.timeout = 432000;
	assert_int_equal(imp(&p, &st), POL_OK);
	st.timeout = 432001;
	assert_int_equal(imp(&p, &st), POL_TIMEOUT);
	mk(&st);
	st.status |= IPS_FIXED_TIMEOUT;
	assert_int_equal(imp(&p, &st), POL_FIXED_TIMEOUT);
	assert_int_equal(p.max_states, POL_MAX_STATES_DEFAULT);
	assert_true(p.helpers_auto);
}

static void
test_local(void **ctx)
{
	struct pol_prefix a[3];
	struct policy p;
	struct ct_state st;

	policy_init(&p);
	memset(a, 0, sizeof(a));
	a[0].family = AF_INET;
	inet_pton(AF_INET, "198.51.100.1", a[0].addr);
	a[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", a[1].addr);
	a[2] = a[0]; /* duplicates are dropped */
	assert_int_equal(pol_local_set(&local, a, 3), 0);
	assert_int_equal(local.n, 2);
	assert_true(pol_local_has(&local, AF_INET, a[0].addr));
	assert_true(pol_local_has(&local, AF_INET6, a[1].addr));
	assert_false(pol_local_has(&local, AF_INET6, a[0].addr));
	/* Loopback is always this node's. */
	inet_pton(AF_INET, "127.0.0.53", a[2].addr);
	assert_true(pol_local_has(&local, AF_INET, a[2].addr));
	assert_true(pol_local_has(NULL, AF_INET, a[2].addr));

	/* A connection to this node (reply source local): not sent. */
	mk(&st);
	memcpy(st.orig.dst, a[0].addr, 4);
	memcpy(st.reply.src, a[0].addr, 4);
	assert_int_equal(policy_send(&p, &local, &st), POL_LOCAL);
	assert_int_equal(imp(&p, &st), POL_LOCAL);
	/* One this node opened (original source local). */
	mk(&st);
	memcpy(st.orig.src, a[0].addr, 4);
	memcpy(st.reply.dst, a[0].addr, 4);
	assert_int_equal(policy_send(&p, &local, &st), POL_LOCAL);
	/* DNAT from this node's address to a server behind: forwarded. */
	mk(&st);
	memcpy(st.orig.dst, a[0].addr, 4);
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	/* SNAT to this node's address: forwarded. */
	mk(&st);
	memcpy(st.reply.dst, a[0].addr, 4);
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	assert_int_equal(imp(&p, &st), POL_OK);
	/* Loopback traffic. */
	mk(&st);
	inet_pton(AF_INET, "127.0.0.1", st.orig.src);
	assert_int_equal(policy_send(&p, &local, &st), POL_LOCAL);
	pol_local_free(&local);
	assert_int_equal(local.n, 0);
}

static void
test_protocols_prefixes(void **ctx)
{
	struct policy p;
	struct ct_state st;

	policy_init(&p);
	assert_int_equal(set(&p, "sync-protocols tcp icmp"), 1);
	mk(&st);
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	st.orig.proto = IPPROTO_UDP;
	assert_int_equal(policy_send(&p, &local, &st), POL_PROTOCOL);
	assert_int_equal(imp(&p, &st), POL_PROTOCOL);
	assert_int_equal(set(&p, "sync-protocols all"), 1);
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	assert_int_equal(set(&p, "sync-protocols tcp esp"), -1);

	/* Prefixes match any address of either tuple. */
	mk(&st);
	assert_int_equal(set(&p, "send-ignore 192.0.2.0/24 2001:db8::/32"), 1);
	assert_int_equal(policy_send(&p, &local, &st), POL_PREFIX);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "send-ignore 192.0.3.0/24"), 1);
	assert_int_equal(policy_send(&p, &local, &st), POL_OK);
	/* Host bits are cleared; odd lengths compare bits. */
	assert_int_equal(set(&p, "import-ignore 10.1.0.99/25"), 1);
	assert_int_equal(imp(&p, &st), POL_PREFIX);
	assert_int_equal(set(&p, "import-ignore 10.1.0.128/25"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-ignore 192.0.2.10"), 1);
	assert_int_equal(imp(&p, &st), POL_PREFIX);
	assert_int_equal(set(&p, "import-ignore none"), 1);
	assert_int_equal(p.nimport_ignore, 0);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-ignore 10.1.0.0/33"), -1);
	assert_int_equal(set(&p, "import-ignore nothing"), -1);
	assert_int_equal(set(&p, "send-ignore"), -1);
}

static void
test_zones_marks_labels(void **ctx)
{
	struct policy p;
	struct ct_state st;

	policy_init(&p);
	mk(&st);
	st.fields |= CT_F_ZONE;
	st.zone = 7;
	assert_int_equal(set(&p, "import-zones 0 7"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	st.zone = 8;
	assert_int_equal(imp(&p, &st), POL_ZONE);
	assert_int_equal(set(&p, "import-zones any"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-zones 65536"), -1);
	assert_int_equal(set(&p, "import-zones 1 x"), -1);

	mk(&st);
	st.fields |= CT_F_MARK;
	st.mark = 0x10;
	assert_int_equal(set(&p, "import-mark-mask 0xff"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	st.mark = 0x100;
	assert_int_equal(imp(&p, &st), POL_MARK);
	assert_int_equal(set(&p, "import-mark-mask 0"), 1);
	st.mark = 0;
	assert_int_equal(imp(&p, &st), POL_OK);
	st.mark = 1;
	assert_int_equal(imp(&p, &st), POL_MARK);
	/* Without CT_F_MARK the mark is not imported. */
	st.fields &= ~CT_F_MARK;
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-mark-mask 0x100000000"), -1);

	mk(&st);
	st.fields |= CT_F_LABELS;
	st.labels[0] = 0x01; /* label 0 */
	assert_int_equal(set(&p, "import-label-mask 1"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	st.labels[15] = 0x80; /* label 127 */
	assert_int_equal(imp(&p, &st), POL_LABELS);
	assert_int_equal(
	    set(&p, "import-label-mask 0x80000000000000000000000000000001"),
	    1);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-label-mask none"), 1);
	assert_int_equal(imp(&p, &st), POL_LABELS);
	assert_int_equal(set(&p, "import-label-mask all"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-label-mask 0xg"), -1);
	assert_int_equal(
	    set(&p, "import-label-mask 0x180000000000000000000000000000001"),
	    -1);
}

static void
test_helpers(void **ctx)
{
	char dir[] = "/tmp/test_policy.XXXXXX", path[128], why[128];
	struct policy p;
	struct ct_state st;
	struct ct_expect x;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nf_conntrack_ftp", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/nf_conntrack_h323", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/nf_conntrack", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(pol_helpers_scan(&helpers, dir), 0);
	assert_int_equal(helpers.n, 4); /* ftp, RAS, Q.931, H.245 */

	policy_init(&p);
	mk(&st);
	st.fields |= CT_F_HELPER;
	strcpy(st.helper, "ftp");
	assert_int_equal(imp(&p, &st), POL_OK);
	strcpy(st.helper, "Q.931");
	assert_int_equal(imp(&p, &st), POL_OK);
	strcpy(st.helper, "sip"); /* not loaded here */
	assert_int_equal(imp(&p, &st), POL_HELPER);
	/* A name with terminal escapes is escaped in the log line. */
	strcpy(st.helper, "\033[2Jx");
	assert_int_equal(
	    policy_import(&p, &local, &helpers, &st, why, sizeof(why)),
	    POL_HELPER);
	assert_null(strchr(why, '\033'));
	assert_non_null(strstr(why, "\\x1b[2Jx"));
	/* An explicit list, without auto: only those. */
	assert_int_equal(set(&p, "import-helpers sip"), 1);
	strcpy(st.helper, "sip");
	assert_int_equal(imp(&p, &st), POL_OK);
	strcpy(st.helper, "ftp");
	assert_int_equal(imp(&p, &st), POL_HELPER);
	assert_int_equal(set(&p, "import-helpers auto sip"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-helpers none"), 1);
	assert_int_equal(imp(&p, &st), POL_HELPER);
	assert_int_equal(set(&p, "import-helpers a_very_long_helper_name"),
	    -1);
	assert_int_equal(set(&p, "import-helpers ft\033p"), -1);
	assert_int_equal(set(&p, "import-helpers Q.931 netbios-ns"), 1);
	/* No helper at all is no helper question. */
	st.fields &= ~CT_F_HELPER;
	assert_int_equal(imp(&p, &st), POL_OK);

	/* Expectations: only of allowed helpers, known flags, bounded. */
	policy_init(&p);
	memset(&x, 0, sizeof(x));
	x.tuple.family = AF_INET;
	x.tuple.proto = IPPROTO_TCP;
	x.fields = CT_EXP_F_HELPER;
	x.timeout = 300;
	strcpy(x.helper, "ftp");
	assert_int_equal(
	    policy_import_expect(&p, &helpers, &x, why, sizeof(why)), POL_OK);
	strcpy(x.helper, "sip");
	assert_int_equal(policy_import_expect(&p, &helpers, &x, NULL, 0),
	    POL_EXPECT_HELPER);
	x.fields = 0;
	strcpy(x.helper, "ftp");
	assert_int_equal(policy_import_expect(&p, &helpers, &x, NULL, 0),
	    POL_EXPECT_HELPER);
	x.fields = CT_EXP_F_HELPER;
	x.flags = 0x3; /* PERMANENT | INACTIVE */
	assert_int_equal(policy_import_expect(&p, &helpers, &x, NULL, 0),
	    POL_OK);
	x.flags = 0x4; /* USERSPACE */
	assert_int_equal(policy_import_expect(&p, &helpers, &x, NULL, 0),
	    POL_EXPECT_FLAGS);
	x.flags = 0;
	x.timeout = 432001;
	assert_int_equal(policy_import_expect(&p, &helpers, &x, NULL, 0),
	    POL_TIMEOUT);
	x.timeout = 30;
	x.fields |= CT_EXP_F_ZONE;
	x.zone = 3;
	assert_int_equal(policy_import_expect(&p, &helpers, &x, NULL, 0),
	    POL_ZONE);

	snprintf(path, sizeof(path), "%s/nf_conntrack_ftp", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/nf_conntrack_h323", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/nf_conntrack", dir);
	rmdir(path);
	/* Nothing loaded: auto allows none. */
	assert_int_equal(pol_helpers_scan(&helpers, dir), 0);
	assert_int_equal(helpers.n, 0);
	rmdir(dir);
	mk(&st);
	st.fields |= CT_F_HELPER;
	strcpy(st.helper, "ftp");
	assert_int_equal(imp(&p, &st), POL_HELPER);
}

static void
test_timeouts_limits(void **ctx)
{
	struct policy p;
	struct ct_state st;

	policy_init(&p);
	mk(&st);
	assert_int_equal(set(&p, "import-timeout-max 600"), 1);
	st.timeout = 600;
	assert_int_equal(imp(&p, &st), POL_OK);
	st.timeout = 601;
	assert_int_equal(imp(&p, &st), POL_TIMEOUT);
	assert_int_equal(set(&p, "import-timeout-max 0"), -1);
	assert_int_equal(set(&p, "import-timeout-max 1 2"), -1);

	mk(&st);
	st.status |= IPS_FIXED_TIMEOUT;
	assert_int_equal(imp(&p, &st), POL_FIXED_TIMEOUT);
	assert_int_equal(set(&p, "import-fixed-timeout yes"), 1);
	assert_int_equal(imp(&p, &st), POL_OK);
	assert_int_equal(set(&p, "import-fixed-timeout maybe"), -1);

	assert_int_equal(set(&p, "import-max-states 10"), 1);
	assert_int_equal(p.max_states, 10);
	assert_int_equal(set(&p, "import-max-states -1"), -1);
	/* Not ours: left to the caller. */
	assert_int_equal(set(&p, "peer 10.0.0.1"), 0);
	assert_int_equal(set(&p, "import-nonsense 1"), -1);
}

/* The printed policy, read back, is the same policy. */
static void
test_print(void **ctx)
{
	struct policy p, q;
	struct sbuf b, c;
	char *line, *save = NULL;

	policy_init(&p);
	assert_int_equal(set(&p, "sync-protocols tcp udp"), 1);
	assert_int_equal(set(&p, "send-ignore 192.0.2.0/24 2001:db8::/48"), 1);
	assert_int_equal(set(&p, "import-zones 0 5"), 1);
	assert_int_equal(set(&p, "import-mark-mask 0xff00"), 1);
	assert_int_equal(set(&p, "import-label-mask 0xf0"), 1);
	assert_int_equal(set(&p, "import-helpers ftp sip"), 1);
	assert_int_equal(set(&p, "import-timeout-max 3600"), 1);
	assert_int_equal(set(&p, "import-max-states 5000"), 1);
	sbuf_init(&b);
	policy_print(&p, &b);
	assert_false(b.err);
	policy_init(&q);
	for (line = strtok_r(b.p, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		assert_int_equal(set(&q, line), 1);
	sbuf_init(&c);
	policy_print(&q, &c);
	sbuf_free(&b);
	sbuf_init(&b);
	policy_print(&p, &b);
	assert_string_equal(b.p, c.p);
	assert_non_null(strstr(c.p, "import-zones 0 5\n"));
	assert_non_null(strstr(c.p, "sync-protocols tcp udp\n"));
	sbuf_free(&b);
	sbuf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_protocols_prefixes),
		cmocka_unit_test(test_zones_marks_labels),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_timeouts_limits),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

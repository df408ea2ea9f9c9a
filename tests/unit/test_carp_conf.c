/*
 * test_carp_conf.c: carpd.conf parsing: a full file into vhids, and every
 * error naming file:line: reason; check blocks and preempt-delay; the
 * command line's options over the file; what a reload compares.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "carpd.h"
#include "check.h"

struct carpd *carpd;
static struct carpd_conf *cf; /* the last parse's */

static int
setup(void **state)
{
	(void)state;
	carpd = calloc(1, sizeof(*carpd));
	return carpd == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	carpd_conf_free(cf);
	cf = NULL;
	free(carpd);
	carpd = NULL;
	return 0;
}

static const struct carpd_opts opts = { .vmac = -1 };

static int
parse_opts(const char *text, const struct carpd_opts *o, char *err,
    size_t errlen)
{
	carpd_conf_free(cf);
	cf = carpd_conf_buf("t.conf", text, strlen(text), o, err, errlen);
	return cf == NULL ? -1 : 0;
}

static int
parse(const char *text, char *err, size_t errlen)
{
	return parse_opts(text, &opts, err, errlen);
}

static void
test_good(void **state)
{
	const char *c =
	    "# comment\n"
	    "sync /run/s.sock\n"
	    "sync-timeout 1500\n"
	    "demote-skew yes\n"
	    "metrics [fd00::1]:9101\n"
	    "track eth9\n"
	    "vhid 7 {\n"
	    "\tinterface eth0\n"
	    "\taddr 10.0.0.20/24\n"
	    "\taddr 10.0.0.3\n"
	    "\taddr fd00::1/64\n"
	    "\tpass \"s3 cret\"\n"
	    "\tadvbase 0\n"
	    "\tadvskew 20\n"
	    "\tpreempt yes\n"
	    "\tpeer 10.0.0.9\n"
	    "\tvmac yes\n"
	    "\txparam foo\n"
	    "}\n"
	    "vhid 8 {\n interface eth1\n addr 192.0.2.1/24\n"
	    " deadratio 2\n mcast 239.1.2.3\n nomcast yes\n"
	    " ignoreifstate yes\n}\n";
	char err[256] = "";
	char b[64];
	struct vh *v;

	(void)state;
	assert_int_equal(parse(c, err, sizeof(err)), 0);
	assert_int_equal(cf->nvh, 2);
	v = cf->vh[0];
	assert_int_equal(v->fsm.cfg.vhid, 7);
	assert_string_equal(v->ifname, "eth0");
	assert_int_equal(v->naddrs, 3);
	assert_int_equal(v->addrs[1].plen, 32);
	assert_int_equal(v->n4, 2);
	assert_int_equal(v->n6, 1);
	/* sorted for the HMAC */
	inet_ntop(AF_INET, &v->v4[0], b, sizeof(b));
	assert_string_equal(b, "10.0.0.3");
	assert_memory_equal(v->key, "s3 cret\0\0", 9);
	assert_int_equal(v->fsm.cfg.advbase, 0);
	assert_int_equal(v->fsm.cfg.advskew, 20);
	assert_true(v->fsm.cfg.preempt);
	assert_true(v->vmac);
	assert_int_equal(v->npeers, 1);
	assert_string_equal(v->xparam, "foo");
	assert_string_equal(cf->sync_path, "/run/s.sock");
	assert_int_equal(cf->sync_timeout_ms, 1500);
	assert_true(cf->demote_skew);
	assert_string_equal(cf->metrics, "[fd00::1]:9101");
	assert_string_equal(cf->control, "/run/carpd.sock"); /* default */
	assert_int_equal(cf->ntrack, 1);
	assert_string_equal(cf->track[0], "eth9");
	assert_int_equal(v->line, 7);
	assert_null(v->ifp); /* bound only when it runs */
	assert_int_equal(cf->vh[1]->fsm.cfg.advbase, 1);
	assert_false(cf->vh[1]->vmac);
	assert_int_equal(cf->vh[1]->fsm.cfg.deadratio, 2);
	inet_ntop(AF_INET, &cf->vh[1]->mcast4, b, sizeof(b));
	assert_string_equal(b, "239.1.2.3");
	inet_ntop(AF_INET, &v->mcast4, b, sizeof(b));
	assert_string_equal(b, "224.0.0.18");
	assert_true(cf->vh[1]->nomcast);
	assert_true(cf->vh[1]->ignoreifstate);
	/* Parsing touched nothing that runs. */
	assert_int_equal(carpd->nvh, 0);
	assert_int_equal(carpd->nifs, 0);
}

static void
bad(const char *text, const char *want)
{
	char err[256] = "";

	assert_int_equal(parse(text, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_null(cf);
}

static void
test_bad(void **state)
{
	(void)state;
	bad("vhid 0 {\n", "t.conf:1: bad vhid 0");
	bad("vhid 256 {\n", "t.conf:1:");
	bad("vhid 1\n", "t.conf:1: expected: vhid N {");
	bad("vhid 1 {\n interface eth0\n", "t.conf:1: vhid block not closed");
	bad("vhid 1 {\n addr 10.0.0.1\n}\n",
	    "t.conf:3: vhid 1: interface "
	    "missing");
	bad("vhid 1 {\n interface eth0\n}\n", "t.conf:3: vhid 1: no address");
	bad("vhid 1 {\n interface eth0\n addr 10.0.0.300\n}\n",
	    "t.conf:3: bad address: 10.0.0.300");
	bad("vhid 1 {\n interface eth0\n pass 12345678901234567890\n}\n",
	    "t.conf:3: passphrase longer than 19 bytes");
	bad("vhid 1 {\n interface eth0\n advbase 255\n}\n",
	    "t.conf:3: bad advbase 255");
	bad("vhid 1 {\n interface eth0\n advskew 255\n}\n",
	    "t.conf:3: bad advskew 255");
	bad("vhid 1 {\n interface eth0\n addr 10.0.0.1\n advbase 0\n}\n",
	    "t.conf:5: vhid 1: advbase 0 needs advskew > 0");
	bad("vhid 1 {\n interface eth0\n bogus 1\n}\n",
	    "t.conf:3: unknown keyword in vhid block: bogus");
	bad("frobnicate yes\n", "t.conf:1: unknown keyword: frobnicate");
	bad("vhid 1 {\n interface eth0\n preempt maybe\n}\n",
	    "t.conf:3: preempt: yes or no");
	bad("vhid 1 {\n interface eth0\n addr 10.0.0.1\n addr 10.0.0.1\n}\n",
	    "listed twice");
	bad("vhid 1 {\n interface eth0\n addr 10.0.0.1\n}\n"
	    "vhid 1 {\n interface eth0\n addr 10.0.0.1\n}\n",
	    "t.conf:8: vhid 1 on eth0 twice");
	bad("vhid 1 {\n interface eth0\n addr\n}\n",
	    "t.conf:3: addr takes one argument");
	bad("sync-timeout -1\n", "t.conf:1: bad sync-timeout");
	bad("\nmetrics 10.0.0.1\n",
	    "t.conf:2: bad metrics address "
	    "\"10.0.0.1\"");
	bad("metrics fd00::1:9100\n", "t.conf:1: bad metrics address");
	bad("vhid 1 {\n interface eth0\n mcast 10.0.0.1\n}\n",
	    "t.conf:3: bad IPv4 multicast group");
	bad("vhid 1 {\n interface eth0\n deadratio 0\n}\n",
	    "t.conf:3: bad deadratio 0");
}

static void
test_checks(void **state)
{
	const char *c =
	    "preempt-delay 30\n"
	    "check web {\n"
	    "\texec \"/usr/bin/curl -s 'http://[::1]/a b' "
	    "\\\\\\\"x\\\\\\\"\"\n"
	    "\tinterval 2 timeout 0.5 rise 3 fall 2 weight 50\n"
	    "}\n"
	    "check up { interface eth3 weight 255 }\n"
	    "check gw {\n ping fe80::1 via eth4\n}\n"
	    "check gw4 {\n ping 192.0.2.1\n exec /bin/true -x\n"
	    "}\n"
	    "vhid 1 {\n interface eth0\n addr 10.0.0.1\n"
	    " preempt-delay 5\n}\n"
	    "vhid 2 {\n interface eth0\n addr 10.0.0.2\n}\n";
	char err[256] = "";
	const struct carpd_check *k;

	(void)state;
	/* Two of exec, interface, ping in one block: refused. */
	assert_int_equal(parse(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:12: check gw4: one of exec"));

	c = "preempt-delay 30\n"
	    "check web {\n"
	    "\texec \"/usr/bin/curl -s 'http://[::1]/a b' "
	    "\\\\\\\"x\\\\\\\"\"\n"
	    "\tinterval 2 timeout 0.5 rise 3 fall 2 weight 50\n"
	    "}\n"
	    "check up { interface eth3 weight 255 }\n"
	    "check gw {\n ping fe80::1 via eth4\n}\n"
	    "check run {\n exec /bin/test -f \"/tmp/a b\"\n}\n"
	    "vhid 1 {\n interface eth0\n addr 10.0.0.1\n"
	    " preempt-delay 5\n}\n"
	    "vhid 2 {\n interface eth0\n addr 10.0.0.2\n}\n";
	assert_int_equal(parse(c, err, sizeof(err)), 0);
	assert_int_equal(cf->preempt_delay, 30);
	assert_int_equal(cf->vh[0]->preempt_delay, 5);
	assert_int_equal(cf->vh[1]->preempt_delay, -1);
	assert_int_equal(cf->nchecks, 4);
	k = check_find(cf->checks, cf->nchecks, "web");
	assert_non_null(k);
	assert_int_equal(k->kind, CHECK_EXEC);
	assert_string_equal(k->argv[0], "/usr/bin/curl");
	assert_string_equal(k->argv[1], "-s");
	assert_string_equal(k->argv[2], "http://[::1]/a b");
	assert_string_equal(k->argv[3], "\"x\"");
	assert_null(k->argv[4]);
	assert_int_equal(k->interval_ms, 2000);
	assert_int_equal(k->timeout_ms, 500);
	assert_int_equal(k->rise, 3);
	assert_int_equal(k->fall, 2);
	assert_int_equal(k->weight, 50);
	k = check_find(cf->checks, cf->nchecks, "up");
	assert_int_equal(k->kind, CHECK_IFACE);
	assert_string_equal(k->ifname, "eth3");
	assert_int_equal(k->weight, 255);
	/* defaults: 1 s, timeout the interval, rise 1, fall 1, weight 1 */
	assert_int_equal(k->interval_ms, 1000);
	assert_int_equal(k->timeout_ms, 1000);
	assert_int_equal(k->rise, 1);
	assert_int_equal(k->fall, 1);
	k = check_find(cf->checks, cf->nchecks, "gw");
	assert_int_equal(k->kind, CHECK_PING);
	assert_int_equal(k->dst.family, AF_INET6);
	assert_string_equal(k->ifname, "eth4");
	k = check_find(cf->checks, cf->nchecks, "run");
	assert_string_equal(k->argv[2], "/tmp/a b");
	assert_null(k->argv[3]);
}

static void
test_checks_bad(void **state)
{
	(void)state;
	bad("check a {\n exec /bin/true\n",
	    "t.conf:1: check block not "
	    "closed");
	bad("check a {\n exec /bin/true\n bogus 1\n}\n",
	    "t.conf:3: unknown keyword in check block: bogus");
	bad("check a {\n interval 2\n}\n",
	    "t.conf:3: check a: exec, "
	    "interface or ping missing");
	bad("check a {\n exec /bin/true\n weight 256\n}\n",
	    "t.conf:3: bad weight 256 (0..255)");
	bad("check a {\n exec /bin/true\n weight -1\n}\n",
	    "t.conf:3: bad weight -1");
	bad("check a {\n exec /bin/true\n}\ncheck a {\n",
	    "t.conf:4: check a "
	    "defined twice");
	bad("check a {\n exec true\n}\n",
	    "t.conf:2: exec: give the full "
	    "path of true");
	bad("check a {\n exec \"/bin/sh -c 'x\"\n}\n",
	    "t.conf:2: exec: "
	    "unterminated ' quote");
	bad("check a {\n exec \"\"\n}\n", "t.conf:2: exec: empty command");
	bad("check a {\n ping 10.0.0.300\n}\n",
	    "t.conf:2: ping: bad "
	    "address");
	bad("check a {\n ping fe80::1\n}\n",
	    "t.conf:2: ping: a link-local "
	    "address needs via IFACE");
	bad("check a {\n ping 10.0.0.1 via\n}\n",
	    "t.conf:2: ping: via "
	    "needs an interface");
	bad("check a {\n interface eth0\n interval 0.05\n}\n",
	    "t.conf:3: bad interval 0.05");
	bad("check a {\n interface eth0\n timeout 1.2345\n}\n",
	    "t.conf:3: bad timeout 1.2345");
	bad("check a {\n interface eth0\n rise 0\n}\n",
	    "t.conf:3: bad rise 0 (1..255)");
	bad("check a {\n interface eth0\n fall\n}\n",
	    "t.conf:3: check a: fall needs a value");
	bad("check a\n", "t.conf:1: expected: check NAME {");
	bad("vhid 1 {\n interface eth0\n check a {\n",
	    "t.conf:3: unknown keyword in vhid block: check");
	bad("check a { interface eth0 } x\n", "t.conf:1: words after }");
	bad("preempt-delay 3601\n", "t.conf:1: bad preempt-delay 3601");
	bad("vhid 1 {\n interface eth0\n preempt-delay x\n}\n",
	    "t.conf:3: bad preempt-delay x");
}

static void
test_checks_many(void **state)
{
	char buf[64 * (CARPD_MAXCHECK + 1)];
	size_t off = 0;

	(void)state;
	for (int i = 0; i <= CARPD_MAXCHECK; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "check c%d { exec /bin/true }\n", i);
	bad(buf, "t.conf:33: too many checks (at most 32)");
}

static void
test_no_vhid(void **state)
{
	(void)state;
	bad("track eth1\n", "t.conf: no vhid configured");
	bad("", "t.conf: no vhid configured");
}

/* The command line's options win over the file's, --track adds. */
static void
test_opts_win(void **state)
{
	struct carpd_opts o = { .vmac = 1, .preempt = 1 };
	char err[256] = "";
	const char *c =
	    "control /run/file.sock\n"
	    "sync /run/file-syncd.sock\n"
	    "sync-timeout 100\n"
	    "demote-skew no\n"
	    "track eth5\n"
	    "vhid 1 {\n interface eth0\n addr 10.0.0.1\n"
	    " preempt no\n vmac no\n}\n"
	    "vhid 2 {\n interface eth0\n addr 10.0.0.2\n}\n";

	(void)state;
	o.control = "/run/cmd.sock";
	o.sync_timeout_set = 1;
	o.sync_timeout_ms = 700;
	o.demote_skew = 1;
	assert_int_equal(carpd_opts_track(&o, "eth6"), 0);
	assert_int_equal(carpd_opts_track(&o, "eth5"), 0);
	assert_int_equal(o.ntrack, 2);
	assert_int_equal(parse_opts(c, &o, err, sizeof(err)), 0);
	assert_string_equal(cf->control, "/run/cmd.sock");
	assert_string_equal(cf->sync_path, "/run/file-syncd.sock");
	assert_int_equal(cf->sync_timeout_ms, 700);
	assert_true(cf->demote_skew);
	assert_int_equal(cf->ntrack, 2); /* eth5 once, eth6 */
	assert_string_equal(cf->track[1], "eth6");
	/* -P over "preempt no"; --vmac only where the block says nothing */
	assert_true(cf->vh[0]->fsm.cfg.preempt);
	assert_false(cf->vh[0]->vmac);
	assert_true(cf->vh[1]->vmac);
}

static struct carpd_conf *
conf_of(const char *text)
{
	char err[256] = "";
	struct carpd_conf *c;

	c = carpd_conf_buf("d.conf", text, strlen(text), &opts, err,
	    sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

/* What a reload compares: the keywords that changed, in any order of
 * the addresses, and the words it logs. */
static void
test_diff(void **state)
{
	struct carpd_conf *a, *b;
	char buf[512];
	unsigned int ch;

	(void)state;
	a = conf_of("vhid 1 {\n interface eth0\n addr 10.0.0.1/24\n"
		    " addr 10.0.0.2/24\n pass x\n advskew 0\n}\n");
	b = conf_of("vhid 1 {\n interface eth0\n addr 10.0.0.2/24\n"
		    " addr 10.0.0.1/24\n pass x\n}\n");
	assert_int_equal(vh_diff(a->vh[0], b->vh[0]), 0);
	carpd_conf_free(b);
	b = conf_of(
	    "vhid 1 {\n interface eth0\n addr 10.0.0.2/24\n"
	    " addr 10.0.0.3/24\n pass y\n advskew 10\n"
	    " preempt yes\n upscript /bin/up\n}\n");
	ch = vh_diff(a->vh[0], b->vh[0]);
	assert_int_equal(ch,
	    VH_CH_ADVSKEW | VH_CH_ADDR | VH_CH_PASS | VH_CH_PREEMPT |
		VH_CH_UPSCRIPT);
	assert_false(ch & VH_CH_RESTART);
	vh_diff_names(ch, buf, sizeof(buf));
	assert_string_equal(buf, "advskew,addr,pass,upscript,preempt");
	vh_diff_text(a->vh[0], b->vh[0], ch, buf, sizeof(buf));
	assert_string_equal(buf,
	    "advskew 0 -> 10, addr +10.0.0.3/24 -10.0.0.1/24, pass, "
	    "upscript, preempt no -> yes");
	carpd_conf_free(b);
	/* Another prefix length is another address. */
	b = conf_of(
	    "vhid 1 {\n interface eth0\n addr 10.0.0.1/25\n"
	    " addr 10.0.0.2/24\n pass x\n vmac yes\n"
	    " mcast 239.0.0.1\n}\n");
	ch = vh_diff(a->vh[0], b->vh[0]);
	assert_int_equal(ch, VH_CH_ADDR | VH_CH_VMAC | VH_CH_MCAST);
	assert_int_equal(ch & VH_CH_RESTART, VH_CH_VMAC | VH_CH_MCAST);
	assert_non_null(vh_lookup(b->vh, b->nvh, 1, "eth0"));
	assert_null(vh_lookup(b->vh, b->nvh, 1, "eth1"));
	assert_null(vh_lookup(b->vh, b->nvh, 2, "eth0"));
	carpd_conf_free(a);
	carpd_conf_free(b);
}

/* Checks: the same test with other timing, or another test. */
static void
test_check_same(void **state)
{
	struct carpd_conf *a, *b;
	const char *v = "vhid 1 {\n interface eth0\n addr 10.0.0.1\n}\n";
	char buf[512];

	(void)state;
	snprintf(buf, sizeof(buf),
	    "check a { exec \"/bin/x -y\" }\n"
	    "check b { ping 10.0.0.9 }\ncheck c { interface eth1 }\n%s",
	    v);
	a = conf_of(buf);
	snprintf(buf, sizeof(buf),
	    "check a {\n exec /bin/x -y\n interval 5 weight 9\n}\n"
	    "check b { ping 10.0.0.8 }\ncheck c { interface eth2 }\n%s",
	    v);
	b = conf_of(buf);
	assert_true(check_same_target(a->checks[0], b->checks[0]));
	assert_false(check_same_target(a->checks[1], b->checks[1]));
	assert_false(check_same_target(a->checks[2], b->checks[2]));
	assert_false(check_same_target(a->checks[0], b->checks[1]));
	carpd_conf_free(a);
	carpd_conf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checks_bad, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_checks_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_vhid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opts_win, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_same, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

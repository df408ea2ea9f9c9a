/*
 * confprint.c: carpd --check: the effective configuration (every default
 * filled in) written as carpd.conf(5), so that reading the output back
 * prints it again unchanged. Secrets are not printed: a passphrase is
 * "pass <set>", a passfile its path.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "carpd.h"
#include "check.h"
#include "confout.h"

static void
print_addr(FILE *f, const char *key, const struct addr *a, int plen)
{
	char buf[INET6_ADDRSTRLEN + 8];

	confout_kw(f, 1, key, addr_fmt(a, plen, buf, sizeof(buf)));
}

static void
print_vh(FILE *f, const struct vh *v)
{
	char mc[INET_ADDRSTRLEN];

	fprintf(f, "vhid %u {\n", v->fsm.cfg.vhid);
	confout_kw(f, 1, "interface", v->ifname);
	if (v->srcip.family != 0)
		print_addr(f, "srcip", &v->srcip, -1);
	for (int i = 0; i < v->naddrs; i++)
		print_addr(f, "addr", &v->addrs[i].a, v->addrs[i].plen);
	if (v->passfile != NULL)
		confout_kw(f, 1, "passfile", v->passfile);
	else if (v->pass_set)
		confout_kw(f, 1, "pass", CARPD_PASS_PLACEHOLDER);
	confout_uint(f, 1, "advbase", v->fsm.cfg.advbase);
	confout_uint(f, 1, "advskew", v->fsm.cfg.advskew);
	confout_uint(f, 1, "deadratio",
	    v->fsm.cfg.deadratio ? v->fsm.cfg.deadratio : 3);
	confout_bool(f, 1, "preempt", v->fsm.cfg.preempt);
	confout_bool(f, 1, "vmac", v->vmac == 1);
	confout_bool(f, 1, "nomcast", v->nomcast);
	confout_bool(f, 1, "ignoreifstate", v->ignoreifstate);
	inet_ntop(AF_INET, &v->mcast4, mc, sizeof(mc));
	confout_kw(f, 1, "mcast", mc);
	for (int i = 0; i < v->npeers; i++)
		print_addr(f, "peer", &v->peers[i], -1);
	if (v->upscript != NULL)
		confout_kw(f, 1, "upscript", v->upscript);
	if (v->downscript != NULL)
		confout_kw(f, 1, "downscript", v->downscript);
	if (v->xparam != NULL)
		confout_kw(f, 1, "xparam", v->xparam);
	if (v->preempt_delay >= 0)
		confout_uint(f, 1, "preempt-delay",
		    (unsigned long)v->preempt_delay);
	if (v->neutral)
		fprintf(f, "\t# neutral (-n): no down script at start\n");
	fprintf(f, "}\n");
}

/* Seconds with up to three decimals, as the check blocks read them. */
static void
print_secs(FILE *f, const char *key, unsigned int ms)
{
	if (ms % 1000 == 0)
		fprintf(f, "\t%s %u\n", key, ms / 1000);
	else
		fprintf(f, "\t%s %u.%03u\n", key, ms / 1000, ms % 1000);
}

static void
print_check(FILE *f, const struct carpd_check *c)
{
	char buf[ADDR_STRLEN];

	fputs("check ", f);
	confout_word(f, c->name);
	fputs(" {\n", f);
	if (c->kind == CHECK_EXEC && c->argv != NULL) {
		/* Several words: taken as the arguments, not split again. */
		fputs("\texec", f);
		for (char **a = c->argv; *a != NULL; a++) {
			fputc(' ', f);
			confout_word(f, *a);
		}
		fputc('\n', f);
	} else if (c->kind == CHECK_IFACE)
		confout_kw(f, 1, "interface", c->ifname);
	else if (c->kind == CHECK_PING) {
		fprintf(f, "\tping %s",
		    addr_fmt(&c->dst, -1, buf, sizeof(buf)));
		if (c->ifname[0] != '\0') {
			fputs(" via ", f);
			confout_word(f, c->ifname);
		}
		fputc('\n', f);
	}
	print_secs(f, "interval", c->interval_ms);
	print_secs(f, "timeout", c->timeout_ms);
	confout_uint(f, 1, "rise", c->rise);
	confout_uint(f, 1, "fall", c->fall);
	confout_uint(f, 1, "weight", c->weight);
	fputs("}\n", f);
}

void
carpd_conf_print(FILE *f, const struct carpd_conf *c)
{
	fprintf(f, "# carpd %s --check: the effective configuration\n",
	    VERSION);
	confout_kw(f, 0, "control", c->control);
	if (c->sync_path != NULL)
		confout_kw(f, 0, "sync", c->sync_path);
	confout_uint(f, 0, "sync-timeout", c->sync_timeout_ms);
	confout_bool(f, 0, "demote-skew", c->demote_skew);
	confout_uint(f, 0, "preempt-delay", c->preempt_delay);
	if (c->user != NULL)
		confout_kw(f, 0, "user", c->user);
	if (c->metrics != NULL)
		confout_kw(f, 0, "metrics", c->metrics);
	for (int i = 0; i < c->ntrack; i++)
		confout_kw(f, 0, "track", c->track[i]);
	for (int i = 0; i < c->nchecks; i++)
		print_check(f, c->checks[i]);
	for (int i = 0; i < c->nvh; i++)
		print_vh(f, c->vh[i]);
}

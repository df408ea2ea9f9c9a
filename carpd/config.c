/*
 * config.c: carpd.conf(5): global settings, "vhid N { ... }" blocks and
 * check blocks, read and checked into a struct carpd_conf of their own,
 * with the command line's options on top. Nothing running is touched.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "carpd.h"
#include "check.h"
#include "conf.h"
#include "prom_http.h"
#include "util.h"

#define PASSFILE_MAX 4096 /* bytes; the passphrase is at most 19 */

struct parse {
	struct carpd_conf *conf;
	struct vh *cur;
	const struct carpd_opts *opts;
	int open_line;
	struct carpd_check *chk; /* open check block */
	int chk_line;
};

/* "check NAME {" and the lines of its block. */
static int
conf_check(struct parse *p, const struct conf_line *cl, char *err,
    size_t errlen)
{
	char **argv = (char **)cl->argv;
	int argc = cl->argc, r;

	if (p->chk == NULL) {
		if (argc < 3 || strcmp(argv[2], "{") != 0) {
			snprintf(err, errlen, "expected: check NAME {");
			return -1;
		}
		if ((p->chk = check_new(p->conf, argv[1], err, errlen)) ==
		    NULL)
			return -1;
		p->chk_line = cl->lineno;
		argc -= 3;
		argv += 3;
	}
	if ((r = check_conf_words(p->chk, argc, argv, err, errlen)) == 1) {
		if (check_finish(p->conf, p->chk, err, errlen) == -1)
			return -1;
		p->chk = NULL;
	}
	return r == -1 ? -1 : 0;
}

/* Remember name in seen[] (n of them) unless it is there. */
static void
name_add(const char **seen, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(seen[i], name) == 0)
			return;
	seen[(*n)++] = name;
}

/*
 * Is there room for name among the interfaces c names (its vhids', its
 * tracks and its checked ones)? At most CARPD_MAXIF in all.
 */
int
carpd_conf_ifroom(const struct carpd_conf *c, const char *name)
{
	const char *seen[CARPD_MAXVH + CARPD_MAXIF + CARPD_MAXCHECK + 1];
	int n = 0;

	for (int i = 0; i < c->nvh; i++)
		name_add(seen, &n, c->vh[i]->ifname);
	for (int i = 0; i < c->ntrack; i++)
		name_add(seen, &n, c->track[i]);
	for (int i = 0; i < c->nchecks; i++)
		if (c->checks[i]->kind == CHECK_IFACE)
			name_add(seen, &n, c->checks[i]->ifname);
	name_add(seen, &n, name);
	return n <= CARPD_MAXIF;
}

static int
conf_add_track(struct carpd_conf *c, const char *name)
{
	for (int i = 0; i < c->ntrack; i++)
		if (strcmp(c->track[i], name) == 0)
			return 0;
	if (strlen(name) >= IF_NAMESIZE || name[0] == '\0' ||
	    c->ntrack >= CARPD_MAXIF || !carpd_conf_ifroom(c, name))
		return -1;
	snprintf(c->track[c->ntrack++], IF_NAMESIZE, "%s", name);
	return 0;
}

/* --track: kept in the options, added to every configuration read. */
int
carpd_opts_track(struct carpd_opts *o, const char *name)
{
	for (int i = 0; i < o->ntrack; i++)
		if (strcmp(o->track[i], name) == 0)
			return 0;
	if (strlen(name) >= IF_NAMESIZE || name[0] == '\0' ||
	    o->ntrack >= CARPD_MAXIF)
		return -1;
	snprintf(o->track[o->ntrack++], IF_NAMESIZE, "%s", name);
	return 0;
}

struct carpd_conf *
carpd_conf_new(void)
{
	struct carpd_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sync_timeout_ms = CARPD_SYNC_TIMEOUT;
	return c;
}

void
carpd_conf_free(struct carpd_conf *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->nvh; i++)
		vh_free(c->vh[i]);
	for (int i = 0; i < c->nchecks; i++)
		check_free(c->checks[i]);
	free(c->control);
	free(c->metrics);
	free(c->sync_path);
	free(c->user);
	free(c);
}

struct vh *
vh_new(void)
{
	struct vh *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->fsm.cfg.advbase = 1;
	v->vmac = -1;
	v->preempt_delay = -1;
	inet_pton(AF_INET, CARP_GROUP4, &v->mcast4);
	return v;
}

void
vh_free(struct vh *v)
{
	if (v == NULL)
		return;
	explicit_bzero(v->key, sizeof(v->key));
	free(v->passfile);
	free(v->upscript);
	free(v->downscript);
	free(v->xparam);
	free(v);
}

/* Check one vhid, build its HMAC input and cookie, add it to c. */
int
vh_finish(struct carpd_conf *c, struct vh *v, char *err, size_t errlen)
{
	if (v->fsm.cfg.vhid == 0) {
		snprintf(err, errlen, "vhid missing (1..255)");
		return -1;
	}
	if (v->ifname[0] == '\0') {
		snprintf(err, errlen, "vhid %u: interface missing",
		    v->fsm.cfg.vhid);
		return -1;
	}
	if (v->naddrs == 0) {
		snprintf(err, errlen, "vhid %u: no address", v->fsm.cfg.vhid);
		return -1;
	}
	if (v->fsm.cfg.advbase == 0 && v->fsm.cfg.advskew == 0) {
		snprintf(err, errlen, "vhid %u: advbase 0 needs advskew > 0",
		    v->fsm.cfg.vhid);
		return -1;
	}
	for (int i = 0; i < c->nvh; i++)
		if (c->vh[i]->fsm.cfg.vhid == v->fsm.cfg.vhid &&
		    strcmp(c->vh[i]->ifname, v->ifname) == 0) {
			snprintf(err, errlen, "vhid %u on %s twice",
			    v->fsm.cfg.vhid, v->ifname);
			return -1;
		}
	if (c->nvh >= CARPD_MAXVH) {
		snprintf(err, errlen, "too many vhids (at most %d)",
		    CARPD_MAXVH);
		return -1;
	}
	if (!carpd_conf_ifroom(c, v->ifname)) {
		snprintf(err, errlen, "too many interfaces (at most %d)",
		    CARPD_MAXIF);
		return -1;
	}
	v->n4 = v->n6 = 0;
	for (int i = 0; i < v->naddrs; i++) {
		for (int j = 0; j < i; j++)
			if (addr_cmp(&v->addrs[i].a, &v->addrs[j].a) == 0) {
				snprintf(err, errlen,
				    "vhid %u: address "
				    "listed twice",
				    v->fsm.cfg.vhid);
				return -1;
			}
		if (v->addrs[i].a.family == AF_INET)
			v->v4[v->n4++] = v->addrs[i].a.v4;
		else
			v->v6[v->n6++] = v->addrs[i].a.v6;
	}
	carp_addrs_sort(v->v4, v->n4, v->v6, v->n6);
	if (v->vmac == -1)
		v->vmac = 0;
	if (getrandom(v->cookie, sizeof(v->cookie), 0) !=
	    (ssize_t)sizeof(v->cookie)) {
		snprintf(err, errlen, "getrandom failed");
		return -1;
	}
	c->vh[c->nvh++] = v;
	return 0;
}

static int
set_str(char **dst, const char *s)
{
	free(*dst);
	return (*dst = strdup(s)) == NULL ? -1 : 0;
}

static int
read_passfile(const char *path, uint8_t key[CARP_KEYLEN], char *err,
    size_t errlen)
{
	char *buf = NULL;
	size_t len;

	if (util_read_file(path, PASSFILE_MAX, &buf, &len) == -1) {
		snprintf(err, errlen, "%s: %m", path);
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (carp_key_from_pass(buf, key) == -1) {
		explicit_bzero(buf, len);
		free(buf);
		snprintf(err, errlen, "%s: passphrase longer than %d bytes",
		    path, CARP_PASS_MAX);
		return -1;
	}
	explicit_bzero(buf, len);
	free(buf);
	return 0;
}

/*
 * The keywords of a vhid block, each with one argument. The command line
 * sets the same ones (main.c), so both read the values the same way.
 */
static int
kw_interface(struct vh *v, const char *k, const char *arg, char *err,
    size_t errlen)
{
	if (strlen(arg) >= IF_NAMESIZE) {
		snprintf(err, errlen, "interface name too long: %s", arg);
		return -1;
	}
	snprintf(v->ifname, sizeof(v->ifname), "%s", arg);
	return 0;
}

static int
kw_addr(struct vh *v, const char *k, const char *arg, char *err, size_t errlen)
{
	struct vaddr *va;
	int plen;

	if (v->naddrs >= CARPD_MAXADDR) {
		snprintf(err, errlen, "too many addresses (at most %d)",
		    CARPD_MAXADDR);
		return -1;
	}
	va = &v->addrs[v->naddrs];
	if (addr_parse(arg, &va->a, &plen) == -1) {
		snprintf(err, errlen, "bad address: %s", arg);
		return -1;
	}
	if (plen < 0)
		plen = va->a.family == AF_INET ? 32 : 128;
	va->plen = plen;
	v->naddrs++;
	return 0;
}

static int
kw_pass(struct vh *v, const char *k, const char *arg, char *err, size_t errlen)
{
	/* --check prints the placeholder; only --check reads it back. */
	if (strcmp(arg, CARPD_PASS_PLACEHOLDER) == 0 &&
	    (carpd == NULL || !carpd->checking)) {
		snprintf(err, errlen,
		    "pass %s is --check's placeholder, not "
		    "a passphrase",
		    arg);
		return -1;
	}
	if (carp_key_from_pass(arg, v->key) == -1) {
		snprintf(err, errlen, "passphrase longer than %d bytes",
		    CARP_PASS_MAX);
		return -1;
	}
	v->pass_set = 1;
	free(v->passfile);
	v->passfile = NULL;
	return 0;
}

static int
kw_passfile(struct vh *v, const char *k, const char *arg, char *err,
    size_t errlen)
{
	if (read_passfile(arg, v->key, err, errlen) == -1)
		return -1;
	v->pass_set = 0;
	if (set_str(&v->passfile, arg) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* advbase, advskew (0..254) and deadratio (1..255). */
static int
kw_u8(struct vh *v, const char *k, const char *arg, char *err, size_t errlen)
{
	unsigned long min = 0, max = 254, n;
	uint8_t *dst;

	if (strcmp(k, "advbase") == 0)
		dst = &v->fsm.cfg.advbase;
	else if (strcmp(k, "advskew") == 0)
		dst = &v->fsm.cfg.advskew;
	else {
		dst = &v->fsm.cfg.deadratio;
		min = 1;
		max = 255; /* 0 would mean the default, 3 */
	}
	if (conf_uint(arg, min, max, &n) == -1) {
		snprintf(err, errlen, "bad %s %s (%lu..%lu)", k, arg, min,
		    max);
		return -1;
	}
	*dst = (uint8_t)n;
	return 0;
}

static int
kw_srcip(struct vh *v, const char *k, const char *arg, char *err,
    size_t errlen)
{
	if (addr_parse(arg, &v->srcip, NULL) == -1) {
		snprintf(err, errlen, "bad address: %s", arg);
		return -1;
	}
	return 0;
}

static int
kw_peer(struct vh *v, const char *k, const char *arg, char *err, size_t errlen)
{
	if (v->npeers >= CARPD_MAXPEER) {
		snprintf(err, errlen, "too many peers (at most %d)",
		    CARPD_MAXPEER);
		return -1;
	}
	if (addr_parse(arg, &v->peers[v->npeers], NULL) == -1) {
		snprintf(err, errlen, "bad peer address: %s", arg);
		return -1;
	}
	v->npeers++;
	return 0;
}

/* upscript, downscript, xparam. */
static int
kw_string(struct vh *v, const char *k, const char *arg, char *err,
    size_t errlen)
{
	char **dst;

	if (strcmp(k, "upscript") == 0)
		dst = &v->upscript;
	else if (strcmp(k, "downscript") == 0)
		dst = &v->downscript;
	else
		dst = &v->xparam;
	if (set_str(dst, arg) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
kw_mcast(struct vh *v, const char *k, const char *arg, char *err,
    size_t errlen)
{
	if (inet_pton(AF_INET, arg, &v->mcast4) != 1 ||
	    !IN_MULTICAST(ntohl(v->mcast4.s_addr))) {
		snprintf(err, errlen, "bad IPv4 multicast group: %s", arg);
		return -1;
	}
	return 0;
}

/* preempt, vmac, nomcast, ignoreifstate: yes or no. */
static int
kw_bool(struct vh *v, const char *k, const char *arg, char *err, size_t errlen)
{
	int b;

	if ((b = conf_bool(arg)) == -1) {
		snprintf(err, errlen, "%s: yes or no, not %s", k, arg);
		return -1;
	}
	if (strcmp(k, "preempt") == 0)
		v->fsm.cfg.preempt = b;
	else if (strcmp(k, "vmac") == 0)
		v->vmac = b;
	else if (strcmp(k, "nomcast") == 0)
		v->nomcast = b;
	else
		v->ignoreifstate = b;
	return 0;
}

static int
kw_delay(struct vh *v, const char *k, const char *arg, char *err,
    size_t errlen)
{
	unsigned long n;

	if (conf_uint(arg, 0, CARPD_PREEMPT_DELAY_MAX, &n) == -1) {
		snprintf(err, errlen, "bad %s %s (0..%d s)", k, arg,
		    CARPD_PREEMPT_DELAY_MAX);
		return -1;
	}
	v->preempt_delay = (int)n;
	return 0;
}

static const struct {
	const char *name;
	int (*set)(struct vh *, const char *, const char *, char *, size_t);
} vh_keywords[] = {
	{ "interface", kw_interface },
	{ "addr", kw_addr },
	{ "pass", kw_pass },
	{ "passfile", kw_passfile },
	{ "advbase", kw_u8 },
	{ "advskew", kw_u8 },
	{ "deadratio", kw_u8 },
	{ "srcip", kw_srcip },
	{ "peer", kw_peer },
	{ "upscript", kw_string },
	{ "downscript", kw_string },
	{ "xparam", kw_string },
	{ "mcast", kw_mcast },
	{ "preempt", kw_bool },
	{ "vmac", kw_bool },
	{ "nomcast", kw_bool },
	{ "ignoreifstate", kw_bool },
	{ "preempt-delay", kw_delay },
};

int
vh_keyword(struct vh *v, int argc, char **argv, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(vh_keywords) / sizeof(vh_keywords[0]);
	     i++) {
		if (strcmp(argv[0], vh_keywords[i].name) != 0)
			continue;
		if (argc != 2) {
			snprintf(err, errlen, "%s takes one argument",
			    argv[0]);
			return -1;
		}
		if (vh_keywords[i].set(v, argv[0], argv[1], err, errlen) == -1)
			return -1;
		return 1;
	}
	return 0;
}

/* "}" of a vhid block: the command line's defaults, then the checks. */
static int
vh_close(struct parse *p, char *err, size_t errlen)
{
	struct vh *v = p->cur;

	if (p->opts->preempt)
		v->fsm.cfg.preempt = 1;
	if (v->vmac == -1)
		v->vmac = p->opts->vmac;
	if (p->opts->neutral)
		v->neutral = 1;
	if (p->opts->ignoreifstate)
		v->ignoreifstate = 1;
	v->line = p->open_line;
	if (vh_finish(p->conf, v, err, errlen) == -1)
		return -1;
	p->cur = NULL;
	return 0;
}

/* A line inside a vhid block. */
static int
conf_vh_line(struct parse *p, const struct conf_line *cl, char *err,
    size_t errlen)
{
	int r;

	if (cl->argc == 1 && strcmp(cl->argv[0], "}") == 0)
		return vh_close(p, err, errlen);
	r = vh_keyword(p->cur, cl->argc, (char **)cl->argv, err, errlen);
	if (r == 0)
		snprintf(err, errlen, "unknown keyword in vhid block: %s",
		    cl->argv[0]);
	return r == 1 ? 0 : -1;
}

/* "vhid N {" */
static int
conf_vh_open(struct parse *p, const struct conf_line *cl, char *err,
    size_t errlen)
{
	unsigned long n;

	if (cl->argc != 3 || strcmp(cl->argv[2], "{") != 0) {
		snprintf(err, errlen, "expected: vhid N {");
		return -1;
	}
	if (conf_uint(cl->argv[1], 1, CARP_VHID_MAX, &n) == -1) {
		snprintf(err, errlen, "bad vhid %s (1..255)", cl->argv[1]);
		return -1;
	}
	if ((p->cur = vh_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->cur->fsm.cfg.vhid = (uint8_t)n;
	p->open_line = cl->lineno;
	return 0;
}

/* control, metrics, sync, user: a string; the command line's wins
 * later (conf_apply_opts). */
static int
conf_global_str(struct carpd_conf *c, const char *k, const char *arg,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char **dst;

	if (strcmp(k, "control") == 0)
		dst = &c->control;
	else if (strcmp(k, "sync") == 0)
		dst = &c->sync_path;
	else if (strcmp(k, "user") == 0)
		dst = &c->user;
	else if (strcmp(k, "metrics") == 0) {
		if (prom_http_parse(arg, &ss, &sslen, err, errlen) == -1)
			return -1;
		dst = &c->metrics;
	} else
		return 0;
	if (set_str(dst, arg) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/* A global keyword and its one argument. */
static int
conf_global(struct carpd_conf *c, const char *k, const char *arg, char *err,
    size_t errlen)
{
	unsigned long n;
	int b, r;

	if ((r = conf_global_str(c, k, arg, err, errlen)) != 0)
		return r == 1 ? 0 : -1;
	if (strcmp(k, "track") == 0) {
		if (conf_add_track(c, arg) == -1) {
			snprintf(err, errlen, "bad track interface %s", arg);
			return -1;
		}
	} else if (strcmp(k, "sync-timeout") == 0) {
		if (conf_uint(arg, 0, CARPD_SYNC_TIMEOUT_MAX, &n) == -1) {
			snprintf(err, errlen, "bad sync-timeout %s (ms)", arg);
			return -1;
		}
		c->sync_timeout_ms = (unsigned int)n;
	} else if (strcmp(k, "preempt-delay") == 0) {
		if (conf_uint(arg, 0, CARPD_PREEMPT_DELAY_MAX, &n) == -1) {
			snprintf(err, errlen, "bad preempt-delay %s (0..%d s)",
			    arg, CARPD_PREEMPT_DELAY_MAX);
			return -1;
		}
		c->preempt_delay = (unsigned int)n;
	} else if (strcmp(k, "demote-skew") == 0) {
		if ((b = conf_bool(arg)) == -1) {
			snprintf(err, errlen, "demote-skew: yes or no");
			return -1;
		}
		c->demote_skew = b;
	} else {
		snprintf(err, errlen, "unknown keyword: %s", k);
		return -1;
	}
	return 0;
}

static int
conf_line(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	struct parse *p = arg;

	if (p->chk != NULL ||
	    (p->cur == NULL && strcmp(cl->argv[0], "check") == 0))
		return conf_check(p, cl, err, errlen);
	if (p->cur != NULL)
		return conf_vh_line(p, cl, err, errlen);
	if (strcmp(cl->argv[0], "vhid") == 0)
		return conf_vh_open(p, cl, err, errlen);
	if (cl->argc != 2) {
		snprintf(err, errlen, "%s: expected one argument",
		    cl->argv[0]);
		return -1;
	}
	return conf_global(p->conf, cl->argv[0], cl->argv[1], err, errlen);
}

static int
opt_str(char **dst, const char *opt)
{
	if (opt == NULL)
		return 0;
	return set_str(dst, opt);
}

/*
 * The command line's global options on top of the file: each one given
 * wins, --track adds to the file's tracks. The same at every reload.
 */
static int
conf_apply_opts(struct carpd_conf *c, const struct carpd_opts *o,
    const char *name, char *err, size_t errlen)
{
	if (opt_str(&c->control, o->control) == -1 ||
	    opt_str(&c->metrics, o->metrics) == -1 ||
	    opt_str(&c->sync_path, o->sync_path) == -1 ||
	    opt_str(&c->user, o->user) == -1 ||
	    (c->control == NULL &&
		set_str(&c->control, CARPD_CONTROL) == -1)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->sync_timeout_set)
		c->sync_timeout_ms = o->sync_timeout_ms;
	if (o->demote_skew)
		c->demote_skew = 1;
	for (int i = 0; i < o->ntrack; i++)
		if (conf_add_track(c, o->track[i]) == -1) {
			snprintf(err, errlen,
			    "%s: --track %s: too many "
			    "interfaces (at most %d)",
			    name, o->track[i], CARPD_MAXIF);
			return -1;
		}
	return 0;
}

static int
conf_end(struct parse *p, const char *name, char *err, size_t errlen)
{
	if (p->cur != NULL) {
		snprintf(err, errlen, "%s:%d: vhid block not closed", name,
		    p->open_line);
		return -1;
	}
	if (p->chk != NULL) {
		snprintf(err, errlen, "%s:%d: check block not closed", name,
		    p->chk_line);
		return -1;
	}
	if (p->conf->nvh == 0) {
		snprintf(err, errlen, "%s: no vhid configured", name);
		return -1;
	}
	return conf_apply_opts(p->conf, p->opts, name, err, errlen);
}

/* After the reader: what is left of a half-read block goes, and the
 * configuration unless it is whole. */
static struct carpd_conf *
conf_done(struct parse *p, int rc, const char *name, char *err, size_t errlen)
{
	if (rc == 0 && conf_end(p, name, err, errlen) == -1)
		rc = -1;
	vh_free(p->cur);
	check_free(p->chk);
	if (rc == -1) {
		carpd_conf_free(p->conf);
		return NULL;
	}
	return p->conf;
}

struct carpd_conf *
carpd_conf_load(const char *path, const struct carpd_opts *o, char *err,
    size_t errlen)
{
	struct parse p = { NULL, NULL, o, 0, NULL, 0 };
	int rc;

	if ((p.conf = carpd_conf_new()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	rc = conf_parse_file(path, conf_line, &p, err, errlen);
	return conf_done(&p, rc, path, err, errlen);
}

struct carpd_conf *
carpd_conf_buf(const char *name, const char *buf, size_t len,
    const struct carpd_opts *o, char *err, size_t errlen)
{
	struct parse p = { NULL, NULL, o, 0, NULL, 0 };
	int rc;

	if ((p.conf = carpd_conf_new()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	rc = conf_parse_buf(name, buf, len, conf_line, &p, err, errlen);
	return conf_done(&p, rc, name, err, errlen);
}

/* The command line's vhid (no -c): v is taken, also on error. */
struct carpd_conf *
carpd_conf_cmdline(struct vh *v, const struct carpd_opts *o, char *err,
    size_t errlen)
{
	struct parse p = { NULL, v, o, 0, NULL, 0 };

	if ((p.conf = carpd_conf_new()) == NULL) {
		vh_free(v);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (vh_close(&p, err, errlen) == -1) {
		vh_free(v);
		carpd_conf_free(p.conf);
		return NULL;
	}
	if (conf_apply_opts(p.conf, o, "command line", err, errlen) == -1) {
		carpd_conf_free(p.conf);
		return NULL;
	}
	return p.conf;
}

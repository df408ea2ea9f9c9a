/*
 * config.c: carpd.conf(5): global settings and "vhid N { ... }" blocks,
 * checked into struct vh; and the interface table.
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
		if ((p->chk = check_new(argv[1], err, errlen)) == NULL)
			return -1;
		p->chk_line = cl->lineno;
		argc -= 3;
		argv += 3;
	}
	if ((r = check_conf_words(p->chk, argc, argv, err, errlen)) == 1) {
		if (check_finish(p->chk, err, errlen) == -1)
			return -1;
		p->chk = NULL;
	}
	return r == -1 ? -1 : 0;
}

struct iface *
carpd_iface(const char *name)
{
	struct iface *ifp;

	for (int i = 0; i < carpd->nifs; i++)
		if (strcmp(carpd->ifs[i].name, name) == 0)
			return &carpd->ifs[i];
	if (carpd->nifs >= CARPD_MAXIF || strlen(name) >= IF_NAMESIZE)
		return NULL;
	ifp = &carpd->ifs[carpd->nifs++];
	memset(ifp, 0, sizeof(*ifp));
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	ifp->pcap_fd = ifp->raw4 = ifp->raw6 = -1;
	return ifp;
}

int
carpd_add_track(const char *ifname)
{
	struct iface *ifp;

	if ((ifp = carpd_iface(ifname)) == NULL)
		return -1;
	ifp->track = 1;
	return 0;
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

/* Check one vhid, build its HMAC input and cookie, register it. */
int
vh_finish(struct vh *v, char *err, size_t errlen)
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
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->fsm.cfg.vhid == v->fsm.cfg.vhid &&
		    strcmp(carpd->vh[i]->ifname, v->ifname) == 0) {
			snprintf(err, errlen, "vhid %u on %s twice",
			    v->fsm.cfg.vhid, v->ifname);
			return -1;
		}
	if (carpd->nvh >= CARPD_MAXVH) {
		snprintf(err, errlen, "too many vhids (at most %d)",
		    CARPD_MAXVH);
		return -1;
	}
	if ((v->ifp = carpd_iface(v->ifname)) == NULL) {
		snprintf(err, errlen, "too many interfaces");
		return -1;
	}
	v->ifp->used = 1;
	if (v->ignoreifstate)
		v->ifp->ignore = 1;
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
	carpd->vh[carpd->nvh++] = v;
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
	if (strcmp(arg, CARPD_PASS_PLACEHOLDER) == 0 && !carpd->checking) {
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

static int
conf_line(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	struct parse *p = arg;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned long n;
	int r, b;

	if (p->chk != NULL ||
	    (p->cur == NULL && strcmp(cl->argv[0], "check") == 0))
		return conf_check(p, cl, err, errlen);
	if (p->cur != NULL) {
		if (cl->argc == 1 && strcmp(cl->argv[0], "}") == 0) {
			if (p->opts->preempt && !p->cur->fsm.cfg.preempt)
				p->cur->fsm.cfg.preempt = 1;
			if (p->cur->vmac == -1)
				p->cur->vmac = p->opts->vmac;
			if (p->opts->neutral)
				p->cur->neutral = 1;
			if (p->opts->ignoreifstate)
				p->cur->ignoreifstate = 1;
			if (vh_finish(p->cur, err, errlen) == -1)
				return -1;
			p->cur = NULL;
			return 0;
		}
		r = vh_keyword(p->cur, cl->argc, (char **)cl->argv, err,
		    errlen);
		if (r == -1)
			return -1;
		if (r == 0) {
			snprintf(err, errlen,
			    "unknown keyword in vhid "
			    "block: %s",
			    cl->argv[0]);
			return -1;
		}
		return 0;
	}
	if (strcmp(cl->argv[0], "vhid") == 0) {
		if (cl->argc != 3 || strcmp(cl->argv[2], "{") != 0) {
			snprintf(err, errlen, "expected: vhid N {");
			return -1;
		}
		if (conf_uint(cl->argv[1], 1, CARP_VHID_MAX, &n) == -1) {
			snprintf(err, errlen, "bad vhid %s (1..255)",
			    cl->argv[1]);
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
	if (cl->argc != 2) {
		snprintf(err, errlen, "%s: expected one argument",
		    cl->argv[0]);
		return -1;
	}
	if (strcmp(cl->argv[0], "track") == 0) {
		if (strlen(cl->argv[1]) >= IF_NAMESIZE ||
		    carpd_add_track(cl->argv[1]) == -1) {
			snprintf(err, errlen, "bad track interface %s",
			    cl->argv[1]);
			return -1;
		}
	} else if (strcmp(cl->argv[0], "control") == 0) {
		/* The command line wins. */
		if (carpd->control == NULL &&
		    (carpd->control = strdup(cl->argv[1])) == NULL)
			return -1;
	} else if (strcmp(cl->argv[0], "metrics") == 0) {
		if (prom_http_parse(cl->argv[1], &ss, &sslen, err, errlen) ==
		    -1)
			return -1;
		/* The command line wins. */
		if (carpd->metrics == NULL &&
		    (carpd->metrics = strdup(cl->argv[1])) == NULL)
			return -1;
	} else if (strcmp(cl->argv[0], "sync") == 0) {
		if (carpd->sync_path == NULL &&
		    (carpd->sync_path = strdup(cl->argv[1])) == NULL)
			return -1;
	} else if (strcmp(cl->argv[0], "sync-timeout") == 0) {
		if (conf_uint(cl->argv[1], 0, CARPD_SYNC_TIMEOUT_MAX, &n) ==
		    -1) {
			snprintf(err, errlen, "bad sync-timeout %s (ms)",
			    cl->argv[1]);
			return -1;
		}
		carpd->sync_timeout_ms = (unsigned int)n;
	} else if (strcmp(cl->argv[0], "user") == 0) {
		if (carpd->user == NULL &&
		    (carpd->user = strdup(cl->argv[1])) == NULL)
			return -1;
	} else if (strcmp(cl->argv[0], "preempt-delay") == 0) {
		if (conf_uint(cl->argv[1], 0, CARPD_PREEMPT_DELAY_MAX, &n) ==
		    -1) {
			snprintf(err, errlen, "bad preempt-delay %s (0..%d s)",
			    cl->argv[1], CARPD_PREEMPT_DELAY_MAX);
			return -1;
		}
		carpd->preempt_delay = (unsigned int)n;
	} else if (strcmp(cl->argv[0], "demote-skew") == 0) {
		if ((b = conf_bool(cl->argv[1])) == -1) {
			snprintf(err, errlen, "demote-skew: yes or no");
			return -1;
		}
		carpd->demote_skew = b;
	} else {
		snprintf(err, errlen, "unknown keyword: %s", cl->argv[0]);
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
		vh_free(p->cur);
		p->cur = NULL;
		return -1;
	}
	if (p->chk != NULL) {
		snprintf(err, errlen, "%s:%d: check block not closed", name,
		    p->chk_line);
		check_free(p->chk);
		p->chk = NULL;
		return -1;
	}
	return 0;
}

int
carpd_conf_load(const char *path, const struct carpd_opts *o, char *err,
    size_t errlen)
{
	struct parse p = { NULL, o, 0, NULL, 0 };

	if (conf_parse_file(path, conf_line, &p, err, errlen) == -1) {
		vh_free(p.cur);
		check_free(p.chk);
		return -1;
	}
	return conf_end(&p, path, err, errlen);
}

int
carpd_conf_buf(const char *name, const char *buf, size_t len,
    const struct carpd_opts *o, char *err, size_t errlen)
{
	struct parse p = { NULL, o, 0, NULL, 0 };

	if (conf_parse_buf(name, buf, len, conf_line, &p, err, errlen) == -1) {
		vh_free(p.cur);
		check_free(p.chk);
		return -1;
	}
	return conf_end(&p, name, err, errlen);
}

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
#include "conf.h"
#include "util.h"

struct parse {
	struct vh			*cur;
	const struct carpd_opts		*opts;
	int				 open_line;
};

struct iface *
carpd_iface(const char *name)
{
	struct iface *ifp;
	int i;

	for (i = 0; i < carpd->nifs; i++)
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
	inet_pton(AF_INET, CARP_GROUP4, &v->mcast4);
	return v;
}

void
vh_free(struct vh *v)
{
	if (v == NULL)
		return;
	explicit_bzero(v->key, sizeof(v->key));
	free(v->upscript);
	free(v->downscript);
	free(v->xparam);
	free(v);
}

/* Check one vhid, build its HMAC input and cookie, register it. */
int
vh_finish(struct vh *v, char *err, size_t errlen)
{
	int i, j;

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
	for (i = 0; i < carpd->nvh; i++)
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
	for (i = 0; i < v->naddrs; i++) {
		for (j = 0; j < i; j++)
			if (addr_cmp(&v->addrs[i].a, &v->addrs[j].a) == 0) {
				snprintf(err, errlen, "vhid %u: address "
				    "listed twice", v->fsm.cfg.vhid);
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

	if (util_read_file(path, 4096, &buf, &len) == -1) {
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

int
vh_keyword(struct vh *v, int argc, char **argv, char *err, size_t errlen)
{
	const char *k = argv[0];
	unsigned long n;
	int b, plen;

	if (argc != 2) {
		if (strcmp(k, "interface") == 0 || strcmp(k, "addr") == 0 ||
		    strcmp(k, "pass") == 0 || strcmp(k, "advbase") == 0 ||
		    strcmp(k, "advskew") == 0 || strcmp(k, "srcip") == 0 ||
		    strcmp(k, "peer") == 0 || strcmp(k, "upscript") == 0 ||
		    strcmp(k, "downscript") == 0 || strcmp(k, "xparam") == 0 ||
		    strcmp(k, "passfile") == 0 || strcmp(k, "preempt") == 0 ||
		    strcmp(k, "vmac") == 0 || strcmp(k, "deadratio") == 0 ||
		    strcmp(k, "mcast") == 0 || strcmp(k, "nomcast") == 0 ||
		    strcmp(k, "ignoreifstate") == 0) {
			snprintf(err, errlen, "%s takes one argument", k);
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "interface") == 0) {
		if (strlen(argv[1]) >= IF_NAMESIZE) {
			snprintf(err, errlen, "interface name too long: %s",
			    argv[1]);
			return -1;
		}
		snprintf(v->ifname, sizeof(v->ifname), "%s", argv[1]);
	} else if (strcmp(k, "addr") == 0) {
		if (v->naddrs >= CARPD_MAXADDR) {
			snprintf(err, errlen, "too many addresses (at most %d)",
			    CARPD_MAXADDR);
			return -1;
		}
		if (addr_parse(argv[1], &v->addrs[v->naddrs].a, &plen) ==
		    -1) {
			snprintf(err, errlen, "bad address: %s", argv[1]);
			return -1;
		}
		if (plen < 0)
			plen = v->addrs[v->naddrs].a.family == AF_INET ?
			    32 : 128;
		v->addrs[v->naddrs++].plen = plen;
	} else if (strcmp(k, "pass") == 0) {
		if (carp_key_from_pass(argv[1], v->key) == -1) {
			snprintf(err, errlen, "passphrase longer than %d bytes",
			    CARP_PASS_MAX);
			return -1;
		}
	} else if (strcmp(k, "passfile") == 0) {
		if (read_passfile(argv[1], v->key, err, errlen) == -1)
			return -1;
	} else if (strcmp(k, "advbase") == 0) {
		if (conf_uint(argv[1], 0, 254, &n) == -1) {
			snprintf(err, errlen, "bad advbase %s (0..254)",
			    argv[1]);
			return -1;
		}
		v->fsm.cfg.advbase = (uint8_t)n;
	} else if (strcmp(k, "advskew") == 0) {
		if (conf_uint(argv[1], 0, 254, &n) == -1) {
			snprintf(err, errlen, "bad advskew %s (0..254)",
			    argv[1]);
			return -1;
		}
		v->fsm.cfg.advskew = (uint8_t)n;
	} else if (strcmp(k, "srcip") == 0) {
		if (addr_parse(argv[1], &v->srcip, NULL) == -1) {
			snprintf(err, errlen, "bad address: %s", argv[1]);
			return -1;
		}
	} else if (strcmp(k, "peer") == 0) {
		if (v->npeers >= CARPD_MAXPEER) {
			snprintf(err, errlen, "too many peers (at most %d)",
			    CARPD_MAXPEER);
			return -1;
		}
		if (addr_parse(argv[1], &v->peers[v->npeers], NULL) == -1) {
			snprintf(err, errlen, "bad peer address: %s", argv[1]);
			return -1;
		}
		v->npeers++;
	} else if (strcmp(k, "upscript") == 0) {
		if (set_str(&v->upscript, argv[1]) == -1)
			goto nomem;
	} else if (strcmp(k, "downscript") == 0) {
		if (set_str(&v->downscript, argv[1]) == -1)
			goto nomem;
	} else if (strcmp(k, "xparam") == 0) {
		if (set_str(&v->xparam, argv[1]) == -1)
			goto nomem;
	} else if (strcmp(k, "deadratio") == 0) {
		if (conf_uint(argv[1], 1, 255, &n) == -1) {
			snprintf(err, errlen, "bad deadratio %s (1..255)",
			    argv[1]);
			return -1;
		}
		v->fsm.cfg.deadratio = (uint8_t)n;
	} else if (strcmp(k, "mcast") == 0) {
		if (inet_pton(AF_INET, argv[1], &v->mcast4) != 1 ||
		    !IN_MULTICAST(ntohl(v->mcast4.s_addr))) {
			snprintf(err, errlen, "bad IPv4 multicast group: %s",
			    argv[1]);
			return -1;
		}
	} else if (strcmp(k, "preempt") == 0 || strcmp(k, "vmac") == 0 ||
	    strcmp(k, "nomcast") == 0 || strcmp(k, "ignoreifstate") == 0) {
		if ((b = conf_bool(argv[1])) == -1) {
			snprintf(err, errlen, "%s: yes or no, not %s", k,
			    argv[1]);
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
	} else
		return 0;
	return 1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
conf_line(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	struct parse *p = arg;
	unsigned long n;
	int r, b;

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
			snprintf(err, errlen, "unknown keyword in vhid "
			    "block: %s", cl->argv[0]);
			return -1;
		}
		return 0;
	}
	if (strcmp(cl->argv[0], "vhid") == 0) {
		if (cl->argc != 3 || strcmp(cl->argv[2], "{") != 0) {
			snprintf(err, errlen, "expected: vhid N {");
			return -1;
		}
		if (conf_uint(cl->argv[1], 1, 255, &n) == -1) {
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
	} else if (strcmp(cl->argv[0], "sync") == 0) {
		if (carpd->sync_path == NULL &&
		    (carpd->sync_path = strdup(cl->argv[1])) == NULL)
			return -1;
	} else if (strcmp(cl->argv[0], "sync-timeout") == 0) {
		if (conf_uint(cl->argv[1], 0, 600000, &n) == -1) {
			snprintf(err, errlen, "bad sync-timeout %s (ms)",
			    cl->argv[1]);
			return -1;
		}
		carpd->sync_timeout_ms = (unsigned int)n;
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
	return 0;
}

int
carpd_conf_load(const char *path, const struct carpd_opts *o, char *err,
    size_t errlen)
{
	struct parse p = { NULL, o, 0 };

	if (conf_parse_file(path, conf_line, &p, err, errlen) == -1) {
		vh_free(p.cur);
		return -1;
	}
	return conf_end(&p, path, err, errlen);
}

int
carpd_conf_buf(const char *name, const char *buf, size_t len,
    const struct carpd_opts *o, char *err, size_t errlen)
{
	struct parse p = { NULL, o, 0 };

	if (conf_parse_buf(name, buf, len, conf_line, &p, err, errlen) ==
	    -1) {
		vh_free(p.cur);
		return -1;
	}
	return conf_end(&p, name, err, errlen);
}

/*
 * reload.c: a configuration put to work: installed at start, and on
 * SIGHUP read again, compared with the running node and applied vhid by
 * vhid and check by check. What did not change keeps running untouched;
 * a file with an error, or a vhid on a missing interface, is refused
 * whole and nothing changes. carpd(8), RELOAD.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carpd.h"
#include "check.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "nl.h"

/* A reload under way: the new configuration and what is done with it. */
struct reload {
	struct carpd_conf *c;
	struct reload_counts n;
	/* Running vhids that stay, with their new settings. */
	struct vh *kept[CARPD_MAXVH];
	struct vh *kept_next[CARPD_MAXVH];
	unsigned int kept_ch[CARPD_MAXVH];
	int nkept;
	struct vh *added[CARPD_MAXVH]; /* not started, not in carpd->vh */
	int nadded;
	struct vh *order[CARPD_MAXVH]; /* every vhid, in the file's order */
	/* Restarted vhids: taken out, back among the added ones. */
	uint8_t restarted[CARPD_MAXVH];
	char restarted_if[CARPD_MAXVH][IF_NAMESIZE];
	int nrestarted;
	struct carpd_check *chk_added[CARPD_MAXCHECK];
	int chk_replaces[CARPD_MAXCHECK]; /* of one testing another thing */
	int nchk_added;
};

static void
take_str(char **dst, char **src)
{
	free(*dst);
	*dst = *src;
	*src = NULL;
}

static void
swap_str(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/* v on its interface slot. */
static void
vh_bind(struct vh *v)
{
	if ((v->ifp = node_iface(v->ifname)) == NULL)
		fatalx("interface table full for %s", v->ifname);
	v->ifp->used = 1;
	if (v->ignoreifstate)
		v->ifp->ignore = 1;
}

static void
check_bind(struct carpd_check *k)
{
	if (k->kind == CHECK_IFACE && (k->ifp = node_iface(k->ifname)) == NULL)
		fatalx("interface table full for %s", k->ifname);
}

/*
 * At start: the configuration becomes the node's; c is freed. Nothing is
 * opened yet (main.c's open_resources and node_start do that).
 */
void
reload_install(struct carpd_conf *c)
{
	take_str(&carpd->control, &c->control);
	take_str(&carpd->metrics, &c->metrics);
	take_str(&carpd->sync_path, &c->sync_path);
	take_str(&carpd->user, &c->user);
	carpd->sync_timeout_ms = c->sync_timeout_ms;
	carpd->preempt_delay = c->preempt_delay;
	carpd->demote_skew = c->demote_skew;
	for (int i = 0; i < c->ntrack; i++) {
		struct iface *ifp = node_iface(c->track[i]);

		if (ifp == NULL)
			fatalx("interface table full for %s", c->track[i]);
		ifp->track = 1;
	}
	for (int i = 0; i < c->nchecks; i++) {
		check_bind(c->checks[i]);
		carpd->checks[carpd->nchecks++] = c->checks[i];
	}
	for (int i = 0; i < c->nvh; i++) {
		vh_bind(c->vh[i]);
		carpd->vh[carpd->nvh++] = c->vh[i];
	}
	c->nchecks = c->nvh = 0;
	carpd_conf_free(c);
}

/* ---- refusing ---- */

/* The line number of "path:line: reason", 0 if err has none. */
static int
err_line(const char *path, const char *err)
{
	size_t pl = strlen(path);
	char *end;
	long n;

	if (strncmp(err, path, pl) != 0 || err[pl] != ':')
		return 0;
	errno = 0;
	n = strtol(err + pl + 1, &end, 10);
	if (errno != 0 || end == err + pl + 1 || *end != ':' || n <= 0 ||
	    n > 1000000000L)
		return 0;
	return (int)n;
}

static void
refused(const char *path, const char *err)
{
	struct carpd_reloads *r = &carpd->reload;

	log_warnx("%s", err);
	carpd_log_reload_refused(path, err_line(path, err), err);
	r->refused++;
	r->last_ns = ev_now_ns();
	r->last_ok = 0;
	snprintf(r->last_error, sizeof(r->last_error), "%s", err);
}

/*
 * What only the running system can tell: every vhid that is new must
 * have its interface. -1 with err as "file:line: reason".
 */
static int
reload_check(const struct carpd_conf *c, char *err, size_t errlen)
{
	struct nl_link l;

	for (int i = 0; i < c->nvh; i++) {
		const struct vh *v = c->vh[i];
		struct iface *ifp = NULL;

		if (vh_lookup(carpd->vh, carpd->nvh, v->fsm.cfg.vhid,
			v->ifname) != NULL)
			continue;
		for (int j = 0; j < carpd->nifs && ifp == NULL; j++)
			if (strcmp(carpd->ifs[j].name, v->ifname) == 0)
				ifp = &carpd->ifs[j];
		if (ifp != NULL && ifp->pcap != NULL)
			continue;
		if (nl_link_by_name(carpd->nl, v->ifname, &l) != 0) {
			snprintf(err, errlen,
			    "%s:%d: vhid %u: no such "
			    "interface %s",
			    carpd->config_path, v->line, v->fsm.cfg.vhid,
			    v->ifname);
			return -1;
		}
	}
	return 0;
}

/* ---- settings of the node ---- */

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* control, metrics, sync and user hold what was opened at start: a new
 * value is logged and waits for a restart. */
static void
not_applied(struct reload *r, const char *key, const char *cur,
    const char *next)
{
	char msg[512];

	if (!str_differ(cur, next))
		return;
	snprintf(msg, sizeof(msg),
	    "%s %s -> %s needs a restart; %s stays until then", key,
	    cur != NULL ? cur : "(none)", next != NULL ? next : "(none)",
	    cur != NULL ? cur : "(none)");
	log_warnx("%s", msg);
	carpd_log_change("setting", key, NULL, "not-applied", NULL, msg);
	r->n.not_applied++;
}

static void
setting_uint(struct reload *r, const char *key, unsigned int *cur,
    unsigned int next)
{
	char msg[160];

	if (*cur == next)
		return;
	snprintf(msg, sizeof(msg), "%s %u -> %u", key, *cur, next);
	carpd_log_change("setting", key, NULL, "changed", NULL, msg);
	*cur = next;
	r->n.settings_changed++;
}

/* The node's settings; the vhids' state machines get them with their
 * own (vhids_update). */
static void
settings_apply(struct reload *r)
{
	struct carpd_conf *c = r->c;
	unsigned int skew = (unsigned int)carpd->demote_skew;

	not_applied(r, "control", carpd->control, c->control);
	not_applied(r, "metrics", carpd->metrics, c->metrics);
	not_applied(r, "sync", carpd->sync_path, c->sync_path);
	not_applied(r, "user", carpd->user, c->user);
	setting_uint(r, "preempt-delay", &carpd->preempt_delay,
	    c->preempt_delay);
	setting_uint(r, "sync-timeout", &carpd->sync_timeout_ms,
	    c->sync_timeout_ms);
	setting_uint(r, "demote-skew", &skew, (unsigned int)c->demote_skew);
	carpd->demote_skew = (int)skew;
}

/* ---- vhids ---- */

static void
vh_name(const struct vh *v, char *buf, size_t len)
{
	snprintf(buf, len, "%u", v->fsm.cfg.vhid);
}

/* One vhid out of the node, logged; it is no longer in carpd->vh. */
static void
vh_out(struct reload *r, struct vh *v, unsigned int ch)
{
	char id[8], what[256], msg[512];

	vh_name(v, id, sizeof(id));
	if (!(ch & VH_CH_RESTART)) {
		snprintf(msg, sizeof(msg), "vhid %u on %s removed (it was %s)",
		    v->fsm.cfg.vhid, v->ifname,
		    carp_state_names[v->fsm.state]);
		carpd_log_change("vhid", id, v->ifname, "removed", NULL, msg);
		r->n.vh_removed++;
	} else {
		vh_diff_names(ch & VH_CH_RESTART, what, sizeof(what));
		snprintf(msg, sizeof(msg),
		    "vhid %u on %s restarted: %s changed (it was %s)",
		    v->fsm.cfg.vhid, v->ifname, what,
		    carp_state_names[v->fsm.state]);
		carpd_log_change("vhid", id, v->ifname, "restarted", what,
		    msg);
		r->n.vh_restarted++;
		r->restarted[r->nrestarted] = v->fsm.cfg.vhid;
		snprintf(r->restarted_if[r->nrestarted++], IF_NAMESIZE, "%s",
		    v->ifname);
	}
	node_vh_remove(v);
	vh_free(v);
}

/*
 * The vhids that go out of the node: those no longer configured and those
 * whose change needs a restart (they come back as added). They leave the
 * table first, so that nothing they set off while stopping (a demotion
 * stepping every vhid) reaches one of them.
 */
static void
vhids_remove(struct reload *r)
{
	struct vh *out[CARPD_MAXVH];
	unsigned int out_ch[CARPD_MAXVH];
	int n = 0, nout = 0;

	for (int i = 0; i < carpd->nvh; i++) {
		struct vh *v = carpd->vh[i], *next;
		unsigned int ch = 0;

		next = vh_lookup(r->c->vh, r->c->nvh, v->fsm.cfg.vhid,
		    v->ifname);
		if (next != NULL)
			ch = vh_diff(v, next);
		if (next != NULL && !(ch & VH_CH_RESTART)) {
			carpd->vh[n++] = v;
			continue;
		}
		out_ch[nout] = next == NULL ? 0 : ch;
		out[nout++] = v;
	}
	carpd->nvh = n;
	for (int i = 0; i < nout; i++)
		vh_out(r, out[i], out_ch[i]);
}

/*
 * Pair each vhid of the file with the running one that stays, or take it
 * from the configuration as a new one: bound to its interface, joining
 * carpd->vh only when it starts (vhids_start).
 */
static void
vhids_pair(struct reload *r)
{
	struct carpd_conf *c = r->c;

	for (int i = 0; i < c->nvh; i++) {
		struct vh *next = c->vh[i], *v;

		v = vh_lookup(carpd->vh, carpd->nvh, next->fsm.cfg.vhid,
		    next->ifname);
		if (v != NULL) {
			r->kept[r->nkept] = v;
			r->kept_next[r->nkept] = next;
			r->kept_ch[r->nkept++] = vh_diff(v, next);
		} else {
			v = next;
			c->vh[i] = NULL; /* the node's now */
			vh_bind(v);
			r->added[r->nadded++] = v;
		}
		r->order[i] = v;
	}
}

/* At the end: carpd->vh in the order of the file. */
static void
vhids_order(const struct reload *r)
{
	for (int i = 0; i < r->c->nvh; i++)
		carpd->vh[i] = r->order[i];
	carpd->nvh = r->c->nvh;
}

/* The addresses of a running vhid become next's: those gone leave the
 * interface, a MASTER adds and announces the new ones. */
static void
vh_update_addrs(struct vh *v, const struct vh *next)
{
	struct vaddr old[CARPD_MAXADDR];
	int nold = v->naddrs, k;

	memcpy(old, v->addrs, sizeof(old));
	for (int i = 0; i < nold; i++)
		if (old[i].present &&
		    vaddr_index(next->addrs, next->naddrs, &old[i]) == -1)
			vip_del_one(v, &old[i]);
	for (int i = 0; i < next->naddrs; i++) {
		v->addrs[i] = next->addrs[i];
		k = vaddr_index(old, nold, &next->addrs[i]);
		v->addrs[i].present = k >= 0 ? old[k].present : 0;
	}
	v->naddrs = next->naddrs;
	memcpy(v->v4, next->v4, sizeof(v->v4));
	v->n4 = next->n4;
	memcpy(v->v6, next->v6, sizeof(v->v6));
	v->n6 = next->n6;
	if (v->fsm.state != CARP_ST_MASTER)
		return;
	for (int i = 0; i < v->naddrs; i++)
		if (!v->addrs[i].present && vip_add_one(v, &v->addrs[i]) == 0)
			net_announce_one(v, &v->addrs[i].a);
}

static int
fsm_cfg_differ(const struct fsm_cfg *a, const struct fsm_cfg *b)
{
	return a->advbase != b->advbase || a->advskew != b->advskew ||
	    a->preempt != b->preempt || a->demote_skew != b->demote_skew ||
	    a->deadratio != b->deadratio || a->sync != b->sync ||
	    a->sync_timeout_ns != b->sync_timeout_ns ||
	    a->hold_ns != b->hold_ns;
}

/*
 * A running vhid takes next's settings in place: its state, timers and
 * counters stay. The state machine gets its new timers (a MASTER
 * advertises them at once).
 */
static void
vh_update(struct vh *v, struct vh *next, unsigned int ch)
{
	struct fsm_cfg cfg = v->fsm.cfg;

	if (ch & VH_CH_ADDR)
		vh_update_addrs(v, next);
	memcpy(v->key, next->key, sizeof(v->key));
	v->pass_set = next->pass_set;
	swap_str(&v->passfile, &next->passfile);
	v->srcip = next->srcip;
	memcpy(v->peers, next->peers, sizeof(v->peers));
	v->npeers = next->npeers;
	swap_str(&v->upscript, &next->upscript);
	swap_str(&v->downscript, &next->downscript);
	swap_str(&v->xparam, &next->xparam);
	v->nomcast = next->nomcast;
	v->preempt_delay = next->preempt_delay;
	cfg.advbase = next->fsm.cfg.advbase;
	cfg.advskew = next->fsm.cfg.advskew;
	cfg.deadratio = next->fsm.cfg.deadratio;
	cfg.preempt = next->fsm.cfg.preempt;
	node_fsm_cfg(v, &cfg);
	if (fsm_cfg_differ(&cfg, &v->fsm.cfg))
		carpd_step(v, FSM_EV_CONFIG, &cfg);
}

static void
vhids_update(struct reload *r)
{
	char id[8], what[256], text[768], msg[1024];

	for (int i = 0; i < r->nkept; i++) {
		struct vh *v = r->kept[i], *next = r->kept_next[i];
		unsigned int ch = r->kept_ch[i];

		if (ch == 0)
			r->n.vh_unchanged++;
		else {
			vh_name(v, id, sizeof(id));
			vh_diff_names(ch, what, sizeof(what));
			vh_diff_text(v, next, ch, text, sizeof(text));
			snprintf(msg, sizeof(msg), "vhid %u on %s (%s): %s",
			    v->fsm.cfg.vhid, v->ifname,
			    carp_state_names[v->fsm.state], text);
			carpd_log_change("vhid", id, v->ifname, "changed",
			    what, msg);
			r->n.vh_changed++;
		}
		/* Also unchanged ones: the node's settings may have. */
		vh_update(v, next, ch);
	}
}

static int
was_restarted(const struct reload *r, const struct vh *v)
{
	for (int i = 0; i < r->nrestarted; i++)
		if (r->restarted[i] == v->fsm.cfg.vhid &&
		    strcmp(r->restarted_if[i], v->ifname) == 0)
			return 1;
	return 0;
}

/* The new vhids (and the restarted ones) start as at carpd's start. */
static void
vhids_start(struct reload *r)
{
	char id[8], msg[256];

	for (int i = 0; i < r->nadded; i++) {
		struct vh *v = r->added[i];

		carpd->vh[carpd->nvh++] = v;
		if (!was_restarted(r, v)) {
			vh_name(v, id, sizeof(id));
			snprintf(msg, sizeof(msg),
			    "vhid %u on %s added: %d address(es)",
			    v->fsm.cfg.vhid, v->ifname, v->naddrs);
			carpd_log_change("vhid", id, v->ifname, "added", NULL,
			    msg);
			r->n.vh_added++;
		}
		net_join_group(v->ifp, &v->mcast4);
		if (vip_setup(v) == -1)
			log_warnx("vhid %u: no virtual MAC; its addresses "
				  "cannot be added",
			    v->fsm.cfg.vhid);
		node_vh_start(v);
	}
}

/* ---- interfaces ---- */

static int
conf_names_iface(const struct carpd_conf *c, const char *name)
{
	for (int i = 0; i < c->nvh; i++)
		if (c->vh[i] != NULL && strcmp(c->vh[i]->ifname, name) == 0)
			return 1;
	for (int i = 0; i < c->ntrack; i++)
		if (strcmp(c->track[i], name) == 0)
			return 1;
	for (int i = 0; i < c->nchecks; i++)
		if (c->checks[i]->kind == CHECK_IFACE &&
		    strcmp(c->checks[i]->ifname, name) == 0)
			return 1;
	return 0;
}

/* Interfaces nothing in the new configuration names: closed, their
 * slots free. Before any new one is taken. */
static void
ifaces_release(const struct carpd_conf *c)
{
	for (int i = 0; i < carpd->nifs; i++) {
		struct iface *ifp = &carpd->ifs[i];

		if (ifp->name[0] == '\0' || conf_names_iface(c, ifp->name))
			continue;
		log_info("%s: no longer used; closed", ifp->name);
		node_iface_free(ifp);
	}
}

static int
conf_tracks(const struct carpd_conf *c, const char *name)
{
	for (int j = 0; j < c->ntrack; j++)
		if (strcmp(c->track[j], name) == 0)
			return 1;
	return 0;
}

/* Tracks no longer in the file: before their interfaces are released. */
static void
tracks_remove(struct reload *r)
{
	char msg[64];

	for (int i = 0; i < carpd->nifs; i++) {
		struct iface *ifp = &carpd->ifs[i];

		if (ifp->name[0] == '\0' || !ifp->track ||
		    conf_tracks(r->c, ifp->name))
			continue;
		ifp->track = 0;
		snprintf(msg, sizeof(msg), "track %s removed", ifp->name);
		carpd_log_change("track", ifp->name, NULL, "removed", NULL,
		    msg);
		r->n.settings_changed++;
	}
}

/* Tracks new in the file. */
static void
tracks_add(struct reload *r)
{
	const struct carpd_conf *c = r->c;
	char msg[64];

	for (int j = 0; j < c->ntrack; j++) {
		struct iface *ifp = node_iface(c->track[j]);

		if (ifp == NULL)
			fatalx("interface table full for %s", c->track[j]);
		if (ifp->track)
			continue;
		ifp->track = 1;
		snprintf(msg, sizeof(msg), "track %s added", ifp->name);
		carpd_log_change("track", ifp->name, NULL, "added", NULL, msg);
		r->n.settings_changed++;
	}
}

/* What lives on each interface now (the running vhids and those about
 * to start); new interfaces found, captures opened. */
static void
ifaces_open(const struct reload *r)
{
	const struct vh *v;

	for (int i = 0; i < carpd->nifs; i++)
		carpd->ifs[i].used = carpd->ifs[i].ignore = 0;
	for (int i = 0; i < r->c->nvh; i++) {
		v = r->order[i];
		v->ifp->used = 1;
		if (v->ignoreifstate)
			v->ifp->ignore = 1;
	}
	for (int i = 0; i < carpd->nifs; i++) {
		struct iface *ifp = &carpd->ifs[i];

		if (ifp->name[0] == '\0' ||
		    (ifp->ifindex > 0 && (!ifp->used || ifp->pcap != NULL)))
			continue;
		/* A failure is logged; the vhid waits for its link. */
		(void)node_iface_open(ifp);
	}
}

/* ---- checks ---- */

static void
check_log(const struct carpd_check *k, const char *action, const char *more)
{
	char msg[192];

	snprintf(msg, sizeof(msg), "check %s (%s) %s%s", k->name,
	    check_kind_names[k->kind], action, more);
	carpd_log_change("check", k->name, NULL, action, NULL, msg);
}

/* Same test, other timing or weight: taken over, its state and counters
 * stay. 1 when anything changed. */
static int
check_update(struct carpd_check *k, const struct carpd_check *next)
{
	int ch = k->interval_ms != next->interval_ms ||
	    k->timeout_ms != next->timeout_ms || k->rise != next->rise ||
	    k->fall != next->fall || k->weight != next->weight;

	k->interval_ms = next->interval_ms;
	k->timeout_ms = next->timeout_ms;
	k->rise = next->rise;
	k->fall = next->fall;
	k->weight = next->weight;
	return ch;
}

/*
 * The check table in the new file's order: a running check that tests
 * the same thing stays (its state and counters too); one that went or
 * tests something else now is stopped, its process group killed; a new
 * one is bound and started later (checks_start).
 */
static void
checks_apply(struct reload *r)
{
	struct carpd_check *tab[CARPD_MAXCHECK], *k, *next;
	struct carpd_conf *c = r->c;
	int n = 0, replaced[CARPD_MAXCHECK] = { 0 };

	for (int i = 0; i < carpd->nchecks; i++) {
		k = carpd->checks[i];
		next = check_find(c->checks, c->nchecks, k->name);
		if (next != NULL && check_same_target(k, next))
			continue;
		if (next == NULL) {
			check_log(k, "removed", "");
			r->n.chk_removed++;
		}
		for (int j = 0; j < c->nchecks; j++)
			replaced[j] |= c->checks[j] == next;
		check_stop_one(k);
		check_free(k);
		carpd->checks[i] = NULL;
	}
	for (int i = 0; i < c->nchecks; i++) {
		next = c->checks[i];
		k = NULL;
		for (int j = 0; j < carpd->nchecks && k == NULL; j++)
			if (carpd->checks[j] != NULL &&
			    strcmp(carpd->checks[j]->name, next->name) == 0)
				k = carpd->checks[j];
		if (k != NULL) {
			if (check_update(k, next)) {
				check_log(k, "changed",
				    ": its state and counters stay");
				r->n.chk_changed++;
			} else
				r->n.chk_unchanged++;
		} else {
			k = next;
			c->checks[i] = NULL; /* the node's now */
			check_bind(k);
			r->chk_replaces[r->nchk_added] = replaced[i];
			r->chk_added[r->nchk_added++] = k;
		}
		tab[n++] = k;
	}
	for (int i = 0; i < n; i++)
		carpd->checks[i] = tab[i];
	carpd->nchecks = n;
}

/*
 * A check added by a reload starts as working, unlike at start: the node
 * is running and keeps its role until the check has failed fall times.
 * One that tests another thing now starts over the same way.
 */
static void
checks_start(struct reload *r)
{
	for (int i = 0; i < r->nchk_added; i++) {
		if (r->chk_replaces[i]) {
			check_log(r->chk_added[i], "replaced",
			    ": it tests another thing now, starting as ok");
			r->n.chk_changed++;
		} else {
			check_log(r->chk_added[i], "added",
			    ": starting as ok");
			r->n.chk_added++;
		}
		check_start_one(r->chk_added[i], 0);
	}
}

/* ---- the reload ---- */

static void
apply(struct reload *r)
{
	settings_apply(r);
	vhids_remove(r);
	checks_apply(r);
	tracks_remove(r);
	ifaces_release(r->c);
	vhids_pair(r);
	tracks_add(r);
	ifaces_open(r);
	vhids_update(r);
	vhids_start(r);
	vhids_order(r);
	checks_start(r);
	carpd_set_demote(DEM_LINK, node_links_down());
	carpd_set_demote(DEM_CHECK, check_demotion());
	syncc_role(); /* a MASTER vhid may be gone */
}

/* SIGHUP: read the file again; refuse it whole or apply it. */
void
reload_run(void)
{
	const char *path = carpd->config_path;
	struct reload *r;
	char err[CONF_ERRLEN];

	if (path == NULL) {
		refused("", "SIGHUP: started without -c, nothing to reload");
		return;
	}
	log_info("SIGHUP: reading %s", path);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		refused(path, "SIGHUP: out of memory");
		return;
	}
	if ((r->c = carpd_conf_load(path, &carpd->opts, err, sizeof(err))) ==
		NULL ||
	    reload_check(r->c, err, sizeof(err)) == -1) {
		refused(path, err);
		carpd_conf_free(r->c);
		free(r);
		return;
	}
	apply(r);
	carpd_log_reload_ok(path, &r->n);
	carpd->reload.ok++;
	carpd->reload.last_ns = ev_now_ns();
	carpd->reload.last_ok = 1;
	carpd->reload.last_error[0] = '\0';
	carpd_conf_free(r->c);
	free(r);
}

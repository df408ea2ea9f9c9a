/*
 * node.c: the running node: node demotion, the state machine's actions,
 * the vhid interfaces and their rtnetlink events.
 */
#include <stdio.h>
#include <string.h>

#include "carpd.h"
#include "check.h"
#include "ev.h"
#include "log.h"
#include "nl.h"

static void apply(struct vh *, const struct fsm_out *);

/* ---- node demotion ---- */

static unsigned int
demote_sum(void)
{
	unsigned int sum = 0;

	for (int i = 0; i < DEM_MAX; i++)
		sum += carpd->dem[i];
	return sum;
}

/* A vhid or tracked interface without link demotes, unless the vhids on
 * it ignore the link state (ucarp -S). */
static int
iface_demotes(const struct iface *ifp)
{
	if (ifp->running)
		return 0;
	return ifp->track || (ifp->used && !ifp->ignore);
}

unsigned int
node_links_down(void)
{
	unsigned int n = 0;

	for (int i = 0; i < carpd->nifs; i++)
		if (iface_demotes(&carpd->ifs[i]))
			n++;
	return n;
}

/*
 * Restart the preemption hold-down of every vhid: the node has just come
 * (back) into service and should settle before it takes mastership back
 * from a working master.
 */
void
node_hold(const char *why)
{
	int any = 0;

	for (int i = 0; i < carpd->nvh; i++) {
		struct vh *v = carpd->vh[i];

		if (v->fsm.cfg.hold_ns == 0 || v->fsm.cfg.preempt == 0 ||
		    v->fsm.state == CARP_ST_MASTER)
			continue;
		carpd_step(v, FSM_EV_HOLD, NULL);
		any = 1;
	}
	if (any)
		log_info("preemption held back (preempt-delay): %s", why);
}

/*
 * syncd's demotion is the standby part: it says this node's copy of the
 * peers' states is missing or going stale, a reason not to take
 * mastership, never one for a master (which holds the authoritative
 * states) to give it up. The state machine counts it only outside
 * MASTER.
 */
static struct fsm_demote
demote_now(void)
{
	struct fsm_demote d;

	d.total = demote_sum();
	d.standby = carpd->dem[DEM_SYNC];
	return d;
}

void
carpd_set_demote(enum carpd_dem r, unsigned int n)
{
	unsigned int old = carpd->dem[r];
	struct fsm_demote d;

	if (n == old)
		return;
	carpd->dem[r] = n;
	/* syncd's first bulk is done: settle before preempting. */
	if (r == DEM_SYNC && old != 0 && n == 0)
		node_hold("syncd in sync");
	d = demote_now();
	if (d.total != carpd->demote)
		carpd_log_demote(carpd->demote, d.total);
	carpd->demote = d.total;
	for (int i = 0; i < carpd->nvh; i++)
		carpd_step(carpd->vh[i], FSM_EV_DEMOTE, &d);
}

/*
 * The demotion before anything is advertised: links already down, and
 * syncd counted as not in sync until it says otherwise.
 */
static void
demote_init(void)
{
	memset(carpd->dem, 0, sizeof(carpd->dem));
	if (carpd->sync_path != NULL) {
		carpd->dem[DEM_SYNC] = CARP_DEMOTE_SYNC;
		snprintf(carpd->dem_sync_reason,
		    sizeof(carpd->dem_sync_reason), "syncd not connected");
	}
	carpd->dem[DEM_LINK] = node_links_down();
	carpd->dem[DEM_CHECK] = check_demotion();
	carpd->demote = demote_sum();
}

/* Three times as many failed sends in a row as there are vhids demote by
 * one; as many good ones in a row clear it (OpenBSD). */
void
carpd_send_result(int ok)
{
	unsigned int lim = 3 * (unsigned int)carpd->nvh;

	if (ok) {
		carpd->senderr_run = 0;
		if (carpd->dem[DEM_SENDERR] && ++carpd->sendok_run >= lim) {
			log_info("advertisements go out again");
			carpd_set_demote(DEM_SENDERR, 0);
		}
		return;
	}
	carpd->sendok_run = 0;
	if (!carpd->dem[DEM_SENDERR] && ++carpd->senderr_run >= lim) {
		log_warnx("advertisements fail to go out: demoting");
		carpd_set_demote(DEM_SENDERR, 1);
	}
}

/* ---- the state machine's actions ---- */

static void
rearm(struct vh *v)
{
	uint64_t at = fsm_next(&v->fsm);

	if (at == 0)
		ev_timer_cancel(v->timer);
	else
		ev_timer_arm_at(v->timer, at);
}

/*
 * The peer node bowed out or is demoted: it loses every election, so the
 * node's other BACKUP vhids take over now instead of each waiting for its
 * own master-down timer (a vhid whose link the peer lost hears nothing
 * more from it). LAN and WAN addresses then move together.
 */
static void
group_takeover(struct vh *src, const char *why)
{
	for (int i = 0; i < carpd->nvh; i++) {
		struct vh *v = carpd->vh[i];

		if (v == src || v->fsm.state != CARP_ST_BACKUP ||
		    v->fsm.pending)
			continue;
		/* The state machine keeps the pointer: per-vhid storage. */
		snprintf(v->group_reason, sizeof(v->group_reason),
		    "with vhid %u: %s", src->fsm.cfg.vhid,
		    why ? why : "peer node left");
		carpd_step(v, FSM_EV_TAKEOVER, v->group_reason);
	}
}

/* What the state machine says to log, without acting on it. */
static void
apply_log(struct vh *v, const struct fsm_out *o)
{
	unsigned int a = o->actions;
	uint8_t vhid = v->fsm.cfg.vhid;

	if (o->changed)
		carpd_log_transition(v, o->from, o->reason);
	if (a & FSM_A_SPLITBRAIN)
		log_warnx("vhid %u on %s: another MASTER seen (split brain "
			  "#%llu); it should yield to us",
		    vhid, v->ifname, (unsigned long long)v->fsm.splitbrain);
	if (a & FSM_A_CONTENDED)
		log_info("vhid %u on %s: contention ended; announcing our "
			 "addresses again",
		    vhid, v->ifname);
	if (a & FSM_A_ABANDON)
		log_info("vhid %u on %s: takeover abandoned: %s", vhid,
		    v->ifname, o->reason);
	if (a & FSM_A_HELD)
		log_info("vhid %u on %s: a slower master is not preempted "
			 "for %.1f s more (preempt-delay)",
		    vhid, v->ifname,
		    (double)fsm_hold_left(&v->fsm, ev_now_ns()) / 1e9);
	if (a & FSM_A_NOCOMMIT)
		log_warnx("vhid %u on %s: syncd did not answer the commit in "
			  "%u ms: commit timed out, taking over anyway",
		    vhid, v->ifname, carpd->sync_timeout_ms);
}

/*
 * The first state a vhid settles in after start is always told to the
 * scripts: becoming BACKUP runs the down script (ucarp, keepalived's
 * notify_backup) even when the link only came later, unless neutral.
 */
static unsigned int
initial_notify(struct vh *v, const struct fsm_out *o)
{
	unsigned int a = o->actions;

	if (!v->notified && !v->neutral && o->changed &&
	    v->fsm.state == CARP_ST_BACKUP)
		a |= FSM_A_RUN_DOWN;
	if (a & (FSM_A_RUN_UP | FSM_A_RUN_DOWN))
		v->notified = 1;
	return a;
}

/* Do the state machine's actions, in the order fsm.h lists them. */
static void
apply(struct vh *v, const struct fsm_out *o)
{
	unsigned int a = initial_notify(v, o);

	apply_log(v, o);
	if (a & FSM_A_COMMIT) {
		log_info("vhid %u on %s: %s: asking syncd to commit first",
		    v->fsm.cfg.vhid, v->ifname, o->reason);
		if (!syncc_commit_outstanding())
			syncc_send(SYNCC_COMMIT, "commit");
	}
	if (a & FSM_A_ADDRS_ADD)
		vip_add_all(v);
	if (a & FSM_A_SEND_AD)
		net_send_ad(v, NET_AD);
	if (a & FSM_A_ANNOUNCE)
		net_announce(v);
	if (a & FSM_A_RUN_UP)
		script_run(v, v->upscript, o->reason);
	if (a & FSM_A_SEND_BOWOUT)
		net_send_ad(v, NET_AD_BOWOUT);
	if (a & FSM_A_SEND_RELEASE)
		net_send_ad(v, NET_AD_RELEASE);
	if (a & FSM_A_ADDRS_DEL)
		vip_del_all(v);
	if (a & FSM_A_RUN_DOWN)
		script_run(v, v->downscript, o->reason);
	if (a & FSM_A_RESYNC)
		syncc_send(SYNCC_RESYNC, "resync");
	rearm(v);
	/* A commit that could not be sent completes at once. */
	if ((a & FSM_A_COMMIT) && !syncc_commit_outstanding() &&
	    v->fsm.pending)
		carpd_step(v, FSM_EV_COMMIT, NULL);
	if (a & FSM_A_GROUP)
		group_takeover(v, o->reason);
}

void
carpd_step(struct vh *v, enum fsm_ev ev, const void *arg)
{
	struct fsm_out o;

	fsm_step(&v->fsm, ev, arg, ev_now_ns(), &o);
	apply(v, &o);
	if (o.changed)
		syncc_role();
}

static void
vh_timer_cb(struct ev_timer *t, void *arg)
{
	carpd_step(arg, FSM_EV_TIMER, NULL);
}

void
carpd_rx_adv(struct vh *v, const struct carp_hdr *h, int af)
{
	struct fsm_adv a;

	v->rx++;
	if (h->advbase == CARP_BOWOUT && h->advskew == CARP_BOWOUT)
		v->rx_bowout++;
	a.advbase = h->advbase;
	a.advskew = h->advskew;
	a.demote = h->demote;
	carpd_step(v, FSM_EV_ADV, &a);
}

/* ---- interfaces and rtnetlink events ---- */

/*
 * The interface table: a slot per name that a vhid, a track or a check
 * uses. Slots never move (vhids and checks point at them); one nothing
 * uses any more after a reload is freed (its name empty) for reuse.
 */
struct iface *
node_iface(const char *name)
{
	struct iface *ifp = NULL;

	for (int i = 0; i < carpd->nifs; i++) {
		if (strcmp(carpd->ifs[i].name, name) == 0)
			return &carpd->ifs[i];
		if (ifp == NULL && carpd->ifs[i].name[0] == '\0')
			ifp = &carpd->ifs[i];
	}
	if (name[0] == '\0' || strlen(name) >= IF_NAMESIZE)
		return NULL;
	if (ifp == NULL) {
		if (carpd->nifs >= CARPD_MAXIF)
			return NULL;
		ifp = &carpd->ifs[carpd->nifs++];
	}
	memset(ifp, 0, sizeof(*ifp));
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	ifp->pcap_fd = ifp->raw4 = ifp->raw6 = -1;
	return ifp;
}

void
node_iface_free(struct iface *ifp)
{
	if (ifp->pcap != NULL)
		ev_fd_del(carpd->loop, ifp->pcap_fd);
	net_close(ifp);
	memset(ifp, 0, sizeof(*ifp));
	ifp->pcap_fd = ifp->raw4 = ifp->raw6 = -1;
	while (carpd->nifs > 0 && carpd->ifs[carpd->nifs - 1].name[0] == '\0')
		carpd->nifs--;
}

static void
iface_addrs(struct iface *ifp)
{
	if (ifp->ifindex <= 0)
		return;
	if (nl_addr_first(carpd->nl, ifp->ifindex, AF_INET, 0, &ifp->src4) !=
	    0)
		ifp->src4.family = 0;
	if (nl_addr_first(carpd->nl, ifp->ifindex, AF_INET6, 1, &ifp->src6) !=
	    0)
		ifp->src6.family = 0;
}

static void
pcap_readable(int fd, int events, void *arg)
{
	struct iface *ifp = arg;

	if (net_input(ifp) == -1) {
		/* Gone with its interface: reopened when it is back. */
		ev_fd_del(carpd->loop, fd);
		net_close(ifp);
	}
}

/* Capture and send on a vhid interface. -1 after logging. */
static int
iface_capture(struct iface *ifp)
{
	char err[256];

	iface_addrs(ifp);
	if (net_open(ifp, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (ev_fd_add(carpd->loop, ifp->pcap_fd, EV_READ, pcap_readable,
		ifp) == -1) {
		log_warn("%s: ev_fd_add", ifp->name);
		net_close(ifp);
		return -1;
	}
	return 0;
}

/* A vhid interface came back: capture again, recreate its macvlans. */
static void
iface_reopen(struct iface *ifp)
{
	if (iface_capture(ifp) == -1)
		return;
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp && carpd->vh[i]->vmac &&
		    carpd->vh[i]->vmac_ifindex == 0)
			vip_setup(carpd->vh[i]);
}

static void
iface_gone(struct iface *ifp)
{
	if (ifp->pcap != NULL) {
		ev_fd_del(carpd->loop, ifp->pcap_fd);
		net_close(ifp);
	}
	/* A macvlan goes with its parent. */
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp)
			carpd->vh[i]->vmac_ifindex = 0;
}

static void
iface_link(struct iface *ifp, const struct nl_link *l)
{
	int was = ifp->running;

	ifp->ifindex = l->ifindex;
	memcpy(ifp->mac, l->mac, sizeof(ifp->mac));
	ifp->running = l->running;
	if (was == ifp->running)
		return;
	log_info("%s%s: link %s", ifp->track ? "tracked interface " : "",
	    ifp->name, ifp->running ? "up" : "down");
	if (ifp->running && ifp->used && ifp->pcap == NULL) {
		log_info("%s: back; capturing again", ifp->name);
		iface_reopen(ifp);
	} else if (ifp->running)
		iface_addrs(ifp);
	if (ifp->running && (ifp->used || ifp->track))
		node_hold("a link came back");
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp && !carpd->vh[i]->ignoreifstate)
			carpd_step(carpd->vh[i],
			    ifp->running ? FSM_EV_UP : FSM_EV_DOWN, NULL);
	carpd_set_demote(DEM_LINK, node_links_down());
	check_link(ifp);
}

static void
iface_refresh_all(void)
{
	struct nl_link l;

	for (int i = 0; i < carpd->nifs; i++) {
		if (nl_link_by_name(carpd->nl, carpd->ifs[i].name, &l) != 0) {
			memset(&l, 0, sizeof(l));
			l.ifindex = carpd->ifs[i].ifindex;
		}
		iface_link(&carpd->ifs[i], &l);
	}
}

static struct iface *
iface_of_event(const struct nl_event *e)
{
	struct iface *ifp = NULL;

	for (int i = 0; i < carpd->nifs; i++)
		if ((e->type == NL_EV_LINK &&
			strcmp(carpd->ifs[i].name, e->link.name) == 0) ||
		    (carpd->ifs[i].ifindex == e->ifindex && e->ifindex > 0))
			ifp = &carpd->ifs[i];
	return ifp;
}

static void
nl_event(const struct nl_event *e, void *arg)
{
	struct iface *ifp = iface_of_event(e);
	struct nl_link l;

	switch (e->type) {
	case NL_EV_LINK:
		if (ifp != NULL)
			iface_link(ifp, &e->link);
		break;
	case NL_EV_LINK_DEL:
		if (ifp != NULL) {
			memset(&l, 0, sizeof(l));
			iface_link(ifp, &l);
			if (ifp->used)
				iface_gone(ifp);
			ifp->ifindex = 0;
		}
		break;
	case NL_EV_ADDR_NEW:
		if (ifp != NULL &&
		    (ifp->src4.family == 0 || ifp->src6.family == 0))
			iface_addrs(ifp);
		break;
	case NL_EV_ADDR_DEL:
		for (int i = 0; i < carpd->nvh; i++)
			vip_addr_gone(carpd->vh[i], e->ifindex, &e->addr);
		if (ifp != NULL)
			iface_addrs(ifp);
		break;
	}
}

static void
nl_readable(int fd, int events, void *arg)
{
	if (nl_read_events(carpd->nl_events, nl_event, NULL) == -2) {
		log_warnx("rtnetlink events lost; re-reading the links");
		iface_refresh_all();
	}
}

/*
 * Find one interface, and capture on it if a vhid lives there. A missing
 * one is counted as down, unless a vhid needs it: -1 after logging.
 */
int
node_iface_open(struct iface *ifp)
{
	struct nl_link l;

	if (nl_link_by_name(carpd->nl, ifp->name, &l) != 0) {
		if (ifp->used) {
			log_warnx("%s: no such interface", ifp->name);
			return -1;
		}
		log_warnx("%s %s does not exist (yet): counted as down",
		    ifp->track ? "tracked interface" : "checked interface",
		    ifp->name);
		return 0;
	}
	ifp->ifindex = l.ifindex;
	memcpy(ifp->mac, l.mac, sizeof(ifp->mac));
	ifp->running = l.running;
	if (ifp->used && ifp->pcap == NULL && iface_capture(ifp) == -1)
		return -1;
	return 0;
}

/*
 * Find every configured interface, capture on the vhid ones and listen
 * for link and address changes. -1 after logging.
 */
int
node_open_ifaces(void)
{
	for (int i = 0; i < carpd->nifs; i++)
		if (node_iface_open(&carpd->ifs[i]) == -1)
			return -1;
	if (ev_fd_add(carpd->loop, nl_fd(carpd->nl_events), EV_READ,
		nl_readable, NULL) == -1) {
		log_warn("rtnetlink events: ev_fd_add");
		return -1;
	}
	return 0;
}

/* The state machine's settings of v: its own and the node's. */
void
node_fsm_cfg(const struct vh *v, struct fsm_cfg *cfg)
{
	cfg->demote_skew = carpd->demote_skew;
	cfg->sync = carpd->sync_path != NULL;
	cfg->sync_timeout_ns = (uint64_t)carpd->sync_timeout_ms * 1000000ULL;
	cfg->hold_ns = (uint64_t)(v->preempt_delay >= 0 ?
			       (unsigned int)v->preempt_delay :
			       carpd->preempt_delay) *
	    1000000000ULL;
}

/* One vhid from nothing: none of our addresses, BACKUP if it has link. */
void
node_vh_start(struct vh *v)
{
	struct fsm_cfg cfg = v->fsm.cfg;
	struct fsm_demote d;
	struct fsm_out out;

	node_fsm_cfg(v, &cfg);
	fsm_init(&v->fsm, &cfg);
	if ((v->timer = ev_timer_new(carpd->loop, vh_timer_cb, v)) == NULL)
		fatal("timer");
	d = demote_now();
	fsm_step(&v->fsm, FSM_EV_DEMOTE, &d, ev_now_ns(), &out);
	log_info("vhid %u on %s: advbase %u advskew %u%s, %d "
		 "address(es), %s",
	    v->fsm.cfg.vhid, v->ifname, v->fsm.cfg.advbase, v->fsm.cfg.advskew,
	    v->fsm.cfg.preempt ?
		v->fsm.cfg.hold_ns ? " preempt (delayed)" : " preempt" :
		"",
	    v->naddrs, v->npeers ? "unicast" : "multicast");
	vip_del_all(v);
	if (!v->ifp->running && !v->ignoreifstate) {
		log_warnx("vhid %u: %s has no link; staying INIT",
		    v->fsm.cfg.vhid, v->ifname);
		return;
	}
	fsm_step(&v->fsm, FSM_EV_UP, NULL, ev_now_ns(), &out);
	if (v->fsm.cfg.preempt)
		fsm_step(&v->fsm, FSM_EV_HOLD, NULL, ev_now_ns(),
		    &(struct fsm_out){ 0 });
	/* The down script runs at start (ucarp, initial_notify) unless
	 * neutral (-n). */
	if (v->neutral)
		out.actions &= ~(unsigned int)FSM_A_RUN_DOWN;
	apply(v, &out);
}

/* Start the checks (failed until they pass), set the node demotion,
 * then start every vhid. */
void
node_start(void)
{
	check_start();
	demote_init();
	for (int i = 0; i < carpd->nvh; i++)
		node_vh_start(carpd->vh[i]);
}

/*
 * A vhid leaves the configuration, as at a shutdown of it alone: a master
 * releases it (its peer takes over at once, the node's other vhids stay),
 * its addresses go, the down script runs, its macvlan goes. The caller
 * takes it out of carpd->vh and frees it.
 */
void
node_vh_remove(struct vh *v)
{
	carpd_step(v, FSM_EV_REMOVE, NULL);
	vip_del_all(v);
	vip_teardown(v);
	ev_timer_free(v->timer);
	v->timer = NULL;
}

/* Bow out, run the down scripts (bounded), remove the macvlans. */
void
node_stop(void)
{
	carpd->shutting_down = 1;
	check_stop();
	for (int i = 0; i < carpd->nvh; i++)
		carpd_step(carpd->vh[i], FSM_EV_SHUTDOWN, NULL);
	script_wait_all(CARPD_SCRIPT_EXIT_WAIT_MS);
	for (int i = 0; i < carpd->nvh; i++)
		vip_teardown(carpd->vh[i]);
}

/*
 * metrics.c: carpd's status as Prometheus metrics ("status --prometheus"
 * and the --metrics listener): the families, their help and their labels.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "carpd.h"
#include "ev.h"
#include "prom.h"
#include "util.h"

/*
 * Counters read at an offset: one line each. Consecutive lines with the
 * same name are one family (help on its first line) told apart by their
 * label; a new counter is one more line.
 */
struct counter {
	const char *name;
	const char *help;
	const char *label, *value; /* or NULL */
	size_t off;
};

/* clang-format off */
#define ST(f)	offsetof(struct carpd_stats, f)
static const struct counter node_counters[] = {
	{ "carpd_rx_packets_total", "CARP packets captured, by IP version.",
	    "family", "ipv4", ST(ipackets) },
	{ "carpd_rx_packets_total", NULL, "family", "ipv6", ST(ipackets6) },
	{ "carpd_tx_packets_total", "Advertisements sent, by IP version.",
	    "family", "ipv4", ST(opackets) },
	{ "carpd_tx_packets_total", NULL, "family", "ipv6", ST(opackets6) },
	{ "carpd_tx_errors_total", "Advertisements that failed to go out.",
	    NULL, NULL, ST(oerrors) },
	{ "carpd_tx_gratuitous_arp_total", "Gratuitous ARP packets sent.",
	    NULL, NULL, ST(garps) },
	{ "carpd_tx_neighbor_advertisements_total",
	    "Unsolicited IPv6 neighbor advertisements sent.", NULL, NULL,
	    ST(nas) },
};
#undef ST

#define VH(f)	offsetof(struct vh, f)
static const struct counter vh_counters[] = {
	{ "carpd_vhid_rx_advertisements_total",
	    "Valid advertisements received for the vhid.", NULL, NULL,
	    VH(rx) },
	{ "carpd_vhid_tx_advertisements_total",
	    "Advertisements sent for the vhid.", NULL, NULL, VH(tx) },
	{ "carpd_vhid_rx_bowouts_total",
	    "Bow-out advertisements received (a master leaving).", NULL, NULL,
	    VH(rx_bowout) },
	{ "carpd_vhid_rx_badauth_total",
	    "Advertisements for the vhid whose HMAC did not match.", NULL,
	    NULL, VH(badauth) },
	{ "carpd_vhid_addresses_restored_total",
	    "Virtual addresses put back after someone removed them.", NULL,
	    NULL, VH(readded) },
	{ "carpd_split_brain_total",
	    "Times another master was heard while this node stayed master.",
	    NULL, NULL, VH(fsm.splitbrain) },
};
#undef VH
/* clang-format on */

/* Gauges of a vhid, computed. */
struct vh_gauge {
	const char *name;
	const char *help;
	double (*get)(const struct vh *);
};

static double
g_advbase(const struct vh *v)
{
	return v->fsm.cfg.advbase;
}

static double
g_advskew(const struct vh *v)
{
	return v->fsm.cfg.advskew;
}

static double
g_advskew_sent(const struct vh *v)
{
	return fsm_wire_advskew(&v->fsm);
}

static double
g_demote_sent(const struct vh *v)
{
	return fsm_wire_demote(&v->fsm);
}

static double
g_preempt(const struct vh *v)
{
	return v->fsm.cfg.preempt != 0;
}

static double
g_vmac(const struct vh *v)
{
	return v->vmac != 0;
}

static double
g_pending(const struct vh *v)
{
	return v->fsm.pending != 0;
}

static double
g_contention(const struct vh *v)
{
	return v->fsm.contention != 0;
}

static double
g_adv_interval(const struct vh *v)
{
	return (double)fsm_adv_ns(&v->fsm) / 1e9;
}

static double
g_down_interval(const struct vh *v)
{
	return (double)fsm_down_ns(&v->fsm) / 1e9;
}

static double
g_last_change(const struct vh *v)
{
	uint64_t at = v->fsm.last_at ? v->fsm.last_at : carpd->started_ns;

	return util_wallclock() - (double)(ev_now_ns() - at) / 1e9;
}

/* clang-format off */
static const struct vh_gauge vh_gauges[] = {
	{ "carpd_vhid_advbase_seconds", "Configured advertisement base "
	    "interval (advbase).", g_advbase },
	{ "carpd_vhid_advskew", "Configured advertisement skew (advskew, "
	    "in 1/256 s).", g_advskew },
	{ "carpd_vhid_advskew_advertised", "The advskew put on the wire "
	    "(with --demote-skew, demotion included).", g_advskew_sent },
	{ "carpd_vhid_demotion_advertised", "The demotion counter put on "
	    "the wire.", g_demote_sent },
	{ "carpd_vhid_preempt", "1 when the vhid preempts a slower "
	    "master.", g_preempt },
	{ "carpd_vhid_vmac", "1 when the vhid uses the virtual MAC "
	    "address.", g_vmac },
	{ "carpd_vhid_takeover_pending", "1 while a takeover waits for "
	    "syncd's commit.", g_pending },
	{ "carpd_vhid_contention", "1 while another master is being "
	    "heard (split brain).", g_contention },
	{ "carpd_vhid_advertise_interval_seconds", "Interval between "
	    "advertisements as master.", g_adv_interval },
	{ "carpd_vhid_master_down_interval_seconds", "Silence after which "
	    "a backup takes over.", g_down_interval },
	{ "carpd_vhid_last_transition_timestamp_seconds", "Wall-clock time "
	    "of the last state change (start-up when none).", g_last_change },
};
/* clang-format on */

static uint64_t
at_off(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

/* Counters of one struct, a family per run of equal names. */
static void
put_counters(struct prom *p, const struct counter *c, size_t n,
    const void *base)
{
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(c[i].name, c[i - 1].name) != 0)
			prom_family(p, c[i].name, PROM_COUNTER, c[i].help);
		prom_u64(p, at_off(base, c[i].off), c[i].label, c[i].value,
		    PROM_END);
	}
}

static void
vh_labels(const struct vh *v, char *vhid, size_t len)
{
	snprintf(vhid, len, "%u", v->fsm.cfg.vhid);
}

/* The state, one-hot, and the transitions by state entered and cause. */
static void
put_vh_states(struct prom *p)
{
	char id[8];
	struct vh *v;

	prom_family(p, "carpd_vhid_state", PROM_GAUGE,
	    "1 for the state "
	    "the vhid is in (INIT, BACKUP, MASTER), 0 for the others.");
	for (int i = 0; i < carpd->nvh; i++) {
		v = carpd->vh[i];
		vh_labels(v, id, sizeof(id));
		for (int s = CARP_ST_INIT; s <= CARP_ST_MASTER; s++)
			prom_u64(p, v->fsm.state == (enum carp_state)s, "vhid",
			    id, "interface", v->ifname, "state",
			    carp_state_names[s], PROM_END);
	}
	prom_family(p, "carpd_transitions_total", PROM_COUNTER,
	    "State "
	    "changes, by the state entered and the event that caused it "
	    "(only those that happened).");
	for (int i = 0; i < carpd->nvh; i++) {
		v = carpd->vh[i];
		vh_labels(v, id, sizeof(id));
		for (int s = CARP_ST_INIT; s <= CARP_ST_MASTER; s++)
			for (int e = 0; e < FSM_NEV; e++)
				if (v->fsm.transitions_by[s][e] != 0)
					prom_u64(p,
					    v->fsm.transitions_by[s][e],
					    "vhid", id, "interface", v->ifname,
					    "state", carp_state_names[s],
					    "cause", fsm_ev_names[e],
					    PROM_END);
	}
}

static void
put_vhids(struct prom *p)
{
	const size_t ng = sizeof(vh_gauges) / sizeof(vh_gauges[0]);
	const size_t nc = sizeof(vh_counters) / sizeof(vh_counters[0]);
	char id[8], a[ADDR_STRLEN];
	struct vh *v;

	put_vh_states(p);
	for (size_t g = 0; g < ng; g++) {
		prom_family(p, vh_gauges[g].name, PROM_GAUGE,
		    vh_gauges[g].help);
		for (int i = 0; i < carpd->nvh; i++) {
			v = carpd->vh[i];
			vh_labels(v, id, sizeof(id));
			prom_f64(p, vh_gauges[g].get(v), "vhid", id,
			    "interface", v->ifname, PROM_END);
		}
	}
	for (size_t c = 0; c < nc; c++) {
		prom_family(p, vh_counters[c].name, PROM_COUNTER,
		    vh_counters[c].help);
		for (int i = 0; i < carpd->nvh; i++) {
			v = carpd->vh[i];
			vh_labels(v, id, sizeof(id));
			prom_u64(p, at_off(v, vh_counters[c].off), "vhid", id,
			    "interface", v->ifname, PROM_END);
		}
	}
	prom_family(p, "carpd_vhid_address_present", PROM_GAUGE,
	    "1 when "
	    "the virtual address is on the interface (added by carpd).");
	for (int i = 0; i < carpd->nvh; i++) {
		v = carpd->vh[i];
		vh_labels(v, id, sizeof(id));
		for (int j = 0; j < v->naddrs; j++)
			prom_u64(p, v->addrs[j].present != 0, "vhid", id,
			    "interface", v->ifname, "address",
			    addr_fmt(&v->addrs[j].a, v->addrs[j].plen, a,
				sizeof(a)),
			    PROM_END);
	}
}

static void
put_node(struct prom *p)
{
	const struct carpd_stats *st = &carpd->st;

	prom_family(p, "carpd_demotion", PROM_GAUGE,
	    "Node demotion by "
	    "reason; the advertised demotion is their sum.");
	for (int i = 0; i < DEM_MAX; i++)
		prom_u64(p, carpd->dem[i], "reason", carpd_dem_names[i],
		    PROM_END);
	prom_family(p, "carpd_interface_link_up", PROM_GAUGE,
	    "1 when the "
	    "interface (of a vhid or --track) has link.");
	for (int i = 0; i < carpd->nifs; i++)
		if (carpd->ifs[i].name[0] != '\0')
			prom_u64(p, carpd->ifs[i].running != 0, "interface",
			    carpd->ifs[i].name, PROM_END);
	prom_family(p, "carpd_interface_tracked", PROM_GAUGE,
	    "1 when the "
	    "interface is only tracked (--track), with no vhid.");
	for (int i = 0; i < carpd->nifs; i++)
		if (carpd->ifs[i].name[0] != '\0')
			prom_u64(p, carpd->ifs[i].track != 0, "interface",
			    carpd->ifs[i].name, PROM_END);
	put_counters(p, node_counters,
	    sizeof(node_counters) / sizeof(node_counters[0]), st);
	prom_family(p, "carpd_rx_rejected_total", PROM_COUNTER,
	    "Received "
	    "packets dropped, by reason.");
	for (int i = CARP_E_BADLEN; i < CARP_E_MAX; i++)
		prom_u64(p, st->rej[i], "reason", carp_err_names[i], PROM_END);
}

static void
put_reload(struct prom *p)
{
	const struct carpd_reloads *r = &carpd->reload;

	prom_family(p, "carpd_config_reloads_total", PROM_COUNTER,
	    "Configuration reloads (SIGHUP), by result: ok (applied) or "
	    "refused (the running configuration stayed).");
	prom_u64(p, r->ok, "result", "ok", PROM_END);
	prom_u64(p, r->refused, "result", "refused", PROM_END);
	prom_family(p, "carpd_config_last_reload_successful", PROM_GAUGE,
	    "0 when the last reload was refused, else 1.");
	prom_u64(p, r->last_ns == 0 || r->last_ok, PROM_END);
}

static void
put_sync(struct prom *p)
{
	if (carpd->sync_path == PROM_END)
		return;
	prom_family(p, "carpd_sync_connected", PROM_GAUGE,
	    "1 while "
	    "carpd is connected to syncd's control socket.");
	prom_u64(p, carpd->sync_up != 0, PROM_END);
	prom_family(p, "carpd_sync_commits_total", PROM_COUNTER,
	    "Commits "
	    "asked of syncd before a takeover.");
	prom_u64(p, carpd->sync_commits, PROM_END);
	prom_family(p, "carpd_sync_commit_failures_total", PROM_COUNTER,
	    "Commits that failed or were not answered in time.");
	prom_u64(p, carpd->sync_commit_fail, PROM_END);
}

int
carpd_metrics(struct sbuf *out)
{
	struct prom p;

	prom_init(&p, out);
	prom_family(&p, "carpd_build_info", PROM_GAUGE,
	    "Always 1; the "
	    "version of carpd as a label.");
	prom_u64(&p, 1, "version", VERSION, PROM_END);
	prom_family(&p, "carpd_start_time_seconds", PROM_GAUGE,
	    "Wall-clock "
	    "time carpd started.");
	prom_f64(&p,
	    util_wallclock() - (double)(ev_now_ns() - carpd->started_ns) / 1e9,
	    PROM_END);
	put_vhids(&p);
	put_node(&p);
	put_reload(&p);
	put_sync(&p);
	return p.err || out->err ? -1 : 0;
}

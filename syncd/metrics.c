/*
 * metrics.c: syncd's status as Prometheus metrics ("status --prometheus"
 * and the --metrics listener): the families, their help and their labels.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "prom.h"

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
#define PS(f)	offsetof(struct peer_stats, f)
static const struct counter peer_counters[] = {
	{ "syncd_peer_tx_frames_total", "Frames sent to the peer.",
	    NULL, NULL, PS(tx_frames) },
	{ "syncd_peer_rx_frames_total", "Frames received from the peer.",
	    NULL, NULL, PS(rx_frames) },
	{ "syncd_peer_tx_bytes_total", "Bytes of the frames sent to the peer.",
	    NULL, NULL, PS(tx_bytes) },
	{ "syncd_peer_rx_bytes_total", "Bytes of the frames received from "
	    "the peer.", NULL, NULL, PS(rx_bytes) },
	{ "syncd_peer_tx_states_total", "State records sent to the peer.",
	    NULL, NULL, PS(tx_states) },
	{ "syncd_peer_rx_states_total", "State records received from the "
	    "peer.", NULL, NULL, PS(rx_states) },
	{ "syncd_peer_resent_frames_total", "Frames sent again after a "
	    "loss.", NULL, NULL, PS(resent) },
	{ "syncd_peer_lost_frames_total", "Frames the peer never got "
	    "(skipped past).", NULL, NULL, PS(lost) },
	{ "syncd_peer_duplicate_frames_total", "Frames received twice.",
	    NULL, NULL, PS(dup) },
	{ "syncd_peer_rx_rejected_frames_total", "Frames from the peer "
	    "dropped whole (any reason).", NULL, NULL, PS(rx_rejected) },
	/* Per reason; malformed also counts bad records of good frames. */
	{ "syncd_peer_rx_rejected_total", "Input from the peer dropped, by "
	    "reason.", "reason", "forged", PS(rx_forged) },
	{ "syncd_peer_rx_rejected_total", NULL, "reason", "replayed",
	    PS(rx_replayed) },
	{ "syncd_peer_rx_rejected_total", NULL, "reason", "malformed",
	    PS(rx_malformed) },
	{ "syncd_peer_rx_rejected_total", NULL, "reason", "stale",
	    PS(rx_stale) },
	{ "syncd_peer_unknown_updates_total", "Updates for states the "
	    "peer had not sent before.", NULL, NULL, PS(unknown_updates) },
	{ "syncd_peer_skips_total", "Gaps the peer told us to skip.",
	    NULL, NULL, PS(skips) },
	{ "syncd_peer_bulks_sent_total", "Bulk updates sent to the peer.",
	    NULL, NULL, PS(bulks_sent) },
	{ "syncd_peer_bulks_received_total", "Bulk updates received from "
	    "the peer.", NULL, NULL, PS(bulks_received) },
	{ "syncd_peer_stale_acks_total", "Acks from the peer overtaken by "
	    "a newer one (on another path), ignored.", NULL, NULL,
	    PS(stale_acks) },
};
#undef PS

#define SD(f)	offsetof(struct syncd, f)
static const struct counter node_counters[] = {
	{ "syncd_rx_unknown_source_total", "Frames from addresses that are "
	    "no peer.", NULL, NULL, SD(rx_unknown) },
	{ "syncd_sync_flows_ignored_total", "Conntrack events of the sync "
	    "link itself, not synced.", NULL, NULL, SD(sync_flows) },
	{ "syncd_peer_owned_ignored_total", "Dumped states that peers own, "
	    "not taken as ours.", NULL, NULL, SD(peer_owned) },
	{ "syncd_staged_total", "Peers' states staged into the kernel.",
	    NULL, NULL, SD(staged) },
	{ "syncd_staged_expired_total", "Staged copies the kernel expired "
	    "(a commit imports them).", NULL, NULL, SD(stage_expired) },
	{ "syncd_handed_over_total", "Own states a peer's takeover made "
	    "its own.", NULL, NULL, SD(handed_over) },
	{ "syncd_takeovers_held_total", "Peers' takeovers that came while "
	    "this node was master (applied once it is master of nothing).",
	    NULL, NULL, SD(takeovers_held) },
	{ "syncd_commits_total", "Commits done (peers' states into the "
	    "kernel).", NULL, NULL, SD(commits) },
	{ "syncd_reloads_total", "Configuration reloads (SIGHUP), by "
	    "result.", "result", "ok", SD(reloads) },
	{ "syncd_reloads_total", NULL, "result", "refused",
	    SD(reloads_refused) },
};
#undef SD

#define CS(f)	offsetof(struct ct_stats, f)
static const struct counter kernel_counters[] = {
	{ "syncd_kernel_events_total", "Conntrack events received.",
	    NULL, NULL, CS(events) },
	{ "syncd_kernel_own_events_total", "Conntrack events caused by "
	    "syncd itself, filtered.", NULL, NULL, CS(own_events) },
	{ "syncd_kernel_overruns_total", "Conntrack event overruns "
	    "(ENOBUFS), each followed by a resync.", NULL, NULL,
	    CS(overruns) },
	{ "syncd_kernel_resyncs_total", "Re-reads of the conntrack table.",
	    NULL, NULL, CS(resyncs) },
	{ "syncd_kernel_empty_reads_total", "Reads of the conntrack table "
	    "not asked of the kernel: the namespace had no entry.", NULL,
	    NULL, CS(dumps_empty) },
	{ "syncd_kernel_parse_errors_total", "Conntrack messages that "
	    "could not be parsed.", NULL, NULL, CS(parse_errors) },
	{ "syncd_kernel_imported_total", "States created in the kernel.",
	    NULL, NULL, CS(imported) },
	{ "syncd_kernel_updated_total", "States updated in the kernel.",
	    NULL, NULL, CS(updated) },
	{ "syncd_kernel_import_errors_total", "States the kernel refused.",
	    NULL, NULL, CS(import_errors) },
};
#undef CS
/* clang-format on */

static uint64_t
at_off(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static int
same_family(const struct counter *c, size_t i)
{
	return i > 0 && strcmp(c[i].name, c[i - 1].name) == 0;
}

static void
put_counters(struct prom *p, const struct counter *c, size_t n,
    const void *base)
{
	for (size_t i = 0; i < n; i++) {
		if (!same_family(c, i))
			prom_family(p, c[i].name, PROM_COUNTER, c[i].help);
		prom_u64(p, at_off(base, c[i].off), c[i].label, c[i].value,
		    PROM_END);
	}
}

static void
put_peer_counters(struct prom *p, const struct syncd *sd)
{
	const size_t n = sizeof(peer_counters) / sizeof(peer_counters[0]);
	const struct counter *c = peer_counters;

	for (size_t i = 0; i < n; i++) {
		if (!same_family(c, i))
			prom_family(p, c[i].name, PROM_COUNTER, c[i].help);
		for (int j = 0; j < sd->npeers; j++)
			prom_u64(p, at_off(&sd->peers[j]->st, c[i].off),
			    "peer", sd->peers[j]->name, c[i].label, c[i].value,
			    PROM_END);
	}
}

static void
put_peer_gauges(struct prom *p, const struct syncd *sd)
{
	static const char *const bulk[] = { "none", "requested", "running",
		"done", "failed" };
	const struct peer *q;
	char why[96];

	prom_family(p, "syncd_peer_up", PROM_GAUGE,
	    "1 while the peer is "
	    "heard from (authentic frames within the dead interval).");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, sd->peers[j]->alive != 0, "peer",
		    sd->peers[j]->name, PROM_END);
	prom_family(p, "syncd_peer_in_sync", PROM_GAUGE,
	    "1 when the peer "
	    "is alive and its bulk is in: its states are here.");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, peer_in_sync(sd->peers[j], why, sizeof(why)) != 0,
		    "peer", sd->peers[j]->name, PROM_END);
	prom_family(p, "syncd_peer_last_seen_seconds", PROM_GAUGE,
	    "Seconds "
	    "since the last frame from the peer (absent: never).");
	for (int j = 0; j < sd->npeers; j++)
		if ((q = sd->peers[j])->last_rx_ns != 0)
			prom_f64(p,
			    (double)(ev_now_ns() - q->last_rx_ns) / 1e9,
			    "peer", q->name, PROM_END);
	prom_family(p, "syncd_peer_external_states", PROM_GAUGE,
	    "States "
	    "the peer holds as its own, cached here.");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, cache_count(sd->peers[j]->ext), "peer",
		    sd->peers[j]->name, PROM_END);
	prom_family(p, "syncd_peer_internal_states", PROM_GAUGE,
	    "States "
	    "the peer says it holds (from its hello).");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, sd->peers[j]->peer_internal, "peer",
		    sd->peers[j]->name, PROM_END);
	prom_family(p, "syncd_peer_unacked_frames", PROM_GAUGE,
	    "Frames "
	    "sent to the peer and not acknowledged yet.");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, sd->peers[j]->tx_next - sd->peers[j]->tx_una,
		    "peer", sd->peers[j]->name, PROM_END);
	prom_family(p, "syncd_peer_expectations", PROM_GAUGE,
	    "Expectations "
	    "the peer holds, cached here.");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, sd->peers[j]->nexp, "peer", sd->peers[j]->name,
		    PROM_END);
	prom_family(p, "syncd_peer_bulk", PROM_GAUGE,
	    "1 for the state of "
	    "our bulk request to the peer, 0 for the others.");
	for (int j = 0; j < sd->npeers; j++)
		for (int s = BULK_REQ_NONE; s <= BULK_REQ_FAILED; s++)
			prom_u64(p,
			    sd->peers[j]->bulk_req == (enum bulk_req_state)s,
			    "peer", sd->peers[j]->name, "state", bulk[s],
			    PROM_END);
}

/* One value per path of every peer, labelled peer and path. */
enum path_value { PV_UP, PV_ACTIVE, PV_TX, PV_RX, PV_ERR, PV_DOWNS };

static uint64_t
path_value(const struct peer *q, int i, enum path_value v)
{
	const struct path *t = &q->path[i];

	switch (v) {
	case PV_UP:
		return q->npaths == 1 ? q->alive != 0 : t->up != 0;
	case PV_ACTIVE:
		return i == q->active;
	case PV_TX:
		return t->tx_frames;
	case PV_RX:
		return t->rx_frames;
	case PV_ERR:
		return t->tx_errors;
	case PV_DOWNS:
		return t->downs;
	}
	return 0;
}

static void
put_paths(struct prom *p, const struct syncd *sd)
{
	/* clang-format off */
	static const struct {
		const char *name;
		enum prom_type type;
		const char *help;
		enum path_value v;
	} fam[] = {
		{ "syncd_peer_path_up", PROM_GAUGE, "1 while the path to "
		    "the peer works both ways.", PV_UP },
		{ "syncd_peer_path_active", PROM_GAUGE, "1 for the path "
		    "frames to the peer go out on.", PV_ACTIVE },
		{ "syncd_peer_path_tx_frames_total", PROM_COUNTER, "Frames "
		    "sent to the peer on the path.", PV_TX },
		{ "syncd_peer_path_rx_frames_total", PROM_COUNTER, "Frames "
		    "from the peer on the path (authentic, new).", PV_RX },
		{ "syncd_peer_path_tx_errors_total", PROM_COUNTER, "Frames "
		    "the path's socket did not take.", PV_ERR },
		{ "syncd_peer_path_downs_total", PROM_COUNTER, "Times the "
		    "path went down.", PV_DOWNS },
	};
	/* clang-format on */
	const struct peer *q;

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		prom_family(p, fam[f].name, fam[f].type, fam[f].help);
		for (int j = 0; j < sd->npeers; j++)
			for (int i = 0; i < (q = sd->peers[j])->npaths; i++)
				prom_u64(p, path_value(q, i, fam[f].v), "peer",
				    q->name, "path", q->path[i].name,
				    PROM_END);
	}
	prom_family(p, "syncd_peer_path_last_seen_seconds", PROM_GAUGE,
	    "Seconds since the last frame from the peer on the path "
	    "(absent: never).");
	for (int j = 0; j < sd->npeers; j++)
		for (int i = 0; i < (q = sd->peers[j])->npaths; i++)
			if (q->path[i].last_rx_ns != 0)
				prom_f64(p,
				    (double)(ev_now_ns() -
					q->path[i].last_rx_ns) /
					1e9,
				    "peer", q->name, "path", q->path[i].name,
				    PROM_END);
	prom_family(p, "syncd_peer_path_switches_total", PROM_COUNTER,
	    "Moves of the peer's traffic from one path to another.");
	for (int j = 0; j < sd->npeers; j++)
		prom_u64(p, sd->peers[j]->path_switches, "peer",
		    sd->peers[j]->name, PROM_END);
}

static void
put_node(struct prom *p, const struct syncd *sd)
{
	static const char *const first[] = { "pending", "done", "failed" };
	size_t mem = cache_mem(sd->internal);

	for (int i = 0; i < sd->npeers; i++)
		mem += cache_mem(sd->peers[i]->ext);
	prom_family(p, "syncd_internal_states", PROM_GAUGE,
	    "This node's "
	    "own states, cached.");
	prom_u64(p, cache_count(sd->internal), PROM_END);
	prom_family(p, "syncd_external_states", PROM_GAUGE,
	    "States learned "
	    "from the peers.");
	prom_u64(p, engine_external(sd), PROM_END);
	prom_family(p, "syncd_queued_states", PROM_GAUGE,
	    "Own states "
	    "queued to be sent.");
	prom_u64(p, cache_queued(sd->internal), PROM_END);
	prom_family(p, "syncd_stage_backlog_states", PROM_GAUGE,
	    "Peers' "
	    "states waiting to be staged into the kernel.");
	prom_u64(p, stage_backlog(sd), PROM_END);
	prom_family(p, "syncd_staging_enabled", PROM_GAUGE,
	    "1 when peers' "
	    "states are staged into the kernel as they arrive.");
	prom_u64(p, sd->stage_enabled != 0, PROM_END);
	prom_family(p, "syncd_expectations", PROM_GAUGE,
	    "This node's own "
	    "expectations, cached.");
	prom_u64(p, sd->nexp, PROM_END);
	prom_family(p, "syncd_cache_bytes", PROM_GAUGE,
	    "Memory of the "
	    "state caches.");
	prom_u64(p, mem, PROM_END);
	prom_family(p, "syncd_demotion", PROM_GAUGE,
	    "The demotion syncd "
	    "asks of carpd (-1 before it is known).");
	prom_f64(p, sd->demote, PROM_END);
	prom_family(p, "syncd_first_bulk", PROM_GAUGE,
	    "1 for the state of "
	    "the first bulk from any peer, 0 for the others.");
	for (int s = FIRST_BULK_PENDING; s <= FIRST_BULK_FAILED; s++)
		prom_u64(p, sd->first_bulk == (enum first_bulk)s, "state",
		    first[s], PROM_END);
	prom_family(p, "syncd_sealed", PROM_GAUGE,
	    "1 when sync frames are "
	    "authenticated and encrypted with a key.");
	prom_u64(p, sd->have_key != 0, PROM_END);
	prom_family(p, "syncd_mtu_bytes", PROM_GAUGE,
	    "The MTU frames are "
	    "sized for.");
	prom_u64(p, (uint64_t)sd->mtu, PROM_END);
	prom_family(p, "syncd_commit_seconds_total", PROM_COUNTER,
	    "Time "
	    "spent in commits (divide by syncd_commits_total for the "
	    "mean).");
	prom_f64(p, (double)sd->commit_ns / 1e9, PROM_END);
	prom_family(p, "syncd_last_commit_duration_seconds", PROM_GAUGE,
	    "How long the last commit took (0: none yet).");
	prom_f64(p, (double)sd->commit_last_ns / 1e9, PROM_END);
}

int
syncd_metrics(const struct syncd *sd, struct sbuf *out)
{
	struct prom p;

	prom_init(&p, out);
	prom_family(&p, "syncd_build_info", PROM_GAUGE,
	    "Always 1; the "
	    "version of syncd as a label.");
	prom_u64(&p, 1, "version", VERSION, PROM_END);
	put_node(&p, sd);
	put_counters(&p, node_counters,
	    sizeof(node_counters) / sizeof(node_counters[0]), sd);
	if (sd->ct != NULL)
		put_counters(&p, kernel_counters,
		    sizeof(kernel_counters) / sizeof(kernel_counters[0]),
		    ct_stats(sd->ct));
	put_peer_gauges(&p, sd);
	put_peer_counters(&p, sd);
	put_paths(&p, sd);
	return p.err || out->err ? -1 : 0;
}

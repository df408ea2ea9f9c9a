/*
 * control.c: syncd's control socket: accepts a request, checks it and
 * answers it or hands it on: status, resync, carpd's subscription (demote
 * and handover events); commit to commit.c, diff to diff.c, dump to
 * cachedump.c, the status in Prometheus format to metrics.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "log.h"
#include "sbuf.h"
#include "util.h"

#define HANDOVER_FLUSH_NS (100 * NS_MS)

/* The connection data of a subscribed connection. */
static int subscribed_mark;

struct control {
	struct syncd *sd;
	struct ctl_server *srv;
	struct commit *commit;
	struct diff *diff;
	struct cachedump *dump;
	struct ctl_conn *role_conn; /* the one that said "role master" */
};

static int
match_sub(struct ctl_conn *c, void *arg)
{
	return ctl_conn_data(c) == &subscribed_mark;
}

/* The demote event, to one connection or (one NULL) to subscribers. */
static void
send_demote(struct control *c, struct ctl_conn *one)
{
	struct syncd *sd = c->sd;
	char buf[sizeof(sd->demote_reason) + 32];
	int n;

	n = snprintf(buf, sizeof(buf), "demote %d %s", sd->demote,
	    sd->demote_reason);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	if (one != NULL)
		ctl_send(one, CTL_EVENT, buf, (size_t)n);
	else
		ctl_server_broadcast(c->srv, CTL_EVENT, buf, (size_t)n,
		    match_sub, NULL);
}

void
control_demote_changed(struct control *c)
{
	if (c == NULL)
		return;
	log_info("demote %d (%s)", c->sd->demote, c->sd->demote_reason);
	send_demote(c, NULL);
}

void
control_peers_changed(struct control *c, int removed)
{
	if (c == NULL)
		return;
	diff_peers_changed(c->diff, removed);
	if (removed >= 0) {
		commit_peer_removed(c->commit, removed);
		cachedump_peer_removed(c->dump, removed);
	}
}

static const char *
sess_state_name(const struct peer *p)
{
	switch (p->sess.tx.state) {
	case SESS_UP:
		return "up";
	case SESS_INIT:
		return "handshake";
	default:
		return "none";
	}
}

/* The sessions with p (docs/sync-protocol.md, 3). */
static void
json_session(struct sbuf *b, const struct peer *p)
{
	const struct sess *s = &p->sess;

	sbuf_printf(b,
	    ",\"session_out\":\"%s\",\"session_in\":\"%s\","
	    "\"sessions_out\":%llu,\"sessions_in\":%llu,\"rekeys\":%llu,"
	    "\"inits_sent\":%llu,\"inits_received\":%llu,"
	    "\"resps_received\":%llu,\"tx_seq\":%llu,\"rx_seq\":%llu,"
	    "\"tx_wraps\":%llu,\"rx_wraps\":%llu}",
	    sess_state_name(p), s->rx.valid ? "up" : "none",
	    (unsigned long long)s->st.tx_sessions,
	    (unsigned long long)s->st.rx_sessions,
	    (unsigned long long)s->st.rekeys,
	    (unsigned long long)s->st.inits_sent,
	    (unsigned long long)s->st.inits_rx,
	    (unsigned long long)s->st.resps_rx, (unsigned long long)p->tx_next,
	    (unsigned long long)p->rx_next, (unsigned long long)p->st.tx_wraps,
	    (unsigned long long)p->st.rx_wraps);
}

/* "name":N for reasons first..last of counts (JSON) or, in text, the
 * nonzero ones as "name N, ..."; returns how many were nonzero. */
static int
reason_counts(struct sbuf *b, int json, const uint64_t *counts,
    enum pol_reason first, enum pol_reason last)
{
	int n = 0;

	for (int r = first; r <= (int)last; r++) {
		if (json)
			sbuf_printf(b, "%s\"%s\":%llu",
			    r > (int)first ? "," : "", pol_reason_names[r],
			    (unsigned long long)counts[r]);
		else if (counts[r] > 0)
			sbuf_printf(b, "%s%s %llu", n > 0 ? ", " : "",
			    pol_reason_names[r],
			    (unsigned long long)counts[r]);
		n += counts[r] > 0;
	}
	return n;
}

static void
json_peer(struct sbuf *b, struct peer *p)
{
	char why[96];
	int in = peer_in_sync(p, why, sizeof(why));
	double last = p->last_rx_ns ?
	    (double)(ev_now_ns() - p->last_rx_ns) / 1e9 :
	    -1;

	sbuf_puts(b, "{\"address\":");
	sbuf_json_str(b, p->name);
	sbuf_printf(b, ",\"alive\":%s,\"in_sync\":%s,\"reason\":",
	    p->alive ? "true" : "false", in ? "true" : "false");
	sbuf_json_str(b, why);
	sbuf_printf(b,
	    ",\"last_seen\":%.3f,\"external\":%zu,"
	    "\"peer_internal\":%u,\"bulk\":\"%s\","
	    "\"tx_frames\":%llu,\"rx_frames\":%llu,\"tx_bytes\":%llu,"
	    "\"rx_bytes\":%llu,\"tx_states\":%llu,\"rx_states\":%llu,"
	    "\"resent\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
	    "\"rx_rejected\":%llu,\"rx_forged\":%llu,\"rx_replayed\":%llu,"
	    "\"rx_malformed\":%llu,\"rx_stale\":%llu,"
	    "\"unknown_updates\":%llu,\"skips\":%llu,\"bulks_sent\":%llu,"
	    "\"bulks_received\":%llu,\"unacked\":%u,\"expectations\":%zu,"
	    "\"stale_acks\":%llu",
	    last, cache_count(p->ext), p->peer_internal,
	    bulk_req_name(p->bulk_req), (unsigned long long)p->st.tx_frames,
	    (unsigned long long)p->st.rx_frames,
	    (unsigned long long)p->st.tx_bytes,
	    (unsigned long long)p->st.rx_bytes,
	    (unsigned long long)p->st.tx_states,
	    (unsigned long long)p->st.rx_states,
	    (unsigned long long)p->st.resent, (unsigned long long)p->st.lost,
	    (unsigned long long)p->st.dup,
	    (unsigned long long)p->st.rx_rejected,
	    (unsigned long long)p->st.rx_forged,
	    (unsigned long long)p->st.rx_replayed,
	    (unsigned long long)p->st.rx_malformed,
	    (unsigned long long)p->st.rx_stale,
	    (unsigned long long)p->st.unknown_updates,
	    (unsigned long long)p->st.skips,
	    (unsigned long long)p->st.bulks_sent,
	    (unsigned long long)p->st.bulks_received,
	    (unsigned)(p->tx_next - p->tx_una), p->nexp,
	    (unsigned long long)p->st.stale_acks);
	sbuf_puts(b, ",\"import_rejected\":{");
	reason_counts(b, 1, p->import_rejected, POL_LOCAL, POL_NREASONS - 1);
	sbuf_puts(b, "}");
	path_status(p, 1, b);
	json_session(b, p);
}

/* The send filter's counts and what it consults. */
static void
status_policy(struct syncd *sd, int json, struct sbuf *b)
{
	if (json) {
		sbuf_puts(b, ",\"send_filtered\":{");
		reason_counts(b, 1, sd->send_filtered, POL_LOCAL, POL_PREFIX);
		sbuf_printf(b,
		    "},\"kept_home\":%zu,\"local_addresses\":%zu,"
		    "\"helpers\":[",
		    sd->unsent != NULL ? cache_count(sd->unsent) : 0,
		    sd->local.n);
		for (size_t i = 0; i < sd->helpers.n; i++) {
			sbuf_puts(b, i > 0 ? "," : "");
			sbuf_json_str(b, sd->helpers.name[i]);
		}
		sbuf_puts(b, "]");
		return;
	}
	sbuf_puts(b, "send filter: kept home ");
	if (reason_counts(b, 0, sd->send_filtered, POL_LOCAL, POL_PREFIX) == 0)
		sbuf_puts(b, "none");
	sbuf_printf(b, "; %zu local addresses, helpers here:", sd->local.n);
	for (size_t i = 0; i < sd->helpers.n; i++) {
		sbuf_puts(b, " ");
		sbuf_text(b, sd->helpers.name[i]);
	}
	sbuf_puts(b, sd->helpers.n == 0 ? " none\n" : "\n");
}

static const char *
bulk_summary(const struct syncd *sd)
{
	int running = 0, done = 0, failed = 0;

	for (int i = 0; i < sd->npeers; i++) {
		switch (sd->peers[i]->bulk_req) {
		case BULK_REQ_SENT:
		case BULK_REQ_RUNNING:
			running++;
			break;
		case BULK_REQ_DONE:
			done++;
			break;
		case BULK_REQ_FAILED:
			failed++;
			break;
		default:
			break;
		}
	}
	if (running)
		return "running";
	if (done)
		return "done";
	if (failed)
		return "failed";
	return "none";
}

static const char *
first_bulk_name(enum first_bulk f)
{
	switch (f) {
	case FIRST_BULK_PENDING:
		return "pending";
	case FIRST_BULK_DONE:
		return "done";
	default:
		return "failed";
	}
}

void
control_status(struct syncd *sd, int json, struct sbuf *b)
{
	const struct ct_stats *cs = sd->ct != NULL ? ct_stats(sd->ct) : NULL;
	size_t mem = cache_mem(sd->internal);
	char why[96];

	for (int i = 0; i < sd->npeers; i++)
		mem += cache_mem(sd->peers[i]->ext);
	if (!json) {
		sbuf_printf(b,
		    "internal %zu, external %zu, queued %zu, "
		    "bulk %s, demote %d (%s), cache memory %zu bytes%s\n",
		    cache_count(sd->internal), engine_external(sd),
		    cache_queued(sd->internal), bulk_summary(sd), sd->demote,
		    sd->demote_reason, mem,
		    sd->have_key ? ", auth key" : ", auth INSECURE (no key)");
		for (int i = 0; i < sd->npeers; i++) {
			struct peer *p = sd->peers[i];

			peer_in_sync(p, why, sizeof(why));
			sbuf_printf(b,
			    "peer %s: %s; external %zu, bulk %s, "
			    "frames tx %llu rx %llu, states tx %llu rx %llu, "
			    "resent %llu, lost %llu, rejected %llu "
			    "(forged %llu, replayed %llu, stale %llu, "
			    "malformed %llu)\n",
			    p->name, why, cache_count(p->ext),
			    bulk_req_name(p->bulk_req),
			    (unsigned long long)p->st.tx_frames,
			    (unsigned long long)p->st.rx_frames,
			    (unsigned long long)p->st.tx_states,
			    (unsigned long long)p->st.rx_states,
			    (unsigned long long)p->st.resent,
			    (unsigned long long)p->st.lost,
			    (unsigned long long)p->st.rx_rejected,
			    (unsigned long long)p->st.rx_forged,
			    (unsigned long long)p->st.rx_replayed,
			    (unsigned long long)p->st.rx_stale,
			    (unsigned long long)p->st.rx_malformed);
			sbuf_puts(b, "  import refused: ");
			if (reason_counts(b, 0, p->import_rejected, POL_LOCAL,
				POL_NREASONS - 1) == 0)
				sbuf_puts(b, "none");
			sbuf_puts(b, "\n");
			path_status(p, 0, b);
		}
		status_policy(sd, 0, b);
		sbuf_printf(b, "reloads %llu, refused %llu\n",
		    (unsigned long long)sd->reloads,
		    (unsigned long long)sd->reloads_refused);
		return;
	}
	sbuf_printf(b,
	    "{\"internal\":%zu,\"external\":%zu,\"queued\":%zu,"
	    "\"bulk\":\"%s\",\"demote\":%d,\"demote_reason\":",
	    cache_count(sd->internal), engine_external(sd),
	    cache_queued(sd->internal), bulk_summary(sd), sd->demote);
	sbuf_json_str(b, sd->demote_reason);
	sbuf_printf(b,
	    ",\"first_bulk\":\"%s\",\"auth\":\"%s\",\"sealed\":%s,"
	    "\"port\":%u,"
	    "\"mtu\":%d,\"cache_bytes\":%zu,\"expectations\":%zu,"
	    "\"sync_flows_ignored\":%llu,\"rx_unknown_source\":%llu,"
	    "\"staging\":%s,\"stage_backlog\":%zu,\"staged\":%llu,"
	    "\"staged_expired\":%llu,\"handed_over\":%llu,"
	    "\"takeovers_held\":%llu,\"master\":%s,"
	    "\"peer_owned_ignored\":%llu,\"commits\":%llu,"
	    "\"commit_seconds\":%.3f,\"reloads\":%llu,"
	    "\"reloads_refused\":%llu",
	    first_bulk_name(sd->first_bulk), sd->have_key ? "key" : "insecure",
	    sd->have_key ? "true" : "false", sd->port, sd->mtu, mem, sd->nexp,
	    (unsigned long long)sd->sync_flows,
	    (unsigned long long)sd->rx_unknown,
	    sd->stage_enabled ? "true" : "false", stage_backlog(sd),
	    (unsigned long long)sd->staged,
	    (unsigned long long)sd->stage_expired,
	    (unsigned long long)sd->handed_over,
	    (unsigned long long)sd->takeovers_held,
	    sd->serving ? "true" : "false", (unsigned long long)sd->peer_owned,
	    (unsigned long long)sd->commits, (double)sd->commit_ns / 1e9,
	    (unsigned long long)sd->reloads,
	    (unsigned long long)sd->reloads_refused);
	status_policy(sd, 1, b);
	if (cs != NULL)
		sbuf_printf(b,
		    ",\"kernel\":{\"events\":%llu,"
		    "\"own_events\":%llu,\"overruns\":%llu,\"resyncs\":%llu,"
		    "\"parse_errors\":%llu,\"imported\":%llu,\"updated\":%llu,"
		    "\"import_errors\":%llu,\"empty_reads\":%llu}",
		    (unsigned long long)cs->events,
		    (unsigned long long)cs->own_events,
		    (unsigned long long)cs->overruns,
		    (unsigned long long)cs->resyncs,
		    (unsigned long long)cs->parse_errors,
		    (unsigned long long)cs->imported,
		    (unsigned long long)cs->updated,
		    (unsigned long long)cs->import_errors,
		    (unsigned long long)cs->dumps_empty);
	sbuf_puts(b, ",\"peers\":[");
	for (int i = 0; i < sd->npeers; i++) {
		if (i > 0)
			sbuf_puts(b, ",");
		json_peer(b, sd->peers[i]);
	}
	sbuf_puts(b, "]}\n");
}

/*
 * "role master|backup": carpd says whether this node is master of any
 * vhid, i.e. carries traffic. A peer's takeover is held while it is
 * (engine.c rx_takeover). It lasts while that connection
 * does: a carpd that is gone has removed its addresses or stopped
 * advertising them.
 */
static void
role_request(struct control *c, struct ctl_conn *conn, int argc, char **argv)
{
	struct syncd *sd = c->sd;
	int master;

	if (argc != 2 ||
	    (strcmp(argv[1], "master") != 0 &&
		strcmp(argv[1], "backup") != 0)) {
		ctl_replyf(conn, 0, "usage: role master|backup");
		return;
	}
	master = strcmp(argv[1], "master") == 0;
	engine_role(sd, master);
	c->role_conn = master ? conn : NULL;
	ctl_replyf(conn, 1, "role %s", argv[1]);
}

static void
on_request(struct ctl_conn *conn, int argc, char **argv, void *arg)
{
	struct control *c = arg;
	struct syncd *sd = c->sd;
	struct sbuf b;
	int json;

	json = argc > 1 &&
	    (strcmp(argv[1], "json") == 0 || strcmp(argv[1], "--json") == 0);
	if (strcmp(argv[0], "status") == 0) {
		sbuf_init(&b);
		if (argc > 1 &&
		    (strcmp(argv[1], "prometheus") == 0 ||
			strcmp(argv[1], "--prometheus") == 0))
			syncd_metrics(sd, &b);
		else
			control_status(sd, json, &b);
		if (b.err)
			ctl_replyf(conn, 0, "out of memory");
		else
			ctl_reply(conn, 1, b.p, b.len);
		sbuf_free(&b);
	} else if (strcmp(argv[0], "subscribe") == 0) {
		ctl_conn_set_data(conn, &subscribed_mark);
		ctl_replyf(conn, 1, "subscribed");
		send_demote(c, conn);
	} else if (strcmp(argv[0], "commit") == 0) {
		commit_request(c->commit, conn);
	} else if (strcmp(argv[0], "role") == 0) {
		role_request(c, conn, argc, argv);
	} else if (strcmp(argv[0], "resync") == 0) {
		for (int i = 0; i < sd->npeers; i++)
			peer_request_bulk(sd->peers[i], 1);
		ctl_replyf(conn, 1, "resync requested from %d peer(s)",
		    sd->npeers);
	} else if (strcmp(argv[0], "diff") == 0) {
		diff_request(c->diff, conn, json);
	} else if (strcmp(argv[0], "dump") == 0) {
		cachedump_request(c->dump, conn, argc, argv);
	} else
		ctl_replyf(conn, 0, "unknown command \"%s\"", argv[0]);
}

static void
/* cppcheck-suppress constParameter ; the type is ctl_close_cb's */
on_close(struct ctl_conn *conn, void *arg)
{
	struct control *c = arg;

	if (conn == c->role_conn) {
		c->role_conn = NULL;
		log_info(
		    "carpd gone: counting this node as master of no vhid");
		engine_role(c->sd, 0);
	}
	commit_conn_closed(c->commit, conn);
	diff_conn_closed(c->diff, conn);
	cachedump_conn_closed(c->dump, conn);
}

struct control *
control_open(struct syncd *sd)
{
	struct control *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sd = sd;
	if ((c->commit = commit_new(sd)) == NULL ||
	    (c->diff = diff_new(sd)) == NULL ||
	    (c->dump = cachedump_new(sd)) == NULL)
		goto fail;
	if ((c->srv = ctl_server_open(sd->loop, sd->control_path, 0600,
		 on_request, c)) == NULL)
		goto fail;
	ctl_server_set_close_cb(c->srv, on_close);
	sd->control = c;
	sd->diff = c->diff;
	return c;
fail:
	control_close(c);
	return NULL;
}

void
control_handover(struct control *c)
{
	uint64_t end;

	if (c == NULL || c->srv == NULL)
		return;
	ctl_server_broadcast(c->srv, CTL_EVENT, "handover", 8, match_sub,
	    NULL);
	end = ev_now_ns() + HANDOVER_FLUSH_NS;
	while (ev_now_ns() < end)
		ev_loop_once(c->sd->loop, 10);
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	if (c->sd->control == c) {
		c->sd->control = NULL;
		c->sd->diff = NULL;
	}
	if (c->srv != NULL)
		ctl_server_close(c->srv);
	commit_free(c->commit);
	diff_free(c->diff);
	cachedump_free(c->dump);
	free(c);
}

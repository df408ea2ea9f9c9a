/*
 * control.c: syncd's control socket: status, commit (in steps, masters
 * before related, answered when done), resync, diff (peers' view of our
 * states against a fresh kernel dump), and carpd's subscription.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_conntrack_common.h>
#include <sodium.h>

#include "control.h"
#include "ctl.h"
#include "log.h"
#include "sbuf.h"
#include "util.h"

#define COMMIT_CHUNK	4096
#define COMMIT_BUDGET	65536	/* states per loop turn */
#define DIFF_TRIES	10
#define DIFF_MAXLINES	50
#define DIFF_DUMP_TRIES	100	/* kernel dump busy: retries */
#define DIFF_DUMP_RETRY_MS 100
#define DIFF_STEP	4096	/* entries compared per loop turn */
#define NS_MS		1000000ULL

enum diff_phase {
	DIFF_PEERS,	/* waiting for the peers' streams */
	DIFF_DUMPWAIT,	/* another dump runs: retry */
	DIFF_DUMPING,	/* kernel dump on the loop */
	DIFF_REPORT,	/* comparing, a slice per loop turn */
};

/* The comparison of one peer's view, in progress. */
struct diff_run {
	int		 begun;
	int		 pass;		/* 0 kernel entries, 1 held, 2 done */
	size_t		 pos;
	size_t		 missing, extra, mism, lines;
	int		 first;
	struct sbuf	 list;
};

struct dump_ctx {
	struct syncd	*sd;
	struct cache	*c;
};

static int subscribed_mark;

struct control {
	struct syncd	 *sd;
	struct ct_handle *ct;
	struct ctl_server *srv;

	/* commit */
	int		  c_active, c_pass, c_pi;
	size_t		  c_pos;
	uint64_t	  c_epoch;
	long		  c_count;
	size_t		  c_now;	/* imported by the commit */
	uint64_t	  c_err0;	/* kernel import errors before */
	uint64_t	  c_start;
	struct ev_timer	 *c_timer;
	struct ctl_conn	 *c_wait[CTL_MAXCONN];
	int		  c_nwait;
	struct ct_state	 *c_chunk;

	/* diff */
	int		  d_active, d_json, d_tries, d_phase;
	uint32_t	  d_id;
	struct ctl_conn	 *d_conn;
	struct cache	 *d_held[SYNCD_MAXPEERS];
	int		  d_asked[SYNCD_MAXPEERS], d_done[SYNCD_MAXPEERS];
	struct ev_timer	 *d_timer;
	struct cache	 *d_kc;		/* our states in the kernel */
	struct dump_ctx	  d_dump;
	int		  d_ri, d_ofirst;	/* report: peer, separator */
	struct diff_run	  d_r;
	struct sbuf	  d_out;
};

static struct control *the_control;

static int
match_sub(struct ctl_conn *c, void *arg)
{
	return ctl_conn_data(c) == &subscribed_mark;
}

static void
send_demote(struct syncd *sd, struct ctl_conn *one)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), "demote %d %s", sd->demote,
	    sd->demote_reason);
	if (one != NULL)
		ctl_send(one, CTL_EVENT, buf, (size_t)n);
	else if (the_control != NULL)
		ctl_server_broadcast(the_control->srv, CTL_EVENT, buf,
		    (size_t)n, match_sub, NULL);
}

static void
demote_changed(struct syncd *sd)
{
	log_info("demote %d (%s)", sd->demote, sd->demote_reason);
	send_demote(sd, NULL);
}

static void
json_peer(struct sbuf *b, struct peer *p)
{
	char why[96];
	int in = peer_in_sync(p, why, sizeof(why));
	double last = p->last_rx_ns ?
	    (double)(ev_now_ns() - p->last_rx_ns) / 1e9 : -1;

	sbuf_puts(b, "{\"address\":");
	sbuf_json_str(b, p->name);
	sbuf_printf(b, ",\"alive\":%s,\"in_sync\":%s,\"reason\":",
	    p->alive ? "true" : "false", in ? "true" : "false");
	sbuf_json_str(b, why);
	sbuf_printf(b, ",\"last_seen\":%.3f,\"external\":%zu,"
	    "\"peer_internal\":%u,\"bulk\":\"%s\","
	    "\"tx_frames\":%llu,\"rx_frames\":%llu,\"tx_bytes\":%llu,"
	    "\"rx_bytes\":%llu,\"tx_states\":%llu,\"rx_states\":%llu,"
	    "\"resent\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
	    "\"rx_rejected\":%llu,\"rx_forged\":%llu,\"rx_replayed\":%llu,"
	    "\"rx_malformed\":%llu,\"rx_sealing\":%llu,"
	    "\"unknown_updates\":%llu,\"skips\":%llu,\"bulks_sent\":%llu,"
	    "\"bulks_received\":%llu,\"unacked\":%u,\"expectations\":%zu}",
	    last, cache_count(p->ext), p->peer_internal,
	    bulk_rx_name(p->brx),
	    (unsigned long long)p->st.tx_frames,
	    (unsigned long long)p->st.rx_frames,
	    (unsigned long long)p->st.tx_bytes,
	    (unsigned long long)p->st.rx_bytes,
	    (unsigned long long)p->st.tx_states,
	    (unsigned long long)p->st.rx_states,
	    (unsigned long long)p->st.resent,
	    (unsigned long long)p->st.lost,
	    (unsigned long long)p->st.dup,
	    (unsigned long long)p->st.rx_rejected,
	    (unsigned long long)p->st.rx_forged,
	    (unsigned long long)p->st.rx_replayed,
	    (unsigned long long)p->st.rx_malformed,
	    (unsigned long long)p->st.rx_sealing,
	    (unsigned long long)p->st.unknown_updates,
	    (unsigned long long)p->st.skips,
	    (unsigned long long)p->st.bulks_sent,
	    (unsigned long long)p->st.bulks_received,
	    p->tx_next - p->tx_una, p->nexp);
}

static const char *
bulk_summary(const struct syncd *sd)
{
	int running = 0, done = 0, failed = 0;

	for (int i = 0; i < sd->npeers; i++) {
		switch (sd->peers[i]->brx) {
		case BRX_SENT:
		case BRX_RUNNING:
			running++;
			break;
		case BRX_DONE:
			done++;
			break;
		case BRX_FAILED:
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

void
control_status(struct syncd *sd, struct ct_handle *ct, int json,
    struct sbuf *b)
{
	const struct ct_stats *cs = ct != NULL ? ct_stats(ct) : NULL;
	size_t mem = cache_mem(sd->internal);
	char why[96];

	for (int i = 0; i < sd->npeers; i++)
		mem += cache_mem(sd->peers[i]->ext);
	if (!json) {
		sbuf_printf(b, "internal %zu, external %zu, queued %zu, "
		    "bulk %s, demote %d (%s), cache memory %zu bytes%s\n",
		    cache_count(sd->internal), engine_external(sd),
		    cache_queued(sd->internal), bulk_summary(sd), sd->demote,
		    sd->demote_reason, mem, sd->have_key ? "" :
		    ", NOT AUTHENTICATED (no key)");
		for (int i = 0; i < sd->npeers; i++) {
			struct peer *p = sd->peers[i];

			peer_in_sync(p, why, sizeof(why));
			sbuf_printf(b, "peer %s: %s; external %zu, bulk %s, "
			    "frames tx %llu rx %llu, states tx %llu rx %llu, "
			    "resent %llu, lost %llu, rejected %llu "
			    "(forged %llu, replayed %llu, malformed %llu)\n",
			    p->name, why, cache_count(p->ext),
			    bulk_rx_name(p->brx),
			    (unsigned long long)p->st.tx_frames,
			    (unsigned long long)p->st.rx_frames,
			    (unsigned long long)p->st.tx_states,
			    (unsigned long long)p->st.rx_states,
			    (unsigned long long)p->st.resent,
			    (unsigned long long)p->st.lost,
			    (unsigned long long)p->st.rx_rejected,
			    (unsigned long long)p->st.rx_forged,
			    (unsigned long long)p->st.rx_replayed,
			    (unsigned long long)p->st.rx_malformed);
		}
		return;
	}
	sbuf_printf(b, "{\"internal\":%zu,\"external\":%zu,\"queued\":%zu,"
	    "\"bulk\":\"%s\",\"demote\":%d,\"demote_reason\":",
	    cache_count(sd->internal), engine_external(sd),
	    cache_queued(sd->internal), bulk_summary(sd), sd->demote);
	sbuf_json_str(b, sd->demote_reason);
	sbuf_printf(b, ",\"first_bulk\":\"%s\",\"sealed\":%s,\"port\":%u,"
	    "\"mtu\":%d,\"cache_bytes\":%zu,\"expectations\":%zu,"
	    "\"sync_flows_ignored\":%llu,\"rx_unknown_source\":%llu,"
	    "\"staging\":%s,\"stage_backlog\":%zu,\"staged\":%llu,"
	    "\"peer_owned_ignored\":%llu",
	    sd->first_bulk == 0 ? "pending" : sd->first_bulk == 1 ? "done" :
	    "failed", sd->have_key ? "true" : "false", sd->port, sd->mtu, mem,
	    sd->nexp, (unsigned long long)sd->sync_flows,
	    (unsigned long long)sd->rx_unknown, sd->stage ? "true" : "false",
	    engine_stage_backlog(sd), (unsigned long long)sd->staged,
	    (unsigned long long)sd->peer_owned);
	if (cs != NULL)
		sbuf_printf(b, ",\"kernel\":{\"events\":%llu,"
		    "\"own_events\":%llu,\"overruns\":%llu,\"resyncs\":%llu,"
		    "\"parse_errors\":%llu,\"imported\":%llu,\"updated\":%llu,"
		    "\"import_errors\":%llu}",
		    (unsigned long long)cs->events,
		    (unsigned long long)cs->own_events,
		    (unsigned long long)cs->overruns,
		    (unsigned long long)cs->resyncs,
		    (unsigned long long)cs->parse_errors,
		    (unsigned long long)cs->imported,
		    (unsigned long long)cs->updated,
		    (unsigned long long)cs->import_errors);
	sbuf_puts(b, ",\"peers\":[");
	for (int i = 0; i < sd->npeers; i++) {
		if (i > 0)
			sbuf_puts(b, ",");
		json_peer(b, sd->peers[i]);
	}
	sbuf_puts(b, "]}\n");
}

/* --- commit --- */

static void
commit_finish(struct control *c)
{
	struct syncd *sd = c->sd;
	uint64_t errs;
	double ms;

	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (p->nexp > 0 && c->ct != NULL)
			ct_import_expect(c->ct, p->exp, p->nexp);
		p->nexp = 0;
	}
	c->c_count = (long)engine_adopt(sd);
	ms = (double)(ev_now_ns() - c->c_start) / 1e6;
	log_info("committed %ld states in %.0f ms (%zu imported now, the "
	    "rest staged before)", c->c_count, ms, c->c_now);
	errs = c->ct != NULL ? ct_stats(c->ct)->import_errors - c->c_err0 : 0;
	if (errs > 0)
		log_warnx("commit: the kernel refused %llu states",
		    (unsigned long long)errs);
	for (int i = 0; i < c->c_nwait; i++) {
		if (errs > 0)
			ctl_replyf(c->c_wait[i], 1, "committed %ld states in "
			    "%.0f ms, %llu refused by the kernel", c->c_count,
			    ms, (unsigned long long)errs);
		else
			ctl_replyf(c->c_wait[i], 1, "committed %ld states in "
			    "%.0f ms", c->c_count, ms);
	}
	c->c_nwait = 0;
	c->c_active = 0;
}

static void
commit_step(struct ev_timer *t, void *arg)
{
	struct control *c = arg;
	struct syncd *sd = c->sd;
	uint32_t now = syncd_now_s();
	struct centry *e = NULL;
	struct cache *ext;
	size_t n, budget = COMMIT_BUDGET, done;
	long r;

	/* First what is still waiting to be staged. */
	while (c->c_pass == 0 && budget > 0 && engine_stage_backlog(sd) > 0) {
		done = engine_stage(sd, budget);
		c->c_now += done;
		if (done == 0)
			break;
		budget -= done < budget ? done : budget;
	}
	if (engine_stage_backlog(sd) > 0 && c->c_pass == 0) {
		ev_timer_arm(t, 0);
		return;
	}
	/* Then anything not in the kernel yet: masters, then related. */
	while (budget > 0 && c->c_pi < sd->npeers) {
		ext = sd->peers[c->c_pi]->ext;
		if (c->c_epoch != cache_epoch(ext)) {
			c->c_pos = 0;
			c->c_epoch = cache_epoch(ext);
		}
		n = 0;
		while (n < COMMIT_CHUNK &&
		    (e = cache_next(ext, &c->c_pos)) != NULL) {
			budget -= budget > 0 ? 1 : 0;
			if (e->flags & CE_STAGED)
				continue;
			if (centry_state(e, now, &c->c_chunk[n]) == -1)
				continue;
			if ((c->c_pass == 0) !=
			    !(c->c_chunk[n].fields & CT_F_MASTER))
				continue;
			n++;
		}
		if (n > 0 && c->ct != NULL) {
			r = ct_import(c->ct, c->c_chunk, n);
			if (r > 0)
				c->c_now += (size_t)r;
		}
		if (e == NULL) {
			c->c_pi++;
			c->c_pos = 0;
			c->c_epoch = (uint64_t)-1;
		}
	}
	if (c->c_pi < sd->npeers) {
		ev_timer_arm(t, 0);
		return;
	}
	if (c->c_pass == 0) {
		c->c_pass = 1;
		c->c_pi = 0;
		c->c_pos = 0;
		c->c_epoch = (uint64_t)-1;
		ev_timer_arm(t, 0);
		return;
	}
	commit_finish(c);
}

static void
commit_start(struct control *c, struct ctl_conn *conn)
{
	if (c->c_nwait < CTL_MAXCONN)
		c->c_wait[c->c_nwait++] = conn;
	if (c->c_active)
		return;
	c->c_active = 1;
	c->c_pass = 0;
	c->c_pi = 0;
	c->c_pos = 0;
	c->c_epoch = (uint64_t)-1;
	c->c_count = 0;
	c->c_now = 0;
	c->c_err0 = c->ct != NULL ? ct_stats(c->ct)->import_errors : 0;
	c->c_start = ev_now_ns();
	ev_timer_arm(c->c_timer, 0);
}

/* --- diff --- */

static void
fmt_tuple(struct sbuf *b, const struct ct_tuple *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = t->family == AF_INET6 ? AF_INET6 : AF_INET;

	inet_ntop(af, t->src, s, sizeof(s));
	inet_ntop(af, t->dst, d, sizeof(d));
	sbuf_printf(b, "proto %u %s:%u -> %s:%u", t->proto, s, t->sport, d,
	    t->dport);
}

static void
fmt_state(struct sbuf *b, const struct ct_state *st)
{
	fmt_tuple(b, &st->orig);
	if (st->fields & CT_F_ZONE)
		sbuf_printf(b, " zone %u", st->zone);
}

#define CMP_STATUS	(IPS_SEEN_REPLY | IPS_ASSURED | IPS_SRC_NAT | \
			    IPS_DST_NAT)

/* First differing attribute, NULL if the same. */
static const char *
attr_diff(const struct ct_state *k, const struct ct_state *h, char *kv,
    char *hv, size_t len)
{
	struct sbuf a, b;

	if ((k->status & CMP_STATUS) != (h->status & CMP_STATUS)) {
		snprintf(kv, len, "0x%x", k->status & CMP_STATUS);
		snprintf(hv, len, "0x%x", h->status & CMP_STATUS);
		return "status";
	}
	if (memcmp(k->reply.src, h->reply.src, 16) != 0 ||
	    memcmp(k->reply.dst, h->reply.dst, 16) != 0 ||
	    k->reply.sport != h->reply.sport ||
	    k->reply.dport != h->reply.dport) {
		sbuf_init(&a);
		sbuf_init(&b);
		fmt_tuple(&a, &k->reply);
		fmt_tuple(&b, &h->reply);
		snprintf(kv, len, "%s", a.p ? a.p : "");
		snprintf(hv, len, "%s", b.p ? b.p : "");
		sbuf_free(&a);
		sbuf_free(&b);
		return "reply";
	}
	if (k->mark != h->mark) {
		snprintf(kv, len, "%u", k->mark);
		snprintf(hv, len, "%u", h->mark);
		return "mark";
	}
	if (memcmp(k->labels, h->labels, CT_LABELS_LEN) != 0) {
		snprintf(kv, len, "differ");
		snprintf(hv, len, "differ");
		return "labels";
	}
	if (k->orig.proto == IPPROTO_TCP && k->tcp_state != h->tcp_state) {
		snprintf(kv, len, "%u", k->tcp_state);
		snprintf(hv, len, "%u", h->tcp_state);
		return "tcp_state";
	}
	if (strcmp(k->helper, h->helper) != 0) {
		snprintf(kv, len, "%s", k->helper);
		snprintf(hv, len, "%s", h->helper);
		return "helper";
	}
	if ((k->fields & CT_F_MASTER) != (h->fields & CT_F_MASTER)) {
		snprintf(kv, len, "%s", k->fields & CT_F_MASTER ? "yes" : "no");
		snprintf(hv, len, "%s", h->fields & CT_F_MASTER ? "yes" : "no");
		return "master";
	}
	return NULL;
}

static void
dump_cb(const struct ct_state *st, void *arg)
{
	struct dump_ctx *d = arg;
	struct centry *o;

	if (engine_is_sync_flow(d->sd, st))
		return;
	/* Peers' states staged here are theirs, not ours. */
	for (int i = 0; i < d->sd->npeers; i++)
		if (cache_lookup(d->sd->peers[i]->ext, st) != NULL &&
		    cache_lookup(d->sd->internal, st) == NULL)
			return;
	if (cache_put(d->c, st, syncd_now_s(), &o) != NULL)
		free(o);
}

static void
diff_line(struct sbuf *b, int json, int *first, const char *kind,
    const struct ct_state *st, const char *attr, const char *kv,
    const char *hv)
{
	struct sbuf s;

	sbuf_init(&s);
	fmt_state(&s, st);
	if (json) {
		sbuf_puts(b, *first ? "" : ",");
		sbuf_printf(b, "{\"kind\":\"%s\",\"state\":", kind);
		sbuf_json_str(b, s.p ? s.p : "");
		if (attr != NULL) {
			sbuf_printf(b, ",\"attribute\":\"%s\",\"kernel\":",
			    attr);
			sbuf_json_str(b, kv);
			sbuf_puts(b, ",\"peer\":");
			sbuf_json_str(b, hv);
		}
		sbuf_puts(b, "}");
	} else if (attr != NULL)
		sbuf_printf(b, "  mismatch %s: %s: kernel %s, peer %s\n",
		    s.p ? s.p : "", attr, kv, hv);
	else
		sbuf_printf(b, "  %s %s\n", kind, s.p ? s.p : "");
	*first = 0;
	sbuf_free(&s);
}

/*
 * Compare at most *budget entries of peer i's held view with the kernel
 * dump, resuming where the last call stopped (c->d_r). Returns 1 when
 * this peer is done (its report appended to c->d_out).
 */
static int
diff_peer_step(struct control *c, int i, size_t *budget)
{
	struct diff_run *r = &c->d_r;
	struct peer *p = c->sd->peers[i];
	struct cache *kc = c->d_kc, *held = c->d_held[i];
	struct sbuf *b = &c->d_out;
	struct centry *e, *h;
	struct ct_state ks, hs;
	const char *attr;
	char kv[128], hv[128];
	uint32_t now = syncd_now_s();
	int json = c->d_json, answered = c->d_done[i];

	while (answered && r->pass == 0 && *budget > 0) {
		if ((e = cache_next(kc, &r->pos)) == NULL) {
			r->pass = 1;
			r->pos = 0;
			break;
		}
		(*budget)--;
		centry_state(e, now, &ks);
		if ((h = cache_lookup(held, &ks)) == NULL) {
			r->missing++;
			if (r->lines++ < DIFF_MAXLINES)
				diff_line(&r->list, json, &r->first,
				    "missing", &ks, NULL, NULL, NULL);
			continue;
		}
		centry_state(h, now, &hs);
		if ((attr = attr_diff(&ks, &hs, kv, hv, sizeof(kv))) != NULL) {
			r->mism++;
			if (r->lines++ < DIFF_MAXLINES)
				diff_line(&r->list, json, &r->first,
				    "mismatch", &ks, attr, kv, hv);
		}
	}
	while (answered && r->pass == 1 && *budget > 0) {
		if ((h = cache_next(held, &r->pos)) == NULL) {
			r->pass = 2;
			break;
		}
		(*budget)--;
		centry_state(h, now, &hs);
		if (cache_lookup(kc, &hs) == NULL) {
			r->extra++;
			if (r->lines++ < DIFF_MAXLINES)
				diff_line(&r->list, json, &r->first, "extra",
				    &hs, NULL, NULL, NULL);
		}
	}
	if (answered && r->pass < 2)
		return 0;
	if (json) {
		sbuf_puts(b, "{\"address\":");
		sbuf_json_str(b, p->name);
		sbuf_printf(b, ",\"answered\":%s,\"kernel\":%zu,\"held\":%zu,"
		    "\"missing\":%zu,\"extra\":%zu,\"mismatched\":%zu,"
		    "\"differences\":[%s]}", answered ? "true" : "false",
		    cache_count(kc), cache_count(held), r->missing, r->extra,
		    r->mism, r->list.p ? r->list.p : "");
	} else if (!answered)
		sbuf_printf(b, "peer %s: no answer\n", p->name);
	else {
		sbuf_printf(b, "peer %s: kernel %zu, peer holds %zu: "
		    "missing %zu, extra %zu, mismatched %zu%s\n", p->name,
		    cache_count(kc), cache_count(held), r->missing, r->extra,
		    r->mism, r->missing + r->extra + r->mism == 0 ?
		    " (identical)" : "");
		sbuf_puts(b, r->list.p ? r->list.p : "");
		if (r->lines > DIFF_MAXLINES)
			sbuf_printf(b, "  ... %zu more\n",
			    r->lines - DIFF_MAXLINES);
	}
	return 1;
}

static void
diff_run_reset(struct diff_run *r)
{
	sbuf_free(&r->list);
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->list);
	r->first = 1;
}

static void	diff_cleanup(struct control *);

/* One slice of the comparison; the reply when all peers are done. */
static void
diff_report_step(struct control *c)
{
	struct syncd *sd = c->sd;
	size_t budget = DIFF_STEP;

	while (c->d_ri < sd->npeers) {
		if (!c->d_asked[c->d_ri]) {
			c->d_ri++;
			continue;
		}
		if (!c->d_r.begun) {
			if (c->d_json && !c->d_ofirst)
				sbuf_puts(&c->d_out, ",");
			c->d_ofirst = 0;
			c->d_r.begun = 1;
		}
		if (!diff_peer_step(c, c->d_ri, &budget)) {
			ev_timer_arm(c->d_timer, 0);	/* more next turn */
			return;
		}
		diff_run_reset(&c->d_r);
		c->d_ri++;
	}
	if (c->d_json)
		sbuf_puts(&c->d_out, "]}\n");
	if (c->d_conn != NULL) {
		if (c->d_out.err)
			ctl_replyf(c->d_conn, 0, "out of memory");
		else
			ctl_reply(c->d_conn, 1, c->d_out.p ? c->d_out.p : "",
			    c->d_out.len);
	}
	diff_cleanup(c);
}

static void
diff_report(struct control *c)
{
	c->d_phase = DIFF_REPORT;
	c->d_ri = 0;
	c->d_ofirst = 1;
	sbuf_free(&c->d_out);
	sbuf_init(&c->d_out);
	diff_run_reset(&c->d_r);
	if (c->d_json)
		sbuf_puts(&c->d_out, "{\"peers\":[");
	diff_report_step(c);
}

static void
diff_cleanup(struct control *c)
{
	ev_timer_cancel(c->d_timer);
	c->d_active = 0;
	c->d_phase = DIFF_PEERS;
	c->d_conn = NULL;
	cache_free(c->d_kc);
	c->d_kc = NULL;
	sbuf_free(&c->d_out);
	sbuf_init(&c->d_out);
	diff_run_reset(&c->d_r);
	for (int i = 0; i < SYNCD_MAXPEERS; i++) {
		cache_free(c->d_held[i]);
		c->d_held[i] = NULL;
	}
}

static void
diff_fail(struct control *c, const char *why)
{
	if (c->d_conn != NULL)
		ctl_replyf(c->d_conn, 0, "%s", why);
	diff_cleanup(c);
}

static void
diff_dumped(void *arg, int err)
{
	struct control *c = arg;

	if (!c->d_active || c->d_phase != DIFF_DUMPING)
		return;
	if (err != 0 || c->d_kc == NULL) {
		log_warnx("diff: kernel dump failed: %s",
		    err != 0 ? strerror(-err) : "out of memory");
		diff_fail(c, "kernel dump failed");
		return;
	}
	diff_report(c);
}

/*
 * The peers are done: dump the kernel table on the loop (sync traffic
 * and control requests go on meanwhile) and answer when the dump ends.
 * A dump already running (a re-dump after lost events) is waited for.
 */
static void
diff_finish(struct control *c)
{
	struct dump_ctx *d = &c->d_dump;

	ev_timer_cancel(c->d_timer);
	if (c->d_phase == DIFF_PEERS) {
		c->d_phase = DIFF_DUMPWAIT;
		c->d_tries = 0;
	}
	if (c->ct == NULL) {
		diff_fail(c, "kernel dump failed");
		return;
	}
	if (c->d_kc == NULL && (c->d_kc = cache_new()) == NULL) {
		diff_fail(c, "out of memory");
		return;
	}
	d->sd = c->sd;
	d->c = c->d_kc;
	if (ct_dump_start_cb(c->ct, dump_cb, d, diff_dumped, c) == -1) {
		if (errno == EBUSY && ++c->d_tries < DIFF_DUMP_TRIES) {
			ev_timer_arm(c->d_timer, DIFF_DUMP_RETRY_MS * NS_MS);
			return;
		}
		log_warn("diff: kernel dump");
		diff_fail(c, "kernel dump failed");
		return;
	}
	c->d_phase = DIFF_DUMPING;
}

static void
diff_state_cb(struct syncd *sd, struct peer *p, const struct ct_state *st)
{
	struct control *c = the_control;
	struct centry *o;

	if (c == NULL || !c->d_active || c->d_phase != DIFF_PEERS ||
	    !c->d_asked[p->idx] || c->d_done[p->idx] ||
	    c->d_held[p->idx] == NULL)
		return;
	if (cache_put(c->d_held[p->idx], st, syncd_now_s(), &o) != NULL)
		free(o);
}

static void
diff_done_cb(struct syncd *sd, struct peer *p, uint32_t id, uint32_t count)
{
	struct control *c = the_control;

	if (c == NULL || !c->d_active || c->d_phase != DIFF_PEERS ||
	    id != c->d_id)
		return;
	c->d_done[p->idx] = 1;
	for (int i = 0; i < sd->npeers; i++)
		if (c->d_asked[i] && !c->d_done[i])
			return;
	diff_finish(c);
}

static void
diff_timer(struct ev_timer *t, void *arg)
{
	struct control *c = arg;
	struct syncd *sd = c->sd;
	int waiting = 0;

	if (c->d_phase == DIFF_DUMPWAIT) {
		diff_finish(c);		/* retry starting the dump */
		return;
	}
	if (c->d_phase == DIFF_REPORT) {
		diff_report_step(c);
		return;
	}
	if (c->d_phase != DIFF_PEERS)
		return;
	if (++c->d_tries >= DIFF_TRIES) {
		diff_finish(c);
		return;
	}
	for (int i = 0; i < sd->npeers; i++) {
		if (c->d_asked[i] && !c->d_done[i] &&
		    cache_count(c->d_held[i]) == 0) {
			peer_request_diff(sd->peers[i], c->d_id);
			waiting = 1;
		} else if (c->d_asked[i] && !c->d_done[i])
			waiting = 1;
	}
	if (!waiting) {
		diff_finish(c);
		return;
	}
	ev_timer_arm(t, 1000 * NS_MS);
}

static void
diff_start(struct control *c, struct ctl_conn *conn, int json)
{
	struct syncd *sd = c->sd;
	int n = 0;

	if (c->d_active) {
		ctl_replyf(conn, 0, "a diff is already running");
		return;
	}
	c->d_id = randombytes_random() | 1;
	c->d_json = json;
	c->d_tries = 0;
	c->d_phase = DIFF_PEERS;
	for (int i = 0; i < sd->npeers; i++) {
		c->d_asked[i] = c->d_done[i] = 0;
		if (!sd->peers[i]->alive)
			continue;
		if ((c->d_held[i] = cache_new()) == NULL)
			continue;
		c->d_asked[i] = 1;
		peer_request_diff(sd->peers[i], c->d_id);
		n++;
	}
	if (n == 0) {
		ctl_replyf(conn, 0, "no peer is alive");
		diff_cleanup(c);
		return;
	}
	c->d_active = 1;
	c->d_conn = conn;
	ev_timer_arm(c->d_timer, 1000 * NS_MS);
}

/* --- requests --- */

static void
on_request(struct ctl_conn *conn, int argc, char **argv, void *arg)
{
	struct control *c = arg;
	struct syncd *sd = c->sd;
	struct sbuf b;
	int json;

	json = argc > 1 && (strcmp(argv[1], "json") == 0 ||
	    strcmp(argv[1], "--json") == 0);
	if (strcmp(argv[0], "status") == 0) {
		sbuf_init(&b);
		control_status(sd, c->ct, json, &b);
		if (b.err)
			ctl_replyf(conn, 0, "out of memory");
		else
			ctl_reply(conn, 1, b.p, b.len);
		sbuf_free(&b);
	} else if (strcmp(argv[0], "subscribe") == 0) {
		ctl_conn_set_data(conn, &subscribed_mark);
		ctl_replyf(conn, 1, "subscribed");
		send_demote(sd, conn);
	} else if (strcmp(argv[0], "commit") == 0) {
		commit_start(c, conn);
	} else if (strcmp(argv[0], "resync") == 0) {
		for (int i = 0; i < sd->npeers; i++)
			peer_request_bulk(sd->peers[i], 1);
		ctl_replyf(conn, 1, "resync requested from %d peer(s)",
		    sd->npeers);
	} else if (strcmp(argv[0], "diff") == 0) {
		diff_start(c, conn, json);
	} else
		ctl_replyf(conn, 0, "unknown command \"%s\"", argv[0]);
}

static void
/* cppcheck-suppress constParameter ; the type is ctl_close_cb's */
on_close(struct ctl_conn *conn, void *arg)
{
	struct control *c = arg;

	for (int i = 0; i < c->c_nwait; i++) {
		if (c->c_wait[i] == conn) {
			c->c_wait[i] = c->c_wait[--c->c_nwait];
			break;
		}
	}
	if (c->d_conn == conn)
		c->d_conn = NULL;
}

struct control *
control_open(struct syncd *sd)
{
	struct control *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sd = sd;
	c->c_chunk = calloc(COMMIT_CHUNK, sizeof(*c->c_chunk));
	c->c_timer = ev_timer_new(sd->loop, commit_step, c);
	c->d_timer = ev_timer_new(sd->loop, diff_timer, c);
	if (c->c_chunk == NULL ||
	    c->c_timer == NULL || c->d_timer == NULL)
		goto fail;
	if ((c->srv = ctl_server_open(sd->loop, sd->control, 0600,
	    on_request, c)) == NULL)
		goto fail;
	ctl_server_set_close_cb(c->srv, on_close);
	sd->demote_changed = demote_changed;
	sd->diff_state = diff_state_cb;
	sd->diff_done = diff_done_cb;
	the_control = c;
	return c;
 fail:
	control_close(c);
	return NULL;
}

void
control_set_ct(struct control *c, struct ct_handle *ct)
{
	c->ct = ct;
}

void
control_handover(struct control *c)
{
	uint64_t end;

	if (c == NULL || c->srv == NULL)
		return;
	ctl_server_broadcast(c->srv, CTL_EVENT, "handover", 8, match_sub,
	    NULL);
	end = ev_now_ns() + 100 * NS_MS;
	while (ev_now_ns() < end)
		ev_loop_once(c->sd->loop, 10);
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	if (the_control == c)
		the_control = NULL;
	if (c->srv != NULL)
		ctl_server_close(c->srv);
	ev_timer_free(c->c_timer);
	ev_timer_free(c->d_timer);
	for (int i = 0; i < SYNCD_MAXPEERS; i++)
		cache_free(c->d_held[i]);
	cache_free(c->d_kc);
	sbuf_free(&c->d_out);
	sbuf_free(&c->d_r.list);
	free(c->c_chunk);
	free(c);
}

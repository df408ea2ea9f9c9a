/*
 * diff.c: "syncd diff": what each live peer holds as our states (its
 * DIFF_STATE stream) against a fresh dump of the kernel table, taken on
 * the loop, then compared a slice per loop turn; the answer lists the
 * states missing at the peer, extra there, and mismatched.
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

#define DIFF_TRIES	   10 /* seconds waiting for the peers */
#define DIFF_RETRY_NS	   (1000 * NS_MS)
#define DIFF_MAXLINES	   50
#define DIFF_DUMP_TRIES	   100 /* kernel dump busy: retries */
#define DIFF_DUMP_RETRY_MS 100
#define DIFF_STEP	   4096 /* entries compared per loop turn */

enum diff_phase {
	DIFF_PEERS,    /* waiting for the peers' streams */
	DIFF_DUMPWAIT, /* another dump runs: retry */
	DIFF_DUMPING,  /* kernel dump on the loop */
	DIFF_REPORT,   /* comparing, a slice per loop turn */
};

/* The comparison of one peer's view walks the kernel dump, then what
 * the peer holds. */
enum diff_pass {
	DIFF_PASS_KERNEL, /* missing at the peer, mismatched */
	DIFF_PASS_HELD,	  /* extra at the peer */
	DIFF_PASS_DONE,
};

/* The comparison of one peer's view, in progress. */
struct diff_run {
	int begun;
	enum diff_pass pass;
	size_t pos;
	size_t missing, extra, mismatched, lines;
	int first_line;
	struct sbuf list;
};

struct dump_ctx {
	struct syncd *sd;
	struct cache *c;
};

struct diff {
	struct syncd *sd;
	struct ev_timer *timer;
	int active, json, tries;
	enum diff_phase phase;
	uint32_t id;			    /* of our DIFF_REQ */
	struct ctl_conn *conn;		    /* to answer; NULL when gone */
	struct cache *held[SYNCD_MAXPEERS]; /* what each peer holds */
	int asked[SYNCD_MAXPEERS], answered[SYNCD_MAXPEERS];
	struct cache *kernel; /* our states in the kernel */
	struct dump_ctx dump;
	int report_peer; /* peer being compared */
	int reported;	 /* peers in the answer so far */
	struct diff_run run;
	struct sbuf out;
};

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

#define CMP_STATUS (IPS_SEEN_REPLY | IPS_ASSURED | IPS_SRC_NAT | IPS_DST_NAT)

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
		snprintf(kv, len, "%s",
		    k->fields & CT_F_MASTER ? "yes" : "no");
		snprintf(hv, len, "%s",
		    h->fields & CT_F_MASTER ? "yes" : "no");
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
	/* Kept home by the send filter: never sent, not missing. */
	if (policy_send(&d->sd->policy, &d->sd->local, st) != POL_OK)
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
			sbuf_printf(b,
			    ",\"attribute\":\"%s\",\"kernel\":", attr);
			sbuf_json_str(b, kv);
			sbuf_puts(b, ",\"peer\":");
			sbuf_json_str(b, hv);
		}
		sbuf_puts(b, "}");
	} else if (attr != NULL) {
		/* Values such as helper names come from peers: escaped. */
		sbuf_printf(b, "  mismatch %s: %s: kernel ", s.p ? s.p : "",
		    attr);
		sbuf_text(b, kv);
		sbuf_puts(b, ", peer ");
		sbuf_text(b, hv);
		sbuf_puts(b, "\n");
	} else
		sbuf_printf(b, "  %s %s\n", kind, s.p ? s.p : "");
	*first = 0;
	sbuf_free(&s);
}

/* Kernel entries the peer lacks or holds differently, at most *budget. */
static void
compare_kernel(struct diff *d, struct cache *held, size_t *budget)
{
	struct diff_run *r = &d->run;
	struct centry *e, *h;
	struct ct_state ks, hs;
	const char *attr;
	char kv[128], hv[128];
	uint32_t now = syncd_now_s();

	while (r->pass == DIFF_PASS_KERNEL && *budget > 0) {
		if ((e = cache_next(d->kernel, &r->pos)) == NULL) {
			r->pass = DIFF_PASS_HELD;
			r->pos = 0;
			break;
		}
		(*budget)--;
		centry_state(e, now, &ks);
		if ((h = cache_lookup(held, &ks)) == NULL) {
			r->missing++;
			if (r->lines++ < DIFF_MAXLINES)
				diff_line(&r->list, d->json, &r->first_line,
				    "missing", &ks, NULL, NULL, NULL);
			continue;
		}
		centry_state(h, now, &hs);
		if ((attr = attr_diff(&ks, &hs, kv, hv, sizeof(kv))) != NULL) {
			r->mismatched++;
			if (r->lines++ < DIFF_MAXLINES)
				diff_line(&r->list, d->json, &r->first_line,
				    "mismatch", &ks, attr, kv, hv);
		}
	}
}

/* States the peer holds that the kernel does not, at most *budget. */
static void
compare_held(struct diff *d, struct cache *held, size_t *budget)
{
	struct diff_run *r = &d->run;
	struct centry *h;
	struct ct_state hs;
	uint32_t now = syncd_now_s();

	while (r->pass == DIFF_PASS_HELD && *budget > 0) {
		if ((h = cache_next(held, &r->pos)) == NULL) {
			r->pass = DIFF_PASS_DONE;
			break;
		}
		(*budget)--;
		centry_state(h, now, &hs);
		if (cache_lookup(d->kernel, &hs) == NULL) {
			r->extra++;
			if (r->lines++ < DIFF_MAXLINES)
				diff_line(&r->list, d->json, &r->first_line,
				    "extra", &hs, NULL, NULL, NULL);
		}
	}
}

/* Peer i's part of the answer, once its comparison is done. */
static void
report_peer(struct diff *d, int i)
{
	struct diff_run *r = &d->run;
	struct peer *p = d->sd->peers[i];
	struct cache *kc = d->kernel, *held = d->held[i];
	struct sbuf *b = &d->out;
	int answered = d->answered[i];

	if (d->json) {
		sbuf_puts(b, "{\"address\":");
		sbuf_json_str(b, p->name);
		sbuf_printf(b,
		    ",\"answered\":%s,\"kernel\":%zu,\"held\":%zu,"
		    "\"missing\":%zu,\"extra\":%zu,\"mismatched\":%zu,"
		    "\"differences\":[%s]}",
		    answered ? "true" : "false", cache_count(kc),
		    cache_count(held), r->missing, r->extra, r->mismatched,
		    r->list.p ? r->list.p : "");
	} else if (!answered)
		sbuf_printf(b, "peer %s: no answer\n", p->name);
	else {
		sbuf_printf(b,
		    "peer %s: kernel %zu, peer holds %zu: "
		    "missing %zu, extra %zu, mismatched %zu%s\n",
		    p->name, cache_count(kc), cache_count(held), r->missing,
		    r->extra, r->mismatched,
		    r->missing + r->extra + r->mismatched == 0 ?
			" (identical)" :
			"");
		sbuf_puts(b, r->list.p ? r->list.p : "");
		if (r->lines > DIFF_MAXLINES)
			sbuf_printf(b, "  ... %zu more\n",
			    r->lines - DIFF_MAXLINES);
	}
}

/*
 * Compare at most *budget entries of peer i's held view with the kernel
 * dump, resuming where the last call stopped (d->run). Returns 1 when
 * this peer is done (its report appended to d->out).
 */
static int
diff_peer_step(struct diff *d, int i, size_t *budget)
{
	if (d->answered[i]) {
		compare_kernel(d, d->held[i], budget);
		compare_held(d, d->held[i], budget);
		if (d->run.pass != DIFF_PASS_DONE)
			return 0;
	}
	report_peer(d, i);
	return 1;
}

static void
diff_run_reset(struct diff_run *r)
{
	sbuf_free(&r->list);
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->list);
	r->first_line = 1;
}

static void
diff_cleanup(struct diff *d)
{
	ev_timer_cancel(d->timer);
	d->active = 0;
	d->phase = DIFF_PEERS;
	d->conn = NULL;
	cache_free(d->kernel);
	d->kernel = NULL;
	sbuf_free(&d->out);
	sbuf_init(&d->out);
	diff_run_reset(&d->run);
	for (int i = 0; i < SYNCD_MAXPEERS; i++) {
		cache_free(d->held[i]);
		d->held[i] = NULL;
	}
	/* The copies of the table are gone: give their memory back. */
	util_heap_release();
}

/* One slice of the comparison; the reply when all peers are done. */
static void
diff_report_step(struct diff *d)
{
	struct syncd *sd = d->sd;
	size_t budget = DIFF_STEP;

	while (d->report_peer < sd->npeers) {
		if (!d->asked[d->report_peer]) {
			d->report_peer++;
			continue;
		}
		if (!d->run.begun) {
			if (d->json && d->reported > 0)
				sbuf_puts(&d->out, ",");
			d->reported++;
			d->run.begun = 1;
		}
		if (!diff_peer_step(d, d->report_peer, &budget)) {
			ev_timer_arm(d->timer, 0); /* more next turn */
			return;
		}
		diff_run_reset(&d->run);
		d->report_peer++;
	}
	if (d->json)
		sbuf_puts(&d->out, "]}\n");
	if (d->conn != NULL) {
		if (d->out.err)
			ctl_replyf(d->conn, 0, "out of memory");
		else
			ctl_reply(d->conn, 1, d->out.p ? d->out.p : "",
			    d->out.len);
	}
	diff_cleanup(d);
}

static void
diff_report(struct diff *d)
{
	d->phase = DIFF_REPORT;
	d->report_peer = 0;
	d->reported = 0;
	sbuf_free(&d->out);
	sbuf_init(&d->out);
	diff_run_reset(&d->run);
	if (d->json)
		sbuf_puts(&d->out, "{\"peers\":[");
	diff_report_step(d);
}

static void
diff_fail(struct diff *d, const char *why)
{
	if (d->conn != NULL)
		ctl_replyf(d->conn, 0, "%s", why);
	diff_cleanup(d);
}

static void
diff_dumped(void *arg, int err)
{
	struct diff *d = arg;

	if (!d->active || d->phase != DIFF_DUMPING)
		return;
	if (err != 0 || d->kernel == NULL) {
		log_warnx("diff: kernel dump failed: %s",
		    err != 0 ? strerror(-err) : "out of memory");
		diff_fail(d, "kernel dump failed");
		return;
	}
	diff_report(d);
}

/*
 * The peers are done: dump the kernel table on the loop (sync traffic
 * and control requests go on meanwhile) and answer when the dump ends.
 * A dump already running (a re-dump after lost events) is waited for.
 */
static void
diff_dump(struct diff *d)
{
	struct syncd *sd = d->sd;

	ev_timer_cancel(d->timer);
	if (d->phase == DIFF_PEERS) {
		d->phase = DIFF_DUMPWAIT;
		d->tries = 0;
	}
	if (sd->ct == NULL) {
		diff_fail(d, "kernel dump failed");
		return;
	}
	if (d->kernel == NULL && (d->kernel = cache_new()) == NULL) {
		diff_fail(d, "out of memory");
		return;
	}
	d->dump.sd = sd;
	d->dump.c = d->kernel;
	if (ct_dump_start_cb(sd->ct, dump_cb, &d->dump, diff_dumped, d) ==
	    -1) {
		if (errno == EBUSY && ++d->tries < DIFF_DUMP_TRIES) {
			ev_timer_arm(d->timer, DIFF_DUMP_RETRY_MS * NS_MS);
			return;
		}
		log_warn("diff: kernel dump");
		diff_fail(d, "kernel dump failed");
		return;
	}
	d->phase = DIFF_DUMPING;
}

void
diff_peer_state(struct diff *d, struct peer *p, const struct ct_state *st)
{
	struct centry *o;

	if (d == NULL || !d->active || d->phase != DIFF_PEERS ||
	    !d->asked[p->idx] || d->answered[p->idx] ||
	    d->held[p->idx] == NULL)
		return;
	if (cache_put(d->held[p->idx], st, syncd_now_s(), &o) != NULL)
		free(o);
}

void
diff_peer_done(struct diff *d, struct peer *p, uint32_t id)
{
	struct syncd *sd;

	if (d == NULL || !d->active || d->phase != DIFF_PEERS || id != d->id)
		return;
	sd = d->sd;
	d->answered[p->idx] = 1;
	for (int i = 0; i < sd->npeers; i++)
		if (d->asked[i] && !d->answered[i])
			return;
	diff_dump(d);
}

/* Waiting for the peers: ask again those that sent nothing yet. */
static void
diff_wait_peers(struct diff *d)
{
	struct syncd *sd = d->sd;
	int waiting = 0;

	if (++d->tries >= DIFF_TRIES) {
		diff_dump(d);
		return;
	}
	for (int i = 0; i < sd->npeers; i++) {
		if (d->asked[i] && !d->answered[i] &&
		    cache_count(d->held[i]) == 0) {
			peer_request_diff(sd->peers[i], d->id);
			waiting = 1;
		} else if (d->asked[i] && !d->answered[i])
			waiting = 1;
	}
	if (!waiting) {
		diff_dump(d);
		return;
	}
	ev_timer_arm(d->timer, DIFF_RETRY_NS);
}

static void
diff_timer(struct ev_timer *t, void *arg)
{
	struct diff *d = arg;

	switch (d->phase) {
	case DIFF_DUMPWAIT:
		diff_dump(d); /* retry starting the dump */
		break;
	case DIFF_REPORT:
		diff_report_step(d);
		break;
	case DIFF_PEERS:
		diff_wait_peers(d);
		break;
	case DIFF_DUMPING:
		break;
	}
}

void
diff_request(struct diff *d, struct ctl_conn *conn, int json)
{
	struct syncd *sd = d->sd;
	int n = 0;

	if (d->active) {
		ctl_replyf(conn, 0, "a diff is already running");
		return;
	}
	d->id = randombytes_random() | 1;
	d->json = json;
	d->tries = 0;
	d->phase = DIFF_PEERS;
	for (int i = 0; i < sd->npeers; i++) {
		d->asked[i] = d->answered[i] = 0;
		if (!sd->peers[i]->alive)
			continue;
		if ((d->held[i] = cache_new()) == NULL)
			continue;
		d->asked[i] = 1;
		peer_request_diff(sd->peers[i], d->id);
		n++;
	}
	if (n == 0) {
		ctl_replyf(conn, 0, "no peer is alive");
		diff_cleanup(d);
		return;
	}
	d->active = 1;
	d->conn = conn;
	ev_timer_arm(d->timer, DIFF_RETRY_NS);
}

/*
 * A peer added takes the next index, unasked. A peer removed moves the
 * others down, so the peers' views no longer match their indexes: the
 * client is told to ask again and the diff runs out without an answer
 * (a kernel dump it started must end before its cache may go).
 */
void
diff_peers_changed(struct diff *d, int removed)
{
	int i;

	if (d == NULL)
		return;
	i = d->sd->npeers - 1;
	if (removed < 0 && i >= 0 && i < SYNCD_MAXPEERS &&
	    d->held[i] == NULL) {
		d->asked[i] = d->answered[i] = 0;
		return;
	}
	if (removed < 0 || !d->active || d->conn == NULL)
		return;
	ctl_replyf(d->conn, 0,
	    "the peers changed (configuration reload) during the diff; "
	    "ask again");
	d->conn = NULL;
}

void
diff_conn_closed(struct diff *d, const struct ctl_conn *conn)
{
	if (d->conn == conn)
		d->conn = NULL;
}

struct diff *
diff_new(struct syncd *sd)
{
	struct diff *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->sd = sd;
	sbuf_init(&d->out);
	sbuf_init(&d->run.list);
	if ((d->timer = ev_timer_new(sd->loop, diff_timer, d)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void
diff_free(struct diff *d)
{
	if (d == NULL)
		return;
	ev_timer_free(d->timer);
	for (int i = 0; i < SYNCD_MAXPEERS; i++)
		cache_free(d->held[i]);
	cache_free(d->kernel);
	sbuf_free(&d->out);
	sbuf_free(&d->run.list);
	free(d);
}

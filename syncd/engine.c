/*
 * engine.c: syncd's caches: own states from kernel events (coalesced in
 * the send queue), the initial read of our table, peers' states from the
 * wire, expectations, expiry, resync after lost events, adopting peers'
 * states after a commit, and the demotion syncd asks carpd for. The send
 * filter and the import policy (policy.c) are applied here: own states
 * kept home wait in sd->unsent, peers' states refused are counted.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <linux/netfilter/nf_conntrack_tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "log.h"
#include "notify.h"
#include "syncd.h"
#include "util.h"

#define EXPIRE_SLOTS	65536 /* slots scanned per tick and cache */
/* After a takeover: once the bulk and the deletes are out. */
#define HEAP_RELEASE_NS (5000 * NS_MS)

static uint8_t
change_mask(const struct ct_state *o, const struct ct_state *n)
{
	uint8_t m = 0;

	if (o->status != n->status)
		m |= SYNC_U_STATUS;
	if (o->tcp_state != n->tcp_state ||
	    memcmp(o->tcp_flags, n->tcp_flags, 2) != 0)
		m |= SYNC_U_TCP;
	if (o->mark != n->mark)
		m |= SYNC_U_MARK;
	if (memcmp(o->labels, n->labels, CT_LABELS_LEN) != 0)
		m |= SYNC_U_LABELS;
	if ((o->fields & ~CT_F_TIMEOUT) != (n->fields & ~CT_F_TIMEOUT) ||
	    memcmp(&o->reply, &n->reply, sizeof(o->reply)) != 0 ||
	    memcmp(o->helper, n->helper, CT_HELPER_LEN) != 0 ||
	    memcmp(&o->master, &n->master, sizeof(o->master)) != 0 ||
	    memcmp(o->seqadj, n->seqadj, sizeof(o->seqadj)) != 0 ||
	    memcmp(o->tcp_wscale, n->tcp_wscale, 2) != 0 ||
	    o->sctp_state != n->sctp_state ||
	    memcmp(o->sctp_vtag, n->sctp_vtag, sizeof(o->sctp_vtag)) != 0)
		m |= CHG_FULL;
	return m;
}

/*
 * The kernel's update events carry the master tuple, labels, protocol
 * info, sequence adjustment and mark only when they changed (the mark
 * also when non-zero): keep what we knew for the parts left out.
 */
static void
merge_update(struct ct_state *n, const struct ct_state *o)
{
	static const struct {
		uint32_t f;
	} keep[] = { { CT_F_MASTER }, { CT_F_LABELS }, { CT_F_TCP },
		{ CT_F_SCTP }, { CT_F_SEQADJ }, { CT_F_MARK },
		{ CT_F_HELPER } };

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		uint32_t f = keep[i].f;

		if ((n->fields & f) || !(o->fields & f))
			continue;
		n->fields |= f;
		switch (f) {
		case CT_F_MASTER:
			n->master = o->master;
			break;
		case CT_F_LABELS:
			memcpy(n->labels, o->labels, CT_LABELS_LEN);
			break;
		case CT_F_TCP:
			n->tcp_state = o->tcp_state;
			memcpy(n->tcp_wscale, o->tcp_wscale, 2);
			memcpy(n->tcp_flags, o->tcp_flags, 2);
			break;
		case CT_F_SCTP:
			n->sctp_state = o->sctp_state;
			memcpy(n->sctp_vtag, o->sctp_vtag,
			    sizeof(n->sctp_vtag));
			break;
		case CT_F_SEQADJ:
			memcpy(n->seqadj, o->seqadj, sizeof(n->seqadj));
			break;
		case CT_F_MARK:
			n->mark = o->mark;
			break;
		case CT_F_HELPER:
			memcpy(n->helper, o->helper, CT_HELPER_LEN);
			break;
		}
	}
}

static int
addr_is(const struct sockaddr_storage *ss, const struct ct_tuple *t,
    const uint8_t *a)
{
	if (ss->ss_family == AF_INET && t->family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)ss)->sin_addr, a,
			   4) == 0;
	if (ss->ss_family == AF_INET6 && t->family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, a,
			   16) == 0;
	return 0;
}

int
engine_is_sync_flow(const struct syncd *sd, const struct ct_state *st)
{
	const struct ct_tuple *t = &st->orig;

	if (t->proto != IPPROTO_UDP ||
	    (t->sport != sd->port && t->dport != sd->port))
		return 0;
	for (int i = 0; i < sd->npeers; i++) {
		const struct peer *p = sd->peers[i];

		if (path_has_addr(p, t->family, t->src) ||
		    path_has_addr(p, t->family, t->dst))
			return 1;
	}
	for (int i = 0; i < sd->nsocks; i++) {
		const struct sockaddr_storage *ss = &sd->socks[i].sa;

		if (addr_is(ss, t, t->src) || addr_is(ss, t, t->dst))
			return 1;
	}
	return addr_is(&sd->listen, t, t->src) ||
	    addr_is(&sd->listen, t, t->dst);
}

static void
release(struct cache *c, struct centry *old, struct centry *e)
{
	if (old == NULL)
		return;
	if (old->flags & CE_QUEUED) {
		old->flags |= CE_DEAD;
		if (e != NULL)
			cache_enqueue(c, e);
	} else
		free(old);
}

static int
any_alive(const struct syncd *sd)
{
	for (int i = 0; i < sd->npeers; i++)
		if (sd->peers[i]->alive)
			return 1;
	return 0;
}

/*
 * No peer is alive: forget the send queue. Whoever comes back gets a
 * bulk (it asks for one at start, or we push one after an outage), which
 * carries every state and sweeps the deleted ones.
 */
void
engine_drop_queue(struct syncd *sd)
{
	struct centry *e;

	while ((e = cache_dequeue(sd->internal)) != NULL) {
		if (e->flags & (CE_DEAD | CE_DELETED))
			free(e);
		else {
			e->flags &= ~CE_SENT;
			e->chg = CHG_FULL;
		}
	}
	sd->expect_queue_len = 0;
}

static int
held_by_peer(struct syncd *sd, const struct ct_state *st)
{
	for (int i = 0; i < sd->npeers; i++)
		if (cache_lookup(sd->peers[i]->ext, st) != NULL ||
		    cache_lookup(sd->peers[i]->unstage, st) != NULL)
			return 1;
	/* A removed peer's, on its way out of the kernel. */
	return stage_retiring(sd, st);
}

int
engine_is_own(struct syncd *sd, const struct ct_state *st)
{
	return cache_lookup(sd->internal, st) != NULL ||
	    (sd->unsent != NULL && cache_lookup(sd->unsent, st) != NULL);
}

void
engine_reject(struct peer *p, enum pol_reason r, const char *why)
{
	p->import_rejected[r]++;
	if (p->rejected_logged & (1U << r))
		return;
	p->rejected_logged |= 1U << r;
	log_warnx("peer %s: refused %s (counted as \"%s\" in the status, "
		  "not logged again)",
	    p->name, why, pol_reason_names[r]);
}

static void own_delete(struct syncd *, const struct ct_state *);

/*
 * An own state the send filter keeps home: not sent (a copy sent
 * before it was filtered, e.g. before its address was this node's, is
 * deleted at the peers), but remembered as ours. Counted once a state.
 */
static void
own_unsent(struct syncd *sd, enum pol_reason r, const struct ct_state *st)
{
	struct centry *e, *o;

	if (cache_lookup(sd->internal, st) != NULL)
		own_delete(sd, st);
	if (sd->unsent == NULL)
		return;
	if (cache_lookup(sd->unsent, st) == NULL)
		sd->send_filtered[r]++;
	if ((e = cache_put(sd->unsent, st, syncd_now_s(), &o)) == NULL)
		return;
	free(o);
	e->gen = sd->resync_gen;
}

static void
own_delete(struct syncd *sd, const struct ct_state *st)
{
	struct centry *e;

	if ((e = cache_del(sd->internal, st)) == NULL)
		return;
	if ((e->flags & CE_SENT) && any_alive(sd)) {
		e->flags |= CE_DELETED;
		cache_enqueue(sd->internal, e);
	} else if (e->flags & CE_QUEUED)
		e->flags |= CE_DEAD;
	else
		free(e);
}

/*
 * A dump part is read from the kernel before it is handled, and events
 * are handled in between: a state destroyed meanwhile can still come in
 * a later part, and would then stay here (and at the peers) for good.
 * While a dump runs, remember what was destroyed and skip such entries;
 * a NEW or UPDATE event since means the state exists again. Returns 1
 * when st is such a stale dump entry.
 */
static int
dump_stale(struct syncd *sd, enum ct_event ev, const struct ct_state *st)
{
	struct centry *o;

	switch (ct_dump_feeding(sd->ct)) {
	case CT_FEED_ENTRY:
		if (sd->dump_gone != NULL &&
		    cache_lookup(sd->dump_gone, st) != NULL) {
			sd->dump_stale_skipped++;
			return 1;
		}
		return 0;
	case CT_FEED_EVENT:
		if (ev == CT_EV_DESTROY) {
			if (sd->dump_gone == NULL &&
			    (sd->dump_gone = cache_new()) == NULL) {
				log_warn("%s: cache", __func__);
				return 0;
			}
			if (cache_put(sd->dump_gone, st, 0, &o) != NULL)
				free(o);
		} else if (sd->dump_gone != NULL)
			free(cache_del(sd->dump_gone, st));
		return 0;
	default:
		if (sd->dump_gone != NULL && cache_count(sd->dump_gone) > 0)
			cache_clear(sd->dump_gone);
		return 0;
	}
}

/*
 * States this daemon just deleted from the kernel (staged copies): a
 * dump under way may still bring them, from a part read before, and our
 * own requests cause no event here to tell dump_stale. Without this, the
 * initial table read of a fresh daemon took such a copy, deleted by
 * staging meanwhile, for a state of our own and sent it to the peers.
 */
void
engine_deleted(struct syncd *sd, const struct ct_state *st, size_t n)
{
	struct centry *o;

	if (ct_dump_feeding(sd->ct) == CT_FEED_NONE)
		return;
	if (sd->dump_gone == NULL && (sd->dump_gone = cache_new()) == NULL) {
		log_warn("%s: cache", __func__);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (cache_put(sd->dump_gone, &st[i], 0, &o) != NULL)
			free(o);
}

/* A kernel event of st comes soon (ct.c's look-ahead): its slot in our
 * table, at a random place under the keyed hash, is fetched meanwhile. */
void
engine_own_hint(struct syncd *sd, const struct ct_state *st)
{
	cache_prefetch_state(sd->internal, st);
}

/*
 * The kernel destroyed a state on its own (it expired: our own requests
 * cause no events). A peer's copy staged here can expire while the state
 * lives on at the peer: the kernel refreshes a timeout on traffic without
 * any event, so a steady flow (a UDP stream) outlives the timeout its
 * owner last sent, and while the owner is alive its DELETE says when a
 * state is gone. The cache stops saying the copy is in the kernel, so a
 * commit imports it again (engine_ext_state gives it a timeout); staging
 * it again now would only race with the owner's DELETE of a state that
 * ends.
 */
static void
ext_destroyed(struct syncd *sd, const struct ct_state *st)
{
	struct centry *x;

	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		free(cache_del(p->unstage, st));
		if ((x = cache_lookup(p->ext, st)) == NULL ||
		    !(x->flags & (CE_STAGED | CE_INKERNEL)))
			continue;
		x->flags &= (uint8_t) ~(CE_STAGED | CE_INKERNEL);
		sd->stage_expired++;
	}
}

void
engine_own_state(struct syncd *sd, enum ct_event ev, const struct ct_state *st)
{
	struct ct_state old, merged;
	struct centry *e, *o;
	uint32_t now = syncd_now_s();
	enum pol_reason r;
	uint8_t m = CHG_FULL;
	int had = 0;

	if (engine_is_sync_flow(sd, st)) {
		sd->sync_flows++;
		return;
	}
	if (dump_stale(sd, ev, st))
		return;
	if (ev == CT_EV_DESTROY) {
		if (sd->unsent != NULL)
			free(cache_del(sd->unsent, st));
		own_delete(sd, st);
		ext_destroyed(sd, st);
		transport_kick(sd);
		return;
	}
	e = cache_lookup(sd->internal, st);
	if (e == NULL && ev == CT_EV_NEW && !sd->adopting &&
	    held_by_peer(sd, st)) {
		/*
		 * A dump found a state a peer announces as its own: our
		 * staged copy, not ours (an update event, i.e. traffic
		 * here, would make it ours).
		 */
		sd->peer_owned++;
		return;
	}
	if ((r = policy_send(&sd->policy, &sd->local, st)) != POL_OK) {
		own_unsent(sd, r, st);
		return;
	}
	/* Kept home before (its address was this node's): sent from now. */
	if (e == NULL && sd->unsent != NULL)
		free(cache_del(sd->unsent, st));
	if (e != NULL && centry_state(e, now, &old) == 0) {
		had = 1;
		if (ev == CT_EV_UPDATE) {
			/* Update events carry only what changed of these. */
			merged = *st;
			merge_update(&merged, &old);
			st = &merged;
		}
		m = change_mask(&old, st);
		if (m == 0 && ev == CT_EV_NEW) {
			/* A dump repeating what we know. */
			e->gen = sd->resync_gen;
			if (st->fields & CT_F_TIMEOUT)
				e->expire = now + st->timeout;
			return;
		}
	}
	if ((e = cache_put(sd->internal, st, now, &o)) == NULL) {
		log_warn("%s: cache", __func__);
		return;
	}
	release(sd->internal, o, e);
	e->gen = sd->resync_gen;
	if (had && (e->flags & CE_SENT))
		e->chg |= m | SYNC_U_TIMEOUT;
	else
		e->chg = CHG_FULL;
	if (any_alive(sd))
		cache_enqueue(sd->internal, e);
	transport_kick(sd);
}

int
engine_refilter(struct syncd *sd, const struct ct_state *st)
{
	enum pol_reason r = policy_send(&sd->policy, &sd->local, st);
	int home = sd->unsent != NULL && cache_lookup(sd->unsent, st) != NULL;

	if (r != POL_OK && !home && cache_lookup(sd->internal, st) != NULL) {
		own_unsent(sd, r, st);
		transport_kick(sd);
		return 1;
	}
	if (r == POL_OK && home) {
		engine_own_state(sd, CT_EV_NEW, st);
		return cache_lookup(sd->internal, st) != NULL;
	}
	return 0;
}

static int
exp_same(const struct ct_expect *a, const struct ct_expect *b)
{
	return memcmp(&a->tuple, &b->tuple, sizeof(a->tuple)) == 0 &&
	    memcmp(&a->master, &b->master, sizeof(a->master)) == 0 &&
	    a->zone == b->zone;
}

/* Add or remove in a small array of expectations; -1 when a new one
 * does not fit (SYNCD_MAXEXPECT, or no memory). */
static int
exp_apply(struct ct_expect **arr, size_t *n, int del,
    const struct ct_expect *x)
{
	struct ct_expect *na;
	size_t i;

	for (i = 0; i < *n; i++)
		if (exp_same(&(*arr)[i], x))
			break;
	if (del) {
		if (i < *n)
			(*arr)[i] = (*arr)[--(*n)];
		return 0;
	}
	if (i < *n) {
		(*arr)[i] = *x;
		return 0;
	}
	if (*n >= SYNCD_MAXEXPECT)
		return -1;
	if ((*n & 63) == 0) {
		na = realloc(*arr, (*n + 64) * sizeof(**arr));
		if (na == NULL)
			return -1;
		*arr = na;
	}
	(*arr)[(*n)++] = *x;
	return 0;
}

/* An expectation whose master connection the send filter keeps home. */
static int
expect_unsent(struct syncd *sd, const struct ct_expect *x)
{
	struct ct_state m;

	if (sd->unsent == NULL)
		return 0;
	memset(&m, 0, sizeof(m));
	m.orig = x->master;
	m.reply = x->master;
	if (x->fields & CT_EXP_F_ZONE) {
		m.fields |= CT_F_ZONE;
		m.zone = x->zone;
	}
	return cache_lookup(sd->unsent, &m) != NULL;
}

void
engine_own_expect(struct syncd *sd, enum ct_event ev,
    const struct ct_expect *x)
{
	struct wr w;
	int type = ev == CT_EV_DESTROY ? SYNC_R_EXPECT_DEL : SYNC_R_EXPECT;

	if (ev != CT_EV_DESTROY && expect_unsent(sd, x))
		return;
	exp_apply(&sd->exp, &sd->nexp, ev == CT_EV_DESTROY, x);
	if (!any_alive(sd))
		return;
	wr_init(&w, sd->expect_queue + sd->expect_queue_len,
	    sizeof(sd->expect_queue) - sd->expect_queue_len);
	if (sync_expect_encode(&w, type, x) == 0)
		sd->expect_queue_len += w.off;
	else
		log_debug("%s: expectation queue full", __func__);
	transport_kick(sd);
}

void
engine_resync_begin(struct syncd *sd)
{
	/* Not one adopted entries may carry (engine_adopt); a few at most
	 * are taken, so this ends. */
	do
		sd->resync_gen++;
	while (gen_set_has(sd->gen_avoid, sd->resync_gen));
	sd->resyncing = 1;
	log_info("%s: re-reading the table",
	    sd->resync_why != NULL ? sd->resync_why : "kernel events lost");
	sd->resync_why = NULL;
}

void
engine_resync_end(struct syncd *sd)
{
	struct centry *e;
	struct ct_state st;
	size_t pos = 0, n = 0;

	while ((e = cache_next(sd->internal, &pos)) != NULL) {
		if (e->gen == sd->resync_gen)
			continue;
		if (centry_state(e, 0, &st) == 0) {
			own_delete(sd, &st);
			n++;
		}
	}
	pos = 0;
	while (
	    sd->unsent != NULL && (e = cache_next(sd->unsent, &pos)) != NULL)
		if (e->gen != sd->resync_gen)
			cache_del_at(sd->unsent, pos);
	/* Every entry now carries this re-read's generation. */
	memset(sd->gen_avoid, 0, sizeof(sd->gen_avoid));
	sd->resyncing = 0;
	log_info("re-read the table: %zu states gone meanwhile, %llu dumped "
		 "entries destroyed since",
	    n, (unsigned long long)sd->dump_stale_skipped);
	transport_kick(sd);
}

size_t
engine_external(const struct syncd *sd)
{
	size_t n = 0;

	for (int i = 0; i < sd->npeers; i++)
		n += cache_count(sd->peers[i]->ext);
	return n;
}

static void
table_read(void *arg, int error)
{
	struct syncd *sd = arg;

	sd->table = TABLE_READ;
	transport_kick(sd); /* bulks asked for meanwhile */
	if (error != 0)
		log_warnx("initial table dump failed: %s", strerror(error));
	else
		log_info("initial table dump: %zu own states",
		    cache_count(sd->internal));
	notify_ready(); /* systemd: sockets bound, the table read */
}

/*
 * Our own table is read once the first bulk from a peer is in (or
 * failed): until then the loop belongs to receiving it, and only the
 * peers' bulks tell our kernel's staged copies of their states from
 * our own. Events are subscribed already, so nothing is missed
 * meanwhile. A bulk a peer asks for waits for the table (stream.c).
 */
static void
first_bulk_settled(struct syncd *sd)
{
	if (sd->ct == NULL || sd->table != TABLE_UNREAD)
		return;
	if (ct_dump_start(sd->ct, table_read, sd) == -1) {
		log_warn("initial table dump");
		sd->table = TABLE_READ;
		transport_kick(sd);
		notify_ready();
	} else
		sd->table = TABLE_READING;
}

static void
update_first_bulk(struct syncd *sd)
{
	int failed = 0;

	if (sd->first_bulk != FIRST_BULK_PENDING)
		return;
	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (p->bulk_req == BULK_REQ_DONE &&
		    sd->first_bulk == FIRST_BULK_PENDING) {
			sd->first_bulk = FIRST_BULK_DONE;
			event_bulk(p, "rx", "first-done", -1, -1,
			    "first bulk sync done (from %s)", p->name);
		}
		/* Only an unreachable peer's failure gives up the bulk: a
		 * peer that is alive but whose bulk fails keeps us demoted
		 * (we hold none of its states). */
		if (p->bulk_req == BULK_REQ_FAILED && !p->alive)
			failed++;
	}
	if (sd->first_bulk == FIRST_BULK_PENDING &&
	    (sd->npeers == 0 || failed == sd->npeers)) {
		sd->first_bulk = FIRST_BULK_FAILED;
		if (sd->npeers > 0)
			event_bulk(NULL, "rx", "first-failed", -1, -1,
			    "first bulk sync failed: no peer reachable");
	}
	if (sd->first_bulk != FIRST_BULK_PENDING)
		first_bulk_settled(sd);
}

/* A live peer whose bulk to us failed, or NULL. */
static const struct peer *
bulk_failed_alive(const struct syncd *sd)
{
	for (int i = 0; i < sd->npeers; i++)
		if (sd->peers[i]->bulk_req == BULK_REQ_FAILED &&
		    sd->peers[i]->alive)
			return sd->peers[i];
	return NULL;
}

void
engine_update_demote(struct syncd *sd)
{
	const struct peer *p;
	char buf[sizeof(sd->demote_reason)];
	int d;
	const char *why;

	update_first_bulk(sd);
	if (sd->first_bulk == FIRST_BULK_PENDING) {
		d = SYNCD_DEMOTE_PENDING;
		why = "bulk sync pending";
		if ((p = bulk_failed_alive(sd)) != NULL) {
			snprintf(buf, sizeof(buf),
			    "bulk from %s failed, "
			    "peer alive",
			    p->name);
			why = buf;
		}
	} else if (!any_alive(sd) && sd->npeers > 0) {
		d = SYNCD_DEMOTE_LINK_DOWN;
		why = "sync link down";
	} else {
		d = 0;
		why = "in sync";
	}
	if (d != sd->demote || strcmp(why, sd->demote_reason) != 0) {
		sd->demote = d;
		snprintf(sd->demote_reason, sizeof(sd->demote_reason), "%s",
		    why);
		control_demote_changed(sd->control);
	}
}

/*
 * The timeout a peer sent is what its kernel said at the state's last
 * event, and traffic refreshes a kernel timeout without any event: a
 * steady flow (a UDP stream, ASSURED, no more status changes) outlives
 * it. While the peer is alive its DELETE (reliable, or the bulk's sweep
 * after a gap) says when a state is gone; the timeout only bounds what
 * a peer that went away left behind, and only loosely: the peer was
 * heard last up to a hello interval before it died, and whether its
 * copy still saw traffic then is unknown. A dead peer's state is kept
 * SYNCD_STALE_S past its timeout or past the peer's last contact,
 * whichever is later, so that the commit of a takeover, which comes
 * after the peer is found dead, still has it; a TCP connection that was
 * closing ends at its timeout.
 */
static int dead_peer_expired(const struct centry *, uint32_t, uint32_t);

void
engine_expire(struct syncd *sd)
{
	uint32_t now = syncd_now_s(), heard;
	struct centry *e = NULL;
	size_t end;

	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];
		struct cache *c = p->ext;
		size_t *pos = &p->expire_pos;

		if (p->alive)
			continue;
		heard = syncd_s(p->last_rx_ns);
		e = NULL;
		end = *pos + EXPIRE_SLOTS;
		while (*pos < end && (e = cache_next(c, pos)) != NULL)
			if (dead_peer_expired(e, now, heard))
				cache_del_at(c, *pos);
		if (e == NULL)
			*pos = 0;
	}
	if (sd->heap_release_ns != 0 && ev_now_ns() >= sd->heap_release_ns) {
		sd->heap_release_ns = 0;
		util_heap_release();
	}
}

void
engine_heap_release_soon(struct syncd *sd)
{
	sd->heap_release_ns = ev_now_ns() + HEAP_RELEASE_NS;
}

/* A TCP connection that is closing: its timeout is not refreshed by a
 * steady flow, it ends. */
static int
tcp_closing(const struct ct_state *st)
{
	return st->orig.proto == IPPROTO_TCP && (st->fields & CT_F_TCP) &&
	    (st->tcp_state == TCP_CONNTRACK_TIME_WAIT ||
		st->tcp_state == TCP_CONNTRACK_CLOSE);
}

static int
dead_peer_expired(const struct centry *e, uint32_t now, uint32_t heard)
{
	struct ct_state st;

	if (e->expire == 0 || e->expire >= now)
		return 0;
	if (now >= (e->expire > heard ? e->expire : heard) + SYNCD_STALE_S)
		return 1;
	return centry_state(e, now, &st) == 0 && tcp_closing(&st);
}

int
engine_ext_state(const struct centry *e, uint32_t now, struct ct_state *st)
{
	if (centry_state(e, now, st) == -1)
		return -1;
	if (e->expire != 0 && e->expire <= now &&
	    st->timeout < SYNCD_STALE_S && !tcp_closing(st))
		st->timeout = SYNCD_STALE_S;
	return 0;
}

/* A state from a peer: into its cache and, when staging, to the kernel
 * soon (the cache's queue is the staging queue). */
static void
ext_put(struct peer *p, const struct ct_state *st, uint64_t now_ns)
{
	struct centry *e, *o;

	if ((e = cache_put(p->ext, st, syncd_s(now_ns), &o)) == NULL)
		return;
	release(p->ext, o, NULL);
	e->gen = p->bulk_gen;
	e->flags &= ~CE_STAGED;
	/* Not over a state this node owns (the kernel has it already). */
	if (!p->sd->stage_enabled || engine_is_own(p->sd, st))
		return;
	cache_enqueue(p->ext, e);
	stage_kick(p->sd);
}

/*
 * An entry removed from a peer's cache: staged ones leave the kernel, and
 * so do those still waiting to be staged. The kernel may hold a copy of
 * one of those that we do not know of: this daemon's previous run staged
 * it, and a fresh daemon learns of its copies only from the peer's bulk.
 * A delete the peer sends before the copy is staged again left it in the
 * kernel, held by no one until it expired (tests/netns/
 * test_syncd_restart_backup.sh: 88% of 100,000). A delete of a state the
 * kernel lacks costs nothing.
 */
void
engine_ext_drop(struct peer *p, struct centry *e)
{
	if (e == NULL)
		return;
	if (e->flags & (CE_STAGED | CE_INKERNEL | CE_QUEUED)) {
		struct ct_state st;
		struct centry *o;

		/* Remembered until the kernel copy is gone. */
		if (centry_state(e, 0, &st) == 0 &&
		    cache_put(p->unstage, &st, 0, &o) != NULL)
			free(o);
		e->flags |= CE_DELETED;
		cache_enqueue(p->ext, e);
		stage_kick(p->sd);
	} else
		free(e);
}

/*
 * The peer's entries just became our own table: their generation is the
 * peer's bulk's, ours the kernel re-read's. A re-read keeps only the
 * entries it marks, so its generation must be none a peer's bulk gave
 * (or it would keep a state the kernel no longer has): the next re-read
 * avoids those the peer's cache may hold (engine_resync_begin), without
 * a walk of every entry (76 ms at 4M states, in the commit). The staging
 * marks left on them are read in peers' caches only. A re-read already
 * under way has its generation: the entries get it, one by one; so they
 * do when the peer's bulks left too many generations to avoid.
 */
static void
adopt_marks(struct syncd *sd, const struct peer *p)
{
	struct centry *e;
	size_t pos = 0;
	int n = 0;

	for (size_t i = 0; i < sizeof(sd->gen_avoid); i++)
		n += __builtin_popcount(
		    (unsigned)(sd->gen_avoid[i] | p->bulk_gens[i]));
	if (!sd->resyncing && n <= 64) {
		for (size_t i = 0; i < sizeof(sd->gen_avoid); i++)
			sd->gen_avoid[i] |= p->bulk_gens[i];
		return;
	}
	while ((e = cache_next(sd->internal, &pos)) != NULL) {
		e->gen = sd->resync_gen;
		e->flags &= (uint8_t) ~(CE_STAGED | CE_INKERNEL);
	}
}

/*
 * After a commit the peers' states are this node's own. The largest
 * cache becomes the internal one by exchanging the tables (no per-state
 * work); the smaller ones are merged state by state. Peers then get the
 * whole table as an unsolicited bulk.
 */
size_t
engine_adopt(struct syncd *sd)
{
	uint32_t now = syncd_now_s();
	struct centry *e;
	struct cache *small;
	struct ct_state st;
	size_t pos, n = 0;
	int swapped;

	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		/* The commit emptied the staging queue; be safe. */
		while ((e = cache_dequeue(p->ext)) != NULL)
			if (e->flags & (CE_DEAD | CE_DELETED))
				free(e);
		cache_clear(p->unstage);
		if (cache_count(p->ext) == 0)
			continue;
		n += cache_count(p->ext);
		swapped = cache_count(sd->internal) < cache_count(p->ext);
		if (swapped) {
			cache_swap(sd->internal, p->ext);
			small = p->ext;
			/* The old internal send queue: keep its deletes. */
			while ((e = cache_dequeue(small)) != NULL) {
				if (e->flags & CE_DEAD)
					free(e);
				else if (e->flags & CE_DELETED)
					cache_enqueue(sd->internal, e);
			}
			adopt_marks(sd, p);
		} else
			small = p->ext;
		pos = 0;
		sd->adopting = 1;
		/*
		 * Our own states win: merged over the peer's when the
		 * tables were exchanged, kept when the peer's are merged
		 * (the kernel kept ours at the commit too).
		 */
		while ((e = cache_next(small, &pos)) != NULL)
			if (centry_state(e, now, &st) == 0 &&
			    (swapped || !engine_is_own(sd, &st)))
				engine_own_state(sd, CT_EV_NEW, &st);
		sd->adopting = 0;
		cache_clear(small);
		while ((e = cache_dequeue(small)) != NULL)
			free(e);
	}
	/*
	 * Every live peer gets the whole table, ended by TAKEOVER: a peer
	 * that was master before us still holds these states as its own
	 * (its kernel copies no longer see the traffic) and hands them
	 * over. A bulk under way starts over (the table changed under it).
	 */
	for (int i = 0; n > 0 && i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (!p->alive)
			continue;
		p->bulk.takeover = 1;
		stream_start_bulk(p, p->bulk.active ? p->bulk.id : 0, 1);
	}
	transport_kick(sd);
	return n;
}

/*
 * p committed (took over) and has sent its whole table: the states in it
 * are its own now, also those we still hold as ours (we were master
 * before it; our kernel copies no longer see their traffic). They leave
 * our own cache (deleted at the peers like any other, which never
 * removes a peer's kernel copy of its own state) and become p's staged
 * copies, refreshed from its version; when p deletes one, our kernel
 * copy goes. Only states of p's latest bulk count: older ones are swept
 * at its BULK_END.
 */
static void
takeover_apply(struct peer *p)
{
	struct syncd *sd = p->sd;
	struct centry *e, *x;
	struct ct_state st;
	size_t pos = 0, n = 0;

	p->takeover_held = 0;
	while ((e = cache_next(sd->internal, &pos)) != NULL) {
		if (centry_state(e, 0, &st) == -1 ||
		    (x = cache_lookup(p->ext, &st)) == NULL ||
		    x->gen != p->bulk_gen)
			continue;
		own_delete(sd, &st);
		sd->handed_over++;
		x->flags = (uint8_t)((x->flags & ~CE_STAGED) | CE_INKERNEL);
		if (sd->stage_enabled)
			cache_enqueue(p->ext, x);
		n++;
	}
	log_info("peer %s took over (%u states): %zu of the states we held "
		 "as ours are its own now",
	    p->name, p->takeover_count, n);
	if (n > 0) {
		stage_kick(sd);
		transport_kick(sd);
		engine_heap_release_soon(sd);
	}
}

/*
 * A takeover that finds this node master (carpd says so) is held: either
 * this node is about to step down (a failback: the peer commits before
 * it advertises) and it applies then, or this node stays master of other
 * vhids and its traffic keeps using its states. Only the latest takeover
 * counts.
 */
static void
rx_takeover(struct peer *p, const struct sync_ctl *c)
{
	struct syncd *sd = p->sd;

	/* Whatever we still had to tell p of a takeover of ours is older
	 * than this one. */
	p->bulk.takeover = 0;
	for (int i = 0; i < sd->npeers; i++)
		sd->peers[i]->takeover_held = 0;
	p->takeover_count = c->count;
	if (!sd->serving)
		takeover_apply(p);
	else {
		p->takeover_held = 1;
		sd->takeovers_held++;
		log_info("peer %s took over (%u states) while this node is "
			 "master: our states stay ours while it is",
		    p->name, c->count);
	}
	/*
	 * p's commit made its copies of our states its own: it holds none
	 * of ours now. What stays ours (all of it while we are master; else
	 * what p's table lacks, e.g. a state its kernel refused) goes to p
	 * again as a bulk, whose end also sweeps whatever p still had.
	 */
	stream_start_bulk(p, p->bulk.active ? p->bulk.id : 0, 1);
}

/* carpd says whether this node is master of any vhid. */
void
engine_role(struct syncd *sd, int master)
{
	if (master != sd->serving)
		log_info("carpd: this node is %s",
		    master ? "master of a vhid" : "master of no vhid");
	sd->serving = master;
	for (int i = 0; !master && i < sd->npeers; i++)
		if (sd->peers[i]->takeover_held)
			takeover_apply(sd->peers[i]);
}

/*
 * Whether p may hand us st: the import policy and, for a state not held
 * yet, the per-peer maximum. A refusal is counted, and an older copy we
 * held leaves (and the kernel, if staged).
 */
static int
ext_admit(struct peer *p, const struct ct_state *st)
{
	struct syncd *sd = p->sd;
	enum pol_reason r;
	char why[160];

	r = policy_import(&sd->policy, &sd->local, &sd->helpers, st, why,
	    sizeof(why));
	if (r == POL_OK && cache_count(p->ext) >= sd->policy.max_states &&
	    cache_lookup(p->ext, st) == NULL) {
		r = POL_MAX_STATES;
		snprintf(why, sizeof(why),
		    "a state over import-max-states "
		    "(%u)",
		    sd->policy.max_states);
	}
	if (r == POL_OK)
		return 1;
	engine_reject(p, r, why);
	engine_ext_drop(p, cache_del(p->ext, st));
	return 0;
}

static void
rx_expect(struct peer *p, uint8_t type, const struct ct_expect *x)
{
	struct syncd *sd = p->sd;
	enum pol_reason r;
	char why[160];

	if (type == SYNC_R_EXPECT_DEL) {
		exp_apply(&p->exp, &p->nexp, 1, x);
		return;
	}
	r = policy_import_expect(&sd->policy, &sd->helpers, x, why,
	    sizeof(why));
	if (r != POL_OK) {
		engine_reject(p, r, why);
		exp_apply(&p->exp, &p->nexp, 1, x);
	} else if (exp_apply(&p->exp, &p->nexp, 0, x) == -1)
		engine_reject(p, POL_MAX_EXPECT,
		    "an expectation over the "
		    "most a peer may have");
}

/*
 * A bulk from p begins: a new generation of its cache (older entries
 * are swept at the end), its expectations forgotten, and room made at
 * once for the states it announced (HELLO), within the most it may have
 * here: the table is not rebuilt again and again as they come.
 */
void
engine_rx_bulk_begin(struct peer *p)
{
	size_t n = p->peer_internal;

	p->bulk_gen++;
	gen_set_add(p->bulk_gens, p->bulk_gen);
	p->nexp = 0;
	if (n > p->sd->policy.max_states)
		n = p->sd->policy.max_states;
	if (cache_reserve(p->ext, n) == -1)
		log_warn("%s: room for %zu states from %s", __func__, n,
		    p->name);
}

/* A record of p that engine_rx_record will have soon: what it will
 * look at fetched meanwhile (a hint: nothing changes). */
void
engine_rx_prefetch(struct peer *p, uint8_t type, const struct rd *v)
{
	if (type == SYNC_R_STATE)
		cache_prefetch(p->ext, v->p, v->len);
}

void
engine_rx_record(struct peer *p, uint8_t type, struct rd *v, uint64_t now_ns)
{
	struct syncd *sd = p->sd;
	struct ct_state st, cur;
	struct sync_update u;
	struct sync_ctl c;
	struct ct_expect x;
	struct centry *e;
	uint32_t now = syncd_s(now_ns);

	switch (type) {
	case SYNC_R_STATE:
		if (sync_state_decode(v, &st) == -1)
			goto bad;
		p->st.rx_states++;
		if (ext_admit(p, &st))
			ext_put(p, &st, now_ns);
		return;
	case SYNC_R_UPDATE:
		if (sync_update_decode(v, &u) == -1)
			goto bad;
		p->st.rx_states++;
		if ((e = cache_lookup(p->ext, &u.st)) == NULL ||
		    centry_state(e, now, &cur) == -1) {
			p->st.unknown_updates++;
			return;
		}
		if (u.mask & SYNC_U_STATUS)
			cur.status = u.st.status;
		if (u.mask & SYNC_U_TIMEOUT) {
			cur.timeout = u.st.timeout;
			cur.fields |= CT_F_TIMEOUT;
		}
		if (u.mask & SYNC_U_TCP) {
			cur.tcp_state = u.st.tcp_state;
			memcpy(cur.tcp_flags, u.st.tcp_flags, 2);
			cur.fields |= CT_F_TCP;
		}
		if (u.mask & SYNC_U_MARK) {
			cur.mark = u.st.mark;
			cur.fields |= CT_F_MARK;
		}
		if (u.mask & SYNC_U_LABELS) {
			memcpy(cur.labels, u.st.labels, CT_LABELS_LEN);
			cur.fields |= CT_F_LABELS;
		}
		if (ext_admit(p, &cur))
			ext_put(p, &cur, now_ns);
		return;
	case SYNC_R_DELETE:
		if (sync_delete_decode(v, &st) == -1)
			goto bad;
		p->st.rx_states++;
		engine_ext_drop(p, cache_del(p->ext, &st));
		return;
	case SYNC_R_EXPECT:
	case SYNC_R_EXPECT_DEL:
		if (sync_expect_decode(v, &x) == -1)
			goto bad;
		rx_expect(p, type, &x);
		return;
	case SYNC_R_DIFF_STATE:
		if (sync_state_decode(v, &st) == -1)
			goto bad;
		diff_peer_state(sd->diff, p, &st);
		return;
	case SYNC_R_TAKEOVER:
		if (sync_ctl_decode(v, type, &c) == -1)
			goto bad;
		rx_takeover(p, &c);
		return;
	default:
		/* Unknown record types are skipped. */
		return;
	}
bad:
	p->st.rx_malformed++;
}

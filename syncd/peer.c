/*
 * peer.c: syncd's transport: the UDP sockets, per-peer reliable streams
 * (64-bit sequence numbers in serial arithmetic, cumulative acks with
 * missing ranges, retransmission from a bounded window, SKIP + bulk when
 * a peer fell out of the window), liveness from authentic new frames
 * only, bulk requests, pacing (live updates first). Sessions, keys and
 * sealing are session.c's; what goes into the frames is stream.c's;
 * which of a peer's paths carries them is path.c's.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "control.h"
#include "log.h"
#include "syncd.h"
#include "util.h"

#define RTO_NS		  (200 * NS_MS)
#define RESEND_GAP_NS	  (5 * NS_MS)
#define ACK_EVERY	  32
#define PUMP_BUDGET	  128 /* frames per pump turn */
#define PUMP_COALESCE_NS  (500 * 1000ULL)
#define PUMP_COALESCE_MAX 40 /* queued states that do not wait */
#define ACK_DELAY_NS	  (1 * NS_MS)
#define NACK_GAP_NS	  (2 * NS_MS) /* between acks reporting a gap */
#define ACK_RESEND_MAX	  256	      /* frames resent for one ack */
#define RECV_ROUNDS	  32
#define HELLO_NS	  (1000 * NS_MS)
#define STALLED_NS	  (1000 * NS_MS) /* unacked this long: not in sync */
#define FIRST_TICK_NS	  (10 * NS_MS)
#define SKIP_MAX	  (1ULL << 30) /* a SKIP further ahead is bogus */
#define IP4_UDP_HDRLEN	  28
#define IP6_UDP_HDRLEN	  48
#define TICK_NS		  (100 * NS_MS)
#define PATH_TICK_NS	  (50 * NS_MS)	/* paths: probes and verdicts */
#define LATE_NS		  (300 * NS_MS) /* a tick this late: loop held up */
#define TAIL_RESEND_MAX	  32 /* oldest frames resent after the RTO */
#define BULK_PAUSE_NS	  (5000 * NS_MS) /* failed, peer alive: again */
#define RX_AHEAD	  8 /* records looked ahead at (process_body) */

/* Frame buffers: one frame being sealed, one body being built, a batch
 * of received datagrams, each room for the largest UDP payload. */
struct transport_bufs {
	uint8_t frame[SYNC_FRAME_MAX + 64];
	uint8_t body[SYNC_FRAME_MAX];
	uint8_t rx[SYNCD_RECV_BATCH][SYNCD_RECV_BUFLEN];
};

const char *
bulk_req_name(enum bulk_req_state s)
{
	static const char *names[] = { "none", "requested", "running", "done",
		"failed" };

	return names[s];
}

static size_t
body_cap(const struct syncd *sd)
{
	size_t ip = sd->listen.ss_family == AF_INET6 ?
	    IP6_UDP_HDRLEN :
	    IP4_UDP_HDRLEN;

	return (size_t)sd->mtu - ip - SYNC_HDRLEN - SYNC_TAGLEN;
}

static int
win_room(const struct peer *p)
{
	return p->tx_next - p->tx_una < SYNCD_WINDOW;
}

/* A frame to p on one of its paths. */
void
peer_send_on(struct peer *p, int path, const uint8_t *buf, size_t len)
{
	struct path *q = &p->path[path];

	if (sendto(path_sock(p->sd, path), buf, len, 0,
		(const struct sockaddr *)&q->sa, q->salen) == -1) {
		q->tx_errors++;
		/* No route any more (our link went down): at once. */
		if (errno == ENETUNREACH || errno == ENETDOWN ||
		    errno == EHOSTUNREACH)
			path_send_failed(p, path);
		if (errno != EAGAIN && errno != ENOBUFS &&
		    errno != ECONNREFUSED && errno != EHOSTUNREACH &&
		    errno != ENETUNREACH)
			log_debug("%s: sendto %s: %s", __func__, q->name,
			    strerror(errno));
		return;
	}
	q->tx_frames++;
	p->st.tx_frames++;
	p->st.tx_bytes += len;
}

/* A frame to p on its active path. */
void
peer_send(struct peer *p, const uint8_t *buf, size_t len)
{
	peer_send_on(p, p->active, buf, len);
}

/*
 * A handshake frame: an answer goes back on the path its question came
 * in on; otherwise on the active path, or, while no path is up, on each
 * path in turn (an INIT is retried every second: one of them gets
 * through). The same INIT never goes on two paths: its answers would
 * race for one pending handshake.
 */
void
peer_send_hs(struct peer *p, const uint8_t *buf, size_t len)
{
	int path = p->rx_path;

	if (path < 0 && p->npaths > 1 && !p->path[p->active].up) {
		p->hs_path = (p->hs_path + 1) % p->npaths;
		path = p->hs_path;
	} else if (path < 0)
		path = p->active;
	peer_send_on(p, path, buf, len);
}

/* Send a body as the next reliable frame; keeps a copy for resending. */
static int
send_reliable(struct peer *p, const uint8_t *body, size_t blen)
{
	struct syncd *sd = p->sd;
	uint8_t *fbuf = sd->bufs->frame;
	struct txslot *s;
	size_t len;

	if (!win_room(p))
		return -1;
	memcpy(fbuf + SYNC_HDRLEN, body, blen);
	len = sess_seal(p, fbuf, blen, SYNC_T_DATA, p->tx_next);
	if (len == 0)
		return -1;
	s = &p->win[p->tx_next % SYNCD_WINDOW];
	free(s->buf);
	if ((s->buf = malloc(len)) == NULL)
		return -1;
	memcpy(s->buf, fbuf, len);
	s->len = (uint16_t)len;
	s->sent_ns = ev_now_ns();
	if (p->tx_una == p->tx_next)
		p->last_progress_ns = s->sent_ns;
	if (++p->tx_next == 0)
		p->st.tx_wraps++;
	peer_send(p, fbuf, len);
	return 0;
}

/* A CTRL frame of our session or a REPLY frame of the peer's, on a path
 * (-1: the active one). */
static void
send_ctl_on(struct peer *p, int path, uint8_t type, const uint8_t *body,
    size_t blen)
{
	uint8_t *fbuf = p->sd->bufs->frame;
	size_t len;

	memcpy(fbuf + SYNC_HDRLEN, body, blen);
	if ((len = sess_seal(p, fbuf, blen, type, 0)) != 0)
		peer_send_on(p, path < 0 ? p->active : path, fbuf, len);
}

static void
send_ctl(struct peer *p, uint8_t type, const uint8_t *body, size_t blen)
{
	send_ctl_on(p, -1, type, body, blen);
}

static void
win_drop(struct peer *p)
{
	for (int i = 0; i < SYNCD_WINDOW; i++) {
		free(p->win[i].buf);
		p->win[i].buf = NULL;
	}
	p->tx_una = p->tx_next;
}

static void
rx_reset(struct peer *p, uint64_t seq0)
{
	for (int i = 0; i < SYNCD_WINDOW; i++) {
		free(p->rx[i].body);
		p->rx[i].body = NULL;
		p->rx[i].have = 0;
	}
	p->rx_next = seq0;
	p->rx_unacked = 0;
	p->rx_delivered = 0;
}

static void
ack_encode(struct peer *p, struct wr *w)
{
	struct sync_ack a;
	uint64_t hi = p->rx_next;
	int in_gap = 0;

	memset(&a, 0, sizeof(a));
	a.next = p->rx_next;
	for (uint64_t s = p->rx_next + 1; s != p->rx_next + SYNCD_WINDOW; s++)
		if (p->rx[s % SYNCD_WINDOW].have)
			hi = s;
	for (uint64_t s = p->rx_next; s != hi; s++) {
		if (!p->rx[s % SYNCD_WINDOW].have) {
			if (!in_gap) {
				if (a.nranges == SYNC_ACK_MAXRANGES)
					break;
				a.range[a.nranges].from = s;
				in_gap = 1;
			}
			a.range[a.nranges].to = s;
		} else if (in_gap) {
			a.nranges++;
			in_gap = 0;
		}
	}
	if (in_gap)
		a.nranges++;
	sync_ack_encode(w, &a);
}

/* HELLO on a path (-1: the active one); to a peer with several paths
 * with our report of the paths we hear it on. */
void
peer_send_hello(struct peer *p, int path)
{
	struct syncd *sd = p->sd;
	uint8_t body[64];
	struct wr w;
	struct sync_hello h;

	wr_init(&w, body, sizeof(body));
	memset(&h, 0, sizeof(h));
	h.flags = sd->first_bulk != FIRST_BULK_PENDING ? SYNC_H_BULK_DONE : 0;
	h.internal = (uint32_t)cache_count(sd->internal);
	if (p->npaths > 1) {
		h.flags |= SYNC_H_PATHS;
		h.paths = path_hears(p);
	}
	if (sync_hello_encode(&w, &h) == 0)
		send_ctl_on(p, path, SYNC_T_CTRL, body, w.off);
}

/* HELLO in our session, ACK in the peer's. */
static void
send_ack(struct peer *p, int hello)
{
	uint8_t body[512];
	struct wr w;

	if (hello)
		peer_send_hello(p, -1);
	wr_init(&w, body, sizeof(body));
	if (sess_rx_up(p)) {
		ack_encode(p, &w);
		if (w.off > 0 && !w.err)
			send_ctl(p, SYNC_T_REPLY, body, w.off);
	}
	p->rx_unacked = 0;
	p->ack_now = 0;
}

/* SKIP goes in our session (we send the stream it is about); requests
 * in the peer's (the answer comes in its stream). */
static void
send_ctl_rec(struct peer *p, int type, uint32_t id, uint64_t seq,
    uint32_t flags)
{
	uint8_t body[32];
	struct wr w;
	struct sync_ctl c = { id, 0, seq, flags };

	wr_init(&w, body, sizeof(body));
	if (sync_ctl_encode(&w, type, &c) == 0)
		send_ctl(p, type == SYNC_R_SKIP ? SYNC_T_CTRL : SYNC_T_REPLY,
		    body, w.off);
}

void
peer_request_bulk(struct peer *p, int reset_tries)
{
	/*
	 * A repeat of a request keeps its id: a peer that is slow to
	 * answer (a loaded machine) then goes on with the bulk it began
	 * for it, and its answer counts, instead of starting over for
	 * every new id while each answer comes too late.
	 */
	if (reset_tries || p->bulk_req_id == 0) {
		p->bulk_req_tries = 0;
		p->bulk_req_start_ns = ev_now_ns();
		p->bulk_req_id = randombytes_random() | 1;
	}
	p->bulk_req_tries++;
	p->bulk_req = BULK_REQ_SENT;
	p->bulk_req_deadline = ev_now_ns() + SYNCD_BULK_RETRY_MS * NS_MS;
	/* Holding states of p already, we need its whole table, not what
	 * it has read so far. */
	send_ctl_rec(p, SYNC_R_BULK_REQ, p->bulk_req_id, 0,
	    cache_count(p->ext) > 0 ? SYNC_BULK_HOLDS : 0);
}

void
peer_request_diff(struct peer *p, uint32_t id)
{
	send_ctl_rec(p, SYNC_R_DIFF_REQ, id, 0, 0);
}

int
peer_in_sync(const struct peer *p, char *why, size_t len)
{
	uint64_t now = ev_now_ns();

	if (p->last_rx_ns == 0) {
		snprintf(why, len, "never heard from");
		return 0;
	}
	if (!p->alive) {
		snprintf(why, len, "no contact for %.1f s",
		    (double)(now - p->last_rx_ns) / 1e9);
		return 0;
	}
	if (!sess_tx_up(p) || !sess_rx_up(p)) {
		snprintf(why, len, "session handshake");
		return 0;
	}
	if (p->bulk_req == BULK_REQ_SENT || p->bulk_req == BULK_REQ_RUNNING) {
		snprintf(why, len, "bulk %s", bulk_req_name(p->bulk_req));
		return 0;
	}
	if (p->bulk_req == BULK_REQ_FAILED) {
		snprintf(why, len, "bulk failed after %d requests",
		    p->bulk_req_tries);
		return 0;
	}
	if (p->bulk.active) {
		snprintf(why, len, "sending bulk");
		return 0;
	}
	if (p->tx_next - p->tx_una > 0 &&
	    now - p->last_progress_ns > STALLED_NS) {
		snprintf(why, len, "%u frames unacknowledged",
		    (unsigned)(p->tx_next - p->tx_una));
		return 0;
	}
	snprintf(why, len, "in sync");
	return 1;
}

static void
pump(struct syncd *sd)
{
	uint8_t *body = sd->bufs->body;
	struct peer *p;
	size_t cap = body_cap(sd), blen;
	uint32_t n;
	int budget = PUMP_BUDGET, alive, room, more = 0;

	/* Live updates first, to every live peer at once. */
	while (cache_queued(sd->internal) > 0 || sd->expect_queue_len > 0) {
		alive = 0;
		room = 1;
		for (int i = 0; i < sd->npeers; i++) {
			p = sd->peers[i];
			if (!p->alive || !sess_tx_up(p))
				continue;
			alive++;
			if (!win_room(p))
				room = 0;
		}
		if (alive == 0 || !room)
			break;
		if (budget-- == 0) {
			more = 1;
			break;
		}
		if ((blen = stream_build_live(sd, body, cap, &n)) == 0)
			break;
		for (int i = 0; i < sd->npeers; i++) {
			p = sd->peers[i];
			if (!p->alive || !sess_tx_up(p))
				continue;
			send_reliable(p, body, blen);
			p->st.tx_states += n;
		}
	}
	/* Then bulk and diff streams, with what is left of the turn. */
	for (int i = 0; i < sd->npeers && !more; i++) {
		p = sd->peers[i];
		if (!p->alive || !sess_tx_up(p))
			continue;
		while (stream_pending(p) && win_room(p)) {
			if (budget-- <= 0) {
				more = 1;
				break;
			}
			blen = stream_build_next(p, body, cap);
			if (blen > 0)
				send_reliable(p, body, blen);
		}
	}
	if (more)
		transport_kick(sd);
}

static void
pump_cb(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;

	sd->pump_armed = 0;
	pump(sd);
}

void
transport_kick(struct syncd *sd)
{
	size_t q;

	if (sd->pump_armed || sd->pump_t == NULL)
		return;
	sd->pump_armed = 1;
	/* A few queued states wait a moment for company: fuller frames. */
	q = cache_queued(sd->internal);
	ev_timer_arm(sd->pump_t,
	    q == 0 || q >= PUMP_COALESCE_MAX ? 0 : PUMP_COALESCE_NS);
}

static void
resend(struct peer *p, uint64_t seq, uint64_t now)
{
	struct txslot *s = &p->win[seq % SYNCD_WINDOW];

	if (s->buf == NULL || now - s->sent_ns < RESEND_GAP_NS)
		return;
	s->sent_ns = now;
	p->st.resent++;
	peer_send(p, s->buf, s->len);
}

static void
rx_ack(struct peer *p, const struct sync_ack *a)
{
	struct syncd *sd = p->sd;
	uint64_t now = ev_now_ns();
	int n = 0, skip = 0;

	if (sync_seq_lt(p->tx_next, a->next))
		return;
	/* An older ack than one we had, overtaken on another path: it
	 * says nothing new (a newer one asks for what is still missing). */
	if (sync_seq_lt(a->next, p->ack_hi)) {
		p->st.stale_acks++;
		return;
	}
	p->ack_hi = a->next;
	/* Acknowledged before is in no ack before ack_hi: what is missing
	 * below tx_una was dropped unacknowledged (the peer was dead). */
	if (sync_seq_lt(a->next, p->tx_una))
		skip = 1;
	while (sync_seq_lt(p->tx_una, a->next)) {
		struct txslot *t = &p->win[p->tx_una % SYNCD_WINDOW];

		free(t->buf);
		t->buf = NULL;
		p->tx_una++;
		p->last_progress_ns = now;
	}
	for (int i = 0; i < a->nranges; i++) {
		for (uint64_t s = a->range[i].from; n < ACK_RESEND_MAX;
		     s++, n++) {
			if (sync_seq_lt(s, p->tx_una))
				skip = 1;
			else if (sync_seq_lt(s, p->tx_next))
				resend(p, s, now);
			if (s == a->range[i].to)
				break;
		}
	}
	if (skip) {
		p->st.skips++;
		send_ctl_rec(p, SYNC_R_SKIP, 0, p->tx_una, 0);
	}
	transport_kick(sd);
}

static void
sweep_ext(struct peer *p)
{
	struct centry *e;
	size_t pos = 0, n = 0;
	uint64_t t0 = ev_now_ns();

	while ((e = cache_next(p->ext, &pos)) != NULL) {
		if (e->gen != p->bulk_gen) {
			engine_ext_drop(p, cache_take_at(p->ext, pos));
			n++;
		}
	}
	memset(p->bulk_gens, 0, sizeof(p->bulk_gens));
	gen_set_add(p->bulk_gens, p->bulk_gen);
	if (n > 0)
		event_bulk(p, "rx", "swept", (long long)n,
		    (long long)((ev_now_ns() - t0) / 1000000),
		    "bulk from %s: %zu stale states dropped (%.3f s)", p->name,
		    n, (double)(ev_now_ns() - t0) / 1e9);
}

static void rx_deliver(struct peer *, const uint8_t *, size_t);

/* The frame type a known record travels in (0: unknown record). */
static uint8_t
rec_frame_type(uint8_t type)
{
	switch (type) {
	case SYNC_R_HELLO:
	case SYNC_R_SKIP:
		return SYNC_T_CTRL;
	case SYNC_R_ACK:
	case SYNC_R_BULK_REQ:
	case SYNC_R_DIFF_REQ:
		return SYNC_T_REPLY;
	case SYNC_R_STATE:
	case SYNC_R_UPDATE:
	case SYNC_R_DELETE:
	case SYNC_R_EXPECT:
	case SYNC_R_EXPECT_DEL:
	case SYNC_R_BULK_BEGIN:
	case SYNC_R_BULK_END:
	case SYNC_R_DIFF_STATE:
	case SYNC_R_DIFF_END:
		return SYNC_T_DATA;
	}
	return 0;
}

/* A SKIP: the frames before c->seq are gone; a bulk repairs them. */
static void
rx_skip(struct peer *p, const struct sync_ctl *c)
{
	uint64_t d = c->seq - p->rx_next;

	if (d != 0 && d < SKIP_MAX) {
		/* Frames of a session we joined late are not lost. */
		if (p->rx_delivered > 0)
			p->st.lost += d;
		for (uint64_t s = p->rx_next;
		     s != c->seq && s - p->rx_next < SYNCD_WINDOW; s++) {
			struct rxslot *r = &p->rx[s % SYNCD_WINDOW];

			free(r->body);
			r->body = NULL;
			r->have = 0;
		}
		p->rx_next = c->seq;
		rx_deliver(p, NULL, 0);
		if (p->bulk_req != BULK_REQ_SENT &&
		    p->bulk_req != BULK_REQ_RUNNING)
			peer_request_bulk(p, 1);
	}
	p->ack_now = 1;
}

/* Transport records; the rest goes to the engine. Each known record
 * counts only in the frame type it belongs to. */
static void
rx_record(struct peer *p, uint8_t type, struct rd *v, uint8_t ftype,
    uint64_t now)
{
	struct syncd *sd = p->sd;
	struct sync_hello h;
	struct sync_ack a;
	struct sync_ctl c;
	uint8_t want = rec_frame_type(type);

	if (want != ftype && (want != 0 || ftype != SYNC_T_DATA)) {
		if (want != 0)
			p->st.rx_malformed++;
		return;
	}
	switch (type) {
	case SYNC_R_HELLO:
		if (sync_hello_decode(v, &h) == -1)
			return;
		p->peer_internal = h.internal;
		if (h.flags & SYNC_H_PATHS)
			path_report(p, h.paths);
		return;
	case SYNC_R_ACK:
		if (sync_ack_decode(v, &a) == 0)
			rx_ack(p, &a);
		else
			p->st.rx_malformed++;
		return;
	case SYNC_R_SKIP:
		if (sync_ctl_decode(v, type, &c) == 0)
			rx_skip(p, &c);
		return;
	case SYNC_R_BULK_REQ:
		if (sync_ctl_decode(v, type, &c) == -1)
			return;
		if (p->bulk.active && p->bulk.id == c.id)
			return;
		event_bulk(p, "tx", "requested", -1, -1,
		    "bulk to %s requested", p->name);
		stream_start_bulk(p, c.id, (c.flags & SYNC_BULK_HOLDS) != 0);
		return;
	case SYNC_R_DIFF_REQ:
		if (sync_ctl_decode(v, type, &c) == -1)
			return;
		if (p->diff.active && p->diff.id == c.id)
			return;
		stream_start_diff(p, c.id);
		return;
	}
	switch (type) {
	case SYNC_R_BULK_BEGIN:
		if (sync_ctl_decode(v, type, &c) == -1)
			return;
		engine_rx_bulk_begin(p);
		if ((p->bulk_req == BULK_REQ_SENT ||
			p->bulk_req == BULK_REQ_RUNNING) &&
		    c.id == p->bulk_req_id)
			p->bulk_req = BULK_REQ_RUNNING;
		return;
	case SYNC_R_BULK_END:
		if (sync_ctl_decode(v, type, &c) == -1)
			return;
		sweep_ext(p);
		p->st.bulks_received++;
		if (c.id == p->bulk_req_id &&
		    p->bulk_req == BULK_REQ_RUNNING) {
			p->bulk_req = BULK_REQ_DONE;
			event_bulk(p, "rx", "done", c.count,
			    (long long)((ev_now_ns() - p->bulk_req_start_ns) /
				1000000),
			    "bulk from %s done: %u states in %.3f s", p->name,
			    c.count,
			    (double)(ev_now_ns() - p->bulk_req_start_ns) /
				1e9);
			engine_update_demote(sd);
		}
		return;
	case SYNC_R_DIFF_END:
		if (sync_ctl_decode(v, type, &c) == 0)
			diff_peer_done(sd->diff, p, c.id);
		return;
	default:
		engine_rx_record(p, type, v, now);
	}
}

/* The record RX_AHEAD records after the one handled next, as a hint to
 * the engine (ahead is a cursor of its own over the same body). */
static void
rx_ahead(struct peer *p, struct rd *ahead, uint8_t ftype)
{
	struct rd v;
	uint8_t type;

	if (ftype == SYNC_T_DATA && sync_rec_next(ahead, &type, &v) == 1)
		engine_rx_prefetch(p, type, &v);
}

/*
 * The records of a body in order. The engine's tables are large and
 * keyed with a secret hash, so each state lands at a random place in
 * memory: it is told of each record RX_AHEAD records before it handles
 * it, so that those places are fetched while it works on the others.
 */
static void
process_body(struct peer *p, const uint8_t *body, size_t blen, uint8_t ftype)
{
	struct rd b, v, ahead;
	uint64_t now = ev_now_ns();
	uint8_t type;
	int r;

	rd_init(&b, body, blen);
	ahead = b;
	for (int i = 0; i < RX_AHEAD; i++)
		rx_ahead(p, &ahead, ftype);
	while ((r = sync_rec_next(&b, &type, &v)) == 1) {
		rx_ahead(p, &ahead, ftype);
		rx_record(p, type, &v, ftype, now);
	}
	if (r == -1)
		p->st.rx_malformed++;
}

/*
 * Process the reliable frame with the next sequence number (body; NULL
 * when there is none), then the frames buffered after it, in order.
 */
static void
rx_deliver(struct peer *p, const uint8_t *body, size_t blen)
{
	struct rxslot *r;

	if (body != NULL) {
		process_body(p, body, blen, SYNC_T_DATA);
		if (++p->rx_next == 0)
			p->st.rx_wraps++;
		p->rx_delivered++;
	}
	for (;;) {
		r = &p->rx[p->rx_next % SYNCD_WINDOW];
		if (!r->have)
			break;
		r->have = 0;
		process_body(p, r->body, r->len, SYNC_T_DATA);
		free(r->body);
		r->body = NULL;
		if (++p->rx_next == 0)
			p->st.rx_wraps++;
		p->rx_delivered++;
	}
}

static void
peer_up(struct peer *p, int first)
{
	p->alive = 1;
	event_peer(p, first ? "init" : "down", "up", "contact",
	    "peer %s is alive", p->name);
	/*
	 * Back after an outage: it missed what we sent meanwhile. Under the
	 * id of the bulk it asked for last, which the outage may have cut
	 * short: its request stays running until a BULK_END with that id.
	 */
	if (!first && !p->bulk.active)
		stream_start_bulk(p, p->bulk.id, 1);
	/* Our requests had given up on it: ask again now it is here. */
	if (p->bulk_req == BULK_REQ_FAILED || p->bulk_req == BULK_REQ_NONE)
		peer_request_bulk(p, 1);
	engine_update_demote(p->sd);
	transport_kick(p->sd);
}

static void
peer_down(struct peer *p)
{
	p->alive = 0;
	event_peer(p, "up", "down", "timeout", "peer %s: no contact for %d ms",
	    p->name, SYNCD_DEAD_MS);
	path_peer_down(p);
	win_drop(p);
	p->bulk.active = 0;
	p->diff.active = 0;
	for (int i = 0; i < p->sd->npeers; i++)
		if (p->sd->peers[i]->alive)
			goto out;
	engine_drop_queue(p->sd);
out:
	engine_update_demote(p->sd);
}

/* An authentic frame that is new: the peer is there, on the path of the
 * frame being read. */
static void
heard(struct peer *p, size_t len)
{
	int first = p->last_rx_ns == 0;

	p->st.rx_frames++;
	p->st.rx_bytes += len;
	p->last_rx_ns = ev_now_ns();
	if (!p->alive)
		peer_up(p, first);
	if (p->rx_path >= 0)
		path_heard(p, p->rx_path, len);
}

static void
rx_reject(struct peer *p, int rc)
{
	p->st.rx_rejected++;
	switch (rc) {
	case SESS_FORGED:
		p->st.rx_forged++;
		break;
	case SESS_REPLAYED:
		p->st.rx_replayed++;
		break;
	case SESS_STALE:
		p->st.rx_stale++;
		break;
	default:
		p->st.rx_malformed++;
		break;
	}
}

/* A DATA frame: deliver in order, buffer ahead, acknowledge. */
static void
rx_data(struct peer *p, const struct sync_hdr *h, const uint8_t *body,
    size_t blen, size_t len)
{
	struct syncd *sd = p->sd;
	struct rxslot *r;

	if (sync_seq_lt(h->seq, p->rx_next)) {
		/* Resent after a lost ack, or replayed: not news. */
		p->st.dup++;
		p->ack_now = 1;
		return;
	}
	heard(p, len);
	if (h->seq - p->rx_next >= SYNCD_WINDOW) {
		p->ack_now = 1;
		return;
	}
	if (h->seq == p->rx_next) {
		rx_deliver(p, body, blen);
	} else {
		r = &p->rx[h->seq % SYNCD_WINDOW];
		if (r->have) {
			p->st.dup++;
		} else if ((r->body = malloc(blen ? blen : 1)) != NULL) {
			memcpy(r->body, body, blen);
			r->len = (uint16_t)blen;
			r->have = 1;
		}
		/* A gap: tell the sender soon. */
		if (ev_now_ns() - p->last_nack_ns > NACK_GAP_NS) {
			p->last_nack_ns = ev_now_ns();
			p->ack_now = 1;
		}
	}
	if (++p->rx_unacked >= ACK_EVERY)
		p->ack_now = 1;
	if (!ev_timer_pending(sd->ack_t))
		ev_timer_arm(sd->ack_t, ACK_DELAY_NS);
}

static void
rx_frame(struct peer *p, uint8_t *buf, size_t len)
{
	struct sync_hdr h;
	uint8_t *body = NULL;
	size_t blen = 0;
	int rc;

	switch ((rc = sess_open(p, buf, len, &h, &body, &blen))) {
	case SESS_BODY:
		break;
	case SESS_FRESH:
		heard(p, len);
		return;
	case SESS_HANDLED:
		return;
	default:
		rx_reject(p, rc);
		return;
	}
	if (h.type == SYNC_T_DATA) {
		rx_data(p, &h, body, blen, len);
		return;
	}
	/* CTRL and REPLY frames passed their replay window. */
	heard(p, len);
	p->rx_ctl_seq = h.seq;
	process_body(p, body, blen, h.type);
}

static void
read_cb(int fd, int events, void *arg)
{
	struct syncd *sd = arg;
	uint8_t(*bufs)[SYNCD_RECV_BUFLEN] = sd->bufs->rx;
	struct mmsghdr mm[SYNCD_RECV_BATCH];
	struct iovec iov[SYNCD_RECV_BATCH];
	struct sockaddr_storage from[SYNCD_RECV_BATCH];
	struct peer *p;
	int n, path;

	for (int round = 0; round < RECV_ROUNDS; round++) {
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < SYNCD_RECV_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = SYNCD_RECV_BUFLEN;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, mm, SYNCD_RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if ((p = path_find(sd, &from[i], &path)) == NULL) {
				sd->rx_unknown++;
				continue;
			}
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				p->st.rx_rejected++;
				p->st.rx_malformed++;
				continue;
			}
			p->rx_path = path;
			rx_frame(p, bufs[i], mm[i].msg_len);
			p->rx_path = -1;
		}
		if (n < SYNCD_RECV_BATCH)
			break;
	}
	for (int i = 0; i < sd->npeers; i++)
		if (sd->peers[i]->ack_now)
			send_ack(sd->peers[i], 0);
	transport_kick(sd);
}

static void
ack_cb(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;

	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (p->rx_unacked > 0 || p->ack_now)
			send_ack(p, 0);
	}
}

/*
 * Our bulk request to p: repeated until answered. When it fails with
 * the peer alive (it answers everything else), the node stays demoted
 * and asks again after a pause; only a peer that is unreachable
 * releases the demotion (engine.c).
 */
static void
bulk_req_tick(struct peer *p, uint64_t now)
{
	if (p->bulk_req == BULK_REQ_SENT && now > p->bulk_req_deadline) {
		if (p->bulk_req_tries < SYNCD_BULK_TRIES) {
			peer_request_bulk(p, 0);
			return;
		}
		p->bulk_req = BULK_REQ_FAILED;
		if (p->alive)
			event_bulk(p, "rx", "failed", -1, -1,
			    "bulk from %s "
			    "failed after %d requests while the peer is "
			    "alive: "
			    "staying demoted, asking again",
			    p->name, p->bulk_req_tries);
		else
			event_bulk(p, "rx", "failed", -1, -1,
			    "bulk from %s "
			    "failed after %d requests: peer unreachable",
			    p->name, p->bulk_req_tries);
	} else if (p->bulk_req == BULK_REQ_RUNNING && !p->alive) {
		peer_request_bulk(p, 0);
	} else if (p->bulk_req == BULK_REQ_FAILED && p->alive &&
	    now > p->bulk_req_deadline + BULK_PAUSE_NS) {
		peer_request_bulk(p, 1);
	}
}

/*
 * Whether p has been silent for SYNCD_DEAD_MS, counted in our loop's
 * time: each tick adds the time since the previous one, but at most two
 * tick intervals. A loop that did not run (CPU starvation, a long step)
 * has not been listening, and the peer's frames may be waiting in the
 * socket: that time is not the peer's silence. A peer that cannot send
 * for as long is not syncing and counts as dead.
 */
static int
peer_silent(struct peer *p, uint64_t now, uint64_t since_tick)
{
	uint64_t d = since_tick < 2 * TICK_NS ? since_tick : 2 * TICK_NS;
	uint64_t since_rx = now - p->last_rx_ns;

	/* Heard since the last tick: quiet since that frame, but for at
	 * most d (our loop may have stalled right after it read it). */
	if (p->quiet_rx != p->last_rx_ns) {
		p->quiet_rx = p->last_rx_ns;
		p->quiet_ns = since_rx > d ? d : since_rx;
	} else
		p->quiet_ns += d;
	return p->quiet_ns > SYNCD_DEAD_MS * NS_MS;
}

static void
tick_cb(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;
	uint64_t now = ev_now_ns(), since = now - sd->last_tick_ns;
	int hello = now - sd->last_hello_ns >= HELLO_NS;
	/* Our loop was held up (a burst of kernel events on a loaded
	 * machine): what the peers sent meanwhile may wait unread. */
	int late = sd->tick_ns != 0 && now - sd->tick_ns > TICK_NS + LATE_NS;

	sd->last_tick_ns = now;
	if (hello)
		sd->last_hello_ns = now;
	sd->tick_ns = now;
	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (peer_silent(p, now, since) && p->alive && !late)
			peer_down(p);
		if (hello)
			send_ack(p, 1);
		/* Tail loss: resend the oldest frames after the RTO. */
		if (p->alive && p->tx_una != p->tx_next &&
		    now - p->last_progress_ns > RTO_NS) {
			for (uint64_t s = p->tx_una; s != p->tx_next &&
			     s - p->tx_una < TAIL_RESEND_MAX;
			     s++)
				if (now - p->win[s % SYNCD_WINDOW].sent_ns >
				    RTO_NS)
					resend(p, s, now);
		}
		bulk_req_tick(p, now);
		sess_tick(p, now);
	}
	engine_update_demote(sd);
	engine_expire(sd);
	transport_kick(sd);
	ev_timer_arm(t, TICK_NS);
}

static int
path_timer_needed(const struct syncd *sd)
{
	for (int i = 0; i < sd->npeers; i++)
		if (sd->peers[i]->npaths > 1)
			return 1;
	return 0;
}

/* The paths of peers with several: every 50 ms, so that a failure is
 * acted on soon after PATH_DEAD_MS. */
static void
path_tick_cb(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;
	uint64_t now = ev_now_ns();
	int late = sd->path_tick_ns != 0 &&
	    now - sd->path_tick_ns > PATH_TICK_NS + LATE_NS;

	sd->path_tick_ns = now;
	for (int i = 0; i < sd->npeers; i++)
		path_tick(sd->peers[i], now, late);
	transport_kick(sd);
	if (path_timer_needed(sd))
		ev_timer_arm(t, PATH_TICK_NS);
}

/* Our session to p starts over: nothing sent before is resent. */
void
peer_tx_reset(struct peer *p)
{
	win_drop(p);
	p->tx_next = p->tx_una = p->ack_hi = p->sd->seq0;
	p->bulk.active = 0;
	p->diff.active = 0;
}

/* Our session to p is up: say so at once (the peer switches to it on
 * its first frame), then whatever waits. */
void
peer_tx_ready(struct peer *p)
{
	peer_send_hello(p, -1);
	transport_kick(p->sd);
}

/* p's frames move to another path because the old one is down: what it
 * holds unacknowledged goes again at once on the new one (the window
 * stays: nothing is lost, no bulk), and the peer gets our HELLO and ACK
 * there. */
void
peer_resend_window(struct peer *p)
{
	uint64_t now = ev_now_ns();

	for (uint64_t s = p->tx_una; s != p->tx_next; s++) {
		struct txslot *t = &p->win[s % SYNCD_WINDOW];

		if (t->buf == NULL)
			continue;
		t->sent_ns = now;
		p->st.resent++;
		peer_send(p, t->buf, t->len);
	}
	if (p->tx_una != p->tx_next)
		p->last_progress_ns = now;
	send_ack(p, 1);
	transport_kick(p->sd);
}

/* The peer's new session to us: its stream starts over at seq0, and
 * what it holds comes again in full. */
void
peer_rx_new(struct peer *p, uint64_t seq0)
{
	if (p->sess.st.rx_sessions > 1)
		event_peer(p, "up", "up", "restart",
		    "peer %s: new session (restarted or rekeyed)", p->name);
	rx_reset(p, seq0);
	/* Its control sequence numbers start over: so do its reports. */
	p->reports = 0;
	peer_request_bulk(p, 1);
	p->ack_now = 1;
}

/* A peer reached at n addresses (paths, in order of preference; the
 * first is its identity and its name), not in the group yet. */
static struct peer *
peer_alloc(struct syncd *sd, const struct sockaddr_storage *ss,
    const socklen_t *len, int n)
{
	struct peer *p;

	if (n < 1 || n > SYNCD_MAXPATHS) {
		errno = EINVAL;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->ext = cache_new()) == NULL ||
	    (p->unstage = cache_new()) == NULL) {
		cache_free(p->ext);
		free(p);
		return NULL;
	}
	p->sd = sd;
	gen_set_add(p->bulk_gens, p->bulk_gen); /* before any bulk */
	memcpy(&p->sa, &ss[0], len[0]);
	p->salen = len[0];
	path_init(p, ss, len, n);
	snprintf(p->name, sizeof(p->name), "%s", p->path[0].name);
	p->tx_next = p->tx_una = p->ack_hi = sd->seq0;
	return p;
}

/* p takes the next place in the group; its paths need the path timer
 * (when it runs already: a peer added while running). */
static void
peer_place(struct peer *p)
{
	struct syncd *sd = p->sd;

	p->idx = sd->npeers;
	sd->peers[sd->npeers++] = p;
	if (p->npaths > 1 && sd->path_t != NULL &&
	    !ev_timer_pending(sd->path_t))
		ev_timer_arm(sd->path_t, PATH_TICK_NS);
}

int
peer_add(struct syncd *sd, const struct sockaddr_storage *ss, socklen_t len)
{
	return peer_add_paths(sd, ss, &len, 1);
}

int
peer_add_paths(struct syncd *sd, const struct sockaddr_storage *ss,
    const socklen_t *len, int n)
{
	struct peer *p;

	if (sd->npeers == SYNCD_MAXPEERS) {
		errno = ENOSPC;
		return -1;
	}
	if ((p = peer_alloc(sd, ss, len, n)) == NULL)
		return -1;
	peer_place(p);
	return 0;
}

/*
 * A peer a reload adds, made ready to join (its handshake keys) before
 * anything changes, so that a failure leaves the group as it was. NULL
 * (logged) on failure.
 */
struct peer *
peer_new(struct syncd *sd, const struct sockaddr_storage *ss,
    const socklen_t *len, int n)
{
	struct peer *p;

	if ((p = peer_alloc(sd, ss, len, n)) == NULL) {
		log_warn("%s: peer", __func__);
		return NULL;
	}
	if (sess_setup(p) == -1) {
		peer_free(p);
		return NULL;
	}
	return p;
}

/* A peer_new() joins the group: handshake and bulk request, as a peer
 * given at start. */
void
peer_join(struct peer *p)
{
	struct syncd *sd = p->sd;

	peer_place(p);
	event_peer(p, "none", "init", "reload", "peer %s added", p->name);
	control_peers_changed(sd->control, -1);
	sess_start(p, SESS_WHY_START);
	peer_request_bulk(p, 1);
	engine_update_demote(sd);
	transport_kick(sd);
}

/*
 * p leaves the group (a reload removed it): its session ends without a
 * word (it sees us fall silent), what it held here is dropped, and the
 * states of it staged into the kernel leave the kernel, paced, unless
 * they are this node's own by now (stage.c). The other peers keep their
 * places in order.
 */
void
peer_remove(struct peer *p)
{
	struct syncd *sd = p->sd;
	const char *from = "init";
	int alive = 0;

	if (p->alive)
		from = "up";
	else if (p->last_rx_ns != 0)
		from = "down";
	event_peer(p, from, "removed", "reload",
	    "peer %s removed: %zu of its states dropped here", p->name,
	    cache_count(p->ext));
	control_peers_changed(sd->control, p->idx);
	for (int i = p->idx; i + 1 < sd->npeers; i++) {
		sd->peers[i] = sd->peers[i + 1];
		sd->peers[i]->idx = i;
	}
	sd->peers[--sd->npeers] = NULL;
	stage_retire(sd, p->name, p->ext, p->unstage);
	p->ext = p->unstage = NULL;
	peer_free(p);
	for (int i = 0; i < sd->npeers; i++)
		alive |= sd->peers[i]->alive;
	if (!alive)
		engine_drop_queue(sd);
	engine_update_demote(sd);
	transport_kick(sd);
}

/* A peer out of the group (or never in it), and all it holds. */
void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	win_drop(p);
	rx_reset(p, 0);
	sess_clear(p);
	cache_free(p->ext);
	cache_free(p->unstage);
	free(p->exp);
	free(p);
}

/*
 * A sync socket on s's address. No SO_REUSEADDR: nobody else may bind
 * the sync port. A path's address that is not (yet) configured, e.g. an
 * IPv6 address still tentative on a link that is down, is bound anyway
 * (the first one must exist: it is our identity).
 */
static int
sock_open(struct syncd *sd, struct syncd_sock *s, int freebind)
{
	char name[INET6_ADDRSTRLEN];
	int fd, sz = 16 << 20, one = 1;

	if ((fd = socket(s->sa.ss_family,
		 SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sz = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (s->iface[0] != '\0')
		setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->iface,
		    (socklen_t)strlen(s->iface));
	if (bind(fd, (struct sockaddr *)&s->sa, s->salen) == -1) {
		if (errno != EADDRNOTAVAIL || !freebind ||
		    setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) ==
			-1 ||
		    bind(fd, (struct sockaddr *)&s->sa, s->salen) == -1) {
			close(fd);
			return -1;
		}
		path_sa_name(&s->sa, name, sizeof(name));
		log_warnx("local sync address %s is not configured (yet): "
			  "bound to it anyway",
		    name);
	}
	s->fd = fd;
	return ev_fd_add(sd->loop, fd, EV_READ, read_cb, sd);
}

int
transport_open(struct syncd *sd)
{
	if ((sd->bufs = calloc(1, sizeof(*sd->bufs))) == NULL)
		return -1;
	for (int i = 0; i < sd->npeers; i++)
		if (sess_setup(sd->peers[i]) == -1)
			return -1;
	for (int i = 0; i < sd->nsocks; i++)
		if (sock_open(sd, &sd->socks[i], i > 0) == -1)
			return -1;
	if ((sd->tick = ev_timer_new(sd->loop, tick_cb, sd)) == NULL ||
	    (sd->pump_t = ev_timer_new(sd->loop, pump_cb, sd)) == NULL ||
	    (sd->ack_t = ev_timer_new(sd->loop, ack_cb, sd)) == NULL)
		return -1;
	ev_timer_arm(sd->tick, FIRST_TICK_NS);
	if ((sd->path_t = ev_timer_new(sd->loop, path_tick_cb, sd)) == NULL)
		return -1;
	if (path_timer_needed(sd))
		ev_timer_arm(sd->path_t, FIRST_TICK_NS);
	for (int i = 0; i < sd->npeers; i++) {
		sess_start(sd->peers[i], SESS_WHY_START);
		/* Sent once the peer's session to us is up. */
		peer_request_bulk(sd->peers[i], 1);
	}
	return 0;
}

static int
flushed(struct syncd *sd)
{
	if (cache_queued(sd->internal) > 0 || sd->expect_queue_len > 0) {
		for (int i = 0; i < sd->npeers; i++)
			if (sd->peers[i]->alive)
				return 0;
	}
	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (p->alive && p->tx_una != p->tx_next)
			return 0;
	}
	return 1;
}

void
transport_flush(struct syncd *sd, int timeout_ms)
{
	uint64_t end = ev_now_ns() + (uint64_t)timeout_ms * NS_MS;

	pump(sd);
	while (!flushed(sd) && ev_now_ns() < end)
		ev_loop_once(sd->loop, 10);
}

void
transport_close(struct syncd *sd)
{
	for (int i = 0; i < sd->npeers; i++) {
		peer_free(sd->peers[i]);
		sd->peers[i] = NULL;
	}
	sd->npeers = 0;
	ev_timer_free(sd->tick);
	ev_timer_free(sd->pump_t);
	ev_timer_free(sd->ack_t);
	ev_timer_free(sd->path_t);
	sd->tick = sd->pump_t = sd->ack_t = sd->path_t = NULL;
	for (int i = 0; i < sd->nsocks; i++) {
		if (sd->socks[i].fd == -1)
			continue;
		ev_fd_del(sd->loop, sd->socks[i].fd);
		close(sd->socks[i].fd);
		sd->socks[i].fd = -1;
	}
	free(sd->bufs);
	sd->bufs = NULL;
}

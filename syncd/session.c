/*
 * session.c: syncd's sessions with each peer (protocol version 2). Each
 * direction has its own session, started by its sender with INIT and
 * answered by its receiver with RESP; both nonces and both identities go
 * into the session's keys, so a frame verifies only in the session, the
 * direction and between the two members it was made for. The receiver
 * moves to a new session only on its first authentic frame, keeps the
 * two newest pending handshakes per peer, and counts what it drops. This file owns
 * the handshake, key derivation, sealing and opening, the control and
 * reply replay windows and rekeying; peer.c owns the streams.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "syncd.h"

#define NS_MS 1000000ULL

static void
sa_id(struct sync_id *id, const struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		sync_id_make(id, AF_INET,
		    &((const struct sockaddr_in *)ss)->sin_addr, port);
	else
		sync_id_make(id, AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, port);
}

static int
sa_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Our address as the peer sees it: the listen address, or with a
 * wildcard listen the source address the kernel picks towards it. */
static int
self_addr(const struct peer *p, struct sockaddr_storage *out)
{
	const struct syncd *sd = p->sd;
	socklen_t len = sizeof(*out);
	int fd, rv = -1;

	if (!sa_is_any(&sd->listen)) {
		memcpy(out, &sd->listen, sizeof(*out));
		return 0;
	}
	if ((fd = socket(p->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)&p->sa, p->salen) == 0 &&
	    getsockname(fd, (struct sockaddr *)out, &len) == 0)
		rv = 0;
	close(fd);
	return rv;
}

int
sess_setup(struct peer *p)
{
	struct syncd *sd = p->sd;
	struct sess *s = &p->sess;
	struct sockaddr_storage me;
	char host[INET6_ADDRSTRLEN];

	if (self_addr(p, &me) == -1) {
		log_warn("peer %s: no local address towards it", p->name);
		return -1;
	}
	sa_id(&s->self, &me, sd->port);
	sa_id(&s->id, &p->sa, sd->port);
	sync_hs_key(sd->key, &s->self, &s->id, s->hs_out);
	sync_hs_key(sd->key, &s->id, &s->self, s->hs_in);
	if (sa_is_any(&sd->listen)) {
		inet_ntop(me.ss_family,
		    me.ss_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)&me)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)&me)->sin6_addr,
		    host, sizeof(host));
		log_debug("peer %s: our identity is %s port %u", p->name, host,
		    sd->port);
	}
	return 0;
}

int
sess_tx_up(const struct peer *p)
{
	return p->sess.tx.state == SESS_UP;
}

int
sess_rx_up(const struct peer *p)
{
	return p->sess.rx.valid;
}

static const char *
why_name(enum sess_why why)
{
	switch (why) {
	case SESS_WHY_START:
		return "start";
	case SESS_WHY_LOST:
		return "the peer lost our session";
	case SESS_WHY_UNCONFIRMED:
		return "no answer in the new session";
	case SESS_WHY_REKEY:
		return "rekey";
	}
	return "?";
}

static void
send_init(struct peer *p, uint64_t now)
{
	struct sess *s = &p->sess;
	struct sync_init in;
	uint8_t buf[SYNC_INIT_LEN];
	size_t len;

	/* A new nonce each time: only the newest INIT is outstanding. */
	randombytes_buf(s->tx.nonce_s, sizeof(s->tx.nonce_s));
	memset(&in, 0, sizeof(in));
	in.flags = s->st.tx_sessions > 0 ? SYNC_I_REKEY : 0;
	in.rx_sid = s->rx.valid ? s->rx.k.sid : 0;
	in.seq0 = p->sd->seq0;
	memcpy(in.nonce_s, s->tx.nonce_s, SYNC_HSNONCE);
	if ((len = sync_init_encode(buf, &in, s->hs_out)) == 0)
		return;
	s->tx.init_ns = now;
	s->st.inits_sent++;
	peer_send_hs(p, buf, len);
}

void
sess_start(struct peer *p, enum sess_why why)
{
	struct sess *s = &p->sess;

	if (why != SESS_WHY_START)
		log_info("peer %s: new session (%s)", p->name, why_name(why));
	if (why == SESS_WHY_REKEY)
		s->st.rekeys++;
	sodium_memzero(&s->tx.k, sizeof(s->tx.k));
	memset(&s->tx, 0, sizeof(s->tx));
	s->tx.state = SESS_INIT;
	peer_tx_reset(p);
	send_init(p, ev_now_ns());
}

/* The peer starts a session towards us: answer, keep it pending. */
static int
rx_init(struct peer *p, const uint8_t *buf, size_t len)
{
	struct sess *s = &p->sess;
	struct sync_init in;
	struct sync_resp rs;
	uint8_t out[SYNC_RESP_LEN];
	uint64_t now = ev_now_ns();
	size_t olen;
	int rc;

	if ((rc = sync_init_decode(buf, len, s->hs_in, &in)) != 0) {
		/* Most likely another group key, or the peer knows us by
		 * another address or port: say so, now and then. */
		if (rc == SYNC_E_AUTH &&
		    now - s->last_warn_ns > SESS_WARN_MS * NS_MS) {
			s->last_warn_ns = now;
			log_warnx(
			    "peer %s: handshake does not authenticate "
			    "(another group key, or it has another address "
			    "or port for us than our listen address)",
			    p->name);
		}
		return rc == SYNC_E_AUTH ? SESS_FORGED : SESS_MALFORMED;
	}
	s->st.inits_rx++;
	memcpy(rs.nonce_s, in.nonce_s, SYNC_HSNONCE);
	randombytes_buf(rs.nonce_r, SYNC_HSNONCE);
	/* The newest first; the oldest of them goes. */
	sodium_memzero(&s->rx.pend[SESS_PENDING - 1], sizeof(s->rx.pend[0]));
	memmove(&s->rx.pend[1], &s->rx.pend[0],
	    (SESS_PENDING - 1) * sizeof(s->rx.pend[0]));
	sync_session_keys(p->sd->key, &s->id, &s->self, rs.nonce_s, rs.nonce_r,
	    &s->rx.pend[0].pk);
	s->rx.pend[0].valid = 1;
	s->rx.pend[0].claim = in.rx_sid;
	s->rx.pend[0].seq0 = in.seq0;
	if ((olen = sync_resp_encode(out, &rs, s->hs_out)) != 0)
		peer_send_hs(p, out, olen);
	sodium_memzero(&rs, sizeof(rs));
	/* The peer is there: if our own INIT is waiting, do not let it
	 * wait for its retry timer. Bounded, INITs can be replayed. */
	if (s->tx.state == SESS_INIT &&
	    now - s->last_fast_ns > SESS_INIT_FAST_MS * NS_MS) {
		s->last_fast_ns = now;
		send_init(p, now);
	}
	return SESS_HANDLED;
}

/* The answer to our INIT: derive the keys, the session is up. */
static int
rx_resp(struct peer *p, const uint8_t *buf, size_t len)
{
	struct sess *s = &p->sess;
	struct sync_resp rs;
	int rc;

	if ((rc = sync_resp_decode(buf, len, s->hs_in, &rs)) != 0)
		return rc == SYNC_E_AUTH ? SESS_FORGED : SESS_MALFORMED;
	s->st.resps_rx++;
	if (s->tx.state != SESS_INIT ||
	    sodium_memcmp(rs.nonce_s, s->tx.nonce_s, SYNC_HSNONCE) != 0)
		return SESS_REPLAYED; /* not to our outstanding INIT */
	sync_session_keys(p->sd->key, &s->self, &s->id, rs.nonce_s, rs.nonce_r,
	    &s->tx.k);
	sodium_memzero(&rs, sizeof(rs));
	sodium_memzero(s->tx.nonce_s, SYNC_HSNONCE);
	s->tx.state = SESS_UP;
	s->tx.up_ns = ev_now_ns();
	s->tx.ctl_seq = p->sd->seq0 - 1;
	s->st.tx_sessions++;
	log_debug("peer %s: sending session %08x up", p->name, s->tx.k.sid);
	peer_tx_ready(p);
	return SESS_FRESH;
}

/* The first authentic frame of pending session i: it is the peer's
 * session from now on; the other pending one goes. */
static void
rx_promote(struct peer *p, int i)
{
	struct sess *s = &p->sess;
	struct sess_pend pd = s->rx.pend[i];
	int lost;

	sodium_memzero(&s->rx.k, sizeof(s->rx.k));
	s->rx.k = pd.pk;
	sodium_memzero(s->rx.pend, sizeof(s->rx.pend));
	s->rx.valid = 1;
	s->rx.reply_seq = p->sd->seq0 - 1;
	s->rx.replies = 0;
	memset(&s->rx.ctl_win, 0, sizeof(s->rx.ctl_win));
	s->st.rx_sessions++;
	/* The peer holds none of our sessions (claim 0) although it had
	 * this one (it answered in it): it restarted. A claim of an older
	 * session of ours only means our newer one had not reached it. */
	lost = s->tx.state == SESS_UP && s->tx.confirmed && pd.claim == 0;
	log_debug("peer %s: receiving session %08x up", p->name, s->rx.k.sid);
	/* Our INIT in flight claims the peer's old session: say the new
	 * one, or the peer would take ours for lost. */
	if (s->tx.state == SESS_INIT)
		send_init(p, ev_now_ns());
	peer_rx_new(p, pd.seq0);
	sodium_memzero(&pd, sizeof(pd));
	/* The peer started over without our session (it restarted): ours
	 * must start over too. */
	if (lost)
		sess_start(p, SESS_WHY_LOST);
}

static int
open_session(struct peer *p, uint8_t *buf, size_t len, struct sync_hdr *h,
    uint8_t **body, size_t *blen)
{
	struct sess *s = &p->sess;
	const uint8_t *key = NULL;
	int pending = -1;

	if (h->type == SYNC_T_REPLY) {
		if (s->tx.state == SESS_UP && h->sid == s->tx.k.sid)
			key = s->tx.k.rev;
	} else if (s->rx.valid && h->sid == s->rx.k.sid) {
		key = s->rx.k.fwd;
	} else {
		for (int i = 0; i < SESS_PENDING && key == NULL; i++) {
			if (s->rx.pend[i].valid &&
			    h->sid == s->rx.pend[i].pk.sid) {
				key = s->rx.pend[i].pk.fwd;
				pending = i;
			}
		}
	}
	if (key == NULL) {
		s->st.stale++;
		return SESS_STALE;
	}
	if (sync_frame_unseal(buf, len, key, body, blen) != 0)
		return SESS_FORGED;
	if (pending >= 0)
		rx_promote(p, pending);
	if (h->type == SYNC_T_REPLY) {
		if (sync_replay_check(&s->tx.reply_win, h->seq) == -1)
			return SESS_REPLAYED;
		s->tx.confirmed = 1;
	} else if (h->type == SYNC_T_CTRL &&
	    sync_replay_check(&s->rx.ctl_win, h->seq) == -1)
		return SESS_REPLAYED;
	return SESS_BODY;
}

int
sess_open(struct peer *p, uint8_t *buf, size_t len, struct sync_hdr *h,
    uint8_t **body, size_t *blen)
{
	if (sync_frame_peek(buf, len, h) != 0)
		return SESS_MALFORMED;
	switch (h->type) {
	case SYNC_T_INIT:
		return rx_init(p, buf, len);
	case SYNC_T_RESP:
		return rx_resp(p, buf, len);
	default:
		return open_session(p, buf, len, h, body, blen);
	}
}

size_t
sess_seal(struct peer *p, uint8_t *buf, size_t blen, uint8_t type,
    uint64_t seq)
{
	struct sess *s = &p->sess;

	switch (type) {
	case SYNC_T_CTRL:
		seq = ++s->tx.ctl_seq;
		/* FALLTHROUGH */
	case SYNC_T_DATA:
		if (s->tx.state != SESS_UP)
			return 0;
		s->tx.frames++;
		return sync_frame_seal(buf, blen, type, s->tx.k.sid, seq,
		    s->tx.k.fwd);
	case SYNC_T_REPLY:
		if (!s->rx.valid)
			return 0;
		s->rx.replies++;
		return sync_frame_seal(buf, blen, type, s->rx.k.sid,
		    ++s->rx.reply_seq, s->rx.k.rev);
	}
	return 0;
}

void
sess_tick(struct peer *p, uint64_t now)
{
	struct sess *s = &p->sess;
	uint64_t limit = p->sd->rekey_frames;

	switch (s->tx.state) {
	case SESS_NONE:
		sess_start(p, SESS_WHY_START);
		break;
	case SESS_INIT:
		if (now - s->tx.init_ns >= SESS_INIT_RETRY_MS * NS_MS)
			send_init(p, now);
		break;
	case SESS_UP:
		if (s->tx.frames >= limit)
			sess_start(p, SESS_WHY_REKEY);
		else if (!s->tx.confirmed &&
		    now - s->tx.up_ns > SESS_CONFIRM_MS * NS_MS)
			sess_start(p, SESS_WHY_UNCONFIRMED);
		/* Our replies reach the limit first (a sender that does
		 * not rekey): a new session of ours tells the peer we do
		 * not hold its session any more, so it starts a new one. */
		else if (s->rx.valid && s->rx.replies >= limit) {
			sodium_memzero(&s->rx.k, sizeof(s->rx.k));
			s->rx.valid = 0;
			sess_start(p, SESS_WHY_REKEY);
		}
		break;
	}
}

void
sess_clear(struct peer *p)
{
	sodium_memzero(&p->sess, sizeof(p->sess));
}

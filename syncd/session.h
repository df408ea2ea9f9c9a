/*
 * session.h: syncd's sessions with one peer (protocol version 2): the
 * handshake that starts each direction's session, the session keys, the
 * sealing and opening of frames under them, the control and reply replay
 * windows and rekeying. docs/sync-protocol.md, sections 3 and 4.
 */
#ifndef SYNCD_SESSION_H
#define SYNCD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "sync.h"

#define SESS_INIT_RETRY_MS 1000		/* INIT unanswered: new INIT */
#define SESS_INIT_FAST_MS  100		/* at most this often on a peer INIT */
#define SESS_CONFIRM_MS	   3000		/* no REPLY in a new session: again */
#define SESS_REKEY_FRAMES  (1ULL << 60) /* frames under one key */
#define SESS_WARN_MS	   10000	/* between warnings of bad INITs */

enum sess_tx_state {
	SESS_NONE, /* not started */
	SESS_INIT, /* INIT sent, waiting for RESP */
	SESS_UP,   /* keys derived: DATA and CTRL flow */
};

/* Our sending session to the peer. */
struct sess_tx {
	enum sess_tx_state state;
	uint8_t nonce_s[SYNC_HSNONCE]; /* the outstanding INIT's */
	uint64_t init_ns;	       /* when it was sent */
	struct sync_skeys k;
	uint64_t up_ns;
	int confirmed;		      /* an authentic REPLY arrived */
	uint64_t frames;	      /* sealed under k.fwd */
	uint64_t ctl_seq;	      /* last CTRL sequence number */
	struct sync_replay reply_win; /* the peer's REPLY frames */
};

#define SESS_PENDING 2

/* A session the peer is starting: its INIT answered. */
struct sess_pend {
	int valid;
	struct sync_skeys pk;
	uint32_t claim; /* the INIT's rx_sid */
	uint64_t seq0;	/* the INIT's first reliable seq */
};

/* The peer's sending session to us, and the ones it is starting. */
struct sess_rx {
	int valid;
	struct sync_skeys k;
	uint64_t reply_seq;	    /* last REPLY sequence number */
	uint64_t replies;	    /* sealed under k.rev */
	struct sync_replay ctl_win; /* the peer's CTRL frames */

	/* The sessions of the INITs answered last, newest first, not
	 * confirmed: two, since INITs on two paths may come out of
	 * order (the peer keeps the newer it sent). */
	struct sess_pend pend[SESS_PENDING];
};

struct sess_stats {
	uint64_t inits_sent, inits_rx, resps_rx;
	uint64_t tx_sessions, rx_sessions, rekeys;
	uint64_t stale; /* frames of no current session */
};

struct sess {
	struct sync_id self, id;     /* our and the peer's identity */
	uint8_t hs_out[SYNC_KEYLEN]; /* we -> peer */
	uint8_t hs_in[SYNC_KEYLEN];  /* peer -> we */
	struct sess_tx tx;
	struct sess_rx rx;
	uint64_t last_fast_ns;
	uint64_t last_warn_ns;
	struct sess_stats st;
};

/* What sess_open did with a datagram. */
#define SESS_BODY 0 /* session frame: body to process */
#define SESS_FRESH                                                            \
	1		 /* handshake frame that proves the peer
				 * is there now (RESP to our INIT) */
#define SESS_HANDLED   2 /* other handshake frame (INIT: replayable) */
#define SESS_MALFORMED -1
#define SESS_FORGED    -2
#define SESS_REPLAYED  -3
#define SESS_STALE     -4 /* no current session has this id */

/* Why a sending session (re)starts. */
enum sess_why {
	SESS_WHY_START,
	SESS_WHY_LOST,	      /* the peer no longer holds it */
	SESS_WHY_UNCONFIRMED, /* no REPLY after the handshake */
	SESS_WHY_REKEY,	      /* counters near the limit */
};

struct peer;

int sess_setup(struct peer *);
void sess_start(struct peer *, enum sess_why);
void sess_tick(struct peer *, uint64_t now);
int sess_tx_up(const struct peer *);
int sess_rx_up(const struct peer *);
/* Seal the body at buf + SYNC_HDRLEN: DATA (seq given) and CTRL under
 * our session, REPLY under the peer's. 0 when there is no session. */
size_t sess_seal(struct peer *, uint8_t *buf, size_t blen, uint8_t type,
    uint64_t seq);
int sess_open(struct peer *, uint8_t *buf, size_t len, struct sync_hdr *,
    uint8_t **body, size_t *blen);
void sess_clear(struct peer *);

#endif

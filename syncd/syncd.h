/*
 * syncd.h: the daemon's shared state: settings, caches, peers, and the
 * interfaces between main.c (kernel side, control), peer.c (transport)
 * and engine.c (caches, commit, diff).
 */
#ifndef SYNCD_SYNCD_H
#define SYNCD_SYNCD_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "ct.h"
#include "ev.h"
#include "sbuf.h"
#include "sync_state.h"
#include "sync.h"

#define SYNCD_MAXPEERS		8
#define SYNCD_CONTROL		"/run/syncd.sock"
#define SYNCD_WINDOW		1024	/* reliable frames in flight */
#define SYNCD_DEAD_MS		3000	/* silent this long: dead */
#define SYNCD_BULK_TRIES	10
#define SYNCD_BULK_RETRY_MS	1000
#define SYNCD_MAXEXPECT		4096

enum bulk_rx_state {
	BRX_NONE,
	BRX_SENT,	/* request sent, waiting for BEGIN */
	BRX_RUNNING,	/* BEGIN seen */
	BRX_DONE,
	BRX_FAILED,
};

/* What the node streams to one peer besides live updates. */
enum stream_kind {
	STREAM_BULK,	/* our internal cache */
	STREAM_DIFF,	/* the peer's states we hold */
};

struct stream {
	int		 active;
	uint32_t	 id;
	size_t		 pos;
	uint64_t	 epoch;
	uint32_t	 count;
	int		 begun;
	size_t		 exp_pos;
};

struct txslot {
	uint8_t		*buf;
	uint16_t	 len;
	uint64_t	 sent_ns;
};

struct rxslot {
	uint8_t		*body;
	uint16_t	 len;
	uint8_t		 have;
};

struct peer_stats {
	uint64_t	 tx_frames, rx_frames, tx_bytes, rx_bytes;
	uint64_t	 tx_states, rx_states;
	uint64_t	 resent, lost, dup;
	uint64_t	 rx_rejected;	/* all of the below */
	uint64_t	 rx_forged;	/* failed authentication */
	uint64_t	 rx_replayed;
	uint64_t	 rx_malformed;
	uint64_t	 rx_sealing;	/* sealed/plain mismatch */
	uint64_t	 unknown_updates;
	uint64_t	 skips;
	uint64_t	 bulks_sent, bulks_received;
};

struct syncd;

struct peer {
	struct syncd	*sd;
	int		 idx;
	struct sockaddr_storage sa;
	socklen_t	 salen;
	char		 name[64];

	/* Reliable transmission. */
	uint32_t	 tx_next, tx_una;
	struct txslot	 win[SYNCD_WINDOW];
	uint64_t	 last_progress_ns;
	uint32_t	 ctl_seq;

	/* Reception. */
	int		 rx_valid;
	uint64_t	 rx_session;
	uint32_t	 rx_next;
	struct rxslot	 rx[SYNCD_WINDOW];
	struct sync_replay ctl_replay;
	uint32_t	 rx_unacked;
	uint32_t	 rx_delivered;	/* frames delivered this session */
	uint64_t	 last_nack_ns;
	int		 ack_now;

	uint64_t	 last_rx_ns;	/* 0: never */
	int		 alive;
	uint8_t		 peer_flags;	/* from HELLO */
	uint32_t	 peer_internal;

	/* Streams we send to the peer. */
	struct stream	 bulk, diff;

	/* Our bulk request to the peer. */
	enum bulk_rx_state brx;
	uint32_t	 brx_id;
	int		 brx_tries;
	uint64_t	 brx_deadline;
	uint64_t	 brx_start_ns;
	uint8_t		 gen;

	/* What the peer holds as its own: states and expectations. */
	struct cache	*ext;
	/* Staged states the peer dropped, until staging has deleted them
	 * from the kernel (a dump meanwhile must not take them for ours). */
	struct cache	*unstage;
	struct ct_expect *exp;
	size_t		 nexp;

	struct peer_stats st;
};

struct diff_req;

struct syncd {
	struct ev_loop	*loop;
	/* Settings. */
	struct sockaddr_storage listen;
	socklen_t	 listenlen;
	char		 iface[32];
	uint16_t	 port;
	int		 have_key;
	uint8_t		 key[SYNC_KEYLEN];
	int		 mtu;
	char		 control[108];

	uint64_t	 session;
	int		 sock;
	struct peer	*peers[SYNCD_MAXPEERS];
	int		 npeers;

	struct cache	*internal;
	struct ct_expect *exp;		/* our expectations */
	size_t		 nexp;
	uint8_t		 igen;		/* resync generation */
	int		 resyncing;
	int		 adopting;	/* commit merging peers' states */
	/* Destroyed while a dump runs: its older entries must not bring
	 * them back. Emptied when no dump runs. */
	struct cache	*dump_gone;
	uint64_t	 dump_stale;	/* dump entries skipped for that */

	/* First bulk: 0 pending, 1 done, 2 failed. */
	int		 first_bulk;
	int		 demote;
	char		 demote_reason[64];

	struct ev_timer	*tick, *pump_t, *ack_t, *stage_t;
	struct ct_handle *ct;
	int		 stage;		/* stage peers' states */
	uint64_t	 staged;
	uint64_t	 last_state_ns;	/* last peer state rx */
	int		 pump_armed;
	uint64_t	 rx_unknown;	/* frames from unknown addresses */
	uint64_t	 sync_flows;	/* events of the sync link itself */
	uint64_t	 peer_owned;	/* dumped states peers own */

	/* Pending live expectation records (small). */
	uint8_t		 xq[1024];	/* fits any frame body */
	size_t		 xqlen;

	/* Hooks set by main.c. */
	void		(*first_bulk_hook)(struct syncd *);
	void		(*demote_changed)(struct syncd *);
	void		(*diff_done)(struct syncd *, struct peer *,
			    uint32_t id, uint32_t count);
	void		(*diff_state)(struct syncd *, struct peer *,
			    const struct ct_state *);
	void		*arg;
};

/* peer.c: transport. */
int		 peer_add(struct syncd *, const struct sockaddr_storage *,
		    socklen_t);
int		 transport_open(struct syncd *);
void		 transport_close(struct syncd *);
void		 transport_kick(struct syncd *);	/* work to send */
void		 transport_flush(struct syncd *, int timeout_ms);
int		 peer_request_bulk(struct peer *, int reset_tries);
int		 peer_request_diff(struct peer *, uint32_t id);
int		 peer_in_sync(const struct peer *, char *why, size_t len);
uint32_t	 syncd_now_s(void);
const char	*bulk_rx_name(enum bulk_rx_state);

/* engine.c: caches. */
void		 engine_own_state(struct syncd *, enum ct_event,
		    const struct ct_state *);
void		 engine_own_expect(struct syncd *, enum ct_event,
		    const struct ct_expect *);
void		 engine_resync_begin(struct syncd *);
void		 engine_resync_end(struct syncd *);
size_t		 engine_external(const struct syncd *);
void		 engine_update_demote(struct syncd *);
void		 engine_expire(struct syncd *);
void		 engine_drop_queue(struct syncd *);
void		 engine_ext_drop(struct peer *, struct centry *);
size_t		 engine_stage(struct syncd *, size_t budget);
size_t		 engine_stage_backlog(const struct syncd *);
size_t		 engine_adopt(struct syncd *);
/* Receive side: records from a peer, in order. */
void		 engine_rx_record(struct peer *, uint8_t type, struct rd *);
int		 engine_is_sync_flow(const struct syncd *,
		    const struct ct_state *);

#endif

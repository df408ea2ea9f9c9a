/*
 * syncd.h: the daemon's shared state (settings, caches, peers) and the
 * interfaces between its parts:
 *   main.c	options, config, opening everything, the loop, shutdown
 *   peer.c	the transport: sockets, reliable frames, acks, liveness
 *   path.c	a peer's redundant paths: liveness per path, the active
 *		one, switching
 *   session.c	sessions: handshake, keys, sealing, replay windows
 *   stream.c	what goes into frames: live updates, bulk and diff streams
 *   engine.c	the caches: own states from the kernel, peers' states,
 *		expiry, resync, demotion
 *   stage.c	staging peers' states into the kernel, paced
 *   control.c	the control socket: status, subscriptions, requests
 *   commit.c	the commit (peers' states into the kernel, adopted)
 *   diff.c	the diff (what peers hold for us against the kernel)
 *   cachedump.c, ctfmt.c	the caches' dump, states as conntrack -L text
 *   policy.c	the send filter and the import policy (pure checks)
 *   localaddr.c	this node's addresses and helpers, kept current
 *   reload.c	SIGHUP: the settings compared, peers and policy applied
 *   ct.c, ct_msg.c, cache.c	conntrack netlink and the caches
 */
#ifndef SYNCD_SYNCD_H
#define SYNCD_SYNCD_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "carp.h"
#include "ct.h"
#include "ev.h"
#include "policy.h"
#include "sbuf.h"
#include "session.h"
#include "sync.h"
#include "sync_state.h"

#define SYNCD_MAXPEERS	       8
#define SYNCD_MAXPATHS	       4 /* addresses of one peer */
#define SYNCD_CONTROL	       "/run/syncd.sock"
#define SYNCD_WINDOW	       1024 /* reliable frames in flight */
#define SYNCD_DEAD_MS	       3000 /* silent this long: dead */
#define SYNCD_BULK_TRIES       10
#define SYNCD_BULK_RETRY_MS    1000
#define SYNCD_MAXEXPECT	       4096
#define SYNCD_EXPECT_QUEUE     1024  /* live expectation records, bytes */
#define SYNCD_RECV_BATCH       32    /* datagrams per recvmmsg */
#define SYNCD_RECV_BUFLEN      65536 /* any UDP payload (65507 max) */
#define SYNCD_KEYFILE	       "/etc/syncd.key"
/* Demotion asked of carpd until the first bulk is in: carpd's own. */
#define SYNCD_DEMOTE_PENDING   CARP_DEMOTE_SYNC
#define SYNCD_DEMOTE_LINK_DOWN 1 /* no peer alive */
/* A peer's state whose timeout ran out while the peer was alive is alive
 * there (traffic refreshes a timeout without any event): imported with
 * this timeout (not a closing TCP one), kept this long after the peer
 * was last heard. */
#define SYNCD_STALE_S	       60
#define NS_MS		       1000000ULL

/* Monotonic seconds, from 1: the caches' clock (0 means "no expiry"),
 * at ev_now_ns() time ns. */
static inline uint32_t
syncd_s(uint64_t ns)
{
	return (uint32_t)(ns / 1000000000ULL) + 1;
}

static inline uint32_t
syncd_now_s(void)
{
	return syncd_s(ev_now_ns());
}

/* Sets of cache generations (uint8_t values), a bit each. */
#define GEN_SET_BYTES 32

static inline void
gen_set_add(uint8_t set[GEN_SET_BYTES], uint8_t g)
{
	set[g >> 3] |= (uint8_t)(1U << (g & 7));
}

static inline int
gen_set_has(const uint8_t set[GEN_SET_BYTES], uint8_t g)
{
	return (set[g >> 3] >> (g & 7)) & 1;
}

/* Our bulk request to one peer. */
enum bulk_req_state {
	BULK_REQ_NONE,
	BULK_REQ_SENT,	  /* request sent, waiting for BEGIN */
	BULK_REQ_RUNNING, /* BEGIN seen */
	BULK_REQ_DONE,
	BULK_REQ_FAILED,
};

/* The first bulk from any peer, which gates our own table dump. */
enum first_bulk {
	FIRST_BULK_PENDING,
	FIRST_BULK_DONE,
	FIRST_BULK_FAILED, /* no peer answered */
};

/* What the node streams to one peer besides live updates. */
enum stream_kind {
	STREAM_BULK, /* our internal cache */
	STREAM_DIFF, /* the peer's states we hold */
};

struct stream {
	int active;
	uint32_t id;
	size_t pos;
	uint64_t epoch;
	uint32_t count;
	int begun;
	size_t exp_pos;
	/* Bulk: end it with TAKEOVER (we committed: the peer's copies of
	 * these states are ours). Kept when the bulk starts over, until
	 * sent. */
	int takeover;
	/* Bulk: the peer holds our states (SYNC_BULK_HOLDS, or an
	 * unsolicited bulk): it waits until our own table is read. */
	int whole;
};

struct txslot {
	uint8_t *buf;
	uint16_t len;
	uint64_t sent_ns;
};

struct rxslot {
	uint8_t *body;
	uint16_t len;
	uint8_t have;
};

struct peer_stats {
	uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes;
	uint64_t tx_states, rx_states;
	uint64_t resent, lost, dup;
	uint64_t rx_rejected; /* all of the below */
	uint64_t rx_forged;   /* failed authentication */
	uint64_t rx_replayed;
	uint64_t rx_malformed;
	uint64_t rx_stale; /* of no current session */
	uint64_t unknown_updates;
	uint64_t skips;
	uint64_t bulks_sent, bulks_received;
	uint64_t tx_wraps, rx_wraps; /* sequence numbers through 0 */
	uint64_t stale_acks;	     /* overtaken by a newer one */
};

/*
 * One way to reach a peer: its address (the i-th of the peer's list) and
 * our socket i (path.c). A peer's session, sequence spaces, window and
 * caches are one whatever path carries its frames.
 */
struct path {
	struct sockaddr_storage sa;
	socklen_t salen;
	char name[48];
	int up;		     /* usable both ways */
	uint64_t last_rx_ns; /* last authentic new frame from it; 0: never */
	uint64_t up_ns;	     /* when it last came up */
	uint64_t fail_ns;    /* a send found no route; 0: never */
	int peer_hears;	     /* the peer's report: it hears us on it */
	int ever_up;
	uint64_t tx_frames, rx_frames, tx_errors, downs;
};

/* A local sync socket: path i of every peer sends from socket i, or all
 * from the one wildcard socket. */
struct syncd_sock {
	int fd;
	struct sockaddr_storage sa;
	socklen_t salen;
	char iface[16]; /* SO_BINDTODEVICE, or empty */
};

struct syncd;

struct peer {
	struct syncd *sd;
	int idx;
	struct sockaddr_storage sa; /* the first path's: the identity */
	socklen_t salen;
	char name[64];

	/* Paths, in order of preference (path.c). */
	struct path path[SYNCD_MAXPATHS];
	int npaths;
	int active;	     /* the path frames go out on */
	int hs_path;	     /* handshakes while no path is up: in turn */
	int rx_path;	     /* the path of the frame being read, or -1 */
	int reports;	     /* the peer reports the paths it hears */
	uint64_t report_seq; /* CTRL sequence number of that report */
	uint64_t rx_ctl_seq; /* of the CTRL frame being read */
	uint64_t last_probe_ns;
	uint64_t silent_ns;  /* the peer fell silent on every path, */
	uint64_t resumed_ns; /* and was heard again */
	uint64_t path_switches;
	int switching; /* in switch_to (path.c) */

	/* Sessions both ways: keys, handshake, replay windows. */
	struct sess sess;

	/* Reliable transmission (serial arithmetic: sync_seq_lt). */
	uint64_t tx_next, tx_una;
	uint64_t ack_hi; /* the newest ack's next */
	struct txslot win[SYNCD_WINDOW];
	uint64_t last_progress_ns;

	/* Reception. */
	uint64_t rx_next;
	struct rxslot rx[SYNCD_WINDOW];
	uint32_t rx_unacked;
	uint32_t rx_delivered; /* frames delivered this session */
	uint64_t last_nack_ns;
	int ack_now;

	uint64_t last_rx_ns; /* 0: never */
	int alive;
	/* Silence as our loop saw it (peer.c: peer_silent). */
	uint64_t quiet_ns, quiet_rx;
	uint32_t peer_internal; /* from HELLO */

	/* Streams we send to the peer. */
	struct stream bulk, diff;

	/* Our bulk request to the peer. */
	enum bulk_req_state bulk_req;
	uint32_t bulk_req_id;
	int bulk_req_tries;
	uint64_t bulk_req_deadline;
	uint64_t bulk_req_start_ns;
	/* Generation of the peer's bulk; entries older than the latest
	 * bulk are swept at its end. */
	uint8_t bulk_gen;
	/* The generations its cache's entries may carry: the bulks' since
	 * the last sweep (a bit per value). */
	uint8_t bulk_gens[GEN_SET_BYTES];
	/* Its takeover came while this node was master: applied when it is
	 * master of nothing (engine_role). */
	int takeover_held;
	uint32_t takeover_count;

	/* What the peer holds as its own: states and expectations. */
	struct cache *ext;
	/* Staged states the peer dropped, until staging has deleted them
	 * from the kernel (a dump meanwhile must not take them for ours). */
	struct cache *unstage;
	struct ct_expect *exp;
	size_t nexp;
	size_t expire_pos; /* expiry scan of ext */

	struct peer_stats st;
	/* States and expectations the import policy refused, by reason
	 * (POL_*), and the reasons logged once already (bit per reason). */
	uint64_t import_rejected[POL_NREASONS];
	uint32_t rejected_logged;
};

struct control;
struct prom_http;
struct commit;
struct diff;
struct stage;
struct transport_bufs;

struct syncd {
	struct ev_loop *loop;
	/* Settings. */
	/* The first local address: our identity (session.c). */
	struct sockaddr_storage listen;
	socklen_t listenlen;
	uint16_t port;
	int have_key; /* 0: --insecure, key all zero */
	uint8_t key[SYNC_KEYLEN];
	/* First sequence number of every session and frames per session
	 * key; test-only settings (main.c), else 1 and 2^60. */
	uint64_t seq0;
	uint64_t rekey_frames;
	int mtu;
	char control_path[108];

	struct syncd_sock socks[SYNCD_MAXPATHS];
	int nsocks;
	uint64_t tick_ns, path_tick_ns; /* when tick, path_t last ran */
	struct peer *peers[SYNCD_MAXPEERS];
	int npeers;

	struct cache *internal;
	struct ct_expect *exp; /* our expectations */
	size_t nexp;
	uint8_t resync_gen; /* kernel re-read generation */
	/* Generations adopted entries carry until the next re-read ends:
	 * that re-read's own must differ (engine_adopt). */
	uint8_t gen_avoid[GEN_SET_BYTES];
	int resyncing;		/* between resync_begin and resync_end */
	const char *resync_why; /* of the next re-read; NULL: lost events */
	int adopting;		/* commit merging peers' states */
	/* Destroyed while a dump runs: its older entries must not bring
	 * them back. Emptied when no dump runs. */
	struct cache *dump_gone;
	uint64_t dump_stale_skipped; /* dump entries skipped so */

	enum first_bulk first_bulk;
	/* Our own table: read once the first bulk is in (engine.c). */
	enum { TABLE_UNREAD, TABLE_READING, TABLE_READ } table;
	int demote;
	char demote_reason[128];

	struct ev_timer *tick, *pump_t, *ack_t;
	struct ev_timer *path_t; /* with a peer of several paths */
	uint64_t last_tick_ns;
	uint64_t last_hello_ns;
	struct transport_bufs *bufs; /* peer.c: frame buffers */
	struct ct_handle *ct;
	int stage_enabled;   /* stage peers' states */
	struct stage *stage; /* stage.c */
	uint64_t staged;
	uint64_t stage_expired;	  /* staged copies the kernel expired */
	uint64_t heap_release_ns; /* give freed heap back then (0: no) */
	uint64_t handed_over;	  /* own states a peer's takeover took */
	uint64_t takeovers_held;  /* takeovers that came while master */
	int serving;		  /* carpd: master of some vhid here */
	int pump_armed;
	uint64_t rx_unknown;	 /* frames from unknown addresses */
	uint64_t sync_flows;	 /* events of the sync link itself */
	uint64_t peer_owned;	 /* dumped states peers own */
	uint64_t commits;	 /* commits done */
	uint64_t commit_ns;	 /* the time they took, summed */
	uint64_t commit_last_ns; /* the last one's */

	/* Pending live expectation records; fits any frame body. */
	uint8_t expect_queue[SYNCD_EXPECT_QUEUE];
	size_t expect_queue_len;

	struct prom_http *metrics; /* the --metrics listener, or NULL */
	/* The send filter and import policy; this node's addresses and
	 * helpers they consult (kept current by localaddr.c). */
	struct policy policy;
	struct pol_local local;
	struct pol_helpers helpers;
	struct localaddr *localaddr;
	/* Own states the send filter keeps home, by reason (counted once
	 * per state), and the states themselves: still this node's own,
	 * so a peer's copy is never committed over them. */
	uint64_t send_filtered[POL_NREASONS];
	struct cache *unsent;

	/* Set by control_open(); NULL without a control socket. */
	struct control *control;
	struct diff *diff;

	/* Configuration reloads (reload.c): done, refused. */
	struct reload *reload;
	uint64_t reloads, reloads_refused;
};

/* event.c: event log lines (key=value, syncd(8) LOGGING); fmt is the
 * human sentence, the value of msg. */
void event_peer(const struct peer *, const char *from, const char *to,
    const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void event_bulk(const struct peer *, const char *dir, const char *state,
    long long states, long long ms, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void event_status_line(char *buf, size_t len, void *sd);
void event_commit(long states, double ms, size_t imported,
    unsigned long long refused, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A reload: result "ok" (the counts) or "refused" (error). */
void event_reload(const char *result, const char *file, int added, int removed,
    int policy, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

void event_path(const struct peer *, const struct path *, const char *from,
    const char *to, const char *reason, long long silent_ms, const char *fmt,
    ...) __attribute__((format(printf, 7, 8)));
void event_path_switch(const struct peer *, const struct path *from,
    const struct path *to, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* peer.c: transport. A peer with one address, or n addresses (paths,
 * in order of preference; the first is its identity). */
int peer_add(struct syncd *, const struct sockaddr_storage *, socklen_t);
int peer_add_paths(struct syncd *, const struct sockaddr_storage *,
    const socklen_t *, int n);
/* At runtime (reload.c): a new peer made ready, then joined; a peer
 * removed; a peer that never joined freed. */
struct peer *peer_new(struct syncd *, const struct sockaddr_storage *,
    const socklen_t *, int n);
void peer_join(struct peer *);
void peer_remove(struct peer *);
void peer_free(struct peer *);
int transport_open(struct syncd *);
void transport_close(struct syncd *);
void transport_kick(struct syncd *); /* work to send */
void transport_flush(struct syncd *, int timeout_ms);
void peer_request_bulk(struct peer *, int reset_tries);
void peer_send(struct peer *, const uint8_t *, size_t);
void peer_send_on(struct peer *, int path, const uint8_t *, size_t);
void peer_send_hs(struct peer *, const uint8_t *, size_t);
void peer_send_hello(struct peer *, int path);
void peer_resend_window(struct peer *);
void peer_tx_reset(struct peer *);
void peer_tx_ready(struct peer *);
void peer_rx_new(struct peer *, uint64_t seq0);
void peer_request_diff(struct peer *, uint32_t id);
int peer_in_sync(const struct peer *, char *why, size_t len);
const char *bulk_req_name(enum bulk_req_state);

/* path.c: a peer's paths. */
#define PATH_PROBE_MS 150  /* HELLO on every path of a multi-path peer */
#define PATH_DEAD_MS  600  /* a path silent this long is down */
#define PATH_HOLD_MS  2000 /* a better path up this long: move back */
#define PATH_HELD_MS  300  /* nothing on any path this long: peer held up */
void path_init(struct peer *, const struct sockaddr_storage *,
    const socklen_t *, int n);
struct peer *
path_find(struct syncd *, const struct sockaddr_storage *, int *path);
int path_sock(const struct syncd *, int path);
void path_heard(struct peer *, int path, size_t len);
void path_report(struct peer *, uint8_t paths);
void path_send_failed(struct peer *, int path);
uint8_t path_hears(const struct peer *);
void path_tick(struct peer *, uint64_t now, int late);
void path_peer_down(struct peer *);
int path_has_addr(const struct peer *, int family, const void *addr);
void path_sa_name(const struct sockaddr_storage *, char *, size_t);
void path_status(const struct peer *, int json, struct sbuf *);

/* stream.c: frame bodies. */
size_t stream_build_live(struct syncd *, uint8_t *body, size_t cap,
    uint32_t *nstates);
size_t stream_build_next(struct peer *, uint8_t *body, size_t cap);
int stream_pending(const struct peer *);
void stream_start_bulk(struct peer *, uint32_t id, int whole);
void stream_start_diff(struct peer *, uint32_t id);

/* stage.c: staging peers' states into the kernel. */
int stage_open(struct syncd *, int enabled);
void stage_close(struct syncd *);
void stage_kick(struct syncd *); /* states to stage */
size_t stage_run(struct syncd *, size_t budget);
size_t stage_backlog(const struct syncd *);
/* A removed peer's caches (taken over): its staged states leave the
 * kernel, paced; stage_retiring() says whether st is one of them. */
void stage_retire(struct syncd *, const char *name, struct cache *ext,
    struct cache *unstage);
int stage_retiring(const struct syncd *, const struct ct_state *);

/* engine.c: caches. */
void engine_own_state(struct syncd *, enum ct_event, const struct ct_state *);
void engine_own_hint(struct syncd *, const struct ct_state *);
void engine_deleted(struct syncd *, const struct ct_state *, size_t);
void
engine_own_expect(struct syncd *, enum ct_event, const struct ct_expect *);
void engine_resync_begin(struct syncd *);
void engine_resync_end(struct syncd *);
size_t engine_external(const struct syncd *);
void engine_update_demote(struct syncd *);
void engine_expire(struct syncd *);
/* A large transient was dropped or is being sent out: give the memory
 * back a little later (engine_expire's tick). */
void engine_heap_release_soon(struct syncd *);
void engine_role(struct syncd *, int master);
void engine_drop_queue(struct syncd *);
void engine_ext_drop(struct peer *, struct centry *);
/* A peer's state to import, its timeout at least SYNCD_STALE_S once the
 * one the peer sent ran out. 0 or -1. */
int engine_ext_state(const struct centry *, uint32_t now, struct ct_state *);
size_t engine_adopt(struct syncd *);
/* Receive side: records from a peer, in order; now_ns: when their
 * frame arrived (ev_now_ns). */
void engine_rx_bulk_begin(struct peer *);
void engine_rx_prefetch(struct peer *, uint8_t type, const struct rd *);
void
engine_rx_record(struct peer *, uint8_t type, struct rd *, uint64_t now_ns);
int engine_is_sync_flow(const struct syncd *, const struct ct_state *);
/* One of this node's own states (sent or kept home by the filter). */
int engine_is_own(struct syncd *, const struct ct_state *);
/* Count a refusal of p's state for reason r; the first of each reason
 * is logged with why. */
void engine_reject(struct peer *, enum pol_reason, const char *why);
/* The send filter changed: one of our own states checked again; 1 when
 * it moved (kept home now, or sent now). */
int engine_refilter(struct syncd *, const struct ct_state *);

#endif

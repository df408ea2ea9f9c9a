/*
 * ct.h: syncd's view of the kernel conntrack table over ctnetlink:
 * events (NEW/UPDATE/DESTROY, expectations), dumps, batched imports and
 * deletes. Events caused by our own imports are filtered out here (the
 * kernel stamps them with our netlink port id).
 */
#ifndef SYNCD_CT_H
#define SYNCD_CT_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "sync_state.h"

struct ct_handle;

struct ct_callbacks {
	/* A state changed in the kernel (not by us). */
	void (*state)(enum ct_event, const struct ct_state *, void *arg);
	/* An expectation changed (NULL: expectations not wanted). */
	void (*expect)(enum ct_event, const struct ct_expect *, void *arg);
	/* Events were lost (ENOBUFS); ct.c has started a re-dump whose
	 * entries arrive through state() as CT_EV_NEW between
	 * resync_begin and resync_end; entries the caller holds that the
	 * dump did not report are gone. May be NULL. */
	void (*resync_begin)(void *arg);
	void (*resync_end)(void *arg);
	/* A state event that state() will have soon (a few events later):
	 * only its original tuple and zone are filled in, as a hint to
	 * fetch what state() will look at. May be NULL. */
	void (*hint)(const struct ct_state *, void *arg);
};

struct ct_stats {
	uint64_t events;     /* delivered to state() */
	uint64_t own_events; /* filtered: caused by us (a
						 * socket filter drops them in
						 * the kernel; then counted as
						 * our successful requests) */
	uint64_t overruns;   /* ENOBUFS seen */
	uint64_t resyncs;    /* re-dumps done */
	uint64_t parse_errors;
	uint64_t imported; /* created by commit */
	uint64_t updated;  /* existed, updated by commit */
	uint64_t import_errors;
	uint64_t deleted;
	/* Appended fields. */
	uint64_t dumped;     /* dump entries delivered */
	uint64_t exp_events; /* delivered to expect() */
	uint64_t exp_imported;
	uint64_t exp_import_errors;
	uint64_t dumps_empty; /* not asked of the kernel: no entry */
};

/* Subscribe to events (rcvbuf bytes, forced; 0: CT_RCVBUF_DEFAULT) and
 * register in the loop. With cb == NULL no event socket is opened (an
 * import/dump-only handle for tools; the loop may then be NULL, and
 * ct_dump_start is unavailable). */
#define CT_RCVBUF_DEFAULT (32U << 20)
struct ct_handle *ct_open(struct ev_loop *, const struct ct_callbacks *,
    void *arg, size_t rcvbuf);
void ct_close(struct ct_handle *);
const struct ct_stats *ct_stats(const struct ct_handle *);

/* Dump the whole table now (states, then expectations) through the
 * callbacks as CT_EV_NEW, without blocking the loop for long: the dump
 * runs on its own socket, driven by the loop; done(arg) is called at the
 * end. One dump at a time; -1 with errno EBUSY otherwise, except that a
 * dump asked for during a re-dump after ENOBUFS is queued behind it.
 * Callbacks must not call ct_close(). */
int
ct_dump_start(struct ct_handle *, void (*done)(void *, int err), void *arg);
/*
 * Whether the loop's dump (ct_dump_start or a re-dump) is feeding the
 * state() callback: CT_FEED_ENTRY from inside state() for a dumped
 * entry, CT_FEED_EVENT for an event that arrives while such a dump runs
 * (it may be newer than entries still to come: a dump part is read
 * from the kernel before it is handled), CT_FEED_NONE otherwise.
 */
#define CT_FEED_NONE  0
#define CT_FEED_EVENT 1
#define CT_FEED_ENTRY 2
int ct_dump_feeding(const struct ct_handle *);
/* Like ct_dump_start, but states go to cb(st, cbarg) instead of the
 * state() callback and no expectations are dumped; the event stream is
 * untouched. EBUSY while any other dump (or a re-dump) runs or waits. */
int ct_dump_start_cb(struct ct_handle *,
    void (*cb)(const struct ct_state *, void *), void *cbarg,
    void (*done)(void *, int err), void *arg);
/* Blocking dump for tools and tests; calls cb for every state. Uses a
 * socket of its own, so it works while a loop-driven dump runs. */
int ct_dump_sync(struct ct_handle *,
    void (*cb)(const struct ct_state *, void *), void *arg);

/* Import states into the kernel: create, or update where one exists.
 * Batched (many messages per sendmsg); masters should come before related
 * states in the array (a related state whose master comes later is
 * retried at the end; one whose master is nowhere, or whose helper this
 * kernel lacks, is created without it). NAT is rebuilt from the reply
 * tuple (CTA_NAT_SRC/DST); an update leaves NAT, helper and master as
 * they are. Imported TCP states get BE_LIBERAL. Returns the number
 * imported or updated; failures are counted in stats and summarised in
 * one log line per call. Events of our own requests never reach state(). */
long ct_import(struct ct_handle *, const struct ct_state *, size_t n);
/* Entries the kernel has (imported before): updated in place, as
 * ct_import updates them; one it no longer has is imported again. One
 * kernel request per state where ct_import takes two. */
long ct_refresh(struct ct_handle *, const struct ct_state *, size_t n);
long ct_import_expect(struct ct_handle *, const struct ct_expect *, size_t n);
/* Delete by original tuple (+ zone). Missing entries are not an error. */
long ct_delete(struct ct_handle *, const struct ct_state *, size_t n);

/*
 * Parse one ctnetlink message (IPCTNL_MSG_CT_NEW/DELETE, resp. the
 * expectation ones) of at most len bytes into *s / *e. Bounded: every
 * length is checked; 0, or -1 when malformed or the tuples are missing.
 */
struct nlmsghdr;
int ct_parse_msg(const struct nlmsghdr *, size_t len, struct ct_state *);
/* Only the original tuple and the zone (the key), for a hint. */
int ct_parse_key(const struct nlmsghdr *, size_t len, struct ct_state *);
int
ct_parse_expect_msg(const struct nlmsghdr *, size_t len, struct ct_expect *);

/* Handle the events waiting now (within the usual budget): a commit
 * about to run wants this node's newest own states known. */
void ct_events_drain(struct ct_handle *);
/* Re-read the table as after lost events (resync_begin, the entries,
 * resync_end), once the events waiting are read. */
void ct_resync(struct ct_handle *);

/* The netlink port id of the request socket; events carrying it are
 * ours and filtered (counted in own_events). */
uint32_t ct_portid(const struct ct_handle *);

#endif

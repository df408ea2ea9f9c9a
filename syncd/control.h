/*
 * control.h: syncd's control socket (control.c: status, resync, carpd's
 * subscription to demote and handover events) and the requests that run
 * over many loop turns: commit (commit.c), diff (diff.c) and the caches'
 * dump (cachedump.c).
 */
#ifndef SYNCD_CONTROL_H
#define SYNCD_CONTROL_H

#include <stdint.h>

#include "sbuf.h"
#include "syncd.h"

struct ctl_conn;

/* Open the socket at sd->control_path; sets sd->control and sd->diff. */
struct control *control_open(struct syncd *);
/* Tell subscribers syncd is stopping, flush, return. */
void control_handover(struct control *);
void control_close(struct control *);
/* sd->demote changed: tell the subscribers (NULL: no socket). */
void control_demote_changed(struct control *);
/* A reload removes the peer at index removed (the others move down), or
 * added one at the end (removed -1): the requests that walk the peers
 * by index follow (NULL: no socket). */
void control_peers_changed(struct control *, int removed);
/* Status as JSON or text (also used by tests). */
void control_status(struct syncd *, int json, struct sbuf *);
/* metrics.c: the status in Prometheus text format; 0 or -1. */
int syncd_metrics(const struct syncd *, struct sbuf *);

/* commit.c: import what peers hold into the kernel (states waiting to
 * be staged, then masters, then related states), adopt them, answer
 * every request waiting when done. */
struct commit *commit_new(struct syncd *);
void commit_free(struct commit *);
void commit_request(struct commit *, struct ctl_conn *);
void commit_conn_closed(struct commit *, const struct ctl_conn *);
void commit_peer_removed(struct commit *, int idx);

/* diff.c: ask the live peers what they hold for us, dump the kernel,
 * compare and answer. Records from peers arrive through
 * diff_peer_state() and diff_peer_done() (a NULL diff ignores them). */
struct diff *diff_new(struct syncd *);
void diff_free(struct diff *);
void diff_request(struct diff *, struct ctl_conn *, int json);
void diff_conn_closed(struct diff *, const struct ctl_conn *);
void diff_peer_state(struct diff *, struct peer *, const struct ct_state *);
void diff_peer_done(struct diff *, struct peer *, uint32_t id);
/* The peers changed (control_peers_changed): a diff running answers
 * that it cannot finish. */
void diff_peers_changed(struct diff *, int removed);

/* cachedump.c: "dump internal|external [peer ADDR] [json]", streamed
 * (at most 4 at once). */
struct cachedump *cachedump_new(struct syncd *);
void cachedump_free(struct cachedump *);
void cachedump_request(struct cachedump *, struct ctl_conn *, int argc,
    char **argv);
void cachedump_conn_closed(struct cachedump *, const struct ctl_conn *);
void cachedump_peer_removed(struct cachedump *, int idx);
/* The client: "syncd dump ..." (argv[0] is "dump"); the exit status. */
int cachedump_client(int argc, char **argv);

#endif

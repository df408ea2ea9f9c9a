/*
 * commit.c: the commit carpd asks for before taking over: first what is
 * still waiting to be staged, then every peer's state not in the kernel
 * yet, masters before related ones, a bounded number per loop turn; then
 * peers' expectations, and the peers' states become our own. A peer's
 * state that is one of this node's own connections is left as the
 * kernel has it (counted as a collision). Every request that came
 * meanwhile is answered when it is done.
 */
#include <stdlib.h>

#include "control.h"
#include "ctl.h"
#include "log.h"

#define COMMIT_CHUNK  4096  /* states per kernel request */
#define COMMIT_BUDGET 65536 /* states per loop turn */

/* Which of the peers' states a pass imports. */
enum commit_pass {
	COMMIT_MASTERS, /* the staging backlog, then masters */
	COMMIT_RELATED, /* states with a master tuple */
};

struct commit {
	struct syncd *sd;
	struct ev_timer *timer;
	int active;
	enum commit_pass pass;
	int peer_idx;		 /* peer whose cache is walked */
	size_t pos;		 /* in that cache */
	uint64_t epoch;		 /* of that cache when pos was valid */
	size_t imported;	 /* by the commit itself */
	uint64_t refused_before; /* kernel import errors at start */
	uint64_t start_ns;
	struct ctl_conn *waiting[CTL_MAXCONN];
	int nwaiting;
	struct ct_state *chunk; /* 2 * COMMIT_CHUNK */
};

static uint64_t
import_errors(const struct syncd *sd)
{
	return sd->ct != NULL ? ct_stats(sd->ct)->import_errors : 0;
}

static void
commit_finish(struct commit *c)
{
	struct syncd *sd = c->sd;
	uint64_t refused;
	long adopted;
	double ms;

	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		if (p->nexp > 0 && sd->ct != NULL)
			ct_import_expect(sd->ct, p->exp, p->nexp);
		p->nexp = 0;
	}
	/*
	 * What came in during the last passes: a staged copy a peer deleted
	 * meanwhile must leave the kernel now, or nothing would remember it
	 * once the peers' caches are ours (a few: one loop turn's worth).
	 */
	while (stage_backlog(sd) > 0 && stage_run(sd, COMMIT_BUDGET) > 0)
		;
	adopted = (long)engine_adopt(sd);
	engine_heap_release_soon(sd);
	/*
	 * What the kernel refused, or what went from it unseen (a staged
	 * copy it dropped before we knew), is not ours: the table is read
	 * again, and adopted states it lacks are deleted here and at the
	 * peers.
	 */
	if (adopted > 0 && sd->ct != NULL) {
		sd->resync_why = "after the commit";
		ct_resync(sd->ct);
	}
	sd->commit_last_ns = ev_now_ns() - c->start_ns;
	sd->commit_ns += sd->commit_last_ns;
	sd->commits++;
	ms = (double)sd->commit_last_ns / 1e6;
	refused = import_errors(sd) - c->refused_before;
	event_commit(adopted, ms, c->imported, (unsigned long long)refused,
	    "committed %ld states in %.0f ms (%zu imported now, the rest "
	    "staged before)%s",
	    adopted, ms, c->imported,
	    refused > 0 ? "; the kernel refused some" : "");
	for (int i = 0; i < c->nwaiting; i++) {
		if (refused > 0)
			ctl_replyf(c->waiting[i], 1,
			    "committed %ld states in "
			    "%.0f ms, %llu refused by the kernel",
			    adopted, ms, (unsigned long long)refused);
		else
			ctl_replyf(c->waiting[i], 1,
			    "committed %ld states in "
			    "%.0f ms",
			    adopted, ms);
	}
	c->nwaiting = 0;
	c->active = 0;
}

static void
commit_rewind(struct commit *c)
{
	c->peer_idx = 0;
	c->pos = 0;
	c->epoch = (uint64_t)-1;
}

/*
 * A staged copy went into the kernel with the timeout its peer last sent,
 * and traffic at the peer refreshes it there without an event: once that
 * timeout has run out, the copy here may be gone without its destroy
 * event yet (the kernel reaps expired entries lazily, and a dump no
 * longer lists them). The commit imports it again: a copy still there is
 * updated, one expired is replaced.
 */
static int
staged_run_out(const struct centry *e, uint32_t now)
{
	return e->expire != 0 && e->expire <= now + 1;
}

/* Import the current pass's states of the peers' caches, at most
 * *budget looked at. Returns 1 when every peer is done. */
static int
commit_import(struct commit *c, size_t *budget)
{
	struct syncd *sd = c->sd;
	uint32_t now = syncd_now_s();
	struct centry *e = NULL;
	struct cache *ext;
	size_t n, nk;
	long r;

	while (*budget > 0 && c->peer_idx < sd->npeers) {
		ext = sd->peers[c->peer_idx]->ext;
		if (c->epoch != cache_epoch(ext)) {
			c->pos = 0;
			c->epoch = cache_epoch(ext);
		}
		n = nk = 0;
		while (n + nk < COMMIT_CHUNK &&
		    (e = cache_next(ext, &c->pos)) != NULL) {
			*budget -= *budget > 0 ? 1 : 0;
			if ((e->flags & CE_STAGED) && !staged_run_out(e, now))
				continue;
			if (engine_ext_state(e, now, &c->chunk[n]) == -1)
				continue;
			if ((c->pass == COMMIT_MASTERS) !=
			    !(c->chunk[n].fields & CT_F_MASTER))
				continue;
			if (engine_is_own(sd, &c->chunk[n])) {
				engine_reject(sd->peers[c->peer_idx],
				    POL_COLLISION,
				    "to commit over one of this "
				    "node's own connections (left as it is)");
				continue;
			}
			/* A copy the kernel has goes last: an update. */
			if (e->flags & CE_INKERNEL)
				c->chunk[COMMIT_CHUNK + nk++] = c->chunk[n];
			else
				n++;
		}
		if (sd->ct != NULL) {
			r = n > 0 ? ct_import(sd->ct, c->chunk, n) : 0;
			r += nk > 0 ?
			    ct_refresh(sd->ct, c->chunk + COMMIT_CHUNK, nk) :
			    0;
			if (r > 0)
				c->imported += (size_t)r;
		}
		if (e == NULL) {
			c->peer_idx++;
			c->pos = 0;
			c->epoch = (uint64_t)-1;
		}
	}
	return c->peer_idx >= sd->npeers;
}

static void
commit_step(struct ev_timer *t, void *arg)
{
	struct commit *c = arg;
	struct syncd *sd = c->sd;
	size_t budget = COMMIT_BUDGET, done;

	/* First what is still waiting to be staged. */
	while (
	    c->pass == COMMIT_MASTERS && budget > 0 && stage_backlog(sd) > 0) {
		done = stage_run(sd, budget);
		c->imported += done;
		if (done == 0)
			break;
		budget -= done < budget ? done : budget;
	}
	if (stage_backlog(sd) > 0 && c->pass == COMMIT_MASTERS) {
		ev_timer_arm(t, 0);
		return;
	}
	/* Then anything not in the kernel yet: masters, then related. */
	if (!commit_import(c, &budget)) {
		ev_timer_arm(t, 0);
		return;
	}
	if (c->pass == COMMIT_MASTERS) {
		c->pass = COMMIT_RELATED;
		commit_rewind(c);
		ev_timer_arm(t, 0);
		return;
	}
	commit_finish(c);
}

void
commit_request(struct commit *c, struct ctl_conn *conn)
{
	if (c->nwaiting < CTL_MAXCONN)
		c->waiting[c->nwaiting++] = conn;
	if (c->active)
		return;
	/*
	 * Our own connections the kernel has told of but we have not read
	 * yet would be written over by a peer's copy (an import that finds
	 * the entry updates it): read them first.
	 */
	ct_events_drain(c->sd->ct);
	c->active = 1;
	c->pass = COMMIT_MASTERS;
	commit_rewind(c);
	c->imported = 0;
	c->refused_before = import_errors(c->sd);
	c->start_ns = ev_now_ns();
	ev_timer_arm(c->timer, 0);
}

void
commit_conn_closed(struct commit *c, const struct ctl_conn *conn)
{
	for (int i = 0; i < c->nwaiting; i++) {
		if (c->waiting[i] == conn) {
			c->waiting[i] = c->waiting[--c->nwaiting];
			break;
		}
	}
}

/* The peer at idx leaves, the ones after it move down: the walk goes
 * on with the peer it was at (the next one, if it was this one). */
void
commit_peer_removed(struct commit *c, int idx)
{
	if (c == NULL || !c->active)
		return;
	if (idx < c->peer_idx)
		c->peer_idx--;
	else if (idx == c->peer_idx) {
		c->pos = 0;
		c->epoch = (uint64_t)-1;
	}
}

struct commit *
commit_new(struct syncd *sd)
{
	struct commit *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sd = sd;
	/* New states, then (from COMMIT_CHUNK on) copies in the kernel. */
	c->chunk = calloc(2 * COMMIT_CHUNK, sizeof(*c->chunk));
	c->timer = ev_timer_new(sd->loop, commit_step, c);
	if (c->chunk == NULL || c->timer == NULL) {
		commit_free(c);
		return NULL;
	}
	return c;
}

void
commit_free(struct commit *c)
{
	if (c == NULL)
		return;
	ev_timer_free(c->timer);
	free(c->chunk);
	free(c);
}

/*
 * stage.c: staging: peers' states go into the kernel in the background,
 * in batches, so that a commit has only what arrived last (and related
 * states, which wait for their masters) left to import; states a peer
 * dropped leave the kernel the same way. Each peer's cache queue is its
 * staging queue. The pace: a bulk being received comes first; then
 * slices of a batch, soon after states come in. A peer a
 * reload removed leaves its caches here while its staged states are
 * deleted from the kernel.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "syncd.h"

#define STAGE_BATCH	   2048		/* states per kernel request */
#define STAGE_DELAY_NS	   (2 * NS_MS)	/* after the first state */
#define STAGE_BULK_WAIT_NS (50 * NS_MS) /* while a bulk comes in */
#define RETIRE_SLICE	   16384	/* removed peer's entries per turn */
#define RETIRE_PAUSE_NS	   (1 * NS_MS)	/* after a kernel request */

/* A removed peer's caches, walked until its staged states are out of
 * the kernel. */
struct retired {
	struct retired *next;
	struct cache *ext, *unstage;
	size_t pos;
	uint64_t epoch;
	size_t deleted;
	char name[64];
};

struct stage {
	struct ev_timer *timer;
	/* One batch: states to import, to delete, and the entries
	 * imported (flagged once the kernel answered). */
	struct ct_state *imp, *del;
	struct centry **ents;
	struct retired *retired; /* oldest first */
	struct ev_timer *retire_t;
};

static void stage_timer(struct ev_timer *, void *);
static void retire_step(struct ev_timer *, void *);

int
stage_open(struct syncd *sd, int enabled)
{
	struct stage *sg;

	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		return -1;
	sd->stage = sg;
	sd->stage_enabled = enabled;
	sg->imp = calloc(STAGE_BATCH, sizeof(*sg->imp));
	sg->del = calloc(STAGE_BATCH, sizeof(*sg->del));
	sg->ents = calloc(STAGE_BATCH, sizeof(*sg->ents));
	sg->timer = ev_timer_new(sd->loop, stage_timer, sd);
	sg->retire_t = ev_timer_new(sd->loop, retire_step, sd);
	if (sg->imp == NULL || sg->del == NULL || sg->ents == NULL ||
	    sg->timer == NULL || sg->retire_t == NULL)
		return -1;
	return 0;
}

void
stage_close(struct syncd *sd)
{
	struct stage *sg = sd->stage;
	struct retired *r;

	if (sg == NULL)
		return;
	while ((r = sg->retired) != NULL) {
		sg->retired = r->next;
		cache_free(r->ext);
		cache_free(r->unstage);
		free(r);
	}
	ev_timer_free(sg->retire_t);
	ev_timer_free(sg->timer);
	free(sg->imp);
	free(sg->del);
	free(sg->ents);
	free(sg);
	sd->stage = NULL;
}

void
stage_kick(struct syncd *sd)
{
	struct stage *sg = sd->stage;

	if (sd->stage_enabled && sg != NULL && sg->timer != NULL &&
	    !ev_timer_pending(sg->timer))
		ev_timer_arm(sg->timer, STAGE_DELAY_NS);
}

/* Another peer than p holds st: the kernel copy is that one's now. */
static int
held_by_other(struct syncd *sd, const struct peer *p,
    const struct ct_state *st)
{
	for (int i = 0; i < sd->npeers; i++)
		if (sd->peers[i] != p &&
		    cache_lookup(sd->peers[i]->ext, st) != NULL)
			return 1;
	return 0;
}

/*
 * Take at most budget entries of p's staging queue into one batch:
 * deletes in sg->del (*nd), imports in sg->imp (*ni, entries in
 * sg->ents). Related states wait for the commit.
 */
static void
stage_collect(struct syncd *sd, struct peer *p, size_t budget, size_t *ni,
    size_t *nd)
{
	struct stage *sg = sd->stage;
	uint32_t now = syncd_now_s();
	struct centry *e;

	*ni = *nd = 0;
	while (*ni < STAGE_BATCH && *nd < STAGE_BATCH && *ni + *nd < budget &&
	    (e = cache_peek(p->ext)) != NULL) {
		cache_dequeue(p->ext);
		if (e->flags & CE_DEAD) {
			free(e);
			continue;
		}
		if (e->flags & CE_DELETED) {
			/*
			 * Not if the state is ours meanwhile: the kernel
			 * copy is then our own, and our own requests cause
			 * no events here, so its delete would leave it
			 * stale in our cache. Nor if another peer holds it
			 * (it took the state over from p).
			 */
			if (centry_state(e, now, &sg->del[*nd]) == 0) {
				if (!engine_is_own(sd, &sg->del[*nd]) &&
				    !held_by_other(sd, p, &sg->del[*nd]))
					(*nd)++;
				else
					free(cache_del(p->unstage,
					    &sg->del[*nd]));
			}
			free(e);
			continue;
		}
		if (engine_ext_state(e, now, &sg->imp[*ni]) == -1 ||
		    (sg->imp[*ni].fields & CT_F_MASTER))
			continue;
		/* Ours meanwhile: the kernel has it already, and ours
		 * is not written over (the commit counts it). */
		if (engine_is_own(sd, &sg->imp[*ni]))
			continue;
		sg->ents[(*ni)++] = e;
	}
}

/* The kernel request for n entries of a batch (all new, or all in the
 * kernel already); those that failed are deleted harmlessly later. */
static void
stage_request(struct syncd *sd, size_t k0, size_t n, int refresh)
{
	struct stage *sg = sd->stage;
	long r;

	if (n == 0)
		return;
	r = refresh ?
	    ct_refresh(sd->ct, sg->imp + k0, n) :
	    ct_import(sd->ct, sg->imp + k0, n);
	for (size_t k = k0; k < k0 + n; k++)
		sg->ents[k]->flags |= CE_INKERNEL |
		    (r == (long)n ? CE_STAGED : 0);
	sd->staged += r > 0 ? (uint64_t)r : 0;
}

/* Import a batch of ni entries: new ones first, then updates of copies
 * the kernel has (one request each instead of a create that fails and
 * an update). */
static void
stage_import(struct syncd *sd, size_t ni)
{
	struct stage *sg = sd->stage;
	struct ct_state st;
	struct centry *e;
	size_t nn = 0;

	for (size_t k = 0; k < ni; k++) {
		if (sg->ents[k]->flags & CE_INKERNEL)
			continue;
		if (k != nn) {
			st = sg->imp[k];
			sg->imp[k] = sg->imp[nn];
			sg->imp[nn] = st;
			e = sg->ents[k];
			sg->ents[k] = sg->ents[nn];
			sg->ents[nn] = e;
		}
		nn++;
	}
	stage_request(sd, 0, nn, 0);
	stage_request(sd, nn, ni - nn, 1);
}

/* Stage what is queued, at most budget entries (that bounds the time
 * spent in the kernel). Returns the entries handled. */
size_t
stage_run(struct syncd *sd, size_t budget)
{
	struct stage *sg = sd->stage;
	size_t done = 0, ni, nd;

	if (sd->ct == NULL || sg == NULL)
		return 0;
	/*
	 * The kernel's events first: one that tells of traffic here on a
	 * peer's staged copy (a connection that moved to this node before
	 * the commit had it) makes it ours, and a delete the peer sent for
	 * it must then not cut it.
	 */
	if (stage_backlog(sd) > 0)
		ct_events_drain(sd->ct);
	for (int i = 0; i < sd->npeers && done < budget; i++) {
		struct peer *p = sd->peers[i];

		stage_collect(sd, p, budget, &ni, &nd);
		if (nd > 0) {
			ct_delete(sd->ct, sg->del, nd);
			engine_deleted(sd, sg->del, nd);
			for (size_t k = 0; k < nd; k++)
				free(cache_del(p->unstage, &sg->del[k]));
		}
		if (ni > 0)
			stage_import(sd, ni);
		done += ni + nd;
	}
	return done;
}

size_t
stage_backlog(const struct syncd *sd)
{
	size_t n = 0;

	for (int i = 0; i < sd->npeers; i++)
		n += cache_queued(sd->peers[i]->ext);
	return n;
}

/*
 * Staging runs soon after states come in (a few milliseconds gather what
 * arrives together, so that a connection's burst of events is staged
 * once), in slices of one kernel batch, each turn of the loop reading
 * the sync link between two slices: the peer's kernel follows the
 * owner's by milliseconds, and a takeover has little left to import. A
 * bulk being received comes first: staging waits for its end.
 */
static void
stage_timer(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;

	for (int i = 0; i < sd->npeers; i++) {
		if (sd->peers[i]->bulk_req == BULK_REQ_RUNNING) {
			ev_timer_arm(t, STAGE_BULK_WAIT_NS);
			return;
		}
	}
	if (stage_backlog(sd) == 0)
		return;
	stage_run(sd, STAGE_BATCH);
	if (stage_backlog(sd) > 0)
		ev_timer_arm(t, 0);
}

/*
 * A removed peer's states: those in the kernel (staged, or dropped and
 * not deleted yet) are deleted, unless one is this node's own by now
 * (committed, or with traffic here: deleting it would cut a live
 * connection) or another peer holds it too (its copy is the kernel's).
 * Left in the kernel, a removed member's states would outlive it there
 * and a later table dump would take them for this node's own.
 */
void
stage_retire(struct syncd *sd, const char *name, struct cache *ext,
    struct cache *unstage)
{
	struct stage *sg = sd->stage;
	struct retired *r, **tail;

	if (sg == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		if (sg != NULL)
			log_warn("peer %s: its staged states stay in the "
				 "kernel",
			    name);
		cache_free(ext);
		cache_free(unstage);
		return;
	}
	r->ext = ext;
	r->unstage = unstage;
	r->epoch = cache_epoch(ext);
	snprintf(r->name, sizeof(r->name), "%s", name);
	for (tail = &sg->retired; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = r;
	if (!ev_timer_pending(sg->retire_t))
		ev_timer_arm(sg->retire_t, 0);
}

int
stage_retiring(const struct syncd *sd, const struct ct_state *st)
{
	const struct retired *r;

	if (sd->stage == NULL)
		return 0;
	for (r = sd->stage->retired; r != NULL; r = r->next)
		if (cache_lookup(r->ext, st) != NULL ||
		    cache_lookup(r->unstage, st) != NULL)
			return 1;
	return 0;
}

/* Whether e's state goes into the batch of deletes (sg->del[*nd]). */
static void
retire_take(struct syncd *sd, const struct centry *e, size_t *nd)
{
	struct ct_state *st = &sd->stage->del[*nd];

	if (centry_state(e, syncd_now_s(), st) == -1 || engine_is_own(sd, st))
		return;
	for (int i = 0; i < sd->npeers; i++)
		if (cache_lookup(sd->peers[i]->ext, st) != NULL)
			return;
	(*nd)++;
}

/*
 * One slice of the oldest removed peer: its queue first (entries it
 * dropped before, waiting to be deleted; entries still in the table
 * come in the walk), then its table. Returns 1 when it is done.
 */
static int
retire_slice(struct syncd *sd, struct retired *r, size_t *nd)
{
	struct centry *e = NULL;
	size_t n = 0;

	while (n < RETIRE_SLICE && *nd < STAGE_BATCH &&
	    (e = cache_dequeue(r->ext)) != NULL) {
		n++;
		if (e->flags & CE_DELETED)
			retire_take(sd, e, nd);
		if (e->flags & (CE_DELETED | CE_DEAD))
			free(e);
	}
	if (e != NULL)
		return 0;
	while (n < RETIRE_SLICE && *nd < STAGE_BATCH &&
	    (e = cache_next(r->ext, &r->pos)) != NULL) {
		n++;
		if (e->flags & (CE_STAGED | CE_INKERNEL))
			retire_take(sd, e, nd);
	}
	return e == NULL;
}

static void
retire_step(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;
	struct stage *sg = sd->stage;
	struct retired *r = sg->retired;
	size_t nd = 0;
	int done;

	if (r == NULL)
		return;
	/* Nothing else changes the cache; a rebuild would restart. */
	if (cache_epoch(r->ext) != r->epoch) {
		r->pos = 0;
		r->epoch = cache_epoch(r->ext);
	}
	done = retire_slice(sd, r, &nd);
	if (nd > 0 && sd->ct != NULL) {
		long k = ct_delete(sd->ct, sg->del, nd);

		engine_deleted(sd, sg->del, nd);

		r->deleted += k > 0 ? (size_t)k : 0;
	}
	if (done) {
		log_info("peer %s (removed): %zu of its staged states deleted "
			 "from the kernel",
		    r->name, r->deleted);
		sg->retired = r->next;
		cache_free(r->ext);
		cache_free(r->unstage);
		free(r);
	}
	if (sg->retired != NULL)
		ev_timer_arm(t, nd > 0 ? RETIRE_PAUSE_NS : 0);
}

/*
 * stream.c: what syncd puts into frame bodies: the live stream (pending
 * expectation records, then the queue of changed own states, for every
 * peer at once) and, per peer, the bulk stream (our expectations and
 * internal cache, between BULK_BEGIN and BULK_END) and the diff stream
 * (the peer's states we hold, ended by DIFF_END). peer.c sends them.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "syncd.h"

/* Live records for every peer: pending expectation records, then the
 * queue of changed states. Returns the body length (0: nothing). */
size_t
stream_build_live(struct syncd *sd, uint8_t *body, size_t cap,
    uint32_t *nstates)
{
	struct centry *e;
	struct ct_state st;
	struct sync_update u;
	struct wr w;
	uint32_t now = syncd_now_s();
	size_t save, klen;

	*nstates = 0;
	wr_init(&w, body, cap);
	if (sd->expect_queue_len > 0 && sd->expect_queue_len <= cap) {
		wr_bytes(&w, sd->expect_queue, sd->expect_queue_len);
		sd->expect_queue_len = 0;
	}
	while ((e = cache_peek(sd->internal)) != NULL) {
		save = w.off;
		if (e->flags & CE_DEAD) {
			cache_dequeue(sd->internal);
			free(e);
			continue;
		}
		if (e->flags & CE_DELETED) {
			if (e->flags & CE_SENT) {
				klen = sync_key_len(e->rec, e->len);
				wr_u8(&w, SYNC_R_DELETE);
				wr_u8(&w, (uint8_t)klen);
				wr_bytes(&w, e->rec, klen);
				if (w.err)
					goto full;
				(*nstates)++;
			}
			cache_dequeue(sd->internal);
			free(e);
			continue;
		}
		if (!(e->flags & CE_SENT) || (e->chg & CHG_FULL)) {
			/* The cached value as it is, plus the time left (as
			 * the bulk sends it: no decoding and encoding). */
			if (sync_state_encode_value(&w, SYNC_R_STATE, e->rec,
				e->len, e->expire != 0,
				e->expire > now ? e->expire - now : 1) == -1)
				goto full;
		} else {
			if (centry_state(e, now, &st) == -1) {
				cache_dequeue(sd->internal);
				continue;
			}
			u.mask = (e->chg & SYNC_U_ALL) | SYNC_U_TIMEOUT;
			u.st = st;
			if (sync_update_encode(&w, &u) == -1)
				goto full;
		}
		cache_dequeue(sd->internal);
		e->flags |= CE_SENT;
		e->chg = 0;
		(*nstates)++;
		continue;
full:
		wr_rewind(&w, save);
		if (save == 0) {
			/* Cannot be encoded at all: do not stall the queue. */
			cache_dequeue(sd->internal);
			if (e->flags & CE_DELETED)
				free(e);
			continue;
		}
		break;
	}
	return w.off;
}

/* A bulk's expectation records, as many as fit. 0 when all are in. */
static int
put_expectations(struct syncd *sd, struct stream *s, struct wr *w)
{
	size_t save;

	while (s->exp_pos < sd->nexp) {
		save = w->off;
		if (sync_expect_encode(w, SYNC_R_EXPECT,
			&sd->exp[s->exp_pos]) == -1) {
			wr_rewind(w, save);
			return -1;
		}
		s->exp_pos++;
	}
	return 0;
}

/* The next frame of a bulk or diff stream to p (0: nothing). */
static size_t
build_stream(struct peer *p, struct stream *s, enum stream_kind kind,
    uint8_t *body, size_t cap)
{
	struct syncd *sd = p->sd;
	struct cache *c = kind == STREAM_BULK ? sd->internal : p->ext;
	struct sync_ctl ctl;
	struct centry *e;
	struct wr w;
	uint32_t now = syncd_now_s();
	size_t save;

	wr_init(&w, body, cap);
	if (!s->begun) {
		ctl.id = s->id;
		ctl.count = 0;
		if (kind == STREAM_BULK)
			sync_ctl_encode(&w, SYNC_R_BULK_BEGIN, &ctl);
		s->begun = 1;
		s->pos = 0;
		s->exp_pos = 0;
		s->epoch = cache_epoch(c);
	}
	if (kind == STREAM_BULK && put_expectations(sd, s, &w) == -1)
		return w.off;
	if (s->epoch != cache_epoch(c)) {
		/* The table was rebuilt: start over (repeats are harmless). */
		s->pos = 0;
		s->epoch = cache_epoch(c);
	}
	while ((e = cache_next(c, &s->pos)) != NULL) {
		save = w.off;
		/* The cached value as it is, plus the time left. */
		if (sync_state_encode_value(&w,
			kind == STREAM_BULK ? SYNC_R_STATE : SYNC_R_DIFF_STATE,
			e->rec, e->len, e->expire != 0,
			e->expire > now ? e->expire - now : 1) == -1) {
			wr_rewind(&w, save);
			if (save == 0)
				continue; /* cannot be encoded: skip */
			s->pos--;
			return w.off;
		}
		s->count++;
		p->st.tx_states++;
		/* Sent: its delete must reach the peers (adopted states
		 * are only ever sent this way). */
		if (kind == STREAM_BULK)
			e->flags |= CE_SENT;
	}
	ctl.id = s->id;
	ctl.count = s->count;
	save = w.off;
	/* After a commit: the peer's copies of what it just got are ours
	 * (before BULK_END: the peer still tells this bulk's states from
	 * older ones). In the frame of BULK_END, or both wait. */
	if ((kind == STREAM_BULK && s->takeover &&
		sync_ctl_encode(&w, SYNC_R_TAKEOVER, &ctl) == -1) ||
	    sync_ctl_encode(&w,
		kind == STREAM_BULK ? SYNC_R_BULK_END : SYNC_R_DIFF_END,
		&ctl) == -1) {
		wr_rewind(&w, save);
		return w.off;
	}
	s->active = 0;
	if (kind == STREAM_BULK) {
		if (s->takeover)
			log_info("bulk to %s done with a takeover: %u states "
				 "are ours",
			    p->name, s->count);
		s->takeover = 0;
		p->st.bulks_sent++;
		event_bulk(p, "tx", "done", s->count, -1,
		    "bulk to %s done: %u states", p->name, s->count);
	}
	return w.off;
}

/*
 * A bulk waits while our own table is being read (engine.c), and one
 * the peer needs whole (it holds our states, and drops what the bulk
 * lacks) until the table is read: sent before, it would hold none or
 * part of our states. A peer that holds none of ours (it just started
 * too) gets what we have at once: it has nothing to lose, and two
 * members starting together would otherwise wait for each other (each
 * reads its table once the other's bulk is in).
 */
static int
bulk_ready(const struct peer *p)
{
	const struct syncd *sd = p->sd;

	if (sd->table == TABLE_READ || sd->ct == NULL)
		return 1;
	return sd->table == TABLE_UNREAD && !p->bulk.whole;
}

/* The next frame for p of its streams, the bulk first (0: nothing). */
size_t
stream_build_next(struct peer *p, uint8_t *body, size_t cap)
{
	if (p->bulk.active && bulk_ready(p))
		return build_stream(p, &p->bulk, STREAM_BULK, body, cap);
	if (p->diff.active)
		return build_stream(p, &p->diff, STREAM_DIFF, body, cap);
	return 0;
}

int
stream_pending(const struct peer *p)
{
	return (p->bulk.active && bulk_ready(p)) || p->diff.active;
}

/* Send p our whole table from the start (id 0: unsolicited); a
 * takeover still to be told goes with it. whole: p holds our states
 * (bulk_ready). */
void
stream_start_bulk(struct peer *p, uint32_t id, int whole)
{
	int takeover = p->bulk.takeover;

	memset(&p->bulk, 0, sizeof(p->bulk));
	p->bulk.active = 1;
	p->bulk.id = id;
	p->bulk.takeover = takeover;
	p->bulk.whole = whole;
	transport_kick(p->sd);
}

/* Send p what we hold of its states, answering its DIFF_REQ id. */
void
stream_start_diff(struct peer *p, uint32_t id)
{
	memset(&p->diff, 0, sizeof(p->diff));
	p->diff.active = 1;
	p->diff.id = id;
	transport_kick(p->sd);
}

/*
 * cache.c: compact state cache. Slots hold pointers to small entries
 * that carry the state's wire encoding (its key first), so an IPv4 TCP
 * state costs about 40 bytes of entry plus its slot. Deletion leaves a
 * tombstone, so entries never move except when the table is rebuilt
 * (cache_epoch changes), which keeps iteration cursors valid.
 *
 * Keys come from the network (tuples outside hosts choose), so the slot
 * hash is SipHash keyed with a secret each table draws when it is
 * created: no one can aim many tuples at one probe sequence and make
 * inserts quadratic. libsodium must be initialised before cache_new().
 *
 * A keyed hash scatters neighbouring tuples over the table, so each slot
 * probed is a cache miss; an entry looked at on the way would be another.
 * A slot therefore keeps a few more bits of the hash in the low bits of
 * the entry's address (entries are aligned to ENT_ALIGN, so those bits
 * are zero): probing compares them first and reads an entry only when
 * they match, and an insert of a new state reads no entry at all. What
 * is left, the slot itself, a caller that knows the next keys early can
 * have fetched meanwhile (cache_prefetch); a walk fetches the entries
 * of the slots ahead; and a caller that knows how many states are coming
 * makes room at once (cache_reserve) instead of the table being rebuilt
 * ever larger as they come.
 *
 * A rebuild (the table doubling as it fills) reads no entry and hashes
 * nothing: beside each slot the low 32 bits of its key's hash are kept
 * (4 bytes a slot), and the rebuild only moves slots, in order of the
 * old table. Still, moving 3M slots at once would stop the daemon for
 * tens of milliseconds (its event socket filling meanwhile), so a table
 * that fills as states come is rebuilt a little at a time: the new table
 * takes every insert, and each insert or delete first moves MOVE_STEP
 * slots of the old one, which lookups search too until it is empty. A
 * move has its old table's worth of inserts to end (the new one is twice
 * as large, and only three quarters full is a rebuild due), so a step of
 * a few slots always ends it in time. A walk (cache_next) ends a move
 * first, so that it sees every entry in one table; a rebuild a caller
 * asks for (cache_reserve) is made at once.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"
#include "sync.h"

#define ENT_ALIGN    _Alignof(max_align_t)
#define TAG_MASK     ((uintptr_t)ENT_ALIGN - 1)
#define SLOT_EMPTY   ((uintptr_t)0)
#define SLOT_TOMB    ((uintptr_t)1)
#define MINCAP	     1024
#define PREFETCH_GAP 16 /* slots ahead whose entry is fetched early */
#define MOVE_STEP    8	/* old slots moved by an insert or delete */

_Static_assert(ENT_ALIGN >= 8, "entries need three free address bits");

struct cache {
	uintptr_t *slot; /* entry address | tag, or SLOT_EMPTY, SLOT_TOMB */
	uint32_t *hlo;	 /* a live slot's hash, low bits */
	size_t cap;	 /* power of two */
	size_t used;	 /* live entries (both tables while moving) */
	size_t tombs;	 /* of the new table */
	/* While a rebuild moves entries: the old table (NULL otherwise),
	 * moved up to opos (its moved slots are tombstones). */
	uintptr_t *oslot;
	uint32_t *ohlo;
	size_t ocap, opos;
	size_t bytes; /* entry storage */
	uint64_t epoch;
	struct centry **q; /* ring */
	size_t qcap, qhead, qlen;
	uint8_t seed[crypto_shorthash_siphash24_KEYBYTES];
};

static uint64_t
hash_key(const struct cache *c, const uint8_t *p, size_t n)
{
	uint8_t out[crypto_shorthash_siphash24_BYTES];
	uint64_t h;

	crypto_shorthash_siphash24(out, p, n, c->seed);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* The slot index uses the hash's low bits, the tag its top ones. */
static uintptr_t
hash_tag(uint64_t h)
{
	return (uintptr_t)(h >> 58) & TAG_MASK;
}

static struct centry *
slot_entry(uintptr_t v)
{
	return (struct centry *)(v & ~TAG_MASK);
}

static int
slot_live(uintptr_t v)
{
	return v != SLOT_EMPTY && v != SLOT_TOMB;
}

static size_t
entry_size(size_t len)
{
	/* What malloc really hands out for this request. */
	size_t n = sizeof(struct centry) + len + 8;

	return n < 32 ? 32 : (n + 15) & ~(size_t)15;
}

/* Aligned, so that a slot has room for the tag (see above): what
 * malloc guarantees, asked for in so many words (without rounding the
 * size up, which would cost memory). */
static struct centry *
entry_alloc(size_t len)
{
	void *e;
	int r;

	if ((r = posix_memalign(&e, ENT_ALIGN, sizeof(struct centry) + len)) !=
	    0) {
		errno = r;
		return NULL;
	}
	return e;
}

struct cache *
cache_new(void)
{
	struct cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cap = MINCAP;
	randombytes_buf(c->seed, sizeof(c->seed));
	c->slot = calloc(c->cap, sizeof(*c->slot));
	c->hlo = malloc(c->cap * sizeof(*c->hlo));
	if (c->slot == NULL || c->hlo == NULL) {
		free(c->slot);
		free(c->hlo);
		free(c);
		return NULL;
	}
	return c;
}

void
cache_free(struct cache *c)
{
	struct centry *e;

	if (c == NULL)
		return;
	cache_clear(c);
	while ((e = cache_dequeue(c)) != NULL)
		free(e);
	free(c->slot);
	free(c->hlo);
	free(c->q);
	free(c);
}

size_t
cache_count(const struct cache *c)
{
	return c->used;
}

size_t
cache_mem(const struct cache *c)
{
	return (c->cap + c->ocap) * (sizeof(*c->slot) + sizeof(*c->hlo)) +
	    c->bytes + c->qcap * sizeof(*c->q);
}

uint64_t
cache_epoch(const struct cache *c)
{
	return c->epoch;
}

/*
 * The slot of key (hash h): its entry (*found = 1), or where to insert
 * it, the first tombstone on the way if any.
 */
static size_t
find_in(const uintptr_t *slot, size_t cap, const uint8_t *key, size_t klen,
    uint64_t h, int *found)
{
	size_t mask = cap - 1, i, tomb = (size_t)-1;
	uintptr_t v, tag = hash_tag(h);
	struct centry *e;

	i = (size_t)h & mask;
	for (;;) {
		v = slot[i];
		if (v == SLOT_EMPTY) {
			*found = 0;
			return tomb != (size_t)-1 ? tomb : i;
		}
		if (v == SLOT_TOMB) {
			if (tomb == (size_t)-1)
				tomb = i;
		} else if ((v & TAG_MASK) == tag) {
			e = slot_entry(v);
			if (e->len >= klen && memcmp(e->rec, key, klen) == 0 &&
			    sync_key_len(e->rec, e->len) == klen) {
				*found = 1;
				return i;
			}
		}
		i = (i + 1) & mask;
	}
}

static size_t
find(const struct cache *c, const uint8_t *key, size_t klen, uint64_t h,
    int *found)
{
	return find_in(c->slot, c->cap, key, klen, h, found);
}

/* Where an entry of hash h goes in the new table (no copy of it there). */
static size_t
free_slot(struct cache *c, uint64_t h)
{
	size_t mask = c->cap - 1, j = (size_t)h & mask;

	while (slot_live(c->slot[j]))
		j = (j + 1) & mask;
	if (c->slot[j] == SLOT_TOMB)
		c->tombs--;
	return j;
}

/* The hash of the entry in slot v whose kept low bits are lo, as far
 * as a table of cap slots needs it. */
static uint64_t
slot_hash(const struct cache *c, uintptr_t v, uint32_t lo, size_t cap)
{
	const struct centry *e;

	if (cap - 1 <= UINT32_MAX)
		return lo;
	/* More slots than the kept bits tell apart. */
	e = slot_entry(v);
	return hash_key(c, e->rec, sync_key_len(e->rec, e->len));
}

/* Move at most n slots of the old table; the last one ends the move. */
static void
move_some(struct cache *c, size_t n)
{
	uintptr_t v;
	uint64_t h;
	size_t j;

	for (; n > 0 && c->opos < c->ocap; n--, c->opos++) {
		if (!slot_live(v = c->oslot[c->opos]))
			continue;
		h = slot_hash(c, v, c->ohlo[c->opos], c->cap);
		j = free_slot(c, h);
		c->slot[j] = v; /* the tag is the same hash's */
		c->hlo[j] = (uint32_t)h;
		c->oslot[c->opos] = SLOT_TOMB;
	}
	if (c->oslot != NULL && c->opos == c->ocap) {
		free(c->oslot);
		free(c->ohlo);
		c->oslot = NULL;
		c->ohlo = NULL;
		c->ocap = c->opos = 0;
	}
}

static void
move_all(struct cache *c)
{
	if (c->oslot != NULL)
		move_some(c, c->ocap);
}

/*
 * The old table's slot of key (hash h), or -1: the slot is emptied (a
 * tombstone) and the entry handed to the caller, who puts it in the new
 * table or drops it.
 */
static struct centry *
old_take(struct cache *c, const uint8_t *key, size_t klen, uint64_t h)
{
	struct centry *e;
	size_t i;
	int found;

	if (c->oslot == NULL)
		return NULL;
	i = find_in(c->oslot, c->ocap, key, klen, h, &found);
	if (!found)
		return NULL;
	e = slot_entry(c->oslot[i]);
	c->oslot[i] = SLOT_TOMB;
	return e;
}

/* Start a rebuild into ncap slots; with now, move it all at once. */
static int
rebuild(struct cache *c, size_t ncap, int now)
{
	uintptr_t *ns;
	uint32_t *nh;

	move_all(c);
	ns = calloc(ncap, sizeof(*ns));
	nh = malloc(ncap * sizeof(*nh));
	if (ns == NULL || nh == NULL) {
		free(ns);
		free(nh);
		return -1;
	}
	c->oslot = c->slot;
	c->ohlo = c->hlo;
	c->ocap = c->cap;
	c->opos = 0;
	c->slot = ns;
	c->hlo = nh;
	c->cap = ncap;
	c->tombs = 0;
	c->epoch++;
	if (now)
		move_all(c);
	return 0;
}

/* The capacity at which n live entries need no rebuild (load < 3/4). */
static size_t
cap_for(size_t n)
{
	size_t cap = MINCAP;

	while (cap * 3 <= n * 4 && cap < ((size_t)1 << 40))
		cap *= 2;
	return cap;
}

/*
 * Before an insert: the move under way goes on; a table three quarters
 * full (tombstones count) starts a rebuild, twice as large unless
 * tombstones made it full. A move is over long before the new table
 * fills; if it is not, it ends now.
 */
static int
grow(struct cache *c)
{
	size_t ncap = c->cap;

	if (c->oslot != NULL)
		move_some(c, MOVE_STEP);
	if ((c->used + c->tombs + 1) * 4 < c->cap * 3)
		return 0;
	if (c->oslot != NULL) {
		move_all(c);
		if ((c->used + c->tombs + 1) * 4 < c->cap * 3)
			return 0;
	}
	if ((c->used + 1) * 2 > c->cap)
		ncap = c->cap * 2;
	return rebuild(c, ncap, 0);
}

int
cache_reserve(struct cache *c, size_t n)
{
	size_t ncap = cap_for(n > c->used ? n : c->used);

	if (ncap <= c->cap) {
		move_all(c);
		return 0;
	}
	return rebuild(c, ncap, 1);
}

void
cache_prefetch(const struct cache *c, const uint8_t *val, size_t len)
{
	size_t klen = sync_key_len(val, len);

	if (klen == 0)
		return;
	__builtin_prefetch(
	    &c->slot[(size_t)hash_key(c, val, klen) & (c->cap - 1)], 1);
}

void
cache_prefetch_state(const struct cache *c, const struct ct_state *st)
{
	uint8_t key[SYNC_KEY_MAX];
	size_t klen;

	if (c->used > 0 && (klen = sync_key_encode(key, st)) > 0)
		cache_prefetch(c, key, klen);
}

struct centry *
cache_lookup(struct cache *c, const struct ct_state *st)
{
	uint8_t key[SYNC_KEY_MAX];
	size_t klen, i;
	uint64_t h;
	int found;

	if (c->used == 0 || (klen = sync_key_encode(key, st)) == 0)
		return NULL;
	h = hash_key(c, key, klen);
	i = find(c, key, klen, h, &found);
	if (found)
		return slot_entry(c->slot[i]);
	if (c->oslot == NULL)
		return NULL;
	i = find_in(c->oslot, c->ocap, key, klen, h, &found);
	return found ? slot_entry(c->oslot[i]) : NULL;
}

struct centry *
cache_put(struct cache *c, const struct ct_state *st, uint32_t now,
    struct centry **old)
{
	uint8_t buf[300];
	struct ct_state tmp;
	struct centry *e, *o;
	struct wr w;
	size_t klen, i, vlen;
	uint64_t h;
	int found;

	*old = NULL;
	tmp = *st;
	tmp.fields &= ~CT_F_TIMEOUT;
	tmp.timeout = 0;
	wr_init(&w, buf, sizeof(buf));
	if (sync_state_encode(&w, SYNC_R_STATE, &tmp) == -1) {
		errno = EINVAL;
		return NULL;
	}
	vlen = w.off - 2;
	klen = sync_key_len(buf + 2, vlen);
	if (grow(c) == -1)
		return NULL;
	h = hash_key(c, buf + 2, klen);
	i = find(c, buf + 2, klen, h, &found);
	if (found) {
		o = slot_entry(c->slot[i]);
	} else if ((o = old_take(c, buf + 2, klen, h)) != NULL) {
		/* Still in the old table: it moves over now, where it
		 * would go. */
		if (c->slot[i] == SLOT_TOMB)
			c->tombs--;
		c->slot[i] = (uintptr_t)o | hash_tag(h);
		c->hlo[i] = (uint32_t)h;
	}
	if (o != NULL && o->len == vlen) {
		e = o;
	} else {
		if ((e = entry_alloc(vlen)) == NULL)
			return NULL;
		c->bytes += entry_size(vlen);
		if (o != NULL) {
			e->flags = o->flags & ~(CE_QUEUED | CE_DEAD);
			e->chg = o->chg;
			e->gen = o->gen;
			c->bytes -= entry_size(o->len);
			*old = o;
		} else {
			e->flags = 0;
			e->chg = CHG_FULL;
			e->gen = 0;
			if (c->slot[i] == SLOT_TOMB)
				c->tombs--;
			c->used++;
		}
		e->len = (uint8_t)vlen;
		c->slot[i] = (uintptr_t)e | hash_tag(h);
		c->hlo[i] = (uint32_t)h;
	}
	memcpy(e->rec, buf + 2, vlen);
	e->expire = (st->fields & CT_F_TIMEOUT) ? now + st->timeout : 0;
	if (e->expire == 0 && (st->fields & CT_F_TIMEOUT))
		e->expire = 1;
	return e;
}

/* Empty slot i, which holds a live entry; returns the entry. */
static struct centry *
take(struct cache *c, size_t i)
{
	struct centry *e = slot_entry(c->slot[i]);

	c->slot[i] = SLOT_TOMB;
	c->tombs++;
	c->used--;
	c->bytes -= entry_size(e->len);
	return e;
}

struct centry *
cache_del(struct cache *c, const struct ct_state *st)
{
	uint8_t key[SYNC_KEY_MAX];
	struct centry *e;
	size_t klen, i;
	uint64_t h;
	int found;

	if (c->used == 0 || (klen = sync_key_encode(key, st)) == 0)
		return NULL;
	if (c->oslot != NULL)
		move_some(c, MOVE_STEP);
	h = hash_key(c, key, klen);
	i = find(c, key, klen, h, &found);
	if (found)
		return take(c, i);
	if ((e = old_take(c, key, klen, h)) == NULL)
		return NULL;
	c->used--;
	c->bytes -= entry_size(e->len);
	return e;
}

/* Empty a table's n slots: entries freed, or left to the queue. */
static void
clear_slots(uintptr_t *slot, size_t n)
{
	struct centry *e;
	uintptr_t v;

	for (size_t i = 0; i < n; i++) {
		v = slot[i];
		slot[i] = SLOT_EMPTY;
		if (!slot_live(v))
			continue;
		e = slot_entry(v);
		if (e->flags & CE_QUEUED)
			e->flags |= CE_DEAD;
		else
			free(e);
	}
}

void
cache_clear(struct cache *c)
{
	clear_slots(c->slot, c->cap);
	if (c->oslot != NULL) {
		clear_slots(c->oslot, c->ocap);
		c->opos = c->ocap;
		move_some(c, 0); /* frees the old table */
	}
	c->used = c->tombs = c->bytes = 0;
	c->epoch++;
}

struct centry *
cache_next(struct cache *c, size_t *pos)
{
	uintptr_t v;

	/* A walk sees one table (a move started since changed the epoch). */
	move_all(c);
	while (*pos < c->cap) {
		/* Entries lie in no order of their slots: fetch ahead. */
		if (*pos + PREFETCH_GAP < c->cap &&
		    slot_live(v = c->slot[*pos + PREFETCH_GAP]))
			__builtin_prefetch(slot_entry(v));
		if (slot_live(v = c->slot[(*pos)++]))
			return slot_entry(v);
	}
	return NULL;
}

void
cache_del_at(struct cache *c, size_t pos)
{
	struct centry *e;

	if ((e = cache_take_at(c, pos)) == NULL)
		return;
	if (e->flags & CE_QUEUED)
		e->flags |= CE_DEAD;
	else
		free(e);
}

struct centry *
cache_take_at(struct cache *c, size_t pos)
{
	if (pos == 0 || pos > c->cap || !slot_live(c->slot[pos - 1]))
		return NULL;
	return take(c, pos - 1);
}

void
cache_swap(struct cache *a, struct cache *b)
{
	struct cache t = *a;

	*a = *b;
	*b = t;
	a->epoch = b->epoch = (a->epoch > b->epoch ? a->epoch : b->epoch) + 1;
}

int
centry_state(const struct centry *e, uint32_t now, struct ct_state *st)
{
	struct rd r;

	rd_init(&r, e->rec, e->len);
	if (sync_state_decode(&r, st) == -1)
		return -1;
	if (e->expire != 0) {
		st->fields |= CT_F_TIMEOUT;
		st->timeout = e->expire > now ? e->expire - now : 1;
	}
	return 0;
}

int
cache_enqueue(struct cache *c, struct centry *e)
{
	struct centry **nq;
	size_t ncap;

	if (e->flags & CE_QUEUED)
		return 0;
	if (c->qlen == c->qcap) {
		ncap = c->qcap ? c->qcap * 2 : 1024;
		if ((nq = malloc(ncap * sizeof(*nq))) == NULL)
			return -1;
		for (size_t i = 0; i < c->qlen; i++)
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = e;
	c->qlen++;
	e->flags |= CE_QUEUED;
	return 0;
}

struct centry *
cache_dequeue(struct cache *c)
{
	struct centry *e;

	if (c->qlen == 0) {
		if (c->q != NULL && c->qcap > 4096) {
			free(c->q);
			c->q = NULL;
			c->qcap = 0;
			c->qhead = 0;
		}
		return NULL;
	}
	e = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	e->flags &= ~CE_QUEUED;
	return e;
}

struct centry *
cache_peek(struct cache *c)
{
	return c->qlen == 0 ? NULL : c->q[c->qhead];
}

size_t
cache_queued(const struct cache *c)
{
	return c->qlen;
}

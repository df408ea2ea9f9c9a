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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"
#include "sync.h"

#define TOMB   ((struct centry *)(uintptr_t)1)
#define MINCAP 1024

struct cache {
	struct centry **slot;
	size_t cap;  /* power of two */
	size_t used; /* live entries */
	size_t tombs;
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

static size_t
entry_size(size_t len)
{
	/* What malloc really hands out for this request. */
	size_t n = sizeof(struct centry) + len + 8;

	return n < 32 ? 32 : (n + 15) & ~(size_t)15;
}

struct cache *
cache_new(void)
{
	struct cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cap = MINCAP;
	randombytes_buf(c->seed, sizeof(c->seed));
	if ((c->slot = calloc(c->cap, sizeof(*c->slot))) == NULL) {
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
	return c->cap * sizeof(*c->slot) + c->bytes + c->qcap * sizeof(*c->q);
}

uint64_t
cache_epoch(const struct cache *c)
{
	return c->epoch;
}

static size_t
find(const struct cache *c, const uint8_t *key, size_t klen, int *found)
{
	size_t mask = c->cap - 1, i, tomb = (size_t)-1;
	struct centry *e;

	i = (size_t)hash_key(c, key, klen) & mask;
	for (;;) {
		e = c->slot[i];
		if (e == NULL) {
			*found = 0;
			return tomb != (size_t)-1 ? tomb : i;
		}
		if (e == TOMB) {
			if (tomb == (size_t)-1)
				tomb = i;
		} else if (e->len >= klen && memcmp(e->rec, key, klen) == 0 &&
		    sync_key_len(e->rec, e->len) == klen) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static int
rebuild(struct cache *c, size_t ncap)
{
	struct centry **ns, **os = c->slot, *e;
	size_t ocap = c->cap, mask = ncap - 1, j, klen;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return -1;
	for (size_t i = 0; i < ocap; i++) {
		if ((e = os[i]) == NULL || e == TOMB)
			continue;
		klen = sync_key_len(e->rec, e->len);
		j = (size_t)hash_key(c, e->rec, klen) & mask;
		while (ns[j] != NULL)
			j = (j + 1) & mask;
		ns[j] = e;
	}
	free(os);
	c->slot = ns;
	c->cap = ncap;
	c->tombs = 0;
	c->epoch++;
	return 0;
}

static int
grow(struct cache *c)
{
	size_t ncap = c->cap;

	if ((c->used + c->tombs + 1) * 4 < c->cap * 3)
		return 0;
	if ((c->used + 1) * 2 > c->cap)
		ncap = c->cap * 2;
	return rebuild(c, ncap);
}

struct centry *
cache_lookup(struct cache *c, const struct ct_state *st)
{
	uint8_t key[SYNC_KEY_MAX];
	size_t klen, i;
	int found;

	if ((klen = sync_key_encode(key, st)) == 0)
		return NULL;
	i = find(c, key, klen, &found);
	return found ? c->slot[i] : NULL;
}

struct centry *
cache_put(struct cache *c, const struct ct_state *st, uint32_t now,
    struct centry **old)
{
	uint8_t buf[300], key[SYNC_KEY_MAX];
	struct ct_state tmp;
	struct centry *e, *o;
	struct wr w;
	size_t klen, i, vlen;
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
	memcpy(key, buf + 2, klen);
	if (grow(c) == -1)
		return NULL;
	i = find(c, key, klen, &found);
	o = found ? c->slot[i] : NULL;
	if (o != NULL && o->len == vlen) {
		e = o;
	} else {
		if ((e = malloc(sizeof(*e) + vlen)) == NULL)
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
			if (c->slot[i] == TOMB)
				c->tombs--;
			c->used++;
		}
		e->len = (uint8_t)vlen;
		c->slot[i] = e;
	}
	memcpy(e->rec, buf + 2, vlen);
	e->expire = (st->fields & CT_F_TIMEOUT) ? now + st->timeout : 0;
	if (e->expire == 0 && (st->fields & CT_F_TIMEOUT))
		e->expire = 1;
	return e;
}

struct centry *
cache_del(struct cache *c, const struct ct_state *st)
{
	uint8_t key[SYNC_KEY_MAX];
	struct centry *e;
	size_t klen, i;
	int found;

	if ((klen = sync_key_encode(key, st)) == 0)
		return NULL;
	i = find(c, key, klen, &found);
	if (!found)
		return NULL;
	e = c->slot[i];
	c->slot[i] = TOMB;
	c->tombs++;
	c->used--;
	c->bytes -= entry_size(e->len);
	return e;
}

void
cache_clear(struct cache *c)
{
	struct centry *e;

	for (size_t i = 0; i < c->cap; i++) {
		e = c->slot[i];
		c->slot[i] = NULL;
		if (e == NULL || e == TOMB)
			continue;
		if (e->flags & CE_QUEUED)
			e->flags |= CE_DEAD;
		else
			free(e);
	}
	c->used = c->tombs = c->bytes = 0;
	c->epoch++;
}

struct centry *
cache_next(struct cache *c, size_t *pos)
{
	struct centry *e;

	while (*pos < c->cap) {
		e = c->slot[(*pos)++];
		if (e != NULL && e != TOMB)
			return e;
	}
	return NULL;
}

void
cache_del_at(struct cache *c, size_t pos)
{
	struct centry *e;

	if (pos == 0 || pos > c->cap)
		return;
	e = c->slot[pos - 1];
	if (e == NULL || e == TOMB)
		return;
	c->slot[pos - 1] = TOMB;
	c->tombs++;
	c->used--;
	c->bytes -= entry_size(e->len);
	if (e->flags & CE_QUEUED)
		e->flags |= CE_DEAD;
	else
		free(e);
}

struct centry *
cache_take_at(struct cache *c, size_t pos)
{
	struct centry *e;

	if (pos == 0 || pos > c->cap)
		return NULL;
	e = c->slot[pos - 1];
	if (e == NULL || e == TOMB)
		return NULL;
	c->slot[pos - 1] = TOMB;
	c->tombs++;
	c->used--;
	c->bytes -= entry_size(e->len);
	return e;
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

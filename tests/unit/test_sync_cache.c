/*
 * test_sync_cache.c: syncd's compact state cache: insert, replace with a
 * different size, lookup, delete with tombstones, iteration that neither
 * misses nor repeats while entries are deleted, the send queue, rebuilds,
 * the memory per IPv4 state, the per-table hash secret, room made ahead
 * (cache_reserve), slots whose hash tags match for different states,
 * prefetch hints that change nothing, and rebuilds made a little at a
 * time (lookups, replacements, deletes, walks and clears meanwhile).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cache.h"
#include "sync.h"

static void
mk(struct ct_state *st, uint32_t i)
{
	uint32_t a = htonl(0x0a000000 | (i >> 16)), b = htonl(0x0aff0001);

	memset(st, 0, sizeof(*st));
	st->orig.family = st->reply.family = AF_INET;
	st->orig.proto = st->reply.proto = IPPROTO_TCP;
	memcpy(st->orig.src, &a, 4);
	memcpy(st->orig.dst, &b, 4);
	memcpy(st->reply.src, &b, 4);
	memcpy(st->reply.dst, &a, 4);
	st->orig.sport = st->reply.dport = (uint16_t)(i & 0xffff);
	st->orig.dport = st->reply.sport = 80;
	st->fields = CT_F_TCP | CT_F_TIMEOUT;
	st->timeout = 1000;
	st->tcp_state = 3;
}

static void
test_basic(void **ctx)
{
	struct cache *c = cache_new();
	struct ct_state st, out;
	struct centry *e, *old;
	const uint32_t n = 100000;

	assert_non_null(c);
	for (uint32_t i = 0; i < n; i++) {
		mk(&st, i);
		e = cache_put(c, &st, 10, &old);
		assert_non_null(e);
		assert_null(old);
	}
	assert_int_equal(cache_count(c), n);
	/* Memory per IPv4 TCP state, table included. */
	assert_true(cache_mem(c) / n <= 100);
	mk(&st, 777);
	e = cache_lookup(c, &st);
	assert_non_null(e);
	assert_int_equal(centry_state(e, 20, &out), 0);
	assert_int_equal(out.timeout, 990);
	assert_memory_equal(&out.orig, &st.orig, sizeof(st.orig));
	/* Replace with a bigger encoding (mark + labels). */
	st.fields |= CT_F_MARK | CT_F_LABELS;
	st.mark = 5;
	st.labels[0] = 1;
	e = cache_put(c, &st, 10, &old);
	assert_non_null(old);
	free(old);
	assert_int_equal(cache_count(c), n);
	assert_ptr_equal(cache_lookup(c, &st), e);
	centry_state(e, 10, &out);
	assert_int_equal(out.mark, 5);
	/* Zone is part of the key. */
	st.fields |= CT_F_ZONE;
	st.zone = 4;
	assert_null(cache_lookup(c, &st));
	/* Delete every other one, then iterate: the rest exactly once. */
	for (uint32_t i = 0; i < n; i += 2) {
		mk(&st, i);
		free(cache_del(c, &st));
	}
	assert_int_equal(cache_count(c), n / 2);
	{
		size_t pos = 0, seen = 0;

		while ((e = cache_next(c, &pos)) != NULL) {
			centry_state(e, 10, &out);
			assert_int_equal(out.orig.sport & 1, 1);
			seen++;
			if (seen % 3 == 0)
				cache_del_at(c, pos);
		}
		assert_int_equal(seen, n / 2);
	}
	cache_free(c);
}

static void
test_queue(void **ctx)
{
	struct cache *c = cache_new();
	struct ct_state st;
	struct centry *e, *old;

	for (uint32_t i = 0; i < 5000; i++) {
		mk(&st, i);
		e = cache_put(c, &st, 1, &old);
		assert_int_equal(cache_enqueue(c, e), 0);
		assert_int_equal(cache_enqueue(c, e), 0); /* coalesced */
	}
	assert_int_equal(cache_queued(c), 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		e = cache_dequeue(c);
		assert_non_null(e);
		assert_false(e->flags & CE_QUEUED);
	}
	assert_null(cache_dequeue(c));
	/* Clearing leaves queued entries to the queue as dead ones. */
	mk(&st, 1);
	e = cache_lookup(c, &st);
	cache_enqueue(c, e);
	cache_clear(c);
	assert_int_equal(cache_count(c), 0);
	e = cache_dequeue(c);
	assert_non_null(e);
	assert_true(e->flags & CE_DEAD);
	free(e);
	cache_free(c);
}

/*
 * Each table draws its own hash secret: the same states land in other
 * slots in another table, so where a tuple goes cannot be known (or
 * aimed at) from outside.
 */
static void
test_keyed(void **ctx)
{
	struct cache *a = cache_new(), *b = cache_new();
	struct ct_state st, sa, sb;
	struct centry *e, *f, *old;
	size_t pa = 0, pb = 0, same = 0;

	assert_non_null(a);
	assert_non_null(b);
	for (uint32_t i = 0; i < 64; i++) {
		mk(&st, i);
		assert_non_null(cache_put(a, &st, 1, &old));
		assert_non_null(cache_put(b, &st, 1, &old));
	}
	while ((e = cache_next(a, &pa)) != NULL &&
	    (f = cache_next(b, &pb)) != NULL) {
		assert_int_equal(centry_state(e, 1, &sa), 0);
		assert_int_equal(centry_state(f, 1, &sb), 0);
		same += sa.orig.sport == sb.orig.sport && pa == pb;
	}
	assert_true(same < 64);
	/* Lookups still find every state in both. */
	for (uint32_t i = 0; i < 64; i++) {
		mk(&st, i);
		assert_non_null(cache_lookup(a, &st));
		assert_non_null(cache_lookup(b, &st));
	}
	cache_free(a);
	cache_free(b);
}

/* The entries of c, by iteration. */
static size_t
count_iter(struct cache *c)
{
	size_t pos = 0, n = 0;

	while (cache_next(c, &pos) != NULL)
		n++;
	return n;
}

/*
 * Room made ahead: the states then come without a rebuild (the epoch,
 * which every rebuild changes, stays), in a table of the size growing
 * would have given them; less room than there are states changes
 * nothing, and a larger table keeps every state.
 */
static void
test_reserve(void **ctx)
{
	struct cache *c = cache_new(), *g = cache_new();
	struct ct_state st;
	struct centry *old;
	const uint32_t n = 50000;
	uint64_t ep;

	assert_non_null(c);
	assert_non_null(g);
	assert_int_equal(cache_reserve(c, n), 0);
	ep = cache_epoch(c);
	for (uint32_t i = 0; i < n; i++) {
		mk(&st, i);
		assert_non_null(cache_put(c, &st, 1, &old));
		assert_non_null(cache_put(g, &st, 1, &old));
	}
	assert_int_equal(cache_epoch(c), ep);
	/* g's last rebuild may still be moving: a walk ends it. */
	assert_int_equal(count_iter(g), n);
	assert_int_equal(cache_mem(c), cache_mem(g));
	assert_int_equal(cache_reserve(c, 10), 0);
	assert_int_equal(cache_epoch(c), ep);
	/* Four times the room: rebuilt once, everything still there. */
	assert_int_equal(cache_reserve(c, 4 * n), 0);
	assert_int_equal(cache_epoch(c), ep + 1);
	assert_true(cache_mem(c) > cache_mem(g));
	assert_int_equal(cache_count(c), n);
	assert_int_equal(count_iter(c), n);
	for (uint32_t i = 0; i < n; i++) {
		mk(&st, i);
		assert_non_null(cache_lookup(c, &st));
	}
	mk(&st, n);
	assert_null(cache_lookup(c, &st));
	cache_free(c);
	cache_free(g);
}

/*
 * A slot keeps a few bits of its state's hash beside the entry's
 * address: in a small full table many states share those bits, and
 * lookups, deletes (tombstones) and inserts into tombstones must still
 * tell them apart. Entries are aligned so that the bits are free.
 */
static void
test_tags(void **ctx)
{
	struct cache *c = cache_new();
	struct ct_state st, out;
	struct centry *e, *old;
	const uint32_t n = 700; /* of 1024 slots */

	assert_non_null(c);
	for (int round = 0; round < 4; round++) {
		for (uint32_t i = 0; i < n; i++) {
			mk(&st, i * 7 + (uint32_t)round);
			e = cache_put(c, &st, 1, &old);
			assert_non_null(e);
			assert_null(old);
			assert_int_equal((uintptr_t)e % _Alignof(max_align_t),
			    0);
		}
		assert_int_equal(cache_count(c), n);
		for (uint32_t i = 0; i < n; i++) {
			mk(&st, i * 7 + (uint32_t)round);
			e = cache_lookup(c, &st);
			assert_non_null(e);
			assert_int_equal(centry_state(e, 1, &out), 0);
			assert_int_equal(out.orig.sport, st.orig.sport);
			assert_memory_equal(out.orig.src, st.orig.src, 4);
			mk(&st, i * 7 + (uint32_t)round + 1);
			assert_null(cache_lookup(c, &st));
		}
		/* Leave tombstones for the next round to insert into. */
		for (uint32_t i = 0; i < n; i++) {
			mk(&st, i * 7 + (uint32_t)round);
			e = cache_del(c, &st);
			assert_non_null(e);
			free(e);
			assert_null(cache_del(c, &st));
		}
		assert_int_equal(cache_count(c), 0);
		assert_int_equal(count_iter(c), 0);
	}
	cache_free(c);
}

/*
 * A table that fills as states come is rebuilt a little at a time: the
 * old table is emptied a few slots at every insert and delete, and a
 * state must be found, replaced (also with an encoding of another size)
 * and deleted wherever it is meanwhile. Checked against a plain record
 * of what is in, through rebuilds and a long run of mixed changes; a
 * walk started during a move sees every state once; a table cleared or
 * freed during a move loses nothing to a leak (the sanitizers' runs).
 */
#define MV_KEYS 60000
static void
mv_check(struct cache *c, const uint8_t *in, uint32_t k0, uint32_t k1)
{
	struct ct_state st, out;
	struct centry *e;

	for (uint32_t k = k0; k < k1; k++) {
		mk(&st, k);
		e = cache_lookup(c, &st);
		if (!in[k]) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_int_equal(centry_state(e, 1, &out), 0);
		assert_int_equal(out.orig.sport, st.orig.sport);
		assert_int_equal(out.mark, in[k] == 2 ? 7 : 0);
	}
}

static void
test_move(void **ctx)
{
	struct cache *c = cache_new();
	static uint8_t in[MV_KEYS]; /* 0 out, 1 in, 2 in with a mark */
	struct ct_state st;
	struct centry *e, *old;
	size_t count = 0, moves = 0, pos;
	uint64_t ep;
	uint32_t x = 12345, k;

	assert_non_null(c);
	memset(in, 0, sizeof(in));
	ep = cache_epoch(c);
	for (uint32_t op = 0; op < 400000; op++) {
		x = x * 1103515245u + 12345u;
		k = (x >> 8) % MV_KEYS;
		mk(&st, k);
		switch ((x >> 28) & 3) {
		case 0: /* delete */
			e = cache_del(c, &st);
			assert_true((e != NULL) == (in[k] != 0));
			free(e);
			count -= in[k] != 0;
			in[k] = 0;
			break;
		case 1: /* put with a mark: a larger encoding */
			st.fields |= CT_F_MARK;
			st.mark = 7;
			/* FALLTHROUGH */
		default:
			e = cache_put(c, &st, 1, &old);
			assert_non_null(e);
			assert_true(in[k] != 0 || old == NULL);
			free(old);
			count += in[k] == 0;
			in[k] = (st.fields & CT_F_MARK) ? 2 : 1;
			break;
		}
		assert_int_equal(cache_count(c), count);
		if (cache_epoch(c) != ep) {
			/* A move started: its old table holds most states. */
			moves++;
			ep = cache_epoch(c);
			mv_check(c, in, 0, MV_KEYS);
		} else if (op % 4099 == 0) {
			mv_check(c, in, k,
			    k + 64 < MV_KEYS ? k + 64 : MV_KEYS);
		}
	}
	assert_true(moves >= 5);
	mv_check(c, in, 0, MV_KEYS);
	assert_int_equal(count_iter(c), count);

	cache_free(c);

	/* A walk that starts while a move is under way. */
	c = cache_new();
	assert_non_null(c);
	memset(in, 0, sizeof(in));
	ep = cache_epoch(c);
	for (k = 0; k < MV_KEYS && cache_epoch(c) == ep; k++) {
		mk(&st, k);
		assert_non_null(cache_put(c, &st, 1, &old));
		in[k] = 1;
	}
	assert_true(k < MV_KEYS);
	pos = 0;
	count = 0;
	ep = cache_epoch(c);
	while ((e = cache_next(c, &pos)) != NULL) {
		struct ct_state out;
		uint32_t a;

		assert_int_equal(centry_state(e, 1, &out), 0);
		memcpy(&a, out.orig.src, 4);
		a = (ntohl(a) & 0xffff) << 16 | out.orig.sport;
		assert_true(a < MV_KEYS && in[a] == 1);
		in[a] = 0; /* seen once */
		count++;
	}
	assert_int_equal(count, k);
	assert_int_equal(cache_epoch(c), ep);

	/* Cleared, then freed, in the middle of a move. */
	for (k = 0; k < MV_KEYS && cache_epoch(c) == ep; k++) {
		mk(&st, MV_KEYS + k);
		assert_non_null(cache_put(c, &st, 1, &old));
	}
	cache_clear(c);
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(count_iter(c), 0);
	for (k = 0; k < 3000; k++) {
		mk(&st, k);
		assert_non_null(cache_put(c, &st, 1, &old));
	}
	cache_free(c);
}

/* A prefetch hint, for any bytes at all, changes nothing. */
static void
test_prefetch(void **ctx)
{
	struct cache *c = cache_new();
	struct ct_state st;
	struct centry *e, *old;
	uint8_t junk[64];
	uint64_t ep;

	assert_non_null(c);
	mk(&st, 5);
	e = cache_put(c, &st, 1, &old);
	assert_non_null(e);
	ep = cache_epoch(c);
	cache_prefetch(c, e->rec, e->len);
	cache_prefetch(c, e->rec, 1);
	cache_prefetch(c, e->rec, 0);
	memset(junk, 0xff, sizeof(junk));
	cache_prefetch(c, junk, sizeof(junk));
	memset(junk, 0, sizeof(junk));
	cache_prefetch(c, junk, sizeof(junk));
	cache_prefetch_state(c, &st);
	mk(&st, 6);
	cache_prefetch_state(c, &st);
	mk(&st, 5);
	assert_int_equal(cache_epoch(c), ep);
	assert_int_equal(cache_count(c), 1);
	assert_ptr_equal(cache_lookup(c, &st), e);
	cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_move),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

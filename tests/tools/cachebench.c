/*
 * cachebench.c: micro-benchmark of syncd's state cache: inserts, hits
 * and misses per CPU second for N IPv4 TCP states (the shapes a firewall's
 * table has: many clients, few servers), best of R rounds; and the slot
 * hash alone over the same keys: the keyed SipHash-2-4 the cache uses
 * beside the unkeyed multiply-xor hash it used before, for comparison;
 * and a bulk to a fresh peer without the network: the sender's bulk
 * stream built from its table (stream.c) and the receiver's handling of
 * each record (engine.c: decode, import policy, its cache, staging
 * queue), CPU time per state on each side; and the sender's share of
 * replicating them as they are created (engine.c's handling of each NEW
 * event, stream.c's live frames).
 * usage: cachebench [N [R [bulk]]]   (default 1000000 states, 3 rounds;
 * "bulk": only the bulk, e.g. under a profiler)
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cache.h"
#include "log.h"
#include "sync.h"
#include "syncd.h"

#ifndef RX_AHEAD
#define RX_AHEAD 8 /* as peer.c looks ahead */
#endif
#ifndef EV_AHEAD
#define EV_AHEAD 8 /* as ct.c looks ahead at kernel events */
#endif

/* A frame body at the default MTU of 1500 over IPv4. */
#define BODY_CAP (1500 - 28 - SYNC_HDRLEN - SYNC_TAGLEN)

/* The cache's former slot hash (fixed seed), for comparison only. */
static uint64_t
hash_unkeyed(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static void
mk(struct ct_state *st, uint32_t i, uint32_t salt)
{
	uint32_t a = htonl(0x0a000000 | (i >> 14)), b;

	b = htonl(0xc6336400 | (salt + (i & 0xff)));
	memset(st, 0, sizeof(*st));
	st->orig.family = st->reply.family = AF_INET;
	st->orig.proto = st->reply.proto = IPPROTO_TCP;
	memcpy(st->orig.src, &a, 4);
	memcpy(st->orig.dst, &b, 4);
	memcpy(st->reply.src, &b, 4);
	memcpy(st->reply.dst, &a, 4);
	st->orig.sport = st->reply.dport = (uint16_t)(1024 + (i & 0x3fff));
	st->orig.dport = st->reply.sport = 443;
	st->fields = CT_F_TCP | CT_F_TIMEOUT;
	st->timeout = 1000;
	st->tcp_state = 3;
}

static double now_s(void);

/* Hashes per CPU second over the states' keys: keyed, unkeyed. */
static void
bench_hash(const struct ct_state *st, uint32_t n, double *keyed,
    double *unkeyed)
{
	uint8_t seed[crypto_shorthash_siphash24_KEYBYTES];
	uint8_t out[crypto_shorthash_siphash24_BYTES], (*keys)[SYNC_KEY_MAX];
	uint64_t acc = 0, h;
	size_t *len;
	double t0;

	if ((keys = calloc(n, sizeof(*keys))) == NULL ||
	    (len = calloc(n, sizeof(*len))) == NULL)
		err(1, "calloc");
	randombytes_buf(seed, sizeof(seed));
	for (uint32_t i = 0; i < n; i++)
		len[i] = sync_key_encode(keys[i], &st[i]);
	t0 = now_s();
	for (int k = 0; k < 10; k++)
		for (uint32_t i = 0; i < n; i++) {
			crypto_shorthash_siphash24(out, keys[i], len[i], seed);
			memcpy(&h, out, sizeof(h));
			acc += h;
		}
	*keyed = 10.0 * n / (now_s() - t0);
	t0 = now_s();
	for (int k = 0; k < 10; k++)
		for (uint32_t i = 0; i < n; i++)
			acc += hash_unkeyed(keys[i], len[i]);
	*unkeyed = 10.0 * n / (now_s() - t0);
	if (acc == 42)
		printf(" "); /* keep the results live */
	free(keys);
	free(len);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A daemon with one peer, as much of it as the engine's receive side
 * and the bulk builder touch. */
static void
fake_syncd(struct syncd *sd, struct peer *p)
{
	memset(sd, 0, sizeof(*sd));
	memset(p, 0, sizeof(*p));
	policy_init(&sd->policy);
	sd->stage_enabled = 1;
	if ((sd->internal = cache_new()) == NULL ||
	    (sd->unsent = cache_new()) == NULL ||
	    (p->ext = cache_new()) == NULL ||
	    (p->unstage = cache_new()) == NULL)
		err(1, "cache_new");
	p->sd = sd;
	snprintf(p->name, sizeof(p->name), "bench");
	sd->peers[0] = p;
	sd->npeers = 1;
}

static void
fake_free(struct syncd *sd, struct peer *p)
{
	struct centry *e;

	while ((e = cache_dequeue(p->ext)) != NULL)
		if (e->flags & (CE_DEAD | CE_DELETED))
			free(e);
	cache_free(sd->internal);
	cache_free(sd->unsent);
	cache_free(p->ext);
	cache_free(p->unstage);
}

/* The sender's bulk stream to pa: frame bodies into bodies (BODY_CAP
 * each, at most maxb), their lengths into blen; returns their number.
 * Apart, so that a profiler can count it alone (callgrind
 * --toggle-collect=bulk_send). */
static size_t __attribute__((noinline))
bulk_send(struct peer *pa, uint8_t *bodies, size_t *blen, size_t maxb)
{
	size_t nb = 0;

	stream_start_bulk(pa, 1, 0);
	while (stream_pending(pa) && nb < maxb) {
		blen[nb] = stream_build_next(pa, bodies + nb * BODY_CAP,
		    BODY_CAP);
		nb++;
	}
	return nb;
}

/* The receiver's handling of the records of those bodies, as peer.c's
 * process_body hands them to the engine. */
static void __attribute__((noinline)) bulk_receive(struct peer *pb,
    const uint8_t *bodies, const size_t *blen, size_t nb)
{
	struct rd b, v, ahead, w;
	uint64_t now;
	uint8_t type, t;

	for (size_t i = 0; i < nb; i++) {
		rd_init(&b, bodies + i * BODY_CAP, blen[i]);
		now = ev_now_ns();
		ahead = b;
		for (int k = 0; k < RX_AHEAD; k++)
			if (sync_rec_next(&ahead, &t, &w) == 1)
				engine_rx_prefetch(pb, t, &w);
		while (sync_rec_next(&b, &type, &v) == 1) {
			if (RX_AHEAD > 0 && sync_rec_next(&ahead, &t, &w) == 1)
				engine_rx_prefetch(pb, t, &w);
			/* What peer.c handles itself. */
			if (type == SYNC_R_BULK_BEGIN)
				engine_rx_bulk_begin(pb);
			else if (type != SYNC_R_BULK_END)
				engine_rx_record(pb, type, &v, now);
		}
	}
}

/* NEW events of n states as ct.c hands them to the engine (with its
 * hints EV_AHEAD events ahead), the live frames built every 64 events
 * (as the loop would). */
static void __attribute__((noinline)) live_send(struct syncd *sd,
    const struct ct_state *st, uint32_t n, uint8_t *body)
{
	uint32_t sent = 0, k;

	for (uint32_t i = 0; i < EV_AHEAD && i < n; i++)
		engine_own_hint(sd, &st[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (EV_AHEAD > 0 && i + EV_AHEAD < n)
			engine_own_hint(sd, &st[i + EV_AHEAD]);
		engine_own_state(sd, CT_EV_NEW, &st[i]);
		if ((i & 63) != 63 && i + 1 != n)
			continue;
		while (stream_build_live(sd, body, BODY_CAP, &k) > 0)
			sent += k;
	}
	if (sent != n)
		errx(1, "live: %u states sent of %u", sent, n);
}

/* The sender's CPU ns per state replicating n new states. */
static double
bench_live(const struct ct_state *st, uint32_t n, int rounds)
{
	static uint8_t body[BODY_CAP];
	struct syncd sd;
	struct peer p;
	double t0, t, best = 0;

	for (int k = 0; k < rounds; k++) {
		fake_syncd(&sd, &p);
		p.alive = 1;
		t0 = now_s();
		live_send(&sd, st, n, body);
		t = (now_s() - t0) * 1e9 / n;
		best = best == 0 || t < best ? t : best;
		fake_free(&sd, &p);
	}
	return best;
}

/*
 * A bulk of the n states to a fresh peer, best of rounds: the sender's
 * frame bodies as stream_build_next makes them (tx, CPU ns per state)
 * and the receiver's handling of their records (rx).
 */
static void
bench_bulk(const struct ct_state *st, uint32_t n, int rounds, double *tx,
    double *rx)
{
	struct syncd sa, sb;
	struct peer pa, pb;
	struct centry *old;
	uint8_t *bodies;
	size_t *blen, nb, maxb = (size_t)n / 8 + 16;
	double t0, t;

	if ((bodies = malloc(maxb * BODY_CAP)) == NULL ||
	    (blen = calloc(maxb, sizeof(*blen))) == NULL)
		err(1, "malloc");
	fake_syncd(&sa, &pa);
	for (uint32_t i = 0; i < n; i++) {
		if (cache_put(sa.internal, &st[i], 10, &old) == NULL)
			err(1, "cache_put");
		free(old);
	}
	*tx = *rx = 0;
	for (int k = 0; k < rounds; k++) {
		t0 = now_s();
		nb = bulk_send(&pa, bodies, blen, maxb);
		t = (now_s() - t0) * 1e9 / n;
		*tx = *tx == 0 || t < *tx ? t : *tx;
		fake_syncd(&sb, &pb);
		pb.peer_internal = n; /* its HELLO */
		t0 = now_s();
		bulk_receive(&pb, bodies, blen, nb);
		t = (now_s() - t0) * 1e9 / n;
		*rx = *rx == 0 || t < *rx ? t : *rx;
		if (cache_count(pb.ext) != n || cache_queued(pb.ext) != n)
			errx(1, "bulk: %zu states received, %zu queued, of %u",
			    cache_count(pb.ext), cache_queued(pb.ext), n);
		fake_free(&sb, &pb);
	}
	fake_free(&sa, &pa);
	free(bodies);
	free(blen);
}

int
main(int argc, char *argv[])
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	int bulk_only = argc > 3 && strcmp(argv[3], "bulk") == 0;
	double best_put = 0, best_hit = 0, best_miss = 0, t0, r, hk, hu, tx,
	       rx;
	struct ct_state *st;
	struct centry *old;
	size_t found = 0;

	if (sodium_init() < 0)
		errx(1, "sodium_init");
	log_init("cachebench", 0, 0);
	if (n == 0 || rounds <= 0)
		errx(2, "usage: cachebench [N [R [bulk]]]");
	if ((st = calloc(n, sizeof(*st))) == NULL)
		err(1, "calloc");
	for (uint32_t i = 0; i < n; i++)
		mk(&st[i], i, 0);
	if (bulk_only)
		goto bulk;
	for (int k = 0; k < rounds; k++) {
		struct cache *c = cache_new();

		if (c == NULL)
			err(1, "cache_new");
		t0 = now_s();
		for (uint32_t i = 0; i < n; i++) {
			if (cache_put(c, &st[i], 10, &old) == NULL)
				err(1, "cache_put");
			free(old);
		}
		r = n / (now_s() - t0);
		best_put = r > best_put ? r : best_put;
		t0 = now_s();
		for (uint32_t i = 0; i < n; i++)
			found += cache_lookup(c, &st[i]) != NULL;
		r = n / (now_s() - t0);
		best_hit = r > best_hit ? r : best_hit;
		/* Misses: another server range. */
		for (uint32_t i = 0; i < n; i++)
			st[i].orig.dst[3] ^= 0x80;
		t0 = now_s();
		for (uint32_t i = 0; i < n; i++)
			found += cache_lookup(c, &st[i]) != NULL;
		r = n / (now_s() - t0);
		best_miss = r > best_miss ? r : best_miss;
		for (uint32_t i = 0; i < n; i++)
			st[i].orig.dst[3] ^= 0x80;
		cache_free(c);
	}
	if (found != (size_t)n * (size_t)rounds)
		errx(1, "lookups found %zu, expected %zu", found,
		    (size_t)n * (size_t)rounds);
	printf("cache %u states, best of %d: insert %.2f M/s, lookup hit "
	       "%.2f M/s, lookup miss %.2f M/s\n",
	    n, rounds, best_put / 1e6, best_hit / 1e6, best_miss / 1e6);
	bench_hash(st, n < 100000 ? n : 100000, &hk, &hu);
	printf("slot hash of an IPv4 key: keyed SipHash-2-4 %.1f ns, "
	       "unkeyed (former) %.1f ns\n",
	    1e9 / hk, 1e9 / hu);
bulk:
	bench_bulk(st, n, rounds, &tx, &rx);
	printf("bulk of %u states to a fresh peer, best of %d: sender %.0f "
	       "ns/state, receiver %.0f ns/state (CPU)\n",
	    n, rounds, tx, rx);
	printf("replication of %u new states, best of %d: sender %.0f "
	       "ns/state (CPU; the engine and live frames, no netlink)\n",
	    n, rounds, bench_live(st, n, rounds));
	free(st);
	return 0;
}

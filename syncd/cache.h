/*
 * cache.h: syncd's state caches: an open-addressing hash of compact
 * entries, each holding the state's wire encoding, plus a send queue.
 */
#ifndef SYNCD_CACHE_H
#define SYNCD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sync_state.h"

/* Entry flags. */
#define CE_QUEUED  0x01 /* in the send queue */
#define CE_SENT	   0x02 /* peers have been told about it */
#define CE_DELETED 0x04 /* removed: the queue sends a DELETE */
#define CE_DEAD	   0x08 /* replaced: the queue frees it */
#define CE_STAGED  0x10 /* external: in the kernel as sent */
#define CE_INKERNEL                                                           \
	0x20 /* external: a staged copy is in the kernel
				 * (maybe older: CE_STAGED clear) */

/* chg: what changed since the last send (SYNC_U_*), CHG_FULL for any
 * other field. */
#define CHG_FULL 0x80

struct centry {
	uint32_t expire; /* monotonic seconds, 0 = none */
	uint8_t flags;
	uint8_t chg;
	uint8_t gen; /* bulk generation */
	uint8_t len;
	uint8_t rec[]; /* STATE value, no timeout */
};

struct cache;

struct cache *cache_new(void);
void cache_free(struct cache *);
size_t cache_count(const struct cache *);
size_t cache_mem(const struct cache *); /* bytes */
/* Number of table rebuilds so far (iteration cursors restart). */
uint64_t cache_epoch(const struct cache *);

/* Room for n entries without a rebuild (at once, not as they come);
 * -1 on ENOMEM. The caller bounds n. */
int cache_reserve(struct cache *, size_t n);

/* A hint: the slot of the state whose STATE value (key first) is val
 * will be wanted soon; it is fetched into the CPU cache meanwhile. */
void cache_prefetch(const struct cache *, const uint8_t *val, size_t len);
/* The same for a state (only its key fields are read). */
void cache_prefetch_state(const struct cache *, const struct ct_state *);

struct centry *cache_lookup(struct cache *, const struct ct_state *);
/* Insert or replace. *old gets the replaced entry, if its storage could
 * not be reused: the caller owns it (free or hand it to the queue as
 * CE_DEAD). Returns the entry now in the table, NULL on ENOMEM. */
struct centry *cache_put(struct cache *, const struct ct_state *, uint32_t now,
    struct centry **old);
/* Remove; returns the entry (caller owns it) or NULL. */
struct centry *cache_del(struct cache *, const struct ct_state *);
/* Empty the table; entries are freed unless queued (then marked
 * CE_DEAD and left to the queue). */
void cache_clear(struct cache *);
/* Iterate: *pos starts at 0; NULL at the end. */
struct centry *cache_next(struct cache *, size_t *pos);
/* Remove the entry at the slot before *pos (the last one returned). */
void cache_del_at(struct cache *, size_t pos);

/* Like cache_del_at, but hand the entry to the caller. */
struct centry *cache_take_at(struct cache *, size_t pos);
/* Exchange the contents of two caches (both epochs change). */
void cache_swap(struct cache *, struct cache *);

/* Decode an entry into a state, with the remaining timeout. */
int centry_state(const struct centry *, uint32_t now, struct ct_state *);

/* Send queue (FIFO of entries). */
int cache_enqueue(struct cache *, struct centry *);
struct centry *cache_dequeue(struct cache *);
struct centry *cache_peek(struct cache *);
size_t cache_queued(const struct cache *);

#endif

/*
 * localaddr.h: this node's addresses and conntrack helpers, kept current
 * in the loop (rtnetlink address events, a slow refresh) for the send
 * filter and the import policy.
 */
#ifndef SYNCD_LOCALADDR_H
#define SYNCD_LOCALADDR_H

#include <stdint.h>

#include "ev.h"
#include "policy.h"

struct localaddr;

/* Fill *local and *helpers now and keep them current; NULL on error
 * (errno). */
struct localaddr *
localaddr_open(struct ev_loop *, struct pol_local *, struct pol_helpers *);
void localaddr_close(struct localaddr *);
uint64_t localaddr_refreshes(const struct localaddr *);

#endif

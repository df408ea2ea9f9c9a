/*
 * localaddr.c: this node's addresses and conntrack helpers, which the
 * send filter and the import policy consult, kept current: address
 * events on an rtnetlink socket make it re-read the addresses soon
 * (events coalesced), and a slow timer re-reads both anyway (a lost
 * event, a helper module loaded later).
 */
#include <stdlib.h>
#include <string.h>

#include "localaddr.h"
#include "log.h"
#include "nl.h"

#define LOCAL_SETTLE_NS	 (50 * 1000000ULL)
#define LOCAL_REFRESH_NS (30 * 1000000000ULL)
#define LOCAL_SYSMOD	 "/sys/module"

struct localaddr {
	struct nl_sock *nl;
	struct ev_loop *loop;
	struct ev_timer *timer;
	struct pol_local *local;
	struct pol_helpers *helpers;
	uint64_t refreshes;
};

static void
localaddr_refresh(struct localaddr *la)
{
	size_t nh = la->helpers->n;

	if (pol_local_scan(la->local) == -1)
		log_warn("%s: reading this node's addresses", __func__);
	pol_helpers_scan(la->helpers, LOCAL_SYSMOD);
	if (la->helpers->n != nh)
		log_info("conntrack helpers here: %zu", la->helpers->n);
	la->refreshes++;
}

static void
localaddr_timer(struct ev_timer *t, void *arg)
{
	struct localaddr *la = arg;

	localaddr_refresh(la);
	ev_timer_arm(t, LOCAL_REFRESH_NS);
}

static void
localaddr_event(const struct nl_event *e, void *arg)
{
	struct localaddr *la = arg;

	if (e->type != NL_EV_ADDR_NEW && e->type != NL_EV_ADDR_DEL)
		return;
	/* Several addresses change at once (carpd's takeover): read once. */
	if (ev_timer_when(la->timer) > ev_now_ns() + LOCAL_SETTLE_NS)
		ev_timer_arm(la->timer, LOCAL_SETTLE_NS);
}

static void
localaddr_readable(int fd, int events, void *arg)
{
	struct localaddr *la = arg;

	/* Lost events: read the whole set again soon. */
	if (nl_read_events(la->nl, localaddr_event, la) < 0)
		ev_timer_arm(la->timer, LOCAL_SETTLE_NS);
}

struct localaddr *
localaddr_open(struct ev_loop *loop, struct pol_local *local,
    struct pol_helpers *helpers)
{
	struct localaddr *la;

	if ((la = calloc(1, sizeof(*la))) == NULL)
		return NULL;
	la->loop = loop;
	la->local = local;
	la->helpers = helpers;
	if ((la->timer = ev_timer_new(loop, localaddr_timer, la)) == NULL)
		goto fail;
	/* Subscribed before the first read: no change falls between. */
	if ((la->nl = nl_open(1)) == NULL ||
	    ev_fd_add(loop, nl_fd(la->nl), EV_READ, localaddr_readable, la) ==
		-1)
		goto fail;
	localaddr_refresh(la);
	ev_timer_arm(la->timer, LOCAL_REFRESH_NS);
	return la;
fail:
	localaddr_close(la);
	return NULL;
}

void
localaddr_close(struct localaddr *la)
{
	if (la == NULL)
		return;
	if (la->nl != NULL) {
		ev_fd_del(la->loop, nl_fd(la->nl));
		nl_close(la->nl);
	}
	ev_timer_free(la->timer);
	free(la);
}

uint64_t
localaddr_refreshes(const struct localaddr *la)
{
	return la != NULL ? la->refreshes : 0;
}

/*
 * nl.h: rtnetlink helpers over libmnl: addresses, links, link and address
 * events. Requests are synchronous (they wait for the kernel's ACK, which is
 * immediate); events arrive on a separate socket registered in the loop.
 */
#ifndef COMMON_NL_H
#define COMMON_NL_H

#include <net/if.h>
#include <stdint.h>

#include "addr.h"

struct nl_sock;

struct nl_link {
	int ifindex;
	char name[IF_NAMESIZE];
	unsigned int flags; /* IFF_* */
	int running;	    /* IFF_UP and IFF_RUNNING/LOWER_UP */
	uint8_t mac[6];
	int mtu;
};

enum nl_event_type {
	NL_EV_LINK, /* link new/changed */
	NL_EV_LINK_DEL,
	NL_EV_ADDR_NEW,
	NL_EV_ADDR_DEL,
};

struct nl_event {
	enum nl_event_type type;
	int ifindex;
	struct nl_link link; /* for NL_EV_LINK* */
	struct addr addr;    /* for NL_EV_ADDR_* */
	int plen;
};

typedef void (*nl_event_cb)(const struct nl_event *, void *arg);

/* A request socket (groups 0) or an event socket subscribed to link and
 * IPv4/IPv6 address groups. NULL on error (errno). */
struct nl_sock *nl_open(int events);
void nl_close(struct nl_sock *);
int nl_fd(struct nl_sock *);
/* Read and dispatch all pending events (non-blocking). Returns the events
 * dispatched, -1 on error, or NL_EVENTS_LOST when the kernel dropped
 * events (ENOBUFS): the caller then re-reads the state. */
#define NL_EVENTS_LOST (-2)
int nl_read_events(struct nl_sock *, nl_event_cb, void *arg);

/* Requests; 0 or -errno. */
int nl_link_get(struct nl_sock *, int ifindex, struct nl_link *);
int nl_link_by_name(struct nl_sock *, const char *, struct nl_link *);
int nl_link_set_up(struct nl_sock *, int ifindex, int up);
/* macvlan with a fixed MAC (mode: "private", "bridge", "vepa",
 * "passthru"); returns the new ifindex (> 0) or -errno. */
int nl_macvlan_add(struct nl_sock *, int parent, const char *name,
    const uint8_t mac[6], const char *mode);
int nl_link_del(struct nl_sock *, int ifindex);
/* A dummy link (for tests); returns the new ifindex (> 0) or -errno. */
int nl_dummy_add(struct nl_sock *, const char *name);
/* A veth pair name <-> peer; returns the ifindex of name or -errno. */
int nl_veth_add(struct nl_sock *, const char *name, const char *peer);
/* Address add/remove. flags: NL_ADDR_NODAD, NL_ADDR_REPLACE. Adding an
 * existing address with NL_ADDR_REPLACE succeeds. */
#define NL_ADDR_NODAD	0x1
#define NL_ADDR_REPLACE 0x2
int nl_addr_add(struct nl_sock *, int ifindex, const struct addr *, int plen,
    int flags);
int nl_addr_del(struct nl_sock *, int ifindex, const struct addr *, int plen);
/* Does ifindex carry this address? 1 yes, 0 no, -errno. */
int nl_addr_has(struct nl_sock *, int ifindex, const struct addr *);
/* First address of a family on ifindex (IPv6: link-local if ll != 0,
 * global otherwise). 0 or -errno (-ENOENT when none). */
int nl_addr_first(struct nl_sock *, int ifindex, int family, int ll,
    struct addr *out);

#endif

/*
 * nl.c: rtnetlink over libmnl: link and address queries and changes
 * (synchronous, bounded by a receive timeout) and the event socket.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

#define NL_BUFSIZE    65536
#define NL_EVRCVBUF   (4 << 20)
#define NL_TIMEOUT_MS 2000
#define NL_EVBATCH    64 /* datagrams per nl_read_events call */

struct nl_sock {
	struct mnl_socket *mnl;
	unsigned int portid;
	uint32_t seq;
	int events;
	char *buf;
};

struct nl_sock *
nl_open(int events)
{
	struct nl_sock *ns;
	unsigned int groups = 0;
	int sz = NL_EVRCVBUF, one = 1, saved;
	int fd;

	if ((ns = calloc(1, sizeof(*ns))) == NULL)
		return NULL;
	/* Zeroed: attribute padding of requests is sent as it is. */
	if ((ns->buf = calloc(1, NL_BUFSIZE)) == NULL)
		goto fail;
	ns->mnl = mnl_socket_open2(NETLINK_ROUTE,
	    SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (ns->mnl == NULL)
		goto fail;
	fd = mnl_socket_get_fd(ns->mnl);
	ns->events = events;
	if (events) {
		groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
		/* Root may exceed rmem_max; others get what they get. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
			sizeof(sz)) == -1)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	} else {
		/* Acks without the echoed request. */
		mnl_socket_setsockopt(ns->mnl, NETLINK_CAP_ACK, &one,
		    sizeof(one));
	}
	if (mnl_socket_bind(ns->mnl, groups, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	ns->portid = mnl_socket_get_portid(ns->mnl);
	ns->seq = (uint32_t)time(NULL);
	return ns;
fail:
	saved = errno;
	nl_close(ns);
	errno = saved;
	return NULL;
}

void
nl_close(struct nl_sock *ns)
{
	if (ns == NULL)
		return;
	if (ns->mnl != NULL)
		mnl_socket_close(ns->mnl);
	free(ns->buf);
	free(ns);
}

int
nl_fd(struct nl_sock *ns)
{
	return mnl_socket_get_fd(ns->mnl);
}

/* Attribute table filler for mnl_attr_parse. */
struct nl_attrs {
	const struct nlattr
	    *tb[IFLA_MAX > IFA_MAX ? IFLA_MAX + 1 : IFA_MAX + 1];
	int max;
};

static int
nl_attr_cb(const struct nlattr *a, void *data)
{
	struct nl_attrs *at = data;
	int type = mnl_attr_get_type(a);

	if (type <= at->max)
		at->tb[type] = a;
	return MNL_CB_OK;
}

/* The fixed header (hdrlen bytes) of a message, its attributes indexed in
 * at (up to max); NULL when the message is short or malformed. */
static const void *
nl_msg_attrs(const struct nlmsghdr *nlh, size_t hdrlen, int max,
    struct nl_attrs *at)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(hdrlen))
		return NULL;
	memset(at, 0, sizeof(*at));
	at->max = max;
	if (mnl_attr_parse(nlh, (unsigned int)hdrlen, nl_attr_cb, at) < 0)
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

static int
nl_parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct ifinfomsg *ifi;
	struct nl_attrs at;
	const char *name;
	size_t n;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)))
		memset(l, 0, sizeof(*l));
	if ((ifi = nl_msg_attrs(nlh, sizeof(*ifi), IFLA_MAX, &at)) == NULL)
		return -1;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->running = (l->flags & IFF_UP) &&
	    (l->flags & (IFF_RUNNING | IFF_LOWER_UP));
	if (at.tb[IFLA_IFNAME] != NULL) {
		name = mnl_attr_get_payload(at.tb[IFLA_IFNAME]);
		n = strnlen(name,
		    mnl_attr_get_payload_len(at.tb[IFLA_IFNAME]));
		if (n >= sizeof(l->name))
			n = sizeof(l->name) - 1;
		memcpy(l->name, name, n);
	}
	if (at.tb[IFLA_ADDRESS] != NULL &&
	    mnl_attr_get_payload_len(at.tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(at.tb[IFLA_ADDRESS]), 6);
	if (at.tb[IFLA_MTU] != NULL &&
	    mnl_attr_get_payload_len(at.tb[IFLA_MTU]) == 4)
		l->mtu = (int)mnl_attr_get_u32(at.tb[IFLA_MTU]);
	return 0;
}

/* One address message: ifindex, address, plen and flags. */
struct nl_ifaddr {
	int ifindex;
	struct addr addr;
	int plen;
	uint32_t flags;
};

static int
nl_parse_addr(const struct nlmsghdr *nlh, struct nl_ifaddr *ia)
{
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	struct nl_attrs at;
	size_t alen;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifa)))
		memset(ia, 0, sizeof(*ia));
	if ((ifa = nl_msg_attrs(nlh, sizeof(*ifa), IFA_MAX, &at)) == NULL)
		return -1;
	if (ifa->ifa_family == AF_INET) {
		alen = 4;
		/* IFA_LOCAL is the address; IFA_ADDRESS the peer on ptp. */
		a = at.tb[IFA_LOCAL] ? at.tb[IFA_LOCAL] : at.tb[IFA_ADDRESS];
	} else if (ifa->ifa_family == AF_INET6) {
		alen = 16;
		a = at.tb[IFA_ADDRESS] ? at.tb[IFA_ADDRESS] : at.tb[IFA_LOCAL];
	} else
		return -1;
	if (a == NULL || mnl_attr_get_payload_len(a) != alen)
		return -1;
	ia->addr.family = ifa->ifa_family;
	memcpy(ia->addr.b, mnl_attr_get_payload(a), alen);
	ia->ifindex = (int)ifa->ifa_index;
	ia->plen = ifa->ifa_prefixlen;
	ia->flags = ifa->ifa_flags;
	if (at.tb[IFA_FLAGS] != NULL &&
	    mnl_attr_get_payload_len(at.tb[IFA_FLAGS]) == 4)
		ia->flags = mnl_attr_get_u32(at.tb[IFA_FLAGS]);
	return 0;
}

/* Event dispatch. */
struct nl_evctx {
	nl_event_cb cb;
	void *arg;
	int n;
};

static int
nl_event_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nl_evctx *ctx = data;
	struct nl_event ev;
	struct nl_ifaddr ia;

	memset(&ev, 0, sizeof(ev));
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (nl_parse_link(nlh, &ev.link) == -1)
			return MNL_CB_OK;
		ev.type = nlh->nlmsg_type == RTM_NEWLINK ?
		    NL_EV_LINK :
		    NL_EV_LINK_DEL;
		ev.ifindex = ev.link.ifindex;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (nl_parse_addr(nlh, &ia) == -1)
			return MNL_CB_OK;
		ev.type = nlh->nlmsg_type == RTM_NEWADDR ?
		    NL_EV_ADDR_NEW :
		    NL_EV_ADDR_DEL;
		ev.ifindex = ia.ifindex;
		ev.addr = ia.addr;
		ev.plen = ia.plen;
		break;
	default:
		return MNL_CB_OK;
	}
	ctx->n++;
	ctx->cb(&ev, ctx->arg);
	return MNL_CB_OK;
}

int
nl_read_events(struct nl_sock *ns, nl_event_cb cb, void *arg)
{
	struct nl_evctx ctx = { cb, arg, 0 };
	ssize_t n;

	for (int i = 0; i < NL_EVBATCH; i++) {
		n = recv(nl_fd(ns), ns->buf, NL_BUFSIZE, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS)
				return NL_EVENTS_LOST;
			return -1;
		}
		if (n == 0)
			break;
		/* Multicast: no sequence or port id to check. */
		if (mnl_cb_run(ns->buf, (size_t)n, 0, 0, nl_event_msg, &ctx) ==
			-1 &&
		    errno != ENOENT)
			log_debug("%s: malformed netlink message", __func__);
	}
	return ctx.n;
}

/*
 * Send one request and run cb over the answers until the kernel's ACK,
 * error or end of dump. Returns 0 or -errno (-ETIMEDOUT when the kernel
 * stays silent for NL_TIMEOUT_MS).
 */
static int
nl_talk(struct nl_sock *ns, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct pollfd pfd;
	uint64_t deadline;
	struct timespec ts;
	ssize_t n;
	int fd = nl_fd(ns), i, ms, rv;

	if (ns->events)
		return -EINVAL;
	/* Drop late answers to an earlier request that timed out. */
	for (i = 0; i < 64; i++)
		if (recv(fd, ns->buf, NL_BUFSIZE, MSG_DONTWAIT) <= 0)
			break;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++ns->seq;
	if (mnl_socket_sendto(ns->mnl, nlh, nlh->nlmsg_len) == -1)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000 + NL_TIMEOUT_MS;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ms = (int)(deadline -
		    ((uint64_t)ts.tv_sec * 1000 +
			(uint64_t)ts.tv_nsec / 1000000));
		if (ms <= 0)
			return -ETIMEDOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, ms)) == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (rv == 0)
			return -ETIMEDOUT;
		n = recv(fd, ns->buf, NL_BUFSIZE, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		rv = mnl_cb_run(ns->buf, (size_t)n, nlh->nlmsg_seq, ns->portid,
		    cb, data);
		if (rv == -1)
			return errno ? -errno : -EIO;
		if (rv <= MNL_CB_STOP)
			return 0;
	}
}

static int
nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link *l = data;

	if (nlh->nlmsg_type == RTM_NEWLINK && nl_parse_link(nlh, l) == 0)
		return MNL_CB_OK;
	return MNL_CB_OK;
}

/* A new request in the socket's buffer. */
static struct nlmsghdr *
nl_msg_start(struct nl_sock *ns, int type, int flags)
{
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(ns->buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	return nlh;
}

static struct nlmsghdr *
nl_link_msg(struct nl_sock *ns, int type, int flags, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = nl_msg_start(ns, type, flags);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int
nl_link_get(struct nl_sock *ns, int ifindex, struct nl_link *l)
{
	int rv;

	if (ifindex <= 0)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	rv = nl_talk(ns, nl_link_msg(ns, RTM_GETLINK, 0, ifindex), nl_link_cb,
	    l);
	if (rv == 0 && l->ifindex == 0)
		rv = -ENODEV;
	return rv;
}

int
nl_link_by_name(struct nl_sock *ns, const char *name, struct nl_link *l)
{
	struct nlmsghdr *nlh;
	int rv;

	if (name == NULL || *name == '\0' || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	nlh = nl_link_msg(ns, RTM_GETLINK, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	rv = nl_talk(ns, nlh, nl_link_cb, l);
	if (rv == 0 && l->ifindex == 0)
		rv = -ENODEV;
	return rv;
}

int
nl_link_set_up(struct nl_sock *ns, int ifindex, int up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = nl_link_msg(ns, RTM_NEWLINK, 0, ifindex);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(ns, nlh, NULL, NULL);
}

static int
nl_name_ok(const char *name)
{
	return name != NULL && *name != '\0' && strlen(name) < IF_NAMESIZE;
}

/* The start of a request that creates the link name. */
static struct nlmsghdr *
nl_newlink_msg(struct nl_sock *ns, const char *name)
{
	struct nlmsghdr *nlh;

	nlh = nl_link_msg(ns, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

/* Send a creation request; the new link's ifindex or -errno. */
static int
nl_newlink_talk(struct nl_sock *ns, struct nlmsghdr *nlh, const char *name)
{
	struct nl_link l;
	int rv;

	if ((rv = nl_talk(ns, nlh, NULL, NULL)) != 0)
		return rv;
	if ((rv = nl_link_by_name(ns, name, &l)) != 0)
		return rv;
	return l.ifindex;
}

/* Create a link of the given kind; returns its ifindex or -errno. */
static int
nl_link_create(struct nl_sock *ns, const char *kind, int parent,
    const char *name, const uint8_t *mac, int macvlan_mode)
{
	struct nlmsghdr *nlh;
	struct nlattr *li, *data;

	if (!nl_name_ok(name))
		return -EINVAL;
	nlh = nl_newlink_msg(ns, name);
	if (parent > 0)
		mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent);
	if (mac != NULL)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	if (macvlan_mode > 0) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE,
		    (uint32_t)macvlan_mode);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, li);
	return nl_newlink_talk(ns, nlh, name);
}

int
nl_macvlan_add(struct nl_sock *ns, int parent, const char *name,
    const uint8_t mac[6], const char *mode)
{
	static const struct {
		const char *name;
		int mode;
	} modes[] = {
		{ "private", MACVLAN_MODE_PRIVATE },
		{ "vepa", MACVLAN_MODE_VEPA },
		{ "bridge", MACVLAN_MODE_BRIDGE },
		{ "passthru", MACVLAN_MODE_PASSTHRU },
	};

	if (parent <= 0)
		return -EINVAL;
	if (mode == NULL)
		mode = "private";
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i].name) == 0)
			return nl_link_create(ns, "macvlan", parent, name, mac,
			    modes[i].mode);
	return -EINVAL;
}

int
nl_dummy_add(struct nl_sock *ns, const char *name)
{
	return nl_link_create(ns, "dummy", 0, name, NULL, 0);
}

int
nl_veth_add(struct nl_sock *ns, const char *name, const char *peer)
{
	struct nlmsghdr *nlh;
	struct nlattr *li, *data, *pa;
	struct ifinfomsg *ifi;

	if (!nl_name_ok(name) || !nl_name_ok(peer))
		return -EINVAL;
	nlh = nl_newlink_msg(ns, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described by an ifinfomsg and its own attributes. */
	pa = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, pa);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nl_newlink_talk(ns, nlh, name);
}

int
nl_link_del(struct nl_sock *ns, int ifindex)
{
	if (ifindex <= 0)
		return -EINVAL;
	return nl_talk(ns, nl_link_msg(ns, RTM_DELLINK, 0, ifindex), NULL,
	    NULL);
}

static struct nlmsghdr *
nl_addr_msg(struct nl_sock *ns, int type, int flags, int ifindex,
    const struct addr *a, int plen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = nl_msg_start(ns, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	if (a->family == AF_INET) {
		mnl_attr_put(nlh, IFA_LOCAL, 4, a->b);
		mnl_attr_put(nlh, IFA_ADDRESS, 4, a->b);
	} else
		mnl_attr_put(nlh, IFA_ADDRESS, 16, a->b);
	return nlh;
}

static int
nl_plen_ok(const struct addr *a, int plen)
{
	if (a->family == AF_INET)
		return plen >= 0 && plen <= 32;
	if (a->family == AF_INET6)
		return plen >= 0 && plen <= 128;
	return 0;
}

int
nl_addr_add(struct nl_sock *ns, int ifindex, const struct addr *a, int plen,
    int flags)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int nf = NLM_F_CREATE;

	if (ifindex <= 0 || !nl_plen_ok(a, plen))
		return -EINVAL;
	nf |= (flags & NL_ADDR_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL;
	nlh = nl_addr_msg(ns, RTM_NEWADDR, nf, ifindex, a, plen);
	if (a->family == AF_INET6 && (flags & NL_ADDR_NODAD)) {
		ifa = mnl_nlmsg_get_payload(nlh);
		ifa->ifa_flags |= IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nl_talk(ns, nlh, NULL, NULL);
}

/* Address dump queries: "is this address there", "first of a kind". */
struct nl_addrq {
	int ifindex;
	int family;
	const struct addr *want; /* NULL: first-of-kind query */
	int ll;
	int found;
	int tentative; /* found only a tentative one */
	struct nl_ifaddr res;
};

static int
nl_addrq_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_addrq *q = data;
	struct nl_ifaddr ia;

	if (nlh->nlmsg_type != RTM_NEWADDR || nl_parse_addr(nlh, &ia) == -1)
		return MNL_CB_OK;
	if (ia.ifindex != q->ifindex || ia.addr.family != q->family)
		return MNL_CB_OK;
	if (q->want != NULL) {
		if (!q->found && addr_cmp(&ia.addr, q->want) == 0) {
			q->found = 1;
			q->res = ia;
		}
		return MNL_CB_OK;
	}
	if (ia.flags & IFA_F_DADFAILED)
		return MNL_CB_OK;
	if (q->family == AF_INET6 && !!addr_is_linklocal(&ia.addr) != !!q->ll)
		return MNL_CB_OK;
	/* Prefer an address that is usable now over a tentative one. */
	if (!q->found || (q->tentative && !(ia.flags & IFA_F_TENTATIVE))) {
		q->found = 1;
		q->tentative = (ia.flags & IFA_F_TENTATIVE) != 0;
		q->res = ia;
	}
	return MNL_CB_OK;
}

static int
nl_addr_query(struct nl_sock *ns, struct nl_addrq *q)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = mnl_nlmsg_put_header(ns->buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)q->family;
	ifa->ifa_index = (uint32_t)q->ifindex;
	return nl_talk(ns, nlh, nl_addrq_cb, q);
}

/* Look a on ifindex up; q tells whether and with which plen. */
static int
nl_addr_find(struct nl_sock *ns, int ifindex, const struct addr *a,
    struct nl_addrq *q)
{
	memset(q, 0, sizeof(*q));
	q->ifindex = ifindex;
	q->family = a->family;
	q->want = a;
	return nl_addr_query(ns, q);
}

int
nl_addr_has(struct nl_sock *ns, int ifindex, const struct addr *a)
{
	struct nl_addrq q;
	int rv;

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	if ((rv = nl_addr_find(ns, ifindex, a, &q)) != 0)
		return rv;
	return q.found;
}

int
nl_addr_first(struct nl_sock *ns, int ifindex, int family, int ll,
    struct addr *out)
{
	struct nl_addrq q;
	int rv;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	memset(&q, 0, sizeof(q));
	q.ifindex = ifindex;
	q.family = family;
	q.ll = ll;
	if ((rv = nl_addr_query(ns, &q)) != 0)
		return rv;
	if (!q.found)
		return -ENOENT;
	*out = q.res.addr;
	return 0;
}

int
nl_addr_del(struct nl_sock *ns, int ifindex, const struct addr *a, int plen)
{
	struct nl_addrq q;
	int rv;

	if (ifindex <= 0 || (a->family != AF_INET && a->family != AF_INET6))
		return -EINVAL;
	if (plen < 0) {
		/* The kernel matches IPv6 addresses by prefix length too. */
		if ((rv = nl_addr_find(ns, ifindex, a, &q)) != 0)
			return rv;
		if (!q.found)
			return -EADDRNOTAVAIL;
		plen = q.res.plen;
	}
	if (!nl_plen_ok(a, plen))
		return -EINVAL;
	return nl_talk(ns, nl_addr_msg(ns, RTM_DELADDR, 0, ifindex, a, plen),
	    NULL, NULL);
}

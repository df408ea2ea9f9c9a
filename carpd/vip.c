/*
 * vip.c: the virtual addresses of a vhid: added and removed with
 * rtnetlink, on the parent interface (real MAC, ucarp style) or on a
 * macvlan carrying the virtual MAC 00:00:5e:00:01:<vhid> (OpenBSD style).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "carpd.h"
#include "frame.h"
#include "log.h"
#include "nl.h"

int
vip_ifindex(const struct vh *v)
{
	return v->vmac ? v->vmac_ifindex : v->ifp->ifindex;
}

static void
sysctl_set(const char *fmt, const char *ifname, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), fmt, ifname);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("open %s", path);
		return;
	}
	if (write(fd, val, strlen(val)) == -1)
		log_warn("write %s", path);
	close(fd);
}

/*
 * The macvlan holds the addresses only while MASTER. The parent must not
 * answer ARP for them with its own MAC: arp_ignore 1 answers only for
 * addresses of the receiving interface, so only the macvlan (with the
 * virtual MAC) does; arp_announce 2 keeps them out of its ARP requests.
 */
int
vip_setup(struct vh *v)
{
	struct nl_link l;
	uint8_t mac[6];
	int r;

	if (!v->vmac)
		return 0;
	snprintf(v->vmac_name, sizeof(v->vmac_name), "carp%u.%d",
	    v->fsm.cfg.vhid, v->ifp->ifindex);
	if (strlen(v->vmac_name) >= IF_NAMESIZE - 1)
		snprintf(v->vmac_name, sizeof(v->vmac_name), "carp%u",
		    v->fsm.cfg.vhid);
	/* Left over from a crash: start clean. */
	if (nl_link_by_name(carpd->nl, v->vmac_name, &l) == 0)
		nl_link_del(carpd->nl, l.ifindex);
	frame_vmac(v->fsm.cfg.vhid, mac);
	r = nl_macvlan_add(carpd->nl, v->ifp->ifindex, v->vmac_name, mac,
	    "bridge");
	if (r < 0) {
		errno = -r;
		log_warn("vhid %u: macvlan %s on %s", v->fsm.cfg.vhid,
		    v->vmac_name, v->ifp->name);
		return -1;
	}
	v->vmac_ifindex = r;
	sysctl_set("/proc/sys/net/ipv4/conf/%s/arp_ignore", v->ifp->name, "1");
	sysctl_set("/proc/sys/net/ipv4/conf/%s/arp_ignore", v->vmac_name, "1");
	/* ... and must not teach the segment the address with its own MAC
	 * when it resolves a neighbour for a reply sourced from it. */
	sysctl_set("/proc/sys/net/ipv4/conf/%s/arp_announce", v->ifp->name,
	    "2");
	if ((r = nl_link_set_up(carpd->nl, v->vmac_ifindex, 1)) < 0) {
		errno = -r;
		log_warn("vhid %u: set %s up", v->fsm.cfg.vhid, v->vmac_name);
	}
	log_info("vhid %u: virtual MAC on %s", v->fsm.cfg.vhid, v->vmac_name);
	return 0;
}

void
vip_teardown(struct vh *v)
{
	if (v->vmac && v->vmac_ifindex > 0) {
		nl_link_del(carpd->nl, v->vmac_ifindex);
		v->vmac_ifindex = 0;
	}
}

/* One address onto the interface: 0, or -1 after logging. */
int
vip_add_one(struct vh *v, struct vaddr *va)
{
	char b[ADDR_STRLEN];
	int r, flags = NL_ADDR_REPLACE;

	if (vip_ifindex(v) <= 0)
		return -1;
	if (va->a.family == AF_INET6)
		flags |= NL_ADDR_NODAD;
	r = nl_addr_add(carpd->nl, vip_ifindex(v), &va->a, va->plen, flags);
	if (r < 0) {
		errno = -r;
		log_warn("vhid %u: add %s", v->fsm.cfg.vhid,
		    addr_fmt(&va->a, va->plen, b, sizeof(b)));
		return -1;
	}
	va->present = 1;
	return 0;
}

/* One address off the interface; one that is not there is no error. */
void
vip_del_one(struct vh *v, struct vaddr *va)
{
	char b[ADDR_STRLEN];
	int r;

	if (vip_ifindex(v) <= 0)
		return;
	va->present = 0;
	r = nl_addr_del(carpd->nl, vip_ifindex(v), &va->a, va->plen);
	if (r < 0 && r != -EADDRNOTAVAIL && r != -ENOENT && r != -ENODEV) {
		errno = -r;
		log_warn("vhid %u: remove %s", v->fsm.cfg.vhid,
		    addr_fmt(&va->a, va->plen, b, sizeof(b)));
	}
}

void
vip_add_all(struct vh *v)
{
	for (int i = 0; i < v->naddrs; i++)
		vip_add_one(v, &v->addrs[i]);
}

void
vip_del_all(struct vh *v)
{
	for (int i = 0; i < v->naddrs; i++)
		vip_del_one(v, &v->addrs[i]);
}

/* Someone removed one of our addresses: put it back while MASTER. */
void
vip_addr_gone(struct vh *v, int ifindex, const struct addr *a)
{
	char b[ADDR_STRLEN];
	int r, flags;

	if (v->fsm.state != CARP_ST_MASTER || ifindex != vip_ifindex(v))
		return;
	for (int i = 0; i < v->naddrs; i++) {
		if (!v->addrs[i].present || addr_cmp(&v->addrs[i].a, a) != 0)
			continue;
		flags = NL_ADDR_REPLACE;
		if (a->family == AF_INET6)
			flags |= NL_ADDR_NODAD;
		r = nl_addr_add(carpd->nl, ifindex, &v->addrs[i].a,
		    v->addrs[i].plen, flags);
		addr_fmt(a, v->addrs[i].plen, b, sizeof(b));
		if (r < 0) {
			errno = -r;
			log_warn("vhid %u: put back %s", v->fsm.cfg.vhid, b);
		} else {
			v->readded++;
			log_warnx("vhid %u: %s was removed while MASTER; put "
				  "it back",
			    v->fsm.cfg.vhid, b);
			net_announce(v);
		}
	}
}

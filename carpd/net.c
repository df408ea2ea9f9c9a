/*
 * net.c: carpd's packet I/O: receive with libpcap (BPF for protocol 112),
 * send advertisements, gratuitous ARP and unsolicited NA as whole frames
 * (proto/frame.c builds them) through the same pcap handle, unicast peers
 * through raw IP sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "carpd.h"
#include "ev.h"
#include "frame.h"
#include "log.h"
#include "util.h"

#define NET_BURST    256 /* packets per wake-up, then the loop */
#define NET_SNAPLEN  512 /* enough for any advertisement */
#define NET_PCAP_BUF (1 << 20)

/* Membership of an IPv4 group on one interface (a second join is no
 * error). */
static void
join4(int fd, int ifindex, const char *ifname, const struct in_addr *grp)
{
	struct ip_mreqn mr;

	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr = *grp;
	mr.imr_ifindex = ifindex;
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) ==
		-1 &&
	    errno != EADDRINUSE)
		log_warn("%s: join group", ifname);
}

/* A vhid added to an interface already open: its group (ucarp -m). */
void
net_join_group(struct iface *ifp, const struct in_addr *grp)
{
	if (ifp->raw4 != -1)
		join4(ifp->raw4, ifp->ifindex, ifp->name, grp);
}

/* A raw socket that never queues what it receives (filter: drop all). */
static int
raw_open(int af, int ifindex, const char *ifname, const struct in_addr *grp)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { 1, &drop };
	int fd, v = CARP_TTL, tos = FRAME_IPTOS_LOWDELAY;

	if ((fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 CARP_PROTO)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		sizeof(prog)) == -1)
		goto fail;
	if (af == AF_INET) {
		struct ip_mreqn mr;

		if (setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)) == -1 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &v,
			sizeof(v)) == -1 ||
		    setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) ==
			-1)
			goto fail;
		/* Membership makes the NIC accept 224.0.0.18. */
		memset(&mr, 0, sizeof(mr));
		inet_pton(AF_INET, CARP_GROUP4, &mr.imr_multiaddr);
		mr.imr_ifindex = ifindex;
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
			sizeof(mr)) == -1)
			log_warn("%s: join %s", ifname, CARP_GROUP4);
		/* Other groups (ucarp -m) of the vhids on this interface. */
		for (; grp != NULL && grp->s_addr != 0; grp++)
			join4(fd, ifindex, ifname, grp);
	} else {
		struct ipv6_mreq mr;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v,
			sizeof(v)) == -1 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v,
			sizeof(v)) == -1)
			goto fail;
		memset(&mr, 0, sizeof(mr));
		inet_pton(AF_INET6, CARP_GROUP6, &mr.ipv6mr_multiaddr);
		mr.ipv6mr_interface = (unsigned int)ifindex;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr,
			sizeof(mr)) == -1)
			log_debug("%s: join %s: %s", ifname, CARP_GROUP6,
			    strerror(errno));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
		(socklen_t)strlen(ifname)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int
net_open(struct iface *ifp, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct in_addr grp[CARPD_MAXVH + 1];
	struct bpf_program prog;
	int n = 0;
	pcap_t *p;

	eb[0] = '\0';
	if ((p = pcap_create(ifp->name, eb)) == NULL) {
		snprintf(err, errlen, "%s: pcap: %s", ifp->name, eb);
		return -1;
	}
	if (pcap_set_snaplen(p, NET_SNAPLEN) != 0 ||
	    pcap_set_immediate_mode(p, 1) != 0 ||
	    pcap_set_buffer_size(p, NET_PCAP_BUF) != 0 ||
	    pcap_activate(p) < 0) {
		snprintf(err, errlen, "%s: pcap: %s (needs CAP_NET_RAW)",
		    ifp->name, pcap_geterr(p));
		goto fail;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "%s: not an Ethernet interface",
		    ifp->name);
		goto fail;
	}
	/* Our own transmissions are not input. */
	(void)pcap_setdirection(p, PCAP_D_IN);
	if (pcap_compile(p, &prog, "ip proto 112 or ip6 proto 112", 1,
		PCAP_NETMASK_UNKNOWN) == -1 ||
	    pcap_setfilter(p, &prog) == -1) {
		snprintf(err, errlen, "%s: pcap filter: %s", ifp->name,
		    pcap_geterr(p));
		goto fail;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(p, 1, eb) == -1 ||
	    (ifp->pcap_fd = pcap_get_selectable_fd(p)) == -1) {
		snprintf(err, errlen, "%s: pcap: no selectable fd", ifp->name);
		goto fail;
	}
	/* libpcap opens it without close-on-exec: scripts must not get it. */
	if (fcntl(ifp->pcap_fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "%s: pcap: close-on-exec: %s", ifp->name,
		    strerror(errno));
		goto fail;
	}
	ifp->pcap = p;
	memset(grp, 0, sizeof(grp));
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp)
			grp[n++] = carpd->vh[i]->mcast4;
	if ((ifp->raw4 = raw_open(AF_INET, ifp->ifindex, ifp->name, grp)) ==
	    -1) {
		snprintf(err, errlen, "%s: raw socket: %s (needs CAP_NET_RAW)",
		    ifp->name, strerror(errno));
		net_close(ifp);
		return -1;
	}
	if ((ifp->raw6 = raw_open(AF_INET6, ifp->ifindex, ifp->name, NULL)) ==
	    -1)
		log_warn("%s: IPv6 raw socket", ifp->name);
	return 0;
fail:
	pcap_close(p);
	return -1;
}

void
net_close(struct iface *ifp)
{
	if (ifp->pcap != NULL)
		pcap_close(ifp->pcap);
	ifp->pcap = NULL;
	ifp->pcap_fd = -1;
	if (ifp->raw4 != -1)
		close(ifp->raw4);
	if (ifp->raw6 != -1)
		close(ifp->raw6);
	ifp->raw4 = ifp->raw6 = -1;
}

static struct vh *
vh_find(const struct iface *ifp, uint8_t vhid)
{
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp &&
		    carpd->vh[i]->fsm.cfg.vhid == vhid)
			return carpd->vh[i];
	return NULL;
}

static int
is_own_src(const struct iface *ifp, const struct vh *v,
    const struct carp_ip *ip)
{
	if (ip->family == AF_INET)
		return (ifp->src4.family == AF_INET &&
			   ifp->src4.v4.s_addr == ip->src.v4.s_addr) ||
		    (v->srcip.family == AF_INET &&
			v->srcip.v4.s_addr == ip->src.v4.s_addr);
	return (ifp->src6.family == AF_INET6 &&
		   memcmp(&ifp->src6.v6, &ip->src.v6, 16) == 0) ||
	    (v->srcip.family == AF_INET6 &&
		memcmp(&v->srcip.v6, &ip->src.v6, 16) == 0);
}

/* One received Ethernet frame: every rejection is counted, a valid
 * advertisement goes to its vhid's state machine. */
void
net_input_frame(struct iface *ifp, const uint8_t *pkt, size_t caplen)
{
	struct carpd_stats *st = &carpd->st;
	struct carp_addrs a;
	struct carp_ip ip;
	struct carp_hdr h;
	struct rd r;
	uint16_t et;
	enum carp_err e;
	struct vh *v;

	rd_init(&r, pkt, caplen);
	if (rd_skip(&r, 2 * FRAME_ALEN) == -1 || rd_u16(&r, &et) == -1)
		goto badlen;
	/* One 802.1Q tag: skip its TCI. */
	if (et == FRAME_ETHERTYPE_VLAN &&
	    (rd_skip(&r, 2) == -1 || rd_u16(&r, &et) == -1))
		goto badlen;
	if (et == FRAME_ETHERTYPE_IP)
		st->ipackets++;
	else if (et == FRAME_ETHERTYPE_IP6)
		st->ipackets6++;
	else {
		st->rej[CARP_E_BADPROTO]++;
		return;
	}
	if ((e = carp_ip_decode(r.p, r.len, &ip)) != CARP_OK) {
		st->rej[e]++;
		return;
	}
	if (ip.family != (et == FRAME_ETHERTYPE_IP ? AF_INET : AF_INET6)) {
		st->rej[CARP_E_BADPROTO]++;
		return;
	}
	if ((e = carp_decode(ip.payload, ip.paylen, &h, 0)) != CARP_OK) {
		st->rej[e]++;
		return;
	}
	if ((v = vh_find(ifp, h.vhid)) == NULL) {
		st->rej[CARP_E_BADVHID]++;
		return;
	}
	if (memcmp(h.counter, v->cookie, sizeof(v->cookie)) == 0 ||
	    is_own_src(ifp, v, &ip)) {
		st->rej[CARP_E_LOOP]++;
		return;
	}
	a.v4 = v->v4;
	a.n4 = v->n4;
	a.v6 = v->v6;
	a.n6 = v->n6;
	if (carp_hmac_verify(v->key, &a, &h) == -1) {
		st->rej[CARP_E_BADAUTH]++;
		v->badauth++;
		return;
	}
	carpd_rx_adv(v, &h, ip.family);
	return;
badlen:
	st->rej[CARP_E_BADLEN]++;
}

static void
input_one(u_char *arg, const struct pcap_pkthdr *ph, const u_char *pkt)
{
	net_input_frame((struct iface *)arg, pkt, ph->caplen);
}

int
net_input(struct iface *ifp)
{
	int n;

	if (ifp->pcap == NULL)
		return -1;
	n = pcap_dispatch(ifp->pcap, NET_BURST, input_one, (u_char *)ifp);
	if (n == PCAP_ERROR) {
		log_warnx("%s: pcap: %s", ifp->name, pcap_geterr(ifp->pcap));
		return -1;
	}
	return 0;
}

static void
src_mac(const struct vh *v, uint8_t mac[FRAME_ALEN])
{
	if (v->vmac)
		frame_vmac(v->fsm.cfg.vhid, mac);
	else
		memcpy(mac, v->ifp->mac, FRAME_ALEN);
}

static void
carp_hdr_fill(const struct vh *v, enum net_ad kind, struct carp_hdr *h)
{
	struct carp_addrs a = { v->v4, v->n4, v->v6, v->n6 };

	memset(h, 0, sizeof(*h));
	h->version = CARP_VERSION;
	h->type = CARP_TYPE_ADV;
	h->vhid = v->fsm.cfg.vhid;
	h->authlen = CARP_AUTHLEN;
	if (kind != NET_AD) {
		h->advbase = CARP_BOWOUT;
		h->advskew = kind == NET_AD_BOWOUT ?
		    CARP_BOWOUT :
		    CARP_RELEASE;
	} else {
		h->advbase = v->fsm.cfg.advbase;
		h->advskew = fsm_wire_advskew(&v->fsm);
	}
	h->demote = fsm_wire_demote(&v->fsm);
	/* A constant per-vhid cookie (OpenBSD): our own looped ads are
	 * recognised by it; nobody checks that counters increase. */
	memcpy(h->counter, v->cookie, sizeof(h->counter));
	carp_hmac(v->key, h->vhid, &a, h->counter, h->md);
}

static int
inject(struct iface *ifp, const uint8_t *frame, size_t len)
{
	if (ifp->pcap == NULL)
		return -1;
	if (pcap_inject(ifp->pcap, frame, len) != (int)len) {
		snprintf(ifp->send_error, sizeof(ifp->send_error), "%s",
		    pcap_geterr(ifp->pcap));
		return -1;
	}
	return 0;
}

static int
send_mcast4(struct vh *v, const uint8_t *carp)
{
	struct iface *ifp = v->ifp;
	struct frame_carp4 f;
	uint8_t buf[FRAME_MAX];
	int len;

	if (v->srcip.family == AF_INET)
		f.src = v->srcip.v4;
	else if (ifp->src4.family == AF_INET)
		f.src = ifp->src4.v4;
	else {
		snprintf(ifp->send_error, sizeof(ifp->send_error),
		    "no IPv4 "
		    "address on the interface (set srcip)");
		return -1;
	}
	f.dst = v->mcast4;
	/* ucarp --nomcast: the same packet to the Ethernet broadcast. */
	if (v->nomcast)
		memcpy(f.dst_mac, frame_bcast_mac, FRAME_ALEN);
	else
		frame_mcast4_mac(f.dst, f.dst_mac);
	src_mac(v, f.src_mac);
	if (getrandom(&f.id, sizeof(f.id), GRND_NONBLOCK) != sizeof(f.id))
		f.id = (uint16_t)ev_now_ns();
	if ((len = frame_carp4_encode(&f, carp, buf, sizeof(buf))) == -1 ||
	    inject(ifp, buf, (size_t)len) == -1)
		return -1;
	carpd->st.opackets++;
	return 0;
}

static int
send_mcast6(struct vh *v, const uint8_t *carp)
{
	struct iface *ifp = v->ifp;
	uint8_t buf[FRAME_MAX], mac[FRAME_ALEN];
	int len;

	if (ifp->src6.family != AF_INET6) {
		snprintf(ifp->send_error, sizeof(ifp->send_error),
		    "no IPv6 "
		    "link-local address on the interface");
		return -1;
	}
	src_mac(v, mac);
	if ((len = frame_carp6_encode(mac, &ifp->src6.v6, carp, buf,
		 sizeof(buf))) == -1 ||
	    inject(ifp, buf, (size_t)len) == -1)
		return -1;
	carpd->st.opackets6++;
	return 0;
}

/* The source address of a unicast advertisement, as one control message
 * in buf (room for CMSG_SPACE(len)). */
static void
put_pktinfo(struct msghdr *msg, uint8_t *buf, int level, int type,
    const void *pi, size_t len)
{
	struct cmsghdr *c;

	msg->msg_control = buf;
	msg->msg_controllen = CMSG_SPACE(len);
	c = CMSG_FIRSTHDR(msg);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), pi, len);
}

static int
send_unicast(struct vh *v, const struct addr *peer, const uint8_t *carp)
{
	struct iface *ifp = v->ifp;
	union {
		struct cmsghdr hdr;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cm;
	struct sockaddr_storage ss;
	struct iovec iov = { (void *)carp, CARP_HDRLEN };
	struct msghdr msg;
	int fd;

	memset(&ss, 0, sizeof(ss));
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_name = &ss;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (peer->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		fd = ifp->raw4;
		sin->sin_family = AF_INET;
		sin->sin_addr = peer->v4;
		msg.msg_namelen = sizeof(*sin);
		if (v->srcip.family == AF_INET) {
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst = v->srcip.v4;
			put_pktinfo(&msg, cm.buf, IPPROTO_IP, IP_PKTINFO, &pi,
			    sizeof(pi));
		}
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		fd = ifp->raw6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = peer->v6;
		if (addr_is_linklocal(peer))
			sin6->sin6_scope_id = (uint32_t)ifp->ifindex;
		msg.msg_namelen = sizeof(*sin6);
		if (v->srcip.family == AF_INET6) {
			struct in6_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi6_addr = v->srcip.v6;
			put_pktinfo(&msg, cm.buf, IPPROTO_IPV6, IPV6_PKTINFO,
			    &pi, sizeof(pi));
		}
	}
	if (fd == -1 || sendmsg(fd, &msg, 0) != CARP_HDRLEN) {
		snprintf(ifp->send_error, sizeof(ifp->send_error),
		    "unicast: %s", fd == -1 ? "no socket" : strerror(errno));
		return -1;
	}
	if (peer->family == AF_INET)
		carpd->st.opackets++;
	else
		carpd->st.opackets6++;
	return 0;
}

int
net_send_ad(struct vh *v, enum net_ad kind)
{
	uint8_t carp[CARP_HDRLEN];
	struct carp_hdr h;
	int sent = 0, failed = 0;

	carp_hdr_fill(v, kind, &h);
	if (carp_encode(&h, carp, sizeof(carp)) == -1)
		return -1;
	if (v->npeers > 0) {
		for (int i = 0; i < v->npeers; i++) {
			if (send_unicast(v, &v->peers[i], carp) == 0)
				sent++;
			else
				failed++;
		}
	} else {
		/* One per address family the vhid uses (like OpenBSD). */
		if (v->n4 > 0 || v->n6 == 0) {
			if (send_mcast4(v, carp) == 0)
				sent++;
			else
				failed++;
		}
		if (v->n6 > 0) {
			if (send_mcast6(v, carp) == 0)
				sent++;
			else
				failed++;
		}
	}
	if (failed) {
		carpd->st.oerrors += (uint64_t)failed;
		if (!v->send_failing) {
			/* Once per episode; the counters tell the rest. */
			log_warnx("vhid %u on %s: advertisement not sent: %s",
			    h.vhid, v->ifp->name, v->ifp->send_error);
			v->send_failing = 1;
		}
	} else if (v->send_failing) {
		log_info("vhid %u on %s: advertisements go out again", h.vhid,
		    v->ifp->name);
		v->send_failing = 0;
	}
	v->tx += (uint64_t)sent;
	carpd_send_result(failed == 0);
	return failed ? -1 : 0;
}

static void
send_garp(struct vh *v, const struct in_addr *ip)
{
	uint8_t buf[FRAME_MAX], mac[FRAME_ALEN];
	int len;

	src_mac(v, mac);
	if ((len = frame_garp_encode(mac, ip, buf, sizeof(buf))) != -1 &&
	    inject(v->ifp, buf, (size_t)len) == 0)
		carpd->st.garps++;
}

static void
send_na(struct vh *v, const struct in6_addr *ip)
{
	uint8_t buf[FRAME_MAX], mac[FRAME_ALEN];
	int len;

	src_mac(v, mac);
	if ((len = frame_na_encode(mac, ip, buf, sizeof(buf))) != -1 &&
	    inject(v->ifp, buf, (size_t)len) == 0)
		carpd->st.nas++;
}

void
net_announce_one(struct vh *v, const struct addr *a)
{
	if (a->family == AF_INET)
		send_garp(v, &a->v4);
	else
		send_na(v, &a->v6);
}

void
net_announce(struct vh *v)
{
	for (int i = 0; i < v->naddrs; i++)
		net_announce_one(v, &v->addrs[i].a);
}

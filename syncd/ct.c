/*
 * ct.c: syncd's ctnetlink sockets: the event listener, dumps driven by
 * the loop, and batched imports/deletes. Message coding is in ct_msg.c.
 *
 * Three netlink sockets:
 * - events: subscribed to the conntrack groups, non-blocking, in the loop,
 *   with a forced large receive buffer; read with recvmmsg() up to a
 *   budget per wakeup. ENOBUFS means events were lost: a re-dump follows,
 *   bracketed by resync_begin/resync_end.
 * - requests: imports and deletes, many messages per sendmsg(); without
 *   NLM_F_ACK the kernel answers only failures, which are read back after
 *   each batch (it handles the whole batch inside sendmsg()). Events caused
 *   by these requests carry this socket's port id; a socket filter on the
 *   event socket drops them in the kernel, so a bulk import cannot overrun
 *   our own listener.
 * - dumps: one NLM_F_DUMP at a time, read by the loop in bounded steps
 *   (the kernel hands out ~32 KiB per read; a 1M table takes seconds).
 *   ct_dump_sync() opens a socket of its own for the time of the dump.
 *   The kernel fills each read by walking the hash table, shared by every
 *   namespace, with softirqs off on that CPU until the read is full: a
 *   namespace with few entries pays a walk of every bucket in one read
 *   (9 ms for 262,144 buckets here), and packets that CPU would forward
 *   wait as long. A namespace whose counter says it has no entry at all
 *   (subscribed first, so whatever comes later is an event) is therefore
 *   not dumped: the loop's dump ends at once, empty.
 *
 * Messages are parsed and built with libmnl directly (ct_msg.c): on the
 * same kernel dump that is about twice as fast as nfct_nlmsg_parse() plus
 * nfct_get_attr() (see tests/tools/ctbench.c), and it keeps the NAT and
 * status rules of the import in one place.
 *
 * NETLINK_NO_ENOBUFS stays 0 so losses are reported. NETLINK_BROADCAST_ERROR
 * is left off: with it a full buffer makes the kernel keep dying entries
 * and retry their DESTROY events, which stalls expiry whenever the daemon
 * is slow; the re-dump on ENOBUFS gives the same end result.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ct.h"
#include "ct_msg.h"
#include "log.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define CT_RX_VLEN	64	     /* datagrams per recvmmsg() */
#define CT_RX_SIZE	8192	     /* bytes per datagram slot */
#define CT_EV_BUDGET	16384	     /* datagrams per wakeup */
#define CT_EV_AHEAD	8	     /* datagrams hinted ahead */
#define CT_EV_HOLD_NS	1000000ULL   /* reads this close: wait as long */
#define CT_DUMP_RX	65536	     /* one dump read */
#define CT_DUMP_BUDGET	32	     /* dump reads per wakeup */
#define CT_DUMP_WAIT_MS 10000	     /* ct_dump_sync: silence = error */
#define CT_BATCH_BYTES	(128 * 1024) /* one sendmsg() */
#define CT_BATCH_MSGS	2048
#define CT_REQ_SNDBUF	(1U << 20)
#define CT_REQ_RCVBUF	(4U << 20)
#define CT_DUMP_RCVBUF	(1U << 20)
#define CT_COUNT_PATH	"/proc/sys/net/netfilter/nf_conntrack_count"

enum ct_dump_mode {
	CT_DUMP_NONE,
	CT_DUMP_ASYNC,
};

/* One dump in progress: the loop's (on h->dmp) or a ct_dump_sync()
 * (on a socket of its own, so that it never waits for the other). */
struct ct_dumpio {
	int fd;
	uint32_t seq;
	int phase;    /* 0 states, 1 expectations */
	uint8_t *buf; /* CT_DUMP_RX */
	void (*cb)(const struct ct_state *, void *);
	void *cbarg; /* cb == NULL: h->cb */
};

struct ct_handle {
	struct ev_loop *loop;
	struct ct_callbacks cb;
	void *arg;
	struct ct_stats st;
	uint32_t seq;

	struct mnl_socket *evs;
	struct mnl_socket *req;
	struct mnl_socket *dmp;
	int evfd;
	int reqfd;
	int dmpfd;
	uint32_t portid;
	int own_filter; /* kernel drops our events */

	struct mmsghdr *mm;
	struct iovec *iov;
	uint8_t *evbuf;

	enum ct_dump_mode dumping;
	struct ct_dumpio adump;
	int dump_resync;
	int resync_pending;
	int resync_open;	/* begin called, end not yet */
	int in_dump_cb;		/* state() called for a dump entry */
	struct ev_timer *retry; /* re-dump could not start */
	struct ev_timer *empty; /* ends a dump of an empty table */
	struct ev_timer *hold;	/* events read again after a pause */
	uint64_t last_read_ns;
	int hold_read; /* this read ends a pause */
	int countfd;   /* this namespace's entry count, or -1 */
	void (*pend_done)(void *, int);
	void *pend_arg;
	void (*dump_done)(void *, int);
	void *dump_arg;
	uint8_t *dbuf;

	uint8_t *sbuf;	/* CT_BATCH_BYTES+CT_MSG_MAX */
	uint8_t *rbuf;	/* CT_RX_SIZE */
	int *errs;	/* CT_BATCH_MSGS */
	size_t *lst[3]; /* CT_BATCH_MSGS each */
	size_t *defer;	/* ct_import: retry at end */
	size_t ndefer, capdefer;
	int first_err;
};

static void ct_ev_readable(int, int, void *);
static void ct_dump_readable(int, int, void *);
static void ct_resync_start(struct ct_handle *);
static void ct_resync_retry(struct ev_timer *, void *);
static void ct_dump_empty(struct ev_timer *, void *);
static void ct_ev_hold_end(struct ev_timer *, void *);
static void ct_ev_hold(struct ct_handle *, int, int);

static void
ct_setbuf(int fd, int force, int plain, unsigned int size)
{
	int v = (int)size;

	/* SO_*BUFFORCE needs CAP_NET_ADMIN; fall back to the capped one. */
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v)) == -1)
		log_warn("%s: setsockopt buffer %u", __func__, size);
}

static struct mnl_socket *
ct_socket(int nonblock, unsigned int rcvbuf)
{
	struct mnl_socket *nl;
	int fd, on = 1;

	nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
	if (nl == NULL)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		mnl_socket_close(nl);
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	if (rcvbuf != 0)
		ct_setbuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
	/* Errors need not echo our whole request back. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
	return nl;
}

static int
ct_subscribe(int fd, int expect)
{
	static const int groups[] = {
		NFNLGRP_CONNTRACK_NEW,
		NFNLGRP_CONNTRACK_UPDATE,
		NFNLGRP_CONNTRACK_DESTROY,
	};
	static const int egroups[] = {
		NFNLGRP_CONNTRACK_EXP_NEW,
		NFNLGRP_CONNTRACK_EXP_DESTROY,
	};
	int off = 0;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			&groups[i], sizeof(groups[i])) == -1)
			return -1;
	for (size_t i = 0; expect && i < sizeof(egroups) / sizeof(egroups[0]);
	     i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			&egroups[i], sizeof(egroups[i])) == -1)
			return -1;
	/* The default, stated: losses must be reported as ENOBUFS. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &off,
		sizeof(off)) == -1)
		return -1;
	return 0;
}

/*
 * Drop the events our own requests cause before they are queued: a bulk
 * import would otherwise fill the receive buffer with them (one event per
 * entry, 1M at a takeover) and overrun it, costing a full re-dump. The
 * filter sees each event datagram from its nlmsghdr on; BPF loads words
 * big-endian, hence htonl() of the host-order port id.
 */
static int
ct_own_filter(int fd, uint32_t portid)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct nlmsghdr, nlmsg_pid)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(portid), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/* Successful requests of ours whose events the filter dropped. */
static void
ct_own_count(struct ct_handle *h, long n)
{
	if (h->own_filter && n > 0)
		h->st.own_events += (uint64_t)n;
}

struct ct_handle *
ct_open(struct ev_loop *loop, const struct ct_callbacks *cb, void *arg,
    size_t rcvbuf)
{
	struct ct_handle *h;
	int save;

	if (cb != NULL && (loop == NULL || cb->state == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->loop = loop;
	h->arg = arg;
	h->evfd = h->reqfd = h->dmpfd = h->countfd = -1;
	h->seq = (uint32_t)time(NULL);
	if (cb != NULL)
		h->cb = *cb;
	if (rcvbuf == 0)
		rcvbuf = CT_RCVBUF_DEFAULT;
	if (rcvbuf > 0x7fffffff)
		rcvbuf = 0x7fffffff;

	h->sbuf = malloc(CT_BATCH_BYTES + CT_MSG_MAX);
	h->rbuf = malloc(CT_RX_SIZE);
	h->dbuf = malloc(CT_DUMP_RX);
	h->errs = calloc(CT_BATCH_MSGS, sizeof(*h->errs));
	for (size_t i = 0; i < 3; i++)
		h->lst[i] = calloc(CT_BATCH_MSGS, sizeof(size_t));
	if (h->sbuf == NULL || h->rbuf == NULL || h->dbuf == NULL ||
	    h->errs == NULL || h->lst[0] == NULL || h->lst[1] == NULL ||
	    h->lst[2] == NULL)
		goto fail;

	/* The request socket blocks on send; errors are read non-blocking. */
	if ((h->req = ct_socket(0, CT_REQ_RCVBUF)) == NULL)
		goto fail;
	h->reqfd = mnl_socket_get_fd(h->req);
	ct_setbuf(h->reqfd, SO_SNDBUFFORCE, SO_SNDBUF, CT_REQ_SNDBUF);
	h->portid = mnl_socket_get_portid(h->req);

	if ((h->dmp = ct_socket(1, CT_DUMP_RCVBUF)) == NULL)
		goto fail;
	h->dmpfd = mnl_socket_get_fd(h->dmp);
	h->adump.fd = h->dmpfd;
	h->adump.buf = h->dbuf;

	if (cb == NULL)
		return h;

	h->mm = calloc(CT_RX_VLEN, sizeof(*h->mm));
	h->iov = calloc(CT_RX_VLEN, sizeof(*h->iov));
	h->evbuf = malloc((size_t)CT_RX_VLEN * CT_RX_SIZE);
	if (h->mm == NULL || h->iov == NULL || h->evbuf == NULL)
		goto fail;
	for (size_t i = 0; i < CT_RX_VLEN; i++) {
		h->iov[i].iov_base = h->evbuf + i * CT_RX_SIZE;
		h->iov[i].iov_len = CT_RX_SIZE;
		h->mm[i].msg_hdr.msg_iov = &h->iov[i];
		h->mm[i].msg_hdr.msg_iovlen = 1;
	}
	if ((h->evs = ct_socket(1, (unsigned int)rcvbuf)) == NULL)
		goto fail;
	h->evfd = mnl_socket_get_fd(h->evs);
	if (ct_subscribe(h->evfd, h->cb.expect != NULL) == -1)
		goto fail;
	if (ct_own_filter(h->evfd, h->portid) == 0)
		h->own_filter = 1;
	else
		log_warn("%s: own-event filter (checked in userland)",
		    __func__);
	if ((h->retry = ev_timer_new(loop, ct_resync_retry, h)) == NULL ||
	    (h->empty = ev_timer_new(loop, ct_dump_empty, h)) == NULL ||
	    (h->hold = ev_timer_new(loop, ct_ev_hold_end, h)) == NULL)
		goto fail;
	/* Without it (no /proc), every dump goes to the kernel. */
	h->countfd = open(CT_COUNT_PATH, O_RDONLY | O_CLOEXEC);
	if (ev_fd_add(loop, h->evfd, EV_READ, ct_ev_readable, h) == -1)
		goto fail;
	return h;
fail:
	save = errno;
	if (h->evfd != -1)
		(void)ev_fd_del(loop, h->evfd);
	h->evfd = -1;
	ct_close(h);
	errno = save;
	return NULL;
}

void
ct_close(struct ct_handle *h)
{
	if (h == NULL)
		return;
	if (h->loop != NULL && h->dumping == CT_DUMP_ASYNC)
		(void)ev_fd_del(h->loop, h->dmpfd);
	if (h->loop != NULL && h->evfd != -1)
		(void)ev_fd_del(h->loop, h->evfd);
	if (h->retry != NULL)
		ev_timer_free(h->retry);
	if (h->empty != NULL)
		ev_timer_free(h->empty);
	if (h->hold != NULL)
		ev_timer_free(h->hold);
	if (h->countfd != -1)
		close(h->countfd);
	if (h->evs != NULL)
		mnl_socket_close(h->evs);
	if (h->req != NULL)
		mnl_socket_close(h->req);
	if (h->dmp != NULL)
		mnl_socket_close(h->dmp);
	free(h->mm);
	free(h->iov);
	free(h->evbuf);
	free(h->sbuf);
	free(h->rbuf);
	free(h->dbuf);
	free(h->errs);
	for (size_t i = 0; i < 3; i++)
		free(h->lst[i]);
	free(h->defer);
	free(h);
}

const struct ct_stats *
ct_stats(const struct ct_handle *h)
{
	return &h->st;
}

uint32_t
ct_portid(const struct ct_handle *h)
{
	return h->portid;
}

/*
 * Events.
 */

static void
ct_ev_one(struct ct_handle *h, const struct nlmsghdr *nlh, size_t len)
{
	struct ct_state s;
	struct ct_expect e;
	enum ct_event ev;
	uint8_t subsys = nlh->nlmsg_type >> 8, type = nlh->nlmsg_type & 0xff;

	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;
	if (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid == h->portid) {
		h->st.own_events++;
		return;
	}
	if (subsys == NFNL_SUBSYS_CTNETLINK) {
		if (type == IPCTNL_MSG_CT_DELETE)
			ev = CT_EV_DESTROY;
		else if (type == IPCTNL_MSG_CT_NEW)
			ev = (nlh->nlmsg_flags & NLM_F_CREATE) ?
			    CT_EV_NEW :
			    CT_EV_UPDATE;
		else
			return;
		if (ct_parse_msg(nlh, len, &s) == -1) {
			h->st.parse_errors++;
			return;
		}
		h->st.events++;
		h->cb.state(ev, &s, h->arg);
	} else if (subsys == NFNL_SUBSYS_CTNETLINK_EXP &&
	    h->cb.expect != NULL) {
		if (type == IPCTNL_MSG_EXP_DELETE)
			ev = CT_EV_DESTROY;
		else if (type == IPCTNL_MSG_EXP_NEW)
			ev = (nlh->nlmsg_flags & NLM_F_CREATE) ?
			    CT_EV_NEW :
			    CT_EV_UPDATE;
		else
			return;
		if (ct_parse_expect_msg(nlh, len, &e) == -1) {
			h->st.parse_errors++;
			return;
		}
		h->st.exp_events++;
		h->cb.expect(ev, &e, h->arg);
	}
}

static void
ct_ev_datagram(struct ct_handle *h, const void *buf, size_t len, int flags)
{
	const struct nlmsghdr *nlh = buf;
	int rem = (int)len;

	if (flags & MSG_TRUNC) {
		h->st.parse_errors++;
		return;
	}
	while (mnl_nlmsg_ok(nlh, rem)) {
		ct_ev_one(h, nlh, (size_t)rem);
		nlh = mnl_nlmsg_next(nlh, &rem);
	}
}

/*
 * The first message of a received datagram, as a hint to the state()
 * callback that it comes soon: its tables are large and keyed with a
 * secret hash, so each state lands at a random place in memory, fetched
 * meanwhile.
 */
static void
ct_ev_hint(struct ct_handle *h, unsigned int i)
{
	const struct nlmsghdr *nlh = h->iov[i].iov_base;
	size_t len = h->mm[i].msg_len;
	struct ct_state s;

	if ((h->mm[i].msg_hdr.msg_flags & MSG_TRUNC) || len < sizeof(*nlh) ||
	    (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK ||
	    (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid == h->portid))
		return;
	if (ct_parse_key(nlh, len, &s) == 0)
		h->cb.hint(&s, h->arg);
}

static void
ct_ev_readable(int fd, int events, void *arg)
{
	struct ct_handle *h = arg;
	int n, total = 0, drained = 0;

	while (total < CT_EV_BUDGET) {
		for (unsigned int i = 0; i < CT_RX_VLEN; i++)
			h->mm[i].msg_hdr.msg_flags = 0;
		n = recvmmsg(fd, h->mm, CT_RX_VLEN, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				drained = 1;
				break;
			}
			if (errno == ENOBUFS) {
				/* Lost events: the table must be re-read. */
				h->st.overruns++;
				h->resync_pending = 1;
				total++;
				continue;
			}
			log_warn("%s: recvmmsg", __func__);
			break;
		}
		if (n == 0)
			break;
		/* Hints run CT_EV_AHEAD datagrams ahead of the events. */
		for (unsigned int k = 0; h->cb.hint != NULL &&
		     k < CT_EV_AHEAD && k < (unsigned int)n;
		     k++)
			ct_ev_hint(h, k);
		for (unsigned int i = 0; i < (unsigned int)n; i++) {
			if (h->cb.hint != NULL &&
			    i + CT_EV_AHEAD < (unsigned)n)
				ct_ev_hint(h, i + CT_EV_AHEAD);
			ct_ev_datagram(h, h->iov[i].iov_base, h->mm[i].msg_len,
			    h->mm[i].msg_hdr.msg_flags);
		}
		total += n;
	}
	/*
	 * Re-dump only once the queue is empty: what is still queued is
	 * older than the loss, and delivered after resync_begin it could
	 * bring back an entry whose DESTROY was lost.
	 */
	if (drained && h->resync_pending && h->dumping == CT_DUMP_NONE)
		ct_resync_start(h);
	ct_ev_hold(h, drained, total);
}

/*
 * Under a steady stream of events each wakeup would find a handful:
 * 8,000 wakeups a second at 100,000 states/s, a fifth of the daemon's
 * CPU in going to sleep and back. A read that drained the socket soon
 * after the previous one stops reading for CT_EV_HOLD_NS, so the next
 * wakeup finds a batch, and so on while each finds some: one wakeup a
 * millisecond, an event waiting at most that long. Sparse events are
 * read as they come. An overrun (EPOLLERR) is read at once anyway.
 */
static void
ct_ev_hold(struct ct_handle *h, int drained, int total)
{
	uint64_t now = ev_now_ns();

	if (drained && total > 0 && !h->resync_pending &&
	    (h->hold_read || now - h->last_read_ns < CT_EV_HOLD_NS) &&
	    !ev_timer_pending(h->hold) && ev_fd_mod(h->loop, h->evfd, 0) == 0)
		ev_timer_arm(h->hold, CT_EV_HOLD_NS);
	h->last_read_ns = now;
	h->hold_read = 0;
}

static void
ct_ev_hold_end(struct ev_timer *t, void *arg)
{
	struct ct_handle *h = arg;

	(void)t;
	if (ev_fd_mod(h->loop, h->evfd, EV_READ) == -1)
		log_warn("%s: event socket", __func__);
	/* Events found: the stream goes on, so does the pace. */
	h->hold_read = 1;
	ct_ev_readable(h->evfd, EV_READ, h);
}

void
ct_events_drain(struct ct_handle *h)
{
	if (h != NULL && h->evfd != -1)
		ct_ev_readable(h->evfd, EV_READ, h);
}

void
ct_resync(struct ct_handle *h)
{
	if (h == NULL || h->evfd == -1)
		return;
	h->resync_pending = 1;
	ct_ev_readable(h->evfd, EV_READ, h);
	/* Events still waiting (or a dump running): it starts once they
	 * are read; try again in a second should none come. */
	if (h->resync_pending && h->dumping == CT_DUMP_NONE)
		ev_timer_arm(h->retry, 1000000000ULL);
}

static void
ct_resync_retry(struct ev_timer *t, void *arg)
{
	struct ct_handle *h = arg;

	ct_ev_readable(h->evfd, EV_READ, h);
}

/*
 * Dumps.
 */

static int
ct_dump_send(struct ct_handle *h, struct ct_dumpio *d, uint8_t subsys,
    uint8_t type)
{
	uint8_t buf[CT_MSG_MAX];
	size_t len;
	ssize_t n;

	/* Drop what an abandoned dump may have left behind. */
	while (recv(d->fd, d->buf, CT_DUMP_RX, MSG_DONTWAIT) > 0)
		;
	d->seq = ++h->seq;
	len = ct_msg_dump(buf, d->seq, subsys, type);
	do {
		n = send(d->fd, buf, len, 0);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	return 0;
}

/* One read's worth: 0 more to come, 1 this dump part is done, -errno. */
static int
ct_dump_process(struct ct_handle *h, struct ct_dumpio *d, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)d->buf;
	const struct nlmsgerr *err;
	struct ct_state s;
	struct ct_expect e;
	int rem = (int)len;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		if (nlh->nlmsg_seq != d->seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
				return -EPROTO;
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error != 0)
				return err->error;
			continue;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		if (d->phase == 0) {
			if (ct_parse_msg(nlh, (size_t)rem, &s) == -1) {
				h->st.parse_errors++;
				continue;
			}
			h->st.dumped++;
			if (d->cb != NULL)
				d->cb(&s, d->cbarg);
			else {
				h->in_dump_cb = 1;
				h->cb.state(CT_EV_NEW, &s, h->arg);
				h->in_dump_cb = 0;
			}
		} else {
			if (ct_parse_expect_msg(nlh, (size_t)rem, &e) == -1) {
				h->st.parse_errors++;
				continue;
			}
			if (h->cb.expect != NULL)
				h->cb.expect(CT_EV_NEW, &e, h->arg);
		}
	}
	return 0;
}

static int ct_dump_begin(struct ct_handle *);

static void
ct_dump_finish(struct ct_handle *h, int err)
{
	void (*done)(void *, int) = h->dump_done;
	void *darg = h->dump_arg;
	int resync = h->dump_resync;

	(void)ev_fd_del(h->loop, h->dmpfd);
	h->dumping = CT_DUMP_NONE;
	h->dump_resync = 0;
	h->dump_done = NULL;
	if (resync) {
		h->st.resyncs++;
		if (err != 0) {
			/* An incomplete re-dump proves nothing: do it again,
			 * inside the same resync_begin/resync_end bracket. */
			log_warnx("%s: re-dump failed: %s", __func__,
			    strerror(-err));
			h->resync_pending = 1;
		} else {
			h->resync_open = 0;
			if (h->cb.resync_end != NULL)
				h->cb.resync_end(h->arg);
		}
	} else if (done != NULL)
		done(darg, err);
	if (h->dumping != CT_DUMP_NONE)
		return;
	if (h->resync_pending)
		ct_ev_readable(h->evfd, EV_READ, h); /* drain, then re-dump */
	else if (h->pend_done != NULL) {
		/* A ct_dump_start() that came during a re-dump. */
		done = h->pend_done;
		darg = h->pend_arg;
		h->pend_done = NULL;
		if (ct_dump_begin(h) == -1)
			done(darg, -errno);
		else {
			h->dump_done = done;
			h->dump_arg = darg;
		}
	}
}

static void
ct_dump_readable(int fd, int events, void *arg)
{
	struct ct_handle *h = arg;
	ssize_t n;
	int r;

	for (int i = 0; i < CT_DUMP_BUDGET; i++) {
		n = recv(fd, h->dbuf, CT_DUMP_RX, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			ct_dump_finish(h, -errno);
			return;
		}
		r = ct_dump_process(h, &h->adump, (size_t)n);
		if (r < 0) {
			ct_dump_finish(h, r);
			return;
		}
		if (r == 0)
			continue;
		if (h->adump.phase == 0 && h->adump.cb == NULL &&
		    h->cb.expect != NULL) {
			h->adump.phase = 1;
			if (ct_dump_send(h, &h->adump,
				NFNL_SUBSYS_CTNETLINK_EXP,
				IPCTNL_MSG_EXP_GET) == -1) {
				ct_dump_finish(h, -errno);
				return;
			}
			continue;
		}
		ct_dump_finish(h, 0);
		return;
	}
}

int
ct_dump_feeding(const struct ct_handle *h)
{
	if (h == NULL)
		return CT_FEED_NONE;
	if (h->in_dump_cb)
		return CT_FEED_ENTRY;
	return h->dumping == CT_DUMP_ASYNC && h->adump.cb == NULL ?
	    CT_FEED_EVENT :
	    CT_FEED_NONE;
}

/* 1 when this namespace holds no conntrack entry (nor, so, an
 * expectation); 0 when it does or cannot tell. */
static int
ct_table_empty(const struct ct_handle *h)
{
	char buf[32];
	ssize_t n;

	if (h->countfd == -1)
		return 0;
	n = pread(h->countfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return buf[0] == '0' && (buf[1] == '\n' || buf[1] == '\0');
}

static void
ct_dump_empty(struct ev_timer *t, void *arg)
{
	struct ct_handle *h = arg;

	(void)t;
	if (h->dumping == CT_DUMP_ASYNC)
		ct_dump_finish(h, 0);
}

static int
ct_dump_begin(struct ct_handle *h)
{
	if (h->loop == NULL || h->cb.state == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (h->dumping != CT_DUMP_NONE) {
		errno = EBUSY;
		return -1;
	}
	h->adump.phase = 0;
	h->adump.cb = NULL;
	h->adump.cbarg = NULL;
	if (ct_table_empty(h)) {
		/* Ends from the loop, as a dump read would. */
		h->st.dumps_empty++;
		h->dumping = CT_DUMP_ASYNC;
		ev_timer_arm(h->empty, 0);
		return 0;
	}
	if (ct_dump_send(h, &h->adump, NFNL_SUBSYS_CTNETLINK,
		IPCTNL_MSG_CT_GET) == -1)
		return -1;
	if (ev_fd_add(h->loop, h->dmpfd, EV_READ, ct_dump_readable, h) == -1)
		return -1;
	h->dumping = CT_DUMP_ASYNC;
	return 0;
}

static void
ct_resync_start(struct ct_handle *h)
{
	if (h->dumping != CT_DUMP_NONE) {
		h->resync_pending = 1;
		return;
	}
	if (ct_dump_begin(h) == -1) {
		log_warn("%s: re-dump (retried in 1 s)", __func__);
		h->resync_pending = 1;
		ev_timer_arm(h->retry, 1000000000ULL);
		return;
	}
	h->resync_pending = 0;
	h->dump_resync = 1;
	if (!h->resync_open) {
		h->resync_open = 1;
		if (h->cb.resync_begin != NULL)
			h->cb.resync_begin(h->arg);
	}
}

int
ct_dump_start(struct ct_handle *h, void (*done)(void *, int), void *arg)
{
	if (h->loop != NULL && h->cb.state != NULL &&
	    (h->dump_resync || h->resync_pending) && h->dump_done == NULL &&
	    h->pend_done == NULL && done != NULL) {
		/* Queued behind the re-dump. */
		h->pend_done = done;
		h->pend_arg = arg;
		return 0;
	}
	if (ct_dump_begin(h) == -1)
		return -1;
	h->dump_done = done;
	h->dump_arg = arg;
	return 0;
}

int
ct_dump_start_cb(struct ct_handle *h,
    void (*cb)(const struct ct_state *, void *), void *cbarg,
    void (*done)(void *, int), void *arg)
{
	if (cb == NULL || done == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Not queued behind a re-dump: the caller retries on EBUSY. */
	if (h->dump_resync || h->resync_pending || h->pend_done != NULL) {
		errno = EBUSY;
		return -1;
	}
	if (ct_dump_begin(h) == -1)
		return -1;
	h->adump.cb = cb;
	h->adump.cbarg = cbarg;
	h->dump_done = done;
	h->dump_arg = arg;
	return 0;
}

int
ct_dump_sync(struct ct_handle *h, void (*cb)(const struct ct_state *, void *),
    void *arg)
{
	struct mnl_socket *nl;
	struct ct_dumpio d;
	struct pollfd pfd;
	ssize_t n;
	int r, save, ret = -1;

	if (cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(&d, 0, sizeof(d));
	d.cb = cb;
	d.cbarg = arg;
	if ((nl = ct_socket(1, CT_DUMP_RCVBUF)) == NULL)
		return -1;
	d.fd = mnl_socket_get_fd(nl);
	if ((d.buf = malloc(CT_DUMP_RX)) == NULL)
		goto out;
	if (ct_dump_send(h, &d, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET) ==
	    -1)
		goto out;
	pfd.fd = d.fd;
	pfd.events = POLLIN;
	for (;;) {
		n = recv(d.fd, d.buf, CT_DUMP_RX, MSG_DONTWAIT);
		if (n == -1 && errno == EAGAIN) {
			r = poll(&pfd, 1, CT_DUMP_WAIT_MS);
			if (r == 0) {
				errno = ETIMEDOUT;
				goto out;
			}
			if (r == -1 && errno != EINTR)
				goto out;
			continue;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		r = ct_dump_process(h, &d, (size_t)n);
		if (r < 0) {
			errno = -r;
			goto out;
		}
		if (r == 1)
			break;
	}
	ret = 0;
out:
	save = errno;
	free(d.buf);
	mnl_socket_close(nl);
	errno = save;
	return ret;
}

/*
 * Batched requests.
 */

/* Read the failures of the batch seq0..seq0+n-1 into h->errs. */
static void
ct_batch_collect(struct ct_handle *h, uint32_t seq0, size_t n)
{
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *err;
	ssize_t len;
	uint32_t idx;
	int rem;

	for (;;) {
		len = recv(h->reqfd, h->rbuf, CT_RX_SIZE, MSG_DONTWAIT);
		if (len == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("%s: recv", __func__);
			if (errno == ENOBUFS)
				continue;
			return;
		}
		nlh = (const struct nlmsghdr *)h->rbuf;
		rem = (int)len;
		for (; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
				continue;
			err = mnl_nlmsg_get_payload(nlh);
			idx = nlh->nlmsg_seq - seq0;
			if (idx < n && err->error != 0)
				h->errs[idx] = -err->error;
		}
	}
}

/* Send len bytes holding n messages numbered from seq0; h->errs[i] gets
 * the errno of message i, 0 for success. */
static void
ct_batch_send(struct ct_handle *h, size_t len, uint32_t seq0, size_t n)
{
	ssize_t r;

	memset(h->errs, 0, n * sizeof(*h->errs));
	if (n == 0)
		return;
	do {
		r = send(h->reqfd, h->sbuf, len, 0);
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		for (size_t i = 0; i < n; i++)
			h->errs[i] = errno;
		return;
	}
	ct_batch_collect(h, seq0, n);
}

#define CT_IDX(lst, k) ((lst) != NULL ? (lst)[k] : (k))

/*
 * Build and send, in one batch, the states base[CT_IDX(lst, k)] for k from
 * "from" on, before "to", as many as fit; h->errs[k - from] gets each
 * outcome. Returns how many were sent.
 */
static size_t
ct_send_list(struct ct_handle *h, const struct ct_state *base,
    const size_t *lst, size_t from, size_t to, int how)
{
	size_t k, len = 0;
	uint32_t seq0 = h->seq;

	for (k = from;
	     k < to && k - from < CT_BATCH_MSGS && len < CT_BATCH_BYTES; k++)
		len += ct_msg_state(h->sbuf + len, seq0 + (uint32_t)(k - from),
		    &base[CT_IDX(lst, k)], how);
	h->seq += (uint32_t)(k - from);
	ct_batch_send(h, len, seq0, k - from);
	return k - from;
}

static void
ct_import_error(struct ct_handle *h, int e)
{
	if (h->first_err == 0)
		h->first_err = e;
	h->st.import_errors++;
}

/* Existing entries: update without NAT, helper and master. With gone,
 * the entries the kernel no longer has (at most CT_BATCH_MSGS) go there
 * (*ngone of them) instead of counting as errors. */
static long
ct_update(struct ct_handle *h, const struct ct_state *s, const size_t *upd,
    size_t n, size_t *gone, size_t *ngone)
{
	size_t *retry = h->lst[1];
	size_t sent, rsent, nretry;
	long done = 0;

	for (size_t k0 = 0; k0 < n; k0 += sent) {
		sent = ct_send_list(h, s, upd, k0, n, 0);
		nretry = 0;
		for (size_t k = 0; k < sent; k++) {
			if (h->errs[k] == 0) {
				h->st.updated++;
				done++;
			} else if (h->errs[k] == EBUSY)
				retry[nretry++] = CT_IDX(upd, k0 + k);
			else if (h->errs[k] == ENOENT && gone != NULL)
				gone[(*ngone)++] = CT_IDX(upd, k0 + k);
			else
				ct_import_error(h, h->errs[k]);
		}
		/* EBUSY: our status would clear a bit the kernel keeps
		 * (ASSURED, SEEN_REPLY): leave the status alone. */
		for (size_t r0 = 0; r0 < nretry; r0 += rsent) {
			rsent = ct_send_list(h, s, retry, r0, nretry,
			    CT_BUILD_NO_STATUS);
			for (size_t r = 0; r < rsent; r++) {
				if (h->errs[r] == 0) {
					h->st.updated++;
					done++;
				} else
					ct_import_error(h, h->errs[r]);
			}
		}
	}
	return done;
}

/* A failure a later attempt may cure: the master is further down the
 * array, or this kernel lacks the helper. */
static int
ct_retryable(const struct ct_state *s, int e)
{
	if ((s->fields & CT_F_MASTER) && e == ENOENT)
		return 1;
	if ((s->fields & CT_F_HELPER) && (e == ENOENT || e == EOPNOTSUPP))
		return 1;
	return 0;
}

static void
ct_defer(struct ct_handle *h, size_t idx)
{
	size_t *p, cap;

	if (h->ndefer == h->capdefer) {
		cap = h->capdefer ? h->capdefer * 2 : 64;
		if ((p = reallocarray(h->defer, cap, sizeof(*p))) == NULL) {
			ct_import_error(h, ENOMEM);
			return;
		}
		h->defer = p;
		h->capdefer = cap;
	}
	h->defer[h->ndefer++] = idx;
}

/* Create s[CT_IDX(lst, k)] for k < m; existing ones are updated. */
static long
ct_create(struct ct_handle *h, const struct ct_state *s, const size_t *lst,
    size_t m, int how, int defer)
{
	size_t *upd = h->lst[0];
	size_t x, sent, nupd;
	long done = 0;
	int e;

	for (size_t k0 = 0; k0 < m; k0 += sent) {
		sent = ct_send_list(h, s, lst, k0, m, how);
		nupd = 0;
		for (size_t k = 0; k < sent; k++) {
			x = CT_IDX(lst, k0 + k);
			e = h->errs[k];
			if (e == 0) {
				h->st.imported++;
				done++;
			} else if (e == EEXIST)
				upd[nupd++] = x;
			else if (defer && ct_retryable(&s[x], e))
				ct_defer(h, x);
			else
				ct_import_error(h, e);
		}
		done += ct_update(h, s, upd, nupd, NULL, NULL);
	}
	return done;
}

/* The end of an import: failures in one log line, our own events
 * counted. */
static void
ct_import_done(struct ct_handle *h, uint64_t errs0, size_t n, long done)
{
	if (h->st.import_errors > errs0)
		log_warnx("%llu of %zu states refused by the kernel "
			  "(first: %s)",
		    (unsigned long long)(h->st.import_errors - errs0), n,
		    strerror(h->first_err));
	ct_own_count(h, done);
}

long
ct_import(struct ct_handle *h, const struct ct_state *s, size_t n)
{
	size_t *d, nd;
	uint64_t errs0 = h->st.import_errors;
	long done;

	h->first_err = 0;
	h->ndefer = 0;
	done = ct_create(h, s, NULL, n, CT_BUILD_CREATE, 1);
	if (h->ndefer > 0) {
		/* Masters that came later are in by now. */
		d = h->defer;
		nd = h->ndefer;
		h->defer = NULL;
		h->ndefer = h->capdefer = 0;
		done += ct_create(h, s, d, nd, CT_BUILD_CREATE, 1);
		free(d);
	}
	if (h->ndefer > 0) {
		/* Still no master or helper: keep the connection itself
		 * (its packets pass) rather than lose it. */
		done += ct_create(h, s, h->defer, h->ndefer,
		    CT_BUILD_CREATE | CT_BUILD_NO_MASTER | CT_BUILD_NO_HELPER,
		    0);
		h->ndefer = 0;
	}
	ct_import_done(h, errs0, n, done);
	return done;
}

long
ct_refresh(struct ct_handle *h, const struct ct_state *s, size_t n)
{
	size_t *gone = h->lst[2];
	size_t m, ngone;
	uint64_t errs0 = h->st.import_errors;
	long done = 0;

	h->first_err = 0;
	for (size_t k0 = 0; k0 < n; k0 += m) {
		m = n - k0 < CT_BATCH_MSGS ? n - k0 : CT_BATCH_MSGS;
		ngone = 0;
		done += ct_update(h, s + k0, NULL, m, gone, &ngone);
		/* Expired here meanwhile: in again, whole. */
		if (ngone > 0)
			done += ct_create(h, s + k0, gone, ngone,
			    CT_BUILD_CREATE, 0);
	}
	ct_import_done(h, errs0, n, done);
	return done;
}

long
ct_import_expect(struct ct_handle *h, const struct ct_expect *x, size_t n)
{
	size_t j, len;
	uint32_t seq0;
	long done = 0;

	for (size_t i = 0; i < n; i = j) {
		seq0 = h->seq;
		len = 0;
		for (j = i;
		     j < n && j - i < CT_BATCH_MSGS && len < CT_BATCH_BYTES;
		     j++)
			len += ct_msg_expect(h->sbuf + len,
			    seq0 + (uint32_t)(j - i), &x[j]);
		h->seq += (uint32_t)(j - i);
		ct_batch_send(h, len, seq0, j - i);
		for (size_t k = 0; k < j - i; k++) {
			if (h->errs[k] == 0) {
				h->st.exp_imported++;
				done++;
			} else
				h->st.exp_import_errors++;
		}
	}
	ct_own_count(h, done);
	return done;
}

long
ct_delete(struct ct_handle *h, const struct ct_state *s, size_t n)
{
	size_t j, len;
	uint32_t seq0;
	long done = 0;

	for (size_t i = 0; i < n; i = j) {
		seq0 = h->seq;
		len = 0;
		for (j = i;
		     j < n && j - i < CT_BATCH_MSGS && len < CT_BATCH_BYTES;
		     j++)
			len += ct_msg_delete(h->sbuf + len,
			    seq0 + (uint32_t)(j - i), &s[j]);
		h->seq += (uint32_t)(j - i);
		ct_batch_send(h, len, seq0, j - i);
		for (size_t k = 0; k < j - i; k++) {
			if (h->errs[k] == 0) {
				h->st.deleted++;
				done++;
			} else if (h->errs[k] != ENOENT)
				h->st.import_errors++;
		}
	}
	ct_own_count(h, done);
	return done;
}

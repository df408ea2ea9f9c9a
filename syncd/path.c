/*
 * path.c: a peer's redundant paths (several addresses of one member, in
 * order of preference): which path a frame came from, each path's
 * liveness (authentic new frames from its address, and the peer's report
 * that it hears us on it), the active path frames go out on, the move to
 * the next one when it fails and back when a better one has been up a
 * while. The session, the sequence spaces, the window and the caches are
 * the peer's, whatever path carries its frames: a move needs no
 * handshake and no bulk (docs/sync-protocol.md, 5.1).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "syncd.h"

void
path_sa_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

void
path_init(struct peer *p, const struct sockaddr_storage *ss,
    const socklen_t *len, int n)
{
	for (int i = 0; i < n; i++) {
		struct path *q = &p->path[i];

		memset(q, 0, sizeof(*q));
		memcpy(&q->sa, &ss[i], len[i]);
		q->salen = len[i];
		path_sa_name(&ss[i], q->name, sizeof(q->name));
	}
	p->npaths = n;
	p->active = 0;
	p->hs_path = -1;
	p->rx_path = -1;
}

/* Same address and port. */
static int
sa_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		    a4->sin_port == b4->sin_port;
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0 &&
	    a6->sin6_port == b6->sin6_port;
}

/* The peer one of whose paths has this source address and port. */
struct peer *
path_find(struct syncd *sd, const struct sockaddr_storage *ss, int *path)
{
	for (int i = 0; i < sd->npeers; i++) {
		struct peer *p = sd->peers[i];

		for (int j = 0; j < p->npaths; j++) {
			if (sa_same(&p->path[j].sa, ss)) {
				*path = j;
				return p;
			}
		}
	}
	return NULL;
}

int
path_has_addr(const struct peer *p, int family, const void *addr)
{
	for (int j = 0; j < p->npaths; j++) {
		const struct sockaddr_storage *ss = &p->path[j].sa;

		if (ss->ss_family != family)
			continue;
		if (family == AF_INET &&
		    memcmp(&((const struct sockaddr_in *)ss)->sin_addr, addr,
			4) == 0)
			return 1;
		if (family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, addr,
			16) == 0)
			return 1;
	}
	return 0;
}

/* Path i of every peer goes out through socket i (one socket: all). */
int
path_sock(const struct syncd *sd, int path)
{
	return sd->socks[sd->nsocks > 1 && path < sd->nsocks ? path : 0].fd;
}

static int
rx_ok(const struct path *q, uint64_t now)
{
	return q->last_rx_ns != 0 &&
	    now - q->last_rx_ns <= PATH_DEAD_MS * NS_MS;
}

/*
 * Heard on q lately. A path that is up and was heard until the peer fell
 * silent on every path also counts as heard until PATH_DEAD_MS after the
 * peer came back: the peer (or its loop) was held up, not the path, and
 * its first frames after it come on one path a moment before the others.
 * A path silent since before that is not excused.
 */
static int
heard_on(const struct peer *p, const struct path *q, uint64_t now)
{
	if (q->up && p->resumed_ns > q->last_rx_ns &&
	    q->last_rx_ns + (PATH_PROBE_MS + 50) * NS_MS >= p->silent_ns)
		return now - p->resumed_ns <= PATH_DEAD_MS * NS_MS;
	return rx_ok(q, now);
}

/*
 * A path of a multi-path peer is up when we hear the peer on it (since
 * a send on it last found no route) and the peer says it hears us on
 * it: a peer that does not report is taken to; a path that just came up
 * is given PATH_DEAD_MS for the peer to hear our probes on it. A lone
 * path is up while the peer is alive.
 */
static int
usable(const struct peer *p, const struct path *q, uint64_t now)
{
	if (p->npaths == 1)
		return p->alive;
	return heard_on(p, q, now) && q->last_rx_ns > q->fail_ns &&
	    (!p->reports || q->peer_hears ||
		(q->up && now - q->up_ns < PATH_DEAD_MS * NS_MS));
}

static int
is_up(const struct peer *p, int i)
{
	return p->npaths == 1 ? p->alive : p->path[i].up;
}

static const char *
down_why(const char *reason)
{
	if (strcmp(reason, "unheard") == 0)
		return "the peer does not hear us on it";
	if (strcmp(reason, "unreachable") == 0)
		return "no route";
	return "nothing heard on it";
}

static void
set_up(struct peer *p, int i, int up, const char *reason, uint64_t now)
{
	struct path *q = &p->path[i];

	if (q->up == up)
		return;
	q->up = up;
	if (up) {
		q->up_ns = now;
		event_path(p, q, q->ever_up ? "down" : "init", "up", reason,
		    -1, "peer %s: path %s is up", p->name, q->name);
		q->ever_up = 1;
		return;
	}
	q->downs++;
	event_path(p, q, "up", "down", reason,
	    q->last_rx_ns ? (long long)((now - q->last_rx_ns) / NS_MS) : -1,
	    "peer %s: path %s is down (%s)", p->name, q->name,
	    down_why(reason));
}

static void
switch_to(struct peer *p, int to, int resend, const char *reason)
{
	const struct path *from = &p->path[p->active];

	event_path_switch(p, from, &p->path[to], reason,
	    "peer %s: sync moves from %s to %s (%s)", p->name, from->name,
	    p->path[to].name,
	    resend ? "the path is down" : "a preferred path is back");
	p->active = to;
	p->path_switches++;
	/* What the old path may have lost goes again on this one, and the
	 * peer hears at once where we are and what we have. A send that
	 * fails meanwhile marks its path down; the next tick moves on. */
	if (resend) {
		p->switching = 1;
		peer_resend_window(p);
		p->switching = 0;
	}
}

/*
 * Frames go out on the first path that is up. A better path than the
 * active one, back up, is taken once it has stayed up PATH_HOLD_MS (a
 * flapping link does not pull the traffic to and fro); an active path
 * that is down is left at once. With no path up, the active one stays.
 */
static void
choose(struct peer *p, uint64_t now)
{
	const struct path *a = &p->path[p->active];
	int best = -1;

	for (int i = 0; i < p->npaths && best == -1; i++)
		if (p->path[i].up)
			best = i;
	if (best == -1 || best == p->active || p->switching)
		return;
	if (a->up && now - p->path[best].up_ns < PATH_HOLD_MS * NS_MS)
		return;
	switch_to(p, best, !a->up, a->up ? "preferred" : "down");
}

static const char *
down_reason(const struct path *q, uint64_t now)
{
	if (q->last_rx_ns <= q->fail_ns)
		return "unreachable";
	return rx_ok(q, now) ? "unheard" : "timeout";
}

/* Is the peer heard on any path lately? */
static int
heard_any(const struct peer *p, uint64_t now)
{
	for (int i = 0; i < p->npaths; i++)
		if (rx_ok(&p->path[i], now))
			return 1;
	return 0;
}

/*
 * Paths up and down, then the active one. A silent path goes down only
 * while the peer is heard on another: when all are silent at once the
 * peer (or its event loop) is more likely held up than every link cut,
 * and there is no path to move to; the peer's own dead interval (3 s)
 * decides then. A late tick may not have read what waits: no verdict.
 */
static void
evaluate(struct peer *p, uint64_t now, int late)
{
	int any = heard_any(p, now);

	for (int i = 0; i < p->npaths; i++) {
		struct path *q = &p->path[i];
		int u = usable(p, q, now);

		if (u && !q->up)
			set_up(p, i, 1, "contact", now);
		else if (!u && q->up && !late &&
		    (any || q->last_rx_ns <= q->fail_ns))
			set_up(p, i, 0, down_reason(q, now), now);
	}
	choose(p, now);
}

/* An authentic new frame from path i of p. */
void
path_heard(struct peer *p, int path, size_t len)
{
	struct path *q = &p->path[path];
	uint64_t now = ev_now_ns(), last = 0;

	for (int i = 0; i < p->npaths; i++)
		if (p->path[i].last_rx_ns > last)
			last = p->path[i].last_rx_ns;
	/* Nothing on any path for a while: the peer was held up. */
	if (last != 0 && now - last > PATH_HELD_MS * NS_MS) {
		p->silent_ns = last;
		p->resumed_ns = now;
	}
	q->rx_frames++;
	q->last_rx_ns = now;
	if (p->npaths > 1 && !q->up && usable(p, q, now))
		evaluate(p, now, 1);
}

/* A send on the path found no route: down until heard again. */
void
path_send_failed(struct peer *p, int path)
{
	struct path *q = &p->path[path];
	uint64_t now = ev_now_ns();

	if (p->npaths == 1)
		return;
	q->fail_ns = now;
	if (q->up) {
		set_up(p, path, 0, "unreachable", now);
		choose(p, now);
	}
}

/* The peer's report (HELLO) of the paths it hears us on; an older one
 * than the last, reordered between paths, is ignored. */
void
path_report(struct peer *p, uint8_t paths)
{
	if (p->reports && !sync_seq_lt(p->report_seq, p->rx_ctl_seq))
		return;
	p->reports = 1;
	p->report_seq = p->rx_ctl_seq;
	for (int i = 0; i < p->npaths; i++)
		p->path[i].peer_hears = (paths >> i) & 1;
	if (p->npaths > 1)
		evaluate(p, ev_now_ns(), 0);
}

/* Our report: the paths of p we heard it on lately; while we hear it on
 * none, all of them (no path is worse than another). */
uint8_t
path_hears(const struct peer *p)
{
	uint64_t now = ev_now_ns();
	int any = heard_any(p, now);
	uint8_t m = 0;

	for (int i = 0; i < p->npaths; i++)
		if (!any || heard_on(p, &p->path[i], now))
			m |= (uint8_t)(1U << i);
	return m;
}

/*
 * Each path tick: a multi-path peer gets a HELLO on every path every
 * PATH_PROBE_MS (it carries our report), and paths are judged. late: the
 * loop was held up, frames may wait unread; no path goes down now.
 */
void
path_tick(struct peer *p, uint64_t now, int late)
{
	if (p->npaths == 1)
		return;
	/* Path ticks come every 50 ms or a little later. */
	if (sess_tx_up(p) &&
	    now - p->last_probe_ns >= (PATH_PROBE_MS - 25) * NS_MS) {
		p->last_probe_ns = now;
		for (int i = 0; i < p->npaths; i++)
			peer_send_hello(p, i);
	}
	evaluate(p, now, late);
}

/* The peer is dead: so are its paths. */
void
path_peer_down(struct peer *p)
{
	uint64_t now = ev_now_ns();

	if (p->npaths == 1) {
		p->path[0].downs++; /* its state is the peer's */
		return;
	}
	for (int i = 0; i < p->npaths; i++)
		set_up(p, i, 0, "timeout", now);
}

static void
local_name(const struct syncd *sd, int i, char *buf, size_t len)
{
	path_sa_name(&sd->socks[sd->nsocks > 1 && i < sd->nsocks ? i : 0].sa,
	    buf, len);
}

static void
status_json(const struct peer *p, struct sbuf *b, uint64_t now)
{
	char local[INET6_ADDRSTRLEN];

	sbuf_puts(b, ",\"paths\":[");
	for (int i = 0; i < p->npaths; i++) {
		const struct path *q = &p->path[i];

		local_name(p->sd, i, local, sizeof(local));
		sbuf_printf(b,
		    "%s{\"address\":\"%s\",\"local\":\"%s\","
		    "\"state\":\"%s\",\"active\":%s,\"tx_frames\":%llu,"
		    "\"rx_frames\":%llu,\"tx_errors\":%llu,\"downs\":%llu,"
		    "\"last_seen\":%.3f}",
		    i > 0 ? "," : "", q->name, local,
		    is_up(p, i) ? "up" : "down",
		    i == p->active ? "true" : "false",
		    (unsigned long long)q->tx_frames,
		    (unsigned long long)q->rx_frames,
		    (unsigned long long)q->tx_errors,
		    (unsigned long long)q->downs,
		    q->last_rx_ns ? (double)(now - q->last_rx_ns) / 1e9 :
				    -1.0);
	}
	sbuf_printf(b, "],\"path_switches\":%llu",
	    (unsigned long long)p->path_switches);
}

/* Each path: JSON members of the peer's object, or a text line each. */
void
path_status(const struct peer *p, int json, struct sbuf *b)
{
	uint64_t now = ev_now_ns();
	char local[INET6_ADDRSTRLEN];

	if (json) {
		status_json(p, b, now);
		return;
	}
	for (int i = 0; i < p->npaths; i++) {
		const struct path *q = &p->path[i];

		local_name(p->sd, i, local, sizeof(local));
		sbuf_printf(b,
		    "  path %s from %s: %s%s, frames tx %llu rx %llu", q->name,
		    local, is_up(p, i) ? "up" : "down",
		    i == p->active ? ", active" : "",
		    (unsigned long long)q->tx_frames,
		    (unsigned long long)q->rx_frames);
		if (q->last_rx_ns != 0)
			sbuf_printf(b, ", last heard %.1f s ago",
			    (double)(now - q->last_rx_ns) / 1e9);
		else
			sbuf_puts(b, ", never heard");
		sbuf_printf(b, ", down %llu times\n",
		    (unsigned long long)q->downs);
	}
	if (p->npaths > 1)
		sbuf_printf(b, "  path switches %llu\n",
		    (unsigned long long)p->path_switches);
}

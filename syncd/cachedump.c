/*
 * cachedump.c: "syncd dump internal|external": the caches streamed to a
 * control client, one state a line (conntrack -L's format, ctfmt.c) or
 * one JSON object a line. A slice per loop turn, each slice one DATA
 * frame; when the client reads slowly the dump pauses until its queue
 * drains, so a dump of any size costs a bounded buffer. The walk goes by
 * slot index: states added or removed meanwhile may or may not be shown,
 * and a table rebuilt meanwhile (it grew) may show a state twice or not
 * at all; nothing is held across turns but the index.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctfmt.h"
#include "ctl.h"
#include "log.h"
#include "sbuf.h"

#define DUMP_MAX   4		/* dumps running at once */
#define DUMP_SLICE 1024		/* entries looked at per loop turn */
#define DUMP_FRAME (64u << 10)	/* bytes of one DATA frame, about */
#define DUMP_HIWAT (128u << 10) /* queued to the client: pause */
#define DUMP_LOWAT (32u << 10)	/* ... until it is down to this */

/* One dump in progress (conn NULL: the slot is free). */
struct dump_run {
	struct cachedump *cd;
	struct ctl_conn *conn;
	struct ev_timer *timer;
	int external; /* peers' caches, else ours */
	int json;
	int only;   /* external: one peer's index, or -1 */
	int peer;   /* external: the peer being walked */
	size_t pos; /* next slot of the cache walked */
	uint64_t shown;
	struct sbuf buf; /* the slice being built */
};

struct cachedump {
	struct syncd *sd;
	struct dump_run run[DUMP_MAX];
};

static void
dump_release(struct dump_run *r)
{
	ev_timer_cancel(r->timer);
	if (r->conn != NULL)
		ctl_conn_on_drain(r->conn, 0, NULL, NULL);
	r->conn = NULL;
	sbuf_free(&r->buf);
	sbuf_init(&r->buf);
}

/* The cache walked now and the name of its peer (NULL: ours, or done). */
static struct cache *
dump_cache(struct dump_run *r, const char **peer)
{
	struct syncd *sd = r->cd->sd;

	*peer = NULL;
	if (!r->external)
		return r->peer == 0 ? sd->internal : NULL;
	if (r->only >= 0 && r->peer != r->only)
		return NULL;
	if (r->peer >= sd->npeers)
		return NULL;
	*peer = sd->peers[r->peer]->name;
	return sd->peers[r->peer]->ext;
}

/* Fill the slice: at most DUMP_SLICE entries, about DUMP_FRAME bytes.
 * Returns 1 when every cache has been walked. */
static int
dump_fill(struct dump_run *r)
{
	uint32_t now = syncd_now_s();
	struct ct_state st;
	struct centry *e;
	struct cache *c;
	const char *peer;
	size_t n = 0;

	while (n < DUMP_SLICE && r->buf.len < DUMP_FRAME) {
		if ((c = dump_cache(r, &peer)) == NULL)
			return 1;
		if ((e = cache_next(c, &r->pos)) == NULL) {
			r->peer = r->only >= 0 ? r->only + 1 : r->peer + 1;
			r->pos = 0;
			continue;
		}
		n++;
		if (centry_state(e, now, &st) == -1)
			continue;
		if (r->json)
			ctfmt_json(&r->buf, &st, peer);
		else
			ctfmt_line(&r->buf, &st);
		r->shown++;
	}
	return 0;
}

static void
dump_drained(struct ctl_conn *conn, void *arg)
{
	struct dump_run *r = arg;

	/* Not from inside the connection's own I/O: next turn. */
	ev_timer_arm(r->timer, 0);
}

/* One slice: build it, send it, then go on next turn or wait for the
 * client to read. */
static void
dump_step(struct ev_timer *t, void *arg)
{
	struct dump_run *r = arg;
	int done;

	if (r->conn == NULL)
		return;
	sbuf_reset(&r->buf);
	done = dump_fill(r);
	if (r->buf.err) {
		log_warnx("dump: out of memory after %llu states",
		    (unsigned long long)r->shown);
		ctl_replyf(r->conn, 0, "out of memory");
		dump_release(r);
		return;
	}
	if (r->buf.len > 0 &&
	    ctl_send(r->conn, CTL_DATA, r->buf.p, r->buf.len) == -1) {
		/* Dropped (the close callback released it) or failing. */
		if (r->conn != NULL)
			dump_release(r);
		return;
	}
	if (r->conn == NULL)
		return;
	if (done) {
		ctl_reply(r->conn, 1, "", 0);
		dump_release(r);
		return;
	}
	if (ctl_conn_queued(r->conn) >= DUMP_HIWAT &&
	    ctl_conn_on_drain(r->conn, DUMP_LOWAT, dump_drained, r) == 0)
		return;
	ev_timer_arm(r->timer, 0);
}

/*
 * The peer at idx leaves and the ones after it move down: a dump of
 * that peer alone ends (what it printed stays printed), a dump of every
 * peer goes on with the one it was at.
 */
void
cachedump_peer_removed(struct cachedump *cd, int idx)
{
	for (int i = 0; cd != NULL && i < DUMP_MAX; i++) {
		struct dump_run *r = &cd->run[i];

		if (r->conn == NULL || !r->external)
			continue;
		if (r->only == idx) {
			r->only = r->peer = SYNCD_MAXPEERS;
			continue;
		}
		if (r->only > idx)
			r->only--;
		if (r->peer > idx)
			r->peer--;
		else if (r->peer == idx)
			r->pos = 0;
	}
}

/* The index of the peer whose sync address is addr, -1 if none. */
static int
dump_find_peer(const struct syncd *sd, const char *addr)
{
	uint8_t want[16];
	int af;

	if (inet_pton(AF_INET, addr, want) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, addr, want) == 1)
		af = AF_INET6;
	else
		return -1;
	for (int i = 0; i < sd->npeers; i++) {
		const struct sockaddr_storage *ss = &sd->peers[i]->sa;

		if (ss->ss_family != af)
			continue;
		if (af == AF_INET &&
		    memcmp(&((const struct sockaddr_in *)ss)->sin_addr, want,
			4) == 0)
			return i;
		if (af == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, want,
			16) == 0)
			return i;
	}
	return -1;
}

static void
dump_no_peer(struct cachedump *cd, struct ctl_conn *conn, const char *addr)
{
	struct syncd *sd = cd->sd;
	struct sbuf b;

	sbuf_init(&b);
	sbuf_printf(&b, "no peer %.64s (peers:", addr);
	for (int i = 0; i < sd->npeers; i++)
		sbuf_printf(&b, "%s %s", i > 0 ? "," : "", sd->peers[i]->name);
	sbuf_puts(&b, ")");
	if (b.err)
		ctl_replyf(conn, 0, "no peer %.64s", addr);
	else
		ctl_reply(conn, 0, b.p, b.len);
	sbuf_free(&b);
}

/* "dump internal|external [peer ADDR] [json]": check it, start it. */
void
cachedump_request(struct cachedump *cd, struct ctl_conn *conn, int argc,
    char **argv)
{
	struct dump_run *r = NULL;
	const char *peer = NULL;
	int external, json = 0, only = -1;

	if (argc < 2 ||
	    (strcmp(argv[1], "internal") != 0 &&
		strcmp(argv[1], "external") != 0))
		goto usage;
	external = strcmp(argv[1], "external") == 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "json") == 0)
			json = 1;
		else if (strcmp(argv[i], "peer") == 0 && i + 1 < argc &&
		    external && peer == NULL)
			peer = argv[++i];
		else
			goto usage;
	}
	if (peer != NULL && (only = dump_find_peer(cd->sd, peer)) == -1) {
		dump_no_peer(cd, conn, peer);
		return;
	}
	for (int i = 0; i < DUMP_MAX && r == NULL; i++)
		if (cd->run[i].conn == NULL)
			r = &cd->run[i];
	if (r == NULL) {
		ctl_replyf(conn, 0,
		    "%d dumps are running already (at most"
		    " %d at once): try again when one is done",
		    DUMP_MAX, DUMP_MAX);
		return;
	}
	r->conn = conn;
	r->external = external;
	r->json = json;
	r->only = only;
	r->peer = only >= 0 ? only : 0;
	r->pos = 0;
	r->shown = 0;
	sbuf_reset(&r->buf);
	ev_timer_arm(r->timer, 0);
	return;
usage:
	ctl_replyf(conn, 0,
	    "usage: dump internal|external [peer address]"
	    " [json]");
}

void
cachedump_conn_closed(struct cachedump *cd, const struct ctl_conn *conn)
{
	for (int i = 0; i < DUMP_MAX; i++)
		if (cd->run[i].conn == conn) {
			cd->run[i].conn = NULL;
			dump_release(&cd->run[i]);
		}
}

struct cachedump *
cachedump_new(struct syncd *sd)
{
	struct cachedump *cd;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return NULL;
	cd->sd = sd;
	for (int i = 0; i < DUMP_MAX; i++) {
		cd->run[i].cd = cd;
		sbuf_init(&cd->run[i].buf);
		cd->run[i].timer = ev_timer_new(sd->loop, dump_step,
		    &cd->run[i]);
		if (cd->run[i].timer == NULL) {
			cachedump_free(cd);
			return NULL;
		}
	}
	return cd;
}

void
cachedump_free(struct cachedump *cd)
{
	if (cd == NULL)
		return;
	for (int i = 0; i < DUMP_MAX; i++) {
		ev_timer_free(cd->run[i].timer);
		sbuf_free(&cd->run[i].buf);
	}
	free(cd);
}

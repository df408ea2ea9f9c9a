/*
 * reload.c: the configuration reload (SIGHUP): the settings read again
 * (main.c) compared with those running, and applied: peers removed and
 * added, the send filter and import policy replaced, the states held
 * checked against the new policy in slices. What only a restart changes
 * refuses the reload whole, as does a new peer that cannot be set up.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"
#include "sbuf.h"

#define RECHECK_SLICE 8192 /* held states checked per loop turn */

/* The walk that checks held states against a new policy. */
enum recheck_phase {
	RC_IMPORT,   /* every peer's cache: the import policy */
	RC_INTERNAL, /* our own states: the send filter */
	RC_UNSENT,   /* our own states kept home: the send filter */
	RC_DONE,
};

struct reload {
	struct syncd_conf run; /* the settings running */
	struct ev_timer *timer;
	int send, import; /* which checks the walk makes */
	enum recheck_phase phase;
	int peer;
	size_t pos;
	uint64_t epoch;
	size_t looked, refused, home, sent;
};

static const char *const fixed_names[FIX_N] = {
	[FIX_LISTEN] = "listen",
	[FIX_INTERFACE] = "interface",
	[FIX_PORT] = "port",
	[FIX_KEY] = "key",
	[FIX_MTU] = "mtu",
	[FIX_STAGE] = "stage",
	[FIX_CONTROL] = "control",
	[FIX_METRICS] = "metrics",
	[FIX_USER] = "user",
};

const char *
reload_fixed_name(enum fixed_setting f)
{
	return f < FIX_N ? fixed_names[f] : "?";
}

int
reload_fixed_index(const char *keyword)
{
	for (int i = 0; i < FIX_N; i++)
		if (strcmp(keyword, fixed_names[i]) == 0)
			return i;
	return -1;
}

int
reload_fixed_diff(const struct syncd_conf *run, const struct syncd_conf *c,
    char *err, size_t errlen)
{
	char where[300];

	for (int i = 0; i < FIX_N; i++) {
		if (strcmp(run->fixed[i], c->fixed[i]) == 0)
			continue;
		if (c->fixed_line[i] > 0)
			snprintf(where, sizeof(where), "%s:%d", c->file,
			    c->fixed_line[i]);
		else
			snprintf(where, sizeof(where), "%s", c->file);
		snprintf(err, errlen,
		    "%s: %s cannot change on reload (%s, running with %s); "
		    "restart syncd",
		    where, fixed_names[i],
		    c->fixed[i][0] != '\0' ? c->fixed[i] : "not set",
		    run->fixed[i][0] != '\0' ? run->fixed[i] : "not set");
		return -1;
	}
	return 0;
}

/* The next line of b at *pos (NUL-terminated in place), or NULL. */
static char *
next_line(struct sbuf *b, size_t *pos)
{
	char *s, *nl;

	if (b->p == NULL || *pos >= b->len)
		return NULL;
	s = b->p + *pos;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*pos = (size_t)(nl - b->p) + 1;
	} else
		*pos = b->len;
	return s;
}

int
reload_policy_diff(const struct policy *run, const struct policy *c,
    struct sbuf *out, int *send, int *import)
{
	struct sbuf a, b;
	size_t pa = 0, pb = 0;
	char *la, *lb;
	const char *old;
	int n = 0;

	*send = *import = 0;
	sbuf_init(&a);
	sbuf_init(&b);
	policy_print(run, &a);
	policy_print(c, &b);
	/* One line per keyword, the same keywords in the same order. */
	while ((la = next_line(&a, &pa)) != NULL &&
	    (lb = next_line(&b, &pb)) != NULL) {
		if (strcmp(la, lb) == 0)
			continue;
		n++;
		old = strchr(la, ' ') != NULL ? strchr(la, ' ') + 1 : "";
		sbuf_printf(out, "%s (was: %s)\n", lb, old);
		if (strncmp(lb, "sync-protocols", 14) == 0)
			*send = *import = 1;
		else if (strncmp(lb, "send-", 5) == 0)
			*send = 1;
		else
			*import = 1;
	}
	if (a.err || b.err)
		out->err = 1;
	sbuf_free(&a);
	sbuf_free(&b);
	return n;
}

/* --- the walk over held states --- */

/* p's expectations under the import policy (a small array). */
static void
recheck_expect(struct syncd *sd, struct peer *p)
{
	char why[160];
	enum pol_reason r;

	for (size_t i = 0; i < p->nexp;) {
		r = policy_import_expect(&sd->policy, &sd->helpers, &p->exp[i],
		    why, sizeof(why));
		if (r == POL_OK) {
			i++;
			continue;
		}
		engine_reject(p, r, why);
		p->exp[i] = p->exp[--p->nexp];
	}
}

/* The cache the walk is in; NULL when its phase has no more. */
static struct cache *
recheck_cache(struct syncd *sd, struct reload *rl)
{
	switch (rl->phase) {
	case RC_IMPORT:
		return rl->import && rl->peer < sd->npeers ?
		    sd->peers[rl->peer]->ext :
		    NULL;
	case RC_INTERNAL:
		return rl->send ? sd->internal : NULL;
	case RC_UNSENT:
		return rl->send ? sd->unsent : NULL;
	default:
		return NULL;
	}
}

/* On to the next peer's cache, or the next phase. */
static void
recheck_next(struct syncd *sd, struct reload *rl)
{
	rl->pos = 0;
	rl->epoch = (uint64_t)-1;
	if (rl->phase == RC_IMPORT && rl->import && ++rl->peer < sd->npeers) {
		recheck_expect(sd, sd->peers[rl->peer]);
		return;
	}
	rl->phase++;
}

/* One held state: refused now (a peer's), kept home or sent now (one
 * of ours). */
static void
recheck_entry(struct syncd *sd, struct reload *rl, struct cache *c,
    const struct ct_state *st)
{
	struct peer *p;
	enum pol_reason r;
	char why[160];

	switch (rl->phase) {
	case RC_IMPORT:
		p = sd->peers[rl->peer];
		r = policy_import(&sd->policy, &sd->local, &sd->helpers, st,
		    why, sizeof(why));
		if (r == POL_OK)
			return;
		engine_reject(p, r, why);
		engine_ext_drop(p, cache_take_at(c, rl->pos));
		rl->refused++;
		return;
	case RC_INTERNAL:
		rl->home += (size_t)engine_refilter(sd, st);
		return;
	default:
		rl->sent += (size_t)engine_refilter(sd, st);
		return;
	}
}

static void
recheck_step(struct ev_timer *t, void *arg)
{
	struct syncd *sd = arg;
	struct reload *rl = sd->reload;
	uint32_t now = syncd_now_s();
	size_t n = 0;
	struct centry *e;
	struct cache *c;
	struct ct_state st;

	while (rl->phase != RC_DONE && n < RECHECK_SLICE) {
		if ((c = recheck_cache(sd, rl)) == NULL) {
			recheck_next(sd, rl);
			continue;
		}
		if (rl->epoch != cache_epoch(c)) {
			rl->pos = 0;
			rl->epoch = cache_epoch(c);
		}
		while (n < RECHECK_SLICE &&
		    (e = cache_next(c, &rl->pos)) != NULL) {
			n++;
			if (centry_state(e, now, &st) == 0)
				recheck_entry(sd, rl, c, &st);
		}
		if (n < RECHECK_SLICE)
			recheck_next(sd, rl);
	}
	rl->looked += n;
	if (rl->phase != RC_DONE) {
		ev_timer_arm(t, 0);
		return;
	}
	log_info("reload: %zu held states checked against the new policy: "
		 "%zu of the peers' refused, %zu of ours kept home now, %zu "
		 "of ours sent now",
	    rl->looked, rl->refused, rl->home, rl->sent);
}

/* Check the held states again (from the start, also when a walk runs:
 * the peers may have moved). */
static void
recheck_start(struct syncd *sd, int send, int import)
{
	struct reload *rl = sd->reload;

	if (rl->phase != RC_DONE) {
		send |= rl->send;
		import |= rl->import;
	}
	rl->send = send;
	rl->import = import;
	rl->phase = RC_IMPORT;
	rl->peer = 0;
	rl->pos = 0;
	rl->epoch = (uint64_t)-1;
	rl->looked = rl->refused = rl->home = rl->sent = 0;
	if (import && sd->npeers > 0)
		recheck_expect(sd, sd->peers[0]);
	ev_timer_arm(rl->timer, 0);
}

/* --- applying --- */

static int
same_sa(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		    a4->sin_port == b4->sin_port;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0 &&
	    a6->sin6_port == b6->sin6_port;
}

/* Whether c keeps the running peer p. */
static int
conf_has_peer(const struct syncd_conf *c, const struct peer *p)
{
	for (int i = 0; i < c->npeers; i++)
		if (same_sa(&c->peer[i], &p->sa))
			return 1;
	return 0;
}

/*
 * The peers of c that are new, made ready to join (add[], *nadd).
 * Nothing has changed yet: -1 with err when one cannot be set up.
 */
static int
peers_new(struct syncd *sd, const struct syncd_conf *c, struct peer **add,
    int *nadd, char *err, size_t errlen)
{
	int known;

	*nadd = 0;
	for (int i = 0; i < c->npeers; i++) {
		known = 0;
		for (int j = 0; j < sd->npeers && !known; j++)
			known = same_sa(&c->peer[i], &sd->peers[j]->sa);
		if (known)
			continue;
		if ((add[*nadd] = peer_new(sd, &c->peer[i], c->peerlen[i])) ==
		    NULL) {
			snprintf(err, errlen,
			    "%s: a new peer cannot be set up (see the line "
			    "before); nothing changed",
			    c->file);
			while (*nadd > 0)
				peer_free(add[--*nadd]);
			return -1;
		}
		(*nadd)++;
	}
	return 0;
}

/* The policy lines that changed, logged one each. */
static void
log_policy(const struct sbuf *b)
{
	const char *s = b->p, *nl;

	while (s != NULL && *s != '\0') {
		nl = strchr(s, '\n');
		log_info("reload: %.*s",
		    nl != NULL ? (int)(nl - s) : (int)strlen(s), s);
		s = nl != NULL ? nl + 1 : NULL;
	}
}

/* Take away the running peers c does not have; returns how many. */
static int
peers_remove(struct syncd *sd, const struct syncd_conf *c)
{
	int n = 0;

	for (int i = 0; i < sd->npeers;) {
		if (conf_has_peer(c, sd->peers[i])) {
			i++;
			continue;
		}
		peer_remove(sd->peers[i]);
		n++;
	}
	return n;
}

int
reload_apply(struct syncd *sd, const struct syncd_conf *c, char *err,
    size_t errlen)
{
	struct reload *rl = sd->reload;
	struct peer *add[SYNCD_MAXPEERS];
	struct sbuf pol;
	int nadd, nrem, npol, send, import;

	if (reload_fixed_diff(&rl->run, c, err, errlen) == -1 ||
	    peers_new(sd, c, add, &nadd, err, errlen) == -1)
		return -1;
	/* From here on nothing fails. */
	nrem = peers_remove(sd, c);
	for (int i = 0; i < nadd; i++)
		peer_join(add[i]);
	sbuf_init(&pol);
	npol = reload_policy_diff(&rl->run.policy, &c->policy, &pol, &send,
	    &import);
	log_policy(&pol);
	sbuf_free(&pol);
	sd->policy = c->policy;
	if (npol > 0 || (nrem > 0 && rl->phase != RC_DONE))
		recheck_start(sd, send, import);
	rl->run = *c;
	sd->reloads++;
	event_reload("ok", c->file, nadd, nrem, npol, NULL,
	    "reloaded %s: %d peer(s) added, %d removed, %d policy "
	    "setting(s) changed%s",
	    c->file, nadd, nrem, npol,
	    nadd + nrem + npol == 0 ? " (no change)" : "");
	return 0;
}

void
reload_refused(struct syncd *sd, const char *file, const char *err)
{
	sd->reloads_refused++;
	/* The error as at start (file:line: reason), then the event. */
	log_warnx("%s", err);
	event_reload("refused", file, 0, 0, 0, err,
	    "reload of %s refused; the running configuration stays", file);
}

int
reload_init(struct syncd *sd, const struct syncd_conf *run)
{
	struct reload *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return -1;
	if ((rl->timer = ev_timer_new(sd->loop, recheck_step, sd)) == NULL) {
		free(rl);
		return -1;
	}
	rl->run = *run;
	rl->phase = RC_DONE;
	sd->reload = rl;
	return 0;
}

void
reload_free(struct syncd *sd)
{
	if (sd->reload == NULL)
		return;
	ev_timer_free(sd->reload->timer);
	free(sd->reload);
	sd->reload = NULL;
}

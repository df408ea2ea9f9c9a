/*
 * fsm.c: the CARP election of one vhid (OpenBSD ip_carp.c semantics, with
 * the demote byte), on an injected clock so it can be table-tested.
 */
#include <stddef.h>
#include <string.h>

#include "carp.h"
#include "fsm.h"

const char *const carp_state_names[3] = { "INIT", "BACKUP", "MASTER" };

const char *const fsm_ev_names[FSM_NEV] = {
	[FSM_EV_UP] = "up",
	[FSM_EV_DOWN] = "down",
	[FSM_EV_ADV] = "advertisement",
	[FSM_EV_TIMER] = "timer",
	[FSM_EV_DEMOTE] = "demotion",
	[FSM_EV_COMMIT] = "commit",
	[FSM_EV_SHUTDOWN] = "shutdown",
	[FSM_EV_HANDOVER] = "handover",
	[FSM_EV_TAKEOVER] = "group",
	[FSM_EV_HOLD] = "hold",
	[FSM_EV_REMOVE] = "removed",
	[FSM_EV_CONFIG] = "config",
};

void
fsm_init(struct fsm *f, const struct fsm_cfg *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->state = CARP_ST_INIT;
	f->last_from = CARP_ST_INIT;
	f->last_reason = "start";
}

unsigned int
fsm_demotion(const struct fsm *f)
{
	unsigned int sb = f->standby < f->demote ? f->standby : f->demote;

	return f->state == CARP_ST_MASTER ? f->demote - sb : f->demote;
}

uint8_t
fsm_wire_advskew(const struct fsm *f)
{
	unsigned int s = f->cfg.advskew, d = fsm_demotion(f);

	/* FreeBSD style: peers that ignore the demote byte see it here. */
	if (f->cfg.demote_skew && d > 0 && s < CARP_MAXSKEW) {
		s += d;
		if (s > CARP_MAXSKEW)
			s = CARP_MAXSKEW;
	}
	return (uint8_t)s;
}

uint8_t
fsm_wire_demote(const struct fsm *f)
{
	unsigned int d = fsm_demotion(f);

	return d > CARP_DEMOTE_MAX ? CARP_DEMOTE_MAX : (uint8_t)d;
}

uint64_t
fsm_adv_ns(const struct fsm *f)
{
	return carp_adv_ns(f->cfg.advbase, fsm_wire_advskew(f));
}

static unsigned int
deadratio(const struct fsm *f)
{
	return f->cfg.deadratio ? f->cfg.deadratio : 3;
}

uint64_t
fsm_down_ns(const struct fsm *f)
{
	uint64_t skew;

	if (deadratio(f) == 3)
		return carp_down_ns(f->cfg.advbase, fsm_wire_advskew(f));
	/* ucarp --deadratio: ratio * advbase + advskew / 256 */
	if (f->cfg.advbase == 0)
		return deadratio(f) * carp_adv_ns(0, fsm_wire_advskew(f));
	skew = (uint64_t)fsm_wire_advskew(f) * 1000000000ULL / 256;
	return (uint64_t)deadratio(f) * f->cfg.advbase * 1000000000ULL + skew;
}

uint64_t
fsm_hold_left(const struct fsm *f, uint64_t now)
{
	return f->hold_until > now ? f->hold_until - now : 0;
}

uint64_t
fsm_next(const struct fsm *f)
{
	const uint64_t t[4] = { f->ad_at, f->down_at, f->announce_at,
		f->commit_at };
	uint64_t m = 0;

	for (size_t i = 0; i < 4; i++)
		if (t[i] != 0 && (m == 0 || t[i] < m))
			m = t[i];
	return m;
}

/* The one place that writes the state. */
static void
set_state(struct fsm *f, enum carp_state st, const char *reason, uint64_t now,
    struct fsm_out *o)
{
	if (f->state == st)
		return;
	if (!o->changed)
		o->from = f->state;
	o->changed = 1;
	o->reason = reason;
	f->last_from = f->state;
	f->last_at = now;
	f->last_reason = reason;
	f->transitions++;
	f->transitions_by[st][f->step_ev]++;
	f->state = st;
}

/* The one place that sets the timers from the state. */
static void
rearm(struct fsm *f, uint64_t now)
{
	switch (f->state) {
	case CARP_ST_INIT:
		f->ad_at = f->down_at = f->announce_at = f->commit_at = 0;
		f->pending = 0;
		f->contention = 0;
		break;
	case CARP_ST_BACKUP:
		f->ad_at = f->announce_at = 0;
		f->contention = 0;
		if (f->pending)
			f->down_at = 0;
		else {
			f->commit_at = 0;
			f->down_at = now + fsm_down_ns(f);
		}
		break;
	case CARP_ST_MASTER:
		f->down_at = f->commit_at = 0;
		f->pending = 0;
		f->ad_at = now + fsm_adv_ns(f);
		break;
	}
}

static void
become_master(struct fsm *f, const char *reason, uint64_t now,
    struct fsm_out *o)
{
	set_state(f, CARP_ST_MASTER, reason, now, o);
	/* Mastership, however it came, ends the hold-down. */
	f->hold_until = 0;
	rearm(f, now);
	/* "to deal with some L3 switches": a second round two ads later */
	f->announce_at = now + 2 * fsm_adv_ns(f);
	o->actions |= FSM_A_ADDRS_ADD | FSM_A_SEND_AD | FSM_A_ANNOUNCE |
	    FSM_A_RUN_UP;
}

static void
takeover(struct fsm *f, const char *reason, uint64_t now, struct fsm_out *o)
{
	if (f->pending)
		return;
	if (f->cfg.sync) {
		f->pending = 1;
		f->pending_reason = reason;
		f->commit_at = now + f->cfg.sync_timeout_ns;
		f->down_at = 0;
		o->actions |= FSM_A_COMMIT;
		o->reason = reason;
		return;
	}
	become_master(f, reason, now, o);
}

static void
step_down(struct fsm *f, enum carp_state to, const char *reason, uint64_t now,
    struct fsm_out *o)
{
	int was_master = f->state == CARP_ST_MASTER;

	set_state(f, to, reason, now, o);
	f->pending = 0;
	rearm(f, now);
	if (was_master) {
		o->actions |= FSM_A_ADDRS_DEL | FSM_A_RUN_DOWN;
		if (to == CARP_ST_BACKUP)
			o->actions |= FSM_A_RESYNC;
	}
}

/*
 * Preemption is held back while the hold-down runs: the first held
 * advertisement of a hold is reported to the caller, the rest counted.
 */
static int
held(struct fsm *f, uint64_t now, struct fsm_out *o)
{
	if (fsm_hold_left(f, now) == 0)
		return 0;
	f->held++;
	if (!f->hold_logged) {
		f->hold_logged = 1;
		o->actions |= FSM_A_HELD;
		o->reason = "preemption held back by preempt-delay";
	}
	return 1;
}

static void
on_adv(struct fsm *f, const struct fsm_adv *a, uint64_t now, struct fsm_out *o)
{
	unsigned int our_interval, their_interval, our_demote, their_demote;
	int bowout, release;

	/* advbase.advskew as one number: the smaller advertises faster. */
	our_interval = (unsigned int)f->cfg.advbase << 8 | fsm_wire_advskew(f);
	/* cppcheck-suppress ctunullpointer ; only FSM_EV_ADV, never NULL */
	their_interval = (unsigned int)a->advbase << 8 | a->advskew;
	our_demote = fsm_wire_demote(f);
	their_demote = a->demote;
	bowout = a->advbase == CARP_BOWOUT && a->advskew == CARP_BOWOUT;
	/* The slowest advertisement there is; carpd sends it for a vhid
	 * taken out of its configuration (OpenBSD sees a bow-out). */
	release = a->advbase == CARP_BOWOUT && a->advskew == CARP_RELEASE;

	switch (f->state) {
	case CARP_ST_INIT:
		return;
	case CARP_ST_MASTER:
		/*
		 * Equal intervals and equal demotion: we yield (OpenBSD);
		 * a master that is bowing out never makes us yield.
		 */
		if (!bowout && !release &&
		    ((our_interval >= their_interval &&
			 their_demote <= our_demote) ||
			their_demote < our_demote)) {
			step_down(f, CARP_ST_BACKUP,
			    their_demote < our_demote ?
				"less demoted master seen" :
				"more frequent advertisement received",
			    now, o);
			return;
		}
		if (bowout || release)
			return;
		if (!f->contention) {
			f->contention = 1;
			f->splitbrain++;
			o->actions |= FSM_A_SPLITBRAIN | FSM_A_SEND_AD;
			o->reason = "another MASTER seen";
		}
		f->contention_last = now;
		return;
	case CARP_ST_BACKUP:
		/*
		 * A bow-out or a demoted master are about the peer node, not
		 * this vhid: the caller moves the node's other vhids too, so
		 * that they do not wait for their own master-down timers.
		 */
		if (bowout) {
			takeover(f, "master bowed out", now, o);
			o->actions |= FSM_A_GROUP;
			return;
		}
		/* Only this vhid left that node: the others stay as they are. */
		if (release) {
			takeover(f, "master released the vhid", now, o);
			return;
		}
		if (f->cfg.preempt && our_interval < their_interval &&
		    their_demote >= our_demote && !held(f, now, o)) {
			takeover(f, "preempting a slower master", now, o);
			return;
		}
		if (their_demote > our_demote) {
			takeover(f, "master is more demoted", now, o);
			o->actions |= FSM_A_GROUP;
			return;
		}
		/* It advertises so slowly that it will time out anyway. */
		if (f->cfg.advbase != 0 &&
		    ((unsigned int)f->cfg.advbase * deadratio(f)) << 8 <
			their_interval) {
			takeover(f, "master will time out", now, o);
			return;
		}
		if (f->pending) {
			f->pending = 0;
			o->actions |= FSM_A_ABANDON;
			o->reason = "better master heard during commit";
		}
		rearm(f, now);
		return;
	}
}

static void
on_timer(struct fsm *f, uint64_t now, struct fsm_out *o)
{
	if (f->pending && f->commit_at != 0 && now >= f->commit_at) {
		become_master(f, f->pending_reason, now, o);
		o->actions |= FSM_A_NOCOMMIT;
		return;
	}
	if (f->state == CARP_ST_BACKUP && f->down_at != 0 &&
	    now >= f->down_at) {
		takeover(f, "master timed out", now, o);
		return;
	}
	if (f->state != CARP_ST_MASTER)
		return;
	if (f->ad_at != 0 && now >= f->ad_at) {
		o->actions |= FSM_A_SEND_AD;
		f->ad_at = now + fsm_adv_ns(f);
		if (f->contention &&
		    now - f->contention_last > fsm_down_ns(f)) {
			/* The winner re-announces its addresses. */
			f->contention = 0;
			o->actions |= FSM_A_ANNOUNCE | FSM_A_CONTENDED;
			o->reason = "contention ended";
		}
	}
	if (f->announce_at != 0 && now >= f->announce_at) {
		f->announce_at = 0;
		o->actions |= FSM_A_ANNOUNCE;
	}
}

/*
 * New settings for the same vhid, without a transition: the deadlines
 * already set keep running. A MASTER whose advertised timers change tells
 * its peers at once, as it does for a change of demotion; the new values
 * set the deadlines from then on.
 */
static void
reconfigure(struct fsm *f, const struct fsm_cfg *c, uint64_t now,
    struct fsm_out *o)
{
	uint8_t base = f->cfg.advbase, skew = fsm_wire_advskew(f);
	uint8_t vhid = f->cfg.vhid;

	f->cfg = *c;
	f->cfg.vhid = vhid;
	if (f->cfg.hold_ns == 0 || !f->cfg.preempt)
		f->hold_until = 0;
	else if (f->hold_until > now + f->cfg.hold_ns)
		f->hold_until = now + f->cfg.hold_ns;
	if (f->state == CARP_ST_MASTER &&
	    (base != f->cfg.advbase || skew != fsm_wire_advskew(f))) {
		o->actions |= FSM_A_SEND_AD;
		f->ad_at = now + fsm_adv_ns(f);
	}
}

void
fsm_step(struct fsm *f, enum fsm_ev ev, const void *arg, uint64_t now,
    struct fsm_out *o)
{
	unsigned int old;

	memset(o, 0, sizeof(*o));
	o->from = f->state;
	f->step_ev = ev;
	switch (ev) {
	case FSM_EV_UP:
		if (f->state == CARP_ST_INIT) {
			set_state(f, CARP_ST_BACKUP, "initialization complete",
			    now, o);
			rearm(f, now);
		}
		break;
	case FSM_EV_DOWN:
		if (f->state != CARP_ST_INIT)
			step_down(f, CARP_ST_INIT, "interface down", now, o);
		break;
	case FSM_EV_ADV:
		on_adv(f, arg, now, o);
		break;
	case FSM_EV_TIMER:
		on_timer(f, now, o);
		break;
	case FSM_EV_DEMOTE:
		old = fsm_demotion(f);
		f->demote = ((const struct fsm_demote *)arg)->total;
		f->standby = ((const struct fsm_demote *)arg)->standby;
		/* Raising (or lowering) demotion is advertised at once. */
		if (f->state == CARP_ST_MASTER && fsm_demotion(f) != old) {
			o->actions |= FSM_A_SEND_AD;
			f->ad_at = now + fsm_adv_ns(f);
		}
		break;
	case FSM_EV_TAKEOVER:
		if (f->state == CARP_ST_BACKUP)
			takeover(f, arg != NULL ? arg : "group", now, o);
		break;
	case FSM_EV_HOLD:
		/* A master has nobody to preempt: nothing to hold. */
		if (f->cfg.hold_ns != 0 && f->state != CARP_ST_MASTER) {
			f->hold_until = now + f->cfg.hold_ns;
			f->hold_logged = 0;
		}
		break;
	case FSM_EV_COMMIT:
		if (f->pending && f->state == CARP_ST_BACKUP)
			become_master(f, f->pending_reason, now, o);
		break;
	case FSM_EV_SHUTDOWN:
	case FSM_EV_HANDOVER:
		if (f->state == CARP_ST_MASTER)
			o->actions |= FSM_A_SEND_BOWOUT;
		if (ev == FSM_EV_SHUTDOWN) {
			if (f->state != CARP_ST_INIT)
				step_down(f, CARP_ST_INIT, "shutdown", now, o);
			/* Like ucarp -z: the down script always runs. */
			o->actions |= FSM_A_RUN_DOWN;
		} else if (f->state == CARP_ST_MASTER)
			step_down(f, CARP_ST_BACKUP, "handover", now, o);
		break;
	case FSM_EV_REMOVE:
		/* As a shutdown of this vhid alone: a release, not a bow-out,
		 * so that the peer moves only this vhid. */
		if (f->state == CARP_ST_MASTER)
			o->actions |= FSM_A_SEND_RELEASE;
		if (f->state != CARP_ST_INIT)
			step_down(f, CARP_ST_INIT,
			    "removed from the configuration", now, o);
		o->actions |= FSM_A_RUN_DOWN;
		break;
	case FSM_EV_CONFIG:
		reconfigure(f, arg, now, o);
		break;
	}
}

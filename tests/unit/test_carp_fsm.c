/*
 * test_carp_fsm.c: the CARP state machine on a fake clock: election,
 * preemption, demotion, tie-break, bow-out, "master will time out",
 * split brain, the sync commit wait and the preemption hold-down; a
 * vhid removed or reconfigured by a reload, and a release received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "carp.h"
#include "fsm.h"

#define S  1000000000ULL
#define MS 1000000ULL

static struct fsm f;
static struct fsm_out o;
static uint64_t now;

static void
setup(uint8_t advbase, uint8_t advskew, int preempt)
{
	struct fsm_cfg c = { 0 };

	c.vhid = 1;
	c.advbase = advbase;
	c.advskew = advskew;
	c.preempt = preempt;
	fsm_init(&f, &c);
	now = 1000 * S;
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
}

/* The node's demotion: total, of which standby counts only outside
 * MASTER. */
static void
demote(unsigned int total, unsigned int standby)
{
	struct fsm_demote d = { total, standby };

	fsm_step(&f, FSM_EV_DEMOTE, &d, now, &o);
}

static void
adv(uint8_t advbase, uint8_t advskew, uint8_t demote)
{
	struct fsm_adv a = { advbase, advskew, demote };

	fsm_step(&f, FSM_EV_ADV, &a, now, &o);
}

/* Advance the clock to t, firing the timer at each deadline on the way;
 * returns the OR of the actions. */
static unsigned int
run_until(uint64_t t)
{
	unsigned int acts = 0;
	uint64_t n;

	while ((n = fsm_next(&f)) != 0 && n <= t) {
		now = n;
		fsm_step(&f, FSM_EV_TIMER, NULL, now, &o);
		acts |= o.actions;
	}
	now = t;
	return acts;
}

static void
test_start_backup_then_master(void **state)
{
	unsigned int a;

	(void)state;
	setup(1, 0, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	assert_int_equal(o.changed, 1);
	assert_int_equal(f.down_at, now + 3 * S);
	a = run_until(now + 3 * S - 1);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	assert_int_equal(a, 0);
	a = run_until(now + 1);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_true(a & FSM_A_ADDRS_ADD);
	assert_true(a & FSM_A_SEND_AD);
	assert_true(a & FSM_A_ANNOUNCE);
	assert_true(a & FSM_A_RUN_UP);
	assert_string_equal(f.last_reason, "master timed out");
	/* ads every second; a second announce two ads later, only once */
	a = run_until(now + 2 * S);
	assert_true(a & FSM_A_ANNOUNCE);
	assert_int_equal(f.announce_at, 0);
	a = run_until(now + 5 * S);
	assert_true(a & FSM_A_SEND_AD);
	assert_false(a & FSM_A_ANNOUNCE);
}

static void
test_backup_reset_by_ads(void **state)
{
	int i;

	(void)state;
	setup(1, 100, 0);
	for (i = 0; i < 10; i++) {
		run_until(now + S);
		adv(1, 50, 0);
		assert_int_equal(f.state, CARP_ST_BACKUP);
	}
	/* master-down: 3 * advbase + advskew / 256 */
	assert_int_equal(f.down_at - now, 3 * S + 100 * S / 256);
}

static void
test_master_election(void **state)
{
	struct {
		uint8_t myb, mys, D, b, s, d;
		int stays;
	} t[] = {
		{ 1, 100, 0, 1, 50, 0, 0 }, /* faster peer wins */
		{ 1, 50, 0, 1, 100, 0, 1 }, /* slower peer loses */
		{ 1, 50, 0, 1, 50, 0, 0 },  /* equal: we yield */
		{ 1, 50, 0, 2, 0, 0, 1 },   /* advbase first */
		{ 2, 0, 0, 1, 255, 0, 0 },
		{ 1, 0, 1, 1, 200, 0, 0 },   /* we are more demoted */
		{ 1, 200, 0, 1, 0, 1, 1 },   /* peer more demoted */
		{ 1, 50, 2, 1, 50, 2, 0 },   /* equal demotion, equal */
		{ 1, 0, 0, 255, 255, 0, 1 }, /* bow-out never wins */
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setup(t[i].myb, t[i].mys, 0);
		demote(t[i].D, 0);
		run_until(now + 10 * S);
		assert_int_equal(f.state, CARP_ST_MASTER);
		adv(t[i].b, t[i].s, t[i].d);
		assert_int_equal(f.state,
		    t[i].stays ? CARP_ST_MASTER : CARP_ST_BACKUP);
		if (!t[i].stays) {
			assert_true(o.actions & FSM_A_ADDRS_DEL);
			assert_true(o.actions & FSM_A_RUN_DOWN);
			assert_true(o.actions & FSM_A_RESYNC);
		}
	}
}

static void
test_preempt(void **state)
{
	(void)state;
	/* Without preempt a better backup waits. */
	setup(1, 0, 0);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	/* With it, it takes over a slower master at once. */
	setup(1, 0, 1);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "preempting a slower master");
	/* ... but not one that is less demoted than we are. */
	setup(1, 0, 1);
	demote(1, 0);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	/* ... nor a faster one. */
	setup(1, 100, 1);
	adv(1, 0, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	/* Equal: no preemption. */
	setup(1, 100, 1);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
}

static void
test_demoted_master_taken_over(void **state)
{
	(void)state;
	/* Regardless of preempt, a more demoted master is taken over. */
	setup(1, 200, 0);
	adv(1, 0, 1);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master is more demoted");
}

static void
test_will_time_out(void **state)
{
	(void)state;
	setup(1, 0, 0);
	adv(4, 0, 0); /* 3 * 1 < 4 */
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master will time out");
	setup(1, 0, 0);
	adv(3, 0, 0); /* 3 s is not more than 3 s */
	assert_int_equal(f.state, CARP_ST_BACKUP);
	setup(1, 0, 0);
	adv(3, 1, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	/* advbase 0: rule skipped */
	setup(0, 20, 0);
	adv(1, 0, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
}

static void
test_bowout(void **state)
{
	unsigned int a;

	(void)state;
	/* Backup takes over from a bow-out even with advbase 0. */
	setup(0, 20, 0);
	adv(255, 255, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master bowed out");
	/* Master shutting down sends it and runs the down script. */
	fsm_step(&f, FSM_EV_SHUTDOWN, NULL, now, &o);
	/* Each transition counted by its state and cause, once. */
	assert_int_equal(f.transitions, 3);
	assert_int_equal(f.transitions_by[CARP_ST_BACKUP][FSM_EV_UP], 1);
	assert_int_equal(f.transitions_by[CARP_ST_MASTER][FSM_EV_ADV], 1);
	assert_int_equal(f.transitions_by[CARP_ST_INIT][FSM_EV_SHUTDOWN], 1);
	assert_string_equal(fsm_ev_names[FSM_EV_ADV], "advertisement");
	a = o.actions;
	assert_true(a & FSM_A_SEND_BOWOUT);
	assert_true(a & FSM_A_ADDRS_DEL);
	assert_true(a & FSM_A_RUN_DOWN);
	assert_int_equal(f.state, CARP_ST_INIT);
	assert_int_equal(fsm_next(&f), 0);
	/* A backup shutting down sends nothing. */
	setup(1, 0, 0);
	fsm_step(&f, FSM_EV_SHUTDOWN, NULL, now, &o);
	assert_false(o.actions & FSM_A_SEND_BOWOUT);
	assert_true(o.actions & FSM_A_RUN_DOWN);
	/* Handover: bow out, stay BACKUP. */
	setup(1, 0, 0);
	run_until(now + 4 * S);
	fsm_step(&f, FSM_EV_HANDOVER, NULL, now, &o);
	assert_true(o.actions & FSM_A_SEND_BOWOUT);
	assert_int_equal(f.state, CARP_ST_BACKUP);
}

static void
test_group(void **state)
{
	(void)state;
	/* Node-level causes ask the caller to move the other vhids. */
	setup(1, 100, 0);
	adv(1, 0, 1);
	assert_true(o.actions & FSM_A_GROUP);
	setup(1, 100, 0);
	adv(255, 255, 0);
	assert_true(o.actions & FSM_A_GROUP);
	/* Per-vhid causes do not. */
	setup(1, 0, 1);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_false(o.actions & FSM_A_GROUP);
	setup(1, 0, 0);
	run_until(now + 4 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_false(o.actions & FSM_A_GROUP);
	/* The caller's takeover: BACKUP moves, others ignore it. */
	setup(1, 100, 0);
	fsm_step(&f, FSM_EV_TAKEOVER, "with vhid 2", now, &o);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "with vhid 2");
	assert_false(o.actions & FSM_A_GROUP);
	fsm_step(&f, FSM_EV_TAKEOVER, "again", now, &o);
	assert_int_equal(o.actions, 0);
	fsm_step(&f, FSM_EV_DOWN, NULL, now, &o);
	fsm_step(&f, FSM_EV_TAKEOVER, "init", now, &o);
	assert_int_equal(f.state, CARP_ST_INIT);
}

static void
test_subsecond(void **state)
{
	(void)state;
	setup(0, 32, 0);
	assert_int_equal(f.down_at - now, 375 * MS);
	run_until(now + 375 * MS);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_int_equal(f.ad_at - now, 125 * MS);
}

static void
test_deadratio(void **state)
{
	(void)state;
	setup(1, 64, 0);
	f.cfg.deadratio = 2;
	fsm_step(&f, FSM_EV_DOWN, NULL, now, &o);
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	/* ucarp: ratio * advbase + advskew / 256 */
	assert_int_equal(f.down_at - now, 2 * S + S / 4);
	adv(2, 1, 0); /* 2 * 1 s < 2.004 s: will time out */
	assert_int_equal(f.state, CARP_ST_MASTER);
	setup(1, 0, 0);
	f.cfg.deadratio = 2;
	fsm_step(&f, FSM_EV_DOWN, NULL, now, &o);
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	assert_int_equal(f.down_at - now, 2 * S);
	setup(0, 64, 0);
	f.cfg.deadratio = 4;
	fsm_step(&f, FSM_EV_DOWN, NULL, now, &o);
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	assert_int_equal(f.down_at - now, S);
}

static void
test_demotion(void **state)
{
	(void)state;
	setup(1, 10, 0);
	run_until(now + 4 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	demote(1, 0);
	assert_true(o.actions & FSM_A_SEND_AD); /* at once */
	assert_int_equal(fsm_wire_demote(&f), 1);
	assert_int_equal(fsm_wire_advskew(&f), 10); /* not folded */
	/* FreeBSD style folding, clamped at 240. */
	f.cfg.demote_skew = 1;
	assert_int_equal(fsm_wire_advskew(&f), 11);
	demote(1000, 0);
	assert_int_equal(fsm_wire_advskew(&f), CARP_MAXSKEW);
	assert_int_equal(fsm_wire_demote(&f), 255);
	/* Link loss: INIT, addresses dropped. */
	fsm_step(&f, FSM_EV_DOWN, NULL, now, &o);
	assert_int_equal(f.state, CARP_ST_INIT);
	assert_true(o.actions & FSM_A_ADDRS_DEL);
	adv(1, 0, 0);
	assert_int_equal(f.state, CARP_ST_INIT);
	assert_int_equal(fsm_next(&f), 0);
}

static void
test_splitbrain(void **state)
{
	unsigned int a;

	(void)state;
	setup(1, 0, 0);
	run_until(now + 4 * S);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_true(o.actions & FSM_A_SPLITBRAIN);
	assert_int_equal(f.splitbrain, 1);
	run_until(now + S);
	adv(1, 100, 0);
	assert_false(o.actions & FSM_A_SPLITBRAIN); /* counted once */
	assert_int_equal(f.splitbrain, 1);
	/* It stops: after a master-down time we re-announce. */
	a = run_until(now + 5 * S);
	assert_true(a & FSM_A_CONTENDED);
	assert_true(a & FSM_A_ANNOUNCE);
	adv(1, 100, 0);
	assert_int_equal(f.splitbrain, 2);
}

static void
test_sync_commit(void **state)
{
	struct fsm_cfg c = { 0 };
	unsigned int a;

	(void)state;
	c.vhid = 1;
	c.advbase = 1;
	c.sync = 1;
	c.sync_timeout_ns = 2 * S;
	fsm_init(&f, &c);
	now = 100 * S;
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	a = run_until(now + 3 * S);
	assert_true(a & FSM_A_COMMIT);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	assert_true(f.pending);
	fsm_step(&f, FSM_EV_COMMIT, NULL, now, &o);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_true(o.actions & FSM_A_ADDRS_ADD);

	/* Timeout: proceed anyway. */
	fsm_init(&f, &c);
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	run_until(now + 3 * S);
	assert_true(f.pending);
	a = run_until(now + 2 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_true(a & FSM_A_ADDRS_ADD);
	assert_true(a & FSM_A_NOCOMMIT);
	assert_string_equal(f.last_reason, "master timed out");

	/* A better master during the wait abandons the takeover. */
	fsm_init(&f, &c);
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	run_until(now + 3 * S);
	assert_true(f.pending);
	adv(1, 0, 0);
	assert_true(o.actions & FSM_A_ABANDON);
	assert_false(f.pending);
	fsm_step(&f, FSM_EV_COMMIT, NULL, now, &o);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	assert_int_not_equal(f.down_at, 0);
}

/* A preempting backup with preempt-delay hold_s, its hold started now. */
static void
setup_hold(uint64_t hold_ns)
{
	struct fsm_cfg c = { 0 };

	c.vhid = 1;
	c.advbase = 1;
	c.preempt = 1;
	c.hold_ns = hold_ns;
	fsm_init(&f, &c);
	now = 1000 * S;
	fsm_step(&f, FSM_EV_UP, NULL, now, &o);
	fsm_step(&f, FSM_EV_HOLD, NULL, now, &o);
}

/* A slower master advertising once a second from now until t; returns
 * the OR of the actions, stops early when we take over. */
static unsigned int
slower_master_until(uint64_t t)
{
	unsigned int acts = 0;

	while (now + S <= t && f.state == CARP_ST_BACKUP) {
		run_until(now + S);
		adv(1, 100, 0);
		acts |= o.actions;
	}
	return acts;
}

static void
test_preempt_hold(void **state)
{
	const struct {
		const char *what;
		uint64_t hold;	    /* preempt-delay */
		uint64_t rehold;    /* restart it then (0: no) */
		uint64_t master_by; /* MASTER first seen after */
	} t[] = {
		/* no delay: the first advertisement is preempted */
		{ "none", 0, 0, 1 * S },
		/* held 5 s: the first advertisement after it */
		{ "5 s", 5 * S, 0, 5 * S },
		/* restarted at 3 s (a link came back): 3 + 5 s */
		{ "restarted", 5 * S, 3 * S, 8 * S },
	};
	uint64_t t0, took;
	unsigned int a;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setup_hold(t[i].hold);
		t0 = now;
		a = 0;
		if (t[i].rehold) {
			a |= slower_master_until(t0 + t[i].rehold);
			fsm_step(&f, FSM_EV_HOLD, NULL, now, &o);
		}
		a |= slower_master_until(t0 + 20 * S);
		took = now - t0;
		assert_int_equal(f.state, CARP_ST_MASTER);
		assert_string_equal(f.last_reason,
		    "preempting a slower master");
		/* Taken with the first advertisement after the hold. */
		if (took < t[i].master_by || took > t[i].master_by + S)
			fail_msg("%s: MASTER after %llu ms", t[i].what,
			    (unsigned long long)(took / MS));
		assert_int_equal(!!(a & FSM_A_HELD), t[i].hold != 0);
		assert_int_equal(f.hold_until, 0);
		assert_int_equal(fsm_hold_left(&f, now), 0);
	}

	/* Only the first held advertisement of a hold is reported. */
	setup_hold(5 * S);
	adv(1, 100, 0);
	assert_true(o.actions & FSM_A_HELD);
	assert_int_equal(fsm_hold_left(&f, now), 5 * S);
	adv(1, 100, 0);
	assert_false(o.actions & FSM_A_HELD);
	assert_int_equal(f.held, 2);
	/* Held advertisements still reset the master-down timer. */
	assert_int_equal(f.down_at, now + fsm_down_ns(&f));
}

static void
test_preempt_hold_not_master_down(void **state)
{
	(void)state;
	/* The master goes silent during the hold: taken over at once. */
	setup_hold(30 * S);
	adv(1, 100, 0);
	run_until(now + 3 * S + 1);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master timed out");
	assert_int_equal(f.hold_until, 0);
	/* A hold asked for while MASTER does nothing. */
	fsm_step(&f, FSM_EV_HOLD, NULL, now, &o);
	assert_int_equal(f.hold_until, 0);

	/* A more demoted master is taken over during the hold. */
	setup_hold(30 * S);
	adv(1, 100, 1);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master is more demoted");

	/* So is one bowing out. */
	setup_hold(30 * S);
	adv(CARP_BOWOUT, CARP_BOWOUT, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);

	/* A demoted backup does not preempt even after the hold. */
	setup_hold(2 * S);
	demote(1, 0);
	slower_master_until(now + 5 * S);
	assert_int_equal(f.state, CARP_ST_BACKUP);
}

/*
 * syncd's demotion (the standby part) counts only outside MASTER: a
 * backup whose copy of the states is stale does not preempt, a master
 * whose sync link is down keeps mastership and does not even advertise
 * it, whichever of the two learns of the outage first.
 */
static void
test_standby_demotion(void **state)
{
	(void)state;
	/* A master: not advertised, no advertisement sent for it. */
	setup(1, 50, 0);
	run_until(now + 4 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	demote(1, 1);
	assert_false(o.actions & FSM_A_SEND_AD);
	assert_int_equal(fsm_demotion(&f), 0);
	assert_int_equal(fsm_wire_demote(&f), 0);
	f.cfg.demote_skew = 1;
	assert_int_equal(fsm_wire_advskew(&f), 50);
	f.cfg.demote_skew = 0;
	/* A backup that preempts (faster) with the same standby demotion
	 * does not take over from it; a master stays against it. */
	adv(1, 0, 1);
	assert_int_equal(f.state, CARP_ST_MASTER);
	/* Another part of the demotion still counts: advertised at once,
	 * the backup that is not demoted takes over. */
	demote(3, 1);
	assert_true(o.actions & FSM_A_SEND_AD);
	assert_int_equal(fsm_wire_demote(&f), 2);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	/* As a backup the whole demotion counts. */
	assert_int_equal(fsm_wire_demote(&f), 3);

	/* A preempting backup with a standby demotion holds back... */
	setup(1, 0, 1);
	demote(1, 1);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	/* ... takes over a master that times out all the same ... */
	run_until(now + 4 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master timed out");
	/* ... and as master no longer counts it. */
	assert_int_equal(fsm_wire_demote(&f), 0);
	/* Once the standby part is gone it preempts. */
	setup(1, 0, 1);
	demote(1, 1);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	demote(0, 0);
	adv(1, 100, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	/* A standby part larger than the total is clamped. */
	setup(1, 0, 0);
	run_until(now + 4 * S);
	demote(1, 5);
	assert_int_equal(fsm_demotion(&f), 0);
}

/* A vhid taken out of the configuration: a MASTER releases it (not a
 * bow-out), removes its addresses; the down script runs in any state. */
static void
test_remove(void **state)
{
	unsigned int a;

	(void)state;
	setup(1, 0, 0);
	run_until(now + 4 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	fsm_step(&f, FSM_EV_REMOVE, NULL, now, &o);
	a = o.actions;
	assert_true(a & FSM_A_SEND_RELEASE);
	assert_false(a & FSM_A_SEND_BOWOUT);
	assert_true(a & FSM_A_ADDRS_DEL);
	assert_true(a & FSM_A_RUN_DOWN);
	assert_false(a & FSM_A_GROUP);
	assert_int_equal(f.state, CARP_ST_INIT);
	assert_string_equal(f.last_reason, "removed from the configuration");
	assert_int_equal(f.transitions_by[CARP_ST_INIT][FSM_EV_REMOVE], 1);
	assert_string_equal(fsm_ev_names[FSM_EV_REMOVE], "removed");
	assert_int_equal(fsm_next(&f), 0);
	setup(1, 0, 0);
	fsm_step(&f, FSM_EV_REMOVE, NULL, now, &o);
	assert_false(o.actions & FSM_A_SEND_RELEASE);
	assert_true(o.actions & FSM_A_RUN_DOWN);
	assert_int_equal(f.state, CARP_ST_INIT);
}

/* A release moves that vhid alone: no group takeover; a master that
 * hears another one release does not yield to it. */
static void
test_release(void **state)
{
	(void)state;
	setup(1, 100, 0);
	adv(1, 0, 0);
	adv(255, CARP_RELEASE, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_string_equal(f.last_reason, "master released the vhid");
	assert_false(o.actions & FSM_A_GROUP);
	adv(255, CARP_RELEASE, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_false(o.actions & FSM_A_SPLITBRAIN);
	/* Even less demoted, a releasing master is not yielded to. */
	demote(5, 0);
	adv(255, CARP_RELEASE, 0);
	assert_int_equal(f.state, CARP_ST_MASTER);
}

/* New settings: no transition, no timer restarted; a MASTER advertises
 * new timers at once, then at the new interval. */
static void
test_config(void **state)
{
	struct fsm_cfg c;
	uint64_t down, t0;

	(void)state;
	setup(1, 0, 1);
	run_until(now + 4 * S);
	assert_int_equal(f.state, CARP_ST_MASTER);
	t0 = f.transitions;
	c = f.cfg;
	c.advskew = 128;
	c.vhid = 9; /* not the caller's to change */
	fsm_step(&f, FSM_EV_CONFIG, &c, now, &o);
	assert_int_equal(f.state, CARP_ST_MASTER);
	assert_int_equal(o.changed, 0);
	assert_int_equal(f.transitions, t0);
	assert_true(o.actions & FSM_A_SEND_AD);
	assert_int_equal(f.cfg.vhid, 1);
	assert_int_equal(fsm_wire_advskew(&f), 128);
	assert_int_equal(f.ad_at, now + S + S / 2);
	/* The same timers again, or another preempt: nothing to send. */
	c.preempt = 0;
	fsm_step(&f, FSM_EV_CONFIG, &c, now, &o);
	assert_int_equal(o.actions, 0);
	/* A BACKUP keeps its master-down deadline; the next ad uses the
	 * new values. */
	setup(1, 100, 0);
	adv(1, 0, 0);
	down = f.down_at;
	c = f.cfg;
	c.advskew = 200;
	now += S / 2;
	fsm_step(&f, FSM_EV_CONFIG, &c, now, &o);
	assert_int_equal(o.actions, 0);
	assert_int_equal(f.state, CARP_ST_BACKUP);
	assert_int_equal(f.down_at, down);
	adv(1, 0, 0);
	assert_int_equal(f.down_at, now + 3 * S + 200 * S / 256);
	/* preempt-delay taken away: no hold left. */
	setup(1, 0, 1);
	c = f.cfg;
	c.hold_ns = 30 * S;
	fsm_step(&f, FSM_EV_CONFIG, &c, now, &o);
	fsm_step(&f, FSM_EV_HOLD, NULL, now, &o);
	assert_int_equal(fsm_hold_left(&f, now), 30 * S);
	c.hold_ns = 0;
	fsm_step(&f, FSM_EV_CONFIG, &c, now, &o);
	assert_int_equal(fsm_hold_left(&f, now), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_backup_then_master),
		cmocka_unit_test(test_backup_reset_by_ads),
		cmocka_unit_test(test_master_election),
		cmocka_unit_test(test_preempt),
		cmocka_unit_test(test_demoted_master_taken_over),
		cmocka_unit_test(test_will_time_out),
		cmocka_unit_test(test_bowout),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_subsecond),
		cmocka_unit_test(test_deadratio),
		cmocka_unit_test(test_demotion),
		cmocka_unit_test(test_standby_demotion),
		cmocka_unit_test(test_splitbrain),
		cmocka_unit_test(test_sync_commit),
		cmocka_unit_test(test_preempt_hold),
		cmocka_unit_test(test_preempt_hold_not_master_down),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

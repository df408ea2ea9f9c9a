/*
 * fsm.h: the CARP state machine of one vhid, pure: (state, event, now) in,
 * new state, deadlines and actions out. The caller does all the I/O.
 */
#ifndef CARPD_FSM_H
#define CARPD_FSM_H

#include <stdint.h>

enum carp_state {
	CARP_ST_INIT = 0,
	CARP_ST_BACKUP,
	CARP_ST_MASTER,
};

extern const char *const carp_state_names[3];

enum fsm_ev {
	FSM_EV_UP,	 /* interface usable: INIT -> BACKUP */
	FSM_EV_DOWN,	 /* interface lost: -> INIT */
	FSM_EV_ADV,	 /* a valid advertisement from a peer */
	FSM_EV_TIMER,	 /* a deadline may have passed */
	FSM_EV_DEMOTE,	 /* node demotion changed (arg: fsm_demote) */
	FSM_EV_COMMIT,	 /* syncd answered the commit */
	FSM_EV_SHUTDOWN, /* bow out and stop */
	FSM_EV_HANDOVER, /* give mastership away now (bow out), stay */
	FSM_EV_TAKEOVER, /* the node's other vhids moved (arg: reason) */
	FSM_EV_HOLD,	 /* (re)start the preemption hold-down */
	FSM_EV_REMOVE,	 /* the vhid left the configuration: release, stop */
	FSM_EV_CONFIG,	 /* new settings (arg: struct fsm_cfg), same vhid */
};
#define FSM_NEV (FSM_EV_CONFIG + 1)

/* The cause of a transition is the event of the step that made it. */
extern const char *const fsm_ev_names[FSM_NEV];

/* Actions for the caller, in the order it should do them. */
#define FSM_A_COMMIT	   0x0001 /* ask syncd to commit */
#define FSM_A_ADDRS_ADD	   0x0002
#define FSM_A_SEND_AD	   0x0004
#define FSM_A_ANNOUNCE	   0x0008 /* GARP, unsol. NA */
#define FSM_A_RUN_UP	   0x0010
#define FSM_A_SEND_BOWOUT  0x0020
#define FSM_A_ADDRS_DEL	   0x0040
#define FSM_A_RUN_DOWN	   0x0080
#define FSM_A_RESYNC	   0x0100 /* ask syncd for a resync */
#define FSM_A_SPLITBRAIN   0x0200 /* another master seen: log it */
#define FSM_A_CONTENDED	   0x0400 /* contention ended: log */
#define FSM_A_ABANDON	   0x0800 /* takeover abandoned */
#define FSM_A_GROUP	   0x1000 /* node-level cause: move the rest */
#define FSM_A_NOCOMMIT	   0x2000 /* commit not answered in time */
#define FSM_A_HELD	   0x4000 /* preemption held back: log once */
#define FSM_A_SEND_RELEASE 0x8000 /* this vhid alone leaves: release ad */

struct fsm_cfg {
	uint8_t vhid;
	uint8_t advbase; /* 0..254 */
	uint8_t advskew; /* 0..254 */
	int preempt;
	int demote_skew;   /* fold demotion into advskew */
	uint8_t deadratio; /* master down: 0 means 3 */
	int sync;	   /* takeover waits: commit */
	uint64_t sync_timeout_ns;
	uint64_t hold_ns; /* preempt-delay, 0: none */
};

/*
 * The node's demotion. Of the total, the standby part (syncd's: its copy
 * of the peers' states is missing or going stale) counts only while the
 * vhid is not MASTER: it keeps a backup from taking mastership it could
 * not serve with every state, but never makes the master, which holds
 * the authoritative states, look worse than its backup.
 */
struct fsm_demote {
	unsigned int total;
	unsigned int standby; /* part of total */
};

/* What a peer advertised. */
struct fsm_adv {
	uint8_t advbase;
	uint8_t advskew;
	uint8_t demote;
};

struct fsm {
	struct fsm_cfg cfg;
	enum carp_state state;
	unsigned int demote;  /* node demotion count */
	unsigned int standby; /* its part counted only outside MASTER */
	int pending;	      /* takeover awaits commit */
	const char *pending_reason;

	/* Deadlines on the monotonic clock (ns), 0 when idle. */
	uint64_t ad_at;	      /* MASTER: next advertisement */
	uint64_t down_at;     /* BACKUP: master down */
	uint64_t announce_at; /* MASTER: second GARP/NA round */
	uint64_t commit_at;   /* pending: give up waiting */

	/*
	 * Preemption hold-down (preempt-delay): until hold_until, a BACKUP
	 * does not preempt a slower master. It still takes over when the
	 * master times out, bows out or is more demoted.
	 */
	uint64_t hold_until; /* 0: no hold */
	int hold_logged;     /* FSM_A_HELD given for this hold */
	uint64_t held;	     /* preemptions held back */

	/* Split brain: another master heard while we stay master. */
	int contention;
	uint64_t contention_last;
	uint64_t splitbrain;

	/* Last transition. */
	uint64_t transitions;
	uint64_t transitions_by[3][FSM_NEV]; /* into a state, by cause */
	enum fsm_ev step_ev;		     /* the event being handled */
	uint64_t last_at;
	enum carp_state last_from;
	const char *last_reason;
};

struct fsm_out {
	unsigned int actions;
	int changed; /* state changed in this step */
	enum carp_state from;
	const char *reason; /* of the change / the action */
};

void fsm_init(struct fsm *, const struct fsm_cfg *);
/* One step. arg: the advertisement for FSM_EV_ADV, the new demotion for
 * FSM_EV_DEMOTE (as struct fsm_demote *), the settings for FSM_EV_CONFIG
 * (as const struct fsm_cfg *), NULL otherwise. */
void fsm_step(struct fsm *, enum fsm_ev, const void *arg, uint64_t now,
    struct fsm_out *);
/* Earliest deadline, 0 when none (the caller's one timer per vhid). */
uint64_t fsm_next(const struct fsm *);

/* The demotion that counts in the vhid's state now (the standby part
 * left out while MASTER), and what we put on the wire. */
unsigned int fsm_demotion(const struct fsm *);
uint8_t fsm_wire_advskew(const struct fsm *);
uint8_t fsm_wire_demote(const struct fsm *);
uint64_t fsm_adv_ns(const struct fsm *);
uint64_t fsm_down_ns(const struct fsm *);
/* Preemption hold-down left at now (ns), 0 when none. */
uint64_t fsm_hold_left(const struct fsm *, uint64_t now);

#endif

/*
 * carpd.h: carpd's shared state: interfaces, vhids, node demotion,
 * counters, and the functions the modules export to each other.
 */
#ifndef CARPD_CARPD_H
#define CARPD_CARPD_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "addr.h"
#include "carp.h"
#include "fsm.h"

#define CARPD_MAXADDR		  16
#define CARPD_MAXPEER		  8
#define CARPD_MAXTRACK		  8
#define CARPD_MAXVH		  64
#define CARPD_MAXIF		  32
#define CARPD_MAXCHECK		  32
#define CARPD_CONTROL		  "/run/carpd.sock"
#define CARPD_SYNC_TIMEOUT	  2000	 /* ms */
#define CARPD_SYNC_TIMEOUT_MAX	  600000 /* ms */
#define CARPD_CONTROL_MODE	  0660
#define CARPD_SCRIPT_TIMEOUT	  10   /* s, then the script is killed */
#define CARPD_SCRIPT_EXIT_WAIT_MS 3000 /* for the down scripts at exit */
#define CARPD_SYNC_RETRY_NS	  1000000000ULL /* reconnect to syncd */
#define CARPD_PREEMPT_DELAY_MAX	  3600		/* s */
#define CARPD_RELOAD_ERRLEN	  256

struct ev_loop;
struct ev_timer;
struct nl_sock;
struct ctl_server;
struct ctl_client;
struct ctl_conn;
struct carpd_check;
struct prom_http;

/* Node demotion reasons: the advertised count is their sum. */
enum carpd_dem {
	DEM_LINK,    /* a vhid or --track interface without link */
	DEM_SYNC,    /* syncd: not connected, down, bulk pending */
	DEM_SENDERR, /* advertisements failing to go out */
	DEM_ADMIN,   /* carpd demote */
	DEM_CHECK,   /* failed checks: their weights */
	DEM_MAX
};

extern const char *const carpd_dem_names[DEM_MAX];

/* Requests to syncd: they are answered in the order they were sent. */
enum syncc_req { SYNCC_SUBSCRIBE, SYNCC_COMMIT, SYNCC_RESYNC, SYNCC_ROLE };

/* Receive-side counters (OpenBSD carpstats) and send-side ones. */
struct carpd_stats {
	uint64_t ipackets;
	uint64_t ipackets6;
	uint64_t rej[CARP_E_MAX]; /* per reject reason */
	uint64_t opackets;
	uint64_t opackets6;
	uint64_t oerrors;
	uint64_t garps;
	uint64_t nas;
};

struct vaddr {
	struct addr a;
	int plen;
	int present; /* added by us and not yet removed */
};

struct iface {
	char name[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];
	int running;
	int track;  /* --track only, no vhid */
	int ignore; /* a vhid ignores its link */
	int used;   /* a vhid lives on it */
	void *pcap; /* pcap_t: receive, inject */
	int pcap_fd;
	int raw4, raw6;	      /* unicast sending */
	struct addr src4;     /* first IPv4 address */
	struct addr src6;     /* a link-local */
	char send_error[160]; /* why the last send failed */
};

struct vh {
	struct fsm fsm;
	int line; /* of its "vhid N {" in the file, 0: command line */
	char ifname[IF_NAMESIZE];
	struct iface *ifp;
	struct vaddr addrs[CARPD_MAXADDR];
	int naddrs;
	/* The HMAC input, sorted. */
	struct in_addr v4[CARPD_MAXADDR];
	size_t n4;
	struct in6_addr v6[CARPD_MAXADDR];
	size_t n6;
	uint8_t key[CARP_KEYLEN];
	int pass_set;	   /* pass given (--check) */
	char *passfile;	   /* or read from it */
	uint8_t cookie[8]; /* OpenBSD style */
	struct addr srcip; /* or unset */
	struct addr peers[CARPD_MAXPEER];
	int npeers;
	char *upscript;
	char *downscript;
	char *xparam;
	int vmac; /* virtual MAC */
	int vmac_ifindex;
	char vmac_name[IF_NAMESIZE];
	int neutral;	       /* no down script first */
	int ignoreifstate;     /* ucarp -S */
	int preempt_delay;     /* s, -1: the global one */
	int notified;	       /* a script told its state */
	int nomcast;	       /* ucarp -M: broadcast */
	struct in_addr mcast4; /* ucarp -m or default */
	int send_failing;
	char group_reason[96];
	struct ev_timer *timer;

	/* Per-vhid counters. */
	uint64_t rx, tx;
	uint64_t rx_bowout;
	uint64_t badauth;
	uint64_t readded; /* addresses put back */
};

/* An up or down script that has not been reaped yet (script.c). */
struct carpd_script {
	pid_t pid;	   /* also its process group; 0: free */
	uint64_t deadline; /* then SIGTERM, later SIGKILL */
	int killed;	   /* SIGTERM sent */
	char name[64];
};
#define CARPD_MAXSCRIPTS 64

/*
 * What the command line sets: defaults for every vhid, and global
 * settings that win over the file's (NULL, 0: not given). Kept for the
 * reloads, which apply them on top of the file as the start did.
 */
struct carpd_opts {
	int vmac; /* default for vhids: -1 unset */
	int preempt;
	int neutral;
	int ignoreifstate;
	const char *control;
	const char *metrics;
	const char *sync_path;
	const char *user;
	int sync_timeout_set;
	unsigned int sync_timeout_ms;
	int demote_skew; /* 1: --demote-skew */
	char track[CARPD_MAXIF][IF_NAMESIZE];
	int ntrack;
};

/*
 * A configuration as read (config.c), before it runs: the vhids (their
 * interface not yet bound), the checks and the global settings, with the
 * command line's options applied. --check prints it; the start installs
 * it and a reload compares it with the running node (reload.c).
 */
struct carpd_conf {
	struct vh *vh[CARPD_MAXVH];
	int nvh;
	struct carpd_check *checks[CARPD_MAXCHECK];
	int nchecks;
	char track[CARPD_MAXIF][IF_NAMESIZE];
	int ntrack;
	char *control;
	char *metrics;
	char *sync_path;
	char *user;
	unsigned int sync_timeout_ms;
	unsigned int preempt_delay;
	int demote_skew;
};

/* Reloads (SIGHUP) and how the last one went. */
struct carpd_reloads {
	uint64_t ok, refused;
	uint64_t last_ns; /* monotonic, 0: none yet */
	int last_ok;
	char last_error[CARPD_RELOAD_ERRLEN];
};

struct carpd {
	struct ev_loop *loop;
	struct nl_sock *nl;	   /* requests */
	struct nl_sock *nl_events; /* events */
	struct ctl_server *ctl;
	char *control;
	char *metrics; /* ADDR:PORT, or NULL: off */
	struct prom_http *metrics_http;
	struct vh *vh[CARPD_MAXVH];
	int nvh;
	struct iface ifs[CARPD_MAXIF];
	int nifs;

	unsigned int preempt_delay; /* s, for every vhid */
	unsigned int dem[DEM_MAX];
	char dem_sync_reason[128];
	unsigned int demote; /* the sum */
	int demote_skew;

	/* syncd client */
	char *sync_path;
	unsigned int sync_timeout_ms;
	struct ctl_client *sync;
	struct ev_timer *sync_retry;
	int sync_up;
	enum syncc_req sync_inflight[16]; /* requests in flight */
	int sync_ninflight;
	int sync_commit_outstanding;
	int sync_handed_over; /* until its next demote */
	int sync_role;	      /* last role told, -1: none yet */
	uint64_t sync_commits;
	uint64_t sync_commit_fail;
	char sync_last_commit[160];

	struct carpd_check *checks[CARPD_MAXCHECK];
	int nchecks;

	struct carpd_script scripts[CARPD_MAXSCRIPTS];
	struct ev_timer *script_timer; /* checks the deadlines */

	unsigned int senderr_run; /* errors in a row */
	unsigned int sendok_run;

	struct carpd_stats st;
	uint64_t started_ns;
	int shutting_down;
	int checking; /* --check: parse, print */
	char *user;   /* --user: run as */

	const char *config_path; /* -c, for the reloads */
	struct carpd_opts opts;	 /* the command line's, for the reloads */
	struct carpd_reloads reload;
};

extern struct carpd *carpd;

/* config.c: carpd.conf(5) into a struct carpd_conf; touches nothing that
 * runs. Errors are "file:line: reason". */
struct vh *vh_new(void);
void vh_free(struct vh *);
int vh_finish(struct carpd_conf *, struct vh *, char *err, size_t errlen);
/* A keyword of a vhid block (also used for the command line's vhid):
 * 1 handled, 0 unknown, -1 error (err set). */
int vh_keyword(struct vh *, int argc, char **argv, char *err, size_t errlen);
struct carpd_conf *carpd_conf_new(void);
void carpd_conf_free(struct carpd_conf *);
struct carpd_conf *carpd_conf_load(const char *path, const struct carpd_opts *,
    char *err, size_t errlen);
struct carpd_conf *carpd_conf_buf(const char *name, const char *buf,
    size_t len, const struct carpd_opts *, char *err, size_t errlen);
/* The command line's vhid (no -c) as a configuration. */
struct carpd_conf *carpd_conf_cmdline(struct vh *, const struct carpd_opts *,
    char *err, size_t errlen);
int carpd_opts_track(struct carpd_opts *, const char *ifname);
/* Room for one more interface name in the configuration? */
int carpd_conf_ifroom(const struct carpd_conf *, const char *name);

/* confprint.c: --check's output, carpd.conf(5) that reads back the same */
#define CARPD_PASS_PLACEHOLDER "<set>"
void carpd_conf_print(FILE *, const struct carpd_conf *);

/* net.c */
int net_open(struct iface *, char *err, size_t errlen);
void net_close(struct iface *);
int net_input(struct iface *);
void net_input_frame(struct iface *, const uint8_t *, size_t);
/* What an advertisement says: the vhid's timers, a bow-out (the node
 * leaves: advbase and advskew 255) or a release (this vhid alone leaves,
 * the node stays: advbase 255, advskew CARP_RELEASE). */
enum net_ad { NET_AD, NET_AD_BOWOUT, NET_AD_RELEASE };
int net_send_ad(struct vh *, enum net_ad);
void net_announce(struct vh *);
void net_announce_one(struct vh *, const struct addr *);
void net_join_group(struct iface *, const struct in_addr *);

/* vip.c */
int vip_setup(struct vh *);
void vip_teardown(struct vh *);
void vip_add_all(struct vh *);
void vip_del_all(struct vh *);
int vip_add_one(struct vh *, struct vaddr *);
void vip_del_one(struct vh *, struct vaddr *);
int vip_ifindex(const struct vh *);
void vip_addr_gone(struct vh *, int ifindex, const struct addr *);

/* ctl.c (carpd's control requests) */
void carpd_ctl_request(struct ctl_conn *, int, char **, void *);

/* metrics.c: the status in Prometheus text format; 0 or -1. */
struct sbuf;
int carpd_metrics(struct sbuf *);

/* script.c */
int script_init(struct ev_loop *);
void script_run(struct vh *, const char *path, const char *reason);
void script_reap(int sig, void *arg);
void script_wait_all(unsigned int ms);

/* syncc.c: the syncd client */
int syncc_start(void);
void syncc_send(enum syncc_req, const char *req);
int syncc_commit_outstanding(void);
void syncc_role(void);

/* event.c: event log lines (key=value, carpd(8) LOGGING) */
const char *carpd_cause(const char *reason);
void carpd_log_transition(const struct vh *, enum carp_state from,
    const char *reason);
void carpd_log_demote(unsigned int from, unsigned int to);
/* event=reload-change: one vhid, check or setting; iface and what may be
 * NULL. */
void carpd_log_change(const char *object, const char *name, const char *iface,
    const char *action, const char *what, const char *msg);
/* What a reload did, for its event=reload line. */
struct reload_counts {
	int vh_added, vh_removed, vh_changed, vh_restarted, vh_unchanged;
	int chk_added, chk_removed, chk_changed, chk_unchanged;
	int settings_changed, not_applied;
};
/* event=reload: result=ok with the counts, or result=refused with the
 * line (0: none) and the error. */
void carpd_log_reload_ok(const char *file, const struct reload_counts *);
void carpd_log_reload_refused(const char *file, int line, const char *error);
void carpd_status_line(char *buf, size_t len, void *arg);

/* node.c: the running node, and the hooks the modules call */
struct iface *node_iface(const char *name);
void node_iface_free(struct iface *);
int node_iface_open(struct iface *);
int node_open_ifaces(void);
void node_fsm_cfg(const struct vh *, struct fsm_cfg *);
void node_vh_start(struct vh *);
void node_vh_remove(struct vh *);
unsigned int node_links_down(void);
void node_start(void);
void node_stop(void);
void carpd_step(struct vh *, enum fsm_ev, const void *);
void carpd_rx_adv(struct vh *, const struct carp_hdr *, int af);
void carpd_set_demote(enum carpd_dem, unsigned int);
void carpd_send_result(int ok);
void node_hold(const char *why);

/* confdiff.c: what changed in a vhid's settings (pure) */
#define VH_CH_ADVBASE	    0x00001
#define VH_CH_ADVSKEW	    0x00002
#define VH_CH_DEADRATIO	    0x00004
#define VH_CH_ADDR	    0x00008
#define VH_CH_PASS	    0x00010 /* the key, or the passfile's path */
#define VH_CH_PEER	    0x00020
#define VH_CH_SRCIP	    0x00040
#define VH_CH_UPSCRIPT	    0x00080
#define VH_CH_DOWNSCRIPT    0x00100
#define VH_CH_XPARAM	    0x00200
#define VH_CH_PREEMPT	    0x00400
#define VH_CH_PREEMPT_DELAY 0x00800
#define VH_CH_NOMCAST	    0x01000
#define VH_CH_VMAC	    0x02000
#define VH_CH_MCAST	    0x04000
#define VH_CH_IGNOREIFSTATE 0x08000
#define VH_CH_NEUTRAL	    0x10000
/* These cannot change under a running vhid: it is restarted. */
#define VH_CH_RESTART                                                         \
	(VH_CH_VMAC | VH_CH_MCAST | VH_CH_IGNOREIFSTATE | VH_CH_NEUTRAL)
unsigned int vh_diff(const struct vh *cur, const struct vh *next);
void vh_diff_names(unsigned int, char *buf, size_t len);
void vh_diff_text(const struct vh *cur, const struct vh *next, unsigned int,
    char *buf, size_t len);
int vaddr_index(const struct vaddr *, int n, const struct vaddr *);
struct vh *
vh_lookup(struct vh *const *, int n, uint8_t vhid, const char *ifname);

/* reload.c: a configuration installed at start, and SIGHUP */
void reload_install(struct carpd_conf *);
void reload_run(void);

#endif

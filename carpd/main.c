/*
 * main.c: carpd, the CARP daemon: options, configuration, the event loop,
 * the actions of the state machine, scripts, node demotion and syncd.
 */
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carpd.h"
#include "conf.h"
#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "nl.h"
#include "util.h"

struct carpd *carpd;

static void	apply(struct vh *, const struct fsm_out *);
static int	iface_open(struct iface *);
static void	iface_gone(struct iface *);

static __attribute__((noreturn)) void
usage_to(FILE *f, int status)
{
	/* clang-format off */
	fprintf(f,
"usage: carpd [-BDMPShnz] [-c file] [-i iface] [-s srcip] [-v vhid]\n"
"             [-a addr[/plen]]... [-p pass | -o passfile] [-b advbase]\n"
"             [-k advskew] [-u upscript] [-d downscript] [-x xparam]\n"
"             [-r deadratio] [-m mcast] [-f facility]\n"
"             [--peer addr]... [--track iface]... [--sync socket]\n"
"             [--sync-timeout ms] [--control socket] [--vmac | --no-vmac]\n"
"             [--demote-skew] [--verbose]\n"
"       carpd status [--json] [--control socket]\n"
"       carpd demote [+|-]N [--control socket]\n");
	/* clang-format on */
	exit(status);
}

static __attribute__((noreturn)) void
usage(void)
{
	usage_to(stderr, 2);
}

uint64_t
carpd_now(void)
{
	return ev_now_ns();
}

/* ---- node demotion ---- */

void
carpd_set_demote(enum carpd_dem r, unsigned int n)
{
	unsigned int sum = 0;
	int i;

	carpd->dem[r] = n;
	for (i = 0; i < DEM_MAX; i++)
		sum += carpd->dem[i];
	if (sum == carpd->demote)
		return;
	log_info("demotion %u -> %u (link %u, sync %u, senderr %u, "
	    "admin %u)", carpd->demote, sum, carpd->dem[DEM_LINK],
	    carpd->dem[DEM_SYNC], carpd->dem[DEM_SENDERR],
	    carpd->dem[DEM_ADMIN]);
	carpd->demote = sum;
	for (i = 0; i < carpd->nvh; i++)
		carpd_step(carpd->vh[i], FSM_EV_DEMOTE, &sum);
}

/* A vhid or tracked interface without link demotes, unless the vhids on
 * it ignore the link state (ucarp -S). */
static int
iface_demotes(const struct iface *ifp)
{
	if (ifp->running)
		return 0;
	return ifp->track || (ifp->used && !ifp->ignore);
}

static void
link_demote_update(void)
{
	unsigned int n = 0;
	int i;

	for (i = 0; i < carpd->nifs; i++)
		if (iface_demotes(&carpd->ifs[i]))
			n++;
	carpd_set_demote(DEM_LINK, n);
}

/* Three times as many failed sends in a row as there are vhids demote by
 * one; as many good ones in a row clear it (OpenBSD). */
void
carpd_send_result(int ok)
{
	unsigned int lim = 3 * (unsigned int)carpd->nvh;

	if (ok) {
		carpd->senderr_run = 0;
		if (carpd->dem[DEM_SENDERR] && ++carpd->sendok_run >= lim) {
			log_info("advertisements go out again");
			carpd_set_demote(DEM_SENDERR, 0);
		}
		return;
	}
	carpd->sendok_run = 0;
	if (!carpd->dem[DEM_SENDERR] && ++carpd->senderr_run >= lim) {
		log_warnx("advertisements fail to go out: demoting");
		carpd_set_demote(DEM_SENDERR, 1);
	}
}

/* ---- the state machine's actions ---- */

static void
rearm(struct vh *v)
{
	uint64_t at = fsm_next(&v->fsm);

	if (at == 0)
		ev_timer_cancel(v->timer);
	else
		ev_timer_arm_at(v->timer, at);
}

/*
 * The peer node bowed out or is demoted: it loses every election, so the
 * node's other BACKUP vhids take over now instead of each waiting for its
 * own master-down timer (a vhid whose link the peer lost hears nothing
 * more from it). LAN and WAN addresses then move together.
 */
static void
group_takeover(struct vh *src, const char *why)
{
	struct vh *v;
	int i;

	for (i = 0; i < carpd->nvh; i++) {
		v = carpd->vh[i];
		if (v == src || v->fsm.state != CARP_ST_BACKUP ||
		    v->fsm.pending)
			continue;
		/* The state machine keeps the pointer: per-vhid storage. */
		snprintf(v->group_reason, sizeof(v->group_reason),
		    "with vhid %u: %s", src->fsm.cfg.vhid,
		    why ? why : "peer node left");
		carpd_step(v, FSM_EV_TAKEOVER, v->group_reason);
	}
}

static void
apply(struct vh *v, const struct fsm_out *o)
{
	unsigned int a = o->actions;
	uint8_t vhid = v->fsm.cfg.vhid;

	if (o->changed)
		log_info("vhid %u on %s: %s -> %s (%s)", vhid, v->ifname,
		    carp_state_names[o->from], carp_state_names[v->fsm.state],
		    o->reason ? o->reason : "");
	if (a & FSM_A_SPLITBRAIN)
		log_warnx("vhid %u on %s: another MASTER seen (split brain "
		    "#%llu); it should yield to us", vhid, v->ifname,
		    (unsigned long long)v->fsm.splitbrain);
	if (a & FSM_A_CONTENDED)
		log_info("vhid %u on %s: contention ended; announcing our "
		    "addresses again", vhid, v->ifname);
	if (a & FSM_A_ABANDON)
		log_info("vhid %u on %s: takeover abandoned: %s", vhid,
		    v->ifname, o->reason);
	if (a & FSM_A_NOCOMMIT)
		log_warnx("vhid %u on %s: syncd did not answer the commit in "
		    "%u ms: commit timed out, taking over anyway", vhid,
		    v->ifname, carpd->sync_timeout_ms);
	if (a & FSM_A_COMMIT) {
		log_info("vhid %u on %s: %s: asking syncd to commit first",
		    vhid, v->ifname, o->reason);
		if (!sync_commit_outstanding())
			sync_send(SQ_COMMIT, "commit");
	}
	if (a & FSM_A_ADDRS_ADD)
		vip_add_all(v);
	if (a & FSM_A_SEND_AD)
		net_send_ad(v, 0);
	if (a & FSM_A_ANNOUNCE)
		net_announce(v);
	if (a & FSM_A_RUN_UP)
		script_run(v, v->upscript, o->reason);
	if (a & FSM_A_SEND_BOWOUT)
		net_send_ad(v, 1);
	if (a & FSM_A_ADDRS_DEL)
		vip_del_all(v);
	if (a & FSM_A_RUN_DOWN)
		script_run(v, v->downscript, o->reason);
	if (a & FSM_A_RESYNC)
		sync_send(SQ_RESYNC, "resync");
	rearm(v);
	/* A commit that could not be sent completes at once. */
	if ((a & FSM_A_COMMIT) && !sync_commit_outstanding() &&
	    v->fsm.pending)
		carpd_step(v, FSM_EV_COMMIT, NULL);
	if (a & FSM_A_GROUP)
		group_takeover(v, o->reason);
}

void
carpd_step(struct vh *v, enum fsm_ev ev, const void *arg)
{
	struct fsm_out o;

	fsm_step(&v->fsm, ev, arg, ev_now_ns(), &o);
	apply(v, &o);
}

static void
vh_timer_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	carpd_step(arg, FSM_EV_TIMER, NULL);
}

void
carpd_rx_adv(struct vh *v, const struct carp_hdr *h, int af)
{
	struct fsm_adv a;

	(void)af;
	v->rx++;
	if (h->advbase == CARP_BOWOUT && h->advskew == CARP_BOWOUT)
		v->rx_bowout++;
	a.advbase = h->advbase;
	a.advskew = h->advskew;
	a.demote = h->demote;
	carpd_step(v, FSM_EV_ADV, &a);
}

/* ---- interfaces and rtnetlink events ---- */

static void
iface_addrs(struct iface *ifp)
{
	if (ifp->ifindex <= 0)
		return;
	if (nl_addr_first(carpd->nl, ifp->ifindex, AF_INET, 0,
	    &ifp->src4) != 0)
		ifp->src4.family = 0;
	if (nl_addr_first(carpd->nl, ifp->ifindex, AF_INET6, 1,
	    &ifp->src6) != 0)
		ifp->src6.family = 0;
}

static void
iface_link(struct iface *ifp, const struct nl_link *l)
{
	int was = ifp->running, i;

	ifp->ifindex = l->ifindex;
	memcpy(ifp->mac, l->mac, 6);
	ifp->running = l->running;
	if (was == ifp->running)
		return;
	log_info("%s%s: link %s", ifp->track ? "tracked interface " : "",
	    ifp->name, ifp->running ? "up" : "down");
	if (ifp->running && ifp->used && ifp->pcap == NULL) {
		log_info("%s: back; capturing again", ifp->name);
		iface_open(ifp);
	} else if (ifp->running)
		iface_addrs(ifp);
	for (i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp && !carpd->vh[i]->ignoreifstate)
			carpd_step(carpd->vh[i], ifp->running ? FSM_EV_UP :
			    FSM_EV_DOWN, NULL);
	link_demote_update();
}

static void
iface_refresh_all(void)
{
	struct nl_link l;
	int i;

	for (i = 0; i < carpd->nifs; i++) {
		if (nl_link_by_name(carpd->nl, carpd->ifs[i].name, &l) == 0)
			iface_link(&carpd->ifs[i], &l);
		else {
			memset(&l, 0, sizeof(l));
			l.ifindex = carpd->ifs[i].ifindex;
			iface_link(&carpd->ifs[i], &l);
		}
	}
}

static void
nl_event(const struct nl_event *e, void *arg)
{
	struct iface *ifp = NULL;
	struct nl_link l;
	int i;

	(void)arg;
	for (i = 0; i < carpd->nifs; i++)
		if ((e->type == NL_EV_LINK &&
		    strcmp(carpd->ifs[i].name, e->link.name) == 0) ||
		    (carpd->ifs[i].ifindex == e->ifindex && e->ifindex > 0))
			ifp = &carpd->ifs[i];
	switch (e->type) {
	case NL_EV_LINK:
		if (ifp != NULL)
			iface_link(ifp, &e->link);
		break;
	case NL_EV_LINK_DEL:
		if (ifp != NULL) {
			memset(&l, 0, sizeof(l));
			iface_link(ifp, &l);
			if (ifp->used)
				iface_gone(ifp);
			ifp->ifindex = 0;
		}
		break;
	case NL_EV_ADDR_NEW:
		if (ifp != NULL && (ifp->src4.family == 0 ||
		    ifp->src6.family == 0))
			iface_addrs(ifp);
		break;
	case NL_EV_ADDR_DEL:
		for (i = 0; i < carpd->nvh; i++)
			vip_addr_gone(carpd->vh[i], e->ifindex, &e->addr);
		if (ifp != NULL)
			iface_addrs(ifp);
		break;
	}
}

static void
nl_readable(int fd, int events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	if (nl_read_events(carpd->nlev, nl_event, NULL) == -2) {
		log_warnx("rtnetlink events lost; re-reading the links");
		iface_refresh_all();
	}
}

static void
pcap_readable(int fd, int events, void *arg)
{
	struct iface *ifp = arg;

	(void)events;
	if (net_input(ifp) == -1) {
		/* Gone with its interface: reopened when it is back. */
		ev_fd_del(carpd->loop, fd);
		net_close(ifp);
	}
}

/* Capture and send on a vhid interface (again, after it came back). */
static int
iface_open(struct iface *ifp)
{
	char err[256];
	int i;

	iface_addrs(ifp);
	if (net_open(ifp, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (ev_fd_add(carpd->loop, ifp->pcap_fd, EV_READ, pcap_readable,
	    ifp) == -1) {
		log_warn("%s: ev_fd_add", ifp->name);
		net_close(ifp);
		return -1;
	}
	for (i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp && carpd->vh[i]->vmac &&
		    carpd->vh[i]->vmac_ifindex == 0)
			vip_setup(carpd->vh[i]);
	return 0;
}

static void
iface_gone(struct iface *ifp)
{
	int i;

	if (ifp->pcap != NULL) {
		ev_fd_del(carpd->loop, ifp->pcap_fd);
		net_close(ifp);
	}
	/* A macvlan goes with its parent. */
	for (i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->ifp == ifp)
			carpd->vh[i]->vmac_ifindex = 0;
}

/* ---- signals and shutdown ---- */

static void
on_term(int sig, void *arg)
{
	(void)arg;
	log_info("signal %d: bowing out and stopping", sig);
	ev_loop_break(carpd->loop);
}

static void
on_hup(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	log_info("SIGHUP: configuration reload is not supported; restart "
	    "carpd to apply changes");
}

static void
shutdown_all(void)
{
	int i;

	carpd->shutting_down = 1;
	for (i = 0; i < carpd->nvh; i++)
		carpd_step(carpd->vh[i], FSM_EV_SHUTDOWN, NULL);
	script_wait_all(3000);
	for (i = 0; i < carpd->nvh; i++)
		vip_teardown(carpd->vh[i]);
}

/* ---- client subcommands ---- */

static int
client_main(int argc, char **argv)
{
	const char *path = CARPD_CONTROL;
	char *args[4];
	int i, n = 0, json = 0;

	args[n++] = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--control=", 10) == 0)
			path = argv[i] + 10;
		else if (strcmp(argv[i], "--json") == 0 &&
		    strcmp(argv[1], "status") == 0)
			json = 1;
		else if (strcmp(argv[1], "demote") == 0 && n == 1 &&
		    (argv[i][0] == '+' || argv[i][0] == '-' ||
		    (argv[i][0] >= '0' && argv[i][0] <= '9')))
			args[n++] = argv[i];
		else
			usage();
	}
	if (json)
		args[n++] = "json";
	if (strcmp(argv[1], "demote") == 0 && n != 2)
		usage();
	args[n] = NULL;
	return ctl_client_main("carpd", path, n, args);
}

/* ---- main ---- */

enum {
	OPT_PEER = 256, OPT_TRACK, OPT_SYNC, OPT_SYNC_TIMEOUT, OPT_CONTROL,
	OPT_VMAC, OPT_NOVMAC, OPT_DEMOTE_SKEW, OPT_VERBOSE
};

/*
 * The capabilities carpd cannot work without, checked before anything is
 * opened so that the message names the missing one. Returns 0 when both
 * are effective (or the check itself is not possible), -1 after logging.
 */
static int
caps_check(void)
{
	struct __user_cap_header_struct h = {
		_LINUX_CAPABILITY_VERSION_3, 0
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	static const struct {
		int		 cap;
		const char	*name, *why;
	} need[] = {
		{ CAP_NET_RAW, "CAP_NET_RAW", "to capture and send"
		    " advertisements" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN", "to add and remove the"
		    " virtual addresses" },
	};
	size_t i;
	int rc = 0;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == -1)
		return 0;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (d[need[i].cap / 32].effective &
		    (1u << (need[i].cap % 32)))
			continue;
		log_warnx("missing capability %s (%s)%s", need[i].name,
		    need[i].why, geteuid() != 0 ? ": run as root" : "");
		rc = -1;
	}
	return rc;
}

/* clang-format off */
static const struct option longopts[] = {
	{ "config",	required_argument,	NULL, 'c' },
	{ "interface",	required_argument,	NULL, 'i' },
	{ "srcip",	required_argument,	NULL, 's' },
	{ "vhid",	required_argument,	NULL, 'v' },
	{ "addr",	required_argument,	NULL, 'a' },
	{ "pass",	required_argument,	NULL, 'p' },
	{ "passfile",	required_argument,	NULL, 'o' },
	{ "advbase",	required_argument,	NULL, 'b' },
	{ "advskew",	required_argument,	NULL, 'k' },
	{ "preempt",	no_argument,		NULL, 'P' },
	{ "upscript",	required_argument,	NULL, 'u' },
	{ "downscript",	required_argument,	NULL, 'd' },
	{ "xparam",	required_argument,	NULL, 'x' },
	{ "daemonize",	no_argument,		NULL, 'B' },
	{ "neutral",	no_argument,		NULL, 'n' },
	{ "shutdown",	no_argument,		NULL, 'z' },
	{ "facility",	required_argument,	NULL, 'f' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "deadratio",	required_argument,	NULL, 'r' },
	{ "mcast",	required_argument,	NULL, 'm' },
	{ "nomcast",	no_argument,		NULL, 'M' },
	{ "ignoreifstate", no_argument,		NULL, 'S' },
	{ "debug",	no_argument,		NULL, 'D' },
	{ "peer",	required_argument,	NULL, OPT_PEER },
	{ "track",	required_argument,	NULL, OPT_TRACK },
	{ "sync",	required_argument,	NULL, OPT_SYNC },
	{ "sync-timeout", required_argument,	NULL, OPT_SYNC_TIMEOUT },
	{ "control",	required_argument,	NULL, OPT_CONTROL },
	{ "vmac",	no_argument,		NULL, OPT_VMAC },
	{ "no-vmac",	no_argument,		NULL, OPT_NOVMAC },
	{ "demote-skew", no_argument,		NULL, OPT_DEMOTE_SKEW },
	{ "verbose",	no_argument,		NULL, OPT_VERBOSE },
	{ NULL,		0,			NULL, 0 }
};
/* clang-format on */

static __attribute__((noreturn)) void
nomem(void)
{
	fprintf(stderr, "carpd: out of memory\n");
	exit(1);
}

static void
cli_kw(struct vh *v, const char *k, const char *val)
{
	char err[256], *argv[3];

	argv[0] = (char *)k;
	argv[1] = (char *)val;
	argv[2] = NULL;
	if (vh_keyword(v, 2, argv, err, sizeof(err)) != 1) {
		fprintf(stderr, "carpd: %s\n", err);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct carpd_opts o = { -1, 0, 0, 0 };
	char err[CONF_ERRLEN], *config = NULL;
	struct vh *cli;
	int ch, i, daemonize = 0, verbose = 0, cli_used = 0;
	unsigned long n;
	struct nl_link l;
	struct fsm_cfg cfg;
	unsigned int dem;

	if (argc >= 2 && (strcmp(argv[1], "status") == 0 ||
	    strcmp(argv[1], "demote") == 0))
		return client_main(argc, argv);

	if ((carpd = calloc(1, sizeof(*carpd))) == NULL ||
	    (cli = vh_new()) == NULL)
		nomem();
	carpd->sync_timeout_ms = CARPD_SYNC_TIMEOUT;

	while ((ch = getopt_long(argc, argv,
	    "c:i:s:v:a:p:o:b:k:Pu:d:x:Bnzf:hr:SMm:DV",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'i':
			cli_kw(cli, "interface", optarg);
			cli_used = 1;
			break;
		case 's':
			cli_kw(cli, "srcip", optarg);
			break;
		case 'v':
			if (conf_uint(optarg, 1, 255, &n) == -1) {
				fprintf(stderr, "carpd: bad vhid %s (1..255)\n",
				    optarg);
				exit(2);
			}
			cli->fsm.cfg.vhid = (uint8_t)n;
			cli_used = 1;
			break;
		case 'a':
			cli_kw(cli, "addr", optarg);
			cli_used = 1;
			break;
		case 'p':
			cli_kw(cli, "pass", optarg);
			break;
		case 'o':
			cli_kw(cli, "passfile", optarg);
			break;
		case 'b':
			cli_kw(cli, "advbase", optarg);
			break;
		case 'k':
			cli_kw(cli, "advskew", optarg);
			break;
		case 'P':
			o.preempt = 1;
			break;
		case 'u':
			cli_kw(cli, "upscript", optarg);
			break;
		case 'd':
			cli_kw(cli, "downscript", optarg);
			break;
		case 'x':
			cli_kw(cli, "xparam", optarg);
			break;
		case 'B':
			daemonize = 1;
			break;
		case 'n':
			o.neutral = 1;
			break;
		case 'r':
			cli_kw(cli, "deadratio", optarg);
			break;
		case 'm':
			cli_kw(cli, "mcast", optarg);
			break;
		case 'M':
			cli_kw(cli, "nomcast", "yes");
			break;
		case 'S':
			o.ignoreifstate = 1;
			break;
		case 'D':
			verbose++;
			break;
		case 'z':	/* ucarp: down script on exit; we always do */
		case 'f':	/* ucarp: syslog facility; we use daemon */
			break;
		case OPT_PEER:
			cli_kw(cli, "peer", optarg);
			break;
		case OPT_TRACK:
			if (strlen(optarg) >= IF_NAMESIZE ||
			    carpd_add_track(optarg) == -1) {
				fprintf(stderr, "carpd: bad track interface "
				    "%s\n", optarg);
				exit(2);
			}
			break;
		case OPT_SYNC:
			carpd->sync_path = strdup(optarg);
			break;
		case OPT_SYNC_TIMEOUT:
			if (conf_uint(optarg, 0, 600000, &n) == -1) {
				fprintf(stderr, "carpd: bad --sync-timeout %s "
				    "(milliseconds)\n", optarg);
				exit(2);
			}
			carpd->sync_timeout_ms = (unsigned int)n;
			break;
		case OPT_CONTROL:
			carpd->control = strdup(optarg);
			break;
		case OPT_VMAC:
			o.vmac = 1;
			break;
		case OPT_NOVMAC:
			o.vmac = 0;
			break;
		case OPT_DEMOTE_SKEW:
			carpd->demote_skew = 1;
			break;
		case OPT_VERBOSE:
			verbose++;
			break;
		case 'h':
			usage_to(stdout, 0);
		case 'V':
			printf("carpd %s\n", VERSION);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config != NULL && cli_used) {
		fprintf(stderr, "carpd: -c and a vhid on the command line "
		    "exclude each other\n");
		exit(2);
	}
	if (config != NULL) {
		if (carpd_conf_load(config, &o, err, sizeof(err)) == -1) {
			fprintf(stderr, "carpd: %s\n", err);
			exit(2);
		}
		vh_free(cli);
	} else {
		if (o.preempt)
			cli->fsm.cfg.preempt = 1;
		cli->vmac = o.vmac == -1 ? 0 : o.vmac;
		cli->neutral = o.neutral;
		cli->ignoreifstate = o.ignoreifstate;
		if (vh_finish(cli, err, sizeof(err)) == -1) {
			fprintf(stderr, "carpd: %s\n", err);
			vh_free(cli);
			usage();
		}
	}
	if (carpd->nvh == 0) {
		fprintf(stderr, "carpd: no vhid configured\n");
		exit(2);
	}
	if (carpd->control == NULL &&
	    (carpd->control = strdup(CARPD_CONTROL)) == NULL)
		nomem();

	log_init("carpd", daemonize, verbose);
	if (caps_check() == -1)
		return 1;
	/*
	 * Detach before the event loop exists: a signalfd registered in
	 * epoll by the parent would not wake the child.
	 */
	if (daemonize && util_daemonize() == -1)
		fatal("daemonize");
	if ((carpd->loop = ev_loop_new()) == NULL)
		fatal("event loop");
	carpd->started_ns = ev_now_ns();
	carpd->started_wall = util_wallclock();
	if ((carpd->nl = nl_open(0)) == NULL ||
	    (carpd->nlev = nl_open(1)) == NULL) {
		log_warn("rtnetlink (needs CAP_NET_ADMIN)");
		return 1;
	}
	for (i = 0; i < carpd->nifs; i++) {
		struct iface *ifp = &carpd->ifs[i];

		if (nl_link_by_name(carpd->nl, ifp->name, &l) != 0) {
			if (ifp->used) {
				log_warnx("%s: no such interface", ifp->name);
				return 1;
			}
			log_warnx("tracked interface %s does not exist (yet):"
			    " counted as down", ifp->name);
			continue;
		}
		ifp->ifindex = l.ifindex;
		memcpy(ifp->mac, l.mac, 6);
		ifp->running = l.running;
		if (!ifp->used)
			continue;
		iface_addrs(ifp);
		if (net_open(ifp, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			return 1;
		}
		if (ev_fd_add(carpd->loop, ifp->pcap_fd, EV_READ,
		    pcap_readable, ifp) == -1)
			fatal("ev_fd_add");
	}
	if (ev_fd_add(carpd->loop, nl_fd(carpd->nlev), EV_READ, nl_readable,
	    NULL) == -1)
		fatal("ev_fd_add");
	for (i = 0; i < carpd->nvh; i++)
		if (vip_setup(carpd->vh[i]) == -1)
			return 1;
	if ((carpd->ctl = ctl_server_open(carpd->loop, carpd->control, 0660,
	    carpd_ctl_request, NULL)) == NULL) {
		log_warn("control socket %s", carpd->control);
		return 1;
	}
	if (script_init(carpd->loop) == -1)
		fatal("timer");
	ev_signal_add(carpd->loop, SIGTERM, on_term, NULL);
	ev_signal_add(carpd->loop, SIGINT, on_term, NULL);
	ev_signal_add(carpd->loop, SIGHUP, on_hup, NULL);
	ev_signal_add(carpd->loop, SIGCHLD, script_reap, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Node demotion before anything is advertised. */
	for (i = 0; i < DEM_MAX; i++)
		carpd->dem[i] = 0;
	if (carpd->sync_path != NULL) {
		carpd->dem[DEM_SYNC] = 32;
		snprintf(carpd->dem_sync_buf, sizeof(carpd->dem_sync_buf),
		    "syncd not connected");
	}
	for (i = 0; i < carpd->nifs; i++)
		if (iface_demotes(&carpd->ifs[i]))
			carpd->dem[DEM_LINK]++;
	for (dem = 0, i = 0; i < DEM_MAX; i++)
		dem += carpd->dem[i];
	carpd->demote = dem;

	for (i = 0; i < carpd->nvh; i++) {
		struct vh *v = carpd->vh[i];
		struct fsm_out out;

		cfg = v->fsm.cfg;
		cfg.demote_skew = carpd->demote_skew;
		cfg.sync = carpd->sync_path != NULL;
		cfg.sync_timeout_ns = (uint64_t)carpd->sync_timeout_ms *
		    1000000ULL;
		fsm_init(&v->fsm, &cfg);
		if ((v->timer = ev_timer_new(carpd->loop, vh_timer_cb,
		    v)) == NULL)
			fatal("timer");
		fsm_step(&v->fsm, FSM_EV_DEMOTE, &dem, ev_now_ns(), &out);
		log_info("vhid %u on %s: advbase %u advskew %u%s, %d "
		    "address(es), %s", v->fsm.cfg.vhid, v->ifname,
		    v->fsm.cfg.advbase, v->fsm.cfg.advskew,
		    v->fsm.cfg.preempt ? " preempt" : "", v->naddrs,
		    v->npeers ? "unicast" : "multicast");
		/* Start from a clean slate: none of our addresses. */
		vip_del_all(v);
		if (v->ifp->running || v->ignoreifstate) {
			fsm_step(&v->fsm, FSM_EV_UP, NULL, ev_now_ns(), &out);
			if (v->neutral)
				out.actions &= ~(unsigned int)FSM_A_RUN_DOWN;
			else if (v->downscript != NULL)
				out.actions |= FSM_A_RUN_DOWN;
			apply(v, &out);
		} else
			log_warnx("vhid %u: %s has no link; staying INIT",
			    v->fsm.cfg.vhid, v->ifname);
	}
	if (carpd->sync_path != NULL && sync_start() == -1)
		fatal("syncd client");

	if (ev_loop_run(carpd->loop) == -1)
		log_warn("event loop");
	shutdown_all();
	ctl_server_close(carpd->ctl);
	if (carpd->sync != NULL)
		ctl_client_free(carpd->sync);
	for (i = 0; i < carpd->nvh; i++) {
		ev_timer_free(carpd->vh[i]->timer);
		vh_free(carpd->vh[i]);
	}
	for (i = 0; i < carpd->nifs; i++)
		net_close(&carpd->ifs[i]);
	if (carpd->sync_retry != NULL)
		ev_timer_free(carpd->sync_retry);
	nl_close(carpd->nl);
	nl_close(carpd->nlev);
	ev_loop_free(carpd->loop);
	free(carpd->control);
	free(carpd->sync_path);
	free(carpd);
	log_info("stopped");
	return 0;
}

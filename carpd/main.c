/*
 * main.c: carpd's start and stop: options, configuration, the privileged
 * resources, the event loop, clean shutdown. node.c runs the node.
 */
#include <sys/syscall.h>

#include <linux/capability.h>

#include <err.h>
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
#include "prom_http.h"
#include "notify.h"
#include "privdrop.h"
#include "util.h"

struct carpd *carpd;

/* What the command line sets besides the vhid it may define. */
struct cmdline {
	const char *config; /* -c */
	int daemonize;
	int verbose;
	int has_vhid;		/* -i, -v or -a given */
	struct carpd_opts opts; /* over the file's, at every reload */
};

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
"             [--demote-skew] [--metrics addr:port] [--user user] [--check]\n"
"             [--verbose]\n"
"       carpd status [--json | --prometheus] [--control socket]\n"
"       carpd demote [+|-]N [--control socket]\n");
	/* clang-format on */
	exit(status);
}

static __attribute__((noreturn)) void
usage(void)
{
	usage_to(stderr, 2);
}

/* ---- client subcommands ---- */

static int
client_main(int argc, char **argv)
{
	const char *path = CARPD_CONTROL;
	char *args[4];
	int n = 0, json = 0, prom = 0;

	args[n++] = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--control=", 10) == 0)
			path = argv[i] + 10;
		else if (strcmp(argv[i], "--json") == 0 &&
		    strcmp(argv[1], "status") == 0)
			json = 1;
		else if (strcmp(argv[i], "--prometheus") == 0 &&
		    strcmp(argv[1], "status") == 0)
			prom = 1;
		else if (strcmp(argv[1], "demote") == 0 && n == 1 &&
		    (argv[i][0] == '+' || argv[i][0] == '-' ||
			(argv[i][0] >= '0' && argv[i][0] <= '9')))
			args[n++] = argv[i];
		else
			usage();
	}
	if (json + prom > 1)
		usage();
	if (json || prom)
		args[n++] = json ? "json" : "prometheus";
	if (strcmp(argv[1], "demote") == 0 && n != 2)
		usage();
	args[n] = NULL;
	return ctl_client_main("carpd", path, n, args);
}

/* ---- options ---- */

enum {
	OPT_PEER = 256,
	OPT_TRACK,
	OPT_SYNC,
	OPT_SYNC_TIMEOUT,
	OPT_CONTROL,
	OPT_VMAC,
	OPT_NOVMAC,
	OPT_DEMOTE_SKEW,
	OPT_VERBOSE,
	OPT_METRICS,
	OPT_CHECK,
	OPT_USER
};

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
	{ "metrics",	required_argument,	NULL, OPT_METRICS },
	{ "check",	no_argument,		NULL, OPT_CHECK },
	{ "user",	required_argument,	NULL, OPT_USER },
	{ NULL,		0,			NULL, 0 }
};
/* clang-format on */

/* The options that are a carpd.conf vhid keyword with the same value. */
static const struct {
	int opt;
	const char *keyword;
	int defines_vhid; /* excludes -c */
} vh_options[] = {
	{ 'i', "interface", 1 },
	{ 's', "srcip", 0 },
	{ 'a', "addr", 1 },
	{ 'p', "pass", 0 },
	{ 'o', "passfile", 0 },
	{ 'b', "advbase", 0 },
	{ 'k', "advskew", 0 },
	{ 'u', "upscript", 0 },
	{ 'd', "downscript", 0 },
	{ 'x', "xparam", 0 },
	{ 'r', "deadratio", 0 },
	{ 'm', "mcast", 0 },
	{ OPT_PEER, "peer", 0 },
	{ 'M', "nomcast", 0 },
};

/* Apply option ch as the vhid keyword it stands for; 0 if it is none. */
static int
vh_option(struct vh *v, int ch, const char *val, struct cmdline *cl)
{
	char why[256], *argv[3];

	for (size_t i = 0; i < sizeof(vh_options) / sizeof(vh_options[0]);
	     i++) {
		if (vh_options[i].opt != ch)
			continue;
		argv[0] = (char *)vh_options[i].keyword;
		argv[1] = (char *)val;
		argv[2] = NULL;
		if (vh_keyword(v, 2, argv, why, sizeof(why)) != 1)
			errx(2, "%s", why);
		if (vh_options[i].defines_vhid)
			cl->has_vhid = 1;
		return 1;
	}
	return 0;
}

static void
parse_options(int argc, char **argv, struct cmdline *cl, struct vh *v)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[256];
	unsigned long n;
	int ch;

	while (
	    (ch = getopt_long(argc, argv,
		 "c:i:s:v:a:p:o:b:k:Pu:d:x:Bnzf:hr:SMm:DV", longopts, NULL)) !=
	    -1) {
		/* A flag without argument (-M) sets its keyword to yes. */
		if (vh_option(v, ch, optarg != NULL ? optarg : "yes", cl))
			continue;
		switch (ch) {
		case 'c':
			cl->config = optarg;
			break;
		case 'v':
			if (conf_uint(optarg, 1, CARP_VHID_MAX, &n) == -1)
				errx(2, "bad vhid %s (1..255)", optarg);
			v->fsm.cfg.vhid = (uint8_t)n;
			cl->has_vhid = 1;
			break;
		case 'P':
			cl->opts.preempt = 1;
			break;
		case 'B':
			cl->daemonize = 1;
			break;
		case 'n':
			cl->opts.neutral = 1;
			break;
		case 'S':
			cl->opts.ignoreifstate = 1;
			break;
		case 'D':
		case OPT_VERBOSE:
			cl->verbose++;
			break;
		case 'z': /* ucarp: down script on exit; we always do */
		case 'f': /* ucarp: syslog facility; we use daemon */
			break;
		case OPT_TRACK:
			if (carpd_opts_track(&cl->opts, optarg) == -1)
				errx(2, "bad track interface %s", optarg);
			break;
		case OPT_SYNC:
			cl->opts.sync_path = optarg;
			break;
		case OPT_SYNC_TIMEOUT:
			if (conf_uint(optarg, 0, CARPD_SYNC_TIMEOUT_MAX, &n) ==
			    -1)
				errx(2, "bad --sync-timeout %s (milliseconds)",
				    optarg);
			cl->opts.sync_timeout_ms = (unsigned int)n;
			cl->opts.sync_timeout_set = 1;
			break;
		case OPT_CONTROL:
			cl->opts.control = optarg;
			break;
		case OPT_METRICS:
			if (prom_http_parse(optarg, &ss, &sslen, why,
				sizeof(why)) == -1)
				errx(2, "--metrics: %s", why);
			cl->opts.metrics = optarg;
			break;
		case OPT_VMAC:
		case OPT_NOVMAC:
			cl->opts.vmac = ch == OPT_VMAC;
			break;
		case OPT_DEMOTE_SKEW:
			cl->opts.demote_skew = 1;
			break;
		case OPT_CHECK:
			break; /* seen before (main) */
		case OPT_USER:
			cl->opts.user = optarg;
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
}

/* The vhids: from carpd.conf, or the one of the command line. */
static struct carpd_conf *
load_config(struct cmdline *cl, struct vh *v)
{
	struct carpd_conf *c;
	char why[CONF_ERRLEN];

	if (cl->config != NULL && cl->has_vhid)
		errx(2,
		    "-c and a vhid on the command line exclude each "
		    "other");
	if (cl->config != NULL) {
		vh_free(v);
		if ((c = carpd_conf_load(cl->config, &cl->opts, why,
			 sizeof(why))) == NULL)
			errx(2, "%s", why);
	} else if ((c = carpd_conf_cmdline(v, &cl->opts, why, sizeof(why))) ==
	    NULL) {
		warnx("%s", why);
		usage();
	}
	return c;
}

/*
 * The capabilities carpd cannot work without, checked before anything is
 * opened so that the message names the missing one. Returns 0 when both
 * are effective (or the check itself is not possible), -1 after warning.
 */
static int
caps_check(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	static const struct {
		int cap;
		const char *name, *why;
	} need[] = {
		{ CAP_NET_RAW, "CAP_NET_RAW",
		    "to capture and send"
		    " advertisements" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN",
		    "to add and remove the"
		    " virtual addresses" },
	};
	int rc = 0;

	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capget, &h, caps) == -1)
		return 0;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (caps[need[i].cap / 32].effective &
		    (1u << (need[i].cap % 32)))
			continue;
		warnx("missing capability %s (%s)%s", need[i].name,
		    need[i].why, geteuid() != 0 ? ": run as root" : "");
		rc = -1;
	}
	return rc;
}

/*
 * --user: the user, looked up before anything is opened (a missing one
 * is a configuration error, also for --check).
 */
static void
user_lookup(const char *name, struct privdrop_user *u)
{
	char why[256];

	if (name == NULL)
		return;
	if (privdrop_lookup(name, u, why, sizeof(why)) == -1)
		errx(2, "--user: %s", why);
}

/*
 * Run as the user from now on. Done after open_resources: the sockets,
 * pcap handles, macvlans, sysctls and the control socket (handed to the
 * user) exist. Scripts keep CAP_NET_ADMIN and CAP_NET_RAW (ambient).
 */
static int
user_drop(const struct privdrop_user *u)
{
	char why[256];

	if (carpd->user == NULL)
		return 0;
	if (privdrop_chown(u, carpd->control) == -1)
		log_warn("control socket %s: chown to %s", carpd->control,
		    u->name);
	if (privdrop_to(u, 1, why, sizeof(why)) == -1) {
		log_warnx("--user: %s", why);
		return -1;
	}
	log_info("running as %s (uid %u), keeping CAP_NET_ADMIN and "
		 "CAP_NET_RAW",
	    u->name, (unsigned)u->uid);
	return 0;
}

/* ---- signals ---- */

static void
on_term(int sig, void *arg)
{
	log_info("signal %d: bowing out and stopping", sig);
	notify_stopping();
	ev_loop_break(carpd->loop);
}

static void
on_hup(int sig, void *arg)
{
	reload_run();
}

/* ---- privileged resources, after detaching ---- */

static int
metrics_render(struct sbuf *out, void *arg)
{
	return carpd_metrics(out);
}

/* Sockets, interfaces, macvlans, the control socket and signals. -1 after
 * logging. */
static int
open_resources(void)
{
	if ((carpd->loop = ev_loop_new()) == NULL)
		fatal("event loop");
	carpd->started_ns = ev_now_ns();
	if ((carpd->nl = nl_open(0)) == NULL ||
	    (carpd->nl_events = nl_open(1)) == NULL) {
		log_warn("rtnetlink (needs CAP_NET_ADMIN)");
		return -1;
	}
	if (node_open_ifaces() == -1)
		return -1;
	for (int i = 0; i < carpd->nvh; i++)
		if (vip_setup(carpd->vh[i]) == -1)
			return -1;
	if ((carpd->ctl = ctl_server_open(carpd->loop, carpd->control,
		 CARPD_CONTROL_MODE, carpd_ctl_request, NULL)) == NULL) {
		log_warn("control socket %s", carpd->control);
		return -1;
	}
	if (carpd->metrics != NULL &&
	    (carpd->metrics_http = prom_http_open(carpd->loop, carpd->metrics,
		 metrics_render, NULL)) == NULL)
		return -1;
	if (script_init(carpd->loop) == -1)
		fatal("timer");
	ev_signal_add(carpd->loop, SIGTERM, on_term, NULL);
	ev_signal_add(carpd->loop, SIGINT, on_term, NULL);
	ev_signal_add(carpd->loop, SIGHUP, on_hup, NULL);
	ev_signal_add(carpd->loop, SIGCHLD, script_reap, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
free_all(void)
{
	ctl_server_close(carpd->ctl);
	prom_http_close(carpd->metrics_http);
	if (carpd->sync != NULL)
		ctl_client_free(carpd->sync);
	for (int i = 0; i < carpd->nvh; i++) {
		ev_timer_free(carpd->vh[i]->timer);
		vh_free(carpd->vh[i]);
	}
	for (int i = 0; i < carpd->nifs; i++)
		net_close(&carpd->ifs[i]);
	if (carpd->sync_retry != NULL)
		ev_timer_free(carpd->sync_retry);
	nl_close(carpd->nl);
	nl_close(carpd->nl_events);
	notify_stop();
	ev_loop_free(carpd->loop);
	free(carpd->control);
	free(carpd->metrics);
	free(carpd->sync_path);
	free(carpd->user);
	free(carpd);
}

int
main(int argc, char **argv)
{
	struct cmdline cl = { .opts = { .vmac = -1 } };
	struct privdrop_user user;
	struct carpd_conf *conf;
	struct vh *cli_vh;

	if (argc >= 2 &&
	    (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "demote") == 0))
		return client_main(argc, argv);

	if ((carpd = calloc(1, sizeof(*carpd))) == NULL ||
	    (cli_vh = vh_new()) == NULL)
		err(1, NULL);
	privdrop_cloexec_all();
	/* Before the options: --check reads the passphrase placeholder. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--check") == 0)
			carpd->checking = 1;
	parse_options(argc, argv, &cl, cli_vh);
	conf = load_config(&cl, cli_vh);
	user_lookup(conf->user, &user);
	if (carpd->checking) {
		carpd_conf_print(stdout, conf);
		carpd_conf_free(conf);
		if (fflush(stdout) == EOF || ferror(stdout))
			err(1, "stdout");
		return 0;
	}
	carpd->config_path = cl.config;
	carpd->opts = cl.opts;
	reload_install(conf);
	if (caps_check() == -1)
		exit(1);

	log_init("carpd", cl.daemonize, cl.verbose);
	/*
	 * Detach before the event loop exists: a signalfd registered in
	 * epoll by the parent would not wake the child.
	 */
	if (cl.daemonize && util_daemonize() == -1)
		fatal("daemonize");
	if (open_resources() == -1 || user_drop(&user) == -1)
		return 1;
	if (notify_start(carpd->loop, carpd_status_line, NULL) == -1)
		fatal("systemd notification");
	node_start();
	if (carpd->sync_path != NULL && syncc_start() == -1)
		fatal("syncd client");
	notify_ready();

	if (ev_loop_run(carpd->loop) == -1)
		log_warn("event loop");
	node_stop();
	free_all();
	log_info("stopped");
	return 0;
}

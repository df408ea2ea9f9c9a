/*
 * main.c: syncd, the conntrack state sync daemon: the command-line client
 * and genkey, then the daemon: options, log, config, opening the control
 * socket, conntrack netlink and the sync socket, the loop, shutdown.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <ifaddrs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "control.h"
#include "ct.h"
#include "ctl.h"
#include "confout.h"
#include "localaddr.h"
#include "log.h"
#include "prom_http.h"
#include "notify.h"
#include "privdrop.h"
#include "reload.h"
#include "syncd.h"
#include "util.h"

#define PORT_MIN    1
#define PORT_MAX    65535
#define MTU_MIN	    576	  /* what IPv4 hosts must accept */
#define MTU_LIMIT   65535 /* accepted from the config */
#define MTU_DEFAULT 1500
#define MTU_MAX	    9000
#define FLUSH_MS    1000 /* at shutdown: queued states and acks */
#define POLOPT_MAX  32	 /* policy options on the command line */
#define POLOPT_ID   1000 /* getopt values of policy options */

struct opts {
	const char *config;
	char peers[SYNCD_MAXPEERS][64];
	int npeers;
	char listen[64];
	char iface[32];
	unsigned long port;
	char keyfile[256];
	int insecure;
	char control[108];
	char metrics[64]; /* ADDR:PORT or empty: off */
	char user[64];
	unsigned long mtu;
	int nostage;
	int check;
	int daemonize;
	int verbose;
	/* The file's policy, then the command line's options on top. */
	struct policy policy;
	const char *polopt[POLOPT_MAX][2]; /* keyword, value */
	int npolopt;
	/* The lines of the file that set the settings fixed until a
	 * restart (reload.h), for a reload's error. */
	int fixed_line[FIX_N];
	int peer_line[SYNCD_MAXPEERS]; /* 0: from the command line */
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: syncd [-B] [-c file] [--peer addr]... [--listen addr]\n"
	    "             [--interface iface] [--port n]\n"
	    "             [--key file | --insecure --interface iface]\n"
	    "             [--control socket] [--mtu n] [--no-stage]\n"
	    "             [--metrics addr:port] [--user user] [--check] [-v]\n"
	    "             [--sync-protocols list] [--send-ignore prefixes]\n"
	    "             [--import-zones list] [--import-ignore prefixes]\n"
	    "             [--import-mark-mask mask] [--import-label-mask "
	    "mask]\n"
	    "             [--import-helpers list] [--import-timeout-max s]\n"
	    "             [--import-fixed-timeout yes|no] "
	    "[--import-max-states n]\n"
	    "       syncd status [--json | --prometheus] [--control socket]\n"
	    "       syncd commit | resync [--control socket]\n"
	    "       syncd diff [--json] [--control socket]\n"
	    "       syncd dump internal|external [--peer addr] [--json]"
	    " [--control socket]\n"
	    "       syncd genkey\n");
	exit(2);
}

/* Whether the address a is one of o's peers already. */
static int
peer_known(const struct opts *o, const char *a)
{
	uint8_t x[16], y[16];
	int af = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(af, a, x) != 1)
		return 0;
	for (int i = 0; i < o->npeers; i++)
		if (inet_pton(af, o->peers[i], y) == 1 &&
		    memcmp(x, y, af == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

static int
opt_peer(struct opts *o, const char *a, char *err, size_t len)
{
	struct sockaddr_in6 s6;

	if (o->npeers == SYNCD_MAXPEERS) {
		snprintf(err, len, "too many peers (at most %d)",
		    SYNCD_MAXPEERS);
		return -1;
	}
	if (inet_pton(AF_INET, a, &s6) != 1 &&
	    inet_pton(AF_INET6, a, &s6.sin6_addr) != 1) {
		snprintf(err, len, "bad peer address \"%s\"", a);
		return -1;
	}
	if (peer_known(o, a)) {
		snprintf(err, len, "peer %s given twice", a);
		return -1;
	}
	snprintf(o->peers[o->npeers++], sizeof(o->peers[0]), "%s", a);
	return 0;
}

/* The metrics listener's address, checked now; the first one wins (the
 * command line is read before the config). */
static int
opt_metrics(struct opts *o, const char *a, char *err, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (strlen(a) >= sizeof(o->metrics) ||
	    prom_http_parse(a, &ss, &sl, err, len) == -1) {
		if (strlen(a) >= sizeof(o->metrics))
			snprintf(err, len, "bad metrics address \"%s\"", a);
		return -1;
	}
	if (o->metrics[0] == '\0')
		snprintf(o->metrics, sizeof(o->metrics), "%s", a);
	return 0;
}

/*
 * A policy option's value, split at commas and blanks, applied to p as
 * the keyword's line would be. Returns policy_set's answer.
 */
static int
apply_polopt(struct policy *p, const char *k, const char *val, char *err,
    size_t len)
{
	char buf[CONF_MAXLINE], *argv[CONF_MAXARGS + 1], *t, *save = NULL;
	int argc = 0;

	if (strlen(val) >= sizeof(buf)) {
		snprintf(err, len, "value too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", val);
	argv[argc++] = (char *)k;
	for (t = strtok_r(buf, ", \t", &save); t != NULL;
	     t = strtok_r(NULL, ", \t", &save)) {
		if (argc == CONF_MAXARGS) {
			snprintf(err, len, "too many values");
			return -1;
		}
		argv[argc++] = t;
	}
	argv[argc] = NULL;
	return policy_set(p, argc, argv, err, len);
}

static int
conf_cb(const struct conf_line *l, void *arg, char *err, size_t len)
{
	struct opts *o = arg;
	const char *k = l->argv[0];
	unsigned long n;
	int v;

	if ((v = policy_set(&o->policy, l->argc, l->argv, err, len)) != 0)
		return v == 1 ? 0 : -1;
	if (l->argc != 2) {
		snprintf(err, len, "\"%s\" takes one argument", k);
		return -1;
	}
	if ((v = reload_fixed_index(k)) >= 0 && o->fixed_line[v] == 0)
		o->fixed_line[v] = l->lineno;
	if (strcmp(k, "peer") == 0) {
		if (o->npeers < SYNCD_MAXPEERS)
			o->peer_line[o->npeers] = l->lineno;
		return opt_peer(o, l->argv[1], err, len);
	}
	if (strcmp(k, "listen") == 0) {
		if (o->listen[0] == '\0')
			snprintf(o->listen, sizeof(o->listen), "%s",
			    l->argv[1]);
	} else if (strcmp(k, "interface") == 0) {
		if (o->iface[0] == '\0')
			snprintf(o->iface, sizeof(o->iface), "%s", l->argv[1]);
	} else if (strcmp(k, "port") == 0) {
		if (conf_uint(l->argv[1], PORT_MIN, PORT_MAX, &n) == -1) {
			snprintf(err, len, "bad port \"%s\"", l->argv[1]);
			return -1;
		}
		if (o->port == 0)
			o->port = n;
	} else if (strcmp(k, "mtu") == 0) {
		if (conf_uint(l->argv[1], MTU_MIN, MTU_LIMIT, &n) == -1) {
			snprintf(err, len, "bad mtu \"%s\"", l->argv[1]);
			return -1;
		}
		if (o->mtu == 0)
			o->mtu = n;
	} else if (strcmp(k, "stage") == 0) {
		if ((v = conf_bool(l->argv[1])) == -1) {
			snprintf(err, len, "stage: yes or no, not \"%s\"",
			    l->argv[1]);
			return -1;
		}
		if (!v)
			o->nostage = 1;
	} else if (strcmp(k, "key") == 0) {
		if (o->keyfile[0] == '\0')
			snprintf(o->keyfile, sizeof(o->keyfile), "%s",
			    l->argv[1]);
	} else if (strcmp(k, "metrics") == 0) {
		if (opt_metrics(o, l->argv[1], err, len) == -1)
			return -1;
	} else if (strcmp(k, "user") == 0) {
		if (o->user[0] == '\0')
			snprintf(o->user, sizeof(o->user), "%s", l->argv[1]);
	} else if (strcmp(k, "control") == 0) {
		if (o->control[0] == '\0')
			snprintf(o->control, sizeof(o->control), "%s",
			    l->argv[1]);
	} else {
		snprintf(err, len, "unknown keyword \"%s\"", k);
		return -1;
	}
	return 0;
}

static int
client(int argc, char **argv)
{
	const char *path = SYNCD_CONTROL;
	char *words[8];
	int n = 0;

	words[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--control=", 10) == 0)
			path = argv[i] + 10;
		else if (strcmp(argv[i], "--json") == 0 &&
		    (strcmp(argv[0], "status") == 0 ||
			strcmp(argv[0], "diff") == 0) &&
		    n < 2)
			words[n++] = "json";
		else if (strcmp(argv[i], "--prometheus") == 0 &&
		    strcmp(argv[0], "status") == 0 && n < 2)
			words[n++] = "prometheus";
		else
			usage();
	}
	return ctl_client_main("syncd", path, n, words);
}

static int
genkey(void)
{
	uint8_t key[SYNC_KEYLEN];
	char hex[65];

	if (sodium_init() < 0)
		errx(1, "libsodium initialisation failed");
	sync_key_generate(key);
	sync_key_format(key, hex);
	printf("%s\n", hex);
	sodium_memzero(key, sizeof(key));
	return 0;
}

#define KEY_HOWTO                                                             \
	"make one with \"syncd genkey > " SYNCD_KEYFILE                       \
	" && chmod 600 " SYNCD_KEYFILE                                        \
	"\" on one member and copy it to every member "                       \
	"(or give --key FILE; --insecure only with --interface)"

/* The group key from path; exits 2 when it is missing, not a key, or
 * readable or writable by anyone but its owner. */
static void
read_key(struct syncd *sd, const char *path)
{
	struct stat sb;
	char *buf;
	size_t len;
	int rc;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			errx(2, "no group key: %s does not exist; %s", path,
			    KEY_HOWTO);
		err(2, "%s", path);
	}
	if (!S_ISREG(sb.st_mode))
		errx(2, "%s: not a regular file", path);
	if ((sb.st_mode & 077) != 0)
		errx(2,
		    "%s: mode %04o lets others than its owner read or "
		    "change the key; chmod 600 %s",
		    path, (unsigned)(sb.st_mode & 07777), path);
	if (util_read_file(path, 4096, &buf, &len) == -1)
		err(2, "%s", path);
	rc = sync_key_parse(buf, sd->key);
	sodium_memzero(buf, len);
	free(buf);
	if (rc == -1)
		errx(2, "%s:1: not a key (64 hex digits; see syncd genkey)",
		    path);
	sd->have_key = 1;
}

/*
 * Test-only settings, not for production and not documented for users:
 * SYNCD_TEST_SEQ_START starts every session's sequence numbers there
 * (e.g. just below the 64-bit wrap) and SYNCD_TEST_REKEY_FRAMES rekeys
 * after that many frames instead of 2^60 (tests/netns/
 * test_syncd_wrap.sh). Both are numbers as strtoull reads them.
 */
static void
test_settings(struct syncd *sd)
{
	const char *v;
	char *end;

	sd->seq0 = 1;
	sd->rekey_frames = SESS_REKEY_FRAMES;
	if ((v = getenv("SYNCD_TEST_SEQ_START")) != NULL && *v != '\0') {
		sd->seq0 = strtoull(v, &end, 0);
		if (*end != '\0')
			errx(2, "SYNCD_TEST_SEQ_START: bad number \"%s\"", v);
		log_warnx("test setting: sequence numbers start at %llu",
		    (unsigned long long)sd->seq0);
	}
	if ((v = getenv("SYNCD_TEST_REKEY_FRAMES")) != NULL && *v != '\0') {
		sd->rekey_frames = strtoull(v, &end, 0);
		if (*end != '\0' || sd->rekey_frames < 100)
			errx(2, "SYNCD_TEST_REKEY_FRAMES: bad number \"%s\"",
			    v);
		log_warnx("test setting: rekey every %llu frames",
		    (unsigned long long)sd->rekey_frames);
	}
}

static int
parse_sa(const char *a, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* The first address of iface in family (0: any). */
static int
iface_addr(const char *iface, int family, char *out, size_t len)
{
	struct ifaddrs *ifa;
	int rv = -1;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, iface) != 0)
			continue;
		if (family != 0 && i->ifa_addr->sa_family != family)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			    out, (socklen_t)len);
			rv = 0;
			break;
		}
		if (i->ifa_addr->sa_family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(
			&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr)) {
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    out, (socklen_t)len);
			rv = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return rv;
}

static int
iface_mtu(const char *iface)
{
	struct ifreq ifr;
	int fd, mtu = -1;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(iface) >= sizeof(ifr.ifr_name)) {
		close(fd);
		return -1;
	}
	memcpy(ifr.ifr_name, iface, strlen(iface));
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static void
on_signal(int signo, void *arg)
{
	struct syncd *sd = arg;

	log_info("signal %d: shutting down", signo);
	notify_stopping();
	ev_loop_break(sd->loop);
}

static void
ct_state_cb(enum ct_event ev, const struct ct_state *st, void *arg)
{
	engine_own_state(arg, ev, st);
}

static void
ct_expect_cb(enum ct_event ev, const struct ct_expect *x, void *arg)
{
	engine_own_expect(arg, ev, x);
}

static void
ct_resync_begin(void *arg)
{
	engine_resync_begin(arg);
}

static void
ct_resync_end(void *arg)
{
	engine_resync_end(arg);
}

static const struct option lopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "peer", required_argument, NULL, 'p' },
	{ "listen", required_argument, NULL, 'l' },
	{ "interface", required_argument, NULL, 'i' },
	{ "port", required_argument, NULL, 'P' },
	{ "key", required_argument, NULL, 'k' },
	{ "insecure", no_argument, NULL, 'I' },
	{ "control", required_argument, NULL, 's' },
	{ "mtu", required_argument, NULL, 'm' },
	{ "no-stage", no_argument, NULL, 'S' },
	{ "metrics", required_argument, NULL, 'M' },
	{ "daemonize", no_argument, NULL, 'B' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "user", required_argument, NULL, 'u' },
	{ "check", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "sync-protocols", required_argument, NULL, POLOPT_ID },
	{ "send-ignore", required_argument, NULL, POLOPT_ID },
	{ "import-zones", required_argument, NULL, POLOPT_ID },
	{ "import-ignore", required_argument, NULL, POLOPT_ID },
	{ "import-mark-mask", required_argument, NULL, POLOPT_ID },
	{ "import-label-mask", required_argument, NULL, POLOPT_ID },
	{ "import-helpers", required_argument, NULL, POLOPT_ID },
	{ "import-timeout-max", required_argument, NULL, POLOPT_ID },
	{ "import-fixed-timeout", required_argument, NULL, POLOPT_ID },
	{ "import-max-states", required_argument, NULL, POLOPT_ID },
	{ NULL, 0, NULL, 0 }
};

/* A policy option: checked now, applied over the file's policy later. */
static void
opt_policy(struct opts *o, const char *k, const char *val)
{
	struct policy scratch;
	char errbuf[CONF_ERRLEN];

	policy_init(&scratch);
	if (apply_polopt(&scratch, k, val, errbuf, sizeof(errbuf)) != 1)
		errx(2, "--%s: %s", k, errbuf);
	if (o->npolopt == POLOPT_MAX)
		errx(2, "--%s: too many policy options", k);
	o->polopt[o->npolopt][0] = k;
	o->polopt[o->npolopt++][1] = val;
}

/* The command line into o; exits 2 on a bad option. */
static void
parse_options(int argc, char *argv[], struct opts *o)
{
	char errbuf[CONF_ERRLEN];
	int ch, idx;

	memset(o, 0, sizeof(*o));
	policy_init(&o->policy);
	while ((ch = getopt_long(argc, argv, "c:BvhV", lopts, &idx)) != -1) {
		switch (ch) {
		case POLOPT_ID:
			opt_policy(o, lopts[idx].name, optarg);
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			if (opt_peer(o, optarg, errbuf, sizeof(errbuf)) == -1)
				errx(2, "--peer: %s", errbuf);
			break;
		case 'l':
			snprintf(o->listen, sizeof(o->listen), "%s", optarg);
			break;
		case 'i':
			if (strlen(optarg) >= IF_NAMESIZE)
				errx(2, "--interface: name too long");
			snprintf(o->iface, sizeof(o->iface), "%s", optarg);
			break;
		case 'P':
			if (conf_uint(optarg, PORT_MIN, PORT_MAX, &o->port) ==
			    -1)
				errx(2, "--port: bad port \"%s\"", optarg);
			break;
		case 'k':
			snprintf(o->keyfile, sizeof(o->keyfile), "%s", optarg);
			break;
		case 'I':
			o->insecure = 1;
			break;
		case 's':
			snprintf(o->control, sizeof(o->control), "%s", optarg);
			break;
		case 'm':
			if (conf_uint(optarg, MTU_MIN, MTU_LIMIT, &o->mtu) ==
			    -1)
				errx(2, "--mtu: bad mtu \"%s\"", optarg);
			break;
		case 'S':
			o->nostage = 1;
			break;
		case 'M':
			if (opt_metrics(o, optarg, errbuf, sizeof(errbuf)) ==
			    -1)
				errx(2, "--metrics: %s", errbuf);
			break;
		case 'B':
			o->daemonize = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'u':
			if (strlen(optarg) >= sizeof(o->user))
				errx(2, "--user: name too long");
			snprintf(o->user, sizeof(o->user), "%s", optarg);
			break;
		case 'C':
			o->check = 1;
			break;
		case 'V':
			printf("syncd %s\n", VERSION);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* The listen address: given, the interface's, or any of the peers'
 * family. Exits 2 when it cannot be had. */
static void
set_listen(struct syncd *sd, struct opts *o)
{
	int v6 = strchr(o->peers[0], ':') != NULL;
	char name[4 * sizeof(o->iface)];

	if (o->listen[0] == '\0' && o->iface[0] != '\0' &&
	    iface_addr(o->iface, v6 ? AF_INET6 : AF_INET, o->listen,
		sizeof(o->listen)) == -1)
		errx(2, "--interface %s: no address to listen on",
		    sbuf_text_copy(name, sizeof(name), o->iface));
	if (o->listen[0] != '\0') {
		if (parse_sa(o->listen, sd->port, &sd->listen,
			&sd->listenlen) == -1)
			errx(2, "--listen: bad address \"%s\"", o->listen);
	} else
		parse_sa(v6 ? "::" : "0.0.0.0", sd->port, &sd->listen,
		    &sd->listenlen);
}

/*
 * The peers of o as socket addresses of the listen family and port into
 * c; -1 with err on an address of another family.
 */
static int
conf_peers(const struct opts *o, int family, uint16_t port,
    struct syncd_conf *c, char *err, size_t len)
{
	struct sockaddr_storage *ss;
	char where[300];

	c->npeers = 0;
	for (int i = 0; i < o->npeers; i++) {
		ss = &c->peer[i];
		if (parse_sa(o->peers[i], port, ss, &c->peerlen[i]) == 0 &&
		    ss->ss_family == family) {
			c->npeers++;
			continue;
		}
		if (o->peer_line[i] > 0)
			snprintf(where, sizeof(where), "%s:%d: ", o->config,
			    o->peer_line[i]);
		else
			where[0] = '\0';
		snprintf(err, len,
		    "%speer %s: not an address of the listen family", where,
		    o->peers[i]);
		return -1;
	}
	return 0;
}

/* The settings fixed until a restart, as text, and where o's file set
 * them; the policy. Before configure(), which fills in o->listen. */
static void
conf_fixed(const struct opts *o, struct syncd_conf *c)
{
	char(*f)[FIX_VALLEN] = c->fixed;

	memset(c, 0, sizeof(*c));
	c->file = o->config;
	memcpy(c->fixed_line, o->fixed_line, sizeof(c->fixed_line));
	snprintf(f[FIX_LISTEN], FIX_VALLEN, "%s", o->listen);
	snprintf(f[FIX_INTERFACE], FIX_VALLEN, "%s", o->iface);
	snprintf(f[FIX_PORT], FIX_VALLEN, "%lu",
	    o->port ? o->port : SYNC_PORT);
	/* The default key only without --insecure: a key given under it
	 * is a change (and an error at start). */
	snprintf(f[FIX_KEY], FIX_VALLEN, "%s",
	    o->keyfile[0] != '\0' ? o->keyfile :
		o->insecure	  ? "" :
				    SYNCD_KEYFILE);
	if (o->mtu != 0)
		snprintf(f[FIX_MTU], FIX_VALLEN, "%lu", o->mtu);
	snprintf(f[FIX_STAGE], FIX_VALLEN, "%s", o->nostage ? "no" : "yes");
	snprintf(f[FIX_CONTROL], FIX_VALLEN, "%s",
	    o->control[0] != '\0' ? o->control : SYNCD_CONTROL);
	snprintf(f[FIX_METRICS], FIX_VALLEN, "%s", o->metrics);
	snprintf(f[FIX_USER], FIX_VALLEN, "%s", o->user);
	c->policy = o->policy;
}

/* Settings from the options and config (c: conf_fixed's, its peers
 * filled in); exits 2 on a bad one. */
static void
configure(struct syncd *sd, struct opts *o, struct syncd_conf *c)
{
	char errbuf[CONF_ERRLEN];

	sd->policy = o->policy;
	sd->sock = -1;
	test_settings(sd);
	sd->port = o->port ? (uint16_t)o->port : SYNC_PORT;
	snprintf(sd->control_path, sizeof(sd->control_path), "%s",
	    o->control[0] ? o->control : SYNCD_CONTROL);
	snprintf(sd->iface, sizeof(sd->iface), "%s", o->iface);
	set_listen(sd, o);
	sd->mtu = (int)o->mtu;
	if (sd->mtu == 0 && o->iface[0] != '\0')
		sd->mtu = iface_mtu(o->iface);
	if (sd->mtu <= 0)
		sd->mtu = MTU_DEFAULT;
	if (sd->mtu > MTU_MAX)
		sd->mtu = MTU_MAX;
	if (conf_peers(o, sd->listen.ss_family, sd->port, c, errbuf,
		sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	for (int i = 0; i < c->npeers; i++)
		if (peer_add(sd, &c->peer[i], c->peerlen[i]) == -1)
			err(1, "peer_add");
	if (!o->insecure) {
		read_key(sd,
		    o->keyfile[0] != '\0' ? o->keyfile : SYNCD_KEYFILE);
		return;
	}
	if (o->keyfile[0] != '\0')
		errx(2,
		    "--insecure and a key (--key or \"key\" in the "
		    "config) exclude each other");
	if (o->iface[0] == '\0')
		errx(2,
		    "--insecure needs --interface: without a key, only "
		    "on a dedicated sync link");
	/* The protocol runs unchanged under an all-zero group key. */
	memset(sd->key, 0, sizeof(sd->key));
	log_warnx(
	    "WARNING: --insecure: sync traffic is neither "
	    "authenticated nor encrypted; anyone on %s can inject or read "
	    "connection states",
	    o->iface);
}

static void
daemon_close(struct syncd *sd)
{
	prom_http_close(sd->metrics);
	sd->metrics = NULL;
	reload_free(sd);
	notify_stop();
	control_close(sd->control);
	localaddr_close(sd->localaddr);
	pol_local_free(&sd->local);
	stage_close(sd);
	if (sd->ct != NULL)
		ct_close(sd->ct);
	sd->ct = NULL;
	transport_close(sd);
	cache_free(sd->internal);
	cache_free(sd->dump_gone);
	cache_free(sd->unsent);
	free(sd->exp);
	sodium_memzero(sd->key, sizeof(sd->key));
	if (sd->loop != NULL)
		ev_loop_free(sd->loop);
}

static int
metrics_render(struct sbuf *out, void *arg)
{
	return syncd_metrics(arg, out);
}

/*
 * The loop, the control socket, conntrack netlink (events subscribed
 * now; our table is read once the first bulk is in, see engine.c), the
 * metrics listener when asked for, and the sync socket. A failure is
 * logged and exits 1, all closed.
 */
static void
daemon_open(struct syncd *sd, int stage, const char *metrics)
{
	struct ct_callbacks cb;

	if ((sd->loop = ev_loop_new()) == NULL)
		fatal("ev_loop_new");
	if ((sd->internal = cache_new()) == NULL ||
	    (sd->unsent = cache_new()) == NULL)
		fatal("cache_new");
	sd->demote = -1;
	/* Before conntrack: the send filter needs this node's addresses
	 * from the first event on. */
	if ((sd->localaddr = localaddr_open(sd->loop, &sd->local,
		 &sd->helpers)) == NULL) {
		log_warn("rtnetlink (this node's addresses)");
		goto fail;
	}
	if (control_open(sd) == NULL) {
		log_warn("control socket %s", sd->control_path);
		goto fail;
	}
	memset(&cb, 0, sizeof(cb));
	cb.state = ct_state_cb;
	cb.expect = ct_expect_cb;
	cb.resync_begin = ct_resync_begin;
	cb.resync_end = ct_resync_end;
	if ((sd->ct = ct_open(sd->loop, &cb, sd, 0)) == NULL) {
		if (errno == EPERM)
			log_warnx("conntrack netlink: CAP_NET_ADMIN needed");
		else
			log_warn("conntrack netlink");
		goto fail;
	}
	if (stage_open(sd, stage) == -1)
		fatal("staging");
	if (metrics[0] != '\0' &&
	    (sd->metrics = prom_http_open(sd->loop, metrics, metrics_render,
		 sd)) == NULL)
		goto fail;
	if (transport_open(sd) == -1) {
		log_warn("sync socket");
		goto fail;
	}
	engine_update_demote(sd);
	ev_signal_add(sd->loop, SIGTERM, on_signal, sd);
	ev_signal_add(sd->loop, SIGINT, on_signal, sd);
	signal(SIGPIPE, SIG_IGN);
	return;
fail:
	daemon_close(sd);
	exit(1);
}

/*
 * --check: the key file is read (its path printed, never the key); one it
 * cannot read for want of privilege is only noted, since --check needs
 * none. Exits 2 on a bad one.
 */
static void
check_key(const char *path)
{
	uint8_t key[SYNC_KEYLEN];
	char *buf;
	size_t len;

	if (util_read_file(path, 4096, &buf, &len) == -1) {
		if (errno == EACCES && geteuid() != 0) {
			warn("%s: not checked", path);
			return;
		}
		err(2, "%s", path);
	}
	if (sync_key_parse(buf, key) == -1) {
		sodium_memzero(buf, len);
		errx(2, "%s:1: not a key (64 hex digits; see syncd genkey)",
		    path);
	}
	sodium_memzero(buf, len);
	sodium_memzero(key, sizeof(key));
	free(buf);
}

/* The command line's policy options over the file's policy; -1 with
 * err. */
static int
policy_options(struct opts *o, char *err, size_t len)
{
	char errbuf[CONF_ERRLEN / 2];

	for (int i = 0; i < o->npolopt; i++)
		if (apply_polopt(&o->policy, o->polopt[i][0], o->polopt[i][1],
			errbuf, sizeof(errbuf)) != 1) {
			snprintf(err, len, "--%s: %s", o->polopt[i][0],
			    errbuf);
			return -1;
		}
	return 0;
}

/*
 * The settings: the command line's (cli), the file's under them (peers
 * add up, the command line's policy options go over the file's), as at
 * start and at every reload. -1 with err ("file:line: reason").
 */
static int
load_settings(const struct opts *cli, struct opts *o, char *err, size_t len)
{
	*o = *cli;
	if (o->config != NULL &&
	    conf_parse_file(o->config, conf_cb, o, err, len) == -1)
		return -1;
	if (o->npeers == 0) {
		if (o->config != NULL)
			snprintf(err, len, "%s: no peer given", o->config);
		else
			snprintf(err, len,
			    "no peer given (--peer or \"peer\" in the "
			    "config)");
		return -1;
	}
	return policy_options(o, err, len);
}

/* What SIGHUP needs: the daemon and the command line it started with. */
struct hup {
	struct syncd *sd;
	struct opts cli;
	char path[PATH_MAX]; /* the -c file, absolute (-B changes directory) */
};

/*
 * SIGHUP: the file read again into fresh settings, under the same
 * command line, checked whole; then reload.c compares and applies them.
 * Nothing changes unless all of it is right.
 */
static void
on_hup(int signo, void *arg)
{
	struct hup *h = arg;
	struct syncd *sd = h->sd;
	struct opts o;
	struct syncd_conf c;
	char errbuf[CONF_ERRLEN];

	if (h->cli.config == NULL) {
		reload_refused(sd, "",
		    "SIGHUP: no configuration file (-c) to reload");
		return;
	}
	log_info("SIGHUP: reloading %s", h->cli.config);
	if (load_settings(&h->cli, &o, errbuf, sizeof(errbuf)) == -1) {
		reload_refused(sd, h->cli.config, errbuf);
		return;
	}
	conf_fixed(&o, &c);
	if (conf_peers(&o, sd->listen.ss_family, sd->port, &c, errbuf,
		sizeof(errbuf)) == -1 ||
	    reload_apply(sd, &c, errbuf, sizeof(errbuf)) == -1)
		reload_refused(sd, h->cli.config, errbuf);
}

/* The effective settings as syncd.conf(5), which reads back the same. */
static void
check_print(const struct opts *o)
{
	struct sbuf b;

	printf("# syncd %s --check: the effective configuration\n", VERSION);
	for (int i = 0; i < o->npeers; i++)
		confout_kw(stdout, 0, "peer", o->peers[i]);
	if (o->iface[0] != '\0')
		confout_kw(stdout, 0, "interface", o->iface);
	if (o->listen[0] != '\0')
		confout_kw(stdout, 0, "listen", o->listen);
	else
		printf("# listen: %s\n",
		    o->iface[0] != '\0' ?
			"the interface's address, at start" :
			"any address");
	confout_uint(stdout, 0, "port", o->port ? o->port : SYNC_PORT);
	if (o->mtu != 0)
		confout_uint(stdout, 0, "mtu", o->mtu);
	else
		printf("# mtu: %s\n",
		    o->iface[0] != '\0' ?
			"the interface's, at start" :
			"1500");
	confout_bool(stdout, 0, "stage", !o->nostage);
	if (o->keyfile[0] != '\0')
		confout_kw(stdout, 0, "key", o->keyfile);
	else
		printf("# key: none, sync traffic in the clear\n");
	confout_kw(stdout, 0, "control",
	    o->control[0] != '\0' ? o->control : SYNCD_CONTROL);
	if (o->user[0] != '\0')
		confout_kw(stdout, 0, "user", o->user);
	sbuf_init(&b);
	policy_print(&o->policy, &b);
	if (b.err)
		errx(1, "out of memory");
	fputs(b.p, stdout);
	sbuf_free(&b);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
}

/* --user: after daemon_open, the control socket handed to the user. */
static void
user_drop(struct syncd *sd, const struct privdrop_user *u)
{
	char why[256];

	if (privdrop_chown(u, sd->control_path) == -1)
		log_warn("control socket %s: chown to %s", sd->control_path,
		    u->name);
	if (privdrop_to(u, 0, why, sizeof(why)) == -1) {
		log_warnx("--user: %s", why);
		daemon_close(sd);
		exit(1);
	}
	log_info("running as %s (uid %u), keeping CAP_NET_ADMIN and "
		 "CAP_NET_RAW",
	    u->name, (unsigned)u->uid);
}

static int
is_client_command(const char *w)
{
	return strcmp(w, "status") == 0 || strcmp(w, "commit") == 0 ||
	    strcmp(w, "resync") == 0 || strcmp(w, "diff") == 0;
}

/* SIGHUP reloads from now on (the loop is there to take it). */
static void
hup_start(struct hup *h, struct syncd *sd, const struct syncd_conf *run)
{
	h->sd = sd;
	if (reload_init(sd, run) == -1)
		fatal("reload");
	ev_signal_add(sd->loop, SIGHUP, on_hup, h);
}

int
main(int argc, char *argv[])
{
	static struct syncd sd;
	static struct hup hup;
	static struct syncd_conf run;
	struct privdrop_user user;
	struct opts o;
	char errbuf[CONF_ERRLEN];

	if (argc > 1 && strcmp(argv[1], "dump") == 0)
		return cachedump_client(argc - 1, argv + 1);
	if (argc > 1 && is_client_command(argv[1]))
		return client(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "genkey") == 0)
		return genkey();

	privdrop_cloexec_all();
	parse_options(argc, argv, &hup.cli);
	if (load_settings(&hup.cli, &o, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	/* Read again on SIGHUP, after -B changed the directory to /. */
	if (hup.cli.config != NULL &&
	    realpath(hup.cli.config, hup.path) != NULL)
		hup.cli.config = hup.path;
	log_init("syncd", 0, o.verbose);
	if (o.user[0] != '\0' &&
	    privdrop_lookup(o.user, &user, errbuf, sizeof(errbuf)) == -1)
		errx(2, "--user: %s", errbuf);
	if (o.check) {
		if (o.keyfile[0] != '\0')
			check_key(o.keyfile);
		check_print(&o);
		return 0;
	}
	if (util_sodium_init() == -1)
		exit(1);
	conf_fixed(&o, &run);
	configure(&sd, &o, &run);
	if (o.daemonize) {
		if (util_daemonize() == -1)
			err(1, "daemonize");
		log_init("syncd", 1, o.verbose);
	}

	daemon_open(&sd, !o.nostage, o.metrics);
	hup_start(&hup, &sd, &run);
	if (o.user[0] != '\0')
		user_drop(&sd, &user);
	if (notify_start(sd.loop, event_status_line, &sd) == -1)
		fatal("systemd notification");
	log_info("listening on port %u, %d peer(s), mtu %d%s", sd.port,
	    sd.npeers, sd.mtu, sd.have_key ? ", group key" : ", INSECURE");
	if (ev_loop_run(sd.loop) == -1)
		log_warn("event loop");

	/* SIGTERM: push what is queued, wait (bounded) for the acks. */
	transport_flush(&sd, FLUSH_MS);
	control_handover(sd.control);
	daemon_close(&sd);
	return 0;
}

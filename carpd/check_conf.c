/*
 * check_conf.c: the "check NAME { ... }" blocks of carpd.conf(5): their
 * keywords, the shell-like splitting of exec commands, and the table of
 * configured checks (check.c runs them).
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carpd.h"
#include "check.h"
#include "conf.h"

#define CHECK_INTERVAL_MS 1000
#define CHECK_TIME_MIN_MS 100
#define CHECK_TIME_MAX_MS 3600000
#define CHECK_RISE	  1
#define CHECK_FALL	  1
#define CHECK_WEIGHT	  1

const char *const check_kind_names[CHECK_KIND_MAX] = {
	[CHECK_NONE] = "none",
	[CHECK_EXEC] = "exec",
	[CHECK_IFACE] = "interface",
	[CHECK_PING] = "ping",
};

void
check_free(struct carpd_check *c)
{
	if (c == NULL)
		return;
	if (c->argv != NULL)
		for (char **a = c->argv; *a != NULL; a++)
			free(*a);
	free(c->argv);
	free(c);
}

void
check_free_all(void)
{
	for (int i = 0; i < carpd->nchecks; i++)
		check_free(carpd->checks[i]);
	carpd->nchecks = 0;
}

/* The check called name among n in tab, or NULL. */
struct carpd_check *
check_find(struct carpd_check *const *tab, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(tab[i]->name, name) == 0)
			return tab[i];
	return NULL;
}

/* "check NAME {": a new block, not yet in conf's table. */
struct carpd_check *
check_new(const struct carpd_conf *conf, const char *name, char *err,
    size_t errlen)
{
	struct carpd_check *c;

	if (name[0] == '\0' || strlen(name) >= sizeof(c->name)) {
		snprintf(err, errlen, "bad check name (1..%zu bytes)",
		    sizeof(c->name) - 1);
		return NULL;
	}
	if (check_find(conf->checks, conf->nchecks, name) != NULL) {
		snprintf(err, errlen, "check %s defined twice", name);
		return NULL;
	}
	if (conf->nchecks >= CARPD_MAXCHECK) {
		snprintf(err, errlen, "too many checks (at most %d)",
		    CARPD_MAXCHECK);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->rise = CHECK_RISE;
	c->fall = CHECK_FALL;
	c->weight = CHECK_WEIGHT;
	c->fd = -1;
	return c;
}

/*
 * Split a command line into words as sh(1) does for blanks, quotes and
 * backslashes, and nothing else: no variables, globbing or redirection.
 * -1 with err set.
 */
int
check_split(const char *s, char ***out, char *err, size_t errlen)
{
	char *w = NULL, **v = NULL;
	size_t wl = 0, n = 0;
	int inword = 0, ret = -1;
	char q = 0;

	if ((w = malloc(strlen(s) + 1)) == NULL ||
	    (v = calloc(CHECK_MAXARGS + 1, sizeof(*v))) == NULL)
		goto oom;
	for (;; s++) {
		if (q == 0 && (*s == '\0' || *s == ' ' || *s == '\t')) {
			if (inword) {
				if (n >= CHECK_MAXARGS) {
					snprintf(err, errlen,
					    "exec: more than "
					    "%d words",
					    CHECK_MAXARGS);
					goto out;
				}
				w[wl] = '\0';
				if ((v[n++] = strdup(w)) == NULL)
					goto oom;
				wl = 0;
				inword = 0;
			}
			if (*s == '\0')
				break;
			continue;
		}
		if (*s == '\0') {
			snprintf(err, errlen, "exec: unterminated %c quote",
			    q);
			goto out;
		}
		inword = 1;
		if (q == 0 && (*s == '\'' || *s == '"'))
			q = *s;
		else if (q != 0 && *s == q)
			q = 0;
		else if (*s == '\\' && q != '\'' && s[1] != '\0' &&
		    (q == 0 || strchr("\"\\$`", s[1]) != NULL))
			w[wl++] = *++s;
		else
			w[wl++] = *s;
	}
	if (n == 0) {
		snprintf(err, errlen, "exec: empty command");
		goto out;
	}
	if (v[0][0] != '/') {
		snprintf(err, errlen, "exec: give the full path of %s", v[0]);
		goto out;
	}
	*out = v;
	v = NULL;
	ret = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (v != NULL)
		for (size_t i = 0; i < n; i++)
			free(v[i]);
	free(v);
	free(w);
	return ret;
}

/* Seconds with up to three decimals ("2", "0.5"), into ms. */
static int
conf_ms(const char *s, unsigned int min, unsigned int max, unsigned int *ms)
{
	unsigned long long v = 0;
	int frac = -1;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == '.' && frac == -1) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac >= 3 || v > max)
			return -1;
		v = v * 10 + (unsigned int)(*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++)
		v *= 10;
	if (v < min || v > max)
		return -1;
	*ms = (unsigned int)v;
	return 0;
}

static int
check_what(struct carpd_check *c, enum check_kind k, char *err, size_t errlen)
{
	if (c->kind != CHECK_NONE) {
		snprintf(err, errlen,
		    "check %s: one of exec, interface or "
		    "ping, not two",
		    c->name);
		return -1;
	}
	c->kind = k;
	return 0;
}

static int
check_ifname(char *dst, const char *name, char *err, size_t errlen)
{
	if (name[0] == '\0' || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bad interface name %s", name);
		return -1;
	}
	snprintf(dst, IF_NAMESIZE, "%s", name);
	return 0;
}

/* exec: one word split like sh(1), or several taken as they are. */
static int
kw_exec(struct carpd_check *c, int argc, char **argv, int *used, char *err,
    size_t errlen)
{
	int n = 0;

	while (n < argc && strcmp(argv[n], "}") != 0)
		n++;
	*used = n;
	if (n == 0) {
		snprintf(err, errlen, "exec: expected a command");
		return -1;
	}
	if (check_what(c, CHECK_EXEC, err, errlen) == -1)
		return -1;
	if (n == 1)
		return check_split(argv[0], &c->argv, err, errlen);
	if (n > CHECK_MAXARGS) {
		snprintf(err, errlen, "exec: more than %d words",
		    CHECK_MAXARGS);
		return -1;
	}
	if (argv[0][0] != '/') {
		snprintf(err, errlen, "exec: give the full path of %s",
		    argv[0]);
		return -1;
	}
	if ((c->argv = calloc((size_t)n + 1, sizeof(*c->argv))) == NULL)
		goto oom;
	for (int i = 0; i < n; i++)
		if ((c->argv[i] = strdup(argv[i])) == NULL)
			goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ping ADDR [via IFACE] */
static int
kw_ping(struct carpd_check *c, int argc, char **argv, int *used, char *err,
    size_t errlen)
{
	if (argc < 1 || addr_parse(argv[0], &c->dst, NULL) == -1) {
		snprintf(err, errlen, "ping: bad address %s",
		    argc ? argv[0] : "(none)");
		return -1;
	}
	*used = 1;
	if (argc >= 2 && strcmp(argv[1], "via") == 0) {
		if (argc < 3) {
			snprintf(err, errlen, "ping: via needs an interface");
			return -1;
		}
		if (check_ifname(c->ifname, argv[2], err, errlen) == -1)
			return -1;
		*used = 3;
	}
	if (addr_is_linklocal(&c->dst) && c->dst.family == AF_INET6 &&
	    c->ifname[0] == '\0') {
		snprintf(err, errlen,
		    "ping: a link-local address needs "
		    "via IFACE");
		return -1;
	}
	return check_what(c, CHECK_PING, err, errlen);
}

/* One keyword and its arguments; *used: the words taken after it. */
static int
check_keyword(struct carpd_check *c, int argc, char **argv, int *used,
    char *err, size_t errlen)
{
	const char *k = argv[0];
	unsigned long n;

	if (strcmp(k, "exec") == 0)
		return kw_exec(c, argc - 1, argv + 1, used, err, errlen);
	if (strcmp(k, "ping") == 0)
		return kw_ping(c, argc - 1, argv + 1, used, err, errlen);
	*used = 1;
	if (argc < 2 || strcmp(argv[1], "}") == 0) {
		snprintf(err, errlen, "check %s: %s needs a value", c->name,
		    k);
		return -1;
	}
	if (strcmp(k, "interface") == 0) {
		if (check_what(c, CHECK_IFACE, err, errlen) == -1)
			return -1;
		return check_ifname(c->ifname, argv[1], err, errlen);
	}
	if (strcmp(k, "interval") == 0 || strcmp(k, "timeout") == 0) {
		if (conf_ms(argv[1], CHECK_TIME_MIN_MS, CHECK_TIME_MAX_MS,
			k[0] == 'i' ? &c->interval_ms : &c->timeout_ms) ==
		    -1) {
			snprintf(err, errlen, "bad %s %s (0.1..%d s)", k,
			    argv[1], CHECK_TIME_MAX_MS / 1000);
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "rise") == 0 || strcmp(k, "fall") == 0) {
		if (conf_uint(argv[1], 1, 255, &n) == -1) {
			snprintf(err, errlen, "bad %s %s (1..255)", k,
			    argv[1]);
			return -1;
		}
		*(k[0] == 'r' ? &c->rise : &c->fall) = (unsigned int)n;
		return 0;
	}
	if (strcmp(k, "weight") == 0) {
		if (conf_uint(argv[1], 0, CARP_DEMOTE_MAX, &n) == -1) {
			snprintf(err, errlen, "bad weight %s (0..%d)", argv[1],
			    CARP_DEMOTE_MAX);
			return -1;
		}
		c->weight = (unsigned int)n;
		return 0;
	}
	snprintf(err, errlen, "unknown keyword in check block: %s", k);
	return -1;
}

/*
 * The words of one line inside a check block (several keywords may share
 * a line). 1 when a "}" closed the block, 0 to go on, -1 with err set.
 */
int
check_conf_words(struct carpd_check *c, int argc, char **argv, char *err,
    size_t errlen)
{
	int used;

	while (argc > 0) {
		if (strcmp(argv[0], "}") == 0) {
			if (argc > 1) {
				snprintf(err, errlen, "words after }");
				return -1;
			}
			return 1;
		}
		if (check_keyword(c, argc, argv, &used, err, errlen) == -1)
			return -1;
		argc -= 1 + used;
		argv += 1 + used;
	}
	return 0;
}

/* The closing "}": complete the check and add it to conf's table. */
int
check_finish(struct carpd_conf *conf, struct carpd_check *c, char *err,
    size_t errlen)
{
	if (c->kind == CHECK_NONE) {
		snprintf(err, errlen,
		    "check %s: exec, interface or ping "
		    "missing",
		    c->name);
		return -1;
	}
	if (c->interval_ms == 0)
		c->interval_ms = CHECK_INTERVAL_MS;
	if (c->timeout_ms == 0)
		c->timeout_ms = c->interval_ms;
	if (c->kind == CHECK_IFACE && !carpd_conf_ifroom(conf, c->ifname)) {
		snprintf(err, errlen, "check %s: too many interfaces",
		    c->name);
		return -1;
	}
	if (check_find(conf->checks, conf->nchecks, c->name) != NULL ||
	    conf->nchecks >= CARPD_MAXCHECK) {
		snprintf(err, errlen, "check %s: defined twice or too many",
		    c->name);
		return -1;
	}
	conf->checks[conf->nchecks++] = c;
	return 0;
}

/* Do a and b run the same test (kind and target)? Their timing, rise,
 * fall and weight aside. */
int
check_same_target(const struct carpd_check *a, const struct carpd_check *b)
{
	if (a->kind != b->kind || strcmp(a->ifname, b->ifname) != 0 ||
	    addr_cmp(&a->dst, &b->dst) != 0)
		return 0;
	if (a->kind != CHECK_EXEC)
		return 1;
	for (int i = 0;; i++) {
		if (a->argv[i] == NULL || b->argv[i] == NULL)
			return a->argv[i] == b->argv[i];
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 0;
	}
}

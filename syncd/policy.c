/*
 * policy.c: syncd's send filter and import policy: keywords, defaults,
 * the checks (pure functions of the policy, this node's addresses and
 * helpers, and one state), and reading those addresses and helpers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "addr.h"
#include "conf.h"
#include "policy.h"
#include "sbuf.h"

#ifndef IPPROTO_DCCP
#define IPPROTO_DCCP 33
#endif

const char *const pol_reason_names[POL_NREASONS] = {
	[POL_OK] = "ok",
	[POL_LOCAL] = "local",
	[POL_PROTOCOL] = "protocol",
	[POL_PREFIX] = "prefix",
	[POL_ZONE] = "zone",
	[POL_MARK] = "mark",
	[POL_LABELS] = "labels",
	[POL_HELPER] = "helper",
	[POL_TIMEOUT] = "timeout",
	[POL_FIXED_TIMEOUT] = "fixed_timeout",
	[POL_MAX_STATES] = "max_states",
	[POL_EXPECT_HELPER] = "expect_helper",
	[POL_EXPECT_FLAGS] = "expect_flags",
	[POL_MAX_EXPECT] = "max_expect",
	[POL_COLLISION] = "collision",
};

/* The protocols syncd carries (ct_msg.c builds their tuples). */
static const struct {
	const char *name;
	uint8_t proto;
} pol_protos[] = {
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "udplite", IPPROTO_UDPLITE },
	{ "icmp", IPPROTO_ICMP },
	{ "icmpv6", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP },
	{ "dccp", IPPROTO_DCCP },
	{ "gre", IPPROTO_GRE },
};
#define NPROTOS (sizeof(pol_protos) / sizeof(pol_protos[0]))

/* Helper modules and the helpers they register. */
static const struct {
	const char *module;
	const char *helpers[3];
} pol_modules[] = {
	{ "amanda", { "amanda" } },
	{ "ftp", { "ftp" } },
	{ "h323", { "RAS", "Q.931", "H.245" } },
	{ "irc", { "irc" } },
	{ "netbios_ns", { "netbios-ns" } },
	{ "pptp", { "pptp" } },
	{ "sane", { "sane" } },
	{ "sip", { "sip" } },
	{ "snmp", { "snmp" } },
	{ "tftp", { "tftp" } },
};

static int
proto_on(const struct policy *p, uint8_t proto)
{
	return (p->protos[proto >> 3] >> (proto & 7)) & 1;
}

void
policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < NPROTOS; i++)
		p->protos[pol_protos[i].proto >> 3] |= (uint8_t)(1
		    << (pol_protos[i].proto & 7));
	p->zones[0] = 0;
	p->nzones = 1;
	p->mark_mask = 0xffffffffU;
	memset(p->label_mask, 0xff, sizeof(p->label_mask));
	p->helpers_auto = 1;
	p->timeout_max = POL_TIMEOUT_MAX_DEFAULT;
	p->max_states = POL_MAX_STATES_DEFAULT;
}

static int
prefix_match(const struct pol_prefix *p, uint8_t family, const uint8_t *a)
{
	unsigned int full = p->plen / 8, rest = p->plen % 8;

	if (p->family != family)
		return 0;
	if (memcmp(p->addr, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((p->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

static int
prefixes_match(const struct pol_prefix *ps, size_t n,
    const struct ct_state *st)
{
	const uint8_t *a[4] = { st->orig.src, st->orig.dst, st->reply.src,
		st->reply.dst };

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 4; k++)
			if (prefix_match(&ps[i], st->orig.family, a[k]))
				return 1;
	return 0;
}

/* --- keywords --- */

static int
set_protocols(struct policy *p, int argc, char *const *argv, char *err,
    size_t len)
{
	uint8_t bits[sizeof(p->protos)];
	size_t k;

	memset(bits, 0, sizeof(bits));
	for (int i = 1; i < argc; i++) {
		for (k = 0; k < NPROTOS; k++)
			if (strcasecmp(argv[i], "all") == 0 ||
			    strcasecmp(argv[i], pol_protos[k].name) == 0)
				bits[pol_protos[k].proto >> 3] |= (uint8_t)(1
				    << (pol_protos[k].proto & 7));
		for (k = 0; k < NPROTOS; k++)
			if (strcasecmp(argv[i], pol_protos[k].name) == 0)
				break;
		if (k == NPROTOS && strcasecmp(argv[i], "all") != 0) {
			snprintf(err, len,
			    "unknown protocol \"%s\" (tcp udp "
			    "udplite icmp icmpv6 sctp dccp gre, or all)",
			    argv[i]);
			return -1;
		}
	}
	memcpy(p->protos, bits, sizeof(bits));
	return 1;
}

static int
set_prefixes(struct pol_prefix *ps, size_t *n, int argc, char *const *argv,
    char *err, size_t len)
{
	struct pol_prefix tmp[POL_MAXPREFIX];
	struct addr a;
	size_t m = 0;
	int plen;

	memset(tmp, 0, sizeof(tmp));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "none") == 0 && argc == 2)
			break;
		if (m == POL_MAXPREFIX) {
			snprintf(err, len, "too many prefixes (at most %d)",
			    POL_MAXPREFIX);
			return -1;
		}
		if (addr_parse(argv[i], &a, &plen) == -1) {
			snprintf(err, len, "bad prefix \"%s\"", argv[i]);
			return -1;
		}
		tmp[m].family = (uint8_t)a.family;
		tmp[m].plen = (uint8_t)(plen >= 0 ? plen : addr_len(&a) * 8);
		/* Host bits cleared: 10.1.2.3/8 means 10.0.0.0/8. */
		for (int b = tmp[m].plen; b < 128; b++)
			a.b[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
		memcpy(tmp[m].addr, a.b, 16);
		m++;
	}
	memcpy(ps, tmp, m * sizeof(*ps));
	*n = m;
	return 1;
}

static int
set_zones(struct policy *p, int argc, char *const *argv, char *err, size_t len)
{
	uint16_t z[POL_MAXZONES];
	unsigned long v;
	size_t m = 0;

	if (argc == 2 && strcmp(argv[1], "any") == 0) {
		p->zones_any = 1;
		p->nzones = 0;
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (m == POL_MAXZONES) {
			snprintf(err, len, "too many zones (at most %d)",
			    POL_MAXZONES);
			return -1;
		}
		if (conf_uint(argv[i], 0, 65535, &v) == -1) {
			snprintf(err, len, "bad zone \"%s\" (0-65535 or any)",
			    argv[i]);
			return -1;
		}
		z[m++] = (uint16_t)v;
	}
	memcpy(p->zones, z, m * sizeof(z[0]));
	p->nzones = m;
	p->zones_any = 0;
	return 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "all", "none", or up to 32 hex digits (bit 0 is label 0, rightmost). */
static int
set_labels(struct policy *p, const char *s, char *err, size_t len)
{
	uint8_t m[CT_LABELS_LEN];
	size_t n, i;
	int v;

	memset(m, 0, sizeof(m));
	if (strcmp(s, "all") == 0)
		memset(m, 0xff, sizeof(m));
	else if (strcmp(s, "none") != 0) {
		if (strncmp(s, "0x", 2) == 0)
			s += 2;
		n = strlen(s);
		if (n == 0 || n > 2 * CT_LABELS_LEN)
			goto bad;
		/* Label bit b is bit b % 8 of byte b / 8 (the kernel's
		 * little-endian bitmap); the text is a big number. */
		for (i = 0; i < n; i++) {
			if ((v = hexval((unsigned char)s[n - 1 - i])) == -1)
				goto bad;
			m[i / 2] |= (uint8_t)(v << (4 * (i % 2)));
		}
	}
	memcpy(p->label_mask, m, sizeof(m));
	return 1;
bad:
	snprintf(err, len,
	    "bad label mask \"%s\" (all, none or up to 32 "
	    "hex digits)",
	    s);
	return -1;
}

/* Helper names as the kernel's helpers have them ("Q.931", "netbios-ns"). */
static int
helper_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CT_HELPER_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static int
set_helpers(struct policy *p, int argc, char *const *argv, char *err,
    size_t len)
{
	size_t m = 0;
	int autoh = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "auto") == 0) {
			autoh = 1;
			continue;
		}
		if (strcmp(argv[i], "none") == 0 && argc == 2)
			break;
		if (m == POL_MAXHELPERS) {
			snprintf(err, len, "too many helpers (at most %d)",
			    POL_MAXHELPERS);
			return -1;
		}
		if (!helper_name_ok(argv[i])) {
			snprintf(err, len,
			    "bad helper name (1 to %d letters, "
			    "digits, '.', '-' or '_')",
			    CT_HELPER_LEN - 1);
			return -1;
		}
		snprintf(p->helpers[m++], CT_HELPER_LEN, "%s", argv[i]);
	}
	p->nhelpers = m;
	p->helpers_auto = autoh;
	return 1;
}

static int
set_uint32(uint32_t *out, const char *k, const char *s, unsigned long min,
    char *err, size_t len)
{
	unsigned long long v;

	if (conf_u64(s, &v) == -1 || v < min || v > 0xffffffffULL) {
		snprintf(err, len, "%s: bad value \"%s\"", k, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 1;
}

int
policy_set(struct policy *p, int argc, char *const *argv, char *err,
    size_t len)
{
	const char *k = argv[0];
	int v;

	if (strcmp(k, "sync-protocols") != 0 &&
	    strcmp(k, "send-ignore") != 0 && strncmp(k, "import-", 7) != 0)
		return 0;
	if (argc < 2) {
		snprintf(err, len, "\"%s\" needs an argument", k);
		return -1;
	}
	if (strcmp(k, "sync-protocols") == 0)
		return set_protocols(p, argc, argv, err, len);
	if (strcmp(k, "send-ignore") == 0)
		return set_prefixes(p->send_ignore, &p->nsend_ignore, argc,
		    argv, err, len);
	if (strcmp(k, "import-ignore") == 0)
		return set_prefixes(p->import_ignore, &p->nimport_ignore, argc,
		    argv, err, len);
	if (strcmp(k, "import-zones") == 0)
		return set_zones(p, argc, argv, err, len);
	if (strcmp(k, "import-helpers") == 0)
		return set_helpers(p, argc, argv, err, len);
	if (argc != 2) {
		snprintf(err, len, "\"%s\" takes one argument", k);
		return -1;
	}
	if (strcmp(k, "import-mark-mask") == 0)
		return set_uint32(&p->mark_mask, k, argv[1], 0, err, len);
	if (strcmp(k, "import-label-mask") == 0)
		return set_labels(p, argv[1], err, len);
	if (strcmp(k, "import-timeout-max") == 0)
		return set_uint32(&p->timeout_max, k, argv[1], 1, err, len);
	if (strcmp(k, "import-max-states") == 0)
		return set_uint32(&p->max_states, k, argv[1], 0, err, len);
	if (strcmp(k, "import-fixed-timeout") == 0) {
		if ((v = conf_bool(argv[1])) == -1) {
			snprintf(err, len, "%s: yes or no, not \"%s\"", k,
			    argv[1]);
			return -1;
		}
		p->fixed_timeout = v;
		return 1;
	}
	snprintf(err, len, "unknown keyword \"%s\"", k);
	return -1;
}

static void
print_prefixes(struct sbuf *b, const char *k, const struct pol_prefix *ps,
    size_t n)
{
	char s[INET6_ADDRSTRLEN];

	sbuf_puts(b, k);
	if (n == 0)
		sbuf_puts(b, " none");
	for (size_t i = 0; i < n; i++) {
		inet_ntop(ps[i].family, ps[i].addr, s, sizeof(s));
		sbuf_printf(b, " %s/%u", s, ps[i].plen);
	}
	sbuf_puts(b, "\n");
}

void
policy_print(const struct policy *p, struct sbuf *b)
{
	int all = 1;

	for (size_t i = 0; i < NPROTOS; i++)
		all &= proto_on(p, pol_protos[i].proto);
	sbuf_puts(b, "sync-protocols");
	if (all)
		sbuf_puts(b, " all");
	for (size_t i = 0; !all && i < NPROTOS; i++)
		if (proto_on(p, pol_protos[i].proto))
			sbuf_printf(b, " %s", pol_protos[i].name);
	sbuf_puts(b, "\n");
	print_prefixes(b, "send-ignore", p->send_ignore, p->nsend_ignore);
	print_prefixes(b, "import-ignore", p->import_ignore,
	    p->nimport_ignore);
	sbuf_puts(b, "import-zones");
	if (p->zones_any)
		sbuf_puts(b, " any");
	for (size_t i = 0; i < p->nzones; i++)
		sbuf_printf(b, " %u", p->zones[i]);
	sbuf_printf(b, "\nimport-mark-mask 0x%08x\nimport-label-mask 0x",
	    p->mark_mask);
	for (int i = CT_LABELS_LEN - 1; i >= 0; i--)
		sbuf_printf(b, "%02x", p->label_mask[i]);
	sbuf_puts(b, "\nimport-helpers");
	if (p->helpers_auto)
		sbuf_puts(b, " auto");
	else if (p->nhelpers == 0)
		sbuf_puts(b, " none");
	for (size_t i = 0; i < p->nhelpers; i++) {
		sbuf_puts(b, " ");
		sbuf_text(b, p->helpers[i]);
	}
	sbuf_printf(b,
	    "\nimport-timeout-max %u\nimport-fixed-timeout %s\n"
	    "import-max-states %u\n",
	    p->timeout_max, p->fixed_timeout ? "yes" : "no", p->max_states);
}

/* --- checks --- */

static int
is_loopback(uint8_t family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return memcmp(a, v6lo, 16) == 0;
}

static int
local_cmp(const void *x, const void *y)
{
	const struct pol_prefix *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

int
pol_local_has(const struct pol_local *l, uint8_t family, const uint8_t *a)
{
	struct pol_prefix k;

	if (is_loopback(family, a))
		return 1;
	if (l == NULL || l->n == 0)
		return 0;
	memset(&k, 0, sizeof(k));
	k.family = family;
	memcpy(k.addr, a, family == AF_INET ? 4 : 16);
	return bsearch(&k, l->addr, l->n, sizeof(k), local_cmp) != NULL;
}

/*
 * This node's own traffic: a connection it opened (original source) or
 * answers (reply source, i.e. it is the destination after any DNAT).
 * Forwarded connections, translated ones included, are not: with SNAT
 * to this node's address only the reply destination is local, with
 * DNAT from it only the original destination.
 */
static int
is_local(const struct pol_local *l, const struct ct_state *st)
{
	return pol_local_has(l, st->orig.family, st->orig.src) ||
	    pol_local_has(l, st->reply.family, st->reply.src);
}

enum pol_reason
policy_send(const struct policy *p, const struct pol_local *l,
    const struct ct_state *st)
{
	if (is_local(l, st))
		return POL_LOCAL;
	if (!proto_on(p, st->orig.proto))
		return POL_PROTOCOL;
	if (prefixes_match(p->send_ignore, p->nsend_ignore, st))
		return POL_PREFIX;
	return POL_OK;
}

static int
helper_in(const char (*list)[CT_HELPER_LEN], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i], name, CT_HELPER_LEN) == 0)
			return 1;
	return 0;
}

int
policy_helper_ok(const struct policy *p, const struct pol_helpers *h,
    const char *name)
{
	if (helper_in(p->helpers, p->nhelpers, name))
		return 1;
	return p->helpers_auto && h != NULL && helper_in(h->name, h->n, name);
}

static int
zone_ok(const struct policy *p, uint16_t zone)
{
	if (p->zones_any)
		return 1;
	for (size_t i = 0; i < p->nzones; i++)
		if (p->zones[i] == zone)
			return 1;
	return 0;
}

static enum pol_reason
why_set(enum pol_reason r, char *why, size_t len, const char *fmt,
    const char *s, unsigned long v)
{
	char safe[4 * CT_HELPER_LEN + 1];

	if (why == NULL || len == 0)
		return r;
	if (s != NULL)
		snprintf(why, len, fmt, sbuf_text_copy(safe, sizeof(safe), s));
	else
		snprintf(why, len, fmt, v);
	return r;
}

enum pol_reason
policy_import(const struct policy *p, const struct pol_local *l,
    const struct pol_helpers *h, const struct ct_state *st, char *why,
    size_t wl)
{
	uint16_t zone = (st->fields & CT_F_ZONE) ? st->zone : 0;
	char helper[CT_HELPER_LEN];

	if (is_local(l, st))
		return why_set(POL_LOCAL, why, wl,
		    "a state of this node's own "
		    "traffic%s",
		    "", 0);
	if (!proto_on(p, st->orig.proto))
		return why_set(POL_PROTOCOL, why, wl,
		    "protocol %lu not in "
		    "sync-protocols",
		    NULL, st->orig.proto);
	if (prefixes_match(p->import_ignore, p->nimport_ignore, st))
		return why_set(POL_PREFIX, why, wl,
		    "an address in "
		    "import-ignore%s",
		    "", 0);
	if (!zone_ok(p, zone))
		return why_set(POL_ZONE, why, wl,
		    "zone %lu not in "
		    "import-zones",
		    NULL, zone);
	if ((st->fields & CT_F_MARK) && (st->mark & ~p->mark_mask) != 0)
		return why_set(POL_MARK, why, wl,
		    "mark 0x%lx has bits outside "
		    "import-mark-mask",
		    NULL, st->mark);
	if (st->fields & CT_F_LABELS)
		for (int i = 0; i < CT_LABELS_LEN; i++)
			if (st->labels[i] & ~p->label_mask[i])
				return why_set(POL_LABELS, why, wl,
				    "label "
				    "bits outside import-label-mask%s",
				    "", 0);
	if ((st->fields & CT_F_HELPER) && st->helper[0] != '\0') {
		memcpy(helper, st->helper, CT_HELPER_LEN);
		helper[CT_HELPER_LEN - 1] = '\0';
		if (!policy_helper_ok(p, h, helper))
			return why_set(POL_HELPER, why, wl,
			    "helper \"%s\" not "
			    "allowed (import-helpers)",
			    helper, 0);
	}
	if ((st->fields & CT_F_TIMEOUT) && st->timeout > p->timeout_max)
		return why_set(POL_TIMEOUT, why, wl,
		    "timeout %lu s over "
		    "import-timeout-max",
		    NULL, st->timeout);
	if ((st->status & IPS_FIXED_TIMEOUT) && !p->fixed_timeout)
		return why_set(POL_FIXED_TIMEOUT, why, wl,
		    "fixed timeout "
		    "(import-fixed-timeout no)%s",
		    "", 0);
	return POL_OK;
}

enum pol_reason
policy_import_expect(const struct policy *p, const struct pol_helpers *h,
    const struct ct_expect *x, char *why, size_t wl)
{
	uint16_t zone = (x->fields & CT_EXP_F_ZONE) ? x->zone : 0;
	char helper[CT_HELPER_LEN];

	memcpy(helper, x->helper, CT_HELPER_LEN);
	helper[CT_HELPER_LEN - 1] = '\0';
	if (!(x->fields & CT_EXP_F_HELPER))
		helper[0] = '\0';
	/* An expectation opens a pinhole: only for a helper allowed here. */
	if (helper[0] == '\0' || !policy_helper_ok(p, h, helper))
		return why_set(POL_EXPECT_HELPER, why, wl,
		    "expectation of "
		    "helper \"%s\" not allowed (import-helpers)",
		    helper, 0);
	if ((x->flags & ~POL_EXPECT_FLAGS_OK) != 0)
		return why_set(POL_EXPECT_FLAGS, why, wl,
		    "expectation flags "
		    "0x%lx not allowed",
		    NULL, x->flags);
	if (!proto_on(p, x->tuple.proto))
		return why_set(POL_PROTOCOL, why, wl,
		    "protocol %lu not in "
		    "sync-protocols",
		    NULL, x->tuple.proto);
	if (!zone_ok(p, zone))
		return why_set(POL_ZONE, why, wl,
		    "zone %lu not in "
		    "import-zones",
		    NULL, zone);
	if (x->timeout > p->timeout_max)
		return why_set(POL_TIMEOUT, why, wl,
		    "expectation timeout %lu "
		    "s over import-timeout-max",
		    NULL, x->timeout);
	return POL_OK;
}

/* --- this node's addresses and helpers --- */

int
pol_local_set(struct pol_local *l, const struct pol_prefix *a, size_t n)
{
	struct pol_prefix *na = NULL;
	size_t m = 0;

	if (n > POL_MAXLOCAL)
		n = POL_MAXLOCAL;
	if (n > 0) {
		if ((na = calloc(n, sizeof(*na))) == NULL)
			return -1;
		memcpy(na, a, n * sizeof(*na));
		for (size_t i = 0; i < n; i++)
			na[i].plen = 0;
		qsort(na, n, sizeof(*na), local_cmp);
		for (size_t i = 0; i < n; i++)
			if (m == 0 || local_cmp(&na[m - 1], &na[i]) != 0)
				na[m++] = na[i];
	}
	free(l->addr);
	l->addr = na;
	l->n = m;
	return 0;
}

void
pol_local_free(struct pol_local *l)
{
	free(l->addr);
	l->addr = NULL;
	l->n = 0;
}

int
pol_local_scan(struct pol_local *l)
{
	struct pol_prefix *a;
	struct ifaddrs *ifa, *i;
	size_t n = 0;
	int rv;

	if (getifaddrs(&ifa) == -1)
		return -1;
	if ((a = calloc(POL_MAXLOCAL, sizeof(*a))) == NULL) {
		freeifaddrs(ifa);
		return -1;
	}
	for (i = ifa; i != NULL && n < POL_MAXLOCAL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a[n].family = AF_INET;
			memcpy(a[n++].addr,
			    &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a[n].family = AF_INET6;
			memcpy(a[n++].addr,
			    &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    16);
		}
	}
	freeifaddrs(ifa);
	rv = pol_local_set(l, a, n);
	free(a);
	return rv;
}

static void
helpers_add(struct pol_helpers *h, const char *name)
{
	if (h->n < POL_MAXHELPERS && !helper_in(h->name, h->n, name))
		snprintf(h->name[h->n++], CT_HELPER_LEN, "%s", name);
}

int
pol_helpers_scan(struct pol_helpers *h, const char *sysmod)
{
	struct pol_helpers nh;
	char path[512];
	struct stat sb;

	memset(&nh, 0, sizeof(nh));
	for (size_t i = 0; i < sizeof(pol_modules) / sizeof(pol_modules[0]);
	     i++) {
		snprintf(path, sizeof(path), "%s/nf_conntrack_%s", sysmod,
		    pol_modules[i].module);
		if (stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode))
			continue;
		for (int k = 0; k < 3 && pol_modules[i].helpers[k] != NULL;
		     k++)
			helpers_add(&nh, pol_modules[i].helpers[k]);
	}
	*h = nh;
	return 0;
}

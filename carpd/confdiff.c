/*
 * confdiff.c: what differs between a running vhid and its new settings
 * (the keywords, and whether they can change in place), and the words the
 * reload logs for it. Pure: no I/O, nothing running is changed.
 */
#include <stdio.h>
#include <string.h>

#include "carpd.h"
#include "sbuf.h"

/* clang-format off */
static const struct {
	unsigned int	bit;
	const char	*name;	/* the carpd.conf(5) keyword */
} vh_ch_names[] = {
	{ VH_CH_ADVBASE,	"advbase" },
	{ VH_CH_ADVSKEW,	"advskew" },
	{ VH_CH_DEADRATIO,	"deadratio" },
	{ VH_CH_ADDR,		"addr" },
	{ VH_CH_PASS,		"pass" },
	{ VH_CH_PEER,		"peer" },
	{ VH_CH_SRCIP,		"srcip" },
	{ VH_CH_UPSCRIPT,	"upscript" },
	{ VH_CH_DOWNSCRIPT,	"downscript" },
	{ VH_CH_XPARAM,		"xparam" },
	{ VH_CH_PREEMPT,	"preempt" },
	{ VH_CH_PREEMPT_DELAY,	"preempt-delay" },
	{ VH_CH_NOMCAST,	"nomcast" },
	{ VH_CH_VMAC,		"vmac" },
	{ VH_CH_MCAST,		"mcast" },
	{ VH_CH_IGNOREIFSTATE,	"ignoreifstate" },
	{ VH_CH_NEUTRAL,	"neutral" },
};
/* clang-format on */

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Is (address, plen) of va among the n in tab? Its index, or -1. */
int
vaddr_index(const struct vaddr *tab, int n, const struct vaddr *va)
{
	for (int i = 0; i < n; i++)
		if (tab[i].plen == va->plen &&
		    addr_cmp(&tab[i].a, &va->a) == 0)
			return i;
	return -1;
}

static int
vh_addr_index(const struct vh *v, const struct vaddr *va)
{
	return vaddr_index(v->addrs, v->naddrs, va);
}

/* The same addresses with the same prefix lengths, in any order. */
static int
addrs_differ(const struct vh *a, const struct vh *b)
{
	if (a->naddrs != b->naddrs)
		return 1;
	for (int i = 0; i < b->naddrs; i++)
		if (vh_addr_index(a, &b->addrs[i]) == -1)
			return 1;
	return 0;
}

static int
peers_differ(const struct vh *a, const struct vh *b)
{
	if (a->npeers != b->npeers)
		return 1;
	for (int i = 0; i < a->npeers; i++)
		if (addr_cmp(&a->peers[i], &b->peers[i]) != 0)
			return 1;
	return 0;
}

/* The keywords whose values differ between cur and next (VH_CH_*). */
unsigned int
vh_diff(const struct vh *cur, const struct vh *next)
{
	const struct fsm_cfg *a = &cur->fsm.cfg, *b = &next->fsm.cfg;
	unsigned int ch = 0;

	ch |= a->advbase != b->advbase ? VH_CH_ADVBASE : 0;
	ch |= a->advskew != b->advskew ? VH_CH_ADVSKEW : 0;
	ch |= a->deadratio != b->deadratio ? VH_CH_DEADRATIO : 0;
	ch |= addrs_differ(cur, next) ? VH_CH_ADDR : 0;
	/* The key itself: a passfile whose content changed is a change. */
	ch |= memcmp(cur->key, next->key, sizeof(cur->key)) != 0 ||
		str_differ(cur->passfile, next->passfile) ?
	    VH_CH_PASS :
	    0;
	ch |= peers_differ(cur, next) ? VH_CH_PEER : 0;
	ch |= addr_cmp(&cur->srcip, &next->srcip) != 0 ? VH_CH_SRCIP : 0;
	ch |= str_differ(cur->upscript, next->upscript) ? VH_CH_UPSCRIPT : 0;
	ch |= str_differ(cur->downscript, next->downscript) ?
	    VH_CH_DOWNSCRIPT :
	    0;
	ch |= str_differ(cur->xparam, next->xparam) ? VH_CH_XPARAM : 0;
	ch |= a->preempt != b->preempt ? VH_CH_PREEMPT : 0;
	ch |= cur->preempt_delay != next->preempt_delay ?
	    VH_CH_PREEMPT_DELAY :
	    0;
	ch |= cur->nomcast != next->nomcast ? VH_CH_NOMCAST : 0;
	ch |= cur->vmac != next->vmac ? VH_CH_VMAC : 0;
	ch |= cur->mcast4.s_addr != next->mcast4.s_addr ? VH_CH_MCAST : 0;
	ch |= cur->ignoreifstate != next->ignoreifstate ?
	    VH_CH_IGNOREIFSTATE :
	    0;
	ch |= cur->neutral != next->neutral ? VH_CH_NEUTRAL : 0;
	return ch;
}

/* "advskew,addr": the keywords of ch, comma-separated. */
void
vh_diff_names(unsigned int ch, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(vh_ch_names) / sizeof(vh_ch_names[0]);
	     i++) {
		if (!(ch & vh_ch_names[i].bit) || off >= len)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    off ? "," : "", vh_ch_names[i].name);
	}
}

/* " addr +10.0.1.51/24 -10.0.1.7/24": what the address set gained and
 * lost. */
static void
addrs_text(struct sbuf *s, const struct vh *cur, const struct vh *next)
{
	char b[ADDR_STRLEN];

	sbuf_puts(s, " addr");
	for (int i = 0; i < next->naddrs; i++)
		if (vh_addr_index(cur, &next->addrs[i]) == -1)
			sbuf_printf(s, " +%s",
			    addr_fmt(&next->addrs[i].a, next->addrs[i].plen, b,
				sizeof(b)));
	for (int i = 0; i < cur->naddrs; i++)
		if (vh_addr_index(next, &cur->addrs[i]) == -1)
			sbuf_printf(s, " -%s",
			    addr_fmt(&cur->addrs[i].a, cur->addrs[i].plen, b,
				sizeof(b)));
}

/*
 * The change as words for the log: "advskew 0 -> 10, addr +10.0.1.51/24,
 * pass". Numbers show both values; secrets and longer values only the
 * keyword.
 */
void
vh_diff_text(const struct vh *cur, const struct vh *next, unsigned int ch,
    char *buf, size_t len)
{
	const struct fsm_cfg *a = &cur->fsm.cfg, *b = &next->fsm.cfg;
	struct sbuf s;

	sbuf_init(&s);
	for (size_t i = 0; i < sizeof(vh_ch_names) / sizeof(vh_ch_names[0]);
	     i++) {
		unsigned int bit = vh_ch_names[i].bit;

		if (!(ch & bit))
			continue;
		if (s.len > 0)
			sbuf_puts(&s, ",");
		if (bit == VH_CH_ADDR) {
			addrs_text(&s, cur, next);
			continue;
		}
		sbuf_printf(&s, " %s", vh_ch_names[i].name);
		if (bit == VH_CH_ADVBASE)
			sbuf_printf(&s, " %u -> %u", a->advbase, b->advbase);
		else if (bit == VH_CH_ADVSKEW)
			sbuf_printf(&s, " %u -> %u", a->advskew, b->advskew);
		else if (bit == VH_CH_PREEMPT)
			sbuf_printf(&s, " %s -> %s", a->preempt ? "yes" : "no",
			    b->preempt ? "yes" : "no");
	}
	/* Every item starts with a blank: the first one's goes. */
	snprintf(buf, len, "%s", s.err || s.len == 0 ? "" : s.p + 1);
	sbuf_free(&s);
}

/* The vhid with this number on this interface among n in tab, or NULL. */
struct vh *
vh_lookup(struct vh *const *tab, int n, uint8_t vhid, const char *ifname)
{
	for (int i = 0; i < n; i++)
		if (tab[i]->fsm.cfg.vhid == vhid &&
		    strcmp(tab[i]->ifname, ifname) == 0)
			return tab[i];
	return NULL;
}

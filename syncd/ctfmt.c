/*
 * ctfmt.c: a state as conntrack -L prints it (field order, padding and
 * optional fields as conntrack-tools 1.4 formats them), or as a JSON
 * object with the same names. Pure: no I/O, no daemon state.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "ctfmt.h"

#ifndef IPPROTO_DCCP
#define IPPROTO_DCCP 33
#endif

/* clang-format off */
static const char *const tcp_names[] = {
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
};
static const char *const sctp_names[] = {
	"NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED",
	"SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT",
	"HEARTBEAT_SENT", "HEARTBEAT_ACKED",
};
/* IPS_* bits in order, as conntrack's -u names them. */
static const char *const status_names[] = {
	"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT",
	"DST_NAT", "SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING",
	"FIXED_TIMEOUT", "TEMPLATE", "UNTRACKED", "HELPER", "OFFLOAD",
	"HW_OFFLOAD",
};
/* clang-format on */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum l4_kind {
	L4_PORTS,
	L4_ICMP,
	L4_GRE,
	L4_NONE,
};

static const char *
proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_DCCP:
		return "dccp";
	}
	return "unknown";
}

static enum l4_kind
l4_kind(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return L4_PORTS;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return L4_ICMP;
	case IPPROTO_GRE:
		return L4_GRE;
	}
	return L4_NONE;
}

static const char *
state_name(const struct ct_state *st)
{
	if (st->orig.proto == IPPROTO_TCP && (st->fields & CT_F_TCP))
		return st->tcp_state < NELEM(tcp_names) ?
		    tcp_names[st->tcp_state] :
		    tcp_names[0];
	if (st->orig.proto == IPPROTO_SCTP && (st->fields & CT_F_SCTP))
		return st->sctp_state < NELEM(sctp_names) ?
		    sctp_names[st->sctp_state] :
		    sctp_names[0];
	return NULL;
}

static void
addr_str(const struct ct_tuple *t, const uint8_t *a, char *out, size_t len)
{
	inet_ntop(t->family == AF_INET6 ? AF_INET6 : AF_INET, a, out,
	    (socklen_t)len);
}

/*
 * Text that came from a peer (a helper name) printed so that it can
 * neither break the line nor its "key=value" words: bytes outside
 * '!'..'~' and the backslash become \xNN.
 */
static void
put_text(struct sbuf *b, const char *s, size_t max)
{
	char esc[8];

	for (size_t i = 0; i < max && s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '\\') {
			snprintf(esc, sizeof(esc), "\\x%02x", ch);
			sbuf_add(b, esc, 4);
		} else
			sbuf_add(b, &s[i], 1);
	}
}

/* The same text as a JSON string: printable ASCII as it is (quote and
 * backslash escaped), any other byte as \u00NN, so that the output is
 * plain ASCII whatever a peer sent. */
static void
json_text(struct sbuf *b, const char *s, size_t max)
{
	char esc[8];

	sbuf_puts(b, "\"");
	for (size_t i = 0; i < max && s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			sbuf_add(b, esc, 6);
		} else if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			sbuf_add(b, esc, 2);
		} else
			sbuf_add(b, &s[i], 1);
	}
	sbuf_puts(b, "\"");
}

/* "src=A dst=B " and the protocol's part, each word ending in a blank. */
static void
line_tuple(struct sbuf *b, const struct ct_tuple *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	addr_str(t, t->src, s, sizeof(s));
	addr_str(t, t->dst, d, sizeof(d));
	sbuf_printf(b, "src=%s dst=%s ", s, d);
	switch (l4_kind(t->proto)) {
	case L4_PORTS:
		sbuf_printf(b, "sport=%u dport=%u ", t->sport, t->dport);
		break;
	case L4_ICMP:
		sbuf_printf(b, "type=%u code=%u id=%u ", t->dport >> 8,
		    t->dport & 0xff, t->sport);
		break;
	case L4_GRE:
		sbuf_printf(b, "srckey=0x%x dstkey=0x%x ", t->sport, t->dport);
		break;
	case L4_NONE:
		break;
	}
}

static int
has_labels(const struct ct_state *st)
{
	if (!(st->fields & CT_F_LABELS))
		return 0;
	for (size_t i = 0; i < CT_LABELS_LEN; i++)
		if (st->labels[i] != 0)
			return 1;
	return 0;
}

/* The bit numbers of the labels set, comma-separated (bit 0 is the low
 * bit of the first byte, as the kernel's bitmap has it). */
static void
put_label_bits(struct sbuf *b, const struct ct_state *st, const char *sep)
{
	int first = 1;

	for (unsigned i = 0; i < CT_LABELS_LEN * 8; i++) {
		if (!(st->labels[i / 8] & (1u << (i % 8))))
			continue;
		sbuf_printf(b, "%s%u", first ? "" : sep, i);
		first = 0;
	}
}

void
ctfmt_line(struct sbuf *b, const struct ct_state *st)
{
	const char *state = state_name(st);

	sbuf_printf(b, "%-8s %u ", proto_name(st->orig.proto), st->orig.proto);
	if (st->fields & CT_F_TIMEOUT)
		sbuf_printf(b, "%u ", st->timeout);
	if (state != NULL)
		sbuf_printf(b, "%s ", state);
	line_tuple(b, &st->orig);
	if (!(st->status & IPS_SEEN_REPLY))
		sbuf_puts(b, "[UNREPLIED] ");
	line_tuple(b, &st->reply);
	if (st->status & IPS_HW_OFFLOAD)
		sbuf_puts(b, "[HW_OFFLOAD] ");
	else if (st->status & IPS_OFFLOAD)
		sbuf_puts(b, "[OFFLOAD] ");
	else if (st->status & IPS_ASSURED)
		sbuf_puts(b, "[ASSURED] ");
	/* The kernel's dump always has a mark, a zone only when not 0. */
	sbuf_printf(b, "mark=%u ", (st->fields & CT_F_MARK) ? st->mark : 0);
	if ((st->fields & CT_F_ZONE) && st->zone != 0)
		sbuf_printf(b, "zone=%u ", st->zone);
	if ((st->fields & CT_F_HELPER) && st->helper[0] != '\0') {
		sbuf_puts(b, "helper=");
		put_text(b, st->helper, CT_HELPER_LEN);
		sbuf_puts(b, " ");
	}
	/* Not known here; what the kernel shows for an idle entry. */
	sbuf_puts(b, "use=1");
	if (has_labels(st)) {
		sbuf_puts(b, " labels=");
		put_label_bits(b, st, ",");
	}
	sbuf_puts(b, "\n");
}

static void
json_tuple(struct sbuf *b, const struct ct_tuple *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	addr_str(t, t->src, s, sizeof(s));
	addr_str(t, t->dst, d, sizeof(d));
	sbuf_printf(b, "{\"src\":\"%s\",\"dst\":\"%s\"", s, d);
	switch (l4_kind(t->proto)) {
	case L4_PORTS:
		sbuf_printf(b, ",\"sport\":%u,\"dport\":%u", t->sport,
		    t->dport);
		break;
	case L4_ICMP:
		sbuf_printf(b, ",\"type\":%u,\"code\":%u,\"id\":%u",
		    t->dport >> 8, t->dport & 0xff, t->sport);
		break;
	case L4_GRE:
		sbuf_printf(b, ",\"srckey\":%u,\"dstkey\":%u", t->sport,
		    t->dport);
		break;
	case L4_NONE:
		break;
	}
	sbuf_puts(b, "}");
}

static void
json_status(struct sbuf *b, uint32_t status)
{
	int first = 1;

	sbuf_puts(b, ",\"status\":[");
	for (size_t i = 0; i < NELEM(status_names); i++) {
		if (!(status & (1u << i)))
			continue;
		sbuf_printf(b, "%s\"%s\"", first ? "" : ",", status_names[i]);
		first = 0;
	}
	sbuf_puts(b, "]");
}

void
ctfmt_json(struct sbuf *b, const struct ct_state *st, const char *peer)
{
	const char *state = state_name(st);

	sbuf_puts(b, "{");
	if (peer != NULL) {
		sbuf_puts(b, "\"peer\":");
		sbuf_json_str(b, peer);
		sbuf_puts(b, ",");
	}
	sbuf_printf(b, "\"layer3\":\"%s\",\"layer4\":\"%s\",\"protonum\":%u",
	    st->orig.family == AF_INET6 ? "ipv6" : "ipv4",
	    proto_name(st->orig.proto), st->orig.proto);
	if (st->fields & CT_F_TIMEOUT)
		sbuf_printf(b, ",\"timeout\":%u", st->timeout);
	if (state != NULL)
		sbuf_printf(b, ",\"state\":\"%s\"", state);
	sbuf_puts(b, ",\"original\":");
	json_tuple(b, &st->orig);
	sbuf_puts(b, ",\"reply\":");
	json_tuple(b, &st->reply);
	json_status(b, st->status);
	sbuf_printf(b, ",\"mark\":%u,\"zone\":%u",
	    (st->fields & CT_F_MARK) ? st->mark : 0,
	    (st->fields & CT_F_ZONE) ? st->zone : 0);
	if ((st->fields & CT_F_HELPER) && st->helper[0] != '\0') {
		sbuf_puts(b, ",\"helper\":");
		json_text(b, st->helper, CT_HELPER_LEN);
	}
	if (has_labels(st)) {
		sbuf_puts(b, ",\"labels\":[");
		put_label_bits(b, st, ",");
		sbuf_puts(b, "]");
	}
	if (st->fields & CT_F_MASTER) {
		sbuf_printf(b, ",\"master\":{\"layer4\":\"%s\",\"tuple\":",
		    proto_name(st->master.proto));
		json_tuple(b, &st->master);
		sbuf_puts(b, "}");
	}
	sbuf_puts(b, "}\n");
}

/*
 * sync.c: syncd's wire format: explicit encode/decode of frames,
 * handshake messages and records through bounded cursors, key
 * derivation, sealing, replay window, keys.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sync.h"

/* STATE value flags, in the order their fields follow. Newer fields are
 * appended with higher bits, so a decoder stops after the bits it knows
 * and ignores the rest of the value. */
#define W_TIMEOUT 0x0001
#define W_REPLY	  0x0002
#define W_MARK	  0x0004
#define W_LABELS  0x0008
#define W_HELPER  0x0010
#define W_MASTER  0x0020
#define W_SEQADJ  0x0040
#define W_TCP	  0x0080
#define W_SCTP	  0x0100

/* Key and tuple flags. */
#define K_V6   0x01
#define K_ZONE 0x02

/* Expectation flags. */
#define E_NAT	 0x01
#define E_HELPER 0x02
#define E_ZONE	 0x04

static size_t
alen(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int
family_ok(uint8_t family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Begin a record: type and a length byte filled in by rec_end. */
static uint8_t *
rec_begin(struct wr *w, int type)
{
	if (wr_u8(w, (uint8_t)type) == -1)
		return NULL;
	return wr_reserve(w, 1);
}

static int
rec_end(struct wr *w, uint8_t *lenp, size_t start)
{
	size_t n;

	if (w->err || lenp == NULL)
		return -1;
	n = w->off - start;
	if (n > 255) {
		w->err = 1;
		return -1;
	}
	*lenp = (uint8_t)n;
	return 0;
}

static void
wr_addrs(struct wr *w, const struct ct_tuple *t)
{
	wr_bytes(w, t->src, alen(t->family));
	wr_bytes(w, t->dst, alen(t->family));
}

static int
rd_addrs(struct rd *r, struct ct_tuple *t)
{
	if (rd_bytes(r, t->src, alen(t->family)) == -1 ||
	    rd_bytes(r, t->dst, alen(t->family)) == -1)
		return -1;
	return 0;
}

static void
wr_tuple(struct wr *w, const struct ct_tuple *t)
{
	wr_u8(w, t->family == AF_INET6 ? K_V6 : 0);
	wr_u8(w, t->proto);
	wr_addrs(w, t);
	wr_u16(w, t->sport);
	wr_u16(w, t->dport);
}

static int
rd_tuple(struct rd *r, struct ct_tuple *t)
{
	uint8_t f;

	memset(t, 0, sizeof(*t));
	if (rd_u8(r, &f) == -1 || (f & ~K_V6) != 0)
		return -1;
	t->family = (f & K_V6) ? AF_INET6 : AF_INET;
	if (rd_u8(r, &t->proto) == -1 || rd_addrs(r, t) == -1 ||
	    rd_u16(r, &t->sport) == -1 || rd_u16(r, &t->dport) == -1)
		return -1;
	return 0;
}

static int
has_zone(const struct ct_state *st)
{
	return (st->fields & CT_F_ZONE) && st->zone != 0;
}

/* The key: kflags, proto, [zone], src, dst, sport, dport. */
static void
wr_key(struct wr *w, const struct ct_state *st)
{
	uint8_t f = 0;

	if (st->orig.family == AF_INET6)
		f |= K_V6;
	if (has_zone(st))
		f |= K_ZONE;
	wr_u8(w, f);
	wr_u8(w, st->orig.proto);
	if (f & K_ZONE)
		wr_u16(w, st->zone);
	wr_addrs(w, &st->orig);
	wr_u16(w, st->orig.sport);
	wr_u16(w, st->orig.dport);
}

static int
rd_key(struct rd *r, struct ct_state *st)
{
	uint8_t f;

	if (rd_u8(r, &f) == -1 || (f & ~(K_V6 | K_ZONE)) != 0)
		return -1;
	st->orig.family = (f & K_V6) ? AF_INET6 : AF_INET;
	if (rd_u8(r, &st->orig.proto) == -1)
		return -1;
	if (f & K_ZONE) {
		if (rd_u16(r, &st->zone) == -1)
			return -1;
		st->fields |= CT_F_ZONE;
	}
	if (rd_addrs(r, &st->orig) == -1 || rd_u16(r, &st->orig.sport) == -1 ||
	    rd_u16(r, &st->orig.dport) == -1)
		return -1;
	return 0;
}

size_t
sync_key_encode(uint8_t *out, const struct ct_state *st)
{
	struct wr w;

	wr_init(&w, out, SYNC_KEY_MAX);
	wr_key(&w, st);
	return w.err ? 0 : w.off;
}

size_t
sync_key_len(const uint8_t *p, size_t len)
{
	size_t n;

	if (len < 2 || (p[0] & ~(K_V6 | K_ZONE)) != 0)
		return 0;
	n = 2 + ((p[0] & K_ZONE) ? 2 : 0) + ((p[0] & K_V6) ? 32 : 8) + 4;
	return n <= len ? n : 0;
}

static void
inverse(const struct ct_tuple *o, struct ct_tuple *r)
{
	memset(r, 0, sizeof(*r));
	r->family = o->family;
	r->proto = o->proto;
	memcpy(r->src, o->dst, sizeof(r->src));
	memcpy(r->dst, o->src, sizeof(r->dst));
	r->sport = o->dport;
	r->dport = o->sport;
}

static int
reply_is_inverse(const struct ct_state *st)
{
	struct ct_tuple inv;
	size_t n = alen(st->orig.family);

	inverse(&st->orig, &inv);
	return st->reply.sport == inv.sport && st->reply.dport == inv.dport &&
	    memcmp(st->reply.src, inv.src, n) == 0 &&
	    memcmp(st->reply.dst, inv.dst, n) == 0;
}

int
sync_state_encode(struct wr *w, int type, const struct ct_state *st)
{
	uint8_t *lenp;
	size_t start, hl;
	uint16_t f = 0;

	if (!family_ok(st->orig.family))
		return -1;
	if (st->fields & CT_F_TIMEOUT)
		f |= W_TIMEOUT;
	if (!reply_is_inverse(st))
		f |= W_REPLY;
	if (st->fields & CT_F_MARK)
		f |= W_MARK;
	if (st->fields & CT_F_LABELS)
		f |= W_LABELS;
	hl = strnlen(st->helper, CT_HELPER_LEN - 1);
	if ((st->fields & CT_F_HELPER) && hl > 0)
		f |= W_HELPER;
	if ((st->fields & CT_F_MASTER) && family_ok(st->master.family))
		f |= W_MASTER;
	if (st->fields & CT_F_SEQADJ)
		f |= W_SEQADJ;
	if (st->fields & CT_F_TCP)
		f |= W_TCP;
	if (st->fields & CT_F_SCTP)
		f |= W_SCTP;

	if ((lenp = rec_begin(w, type)) == NULL)
		return -1;
	start = w->off;
	wr_key(w, st);
	wr_u16(w, f);
	wr_u32(w, st->status);
	if (f & W_TIMEOUT)
		wr_u32(w, st->timeout);
	if (f & W_REPLY) {
		wr_addrs(w, &st->reply);
		wr_u16(w, st->reply.sport);
		wr_u16(w, st->reply.dport);
	}
	if (f & W_MARK)
		wr_u32(w, st->mark);
	if (f & W_LABELS)
		wr_bytes(w, st->labels, CT_LABELS_LEN);
	if (f & W_HELPER) {
		wr_u8(w, (uint8_t)hl);
		wr_bytes(w, st->helper, hl);
	}
	if (f & W_MASTER)
		wr_tuple(w, &st->master);
	if (f & W_SEQADJ) {
		for (int i = 0; i < 2; i++) {
			wr_u32(w, st->seqadj[i].pos);
			wr_u32(w, st->seqadj[i].before);
			wr_u32(w, st->seqadj[i].after);
		}
	}
	if (f & W_TCP) {
		wr_u8(w, st->tcp_state);
		wr_u8(w, st->tcp_wscale[0]);
		wr_u8(w, st->tcp_wscale[1]);
		wr_u8(w, st->tcp_flags[0]);
		wr_u8(w, st->tcp_flags[1]);
	}
	if (f & W_SCTP) {
		wr_u8(w, st->sctp_state);
		wr_u32(w, st->sctp_vtag[0]);
		wr_u32(w, st->sctp_vtag[1]);
	}
	return rec_end(w, lenp, start);
}

int
sync_state_decode(struct rd *r, struct ct_state *st)
{
	uint16_t f;
	uint8_t hl;

	memset(st, 0, sizeof(*st));
	if (rd_key(r, st) == -1 || rd_u16(r, &f) == -1 ||
	    rd_u32(r, &st->status) == -1)
		return -1;
	if (f & W_TIMEOUT) {
		if (rd_u32(r, &st->timeout) == -1)
			return -1;
		st->fields |= CT_F_TIMEOUT;
	}
	if (f & W_REPLY) {
		st->reply.family = st->orig.family;
		st->reply.proto = st->orig.proto;
		if (rd_addrs(r, &st->reply) == -1 ||
		    rd_u16(r, &st->reply.sport) == -1 ||
		    rd_u16(r, &st->reply.dport) == -1)
			return -1;
	} else
		inverse(&st->orig, &st->reply);
	if (f & W_MARK) {
		if (rd_u32(r, &st->mark) == -1)
			return -1;
		st->fields |= CT_F_MARK;
	}
	if (f & W_LABELS) {
		if (rd_bytes(r, st->labels, CT_LABELS_LEN) == -1)
			return -1;
		st->fields |= CT_F_LABELS;
	}
	if (f & W_HELPER) {
		if (rd_u8(r, &hl) == -1 || hl == 0 || hl >= CT_HELPER_LEN ||
		    rd_bytes(r, st->helper, hl) == -1 ||
		    memchr(st->helper, '\0', hl) != NULL)
			return -1;
		st->fields |= CT_F_HELPER;
	}
	if (f & W_MASTER) {
		if (rd_tuple(r, &st->master) == -1)
			return -1;
		st->fields |= CT_F_MASTER;
	}
	if (f & W_SEQADJ) {
		for (int i = 0; i < 2; i++) {
			if (rd_u32(r, &st->seqadj[i].pos) == -1 ||
			    rd_u32(r, &st->seqadj[i].before) == -1 ||
			    rd_u32(r, &st->seqadj[i].after) == -1)
				return -1;
		}
		st->fields |= CT_F_SEQADJ;
	}
	if (f & W_TCP) {
		if (rd_u8(r, &st->tcp_state) == -1 ||
		    rd_u8(r, &st->tcp_wscale[0]) == -1 ||
		    rd_u8(r, &st->tcp_wscale[1]) == -1 ||
		    rd_u8(r, &st->tcp_flags[0]) == -1 ||
		    rd_u8(r, &st->tcp_flags[1]) == -1)
			return -1;
		st->fields |= CT_F_TCP;
	}
	if (f & W_SCTP) {
		if (rd_u8(r, &st->sctp_state) == -1 ||
		    rd_u32(r, &st->sctp_vtag[0]) == -1 ||
		    rd_u32(r, &st->sctp_vtag[1]) == -1)
			return -1;
		st->fields |= CT_F_SCTP;
	}
	return 0;
}

/*
 * A STATE (or DIFF_STATE) record from a value sync_state_encode wrote
 * without a timeout (as caches keep them), adding the timeout when timed:
 * the same bytes sync_state_encode would write, without decoding.
 */
int
sync_state_encode_value(struct wr *w, int type, const uint8_t *val,
    size_t vlen, int timed, uint32_t timeout)
{
	struct rd r;
	uint8_t *lenp;
	size_t start, klen;
	uint16_t f;
	uint32_t status;

	if ((klen = sync_key_len(val, vlen)) == 0 || vlen < klen + 6) {
		w->err = 1;
		return -1;
	}
	rd_init(&r, val + klen, vlen - klen);
	if (rd_u16(&r, &f) == -1 || rd_u32(&r, &status) == -1 ||
	    (f & W_TIMEOUT)) {
		w->err = 1;
		return -1;
	}
	if ((lenp = rec_begin(w, type)) == NULL)
		return -1;
	start = w->off;
	wr_bytes(w, val, klen);
	wr_u16(w, timed ? f | W_TIMEOUT : f);
	wr_u32(w, status);
	if (timed)
		wr_u32(w, timeout);
	wr_bytes(w, val + klen + 6, vlen - klen - 6);
	return rec_end(w, lenp, start);
}

int
sync_update_encode(struct wr *w, const struct sync_update *u)
{
	const struct ct_state *st = &u->st;
	uint8_t *lenp;
	size_t start;

	if (!family_ok(st->orig.family))
		return -1;
	if ((lenp = rec_begin(w, SYNC_R_UPDATE)) == NULL)
		return -1;
	start = w->off;
	wr_key(w, st);
	wr_u8(w, u->mask & 0x1f);
	if (u->mask & SYNC_U_STATUS)
		wr_u32(w, st->status);
	if (u->mask & SYNC_U_TIMEOUT)
		wr_u32(w, st->timeout);
	if (u->mask & SYNC_U_TCP) {
		wr_u8(w, st->tcp_state);
		wr_u8(w, st->tcp_flags[0]);
		wr_u8(w, st->tcp_flags[1]);
	}
	if (u->mask & SYNC_U_MARK)
		wr_u32(w, st->mark);
	if (u->mask & SYNC_U_LABELS)
		wr_bytes(w, st->labels, CT_LABELS_LEN);
	return rec_end(w, lenp, start);
}

int
sync_update_decode(struct rd *r, struct sync_update *u)
{
	struct ct_state *st = &u->st;

	memset(u, 0, sizeof(*u));
	if (rd_key(r, st) == -1 || rd_u8(r, &u->mask) == -1)
		return -1;
	if (u->mask & SYNC_U_STATUS && rd_u32(r, &st->status) == -1)
		return -1;
	if (u->mask & SYNC_U_TIMEOUT) {
		if (rd_u32(r, &st->timeout) == -1)
			return -1;
		st->fields |= CT_F_TIMEOUT;
	}
	if (u->mask & SYNC_U_TCP) {
		if (rd_u8(r, &st->tcp_state) == -1 ||
		    rd_u8(r, &st->tcp_flags[0]) == -1 ||
		    rd_u8(r, &st->tcp_flags[1]) == -1)
			return -1;
		st->fields |= CT_F_TCP;
	}
	if (u->mask & SYNC_U_MARK) {
		if (rd_u32(r, &st->mark) == -1)
			return -1;
		st->fields |= CT_F_MARK;
	}
	if (u->mask & SYNC_U_LABELS) {
		if (rd_bytes(r, st->labels, CT_LABELS_LEN) == -1)
			return -1;
		st->fields |= CT_F_LABELS;
	}
	inverse(&st->orig, &st->reply);
	return 0;
}

int
sync_delete_encode(struct wr *w, const struct ct_state *st)
{
	uint8_t *lenp;
	size_t start;

	if (!family_ok(st->orig.family))
		return -1;
	if ((lenp = rec_begin(w, SYNC_R_DELETE)) == NULL)
		return -1;
	start = w->off;
	wr_key(w, st);
	return rec_end(w, lenp, start);
}

int
sync_delete_decode(struct rd *r, struct ct_state *st)
{
	memset(st, 0, sizeof(*st));
	if (rd_key(r, st) == -1)
		return -1;
	inverse(&st->orig, &st->reply);
	return 0;
}

int
sync_expect_encode(struct wr *w, int type, const struct ct_expect *e)
{
	uint8_t *lenp;
	size_t start, hl;
	uint8_t f = 0;

	if (!family_ok(e->master.family) || !family_ok(e->tuple.family) ||
	    !family_ok(e->mask.family))
		return -1;
	hl = strnlen(e->helper, CT_HELPER_LEN - 1);
	if ((e->fields & CT_EXP_F_NAT) && family_ok(e->nat.family))
		f |= E_NAT;
	if ((e->fields & CT_EXP_F_HELPER) && hl > 0)
		f |= E_HELPER;
	if ((e->fields & CT_EXP_F_ZONE) && e->zone != 0)
		f |= E_ZONE;
	if ((lenp = rec_begin(w, type)) == NULL)
		return -1;
	start = w->off;
	wr_u8(w, f);
	if (f & E_ZONE)
		wr_u16(w, e->zone);
	wr_tuple(w, &e->master);
	wr_tuple(w, &e->tuple);
	wr_tuple(w, &e->mask);
	wr_u32(w, e->timeout);
	wr_u32(w, e->flags);
	wr_u32(w, e->class);
	if (f & E_NAT) {
		wr_u8(w, e->nat_dir);
		wr_tuple(w, &e->nat);
	}
	if (f & E_HELPER) {
		wr_u8(w, (uint8_t)hl);
		wr_bytes(w, e->helper, hl);
	}
	return rec_end(w, lenp, start);
}

int
sync_expect_decode(struct rd *r, struct ct_expect *e)
{
	uint8_t f, hl;

	memset(e, 0, sizeof(*e));
	if (rd_u8(r, &f) == -1)
		return -1;
	if (f & E_ZONE) {
		if (rd_u16(r, &e->zone) == -1)
			return -1;
		e->fields |= CT_EXP_F_ZONE;
	}
	if (rd_tuple(r, &e->master) == -1 || rd_tuple(r, &e->tuple) == -1 ||
	    rd_tuple(r, &e->mask) == -1 || rd_u32(r, &e->timeout) == -1 ||
	    rd_u32(r, &e->flags) == -1 || rd_u32(r, &e->class) == -1)
		return -1;
	if (f & E_NAT) {
		if (rd_u8(r, &e->nat_dir) == -1 || rd_tuple(r, &e->nat) == -1)
			return -1;
		e->fields |= CT_EXP_F_NAT;
	}
	if (f & E_HELPER) {
		if (rd_u8(r, &hl) == -1 || hl == 0 || hl >= CT_HELPER_LEN ||
		    rd_bytes(r, e->helper, hl) == -1 ||
		    memchr(e->helper, '\0', hl) != NULL)
			return -1;
		e->fields |= CT_EXP_F_HELPER;
	}
	return 0;
}

int
sync_hello_encode(struct wr *w, const struct sync_hello *h)
{
	uint8_t *lenp;
	size_t start;

	if ((lenp = rec_begin(w, SYNC_R_HELLO)) == NULL)
		return -1;
	start = w->off;
	wr_u8(w, h->flags);
	wr_u32(w, h->internal);
	if (h->flags & SYNC_H_PATHS)
		wr_u8(w, h->paths);
	return rec_end(w, lenp, start);
}

int
sync_hello_decode(struct rd *r, struct sync_hello *h)
{
	memset(h, 0, sizeof(*h));
	if (rd_u8(r, &h->flags) == -1 || rd_u32(r, &h->internal) == -1)
		return -1;
	if ((h->flags & SYNC_H_PATHS) && rd_u8(r, &h->paths) == -1)
		return -1;
	return 0;
}

int
sync_ack_encode(struct wr *w, const struct sync_ack *a)
{
	uint8_t *lenp;
	size_t start;
	uint8_t n = a->nranges;

	if (n > SYNC_ACK_MAXRANGES)
		n = SYNC_ACK_MAXRANGES;
	if ((lenp = rec_begin(w, SYNC_R_ACK)) == NULL)
		return -1;
	start = w->off;
	wr_u64(w, a->next);
	wr_u8(w, n);
	for (uint8_t i = 0; i < n; i++) {
		if (a->range[i].from - a->next > UINT32_MAX ||
		    a->range[i].to - a->next > UINT32_MAX) {
			w->err = 1;
			return -1;
		}
		wr_u32(w, (uint32_t)(a->range[i].from - a->next));
		wr_u32(w, (uint32_t)(a->range[i].to - a->next));
	}
	return rec_end(w, lenp, start);
}

int
sync_ack_decode(struct rd *r, struct sync_ack *a)
{
	uint32_t from, to;

	memset(a, 0, sizeof(*a));
	if (rd_u64(r, &a->next) == -1 || rd_u8(r, &a->nranges) == -1 ||
	    a->nranges > SYNC_ACK_MAXRANGES)
		return -1;
	for (uint8_t i = 0; i < a->nranges; i++) {
		if (rd_u32(r, &from) == -1 || rd_u32(r, &to) == -1 ||
		    from > to)
			return -1;
		a->range[i].from = a->next + from;
		a->range[i].to = a->next + to;
	}
	return 0;
}

static int
ctl_has_count(int type)
{
	return type == SYNC_R_BULK_END || type == SYNC_R_DIFF_END ||
	    type == SYNC_R_TAKEOVER;
}

int
sync_ctl_encode(struct wr *w, int type, const struct sync_ctl *c)
{
	uint8_t *lenp;
	size_t start;

	if ((lenp = rec_begin(w, type)) == NULL)
		return -1;
	start = w->off;
	if (type == SYNC_R_SKIP)
		wr_u64(w, c->seq);
	else
		wr_u32(w, c->id);
	if (ctl_has_count(type))
		wr_u32(w, c->count);
	if (type == SYNC_R_BULK_REQ)
		wr_u32(w, c->flags);
	return rec_end(w, lenp, start);
}

int
sync_ctl_decode(struct rd *r, int type, struct sync_ctl *c)
{
	memset(c, 0, sizeof(*c));
	if (type == SYNC_R_SKIP)
		return rd_u64(r, &c->seq);
	if (rd_u32(r, &c->id) == -1)
		return -1;
	if (ctl_has_count(type) && rd_u32(r, &c->count) == -1)
		return -1;
	/* Optional: a request without flags asks for no more. */
	if (type == SYNC_R_BULK_REQ && r->len >= 4 &&
	    rd_u32(r, &c->flags) == -1)
		return -1;
	return 0;
}

int
sync_rec_next(struct rd *body, uint8_t *type, struct rd *val)
{
	uint8_t len;

	if (body->len == 0)
		return 0;
	if (rd_u8(body, type) == -1 || rd_u8(body, &len) == -1 ||
	    body->len < len)
		return -1;
	rd_init(val, body->p, len);
	rd_skip(body, len);
	return 1;
}

int
sync_hdr_encode(struct wr *w, const struct sync_hdr *h)
{
	wr_u8(w, SYNC_MAGIC0);
	wr_u8(w, SYNC_MAGIC1);
	wr_u8(w, SYNC_VERSION);
	wr_u8(w, h->type);
	wr_u32(w, h->sid);
	wr_u64(w, h->seq);
	return w->err ? -1 : 0;
}

int
sync_hdr_decode(struct rd *r, struct sync_hdr *h)
{
	uint8_t m0, m1;

	memset(h, 0, sizeof(*h));
	if (rd_u8(r, &m0) == -1 || rd_u8(r, &m1) == -1 || m0 != SYNC_MAGIC0 ||
	    m1 != SYNC_MAGIC1)
		return -1;
	if (rd_u8(r, &h->version) == -1 || h->version != SYNC_VERSION ||
	    rd_u8(r, &h->type) == -1 || h->type < SYNC_T_INIT ||
	    h->type > SYNC_T_REPLY || rd_u32(r, &h->sid) == -1 ||
	    rd_u64(r, &h->seq) == -1)
		return -1;
	/* Handshake frames carry no session; session frames always do. */
	if (h->type == SYNC_T_INIT || h->type == SYNC_T_RESP) {
		if (h->sid != 0 || h->seq != 0)
			return -1;
	} else if (h->sid == 0)
		return -1;
	return 0;
}

void
sync_id_make(struct sync_id *id, int family, const void *addr, uint16_t port)
{
	memset(id, 0, sizeof(*id));
	if (family == AF_INET) {
		id->b[10] = 0xff;
		id->b[11] = 0xff;
		memcpy(id->b + 12, addr, 4);
	} else
		memcpy(id->b, addr, 16);
	id->b[16] = (uint8_t)(port >> 8);
	id->b[17] = (uint8_t)port;
}

/* out = keyed BLAKE2b(group, label | parts...), outlen bytes. */
static void
kdf(const uint8_t group[SYNC_KEYLEN], const char *label, uint8_t *out,
    size_t outlen, const void *p1, size_t l1, const void *p2, size_t l2,
    const void *p3, size_t l3, const void *p4, size_t l4)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, group, SYNC_KEYLEN, outlen);
	crypto_generichash_update(&st, (const uint8_t *)label,
	    strlen(label) + 1);
	crypto_generichash_update(&st, p1, l1);
	crypto_generichash_update(&st, p2, l2);
	if (p3 != NULL)
		crypto_generichash_update(&st, p3, l3);
	if (p4 != NULL)
		crypto_generichash_update(&st, p4, l4);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof(st));
}

void
sync_hs_key(const uint8_t group[SYNC_KEYLEN], const struct sync_id *from,
    const struct sync_id *to, uint8_t out[SYNC_KEYLEN])
{
	kdf(group, "syncd2 handshake", out, SYNC_KEYLEN, from->b, SYNC_IDLEN,
	    to->b, SYNC_IDLEN, NULL, 0, NULL, 0);
}

void
sync_session_keys(const uint8_t group[SYNC_KEYLEN], const struct sync_id *snd,
    const struct sync_id *rcv, const uint8_t ns[SYNC_HSNONCE],
    const uint8_t nr[SYNC_HSNONCE], struct sync_skeys *k)
{
	uint8_t sid[4];

	kdf(group, "syncd2 forward", k->fwd, SYNC_KEYLEN, snd->b, SYNC_IDLEN,
	    rcv->b, SYNC_IDLEN, ns, SYNC_HSNONCE, nr, SYNC_HSNONCE);
	kdf(group, "syncd2 reverse", k->rev, SYNC_KEYLEN, snd->b, SYNC_IDLEN,
	    rcv->b, SYNC_IDLEN, ns, SYNC_HSNONCE, nr, SYNC_HSNONCE);
	kdf(group, "syncd2 session id", sid, sizeof(sid), snd->b, SYNC_IDLEN,
	    rcv->b, SYNC_IDLEN, ns, SYNC_HSNONCE, nr, SYNC_HSNONCE);
	k->sid = get_u32(sid);
	if (k->sid == 0)
		k->sid = 1;
}

static void
hs_tag(const uint8_t *msg, size_t len, const uint8_t key[SYNC_KEYLEN],
    uint8_t tag[SYNC_TAGLEN])
{
	crypto_generichash(tag, SYNC_TAGLEN, msg, len, key, SYNC_KEYLEN);
}

/* The header of a handshake frame into w. */
static void
hs_hdr(struct wr *w, uint8_t type)
{
	struct sync_hdr h = { SYNC_VERSION, type, 0, 0 };

	sync_hdr_encode(w, &h);
}

/* Check a handshake datagram: header of the type, length, tag. */
static int
hs_check(const uint8_t *buf, size_t len, uint8_t type, size_t want,
    const uint8_t key[SYNC_KEYLEN])
{
	struct sync_hdr h;
	struct rd r;
	uint8_t tag[SYNC_TAGLEN];

	rd_init(&r, buf, len);
	if (len != want || sync_hdr_decode(&r, &h) == -1 || h.type != type)
		return SYNC_E_MALFORMED;
	hs_tag(buf, len - SYNC_TAGLEN, key, tag);
	if (sodium_memcmp(tag, buf + len - SYNC_TAGLEN, SYNC_TAGLEN) != 0)
		return SYNC_E_AUTH;
	return 0;
}

size_t
sync_init_encode(uint8_t *buf, const struct sync_init *in,
    const uint8_t key[SYNC_KEYLEN])
{
	struct wr w;

	wr_init(&w, buf, SYNC_INIT_LEN);
	hs_hdr(&w, SYNC_T_INIT);
	wr_u8(&w, in->flags);
	wr_u32(&w, in->rx_sid);
	wr_u64(&w, in->seq0);
	wr_bytes(&w, in->nonce_s, SYNC_HSNONCE);
	if (w.err || w.off != SYNC_INIT_LEN - SYNC_TAGLEN)
		return 0;
	hs_tag(buf, w.off, key, buf + w.off);
	return SYNC_INIT_LEN;
}

int
sync_init_decode(const uint8_t *buf, size_t len,
    const uint8_t key[SYNC_KEYLEN], struct sync_init *in)
{
	struct rd r;
	int rc;

	if ((rc = hs_check(buf, len, SYNC_T_INIT, SYNC_INIT_LEN, key)) != 0)
		return rc;
	rd_init(&r, buf + SYNC_HDRLEN, len - SYNC_HDRLEN - SYNC_TAGLEN);
	if (rd_u8(&r, &in->flags) == -1 || rd_u32(&r, &in->rx_sid) == -1 ||
	    rd_u64(&r, &in->seq0) == -1 ||
	    rd_bytes(&r, in->nonce_s, SYNC_HSNONCE) == -1)
		return SYNC_E_MALFORMED;
	return 0;
}

size_t
sync_resp_encode(uint8_t *buf, const struct sync_resp *rs,
    const uint8_t key[SYNC_KEYLEN])
{
	struct wr w;

	wr_init(&w, buf, SYNC_RESP_LEN);
	hs_hdr(&w, SYNC_T_RESP);
	wr_bytes(&w, rs->nonce_s, SYNC_HSNONCE);
	wr_bytes(&w, rs->nonce_r, SYNC_HSNONCE);
	if (w.err || w.off != SYNC_RESP_LEN - SYNC_TAGLEN)
		return 0;
	hs_tag(buf, w.off, key, buf + w.off);
	return SYNC_RESP_LEN;
}

int
sync_resp_decode(const uint8_t *buf, size_t len,
    const uint8_t key[SYNC_KEYLEN], struct sync_resp *rs)
{
	int rc;

	if ((rc = hs_check(buf, len, SYNC_T_RESP, SYNC_RESP_LEN, key)) != 0)
		return rc;
	memcpy(rs->nonce_s, buf + SYNC_HDRLEN, SYNC_HSNONCE);
	memcpy(rs->nonce_r, buf + SYNC_HDRLEN + SYNC_HSNONCE, SYNC_HSNONCE);
	return 0;
}

/* The AEAD nonce: type, three zero bytes, sequence number. */
static void
frame_nonce(uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
    uint8_t type, uint64_t seq)
{
	memset(n, 0, crypto_aead_chacha20poly1305_IETF_NPUBBYTES);
	n[0] = type;
	for (int i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

size_t
sync_frame_seal(uint8_t *buf, size_t body_len, uint8_t type, uint32_t sid,
    uint64_t seq, const uint8_t key[SYNC_KEYLEN])
{
	struct sync_hdr h = { SYNC_VERSION, type, sid, seq };
	uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long clen;
	struct wr w;

	if (type < SYNC_T_DATA || type > SYNC_T_REPLY || sid == 0 ||
	    body_len > SYNC_FRAME_MAX - SYNC_HDRLEN - SYNC_TAGLEN)
		return 0;
	wr_init(&w, buf, SYNC_HDRLEN);
	if (sync_hdr_encode(&w, &h) == -1)
		return 0;
	frame_nonce(n, type, seq);
	crypto_aead_chacha20poly1305_ietf_encrypt(buf + SYNC_HDRLEN, &clen,
	    buf + SYNC_HDRLEN, body_len, buf, SYNC_HDRLEN, NULL, n, key);
	return SYNC_HDRLEN + (size_t)clen;
}

int
sync_frame_peek(const uint8_t *buf, size_t len, struct sync_hdr *h)
{
	struct rd r;

	rd_init(&r, buf, len);
	if (len > SYNC_FRAME_MAX || sync_hdr_decode(&r, h) == -1)
		return SYNC_E_MALFORMED;
	if (h->type >= SYNC_T_DATA && len < SYNC_HDRLEN + SYNC_TAGLEN)
		return SYNC_E_MALFORMED;
	return 0;
}

int
sync_frame_unseal(uint8_t *buf, size_t len, const uint8_t key[SYNC_KEYLEN],
    uint8_t **body, size_t *blen)
{
	uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long mlen;
	struct sync_hdr h;
	uint8_t *c = buf + SYNC_HDRLEN;

	if (sync_frame_peek(buf, len, &h) != 0 || h.type < SYNC_T_DATA)
		return SYNC_E_MALFORMED;
	frame_nonce(n, h.type, h.seq);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(c, &mlen, NULL, c,
		len - SYNC_HDRLEN, buf, SYNC_HDRLEN, n, key) != 0)
		return SYNC_E_AUTH;
	*body = c;
	*blen = (size_t)mlen;
	return 0;
}

int
sync_replay_check(struct sync_replay *r, uint64_t seq)
{
	uint64_t d;

	if (!r->valid) {
		r->valid = 1;
		r->top = seq;
		r->bits = 1;
		return 0;
	}
	if (sync_seq_lt(r->top, seq)) {
		d = seq - r->top;
		r->bits = d >= 64 ? 1 : (r->bits << d) | 1;
		r->top = seq;
		return 0;
	}
	d = r->top - seq;
	if (d >= 64 || (r->bits & (1ULL << d)))
		return -1;
	r->bits |= 1ULL << d;
	return 0;
}

void
sync_key_generate(uint8_t key[SYNC_KEYLEN])
{
	randombytes_buf(key, SYNC_KEYLEN);
}

void
sync_key_format(const uint8_t key[SYNC_KEYLEN], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < SYNC_KEYLEN; i++) {
		out[2 * i] = hex[key[i] >> 4];
		out[2 * i + 1] = hex[key[i] & 0xf];
	}
	out[64] = '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
sync_key_parse(const char *s, uint8_t key[SYNC_KEYLEN])
{
	int n = 0, hi = -1, v;

	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			continue;
		if ((v = hexval((unsigned char)*s)) == -1 || n >= SYNC_KEYLEN)
			return -1;
		if (hi == -1)
			hi = v;
		else {
			key[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == SYNC_KEYLEN && hi == -1 ? 0 : -1;
}

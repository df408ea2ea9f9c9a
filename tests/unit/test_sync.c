/*
 * test_sync.c: syncd wire format: every record type round-trips, a golden
 * vector, truncated/oversized/garbage frames, sealing, tampering, replay,
 * serial arithmetic through the wrap, handshake and key binding.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sync.h"

static void
v4(struct ct_tuple *t, uint8_t proto, const char *s, const char *d,
    uint16_t sp, uint16_t dp)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->proto = proto;
	inet_pton(AF_INET, s, t->src);
	inet_pton(AF_INET, d, t->dst);
	t->sport = sp;
	t->dport = dp;
}

static void
v6(struct ct_tuple *t, uint8_t proto, const char *s, const char *d,
    uint16_t sp, uint16_t dp)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET6;
	t->proto = proto;
	inet_pton(AF_INET6, s, t->src);
	inet_pton(AF_INET6, d, t->dst);
	t->sport = sp;
	t->dport = dp;
}

static void
plain_tcp(struct ct_state *st)
{
	memset(st, 0, sizeof(*st));
	v4(&st->orig, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 40000, 80);
	v4(&st->reply, IPPROTO_TCP, "10.0.0.2", "10.0.0.1", 80, 40000);
	st->fields = CT_F_TCP | CT_F_TIMEOUT;
	st->status = 0x18e;
	st->timeout = 432000;
	st->tcp_state = 3;
	st->tcp_wscale[0] = 7;
	st->tcp_wscale[1] = 9;
	st->tcp_flags[0] = 0x2a;
	st->tcp_flags[1] = 0x22;
}

static void
full_v6(struct ct_state *st)
{
	memset(st, 0, sizeof(*st));
	v6(&st->orig, IPPROTO_TCP, "fd00::1", "fd00:1::2", 1234, 21);
	v6(&st->reply, IPPROTO_TCP, "fd00:1::99", "fd00:2::1", 2121, 61000);
	v6(&st->master, IPPROTO_TCP, "fd00::1", "fd00:1::2", 1000, 21);
	st->fields = CT_F_TCP | CT_F_TIMEOUT | CT_F_MARK | CT_F_ZONE |
	    CT_F_LABELS | CT_F_HELPER | CT_F_MASTER | CT_F_SEQADJ;
	st->status = 0x1be;
	st->timeout = 300;
	st->mark = 0xdeadbeef;
	st->zone = 7;
	memset(st->labels, 0xa5, sizeof(st->labels));
	strcpy(st->helper, "ftp-verylonghlp");
	for (int i = 0; i < 2; i++) {
		st->seqadj[i].pos = 100 + i;
		st->seqadj[i].before = 200 + i;
		st->seqadj[i].after = 300 + i;
	}
	st->tcp_state = 3;
	st->tcp_wscale[0] = 14;
	st->tcp_flags[1] = 1;
}

static void
state_rt(const struct ct_state *in, int type)
{
	uint8_t buf[512], t;
	struct wr w;
	struct rd body, val;
	struct ct_state out;

	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_state_encode(&w, type, in), 0);
	rd_init(&body, buf, w.off);
	assert_int_equal(sync_rec_next(&body, &t, &val), 1);
	assert_int_equal(t, type);
	assert_int_equal(sync_state_decode(&val, &out), 0);
	assert_int_equal(val.len, 0);
	assert_memory_equal(in, &out, sizeof(out));
	assert_int_equal(sync_rec_next(&body, &t, &val), 0);
	/* Every truncation is rejected. */
	for (size_t n = 0; n < w.off - 2; n++) {
		rd_init(&val, buf + 2, n);
		assert_int_equal(sync_state_decode(&val, &out), -1);
	}
}

static void
test_state_plain(void **ctx)
{
	struct ct_state st;

	plain_tcp(&st);
	state_rt(&st, SYNC_R_STATE);
	state_rt(&st, SYNC_R_DIFF_STATE);
}

/* Hand-checked golden vector of the plain IPv4 TCP state. */
static void
test_state_golden(void **ctx)
{
	static const uint8_t want[] = {
		0x01, 29,		  /* STATE, length */
		0x00, 6,		  /* kflags, TCP */
		10, 0, 0, 1, 10, 0, 0, 2, /* src, dst */
		0x9c, 0x40, 0x00, 0x50,	  /* 40000, 80 */
		0x00, 0x81,		  /* W_TIMEOUT | W_TCP */
		0x00, 0x00, 0x01, 0x8e,	  /* status */
		0x00, 0x06, 0x97, 0x80,	  /* 432000 s */
		3, 7, 9, 0x2a, 0x22,	  /* tcp */
	};
	struct ct_state st;
	uint8_t buf[128];
	struct wr w;

	plain_tcp(&st);
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_state_encode(&w, SYNC_R_STATE, &st), 0);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_state_nat_v6_full(void **ctx)
{
	struct ct_state st;

	full_v6(&st);
	state_rt(&st, SYNC_R_STATE);
	/* SNAT v4, UDP, ICMP and SCTP. */
	memset(&st, 0, sizeof(st));
	v4(&st.orig, IPPROTO_UDP, "192.168.1.5", "8.8.8.8", 5353, 53);
	v4(&st.reply, IPPROTO_UDP, "8.8.8.8", "203.0.113.1", 53, 1025);
	st.fields = CT_F_TIMEOUT;
	st.timeout = 30;
	state_rt(&st, SYNC_R_STATE);
	v4(&st.orig, IPPROTO_ICMP, "10.1.1.1", "10.2.2.2", 77, 8 << 8);
	v4(&st.reply, IPPROTO_ICMP, "10.2.2.2", "10.1.1.1", 77, 0);
	state_rt(&st, SYNC_R_STATE);
	v4(&st.orig, IPPROTO_SCTP, "10.1.1.1", "10.2.2.2", 5000, 6000);
	v4(&st.reply, IPPROTO_SCTP, "10.2.2.2", "10.1.1.1", 6000, 5000);
	st.fields = CT_F_SCTP | CT_F_ZONE;
	st.timeout = 0;
	st.zone = 65535;
	st.sctp_state = 3;
	st.sctp_vtag[0] = 0x11223344;
	st.sctp_vtag[1] = 0x55667788;
	state_rt(&st, SYNC_R_STATE);
	/* Anything else by tuple (GRE, proto 47). */
	memset(&st, 0, sizeof(st));
	v6(&st.orig, 47, "fd00::1", "fd00::2", 0, 0);
	v6(&st.reply, 47, "fd00::2", "fd00::1", 0, 0);
	state_rt(&st, SYNC_R_STATE);
}

/* The record from a cached (timeout-less) value equals a direct encode. */
static void
value_same(const struct ct_state *in, int type)
{
	uint8_t val[512], a[512], b[512];
	struct ct_state tmp = *in;
	struct wr w, wa, wb;
	size_t vlen;

	tmp.fields &= ~CT_F_TIMEOUT;
	tmp.timeout = 0;
	wr_init(&w, val, sizeof(val));
	assert_int_equal(sync_state_encode(&w, SYNC_R_STATE, &tmp), 0);
	vlen = w.off - 2;
	wr_init(&wa, a, sizeof(a));
	assert_int_equal(sync_state_encode(&wa, type, in), 0);
	wr_init(&wb, b, sizeof(b));
	assert_int_equal(
	    sync_state_encode_value(&wb, type, val + 2, vlen,
		(in->fields & CT_F_TIMEOUT) != 0, in->timeout),
	    0);
	assert_int_equal(wa.off, wb.off);
	assert_memory_equal(a, b, wa.off);
	/* No room: an error, nothing claimed. */
	for (size_t n = 0; n < wa.off; n++) {
		wr_init(&wb, b, n);
		assert_int_equal(
		    sync_state_encode_value(&wb, type, val + 2, vlen,
			(in->fields & CT_F_TIMEOUT) != 0, in->timeout),
		    -1);
		assert_true(wb.err);
	}
	/* Truncated or timed values are refused. */
	for (size_t n = 0; n < vlen; n++) {
		wr_init(&wb, b, sizeof(b));
		if (n < 6 || sync_key_len(val + 2, n) == 0 ||
		    n < sync_key_len(val + 2, n) + 6)
			assert_int_equal(
			    sync_state_encode_value(&wb, type, val + 2, n, 1,
				5),
			    -1);
	}
	wr_init(&w, val, sizeof(val));
	tmp.fields |= CT_F_TIMEOUT;
	tmp.timeout = 9;
	assert_int_equal(sync_state_encode(&w, SYNC_R_STATE, &tmp), 0);
	wr_init(&wb, b, sizeof(b));
	assert_int_equal(
	    sync_state_encode_value(&wb, type, val + 2, w.off - 2, 1, 5), -1);
}

static void
test_state_value(void **ctx)
{
	struct ct_state st;

	plain_tcp(&st);
	value_same(&st, SYNC_R_STATE);
	value_same(&st, SYNC_R_DIFF_STATE);
	st.fields &= ~CT_F_TIMEOUT;
	st.timeout = 0;
	value_same(&st, SYNC_R_STATE);
	full_v6(&st);
	value_same(&st, SYNC_R_STATE);
	st.fields &= ~CT_F_TIMEOUT;
	st.timeout = 0;
	value_same(&st, SYNC_R_DIFF_STATE);
}

static void
test_update_delete(void **ctx)
{
	struct sync_update u, o;
	struct ct_state st, d;
	uint8_t buf[256], t;
	struct wr w;
	struct rd b, v;

	memset(&u, 0, sizeof(u));
	plain_tcp(&u.st);
	u.st.fields = CT_F_TIMEOUT | CT_F_TCP | CT_F_MARK | CT_F_LABELS;
	u.st.tcp_wscale[0] = u.st.tcp_wscale[1] = 0;
	u.st.mark = 9;
	memset(u.st.labels, 1, sizeof(u.st.labels));
	u.mask = SYNC_U_STATUS | SYNC_U_TIMEOUT | SYNC_U_TCP | SYNC_U_MARK |
	    SYNC_U_LABELS;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_update_encode(&w, &u), 0);
	plain_tcp(&st);
	assert_int_equal(sync_delete_encode(&w, &st), 0);
	rd_init(&b, buf, w.off);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, SYNC_R_UPDATE);
	assert_int_equal(sync_update_decode(&v, &o), 0);
	assert_memory_equal(&u, &o, sizeof(o));
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, SYNC_R_DELETE);
	assert_int_equal(sync_delete_decode(&v, &d), 0);
	assert_memory_equal(&d.orig, &st.orig, sizeof(st.orig));
	assert_memory_equal(&d.reply, &st.reply, sizeof(st.reply));
	/* A compact update of timeout and TCP state is small. */
	u.mask = SYNC_U_TIMEOUT | SYNC_U_TCP;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_update_encode(&w, &u), 0);
	assert_true(w.off <= 24);
}

static void
test_expect(void **ctx)
{
	struct ct_expect e, o;
	uint8_t buf[512], t;
	struct wr w;
	struct rd b, v;

	memset(&e, 0, sizeof(e));
	v4(&e.master, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 40000, 21);
	v4(&e.tuple, IPPROTO_TCP, "10.0.0.2", "10.0.0.1", 0, 50000);
	v4(&e.mask, IPPROTO_TCP, "255.255.255.255", "255.255.255.255", 0,
	    0xffff);
	v4(&e.nat, IPPROTO_TCP, "203.0.113.1", "0.0.0.0", 0, 50001);
	e.fields = CT_EXP_F_NAT | CT_EXP_F_HELPER | CT_EXP_F_ZONE;
	e.timeout = 300;
	e.flags = 0;
	e.class = 0;
	e.zone = 3;
	e.nat_dir = 1;
	strcpy(e.helper, "ftp");
	for (int type = SYNC_R_EXPECT; type <= SYNC_R_EXPECT_DEL; type++) {
		wr_init(&w, buf, sizeof(buf));
		assert_int_equal(sync_expect_encode(&w, type, &e), 0);
		rd_init(&b, buf, w.off);
		assert_int_equal(sync_rec_next(&b, &t, &v), 1);
		assert_int_equal(t, type);
		assert_int_equal(sync_expect_decode(&v, &o), 0);
		assert_memory_equal(&e, &o, sizeof(o));
		for (size_t n = 0; n < w.off - 2; n++) {
			rd_init(&v, buf + 2, n);
			assert_int_equal(sync_expect_decode(&v, &o), -1);
		}
	}
}

static void
test_control(void **ctx)
{
	static const int ctls[] = { SYNC_R_BULK_REQ, SYNC_R_BULK_BEGIN,
		SYNC_R_BULK_END, SYNC_R_SKIP, SYNC_R_DIFF_REQ, SYNC_R_DIFF_END,
		SYNC_R_TAKEOVER };
	struct sync_hello h = { SYNC_H_BULK_DONE, 123456, 0 }, ho;
	struct sync_ack a, ao;
	struct sync_ctl c = { 0xabcdef01, 1000000, 0xfffffffffffffff0ULL,
		SYNC_BULK_HOLDS },
			co;
	uint8_t buf[512], t;
	struct wr w;
	struct rd b, v;
	size_t i;

	memset(&a, 0, sizeof(a));
	/* Ranges beyond the 64-bit wrap: offsets from next. */
	a.next = UINT64_MAX - 2;
	a.nranges = 2;
	a.range[0].from = UINT64_MAX;
	a.range[0].to = 1;
	a.range[1].from = 90;
	a.range[1].to = 90;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_hello_encode(&w, &h), 0);
	assert_int_equal(sync_ack_encode(&w, &a), 0);
	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++)
		assert_int_equal(sync_ctl_encode(&w, ctls[i], &c), 0);
	rd_init(&b, buf, w.off);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, SYNC_R_HELLO);
	assert_int_equal(sync_hello_decode(&v, &ho), 0);
	assert_int_equal(h.flags, ho.flags);
	assert_int_equal(h.internal, ho.internal);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, SYNC_R_ACK);
	assert_int_equal(sync_ack_decode(&v, &ao), 0);
	assert_memory_equal(&a, &ao, sizeof(a));
	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		assert_int_equal(sync_rec_next(&b, &t, &v), 1);
		assert_int_equal(t, ctls[i]);
		assert_int_equal(sync_ctl_decode(&v, t, &co), 0);
		if (t == SYNC_R_SKIP)
			assert_true(co.seq == c.seq);
		else
			assert_int_equal(co.id, c.id);
		if (t == SYNC_R_BULK_END || t == SYNC_R_DIFF_END ||
		    t == SYNC_R_TAKEOVER)
			assert_int_equal(co.count, c.count);
		/* Flags: BULK_REQ's only. */
		assert_int_equal(co.flags,
		    t == SYNC_R_BULK_REQ ? SYNC_BULK_HOLDS : 0);
	}
	assert_int_equal(sync_rec_next(&b, &t, &v), 0);
	/* Bad ack: range backwards, too many ranges. */
	a.range[1].from = 91;
	wr_init(&w, buf, sizeof(buf));
	sync_ack_encode(&w, &a);
	rd_init(&v, buf + 2, w.off - 2);
	assert_int_equal(sync_ack_decode(&v, &ao), -1);
	buf[2 + 8] = SYNC_ACK_MAXRANGES + 1;
	rd_init(&v, buf + 2, w.off - 2);
	assert_int_equal(sync_ack_decode(&v, &ao), -1);
}

/* BULK_REQ bytes: id, then flags; a request of an older sender (the
 * id alone) asks for no flags, and so do bytes too few for them (bytes
 * a decoder does not know are ignored). */
static void
test_bulk_req_flags(void **state)
{
	static const uint8_t want[] = { SYNC_R_BULK_REQ, 8, 0x12, 0x34, 0x56,
		0x78, 0, 0, 0, SYNC_BULK_HOLDS };
	struct sync_ctl c = { 0x12345678, 0, 0, SYNC_BULK_HOLDS }, co;
	uint8_t buf[64];
	struct wr w;
	struct rd v;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_ctl_encode(&w, SYNC_R_BULK_REQ, &c), 0);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	rd_init(&v, want + 2, 4);
	assert_int_equal(sync_ctl_decode(&v, SYNC_R_BULK_REQ, &co), 0);
	assert_int_equal(co.id, 0x12345678);
	assert_int_equal(co.flags, 0);
	rd_init(&v, want + 2, 8);
	assert_int_equal(sync_ctl_decode(&v, SYNC_R_BULK_REQ, &co), 0);
	assert_int_equal(co.flags, SYNC_BULK_HOLDS);
	rd_init(&v, want + 2, 6);
	assert_int_equal(sync_ctl_decode(&v, SYNC_R_BULK_REQ, &co), 0);
	assert_int_equal(co.flags, 0);
}

/* HELLO with the path report: hand-checked bytes; a report flag without
 * its byte is malformed; a report byte without the flag is ignored, as
 * any bytes after the known fields. */
static void
test_hello_paths(void **ctx)
{
	static const uint8_t want[] = { 16, 6, 0x03, 0x00, 0x01, 0xe2, 0x40,
		0x05 };
	static const uint8_t cut[] = { 16, 5, 0x02, 0, 0, 0, 7 };
	static const uint8_t extra[] = { 16, 6, 0x01, 0, 0, 0, 7, 0xff };
	struct sync_hello h = { SYNC_H_BULK_DONE | SYNC_H_PATHS, 123456,
		0x05 };
	struct sync_hello ho;
	uint8_t buf[64], t;
	struct wr w;
	struct rd b, v;

	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_hello_encode(&w, &h), 0);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	rd_init(&b, buf, w.off);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(sync_hello_decode(&v, &ho), 0);
	assert_int_equal(ho.flags, h.flags);
	assert_int_equal(ho.internal, 123456);
	assert_int_equal(ho.paths, 0x05);

	rd_init(&b, cut, sizeof(cut));
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(sync_hello_decode(&v, &ho), -1);

	rd_init(&b, extra, sizeof(extra));
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(sync_hello_decode(&v, &ho), 0);
	assert_int_equal(ho.flags, SYNC_H_BULK_DONE);
	assert_int_equal(ho.internal, 7);
	assert_int_equal(ho.paths, 0);
}

/* TAKEOVER: id and count, hand-checked; shorter values are malformed,
 * longer ones keep their known fields. */
static void
test_takeover_golden(void **ctx)
{
	static const uint8_t want[] = { 25, 8, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x86, 0xa0 };
	struct sync_ctl c = { 0, 100000, 0, 0 }, co;
	uint8_t buf[32], t;
	struct wr w;
	struct rd b, v;

	(void)ctx;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(sync_ctl_encode(&w, SYNC_R_TAKEOVER, &c), 0);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	rd_init(&b, buf, w.off);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, SYNC_R_TAKEOVER);
	assert_int_equal(sync_ctl_decode(&v, t, &co), 0);
	assert_int_equal(co.id, 0);
	assert_int_equal(co.count, 100000);
	for (size_t n = 0; n < 8; n++) {
		rd_init(&v, buf + 2, n);
		assert_int_equal(sync_ctl_decode(&v, SYNC_R_TAKEOVER, &co),
		    -1);
	}
	memset(buf + 10, 0xee, 4);
	rd_init(&v, buf + 2, 12);
	assert_int_equal(sync_ctl_decode(&v, SYNC_R_TAKEOVER, &co), 0);
	assert_int_equal(co.count, 100000);
}

static void
test_unknown_skipped(void **ctx)
{
	uint8_t buf[64] = { 0xee, 3, 1, 2, 3, SYNC_R_DELETE, 14 };
	struct ct_state st, d;
	uint8_t t;
	struct rd b, v;
	struct wr w;

	plain_tcp(&st);
	wr_init(&w, buf + 5, sizeof(buf) - 5);
	assert_int_equal(sync_delete_encode(&w, &st), 0);
	rd_init(&b, buf, 5 + w.off);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, 0xee);
	assert_int_equal(sync_rec_next(&b, &t, &v), 1);
	assert_int_equal(t, SYNC_R_DELETE);
	assert_int_equal(sync_delete_decode(&v, &d), 0);
	/* A record overrunning the body. */
	rd_init(&b, buf, 4);
	assert_int_equal(sync_rec_next(&b, &t, &v), -1);
}

static size_t
mkframe(uint8_t *buf, const uint8_t *key, uint8_t type, uint32_t sid,
    uint64_t seq)
{
	struct ct_state st;
	struct wr w;

	plain_tcp(&st);
	wr_init(&w, buf + SYNC_HDRLEN, 1400);
	for (int i = 0; i < 10; i++) {
		st.orig.sport = (uint16_t)(1000 + i);
		assert_int_equal(sync_state_encode(&w, SYNC_R_STATE, &st), 0);
	}
	return sync_frame_seal(buf, w.off, type, sid, seq, key);
}

static void
test_frame_header(void **ctx)
{
	uint8_t key[SYNC_KEYLEN], buf[2048], copy[2048];
	struct sync_hdr h;
	size_t len;

	assert_true(sodium_init() >= 0);
	sync_key_generate(key);
	len = mkframe(buf, key, SYNC_T_DATA, 0x11223344, 5);
	assert_true(len > SYNC_HDRLEN + SYNC_TAGLEN);
	memcpy(copy, buf, len);
	assert_int_equal(sync_frame_peek(buf, len, &h), 0);
	assert_true(h.seq == 5);
	assert_int_equal(h.sid, 0x11223344);
	assert_int_equal(h.type, SYNC_T_DATA);
	/* Too short for header and tag, oversized, bad fields. */
	for (size_t n = 0; n < SYNC_HDRLEN + SYNC_TAGLEN; n++)
		assert_int_equal(sync_frame_peek(buf, n, &h),
		    SYNC_E_MALFORMED);
	assert_int_equal(sync_frame_peek(buf, SYNC_FRAME_MAX + 1, &h),
	    SYNC_E_MALFORMED);
	buf[2] = 1; /* version 1 */
	assert_int_equal(sync_frame_peek(buf, len, &h), SYNC_E_MALFORMED);
	memcpy(buf, copy, len);
	buf[0] = 'X';
	assert_int_equal(sync_frame_peek(buf, len, &h), SYNC_E_MALFORMED);
	memcpy(buf, copy, len);
	buf[3] = 9; /* unknown type */
	assert_int_equal(sync_frame_peek(buf, len, &h), SYNC_E_MALFORMED);
	memcpy(buf, copy, len);
	memset(buf + 4, 0, 4); /* session frame without a session */
	assert_int_equal(sync_frame_peek(buf, len, &h), SYNC_E_MALFORMED);
	/* No session frame is sealed without a session or as handshake. */
	assert_int_equal(mkframe(buf, key, SYNC_T_DATA, 0, 1), 0);
	assert_int_equal(mkframe(buf, key, SYNC_T_INIT, 1, 1), 0);
}

static void
test_frame_sealed(void **ctx)
{
	uint8_t key[SYNC_KEYLEN], other[SYNC_KEYLEN];
	uint8_t buf[2048], copy[2048], *body;
	struct sync_replay rp;
	size_t len, blen;
	char hex[65];

	assert_true(sodium_init() >= 0);
	sync_key_generate(key);
	sync_key_generate(other);
	sync_key_format(key, hex);
	{
		uint8_t k2[SYNC_KEYLEN];

		assert_int_equal(sync_key_parse(hex, k2), 0);
		assert_memory_equal(key, k2, sizeof(k2));
		assert_int_equal(sync_key_parse("abc", k2), -1);
		hex[10] = 'z';
		assert_int_equal(sync_key_parse(hex, k2), -1);
	}
	len = mkframe(buf, key, SYNC_T_DATA, 7, 9);
	memcpy(copy, buf, len);
	assert_int_equal(sync_frame_unseal(buf, len, key, &body, &blen), 0);
	assert_int_equal(blen, len - SYNC_HDRLEN - SYNC_TAGLEN);
	assert_int_equal(body[0], SYNC_R_STATE);
	/* Wrong key. */
	memcpy(buf, copy, len);
	assert_int_equal(sync_frame_unseal(buf, len, other, &body, &blen),
	    SYNC_E_AUTH);
	/* Every single-bit flip in header, ciphertext, tag. */
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, copy, len);
		buf[i] ^= 0x01;
		assert_int_not_equal(
		    sync_frame_unseal(buf, len, key, &body, &blen), 0);
	}
	/* The nonce covers type and sequence: the same body under another
	 * type or number does not verify with the first one's tag. */
	memcpy(buf, copy, len);
	buf[3] = SYNC_T_CTRL;
	assert_int_equal(sync_frame_unseal(buf, len, key, &body, &blen),
	    SYNC_E_AUTH);
	/* Truncated. */
	for (size_t n = 0; n < len; n++) {
		memcpy(buf, copy, len);
		assert_int_not_equal(
		    sync_frame_unseal(buf, n, key, &body, &blen), 0);
	}
	/* Replay window with serial arithmetic through the 64-bit wrap. */
	memset(&rp, 0, sizeof(rp));
	assert_int_equal(sync_replay_check(&rp, UINT64_MAX - 1), 0);
	assert_int_equal(sync_replay_check(&rp, UINT64_MAX - 1), -1);
	assert_int_equal(sync_replay_check(&rp, 3), 0);
	assert_int_equal(sync_replay_check(&rp, UINT64_MAX), 0);
	assert_int_equal(sync_replay_check(&rp, UINT64_MAX), -1);
	assert_int_equal(sync_replay_check(&rp, 0), 0);
	assert_int_equal(sync_replay_check(&rp, 200), 0);
	assert_int_equal(sync_replay_check(&rp, 100), -1);
	assert_int_equal(sync_replay_check(&rp, 3), -1);
	assert_int_equal(sync_replay_check(&rp, 201), 0);
	/* Far "ahead" by more than half the space is behind. */
	assert_int_equal(sync_replay_check(&rp, 201 + (1ULL << 63)), -1);
	assert_true(sync_seq_lt(UINT64_MAX, 0));
	assert_true(!sync_seq_lt(0, UINT64_MAX));
	assert_true(sync_seq_le(5, 5));
	assert_true(!sync_seq_lt(5, 5));
}

static void
mkid(struct sync_id *id, const char *a4, uint16_t port)
{
	struct in_addr in;

	assert_int_equal(inet_pton(AF_INET, a4, &in), 1);
	sync_id_make(id, AF_INET, &in, port);
}

/* A handshake between A and B and what it binds. */
static void
test_handshake(void **ctx)
{
	uint8_t group[SYNC_KEYLEN], other[SYNC_KEYLEN];
	uint8_t hs_ab[SYNC_KEYLEN], hs_ba[SYNC_KEYLEN], hs_cb[SYNC_KEYLEN];
	uint8_t buf[2048], copy[2048], *body;
	struct sync_id a, b, c, a2;
	struct sync_init in = { 0, 0x5555, UINT64_MAX - 5, { 0 } }, ino;
	struct sync_resp rs, rso;
	struct sync_skeys ka, kb, kc;
	size_t len, blen;

	assert_true(sodium_init() >= 0);
	sync_key_generate(group);
	sync_key_generate(other);
	mkid(&a, "10.0.0.1", 7475);
	mkid(&b, "10.0.0.2", 7475);
	mkid(&c, "10.0.0.3", 7475);
	mkid(&a2, "10.0.0.1", 7476);
	assert_memory_not_equal(&a, &a2, sizeof(a));
	sync_hs_key(group, &a, &b, hs_ab);
	sync_hs_key(group, &b, &a, hs_ba);
	sync_hs_key(group, &c, &b, hs_cb);
	assert_memory_not_equal(hs_ab, hs_ba, SYNC_KEYLEN);
	assert_memory_not_equal(hs_ab, hs_cb, SYNC_KEYLEN);

	randombytes_buf(in.nonce_s, sizeof(in.nonce_s));
	len = sync_init_encode(buf, &in, hs_ab);
	assert_int_equal(len, SYNC_INIT_LEN);
	assert_int_equal(sync_init_decode(buf, len, hs_ab, &ino), 0);
	assert_int_equal(in.flags, ino.flags);
	assert_int_equal(in.rx_sid, ino.rx_sid);
	assert_true(in.seq0 == ino.seq0);
	assert_memory_equal(in.nonce_s, ino.nonce_s, SYNC_HSNONCE);
	/* Reflected (checked as B -> A), from another member, tampered,
	 * truncated, with another group key. */
	assert_int_equal(sync_init_decode(buf, len, hs_ba, &ino), SYNC_E_AUTH);
	assert_int_equal(sync_init_decode(buf, len, hs_cb, &ino), SYNC_E_AUTH);
	memcpy(copy, buf, len);
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, copy, len);
		buf[i] ^= 0x80;
		assert_int_not_equal(sync_init_decode(buf, len, hs_ab, &ino),
		    0);
	}
	memcpy(buf, copy, len);
	assert_int_equal(sync_init_decode(buf, len - 1, hs_ab, &ino),
	    SYNC_E_MALFORMED);
	assert_int_equal(sync_resp_decode(buf, len, hs_ab, &rso),
	    SYNC_E_MALFORMED);

	memcpy(rs.nonce_s, in.nonce_s, SYNC_HSNONCE);
	randombytes_buf(rs.nonce_r, sizeof(rs.nonce_r));
	len = sync_resp_encode(buf, &rs, hs_ba);
	assert_int_equal(len, SYNC_RESP_LEN);
	assert_int_equal(sync_resp_decode(buf, len, hs_ba, &rso), 0);
	assert_memory_equal(&rs, &rso, sizeof(rs));
	assert_int_equal(sync_resp_decode(buf, len, hs_ab, &rso), SYNC_E_AUTH);

	/* Both ends derive the same keys; another member, direction,
	 * nonce or group key gives others. */
	sync_session_keys(group, &a, &b, rs.nonce_s, rs.nonce_r, &ka);
	sync_session_keys(group, &a, &b, rs.nonce_s, rs.nonce_r, &kb);
	assert_memory_equal(&ka, &kb, sizeof(ka));
	assert_true(ka.sid != 0);
	assert_memory_not_equal(ka.fwd, ka.rev, SYNC_KEYLEN);
	sync_session_keys(group, &a, &c, rs.nonce_s, rs.nonce_r, &kc);
	assert_memory_not_equal(ka.fwd, kc.fwd, SYNC_KEYLEN);
	sync_session_keys(group, &b, &a, rs.nonce_s, rs.nonce_r, &kc);
	assert_memory_not_equal(ka.fwd, kc.fwd, SYNC_KEYLEN);
	assert_memory_not_equal(ka.fwd, kc.rev, SYNC_KEYLEN);
	sync_session_keys(other, &a, &b, rs.nonce_s, rs.nonce_r, &kc);
	assert_memory_not_equal(ka.fwd, kc.fwd, SYNC_KEYLEN);
	rs.nonce_r[0] ^= 1;
	sync_session_keys(group, &a, &b, rs.nonce_s, rs.nonce_r, &kc);
	assert_memory_not_equal(ka.fwd, kc.fwd, SYNC_KEYLEN);

	/* A frame A sealed for B does not open as B's, nor as A -> C's. */
	len = mkframe(buf, ka.fwd, SYNC_T_CTRL, ka.sid, 1);
	memcpy(copy, buf, len);
	assert_int_equal(sync_frame_unseal(buf, len, kb.fwd, &body, &blen), 0);
	memcpy(buf, copy, len);
	assert_int_equal(sync_frame_unseal(buf, len, ka.rev, &body, &blen),
	    SYNC_E_AUTH);
	memcpy(buf, copy, len);
	sync_session_keys(group, &a, &c, rs.nonce_s, rs.nonce_r, &kc);
	assert_int_equal(sync_frame_unseal(buf, len, kc.fwd, &body, &blen),
	    SYNC_E_AUTH);
}

/* A full frame of small states stays within 42 bytes per state. */
static void
test_density(void **ctx)
{
	uint8_t buf[1500];
	struct ct_state st;
	struct wr w;
	size_t off = SYNC_HDRLEN, n = 0, len;
	uint8_t key[SYNC_KEYLEN];

	sync_key_generate(key);
	plain_tcp(&st);
	wr_init(&w, buf + off, 1500 - 28 - off - SYNC_TAGLEN);
	for (;;) {
		size_t save = w.off;

		if (sync_state_encode(&w, SYNC_R_STATE, &st) == -1) {
			w.off = save;
			break;
		}
		n++;
	}
	len = sync_frame_seal(buf, w.off, SYNC_T_DATA, 1, 1, key);
	assert_true(len <= 1500 - 28);
	assert_true((len + 28) / n <= 42);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_plain),
		cmocka_unit_test(test_state_golden),
		cmocka_unit_test(test_takeover_golden),
		cmocka_unit_test(test_state_nat_v6_full),
		cmocka_unit_test(test_state_value),
		cmocka_unit_test(test_update_delete),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_bulk_req_flags),
		cmocka_unit_test(test_hello_paths),
		cmocka_unit_test(test_unknown_skipped),
		cmocka_unit_test(test_frame_header),
		cmocka_unit_test(test_frame_sealed),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_density),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_carp_input.c: carpd's receive path on whole Ethernet frames: a
 * valid advertisement reaches the state machine, every malformed one is
 * dropped and counted under its own reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "carpd.h"

struct carpd *carpd;
static int rx_calls;
static struct carp_hdr rx_last;

void
carpd_rx_adv(struct vh *v, const struct carp_hdr *h, int af)
{
	(void)v;
	(void)af;
	rx_calls++;
	rx_last = *h;
}

void
carpd_send_result(int ok)
{
	(void)ok;
}

static struct vh vh;
static struct iface *ifp;

static int
setup(void **state)
{
	(void)state;
	carpd = calloc(1, sizeof(*carpd));
	memset(&vh, 0, sizeof(vh));
	ifp = &carpd->ifs[carpd->nifs++];
	strcpy(ifp->name, "eth0");
	addr_parse("10.0.0.1", &ifp->src4, NULL);
	vh.ifp = ifp;
	vh.fsm.cfg.vhid = 1;
	vh.fsm.cfg.advbase = 1;
	inet_pton(AF_INET, "192.168.1.10", &vh.v4[0]);
	vh.n4 = 1;
	carp_key_from_pass("mekmitasdigoat", vh.key);
	memset(vh.cookie, 0xaa, 8);
	carpd->vh[carpd->nvh++] = &vh;
	rx_calls = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(carpd);
	return 0;
}

struct fopt {
	int ttl, ver, type, authlen, vhid, vlan;
	int badsum, badmd, owncookie;
	const char *src;
};

static size_t
frame(uint8_t *f, const struct fopt *o)
{
	static const uint8_t ctr[8] = { 1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
		0xef };
	struct carp_addrs a = { vh.v4, vh.n4, NULL, 0 };
	struct carp_hdr h;
	struct in_addr s, d;
	size_t off = 12;
	uint8_t *ip;

	memset(f, 0, 128);
	if (o->vlan) {
		f[off++] = 0x81;
		f[off++] = 0x00;
		off += 2;
	}
	f[off++] = 0x08;
	f[off++] = 0x00;
	ip = f + off;
	ip[0] = 0x45;
	ip[3] = 20 + CARP_HDRLEN;
	ip[8] = (uint8_t)(o->ttl ? o->ttl : 255);
	ip[9] = CARP_PROTO;
	inet_pton(AF_INET, o->src ? o->src : "10.0.0.2", &s);
	inet_pton(AF_INET, CARP_GROUP4, &d);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	memset(&h, 0, sizeof(h));
	h.version = (uint8_t)(o->ver ? o->ver : 2);
	h.type = (uint8_t)(o->type ? o->type : 1);
	h.authlen = (uint8_t)(o->authlen ? o->authlen : 7);
	h.vhid = (uint8_t)(o->vhid ? o->vhid : 1);
	h.advbase = 1;
	h.advskew = 42;
	memcpy(h.counter, o->owncookie ? vh.cookie : ctr, 8);
	carp_hmac(vh.key, h.vhid, &a, h.counter, h.md);
	if (o->badmd)
		h.md[3] ^= 1;
	carp_encode(&h, ip + 20, CARP_HDRLEN);
	if (o->badsum)
		ip[20 + 7] ^= 0x10;
	return off + 20 + CARP_HDRLEN;
}

static void
expect(const struct fopt *o, enum carp_err e)
{
	uint8_t f[128];
	size_t n = frame(f, o);
	uint64_t before = carpd->st.rej[e];
	int calls = rx_calls;

	net_input_frame(ifp, f, n);
	if (e == CARP_OK) {
		assert_int_equal(rx_calls, calls + 1);
		return;
	}
	assert_int_equal(rx_calls, calls);
	assert_int_equal(carpd->st.rej[e], before + 1);
}

static void
test_valid(void **state)
{
	struct fopt o = { 0 };

	(void)state;
	expect(&o, CARP_OK);
	assert_int_equal(rx_last.advskew, 42);
	assert_int_equal(carpd->st.ipackets, 1);
	o.vlan = 1;
	expect(&o, CARP_OK);
}

static void
test_rejects(void **state)
{
	struct fopt o;

	(void)state;
#define CASE(field, val, err)                                                 \
	do {                                                                  \
		memset(&o, 0, sizeof(o));                                     \
		o.field = val;                                                \
		expect(&o, err);                                              \
	} while (0)
	CASE(ttl, 64, CARP_E_BADTTL);
	CASE(ttl, 254, CARP_E_BADTTL);
	CASE(ver, 3, CARP_E_BADVER);
	CASE(type, 2, CARP_E_BADTYPE);
	CASE(authlen, 6, CARP_E_BADAUTHLEN);
	CASE(vhid, 9, CARP_E_BADVHID);
	CASE(badsum, 1, CARP_E_BADSUM);
	CASE(badmd, 1, CARP_E_BADAUTH);
	CASE(owncookie, 1, CARP_E_LOOP);
	CASE(src, "10.0.0.1", CARP_E_LOOP);
#undef CASE
	assert_int_equal(vh.badauth, 1);
}

static void
test_truncated(void **state)
{
	struct fopt o = { 0 };
	uint8_t f[128];
	uint64_t sum;
	size_t n, i;
	int k;

	(void)state;
	n = frame(f, &o);
	for (i = 0; i < n; i++) {
		net_input_frame(ifp, f, i);
		for (sum = 0, k = 0; k < CARP_E_MAX; k++)
			sum += carpd->st.rej[k];
		assert_int_equal(sum, i + 1);
	}
	assert_int_equal(rx_calls, 0);
	/* Not IP at all. */
	f[12] = 0x86;
	f[13] = 0xdd;
	net_input_frame(ifp, f, n);
	f[12] = 0x08;
	f[13] = 0x06;
	net_input_frame(ifp, f, n);
	assert_int_equal(rx_calls, 0);
	assert_true(carpd->st.rej[CARP_E_BADPROTO] >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

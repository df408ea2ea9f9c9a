/*
 * fuzz_sync.c: syncd's receive path on arbitrary bytes: header peek,
 * handshake decoders, unsealing under a key, the record walk, every
 * value decoder, and a re-encode of what decoded that must decode to the
 * same value. Inputs whose first byte is odd are sealed under the fixed
 * key first, so the walk also sees bodies that got past the tag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
state_again(int type, const struct ct_state *st)
{
	uint8_t buf[512], t;
	struct ct_state o;
	struct wr w;
	struct rd b, v;

	wr_init(&w, buf, sizeof(buf));
	if (sync_state_encode(&w, type, st) == -1)
		return;
	rd_init(&b, buf, w.off);
	if (sync_rec_next(&b, &t, &v) != 1 || sync_state_decode(&v, &o) == -1)
		__builtin_trap();
}

/* A HELLO that decoded encodes to one that decodes the same. */
static void
hello_again(const struct sync_hello *h)
{
	uint8_t buf[64], t;
	struct sync_hello o;
	struct wr w;
	struct rd b, v;

	wr_init(&w, buf, sizeof(buf));
	if (sync_hello_encode(&w, h) == -1)
		__builtin_trap();
	rd_init(&b, buf, w.off);
	if (sync_rec_next(&b, &t, &v) != 1 ||
	    sync_hello_decode(&v, &o) == -1 || o.flags != h->flags ||
	    o.internal != h->internal || o.paths != h->paths)
		__builtin_trap();
}

static void
walk(const uint8_t *body, size_t blen)
{
	struct rd b, v;
	struct ct_state st;
	struct ct_expect x;
	struct sync_update u;
	struct sync_hello h;
	struct sync_ack a;
	struct sync_ctl c;
	uint8_t type;
	uint8_t key[SYNC_KEY_MAX];

	rd_init(&b, body, blen);
	while (sync_rec_next(&b, &type, &v) == 1) {
		switch (type) {
		case SYNC_R_STATE:
		case SYNC_R_DIFF_STATE:
			if (sync_key_len(v.p, v.len) > v.len)
				__builtin_trap();
			if (sync_state_decode(&v, &st) == 0) {
				(void)sync_key_encode(key, &st);
				state_again(type, &st);
			}
			break;
		case SYNC_R_UPDATE:
			(void)sync_update_decode(&v, &u);
			break;
		case SYNC_R_DELETE:
			(void)sync_delete_decode(&v, &st);
			break;
		case SYNC_R_EXPECT:
		case SYNC_R_EXPECT_DEL:
			(void)sync_expect_decode(&v, &x);
			break;
		case SYNC_R_HELLO:
			if (sync_hello_decode(&v, &h) == 0)
				hello_again(&h);
			break;
		case SYNC_R_ACK:
			(void)sync_ack_decode(&v, &a);
			break;
		default:
			(void)sync_ctl_decode(&v, type, &c);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint8_t k[SYNC_KEYLEN] =
	    "0123456789abcdef0123456789abcde";
	struct sync_hdr h;
	struct sync_init in;
	struct sync_resp rs;
	uint8_t *buf, *body;
	size_t blen, n;

	if ((buf = malloc(len + SYNC_HDRLEN + SYNC_TAGLEN)) == NULL)
		return 0;
	memcpy(buf, data, len);
	if (sync_frame_peek(buf, len, &h) == 0) {
		(void)sync_init_decode(buf, len, k, &in);
		(void)sync_resp_decode(buf, len, k, &rs);
		if (sync_frame_unseal(buf, len, k, &body, &blen) == 0)
			walk(body, blen);
	}
	if (len > 0 && (data[0] & 1) && len <= SYNC_FRAME_MAX - 64) {
		memcpy(buf + SYNC_HDRLEN, data + 1, len - 1);
		n = sync_frame_seal(buf, len - 1, SYNC_T_DATA, 1, len, k);
		if (n == 0 ||
		    sync_frame_unseal(buf, n, k, &body, &blen) != 0 ||
		    blen != len - 1 || memcmp(body, data + 1, blen) != 0)
			__builtin_trap();
		walk(body, blen);
	}
	/* The bare record walk, as after a successful unseal. */
	walk(data, len);
	free(buf);
	return 0;
}

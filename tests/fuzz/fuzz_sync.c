/*
 * fuzz_sync.c: syncd's receive path on arbitrary bytes: frame open (plain
 * and with a key), the record walk, every value decoder, and a re-encode
 * of what decoded that must decode to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
			(void)sync_hello_decode(&v, &h);
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
	static const uint8_t k[SYNC_KEYLEN] = "0123456789abcdef0123456789abcde";
	struct sync_hdr h;
	uint8_t *buf, *body;
	size_t blen;

	if ((buf = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data, len);
	if (sync_frame_open(buf, len, NULL, &h, &body, &blen) == 0)
		walk(body, blen);
	memcpy(buf, data, len);
	if (sync_frame_open(buf, len, k, &h, &body, &blen) == 0)
		walk(body, blen);
	/* The bare record walk, as after a successful open. */
	walk(data, len);
	free(buf);
	return 0;
}

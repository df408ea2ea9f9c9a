/*
 * fuzz_ct.c: arbitrary bytes as one ctnetlink message to syncd's parsers
 * (ct_parse_msg, ct_parse_key, ct_parse_expect_msg); what parses must
 * rebuild and parse back to the same tuples, and the key alone the same
 * original tuple.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>

#include "syncd/ct.h"
#include "syncd/ct_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->family == b->family && a->proto == b->proto &&
	    a->sport == b->sport && a->dport == b->dport &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[65536 / 4];
	static uint32_t out[CT_MSG_MAX / 4];
	struct ct_state s, p;
	struct ct_expect e, q;
	size_t len;

	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);
	/* The key alone (the event hint) parses whenever the whole does. */
	if (ct_parse_key((struct nlmsghdr *)buf, size, &p) != 0 &&
	    ct_parse_msg((struct nlmsghdr *)buf, size, &s) == 0)
		abort();
	if (ct_parse_msg((struct nlmsghdr *)buf, size, &s) == 0) {
		if (!tuple_eq(&s.orig, &p.orig))
			abort();
		/* Only families the kernel has; the rest is out of scope. */
		if (s.reply.family != s.orig.family)
			return 0;
		if (s.fields & CT_F_MASTER && s.master.family != s.orig.family)
			s.fields &= ~CT_F_MASTER;
		len = ct_msg_state(out, 1, &s, CT_BUILD_CREATE);
		if (len > CT_MSG_MAX)
			abort();
		if (ct_parse_msg((struct nlmsghdr *)out, len, &p) != 0)
			abort();
		if (!tuple_eq(&s.orig, &p.orig))
			abort();
		len = ct_msg_delete(out, 2, &s);
		if (len > CT_MSG_MAX)
			abort();
	}
	if (ct_parse_expect_msg((struct nlmsghdr *)buf, size, &e) == 0) {
		len = ct_msg_expect(out, 3, &e);
		if (len > CT_MSG_MAX)
			abort();
		if (ct_parse_expect_msg((struct nlmsghdr *)out, len, &q) != 0)
			abort();
		if (!tuple_eq(&e.master, &q.master))
			abort();
	}
	return 0;
}

/*
 * fuzz_policy.c: syncd's policy keywords and checks on arbitrary bytes.
 * The input is a syncd.conf fragment, then (after a NUL) the bytes of a
 * state and an expectation checked against the policy it set. Every
 * policy that was accepted prints lines that read back to the same
 * policy.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "syncd/policy.h"
#include "sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
line_cb(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	/* Other keywords are not the policy's: accepted and ignored. */
	return policy_set(arg, cl->argc, cl->argv, err, errlen) == -1 ? -1 : 0;
}

static int
print_cb(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	if (policy_set(arg, cl->argc, cl->argv, err, errlen) != 1)
		abort();
	return 0;
}

static void
check(const struct policy *p, const uint8_t *data, size_t size)
{
	static const uint8_t v4lo[4] = { 127, 0, 0, 1 };
	struct pol_prefix a;
	struct pol_local l = { 0 };
	struct pol_helpers h;
	struct ct_state st;
	struct ct_expect x;
	char why[160];

	memset(&st, 0, sizeof(st));
	memcpy(&st, data, size < sizeof(st) ? size : sizeof(st));
	memset(&x, 0, sizeof(x));
	if (size > sizeof(st))
		memcpy(&x, data + sizeof(st),
		    size - sizeof(st) < sizeof(x) ?
			size - sizeof(st) :
			sizeof(x));
	memset(&h, 0, sizeof(h));
	strcpy(h.name[0], "ftp");
	h.n = 1;
	memset(&a, 0, sizeof(a));
	a.family = st.orig.family;
	memcpy(a.addr, st.orig.dst, sizeof(a.addr));
	if (pol_local_set(&l, &a, 1) == -1)
		return;
	if (policy_send(p, &l, &st) >= POL_NREASONS ||
	    policy_import(p, &l, &h, &st, why, sizeof(why)) >= POL_NREASONS ||
	    policy_import_expect(p, &h, &x, why, sizeof(why)) >= POL_NREASONS)
		abort();
	if (memchr(why, '\0', sizeof(why)) == NULL)
		abort();
	if (!pol_local_has(&l, AF_INET, v4lo))
		abort();
	pol_local_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p, q;
	struct sbuf a, b;
	char err[CONF_ERRLEN];
	const uint8_t *nul;
	size_t clen;
	char *copy;

	nul = memchr(data, '\0', size);
	clen = nul != NULL ? (size_t)(nul - data) : size;
	/* An exact-size heap copy lets ASan see any over-read. */
	if ((copy = malloc(clen ? clen : 1)) == NULL)
		return 0;
	memcpy(copy, data, clen);
	policy_init(&p);
	if (conf_parse_buf("fuzz.conf", copy, clen, line_cb, &p, err,
		sizeof(err)) == 0) {
		sbuf_init(&a);
		sbuf_init(&b);
		policy_print(&p, &a);
		policy_init(&q);
		if (a.err ||
		    conf_parse_buf("print", a.p, a.len, print_cb, &q, err,
			sizeof(err)) == -1)
			abort();
		policy_print(&q, &b);
		if (b.err || strcmp(a.p, b.p) != 0)
			abort();
		sbuf_free(&a);
		sbuf_free(&b);
		if (nul != NULL)
			check(&p, nul + 1, size - clen - 1);
	}
	free(copy);
	return 0;
}

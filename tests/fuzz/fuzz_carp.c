/*
 * fuzz_carp.c: the CARP receive path on arbitrary bytes: IP decode,
 * header decode, HMAC verify, and an encode round trip of what decoded.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "carp.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint8_t key[CARP_KEYLEN] = "mekmitasdigoat";
	struct in_addr a4 = { htonl(0xc0a8010a) };
	struct carp_addrs a = { &a4, 1, NULL, 0 };
	struct carp_ip ip;
	struct carp_hdr h, g;
	uint8_t out[CARP_HDRLEN];
	const uint8_t *p = data;
	size_t n = len;

	if (carp_ip_decode(data, len, &ip) == CARP_OK) {
		p = ip.payload;
		n = ip.paylen;
	}
	if (carp_decode(p, n, &h, 0) != CARP_OK)
		return 0;
	(void)carp_hmac_verify(key, &a, &h);
	if (carp_encode(&h, out, sizeof(out)) != CARP_HDRLEN)
		__builtin_trap();
	/*
	 * The same bytes, except that a received checksum of 0xffff is the
	 * other one's complement zero of the 0x0000 we compute: both verify.
	 */
	if (carp_decode(out, sizeof(out), &g, 1) != CARP_OK ||
	    memcmp(out, p, 6) != 0 ||
	    memcmp(out + 8, p + 8, CARP_HDRLEN - 8) != 0 ||
	    (memcmp(out + 6, p + 6, 2) != 0 &&
		!(out[6] == 0 && out[7] == 0 && p[6] == 0xff && p[7] == 0xff)))
		__builtin_trap();
	return 0;
}

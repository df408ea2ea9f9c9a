/*
 * fuzz_ctl.c: control socket framing on arbitrary bytes: frame headers,
 * body limits and ctl_split, the way the server reads a stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char body[CTL_REQ_MAX + 1], *argv[CTL_MAXARGS + 1];
	uint8_t hdr[CTL_HDRLEN];
	size_t off = 0;
	uint32_t len;
	int argc, i;

	while (size - off >= CTL_HDRLEN) {
		len = (uint32_t)data[off] << 24 |
		    (uint32_t)data[off + 1] << 16 |
		    (uint32_t)data[off + 2] << 8 | data[off + 3];
		/* The header round-trips through the encoder. */
		ctl_frame_hdr(hdr, data[off + 4], len);
		if (memcmp(hdr, data + off, CTL_HDRLEN) != 0)
			abort();
		if (data[off + 4] != CTL_REQ || len > CTL_REQ_MAX)
			break; /* the server rejects and closes */
		if (size - off - CTL_HDRLEN < len)
			break; /* incomplete: wait for more */
		memcpy(body, data + off + CTL_HDRLEN, len);
		body[len] = '\0';
		off += CTL_HDRLEN + len;
		argc = ctl_split(body, argv, CTL_MAXARGS);
		if (argc < -1 || argc > CTL_MAXARGS)
			abort();
		for (i = 0; i < argc; i++)
			if (argv[i][0] == '\0' || strchr(argv[i], ' ') != NULL)
				abort();
	}
	/* Also split the raw tail as one body. */
	len = size - off > CTL_REQ_MAX ? CTL_REQ_MAX : (uint32_t)(size - off);
	memcpy(body, data + off, len);
	body[len] = '\0';
	(void)ctl_split(body, argv, CTL_MAXARGS);
	return 0;
}

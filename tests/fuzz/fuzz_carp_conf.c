/*
 * fuzz_carp_conf.c: carpd.conf parsing on arbitrary text; everything
 * parsed is freed again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../carpd/carpd.h"
#include "../../carpd/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct carpd *carpd;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct carpd_opts o = { .vmac = -1 };
	static struct carpd c;
	struct carpd_conf *cf;
	char err[512];

	memset(&c, 0, sizeof(c));
	carpd = &c;
	cf = carpd_conf_buf("fuzz", (const char *)data, len, &o, err,
	    sizeof(err));
	carpd_conf_free(cf);
	carpd = NULL;
	return 0;
}

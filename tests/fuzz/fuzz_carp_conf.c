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
	static const struct carpd_opts o = { -1, 0, 0, 0 };
	static struct carpd c;
	char err[512];
	int i;

	memset(&c, 0, sizeof(c));
	carpd = &c;
	(void)carpd_conf_buf("fuzz", (const char *)data, len, &o, err,
	    sizeof(err));
	for (i = 0; i < c.nvh; i++)
		vh_free(c.vh[i]);
	check_free_all();
	free(c.control);
	free(c.sync_path);
	free(c.metrics);
	carpd = NULL;
	return 0;
}

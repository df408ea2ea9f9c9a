/*
 * fuzz_conf.c: the configuration reader on arbitrary bytes.
 * Every accepted line must have sane words; errors must name file:line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
line_cb(const struct conf_line *cl, void *arg, char *err, size_t errlen)
{
	size_t *words = arg;
	int i;

	if (cl->argc <= 0 || cl->argc > CONF_MAXARGS ||
	    cl->argv[cl->argc] != NULL || cl->lineno <= 0)
		abort();
	for (i = 0; i < cl->argc; i++) {
		if (strlen(cl->argv[i]) >= CONF_MAXLINE)
			abort();
		(*words)++;
	}
	/* Exercise the error path on a keyword. */
	if (strcmp(cl->argv[0], "fail") == 0) {
		strncpy(err, "fail requested", errlen - 1);
		err[errlen - 1] = '\0';
		return -1;
	}
	if (cl->argc > 1) {
		unsigned long v;
		unsigned long long w;

		(void)conf_uint(cl->argv[1], 0, 255, &v);
		(void)conf_u64(cl->argv[1], &w);
		(void)conf_bool(cl->argv[1]);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERRLEN];
	size_t words = 0;
	char *copy;

	/* An exact-size heap copy lets ASan see any over-read. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	err[0] = '\0';
	if (conf_parse_buf("fuzz.conf", copy, size, line_cb, &words, err,
		sizeof(err)) == -1) {
		if (strncmp(err, "fuzz.conf:", 10) != 0 ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	}
	free(copy);
	return 0;
}

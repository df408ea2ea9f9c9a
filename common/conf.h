/*
 * conf.h: line-based configuration reader shared by both daemons.
 * Words separated by blanks, '#' comments, "double quoted" words with
 * \" and \\ escapes; '{' and '}' are words of their own. Every error names
 * file:line: reason.
 */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <stddef.h>

#define CONF_MAXARGS 32
#define CONF_MAXLINE 4096
#define CONF_ERRLEN  512

struct conf_line {
	const char *file;
	int lineno;
	int argc;
	char *argv[CONF_MAXARGS + 1];
};

/* Called for every non-empty line. Return 0 to go on, or -1 after filling
 * err (the reason only; the reader prefixes file:line). */
typedef int (*conf_line_cb)(const struct conf_line *, void *arg, char *err,
    size_t errlen);

/* Parse a file or a buffer. On error return -1 with err set to
 * "file:line: reason" (or "file: reason" for open/read errors). */
int conf_parse_file(const char *path, conf_line_cb, void *arg, char *err,
    size_t errlen);
int conf_parse_buf(const char *name, const char *buf, size_t len, conf_line_cb,
    void *arg, char *err, size_t errlen);

/* Number parsing with range checks; 0 or -1. Base 10 (0x prefix allowed
 * for conf_u64). */
int conf_uint(const char *, unsigned long min, unsigned long max,
    unsigned long *out);
int conf_u64(const char *, unsigned long long *out);
/* "yes/no/on/off/true/false/1/0" -> 1/0, -1 when neither. */
int conf_bool(const char *);

#endif

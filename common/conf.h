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

/*
 * A list: items separated by commas, blanks or both ("a,b", "a, b",
 * "a b"), at most max of them, each shorter than CONF_ITEMLEN, into
 * item[]. Returns the count, or -1 with the reason in err (no item, an
 * empty one between commas or at either end, too many, one too long).
 * conf_list_join writes item[0..n) back as "a,b".
 */
#define CONF_ITEMLEN 64
int conf_list_split(const char *, char item[][CONF_ITEMLEN], int max,
    char *err, size_t errlen);
void conf_list_join(char (*item)[CONF_ITEMLEN], int n, char *out, size_t len);

#endif

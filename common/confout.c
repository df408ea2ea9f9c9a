/*
 * confout.c: a configuration written back in the syntax of common/conf.c,
 * so that --check's output can be read again: a word with a blank, '#',
 * a quote, a backslash or a brace (or an empty one) is double-quoted with
 * \" and \\ escaped.
 */
#include <string.h>

#include "confout.h"

void
confout_word(FILE *f, const char *w)
{
	if (*w != '\0' && strpbrk(w, " \t\r\n#\"\\{}") == NULL) {
		fputs(w, f);
		return;
	}
	fputc('"', f);
	for (; *w != '\0'; w++) {
		if (*w == '"' || *w == '\\')
			fputc('\\', f);
		fputc(*w, f);
	}
	fputc('"', f);
}

void
confout_kw(FILE *f, int indent, const char *key, const char *val)
{
	fprintf(f, "%s%s ", indent ? "\t" : "", key);
	confout_word(f, val);
	fputc('\n', f);
}

void
confout_uint(FILE *f, int indent, const char *key, unsigned long n)
{
	fprintf(f, "%s%s %lu\n", indent ? "\t" : "", key, n);
}

void
confout_bool(FILE *f, int indent, const char *key, int b)
{
	fprintf(f, "%s%s %s\n", indent ? "\t" : "", key, b ? "yes" : "no");
}

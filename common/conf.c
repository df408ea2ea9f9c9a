/*
 * conf.c: the line-based configuration reader of both daemons: words,
 * quotes, comments, braces; number, boolean and list helpers.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "util.h"

#define CONF_MAXFILE (1u << 20)

/*
 * Split one line (len bytes, no newline) into words stored in words[]
 * (which has room for 2 * CONF_MAXLINE bytes). Returns 0, or -1 with the
 * reason in why.
 */
static int
conf_split(const char *s, size_t len, struct conf_line *cl, char *words,
    char *why, size_t whylen)
{
	size_t i = 0, o = 0;
	int inword = 0, quoted = 0;
	unsigned char c;

	cl->argc = 0;
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char)s[i] : '\0';
		if (i < len &&
		    ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)) {
			snprintf(why, whylen, "non-printable character 0x%02x",
			    c);
			return -1;
		}
		if (quoted) {
			if (i == len) {
				snprintf(why, whylen, "unterminated quote");
				return -1;
			}
			if (c == '"') {
				quoted = 0;
				continue;
			}
			if (c == '\\') {
				if (i + 1 < len &&
				    (s[i + 1] == '"' || s[i + 1] == '\\')) {
					words[o++] = s[++i];
					continue;
				}
				snprintf(why, whylen,
				    "bad escape in quotes"
				    " (only \\\" and \\\\ are allowed)");
				return -1;
			}
			words[o++] = (char)c;
			continue;
		}
		if (i == len || c == ' ' || c == '\t' || c == '\r' ||
		    c == '#' || c == '{' || c == '}') {
			if (inword) {
				words[o++] = '\0';
				inword = 0;
			}
			if (i == len || c == '#')
				break;
			if (c == '{' || c == '}') {
				if (cl->argc >= CONF_MAXARGS)
					goto toomany;
				cl->argv[cl->argc++] = words + o;
				words[o++] = (char)c;
				words[o++] = '\0';
			}
			continue;
		}
		if (!inword) {
			if (cl->argc >= CONF_MAXARGS)
				goto toomany;
			cl->argv[cl->argc++] = words + o;
			inword = 1;
		}
		if (c == '"')
			quoted = 1;
		else
			words[o++] = (char)c;
	}
	cl->argv[cl->argc] = NULL;
	return 0;
toomany:
	snprintf(why, whylen, "too many words (max %d)", CONF_MAXARGS);
	return -1;
}

int
conf_parse_buf(const char *name, const char *buf, size_t len, conf_line_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct conf_line cl;
	char *words = NULL, why[CONF_ERRLEN];
	const char *line, *nl;
	size_t off = 0, ll;
	int lineno = 0, ret = -1;

	if (name == NULL)
		name = "(buffer)";
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((words = malloc(2 * CONF_MAXLINE)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	while (off < len) {
		lineno++;
		line = buf + off;
		nl = memchr(line, '\n', len - off);
		ll = nl != NULL ? (size_t)(nl - line) : len - off;
		off += ll + (nl != NULL);
		why[0] = '\0';
		if (ll >= CONF_MAXLINE) {
			snprintf(why, sizeof(why),
			    "line too long (max %d bytes)", CONF_MAXLINE - 1);
			goto bad;
		}
		memset(&cl, 0, sizeof(cl));
		cl.file = name;
		cl.lineno = lineno;
		if (conf_split(line, ll, &cl, words, why, sizeof(why)) == -1)
			goto bad;
		if (cl.argc == 0)
			continue;
		if (cb(&cl, arg, why, sizeof(why)) == -1) {
			if (why[0] == '\0')
				snprintf(why, sizeof(why), "invalid line");
			goto bad;
		}
	}
	ret = 0;
	goto out;
bad:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
out:
	free(words);
	return ret;
}

int
conf_parse_file(const char *path, conf_line_cb cb, void *arg, char *err,
    size_t errlen)
{
	char *buf;
	size_t len;
	int ret;

	if (util_read_file(path, CONF_MAXFILE, &buf, &len) == -1) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "%s: file too large (max %u"
			    " bytes)",
			    path, CONF_MAXFILE);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = conf_parse_buf(path, buf, len, cb, arg, err, errlen);
	free(buf);
	return ret;
}

int
conf_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
conf_u64(const char *s, unsigned long long *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (s == NULL)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
			(*s >= 'A' && *s <= 'F')))
			return -1;
	} else if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
conf_bool(const char *s)
{
	static const char *yes[] = { "yes", "on", "true", "1" };
	static const char *no[] = { "no", "off", "false", "0" };

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int
conf_list_split(const char *s, char item[][CONF_ITEMLEN], int max, char *err,
    size_t errlen)
{
	int n = 0, comma = 1;
	size_t l;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (*s == ',') {
			if (comma)
				goto empty;
			comma = 1;
			s++;
			continue;
		}
		l = strcspn(s, ", \t");
		if (n == max) {
			snprintf(err, errlen, "more than %d items", max);
			return -1;
		}
		if (l >= CONF_ITEMLEN) {
			snprintf(err, errlen, "\"%.*s...\" is too long", 16,
			    s);
			return -1;
		}
		memcpy(item[n], s, l);
		item[n++][l] = '\0';
		s += l;
		comma = 0;
	}
	if (n > 0 && !comma)
		return n;
empty:
	snprintf(err, errlen, "an empty item");
	return -1;
}

void
conf_list_join(char (*item)[CONF_ITEMLEN], int n, char *out, size_t len)
{
	size_t off = 0;
	int w;

	if (len == 0)
		return;
	out[0] = '\0';
	for (int i = 0; i < n && off < len; i++) {
		w = snprintf(out + off, len - off, "%s%s", i > 0 ? "," : "",
		    item[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

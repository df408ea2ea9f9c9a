/*
 * kv.c: the key=value grammar of the daemons' event log lines: building a
 * line, quoting and escaping values.
 */
#include <stdio.h>
#include <string.h>

#include "kv.h"

static int
needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=')
			return 1;
	}
	return 0;
}

/* Append n bytes of s; -1 when it does not fit. */
static int
put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n >= cap)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

int
kv_quote(char *out, size_t cap, const char *val)
{
	size_t len = 0;
	char esc[8];

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (!needs_quotes(val))
		return put(out, cap, &len, val, strlen(val));
	if (put(out, cap, &len, "\"", 1) == -1)
		return -1;
	for (const char *p = val; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (c < ' ' || c >= 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		if (put(out, cap, &len, esc, strlen(esc)) == -1)
			return -1;
	}
	return put(out, cap, &len, "\"", 1);
}

void
kv_init(struct kv *k, const char *event)
{
	k->len = 0;
	k->buf[0] = '\0';
	kv_str(k, "event", event);
}

void
kv_str(struct kv *k, const char *key, const char *val)
{
	char q[KV_LINE], piece[KV_LINE + 64];
	size_t room, n;
	int cut;

	if (k->len >= sizeof(k->buf) - 1)
		return; /* full, or cut already */
	cut = kv_quote(q, sizeof(q), val != NULL ? val : "") == -1;
	snprintf(piece, sizeof(piece), "%s%s=%s", k->len > 0 ? " " : "", key,
	    q);
	n = strlen(piece);
	room = sizeof(k->buf) - 1 - k->len;
	if (!cut && n < room) {
		memcpy(k->buf + k->len, piece, n + 1);
		k->len += n;
		return;
	}
	/* Cut: as much as fits, then "...", and nothing more after it. */
	n = n < room ? n : room;
	memcpy(k->buf + k->len, piece, n);
	k->len += n;
	memcpy(k->buf + sizeof(k->buf) - 4, "...", 4);
	k->len = sizeof(k->buf) - 1;
}

void
kv_uint(struct kv *k, const char *key, unsigned long long val)
{
	char n[24];

	snprintf(n, sizeof(n), "%llu", val);
	kv_str(k, key, n);
}

void
kv_int(struct kv *k, const char *key, long long val)
{
	char n[24];

	snprintf(n, sizeof(n), "%lld", val);
	kv_str(k, key, n);
}

const char *
kv_line(const struct kv *k)
{
	return k->buf;
}

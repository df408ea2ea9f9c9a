/*
 * sbuf.c: growable NUL-terminated string buffer with JSON string escaping.
 * An allocation failure latches err; later appends do nothing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void
sbuf_init(struct sbuf *sb)
{
	sb->p = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->err = 0;
}

void
sbuf_free(struct sbuf *sb)
{
	free(sb->p);
	sbuf_init(sb);
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->p != NULL)
		sb->p[0] = '\0';
}

/* Make room for need more bytes plus the terminating NUL. */
static int
sbuf_grow(struct sbuf *sb, size_t need)
{
	size_t ncap;
	char *np;

	if (sb->err)
		return -1;
	if (need > SIZE_MAX / 2 - sb->len) {
		sb->err = 1;
		return -1;
	}
	if (sb->len + need + 1 <= sb->cap)
		return 0;
	ncap = sb->cap ? sb->cap : 64;
	while (ncap < sb->len + need + 1)
		ncap *= 2;
	if ((np = realloc(sb->p, ncap)) == NULL) {
		sb->err = 1;
		return -1;
	}
	sb->p = np;
	sb->cap = ncap;
	return 0;
}

int
sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	if (sbuf_grow(sb, len) == -1)
		return -1;
	if (len > 0)
		memcpy(sb->p + sb->len, data, len);
	sb->len += len;
	sb->p[sb->len] = '\0';
	return 0;
}

int
sbuf_puts(struct sbuf *sb, const char *s)
{
	return sbuf_add(sb, s, strlen(s));
}

int
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->err = 1;
		return -1;
	}
	if (sbuf_grow(sb, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

/* RFC 8259 section 7: quote, backslash and controls below 0x20 escaped. */
int
sbuf_json_str(struct sbuf *sb, const char *s)
{
	const unsigned char *c;
	char esc[8];

	if (sbuf_add(sb, "\"", 1) == -1)
		return -1;
	for (c = (const unsigned char *)s; *c != '\0'; c++) {
		switch (*c) {
		case '"':
			sbuf_add(sb, "\\\"", 2);
			break;
		case '\\':
			sbuf_add(sb, "\\\\", 2);
			break;
		case '\n':
			sbuf_add(sb, "\\n", 2);
			break;
		case '\r':
			sbuf_add(sb, "\\r", 2);
			break;
		case '\t':
			sbuf_add(sb, "\\t", 2);
			break;
		case '\b':
			sbuf_add(sb, "\\b", 2);
			break;
		case '\f':
			sbuf_add(sb, "\\f", 2);
			break;
		default:
			if (*c < 0x20 || *c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *c);
				sbuf_add(sb, esc, 6);
			} else
				sbuf_add(sb, c, 1);
		}
	}
	sbuf_add(sb, "\"", 1);
	return sb->err ? -1 : 0;
}

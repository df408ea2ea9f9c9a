/*
 * sbuf.c: growable NUL-terminated string buffer with JSON string escaping
 * and control-safe text escaping. An allocation failure latches err;
 * later appends do nothing.
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

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 section 4:
 * no overlongs, no surrogates, at most U+10FFFF), 0 if there is none.
 */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	/* The first continuation byte has the narrowed range. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void
json_u00(struct sbuf *sb, unsigned int c)
{
	char esc[8];

	snprintf(esc, sizeof(esc), "\\u%04x", c);
	sbuf_add(sb, esc, 6);
}

/* RFC 8259 section 7: quote, backslash and controls below 0x20 escaped;
 * DEL, C1 controls and ill-formed bytes too (see sbuf.h). */
int
sbuf_json_str(struct sbuf *sb, const char *s)
{
	const unsigned char *c;
	size_t n;

	if (sbuf_add(sb, "\"", 1) == -1)
		return -1;
	for (c = (const unsigned char *)s; *c != '\0'; c += n) {
		n = 1;
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
			if (*c < 0x20 || *c == 0x7f)
				json_u00(sb, *c);
			else if (*c < 0x80)
				sbuf_add(sb, c, 1);
			else if ((n = utf8_len(c)) == 0) {
				/* Not UTF-8: the byte as a Latin-1 code. */
				json_u00(sb, *c);
				n = 1;
			} else if (c[0] == 0xc2 && c[1] < 0xa0)
				json_u00(sb, c[1]); /* C1 control */
			else
				sbuf_add(sb, c, n);
		}
	}
	sbuf_add(sb, "\"", 1);
	return sb->err ? -1 : 0;
}

/* How byte c is shown in text: 1 as is, 2 as \\, 4 as \xNN. */
static size_t
text_width(unsigned char c)
{
	if (c == '\\')
		return 2;
	return c >= 0x20 && c < 0x7f ? 1 : 4;
}

static void
text_put(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	switch (text_width(c)) {
	case 1:
		out[0] = (char)c;
		break;
	case 2:
		out[0] = out[1] = '\\';
		break;
	default:
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 15];
	}
}

int
sbuf_text(struct sbuf *sb, const char *s)
{
	const unsigned char *c;
	char e[4];

	for (c = (const unsigned char *)s; *c != '\0'; c++) {
		text_put(e, *c);
		sbuf_add(sb, e, text_width(*c));
	}
	return sb->err ? -1 : 0;
}

char *
sbuf_text_copy(char *dst, size_t len, const char *s)
{
	const unsigned char *c;
	size_t off = 0, w;

	if (len == 0)
		return dst;
	for (c = (const unsigned char *)s; *c != '\0'; c++) {
		w = text_width(*c);
		if (off + w >= len)
			break;
		text_put(dst + off, *c);
		off += w;
	}
	dst[off] = '\0';
	return dst;
}

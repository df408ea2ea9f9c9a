/*
 * sbuf.h: growable string buffer for building text and JSON answers.
 * Allocation failure sets err and later appends become no-ops.
 */
#ifndef COMMON_SBUF_H
#define COMMON_SBUF_H

#include <stddef.h>

struct sbuf {
	char *p; /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	int err;
};

void sbuf_init(struct sbuf *);
void sbuf_free(struct sbuf *);
void sbuf_reset(struct sbuf *); /* len = 0, keeps memory */
int sbuf_add(struct sbuf *, const void *, size_t);
int sbuf_puts(struct sbuf *, const char *);
int sbuf_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included, escaped per RFC
 * 8259; C0 and C1 controls and bytes that are not UTF-8 become \u00XX,
 * so the result is valid UTF-8 and holds no terminal control. */
int sbuf_json_str(struct sbuf *, const char *s);
/*
 * Append s for text output (status, diff, logs): printable ASCII as is,
 * a backslash as \\, every other byte (controls, DEL, bytes >= 0x80)
 * as \xNN, so a name from the wire or a config cannot drive the
 * terminal or forge lines.
 */
int sbuf_text(struct sbuf *, const char *s);
/* The same into dst (always NUL-terminated, cut before an escape that
 * does not fit); returns dst, for printf arguments. */
char *sbuf_text_copy(char *dst, size_t len, const char *s);

#endif

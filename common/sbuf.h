/*
 * sbuf.h: growable string buffer for building text and JSON answers.
 * Allocation failure sets err and later appends become no-ops.
 */
#ifndef COMMON_SBUF_H
#define COMMON_SBUF_H

#include <stddef.h>

struct sbuf {
	char	*p;	/* always NUL-terminated once anything was added */
	size_t	 len;
	size_t	 cap;
	int	 err;
};

void	sbuf_init(struct sbuf *);
void	sbuf_free(struct sbuf *);
void	sbuf_reset(struct sbuf *);	/* len = 0, keeps memory */
int	sbuf_add(struct sbuf *, const void *, size_t);
int	sbuf_puts(struct sbuf *, const char *);
int	sbuf_printf(struct sbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included, escaped per RFC 8259. */
int	sbuf_json_str(struct sbuf *, const char *s);

#endif

/*
 * kv.h: log lines in one grammar, "event=NAME key=value ...": a value
 * with a space, a quote, a backslash, an equals sign or a control
 * character is quoted and escaped (docs/carpd.8, LOGGING).
 */
#ifndef COMMON_KV_H
#define COMMON_KV_H

#include <stddef.h>

#define KV_LINE 1024 /* longer lines end in "..." */

struct kv {
	char buf[KV_LINE];
	size_t len;
};

void kv_init(struct kv *, const char *event);
void kv_str(struct kv *, const char *key, const char *val);
void kv_uint(struct kv *, const char *key, unsigned long long val);
void kv_int(struct kv *, const char *key, long long val);
/* The line so far, NUL-terminated. */
const char *kv_line(const struct kv *);
/* Write val into out (cap bytes) as kv_str would: 0, or -1 if cut. */
int kv_quote(char *out, size_t cap, const char *val);

#endif

/*
 * prom.c: the Prometheus text exposition format (0.0.4): HELP and TYPE
 * lines, samples with escaped labels, counters kept apart from gauges.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"

void
prom_init(struct prom *p, struct sbuf *out)
{
	p->out = out;
	p->name[0] = '\0';
	p->err = 0;
}

static int
name_char(int c, int first, int colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

int
prom_valid_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) >= PROM_NAME_MAX)
		return 0;
	for (const char *c = s; *c != '\0'; c++)
		if (!name_char((unsigned char)*c, c == s, 1))
			return 0;
	return 1;
}

int
prom_valid_label(const char *s)
{
	if (s == NULL || *s == '\0' || strncmp(s, "__", 2) == 0)
		return 0;
	for (const char *c = s; *c != '\0'; c++)
		if (!name_char((unsigned char)*c, c == s, 0))
			return 0;
	return 1;
}

/* Backslash and newline always; the quote in label values only. */
static void
escape(struct sbuf *b, const char *s, int quote)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\' && *s != '\n' && !(quote && *s == '"'))
			continue;
		sbuf_add(b, run, (size_t)(s - run));
		sbuf_puts(b,
		    *s == '\\'	   ? "\\\\" :
			*s == '\n' ? "\\n" :
				     "\\\"");
		run = s + 1;
	}
	sbuf_add(b, run, (size_t)(s - run));
}

void
prom_label_value(struct sbuf *b, const char *s)
{
	escape(b, s, 1);
}

void
prom_help_text(struct sbuf *b, const char *s)
{
	escape(b, s, 0);
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

int
prom_family(struct prom *p, const char *name, enum prom_type type,
    const char *help)
{
	if (p->err)
		return -1;
	if (!prom_valid_name(name) ||
	    (type == PROM_COUNTER) != (has_suffix(name, "_total"))) {
		p->err = 1;
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	sbuf_printf(p->out, "# HELP %s ", name);
	prom_help_text(p->out, help);
	sbuf_printf(p->out, "\n# TYPE %s %s\n", name,
	    type == PROM_COUNTER ? "counter" : "gauge");
	return p->out->err ? -1 : 0;
}

/* The name and the labels of a sample, up to the blank before the value. */
static int
sample_head(struct prom *p, va_list ap)
{
	const char *k, *v;
	int n = 0;

	if (p->err || p->name[0] == '\0') {
		p->err = 1;
		return -1;
	}
	sbuf_puts(p->out, p->name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (!prom_valid_label(k) || v == NULL) {
			p->err = 1;
			return -1;
		}
		sbuf_printf(p->out, "%s%s=\"", n++ ? "," : "{", k);
		prom_label_value(p->out, v);
		sbuf_puts(p->out, "\"");
	}
	sbuf_puts(p->out, n ? "} " : " ");
	return 0;
}

int
prom_u64(struct prom *p, uint64_t value, ...)
{
	va_list ap;
	int rv;

	va_start(ap, value);
	rv = sample_head(p, ap);
	va_end(ap);
	if (rv == -1)
		return -1;
	sbuf_printf(p->out, "%llu\n", (unsigned long long)value);
	return p->out->err ? -1 : 0;
}

int
prom_f64(struct prom *p, double value, ...)
{
	va_list ap;
	int rv;

	va_start(ap, value);
	rv = sample_head(p, ap);
	va_end(ap);
	if (rv == -1)
		return -1;
	if (isnan(value))
		sbuf_puts(p->out, "NaN\n");
	else if (isinf(value))
		sbuf_puts(p->out, value > 0 ? "+Inf\n" : "-Inf\n");
	else
		sbuf_printf(p->out, "%.15g\n", value);
	return p->out->err ? -1 : 0;
}

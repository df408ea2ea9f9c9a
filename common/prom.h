/*
 * prom.h: the Prometheus text exposition format (version 0.0.4) writer
 * both daemons render their metrics with.
 */
#ifndef COMMON_PROM_H
#define COMMON_PROM_H

#include <stdint.h>

#include "sbuf.h"

/* The Content-Type of what this writer produces. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_NAME_MAX	  128

enum prom_type {
	PROM_COUNTER, /* only goes up; the name ends in _total */
	PROM_GAUGE,
};

/*
 * The writer: a family (HELP and TYPE lines) is opened with
 * prom_family(), then its samples follow. A sample always bears its
 * family's name, so every sample has HELP and TYPE. A bad metric or label
 * name, a counter not named *_total or a sample before any family latches
 * err and nothing more is written (a programming error: tests check err).
 */
struct prom {
	struct sbuf *out;
	char name[PROM_NAME_MAX]; /* the open family */
	int err;
};

void prom_init(struct prom *, struct sbuf *);
int
prom_family(struct prom *, const char *name, enum prom_type, const char *help);
/* The end of a sample's labels: a null pointer of the type they have. */
#define PROM_END ((const char *)NULL)

/* A sample of the open family; after the value, label name and value
 * pairs, then PROM_END. Label values are escaped (backslash, quote,
 * newline). A NULL label name ends the labels too (an unlabelled line of
 * a counter table). */
int prom_u64(struct prom *, uint64_t, ...) __attribute__((sentinel));
int prom_f64(struct prom *, double, ...) __attribute__((sentinel));
/* Escaping alone, for tests: a label value, and HELP text. */
void prom_label_value(struct sbuf *, const char *);
void prom_help_text(struct sbuf *, const char *);
/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*); a label name has no ':' and
 * does not start with "__". 1 if valid. */
int prom_valid_name(const char *);
int prom_valid_label(const char *);

#endif

/*
 * confout.h: writing a configuration back in the syntax common/conf.c
 * reads (the daemons' --check): words quoted when they must be.
 */
#ifndef COMMON_CONFOUT_H
#define COMMON_CONFOUT_H

#include <stdio.h>

/* "KEY VALUE\n", indented by a tab when indent; VALUE quoted if needed. */
void confout_kw(FILE *, int indent, const char *key, const char *val);
void confout_uint(FILE *, int indent, const char *key, unsigned long);
void confout_bool(FILE *, int indent, const char *key, int);
/* One word as conf.c reads it back. */
void confout_word(FILE *, const char *);

#endif

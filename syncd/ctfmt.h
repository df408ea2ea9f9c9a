/*
 * ctfmt.h: a state as text: one line in conntrack -L's own format, or one
 * JSON object with conntrack's names for the fields ("syncd dump").
 */
#ifndef SYNCD_CTFMT_H
#define SYNCD_CTFMT_H

#include "sbuf.h"
#include "sync_state.h"

/* Append st as conntrack -L prints it, newline included. */
void ctfmt_line(struct sbuf *, const struct ct_state *);
/* Append st as one JSON object and a newline; peer (may be NULL) is the
 * address of the peer the state came from. */
void ctfmt_json(struct sbuf *, const struct ct_state *, const char *peer);

#endif

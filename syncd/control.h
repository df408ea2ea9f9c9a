/*
 * control.h: syncd's control socket: status, commit, resync, diff and
 * the subscription carpd uses (demote and handover events).
 */
#ifndef SYNCD_CONTROL_H
#define SYNCD_CONTROL_H

#include "ct.h"
#include "syncd.h"

struct control;

struct control	*control_open(struct syncd *);
void		 control_set_ct(struct control *, struct ct_handle *);
/* Tell subscribers syncd is stopping, flush, return. */
void		 control_handover(struct control *);
void		 control_close(struct control *);

/* Status as JSON or text (also used by tests). */
void		 control_status(struct syncd *, struct ct_handle *, int json,
		    struct sbuf *);

#endif

/*
 * ct_msg.h: ctnetlink message encoding for ct.c (internal to syncd).
 * Parsing is public in ct.h; building lives here.
 */
#ifndef SYNCD_CT_MSG_H
#define SYNCD_CT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "sync_state.h"

/* Upper bound of one message built below (bytes, aligned). */
#define CT_MSG_MAX 1024

/* Default timeout for states imported without one (seconds). */
#define CT_DEFAULT_TIMEOUT 600

/* Status bits an imported state may carry; the kernel sets or refuses
 * the others (NAT bits come from CTA_NAT_*, EXPECTED from the master). */
#define CT_IMPORT_STATUS (IPS_SEEN_REPLY | IPS_ASSURED | IPS_FIXED_TIMEOUT)

/* How ct_msg_state() builds the message. */
#define CT_BUILD_CREATE	   0x1 /* else: update of an existing one */
#define CT_BUILD_NO_STATUS 0x2 /* update: leave the status alone */
#define CT_BUILD_NO_HELPER 0x4 /* create: without the helper */
#define CT_BUILD_NO_MASTER 0x8 /* create: without the master */

/* Each builder writes one message at buf (at least CT_MSG_MAX bytes) and
 * returns its length. */
size_t ct_msg_state(void *buf, uint32_t seq, const struct ct_state *, int how);
size_t ct_msg_delete(void *buf, uint32_t seq, const struct ct_state *);
size_t ct_msg_expect(void *buf, uint32_t seq, const struct ct_expect *);
/* A dump request for subsys (NFNL_SUBSYS_CTNETLINK or _EXP). */
size_t ct_msg_dump(void *buf, uint32_t seq, uint8_t subsys, uint8_t type);

/* Does the state carry SNAT / DNAT (reply tuple not the plain inverse)? */
int ct_state_snat(const struct ct_state *);
int ct_state_dnat(const struct ct_state *);

#endif

/*
 * policy.h: what syncd sends to its peers and what it takes from them.
 * The send filter keeps this node's own traffic, protocols not synced
 * and ignored prefixes at home; the import policy bounds what a peer may
 * put into this node's kernel (zones, prefixes, mark and label bits,
 * helpers, timeouts, status, how many). The checks are pure functions
 * that name the reason of every refusal; callers count them.
 */
#ifndef SYNCD_POLICY_H
#define SYNCD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "sync_state.h"

enum pol_reason {
	POL_OK,
	POL_LOCAL,	   /* this node's own traffic */
	POL_PROTOCOL,	   /* protocol not in sync-protocols */
	POL_PREFIX,	   /* an address in an ignored prefix */
	POL_ZONE,	   /* zone not in import-zones */
	POL_MARK,	   /* mark bits outside import-mark-mask */
	POL_LABELS,	   /* label bits outside import-label-mask */
	POL_HELPER,	   /* helper not in import-helpers */
	POL_TIMEOUT,	   /* timeout over import-timeout-max */
	POL_FIXED_TIMEOUT, /* IPS_FIXED_TIMEOUT without permission */
	POL_MAX_STATES,	   /* the peer holds import-max-states */
	POL_EXPECT_HELPER, /* expectation of a helper not allowed */
	POL_EXPECT_FLAGS,  /* expectation flags not allowed */
	POL_MAX_EXPECT,	   /* the peer holds the most expectations */
	POL_COLLISION,	   /* commit: one of this node's own states */
	POL_NREASONS
};

/* Names for status (JSON keys) and logs. */
extern const char *const pol_reason_names[POL_NREASONS];

#define POL_MAXPREFIX  64
#define POL_MAXZONES   64
#define POL_MAXHELPERS 32
#define POL_MAXLOCAL   4096 /* addresses of this node */

/* Defaults (syncd.conf(5) says why). */
#define POL_TIMEOUT_MAX_DEFAULT 432000U /* 5 days */
#define POL_MAX_STATES_DEFAULT	1048576U
#define POL_EXPECT_MAX		4096U /* expectations per peer */
/* Expectation flags a peer may set: NF_CT_EXPECT_PERMANENT and
 * NF_CT_EXPECT_INACTIVE, as in-kernel helpers (SIP) set them; never
 * NF_CT_EXPECT_USERSPACE or unknown bits. */
#define POL_EXPECT_FLAGS_OK	0x3U

struct pol_prefix {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];
};

struct policy {
	/* Both ways. */
	uint8_t protos[32]; /* bitmap of IPPROTO_* synced */
	/* Send filter. */
	struct pol_prefix send_ignore[POL_MAXPREFIX];
	size_t nsend_ignore;
	/* Import policy. */
	struct pol_prefix import_ignore[POL_MAXPREFIX];
	size_t nimport_ignore;
	int zones_any;
	uint16_t zones[POL_MAXZONES];
	size_t nzones;
	uint32_t mark_mask;
	uint8_t label_mask[CT_LABELS_LEN];
	int helpers_auto; /* also those loaded here */
	char helpers[POL_MAXHELPERS][CT_HELPER_LEN];
	size_t nhelpers;
	uint32_t timeout_max; /* seconds */
	int fixed_timeout;    /* IPS_FIXED_TIMEOUT allowed */
	uint32_t max_states;  /* per peer */
};

/* This node's addresses (sorted), loopback aside (always local). */
struct pol_local {
	struct pol_prefix *addr; /* plen unused */
	size_t n;
};

/* The conntrack helpers this kernel has. */
struct pol_helpers {
	char name[POL_MAXHELPERS][CT_HELPER_LEN];
	size_t n;
};

void policy_init(struct policy *);
/*
 * Apply one keyword and its arguments (a syncd.conf line, or a
 * command-line option split at commas). Returns 1 when applied, 0 when
 * the keyword is not a policy keyword, -1 with err filled when the
 * arguments are bad. A keyword replaces what it set before.
 */
int policy_set(struct policy *, int argc, char *const *argv, char *err,
    size_t errlen);
/* The effective policy as syncd.conf lines. */
struct sbuf;
void policy_print(const struct policy *, struct sbuf *);

/* Send filter: POL_OK, or POL_LOCAL, POL_PROTOCOL, POL_PREFIX. */
enum pol_reason policy_send(const struct policy *, const struct pol_local *,
    const struct ct_state *);
/* Import policy for a state (not the per-peer maximum: the caller
 * knows the count). why (may be NULL) gets a line for the log, peer
 * strings escaped. */
enum pol_reason policy_import(const struct policy *, const struct pol_local *,
    const struct pol_helpers *, const struct ct_state *, char *why,
    size_t whylen);
enum pol_reason policy_import_expect(const struct policy *,
    const struct pol_helpers *, const struct ct_expect *, char *why,
    size_t whylen);
int policy_helper_ok(const struct policy *, const struct pol_helpers *,
    const char *name);

/* Whether a (family, 16-byte address) is this node's (loopback too). */
int
pol_local_has(const struct pol_local *, uint8_t family, const uint8_t *addr);
/* Replace the set (copied, sorted, duplicates dropped); -1 on ENOMEM. */
int pol_local_set(struct pol_local *, const struct pol_prefix *, size_t n);
void pol_local_free(struct pol_local *);
/* Read this node's interface addresses (getifaddrs). */
int pol_local_scan(struct pol_local *);

/*
 * Which conntrack helpers this kernel has: every nf_conntrack_NAME
 * module, loaded or built in, has a directory in sysmod (normally
 * /sys/module), and a helper module registers the helpers named in a
 * table here (nf_conntrack_h323: RAS, Q.931, H.245). Returns 0 or -1.
 */
int pol_helpers_scan(struct pol_helpers *, const char *sysmod);

#endif

/*
 * reload.h: syncd's configuration reload on SIGHUP. main.c reads the
 * file into a fresh struct syncd_conf as at start; reload.c compares it
 * with the running one and applies it: peers added and removed, the
 * send filter and import policy (syncd.conf(5), RELOAD).
 */
#ifndef SYNCD_RELOAD_H
#define SYNCD_RELOAD_H

#include <sys/socket.h>

#include <stddef.h>

#include "policy.h"
#include "syncd.h"

/* Settings only a restart changes, by keyword. */
enum fixed_setting {
	FIX_LISTEN,
	FIX_INTERFACE,
	FIX_PORT,
	FIX_KEY,
	FIX_MTU,
	FIX_STAGE,
	FIX_CONTROL,
	FIX_METRICS,
	FIX_USER,
	FIX_N
};

#define FIX_VALLEN 260

/* The settings a reload compares: the file's under the command line's,
 * as at start. */
struct syncd_conf {
	const char *file; /* the -c file */
	/* Fixed until a restart: the effective value as text ("" for
	 * none or the default), and the line of the file that gave it
	 * (0: not the file). */
	char fixed[FIX_N][FIX_VALLEN];
	int fixed_line[FIX_N];
	/* Changed at runtime. */
	struct sockaddr_storage peer[SYNCD_MAXPEERS];
	socklen_t peerlen[SYNCD_MAXPEERS];
	int npeers;
	struct policy policy;
};

/* The keyword of a fixed setting, and the other way (-1: not one). */
const char *reload_fixed_name(enum fixed_setting);
int reload_fixed_index(const char *keyword);

/* Start with the running settings (copied); 0 or -1. */
int reload_init(struct syncd *, const struct syncd_conf *);
void reload_free(struct syncd *);
/*
 * Apply c: refused whole (-1, err says why, nothing changed) when a
 * fixed setting differs or a new peer cannot be set up; else peers
 * removed and added, the policy replaced and held states checked
 * against it in the background, the changes logged. 0 or -1.
 */
int reload_apply(struct syncd *, const struct syncd_conf *c, char *err,
    size_t errlen);
/* A reload refused before reload_apply (the file did not parse):
 * logged and counted. */
void reload_refused(struct syncd *, const char *file, const char *err);

/* Pure parts (unit tests): the first fixed setting that differs (-1
 * with err "file:line: KEY cannot change on reload ...; restart syncd"),
 * and the policy keywords that differ, as lines "KEY ... (was: ...)"
 * (returns how many; which parts: *send, *import set). */
int reload_fixed_diff(const struct syncd_conf *run, const struct syncd_conf *c,
    char *err, size_t errlen);
struct sbuf;
int reload_policy_diff(const struct policy *run, const struct policy *c,
    struct sbuf *out, int *send, int *import);

#endif

/*
 * privdrop.h: running as an unprivileged user (--user) with only the
 * capabilities the daemons keep using: CAP_NET_ADMIN and CAP_NET_RAW.
 */
#ifndef COMMON_PRIVDROP_H
#define COMMON_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct privdrop_user {
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Look the user up: 0, or -1 with err set ("no such user"). */
int privdrop_lookup(const char *name, struct privdrop_user *, char *err,
    size_t errlen);
/*
 * Become the user: supplementary groups dropped, gid and uid changed,
 * the bounding set cleared, CAP_NET_ADMIN and CAP_NET_RAW kept effective
 * and permitted. ambient: also raise them as ambient capabilities, so
 * that programs the daemon runs (up/down scripts) keep the same two.
 * 0, or -1 with err set; on -1 the caller must not go on.
 */
int privdrop_to(const struct privdrop_user *, int ambient, char *err,
    size_t errlen);
/* Every descriptor from 3 up close-on-exec, also those inherited from
 * whoever started the daemon: the scripts it runs get 0, 1 and 2 only. */
void privdrop_cloexec_all(void);
/* chown path to the user (a socket file created before the drop). */
int privdrop_chown(const struct privdrop_user *, const char *path);

#endif

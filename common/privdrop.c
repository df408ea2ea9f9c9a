/*
 * privdrop.c: dropping root after the sockets are open (--user): the
 * user looked up, its uid and gid taken with libcap-ng keeping only
 * CAP_NET_ADMIN (addresses, macvlans, conntrack, socket buffers) and
 * CAP_NET_RAW (pcap and raw sockets reopened when an interface returns).
 */
#include <sys/prctl.h>

#include <linux/capability.h>
#include <linux/close_range.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

int
privdrop_lookup(const char *name, struct privdrop_user *u, char *err,
    size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	if (strlen(name) >= sizeof(u->name)) {
		snprintf(err, errlen, "user name too long: %s", name);
		return -1;
	}
	/* cppcheck-suppress getpwnamCalled ; one thread, before the loop */
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "user %s: %s", name,
		    errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 0;
}

int
privdrop_to(const struct privdrop_user *u, int ambient, char *err,
    size_t errlen)
{
	static const int keep[] = { CAP_NET_ADMIN, CAP_NET_RAW };
	int rc, set = CAPNG_EFFECTIVE | CAPNG_PERMITTED;

	if (ambient)
		set |= CAPNG_INHERITABLE;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, (capng_type_t)set, keep[0], keep[1],
		-1) == -1) {
		snprintf(err, errlen, "capng_updatev failed");
		return -1;
	}
	rc = capng_change_id((int)u->uid, (int)u->gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc != 0) {
		snprintf(err, errlen,
		    "changing to user %s (uid %u, gid %u) "
		    "failed (libcap-ng %d)%s",
		    u->name, (unsigned)u->uid, (unsigned)u->gid, rc,
		    geteuid() != 0 ? ": not root" : "");
		return -1;
	}
	/* What capng_change_id does is checked, not trusted. */
	if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid ||
	    getegid() != u->gid ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) ||
	    !capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN)) {
		snprintf(err, errlen, "user %s: the change did not take",
		    u->name);
		return -1;
	}
	for (size_t i = 0; ambient && i < sizeof(keep) / sizeof(keep[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
			(unsigned long)keep[i], 0UL, 0UL) == -1) {
			snprintf(err, errlen, "ambient capability %d: %s",
			    keep[i], strerror(errno));
			return -1;
		}
	return 0;
}

void
privdrop_cloexec_all(void)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Before Linux 5.11: one by one, as far as the limit goes. */
	for (int fd = 3; fd < 4096; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int
privdrop_chown(const struct privdrop_user *u, const char *path)
{
	return chown(path, u->uid, u->gid);
}

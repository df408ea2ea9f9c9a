/*
 * event.c: syncd's event log lines in the key=value grammar of
 * common/kv.h: peer state changes, bulk transfers, commits, reloads
 * (syncd(8), LOGGING). Each line ends in msg="...", the sentence it replaces.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kv.h"
#include "log.h"
#include "cache.h"
#include "syncd.h"

static void
finish(struct kv *k, int warn, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	kv_str(k, "msg", msg);
	if (warn)
		log_event(1, kv_line(k));
	else
		log_event(0, kv_line(k));
}

void
event_peer(const struct peer *p, const char *from, const char *to,
    const char *reason, const char *fmt, ...)
{
	struct kv k;
	va_list ap;

	kv_init(&k, "peer");
	kv_str(&k, "peer", p->name);
	kv_str(&k, "from", from);
	kv_str(&k, "to", to);
	kv_str(&k, "reason", reason);
	va_start(ap, fmt);
	finish(&k, strcmp(to, "down") == 0, fmt, ap);
	va_end(ap);
}

void
event_bulk(const struct peer *p, const char *dir, const char *state,
    long long states, long long ms, const char *fmt, ...)
{
	struct kv k;
	va_list ap;

	kv_init(&k, "bulk");
	kv_str(&k, "peer", p != NULL ? p->name : "");
	kv_str(&k, "dir", dir);
	kv_str(&k, "state", state);
	if (states >= 0)
		kv_int(&k, "states", states);
	if (ms >= 0)
		kv_int(&k, "ms", ms);
	va_start(ap, fmt);
	finish(&k, strstr(state, "failed") != NULL, fmt, ap);
	va_end(ap);
}

void
event_commit(long states, double ms, size_t imported,
    unsigned long long refused, const char *fmt, ...)
{
	struct kv k;
	va_list ap;

	kv_init(&k, "commit");
	kv_int(&k, "states", states);
	kv_int(&k, "ms", (long long)(ms + 0.5));
	kv_uint(&k, "imported", imported);
	kv_uint(&k, "refused", refused);
	va_start(ap, fmt);
	finish(&k, refused > 0, fmt, ap);
	va_end(ap);
}

void
event_reload(const char *result, const char *file, int added, int removed,
    int policy, const char *error, const char *fmt, ...)
{
	struct kv k;
	va_list ap;

	kv_init(&k, "reload");
	kv_str(&k, "result", result);
	kv_str(&k, "file", file != NULL ? file : "");
	if (error == NULL) {
		kv_int(&k, "peers_added", added);
		kv_int(&k, "peers_removed", removed);
		kv_int(&k, "policy_changed", policy);
	} else
		kv_str(&k, "error", error);
	va_start(ap, fmt);
	finish(&k, error != NULL, fmt, ap);
	va_end(ap);
}

/* systemd's STATUS=: "2 peers in sync, 1234 internal, 5678 external
 * states" (and the first bulk while it is pending). */
void
event_status_line(char *buf, size_t len, void *arg)
{
	const struct syncd *sd = arg;
	char why[128];
	int n = 0;

	for (int i = 0; i < sd->npeers; i++)
		if (peer_in_sync(sd->peers[i], why, sizeof(why)))
			n++;
	snprintf(buf, len,
	    "%d of %d peers in sync, %zu internal, %zu "
	    "external states%s",
	    n, sd->npeers, cache_count(sd->internal), engine_external(sd),
	    sd->first_bulk == FIRST_BULK_PENDING ?
		", first bulk pending" :
		"");
}

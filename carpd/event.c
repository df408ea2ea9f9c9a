/*
 * event.c: carpd's event log lines in the key=value grammar of common/kv.h
 * (event=transition, event=demote, event=reload, event=reload-change),
 * with the stable cause tokens derived from the state machine's reasons;
 * the grammar is in carpd(8), LOGGING.
 */
#include <stdio.h>
#include <string.h>

#include "carpd.h"
#include "kv.h"
#include "log.h"
#include "notify.h"

/* clang-format off */
static const struct {
	const char	*reason;	/* fsm.c's text, or its start */
	const char	*cause;
} causes[] = {
	{ "master timed out",			"master-down" },
	{ "master will time out",		"master-down" },
	{ "master bowed out",			"bowout" },
	{ "master released the vhid",		"release" },
	{ "removed from the configuration",	"removed" },
	{ "preempting a slower master",		"preempt" },
	{ "master is more demoted",		"demoted-master" },
	{ "less demoted master seen",		"better-master" },
	{ "more frequent advertisement received", "better-master" },
	{ "better master heard during commit",	"better-master" },
	{ "initialization complete",		"init" },
	{ "interface down",			"link-down" },
	{ "shutdown",				"shutdown" },
	{ "handover",				"handover" },
	{ "start",				"start" },
	{ "with vhid ",				"group" },
	{ "group",				"group" },
};
/* clang-format on */

/* The stable token for a reason of the state machine; "other" if new. */
const char *
carpd_cause(const char *reason)
{
	if (reason == NULL)
		return "other";
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
		if (strncmp(reason, causes[i].reason,
			strlen(causes[i].reason)) == 0)
			return causes[i].cause;
	return "other";
}

void
carpd_log_transition(const struct vh *v, enum carp_state from,
    const char *reason)
{
	char msg[256];
	struct kv k;

	snprintf(msg, sizeof(msg), "vhid %u on %s: %s -> %s (%s)",
	    v->fsm.cfg.vhid, v->ifname, carp_state_names[from],
	    carp_state_names[v->fsm.state], reason != NULL ? reason : "");
	kv_init(&k, "transition");
	kv_uint(&k, "vhid", v->fsm.cfg.vhid);
	kv_str(&k, "iface", v->ifname);
	kv_str(&k, "from", carp_state_names[from]);
	kv_str(&k, "to", carp_state_names[v->fsm.state]);
	kv_str(&k, "cause", carpd_cause(reason));
	kv_uint(&k, "demote", carpd->demote);
	kv_str(&k, "reason", reason != NULL ? reason : "");
	kv_str(&k, "msg", msg);
	log_event(0, kv_line(&k));
	notify_kick();
}

void
carpd_log_demote(unsigned int from, unsigned int to)
{
	char msg[160];
	struct kv k;

	snprintf(msg, sizeof(msg), "demotion %u -> %u", from, to);
	carpd->demote = to; /* for the status line */
	kv_init(&k, "demote");
	kv_uint(&k, "from", from);
	kv_uint(&k, "to", to);
	for (int i = 0; i < DEM_MAX; i++)
		kv_uint(&k, carpd_dem_names[i], carpd->dem[i]);
	kv_str(&k, "msg", msg);
	log_event(0, kv_line(&k));
	notify_kick();
}

void
carpd_log_change(const char *object, const char *name, const char *iface,
    const char *action, const char *what, const char *msg)
{
	struct kv k;

	kv_init(&k, "reload-change");
	kv_str(&k, "object", object);
	kv_str(&k, "name", name);
	if (iface != NULL)
		kv_str(&k, "iface", iface);
	kv_str(&k, "action", action);
	if (what != NULL && what[0] != '\0')
		kv_str(&k, "what", what);
	kv_str(&k, "msg", msg);
	log_event(0, kv_line(&k));
}

static void
reload_counts_kv(struct kv *k, const struct reload_counts *n)
{
	kv_uint(k, "vhids_added", (unsigned int)n->vh_added);
	kv_uint(k, "vhids_removed", (unsigned int)n->vh_removed);
	kv_uint(k, "vhids_changed", (unsigned int)n->vh_changed);
	kv_uint(k, "vhids_restarted", (unsigned int)n->vh_restarted);
	kv_uint(k, "vhids_unchanged", (unsigned int)n->vh_unchanged);
	kv_uint(k, "checks_added", (unsigned int)n->chk_added);
	kv_uint(k, "checks_removed", (unsigned int)n->chk_removed);
	kv_uint(k, "checks_changed", (unsigned int)n->chk_changed);
	kv_uint(k, "checks_unchanged", (unsigned int)n->chk_unchanged);
	kv_uint(k, "settings_changed", (unsigned int)n->settings_changed);
	kv_uint(k, "not_applied", (unsigned int)n->not_applied);
}

void
carpd_log_reload_ok(const char *file, const struct reload_counts *n)
{
	char msg[CARPD_RELOAD_ERRLEN];
	struct kv k;

	snprintf(msg, sizeof(msg), "configuration reloaded from %s", file);
	kv_init(&k, "reload");
	kv_str(&k, "result", "ok");
	kv_str(&k, "file", file);
	reload_counts_kv(&k, n);
	kv_str(&k, "msg", msg);
	log_event(0, kv_line(&k));
	notify_kick();
}

void
carpd_log_reload_refused(const char *file, int line, const char *error)
{
	char msg[CARPD_RELOAD_ERRLEN + 64];
	struct kv k;

	snprintf(msg, sizeof(msg),
	    "reload refused, the running configuration stays: %s", error);
	kv_init(&k, "reload");
	kv_str(&k, "result", "refused");
	kv_str(&k, "file", file);
	if (line > 0)
		kv_uint(&k, "line", (unsigned int)line);
	kv_str(&k, "error", error);
	kv_str(&k, "msg", msg);
	log_event(1, kv_line(&k));
}

/* systemd's STATUS=: "vhid 1 MASTER, vhid 2 BACKUP, demote 0". */
void
carpd_status_line(char *buf, size_t len, void *arg)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < carpd->nvh && off < len; i++) {
		const struct vh *v = carpd->vh[i];
		int n;

		n = snprintf(buf + off, len - off, "vhid %u %s, ",
		    v->fsm.cfg.vhid, carp_state_names[v->fsm.state]);
		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (off < len)
		snprintf(buf + off, len - off, "demote %u", carpd->demote);
}

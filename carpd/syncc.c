/*
 * syncc.c: carpd as a client of syncd's control socket: subscribe to its
 * demotion and handover events, commit before takeover, resync after
 * stepping down, tell whether this node is master (docs/handshake.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carpd.h"
#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define SYNCC_QMAX nitems(carpd->sync_inflight)

int
syncc_commit_outstanding(void)
{
	return carpd->sync_commit_outstanding;
}

void
syncc_send(enum syncc_req kind, const char *req)
{
	if (carpd->sync == NULL || !carpd->sync_up ||
	    (size_t)carpd->sync_ninflight >= SYNCC_QMAX ||
	    ctl_client_send(carpd->sync, req) == -1) {
		if (kind == SYNCC_COMMIT) {
			snprintf(carpd->sync_last_commit,
			    sizeof(carpd->sync_last_commit),
			    "not sent: syncd not connected");
			log_warnx("syncd not connected: taking over without "
				  "a commit");
			carpd->sync_commit_fail++;
			carpd->sync_commit_outstanding = 0;
		}
		return;
	}
	carpd->sync_inflight[carpd->sync_ninflight++] = kind;
	if (kind == SYNCC_COMMIT)
		carpd->sync_commit_outstanding = 1;
}

/*
 * Tell syncd whether this node is master of any vhid (it carries traffic)
 * whenever that changes: syncd hands its states over to a peer that took
 * over only when this node no longer serves any (docs/handshake.md).
 */
void
syncc_role(void)
{
	int master = 0;

	if (carpd->sync == NULL || !carpd->sync_up)
		return;
	for (int i = 0; i < carpd->nvh && !master; i++)
		master = carpd->vh[i]->fsm.state == CARP_ST_MASTER;
	if (master == carpd->sync_role)
		return;
	carpd->sync_role = master;
	syncc_send(SYNCC_ROLE, master ? "role master" : "role backup");
}

static void
commit_done(void)
{
	carpd->sync_commit_outstanding = 0;
	for (int i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->fsm.pending)
			carpd_step(carpd->vh[i], FSM_EV_COMMIT, NULL);
}

static void
set_sync_demote(unsigned int n, const char *reason)
{
	snprintf(carpd->dem_sync_reason, sizeof(carpd->dem_sync_reason), "%s",
	    reason);
	carpd_set_demote(DEM_SYNC, n);
}

/* "demote N REASON" or "handover" (docs/handshake.md). */
static void
syncc_event(const char *body, size_t len)
{
	static const char demote[] = "demote ";
	const size_t dl = sizeof(demote) - 1;
	char buf[256], *p, *end;
	unsigned long n;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, body, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strncmp(buf, demote, dl) == 0) {
		errno = 0;
		n = strtoul(buf + dl, &end, 10);
		if (errno != 0 || end == buf + dl || n > CARP_DEMOTE_MAX) {
			log_warnx("syncd: bad event \"%s\"", buf);
			return;
		}
		p = end + strspn(end, " ");
		carpd->sync_handed_over = 0;
		set_sync_demote((unsigned int)n, *p ? p : "syncd");
	} else if (strcmp(buf, "handover") == 0) {
		log_info("syncd hands over: giving mastership away");
		/* Stay demoted until syncd is back and says otherwise. */
		carpd->sync_handed_over = 1;
		set_sync_demote(CARP_DEMOTE_SYNC, "syncd handed over");
		for (int i = 0; i < carpd->nvh; i++)
			carpd_step(carpd->vh[i], FSM_EV_HANDOVER, NULL);
	} else
		log_debug("syncd: unknown event \"%s\"", buf);
}

static void
syncc_on_message(struct ctl_client *cl, int type, const char *body, size_t len,
    void *arg)
{
	enum syncc_req kind;

	if (type == CTL_EVENT) {
		syncc_event(body, len);
		return;
	}
	if (carpd->sync_ninflight == 0) {
		log_debug("syncd: unexpected answer");
		return;
	}
	kind = carpd->sync_inflight[0];
	for (int i = 1; i < carpd->sync_ninflight; i++)
		carpd->sync_inflight[i - 1] = carpd->sync_inflight[i];
	carpd->sync_ninflight--;
	switch (kind) {
	case SYNCC_SUBSCRIBE:
		if (type != CTL_OK)
			log_warnx("syncd refused subscribe: %.*s", (int)len,
			    body);
		break;
	case SYNCC_COMMIT:
		snprintf(carpd->sync_last_commit,
		    sizeof(carpd->sync_last_commit), "%s%.*s",
		    type == CTL_OK ? "" : "error: ",
		    (int)(len > 120 ? 120 : len), body);
		if (type == CTL_OK) {
			carpd->sync_commits++;
			log_info("syncd: %s", carpd->sync_last_commit);
		} else {
			carpd->sync_commit_fail++;
			log_warnx("syncd commit failed (%s): taking over "
				  "anyway",
			    carpd->sync_last_commit);
		}
		commit_done();
		break;
	case SYNCC_RESYNC:
		break;
	case SYNCC_ROLE:
		if (type != CTL_OK)
			log_warnx("syncd refused role: %.*s", (int)len, body);
		break;
	}
}

static void
syncc_connect(void)
{
	if (ctl_client_connect(carpd->sync) == -1 && errno != EINPROGRESS) {
		ev_timer_arm(carpd->sync_retry, CARPD_SYNC_RETRY_NS);
		return;
	}
	if (!carpd->sync_up)
		log_info("connected to syncd at %s", carpd->sync_path);
	carpd->sync_up = 1;
	carpd->sync_ninflight = 0;
	carpd->sync_role = -1;
	syncc_send(SYNCC_SUBSCRIBE, "subscribe");
	syncc_role();
}

static void
syncc_retry(struct ev_timer *t, void *arg)
{
	syncc_connect();
}

static void
syncc_on_down(struct ctl_client *cl, void *arg)
{
	if (carpd->sync_up)
		log_warnx("syncd connection lost; reconnecting every second");
	carpd->sync_up = 0;
	carpd->sync_ninflight = 0;
	/* After a handover syncd stopped on purpose: stay out of the way
	 * until it is back (docs/handshake.md), not just "down" (1). */
	if (carpd->sync_handed_over)
		set_sync_demote(CARP_DEMOTE_SYNC,
		    "syncd away after its handover");
	else
		set_sync_demote(1, "syncd down");
	if (carpd->sync_commit_outstanding) {
		snprintf(carpd->sync_last_commit,
		    sizeof(carpd->sync_last_commit), "error: connection lost");
		carpd->sync_commit_fail++;
		commit_done();
	}
	if (!carpd->shutting_down)
		ev_timer_arm(carpd->sync_retry, CARPD_SYNC_RETRY_NS);
}

/* Start the client: connect now or retry every second. */
int
syncc_start(void)
{
	if ((carpd->sync = ctl_client_new(carpd->loop, carpd->sync_path,
		 syncc_on_message, syncc_on_down, NULL)) == NULL ||
	    (carpd->sync_retry = ev_timer_new(carpd->loop, syncc_retry,
		 NULL)) == NULL)
		return -1;
	syncc_connect();
	return 0;
}

/*
 * syncc.c: carpd as a client of syncd's control socket: subscribe to its
 * demotion and handover events, commit before takeover, resync after
 * stepping down (docs/handshake.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carpd.h"
#include "ctl.h"
#include "ev.h"
#include "log.h"

static int commit_outstanding;
static int handed_over;		/* until syncd's next demote event */

int
sync_commit_outstanding(void)
{
	return commit_outstanding;
}

void
sync_send(int kind, const char *req)
{
	if (carpd->sync == NULL || !carpd->sync_up ||
	    carpd->sync_qn >= (int)(sizeof(carpd->sync_q) /
	    sizeof(carpd->sync_q[0])) ||
	    ctl_client_send(carpd->sync, req) == -1) {
		if (kind == SQ_COMMIT) {
			snprintf(carpd->sync_last, sizeof(carpd->sync_last),
			    "not sent: syncd not connected");
			log_warnx("syncd not connected: taking over without "
			    "a commit");
			carpd->sync_commit_fail++;
			commit_outstanding = 0;
		}
		return;
	}
	carpd->sync_q[carpd->sync_qn++] = kind;
	if (kind == SQ_COMMIT)
		commit_outstanding = 1;
}

static void
commit_done(void)
{
	int i;

	commit_outstanding = 0;
	for (i = 0; i < carpd->nvh; i++)
		if (carpd->vh[i]->fsm.pending)
			carpd_step(carpd->vh[i], FSM_EV_COMMIT, NULL);
}

static void
sync_event(const char *body, size_t len)
{
	char buf[256], *p, *end;
	unsigned long n;
	int i;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, body, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strncmp(buf, "demote ", 7) == 0) {
		errno = 0;
		n = strtoul(buf + 7, &end, 10);
		if (errno != 0 || end == buf + 7 || n > 255) {
			log_warnx("syncd: bad event \"%s\"", buf);
			return;
		}
		p = end + strspn(end, " ");
		handed_over = 0;
		snprintf(carpd->dem_sync_buf, sizeof(carpd->dem_sync_buf),
		    "%s", *p ? p : "syncd");
		carpd_set_demote(DEM_SYNC, (unsigned int)n);
	} else if (strcmp(buf, "handover") == 0) {
		log_info("syncd hands over: giving mastership away");
		/* Stay demoted until syncd is back and says otherwise. */
		handed_over = 1;
		snprintf(carpd->dem_sync_buf, sizeof(carpd->dem_sync_buf),
		    "syncd handed over");
		carpd_set_demote(DEM_SYNC, 32);
		for (i = 0; i < carpd->nvh; i++)
			carpd_step(carpd->vh[i], FSM_EV_HANDOVER, NULL);
	} else
		log_debug("syncd: unknown event \"%s\"", buf);
}

static void
sync_msg(struct ctl_client *cl, int type, const char *body, size_t len,
    void *arg)
{
	int kind, i;

	(void)cl;
	(void)arg;
	if (type == CTL_EVENT) {
		sync_event(body, len);
		return;
	}
	if (carpd->sync_qn == 0) {
		log_debug("syncd: unexpected answer");
		return;
	}
	kind = carpd->sync_q[0];
	for (i = 1; i < carpd->sync_qn; i++)
		carpd->sync_q[i - 1] = carpd->sync_q[i];
	carpd->sync_qn--;
	switch (kind) {
	case SQ_SUBSCRIBE:
		if (type != CTL_OK)
			log_warnx("syncd refused subscribe: %.*s", (int)len,
			    body);
		break;
	case SQ_COMMIT:
		snprintf(carpd->sync_last, sizeof(carpd->sync_last), "%s%.*s",
		    type == CTL_OK ? "" : "error: ",
		    (int)(len > 120 ? 120 : len), body);
		if (type == CTL_OK) {
			carpd->sync_commits++;
			log_info("syncd: %s", carpd->sync_last);
		} else {
			carpd->sync_commit_fail++;
			log_warnx("syncd commit failed (%s): taking over "
			    "anyway", carpd->sync_last);
		}
		commit_done();
		break;
	case SQ_RESYNC:
		break;
	}
}

static void
sync_retry_cb(struct ev_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	sync_connect();
}

static void
sync_down(struct ctl_client *cl, void *arg)
{
	(void)cl;
	(void)arg;
	if (carpd->sync_up)
		log_warnx("syncd connection lost; reconnecting every second");
	carpd->sync_up = 0;
	carpd->sync_qn = 0;
	if (handed_over) {
		/* It stopped on purpose: stay out of the way until it is
		 * back (docs/handshake.md), not just "down" (1). */
		snprintf(carpd->dem_sync_buf, sizeof(carpd->dem_sync_buf),
		    "syncd away after its handover");
		carpd_set_demote(DEM_SYNC, 32);
	} else {
		snprintf(carpd->dem_sync_buf, sizeof(carpd->dem_sync_buf),
		    "syncd down");
		carpd_set_demote(DEM_SYNC, 1);
	}
	if (commit_outstanding) {
		snprintf(carpd->sync_last, sizeof(carpd->sync_last),
		    "error: connection lost");
		carpd->sync_commit_fail++;
		commit_done();
	}
	if (!carpd->shutting_down)
		ev_timer_arm(carpd->sync_retry, 1000000000ULL);
}

void
sync_connect(void)
{
	if (ctl_client_connect(carpd->sync) == -1 && errno != EINPROGRESS) {
		ev_timer_arm(carpd->sync_retry, 1000000000ULL);
		return;
	}
	if (!carpd->sync_up)
		log_info("connected to syncd at %s", carpd->sync_path);
	carpd->sync_up = 1;
	carpd->sync_qn = 0;
	sync_send(SQ_SUBSCRIBE, "subscribe");
}

/* Start the client: connect now or retry every second. */
int
sync_start(void)
{
	if ((carpd->sync = ctl_client_new(carpd->loop, carpd->sync_path,
	    sync_msg, sync_down, NULL)) == NULL ||
	    (carpd->sync_retry = ev_timer_new(carpd->loop, sync_retry_cb,
	    NULL)) == NULL)
		return -1;
	sync_connect();
	return 0;
}

/*
 * notify.c: readiness, status and watchdog for systemd through libsystemd's
 * sd_notify (Type=notify units). One timer: it sends a changed status at
 * most once a second and pings WATCHDOG=1 at half of WATCHDOG_USEC. When
 * NOTIFY_SOCKET is unset nothing is sent and no timer runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "ev.h"
#include "log.h"
#include "notify.h"

#define STATUS_LEN 256

static struct {
	int enabled;
	int ready;
	uint64_t watchdog_ns; /* ping interval; 0: none */
	uint64_t last_ping_ns;
	uint64_t last_status_ns;
	char sent[STATUS_LEN]; /* last STATUS= */
	notify_status_cb cb;
	void *arg;
	struct ev_timer *timer;
} nt;

static void
send_line(const char *what)
{
	if (sd_notify(0, what) < 0)
		log_debug("sd_notify %s failed", what);
}

/* Send the status when it changed; force: also within the second. */
static void
status_flush(uint64_t now, int force)
{
	char cur[STATUS_LEN], line[STATUS_LEN + 16];

	if (nt.cb == NULL)
		return;
	nt.cb(cur, sizeof(cur), nt.arg);
	if (strcmp(cur, nt.sent) == 0)
		return;
	if (!force && nt.last_status_ns != 0 &&
	    now - nt.last_status_ns < NOTIFY_STATUS_NS)
		return;
	snprintf(line, sizeof(line), "STATUS=%s", cur);
	send_line(line);
	memcpy(nt.sent, cur, sizeof(nt.sent));
	nt.last_status_ns = now;
}

/* The next tick: in a second (the status poll), or the watchdog's ping
 * when that comes first. */
static void
rearm(void)
{
	uint64_t now = ev_now_ns(), next = now + NOTIFY_STATUS_NS;

	if (nt.watchdog_ns != 0 && nt.last_ping_ns + nt.watchdog_ns < next)
		next = nt.last_ping_ns + nt.watchdog_ns;
	if (next <= now)
		next = now + 1000000; /* 1 ms: never spin */
	ev_timer_arm_at(nt.timer, next);
}

static void
on_timer(struct ev_timer *t, void *arg)
{
	uint64_t now = ev_now_ns();

	if (nt.watchdog_ns != 0 && now - nt.last_ping_ns >= nt.watchdog_ns) {
		send_line("WATCHDOG=1");
		nt.last_ping_ns = now;
	}
	status_flush(now, 0);
	rearm();
}

int
notify_start(struct ev_loop *loop, notify_status_cb cb, void *arg)
{
	uint64_t usec = 0;
	const char *s = getenv("NOTIFY_SOCKET");

	if (s == NULL || *s == '\0')
		return 0;
	nt.enabled = 1;
	nt.cb = cb;
	nt.arg = arg;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		nt.watchdog_ns = usec * 1000ULL / 2;
	if ((nt.timer = ev_timer_new(loop, on_timer, NULL)) == NULL)
		return -1;
	nt.last_ping_ns = ev_now_ns();
	if (nt.watchdog_ns != 0) {
		send_line("WATCHDOG=1");
		log_info("systemd watchdog: a ping every %llu ms",
		    (unsigned long long)(nt.watchdog_ns / 1000000));
	}
	rearm();
	return 0;
}

void
notify_stop(void)
{
	if (nt.timer != NULL)
		ev_timer_free(nt.timer);
	nt.timer = NULL;
	nt.cb = NULL;
}

void
notify_ready(void)
{
	if (nt.ready)
		return;
	nt.ready = 1;
	if (!nt.enabled)
		return;
	/* The status first when the rate allows it, else at the next tick. */
	status_flush(ev_now_ns(), 0);
	send_line("READY=1");
}

int
notify_is_ready(void)
{
	return nt.ready;
}

void
notify_kick(void)
{
	if (nt.enabled && nt.timer != NULL)
		status_flush(ev_now_ns(), 0);
}

void
notify_stopping(void)
{
	if (nt.enabled)
		send_line("STOPPING=1");
}

/*
 * notify.h: systemd's service notification (sd_notify): READY=1, STATUS=
 * lines kept current (at most one a second), WATCHDOG=1 pings from the
 * event loop, STOPPING=1. Without NOTIFY_SOCKET every call does nothing.
 */
#ifndef COMMON_NOTIFY_H
#define COMMON_NOTIFY_H

#include <stddef.h>

struct ev_loop;

/* Writes the current status line into buf (len bytes). */
typedef void (*notify_status_cb)(char *buf, size_t len, void *arg);

#define NOTIFY_STATUS_NS 1000000000ULL /* at most one STATUS= a second */

/* Start: a timer on loop refreshes the status (if cb) and pings the
 * watchdog (if WATCHDOG_USEC asks for it, at half its interval). 0 or -1. */
int notify_start(struct ev_loop *, notify_status_cb cb, void *arg);
void notify_stop(void);
/* READY=1 with the current status; once. */
void notify_ready(void);
int notify_is_ready(void);
/* The status changed: sent now, or within a second. */
void notify_kick(void);
void notify_stopping(void);

#endif

/*
 * ev.h: one epoll event loop per process.
 * fd callbacks, CLOCK_MONOTONIC timers, signals through signalfd.
 */
#ifndef COMMON_EV_H
#define COMMON_EV_H

#include <stdint.h>

struct ev_loop;
struct ev_timer;

#define EV_READ	 0x1
#define EV_WRITE 0x2

typedef void (*ev_fd_cb)(int fd, int events, void *arg);
typedef void (*ev_timer_cb)(struct ev_timer *, void *arg);
typedef void (*ev_signal_cb)(int signo, void *arg);

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). */
uint64_t ev_now_ns(void);

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *);

/* Register fd for events (EV_READ|EV_WRITE); re-adding an fd changes its
 * mask and callback. Returns 0 or -1 with errno set. */
int ev_fd_add(struct ev_loop *, int fd, int events, ev_fd_cb, void *);
int ev_fd_mod(struct ev_loop *, int fd, int events);
int ev_fd_del(struct ev_loop *, int fd);

/* Timers: one-shot; re-arm from the callback for periodic ones.
 * A timer object is owned by the caller (ev_timer_new/free). Timers due at
 * the same instant fire in the order they were armed. */
struct ev_timer *ev_timer_new(struct ev_loop *, ev_timer_cb, void *);
void ev_timer_free(struct ev_timer *); /* cancels too */
void ev_timer_arm(struct ev_timer *, uint64_t delay_ns);
void ev_timer_arm_at(struct ev_timer *, uint64_t when_ns);
void ev_timer_cancel(struct ev_timer *);
int ev_timer_pending(const struct ev_timer *);
uint64_t ev_timer_when(const struct ev_timer *); /* 0 if idle */

/* Signals: blocked and delivered through one signalfd. */
int ev_signal_add(struct ev_loop *, int signo, ev_signal_cb, void *);

/* Run until ev_loop_break(); returns 0, or -1 on a fatal epoll error. */
int ev_loop_run(struct ev_loop *);
/* Run one iteration, waiting at most timeout_ms (-1 = until an event). */
int ev_loop_once(struct ev_loop *, int timeout_ms);
void ev_loop_break(struct ev_loop *);

#endif

/*
 * ev.c: the event loop: one epoll set per process, fd callbacks,
 * CLOCK_MONOTONIC one-shot timers in a sorted list, signals via signalfd.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"

/*
 * Each fd slot carries a generation number which is also stored in the
 * epoll data. An event collected by epoll_wait is dispatched only if the
 * slot still holds the same registration, so a callback may delete (and
 * even reuse) any fd while a batch is being dispatched.
 */
struct ev_fd {
	ev_fd_cb cb;
	void *arg;
	int events;
	uint32_t gen;
	int used;
};

/*
 * Timers live in a doubly linked list sorted by deadline; a new timer goes
 * after every timer with the same deadline, so equal deadlines fire in
 * arming order. seq tells timers armed during a dispatch round apart, so a
 * timer re-armed for "now" waits for the next round.
 */
struct ev_timer {
	struct ev_loop *loop;
	struct ev_timer *next, *prev;
	ev_timer_cb cb;
	void *arg;
	uint64_t when;
	uint64_t seq;
	int pending;
};

struct ev_sig {
	ev_signal_cb cb;
	void *arg;
};

struct ev_loop {
	int epfd;
	struct ev_fd *fds;
	int nfds;
	uint32_t gen;
	struct ev_timer *timers; /* sorted, earliest first */
	uint64_t seq;
	int sigfd;
	sigset_t sigmask;
	sigset_t oldmask;
	struct ev_sig sigs[_NSIG];
	int brk;
};

#define EV_MAXEVENTS 64
/* Registration generations run from 1 and wrap before this value. */
#define EV_GEN_WRAP  0xffffffffu

uint64_t
ev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct ev_loop *
ev_loop_new(void)
{
	struct ev_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(l);
		return NULL;
	}
	return l;
}

void
ev_loop_free(struct ev_loop *l)
{
	struct ev_timer *t;

	if (l == NULL)
		return;
	/* Detach remaining timers; their owners free them later. */
	while ((t = l->timers) != NULL) {
		l->timers = t->next;
		t->next = t->prev = NULL;
		t->pending = 0;
		t->loop = NULL;
	}
	if (l->sigfd != -1) {
		close(l->sigfd);
		sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	}
	close(l->epfd);
	free(l->fds);
	free(l);
}

static uint32_t
ev_epmask(int events)
{
	uint32_t m = 0;

	if (events & EV_READ)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & EV_WRITE)
		m |= EPOLLOUT;
	return m;
}

int
ev_fd_add(struct ev_loop *l, int fd, int events, ev_fd_cb cb, void *arg)
{
	struct epoll_event ee;
	struct ev_fd *nf;
	int n, op;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (fd >= l->nfds) {
		n = l->nfds ? l->nfds : 64;
		while (n <= fd)
			n *= 2;
		if ((nf = realloc(l->fds, (size_t)n * sizeof(*nf))) == NULL)
			return -1;
		memset(nf + l->nfds, 0, (size_t)(n - l->nfds) * sizeof(*nf));
		l->fds = nf;
		l->nfds = n;
	}
	op = l->fds[fd].used ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	memset(&ee, 0, sizeof(ee));
	ee.events = ev_epmask(events);
	if (op == EPOLL_CTL_ADD) {
		if (++l->gen == EV_GEN_WRAP)
			l->gen = 1;
		ee.data.u64 = (uint64_t)l->gen << 32 | (uint32_t)fd;
	} else
		ee.data.u64 = (uint64_t)l->fds[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, op, fd, &ee) == -1) {
		if (op != EPOLL_CTL_MOD || errno != ENOENT)
			return -1;
		/* Closed without ev_fd_del and the number reused. */
		op = EPOLL_CTL_ADD;
		if (++l->gen == EV_GEN_WRAP)
			l->gen = 1;
		ee.data.u64 = (uint64_t)l->gen << 32 | (uint32_t)fd;
		if (epoll_ctl(l->epfd, op, fd, &ee) == -1)
			return -1;
	}
	if (op == EPOLL_CTL_ADD)
		l->fds[fd].gen = l->gen;
	l->fds[fd].cb = cb;
	l->fds[fd].arg = arg;
	l->fds[fd].events = events;
	l->fds[fd].used = 1;
	return 0;
}

int
ev_fd_mod(struct ev_loop *l, int fd, int events)
{
	struct epoll_event ee;

	if (fd < 0 || fd >= l->nfds || !l->fds[fd].used) {
		errno = ENOENT;
		return -1;
	}
	if (l->fds[fd].events == events)
		return 0;
	memset(&ee, 0, sizeof(ee));
	ee.events = ev_epmask(events);
	ee.data.u64 = (uint64_t)l->fds[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) == -1)
		return -1;
	l->fds[fd].events = events;
	return 0;
}

int
ev_fd_del(struct ev_loop *l, int fd)
{
	if (fd < 0 || fd >= l->nfds || !l->fds[fd].used) {
		errno = ENOENT;
		return -1;
	}
	/* The fd may already be closed; the slot is freed regardless. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->fds[fd], 0, sizeof(l->fds[fd]));
	return 0;
}

struct ev_timer *
ev_timer_new(struct ev_loop *l, ev_timer_cb cb, void *arg)
{
	struct ev_timer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->loop = l;
	t->cb = cb;
	t->arg = arg;
	return t;
}

void
ev_timer_free(struct ev_timer *t)
{
	if (t == NULL)
		return;
	ev_timer_cancel(t);
	free(t);
}

void
ev_timer_cancel(struct ev_timer *t)
{
	struct ev_loop *l = t->loop;

	if (!t->pending || l == NULL)
		return;
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	t->pending = 0;
	t->when = 0;
}

void
ev_timer_arm_at(struct ev_timer *t, uint64_t when)
{
	struct ev_loop *l = t->loop;
	struct ev_timer *last = NULL;

	if (l == NULL)
		return;
	ev_timer_cancel(t);
	t->when = when;
	t->seq = l->seq++;
	for (struct ev_timer *p = l->timers; p != NULL && p->when <= when;
	     p = p->next)
		last = p;
	t->prev = last;
	if (last != NULL) {
		t->next = last->next;
		last->next = t;
	} else {
		t->next = l->timers;
		l->timers = t;
	}
	if (t->next != NULL)
		t->next->prev = t;
	t->pending = 1;
}

void
ev_timer_arm(struct ev_timer *t, uint64_t delay_ns)
{
	ev_timer_arm_at(t, ev_now_ns() + delay_ns);
}

int
ev_timer_pending(const struct ev_timer *t)
{
	return t->pending;
}

uint64_t
ev_timer_when(const struct ev_timer *t)
{
	return t->pending ? t->when : 0;
}

static void
ev_signal_read(int fd, int events, void *arg)
{
	struct ev_loop *l = arg;
	struct signalfd_siginfo si;
	ssize_t n;
	int signo;

	for (;;) {
		n = read(fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			break;
		signo = (int)si.ssi_signo;
		if (signo > 0 && signo < _NSIG && l->sigs[signo].cb != NULL)
			l->sigs[signo].cb(signo, l->sigs[signo].arg);
	}
}

int
ev_signal_add(struct ev_loop *l, int signo, ev_signal_cb cb, void *arg)
{
	sigset_t one, old;
	int fd;

	if (signo <= 0 || signo >= _NSIG || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, &old) == -1)
		return -1;
	if (l->sigfd == -1)
		l->oldmask = old;
	sigaddset(&l->sigmask, signo);
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -1;
	if (l->sigfd == -1) {
		l->sigfd = fd;
		if (ev_fd_add(l, fd, EV_READ, ev_signal_read, l) == -1) {
			close(fd);
			l->sigfd = -1;
			return -1;
		}
	}
	l->sigs[signo].cb = cb;
	l->sigs[signo].arg = arg;
	return 0;
}

/*
 * How long to wait: until the first timer, or timeout_ms (-1: forever),
 * whichever comes first; NULL to wait forever. Timers keep their
 * nanoseconds (epoll_pwait2): a 1 ms wait rounded up to the next
 * millisecond is two, and the callers' pacing (a batch of events each
 * millisecond, a CARP advertisement each 1/256 s) is that precise.
 */
static struct timespec *
ev_timeout(struct ev_loop *l, int timeout_ms, struct timespec *ts)
{
	uint64_t now, d, lim;

	if (l->timers == NULL && timeout_ms < 0)
		return NULL;
	lim = timeout_ms >= 0 ? (uint64_t)timeout_ms * 1000000ULL : UINT64_MAX;
	d = lim;
	if (l->timers != NULL) {
		now = ev_now_ns();
		d = l->timers->when <= now ? 0 : l->timers->when - now;
		if (d > lim)
			d = lim;
	}
	if (d > 86400ULL * 1000000000ULL)
		d = 86400ULL * 1000000000ULL;
	ts->tv_sec = (time_t)(d / 1000000000ULL);
	ts->tv_nsec = (long)(d % 1000000000ULL);
	return ts;
}

/* epoll_pwait2() where the kernel has it (5.11), else milliseconds,
 * rounded up. */
static int
ev_wait(struct ev_loop *l, struct epoll_event *ev, const struct timespec *ts)
{
	static int no_pwait2;
	int n, ms;

	if (!no_pwait2) {
		n = epoll_pwait2(l->epfd, ev, EV_MAXEVENTS, ts, NULL);
		if (n != -1 || errno != ENOSYS)
			return n;
		no_pwait2 = 1;
	}
	if (ts == NULL)
		ms = -1;
	else
		ms = (int)(ts->tv_sec * 1000 +
		    (ts->tv_nsec + 999999) / 1000000);
	return epoll_wait(l->epfd, ev, EV_MAXEVENTS, ms);
}

static void
ev_run_timers(struct ev_loop *l)
{
	struct ev_timer *t;
	uint64_t now = ev_now_ns(), limit = l->seq;

	/*
	 * Rescan from the head after every callback: it may have cancelled,
	 * freed or re-armed any timer. Timers armed during this round
	 * (seq >= limit) wait for the next one.
	 */
	for (;;) {
		for (t = l->timers; t != NULL && t->when <= now; t = t->next)
			if (t->seq < limit)
				break;
		if (t == NULL || t->when > now)
			return;
		ev_timer_cancel(t);
		t->cb(t, t->arg);
	}
}

int
ev_loop_once(struct ev_loop *l, int timeout_ms)
{
	struct epoll_event ev[EV_MAXEVENTS];
	struct timespec ts;
	struct ev_fd *f;
	uint32_t gen;
	int n, fd, events;

	n = ev_wait(l, ev, ev_timeout(l, timeout_ms, &ts));
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		log_warn("%s: epoll_wait", __func__);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		fd = (int)(uint32_t)ev[i].data.u64;
		gen = (uint32_t)(ev[i].data.u64 >> 32);
		if (fd < 0 || fd >= l->nfds)
			continue;
		f = &l->fds[fd];
		if (!f->used || f->gen != gen)
			continue;
		events = 0;
		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
			events |= EV_READ;
		if (ev[i].events & EPOLLOUT)
			events |= EV_WRITE;
		/* Errors and hangups go to whichever side is watched. */
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			events |= f->events ? f->events : EV_READ;
		events &= f->events ? f->events : EV_READ;
		if (events == 0)
			continue;
		f->cb(fd, events, f->arg);
	}
	ev_run_timers(l);
	return 0;
}

int
ev_loop_run(struct ev_loop *l)
{
	int rv = 0;

	while (!l->brk) {
		if (ev_loop_once(l, -1) == -1) {
			rv = -1;
			break;
		}
	}
	l->brk = 0;
	return rv;
}

void
ev_loop_break(struct ev_loop *l)
{
	l->brk = 1;
}

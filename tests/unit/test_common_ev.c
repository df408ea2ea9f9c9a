/*
 * test_common_ev.c: the event loop: timer order, cancellation, re-arming,
 * fd callbacks and removal during dispatch, signals, ev_loop_break.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ev.h"

#define MS 1000000ull

struct rec {
	int order[32];
	int n;
};

struct tctx {
	struct rec *rec;
	int id;
	struct ev_timer *other; /* cancelled by this one's callback */
	int rearm;		/* re-arm this many times */
};

static void
rec_cb(struct ev_timer *t, void *arg)
{
	struct tctx *c = arg;

	if (c->rec->n < 32)
		c->rec->order[c->rec->n++] = c->id;
	if (c->other != NULL)
		ev_timer_cancel(c->other);
	if (c->rearm > 0) {
		c->rearm--;
		ev_timer_arm(t, 1 * MS);
	}
}

/* Run the loop until nothing is pending or 2 s passed. */
static void
drain(struct ev_loop *l, struct ev_timer **t, int n)
{
	uint64_t end = ev_now_ns() + 2000 * MS;
	int i, busy;

	do {
		busy = 0;
		for (i = 0; i < n; i++)
			busy |= ev_timer_pending(t[i]);
		if (busy)
			ev_loop_once(l, 50);
	} while (busy && ev_now_ns() < end);
}

static void
test_timer_order(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct rec r = { .n = 0 };
	struct tctx c[6];
	struct ev_timer *t[6];
	uint64_t base = ev_now_ns();
	/* deadlines (ms) armed in this order */
	static const int when[6] = { 30, 10, 20, 10, 5, 20 };
	static const int expect[6] = { 4, 1, 3, 2, 5, 0 };
	int i;

	assert_non_null(l);
	for (i = 0; i < 6; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].rec = &r;
		c[i].id = i;
		t[i] = ev_timer_new(l, rec_cb, &c[i]);
		assert_non_null(t[i]);
		ev_timer_arm_at(t[i], base + (uint64_t)when[i] * MS);
		assert_true(ev_timer_pending(t[i]));
		assert_int_equal(ev_timer_when(t[i]),
		    base + (uint64_t)when[i] * MS);
	}
	drain(l, t, 6);
	assert_int_equal(r.n, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(r.order[i], expect[i]);
	for (i = 0; i < 6; i++) {
		assert_false(ev_timer_pending(t[i]));
		assert_int_equal(ev_timer_when(t[i]), 0);
		ev_timer_free(t[i]);
	}
	ev_loop_free(l);
}

static void
test_timer_cancel(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct rec r = { .n = 0 };
	struct tctx c[4];
	struct ev_timer *t[4];
	int i;

	for (i = 0; i < 4; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].rec = &r;
		c[i].id = i;
		t[i] = ev_timer_new(l, rec_cb, &c[i]);
	}
	/* 0 fires first and cancels 2, which is due at the same time as 1
	 * and later than 0; 3 is cancelled directly. */
	/* cppcheck-suppress unreadVariable ; rec_cb reads it through arg */
	c[0].other = t[2];
	ev_timer_arm(t[0], 2 * MS);
	ev_timer_arm(t[1], 5 * MS);
	ev_timer_arm(t[2], 5 * MS);
	ev_timer_arm(t[3], 3 * MS);
	ev_timer_cancel(t[3]);
	assert_false(ev_timer_pending(t[3]));
	drain(l, t, 4);
	/* Give a wrongly fired timer a chance to show up. */
	ev_loop_once(l, 20);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 1);
	for (i = 0; i < 4; i++)
		ev_timer_free(t[i]);
	ev_loop_free(l);
}

static void
test_timer_rearm(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct rec r = { .n = 0 };
	struct tctx c;
	struct ev_timer *t;

	memset(&c, 0, sizeof(c));
	c.rec = &r;
	c.id = 7;
	c.rearm = 3;
	t = ev_timer_new(l, rec_cb, &c);
	ev_timer_arm(t, 0);
	drain(l, &t, 1);
	assert_int_equal(r.n, 4);
	assert_int_equal(c.rearm, 0);
	ev_timer_free(t);
	ev_loop_free(l);
}

/* A timer that frees itself from its own callback. */
static void
self_free_cb(struct ev_timer *t, void *arg)
{
	int *fired = arg;

	(*fired)++;
	ev_timer_free(t);
}

static void
test_timer_self_free(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct ev_timer *t;
	int fired = 0, i;

	t = ev_timer_new(l, self_free_cb, &fired);
	ev_timer_arm(t, 0);
	for (i = 0; i < 10 && fired == 0; i++)
		ev_loop_once(l, 10);
	assert_int_equal(fired, 1);
	ev_loop_free(l);
}

struct fdctx {
	struct ev_loop *loop;
	int calls;
	int last_events;
	int kill_fd; /* fd to remove when called */
	char got;
};

static void
fd_cb(int fd, int events, void *arg)
{
	struct fdctx *c = arg;

	c->calls++;
	c->last_events = events;
	if (events & EV_READ)
		assert_int_equal(read(fd, &c->got, 1), 1);
	if (c->kill_fd >= 0)
		ev_fd_del(c->loop, c->kill_fd);
}

static void
test_fd_pipe(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct fdctx c = { .loop = l, .kill_fd = -1 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(ev_fd_add(l, p[0], EV_READ, fd_cb, &c), 0);
	ev_loop_once(l, 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	ev_loop_once(l, 1000);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.last_events, EV_READ);
	assert_int_equal(c.got, 'x');
	/* Write interest on the write end. */
	assert_int_equal(ev_fd_add(l, p[1], EV_WRITE, fd_cb, &c), 0);
	ev_loop_once(l, 1000);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.last_events, EV_WRITE);
	assert_int_equal(ev_fd_mod(l, p[1], 0), 0);
	ev_loop_once(l, 0);
	assert_int_equal(c.calls, 2);
	assert_int_equal(ev_fd_del(l, p[0]), 0);
	assert_int_equal(ev_fd_del(l, p[0]), -1);
	ev_fd_del(l, p[1]);
	close(p[0]);
	close(p[1]);
	ev_loop_free(l);
}

static void
test_fd_del_in_dispatch(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct fdctx a = { .loop = l, .kill_fd = -1 };
	struct fdctx b = { .loop = l, .kill_fd = -1 };
	int p[2], q[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(ev_fd_add(l, p[0], EV_READ, fd_cb, &a), 0);
	assert_int_equal(ev_fd_add(l, q[0], EV_READ, fd_cb, &b), 0);
	/* Whichever runs first removes the other (and itself). */
	a.kill_fd = q[0];
	b.kill_fd = p[0];
	assert_int_equal(write(p[1], "a", 1), 1);
	assert_int_equal(write(q[1], "b", 1), 1);
	ev_loop_once(l, 1000);
	assert_int_equal(a.calls + b.calls, 1);
	/* Data is still there but nobody is registered any more. */
	ev_loop_once(l, 10);
	assert_int_equal(a.calls + b.calls, 1);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	ev_loop_free(l);
}

/* An fd closed without ev_fd_del whose number comes back. */
static void
test_fd_reuse(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct fdctx c = { .loop = l, .kill_fd = -1 };
	int p[2], q[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(ev_fd_add(l, p[0], EV_READ, fd_cb, &c), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(q[0], p[0]);
	assert_int_equal(ev_fd_add(l, q[0], EV_READ, fd_cb, &c), 0);
	assert_int_equal(write(q[1], "y", 1), 1);
	ev_loop_once(l, 1000);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.got, 'y');
	ev_fd_del(l, q[0]);
	close(q[0]);
	close(q[1]);
	ev_loop_free(l);
}

static void
sig_cb(int signo, void *arg)
{
	int *got = arg;

	*got = signo;
}

static void
test_signal(void **state)
{
	struct ev_loop *l = ev_loop_new();
	int got = 0, i;

	assert_int_equal(ev_signal_add(l, SIGUSR1, sig_cb, &got), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	for (i = 0; i < 10 && got == 0; i++)
		ev_loop_once(l, 100);
	assert_int_equal(got, SIGUSR1);
	ev_loop_free(l);
}

struct brk {
	struct ev_loop *loop;
	int n;
};

static void
break_cb(struct ev_timer *t, void *arg)
{
	struct brk *b = arg;

	if (++b->n < 3)
		ev_timer_arm(t, 1 * MS);
	else
		ev_loop_break(b->loop);
}

static void
guard_cb(struct ev_timer *t, void *arg)
{
	/* Only reached when ev_loop_break did not stop the loop. */
	fail_msg("ev_loop_run did not return after ev_loop_break");
}

static void
test_loop_break(void **state)
{
	struct ev_loop *l = ev_loop_new();
	struct brk b = { l, 0 };
	struct ev_timer *t, *guard;

	t = ev_timer_new(l, break_cb, &b);
	guard = ev_timer_new(l, guard_cb, NULL);
	ev_timer_arm(t, 1 * MS);
	ev_timer_arm(guard, 5000 * MS);
	assert_int_equal(ev_loop_run(l), 0);
	assert_int_equal(b.n, 3);
	ev_timer_free(t);
	ev_timer_free(guard);
	ev_loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_cancel),
		cmocka_unit_test(test_timer_rearm),
		cmocka_unit_test(test_timer_self_free),
		cmocka_unit_test(test_fd_pipe),
		cmocka_unit_test(test_fd_del_in_dispatch),
		cmocka_unit_test(test_fd_reuse),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_loop_break),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

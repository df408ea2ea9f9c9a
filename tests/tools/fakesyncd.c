/*
 * fakesyncd.c: a stand-in for syncd's control socket, speaking the
 * carpd/syncd handshake (docs/handshake.md) for carpd's tests.
 *
 * usage: fakesyncd -s SOCKET [-D N] [-t MS] [-c MS] [-e]
 *   -D N	demotion announced on subscribe (default 32, bulk pending)
 *   -t MS	then announce "demote 0 in sync" after MS ms (-1: never)
 *   -c MS	answer each commit after MS ms (default 0; -1: never)
 *   -e		answer commits with ERR
 * Prints "subscribe", "commit", "resync" on stdout as they arrive.
 * SIGUSR1 sends the "handover" event; SIGTERM stops.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ev.h"
#include "log.h"

static struct ev_loop *loop;
static struct ctl_server *srv;
static struct ctl_conn *pending; /* a commit awaiting answer */
static struct ev_timer *commit_t, *sync_t;
static int demote0 = 32, commit_ms, answer_err;
static long sync_ms = -1;

static int
all(struct ctl_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	return 1;
}

static void
answer_commit(struct ev_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (pending == NULL)
		return;
	if (answer_err)
		ctl_replyf(pending, 0, "fake failure");
	else
		ctl_replyf(pending, 1, "committed 0 states in 0 ms");
	pending = NULL;
}

static void
in_sync(struct ev_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	ctl_server_broadcast(srv, CTL_EVENT, "demote 0 in sync", 16, all,
	    NULL);
	printf("in-sync\n");
	fflush(stdout);
}

static void
req(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	char ev[64];

	(void)arg;
	if (argc < 1)
		return;
	printf("%s\n", argv[0]);
	fflush(stdout);
	if (strcmp(argv[0], "subscribe") == 0) {
		ctl_replyf(c, 1, "subscribed");
		snprintf(ev, sizeof(ev), "demote %d %s", demote0,
		    demote0 ? "bulk sync pending" : "in sync");
		ctl_send(c, CTL_EVENT, ev, strlen(ev));
		if (sync_ms >= 0 && !ev_timer_pending(sync_t))
			ev_timer_arm(sync_t, (uint64_t)sync_ms * 1000000ULL);
	} else if (strcmp(argv[0], "commit") == 0) {
		pending = c;
		if (commit_ms >= 0)
			ev_timer_arm(commit_t,
			    (uint64_t)commit_ms * 1000000ULL);
	} else if (strcmp(argv[0], "resync") == 0)
		ctl_replyf(c, 1, "resync requested");
	else
		ctl_replyf(c, 0, "unknown request");
}

static void
/* cppcheck-suppress constParameter ; the type is ctl_close_cb's */
closed(struct ctl_conn *c, void *arg)
{
	(void)arg;
	if (c == pending)
		pending = NULL;
}

static void
on_sig(int sig, void *arg)
{
	(void)arg;
	if (sig == SIGUSR1) {
		ctl_server_broadcast(srv, CTL_EVENT, "handover", 8, all, NULL);
		printf("handover\n");
		fflush(stdout);
		return;
	}
	ev_loop_break(loop);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "s:D:t:c:e")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'D':
			demote0 = atoi(optarg);
			break;
		case 't':
			sync_ms = atol(optarg);
			break;
		case 'c':
			commit_ms = atoi(optarg);
			break;
		case 'e':
			answer_err = 1;
			break;
		default:
			goto usage;
		}
	}
	if (path == NULL)
		goto usage;
	log_init("fakesyncd", 0, 0);
	if ((loop = ev_loop_new()) == NULL)
		return 1;
	if ((srv = ctl_server_open(loop, path, 0600, req, NULL)) == NULL) {
		perror(path);
		return 1;
	}
	ctl_server_set_close_cb(srv, closed);
	commit_t = ev_timer_new(loop, answer_commit, NULL);
	sync_t = ev_timer_new(loop, in_sync, NULL);
	ev_signal_add(loop, SIGTERM, on_sig, NULL);
	ev_signal_add(loop, SIGINT, on_sig, NULL);
	ev_signal_add(loop, SIGUSR1, on_sig, NULL);
	ev_loop_run(loop);
	ctl_server_close(srv);
	ev_timer_free(commit_t);
	ev_timer_free(sync_t);
	ev_loop_free(loop);
	return 0;
usage:
	fprintf(stderr,
	    "usage: fakesyncd -s socket [-D n] [-t ms] [-c ms] "
	    "[-e]\n");
	return 2;
}

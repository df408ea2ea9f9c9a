/*
 * script.c: up and down scripts, run without blocking the loop (ucarp's
 * arguments plus the environment), reaped on SIGCHLD, and killed with
 * everything they started (their process group) when hung.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "carpd.h"
#include "check.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define SCRIPT_CHECK_NS	     200000000ULL  /* deadline checks */
#define SCRIPT_KILL_GRACE_NS 1000000000ULL /* SIGTERM, then SIGKILL */
#define SCRIPT_EXIT_POLL_NS  20000000	   /* waiting for them at exit */

/* The script and all it forked; the script alone if it has no group. */
static void
script_signal(const struct carpd_script *s, int sig)
{
	if (kill(-s->pid, sig) == -1 && errno == ESRCH)
		kill(s->pid, sig);
}

static void
script_check(struct ev_timer *t, void *arg)
{
	uint64_t now = ev_now_ns();
	int any = 0;

	for (int i = 0; i < CARPD_MAXSCRIPTS; i++) {
		struct carpd_script *s = &carpd->scripts[i];

		if (s->pid <= 0)
			continue;
		any = 1;
		if (now < s->deadline)
			continue;
		if (!s->killed) {
			log_warnx(
			    "script %s (pid %d) still running after %d s:"
			    " killing it",
			    s->name, (int)s->pid, CARPD_SCRIPT_TIMEOUT);
			script_signal(s, SIGTERM);
			s->killed = 1;
			s->deadline = now + SCRIPT_KILL_GRACE_NS;
		} else
			script_signal(s, SIGKILL);
	}
	if (any)
		ev_timer_arm(t, SCRIPT_CHECK_NS);
}

void
script_reap(int sig, void *arg)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (check_reaped(pid, status))
			continue;
		for (int i = 0; i < CARPD_MAXSCRIPTS; i++) {
			struct carpd_script *s = &carpd->scripts[i];

			if (s->pid != pid)
				continue;
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				log_warnx("script %s exited with status %d",
				    s->name, WEXITSTATUS(status));
			else if (WIFSIGNALED(status))
				log_warnx("script %s killed by signal %d",
				    s->name, WTERMSIG(status));
			/* A hung script's children go with it. */
			if (s->killed)
				kill(-pid, SIGKILL);
			s->pid = 0;
		}
	}
}

/* ucarp's calling convention: <script> <interface> <vip> [<xparam>],
 * plus the whole story in the environment. */
void
script_run(struct vh *v, const char *path, const char *reason)
{
	char vhid[32], ifn[64], state[32],
	    addrs[CARPD_MAXADDR * ADDR_STRLEN + 16], rsn[160],
	    vip[ADDR_STRLEN], b[ADDR_STRLEN], vipe[64];
	char *argv[5], *envp[7];
	struct carpd_script *s = NULL;
	size_t off;
	pid_t pid;

	if (path == NULL)
		return;
	for (int i = 0; i < CARPD_MAXSCRIPTS && s == NULL; i++)
		if (carpd->scripts[i].pid <= 0)
			s = &carpd->scripts[i];
	if (s == NULL) {
		log_warnx("vhid %u: too many scripts running, %s not run",
		    v->fsm.cfg.vhid, path);
		return;
	}
	addr_fmt(&v->addrs[0].a, -1, vip, sizeof(vip));
	off = (size_t)snprintf(addrs, sizeof(addrs), "CARP_ADDRS=");
	for (int i = 0; i < v->naddrs && off < sizeof(addrs); i++)
		off += (size_t)snprintf(addrs + off, sizeof(addrs) - off,
		    "%s%s", i ? " " : "",
		    addr_fmt(&v->addrs[i].a, v->addrs[i].plen, b, sizeof(b)));
	snprintf(vhid, sizeof(vhid), "CARP_VHID=%u", v->fsm.cfg.vhid);
	snprintf(ifn, sizeof(ifn), "CARP_INTERFACE=%s",
	    v->vmac ? v->vmac_name : v->ifname);
	snprintf(state, sizeof(state), "CARP_STATE=%s",
	    carp_state_names[v->fsm.state]);
	snprintf(rsn, sizeof(rsn), "CARP_REASON=%s", reason ? reason : "");
	snprintf(vipe, sizeof(vipe), "CARP_VIP=%s", vip);
	envp[0] = vhid;
	envp[1] = ifn;
	envp[2] = state;
	envp[3] = addrs;
	envp[4] = rsn;
	envp[5] = vipe;
	envp[6] = NULL;
	argv[0] = (char *)path;
	argv[1] = v->vmac ? v->vmac_name : v->ifname;
	argv[2] = vip;
	argv[3] = v->xparam;
	argv[4] = NULL;
	if ((pid = util_spawn(argv, envp)) == -1) {
		log_warn("vhid %u: run %s", v->fsm.cfg.vhid, path);
		return;
	}
	s->pid = pid;
	s->killed = 0;
	s->deadline = ev_now_ns() + CARPD_SCRIPT_TIMEOUT * 1000000000ULL;
	snprintf(s->name, sizeof(s->name), "%s", path);
	if (!ev_timer_pending(carpd->script_timer))
		ev_timer_arm(carpd->script_timer, SCRIPT_CHECK_NS);
}

int
script_init(struct ev_loop *loop)
{
	carpd->script_timer = ev_timer_new(loop, script_check, NULL);
	return carpd->script_timer == NULL ? -1 : 0;
}

static int
scripts_running(void)
{
	int n = 0;

	for (int i = 0; i < CARPD_MAXSCRIPTS; i++)
		if (carpd->scripts[i].pid > 0)
			n++;
	return n;
}

/* At exit: give the scripts (down scripts) a bounded time, then kill. */
void
script_wait_all(unsigned int ms)
{
	uint64_t end = ev_now_ns() + (uint64_t)ms * 1000000ULL;

	do {
		script_reap(SIGCHLD, NULL);
		if (scripts_running() == 0)
			break;
		nanosleep(&(struct timespec){ 0, SCRIPT_EXIT_POLL_NS }, NULL);
	} while (ev_now_ns() < end);
	for (int i = 0; i < CARPD_MAXSCRIPTS; i++) {
		struct carpd_script *s = &carpd->scripts[i];

		if (s->pid <= 0)
			continue;
		log_warnx("script %s still running at exit; killed", s->name);
		script_signal(s, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	ev_timer_free(carpd->script_timer);
	carpd->script_timer = NULL;
}

/*
 * script.c: up and down scripts, run without blocking the loop (ucarp's
 * arguments plus the environment), reaped on SIGCHLD, killed when hung.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "carpd.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define MAXSCRIPTS	64

static struct script {
	pid_t		pid;
	uint64_t	deadline;
	int		killed;
	char		name[64];
} scripts[MAXSCRIPTS];
static struct ev_timer *script_timer;

static void
script_check(struct ev_timer *t, void *arg)
{
	uint64_t now = ev_now_ns();
	int i, any = 0;

	(void)arg;
	for (i = 0; i < MAXSCRIPTS; i++) {
		if (scripts[i].pid <= 0)
			continue;
		any = 1;
		if (now < scripts[i].deadline)
			continue;
		if (!scripts[i].killed) {
			log_warnx("script %s (pid %d) still running after %d s:"
			    " killing it", scripts[i].name, (int)scripts[i].pid,
			    CARPD_SCRIPT_TIMEOUT);
			kill(scripts[i].pid, SIGTERM);
			scripts[i].killed = 1;
			scripts[i].deadline = now + 1000000000ULL;
		} else
			kill(scripts[i].pid, SIGKILL);
	}
	if (any)
		ev_timer_arm(t, 200000000ULL);
}

void
script_reap(int sig, void *arg)
{
	pid_t pid;
	int status, i;

	(void)sig;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAXSCRIPTS; i++) {
			if (scripts[i].pid != pid)
				continue;
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				log_warnx("script %s exited with status %d",
				    scripts[i].name, WEXITSTATUS(status));
			else if (WIFSIGNALED(status))
				log_warnx("script %s killed by signal %d",
				    scripts[i].name, WTERMSIG(status));
			scripts[i].pid = 0;
		}
	}
}

/* ucarp's calling convention: <script> <interface> <vip> [<xparam>],
 * plus the whole story in the environment. */
void
script_run(struct vh *v, const char *path, const char *reason)
{
	char vhid[32], ifn[64], state[32], addrs[CARPD_MAXADDR * ADDR_STRLEN
	    + 16], rsn[160], vip[ADDR_STRLEN], b[ADDR_STRLEN], vipe[64];
	char *argv[5], *envp[7];
	size_t off;
	pid_t pid;
	int i, slot = -1;

	if (path == NULL)
		return;
	for (i = 0; i < MAXSCRIPTS; i++)
		if (scripts[i].pid <= 0) {
			slot = i;
			break;
		}
	if (slot == -1) {
		log_warnx("vhid %u: too many scripts running, %s not run",
		    v->fsm.cfg.vhid, path);
		return;
	}
	addr_fmt(&v->addrs[0].a, -1, vip, sizeof(vip));
	off = (size_t)snprintf(addrs, sizeof(addrs), "CARP_ADDRS=");
	for (i = 0; i < v->naddrs && off < sizeof(addrs); i++)
		off += (size_t)snprintf(addrs + off, sizeof(addrs) - off,
		    "%s%s", i ? " " : "", addr_fmt(&v->addrs[i].a,
		    v->addrs[i].plen, b, sizeof(b)));
	snprintf(vhid, sizeof(vhid), "CARP_VHID=%u", v->fsm.cfg.vhid);
	snprintf(ifn, sizeof(ifn), "CARP_INTERFACE=%s", v->vmac ?
	    v->vmac_name : v->ifname);
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
	scripts[slot].pid = pid;
	scripts[slot].killed = 0;
	scripts[slot].deadline = ev_now_ns() +
	    CARPD_SCRIPT_TIMEOUT * 1000000000ULL;
	snprintf(scripts[slot].name, sizeof(scripts[slot].name), "%s", path);
	if (!ev_timer_pending(script_timer))
		ev_timer_arm(script_timer, 200000000ULL);
}

int
script_init(struct ev_loop *loop)
{
	script_timer = ev_timer_new(loop, script_check, NULL);
	return script_timer == NULL ? -1 : 0;
}

/* At exit: give the scripts (down scripts) a bounded time, then kill. */
void
script_wait_all(unsigned int ms)
{
	uint64_t end = ev_now_ns() + (uint64_t)ms * 1000000ULL;
	int i, left;

	do {
		script_reap(SIGCHLD, NULL);
		for (left = 0, i = 0; i < MAXSCRIPTS; i++)
			if (scripts[i].pid > 0)
				left++;
		if (left == 0)
			break;
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	} while (ev_now_ns() < end);
	for (i = 0; i < MAXSCRIPTS; i++)
		if (scripts[i].pid > 0) {
			log_warnx("script %s still running at exit; killed",
			    scripts[i].name);
			kill(scripts[i].pid, SIGKILL);
			waitpid(scripts[i].pid, NULL, 0);
			scripts[i].pid = 0;
		}
	ev_timer_free(script_timer);
	script_timer = NULL;
}

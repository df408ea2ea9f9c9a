/*
 * ctl.c: carpd's control requests: "status [json | prometheus]" and
 * "demote [+|-]N".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carpd.h"
#include "check.h"
#include "conf.h"
#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "sbuf.h"
#include "util.h"

const char *const carpd_dem_names[DEM_MAX] = {
	[DEM_LINK] = "link",
	[DEM_SYNC] = "sync",
	[DEM_SENDERR] = "senderr",
	[DEM_ADMIN] = "admin",
	[DEM_CHECK] = "check",
};

/* ms from now to a monotonic deadline, -1 when idle. */
static long long
ms_to(uint64_t at, uint64_t now)
{
	if (at == 0)
		return -1;
	return at > now ? (long long)((at - now) / 1000000) : 0;
}

static double
wall_of(uint64_t mono, uint64_t now)
{
	return util_wallclock() - (double)(now - mono) / 1e9;
}

/* "reload": the SIGHUPs taken and refused, and how the last one went. */
static void
reload_json(struct sbuf *s, uint64_t now)
{
	const struct carpd_reloads *r = &carpd->reload;

	sbuf_printf(s,
	    ",\"reload\":{\"ok\":%" PRIu64 ",\"refused\":%" PRIu64
	    ",\"last\":\"%s\"",
	    r->ok, r->refused,
	    r->last_ns == 0 ? "none" :
		r->last_ok  ? "ok" :
			      "refused");
	if (r->last_ns != 0)
		sbuf_printf(s, ",\"last_time\":%.3f",
		    wall_of(r->last_ns, now));
	if (r->last_ns != 0 && !r->last_ok) {
		sbuf_puts(s, ",\"last_error\":");
		sbuf_json_str(s, r->last_error);
	}
	sbuf_puts(s, "}");
}

static void
status_json(struct sbuf *s)
{
	uint64_t now = ev_now_ns();
	const struct carpd_stats *st = &carpd->st;
	char b[ADDR_STRLEN];
	struct vh *v;

	sbuf_puts(s, "{\"vhids\":[");
	for (int i = 0; i < carpd->nvh; i++) {
		v = carpd->vh[i];
		sbuf_printf(s, "%s{\"vhid\":%u,\"interface\":", i ? "," : "",
		    v->fsm.cfg.vhid);
		sbuf_json_str(s, v->ifname);
		sbuf_printf(s,
		    ",\"state\":\"%s\",\"advbase\":%u,"
		    "\"advskew\":%u,\"demote\":%u,\"addrs\":[",
		    carp_state_names[v->fsm.state], v->fsm.cfg.advbase,
		    v->fsm.cfg.advskew, carpd->demote);
		for (int j = 0; j < v->naddrs; j++) {
			sbuf_puts(s, j ? "," : "");
			sbuf_json_str(s,
			    addr_fmt(&v->addrs[j].a, v->addrs[j].plen, b,
				sizeof(b)));
		}
		sbuf_printf(s,
		    "],\"advskew_sent\":%u,\"demote_sent\":%u,"
		    "\"preempt\":%s,\"vmac\":%s,\"peers\":[",
		    fsm_wire_advskew(&v->fsm), fsm_wire_demote(&v->fsm),
		    v->fsm.cfg.preempt ? "true" : "false",
		    v->vmac ? "true" : "false");
		for (int j = 0; j < v->npeers; j++) {
			sbuf_puts(s, j ? "," : "");
			sbuf_json_str(s,
			    addr_fmt(&v->peers[j], -1, b, sizeof(b)));
		}
		sbuf_printf(s,
		    "],\"timers\":{\"advertise_interval_ms\":%llu,"
		    "\"master_down_interval_ms\":%llu,\"next_advertise_ms\":"
		    "%lld,\"master_down_in_ms\":%lld},\"takeover_pending\":%"
		    "s,",
		    (unsigned long long)(fsm_adv_ns(&v->fsm) / 1000000),
		    (unsigned long long)(fsm_down_ns(&v->fsm) / 1000000),
		    ms_to(v->fsm.ad_at, now), ms_to(v->fsm.down_at, now),
		    v->fsm.pending ? "true" : "false");
		sbuf_printf(s,
		    "\"preempt_delay\":%llu,\"preempt_hold_s\":"
		    "%.1f,",
		    (unsigned long long)(v->fsm.cfg.hold_ns / 1000000000ULL),
		    (double)fsm_hold_left(&v->fsm, now) / 1e9);
		sbuf_printf(s,
		    "\"last_transition\":{\"time\":%.3f,"
		    "\"from\":\"%s\",\"to\":\"%s\",\"reason\":",
		    wall_of(
			v->fsm.last_at ? v->fsm.last_at : carpd->started_ns,
			now),
		    carp_state_names[v->fsm.last_from],
		    carp_state_names[v->fsm.state]);
		sbuf_json_str(s, v->fsm.last_reason ? v->fsm.last_reason : "");
		sbuf_printf(s,
		    "},\"transitions\":%" PRIu64 ",\"split_brain\":"
		    "%" PRIu64 ",\"contention\":%s,\"rx\":%" PRIu64
		    ",\"tx\":%" PRIu64 ",\"rx_bowout\":%" PRIu64
		    ",\"badauth\":%" PRIu64 ",\"addrs_restored\":%" PRIu64 "}",
		    v->fsm.transitions, v->fsm.splitbrain,
		    v->fsm.contention ? "true" : "false", v->rx, v->tx,
		    v->rx_bowout, v->badauth, v->readded);
	}
	sbuf_printf(s, "],\"demote\":{\"total\":%u,\"reasons\":{",
	    carpd->demote);
	for (int i = 0; i < DEM_MAX; i++)
		sbuf_printf(s, "%s\"%s\":%u", i ? "," : "", carpd_dem_names[i],
		    carpd->dem[i]);
	sbuf_puts(s, "}");
	if (carpd->sync_path != NULL) {
		sbuf_puts(s, ",\"sync_reason\":");
		sbuf_json_str(s, carpd->dem_sync_reason);
	}
	sbuf_puts(s, ",\"interfaces\":[");
	for (int i = 0, n = 0; i < carpd->nifs; i++) {
		if (carpd->ifs[i].name[0] == '\0')
			continue; /* a free slot */
		sbuf_printf(s, "%s{\"name\":", n++ ? "," : "");
		sbuf_json_str(s, carpd->ifs[i].name);
		sbuf_printf(s, ",\"link\":%s,\"track\":%s}",
		    carpd->ifs[i].running ? "true" : "false",
		    carpd->ifs[i].track ? "true" : "false");
	}
	sbuf_puts(s, "]},\"counters\":{");
	sbuf_printf(s, "\"ipackets\":%" PRIu64 ",\"ipackets6\":%" PRIu64,
	    st->ipackets, st->ipackets6);
	for (int i = CARP_E_BADLEN; i < CARP_E_MAX; i++)
		sbuf_printf(s, ",\"%s\":%" PRIu64, carp_err_names[i],
		    st->rej[i]);
	sbuf_printf(s,
	    ",\"opackets\":%" PRIu64 ",\"opackets6\":%" PRIu64
	    ",\"oerrors\":%" PRIu64 ",\"garp\":%" PRIu64 ",\"na\":%" PRIu64
	    "}",
	    st->opackets, st->opackets6, st->oerrors, st->garps, st->nas);
	if (carpd->sync_path != NULL) {
		sbuf_puts(s, ",\"sync\":{\"socket\":");
		sbuf_json_str(s, carpd->sync_path);
		sbuf_printf(s,
		    ",\"connected\":%s,\"commits\":%" PRIu64
		    ",\"commit_failures\":%" PRIu64 ",\"last_commit\":",
		    carpd->sync_up ? "true" : "false", carpd->sync_commits,
		    carpd->sync_commit_fail);
		sbuf_json_str(s, carpd->sync_last_commit);
		sbuf_puts(s, "}");
	}
	sbuf_puts(s, ",");
	check_status_json(s, now);
	reload_json(s, now);
	sbuf_printf(s, ",\"uptime\":%.3f}\n",
	    (double)(now - carpd->started_ns) / 1e9);
}

static void
status_text(struct sbuf *s)
{
	uint64_t now = ev_now_ns();
	const struct carpd_stats *st = &carpd->st;
	char b[ADDR_STRLEN], name[4 * IF_NAMESIZE + 1];
	struct vh *v;
	int any;

	for (int i = 0; i < carpd->nvh; i++) {
		v = carpd->vh[i];
		/* Names from the config and from syncd: escaped. */
		sbuf_printf(s, "vhid %u on %s: %s (advbase %u advskew %u%s)\n",
		    v->fsm.cfg.vhid,
		    sbuf_text_copy(name, sizeof(name), v->ifname),
		    carp_state_names[v->fsm.state], v->fsm.cfg.advbase,
		    v->fsm.cfg.advskew, v->fsm.cfg.preempt ? " preempt" : "");
		sbuf_puts(s, "\taddresses:");
		for (int j = 0; j < v->naddrs; j++)
			sbuf_printf(s, " %s",
			    addr_fmt(&v->addrs[j].a, v->addrs[j].plen, b,
				sizeof(b)));
		sbuf_printf(s, "\n\tlast change: %s -> %s, %.1f s ago (%s)\n",
		    carp_state_names[v->fsm.last_from],
		    carp_state_names[v->fsm.state],
		    (double)(now -
			(v->fsm.last_at ? v->fsm.last_at :
					  carpd->started_ns)) /
			1e9,
		    v->fsm.last_reason ? v->fsm.last_reason : "");
		if (v->fsm.state == CARP_ST_MASTER)
			sbuf_printf(s, "\tnext advertisement in %lld ms\n",
			    ms_to(v->fsm.ad_at, now));
		else if (v->fsm.state == CARP_ST_BACKUP)
			sbuf_printf(s, "\tmaster down in %lld ms%s\n",
			    ms_to(v->fsm.down_at, now),
			    v->fsm.pending ?
				" (takeover waiting for syncd)" :
				"");
		if (fsm_hold_left(&v->fsm, now) != 0)
			sbuf_printf(s,
			    "\tpreemption held for %.1f s more "
			    "(preempt-delay %llu)\n",
			    (double)fsm_hold_left(&v->fsm, now) / 1e9,
			    (unsigned long long)(v->fsm.cfg.hold_ns /
				1000000000ULL));
		sbuf_printf(s,
		    "\trx %" PRIu64 " tx %" PRIu64 " bad auth %" PRIu64
		    " split brain %" PRIu64 "\n",
		    v->rx, v->tx, v->badauth, v->fsm.splitbrain);
	}
	sbuf_printf(s, "demotion: %u", carpd->demote);
	any = 0;
	for (int i = 0; i < DEM_MAX; i++)
		if (carpd->dem[i]) {
			sbuf_printf(s, "%s%s %u", any ? ", " : " (",
			    carpd_dem_names[i], carpd->dem[i]);
			if (i == DEM_SYNC) {
				sbuf_puts(s, ": ");
				sbuf_text(s, carpd->dem_sync_reason);
			}
			any = 1;
		}
	sbuf_puts(s, any ? ")\n" : "\n");
	check_status_text(s, now);
	if (carpd->reload.last_ns != 0) {
		sbuf_printf(s,
		    "reloads: %" PRIu64 " ok, %" PRIu64 " refused; "
		    "the last %.1f s ago: ",
		    carpd->reload.ok, carpd->reload.refused,
		    (double)(now - carpd->reload.last_ns) / 1e9);
		sbuf_text(s,
		    carpd->reload.last_ok ? "ok" : carpd->reload.last_error);
		sbuf_puts(s, "\n");
	}
	sbuf_printf(s,
	    "received: %" PRIu64 " IPv4, %" PRIu64 " IPv6; "
	    "rejected:",
	    st->ipackets, st->ipackets6);
	for (int i = CARP_E_BADLEN; i < CARP_E_MAX; i++)
		sbuf_printf(s, " %s %" PRIu64, carp_err_names[i], st->rej[i]);
	sbuf_printf(s,
	    "\nsent: %" PRIu64 " IPv4, %" PRIu64 " IPv6, %" PRIu64
	    " errors, %" PRIu64 " ARP, %" PRIu64 " NA\n",
	    st->opackets, st->opackets6, st->oerrors, st->garps, st->nas);
	if (carpd->sync_path != NULL) {
		sbuf_printf(s, "syncd: %s, %" PRIu64 " commits, last: ",
		    carpd->sync_up ? "connected" : "not connected",
		    carpd->sync_commits);
		sbuf_text(s,
		    carpd->sync_last_commit[0] ?
			carpd->sync_last_commit :
			"none");
		sbuf_puts(s, "\n");
	}
}

void
carpd_ctl_request(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct sbuf s;
	unsigned long n;
	const char *a;
	unsigned int cur;

	if (argc >= 1 && strcmp(argv[0], "status") == 0 && argc <= 2) {
		sbuf_init(&s);
		if (argc == 2 &&
		    (strcmp(argv[1], "json") == 0 ||
			strcmp(argv[1], "--json") == 0))
			status_json(&s);
		else if (argc == 2 &&
		    (strcmp(argv[1], "prometheus") == 0 ||
			strcmp(argv[1], "--prometheus") == 0))
			carpd_metrics(&s);
		else if (argc == 1)
			status_text(&s);
		else {
			sbuf_free(&s);
			ctl_replyf(c, 0,
			    "usage: status [--json | --prometheus]");
			return;
		}
		if (s.err)
			ctl_replyf(c, 0, "out of memory");
		else
			ctl_reply(c, 1, s.p, s.len);
		sbuf_free(&s);
		return;
	}
	if (argc == 2 && strcmp(argv[0], "demote") == 0) {
		a = argv[1];
		if (*a == '+' || *a == '-')
			a++;
		if (conf_uint(a, 0, CARP_DEMOTE_MAX, &n) == -1) {
			ctl_replyf(c, 0,
			    "demote: bad count %s (0..255, "
			    "+N or -N)",
			    argv[1]);
			return;
		}
		cur = carpd->dem[DEM_ADMIN];
		if (argv[1][0] == '+')
			cur = cur + n > CARP_DEMOTE_MAX ?
			    CARP_DEMOTE_MAX :
			    cur + (unsigned int)n;
		else if (argv[1][0] == '-')
			cur = cur > n ? cur - (unsigned int)n : 0;
		else
			cur = (unsigned int)n;
		log_info("demotion by the administrator: %u -> %u",
		    carpd->dem[DEM_ADMIN], cur);
		carpd_set_demote(DEM_ADMIN, cur);
		ctl_replyf(c, 1, "demote %u (total %u)", cur, carpd->demote);
		return;
	}
	ctl_replyf(c, 0,
	    "unknown request (status [--json | --prometheus], "
	    "demote [+|-]N)");
}

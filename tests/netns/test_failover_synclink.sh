#!/bin/sh
# The sync link fails for 5 s under a pair with connections: mastership
# never moves. First only the master stops hearing its peer (it notices
# the outage, the backup does not), then the link goes down for both.
# syncd's "sync link down" demotion keeps a backup from preempting but
# never makes the master look worse than its backup. When the link is
# back the pair converges: syncd diff is clean on both, and every
# connection is alive.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

# sync_demote FW: the demotion carpd on FW has from syncd (reason sync).
sync_demote() {
	lab_carp_status "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["demote"]["reasons"]["sync"])' 2>/dev/null
}
sync_demoted() { [ "$(sync_demote "$1")" -gt 0 ] 2>/dev/null; }
sync_clear() { [ "$(sync_demote fw1)" = 0 ] && [ "$(sync_demote fw2)" = 0 ]; }

# sent_demote FW: what FW advertises in the demote byte (vhid 1).
sent_demote() {
	lab_carp_status "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["vhids"][0]["demote_sent"])' 2>/dev/null
}

both_clean() { lab_diff_clean fw1 && lab_diff_clean fw2; }

# outage WHAT CUT RESTORE: a 5 s outage of the sync link (CUT and
# RESTORE are commands), the states of both sampled all along.
outage() {
	local s
	s=$T_DIR/states-$(date +%s%N)
	: >"$s"
	lab_states_sample "$s"
	t0=$(date +%s%N)
	$2
	if wait_for 5 sync_demoted fw1; then
		ok "$1: fw1's syncd tells carpd the sync link is down"
	else
		not_ok "$1: fw1's syncd tells carpd the sync link is down" \
		    "(sync demotion $(sync_demote fw1))"
	fi
	check "$1: fw1, the master, advertises no demotion for it" \
	    [ "$(sent_demote fw1)" = 0 ]
	# the rest of the 5 s
	while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ]; do
		sleep 0.1
	done
	$3
	check "$1: the sync demotion is gone on both once the link is back" \
	    wait_for 10 sync_clear
	sleep 1
	lab_states_stop
	if [ -s "$s" ] && ! grep -qv '^MASTER MASTER|BACKUP BACKUP$' "$s"
	then
		ok "$1: fw1 MASTER and fw2 BACKUP throughout" \
		    "($(wc -l <"$s") samples)"
	else
		not_ok "$1: fw1 MASTER and fw2 BACKUP throughout:" \
		    "$(grep -v '^MASTER MASTER|BACKUP BACKUP$' "$s" |
		    sort | uniq -c | head -3 | tr '\n' ';')"
		dump $(lab_logs)
	fi
	if wait_for 15 both_clean; then
		ok "$1: then syncd diff is clean on both"
	else
		not_ok "$1: then syncd diff is clean on both"
		sed 's/^/#   /' "$T_DIR/diff-fw1" "$T_DIR/diff-fw2" | head -20
	fi
}

# Only fw1 stops hearing fw2: fw1 notices first (fw2 still hears fw1).
deaf_on() {
	nsx fw1 nft -f - <<'NFT'
table inet lab_deaf {
	chain in {
		type filter hook prerouting priority -400; policy accept;
		iifname "sync" counter drop
	}
}
NFT
}
deaf_off() { nsx fw1 nft delete table inet lab_deaf; }
link_down() { ip -n "$(ns fw1)" link set sync down; }
link_up() { ip -n "$(ns fw1)" link set sync up; }

if lab_t_begin synclink; then
	check "both syncds in sync" both_clean
	outage "the master deaf on the sync link" deaf_on deaf_off
	outage "the sync link down" link_down link_up
	lab_t_settle 2
	lab_t_end all "two 5 s outages of the sync link"
fi

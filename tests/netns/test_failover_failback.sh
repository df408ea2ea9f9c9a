#!/bin/sh
# Failback with preemption: fw1 (the preferred master) crashes, fw2 takes
# over; fw1 comes back with an empty conntrack table and fresh daemons. It
# must stay BACKUP while its syncd's first bulk sync is pending (here the
# sync link is blocked for a while, so the bulk cannot finish), then take
# over again once the bulk is done; every connection survives both moves.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

# watch FILE: one line per 50 ms: "<carpd states of fw1> <syncd bulk of fw1>"
# carpd first, syncd after: a MASTER read before a bulk that is already
# done reads as done. The other order read a pending bulk, then the
# MASTER that followed its end within the same line, and failed a run.
watch() {
	i=0
	while [ $i -lt 1200 ] && [ -d "$T_DIR" ] &&
	    [ ! -e "$T_DIR/watch.stop" ]; do
		s=$(lab_carp_states fw1)
		b=$(lab_syncd_val fw1 bulk)
		echo "${s:-none} bulk=${b:-none}" >>"$1"
		sleep 0.05
		i=$((i + 1))
	done
}

if lab_t_begin failback; then
	lab_crash fw1
	lab_t_master fw2 "fw1 crashed"
	lab_t_settle
	lab_t_gap 1 "failover, fw1 crashed"

	# fw1 returns, its sync link blocked: the bulk cannot complete
	lab_sync_block fw1 on
	lab_revive fw1
	lab_start_syncd fw1
	lab_start_carpd fw1
	watch "$T_DIR/watch" &
	wpid=$!
	check "fw1's carpd is up again (BACKUP)" wait_for 10 lab_is_backup fw1
	sleep 5		# > 3 advertisement intervals: it would preempt now
	check "fw1's syncd reports its bulk sync pending" \
	    sh -c "[ \"\$(tail -1 $T_DIR/watch | sed 's/.*bulk=//')\" != done ]"
	check "fw1 stays BACKUP while its bulk sync is pending" \
	    sh -c "! grep -q MASTER $T_DIR/watch"
	check "fw2 stays MASTER meanwhile" lab_stack_is_master fw2

	lab_traffic_mark
	lab_sync_block fw1 off
	check "fw1's bulk sync completes once the sync link works" \
	    wait_for 30 lab_bulk_done fw1
	lab_t_master fw1 "fw1's bulk sync (preemption)"
	touch "$T_DIR/watch.stop"
	wait "$wpid"
	if grep 'MASTER' "$T_DIR/watch" | grep -qv 'bulk=done'; then
		not_ok "fw1 never was MASTER while its bulk sync was pending"
		grep 'MASTER' "$T_DIR/watch" | grep -v 'bulk=done' |
		    head -5 | sed 's/^/#   /'
	else
		ok "fw1 never was MASTER while its bulk sync was pending"
	fi
	check "fw2 went back to BACKUP" wait_for 5 lab_is_backup fw2
	lab_t_settle
	lab_t_gap 3 "failback to fw1 (preemption)"
	lab_t_end all "failover to fw2 and failback to fw1"
fi

#!/bin/sh
# Graceful handovers move the ownership of the states too. fw1's carpd
# stops (SIGTERM): fw2 takes over, commits and tells fw1 it did; fw1,
# whose kernel still has its former connections, hands them over (they
# become fw2's staged copies there), so both members' syncd diff is
# clean. Then fw1's carpd starts again and preempts: the same the other
# way round. Every connection survives both.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

both_clean() { lab_diff_clean fw1 && lab_diff_clean fw2; }

# agree WHAT: both diffs clean (bounded), with the time it took.
agree() {
	local t0 ms
	t0=$(date +%s%N)
	if wait_for 20 both_clean; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		ok "$1: syncd diff clean on both after $ms ms"
	else
		not_ok "$1: syncd diff clean on both"
		sed 's/^/#   /' "$T_DIR/diff-fw1" "$T_DIR/diff-fw2" | head -20
		dump "$T_DIR/fw1-syncd.log" "$T_DIR/fw2-syncd.log"
	fi
}

# handed FW N: FW's syncd handed at least N of its states over.
handed() { [ "$(lab_syncd_val "$1" handed_over)" -ge "$2" ] 2>/dev/null; }
# own_at_most FW N: FW's syncd holds at most N states as its own.
own_at_most() { [ "$(lab_syncd_val "$1" internal)" -le "$2" ] 2>/dev/null; }

if lab_t_begin handover_owner; then
	check "both syncds in sync" both_clean
	lab_kill TERM "$(lab_carpd_pid fw1)"
	lab_t_master fw2 "SIGTERM of fw1's carpd"
	agree "handover to fw2"
	check "fw1 handed its $LAB_N connections over to fw2" \
	    wait_for 10 handed fw1 "$LAB_N"
	check "fw1 holds none of them as its own" own_at_most fw1 10
	lab_start_carpd fw1
	lab_t_master fw1 "fw1's carpd is back (failback, preempt)"
	agree "failback to fw1"
	check "fw2 handed them back" wait_for 10 handed fw2 "$LAB_N"
	check "fw2 holds none of them as its own" own_at_most fw2 10
	lab_t_settle 3
	lab_t_end all "a handover and a failback"
fi

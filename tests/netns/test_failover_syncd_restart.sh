#!/bin/sh
# The backup's syncd restarts (its cache of the master's states is gone);
# once it has its bulk again, the master loses all its links: every
# connection keeps working.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

if lab_t_begin syncd_restart; then
	lab_kill TERM "$(lab_syncd_pid fw2)"
	lab_start_syncd fw2
	check "fw2's syncd restarted" alive "$(lab_syncd_pid fw2)"
	check "fw2's new syncd finished its bulk sync" \
	    wait_for 20 lab_bulk_done fw2
	check "fw2's new syncd holds the $LAB_N states" \
	    wait_for 20 lab_stack_synced fw2 "$LAB_N"
	check "fw1 is still MASTER" lab_stack_is_master fw1
	sleep 1
	lab_links fw1 down
	lab_t_master fw2 "fw1 lost its links (after fw2's syncd restarted)"
	lab_t_settle
	lab_t_gap 1 "failover after a restart of the backup's syncd"
	lab_t_end all "a restart of fw2's syncd, then failover"
fi

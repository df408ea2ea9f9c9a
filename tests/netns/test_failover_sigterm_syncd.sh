#!/bin/sh
# SIGTERM of the master's syncd: syncd pushes what it holds to its peer and
# tells carpd to hand over; carpd bows out at once and stays demoted while
# its syncd is away. Every established, NATed TCP connection keeps working.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

if lab_t_begin sigterm_syncd; then
	lab_kill TERM "$(lab_syncd_pid fw1)"
	check "fw1's syncd exited on SIGTERM" \
	    gone "$(lab_syncd_pid fw1)"
	lab_t_master fw2 "SIGTERM of fw1's syncd"
	check "fw1's carpd is still running, as BACKUP" lab_is_backup fw1
	sleep 4		# fw1 has preempt and the better skew: it must not
	if lab_is_backup fw1; then
		ok "fw1 stays BACKUP while its syncd is away"
	else
		not_ok "fw1 stays BACKUP while its syncd is away"
		lab_state
	fi
	lab_t_settle 2
	lab_t_gap 1 "graceful handover, SIGTERM of fw1's syncd"
	lab_t_end all "SIGTERM of fw1's syncd"
fi

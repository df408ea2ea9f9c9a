#!/bin/sh
# SIGTERM of the master's carpd: it hands over at once (bow-out) and every
# established, NATed TCP connection keeps working.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

if lab_t_begin sigterm; then
	lab_kill TERM "$(lab_carpd_pid fw1)"
	check "fw1's carpd exited on SIGTERM" \
	    gone "$(lab_carpd_pid fw1)"
	check "fw1 removed its virtual addresses" sh -c "! $(command -v ip) \
	    netns exec $(ns fw1) ip -4 addr show | grep -q 'inet 10\.0\.[12]\.1/'"
	lab_t_master fw2 "SIGTERM of fw1's carpd"
	lab_t_settle
	lab_t_gap 1 "graceful handover, SIGTERM of fw1's carpd"
	lab_t_end all "SIGTERM of fw1's carpd"
fi

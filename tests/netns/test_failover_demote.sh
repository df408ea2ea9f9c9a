#!/bin/sh
# Graceful handover by hand: `carpd demote 50` on the master. The backup
# (preempt yes) takes over at once with the synced states; every
# established, NATed TCP connection keeps working.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

demote() {
	nsx fw1 "$CARPD" demote 50 --control "$T_DIR/fw1-carpd.sock" >/dev/null
}

if lab_t_begin demote; then
	check "carpd demote 50 on fw1" demote
	lab_t_master fw2 "carpd demote 50 on fw1"
	check "fw1 is BACKUP" wait_for 5 lab_is_backup fw1
	check "fw1 let go of the virtual addresses" \
	    wait_for 5 sh -c "! ip netns exec $(ns fw1) ip -4 addr show |
	    grep -q 'inet 10\.0\.[12]\.1/'"
	lab_t_settle
	lab_t_gap 1 "graceful handover, carpd demote on fw1"
	lab_t_end all "carpd demote 50 on fw1"
fi

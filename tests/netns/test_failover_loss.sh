#!/bin/sh
# 5% loss on the sync link (both directions) from before the first
# connections are opened; a second batch is opened while the loss goes on
# (their states cross the lossy link as updates, not in a bulk); then the
# master loses all its links: every connection of both batches keeps
# working (the sync must repair what the link lost).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

loss_on() { lab_loss fw1 5 && lab_loss fw2 5; }
dropped() {
	ip netns exec "$(ns "$1")" nft list table inet lab_loss 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

if lab_t_begin loss loss_on; then
	out1=$LAB_TRAFFIC_OUT pid1=$LAB_TRAFFIC_PID
	lab_traffic_start loss2 "$LAB_N" 300 --final-wait 20000 \
	    --no-stream --no-probe
	out2=$LAB_TRAFFIC_OUT pid2=$LAB_TRAFFIC_PID
	check "$LAB_N more connections opened during the loss" \
	    lab_traffic_ready 30
	check "fw2 learned all $((2 * LAB_N)) states over the lossy link" \
	    wait_for 30 lab_stack_synced fw2 $((2 * LAB_N))
	sleep 3		# more updates over the lossy link
	LAB_TRAFFIC_OUT=$out1 LAB_TRAFFIC_PID=$pid1
	lab_links fw1 down
	lab_t_master fw2 "fw1 lost its links (5% loss on the sync link)"
	lab_t_settle
	lab_t_gap 1 "failover after 5% loss on the sync link"
	d1=$(dropped fw1)
	d2=$(dropped fw2)
	check "the sync link really lost packets (${d1:-0} + ${d2:-0} dropped)" \
	    [ "$((${d1:-0} + ${d2:-0}))" -gt 0 ]
	lab_t_end all "failover with 5% loss on the sync link (first batch)"
	LAB_TRAFFIC_OUT=$out2 LAB_TRAFFIC_PID=$pid2
	lab_t_end all "failover with 5% loss on the sync link (second batch)"
fi

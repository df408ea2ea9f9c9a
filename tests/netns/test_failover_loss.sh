#!/bin/sh
# 5% loss on the sync link (both directions) from before the connections
# are opened, during traffic, then the master loses all its links: every
# connection keeps working (the sync must repair what the link lost).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

loss_on() { lab_loss fw1 5 && lab_loss fw2 5; }
dropped() {
	ip netns exec "$(ns "$1")" nft list table inet lab_loss 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

if lab_t_begin loss loss_on; then
	sleep 4		# more updates over the lossy link
	lab_links fw1 down
	lab_t_master fw2 "fw1 lost its links (5% loss on the sync link)"
	lab_t_settle
	lab_t_gap 1 "failover after 5% loss on the sync link"
	d1=$(dropped fw1)
	d2=$(dropped fw2)
	check "the sync link really lost packets (${d1:-0} + ${d2:-0} dropped)" \
	    [ "$((${d1:-0} + ${d2:-0}))" -gt 0 ]
	lab_t_end all "failover with 5% loss on the sync link"
fi

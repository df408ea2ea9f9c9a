#!/bin/sh
# test_carpd_election.sh: two carpd on one segment: election by advskew,
# failover when the master's link goes down, link-loss demotion, bow-out
# handover on SIGTERM, and preemption.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b || { not_ok "topology"; exit 1; }
VIP=10.0.0.100

carpd_bg a -i eth0 -s 10.0.0.1 -v 1 -p secret -a $VIP/24 -b 1 -k 0 -P
carpd_bg b -i eth0 -s 10.0.0.2 -v 1 -p secret -a $VIP/24 -b 1 -k 100 -P

if wait_for 8 is_state a MASTER && wait_for 3 is_state b BACKUP; then
	ok "lower advskew (a) is MASTER, b is BACKUP"
else
	not_ok "election by advskew: a=$(state a) b=$(state b)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
if has_addr a $VIP && no_addr b $VIP; then ok "VIP on a, not on b"
else not_ok "VIP placement"; fi
check "b receives a's advertisements" \
    test "$(jq_ b "s['vhids'][0]['rx']")" -gt 0

# Failover: a's cable goes down at the switch and on a.
nsx a ip link set eth0 down
if wait_for 8 is_state b MASTER; then ok "b takes over when a's link goes down"
else not_ok "failover on link down: b=$(state b)"; dump "$T_DIR/b.log"; fi
check "a drops to INIT on link loss" is_state a INIT
check "a is demoted by link loss" \
    test "$(jq_ a "s['demote']['reasons']['link']")" = 1
check "VIP moved to b" has_addr b $VIP
check "VIP removed from a" no_addr a $VIP

# Link back: a returns as BACKUP, then preempts (it has -P and advskew 0).
nsx a ip link set eth0 up
if wait_for 8 is_state a MASTER && wait_for 3 is_state b BACKUP; then
	ok "a preempts b after its link returns"
else
	not_ok "preemption: a=$(state a) b=$(state b)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "a's link demotion cleared" \
    test "$(jq_ a "s['demote']['total']")" = 0

# Bow-out: SIGTERM on the master; b sees the bow-out and takes over.
pa=$(carpd_pid a)
kill -TERM "$pa"
if wait_for 5 is_state b MASTER; then ok "b MASTER after a's SIGTERM"
else not_ok "bow-out handover: b=$(state b)"; dump "$T_DIR/b.log"; fi
check "b counted a bow-out advertisement" \
    test "$(jq_ b "s['vhids'][0]['rx_bowout']")" -ge 1
check "b took over because a bowed out" \
    test "$(jq_ b "s['vhids'][0]['last_transition']['reason']")" = \
    "master bowed out"
wait_for 3 gone "$pa"
check "a exited and removed its VIP" no_addr a $VIP
check "a logged a clean stop" grep -q stopped "$T_DIR/a.log"

# The interface disappears and comes back (a new veth): carpd captures on
# the new one and keeps following the election.
carpd_bg a -i eth0 -s 10.0.0.1 -v 1 -p secret -a $VIP/24 -b 1 -k 0 -P
wait_for 8 is_state a MASTER
wait_for 3 is_state b BACKUP
nsx b ip link del eth0
check "b: INIT without its interface" wait_for 3 is_state b INIT
ip link add "${T_PREFIX}v2" netns "$(ns sw)" type veth peer name eth0 \
    netns "$(ns b)" 2>/dev/null ||
    ip link add "${T_PREFIX}x2" netns "$(ns sw)" type veth peer name eth0 \
    netns "$(ns b)"
for p in "${T_PREFIX}v2" "${T_PREFIX}x2"; do
	nsx sw ip link set "$p" master br0 up 2>/dev/null
done
nsx b ip addr add 10.0.0.2/24 dev eth0
nsx b ip link set eth0 up
check "b: BACKUP again on the new interface" wait_for 5 is_state b BACKUP
rx0=$(jq_ b "s['vhids'][0]['rx']")
sleep 2.5
check "b receives on the new interface" \
    test "$(jq_ b "s['vhids'][0]['rx']")" -gt "$rx0"
check "b still BACKUP" is_state b BACKUP

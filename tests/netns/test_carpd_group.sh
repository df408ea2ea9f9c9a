#!/bin/sh
# test_carpd_group.sh: a firewall pair with a LAN and a WAN vhid on two
# segments. The master loses its LAN link: it demotes itself, its WAN
# advertisement carries the demotion, and the backup takes both vhids at
# once (the LAN one does not wait for its master-down timer). Then the
# same with the master's carpd stopped (bow-out on both).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b || { not_ok "topology"; exit 1; }
# The second segment ("WAN"): br1 in sw, eth1 in a and b.
nsx sw ip link add br1 type bridge
nsx sw ip link set br1 up
k=0
for h in a b; do
	k=$((k + 1))
	ip link add "${T_PREFIX}w$k" netns "$(ns sw)" type veth \
	    peer name eth1 netns "$(ns $h)"
	nsx sw ip link set "${T_PREFIX}w$k" master br1 up
	nsx $h ip link set eth1 up
	nsx $h ip addr add "10.1.0.$k/24" dev eth1
done

conf() {	# NAME SKEW
	cat >"$T_DIR/$1.conf" <<C
vhid 1 {
	interface eth0
	addr 10.0.0.100/24
	pass lan
	advbase 1
	advskew $2
	preempt yes
}
vhid 2 {
	interface eth1
	addr 10.1.0.100/24
	pass wan
	advbase 1
	advskew $2
	preempt yes
}
C
}
conf a 0
conf b 50
carpd_bg a -c "$T_DIR/a.conf"
carpd_bg b -c "$T_DIR/b.conf"
if wait_for 8 is_state a MASTER 1 && wait_for 3 is_state a MASTER 2 &&
    wait_for 3 is_state b BACKUP 1 && wait_for 3 is_state b BACKUP 2; then
	ok "a masters LAN and WAN"
else
	not_ok "setup: a=$(state a 1)/$(state a 2) b=$(state b 1)/$(state b 2)"
fi
sleep 1.2

# Sample b's two states every 20 ms while a's LAN cable is pulled.
watch() {
	i=0
	while [ $i -lt 200 ] && [ ! -e "$T_DIR/stop" ]; do
		jq_ b "' '.join(v['state'] for v in s['vhids'])" >>"$T_DIR/w"
		sleep 0.02
		i=$((i + 1))
	done
}
watch &
wp=$!
nsx a ip link set eth0 down
wait_for 6 is_state b MASTER 1
wait_for 3 is_state b MASTER 2
sleep 0.3
touch "$T_DIR/stop"
wait $wp
check "b took both vhids" sh -c "[ \"\$(tail -1 '$T_DIR/w')\" = 'MASTER MASTER' ]"
check "never one without the other on b" \
    sh -c "! grep MASTER '$T_DIR/w' | grep -qv 'MASTER MASTER'"
r1=$(jq_ b "[v for v in s['vhids'] if v['vhid']==1][0]['last_transition']['reason']")
r2=$(jq_ b "[v for v in s['vhids'] if v['vhid']==2][0]['last_transition']['reason']")
check "WAN: the master is more demoted ($r2)" \
    test "$r2" = "master is more demoted"
check "LAN moved with it, not on its timer ($r1)" \
    test "$r1" = "with vhid 2: master is more demoted"
sa=$(jq_ a "' '.join(v['state'] for v in s['vhids'])")
check "a: LAN INIT, WAN BACKUP ($sa)" test "$sa" = "INIT BACKUP"

# LAN back: a preempts both; then its carpd stops and bows out of both.
nsx a ip link set eth0 up
if wait_for 8 is_state a MASTER 1 && wait_for 3 is_state a MASTER 2; then
	ok "a preempts both back"
else
	not_ok "preempt back: a=$(state a 1)/$(state a 2)"
fi
wait_for 3 is_state b BACKUP 1
wait_for 3 is_state b BACKUP 2
pa=$(carpd_pid a)
kill -TERM "$pa"
if wait_for 3 is_state b MASTER 1 && wait_for 3 is_state b MASTER 2; then
	ok "SIGTERM: b takes both at once"
else
	not_ok "bow-out of both: b=$(state b 1)/$(state b 2)"
fi
check "b saw bow-outs" \
    test "$(jq_ b "sum(v['rx_bowout'] for v in s['vhids'])")" -ge 1

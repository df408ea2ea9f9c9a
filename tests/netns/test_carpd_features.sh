#!/bin/sh
# test_carpd_features.sh: IPv6 addresses, two vhids in one process from a
# configuration file, node-wide demotion (carpd demote, --track link loss)
# moving every vhid together, and unicast peers on a segment that drops
# CARP multicast.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b || { not_ok "topology"; exit 1; }
# A tracked link: a veth pair inside a; trk1 down takes trk0's carrier.
nsx a ip link add trk0 type veth peer name trk1
nsx a ip link set trk1 up
nsx a ip link set trk0 up

conf() {	# NAME SKEW1 SKEW2
	cat >"$T_DIR/$1.conf" <<C
# two vhids, one with IPv4 and IPv6 addresses
track trk0
vhid 1 {
	interface eth0
	pass one
	advbase 1
	advskew $2
	preempt yes
	addr 10.0.0.100/24
}
vhid 2 {
	interface eth0
	pass "two words"
	advbase 1
	advskew $3
	preempt yes
	addr 10.0.0.101/24
	addr fd00::101/64
}
C
}
conf a 0 100
conf b 100 0
sed -i '/track trk0/d' "$T_DIR/b.conf"
carpd_bg a -c "$T_DIR/a.conf"
carpd_bg b -c "$T_DIR/b.conf"

if wait_for 8 is_state a MASTER 1 && wait_for 8 is_state b MASTER 2 &&
    wait_for 3 is_state a BACKUP 2 && wait_for 3 is_state b BACKUP 1; then
	ok "two vhids: a masters vhid 1, b masters vhid 2"
else
	not_ok "two vhids: a=$(state a 1)/$(state a 2) b=$(state b 1)/$(state b 2)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "IPv6 address of vhid 2 on b" has_addr b fd00::101
check "IPv4 address of vhid 2 on b" has_addr b 10.0.0.101
check "vhid 2 addresses not on a" no_addr a fd00::101
check "a received IPv6 advertisements" test "$(counter a ipackets6)" -gt 0
check "no HMAC failures with IPv4+IPv6 addresses" \
    test "$(counter a badauth)" = 0

# Administrative demotion moves vhid 1 to b, without preemption on b.
"$CARPD" demote +1 --control "$T_DIR/a.sock" >/dev/null
if wait_for 5 is_state b MASTER 1; then ok "demoted master hands vhid 1 over"
else not_ok "demote: b vhid1=$(state b 1)"; dump "$T_DIR/b.log"; fi
check "b took over because a was more demoted" \
    test "$(jq_ b "[v for v in s['vhids'] if v['vhid']==1][0]['last_transition']['reason']")" = "master is more demoted"
check "a shows the admin demotion" \
    test "$(jq_ a "s['demote']['reasons']['admin']")" = 1
check "VIP of vhid 1 moved to b" has_addr b 10.0.0.100
"$CARPD" demote -1 --control "$T_DIR/a.sock" >/dev/null
if wait_for 5 is_state a MASTER 1; then ok "a preempts back after demote -1"
else not_ok "undemote: a vhid1=$(state a 1)"; fi

# Link loss of a tracked interface demotes the whole node.
nsx a ip link set trk1 down
if wait_for 5 is_state b MASTER 1; then
	ok "tracked interface down: vhid 1 moves to b"
else
	not_ok "track demotion: b vhid1=$(state b 1)"
	dump "$T_DIR/a.log"
fi
check "a shows the link demotion" \
    test "$(jq_ a "s['demote']['reasons']['link']")" = 1
check "a stays BACKUP of vhid 2" is_state a BACKUP 2
nsx a ip link set trk1 up
if wait_for 5 is_state a MASTER 1; then ok "tracked link back: a preempts"
else not_ok "track undemote: a vhid1=$(state a 1)"; fi

# An address flushed by someone else comes back while MASTER.
nsx a ip addr del 10.0.0.100/24 dev eth0
if wait_for 3 has_addr a 10.0.0.100; then ok "flushed VIP put back"
else not_ok "flushed VIP not restored"; fi
check "restoration counted" \
    test "$(jq_ a "[v for v in s['vhids'] if v['vhid']==1][0]['addrs_restored']")" -ge 1

for p in $(ip netns pids "$(ns a)") $(ip netns pids "$(ns b)"); do
	kill "$p" 2>/dev/null
done
wait_for 3 sh -c "[ -z \"\$(ip netns pids $(ns a))\" ]"
wait_for 3 sh -c "[ -z \"\$(ip netns pids $(ns b))\" ]"

# An IPv6-only vhid: advertisements to ff02::12 from link-locals.
carpd_bg a -i eth0 -v 3 -p six -a fd00::103/64 -k 0
carpd_bg b -i eth0 -v 3 -p six -a fd00::103/64 -k 50
if wait_for 8 is_state a MASTER && wait_for 3 is_state b BACKUP; then
	ok "IPv6-only vhid: a MASTER, b BACKUP"
else
	not_ok "IPv6-only: a=$(state a) b=$(state b)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "IPv6 VIP on a" has_addr a fd00::103
check "b receives IPv6 advertisements" \
    test "$(jq_ b "s['counters']['ipackets6']")" -gt 0
check "a sent no IPv4 advertisement" \
    test "$(jq_ a "s['counters']['opackets']")" = 0
check "a sent unsolicited NAs" test "$(counter a na)" -ge 1
for p in $(ip netns pids "$(ns a)"); do kill -9 "$p" 2>/dev/null; done
if wait_for 6 is_state b MASTER; then ok "IPv6-only: b takes over"
else not_ok "IPv6-only failover: b=$(state b)"; fi
check "IPv6 VIP on b" has_addr b fd00::103
for p in $(ip netns pids "$(ns b)"); do kill "$p" 2>/dev/null; done
wait_for 3 sh -c "[ -z \"\$(ip netns pids $(ns b))\" ]"
nsx a ip addr del fd00::103/64 dev eth0 2>/dev/null

# Unicast: the switch drops CARP multicast; peers still elect.
nsx sw nft -f - <<N
table bridge carpt {
	chain c {
		type filter hook forward priority 0;
		ip daddr 224.0.0.18 drop
		ip6 daddr ff02::12 drop
	}
}
N
carpd_bg a -i eth0 -v 9 -p uni -a 10.0.0.109/24 -k 0 --peer 10.0.0.2
carpd_bg b -i eth0 -v 9 -p uni -a 10.0.0.109/24 -k 50 --peer 10.0.0.1
if wait_for 8 is_state a MASTER && wait_for 3 is_state b BACKUP; then
	sleep 1.5
	if is_state b BACKUP; then ok "unicast peers elect a MASTER"
	else not_ok "unicast: b became $(state b)"; fi
else
	not_ok "unicast: a=$(state a) b=$(state b)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "b receives a's unicast advertisements" \
    test "$(jq_ b "s['vhids'][0]['rx']")" -gt 0
for p in $(ip netns pids "$(ns a)") $(ip netns pids "$(ns b)"); do
	kill "$p" 2>/dev/null
done
wait_for 3 sh -c "[ -z \"\$(ip netns pids $(ns a))\$(ip netns pids $(ns b))\" ]"

# Unicast over IPv6, still without multicast.
carpd_bg a -i eth0 -v 10 -p uni6 -a fd00::110/64 -k 0 --peer fd00::2
carpd_bg b -i eth0 -v 10 -p uni6 -a fd00::110/64 -k 50 --peer fd00::1
if wait_for 8 is_state a MASTER && wait_for 3 is_state b BACKUP; then
	sleep 1.5
	if is_state b BACKUP; then ok "IPv6 unicast peers elect a MASTER"
	else not_ok "IPv6 unicast: b became $(state b)"; fi
else
	not_ok "IPv6 unicast: a=$(state a) b=$(state b)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "b counts IPv6 advertisements" \
    test "$(jq_ b "s['counters']['ipackets6']")" -gt 0
for p in $(ip netns pids "$(ns a)") $(ip netns pids "$(ns b)"); do
	kill "$p" 2>/dev/null
done
wait_for 3 sh -c "[ -z \"\$(ip netns pids $(ns a))\$(ip netns pids $(ns b))\" ]"

# Unicast from a chosen source address (srcip): it is on the wire.
nsx a ip addr add 10.0.0.11/24 dev eth0
carpd_bg a -i eth0 -v 11 -p uni -a 10.0.0.111/24 -k 0 -s 10.0.0.11 \
    --peer 10.0.0.2
nsx b timeout 8 tcpdump -n -i eth0 -c 2 "ip proto 112 and src 10.0.0.11" \
    >"$T_DIR/src.txt" 2>/dev/null
check "unicast advertisements leave from srcip 10.0.0.11" \
    test "$(grep -c "10.0.0.11 > 10.0.0.2" "$T_DIR/src.txt")" -ge 1

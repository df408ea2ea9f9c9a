#!/bin/sh
# test_carpd_vmac.sh: the virtual MAC mode: a macvlan with
# 00:00:5e:00:01:<vhid> holds the address while MASTER, a client's ARP
# entry for it never changes on failover, and the macvlan is removed on
# exit. Also split brain: one-way loss makes both MASTER; the winner
# counts it, and re-announces its address when it ends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b c || { not_ok "topology"; exit 1; }
VIP=10.0.0.105
VMAC=00:00:5e:00:01:05

carpd_bg a -i eth0 -v 5 -p vm -a $VIP/24 -k 0 --vmac
carpd_bg b -i eth0 -v 5 -p vm -a $VIP/24 -k 50 --vmac
if wait_for 8 is_state a MASTER && wait_for 3 is_state b BACKUP; then
	ok "vmac: a MASTER, b BACKUP"
else
	not_ok "vmac election: a=$(state a) b=$(state b)"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
vif() { nsx "$1" ip -o link show | grep -o 'carp5[^:@]*' | head -1; }
va=$(vif a)
check "a has a macvlan for vhid 5 ($va)" test -n "$va"
check "its MAC is $VMAC" sh -c "ip netns exec $(ns a) ip link show $va | grep -q $VMAC"
check "VIP on the macvlan" sh -c "ip netns exec $(ns a) ip -o addr show dev $va | grep -q ' $VIP/'"
check "VIP not on eth0" sh -c "! ip netns exec $(ns a) ip -o addr show dev eth0 | grep -q ' $VIP/'"
pingq() { nsx c ping -c 1 -W "$1" $VIP >/dev/null 2>&1; }
check "client reaches the VIP" pingq 2
check "client's ARP entry is the virtual MAC" \
    sh -c "ip netns exec $(ns c) ip neigh show $VIP | grep -q $VMAC"

nsx a ip link set eth0 down
if wait_for 8 is_state b MASTER; then ok "vmac: b takes over"
else not_ok "vmac failover: b=$(state b)"; dump "$T_DIR/b.log"; fi
check "client still reaches the VIP" wait_for 5 pingq 1
check "client's ARP entry unchanged (virtual MAC)" \
    sh -c "ip netns exec $(ns c) ip neigh show $VIP | grep -q $VMAC"
nsx a ip link set eth0 up
wait_for 8 is_state a BACKUP

pa=$(carpd_pid a)
kill "$pa"
wait_for 5 gone "$pa"
check "a removed its macvlan on exit" sh -c "[ -z \"\$(ip netns exec $(ns a) ip -o link show | grep carp5)\" ]"
pb=$(carpd_pid b)
kill "$pb"
wait_for 5 gone "$pb"

# Split brain: the switch drops CARP from a to b only.
carpd_bg a -i eth0 -v 6 -p sb -a 10.0.0.106/24 -k 0
wait_for 8 is_state a MASTER
nsx sw nft -f - <<N
table bridge sb {
	chain c {
		type filter hook forward priority 0;
		iifname "${T_PREFIX}v1" ip protocol 112 drop
	}
}
N
carpd_bg b -i eth0 -v 6 -p sb -a 10.0.0.106/24 -k 50
if wait_for 8 is_state b MASTER; then ok "one-way loss: b becomes MASTER too"
else not_ok "split brain setup: b=$(state b)"; fi
sb() { [ "$(jq_ a "s['vhids'][0]['split_brain']")" -ge 1 ] 2>/dev/null; }
check "a counts the split brain" wait_for 4 sb
check "a logs it" grep -q "another MASTER seen" "$T_DIR/a.log"
check "a stays MASTER" is_state a MASTER
g0=$(counter a garp)
nsx sw nft delete table bridge sb
if wait_for 5 is_state b BACKUP; then ok "b yields once it hears a"
else not_ok "b after the split: $(state b)"; fi
check "a logs the end of the contention" \
    wait_for 6 grep -q "contention ended" "$T_DIR/a.log"
garp_more() { [ "$(counter a garp)" -gt "$g0" ] 2>/dev/null; }
check "a re-announced its address" wait_for 3 garp_more

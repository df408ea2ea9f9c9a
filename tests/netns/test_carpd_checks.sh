#!/bin/sh
# test_carpd_checks.sh: health checks. A failing exec check demotes the
# master by its weight and the backup takes over; rise successes bring it
# back (preempt). A hung exec check is counted failed and killed with its
# whole process group. An interface check and ping checks (IPv4, IPv6)
# through a link whose far end stops answering. status lists the checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b || { not_ok "topology"; exit 1; }
ns_add gw || { not_ok "namespace gw"; exit 1; }
# a's uplink (interface check): up1 down takes up0's carrier.
nsx a ip link add up0 type veth peer name up1
nsx a ip link set up1 up
nsx a ip link set up0 up
# a's gateway (ping checks), in a namespace of its own.
ip link add "${T_PREFIX}w0" netns "$(ns a)" type veth peer name wan1 \
    netns "$(ns gw)" || { not_ok "gateway link"; exit 1; }
nsx a ip link set "${T_PREFIX}w0" name wan0
nsx a ip addr add 192.168.7.1/24 dev wan0
nsx a ip -6 addr add fd07::1/64 dev wan0 nodad
nsx a ip link set wan0 up
nsx gw ip addr add 192.168.7.2/24 dev wan1
nsx gw ip -6 addr add fd07::2/64 dev wan1 nodad
nsx gw ip link set wan1 up

touch "$T_DIR/svc.ok"
cat >"$T_DIR/a.conf" <<C
check svc {
	exec "/bin/sh -c 'test -f \\"$T_DIR/svc.ok\\"'"
	interval 0.3 rise 3 fall 2 weight 20
}
check uplink { interface up0 interval 0.5 weight 30 }
check gw4 {
	ping 192.168.7.2 via wan0
	interval 0.5 timeout 0.4 rise 2 fall 2 weight 40
}
check gw6 {
	ping fd07::2 via wan0
	interval 0.5 timeout 0.4 rise 2 fall 2 weight 50
}
vhid 1 {
	interface eth0
	pass s
	advskew 0
	preempt yes
	addr 10.0.0.100/24
}
C
cat >"$T_DIR/hang.sh" <<S
#!/bin/sh
[ -e "$T_DIR/hang.on" ] || exit 0
sleep 120 &
echo \$\$ \$! >>"$T_DIR/hang.pids"
wait
S
chmod +x "$T_DIR/hang.sh"
cat >"$T_DIR/b.conf" <<C
check hang {
	exec $T_DIR/hang.sh
	interval 1.5 timeout 0.7 weight 7
}
vhid 1 {
	interface eth0
	pass s
	advskew 100
	preempt yes
	addr 10.0.0.100/24
}
C
carpd_bg a -c "$T_DIR/a.conf"
carpd_bg b -c "$T_DIR/b.conf"

chk() {	# NAME CHECK KEY: a field of a check in the status JSON
	jq_ "$1" "[c for c in s['checks'] if c['name']=='$2'][0]['$3']"
}
chk_is() { [ "$(chk "$1" "$2" "$3")" = "$4" ]; }
dem_check() { [ "$(jq_ "$1" "s['demote']['reasons']['check']")" = "$2" ]; }

if wait_for 10 is_state a MASTER && wait_for 5 is_state b BACKUP; then
	ok "a with passing checks is MASTER"
else
	not_ok "start: a=$(state a) b=$(state b)"; dump "$T_DIR/a.log"
fi
check "a: every check ok, no check demotion" wait_for 5 dem_check a 0
check "status --json lists the checks (name, state, weight, last)" \
    test "$(jq_ a "[(c['name'],c['state'],c['weight']) for c in s['checks']]")" = \
    "[('svc', 'ok', 20), ('uplink', 'ok', 30), ('gw4', 'ok', 40), ('gw6', 'ok', 50)]"
check "exec check: last result exit 0" chk_is a svc last "exit 0"
check "ping check: last result an rtt" \
    sh -c "\"$CARPD\" status --json --control '$T_DIR/a.sock' | grep -q '\"last\":\"rtt '"
if "$CARPD" status --control "$T_DIR/a.sock" |
    grep -q "^check uplink (interface up0): ok for .*, last link up, weight 30"
then ok "text status lists the checks"
else not_ok "text status: $("$CARPD" status --control "$T_DIR/a.sock")"; fi

# The exec check fails: a is demoted by 20, b takes over.
rm "$T_DIR/svc.ok"
if wait_for 5 is_state b MASTER; then ok "failing exec check: b takes over"
else not_ok "exec failure: a=$(state a) b=$(state b)"; dump "$T_DIR/a.log"; fi
check "a demoted by the check's weight" dem_check a 20
check "the check is failed, last exit 1" chk_is a svc state failed
check "... last exit 1" chk_is a svc last "exit 1"
check "b took over a more demoted master" test \
    "$(jq_ b "s['vhids'][0]['last_transition']['reason']")" = \
    "master is more demoted"
touch "$T_DIR/svc.ok"
runs0=$(chk a svc runs)
if wait_for 5 is_state a MASTER; then
	ok "exec check passes again: a preempts back"
else
	not_ok "recovery: a=$(state a)"; dump "$T_DIR/a.log"
fi
check "recovery took rise (3) successes" \
    test "$(chk a svc runs)" -ge $((runs0 + 3))
check "no check demotion after recovery" dem_check a 0

# A hung exec check: failed at its timeout, killed with its group.
touch "$T_DIR/hang.on"
if wait_for 5 chk_is b hang last timeout; then
	ok "hung exec check counted failed (timeout)"
else
	not_ok "hung check: $(chk b hang last)"; dump "$T_DIR/b.log"
fi
check "hung check state failed" chk_is b hang state failed
check "b demoted by the hung check's weight" dem_check b 7
check "a stays MASTER over the demoted backup" is_state a MASTER
rm "$T_DIR/hang.on"
all_gone() {
	[ -s "$T_DIR/hang.pids" ] || return 1
	for p in $(cat "$T_DIR/hang.pids"); do pid_gone "$p" || return 1; done
}
check "the hung command and the child it forked are killed" \
    wait_for 4 all_gone
check "hung check ok again" wait_for 4 chk_is b hang state ok
check "the timeouts are counted" test "$(chk b hang timeouts)" -ge 1

# Interface check: up0 loses its carrier.
nsx a ip link set up1 down
if wait_for 5 is_state b MASTER; then ok "interface check: b takes over"
else not_ok "interface check: b=$(state b)"; dump "$T_DIR/a.log"; fi
check "a demoted by 30, last no link" chk_is a uplink last "no link"
check "... demotion 30" dem_check a 30
nsx a ip link set up1 up
check "link back: a MASTER again" wait_for 5 is_state a MASTER

# Ping checks: the gateway stops answering echo requests (IPv4 and IPv6).
nsx gw nft -f - <<N
table inet ${T_PREFIX}drop {
	chain in {
		type filter hook input priority 0;
		icmp type echo-request drop
		icmpv6 type echo-request drop
	}
}
N
if wait_for 6 is_state b MASTER; then ok "ping checks: b takes over"
else not_ok "ping: b=$(state b)"; dump "$T_DIR/a.log"; fi
check "ping checks failed on timeout, demotion 40 + 50" \
    wait_for 3 dem_check a 90
check "IPv4 ping check: last timeout" chk_is a gw4 last timeout
check "IPv6 ping check: last timeout" chk_is a gw6 last timeout
nsx gw nft delete table inet "${T_PREFIX}drop"
check "gateway answers again: a MASTER" wait_for 6 is_state a MASTER
check "ping checks ok" wait_for 3 dem_check a 0

# Demotion reasons, the log.
check "a logged the check changes" grep -q "check svc: failed (exit 1)" \
    "$T_DIR/a.log"

#!/bin/sh
# test_carpd_ucarp.sh: interoperation with Debian's ucarp on one segment,
# both directions: the better advskew wins whichever daemon holds it, the
# other takes over when it dies, and a wrong passphrase is rejected and
# counted on both sides.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

UCARP=$(command -v ucarp || echo /usr/sbin/ucarp)
if [ ! -x "$UCARP" ]; then
	skip "ucarp interop" "ucarp is not installed"
	exit 0
fi
topo a b || { not_ok "topology"; exit 1; }
VIP=10.0.0.100

cat >"$T_DIR/up.sh" <<'S'
#!/bin/sh
ip addr add "$2/24" dev "$1"
S
cat >"$T_DIR/down.sh" <<'S'
#!/bin/sh
ip addr del "$2/24" dev "$1" 2>/dev/null
exit 0
S
chmod +x "$T_DIR/up.sh" "$T_DIR/down.sh"

ucarp_bg() {	# NAME SRC SKEW PASS
	bg "$1" "$T_DIR/ucarp-$1.log" "$UCARP" -i eth0 -s "$2" -v 7 \
	    -p "$4" -a $VIP -b 1 -k "$3" -P -u "$T_DIR/up.sh" \
	    -d "$T_DIR/down.sh" >/dev/null
}
stop_all() {
	for p in $(ip netns pids "$(ns a)") $(ip netns pids "$(ns b)"); do
		kill -9 "$p" 2>/dev/null
	done
	sleep 0.3
	nsx a ip addr del $VIP/24 dev eth0 2>/dev/null
	nsx b ip addr del $VIP/24 dev eth0 2>/dev/null
}

# 1. carpd holds the better advskew.
carpd_bg a -i eth0 -s 10.0.0.1 -v 7 -p pw7 -a $VIP/24 -b 1 -k 0 -P
ucarp_bg b 10.0.0.2 100 pw7
if wait_for 8 is_state a MASTER && wait_for 4 no_addr b $VIP; then
	sleep 2
	if is_state a MASTER && no_addr b $VIP; then
		ok "carpd (advskew 0) is MASTER over ucarp (advskew 100)"
	else
		not_ok "carpd lost mastership to a worse ucarp"
	fi
else
	not_ok "carpd master over ucarp: a=$(state a)"
	dump "$T_DIR/a.log" "$T_DIR/ucarp-b.log"
fi
check "no advertisement rejected as badauth by carpd" \
    test "$(counter a badauth)" = 0
check "ucarp saw no bad digest from carpd" \
    sh -c "! grep -qi 'bad digest' '$T_DIR/ucarp-b.log'"
check "VIP on carpd's host" has_addr a $VIP
pa=$(carpd_pid a)
kill -9 "$pa"
if wait_for 8 has_addr b $VIP; then ok "ucarp takes over when carpd dies"
else not_ok "ucarp takeover"; dump "$T_DIR/ucarp-b.log"; fi
stop_all

# 2. ucarp holds the better advskew.
ucarp_bg b 10.0.0.2 0 pw7
sleep 0.5
carpd_bg a -i eth0 -s 10.0.0.1 -v 7 -p pw7 -a $VIP/24 -b 1 -k 100 -P
if wait_for 8 has_addr b $VIP && wait_for 5 is_state a BACKUP; then
	sleep 2
	if is_state a BACKUP && has_addr b $VIP; then
		ok "ucarp (advskew 0) is MASTER over carpd (advskew 100)"
	else
		not_ok "carpd took mastership from a better ucarp"
	fi
else
	not_ok "ucarp master over carpd: a=$(state a)"
	dump "$T_DIR/a.log" "$T_DIR/ucarp-b.log"
fi
check "carpd counts ucarp's advertisements" \
    test "$(jq_ a "s['vhids'][0]['rx']")" -gt 0
check "VIP not on carpd's host while BACKUP" no_addr a $VIP
for p in $(ip netns pids "$(ns b)"); do kill -9 "$p" 2>/dev/null; done
if wait_for 8 is_state a MASTER; then ok "carpd takes over when ucarp dies"
else not_ok "carpd takeover from ucarp: a=$(state a)"; dump "$T_DIR/a.log"; fi
check "carpd added the VIP" has_addr a $VIP
stop_all

# 3. Wrong passphrase on either side.
carpd_bg a -i eth0 -s 10.0.0.1 -v 7 -p right -a $VIP/24 -b 1 -k 0
ucarp_bg b 10.0.0.2 100 wrong
badauth_seen() { [ "$(counter a badauth)" -gt 0 ] 2>/dev/null; }
if wait_for 10 badauth_seen; then
	ok "carpd rejects ucarp's ads with a wrong passphrase (badauth)"
else
	not_ok "carpd badauth counter: $(counter a badauth)"
fi
if wait_for 8 grep -qi "bad digest" "$T_DIR/ucarp-b.log"; then
	ok "ucarp rejects carpd's ads with a wrong passphrase (Bad digest)"
else
	not_ok "ucarp did not log Bad digest"; dump "$T_DIR/ucarp-b.log"
fi
check "carpd's per-vhid badauth counter" \
    test "$(jq_ a "s['vhids'][0]['badauth']")" -gt 0
stop_all

# 4. --demote-skew: ucarp ignores the demote byte but sees the demotion
# folded into advskew, and preempts a demoted carpd.
: >"$T_DIR/ucarp-b.log"
carpd_bg a -i eth0 -s 10.0.0.1 -v 7 -p pw7 -a $VIP/24 -b 1 -k 0 \
    --demote-skew
wait_for 8 is_state a MASTER
ucarp_bg b 10.0.0.2 50 pw7
sleep 2
check "undemoted carpd stays MASTER over ucarp" is_state a MASTER
"$CARPD" demote +100 --control "$T_DIR/a.sock" >/dev/null
check "carpd advertises advskew 0 + 100" \
    test "$(jq_ a "s['vhids'][0]['advskew_sent']")" = 100
if wait_for 6 is_state a BACKUP && wait_for 4 has_addr b $VIP; then
	ok "ucarp preempts a demoted carpd (demotion folded into advskew)"
else
	not_ok "demote-skew: a=$(state a)"
	dump "$T_DIR/a.log" "$T_DIR/ucarp-b.log"
fi
stop_all

# 5. ucarp's --nomcast (Ethernet broadcast) and --deadratio on both sides.
: >"$T_DIR/ucarp-b.log"
carpd_bg a -i eth0 -s 10.0.0.1 -v 7 -p pw7 -a $VIP/24 -b 1 -k 0 -M -r 2
wait_for 8 is_state a MASTER
bg b "$T_DIR/ucarp-b.log" "$UCARP" -i eth0 -s 10.0.0.2 -v 7 -p pw7 \
    -a $VIP -b 1 -k 50 -M -r 2 -u "$T_DIR/up.sh" -d "$T_DIR/down.sh" \
    >/dev/null
sleep 3
check "--nomcast: ucarp stays BACKUP under carpd" no_addr b $VIP
check "--nomcast: carpd stays MASTER" is_state a MASTER
check "carpd's master-down uses the dead ratio" \
    test "$(jq_ a "s['vhids'][0]['timers']['master_down_interval_ms']")" = 2000
pa=$(carpd_pid a)
kill -9 "$pa"
if wait_for 6 has_addr b $VIP; then ok "--nomcast: ucarp takes over"
else not_ok "--nomcast takeover"; dump "$T_DIR/ucarp-b.log"; fi

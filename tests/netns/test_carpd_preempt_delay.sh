#!/bin/sh
# test_carpd_preempt_delay.sh: preempt-delay. A preempting node that
# restarts waits the delay before taking mastership back from a slower
# master (at least the delay, less than the delay and a few advertisement
# intervals); a link coming back restarts it, also in the middle of a
# hold. The down script reports BACKUP when a vhid settles there after
# start, also when its link only comes later.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

DELAY=4
topo a b || { not_ok "topology"; exit 1; }
# A tracked link in a: trk1 down takes trk0's carrier.
nsx a ip link add trk0 type veth peer name trk1
nsx a ip link set trk1 up
nsx a ip link set trk0 up

cat >"$T_DIR/down.sh" <<S
#!/bin/sh
echo "down \$CARP_STATE [\$CARP_REASON]" >>"$T_DIR/calls"
S
chmod +x "$T_DIR/down.sh"
cat >"$T_DIR/a.conf" <<C
track trk0
preempt-delay 30
vhid 1 {
	interface eth0
	pass s
	advskew 0
	preempt yes
	preempt-delay $DELAY
	downscript $T_DIR/down.sh
	addr 10.0.0.100/24
}
C
cat >"$T_DIR/b.conf" <<C
vhid 1 {
	interface eth0
	pass s
	advskew 100
	preempt yes
	addr 10.0.0.100/24
}
C

now() { date +%s.%N; }
# within T0 T1 MIN MAX: MIN <= T1 - T0 < MAX
within() { python3 -c "import sys; d=$2-$1; print('%.2f s' % d); sys.exit(0 if $3 <= d < $4 else 1)"; }
# when_master NAME: wall time of the vhid's last transition (to MASTER).
when_master() { jq_ "$1" "'%.3f' % s['vhids'][0]['last_transition']['time']"; }
within_q() { within "$@" >/dev/null; }
hold_left() { jq_ a "s['vhids'][0]['preempt_hold_s']"; }
held() { python3 -c "import sys; sys.exit(0 if float('$(hold_left)') > 0 else 1)"; }

carpd_bg b -c "$T_DIR/b.conf"
wait_for 8 is_state b MASTER || not_ok "b alone did not become MASTER"

# a starts: held back for DELAY s, then preempts b.
t0=$(now)
carpd_bg a -c "$T_DIR/a.conf"
check "a starts BACKUP and holds preemption back" wait_for 5 held
check "... BACKUP" is_state a BACKUP
check "status shows the per-vhid delay (not the global one)" \
    test "$(jq_ a "s['vhids'][0]['preempt_delay']")" = "$DELAY"
check "the down script ran at start (BACKUP)" \
    wait_for 3 grep -q "^down BACKUP" "$T_DIR/calls"
if wait_for $((DELAY + 6)) is_state a MASTER; then
	t1=$(when_master a)
	if d=$(within "$t0" "$t1" "$DELAY" "$DELAY + 3"); then
		ok "after start, a preempted after the delay ($d)"
	else
		not_ok "after start, preempted after $d (delay $DELAY)"
		dump "$T_DIR/a.log" "$T_DIR/b.log"
	fi
else
	not_ok "a never preempted: $(state a)"; dump "$T_DIR/a.log"
fi
check "a logged the hold" grep -q "not preempted for" "$T_DIR/a.log"
check "b BACKUP" wait_for 3 is_state b BACKUP

# A link flap: a demoted by the lost link, b takes over; when the link
# comes back, a waits the delay again. A second flap during the hold
# restarts it.
nsx a ip link set trk1 down
check "tracked link down: b takes over" wait_for 5 is_state b MASTER
t2=$(now)
nsx a ip link set trk1 up
check "link back: a holds preemption back" wait_for 2 held
sleep 2
if is_state b MASTER; then ok "2 s into the hold, b still MASTER"
else not_ok "2 s into the hold: b $(state b)"; dump "$T_DIR/a.log"; fi
nsx a ip link set trk1 down
sleep 0.3
t3=$(now)
nsx a ip link set trk1 up
if wait_for $((DELAY + 6)) is_state a MASTER; then
	t4=$(when_master a)
	if d=$(within "$t3" "$t4" "$DELAY" "$DELAY + 3"); then
		ok "second flap restarted the delay ($d after it)"
	else
		not_ok "after the second flap, preempted after $d"
		dump "$T_DIR/a.log"
	fi
	check "... so more than the delay after the first ($(within "$t2" \
	    "$t4" 0 99))" within_q "$t2" "$t4" "$DELAY + 2" 99
else
	not_ok "a never preempted after the flaps"; dump "$T_DIR/a.log"
fi
check "no hold left once MASTER" test "$(hold_left)" = "0.0"

# The master going away is not held: a restarted while b is master
# takes over at once when b stops (it bows out), not after the delay.
pa=$(carpd_pid a)
kill "$pa"
wait_for 5 pid_gone "$pa"
wait_for 5 is_state b MASTER
sed "s/preempt-delay $DELAY/preempt-delay 30/" "$T_DIR/a.conf" >"$T_DIR/a30.conf"
carpd_bg a -c "$T_DIR/a30.conf"
check "restarted a holds (30 s)" wait_for 5 held
t5=$(now)
kill "$(carpd_pid b)"
if wait_for 3 is_state a MASTER; then
	t6=$(when_master a)
	check "master gone: taken over at once ($(within "$t5" "$t6" 0 99)), \
not after the delay" within_q "$t5" "$t6" 0 3
	check "... because it bowed out" test \
	    "$(jq_ a "s['vhids'][0]['last_transition']['reason']")" = \
	    "master bowed out"
else
	not_ok "a did not take over from a bowing-out master"
fi

# Initial notification: a vhid without link (no carrier) at start stays
# INIT; when the link comes, it settles in BACKUP and the down script
# says so.
pa=$(carpd_pid a)
kill "$pa"
wait_for 5 pid_gone "$pa"
swport 1 down
: >"$T_DIR/calls"
carpd_bg a -c "$T_DIR/a.conf"
check "no link at start: INIT" wait_for 3 is_state a INIT
check "no script while INIT" test ! -s "$T_DIR/calls"
carpd_bg b -c "$T_DIR/b.conf"
swport 1 up
check "link up: BACKUP" wait_for 5 is_state a BACKUP
check "down script reports the BACKUP it settled in" \
    wait_for 3 grep -q "^down BACKUP" "$T_DIR/calls"
check "once" test "$(grep -c . "$T_DIR/calls")" = 1

#!/bin/sh
# test_syncd_paths.sh: redundant sync paths. A and B are joined by two
# links (two veth pairs, two subnets); each syncd has the other as one
# peer with two addresses (--peer X1,X2, --listen Y1,Y2). During a burst
# of 100,000 states on A, link 1 goes down: the traffic moves to link 2
# within about a second, B ends with every state, no bulk is asked for or
# sent, nothing is skipped or lost, and the "sync link down" demotion does
# not appear. Link 1 back: its path comes up and, after the hold-down,
# carries the traffic again. Both links down: "sync link down". Link 2
# alone: the peer is back; a restart of B finds it. A reload gives a peer
# that had one address a second one. The lists in the config file and on
# the command line, and their errors, come first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd paths" "ctgen not built"; exit 0; }
command -v python3 >/dev/null 2>&1 || { skip "syncd paths" "python3 missing"; exit 0; }

# The lists in the config file and on the command line (--check).
C=$T_DIR/p.conf
printf 'peer 10.0.0.2, 10.1.0.2\nlisten 10.0.0.1 10.1.0.1\npeer fd00::1\n' >"$C"
"$SYNCD" -c "$C" --check >"$T_DIR/chk" 2>&1
check "a config with lists and mixed families: exit 2" test $? = 2
printf 'peer 10.0.0.2, 10.1.0.2\nlisten 10.0.0.1 10.1.0.1\npeer 10.0.0.3\n' >"$C"
if "$SYNCD" -c "$C" --check >"$T_DIR/chk" 2>&1 &&
    grep -qx 'peer 10.0.0.2,10.1.0.2' "$T_DIR/chk" &&
    grep -qx 'peer 10.0.0.3' "$T_DIR/chk" &&
    grep -qx 'listen 10.0.0.1,10.1.0.1' "$T_DIR/chk"; then
	ok "peer and listen lists (commas, blanks) print as a,b"
else
	not_ok "peer and listen lists print as a,b"; sed 's/^/#   /' "$T_DIR/chk"
fi
grep -v '^#' "$T_DIR/chk" >"$T_DIR/chk.conf"
"$SYNCD" -c "$T_DIR/chk.conf" --check 2>&1 | grep -v '^#' >"$T_DIR/chk2"
check "--check's output reads back the same" cmp -s "$T_DIR/chk.conf" "$T_DIR/chk2"
bad() {
	printf "$1\n" >"$C"
	"$SYNCD" -c "$C" --check >"$T_DIR/bad" 2>&1
	rc=$?
	w=$(printf '%s' "$1" | sed 's/\\n/; /g')
	if [ $rc = 2 ] && grep -q "$2" "$T_DIR/bad"; then
		ok "refused ($(cat "$T_DIR/bad")): $w"
	else
		not_ok "refused: $w (exit $rc)"; sed 's/^/#   /' "$T_DIR/bad"
	fi
}
bad 'peer 10.0.0.2,,10.1.0.2' "p.conf:1: bad peer .*an empty item"
bad 'peer 10.0.0.2,' "p.conf:1: bad peer .*an empty item"
bad 'peer 10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6' "p.conf:1: .*more than 4"
bad 'peer 10.0.0.2,fd00::2' "p.conf:1: .*one family"
bad 'peer 10.0.0.2\npeer 10.0.0.3,10.0.0.2' "p.conf:2: peer 10.0.0.2 given twice"
bad 'peer 10.0.0.2,10.1.0.2\nlisten 10.0.0.1' "listen gives 1 address for 2 paths"
bad 'peer 10.0.0.2,10.1.0.2\ninterface eth9' "interface gives 1 interface for 2 paths"
bad 'peer 10.0.0.2,10.1.0.2\nlisten 10.0.0.1,10.0.0.1' "p.conf:2: listen address 10.0.0.1 given twice"
"$SYNCD" --peer "10.0.0.2, 10.1.0.2" --listen 10.0.0.1,10.1.0.1 --check \
    >"$T_DIR/chk" 2>&1
check "--peer takes a list too" grep -qx 'peer 10.0.0.2,10.1.0.2' "$T_DIR/chk"

N=100000
ns_add a b
link a 10.9.0.1 b 10.9.0.2
# The second link between the same two namespaces: names of its own.
link a 10.10.0.1 b 10.10.0.2 2
L2A="${T_PREFIX}ab2"
L1A="${T_PREFIX}ab"

start_syncd a 10.9.0.1,10.10.0.1 10.9.0.2,10.10.0.2
start_syncd b 10.9.0.2,10.10.0.2 10.9.0.1,10.10.0.1

# pj NODE EXPR: evaluate EXPR over the node's status --json (s; p is the
# first peer, path(ADDR) its path with that address).
pj() {
	sctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    print("no status"); sys.exit(0)
p = s["peers"][0]
def path(a):
    return [q for q in p["paths"] if q["address"] == a][0]
print(eval(sys.argv[1]))' "$2"
}
# is NODE EXPR: EXPR is True.
is() { [ "$(pj "$1" "$2")" = True ]; }

if wait_for 20 has a demote 0 && wait_for 20 has b demote 0; then
	ok "both nodes finish their first bulk"
else
	not_ok "both nodes finish their first bulk"; dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "A's status lists both paths to B, the first active" wait_for 10 is a \
    "[q['address'] for q in p['paths']] == ['10.9.0.2', '10.10.0.2'] and path('10.9.0.2')['active'] and not path('10.10.0.2')['active']"
all_up() {
	is a "[q['state'] for q in p['paths']] == ['up', 'up']" &&
	    is b "[q['state'] for q in p['paths']] == ['up', 'up']"
}
check "both paths are up on both nodes" wait_for 10 all_up
check "the paths carry probes both ways" is b \
    "path('10.10.0.1')['rx_frames'] > 0 and path('10.10.0.1')['tx_frames'] > 0"

# What must not change across the cut.
COUNTERS="p['bulks_sent'], p['bulks_received'], p['skips'], p['lost']"
A0=$(pj a "$COUNTERS"); B0=$(pj b "$COUNTERS")
bulk_lines() { cat "$T_DIR/a.log" "$T_DIR/b.log" | grep -c 'event=bulk'; }
BL0=$(bulk_lines)

# The burst; link 1 goes down while it streams. It is held to 25,000
# states a second (4 s in all): unpaced, a fast machine had imported and
# sent all of it before this script, polling B, could cut the link.
nsx a "$CTGEN" -n $N -r 25000 >"$T_DIR/gen.out" 2>&1 &
GEN=$!
T_PIDS="$T_PIDS $GEN"
wait_for 30 ge b external 5000
AT=$(jnum b external)
SW='event=path-switch peer=10.9.0.1 from=10.9.0.1 to=10.10.0.1 reason=down'
switches() { grep -c "$SW" "$T_DIR/b.log"; }
switched() { [ "$(switches)" -gt "$S0" ]; }
S0=$(switches)
T0=$(date +%s%N)
nsx a ip link set "$L1A" down
# B sees only silence on link 1 (its end lost carrier); A finds no route.
if wait_for 10 switched; then
	MS=$((($(date +%s%N) - T0) / 1000000))
	ok "B moves to path 2 ${MS} ms after link 1 went down (B had $AT states then)"
	# From here: the command that cuts the link and the log polling
	# count too (on a loaded machine, hundreds of ms); the daemon's own
	# figure is the silence below.
	check "... within 2.5 s as seen from here" [ "$MS" -lt 2500 ]
else
	not_ok "B moves to path 2"; pj b "p['paths']" | sed 's/^/#   /'
fi
# Down by its own silence (timeout) or by A's report that A no longer
# hears B on it (unheard), whichever came first: both 0.6 s of silence,
# judged every 50 ms. When A's own loop is held up right after the cut
# (a loaded machine, A resending its window in the middle of the burst),
# B judges the path 0.6 s after A is heard again: that wait counts into
# the silence too, hence the bound of 1.5 s here; 0.6 to 0.7 s is usual.
SIL=$(sed -n 's/.*event=path peer=10.9.0.1 path=10.9.0.1 from=up to=down reason=[a-z]* silent_ms=\([0-9]*\).*/\1/p' \
    "$T_DIR/b.log" | tail -1)
in_range() { [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }
if in_range "${SIL:-9999}" 450 1500; then
	ok "B declared path 1 down after $SIL ms of silence (0.6 s, 1.5 s at most)"
else
	not_ok "B declared path 1 down after ${SIL:-?} ms of silence (0.6 s, 1.5 s at most)"
	grep 'event=pat\|event=peer' "$T_DIR/a.log" "$T_DIR/b.log" |
	    sed 's/^/#   /'
fi
check "B's status: path 2 active, path 1 down" is b \
    "path('10.10.0.1')['active'] and path('10.9.0.1')['state'] == 'down'"
check "A has moved to path 2 too" is a \
    "path('10.10.0.2')['active'] and path('10.9.0.2')['state'] == 'down'"
check "link 1 went down in the middle of the burst ($AT of $N at B)" \
    [ "${AT:-0}" -lt $N ]
wait $GEN
check "the burst is in A's table" grep -q "imported $N" "$T_DIR/gen.out"
if wait_for 60 has b external $N; then
	ok "B ends with all $N states"
else
	not_ok "B ends with all $N states ($(jnum b external))"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "A holds them as its own" has a internal $N
if sctl a diff >"$T_DIR/diff" 2>&1 && grep -q "(identical)" "$T_DIR/diff"; then
	ok "syncd diff on A: B holds exactly A's table"
else
	not_ok "syncd diff on A"; sed 's/^/#   /' "$T_DIR/diff" | head
fi
check "B shows path 1 down and path 2 active" wait_for 10 is b \
    "path('10.9.0.1')['state'] == 'down' and path('10.10.0.1')['active'] and path('10.10.0.1')['state'] == 'up'"
check "A logged the switch" grep -q \
    'event=path-switch peer=10.9.0.2 from=10.9.0.2 to=10.10.0.2 reason=down' \
    "$T_DIR/a.log"
check "B logged the switch" grep -q \
    'event=path-switch peer=10.9.0.1 from=10.9.0.1 to=10.10.0.1 reason=down' \
    "$T_DIR/b.log"
check "A logged path 1 down" grep -q \
    'event=path peer=10.9.0.2 path=10.9.0.2 from=up to=down' "$T_DIR/a.log"
A1=$(pj a "$COUNTERS"); B1=$(pj b "$COUNTERS")
check "no bulk, no skip, nothing lost at A ($A0 -> $A1)" [ "$A0" = "$A1" ]
check "no bulk, no skip, nothing lost at B ($B0 -> $B1)" [ "$B0" = "$B1" ]
check "no bulk in either log" [ "$(bulk_lines)" = "$BL0" ]
check "the frames lost on link 1 were sent again on path 2" is a "p['resent'] > 0"
if grep -q 'sync link down\|event=peer.*to=down' "$T_DIR/a.log" "$T_DIR/b.log"; then
	not_ok "no 'sync link down' demotion, the peer never down"
	grep 'sync link down\|event=pat\|event=peer' "$T_DIR/a.log" \
	    "$T_DIR/b.log" | sed 's/^/#   /'
	for n in a b; do
		pj $n "{k: p[k] for k in ('rx_frames', 'rx_rejected', 'rx_replayed', 'rx_stale', 'resent', 'duplicates', 'stale_acks')}" |
		    sed "s/^/#   $n: /"
		pj $n "p['paths']" | sed "s/^/#   $n: /"
		nsx $n grep '^Udp:' /proc/net/snmp | sed "s/^/#   $n: /"
		nsx $n ip -s link | grep -A5 "${T_PREFIX}" | sed "s/^/#   $n: /"
	done
else
	ok "no 'sync link down' demotion, the peer never down"
fi
check "both still demote 0" sh -c "[ $(jnum a demote) = 0 ] && [ $(jnum b demote) = 0 ]"

# Link 1 back: path 1 comes up, then (after the hold-down) is active again.
nsx a ip link set "$L1A" up
p1_up() {
	is a "path('10.9.0.2')['state'] == 'up'" &&
	    is b "path('10.9.0.1')['state'] == 'up'"
}
check "path 1 comes back up on A and B" wait_for 15 p1_up
check "A logged it" grep -q \
    'event=path peer=10.9.0.2 path=10.9.0.2 from=down to=up reason=contact' \
    "$T_DIR/a.log"
p1_active() {
	is a "path('10.9.0.2')['active']" && is b "path('10.9.0.1')['active']"
}
check "after the hold-down the traffic is back on path 1" wait_for 15 p1_active
check "A logged the move back" grep -q \
    'event=path-switch peer=10.9.0.2 from=10.10.0.2 to=10.9.0.2 reason=preferred' \
    "$T_DIR/a.log"
nsx a "$CTGEN" -n 1000 -b 10.20.0.0 >/dev/null 2>&1
check "new states flow on path 1" wait_for 30 has b external $((N + 1000))
A2=$(pj a "$COUNTERS")
check "still no bulk, skip or loss ($A0 -> $A2)" [ "$A0" = "$A2" ]

# Both links down: the peer is gone, "sync link down".
nsx a ip link set "$L1A" down
nsx a ip link set "$L2A" down
check "both links down: A asks for demotion 1" wait_for 15 has a demote 1
check "... as sync link down" grep -q 'demote 1 (sync link down)' "$T_DIR/a.log"
check "B too" wait_for 15 has b demote 1
check "A reports both paths down" is a \
    "[q['state'] for q in p['paths']] == ['down', 'down'] and not p['alive']"

# Link 2 back alone: the peer is back on it. B restarts meanwhile: its
# handshake finds the one working path (INITs go on each path in turn).
nsx a ip link set "$L2A" up
check "link 2 back: A in sync again (demote 0)" wait_for 15 has a demote 0
kill "$PID_b"
wait "$PID_b" 2>/dev/null
mv "$T_DIR/b.log" "$T_DIR/b1.log" # the first run's, for a failure's story
start_syncd b 10.9.0.2,10.10.0.2 10.9.0.1,10.10.0.1
check "B restarted with link 1 down: its first bulk comes over path 2" \
    wait_for 20 has b demote 0
check "... with all of A's states" wait_for 30 has b external $((N + 1000))
check "B's status: path 2 up and active, path 1 down" is b \
    "path('10.10.0.1')['active'] and path('10.10.0.1')['state'] == 'up' and path('10.9.0.1')['state'] == 'down'"

# A reload gives a peer a second path: the peer starts over with both
# (A listens on the wildcard address: the routes pick each path's source).
nsx a ip link set "$L1A" up
kill "$PID_a"
wait "$PID_a" 2>/dev/null
printf 'peer 10.9.0.2\n' >"$T_DIR/a.conf"
rm -f "$T_DIR/a.sock"
bg a "$T_DIR/a2.log" $SYNCD -c "$T_DIR/a.conf" --control "$T_DIR/a.sock" \
    --key "$(run_key)" -v >"$T_DIR/a.pid"
PID_a=$(cat "$T_DIR/a.pid")
wait_for 5 test -S "$T_DIR/a.sock"
check "A with one path to B: in sync" wait_for 20 has a demote 0
check "... its status lists the one path" is a "len(p['paths']) == 1"
printf 'peer 10.9.0.2, 10.10.0.2\n' >"$T_DIR/a.conf"
kill -HUP "$PID_a"
check "SIGHUP: the peer now has two paths" wait_for 10 grep -q \
    'event=reload result=ok .*peers_added=1 peers_removed=1' "$T_DIR/a2.log"
check "both paths up, the first active" wait_for 15 is a \
    "[q['state'] for q in p['paths']] == ['up', 'up'] and p['paths'][0]['active']"
check "... and A in sync with B again" wait_for 20 in_sync a

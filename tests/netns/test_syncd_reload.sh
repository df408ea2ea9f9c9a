#!/bin/sh
# test_syncd_reload.sh: syncd reloads its configuration on SIGHUP. Three
# members on one sync segment; A starts with B as its only peer, under
# import-zones 0 5. Its file then gains C and narrows the zones to 0:
# C's sessions come up and states flow both ways, B's sessions carry on
# (no handshake, no bulk), A's caches keep every state but B's zone-5
# ones, which the new policy refuses and takes out of A's kernel, and a
# new zone-5 state is refused and counted. A broken file, a changed
# port and a peer given twice are refused whole (file:line: reason in
# the log), nothing changes. Then C leaves A's file: its session ends and its states leave
# A's cache and A's kernel, the others' stay. A exits cleanly at the end
# (run it with B=build-san for the sanitizers' view).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd reload" "ctgen not built"; exit 0; }

ns_add sw a b c
nsx sw ip link add br0 type bridge
nsx sw ip link set br0 up
i=1
for n in a b c; do
	ip link add "${T_PREFIX}$n" type veth peer name "${T_PREFIX}s$n"
	ip link set "${T_PREFIX}$n" netns "$(ns $n)"
	ip link set "${T_PREFIX}s$n" netns "$(ns sw)"
	nsx sw ip link set "${T_PREFIX}s$n" master br0 up
	nsx $n ip addr add "10.9.0.$i/24" dev "${T_PREFIX}$n"
	nsx $n ip link set "${T_PREFIX}$n" up
	i=$((i + 1))
done

KEYF=$(run_key)
ACONF=$T_DIR/a.conf
# aconf PEER...: A's file, with the zones in $ZONES.
aconf() {
	{
		echo "# A's configuration"
		echo "listen 10.9.0.1"
		for p in "$@"; do echo "peer $p"; done
		echo "import-zones $ZONES"
		echo "key $KEYF"
	} >"$ACONF.new" && mv "$ACONF.new" "$ACONF"
}
ZONES="0 5"
aconf 10.9.0.2
bg a "$T_DIR/a.log" $SYNCD -c "$ACONF" --control "$T_DIR/a.sock" -v \
    >"$T_DIR/a.pid"
PID_a=$(cat "$T_DIR/a.pid")
wait_for 5 test -S "$T_DIR/a.sock"
start_syncd b 10.9.0.2 10.9.0.1 10.9.0.3
start_syncd c 10.9.0.3 10.9.0.1 10.9.0.2
check "all three finish their first bulk" wait_for 20 sh -c \
    "for n in a b c; do $SYNCD status --json --control $T_DIR/\$n.sock | grep -q '\"demote\":0,' || exit 1; done"

# peerline NODE PEER: PEER's object in NODE's status --json, on a line
# of its own (nothing when NODE has no such peer). A peer's object opens
# with its address and "alive" (its paths' with their address too).
peerline() {
	sctl "$1" status --json 2>/dev/null |
	    sed 's/{"address":"[^"]*","alive"/\n&/g' |
	    grep "^{\"address\":\"$2\",\"alive\""
}
# pj NODE PEER KEY: KEY of PEER in NODE's status (KEY.SUB for a nested
# object; "-" when the peer is not there).
pj() {
	_p=$(peerline "$1" "$2")
	[ -n "$_p" ] || { echo -; return; }
	_k=$3
	case $_k in
	*.*) _p=$(echo "$_p" | grep -o "\"${_k%%.*}\":{[^}]*}"); _k=${_k#*.} ;;
	esac
	echo "$_p" | grep -o "\"$_k\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"'
}
peq() { [ "$(pj "$1" "$2" "$3")" = "$4" ]; }
# npeers NODE N: NODE has N peers.
npeers() {
	[ "$(sctl "$1" status --json 2>/dev/null |
	    sed 's/{"address":"[^"]*","alive"/\n&/g' |
	    grep -c '^{"address":"[^"]*","alive"')" = "$2" ]
}
# kn NODE ARGS: states in NODE's kernel matching conntrack -L ARGS.
kn() { _n=$1; shift; nsx "$_n" conntrack -L "$@" 2>/dev/null | grep -c dport; }
# kis NODE N ARGS: exactly N of them.
kis() { _n=$1 _c=$2; shift 2; [ "$(kn "$_n" "$@")" = "$_c" ]; }
hup() { kill -HUP "$PID_a"; }
# logged N PATTERN: the N-th reload event of A's log matches PATTERN.
logged() {
	grep 'event=reload' "$T_DIR/a.log" | sed -n "$1p" | grep -q -- "$2"
}

nsx a "$CTGEN" -n 100 -b 10.1.0.0 >/dev/null
nsx b "$CTGEN" -n 300 -b 10.2.0.0 >/dev/null
nsx b "$CTGEN" -n 50 -b 10.2.50.0 -z 5 >/dev/null
nsx c "$CTGEN" -n 200 -b 10.3.0.0 >/dev/null
check "A holds B's states, both zones" wait_for 20 peq a 10.9.0.2 external 350
check "B holds A's states" wait_for 20 peq b 10.9.0.1 external 100
check "A's kernel has B's zone-5 states staged" wait_for 20 kis a 50 -w 5
check "C is not A's peer: no state of C at A" peq a 10.9.0.3 external -

# Before: B's sessions and bulks as A and B see them.
ab_out=$(pj a 10.9.0.2 sessions_out); ab_in=$(pj a 10.9.0.2 sessions_in)
ab_bulk=$(pj a 10.9.0.2 bulks_received); ab_rx=$(pj a 10.9.0.2 rx_frames)
ba_out=$(pj b 10.9.0.1 sessions_out); ba_in=$(pj b 10.9.0.1 sessions_in)
ba_bulk=$(pj b 10.9.0.1 bulks_received)
a_int=$(jnum a internal)

# Reload: C added, zone 5 no longer imported.
ZONES=0
aconf 10.9.0.2 10.9.0.3
hup
check "reload logged: one peer added, one policy setting changed" \
    wait_for 10 logged 1 "result=ok .*peers_added=1 peers_removed=0 policy_changed=1"
check "A has two peers" wait_for 5 npeers a 2
check "C's sessions with A come up" wait_for 20 peq a 10.9.0.3 in_sync true
check "C's states flow to A (its bulk)" wait_for 20 peq a 10.9.0.3 external 200
check "A's states flow to C" wait_for 20 peq c 10.9.0.1 external 100
nsx a "$CTGEN" --one --src 10.1.9.1 --sport 4000 --dst 10.2.0.9 --dport 80 \
    >/dev/null
both101() { peq c 10.9.0.1 external 101 && peq b 10.9.0.1 external 101; }
check "a new state of A reaches C and B live" wait_for 20 both101
# B's zone-5 states are refused by the new policy (counted), the rest
# stays: A's own states, B's zone-0 states.
check "the held zone-5 states are refused now" \
    wait_for 20 peq a 10.9.0.2 import_rejected.zone 50
check "A keeps B's 300 zone-0 states" peq a 10.9.0.2 external 300
check "A keeps its own states ($a_int and the new one)" has a internal \
    $((a_int + 1))
check "the refused states leave A's kernel" wait_for 20 kis a 0 -w 5
nsx b "$CTGEN" --one --src 10.2.99.1 --sport 4001 --dst 10.1.0.9 \
    --dport 80 -z 5 >/dev/null
check "a new zone-5 state from B is refused and counted" \
    wait_for 20 peq a 10.9.0.2 import_rejected.zone 51
check "B's sessions at A: no new handshake" sh -c \
    "[ \"$(pj a 10.9.0.2 sessions_out)/$(pj a 10.9.0.2 sessions_in)\" = \"$ab_out/$ab_in\" ]"
check "B's sessions at B: no new handshake" sh -c \
    "[ \"$(pj b 10.9.0.1 sessions_out)/$(pj b 10.9.0.1 sessions_in)\" = \"$ba_out/$ba_in\" ]"
check "no bulk between A and B" sh -c \
    "[ \"$(pj a 10.9.0.2 bulks_received)/$(pj b 10.9.0.1 bulks_received)\" = \"$ab_bulk/$ba_bulk\" ]"
check "B's counters at A keep counting" sh -c \
    "[ $(pj a 10.9.0.2 rx_frames) -gt $ab_rx ]"
check "no session restart in A's or B's log" sh -c \
    "! grep -q 'reason=restart' $T_DIR/a.log $T_DIR/b.log"

# A broken file: refused whole, with file and line; nothing changes.
ext=$(jnum a external)
{ head -3 "$ACONF"; echo "import-zones banana"; echo "peer 10.9.0.4"; } \
    >"$ACONF.new" && mv "$ACONF.new" "$ACONF"
hup
check "a broken file is refused" wait_for 10 logged 2 \
    "result=refused .*error=\"$ACONF:4: "
grep -v "event=" "$T_DIR/a.log" | grep -q "$ACONF:4: .*banana" &&
    ok "the error is logged as file:line: reason" ||
    not_ok "the error is logged as file:line: reason"
check "still two peers" npeers a 2
check "the same states" has a external "$ext"
check "C still in sync with A" peq a 10.9.0.3 in_sync true
# A setting that only a restart changes: refused whole too.
aconf 10.9.0.2
echo "port 7476" >>"$ACONF"
hup
check "a changed port is refused (restart needed)" wait_for 10 logged 3 \
    "result=refused .*error=\"$ACONF:6: port cannot change on reload"
check "C is still A's peer" peq a 10.9.0.3 in_sync true
# A peer given twice.
aconf 10.9.0.2 10.9.0.3 10.9.0.2
hup
check "a peer given twice is refused" wait_for 10 logged 4 \
    "result=refused .*error=\"$ACONF:5: peer 10.9.0.2 given twice"
check "status counts the reloads: 1 done, 3 refused" sh -c \
    "[ $(jnum a reloads)/$(jnum a reloads_refused) = 1/3 ]"

# C leaves: its session ends, its states leave A's cache and kernel.
check "A's kernel has C's states staged" wait_for 10 kis a 200 -s 10.3.0.0/16
aconf 10.9.0.2
hup
check "reload logged: one peer removed" wait_for 10 logged 5 \
    "result=ok .*peers_added=0 peers_removed=1 policy_changed=0"
check "A's peer C is gone" wait_for 5 peq a 10.9.0.3 address -
grep -q "event=peer peer=10.9.0.3 from=up to=removed reason=reload" \
    "$T_DIR/a.log" && ok "the removal is logged" || not_ok "the removal is logged"
check "C's states leave A's external cache" wait_for 5 has a external 300
check "C's states leave A's kernel" wait_for 20 kis a 0 -s 10.3.0.0/16
check "B's and A's states stay in A's kernel" sh -c \
    "[ $(kn a -s 10.2.0.0/16)/$(kn a -s 10.1.0.0/16) = 300/101 ]"
check "C sees A go silent" wait_for 15 peq c 10.9.0.1 alive false
check "B is still in sync with A, same sessions" sh -c \
    "[ \"$(pj a 10.9.0.2 in_sync)/$(pj a 10.9.0.2 sessions_out)/$(pj a 10.9.0.2 sessions_in)\" = \"true/$ab_out/$ab_in\" ]"
alive "$PID_a" && ok "A is running" || not_ok "A is running"

# A stops cleanly after all this (with SAN=1: no sanitizer report, no
# leak).
kill -TERM "$PID_a"
if wait_for 20 gone "$PID_a"; then
	wait "$PID_a"
	rc=$?
	check "A exits 0 on SIGTERM ($rc)" [ "$rc" = 0 ]
else
	not_ok "A exits on SIGTERM"
fi
check "no sanitizer report in A's log" sh -c \
    "! grep -q 'Sanitizer\|runtime error' $T_DIR/a.log"

if [ "$T_FAIL" -gt 0 ]; then
	sctl a status --json >"$T_DIR/a.status" 2>&1
	dump "$T_DIR/a.status" "$T_DIR/a.log" "$T_DIR/b.log" "$T_DIR/c.log"
fi

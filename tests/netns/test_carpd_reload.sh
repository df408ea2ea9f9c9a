#!/bin/sh
# test_carpd_reload.sh: SIGHUP reloads carpd.conf and syncd.conf on a
# running firewall pair (carpd + syncd, fw1 MASTER; syncd started from a
# file, the sync link a switch) carrying long-lived TCP connections.
#  1. Both files edited alike (the addresses are part of the HMAC): a vhid
#     added, an address added to vhid 1, advskew changed on fw1's vhid 2
#     and on the backup's (fw2's) vhid 2. The new vhid comes up, the new
#     address is on the master and answers, the new advskew is advertised;
#     vhids 1 and 2 do not transition on either node, no script runs for
#     them, no mastership is released.
#  2. A file with a syntax error: refused whole, file:line logged (text and
#     event line), the status as before, the daemon alive.
#  3. The added vhid removed from fw1's file only: its address leaves fw1,
#     fw2 takes it over at once (a release, not its master-down timer)
#     without moving vhids 1 and 2; fw1's down script ran for it.
#  4. Both syncd files edited alike: a peer added (a third syncd on the
#     sync switch, started before and unknown to both until now)
#     and two policy keywords (prefixes no traffic uses). The new member
#     comes up and gets the states; the fw1<->fw2 sessions carry on (no
#     handshake, no bulk), the states held stay, no carpd vhid moves, no
#     demotion.
#  5. A broken syncd file on fw2: refused whole, file:line logged, its
#     status as before.
#  6. More connections opened after the reloads; their states reach fw2
#     and fw3. fw1 dies (frozen, its links gone): fw2 takes vhids 1 and 2
#     over, the connections of before and after the reloads carry on.
# No connection is lost. The daemons stop cleanly at the end (nothing for
# a sanitizer build to report).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

# syncd from a file (edited in section 4), the sync link a switch (where
# fw3, a third syncd, joins).
LAB_SYNCD_CONF=1
LAB_SYNC_SW=1
SCRIPT=$T_DIR/carp-script.sh
# Every up and down script run: "<fw> <vhid> <state> <reason>", one line.
LAB_VHID_EXTRA="	upscript $SCRIPT
	downscript $SCRIPT
	xparam @FW@"

# The scripts run as LAB_USER: they write into a directory of their own.
scripts_setup() {
	mkdir -p "$T_DIR/scripts" &&
	    { [ -z "$LAB_USER" ] || chown "$LAB_USER" "$T_DIR/scripts"; } &&
	    printf '#!/bin/sh\necho "$3 $CARP_VHID $CARP_STATE $CARP_REASON" >>%s\n' \
		"$T_DIR/scripts/runs" >"$SCRIPT" && chmod 755 "$SCRIPT"
}

# runs FW VHID: how many script runs FW has had for VHID.
runs() {
	grep -c "^$1 $2 " "$T_DIR/scripts/runs" 2>/dev/null || true
}

# cj FW EXPR: a Python expression on FW's status JSON (s); v(N) is vhid N.
cj() {
	lab_carp_status "$1" | python3 -c "import json,sys
s=json.load(sys.stdin)
def v(n):
    m=[x for x in s['vhids'] if x['vhid']==n]
    return m[0] if m else None
print(($2))" 2>/dev/null
}

# stay FW: what must not change for vhids 1 and 2 on FW: state,
# transitions, the last one (from, reason), split brain.
stay() {
	cj "$1" "[(x['vhid'], x['state'], x['transitions'], x['split_brain'],
	    x['last_transition']['from'], x['last_transition']['reason'])
	    for x in s['vhids'] if x['vhid'] in (1, 2)]"
}

# config FW: what the status says of FW's configuration and state, all
# vhids, checks, demotion (for the refused reload).
config() {
	cj "$1" "([(x['vhid'], x['interface'], x['state'], x['advbase'],
	    x['advskew'], x['addrs'], x['preempt'], x['peers'],
	    x['transitions'], x['last_transition']['reason'])
	    for x in s['vhids']], s['demote'], s['checks'])"
}

reloads() { cj "$1" "s['reload']['$2']"; }

# stayed FW BEFORE WHAT: vhids 1 and 2 of FW are as before (else the logs).
stayed() {
	if [ "$(stay "$1")" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3 (now $(stay "$1"))"
		dump "$T_DIR/fw1-carpd.log" "$T_DIR/fw2-carpd.log"
	fi
}

has_addr() { nsx "$1" ip -o addr show | grep -q " $2/"; }
no_addr() { ! has_addr "$@"; }

# The scripts ran at start: fw1's up script, fw2's down script.
started_scripts() {
	[ "$(runs fw1 1)" -ge 1 ] && [ "$(runs fw2 1)" -ge 1 ]
}

# vhid_conf V IFC NET I SKEW [ADDR]: one vhid block of FW number I.
vhid_conf() {
	echo "vhid $1 {"
	echo "	interface $2"
	echo "	srcip $3.$(($4 + 1))"
	echo "	addr $3.$( [ "$1" = 3 ] && echo 50 || echo 1)/24"
	[ -z "${6:-}" ] || echo "	addr $6"
	echo "	pass $LAB_PASS"
	echo "	advbase $LAB_ADVBASE"
	echo "	advskew $5"
	echo "	preempt yes"
	printf '%s\n' "$LAB_VHID_EXTRA" | sed "s/@FW@/fw$4/g"
	echo "}"
}

# edit FW SKEW2 [v3]: FW's file after the edit: vhid 1 with 10.0.1.51,
# vhid 2 with advskew SKEW2, vhid 3 (LAN, 10.0.1.50) when asked. Written
# beside and moved in place, as an editor does.
edit() {
	_i=$(lab_idx "$1")
	eval _base=\$LAB_SKEW$_i
	{
		echo "# $1, edited"
		vhid_conf 1 lan 10.0.1 "$_i" "$_base" 10.0.1.51/24
		vhid_conf 2 wan 10.0.2 "$_i" "$2"
		[ "${3:-}" != v3 ] || vhid_conf 3 lan 10.0.1 "$_i" "$_base"
	} >"$T_DIR/$1-carpd.conf.new" &&
	    mv "$T_DIR/$1-carpd.conf.new" "$T_DIR/$1-carpd.conf"
}

hup() { kill -HUP "$(lab_carpd_pid "$1")"; }

# reloaded FW KEY N: FW's status counts N reloads with result KEY.
reloaded() { [ "$(reloads "$1" "$2")" = "$3" ]; }

state_of() { [ "$(cj "$1" "v($2)['state'] if v($2) else None")" = "$3" ]; }

# Section 4: the third syncd, on the sync switch; the policy added to
# both files (prefixes no traffic of the lab uses). Section 6: N2
# connections opened after the reloads.
FW3=10.0.3.3
POLICY="send-ignore 203.0.113.0/24
import-ignore 198.51.100.0/24"
N2=100

# sj FW EXPR: a Python expression on FW's syncd status JSON (s); p(ADDR)
# is the peer ADDR (None when there is none).
sj() {
	lab_syncd_status "$1" | python3 -c "import json,sys
s=json.load(sys.stdin)
def p(a):
    m=[x for x in s['peers'] if x['address']==a]
    return m[0] if m else None
print(($2))" 2>/dev/null
}

# pair FW: what must not change between fw1 and fw2 at FW: the states
# held, the other's sessions (started, handshake messages), bulks.
pair() {
	_o=$(lab_syncd_peer "$1")
	sj "$1" "(s['internal'], s['external'], [p('$_o')[k] for k in
	    ('in_sync', 'session_out', 'session_in', 'sessions_out',
	    'sessions_in', 'inits_sent', 'inits_received', 'resps_received',
	    'bulks_sent', 'bulks_received', 'external')])"
}

peers() { sj "$1" "[x['address'] for x in s['peers']]"; }

# demotes FW: the demotion syncd asks for and carpd's total.
demotes() { echo "$(sj "$1" "s['demote']") $(cj "$1" "s['demote']['total']")"; }

# peered FW ADDR: FW's syncd has the peer ADDR in sync.
peered() {
	lab_syncd_status "$1" | sed 's/{"address":/\n&/g' |
	    grep "^{\"address\":\"$2\"" | grep -q '"in_sync":true'
}

# sreloaded FW N PATTERN: the N-th reload event of FW's syncd matches.
sreloaded() {
	grep 'event=reload ' "$T_DIR/$1-syncd.log" | sed -n "$2p" |
	    grep -q -- "$3"
}

shup() { kill -HUP "$(lab_syncd_pid "$1")"; }

# restarts FW: session restarts and bulks between fw1 and fw2 in FW's log.
restarts() {
	grep -E "event=(peer|bulk) peer=$(lab_syncd_peer "$1") " \
	    "$T_DIR/$1-syncd.log" | grep -c 'reason=restart\|event=bulk'
}

# unknown3: fw1 and fw2 have had frames from an unknown source (fw3).
unknown3() {
	[ "$(sj fw1 "s['rx_unknown_source'] > 0")$(sj fw2 \
	    "s['rx_unknown_source'] > 0")" = TrueTrue ]
}

# rechecked FW WHAT: FW's syncd checked at least LAB_N states held (its
# own, or the peer's) against the new policy, with the outcome WHAT.
rechecked() {
	_n=$(sed -n "s/.*reload: \([0-9]*\) held states checked against the new \
policy: $2.*/\1/p" "$T_DIR/$1-syncd.log" | tail -1)
	[ -n "$_n" ] && [ "$_n" -ge "$LAB_N" ]
}

# holds FW N: FW's syncd holds at least N states, its own and its peers'
# (since vhid 3 moved to fw2 in section 3, fw2 has committed fw1's states
# and holds them as its own).
holds() {
	[ "$(sj "$1" "s['internal'] + s['external'] >= $2")" = True ]
}

# fw3has N: fw3 holds at least N states from fw1.
fw3has() {
	_n=$(nsx fw3 "$SYNCD" status --json --control "$T_DIR/fw3-syncd.sock" |
	    sed 's/{"address":/\n&/g' | grep '^{"address":"10.0.3.1"' |
	    grep -o '"external":[0-9]*' | cut -d: -f2)
	[ -n "$_n" ] && [ "$_n" -ge "$1" ]
}

# fw2_took: fw2 is MASTER of vhids 1 and 2 and holds their addresses.
fw2_took() {
	state_of fw2 1 MASTER && state_of fw2 2 MASTER && lab_has_vip fw2
}

# stopped NAME PID LOG STOPPED: PID, sent SIGTERM, stopped; LOG says
# STOPPED and has no sanitizer report.
stopped() {
	check "$1 stops on SIGTERM after the reloads" \
	    wait_for 15 gone "$2"
	check "... logging \"$4\", no sanitizer report" \
	    sh -c "grep -q '$4' '$3' &&
	    ! grep -Eq 'Sanitizer|runtime error' '$3'"
}

if ! lab_t_begin reload scripts_setup; then
	exit 1
fi
C1=$T_DIR/fw1-carpd.conf
LOG1=$T_DIR/fw1-carpd.log
stay1=$(stay fw1)
stay2=$(stay fw2)
runs1=$(runs fw1 1)$(runs fw1 2)
runs2=$(runs fw2 1)$(runs fw2 2)
check "the scripts ran at start (fw1 up, fw2 down)" \
    wait_for 5 started_scripts
check "status before the reload: vhids 1 and 2, none reloaded" \
    [ "$(cj fw1 "[x['vhid'] for x in s['vhids']], s['reload']['last']")" = \
    "([1, 2], 'none')" ]

# --- 1. add a vhid, an address, change advskew (master's and backup's)
edit fw1 10 v3
edit fw2 60 v3
hup fw1
hup fw2
check "fw1 reloaded (status: 1 ok)" wait_for 10 reloaded fw1 ok 1
check "fw2 reloaded (status: 1 ok)" wait_for 10 reloaded fw2 ok 1
check "fw1 logs the reload: event=reload result=ok, 1 added, 2 changed" \
    grep -q 'event=reload result=ok .*vhids_added=1 vhids_removed=0 vhids_changed=2' \
    "$LOG1"
check "fw1 logs vhid 3 added" grep -q \
    'event=reload-change object=vhid name=3 iface=lan action=added' "$LOG1"
check "fw1 logs vhid 1's new address" grep -q \
    'event=reload-change object=vhid name=1 iface=lan action=changed what=addr .*+10.0.1.51/24' \
    "$LOG1"
check "fw1 logs vhid 2's advskew 0 -> 10" grep -q \
    'event=reload-change object=vhid name=2 iface=wan action=changed what=advskew .*advskew 0 -> 10' \
    "$LOG1"
check "the new vhid 3 comes up: MASTER on fw1" \
    wait_for 15 state_of fw1 3 MASTER
check "... BACKUP on fw2" wait_for 10 state_of fw2 3 BACKUP
check "fw1 holds the new vhid's address 10.0.1.50" \
    wait_for 5 has_addr fw1 10.0.1.50
check "the new address 10.0.1.51 of vhid 1 is on the master (fw1)" \
    wait_for 5 has_addr fw1 10.0.1.51
check "... and answers the client" \
    sh -c "ip netns exec $(ns client) ping -q -c 1 -W 2 10.0.1.51 >/dev/null"
check "fw1 advertises vhid 2 with advskew 10" \
    [ "$(cj fw1 "v(2)['advskew'], v(2)['advskew_sent']")" = "(10, 10)" ]
check "fw2 (backup) has vhid 2 at advskew 60" \
    [ "$(cj fw2 "v(2)['advskew'], v(2)['state']")" = "(60, 'BACKUP')" ]
# Longer than a master-down interval (3 s + skew): the backup would have
# taken over by now had it stopped accepting the master's advertisements.
sleep 4
stayed fw1 "$stay1" \
    "fw1: vhids 1 and 2 did not transition (MASTER, same counters)"
stayed fw2 "$stay2" \
    "fw2: vhids 1 and 2 did not transition (BACKUP, same counters)"
check "fw2 does not hold 10.0.1.51 or 10.0.1.50" \
    sh -c "! ip netns exec $(ns fw2) ip -o addr show | grep -Eq ' 10\.0\.1\.5[01]/'"
check "no script ran for vhids 1 and 2 on either node" \
    [ "$(runs fw1 1)$(runs fw1 2)/$(runs fw2 1)$(runs fw2 2)" = \
    "$runs1/$runs2" ]
check "fw1 ran the up script for the new vhid 3" \
    wait_for 5 grep -q '^fw1 3 MASTER' "$T_DIR/scripts/runs"
lab_traffic_mark

# --- 2. a file with a syntax error: refused whole
before=$(config fw1)
cp "$C1" "$T_DIR/fw1-good.conf"
{
	echo "# fw1, broken"
	echo "vhid 1 {"
	echo "	interface lan"
	echo "	pass \"unterminated"
	echo "}"
} >"$C1"
hup fw1
check "the broken file is refused (status: 1 refused)" \
    wait_for 10 reloaded fw1 refused 1
check "the log names file:line: reason" \
    grep -qF "$C1:4: unterminated quote" "$LOG1"
check "... and an event line: event=reload result=refused line=4" \
    grep -q "event=reload result=refused file=$C1 line=4 error=" "$LOG1"
check "status says the last reload was refused, naming file:line" \
    [ "$(cj fw1 "s['reload']['last'], s['reload']['last_error'].startswith('$C1:4: ')")" = \
    "('refused', True)" ]
check "the running configuration is unchanged (status as before)" \
    [ "$(config fw1)" = "$before" ]
check "fw1's carpd is alive" alive "$(lab_carpd_pid fw1)"
check "fw1 still holds 10.0.1.51 and 10.0.1.50" \
    sh -c "$(command -v ip) netns exec $(ns fw1) ip -o addr show | grep -q ' 10\.0\.1\.51/' &&
    $(command -v ip) netns exec $(ns fw1) ip -o addr show | grep -q ' 10\.0\.1\.50/'"

# --- 3. vhid 3 removed from fw1's file: fw2 takes it over at once
edit fw1 10
hup fw1
check "fw1 reloaded (status: 2 ok)" wait_for 10 reloaded fw1 ok 2
check "fw1 logs vhid 3 removed while MASTER" grep -q \
    'event=reload-change object=vhid name=3 iface=lan action=removed .*it was MASTER' \
    "$LOG1"
check "vhid 3 is gone from fw1's status" \
    [ "$(cj fw1 "[x['vhid'] for x in s['vhids']]")" = "[1, 2]" ]
check "its address 10.0.1.50 left fw1" wait_for 5 no_addr fw1 10.0.1.50
check "fw2 takes vhid 3 over" wait_for 10 state_of fw2 3 MASTER
check "... at once, on fw1's release (not its master-down timer)" \
    [ "$(cj fw2 "v(3)['last_transition']['reason']")" = \
    "master released the vhid" ]
check "... and holds 10.0.1.50" wait_for 5 has_addr fw2 10.0.1.50
check "fw1 ran the down script for vhid 3 (state INIT, removed)" \
    wait_for 5 grep -q '^fw1 3 INIT removed from the configuration' \
    "$T_DIR/scripts/runs"
sleep 1
stayed fw2 "$stay2" "fw2's vhids 1 and 2 stayed BACKUP (no group takeover)"
stayed fw1 "$stay1" "fw1's vhids 1 and 2 stayed MASTER"
check "fw1 keeps 10.0.1.51 (vhid 1)" has_addr fw1 10.0.1.51
# fw2 committed for vhid 3 and sent its table ended by a takeover; fw1,
# still master of vhids 1 and 2 (carpd told its syncd), keeps its states.
kept_ours() {
	[ "$(sj fw1 "s['takeovers_held'] >= 1 and s['master'] and \
s['handed_over'] == 0 and s['internal'] >= $LAB_N")" = True ]
}
check "fw1's syncd kept its $LAB_N states through fw2's takeover" \
    wait_for 10 kept_ours
# fw2's commit made its copies of fw1's states its own; fw1 sends it its
# table again, so that fw2 holds them as fw1's: fw1's diff is clean.
fw1_diff_clean() {
	nsx fw1 "$SYNCD" diff --control "$T_DIR/fw1-syncd.sock" \
	    >"$T_DIR/diff.out" 2>&1 &&
	    grep -q "^peer 10.0.3.2: kernel [0-9]*, .* missing 0," \
	    "$T_DIR/diff.out"
}
if wait_for 10 fw1_diff_clean; then
	ok "fw1's syncd diff: fw2 holds fw1's states as fw1's again"
else
	not_ok "fw1's syncd diff: fw2 holds fw1's states as fw1's again"
	dump "$T_DIR/diff.out"
fi

# --- 4. syncd on both: a third member added, the policy changed
lab_sync_node fw3 "$FW3" &&
    bg fw3 "$T_DIR/fw3-syncd.log" "$SYNCD" --interface sync \
    --peer 10.0.3.1 --peer 10.0.3.2 --port "$LAB_SYNC_PORT" \
    --control "$T_DIR/fw3-syncd.sock" --key "$T_DIR/sync.key" >/dev/null
check "a third syncd (fw3, $FW3) runs on the sync switch" \
    wait_for 5 test -S "$T_DIR/fw3-syncd.sock"
check "fw1 and fw2 do not know fw3 yet (its frames: unknown source)" \
    wait_for 10 unknown3
stay1=$(stay fw1)
stay2=$(stay fw2)
pair1=$(pair fw1)
pair2=$(pair fw2)
rs1=$(restarts fw1)
rs2=$(restarts fw2)
for f in fw1 fw2; do
	LAB_SYNCD_EXTRA="peer $FW3
$POLICY" lab_syncd_conf $f >/dev/null
done
shup fw1
shup fw2
for f in fw1 fw2; do
	check "$f's syncd reloaded: 1 peer added, 2 policy keywords" \
	    wait_for 10 sreloaded $f 1 \
	    'result=ok .*peers_added=1 peers_removed=0 policy_changed=2'
done
check "fw1 logs the new send-ignore" grep -q \
    'reload: .*send-ignore.*203\.0\.113\.0/24' "$T_DIR/fw1-syncd.log"
check "--check prints the new policy from fw1's file" sh -c \
    "$SYNCD -c $T_DIR/fw1-syncd.conf --check 2>&1 |
    grep -qx 'import-ignore 198.51.100.0/24'"
check "fw1 checked its states against the new policy: none kept home" \
    wait_for 10 rechecked fw1 \
    "0 of the peers' refused, 0 of ours kept home now, 0 of ours sent now"
check "fw2 checked the states it holds against it: none refused" \
    wait_for 10 rechecked fw2 "0 of the peers' refused"
for f in fw1 fw2; do
	if wait_for 30 peered $f "$FW3"; then
		ok "$f's new peer fw3 is in sync"
	else
		not_ok "$f's new peer fw3 is in sync ($(sj $f \
		    "p('$FW3')['reason'] if p('$FW3') else 'no such peer'"))"
		dump "$T_DIR/$f-syncd.log" "$T_DIR/fw3-syncd.log"
	fi
done
check "fw3 got fw1's $LAB_N states" wait_for 20 fw3has "$LAB_N"
check "fw1's peers: fw2 and fw3" \
    [ "$(peers fw1)" = "['10.0.3.2', '$FW3']" ]
for f in fw1 fw2; do
	if [ $f = fw1 ]; then _before=$pair1; else _before=$pair2; fi
	if [ "$(pair $f)" = "$_before" ]; then
		ok "$f: the fw1<->fw2 sessions and the states held as before"
	else
		not_ok "$f: the fw1<->fw2 sessions and the states held as" \
		    "before ($_before, now $(pair $f))"
	fi
done
check "no session restart or bulk between fw1 and fw2 in the logs" \
    [ "$(restarts fw1)/$(restarts fw2)" = "$rs1/$rs2" ]
stayed fw1 "$stay1" "fw1's vhids 1 and 2 stayed MASTER through syncd's reload"
stayed fw2 "$stay2" "fw2's vhids 1 and 2 stayed BACKUP"
check "no demotion on either (syncd and carpd)" \
    [ "$(demotes fw1)/$(demotes fw2)" = "0 0/0 0" ]

# --- 5. a broken syncd file on fw2: refused whole
C2=$T_DIR/fw2-syncd.conf
spoint2=$(pair fw2)
speers2=$(peers fw2)
LAB_SYNCD_EXTRA="peer $FW3
peer 10.0.3.9
import-zones banana" lab_syncd_conf fw2 >/dev/null
shup fw2
check "fw2's syncd refuses the broken file" wait_for 10 sreloaded fw2 2 \
    "result=refused file=$C2 error=\"$C2:9: "
check "... the error logged as file:line: reason" sh -c \
    "grep -v 'event=' $T_DIR/fw2-syncd.log | grep -q '$C2:9: .*banana'"
check "--check says the same, exit 2" sh -c \
    "$SYNCD -c $C2 --check 2>&1 | grep -q '^$C2:9: '; \
    $SYNCD -c $C2 --check >/dev/null 2>&1; [ \$? = 2 ]"
check "status: 1 reload, 1 refused" \
    [ "$(sj fw2 "s['reloads'], s['reloads_refused']")" = "(1, 1)" ]
check "the same peers (10.0.3.9 not added)" \
    [ "$(peers fw2)" = "$speers2" ]
check "the fw1<->fw2 sessions and the states held as before" \
    [ "$(pair fw2)" = "$spoint2" ]
check "fw2's syncd is alive" alive "$(lab_syncd_pid fw2)"

# --- 6. new connections after the reloads; then fw1 dies: fw2 takes over
# with the states synced
out1=$LAB_TRAFFIC_OUT pid1=$LAB_TRAFFIC_PID
lab_traffic_start reload2 "$N2" 300 --final-wait 20000 --no-stream \
    --no-probe
out2=$LAB_TRAFFIC_OUT pid2=$LAB_TRAFFIC_PID
LAB_TRAFFIC_OUT=$out1 LAB_TRAFFIC_PID=$pid1
check "$N2 more connections through fw1" \
    wait_for 30 grep -q '^READY' "$out2"
check "fw2 holds their states too" wait_for 20 holds fw2 $((LAB_N + N2))
check "... and fw3" wait_for 20 fw3has $((LAB_N + N2))
lab_traffic_mark
lab_freeze fw1
if wait_for 15 fw2_took; then
	ok "fw2 is MASTER of vhids 1 and 2 after fw1 died"
else
	not_ok "fw2 is MASTER of vhids 1 and 2 after fw1 died (fw2:" \
	    "$(lab_carp_states fw2))"
	dump $(lab_logs)
fi
lab_t_settle
lab_t_gap 2 "sections 2 to 5 (the syncd reloads)"
lab_t_gap 3 "fw1's death after the reloads"
lab_t_end all "the reloads of carpd and syncd on both and fw1's death"
LAB_TRAFFIC_OUT=$out2 LAB_TRAFFIC_PID=$pid2 n1=$LAB_N LAB_N=$N2
lab_t_end all "fw1's death (opened after the reloads)"
LAB_N=$n1

# The daemons after their reloads: a clean stop, nothing for a sanitizer
# build (make SAN=1, B=...) to report. fw1's are woken to stop; all four
# stop at once.
for p in $(lab_carpd_pid fw1) $(lab_syncd_pid fw1) $(lab_carpd_pid fw2) \
    $(lab_syncd_pid fw2); do
	kill -TERM "$p" && kill -CONT "$p"
done
stopped "fw1's carpd" "$(lab_carpd_pid fw1)" "$LOG1" "carpd: stopped"
stopped "fw1's syncd" "$(lab_syncd_pid fw1)" "$T_DIR/fw1-syncd.log" \
    "shutting down"
stopped "fw2's carpd" "$(lab_carpd_pid fw2)" "$T_DIR/fw2-carpd.log" \
    "carpd: stopped"
stopped "fw2's syncd" "$(lab_syncd_pid fw2)" "$T_DIR/fw2-syncd.log" \
    "shutting down"

#!/bin/sh
# test_carpd_reload.sh: SIGHUP reloads carpd.conf on a running firewall
# pair (carpd + syncd, fw1 MASTER) carrying long-lived TCP connections.
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
# No connection is lost.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

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
check "fw1's carpd is alive" kill -0 "$(lab_carpd_pid fw1)"
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

lab_t_end all "three reloads of fw1 and one of fw2"

# fw1's carpd after its reloads: a clean stop, nothing for a sanitizer
# build (make SAN=1, B=...) to report.
pid1=$(lab_carpd_pid fw1)
kill -TERM "$pid1"
check "fw1's carpd stops on SIGTERM after the reloads" \
    wait_for 15 sh -c "! kill -0 $pid1 2>/dev/null"
check "... logging \"stopped\", no sanitizer report" \
    sh -c "grep -q 'carpd: stopped' '$LOG1' &&
    ! grep -Eq 'Sanitizer|runtime error' '$LOG1'"

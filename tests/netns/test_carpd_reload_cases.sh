#!/bin/sh
# test_carpd_reload_cases.sh: what a SIGHUP reload does with each kind of
# change, on a (MASTER) and b (BACKUP of vhid 1):
#  - checks: an unchanged one keeps its state and counters; a removed one
#    stops and its process group (a hung command and its children) is
#    killed and reaped; an added one starts as ok;
#  - a track added (and later removed), preempt-delay changed, a sync
#    socket logged as needing a restart (and not used);
#  - vmac turned on: that vhid restarts, the others do not;
#  - a vhid on an interface carpd did not use yet: captured, MASTER;
#  - the passphrase (passfile content) changed on both nodes: nobody moves;
#  - a vhid on a missing interface: the whole file refused, file:line;
#  - a missing file refused; a carpd without -c refuses SIGHUP;
#  - the vhid, the check and the track removed again: the interface
#    closed, the command of the check killed; a clean stop at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b || { not_ok "topology"; exit 1; }
# a: an interface for the track, another for a new vhid
nsx a ip link add dum0 type veth peer name dum0p &&
    nsx a ip link set dum0p up && nsx a ip link set dum0 up &&
    nsx a ip link add lan2 type veth peer name lan2p &&
    nsx a ip link set lan2p up && nsx a ip link set lan2 up &&
    nsx a ip addr add 10.0.3.2/24 dev lan2 ||
    { not_ok "a's extra interfaces"; exit 1; }

printf 'first secret\n' >"$T_DIR/pass"
chmod 600 "$T_DIR/pass"
A=$T_DIR/a.conf

# conf_a STAGE: a's file at each stage (0 the start).
conf_a() {
	case $1 in
	0|4) ;;
	*)
		echo "preempt-delay 7"
		echo "track dum0"
		echo "sync $T_DIR/nosyncd.sock" ;;
	esac
	# weight 0 and a generous timeout: a loaded machine that runs it
	# late must not demote the node under the test's feet
	echo "check keep {"
	echo "	exec /bin/true"
	echo "	interval 0.3 timeout 5 weight 0"
	echo "}"
	case $1 in
	0) printf '%s\n' "check hang {" \
	    "	exec \"/bin/sh -c 'sleep 3599 & sleep 3598; wait'\"" \
	    "	interval 60 weight 0" "}" ;;
	1|2|3) printf '%s\n' "check new1 {" "	exec /bin/sleep 5" \
	    "	interval 10 timeout 9 weight 50" "}" ;;
	esac
	printf '%s\n' "vhid 1 {" "	interface eth0" "	addr 10.0.0.100/24" \
	    "	passfile $T_DIR/pass" "	advskew 0" "	preempt yes" "}"
	printf '%s\n' "vhid 2 {" "	interface eth0" "	addr 10.0.0.102/24" \
	    "	pass s" "	vmac $([ "$1" = 0 ] && echo no || echo yes)" "}"
	case $1 in
	1|2|3) printf '%s\n' "vhid 3 {" "	interface lan2" \
	    "	addr 10.0.3.1/24" "	pass s" "}" ;;
	esac
	[ "$1" != 3 ] || printf '%s\n' "vhid 5 {" "	interface nosuch0" \
	    "	addr 10.0.5.1/24" "	pass s" "}"
}
write_a() { conf_a "$1" >"$A.new" && mv "$A.new" "$A"; }

cat >"$T_DIR/b.conf" <<C
vhid 1 {
	interface eth0
	addr 10.0.0.100/24
	passfile $T_DIR/pass
	advskew 100
	preempt yes
}
C
write_a 0
carpd_bg a -c "$A"
carpd_bg b -c "$T_DIR/b.conf"
PA=$(carpd_pid a)
LOGA=$T_DIR/a.log

j() { jq_ a "$1"; }
jb() { jq_ b "$1"; }
vh() { j "[v['$2'] for v in s['vhids'] if v['vhid']==$1][0]"; }
chk() { j "[c for c in s['checks'] if c['name']=='$1'][0]['$2']"; }
reloads() { [ "$(j "s['reload']['$1']")" = "$2" ]; }
vh_is() { [ "$(vh "$1" "$2")" = "$3" ]; }
a_master() { vh_is 1 state MASTER && vh_is 2 state MASTER; }
# the hung check's command and its children
hang_runs() {
	[ -n "$(ns_pid_of a 'sleep 3599')" ] &&
	    [ -n "$(ns_pid_of a 'sleep 3598')" ]
}
hang_gone() {
	[ -z "$(ns_pid_of a 'sleep 3599')" ] &&
	    [ -z "$(ns_pid_of a 'sleep 3598')" ]
}
# no zombie child of a's carpd: every child it had was reaped
no_zombie() { ! ps -o stat= --ppid "$PA" 2>/dev/null | grep -q Z; }
# check keep: its "since" as before (to the ms the status rounds to)
keep_since_same() {
	[ "$(j "abs([c for c in s['checks'] if c['name']=='keep'][0]['since'] - $keep_since) < 0.05")" = True ]
}
keep_ran_more() { [ "$(chk keep runs)" -gt "$keep_runs" ]; }
on_macvlan() { nsx a ip -o addr show | grep -q 'carp2[^ ]* *inet 10\.0\.0\.102/'; }
has_addr_on() { nsx a ip -o addr show dev "$1" | grep -q " $2/"; }
hup() { kill -HUP "$PA"; }
b_rx_grows() {
	_r1=$(jb "s['vhids'][0]['rx']")
	sleep 1.5
	[ "$(jb "s['vhids'][0]['rx']")" -gt "$_r1" ]
}

check "a: vhids 1 and 2 MASTER" wait_for 10 a_master
check "b: vhid 1 BACKUP" wait_for 10 is_state b BACKUP 1
check "a's hung check runs (its sleep 3599 and 3598)" wait_for 5 hang_runs
t1=$(vh 1 transitions)
keep_since=$(chk keep since)
keep_runs=$(chk keep runs)

# --- 1. checks, track, settings, vmac, a vhid on a new interface
write_a 1
hup
check "reload 1 applied" wait_for 10 reloads ok 1
check "event=reload counts: 1 added, 1 restarted, checks +1 -1 =1" \
    grep -q 'event=reload result=ok .*vhids_added=1 vhids_removed=0 vhids_changed=0 vhids_restarted=1 vhids_unchanged=1 checks_added=1 checks_removed=1 checks_changed=0 checks_unchanged=1 settings_changed=2 not_applied=1' \
    "$LOGA"
check "the removed check's commands are killed (process group)" \
    wait_for 5 hang_gone
check "... and reaped: no zombie left under carpd" wait_for 5 no_zombie
check "the unchanged check keeps its state (ok) and last change" \
    sh -c "[ '$(chk keep state)' = ok ]" && keep_since_same ||
    not_ok "check keep: state $(chk keep state), since changed"
check "... and keeps running" wait_for 5 keep_ran_more
check "the added check starts as ok (weight 50, no demotion)" \
    [ "$(chk new1 state)/$(j "s['demote']['reasons']['check']")" = "ok/0" ]
check "the track is added (dum0, up: no demotion)" \
    [ "$(j "[i['track'] for i in s['demote']['interfaces'] if i['name']=='dum0']")/$(j "s['demote']['total']")" = "[True]/0" ]
check "preempt-delay 7 applies to vhid 1" vh_is 1 preempt_delay 7
check "a new sync socket is logged as needing a restart" \
    grep -q 'event=reload-change object=setting name=sync action=not-applied' \
    "$LOGA"
check "... and not used" [ "$(j "'sync' in s")" = False ]
check "vhid 2 (vmac yes) restarted" grep -q \
    'event=reload-change object=vhid name=2 iface=eth0 action=restarted what=vmac' \
    "$LOGA"
check "... and is MASTER again" wait_for 10 vh_is 2 state MASTER
check "... its address on its macvlan" wait_for 5 on_macvlan
if vh_is 1 transitions "$t1"; then
	ok "vhid 1 did not transition"
else
	not_ok "vhid 1 did not transition"
	dump "$LOGA" "$T_DIR/b.log"
fi
check "vhid 3 on lan2 (new interface) becomes MASTER" \
    wait_for 10 vh_is 3 state MASTER
check "... with its address on lan2" wait_for 5 has_addr_on lan2 10.0.3.1

# --- 2. the passphrase changes on both nodes (passfile content)
printf 'second secret\n' >"$T_DIR/pass"
t1=$(vh 1 transitions)
tb=$(jb "s['vhids'][0]['transitions']")
hup
kill -HUP "$(carpd_pid b)"
check "reload 2 applied on a, vhid 1 changed: pass" \
    wait_for 10 sh -c "grep -q 'event=reload-change object=vhid name=1 iface=eth0 action=changed what=pass ' '$LOGA'"
check "... and on b" wait_for 10 sh -c "grep -q 'action=changed what=pass ' '$T_DIR/b.log'"
sleep 4	# longer than b's master-down interval
if [ "$(vh 1 transitions)/$(jb "s['vhids'][0]['transitions']")" = \
    "$t1/$tb" ]; then
	ok "a stays MASTER, b BACKUP: neither transitioned"
else
	not_ok "a stays MASTER, b BACKUP: neither transitioned"
	dump "$LOGA" "$T_DIR/b.log"
fi
check "b accepts a's advertisements under the new passphrase" b_rx_grows

# --- 3. a vhid on a missing interface: the file refused whole
before=$(j "[(v['vhid'], v['state'], v['addrs']) for v in s['vhids']]")
write_a 3
hup
check "reload 3 refused" wait_for 10 reloads refused 1
line=$(grep -n 'vhid 5' "$A" | cut -d: -f1)
check "the log names $A:$line: vhid 5: no such interface nosuch0" \
    grep -qF "$A:$line: vhid 5: no such interface nosuch0" "$LOGA"
check "nothing changed" [ "$(j "[(v['vhid'], v['state'], v['addrs']) for v in s['vhids']]")" = "$before" ]

# --- 4. a missing file
mv "$A" "$A.away"
hup
check "a missing file is refused" wait_for 10 reloads refused 2
check "... saying why" grep -qF "$A: No such file or directory" "$LOGA"
mv "$A.away" "$A"

# --- 5. the new vhid, the check and the track removed again (stage 4)
write_a 4
hup
check "reload 5 applied" wait_for 10 reloads ok 3
check "vhid 3 is gone, lan2 closed" \
    [ "$(j "([v['vhid'] for v in s['vhids']], [i['name'] for i in s['demote']['interfaces']])")" = \
    "([1, 2], ['eth0'])" ]
check "... its address gone" wait_for 5 no_addr a 10.0.3.1
check "the track is removed" grep -q \
    'event=reload-change object=track name=dum0 action=removed' "$LOGA"
new1_gone() { [ -z "$(ns_pid_of a '/bin/sleep 5')" ]; }
check "the check's running command is killed" wait_for 5 new1_gone
check "... and reaped" wait_for 5 no_zombie
check "vhids 1 and 2 still MASTER" a_master

# --- 6. started without -c: SIGHUP is refused, logged
PC=$(bg a "$T_DIR/c.log" "$CARPD" --control "$T_DIR/c.sock" -i eth0 \
    -v 9 -a 10.0.0.109/24 -p s)
wait_for 5 test -S "$T_DIR/c.sock"
kill -HUP "$PC"
check "carpd without -c refuses SIGHUP" \
    wait_for 5 grep -q 'event=reload result=refused .*started without -c' \
    "$T_DIR/c.log"
check "... and runs on" alive "$PC"

# --- 7. a clean stop after all this (a sanitizer build reports here)
kill -TERM "$PA"
check "a's carpd stops on SIGTERM" wait_for 15 pid_gone "$PA"
check "... logging \"stopped\", no sanitizer report" \
    sh -c "grep -q 'carpd: stopped' '$LOGA' &&
    ! grep -Eq 'Sanitizer|runtime error' '$LOGA'"

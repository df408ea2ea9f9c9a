#!/bin/sh
# test_carpd_cli.sh: carpd's command line: usage and configuration errors
# exit 2 with file:line: reason, runtime failures exit 1, the status and
# demote subcommands, and a clean SIGTERM exit with status 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a || { not_ok "topology"; exit 1; }

is_state_sock() {
	"$CARPD" status --control "$T_DIR/$1" 2>/dev/null | grep -q MASTER
}

# expect RC PATTERN CMD...: exit status and a stderr pattern.
expect() {
	rc=$1; pat=$2; shift 2
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	got=$?
	if [ "$got" -eq "$rc" ] && grep -q -- "$pat" "$T_DIR/err"; then
		return 0
	fi
	echo "# exit $got (want $rc):"; sed 's/^/#   /' "$T_DIR/err"
	return 1
}

check "bad flag: usage, exit 2" expect 2 "usage:" "$CARPD" --bogus
check "bad vhid: exit 2" expect 2 "bad vhid 300" "$CARPD" -i eth0 -v 300 \
    -a 10.0.0.9
check "advskew out of range: exit 2" expect 2 "bad advskew" "$CARPD" \
    -i eth0 -v 1 -a 10.0.0.9 -k 255
check "passphrase too long: exit 2" expect 2 "longer than 19" "$CARPD" \
    -i eth0 -v 1 -a 10.0.0.9 -p 12345678901234567890
check "no address: exit 2" expect 2 "no address" "$CARPD" -i eth0 -v 1
printf 'vhid 1 {\n\tinterface eth0\n\tadvskew lots\n}\n' >"$T_DIR/bad.conf"
check "bad config: exit 2 with file:line" expect 2 \
    "$T_DIR/bad.conf:3: bad advskew lots" "$CARPD" -c "$T_DIR/bad.conf"
check "missing config: exit 2" expect 2 "nonexistent.conf" "$CARPD" \
    -c "$T_DIR/nonexistent.conf"
check "status without a daemon: exit 1" expect 1 "cannot connect" \
    "$CARPD" status --control "$T_DIR/none.sock"
check "missing interface: exit 1" expect 1 "no such interface" \
    nsx a "$CARPD" --control "$T_DIR/x.sock" -i nosuch0 -v 1 -a 10.0.0.9

# Missing privilege: the message names the capability, exit 1.
if command -v setpriv >/dev/null; then
	check "unprivileged: names CAP_NET_RAW, exit 1" expect 1 \
	    "missing capability CAP_NET_RAW" nsx a setpriv --reuid=nobody \
	    --regid=nogroup --clear-groups "$CARPD" --control "$T_DIR/u.sock" \
	    -i eth0 -v 1 -a 10.0.0.9
	check "no CAP_NET_ADMIN: names it, exit 1" expect 1 \
	    "missing capability CAP_NET_ADMIN" nsx a setpriv \
	    --bounding-set=-net_admin --inh-caps=-net_admin "$CARPD" \
	    --control "$T_DIR/u.sock" -i eth0 -v 1 -a 10.0.0.9
else
	skip "privilege messages" "no setpriv"
	skip "privilege messages" "no setpriv"
fi

printf 'pw\n' >"$T_DIR/pass"
carpd_bg a -i eth0 -v 3 -o "$T_DIR/pass" -a 10.0.0.103/24 -b 0 -k 10 -n
check "advbase 0: MASTER quickly" wait_for 3 is_state a MASTER
"$CARPD" status --control "$T_DIR/a.sock" >"$T_DIR/st" 2>&1
check "text status names the vhid and state" \
    grep -q "vhid 3 on eth0: MASTER" "$T_DIR/st"
check "text status shows the counters" grep -q "rejected:.*badauth" "$T_DIR/st"
check "JSON status has the contract's fields" sh -c "
	'$CARPD' status --json --control '$T_DIR/a.sock' | python3 -c '
import json, sys
s = json.load(sys.stdin)
v = s[\"vhids\"][0]
assert v[\"vhid\"] == 3 and v[\"interface\"] == \"eth0\"
assert v[\"state\"] == \"MASTER\" and v[\"advbase\"] == 0
assert v[\"advskew\"] == 10 and v[\"demote\"] == 0
assert v[\"addrs\"] == [\"10.0.0.103/24\"]
assert v[\"last_transition\"][\"to\"] == \"MASTER\"
assert \"badttl\" in s[\"counters\"] and \"loop\" in s[\"counters\"]
'"
if command -v setpriv >/dev/null; then
	check "status as another user: permission denied, exit 1" expect 1 \
	    "permission denied" setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups "$CARPD" status --control "$T_DIR/a.sock"
else
	skip "status as another user" "no setpriv"
fi
check "demote with a bad count: error, exit 1" expect 1 "bad count" \
    "$CARPD" demote +x9 --control "$T_DIR/a.sock"
check "demote without a count: usage, exit 2" expect 2 "usage" \
    "$CARPD" demote --control "$T_DIR/a.sock"
"$CARPD" demote 5 --control "$T_DIR/a.sock" >/dev/null
check "demote N sets the admin demotion" \
    test "$(jq_ a "s['demote']['reasons']['admin']")" = 5
"$CARPD" demote -9 --control "$T_DIR/a.sock" >/dev/null
check "demote -N stops at 0" \
    test "$(jq_ a "s['demote']['total']")" = 0

pa=$(carpd_pid a)
kill -TERM "$pa"
wait "$pa" 2>/dev/null
rc=$?
check "SIGTERM: exit status 0 ($rc)" test "$rc" -eq 0
check "address removed at exit" no_addr a 10.0.0.103

# -B: detach, still answer and still stop on SIGTERM (the signalfd must
# belong to the detached process).
nsx a "$CARPD" -B --control "$T_DIR/d.sock" -i eth0 -v 4 -a 10.0.0.104/24 \
    -b 0 -k 10
check "-B returns 0" test $? -eq 0
check "detached carpd becomes MASTER" wait_for 3 is_state_sock d.sock
pd=$(ns_pid_of a "$T_DIR/d.sock" | head -1)
T_PIDS="$T_PIDS $pd"
kill -TERM "$pd" 2>/dev/null
check "detached carpd stops on SIGTERM" \
    wait_for 3 gone "$pd"
check "and removed its address" no_addr a 10.0.0.104

# -S (ucarp --ignoreifstate): link loss neither demotes nor leaves MASTER.
carpd_bg a -i eth0 -v 5 -a 10.0.0.105/24 -b 0 -k 10 -S
check "-S: MASTER" wait_for 3 is_state a MASTER
nsx a ip link set eth0 down
sleep 0.5
check "-S: still MASTER with the link down" is_state a MASTER
check "-S: no link demotion" \
    test "$(jq_ a "s['demote']['reasons']['link']")" = 0
check "-S: failed sends demote instead" \
    test "$(jq_ a "s['demote']['reasons']['senderr']")" = 1
nsx a ip link set eth0 up

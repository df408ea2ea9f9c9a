#!/bin/sh
# test_carpd_scripts.sh: up and down scripts: ucarp's argument order
# (<interface> <vip> <xparam>), the environment, the down script at start
# and at exit, and a hanging script killed after its bound while the
# daemon keeps advertising; what the hung script forked is killed with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

topo a b || { not_ok "topology"; exit 1; }

cat >"$T_DIR/rec.sh" <<S
#!/bin/sh
echo "\$0 \$# [\$1] [\$2] [\$3] \$CARP_VHID \$CARP_STATE \$CARP_INTERFACE" \
    "[\$CARP_ADDRS] [\$CARP_VIP] [\$CARP_REASON]" >>"$T_DIR/calls"
S
cat >"$T_DIR/hang.sh" <<S
#!/bin/sh
echo hang >>"$T_DIR/calls"
echo \$\$ >"$T_DIR/hang.pid"
sleep 120 &
echo \$! >"$T_DIR/child.pid"
wait
S
cp "$T_DIR/rec.sh" "$T_DIR/up.sh"
cp "$T_DIR/rec.sh" "$T_DIR/down.sh"
chmod +x "$T_DIR"/*.sh

carpd_bg a -i eth0 -v 4 -p s -a 10.0.0.104/24 -a fd00::104/64 -b 0 -k 20 \
    -u "$T_DIR/up.sh" -d "$T_DIR/down.sh" -x extra
if wait_for 5 is_state a MASTER && wait_for 3 grep -q "up.sh" "$T_DIR/calls"
then ok "up script ran on MASTER"
else not_ok "up script: $(cat "$T_DIR/calls" 2>/dev/null)"; fi
check "down script ran at start (BACKUP)" \
    grep -q "down.sh 3 \[eth0\] \[10.0.0.104\] \[extra\] 4 BACKUP" \
    "$T_DIR/calls"
check "up script: ucarp's argument order and the environment" \
    grep -q "up.sh 3 \[eth0\] \[10.0.0.104\] \[extra\] 4 MASTER eth0 \[10.0.0.104/24 fd00::104/64\] \[10.0.0.104\] \[master timed out\]" \
    "$T_DIR/calls"
pa=$(carpd_pid a)
: >"$T_DIR/calls"
kill "$pa"
wait_for 5 gone "$pa"
check "down script ran at exit" \
    grep -q "down.sh 3 \[eth0\] \[10.0.0.104\] \[extra\] 4 INIT" "$T_DIR/calls"

# A hanging up script is killed; the daemon keeps working meanwhile.
: >"$T_DIR/calls"
carpd_bg b -i eth0 -v 4 -p s -a 10.0.0.104/24 -a fd00::104/64 -b 0 -k 20 \
    -u "$T_DIR/hang.sh" -n
check "neutral (-n): no down script at start" \
    sh -c "! grep -q down.sh '$T_DIR/calls'"
wait_for 5 is_state b MASTER
check "hanging script started" wait_for 3 test -s "$T_DIR/child.pid"
tx0=$(jq_ b "s['vhids'][0]['tx']")
sleep 1
check "advertisements continue while the script hangs" \
    test "$(jq_ b "s['vhids'][0]['tx']")" -gt "$tx0"
if wait_for 14 grep -q "killing it" "$T_DIR/b.log"; then
	ok "hanging script killed after its bound"
else
	not_ok "hanging script not killed"; dump "$T_DIR/b.log"
fi
gone() { pid_gone "$(cat "$T_DIR/$1.pid")"; }
check "the script is gone" wait_for 3 gone hang
check "the child it forked is gone too" wait_for 3 gone child
check "still MASTER" is_state b MASTER

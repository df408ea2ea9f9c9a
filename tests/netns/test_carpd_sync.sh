#!/bin/sh
# test_carpd_sync.sh: carpd's side of the carpd/syncd handshake against a
# stand-in syncd: demoted while the bulk sync is pending, commit before
# takeover, handover event, syncd going away.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

FAKE=$TOOLS/fakesyncd
[ -x "$FAKE" ] || { not_ok "fakesyncd not built ($FAKE)"; exit 1; }
topo a b || { not_ok "topology"; exit 1; }
VIP=10.0.0.100

carpd_bg b -i eth0 -v 1 -p s -a $VIP/24 -k 100
wait_for 8 is_state b MASTER || not_ok "b did not become MASTER"

bg a "$T_DIR/fake.log" "$FAKE" -s "$T_DIR/fa.sock" -D 32 -t 4000 \
    -c 300 >"$T_DIR/fake.pid"
pf=$(cat "$T_DIR/fake.pid")
wait_for 3 test -S "$T_DIR/fa.sock"
carpd_bg a -i eth0 -v 1 -p s -a $VIP/24 -k 0 -P --sync "$T_DIR/fa.sock" \
    --sync-timeout 3000
wait_for 3 grep -q subscribe "$T_DIR/fake.log"
sleep 2
check "a subscribed to syncd" grep -q subscribe "$T_DIR/fake.log"
check "a demoted by 32 while the bulk sync is pending" \
    test "$(jq_ a "s['demote']['reasons']['sync']")" = 32
check "a does not preempt while the bulk is pending" is_state b MASTER
check "a is BACKUP" is_state a BACKUP

if wait_for 6 is_state a MASTER; then ok "a preempts once in sync"
else not_ok "a after in-sync: $(state a)"; dump "$T_DIR/a.log"; fi
check "syncd got a commit before the takeover" \
    grep -q commit "$T_DIR/fake.log"
check "commit logged before the transition" sh -c "
	c=\$(grep -n 'asking syncd to commit' '$T_DIR/a.log' | head -1 | cut -d: -f1)
	m=\$(grep -n 'BACKUP -> MASTER' '$T_DIR/a.log' | tail -1 | cut -d: -f1)
	[ -n \"\$c\" ] && [ -n \"\$m\" ] && [ \"\$c\" -lt \"\$m\" ]"
check "the commit's answer is in status" \
    test "$(jq_ a "s['sync']['commits']")" = 1
check "b stepped down" wait_for 3 is_state b BACKUP

# syncd hands over: a bows out at once and stays demoted.
kill -USR1 "$pf"
if wait_for 3 is_state b MASTER; then ok "handover: b takes over"
else not_ok "handover: b=$(state b)"; dump "$T_DIR/a.log"; fi
sleep 1.5
check "a stays BACKUP after the handover" is_state a BACKUP
check "a asked syncd for a resync when it stepped down" \
    wait_for 3 grep -q resync "$T_DIR/fake.log"
check "b counted a's bow-out" \
    test "$(jq_ b "s['vhids'][0]['rx_bowout']")" -ge 1

# syncd goes away after its handover: a stays demoted by 32.
kill "$pf"
away() { [ "$(jq_ a "s['sync']['connected']")" = False ]; }
check "status says not connected" wait_for 4 away
check "still demoted by 32 while syncd is away after a handover" \
    test "$(jq_ a "s['demote']['reasons']['sync']")" = 32
sleep 1.5
check "a does not preempt meanwhile" is_state a BACKUP

# syncd back (in sync): a preempts again; then syncd dies without a
# handover: demoted by 1 only.
bg a "$T_DIR/fake2.log" "$FAKE" -s "$T_DIR/fa.sock" -D 0 -c 0 \
    >"$T_DIR/fake.pid"
pf2=$(cat "$T_DIR/fake.pid")
if wait_for 6 is_state a MASTER; then ok "syncd back in sync: a preempts"
else not_ok "after syncd's return: a=$(state a)"; dump "$T_DIR/a.log"; fi
kill -9 "$pf2"
syncd_down() { [ "$(jq_ a "s['demote']['reasons']['sync']")" = 1 ]; }
check "syncd crashed: demoted by 1" wait_for 4 syncd_down

# A syncd that never answers the commit: the takeover proceeds after
# --sync-timeout, and says so.
for p in $(ip netns pids "$(ns a)") $(ip netns pids "$(ns b)"); do
	kill "$p" 2>/dev/null
done
wait_for 3 sh -c "[ -z \"\$(ip netns pids $(ns a))\$(ip netns pids $(ns b))\" ]"
rm -f "$T_DIR/fa.sock"
bg a "$T_DIR/fake3.log" "$FAKE" -s "$T_DIR/fa.sock" -D 0 -c -1 >/dev/null
wait_for 3 test -S "$T_DIR/fa.sock"
carpd_bg a -i eth0 -v 1 -p s -a $VIP/24 -b 0 -k 20 \
    --sync "$T_DIR/fa.sock" --sync-timeout 500
if wait_for 5 is_state a MASTER; then ok "no commit answer: MASTER anyway"
else not_ok "commit timeout: a=$(state a)"; dump "$T_DIR/a.log"; fi
check "the commit was asked for" grep -q commit "$T_DIR/fake3.log"
check "the timeout is logged" grep -q "commit timed out" "$T_DIR/a.log"

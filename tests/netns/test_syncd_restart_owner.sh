#!/bin/sh
# test_syncd_restart_owner.sh: the syncd of the member that owns the
# states (a master) restarts while its kernel keeps them. Its peer asks
# it for its whole table at once; the answer must wait until the
# restarted syncd has read its own table. Answered before (with none of
# its states), the peer took the empty table as whole, dropped all of
# its copies (and their kernel copies), and learnt them again only when
# the table read came through: a crash in that window lost them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd owner restart" "ctgen not built"; exit 0; }
N=20000

ns_add a b
link a 10.9.0.1 b 10.9.0.2
nsx a "$CTGEN" -n $N -b 10.63.0.0 >/dev/null
start_syncd a 10.9.0.1 10.9.0.2
check "A read its $N states" wait_for 30 ge a internal $N
start_syncd b 10.9.0.2 10.9.0.1
check "B holds A's $N states" wait_for 30 ge b external $N
check "B staged them" wait_for 30 has b stage_backlog 0
kb=$(nsx b conntrack -C)
echo "# B's kernel: $kb entries"

# sweeps: how many of A's states B dropped as stale at a bulk's end
sweeps() {
	sed -n 's/.*bulk from 10.9.0.1: \([0-9]*\) stale states dropped.*/\1/p' \
	    "$T_DIR/b.log" | awk '{ s += $1 } END { print s + 0 }'
}
s0=$(sweeps)
for i in 1 2 3; do
	kill "$PID_a"
	wait "$PID_a" 2>/dev/null
	start_syncd a 10.9.0.1 10.9.0.2
	check "restart $i: A reads its $N states again" \
	    wait_for 30 ge a internal $N
	sent() { grep -q "event=bulk peer=10.9.0.2 dir=tx state=done states=$N " \
	    "$T_DIR/a.log"; }
	check "restart $i: A's bulk to B holds its $N states" wait_for 30 sent
	check "restart $i: B dropped none of A's states" \
	    [ "$(sweeps)" = "$s0" ]
	check "restart $i: B holds A's $N states" ge b external $N
	sleep 0.5
done
check "B's kernel kept every copy ($(nsx b conntrack -C) of $kb)" \
    [ "$(nsx b conntrack -C)" -ge "$kb" ]
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"

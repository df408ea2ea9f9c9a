#!/bin/sh
# test_syncd_three.sh: a group of three on one sync segment (a bridge in
# its own namespace). Each node learns the other two's states, keyed per
# origin; a commit on C installs the union of A's and B's and makes them
# C's (A and B hand theirs over); a node that dies is reported out of sync
# with the reason, and the survivors stay in sync.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd three" "ctgen not built"; exit 0; }

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
start_syncd a 10.9.0.1 10.9.0.2 10.9.0.3
start_syncd b 10.9.0.2 10.9.0.1 10.9.0.3
start_syncd c 10.9.0.3 10.9.0.1 10.9.0.2
check "all three finish their first bulk" wait_for 15 sh -c \
    "for n in a b c; do $SYNCD status --json --control $T_DIR/\$n.sock | grep -q '\"demote\":0,' || exit 1; done"

nsx a "$CTGEN" -n 5000 -b 10.1.0.0 >/dev/null
nsx b "$CTGEN" -n 3000 -b 10.2.0.0 >/dev/null
check "C holds A's and B's states" wait_for 30 has c external 8000
check "A holds B's states" wait_for 30 has a external 3000
check "B holds A's states" wait_for 30 has b external 5000
check "C's peers are in sync" wait_for 10 sh -c \
    "[ \$($SYNCD status --json --control $T_DIR/c.sock | grep -o '\"in_sync\":true' | wc -l) = 2 ]"

# Diff on A: both peers' view of A's 5000 states (compared in slices,
# over several loop turns), one JSON object per peer.
sctl a diff --json >"$T_DIR/diff.json" 2>&1
check "diff on A: both peers hold exactly A's states" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = sorted(d["peers"], key=lambda x: x["address"])
assert [x["address"] for x in p] == ["10.9.0.2", "10.9.0.3"], p
for x in p:
    assert x["answered"] and x["kernel"] == 5000 and x["held"] == 5000, x
    assert x["missing"] == x["extra"] == x["mismatched"] == 0, x
' "$T_DIR/diff.json"

sctl c commit >"$T_DIR/commit.txt"
check "commit on C: 8000 states" grep -q "^committed 8000 states" "$T_DIR/commit.txt"
table a >"$T_DIR/ta"; table b >"$T_DIR/tb"; table c >"$T_DIR/tc"
sort -u "$T_DIR/ta" "$T_DIR/tb" >"$T_DIR/tab"
if cmp -s "$T_DIR/tab" "$T_DIR/tc"; then
	ok "C's table is the union of A's and B's"
else
	not_ok "C's table is the union of A's and B's"
	diff "$T_DIR/tab" "$T_DIR/tc" | head | sed 's/^/#   /'
fi

# C's committed states are its own now (its bulk after the commit ends
# with TAKEOVER): A and B hand theirs over and hold C's 8000, their own
# among them; B's deletes of what it handed over do not remove A's kernel
# copies, which are C's now.
check "A holds C's 8000 adopted states, its own among them" \
    wait_for 30 has a external 8000
check "A handed its states over to C" wait_for 10 has a internal 0
check "B handed its states over to C" wait_for 10 has b internal 0
check "B holds C's 8000 states" wait_for 30 has b external 8000
check "A's kernel still has all 8000" sh -c \
    "[ \$(ip netns exec $(ns a) $CTLIST -x $SYNC_PORT | wc -l) = 8000 ]"

# A dies: B and C say so, and why.
kill -KILL "$PID_a"
if wait_for 10 sh -c "$SYNCD status --json --control $T_DIR/b.sock | grep -q 'no contact for'"; then
	ok "B reports A out of sync: no contact"
else
	not_ok "B reports A out of sync: no contact"
fi
check "B still has C alive" sh -c \
    "$SYNCD status --json --control $T_DIR/b.sock | grep -q '\"address\":\"10.9.0.3\",\"alive\":true'"
check "B stays undemoted while one peer lives" has b demote 0

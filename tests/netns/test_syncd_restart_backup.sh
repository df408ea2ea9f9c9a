#!/bin/sh
# test_syncd_restart_backup.sh: the syncd of the member that holds its
# peer's staged copies (a backup) restarts while its kernel keeps them. A
# fresh daemon learns of those copies only from the peer's first bulk,
# and stages them again after it. The peer deletes every state right
# after that bulk, while most of them still wait to be staged again:
# every kernel copy must leave B's kernel, and nothing may come back to
# A. (A delete of an entry not staged yet went with the entry: its kernel
# copy stayed behind, held by no one, until it expired.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd backup restart" "ctgen not built"; exit 0; }
N=100000

ns_add a b
link a 10.9.0.1 b 10.9.0.2
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
both_done() { has a demote 0 && has b demote 0; }
check "first bulk done on both" wait_for 20 both_done
nsx a "$CTGEN" -n $N -b 10.64.0.0 >/dev/null
check "B holds A's $N states" wait_for 60 ge b external $N
check "B staged them" wait_for 60 has b stage_backlog 0
kb=$(nsx b conntrack -C)
check "B's kernel has the $N copies ($kb entries)" [ "${kb:-0}" -ge $N ]

kill -KILL "$PID_b"
wait "$PID_b" 2>/dev/null
start_syncd b 10.9.0.2 10.9.0.1
bulk_in() { grep -q 'event=bulk peer=10.9.0.1 dir=rx state=done' \
    "$T_DIR/b.log"; }
check "B's fresh syncd received A's bulk" wait_for 30 bulk_in
# at once: the deletes reach B while it stages the bulk's states again
nsx a "$CTGEN" -n $N -b 10.64.0.0 --delete >/dev/null
check "A's table is empty" wait_for 30 has a internal 0
check "B holds none of A's states" wait_for 60 has b external 0
check "B's staging settles" wait_for 60 has b stage_backlog 0
left() { nsx b conntrack -L 2>/dev/null | grep -c 'src=10\.64\.'; }
none_left() { [ "$(left)" = 0 ]; }
if wait_for 30 none_left; then
	ok "every copy left B's kernel"
else
	not_ok "every copy left B's kernel: $(left) of $N stayed"
	nsx b conntrack -L 2>/dev/null | grep 'src=10\.64\.' | head -3 |
	    sed 's/^/#   /'
fi
check "B holds none of them as its own" has b internal 0
check "A holds none of B's states" has a external 0
check "A's kernel has none of them back" \
    sh -c "! ip netns exec $(ns a) conntrack -L 2>/dev/null | grep -q 'src=10\.64\.'"
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"
finish

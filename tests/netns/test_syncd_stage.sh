#!/bin/sh
# test_syncd_stage.sh: staging (the backup imports its peer's states into
# its kernel in the background). Staged states are in B's kernel before any
# commit; a state updated on A after it was staged is staged again with the
# new value; a state deleted on A leaves B's kernel; a commit right after a
# burst (staging possibly behind) leaves B's table equal to A's; a state
# B adopted and then deleted is deleted on A too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd staging" "ctgen not built"; exit 0; }

N=20000
ns_add a b
link a 10.9.0.1 b 10.9.0.2
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
check "first bulk done" wait_for 10 has b demote 0

ins() { nsx a conntrack -I "$@" >/dev/null 2>&1; }
ins -p tcp -s 10.1.1.7 -d 10.2.2.2 --sport 1001 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED -m 5
ins -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1002 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED -m 5
inb() { nsx b conntrack -L -p tcp --sport "$1" 2>/dev/null; }
check "both reach B" wait_for 10 has b external 2
check "staging settles" wait_for 10 has b stage_backlog 0
check "a staged state is in B's kernel before any commit" \
    wait_for 5 sh -c "ip netns exec $(ns b) conntrack -L -p tcp \
    --sport 1001 2>/dev/null | grep -q 'mark=5'"

# Updated on A after staging: staged again with the new mark.
nsx a conntrack -U -s 10.1.1.7 -m 9 >/dev/null 2>&1
check "an update after staging is staged again" \
    wait_for 10 sh -c "ip netns exec $(ns b) conntrack -L -p tcp \
    --sport 1001 2>/dev/null | grep -q 'mark=9'"
# Deleted on A: the staged copy leaves B's kernel.
nsx a conntrack -D -p tcp --sport 1002 >/dev/null 2>&1
check "a delete reaches B's cache" wait_for 10 has b external 1
check "a delete removes the staged state from B's kernel" \
    wait_for 10 sh -c "! ip netns exec $(ns b) conntrack -L -p tcp \
    --sport 1002 2>/dev/null | grep -q dport"

# A burst, and a commit the moment its last state has arrived.
nsx a "$CTGEN" -n $N >/dev/null
check "the burst reaches B" wait_for 60 has b external $((N + 1))
backlog=$(jnum b stage_backlog)
sctl b commit >"$T_DIR/commit.out" 2>&1
check "commit right after the burst succeeds (backlog was $backlog)" \
    grep -q "committed" "$T_DIR/commit.out"
if same_tables a b; then
	ok "after the commit B's table equals A's"
else
	not_ok "after the commit B's table equals A's"
	show_table_diff a b
fi
# The committed states are B's own: A learns them from B, and a delete of
# one on B reaches A (adopted states are only sent in a bulk).
check "A learns B's adopted states" wait_for 30 has a external $((N + 1))
nsx b conntrack -D -s 10.1.1.7 >/dev/null 2>&1
check "a delete of an adopted state on B reaches A" \
    wait_for 10 has a external $N
finish

#!/bin/sh
# test_syncd_loss.sh: 5% loss on the sync link in both directions (nftables
# numgen): creates, deletes and a commit still converge, and the loss was
# repaired by retransmission. Then restarts mid-stream: the restarted
# receiver and the restarted sender converge through a bulk.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd loss" "ctgen not built"; exit 0; }

N=20000
ns_add a b
link a 10.9.0.1 b 10.9.0.2
for n in a b; do
	nsx $n nft -f - <<-EOF
	table inet loss {
		chain in {
			type filter hook input priority -300;
			udp dport $SYNC_PORT numgen random mod 100 < 5 counter drop
		}
	}
	EOF
done
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
check "first bulk done despite loss" wait_for 20 has b demote 0

nsx a "$CTGEN" -n $N >/dev/null
if wait_for 60 has b external $N; then
	ok "$N states converge on B with 5% loss"
else
	not_ok "$N states converge on B with 5% loss ($(jnum b external))"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
drops=$(nsx b nft list table inet loss | sed -n 's/.*packets \([0-9]*\).*/\1/p')
check "the link really dropped frames ($drops)" [ "${drops:-0}" -gt 0 ]
if ge a resent 1 || ge a skips 1; then
	ok "lost frames were resent"
else
	not_ok "lost frames were resent"
fi

nsx a "$CTGEN" -n 5000 --delete >/dev/null
check "deletes converge with loss" wait_for 60 has b external $((N - 5000))

sctl b commit >/dev/null
if same_tables a b; then
	ok "after commit B's table equals A's"
else
	not_ok "after commit B's table equals A's"
	show_table_diff a b
fi

# extra_states: what B holds for A beyond A's kernel table (A's diff),
# with both sides' counts, to tell stale entries of A's internal cache
# (old addresses) from states A took for its own (B's staged copies).
extra_states() {
	echo "# A: internal $(jnum a internal), external $(jnum a external)," \
	    "kernel $(table a | wc -l); B: internal $(jnum b internal)," \
	    "kernel $(table b | wc -l)"
	echo "# A's kernel by protocol and source /16:"
	table a | grep -o 'orig=[0-9]*/[0-9]*\.[0-9]*' | sort | uniq -c | head |
	    sed 's/^/#   /'
	echo "# syncd diff on A (A's kernel vs what B holds for A):"
	sctl a diff 2>&1 | head -20 | sed 's/^/#   /'
	sctl a status 2>&1 | sed 's/^/#   A: /'
	sctl a status --json 2>&1 | sed 's/^/#   A: /'
}

# Restart the receiver mid-stream (SIGKILL), with a fresh kernel table.
nsx b conntrack -F >/dev/null 2>&1
nsx a "$CTGEN" -n $N --delete >/dev/null
wait_for 60 has b external 0
(nsx a "$CTGEN" -n $N -b 10.3.0.0 >/dev/null) &
GEN=$!
sleep 0.05
kill -KILL "$PID_b" 2>/dev/null
wait "$PID_b" 2>/dev/null
start_syncd b 10.9.0.2 10.9.0.1
wait $GEN
if wait_for 60 has b external $N; then
	ok "a receiver restarted mid-stream converges through a bulk"
else
	not_ok "a receiver restarted mid-stream converges ($(jnum b external))"
	extra_states
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "its bulk is done" wait_for 20 sh -c \
    "$SYNCD status --json --control $T_DIR/b.sock | grep -q '\"bulk\":\"done\"'"

# Restart the sender mid-stream: B keeps exactly A's states.
(nsx a "$CTGEN" -n 3000 -b 10.4.0.0 >/dev/null) &
GEN=$!
kill -TERM "$PID_a"
wait "$PID_a" 2>/dev/null
start_syncd a 10.9.0.1 10.9.0.2
wait $GEN
NA=$(table a | wc -l)
if wait_for 60 has b external "$NA"; then
	ok "a sender restarted mid-stream: B converges to A's $NA states"
else
	not_ok "a sender restarted mid-stream: B has $(jnum b external) of $NA"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "and stays in sync" wait_for 20 in_sync b

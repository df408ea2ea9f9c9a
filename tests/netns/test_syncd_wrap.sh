#!/bin/sh
# test_syncd_wrap.sh: sequence numbers that run through the 64-bit wrap.
# Both nodes start every session's counters just below 2^64 and rekey
# after 250 frames (test-only settings, syncd/main.c); with 5% of A's
# frames to B dropped by nftables, live states, deletes (acks, resends,
# missing ranges), a rekey and a bulk to a restarted B all run through the
# wrap: B ends with exactly A's table, and the counters have wrapped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd wrap" "ctgen not built"; exit 0; }

N=6000
SYNCD_TEST_SEQ_START=18446744073709551596	# 2^64 - 20
SYNCD_TEST_REKEY_FRAMES=250
export SYNCD_TEST_SEQ_START SYNCD_TEST_REKEY_FRAMES

ns_add a b
link a 10.9.0.1 b 10.9.0.2
nsx b nft -f - <<-EOF
table inet loss {
	chain in {
		type filter hook input priority 0;
		ip saddr 10.9.0.1 udp sport 7475 numgen random mod 20 == 0 drop
	}
}
EOF
SYNCD_OPTS=--no-stage
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
check "first bulk through the wrap" wait_for 15 has b demote 0
tx0=$(jnum a tx_seq)
check "sessions start just below the wrap ($tx0)" [ "${#tx0}" = 20 ]

identical() {
	has b external "$(table a | wc -l)" &&
	    sctl a diff 2>&1 | grep -q identical
}
nsx a "$CTGEN" -n $N -b 10.1.0.0 >/dev/null
check "live states through the wrap, with loss" wait_for 30 identical
nsx a "$CTGEN" -n $N -b 10.1.0.0 --delete >/dev/null
check "deletes through the wrap, with loss" wait_for 30 identical
nsx a "$CTGEN" -n $N -b 10.2.0.0 >/dev/null
check "live states again" wait_for 30 identical
check "frames were lost and resent ($(jnum a resent))" ge a resent 1
check "A rekeyed its session to B ($(jnum a rekeys))" ge a rekeys 1
check "A's sequence numbers went through 0 ($(jnum a tx_wraps) times)" \
    ge a tx_wraps 1
check "and B's expected ones ($(jnum b rx_wraps) times)" ge b rx_wraps 1

# A bulk through the wrap: B restarts (new sessions, counters below the
# wrap again) and gets everything from A.
kill "$PID_b"
wait "$PID_b" 2>/dev/null
start_syncd b 10.9.0.2 10.9.0.1
check "bulk to a restarted B through the wrap" wait_for 30 identical
check "B in sync" wait_for 10 in_sync b
if [ "$T_FAIL" != 0 ]; then
	sctl a status | sed 's/^/#   /'
	sctl b status | sed 's/^/#   /'
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
finish

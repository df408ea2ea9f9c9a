#!/bin/sh
# Steady UDP flows through the master (16 flows and the 1 ms probe, with
# TCP connections beside them): once ASSURED their conntrack entries get
# no more events, traffic only refreshes their timeouts. The backup must
# keep holding them past the timeout the master last sent, and get every
# one back from the master's bulk after its syncd is killed and started
# again (syncd diff on the master: nothing missing at the backup). Short
# UDP timeouts keep the test short.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

LAB_N=50
NUDP=16
UTO=3		# nf_conntrack_udp_timeout (s); the stream one is twice that

# udp_count FW: FW's conntrack entries of UDP flows to the echo server.
udp_count() {
	nsx "$1" conntrack -L -p udp 2>/dev/null | grep -c "dport=$LAB_PORT "
}
udp_at_least() { [ "$(udp_count "$1")" -ge "$2" ]; }

# diff_clean: fw1's syncd diff lists nothing missing at fw2 and counts
# at least the TCP connections and the UDP flows.
diff_clean() {
	nsx fw1 "$SYNCD" diff --control "$T_DIR/fw1-syncd.sock" \
	    >"$T_DIR/diff.out" 2>&1 || return 1
	k=$(sed -n 's/^peer 10.0.3.2: kernel \([0-9]*\),.*/\1/p' \
	    "$T_DIR/diff.out")
	[ -n "$k" ] && [ "$k" -ge $((LAB_N + NUDP + 1)) ] &&
	    grep -q "^peer 10.0.3.2: .* missing 0," "$T_DIR/diff.out"
}

# check_diff WHAT: diff_clean, with a few tries (the diff may catch a
# state in flight), its output shown when it fails.
check_diff() {
	if wait_for 10 diff_clean; then
		ok "$1"
	else
		not_ok "$1"
		dump "$T_DIR/diff.out"
	fi
}

if ! lab_setup; then
	not_ok "lab set up"
	exit 1
fi
ok "lab set up: client, fw1, fw2, server; strict ruleset, NAT"
for f in fw1 fw2; do
	nsx $f sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$UTO \
	    net.netfilter.nf_conntrack_udp_timeout_stream=$((UTO * 2))
done
if ! lab_stack_start; then
	not_ok "carpd + syncd on both: fw1 MASTER, fw2 BACKUP"
	dump $(lab_logs)
	exit 1
fi
ok "carpd + syncd on both: fw1 MASTER, fw2 BACKUP"
lab_traffic_start udp "$LAB_N" 300 --final-wait 20000 --udp-flows "$NUDP"
check "$LAB_N TCP connections, $NUDP UDP flows and the probe through fw1" \
    lab_traffic_ready 30
check "fw1 has the $((NUDP + 1)) UDP flows" \
    wait_for 10 udp_at_least fw1 $((NUDP + 1))
# Past every timeout fw1's syncd sent for them (stream: 2 * UTO).
sleep $((UTO * 3))
check "fw1 still has the UDP flows $((UTO * 3)) s later" \
    udp_at_least fw1 $((NUDP + 1))
check_diff "fw2 still holds every state of fw1 (UDP ones too)"

lab_kill KILL "$(lab_syncd_pid fw2)"
lab_start_syncd fw2
check "fw2's syncd killed and started again" alive "$(lab_syncd_pid fw2)"
check "fw2's new syncd finished its bulk sync" wait_for 20 lab_bulk_done fw2
sleep $((UTO * 3))
check_diff "fw2's new syncd holds every state of fw1 (UDP ones too)"
check "fw1 is still MASTER" lab_stack_is_master fw1
lab_traffic_stop
echo "# $(grep '^RESULT' "$LAB_TRAFFIC_OUT")"
check "no connection lost" [ "$(lab_result alive)" = "$LAB_N" ]

#!/bin/sh
# A steady UDP flow outlives the timeout fw1 last sent for it (traffic
# refreshes a timeout without any event): fw2's staged copy expires in
# its kernel while the flow goes on through fw1. When fw1 crashes, fw2's
# commit imports the flow again, and the server's datagrams (the reply
# direction, which the strict ruleset only lets in for a known state)
# keep reaching the client through fw2. UDP timeouts are shortened to a
# few seconds in the firewalls' namespaces.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lab.sh"

LAB_N=20
UPORT=6000

short_udp() {
	for f in fw1 fw2; do
		nsx $f sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3 \
		    net.netfilter.nf_conntrack_udp_timeout_stream=5 || return 1
	done
}

# The server answers the client's first datagram, then sends one every
# 50 ms to where it came from; the client sends three datagrams (the flow
# is then ASSURED at fw1) and afterwards only listens, writing the time
# of each datagram it gets. Both stop after 60 s.
cat >"$T_DIR/udpflow.py" <<'PY'
import socket, sys, time
role, addr, port, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 60
if role == "server":
    s.bind((addr, port))
    s.settimeout(1)
    peer = None
    while peer is None and time.time() < end:
        try:
            _, peer = s.recvfrom(100)
        except socket.timeout:
            pass
    s.setblocking(False)
    while time.time() < end:
        try:
            s.sendto(b"x" * 20, peer)
        except OSError:
            pass
        time.sleep(0.05)
else:
    s.settimeout(0.2)
    with open(out, "w", buffering=1) as f:
        for i in range(3):
            s.sendto(b"hi", (addr, port))
            time.sleep(0.3)
        while time.time() < end:
            try:
                s.recv(100)
                f.write("%.3f\n" % time.time())
            except socket.timeout:
                pass
PY

# flow_at FW: FW's kernel has the flow's state.
flow_at() {
	nsx "$1" conntrack -L -p udp --dport "$UPORT" 2>/dev/null |
	    grep -q "dport=$UPORT"
}
# got_since T: the client got datagrams after time T (seconds).
got_since() {
	awk -v t="$1" '$1 > t { n++ } END { exit !(n >= 5) }' "$T_DIR/udp.got"
}
expired_at_fw2() { [ "$(lab_syncd_val fw2 staged_expired)" -ge 1 ] 2>/dev/null; }

if lab_t_begin udp_expire short_udp; then
	bg server "$T_DIR/udps.log" python3 "$T_DIR/udpflow.py" server \
	    0.0.0.0 "$UPORT" - >/dev/null
	sleep 0.5
	bg client "$T_DIR/udpc.log" python3 "$T_DIR/udpflow.py" client \
	    10.0.2.100 "$UPORT" "$T_DIR/udp.got" >/dev/null
	check "the server's datagrams reach the client through fw1" \
	    wait_for 10 got_since 0
	check "fw2 staged the flow" wait_for 10 flow_at fw2
	check "fw2's staged copy expired in its kernel" \
	    wait_for 20 sh -c "! ip netns exec $(ns fw2) conntrack -L -p udp \
	    --dport $UPORT 2>/dev/null | grep -q dport=$UPORT"
	check "fw2's syncd saw it expire" wait_for 5 expired_at_fw2
	t=$(date +%s.%N)
	check "the flow goes on through fw1 meanwhile" wait_for 3 got_since "$t"
	# what fw2 holds before the crash (shown when a check fails)
	snap() {
		echo "== $1"
		nsx fw2 "$SYNCD" dump external --control "$T_DIR/fw2-syncd.sock" 2>&1 | grep udp
		nsx fw2 conntrack -L -p udp 2>&1
		nsx fw2 "$SYNCD" dump internal --control "$T_DIR/fw2-syncd.sock" 2>&1 | grep udp
		lab_syncd_status fw2
	}
	snap "before the crash" >"$T_DIR/fw2.snap"
	lab_crash fw1
	lab_t_master fw2 "fw1 crashed"
	t=$(date +%s.%N)
	snap "after takeover" >>"$T_DIR/fw2.snap"
	check "fw2 committed the flow" wait_for 5 flow_at fw2
	check "the server's datagrams reach the client through fw2" \
	    wait_for 8 got_since "$t"
	[ "$T_FAIL" = 0 ] || dump $(lab_logs) "$T_DIR/fw2.snap"
	lab_t_settle 3
	lab_t_end all "fw1's crash"
fi

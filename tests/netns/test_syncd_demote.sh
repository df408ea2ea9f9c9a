#!/bin/sh
# test_syncd_demote.sh: the demotion syncd asks carpd for (handshake.md):
# 32 "bulk sync pending" at start, 1 "sync link down" once the bulk
# requests to a dead peer gave up, 0 "in sync" when a peer answers, 1 again
# when it dies; events reach a subscriber in that order. Then a bulk that
# fails while the peer is alive (its bulk frames are dropped, everything
# else passes): the node stays demoted by 32 and says why, and asks again
# until the bulk is in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
command -v python3 >/dev/null 2>&1 || { skip "syncd demote" "python3 missing"; exit 0; }

ns_add a b
link a 10.9.0.1 b 10.9.0.2
start_syncd a 10.9.0.1 10.9.0.2

cat >"$T_DIR/sub.py" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
b = b"subscribe"; s.sendall(struct.pack(">IB", len(b), 0) + b)
s.settimeout(1); buf = b""; end = time.time() + float(sys.argv[2])
while time.time() < end:
	try:
		x = s.recv(4096)
	except socket.timeout:
		continue
	if not x: break
	buf += x
	while len(buf) >= 5:
		n, t = struct.unpack(">IB", buf[:5])
		if len(buf) < 5 + n: break
		print(t, buf[5:5 + n].decode(), flush=True); buf = buf[5 + n:]
EOF
python3 "$T_DIR/sub.py" "$T_DIR/a.sock" 40 >"$T_DIR/events" 2>&1 &
SUB=$!
T_PIDS="$T_PIDS $SUB"

check "at start: demote 32, bulk sync pending" wait_for 3 \
    grep -q "^3 demote 32 bulk sync pending" "$T_DIR/events"
check "status shows it too" has a demote 32
if wait_for 20 has a demote 1; then
	ok "a dead peer: requests give up, demote 1 (sync link down)"
else
	not_ok "a dead peer: requests give up, demote 1 ($(jnum a demote))"
fi
check "the first bulk is reported failed" sh -c \
    "$SYNCD status --json --control $T_DIR/a.sock | grep -q '\"first_bulk\":\"failed\"'"

start_syncd b 10.9.0.2 10.9.0.1
check "the peer answers: demote 0" wait_for 10 has a demote 0
check "the new node finishes its bulk: demote 0" wait_for 10 has b demote 0
check "A asks the late peer for its table after all" wait_for 10 sh -c \
    "$SYNCD status --json --control $T_DIR/a.sock | grep -q '\"bulk\":\"done\"'"
kill -KILL "$PID_b"
check "the peer dies: demote 1 again" wait_for 10 has a demote 1
check "B is reported with the reason" sh -c \
    "$SYNCD status --json --control $T_DIR/a.sock | grep -q 'no contact for'"
sleep 0.5
kill "$SUB" 2>/dev/null
tr '\n' '|' <"$T_DIR/events" >"$T_DIR/seq"
check "subscriber saw 32, 1, 0, 1 in order" grep -q \
    "demote 32 bulk sync pending|.*demote 1 sync link down|.*demote 0 in sync|.*demote 1 sync link down" \
    "$T_DIR/seq"
[ "$T_FAIL" = 0 ] || { cat "$T_DIR/events" | sed 's/^/#   /'; dump "$T_DIR/a.log"; }

# A bulk that fails with the peer alive.
kill "$PID_a"
wait "$PID_a" 2>/dev/null
nsx b "$CTGEN" -n 2000 -b 10.60.0.0 >/dev/null
start_syncd b 10.9.0.2 10.9.0.1
nsx a nft -f - <<-EOF
table inet bulkdrop {
	chain in {
		type filter hook input priority 0;
		ip saddr 10.9.0.2 udp sport 7475 meta length > 600 drop
	}
}
EOF
start_syncd a 10.9.0.1 10.9.0.2
if wait_for 25 sh -c "$SYNCD status --json --control $T_DIR/a.sock |
    grep -q '\"demote_reason\":\"bulk from 10.9.0.2 failed, peer alive\"'"
then
	ok "bulk fails, peer alive: still demoted, status says why"
else
	not_ok "bulk fails, peer alive: still demoted, status says why"
	sctl a status | sed 's/^/#   /'
fi
check "demoted by 32 meanwhile" has a demote 32
check "the log says so" grep -q "while the peer is alive: staying demoted" \
    "$T_DIR/a.log"
nsx a nft delete table inet bulkdrop
check "asked again: the bulk arrives, demote 0" wait_for 30 has a demote 0
check "with all of B's states" has a external 2000
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"

#!/bin/sh
# test_syncd_basic.sh: two nodes on a sealed sync link. States created on A
# (plain, SNAT, DNAT, IPv6, UDP with mark and zone, labels and mark set by
# nft on real packets, an FTP control connection with its related data
# connection; the real traffic goes from a client namespace C through A to
# a server namespace S, as a firewall forwards it: A's own traffic is never
# synced) appear on B; deletes propagate; after "syncd commit" B's kernel
# table matches A's attribute by attribute; diff, forged frames, handover
# on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools

ns_add a b c s
link a 10.9.0.1 b 10.9.0.2
link c 10.5.0.2 a 10.5.0.1
link s 10.6.0.2 a 10.6.0.1
nsx c ip route add default via 10.5.0.1
nsx s ip route add default via 10.6.0.1
nsx a sysctl -qw net.ipv4.ip_forward=1
for n in a b; do
	nsx $n ip link set lo up
	nsx $n sysctl -qw net.netfilter.nf_conntrack_helper=0 2>/dev/null
	nsx $n nft -f - <<-EOF
	table inet t {
		ct helper ftp-std { type "ftp" protocol tcp; }
		chain through {
			type filter hook forward priority 0;
			tcp dport 2121 ct helper set "ftp-std"
			icmp type echo-request ct mark set 42
			icmp type echo-reply ct label set 3
		}
	}
	EOF
done
# The zones the states below use (by default only zone 0 is imported).
SYNCD_OPTS="--import-zones 0,5,9"

KEYF=$T_DIR/key
$SYNCD genkey >"$KEYF" && chmod 600 "$KEYF"
check "genkey prints a 64-digit hex key" grep -qE '^[0-9a-f]{64}$' "$KEYF"
SYNCD_KEY=$KEYF

ins() { nsx a conntrack -I "$@" >/dev/null 2>&1; }
# Some states exist before syncd starts (found by its first dump).
ins -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1001 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED

start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
if wait_for 10 has b demote 0 && wait_for 10 has a demote 0; then
	ok "both nodes finish their first bulk"
else
	not_ok "both nodes finish their first bulk"; dump "$T_DIR/a.log"
fi
check "status says sealed" sealed a

# The rest after start: plain, SNAT, DNAT, IPv6, UDP mark+zone, ICMP.
ins -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1002 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
ins -p tcp -s 192.168.1.10 -d 10.2.2.2 --sport 2000 --dport 80 \
    --src-nat 10.9.9.9 --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
ins -p tcp -s 192.168.1.11 -d 10.2.2.3 --sport 2001 --dport 80 \
    --dst-nat 10.7.7.7:8080 --state ESTABLISHED -t 3600 \
    -u SEEN_REPLY,ASSURED
ins -p tcp -s fd00::1 -d fd00::2 --sport 5 --dport 22 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
ins -p udp -s 10.1.1.1 -d 10.2.2.2 --sport 53 --dport 53 -t 600 \
    --mark 7 --zone 5
ins -p tcp -s 10.1.1.9 -d 10.2.2.9 --sport 999 --dport 443 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED --mark 3 --zone 9
# Label and mark set by nft on a real packet through A.
nsx c ping -c 1 -W 1 10.6.0.2 >/dev/null 2>&1
# FTP from C to S through A: control connection through the ftp helper,
# PORT command, the server opens the data connection: an expectation,
# then a related state.
cat >"$T_DIR/ftp_srv.py" <<'EOF'
import os, socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.6.0.2", 2121)); srv.listen(1)
print("listening", flush=True)
s, _ = srv.accept()
s.sendall(b"220 hi\r\n"); s.recv(100)
s.sendall(b"331 ok\r\n"); s.recv(100)
s.sendall(b"200 ok\r\n")
print("expecting", flush=True)
for i in range(200):
	if os.path.exists(sys.argv[1]): break
	time.sleep(0.05)
d = socket.create_connection(("10.5.0.2", 50000), timeout=5)
d.sendall(b"x"); d.recv(10)
print("ftp ready", flush=True)
time.sleep(120)
EOF
cat >"$T_DIR/ftp_cli.py" <<'EOF'
import socket, time
dl = socket.socket(); dl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
dl.bind(("10.5.0.2", 50000)); dl.listen(1)
c = socket.create_connection(("10.6.0.2", 2121), timeout=5); c.recv(100)
c.sendall(b"USER a\r\n"); c.recv(100)
c.sendall(b"PORT 10,5,0,2,195,80\r\n"); c.recv(100)
e, _ = dl.accept(); e.recv(10); e.sendall(b"y")
time.sleep(120)
EOF
FTP=no
if command -v python3 >/dev/null 2>&1; then
	bg s "$T_DIR/ftp.log" python3 "$T_DIR/ftp_srv.py" "$T_DIR/go" >/dev/null
	wait_for 5 grep -q "listening" "$T_DIR/ftp.log"
	bg c "$T_DIR/ftp_cli.log" python3 "$T_DIR/ftp_cli.py" >/dev/null
	if wait_for 5 grep -q "expecting" "$T_DIR/ftp.log"; then
		# The PORT command left an expectation: B learns it.
		if wait_for 5 sh -c "$SYNCD status --json --control \
		    $T_DIR/b.sock | grep -o '\"expectations\":[0-9]*' |
		    tail -1 | grep -q ':[1-9]'"; then
			ok "B learns A's FTP expectation"
		else
			not_ok "B learns A's FTP expectation"
		fi
	fi
	touch "$T_DIR/go"
	wait_for 5 grep -q "ftp ready" "$T_DIR/ftp.log" && FTP=yes
fi
if [ $FTP = yes ] && nsx a "$CTLIST" | grep -q ' master='; then
	ok "an FTP data connection is related to its control connection"
else
	not_ok "an FTP data connection is related to its control connection"
	FTP=no
fi

NA=$(table a | wc -l)
if wait_for 10 has b external "$NA"; then
	ok "B holds all $NA states of A"
else
	not_ok "B holds all $NA states of A (has $(jnum b external))"
	dump "$T_DIR/a.log" "$T_DIR/b.log"
fi
check "A counts them as its own" has a internal "$NA"

# Deletes propagate.
nsx a conntrack -D -p tcp --orig-port-src 1002 >/dev/null 2>&1
N2=$((NA - 1))
check "a delete on A reaches B" wait_for 10 has b external "$N2"

# Diff: what B holds for A matches A's kernel table.
sctl a diff >"$T_DIR/diff.txt" 2>&1
check "syncd diff finds no difference" grep -q "identical" "$T_DIR/diff.txt"
sctl a diff --json >"$T_DIR/diff.json" 2>&1
check "syncd diff --json counts" grep -q '"missing":0,"extra":0,"mismatched":0' \
    "$T_DIR/diff.json"
# The diff's kernel dump runs on the loop: status answers and sync goes on
# while a diff is outstanding, and the diff still answers.
sctl a diff >"$T_DIR/diff2.txt" 2>&1 &
DPID=$!
sctl a status --json >"$T_DIR/st-during.json" 2>&1
check "status answers while a diff runs" grep -q '"peers"' \
    "$T_DIR/st-during.json"
ins -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1009 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
check "a state created during a diff reaches B" \
    wait_for 10 has b external "$NA"
wait "$DPID"
check "the concurrent diff answers" grep -q "^peer 10.9.0.2: kernel" \
    "$T_DIR/diff2.txt"
nsx a conntrack -D -p tcp --orig-port-src 1009 >/dev/null 2>&1
wait_for 10 has b external "$N2"
# A state B does not know about shows up as missing.
nsx b "$CTLIST" >/dev/null
ins -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1003 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
wait_for 10 has b external "$NA"

# Commit: B's kernel table then equals A's, attribute by attribute.
sctl b commit >"$T_DIR/commit.txt" 2>&1
check "commit answers with a count" grep -q "^committed $NA states" \
    "$T_DIR/commit.txt"
if same_tables a b; then
	ok "after commit B's table matches A's attribute by attribute"
else
	not_ok "after commit B's table matches A's attribute by attribute"
	show_table_diff a b
fi
check "SNAT binding on B" grep -q 'reply=6/10.2.2.2/80/10.9.9.9/2000 status=0x16' "$T_DIR/t.b"
check "DNAT binding on B" grep -q 'reply=6/10.7.7.7/8080/192.168.1.11/2001' "$T_DIR/t.b"
check "zone and mark on B" grep -q 'mark=3 zone=9' "$T_DIR/t.b"
check "label and mark set by nft reach B" grep -q \
    'mark=42 zone=0 labels=\(08000000000000000000000000000000\|00000000000000000000000000000008\)' \
    "$T_DIR/t.b"
check "IPv6 on B" grep -q 'orig=6/fd00::1/5/fd00::2/22' "$T_DIR/t.b"
if [ $FTP = yes ]; then
	check "related FTP data connection on B with its master" \
	    grep -q 'helper=ftp\|master=6/10.5.0.2' "$T_DIR/t.b"
fi
check "committed states are B's own now" ge b internal "$NA"

# Datagrams from the peer's address but another port are not the peer's;
# garbage and a forged frame from its address and port are rejected.
R0=$(jnum b rx_unknown_source)
if command -v python3 >/dev/null 2>&1; then
	nsx a python3 - <<'EOF'
import os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.0.1", 0))
s.sendto(os.urandom(64), ("10.9.0.2", 7475))
s.sendto(b"Sy" + bytes([2, 4]) + os.urandom(60), ("10.9.0.2", 7475))
EOF
	check "datagrams from another port are counted as unknown" \
	    wait_for 5 ge b rx_unknown_source $((R0 + 2))
	# From the peer's address and port (raw socket): a frame in the
	# peer's current session with a forged tag, and garbage.
	R0=$(jnum b rx_rejected)
	nsx a python3 - "$(dirname "$0")" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[1])
import syncpkt
syncpkt.send_udp("10.9.0.1", 7475, "10.9.0.2", 7475,
    syncpkt.frame(4, 0x01020304, 5, os.urandom(40)))
syncpkt.send_udp("10.9.0.1", 7475, "10.9.0.2", 7475, os.urandom(80))
EOF
	check "forged and garbage frames from the peer's port are counted" \
	    wait_for 5 ge b rx_rejected $((R0 + 2))
fi
check "B still in sync after the forgeries" wait_for 5 in_sync b

# SIGTERM: a subscriber gets the handover event, syncd exits 0.
cat >"$T_DIR/sub.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
b = b"subscribe"; s.sendall(struct.pack(">IB", len(b), 0) + b)
s.settimeout(10); data = s.recv(4096)
open(sys.argv[2], "w").close()	# subscribed: the test may stop syncd now
while b"handover" not in data:
	x = s.recv(4096)
	if not x: break
	data += x
print("demote 0" in data.decode(errors="replace") and "handover" in data.decode(errors="replace") and "HANDOVER-OK" or repr(data))
EOF
if command -v python3 >/dev/null 2>&1; then
	python3 "$T_DIR/sub.py" "$T_DIR/a.sock" "$T_DIR/subscribed" \
	    >"$T_DIR/sub.out" 2>&1 &
	SUB=$!
	# An interpreter can take longer than any fixed pause to start on a
	# busy machine: stop syncd only once the subscription is answered.
	wait_for 10 test -f "$T_DIR/subscribed"
	kill -TERM "$PID_a"
	wait "$PID_a" 2>/dev/null; rc=$?
	check "syncd exits 0 on SIGTERM" [ "$rc" = 0 ]
	wait "$SUB" 2>/dev/null
	if grep -q HANDOVER-OK "$T_DIR/sub.out"; then
		ok "subscriber saw demote and handover events"
	else
		not_ok "subscriber saw demote and handover events"
		dump "$T_DIR/sub.out"
	fi
fi
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"

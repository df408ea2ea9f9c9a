#!/bin/sh
# test_syncd_dump.sh: "syncd dump". Two sealed nodes; states on A (TCP,
# SNAT, DNAT, IPv6, UDP with mark and zone, ICMP, a TCP connection with
# the ftp helper, a label set by nft; the real traffic goes from a client
# namespace C through A to a server namespace S, since A's own traffic is
# never synced). A's "dump internal" is A's
# conntrack -L once the timeout and use= are normalised (and the sync
# link's own flow left out); B's "dump external", of all peers or with
# --peer, is A's internal set; --json is one JSON object a line; bad and
# unknown peers are refused. Then a million states (DUMP_N) on A: the
# dump completes while status keeps answering within a second, at most 4
# dumps run at once, and clients killed in the middle leave the daemon
# answering with its memory where it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
# The states are made by ctgen, which is not under test: the plain build's
# when there is one (a sanitizer build's takes minutes for a million).
[ -x "$TOP/build/tools/ctgen" ] && CTGEN=$TOP/build/tools/ctgen
for t in python3 "$CTGEN"; do
	command -v "$t" >/dev/null 2>&1 ||
	    { skip "syncd dump" "$t not available"; exit 0; }
done

ns_add a b c s
link a 10.9.0.1 b 10.9.0.2
link c 10.5.0.2 a 10.5.0.1
link s 10.6.0.2 a 10.6.0.1
nsx c ip route add default via 10.5.0.1
nsx s ip route add default via 10.6.0.1
nsx a sysctl -qw net.ipv4.ip_forward=1
for n in a b; do
	nsx $n sysctl -qw net.netfilter.nf_conntrack_helper=0 2>/dev/null
	# The ping's state must outlive the comparisons.
	nsx $n sysctl -qw net.netfilter.nf_conntrack_icmp_timeout=3600
	nsx $n nft -f - <<-EOF
	table inet t {
		ct helper ftp-std { type "ftp" protocol tcp; }
		chain through {
			type filter hook forward priority 0;
			tcp dport 2121 ct helper set "ftp-std"
			icmp type echo-reply ct label set 3
		}
	}
	EOF
done
# The zones the states below use (by default only zone 0 is imported).
SYNCD_OPTS="--import-zones 0,5"

KEYF=$T_DIR/key
(umask 077; $SYNCD genkey >"$KEYF")
SYNCD_KEY=$KEYF
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
if wait_for 20 has a demote 0 && wait_for 20 has b demote 0; then
	ok "both nodes finish their first bulk"
else
	not_ok "both nodes finish their first bulk"; dump "$T_DIR/a.log"
fi

ins() { nsx a conntrack -I "$@" >/dev/null 2>&1; }
ins -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1002 --dport 80 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
ins -p tcp -s 10.1.1.5 -d 10.2.2.2 --sport 1003 --dport 80 \
    --state SYN_SENT -t 3600
ins -p tcp -s 192.168.1.10 -d 10.2.2.2 --sport 2000 --dport 80 \
    --src-nat 10.9.9.9 --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
ins -p tcp -s 192.168.1.11 -d 10.2.2.3 --sport 2001 --dport 80 \
    --dst-nat 10.7.7.7:8080 --state ESTABLISHED -t 3600 \
    -u SEEN_REPLY,ASSURED
ins -p tcp -s fd00::1 -d fd00::2 --sport 5 --dport 22 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED
ins -p udp -s 10.1.1.1 -d 10.2.2.2 --sport 53 --dport 53 -t 3600 \
    --mark 7 --zone 5
ins -p icmp -s 10.1.1.1 -d 10.2.2.2 --icmp-type 8 --icmp-code 0 \
    --icmp-id 77 -t 3600
ins -p icmpv6 -s fd00::1 -d fd00::2 --icmpv6-type 128 --icmpv6-code 0 \
    --icmpv6-id 77 -t 3600
# A label from nft on a real reply, a helper on a real connection, both
# through A.
nsx c ping -c 1 -W 1 10.6.0.2 >/dev/null 2>&1
cat >"$T_DIR/srv.py" <<'EOF'
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.6.0.2", 2121)); srv.listen(1)
print("listening", flush=True)
s, _ = srv.accept(); s.recv(1); s.sendall(b"y")
time.sleep(3600)
EOF
cat >"$T_DIR/conn.py" <<'EOF'
import socket, time
c = socket.create_connection(("10.6.0.2", 2121), timeout=5)
c.sendall(b"x"); c.recv(1)
print("ready", flush=True)
time.sleep(3600)
EOF
bg s "$T_DIR/srv.log" python3 "$T_DIR/srv.py" >/dev/null
wait_for 10 grep -q listening "$T_DIR/srv.log"
bg c "$T_DIR/conn.log" python3 "$T_DIR/conn.py" >/dev/null
wait_for 10 grep -q ready "$T_DIR/conn.log"

# norm: the timeout counts down and use= is the kernel's reference count
# (syncd prints 1); labels are printed by syncd only. Sorted.
norm() {
	sed -E 's/^([a-z0-9]+ +[0-9]+) [0-9]+ /\1 - /; s/ use=[0-9]+//;
	    s/ labels=[0-9,]+//' | sort
}
# kernel NODE: conntrack -L without the sync link's own flow.
kernel() {
	nsx "$1" conntrack -L 2>/dev/null | grep -v "dport=$SYNC_PORT " | norm
}
# The table is quiet once A's internal count and the kernel agree.
NK=$(nsx a conntrack -L 2>/dev/null | grep -vc "dport=$SYNC_PORT ")
wait_for 10 has a internal "$NK"
sctl a dump internal >"$T_DIR/a.int" 2>"$T_DIR/a.err"
check "dump internal exits 0" [ $? -eq 0 ]
norm <"$T_DIR/a.int" >"$T_DIR/a.int.n"
kernel a >"$T_DIR/a.ct.n"
if [ -s "$T_DIR/a.int.n" ] && cmp -s "$T_DIR/a.int.n" "$T_DIR/a.ct.n"; then
	ok "dump internal on A is A's conntrack -L ($NK states)"
else
	not_ok "dump internal on A is A's conntrack -L"
	diff "$T_DIR/a.int.n" "$T_DIR/a.ct.n" | head -20 | sed 's/^/#   /'
fi
check "the helper is shown" grep -q ' helper=ftp ' "$T_DIR/a.int"
check "the label is shown" grep -q ' labels=3$' "$T_DIR/a.int"
check "mark and zone are shown" grep -q ' mark=7 zone=5 use=1$' \
    "$T_DIR/a.int"

NA=$(wc -l <"$T_DIR/a.int")
if wait_for 10 has b external "$NA"; then
	ok "B holds A's $NA states"
else
	not_ok "B holds A's $NA states (has $(jnum b external))"
fi
sctl b dump external >"$T_DIR/b.ext" 2>"$T_DIR/b.err"
check "dump external exits 0" [ $? -eq 0 ]
norm <"$T_DIR/b.ext" >"$T_DIR/b.ext.n"
norm <"$T_DIR/a.int" >"$T_DIR/a.int.l"
if cmp -s "$T_DIR/b.ext.n" "$T_DIR/a.int.l"; then
	ok "dump external on B is A's dump internal"
else
	not_ok "dump external on B is A's dump internal"
	diff "$T_DIR/b.ext.n" "$T_DIR/a.int.l" | head -20 | sed 's/^/#   /'
fi
sctl b dump external --peer 10.9.0.1 | norm >"$T_DIR/b.peer.n"
check "dump external --peer A is the same" cmp -s "$T_DIR/b.peer.n" \
    "$T_DIR/a.int.l"
sctl b dump external --peer 10.9.0.77 >/dev/null 2>"$T_DIR/np.err"
rc=$?
check "an unknown peer: exit 1" [ $rc -eq 1 ]
check "... saying which peers there are" grep -q \
    'no peer 10.9.0.77 (peers: 10.9.0.1)' "$T_DIR/np.err"
sctl b dump external --peer nonsense >/dev/null 2>&1
check "a malformed peer address: exit 2" [ $? -eq 2 ]
sctl b dump sideways >/dev/null 2>&1
check "neither internal nor external: exit 2" [ $? -eq 2 ]
sctl a dump internal --peer 10.9.0.2 >/dev/null 2>&1
check "--peer with internal: exit 2" [ $? -eq 2 ]

sctl b dump external --json >"$T_DIR/b.json"
if python3 - "$T_DIR/b.json" "$NA" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == int(sys.argv[2]), len(rows)
assert all(r["peer"] == "10.9.0.1" for r in rows)
u = [r for r in rows if r["layer4"] == "udp" and r["zone"] == 5]
assert len(u) == 1 and u[0]["mark"] == 7, u
assert u[0]["original"]["sport"] == 53 and "SEEN_REPLY" not in u[0]["status"]
assert any(r.get("helper") == "ftp" for r in rows)
assert any(r.get("labels") == [3] for r in rows)
assert any(r["layer3"] == "ipv6" and r["layer4"] == "icmpv6" and
    r["original"]["type"] == 128 for r in rows)
EOF
then
	ok "dump external --json: one JSON object per state, with its fields"
else
	not_ok "dump external --json: one JSON object per state, with its fields"
fi

# A million states on A (B is stopped: only A's dump is measured).
kill "$PID_b" 2>/dev/null
MAX=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
N=${DUMP_N:-1000000}
if [ "$MAX" -lt $((N + 1000)) ]; then
	echo "# nf_conntrack_max is $MAX: $((MAX - 1000)) states, not $N"
	N=$((MAX - 1000))
fi
nsx a "$CTGEN" -n "$N" >"$T_DIR/gen.out" 2>&1
echo "# ctgen: $(cat "$T_DIR/gen.out")"
# settle: A's count stays put for 3 s (at most 150 s); prints it.
settle() {
	_p=-1; _same=0; _i=0
	while [ $_same -lt 3 ] && [ $_i -lt 150 ]; do
		sleep 1
		_c=$(jnum a internal)
		if [ "$_c" = "$_p" ]; then _same=$((_same + 1)); else _same=0; fi
		_p=$_c; _i=$((_i + 1))
	done
	echo "$_p"
}
NT=$(settle)
if [ "${NT:-0}" -ge $((NA + N)) ]; then
	ok "A holds $NT states"
else
	# The kernel refused some (nf_conntrack_max, shared by every
	# namespace, may have been lowered meanwhile): go on with those.
	echo "# only $NT states fit (nf_conntrack_max is now" \
	    "$(cat /proc/sys/net/netfilter/nf_conntrack_max))"
	check "A holds some of them at least" [ "${NT:-0}" -gt $((NA + N / 10)) ]
fi

# status during the dump: every answer within a second. Timed over one
# connection (no process start-up in the figure), 50 a second.
cat >"$T_DIR/status.py" <<'EOF'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("connection closed")
        b += c
    return b
worst = count = bad = 0
while count < 3000 and not os.path.exists(sys.argv[2]):
    t = time.monotonic()
    s.sendall(struct.pack(">IB", 6, 0) + b"status")
    h = read(5)
    body = read(struct.unpack(">I", h[:4])[0])
    worst = max(worst, time.monotonic() - t)
    if h[4] != 1 or not body.startswith(b"internal "):
        bad += 1
    count += 1
    time.sleep(0.02)
print(count, int(worst * 1000), bad)
EOF
rm -f "$T_DIR/big.done"
($SYNCD dump internal --control "$T_DIR/a.sock" >"$T_DIR/big.txt" \
    2>"$T_DIR/big.err"; echo $? >"$T_DIR/big.done") &
DP=$!
d0=$(date +%s%N)
python3 "$T_DIR/status.py" "$T_DIR/a.sock" "$T_DIR/big.done" \
    >"$T_DIR/status.out" 2>&1
wait $DP
d1=$(date +%s%N)
drc=$(cat "$T_DIR/big.done")
read nst worst bad <"$T_DIR/status.out"
lines=$(wc -l <"$T_DIR/big.txt")
uniq=$(sort -u "$T_DIR/big.txt" | wc -l)
echo "# dump of $lines states: $(( (d1 - d0) / 1000000 )) ms;" \
    "${nst:-0} status requests meanwhile, slowest ${worst:-?} ms"
check "the dump of $NT states completes (exit 0)" [ $drc -eq 0 ]
check "... with every state, once ($lines lines, $uniq different)" \
    [ "$lines" -eq "$NT" -a "$uniq" -eq "$NT" ]
check "status answered during the dump (${nst:-0} times)" \
    [ "${nst:-0}" -gt 0 -a "${bad:-1}" -eq 0 ]
check "... each within a second (slowest ${worst:-?} ms)" \
    [ "${worst:-1000}" -lt 1000 ]

st_ok() { sctl a status >/dev/null 2>&1; }

# The cache changing under a dump that a slow reader stretches out:
# CH (a tenth) go and as many others come meanwhile. It ends, with each state
# at most once, and without those that were there throughout missing.
CH=$((N / 10))
# ctgen's state i: 10.1.0.0 + i / 50000, port 1024 + i % 50000; the
# first CH go. stayers FILE: how many of the others FILE has.
stayers() {
	awk -v ch="$CH" '
	    match($0, /src=10\.1\.[0-9]+\.[0-9]+ dst=10\.255\.0\.1 sport=[0-9]+/) {
		split(substr($0, RSTART, RLENGTH), f, /[=. ]/)
		if ((f[4] * 256 + f[5]) * 50000 + f[12] - 1024 >= ch)
			n++
	    }
	    END { print n + 0 }' "$1"
}
KEEP=$(stayers "$T_DIR/big.txt")
rm -f "$T_DIR/big.txt"
$SYNCD dump internal --control "$T_DIR/a.sock" 2>"$T_DIR/ch.err" |
    python3 -c 'import sys, time
while True:
    b = sys.stdin.buffer.read(65536)
    if not b:
        break
    sys.stdout.buffer.write(b)
    time.sleep(0.02)' >"$T_DIR/ch.txt" &
CHP=$!
nsx a "$CTGEN" -n "$CH" --delete >/dev/null 2>&1
nsx a "$CTGEN" -n "$CH" -b 10.100.0.0 >/dev/null 2>&1
if alive $CHP; then during=yes; else during=no; fi
wait $CHP
lines=$(wc -l <"$T_DIR/ch.txt")
uniq=$(sort -u "$T_DIR/ch.txt" | wc -l)
kept=$(stayers "$T_DIR/ch.txt")
echo "# dump while $CH states went and $CH came (still running after:" \
    "$during): $lines lines, $uniq different, $kept of the $KEEP" \
    "that stayed"
check "a dump while the cache changes completes" \
    [ -s "$T_DIR/ch.txt" -a ! -s "$T_DIR/ch.err" ]
check "... with no state twice and none that stayed missing" \
    [ "$lines" -eq "$uniq" -a "$kept" -eq "$KEEP" ]
rm -f "$T_DIR/ch.txt"
NT=$(settle)
echo "# A holds $NT states after the change"

# At most 4 dumps at once: four clients that never read hold theirs.
cat >"$T_DIR/stall.py" <<'EOF'
import socket, struct, sys, time
socks = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    req = b"dump internal"
    s.sendall(struct.pack(">IB", len(req), 0) + req)
    socks.append(s)
print("ready", flush=True)
time.sleep(120)
EOF
python3 "$T_DIR/stall.py" "$T_DIR/a.sock" 4 >"$T_DIR/stall.log" 2>&1 &
STP=$!
T_PIDS="$T_PIDS $STP"
wait_for 10 grep -q ready "$T_DIR/stall.log"
sleep 1
$SYNCD dump internal --control "$T_DIR/a.sock" >/dev/null 2>"$T_DIR/5.err"
rc=$?
check "a fifth dump is refused (exit 1)" [ $rc -eq 1 ]
check "... saying why" grep -q 'at most 4' "$T_DIR/5.err"
check "status answers with 4 dumps stalled" \
    st_ok
kill -9 $STP 2>/dev/null
wait $STP 2>/dev/null

# Clients killed in the middle of a dump: the daemon frees their dumps.
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID_a/status"; }
mkfifo "$T_DIR/fifo"
killed_dump() {
	$SYNCD dump internal --control "$T_DIR/a.sock" >"$T_DIR/fifo" &
	_c=$!
	python3 -c 'import sys, time
sys.stdin.buffer.read(1 << 20); time.sleep(60)' <"$T_DIR/fifo" &
	_r=$!
	sleep 1
	alive $_c && mid=$((mid + 1))
	kill -9 $_c $_r 2>/dev/null
	wait $_c $_r 2>/dev/null
}
mid=0
killed_dump
r0=$(rss)
for i in 1 2 3 4 5 6 7 8; do killed_dump; done
sleep 0.5
r1=$(rss)
echo "# RSS of A: $r0 kB after one killed dump, $r1 kB after eight more"
check "the clients were killed in the middle ($mid of 9)" [ $mid -eq 9 ]
check "A answers status afterwards" st_ok
check "A's memory did not grow (by $((r1 - r0)) kB)" [ $((r1 - r0)) -lt 8192 ]
# Every slot is free again: four whole dumps at once.
pp=""
for i in 1 2 3 4; do
	$SYNCD dump internal --control "$T_DIR/a.sock" | wc -l \
	    >"$T_DIR/par.$i" &
	pp="$pp $!"
done
wait $pp
good=0
for i in 1 2 3 4; do
	[ "$(cat "$T_DIR/par.$i")" -eq "$NT" ] && good=$((good + 1))
done
check "then four whole dumps at once ($good of 4 complete)" [ $good -eq 4 ]

# A clean exit: no sanitizer report, nothing leaked.
kill "$PID_a"
wait_for 10 gone "$PID_a"
check "A exits on SIGTERM without a sanitizer report" \
    sh -c "! grep -q 'Sanitizer' '$T_DIR/a.log'"

#!/bin/sh
# test_metrics.sh: the Prometheus metrics of a carpd pair and a syncd pair
# (sealed, one started from a config file with the "metrics" keyword):
# "status --prometheus" and the HTTP listener parse with the reference
# parser, every family has HELP and TYPE, counters are *_total, no series
# twice; the figures match "status --json" (vhid state, transitions, every
# counter, states after creating some, reject counters after bad packets);
# the listener answers only GET /metrics, only on the address it was given,
# and idle clients do not block the daemon; the man pages list every family.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
PYTHONPATH="$TOP/tests/netns${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH

PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c "import prometheus_client.parser" >/dev/null 2>&1; then
		PY=$p; break
	fi
done
if [ -z "$PY" ]; then
	skip "metrics" "python3-prometheus-client missing (make deps)"
	exit 0
fi
CHECK="$TOP/tests/netns/prom_check.py"
N=5		# states created on A
PORT=9101	# carpd's listener; syncd's is PORT+1

topo a b || { not_ok "topology"; exit 1; }
link a 10.9.0.1 b 10.9.0.2 || { not_ok "sync link"; exit 1; }

# Usage errors first: a bad address is refused before anything starts.
nsx a "$CARPD" -i eth0 -v 1 -a 10.0.0.100 --metrics 10.0.0.1 >"$T_DIR/e1" 2>&1
check "carpd --metrics without a port: exit 2" test $? = 2
check "... saying why" grep -q 'bad metrics address "10.0.0.1"' "$T_DIR/e1"
printf 'peer 10.9.0.1\n\nmetrics localhost:9102\n' >"$T_DIR/bad.conf"
nsx a "$SYNCD" -c "$T_DIR/bad.conf" >"$T_DIR/e2" 2>&1
check "syncd metrics keyword with a bad address: exit 2" test $? = 2
check "... naming file:line" grep -q "bad.conf:3: bad metrics address" \
    "$T_DIR/e2"

KEYF=$T_DIR/key
"$SYNCD" genkey >"$KEYF" && chmod 600 "$KEYF"
# A from the command line, B from a config file.
bg a "$T_DIR/sa.log" "$SYNCD" --peer 10.9.0.2 --listen 10.9.0.1 \
    --key "$KEYF" --control "$T_DIR/sa.sock" \
    --metrics "10.9.0.1:$((PORT + 1))" -v >"$T_DIR/sa.pid"
cat >"$T_DIR/sb.conf" <<EOF
peer 10.9.0.1
listen 10.9.0.2
key $KEYF
control $T_DIR/sb.sock
metrics 10.9.0.2:$((PORT + 1))
EOF
bg b "$T_DIR/sb.log" "$SYNCD" -c "$T_DIR/sb.conf" -v >"$T_DIR/sb.pid"
wait_for 10 test -S "$T_DIR/sa.sock"
wait_for 10 test -S "$T_DIR/sb.sock"
carpd_bg a -i eth0 -s 10.0.0.1 -v 1 -p secret -a 10.0.0.100/24 -k 0 \
    --sync "$T_DIR/sa.sock" --metrics "10.0.0.1:$PORT"
carpd_bg b -i eth0 -s 10.0.0.2 -v 1 -p secret -a 10.0.0.100/24 -k 100 \
    --sync "$T_DIR/sb.sock" --metrics "10.0.0.2:$PORT"

one_master() {
	sa=$(state a); sb=$(state b)
	[ "$sa$sb" = MASTERBACKUP ] || [ "$sa$sb" = BACKUPMASTER ]
}
if wait_for 20 one_master; then ok "one MASTER, one BACKUP"
else not_ok "one MASTER, one BACKUP ($(state a)/$(state b))"
	dump "$T_DIR/a.log" "$T_DIR/b.log" "$T_DIR/sa.log"; fi

sj() { nsx "$1" "$SYNCD" status --json --control "$T_DIR/s$1.sock"; }
sp() { nsx "$1" "$SYNCD" status --prometheus --control "$T_DIR/s$1.sock"; }
cp_() { "$CARPD" status --prometheus --control "$T_DIR/$1.sock"; }
# q FILE.prom FILE.json EXPR: evaluate on the metrics and the status.
q() { "$PY" "$CHECK" eval "$@" 2>&1; }
# http NODE URL [METHOD]: status, content type and body into $T_DIR/h.*
http() {
	nsx "$1" "$PY" - "$2" "${3:-GET}" "$T_DIR/h" <<'EOF'
import sys, urllib.request, urllib.error
url, method, out = sys.argv[1:4]
req = urllib.request.Request(url, method=method,
                             data=b"x=1" if method == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=10)
    code, ctype, body = r.status, r.headers.get("Content-Type"), r.read()
except urllib.error.HTTPError as e:
    code, ctype, body = e.code, e.headers.get("Content-Type"), e.read()
    if e.headers.get("Allow") is not None:
        print("Allow:", e.headers.get("Allow"))
open(out + ".body", "wb").write(body)
print(code, ctype)
EOF
}

# ---- carpd ----
for n in a b; do
	cstatus $n >"$T_DIR/c$n.j1"
	cp_ $n >"$T_DIR/c$n.prom"
	cstatus $n >"$T_DIR/c$n.j2"
	"$PY" "$CHECK" lint "$T_DIR/c$n.prom" >"$T_DIR/lint" 2>&1
	if [ $? = 0 ]; then ok "carpd $n: every family has HELP and TYPE," \
	    "counters *_total, no duplicate series"
	else not_ok "carpd $n: lint"; sed 's/^/#   /' "$T_DIR/lint"; fi
	st=$(jq_ $n "s['vhids'][0]['state']")
	check "carpd $n: carpd_vhid_state is 1 for $st only" test \
	    "$(q "$T_DIR/c$n.prom" "$T_DIR/c$n.j1" \
	    "(v('carpd_vhid_state', vhid=1, state='$st'), total('carpd_vhid_state', vhid=1))")" = "(1.0, 1.0)"
	check "carpd $n: advbase and advskew as in status" test \
	    "$(q "$T_DIR/c$n.prom" "$T_DIR/c$n.j1" \
	    "v('carpd_vhid_advbase_seconds', vhid=1) == s['vhids'][0]['advbase'] and v('carpd_vhid_advskew', vhid=1) == s['vhids'][0]['advskew']")" = True
	if "$PY" "$CHECK" carpd "$T_DIR/c$n.prom" "$T_DIR/c$n.j1" \
	    "$T_DIR/c$n.j2" >"$T_DIR/cmp" 2>&1; then
		ok "carpd $n: every counter matches status --json ($(head -1 "$T_DIR/cmp"))"
	else not_ok "carpd $n: counters"; sed 's/^/#   /' "$T_DIR/cmp"; fi
done
check "carpd a: connected to syncd, as status says" test \
    "$(q "$T_DIR/ca.prom" "$T_DIR/ca.j1" \
    "v('carpd_sync_connected') == int(s['sync']['connected'])")" = True

# A reject counter after bad packets: TTL 64 instead of 255, from B to A.
cat >"$T_DIR/badttl.py" <<'EOF'
import socket, struct
from carppkt import csum
h = struct.pack("!BBBBBBH", 0x21, 1, 0, 7, 0, 1, 0) + b"\1" * 8 + b"\0" * 20
h = h[:6] + struct.pack("!H", csum(h)) + h[8:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(h), 1, 0x4000, 64,
                 112, 0, socket.inet_aton("10.0.0.2"),
                 socket.inet_aton("10.0.0.1"))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for _ in range(3):
    s.sendto(ip + h, ("10.0.0.1", 0))
EOF
before=$(counter a badttl)
nsx b python3 "$T_DIR/badttl.py"
if wait_for 5 counter_ge a badttl $((before + 3)); then
	cp_ a >"$T_DIR/ca2.prom"; cstatus a >"$T_DIR/ca2.j"
	check "carpd: carpd_rx_rejected_total{reason=\"badttl\"} counts the 3 bad packets" \
	    test "$(q "$T_DIR/ca2.prom" "$T_DIR/ca2.j" \
	    "v('carpd_rx_rejected_total', reason='badttl') >= $before + 3 and v('carpd_rx_rejected_total', reason='badttl') == s['counters']['badttl']")" = True
else
	not_ok "carpd: bad TTL packets not counted ($(counter a badttl))"
fi

# ---- carpd's listener ----
out=$(http a "http://10.0.0.1:$PORT/metrics")
check "carpd a: GET /metrics: 200, text format 0.0.4 ($out)" \
    test "$out" = "200 text/plain; version=0.0.4; charset=utf-8"
cp "$T_DIR/h.body" "$T_DIR/cah.prom"
cstatus a >"$T_DIR/cah.j"
check "carpd a: what the listener serves passes the lint" \
    "$PY" "$CHECK" lint "$T_DIR/cah.prom"
check "carpd a: the listener's vhid state is status's" test \
    "$(q "$T_DIR/cah.prom" "$T_DIR/cah.j" \
    "v('carpd_vhid_state', vhid=1, state=s['vhids'][0]['state'])")" = 1
out=$(http a "http://10.0.0.1:$PORT/metrics" POST | tr '\n' ' ')
check "POST: 405 with Allow: GET, HEAD ($out)" \
    test "${out%% text*}" = "Allow: GET, HEAD 405"
out=$(http a "http://10.0.0.1:$PORT/elsewhere")
check "another path: 404 ($out)" test "${out%% *}" = 404
out=$(http a "http://10.0.0.1:$PORT/metrics" HEAD)
check "HEAD: 200, no body" test "${out%% *}" = 200 -a ! -s "$T_DIR/h.body"

# Bound to the given address only: nothing on the others of the namespace.
cat >"$T_DIR/conn.py" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except OSError as e:
    print("closed")
EOF
for addr in 127.0.0.1 10.0.0.100 fd00::1 ::1; do
	check "carpd a: nothing listens on $addr:$PORT" test \
	    "$(nsx a "$PY" "$T_DIR/conn.py" $addr $PORT)" = closed
done
check "syncd a: nothing listens on 10.0.0.1:$((PORT + 1))" test \
    "$(nsx a "$PY" "$T_DIR/conn.py" 10.0.0.1 $((PORT + 1)))" = closed
check "carpd a: one listening socket on port $PORT, on 10.0.0.1" test \
    "$(nsx a ss -Hltn "sport = :$PORT" | awk '{print $4}')" = \
    "10.0.0.1:$PORT"

# Idle clients from three addresses (4 connections each, the per-address
# limit) try to hold more than the 8 connections the listener takes: the
# daemon keeps at most 8, does not spin on the ones left waiting, answers
# meanwhile, and the 10 s idle timeout closes them.
nsx a ip addr add 10.0.0.201/24 dev eth0
nsx a ip addr add 10.0.0.202/24 dev eth0
cat >"$T_DIR/idle.py" <<'EOF'
import socket, sys, time
dst, port, per, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
conns = []
for src in sys.argv[5:]:
    for _ in range(per):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((src, 0))
            s.connect((dst, port))
            s.send(b"GET /metr")
            conns.append(s)
        except OSError:
            pass
print(len(conns), flush=True)
time.sleep(pause)
EOF
CPID=$(carpd_pid a)
socks() { ls -l "/proc/$CPID/fd" 2>/dev/null | grep -c 'socket:'; }
cpu() { awk '{print $14 + $15}' "/proc/$CPID/stat"; }
s0=$(socks)
bg a "$T_DIR/idle.log" "$PY" "$T_DIR/idle.py" 10.0.0.1 $PORT 4 40 \
    10.0.0.1 10.0.0.201 10.0.0.202 >/dev/null
wait_for 10 test -s "$T_DIR/idle.log"
sleep 1
t0=$(cpu)
h=$(($(socks) - s0))
check "idle clients: carpd holds more than one address's 4 and at most 8 ($h)" \
    test "$h" -ge 5 -a "$h" -le 8
check "carpd a answers its control socket meanwhile" \
    wait_for 2 jq_ a "s['vhids'][0]['state']"
sleep 4
t1=$(cpu)
check "carpd does not spin while the listener is full ($((t1 - t0)) ticks in 4 s)" \
    test $((t1 - t0)) -lt 100
no_held() { [ "$(socks)" -le "$s0" ]; }
check "idle connections closed by the 10 s timeout" wait_for 35 no_held
out=$(http a "http://10.0.0.1:$PORT/metrics")
check "after the idle clients: GET works again ($out)" test "${out%% *}" = 200

# ---- syncd: N states on A ----
in_sync_s() { sj "$1" 2>/dev/null | grep -q '"in_sync":true'; }
check "syncd pair in sync" wait_for 20 in_sync_s a
check "syncd b in sync" wait_for 20 in_sync_s b
for i in $(seq 1 $N); do
	nsx a conntrack -I -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport $((1000 + i)) \
	    --dport 80 --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED \
	    >/dev/null 2>&1
done
ext_b() { [ "$(sj b | grep -o '"external":[0-9]*' | head -1 | cut -d: -f2)" -ge $N ]; }
check "B learns A's $N states" wait_for 15 ext_b
# Forged frames (INITs with a nonsense tag) from A's address and port to
# B (raw socket: A's syncd holds the port).
cat >"$T_DIR/forge.py" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[1])
import syncpkt
for _ in range(3):
    syncpkt.send_udp("10.9.0.1", 7475, "10.9.0.2", 7475,
                     syncpkt.frame(syncpkt.T_INIT, 0, 0, os.urandom(61)))
EOF
nsx a "$PY" "$T_DIR/forge.py" "$(cd "$(dirname "$0")" && pwd)"
forged_b() { sj b | grep -q '"rx_forged":[3-9]'; }
check "B counts the forged frames" wait_for 5 forged_b
for n in a b; do
	sj $n >"$T_DIR/s$n.j1"
	sp $n >"$T_DIR/s$n.prom"
	sj $n >"$T_DIR/s$n.j2"
	"$PY" "$CHECK" lint "$T_DIR/s$n.prom" >"$T_DIR/lint" 2>&1
	if [ $? = 0 ]; then ok "syncd $n: every family has HELP and TYPE," \
	    "counters *_total, no duplicate series"
	else not_ok "syncd $n: lint"; sed 's/^/#   /' "$T_DIR/lint"; fi
	if "$PY" "$CHECK" syncd "$T_DIR/s$n.prom" "$T_DIR/s$n.j1" \
	    "$T_DIR/s$n.j2" >"$T_DIR/cmp" 2>&1; then
		ok "syncd $n: every counter and state count matches status --json ($(head -1 "$T_DIR/cmp"))"
	else not_ok "syncd $n: counters"; sed 's/^/#   /' "$T_DIR/cmp"; fi
	check "syncd $n: peer up and in sync as status says" test \
	    "$(q "$T_DIR/s$n.prom" "$T_DIR/s$n.j1" \
	    "all(v('syncd_peer_up', peer=p['address']) == p['alive'] and v('syncd_peer_in_sync', peer=p['address']) == p['in_sync'] and v('syncd_peer_bulk', peer=p['address'], state=p['bulk']) == 1 for p in s['peers'])")" = True
	check "syncd $n: sealed, first bulk as status says" test \
	    "$(q "$T_DIR/s$n.prom" "$T_DIR/s$n.j1" \
	    "v('syncd_sealed') == 1 and v('syncd_first_bulk', state=s['first_bulk']) == 1")" = True
done
check "syncd a: syncd_internal_states counts the $N states" test \
    "$(q "$T_DIR/sa.prom" "$T_DIR/sa.j1" "v('syncd_internal_states') >= $N")" = True
check "syncd b: syncd_external_states holds A's $N states" test \
    "$(q "$T_DIR/sb.prom" "$T_DIR/sb.j1" "v('syncd_external_states') >= $N")" = True
check "syncd b: the forged frames by reason" test \
    "$(q "$T_DIR/sb.prom" "$T_DIR/sb.j1" \
    "v('syncd_peer_rx_rejected_total', peer='10.9.0.1', reason='forged') >= 3")" = True

# Every family the daemons export is in their man page's METRICS section.
undoc() {
	for f in $(grep '^# TYPE' "$1" | awk '{print $3}'); do
		grep -qw -- "$f" "$2" || echo "$f"
	done
}
u=$(undoc "$T_DIR/ca.prom" "$TOP/docs/carpd.8")
check "every carpd family is in carpd(8)${u:+ (not: $u)}" test -z "$u"
u=$(undoc "$T_DIR/sb.prom" "$TOP/docs/syncd.8")
check "every syncd family is in syncd(8)${u:+ (not: $u)}" test -z "$u"

# ---- syncd's listener (B's from the config keyword) ----
for n in a b; do
	k=1; [ $n = b ] && k=2
	out=$(http $n "http://10.9.0.$k:$((PORT + 1))/metrics")
	check "syncd $n: GET /metrics: 200 ($out)" test "${out%% *}" = 200
	cp "$T_DIR/h.body" "$T_DIR/s${n}h.prom"
	sj $n >"$T_DIR/s${n}h.j"
	check "syncd $n: what the listener serves passes the lint" \
	    "$PY" "$CHECK" lint "$T_DIR/s${n}h.prom"
	check "syncd $n: the listener's state counts are status's" test \
	    "$(q "$T_DIR/s${n}h.prom" "$T_DIR/s${n}h.j" \
	    "v('syncd_internal_states') == s['internal'] and v('syncd_external_states') == s['external']")" = True
done
# A listener that cannot bind stops the daemon, saying why.
timeout 20 ip netns exec "$(ns b)" "$SYNCD" --peer 10.9.0.1 \
    --listen 10.9.0.2 --port 7476 --key "$KEYF" \
    --control "$T_DIR/sx.sock" --metrics "10.9.0.2:$((PORT + 1))" \
    >"$T_DIR/e3" 2>&1
check "a second syncd on the same metrics address: exit 1" test $? = 1
check "... saying the address is in use" \
    grep -q "metrics listener 10.9.0.2:$((PORT + 1)): Address already in use" \
    "$T_DIR/e3"
check "syncd b: one listening socket on port $((PORT + 1)), on 10.9.0.2" \
    test "$(nsx b ss -Hltn "sport = :$((PORT + 1))" | awk '{print $4}')" = \
    "10.9.0.2:$((PORT + 1))"
for n in a b; do
	check "carpd $n alive" alive "$(carpd_pid $n)"
	check "syncd $n alive" alive "$(cat "$T_DIR/s$n.pid")"
done

# A clean stop: the listeners closed, nothing leaked or undefined (the
# logs of a sanitizer build would say so).
for n in a b; do
	kill -TERM "$(carpd_pid $n)" "$(cat "$T_DIR/s$n.pid")" 2>/dev/null
done
for n in a b; do
	for p in "$(carpd_pid $n)" "$(cat "$T_DIR/s$n.pid")"; do
		wait_for 10 pid_gone "$p" || not_ok "pid $p did not stop"
	done
done
for f in a b sa sb; do
	if grep -qE "Sanitizer|runtime error|LeakSanitizer" "$T_DIR/$f.log"
	then not_ok "$f.log: sanitizer report"; dump "$T_DIR/$f.log"
	else ok "$f.log: stopped without a sanitizer report"; fi
done

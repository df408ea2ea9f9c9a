#!/bin/sh
# test_carpd_hostile.sh: a bounded flood of hostile frames (forged HMAC,
# truncated IP headers, IP options, fragments, wrong TTL, IPv6 extension
# headers, jumbo frames) from a third host, and abuse of the control
# socket (more connections than allowed, partial frames, oversized
# frames, clients that never read). The daemon must count and drop, keep
# answering status, keep its memory, and still hold a real election.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"
# The packet helpers the scripts below import.
PYTHONPATH="$TOP/tests/netns${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH

# Under AddressSanitizer, freed memory sits in a quarantine that would
# read as growth: keep it small so RSS means something.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
export ASAN_OPTIONS

topo a b c || { not_ok "topology"; exit 1; }
# Jumbo frames through the bridge.
for k in 1 2 3; do nsx sw ip link set "${T_PREFIX}v$k" mtu 9000; done
nsx sw ip link set br0 mtu 9000
for h in a b c; do nsx "$h" ip link set eth0 mtu 9000; done

carpd_bg a -i eth0 -s 10.0.0.1 -v 1 -p secret -a 10.0.0.100/24 \
    -a fd00::100/64 -b 1 -k 0
carpd_bg b -i eth0 -s 10.0.0.2 -v 1 -p secret -a 10.0.0.100/24 \
    -a fd00::100/64 -b 1 -k 100
if wait_for 8 is_state a MASTER && wait_for 5 is_state b BACKUP; then
	ok "a MASTER, b BACKUP"
else
	not_ok "election: a $(state a), b $(state b)"; dump "$T_DIR/a.log"
fi
pa=$(carpd_pid a)
pb=$(carpd_pid b)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

cat >"$T_DIR/flood.py" <<'P'
# Hostile frames on a packet socket: bounded by count and time.
import os, random, socket, struct, sys, time
from carppkt import csum

def carp(vhid=1, skew=0, base=1):
    h = struct.pack("!BBBBBBH", 0x21, vhid, skew, 7, 0, base, 0) + \
        os.urandom(8) + os.urandom(20)
    return h[:6] + struct.pack("!H", csum(h)) + h[8:]

def ip4(payload, ttl=255, frag=0x4000, opts=b"", totlen=None, ihl=None):
    hl = 20 + len(opts)
    tl = totlen if totlen is not None else hl + len(payload)
    vhl = 0x40 | (ihl if ihl is not None else hl // 4)
    h = struct.pack("!BBHHHBBH4s4s", vhl, 0x10, tl & 0xffff,
                    random.randint(0, 65535), frag, ttl, 112, 0,
                    socket.inet_aton("10.0.0.3"),
                    socket.inet_aton("224.0.0.18")) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def ip6(payload, nxt=112, hlim=255, ext=b""):
    src = socket.inet_pton(socket.AF_INET6, "fe80::3")
    dst = socket.inet_pton(socket.AF_INET6, "ff02::12")
    return struct.pack("!IHBB", 0x60000000, len(ext) + len(payload), nxt,
                       hlim) + src + dst + ext + payload

def eth(p, v6=False, dst=b"\x01\x00\x5e\x00\x00\x12"):
    if v6:
        dst = b"\x33\x33\x00\x00\x00\x12"
        return dst + b"\x02\0\0\0\0\x03" + b"\x86\xdd" + p
    return dst + b"\x02\0\0\0\0\x03" + b"\x08\x00" + p

# hop-by-hop (PadN) then CARP; a fragment header then CARP
hbh = bytes([112, 0, 1, 4, 0, 0, 0, 0])
frg = bytes([112, 0, 0, 0]) + os.urandom(4)
kinds = {
    "badauth": lambda: eth(ip4(carp())),
    "badauth6": lambda: eth(ip6(carp()), v6=True),
    "trunc_ip": lambda: eth(ip4(carp())[:random.randint(1, 19)]),
    "bad_ihl": lambda: eth(ip4(carp(), ihl=random.choice([0, 3, 15]))),
    "totlen": lambda: eth(ip4(carp(), totlen=random.choice([0, 30, 4000]))),
    "ipopts": lambda: eth(ip4(carp(), opts=b"\x94\x04\0\0" * 3)),
    "frag": lambda: eth(ip4(carp(), frag=random.choice([0x2000, 0x0010,
                                                         0x2008]))),
    "ttl": lambda: eth(ip4(carp(), ttl=random.choice([1, 64, 254]))),
    "ttl6": lambda: eth(ip6(carp(), hlim=1), v6=True),
    "ext6": lambda: eth(ip6(carp(), nxt=0, ext=hbh), v6=True),
    "frag6": lambda: eth(ip6(carp(), nxt=44, ext=frg), v6=True),
    "jumbo": lambda: eth(ip4(carp() + os.urandom(random.choice([1000,
                                                          8900])))),
    "runt": lambda: eth(b"")[:random.randint(0, 14)],
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
pkts = []
for k, f in kinds.items():
    for _ in range(40):
        pkts.append(f())
random.shuffle(pkts)
secs, limit = float(sys.argv[1]), int(sys.argv[2])
end = time.time() + secs
n = err = 0
while n < limit and time.time() < end:
    for p in pkts:
        try:
            s.send(p)
        except OSError:
            err += 1
        n += 1
print(n, err, int(n / secs))
P

cat >"$T_DIR/ctlabuse.py" <<'P'
# Control socket abuse, bounded in time: more connections than allowed,
# partial frames dribbled, an oversized frame, clients that never read.
import socket, struct, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
def conn():
    for _ in range(100):        # the listen backlog fills in a burst
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    raise OSError("cannot connect")
held = []
idle = [conn() for _ in range(40)]          # never say anything
slow = [conn() for _ in range(30)]          # a partial header, dribbled
big = conn()                                # a 1 MiB request
big.sendall(struct.pack("!IB", 1 << 20, 0) + b"x" * 1000)
hdr = big.recv(5)
ok_big = len(hdr) == 5 and hdr[4] == 2
deaf = []                                    # many requests, never read
for _ in range(8):
    try:
        d = conn()
        d.setblocking(False)
        deaf.append(d)
    except OSError:
        pass
req = struct.pack("!IB", 11, 0) + b"status json"
end = time.time() + secs
i = 0
while time.time() < end:
    for s in slow:
        try:
            s.send(b"\0" if i < 4 else b"")
        except OSError:
            pass
    for d in deaf:
        try:
            d.send(req * 50)
        except OSError:
            pass
    i += 1
    time.sleep(0.1)
print("big_rejected" if ok_big else "big_not_rejected")
P

before=$(rss "$pa")
nsx c python3 "$T_DIR/flood.py" 5 400000 >"$T_DIR/flood.out" 2>&1 &
fl=$!
T_PIDS="$T_PIDS $fl"
python3 "$T_DIR/ctlabuse.py" "$T_DIR/a.sock" 5 >"$T_DIR/abuse.out" 2>&1 &
ab=$!
T_PIDS="$T_PIDS $ab"
sleep 0.5
# Status answers within a second, again and again, during both floods.
slow_st=0; k=0
while [ $k -lt 8 ]; do
	timeout 1 "$CARPD" status --json --control "$T_DIR/a.sock" \
	    >/dev/null 2>&1 || slow_st=$((slow_st + 1))
	timeout 1 "$CARPD" status --json --control "$T_DIR/b.sock" \
	    >/dev/null 2>&1 || slow_st=$((slow_st + 1))
	k=$((k + 1))
	sleep 0.3
done
check "status answered within 1 s during the flood ($slow_st failures)" \
    test "$slow_st" -eq 0
# A real election during the flood: the master dies, the backup takes over.
kill -KILL "$pa" 2>/dev/null
if wait_for 8 is_state b MASTER; then ok "b took over during the flood"
else not_ok "b is $(state b) after a's death"; dump "$T_DIR/b.log"; fi
wait "$fl"
wait "$ab"
sed 's/^/# flood: sent, errors, per second: /' "$T_DIR/flood.out"
sed 's/^/# control abuse: /' "$T_DIR/abuse.out"
check "oversized control frame rejected with an ERR" \
    grep -q big_rejected "$T_DIR/abuse.out"
check "b alive after the flood" alive "$pb"
check "b still MASTER after the flood" is_state b MASTER
for r in badauth badlen badttl; do
	v=$(counter b $r)
	check "b counted the flood's $r ($v)" test "${v:-0}" -gt 100
done
check "no per-packet logging" test "$(wc -l <"$T_DIR/b.log")" -lt 30

# a comes back with preemption off: b keeps mastership (a sees it).
carpd_bg a -i eth0 -s 10.0.0.1 -v 1 -p secret -a 10.0.0.100/24 \
    -a fd00::100/64 -b 1 -k 0
check "restarted a becomes BACKUP to b" wait_for 8 is_state a BACKUP
pa=$(carpd_pid a)

# Memory: once b's allocator has seen a round of both floods, another
# round changes its RSS by little (a leak would grow it each round).
flood_b() {
	nsx c python3 "$T_DIR/flood.py" 3 200000 >/dev/null 2>&1
	python3 "$T_DIR/ctlabuse.py" "$T_DIR/b.sock" 2 >/dev/null 2>&1
}
flood_b
before=$(rss "$pb")
flood_b
flood_b
after=$(rss "$pb")
echo "# b RSS before ${before} kB, after ${after} kB"
check "b RSS flat across a flood (${before} -> ${after} kB)" \
    test "$((after - before))" -lt 2048
check "b still MASTER" is_state b MASTER

# Clean exit of both, and no sanitizer report (SAN=1 builds).
kill -TERM "$pb" "$pa" 2>/dev/null
k=0
while [ $k -lt 50 ] && ! gone "$pb" "$pa"; do sleep 0.1; k=$((k + 1)); done
check "both exited on SIGTERM" test $k -lt 50
if grep -q "Sanitizer\|runtime error" "$T_DIR/a.log" "$T_DIR/b.log"; then
	not_ok "sanitizer report"; dump "$T_DIR/a.log" "$T_DIR/b.log"
else
	ok "no sanitizer report"
fi

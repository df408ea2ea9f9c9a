#!/bin/sh
# test_carpd_garbage.sh: malformed, truncated, forged and flooded CARP
# input: every reject reason is counted, the master keeps its state and
# the daemon stays alive and answers its control socket.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"
# The packet helpers the scripts below import.
PYTHONPATH="$TOP/tests/netns${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH

topo a b || { not_ok "topology"; exit 1; }
carpd_bg a -i eth0 -s 10.0.0.1 -v 1 -p secret -a 10.0.0.100/24 -b 1 -k 0
if wait_for 8 is_state a MASTER; then ok "a is MASTER"
else not_ok "a did not become MASTER"; dump "$T_DIR/a.log"; fi

cat >"$T_DIR/craft.py" <<'P'
import os, random, socket, struct, sys, time
from carppkt import csum

def carp(vhid=1, ver=2, typ=1, skew=0, base=1, authlen=7, md=b"\0" * 20,
         counter=b"\1" * 8, badsum=False):
    h = struct.pack("!BBBBBBH", ver << 4 | typ, vhid, skew, authlen, 0,
                    base, 0) + counter + md
    c = csum(h)
    if badsum:
        c ^= 0x5555
    return h[:6] + struct.pack("!H", c) + h[8:]

def ip4(payload, src="10.0.0.2", dst="10.0.0.1", ttl=255, proto=112,
        totlen=None):
    tl = totlen if totlen is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, tl, random.randint(0, 65535),
                    0x4000, ttl, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")

def send(p, n=1):
    for _ in range(n):
        try:
            s.sendto(p, ("10.0.0.1", 0))
        except OSError:
            pass

what = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 5
if what == "badttl":
    send(ip4(carp(), ttl=64), n)
elif what == "badlen":
    send(ip4(carp()[:20]), n)
elif what == "badsum":
    send(ip4(carp(badsum=True)), n)
elif what == "badver":
    send(ip4(carp(ver=3)), n)
elif what == "badvhid":
    send(ip4(carp(vhid=77)), n)
elif what == "badauth":
    send(ip4(carp(skew=0, base=1)), n)
elif what == "loop":
    send(ip4(carp(), src="10.0.0.1"), n)
elif what == "ttl6":
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
    for _ in range(n):
        s6.sendto(carp(), ("fd00::1", 0))
elif what == "flood":
    end = time.time() + 4
    k = 0
    while time.time() < end and k < n:
        r = random.random()
        if r < 0.3:
            b = os.urandom(random.randint(0, 80))
            send(ip4(b))
        elif r < 0.5:
            p = bytearray(carp(md=os.urandom(20)))
            p[random.randrange(len(p))] = random.randrange(256)
            send(ip4(bytes(p)))
        elif r < 0.7:
            send(ip4(carp(md=os.urandom(20), skew=0, base=0)))
        else:
            b = carp()
            send(ip4(b[:random.randint(0, 36)]))
        k += 1
P

inject() { nsx b python3 "$T_DIR/craft.py" "$@"; }
for r in badttl badlen badsum badver badvhid badauth loop; do
	before=$(counter a $r)
	inject $r 5
	if wait_for 3 counter_ge a $r $((before + 5)); then
		ok "$r: counted"
	else
		not_ok "$r: counter $(counter a $r) (was $before)"
	fi
done
b6=$(counter a badttl)
inject ttl6 3
check "IPv6 hop limit 1: counted as badttl" \
    wait_for 3 counter_ge a badttl $((b6 + 3))
check "still MASTER after the forged packets" is_state a MASTER

inject flood 20000
check "daemon alive after the flood" alive "$(carpd_pid a)"
check "control socket answers after the flood" is_state a MASTER
tot=$(jq_ a "sum(v for k,v in s['counters'].items() if k not in ('opackets','opackets6','oerrors','garp','na','ipackets','ipackets6'))")
check "flood rejects counted ($tot)" test "${tot:-0}" -gt 1000
check "no per-packet logging" test "$(wc -l <"$T_DIR/a.log")" -lt 20
check "no state change from the flood" \
    test "$(jq_ a "s['vhids'][0]['transitions']")" = 2

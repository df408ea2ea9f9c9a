#!/bin/sh
# test_ct_nat.sh: a NAT state imported through syncd's ct.c (ctgen --one)
# really translates packets: client a -- router r -- server b, r has NAT
# hooks but no NAT rule, so only the imported states can translate.
. "$(dirname "$0")/lib.sh"

CTGEN=$TOOLS/ctgen
if [ ! -x "$CTGEN" ]; then
	skip "ct NAT" "no $CTGEN (make test-bins)"
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip "ct NAT" "python3 (UDP peer) not installed"
	exit 0
fi
if ! command -v nft >/dev/null 2>&1; then
	skip "ct NAT" "nft not installed"
	exit 0
fi

ns_add a r b || { not_ok "create namespaces"; exit 1; }
ip link add ar0 netns "$(ns a)" type veth peer name ra0 netns "$(ns r)"
ip link add rb0 netns "$(ns r)" type veth peer name br0 netns "$(ns b)"
nsx a ip addr add 10.0.1.2/24 dev ar0
nsx a ip link set ar0 up
nsx a ip route add default via 10.0.1.1
nsx r ip addr add 10.0.1.1/24 dev ra0
nsx r ip addr add 10.0.2.1/24 dev rb0
nsx r ip link set ra0 up
nsx r ip link set rb0 up
nsx r sysctl -qw net.ipv4.ip_forward=1
nsx b ip addr add 10.0.2.2/24 dev br0
nsx b ip link set br0 up
nsx b ip route add default via 10.0.2.1
# NAT chains without rules register the NAT hooks in r; a ct rule makes
# conntrack track packets in r at all (as any stateful firewall does).
nsx r nft -f - <<EOF
table ip nat {
	chain pre { type nat hook prerouting priority -100; }
	chain post { type nat hook postrouting priority 100; }
}
table ip filter {
	chain filt {
		type filter hook forward priority 0;
		ct state established counter
	}
}
EOF

# udp_server: answer one datagram on :7000, print the peer as addr:port.
udp_server() {
	nsx b timeout 10 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000))
s.settimeout(6)
d, p = s.recvfrom(100)
print("%s:%d" % p)
sys.stdout.flush()
s.sendto(b"pong", p)
' >"$T_DIR/srv.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for 3 sh -c "ip netns exec $(ns b) ss -lun | grep -q :7000"
}

# udp_client SPORT DST DPORT: send from 10.0.1.2:SPORT, print the reply's
# source as addr:port (or "none").
udp_client() {
	nsx a timeout 8 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.1.2", int(sys.argv[1])))
s.settimeout(3)
s.sendto(b"ping", (sys.argv[2], int(sys.argv[3])))
try:
	d, p = s.recvfrom(100)
	print("%s:%d" % p)
except socket.timeout:
	print("none")
' "$@"
}

srv_peer() { wait_for 5 test -s "$T_DIR/srv.out"; cat "$T_DIR/srv.out"; }

# 1. control: without an imported state nothing is translated.
udp_server
r=$(udp_client 5002 10.0.2.2 7000)
p=$(srv_peer)
check "no state: b sees the client untranslated ($p)" \
    test "$p" = "10.0.1.2:5002"
check "no state: the client gets b's answer ($r)" test "$r" = "10.0.2.2:7000"
wait

# 2. SNAT imported: 10.0.1.2:5000 -> 10.0.2.1:40000.
out=$(nsx r "$CTGEN" --one --proto udp --src 10.0.1.2 --sport 5000 \
    --dst 10.0.2.2 --dport 7000 --snat 10.0.2.1 --snat-port 40000 -t 60 2>&1)
check "SNAT state imported ($out)" test "$out" = "imported 1"
snat_listed() {
	nsx r conntrack -L 2>/dev/null | grep 'sport=5000' |
	    grep -q 'dst=10.0.2.1 sport=7000 dport=40000'
}
check "kernel reports the SNAT binding" snat_listed
udp_server
r=$(udp_client 5000 10.0.2.2 7000)
p=$(srv_peer)
check "SNAT: b sees the translated source ($p)" \
    test "$p" = "10.0.2.1:40000"
check "SNAT: the answer is translated back to the client ($r)" \
    test "$r" = "10.0.2.2:7000"
wait

# 3. DNAT imported: 10.0.1.1:8000 (router) -> 10.0.2.2:7000.
out=$(nsx r "$CTGEN" --one --proto udp --src 10.0.1.2 --sport 5001 \
    --dst 10.0.1.1 --dport 8000 --dnat 10.0.2.2 --dnat-port 7000 -t 60 2>&1)
check "DNAT state imported ($out)" test "$out" = "imported 1"
udp_server
r=$(udp_client 5001 10.0.1.1 8000)
p=$(srv_peer)
check "DNAT: b receives the client's datagram ($p)" \
    test "$p" = "10.0.1.2:5001"
check "DNAT: the answer comes from the public address ($r)" \
    test "$r" = "10.0.1.1:8000"
wait

# 4. deleting the SNAT state ends the translation.
out=$(nsx r "$CTGEN" --one --proto udp --src 10.0.1.2 --sport 5000 \
    --dst 10.0.2.2 --dport 7000 --snat 10.0.2.1 --snat-port 40000 \
    --delete 2>&1)
check "SNAT state deleted ($out)" test "$out" = "deleted 1"
udp_server
r=$(udp_client 5000 10.0.2.2 7000)
p=$(srv_peer)
check "after delete: b sees the client untranslated ($p)" \
    test "$p" = "10.0.1.2:5000"
wait

#!/bin/sh
# test_syncd_bulk_cut.sh: a bulk that B asked for is cut short when A
# stops hearing B (A counts B dead and drops what it was sending) while B
# keeps hearing A. When A hears B again it sends the bulk once more under
# B's id: B's request completes with all of A's states and B is in sync.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd bulk cut" "ctgen not built"; exit 0; }
N=200000

ns_add a b
link a 10.9.0.1 b 10.9.0.2
nsx a "$CTGEN" -n $N -b 10.63.0.0 >/dev/null
start_syncd a 10.9.0.1 10.9.0.2
check "A read its $N states" wait_for 40 ge a internal $N
echo "# A: $(jnum a internal) own states, kernel $(nsx a conntrack -C)"

# A's frames to B are thinned to 500/s (the rest lost), so that the bulk
# takes seconds instead of a few tens of milliseconds: long enough to be
# cut. As soon as A starts the bulk B asked for, A hears nothing more
# from B: B's acks are lost, A's window fills, A counts B dead and drops
# the bulk; B still hears A.
nsx a nft -f - <<NFT
table inet slow {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 10.9.0.2 udp dport $SYNC_PORT limit rate over 500/second drop
	}
}
NFT
start_syncd b 10.9.0.2 10.9.0.1
if wait_for 10 grep -q 'dir=tx state=requested' "$T_DIR/a.log"; then
	nsx a nft -f - <<NFT
table inet deaf {
	chain in {
		type filter hook prerouting priority -400; policy accept;
		ip saddr 10.9.0.2 udp dport $SYNC_PORT counter drop
	}
}
NFT
	ok "B asked A for its table"
else
	not_ok "B asked A for its table"
fi
check "A counts B dead" wait_for 10 grep -q 'reason=timeout' "$T_DIR/a.log"
running() { [ "$(jstr b bulk)" = running ]; }
check "B's bulk was cut short: still running" running
partial() { v=$(jnum b external); [ -n "$v" ] && [ "$v" -lt $N ]; }
check "B holds only part of A's states" partial
sleep 2
check "B's request stays running while A counts B dead" running
nsx a nft delete table inet deaf
nsx a nft delete table inet slow
back() { [ "$(grep -c 'to=up' "$T_DIR/a.log")" -ge 2 ]; }
check "A hears B again" wait_for 10 back
bulk_done() { [ "$(jstr b bulk)" = done ]; }
check "B's bulk completes" wait_for 30 bulk_done
check "B holds A's $N states" wait_for 30 ge b external $N
echo "# B: $(jnum b external) of A's states"
check "B is in sync, not demoted" has b demote 0
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"

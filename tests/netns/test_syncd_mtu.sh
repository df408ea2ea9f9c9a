#!/bin/sh
# test_syncd_mtu.sh: the link MTU sizes what syncd sends, and whatever
# size arrives is received: 100,000 states replicated (live, then as a
# bulk to a restarted receiver) over a 9000-byte IPv4 link and over a
# 1280-byte IPv6 link (--interface: the MTU is read from the link).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd mtu" "ctgen not built"; exit 0; }

N=100000
SYNCD_OPTS=--no-stage

# phase NAME MTU A-ADDR B-ADDR PLEN
phase() {
	t0=$(date +%s)
	ns_add a$1 b$1
	la="${T_PREFIX}a$1"; lb="${T_PREFIX}b$1"
	ip link add "$la" mtu $2 type veth peer name "$lb" mtu $2
	ip link set "$la" netns "$(ns a$1)"
	ip link set "$lb" netns "$(ns b$1)"
	nsx a$1 ip addr add "$3/$5" dev "$la" nodad 2>/dev/null ||
	    nsx a$1 ip addr add "$3/$5" dev "$la"
	nsx b$1 ip addr add "$4/$5" dev "$lb" nodad 2>/dev/null ||
	    nsx b$1 ip addr add "$4/$5" dev "$lb"
	nsx a$1 ip link set "$la" up
	nsx b$1 ip link set "$lb" up
	SYNCD_OPTS="--no-stage --interface $la"
	start_syncd a$1 "$3" "$4"
	PA=$SPID
	SYNCD_OPTS="--no-stage --interface $lb"
	start_syncd b$1 "$4" "$3"
	PB=$SPID
	check "$1: first bulk" wait_for 15 has b$1 demote 0
	check "$1: syncd sends $2-byte frames" has a$1 mtu $2
	nsx a$1 "$CTGEN" -n $N -b 10.1.0.0 >/dev/null
	echo "# ctgen done at $(( $(date +%s) - t0 )) s"
	if wait_for 60 sh -c "$SYNCD status --json --control $T_DIR/b$1.sock |
	    grep -q '\"external\":$N,'"; then
		ok "$1: $N states replicated live"
	else
		not_ok "$1: $N states replicated live ($(jnum b$1 external))"
		dump "$T_DIR/a$1.log" "$T_DIR/b$1.log"
	fi
	echo "# live done at $(( $(date +%s) - t0 )) s"
	check "$1: no datagram too long for the receiver" has b$1 rx_malformed 0
	check "$1: diff clean" wait_for 60 sh -c "ip netns exec $(ns a$1) \
	    $SYNCD diff --control $T_DIR/a$1.sock | grep -q identical"
	kill "$PB"
	wait "$PB" 2>/dev/null
	SYNCD_OPTS="--no-stage --interface $lb"
	start_syncd b$1 "$4" "$3"
	PB=$SPID
	if wait_for 60 sh -c "$SYNCD status --json --control $T_DIR/b$1.sock |
	    grep -q '\"external\":$N,'"; then
		ok "$1: bulk of $N states to a restarted receiver"
	else
		not_ok "$1: bulk of $N states ($(jnum b$1 external))"
		dump "$T_DIR/a$1.log" "$T_DIR/b$1.log"
	fi
	echo "# bulk done at $(( $(date +%s) - t0 )) s"
	kill "$PA" "$PB"
	wait "$PA" "$PB" 2>/dev/null
	nsx a$1 conntrack -F >/dev/null 2>&1
}

phase 4 9000 10.9.0.1 10.9.0.2 24
phase 6 1280 fd00:9::1 fd00:9::2 64
finish

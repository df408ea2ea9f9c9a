#!/bin/sh
# test_syncd_hostile.sh: garbage on the sync port, with the group key and
# with --insecure on the dedicated link. Paced batches of each kind of
# bad datagram from the peer's own address and port (raw socket) are
# counted per reason (malformed, stale session, forged); datagrams from
# an address that is not a peer (a third namespace) are counted as
# unknown source, or not even received with --insecure (bound to the
# link). Then a flood of them from both addresses while states are
# created on A: B keeps answering status, loses none of A's states, and
# stays in sync.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd hostile" "ctgen not built"; exit 0; }
command -v python3 >/dev/null 2>&1 ||
    { skip "syncd hostile" "python3 missing"; exit 0; }

K=50		# datagrams of each kind in a paced batch
FLOOD=${FLOOD:-100000}	# datagrams per flooder
N=${N:-10000}		# real states created during the flood

ns_add a b x
link a 10.9.0.1 b 10.9.0.2
link x 10.9.1.3 b 10.9.1.2
nsx x ip route add 10.9.0.0/24 via 10.9.1.2

# flood.py SRC MODE COUNT PACE [IFACE]: bad datagrams from SRC, port
# 7475, to B's sync port. MODE "paced": COUNT of each kind, PACE s apart;
# "flood": COUNT of kinds in turn, unpaced. With IFACE, A's current
# session id is learnt from its frames there first (for forgeries in it).
cat >"$T_DIR/flood.py" <<'EOF'
import os, socket, struct, sys, time
sys.path.insert(0, os.environ["NETNS_DIR"])
import syncpkt as sp
src, mode, count, pace = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
sid = 0x5eed5eed
if len(sys.argv) > 5:
    got = sp.capture(sys.argv[5], src, "10.9.0.2", 7475,
        lambda g: any(sp.header(d) and sp.header(d)[0] == sp.T_CTRL
                      for d in g), 5)
    sid = [sp.header(d) for d in got if sp.header(d)
           and sp.header(d)[0] == sp.T_CTRL][0][1]
def kinds():
    b = os.urandom(60)
    return {
        "malformed": [
            b"Xz" + os.urandom(40),                     # bad magic
            b"Sy" + bytes([1, 3]) +                     # version 1
            struct.pack(">QIH", 2**62, 1, len(b)) + b,
            sp.frame(9, sid, 1, b),                     # unknown type
            b"Sy" + bytes([2, 3, 0, 0]),                # truncated header
            sp.frame(sp.T_DATA, 0, 1, b),               # no session
            sp.frame(sp.T_INIT, 7, 0, os.urandom(61)),  # INIT with sid
            sp.frame(sp.T_DATA, sid, 1, b[:10]),        # shorter than tag
            sp.frame(sp.T_INIT, 0, 0, b[:20]),          # INIT too short
        ],
        "stale": [sp.frame(sp.T_DATA, sid ^ 0x80000000, 9, b)],
        "forged": [
            sp.frame(sp.T_CTRL, sid, 2**40 + 1, b),    # in A's session
            sp.frame(sp.T_INIT, 0, 0, os.urandom(61)),  # tag wrong
        ],
    }
fam = socket.AF_INET
rs = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
def send(d):
    u = sp._udp(src, 7475, "10.9.0.2", 7475, d, fam)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 0, 0, 64, 17,
                     0, socket.inet_aton(src), socket.inet_aton("10.9.0.2"))
    try:
        rs.sendto(ip + u, ("10.9.0.2", 0))
    except OSError:
        pass
if mode == "paced":
    for _ in range(count):
        for dgs in kinds().values():
            for d in dgs:
                send(d)
        time.sleep(pace)
else:
    all_ = [d for dgs in kinds().values() for d in dgs]
    end = time.time() + 20
    for i in range(count):
        send(all_[i % len(all_)])
        if i % 1000 == 0 and time.time() > end:
            break
EOF
NETNS_DIR=$(cd "$(dirname "$0")" && pwd)
export NETNS_DIR

phase() {
	mode=$1
	if [ "$mode" = key ]; then
		SYNCD_OPTS=
	else
		SYNCD_OPTS="--insecure --interface ${T_PREFIX}ab"
	fi
	nsx a conntrack -F >/dev/null 2>&1
	nsx b conntrack -F >/dev/null 2>&1
	start_syncd a 10.9.0.1 10.9.0.2
	[ "$mode" = key ] || SYNCD_OPTS="--insecure --interface ${T_PREFIX}ba"
	start_syncd b 10.9.0.2 10.9.0.1
	SYNCD_OPTS=
	check "$mode: first bulk done" wait_for 10 has b demote 0
	check "$mode: status says auth $mode" \
	    sh -c "$SYNCD status --json --control $T_DIR/b.sock |
	    grep -q '\"auth\":\"$mode\"'"

	# Paced: every datagram is read, so the counts are exact.
	m0=$(jnum b rx_malformed); s0=$(jnum b rx_stale)
	f0=$(jnum b rx_forged); r0=$(jnum b rx_rejected)
	u0=$(jnum b rx_unknown_source)
	nsx a python3 "$T_DIR/flood.py" 10.9.0.1 paced $K 0.002 \
	    "${T_PREFIX}ab"
	nsx x python3 "$T_DIR/flood.py" 10.9.1.3 paced $K 0.002
	nm=$((8 * K)); ns=$K; nf=$((2 * K))
	check "$mode: malformed datagrams counted ($nm)" \
	    wait_for 5 has b rx_malformed $((m0 + nm))
	check "$mode: frames of no current session counted ($ns)" \
	    has b rx_stale $((s0 + ns))
	check "$mode: forged frames counted ($nf)" has b rx_forged $((f0 + nf))
	check "$mode: all rejected ($((nm + ns + nf)))" \
	    has b rx_rejected $((r0 + nm + ns + nf))
	if [ "$mode" = key ]; then nu=$((nm + ns + nf)); else nu=0; fi
	check "$mode: datagrams from an unknown address counted ($nu)" \
	    has b rx_unknown_source $((u0 + nu))
	check "$mode: B in sync after the batches" wait_for 5 in_sync b

	# Flood from both addresses while A creates states.
	nsx a python3 "$T_DIR/flood.py" 10.9.0.1 flood $FLOOD 0 \
	    "${T_PREFIX}ab" &
	F1=$!
	nsx x python3 "$T_DIR/flood.py" 10.9.1.3 flood $FLOOD 0 &
	F2=$!
	nsx a "$CTGEN" -n $N -b 10.50.0.0 >/dev/null 2>&1 &
	G=$!
	fails=0; asked=0
	while ! gone $F1 $F2; do
		[ $asked -ge 200 ] && break
		asked=$((asked + 1))
		sctl b status >/dev/null 2>&1 || fails=$((fails + 1))
		sleep 0.05
	done
	wait $F1 $F2 $G
	if [ $fails -eq 0 ] && sctl b status >/dev/null 2>&1; then
		ok "$mode: B answers status during the flood ($asked asked)"
	else
		not_ok "$mode: B answers status during the flood" \
		    "($fails of $asked failed)"
	fi
	if wait_for 30 has b external $N; then
		ok "$mode: all $N states reach B despite the flood"
	else
		not_ok "$mode: all $N states reach B despite the flood" \
		    "($(jnum b external))"
		dump "$T_DIR/b.log"
	fi
	check "$mode: flood counted as rejected" \
	    ge b rx_rejected $((r0 + nm + ns + nf + 1))
	check "$mode: B in sync after the flood" wait_for 5 in_sync b
	check "$mode: B's view of A matches A's table (diff)" \
	    sh -c "$SYNCD diff --control '$T_DIR/a.sock' 2>&1 |
	    grep -q identical"
	kill "$PID_a" "$PID_b"
	wait "$PID_a" "$PID_b" 2>/dev/null
}

phase key
phase insecure
finish

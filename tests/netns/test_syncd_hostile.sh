#!/bin/sh
# test_syncd_hostile.sh: garbage on the sync port, sealed (--key) and
# plain. Paced batches of each kind of bad datagram from the peer's own
# address are counted per reason (malformed, sealing mismatch, forged);
# datagrams from an address that is not a peer (a third namespace) are
# counted as unknown source. Then a flood of them from both addresses
# while states are created on A: B keeps answering status, loses none of
# A's states, and stays in sync.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd hostile" "ctgen not built"; exit 0; }
command -v python3 >/dev/null 2>&1 ||
    { skip "syncd hostile" "python3 missing"; exit 0; }

K=50		# datagrams of each kind in a paced batch
FLOOD=100000	# datagrams per flooder
N=10000		# real states created during the flood

ns_add a b x
link a 10.9.0.1 b 10.9.0.2
link x 10.9.1.3 b 10.9.1.2
nsx x ip route add 10.9.0.0/24 via 10.9.1.2

# flood.py SRC MODE COUNT PACE: bad datagrams from SRC to B's sync port.
# MODE "paced": COUNT of each kind, PACE s apart; "flood": COUNT of kinds
# in turn, unpaced. SEALED=1 in the environment: B has a key.
cat >"$T_DIR/flood.py" <<'EOF'
import os, socket, struct, sys, time
src, mode, count, pace = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
sealed = os.environ.get("SEALED") == "1"
def hdr(version, flags, blen):
    return b"Sy" + bytes([version, flags]) + \
        struct.pack(">QIH", 2**62, 1, blen)
def kinds():
    k = {}
    b = os.urandom(60)
    k["malformed"] = [
        b"Xz" + os.urandom(40),			# bad magic
        hdr(9, 2, len(b)) + b,			# bad version
        hdr(1, 0x80 | 2, len(b)) + b,		# unknown flag
        hdr(1, 2, len(b) + 5) + b,		# length mismatch
        b"Sy" + bytes([1, 2, 0, 0]),		# truncated header
        os.urandom(3000),			# larger than any frame
    ]
    # The other sealing than B's.
    k["sealing"] = [hdr(1, 2, len(b)) + b] if sealed else \
        [hdr(1, 3, len(b)) + b]
    # Sealed, right length, nonsense nonce and tag.
    k["forged"] = [hdr(1, 3, len(b)) + b] if sealed else []
    return k
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
dst = ("10.9.0.2", 7475)
def send(d):
    try:
        s.sendto(d, dst)
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

phase() {
	mode=$1
	if [ "$mode" = sealed ]; then
		KEYF=$T_DIR/key
		$SYNCD genkey >"$KEYF" && chmod 600 "$KEYF"
		SYNCD_KEY=$KEYF
		SEALED=1
	else
		SYNCD_KEY=
		SEALED=0
	fi
	export SEALED
	nsx a conntrack -F >/dev/null 2>&1
	nsx b conntrack -F >/dev/null 2>&1
	start_syncd a 10.9.0.1 10.9.0.2
	start_syncd b 10.9.0.2 10.9.0.1
	check "$mode: first bulk done" wait_for 10 has b demote 0

	# Paced: every datagram is read, so the counts are exact.
	m0=$(jnum b rx_malformed); s0=$(jnum b rx_sealing)
	f0=$(jnum b rx_forged); r0=$(jnum b rx_rejected)
	u0=$(jnum b rx_unknown_source)
	nsx a python3 "$T_DIR/flood.py" 10.9.0.1 paced $K 0.002
	nsx x python3 "$T_DIR/flood.py" 10.9.1.3 paced $K 0.002
	if [ "$mode" = sealed ]; then nf=$K; else nf=0; fi
	nm=$((6 * K))
	check "$mode: malformed datagrams counted ($nm)" \
	    wait_for 5 has b rx_malformed $((m0 + nm))
	check "$mode: sealing mismatches counted ($K)" \
	    has b rx_sealing $((s0 + K))
	check "$mode: forged frames counted ($nf)" has b rx_forged $((f0 + nf))
	check "$mode: all rejected ($((nm + K + nf)))" \
	    has b rx_rejected $((r0 + nm + K + nf))
	nu=$(((6 + 1 + nf / K) * K))
	check "$mode: datagrams from an unknown address counted ($nu)" \
	    has b rx_unknown_source $((u0 + nu))
	check "$mode: B in sync after the batches" wait_for 5 in_sync b

	# Flood from both addresses while A creates states.
	nsx a python3 "$T_DIR/flood.py" 10.9.0.1 flood $FLOOD 0 &
	F1=$!
	nsx x python3 "$T_DIR/flood.py" 10.9.1.3 flood $FLOOD 0 &
	F2=$!
	nsx a "$CTGEN" -n $N -b 10.50.0.0 >/dev/null 2>&1 &
	G=$!
	fails=0; asked=0
	while kill -0 $F1 2>/dev/null || kill -0 $F2 2>/dev/null; do
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
	check "$mode: flood counted as rejected and unknown" \
	    ge b rx_rejected $((r0 + nm + K + nf + 1))
	check "$mode: B in sync after the flood" wait_for 5 in_sync b
	check "$mode: B's view of A matches A's table (diff)" \
	    sh -c "$SYNCD diff --control '$T_DIR/a.sock' 2>&1 |
	    grep -q identical"
	kill "$PID_a" "$PID_b"
	wait "$PID_a" "$PID_b" 2>/dev/null
}

phase sealed
phase plain
finish

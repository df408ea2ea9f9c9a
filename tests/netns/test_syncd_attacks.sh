#!/bin/sh
# test_syncd_attacks.sh: a group of three (A, B, C on one segment) under
# the attacks protocol version 2 is built against, one TAP line each:
# a spoofed plain (version 1) frame; one of A's datagrams reflected back
# to A with B's address; A's frames to C injected towards B; a recorded
# frame of A replayed to B every 0.5 s after A died (A declared dead on
# time, B and C keep syncing); frames of an earlier session replayed to a
# restarted B while A is down; A's clock an hour back, then forward
# (faketime); another user binding the sync port. After each, nothing
# lost and nothing gained: every node's diff is clean and the counts
# match what the genuine members hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd attacks" "ctgen not built"; exit 0; }
command -v python3 >/dev/null 2>&1 ||
    { skip "syncd attacks" "python3 missing"; exit 0; }
NETNS_DIR=$(cd "$(dirname "$0")" && pwd)
export NETNS_DIR

ns_add sw a b c
nsx sw ip link add br0 type bridge
nsx sw ip link set br0 up
i=1
for n in a b c; do
	ip link add "${T_PREFIX}$n" type veth peer name "${T_PREFIX}s$n"
	ip link set "${T_PREFIX}$n" netns "$(ns $n)"
	ip link set "${T_PREFIX}s$n" netns "$(ns sw)"
	nsx sw ip link set "${T_PREFIX}s$n" master br0 up
	nsx $n ip addr add "10.9.0.$i/24" dev "${T_PREFIX}$n"
	nsx $n ip link set "${T_PREFIX}$n" up
	i=$((i + 1))
done
A=10.9.0.1; B=10.9.0.2; C=10.9.0.3
# Without staging: the kernels hold only their own states, so restarts
# (which this test does a lot) leave nothing to take for one's own.
SYNCD_OPTS=--no-stage

# att.py: capture, replay and forge (tests/netns/syncpkt.py).
cat >"$T_DIR/att.py" <<'EOF'
import os, socket, struct, sys, time
sys.path.insert(0, os.environ["NETNS_DIR"])
import syncpkt as sp
cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "capture":		# IFACE SRC DST N TYPES OUT TIMEOUT
    types = [int(t) for t in a[4].split(",")]
    sel = lambda g: [d for d in g if sp.header(d) and
                     sp.header(d)[0] in types]
    got = sp.capture(a[0], a[1], a[2], 7475,
                     lambda g: len(sel(g)) >= int(a[3]), float(a[6]))
    with open(a[5], "w") as f:
        for d in sel(got)[:int(a[3])]:
            f.write(d.hex() + "\n")
    sys.exit(0 if len(sel(got)) >= int(a[3]) else 1)
elif cmd == "send":		# SRC DST FILE [PACE DURATION]
    ds = [bytes.fromhex(l.strip()) for l in open(a[2]) if l.strip()]
    pace = float(a[3]) if len(a) > 3 else 0
    end = time.time() + (float(a[4]) if len(a) > 4 else 0)
    while True:
        for d in ds:
            sp.send_udp(a[0], 7475, a[1], 7475, d)
        if time.time() >= end:
            break
        time.sleep(pace)
elif cmd == "plain":		# SRC DST: a version 1 plain STATE frame
    key = bytes([0, 6]) + socket.inet_aton("10.66.0.1") + \
        socket.inet_aton("10.66.0.2") + struct.pack(">HH", 1234, 80)
    val = key + struct.pack(">HI", 0, 0x0e)
    body = bytes([1, len(val)]) + val
    hdr = b"Sy" + bytes([1, 2]) + struct.pack(">QIH", 2**62, 1, len(body))
    sp.send_udp(a[0], 7475, a[1], 7475, hdr + body)
elif cmd == "bind":		# ADDR: exit 0 when the port could be bound
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((a[0], 7475))
    except OSError as e:
        print(e)
        sys.exit(1)
    sys.exit(0)
EOF
att() { n=$1; shift; nsx "$n" python3 "$T_DIR/att.py" "$@"; }

# pnum NODE PEER KEY: KEY of PEER in NODE's status.
pnum() {
	sctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([p for p in d["peers"] if p["address"] == sys.argv[1]][0][sys.argv[2]])
' "$2" "$3" 2>/dev/null
}
pge() { v=$(pnum "$1" "$2" "$3"); [ -n "$v" ] && [ "$v" -ge "$4" ]; }
peq() { [ "$(pnum "$1" "$2" "$3")" = "$4" ]; }

# The counts what the genuine members hold (their kernels: no staging)
# and all three diffs clean.
consistent() {
	NA=$(table a | wc -l); NB=$(table b | wc -l); NC=$(table c | wc -l)
	has a external $((NB + NC)) && has b external $((NA + NC)) &&
	    has c external $((NA + NB)) || return 1
	for n in a b c; do
		sctl $n diff 2>&1 | grep -q identical || return 1
	done
}
show() {
	for n in a b c; do
		echo "# $n: internal $(jnum $n internal) external" \
		    "$(jnum $n external)"
		sctl $n diff 2>&1 | head -3 | sed 's/^/#   /'
	done
	dump "$T_DIR/a.log" "$T_DIR/b.log" "$T_DIR/c.log"
}
after() {
	if wait_for 20 consistent; then
		ok "$1: nothing lost, nothing gained"
	else
		not_ok "$1: nothing lost, nothing gained"; show
	fi
}

start_syncd b $B $A $C
start_syncd c $C $A $B
start_syncd a $A $B $C
check "all three finish their first bulk" wait_for 15 sh -c \
    "for n in a b c; do $SYNCD status --json --control $T_DIR/\$n.sock |
    grep -q '\"demote\":0,' || exit 1; done"
nsx a "$CTGEN" -n 300 -b 10.1.0.0 >/dev/null
nsx b "$CTGEN" -n 200 -b 10.2.0.0 >/dev/null
after "start"

# 1. A plain version 1 frame from B's address and port, claiming a
# newer session and carrying a state.
r0=$(pnum a $B rx_rejected)
att b plain $B $A
nsx b "$CTGEN" --one --src 10.2.99.1 --sport 1 --dst 10.3.0.1 --dport 80 \
    >/dev/null
if wait_for 10 consistent && pge a $B rx_rejected $((r0 + 1)); then
	ok "spoofed plain frame: dropped, B's states still reach A"
else
	not_ok "spoofed plain frame: dropped, B's states still reach A"; show
fi

# 2. One of A's control frames and one of its replies to B, reflected
# to A with B's address and port.
att a capture "${T_PREFIX}a" $A $B 1 4 "$T_DIR/ctl" 5 &&
    att a capture "${T_PREFIX}a" $A $B 1 5 "$T_DIR/rep" 5
cat "$T_DIR/ctl" "$T_DIR/rep" >"$T_DIR/refl"
s0=$(pnum a $B rx_stale); i0=$(pnum a $B sessions_in)
att b send $B $A "$T_DIR/refl"
nsx b "$CTGEN" --one --src 10.2.99.2 --sport 1 --dst 10.3.0.1 --dport 80 \
    >/dev/null
if [ "$(wc -l <"$T_DIR/refl")" = 2 ] && wait_for 10 consistent &&
    pge a $B rx_stale $((s0 + 2)) && peq a $B sessions_in "$i0"; then
	ok "reflected frames: not taken for B's, B's session kept"
else
	not_ok "reflected frames: not taken for B's, B's session kept"; show
fi
after "reflection"

# 3. A's frames to C (live states) injected towards B with A's address.
att a capture "${T_PREFIX}a" $A $C 3 3,4 "$T_DIR/toc" 10 &
CP=$!
sleep 0.5
nsx a "$CTGEN" -n 100 -b 10.4.0.0 >/dev/null
wait $CP
s0=$(pnum b $A rx_stale)
att a send $A $B "$T_DIR/toc"
if [ "$(wc -l <"$T_DIR/toc")" = 3 ] && wait_for 5 pge b $A rx_stale \
    $((s0 + 3)); then
	ok "A's frames to C injected towards B: rejected as no session of B's"
else
	not_ok "A's frames to C injected towards B: rejected"; show
fi
after "cross-peer injection"

# 4. A dies; one of its recorded control frames is replayed to B every
# 0.5 s: B declares A dead on time, and B and C keep syncing.
att a capture "${T_PREFIX}a" $A $B 1 4 "$T_DIR/hello" 5
kill "$PID_a"; wait "$PID_a" 2>/dev/null
att a send $A $B "$T_DIR/hello" 0.5 8 &
RP=$!
t0=$(date +%s)
if wait_for 6 sh -c "$SYNCD status --json --control $T_DIR/b.sock |
    grep -q '\"address\":\"$A\",\"alive\":false'"; then
	ok "replayed frame of a dead peer: declared dead after $(($(date +%s) - t0)) s"
else
	not_ok "replayed frame of a dead peer: declared dead on time"; show
fi
nsx c "$CTGEN" -n 50 -b 10.5.0.0 >/dev/null; NC=$(table c | wc -l)
check "B keeps syncing with C meanwhile" wait_for 10 has b external \
    $((NA + NC))
wait $RP

# 5. B restarts while A is down; A's recorded frames of the earlier
# session (states, control, replies) are replayed to it.
kill "$PID_b"; wait "$PID_b" 2>/dev/null
cat "$T_DIR/toc" "$T_DIR/hello" "$T_DIR/ctl" "$T_DIR/rep" >"$T_DIR/old"
start_syncd b $B $A $C
wait_for 10 has b external $NC
att a send $A $B "$T_DIR/old"
sleep 1
if has b external $NC && pge b $A rx_stale 1; then
	ok "earlier session replayed to a restarted receiver: nothing learnt"
else
	not_ok "earlier session replayed to a restarted receiver:" \
	    "nothing learnt ($(jnum b external) states)"; show
fi

# 6. A comes back with its clock an hour behind, then an hour ahead
# (libfaketime preloaded into syncd itself; the monotonic clock is left
# alone, as a stepped wall clock leaves it).
FT=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
if [ -n "$FT" ]; then
	for off in -1h +1h; do
		SYNCD_SAVE=$SYNCD
		SYNCD="env LD_PRELOAD=$FT FAKETIME=$off FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS=verify_asan_link_order=0 $SYNCD_SAVE"
		start_syncd a $A $B $C
		SYNCD=$SYNCD_SAVE
		sport=11; [ $off = +1h ] && sport=12
		nsx a "$CTGEN" --one --src 10.1.99.1 --sport $sport \
		    --dst 10.3.0.1 --dport 80 >/dev/null
		if wait_for 15 consistent; then
			ok "A's clock $off: its states reach B and C, theirs reach A"
		else
			not_ok "A's clock $off: states reach B and C"; show
		fi
		kill "$PID_a"; wait "$PID_a" 2>/dev/null
	done
else
	skip "clock stepped on A" "libfaketime missing (apt-get install faketime)"
fi
start_syncd a $A $B $C
after "clock"

# 7. Another user binds the sync port (SO_REUSEADDR on its side).
chmod 755 "$T_DIR"
nsx b setpriv --reuid=65534 --regid=65534 --clear-groups \
    /usr/bin/python3 "$T_DIR/att.py" bind $B >"$T_DIR/bind.out" 2>&1 \
    </dev/null
rc=$?
if [ $rc = 1 ] && grep -q "Address already in use" "$T_DIR/bind.out"; then
	ok "another user cannot bind the sync port ($(cat "$T_DIR/bind.out"))"
else
	not_ok "another user cannot bind the sync port (rc $rc," \
	    "$(cat "$T_DIR/bind.out"))"
fi
nsx b "$CTGEN" --one --src 10.2.99.3 --sport 1 --dst 10.3.0.1 --dport 80 \
    >/dev/null
after "second bind"
finish

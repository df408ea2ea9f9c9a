#!/bin/sh
# tests/bench_syncd.sh: syncd figures for N fresh states (default 100,000
# and, with SYNCD_BENCH_1M=1 or SYNCD_BENCH_N="...", 1,000,000): end-to-end
# replication, commit, bulk to a fresh peer, wire bytes per state, resident
# bytes per cached state, sender CPU; then conntrackd (FTFW over UDP) on the
# same workload when it is installed, and the ratios.
#
# SYNCD_BENCH_OPTS adds syncd options (e.g. --no-stage);
# SYNCD_BENCH_NOSTAGE=1 adds a run without staging for reference.
# SYNCD_BENCH_COMMIT=early commits the moment the last state has arrived
# (a takeover in the middle of a burst: what is not staged yet is imported
# by the commit); the default waits for staging to settle first.
# After the commit, "syncd diff" runs on the sender while its status is
# polled: the diff's time and the slowest status answer meanwhile.
# Both nodes share this machine's CPUs and conntrack lock, so the peer's
# staging (kernel inserts) slows the sender's creation rate here; on two
# machines it would not. Needs root. Raises net.netfilter.nf_conntrack_max (root namespace) for the
# run when it is too small for N and restores it afterwards.
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
SYNCD=${SYNCD:-$TOP/$B/bin/syncd}
CTGEN=${CTGEN:-$TOP/$B/tools/ctgen}
P=sb$$
D=$(mktemp -d /tmp/syncd-bench.XXXXXX)
HZ=$(getconf CLK_TCK)
PORT=7475

if [ "$(id -u)" != 0 ]; then
	echo "bench_syncd: skipped (needs root for network namespaces)"
	exit 0
fi
for f in "$SYNCD" "$CTGEN"; do
	[ -x "$f" ] || { echo "bench_syncd: $f missing (make first)"; exit 1; }
done

SIZES=${SYNCD_BENCH_N:-100000}
[ "${SYNCD_BENCH_1M:-0}" = 1 ] && SIZES="$SIZES 1000000"

OLDMAX=$(sysctl -n net.netfilter.nf_conntrack_max 2>/dev/null || echo 0)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for _n in a b; do
		ip netns pids "$P$_n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$P$_n" 2>/dev/null
	done
	[ "$OLDMAX" -gt 0 ] 2>/dev/null &&
	    sysctl -qw net.netfilter.nf_conntrack_max="$OLDMAX" 2>/dev/null
	sleep 0.2
	rm -rf "$D" 2>/dev/null || { sleep 0.5; rm -rf "$D"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
calc() { echo "$*" | bc -l; }
fmt() { printf "%.${2:-2}f" "$1"; }
nsx() { _ns=$1; shift; ip netns exec "$P$_ns" "$@"; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }

setup() {
	for _n in a b; do
		ip netns add "$P$_n"
		nsx $_n ip link set lo up
	done
	ip link add "${P}va" type veth peer name "${P}vb"
	ip link set "${P}va" netns "${P}a"
	ip link set "${P}vb" netns "${P}b"
	nsx a ip addr add 10.9.0.1/24 dev "${P}va"
	nsx a ip link set "${P}va" up
	nsx b ip addr add 10.9.0.2/24 dev "${P}vb"
	nsx b ip link set "${P}vb" up
	# Bytes on the wire (IP packets) from A to B, whoever sends them.
	nsx a nft -f - <<-EOF
	table inet bench {
		chain out {
			type filter hook output priority 0;
			ip daddr 10.9.0.2 udp dport { $PORT, 3780 } counter
		}
	}
	EOF
}
wire_bytes() {
	nsx a nft list table inet bench 2>/dev/null |
	    sed -n 's/.*counter packets [0-9]* bytes \([0-9]*\).*/\1/p' | head -1
}
teardown() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	PIDS=""
	for _n in a b; do
		ip netns pids "$P$_n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$P$_n" 2>/dev/null
	done
	sleep 0.5
}

sy_start() {	# node listen peer
	rm -f "$D/$1.sock"
	ip netns exec "$P$1" "$SYNCD" --peer "$3" --listen "$2" \
	    --control "$D/$1.sock" --key "$KEY" $SYNCD_BENCH_OPTS \
	    >"$D/$1.log" 2>&1 &
	eval "SPID_$1=$!"
	PIDS="$PIDS $!"
	i=0
	while [ ! -S "$D/$1.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
}
sy_json() { nsx "$1" "$SYNCD" status --json --control "$D/$1.sock" 2>/dev/null; }
sy_num() { sy_json "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
# wait_num NODE KEY VALUE SECONDS: poll until equal; prints nothing.
wait_num() {
	end=$(calc "$(now) + $4")
	while [ "$(sy_num "$1" "$2")" != "$3" ]; do
		[ "$(calc "$(now) > $end")" = 1 ] && return 1
		sleep 0.02
	done
}

KEY=$D/key
"$SYNCD" genkey >"$KEY"
chmod 600 "$KEY"

run_syncd() {
	n=$1
	setup
	sy_start a 10.9.0.1 10.9.0.2
	sy_start b 10.9.0.2 10.9.0.1
	wait_num b demote 0 20
	rss_b0=$(rss "$SPID_b"); rss_a0=$(rss "$SPID_a")
	cpu_a0=$(cpu "$SPID_a")
	bytes0=$(wire_bytes)
	t0=$(now)
	nsx a "$CTGEN" -n "$n" >"$D/gen.out" 2>&1
	t1=$(now)
	if ! wait_num b external "$n" 120; then
		echo "  syncd: replication did not complete ($(sy_num b external) of $n)"
		teardown
		return 1
	fi
	t2=$(now)
	cpu_a1=$(cpu "$SPID_a")
	rss_b1=$(rss "$SPID_b"); rss_a1=$(rss "$SPID_a")
	bytes1=$(wire_bytes)
	S_REP=$(calc "$n / ($t2 - $t0)")
	S_LAG=$(calc "$t2 - $t1")
	S_GEN=$(calc "$n / ($t1 - $t0)")
	# IP packets (headers included) as counted by nftables.
	S_WIRE=$(calc "($bytes1 - $bytes0) / $n")
	S_RSS=$(calc "($rss_b1 - $rss_b0) / $n")
	S_RSSA=$(calc "($rss_a1 - $rss_a0) / $n")
	S_CPU=$(calc "($cpu_a1 - $cpu_a0) / $HZ")
	S_BACKLOG="$(sy_num b stage_backlog), staged $(sy_num b staged)"
	if [ "${SYNCD_BENCH_COMMIT:-settled}" = early ]; then
		S_STAGE=-1
	else
		# Staging runs behind replication: let it settle (its time
		# is shown).
		wait_num b stage_backlog 0 120
		t3=$(now)
		S_STAGE=$(calc "$t3 - $t1")
	fi
	c0=$(now)
	nsx b "$SYNCD" commit --control "$D/b.sock" >"$D/commit.out" 2>&1
	c1=$(now)
	S_COMMIT=$(calc "$c1 - $c0")
	S_CRATE=$(calc "$n / $S_COMMIT")
	# Diff on the sender (peer's view against a kernel dump) while its
	# status is polled: the loop must keep answering.
	d0=$(now)
	nsx a "$SYNCD" diff --control "$D/a.sock" >"$D/diff.out" 2>&1 &
	_dp=$!
	S_STMAX=0
	_i=0
	while kill -0 "$_dp" 2>/dev/null && [ $_i -lt 3000 ]; do
		q0=$(now)
		sy_json a >/dev/null
		q1=$(now)
		S_STMAX=$(calc "if ($q1 - $q0 > $S_STMAX) $q1 - $q0 else $S_STMAX")
		_i=$((_i + 1))
	done
	wait "$_dp"
	d1=$(now)
	S_DIFF=$(calc "$d1 - $d0")
	echo "  (diff on the sender: $(fmt "$S_DIFF" 3) s, $_i status requests meanwhile, slowest $(fmt "$S_STMAX" 3) s; $(head -1 "$D/diff.out"))"
	# Bulk to a fresh peer: B restarts with an empty table.
	kill "$SPID_b"; wait "$SPID_b" 2>/dev/null
	nsx b conntrack -F >/dev/null 2>&1
	b0=$(now)
	sy_start b 10.9.0.2 10.9.0.1
	wait_num b external "$n" 120
	b1=$(now)
	S_BULK=$(calc "$b1 - $b0")
	grep "bulk from" "$D/b.log" | tail -1 | sed 's/^/  (receiver log) /'
	grep "stale" "$D/a.log" | tail -1 | sed 's/^/  (sender log) /'
	teardown
	printf "  syncd      %8d states: created at %.0f/s; replication %.0f states/s end to end, %.3f s after the last; staged in the peer's kernel %.3f s after the last; commit %.3f s (%.0f/s; %s; stage backlog at the last state %s); bulk to a fresh peer %.3f s; %.1f wire bytes/state; %.0f resident bytes/state (receiver), %.0f (sender); sender CPU %.2f s\n" \
	    "$n" "$S_GEN" "$S_REP" "$S_LAG" "$S_STAGE" "$S_COMMIT" "$S_CRATE" \
	    "$(cat "$D/commit.out")" "$S_BACKLOG" "$S_BULK" "$S_WIRE" "$S_RSS" "$S_RSSA" \
	    "$S_CPU"
}

# --- conntrackd (FTFW over UDP), same workload ---------------------------
cd_conf() {	# node local peer
	cat >"$D/cd.$1.conf" <<EOF
Sync {
	Mode FTFW {
		ResendQueueSize 131072
		ACKWindowSize 300
		DisableExternalCache Off
	}
	UDP {
		IPv4_address $2
		IPv4_Destination_Address $3
		Port 3780
		Interface ${P}v$1
		SndSocketBuffer 24985600
		RcvSocketBuffer 24985600
		Checksum on
	}
}
General {
	HashSize 1048576
	HashLimit 4194304
	LogFile $D/cd.$1.log
	LockFile $D/cd.$1.lock
	UNIX { Path $D/cd.$1.ctl }
	NetlinkBufferSize 33554432
	NetlinkBufferSizeMaxGrowth 67108864
	NetlinkOverrunResync off
	Filter From Userspace {
		Address Ignore {
			IPv4_address 10.9.0.1
			IPv4_address 10.9.0.2
		}
	}
}
EOF
}
cd_start() {
	rm -f "$D/cd.$1.lock" "$D/cd.$1.ctl"
	ip netns exec "$P$1" conntrackd -C "$D/cd.$1.conf" -d >/dev/null 2>&1
	sleep 0.5
	_p=""
	for _q in $(ip netns pids "$P$1"); do
		[ "$(cat /proc/$_q/comm 2>/dev/null)" = conntrackd ] && _p=$_q
	done
	eval "CPID_$1=$_p"
}
cd_ext() {
	nsx "$1" conntrackd -C "$D/cd.$1.conf" -s 2>/dev/null |
	    awk '/^cache external/ {f=1} f && /current active connections/ {print $NF; exit}'
}
cd_bytes() {
	nsx "$1" conntrackd -C "$D/cd.$1.conf" -s 2>/dev/null |
	    awk '/^UDP traffic/ {getline; print $1; exit}'
}
cd_wait_ext() {
	end=$(calc "$(now) + $3")
	while [ "$(cd_ext "$1")" != "$2" ]; do
		[ "$(calc "$(now) > $end")" = 1 ] && return 1
		sleep 0.05
	done
}

run_conntrackd() {
	n=$1
	setup
	cd_conf a 10.9.0.1 10.9.0.2
	cd_conf b 10.9.0.2 10.9.0.1
	cd_start a; cd_start b
	[ -n "$CPID_a" ] && [ -n "$CPID_b" ] || {
		echo "  conntrackd: did not start"; teardown; return 1; }
	sleep 1
	rss_b0=$(rss "$CPID_b"); cpu_a0=$(cpu "$CPID_a")
	bytes0=$(wire_bytes)
	t0=$(now)
	nsx a "$CTGEN" -n "$n" >/dev/null 2>&1
	t1=$(now)
	if ! cd_wait_ext b "$n" 180; then
		echo "  conntrackd: replication incomplete after 180 s ($(cd_ext b) of $n)"
		C_REP=""; teardown; return 1
	fi
	t2=$(now)
	cpu_a1=$(cpu "$CPID_a"); rss_b1=$(rss "$CPID_b")
	C_REP=$(calc "$n / ($t2 - $t0)")
	C_LAG=$(calc "$t2 - $t1")
	bytes1=$(wire_bytes)
	C_WIRE=$(calc "($bytes1 - $bytes0) / $n")
	C_RSS=$(calc "($rss_b1 - $rss_b0) / $n")
	C_CPU=$(calc "($cpu_a1 - $cpu_a0) / $HZ")
	c0=$(now)
	nsx b conntrackd -C "$D/cd.b.conf" -c >/dev/null 2>&1
	c1=$(now)
	C_COMMIT=$(calc "$c1 - $c0")
	# Bulk: a fresh B asks for a resync.
	kill "$CPID_b"; sleep 0.5
	rm -f "$D/cd.b.lock" "$D/cd.b.ctl"
	nsx b conntrack -F >/dev/null 2>&1
	b0=$(now)
	cd_start b
	nsx b conntrackd -C "$D/cd.b.conf" -n >/dev/null 2>&1
	if cd_wait_ext b "$n" 180; then
		b1=$(now); C_BULK=$(fmt "$(calc "$b1 - $b0")" 3)
	else
		C_BULK=""
	fi
	teardown
	printf "  conntrackd %8d states: replication %.0f states/s end to end, %.3f s after the last; commit %.3f s; bulk to a fresh peer %s s; %.1f wire bytes/state; %.0f resident bytes/state (receiver); sender CPU %.2f s\n" \
	    "$n" "$C_REP" "$C_LAG" "$C_COMMIT" "${C_BULK:-n/a}" "$C_WIRE" \
	    "$C_RSS" "$C_CPU"
}

echo "syncd benchmark ($(nproc) CPUs, $(uname -r)); sealed frames (protocol 2, ChaCha20-Poly1305)"
for n in $SIZES; do
	need=$((n * 2 + 10000))
	if [ "$OLDMAX" -lt "$need" ] 2>/dev/null; then
		sysctl -qw net.netfilter.nf_conntrack_max="$need" 2>/dev/null
	fi
	if [ "${SYNCD_BENCH_NOSTAGE:-0}" = 1 ]; then
		# For reference: without staging (the peer's kernel inserts no
		# longer compete with the sender's on this machine; commit cold).
		_o=$SYNCD_BENCH_OPTS
		SYNCD_BENCH_OPTS="$_o --no-stage"
		echo "  (without staging:)"
		run_syncd "$n"
		SYNCD_BENCH_OPTS=$_o
	fi
	run_syncd "$n" || continue
	if command -v conntrackd >/dev/null 2>&1 && [ "${SYNCD_BENCH_CONNTRACKD:-1}" = 1 ]; then
		if run_conntrackd "$n" && [ -n "$C_REP" ]; then
			printf "  ratio syncd/conntrackd at %d: replication rate x%.1f, lag %.3f vs %.3f s, commit x%.1f faster, wire bytes %.2f, resident bytes %.2f, CPU %.2f\n" \
			    "$n" "$(calc "$S_REP / $C_REP")" "$S_LAG" "$C_LAG" \
			    "$(calc "$C_COMMIT / $S_COMMIT")" \
			    "$(calc "$S_WIRE / ($C_WIRE + 0.0001)")" \
			    "$(calc "$S_RSS / ($C_RSS + 0.0001)")" \
			    "$(calc "$S_CPU / ($C_CPU + 0.0001)")"
		fi
	else
		echo "  conntrackd not installed (or SYNCD_BENCH_CONNTRACKD=0): no comparison"
	fi
done

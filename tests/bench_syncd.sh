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
# machines it would not. Needs root. Raises net.netfilter.nf_conntrack_max
# and the conntrack hash size (root namespace) for the run when they are
# too small for N and restores them afterwards (also on failure or
# interruption).
#
# Also, first, the kernel's limit on this machine (ctbench: batched
# netlink inserts and dumps of KLIMIT_N states, with and without an event
# listener), against which the sync figures are given as fractions; and,
# last, the replication lag at a steady load (ctlag: SYNCD_LAG_NEW new
# states/s, default 20,000, and SYNCD_LAG_UPD updates/s, default 100,000,
# for SYNCD_LAG_SECS s, default 30), per state from the kernel's event on
# the sender to the state's event in the peer's kernel (syncd staging it;
# conntrackd with its external cache off, so that it writes into the
# kernel at once): median, p99 and max, syncd beside conntrackd.
# BENCH_FULL=1: sizes 100,000, 1,000,000 and 4,000,000 (the last without
# conntrackd), KLIMIT_N 1,000,000. SYNCD_BENCH_LAG=0 leaves out the lag.
# Figures go into the run's record when tests/bench.sh runs this.
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
SYNCD=${SYNCD:-$TOP/$B/bin/syncd}
CTGEN=${CTGEN:-$TOP/$B/tools/ctgen}
CTBENCH=${CTBENCH:-$TOP/$B/tools/ctbench}
CTLAG=${CTLAG:-$TOP/$B/tools/ctlag}
. "$TOP/tests/bench_lib.sh"
P=sb$$
HZ=$(getconf CLK_TCK)
PORT=7475

if [ "$(id -u)" != 0 ]; then
	echo "bench_syncd: skipped (needs root for network namespaces)"
	exit 0
fi
for f in "$SYNCD" "$CTGEN" "$CTBENCH" "$CTLAG"; do
	[ -x "$f" ] || { echo "bench_syncd: $f missing (make first)"; exit 1; }
done
# made once nothing can stop the run before its cleanup is in place
D=$(mktemp -d /tmp/syncd-bench.XXXXXX)

if [ "${BENCH_FULL:-0}" = 1 ]; then
	SIZES=${SYNCD_BENCH_N:-100000 1000000 4000000}
	KLIMIT_N=${KLIMIT_N:-1000000}
else
	SIZES=${SYNCD_BENCH_N:-100000}
	KLIMIT_N=${KLIMIT_N:-100000}
fi
[ "${SYNCD_BENCH_1M:-0}" = 1 ] && SIZES="$SIZES 1000000"
LAG_NEW=${SYNCD_LAG_NEW:-20000}
LAG_UPD=${SYNCD_LAG_UPD:-100000}
LAG_SECS=${SYNCD_LAG_SECS:-30}

OLDMAX=$(sysctl -n net.netfilter.nf_conntrack_max 2>/dev/null || echo 0)
HASHF=/sys/module/nf_conntrack/parameters/hashsize
OLDHASH=$(cat "$HASHF" 2>/dev/null || echo 0)
PIDS=""
KPID=""
cleanup() {
	bench_perf_stop
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for _n in a b; do
		ip netns pids "$P$_n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$P$_n" 2>/dev/null
	done
	[ "$OLDMAX" -gt 0 ] 2>/dev/null &&
	    sysctl -qw net.netfilter.nf_conntrack_max="$OLDMAX" 2>/dev/null
	[ "$OLDHASH" -gt 0 ] 2>/dev/null &&
	    [ "$(cat "$HASHF" 2>/dev/null)" != "$OLDHASH" ] &&
	    echo "$OLDHASH" >"$HASHF" 2>/dev/null
	sleep 0.2
	rm -rf "$D" 2>/dev/null || { sleep 0.5; rm -rf "$D"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
calc() { echo "$*" | bc -l; }
fmt() { printf "%.${2:-2}f" "$1"; }
nsx() { _ns=$1; shift; ip netns exec "$P$_ns" "$@"; }
# cpu PID: CPU time of a process in clock ticks (HZ a second), to the
# nanosecond (the scheduler's own count, its threads summed): /proc's
# utime and stime are whole ticks, 5 % of a 100,000-state run.
cpu() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
	    awk -v hz="$HZ" '{ s += $1 } END { printf "%.4f\n", s * hz / 1e9 }'
}
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
	    --control "$D/$1.sock" --key "$KEY" $SY_LIMIT $SYNCD_BENCH_OPTS \
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

# tag N: a short name for a size (100k, 1M, 4M)
tag() {
	awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dM", n / 1e6
	    else if (n % 1000 == 0) printf "%dk", n / 1e3; else print n }'
}

# limit WHAT: one of the kernel's rates measured by kernel_limit (or
# empty).
limit() { eval echo "\${KLIM_$1:-}"; }

# frac VALUE LIMIT: VALUE as a fraction of LIMIT ("nan" without one).
frac() {
	awk -v v="$1" -v l="$2" 'BEGIN { if (l + 0 > 0 && v != "")
	    printf "%.3f", v / l; else print "nan" }'
}

run_syncd() {
	n=$1
	nm=syncd.$(tag "$n")
	case "$SYNCD_BENCH_OPTS" in *--no-stage*) nm=$nm.nostage ;; esac
	tmo=$((n / 5000 + 120))		# seconds, for the slowest machine
	# a peer's states are bounded (import-max-states, default 1,048,576)
	SY_LIMIT=""
	[ "$n" -ge 1000000 ] && SY_LIMIT="--import-max-states $((n + n / 4))"
	setup
	sy_start a 10.9.0.1 10.9.0.2
	sy_start b 10.9.0.2 10.9.0.1
	wait_num b demote 0 20
	rss_b0=$(rss "$SPID_b"); rss_a0=$(rss "$SPID_a")
	cpu_a0=$(cpu "$SPID_a"); cpu_b0=$(cpu "$SPID_b")
	bytes0=$(wire_bytes)
	bench_perf_start "$SPID_a" 5 "$nm-sender-replication"
	t0=$(now)
	# in the background: a signal to this script is handled at once
	nsx a "$CTGEN" -n "$n" >"$D/gen.out" 2>&1 & wait $!
	t1=$(now)
	if ! wait_num b external "$n" "$tmo"; then
		echo "  syncd: replication did not complete ($(sy_num b external) of $n)"
		bench_rec "$nm.replication_per_s" failed states/s
		bench_perf_wait
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
		S_STAGENOTE=""
		_st=$tmo
		[ "$_st" -gt 300 ] && _st=300	# bounded: BENCH_FULL's length
		wait_num b stage_backlog 0 "$_st" || S_STAGENOTE="the backlog did not drain within $_st s ($(sy_num b stage_backlog) left); committed then"
		t3=$(now)
		S_STAGE=$(calc "$t3 - $t1")
	fi
	# (the sender's profile, when taken, ends after this: its wait is
	# not counted in the staging time)
	bench_perf_wait
	# the receiver's CPU: receiving and staging
	S_CPUB=$(calc "($(cpu "$SPID_b") - $cpu_b0) / $HZ")
	c0=$(now)
	nsx b "$SYNCD" commit --control "$D/b.sock" >"$D/commit.out" 2>&1
	c1=$(now)
	S_COMMIT=$(calc "$c1 - $c0")
	# the daemon's own time (its log; also when the command gave up)
	S_COMMITOWN=""
	_i=0
	while [ -z "$S_COMMITOWN" ] && [ $_i -lt $((tmo * 10)) ]; do
		S_COMMITOWN=$(grep "committed [0-9]* states in" "$D/b.log" |
		    tail -1 | sed -n 's/.*states in \([0-9.]*\) ms.*/\1/p')
		[ -n "$S_COMMITOWN" ] || sleep 0.1
		_i=$((_i + 1))
	done
	if grep -q "timed out" "$D/commit.out" && [ -n "$S_COMMITOWN" ]; then
		S_COMMIT=$(calc "$S_COMMITOWN / 1000")
		echo "the command timed out; the daemon's log: committed in" \
		    "$S_COMMITOWN ms" >"$D/commit.out"
	fi
	S_CRATE=$(calc "$n / $S_COMMIT")
	# none lost: the peer's kernel holds every state after the commit
	S_HELD=$(nsx b conntrack -C 2>/dev/null || echo 0)
	if [ "$n" -le 1000000 ]; then
		run_diff
	else
		S_DIFF=nan; S_STMAX=nan	# minutes of dumping: left out
	fi
	# Bulk to a fresh peer. B committed: the states are its own now (A
	# handed its copies over on B's takeover), so the member replaced is
	# A, the backup: it restarts with an empty table and B sends it the
	# whole table.
	kill "$SPID_a"; wait "$SPID_a" 2>/dev/null
	nsx a conntrack -F >/dev/null 2>&1
	cpu_b2=$(cpu "$SPID_b")
	b0=$(now)
	sy_start a 10.9.0.1 10.9.0.2
	bench_perf_start "$SPID_b" 3 "$nm-sender-bulk"
	wait_num a external "$n" "$tmo" ||
	    echo "  syncd: the bulk did not complete ($(sy_num a external) of $n)"
	b1=$(now)
	S_BULK=$(calc "$b1 - $b0")
	S_BULKCPU=$(calc "($(cpu "$SPID_b") - $cpu_b2) / $HZ")
	bench_perf_wait
	grep "bulk from" "$D/a.log" | tail -1 | sed 's/^/  (receiver log) /'
	# the receiver's own time for the bulk (without its start-up)
	S_BULKOWN=$(grep "bulk from .* done:" "$D/a.log" | tail -1 |
	    sed -n 's/.* in \([0-9.]*\) s.*/\1/p')
	grep "stale" "$D/b.log" | tail -1 | sed 's/^/  (sender log) /'
	teardown
	# The sender's CPU varies from run to run (the pace at which the
	# states come, what else the machine does): below 1M states, where
	# a run is short, the median of three runs.
	S_CPURUNS=$(fmt "$S_CPU" 3)
	if [ "$n" -lt 1000000 ]; then
		for _r in 2 3; do
			_c=$(cpu_once "$n" "$tmo") && S_CPURUNS="$S_CPURUNS $_c"
		done
		S_CPU=$(median $S_CPURUNS)
	fi
	printf "  syncd      %8d states: created at %.0f/s; replication %.0f states/s end to end, %.3f s after the last; staged in the peer's kernel %.3f s after the last; commit %.3f s (%.0f/s; %s; stage backlog at the last state %s); bulk to a fresh peer %.3f s; %.1f wire bytes/state; %.0f resident bytes/state (receiver), %.0f (sender); sender CPU %.2f s (runs: %s), receiver CPU %.2f s\n" \
	    "$n" "$S_GEN" "$S_REP" "$S_LAG" "$S_STAGE" "$S_COMMIT" "$S_CRATE" \
	    "$(cat "$D/commit.out")" "$S_BACKLOG" "$S_BULK" "$S_WIRE" "$S_RSS" "$S_RSSA" \
	    "$S_CPU" "$S_CPURUNS" "$S_CPUB"
	record_syncd "$n"
}

# cpu_once N SECONDS: in a pair of its own, the sender's CPU seconds
# while N states are created and replicated (as in run_syncd); fails if
# they do not all arrive within SECONDS.
cpu_once() {
	setup
	sy_start a 10.9.0.1 10.9.0.2
	sy_start b 10.9.0.2 10.9.0.1
	if ! wait_num b demote 0 20; then
		teardown
		return 1
	fi
	_c0=$(cpu "$SPID_a")
	nsx a "$CTGEN" -n "$1" >"$D/gen.out" 2>&1 & wait $!
	if ! wait_num b external "$1" "$2"; then
		teardown
		return 1
	fi
	_c1=$(cpu "$SPID_a")
	teardown
	fmt "$(calc "($_c1 - $_c0) / $HZ")" 3
}

# median VALUE...: the middle one (the mean of the two middle ones).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	    if (NR % 2) print v[(NR + 1) / 2]
	    else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_diff: "syncd diff" on the sender (peer's view against a kernel
# dump) while its status is polled: the loop must keep answering.
run_diff() {
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
}

# record_syncd N: the figures of run_syncd N into the run's record.
record_syncd() {
	_n=$1
	_m=$(calc "$_n / 1000000")
	_big=$([ "$_n" -ge 4000000 ] && echo 1)
	bench_rec "$nm.created_per_s" "$(fmt "$S_GEN" 0)" states/s "" "" \
	    "ctgen on the sender"
	bench_rec "$nm.replication_per_s" "$(fmt "$S_REP" 0)" states/s "" "" \
	    "end to end, from the first state created"
	bench_rec "$nm.replication_of_kernel" \
	    "$(frac "$S_REP" "$(limit insert_listener)")" \
	    "fraction of kernel insert rate (listener)"
	bench_rec "$nm.lag_after_last_s" "$(fmt "$S_LAG" 3)" s "" "" \
	    "peer holds all, after the last created"
	bench_rec "$nm.staged_after_last_s" "$(fmt "$S_STAGE" 3)" s "" "" \
	    "$S_STAGENOTE"
	# the commit command's own answer, or why there was none
	_cn=$(head -1 "$D/commit.out" | cut -c1-120)
	if [ -n "$_big" ]; then
		bench_rec "$nm.commit_s" "$(fmt "$S_COMMIT" 3)" s "<=" 0.2 "$_cn"
	else
		bench_rec "$nm.commit_s" "$(fmt "$S_COMMIT" 3)" s "" "" "$_cn"
	fi
	bench_rec "$nm.commit_of_kernel" \
	    "$(frac "$S_CRATE" "$(limit insert)")" \
	    "fraction of kernel insert rate"
	_lost=$((_n - S_HELD))
	[ "$_lost" -lt 0 ] && _lost=0
	bench_rec "$nm.lost" "$_lost" states "==" 0 \
	    "missing in the peer's kernel after the commit"
	if [ "$_n" -eq 1000000 ] || [ "$_n" -eq 4000000 ]; then
		bench_rec "$nm.bulk_s" "$(fmt "$S_BULK" 3)" s "<=" \
		    "$((_n / 1000000))" "to a fresh peer"
	else
		bench_rec "$nm.bulk_s" "$(fmt "$S_BULK" 3)" s "" "" \
		    "to a fresh peer"
		if [ -n "$S_BULKOWN" ]; then
			bench_rec "$nm.bulk_s_per_million" \
			    "$(fmt "$(calc "$S_BULKOWN / $_m")" 3)" s "<=" 1.0 \
			    "scaled from the receiver's own time for $(tag "$_n")"
		fi
	fi
	bench_rec "$nm.bulk_receiver_s" "${S_BULKOWN:-nan}" s "" "" \
	    "the receiver's own time (its log), without its start-up"
	bench_profile "$nm.bulk_s" "$nm-sender-bulk"
	bench_profile "$nm.bulk_s_per_million" "$nm-sender-bulk"
	bench_rec "$nm.bulk_of_kernel" "$(frac "$(calc "$_n / $S_BULK")" \
	    "$(limit dump_listener)")" "fraction of kernel dump rate"
	bench_rec "$nm.sender_cpu_s_per_million" \
	    "$(fmt "$(calc "$S_CPU / $_m")" 3)" "CPU s/M states" "<=" 2 \
	    "replication; $(echo "$S_CPURUNS" | wc -w) run(s), median: $S_CPURUNS s"
	bench_profile "$nm.sender_cpu_s_per_million" \
	    "$nm-sender-replication"
	bench_rec "$nm.receiver_cpu_s_per_million" \
	    "$(fmt "$(calc "$S_CPUB / $_m")" 3)" "CPU s/M states" "" "" \
	    "receiving and staging"
	bench_rec "$nm.sender_bulk_cpu_s_per_million" \
	    "$(fmt "$(calc "$S_BULKCPU / $_m")" 3)" "CPU s/M states"
	bench_rec "$nm.wire_bytes_per_state" "$(fmt "$S_WIRE" 1)" bytes
	bench_rec "$nm.resident_bytes_per_state" "$(fmt "$S_RSS" 0)" bytes \
	    ${_big:+"<=" 80 "receiver"}
	bench_rec "$nm.sender_resident_bytes_per_state" "$(fmt "$S_RSSA" 0)" \
	    bytes
	if [ "$S_DIFF" != nan ]; then
		bench_rec "$nm.diff_s" "$(fmt "$S_DIFF" 3)" s
		bench_rec "$nm.status_slowest_during_diff_s" \
		    "$(fmt "$S_STMAX" 3)" s
	fi
}

# --- conntrackd (FTFW over UDP), same workload ---------------------------
cd_conf() {	# node local peer [external cache: Off = kept]
	cat >"$D/cd.$1.conf" <<EOF
Sync {
	Mode FTFW {
		ResendQueueSize 131072
		ACKWindowSize 300
		DisableExternalCache ${4:-Off}
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
	nsx a "$CTGEN" -n "$n" >/dev/null 2>&1 & wait $!
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
	_nm=conntrackd.$(tag "$n")
	_m=$(calc "$n / 1000000")
	bench_rec "$_nm.replication_per_s" "$(fmt "$C_REP" 0)" states/s
	bench_rec "$_nm.replication_of_kernel" \
	    "$(frac "$C_REP" "$(limit insert_listener)")" \
	    "fraction of kernel insert rate (listener)"
	bench_rec "$_nm.lag_after_last_s" "$(fmt "$C_LAG" 3)" s
	bench_rec "$_nm.commit_s" "$(fmt "$C_COMMIT" 3)" s
	bench_rec "$_nm.bulk_s" "${C_BULK:-nan}" s "" "" "to a fresh peer"
	bench_rec "$_nm.sender_cpu_s_per_million" \
	    "$(fmt "$(calc "$C_CPU / $_m")" 3)" "CPU s/M states"
	bench_rec "$_nm.wire_bytes_per_state" "$(fmt "$C_WIRE" 1)" bytes
	bench_rec "$_nm.resident_bytes_per_state" "$(fmt "$C_RSS" 0)" bytes
}

# kernel_limit: the kernel's own rates on this machine (ctbench in a
# namespace of its own): KLIM_insert, KLIM_insert_listener, KLIM_dump,
# KLIM_dump_listener (states/s).
kernel_limit() {
	echo "  kernel limit: ctbench -n $KLIMIT_N"
	"$CTBENCH" -n "$KLIMIT_N" >"$D/ctbench.out" 2>&1 & KPID=$!
	wait $KPID || {
		echo "  ctbench failed:"; sed 's/^/    /' "$D/ctbench.out"
		return 1; }
	sed 's/^/    /' "$D/ctbench.out"
	for _k in "insert:import, no listener" \
	    "insert_listener:import, foreign listener" \
	    "insert_own_listener:import, own listener" \
	    "dump:dump (ct_dump_sync" "dump_listener:dump, listener open" \
	    "delete:delete, no listener"; do
		_v=$(grep -F "${_k#*:}" "$D/ctbench.out" | head -1 |
		    awk '{ sub("/s$", "", $NF); print $NF }')
		eval "KLIM_${_k%%:*}=\$_v"
		bench_rec "kernel.${_k%%:*}_per_s" "${_v:-nan}" states/s "" "" \
		    "ctbench, $(tag "$KLIMIT_N") states, batched netlink"
	done
}

# run_lag syncd|conntrackd [SECONDS]: replication lag per state at the
# steady load. With SECONDS: a run that only profiles both syncds
# (perf), for a p99 that missed its target; the measured run is left
# unprofiled (attaching perf delays the daemons it samples).
run_lag() {
	_secs=${2:-$LAG_SECS}
	setup
	if [ "$1" = syncd ]; then
		sy_start a 10.9.0.1 10.9.0.2
		sy_start b 10.9.0.2 10.9.0.1
		wait_num b demote 0 20
		_pa=$SPID_a; _pb=$SPID_b
	else
		# no external cache: received states go into the kernel at once
		cd_conf a 10.9.0.1 10.9.0.2 On
		cd_conf b 10.9.0.2 10.9.0.1 On
		cd_start a; cd_start b
		sleep 1
		_pa=$CPID_a; _pb=$CPID_b
	fi
	[ -n "$_pa" ] && [ -n "$_pb" ] || {
		echo "  $1: did not start"; teardown; return 1; }
	_ca=$(cpu "$_pa"); _cb=$(cpu "$_pb"); _t0=$(now)
	_tr=""
	if [ -n "${2:-}" ]; then
		bench_perf_start "$_pa" "$_secs" "lag-$1-sender"
		bench_perf_start "$_pb" "$_secs" "lag-$1-receiver"
	elif [ -n "${BENCH_DIR:-}" ]; then
		_tr="$BENCH_DIR/lag-$1.txt"
	fi
	"$CTLAG" --from "/run/netns/${P}a" --to "/run/netns/${P}b" \
	    --new "$LAG_NEW" --updates "$LAG_UPD" --seconds "$_secs" \
	    --wait 30 ${_tr:+--trace "$_tr"} >"$D/lag.out" 2>&1 & wait $!
	_t1=$(now)
	_sa=$(calc "($(cpu "$_pa") - $_ca) / $HZ / ($_t1 - $_t0) * 100")
	_sb=$(calc "($(cpu "$_pb") - $_cb) / $HZ / ($_t1 - $_t0) * 100")
	bench_perf_wait
	teardown
	if [ -n "${2:-}" ]; then
		echo "  $1: profiled for $_secs s (perf)"
		return 0
	fi
	_l=$(grep '^LAG' "$D/lag.out")
	[ -n "$_l" ] || { echo "  $1: ctlag failed:"; cat "$D/lag.out"
		return 1; }
	lv() { echo "$_l" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
	printf '  %-10s lag per state: median %s ms, p99 %s ms, max %s ms; %s of %s states arrived; load %s new/s + %s updates/s; CPU %.0f %% sender, %.0f %% receiver\n' \
	    "$1" "$(lv median_ms)" "$(lv p99_ms)" "$(lv max_ms)" \
	    "$(lv matched)" "$(lv states)" "$(lv new_rate)" "$(lv upd_rate)" \
	    "$_sa" "$_sb"
	_nm=lag.$1
	_cn=""
	[ "$(lv censored)" -gt 0 ] 2>/dev/null &&
	    _cn="lower bound: $(lv censored) states not there 30 s after the load, counted as that late"
	bench_rec "$_nm.new_per_s" "$(lv new_rate)" states/s "" "" \
	    "generated (asked $LAG_NEW)"
	bench_rec "$_nm.updates_per_s" "$(lv upd_rate)" updates/s "" "" \
	    "generated (asked $LAG_UPD)"
	bench_rec "$_nm.median_ms" "$(lv median_ms)" ms "" "" "$_cn"
	if [ "$1" = syncd ]; then
		bench_rec "$_nm.p99_ms" "$(lv p99_ms)" ms "<=" 10 "$_cn"
		bench_rec "$_nm.p99_ms_vs_conntrackd" "$(lv p99_ms)" ms "<" \
		    @lag.conntrackd.p99_ms "below conntrackd's${_cn:+; $_cn}"
		for _f in p99_ms p99_ms_vs_conntrackd; do
			bench_profile "$_nm.$_f" lag-syncd-sender
			bench_profile "$_nm.$_f" lag-syncd-receiver
		done
		LAG_P99=$(lv p99_ms)
	else
		bench_rec "$_nm.p99_ms" "$(lv p99_ms)" ms "" "" "$_cn"
	fi
	bench_rec "$_nm.max_ms" "$(lv max_ms)" ms "" "" "$_cn"
	bench_rec "$_nm.after_last_ms" "$(lv after_last_ms)" ms "" "" \
	    "last arrival after the last event on the sender"
	bench_rec "$_nm.missing" "$(lv missing_to)" states "==" 0 \
	    "not on the peer 30 s after the load (of $(lv states))"
	bench_rec "$_nm.sender_cpu_pct" "$(fmt "$_sa" 1)" "% of a CPU"
	bench_rec "$_nm.receiver_cpu_pct" "$(fmt "$_sb" 1)" "% of a CPU"
	if [ "$(calc "$(lv new_rate) < 0.9 * $LAG_NEW")" = 1 ] ||
	    [ "$(calc "$(lv upd_rate) < 0.9 * $LAG_UPD")" = 1 ]; then
		bench_note "lag with $1: the load asked ($LAG_NEW new/s," \
		    "$LAG_UPD updates/s) was not reached on this machine:" \
		    "$(lv new_rate) new/s, $(lv upd_rate) updates/s"
	fi
}

# room N: conntrack table and hash (root namespace) for N states on
# each side; restored by cleanup.
# The hash grows with the table, as the kernel sizes it by default
# (nf_conntrack_max = buckets): left at this machine's 262,144 buckets,
# 1.2M entries (the lag run's, both nodes sharing the kernel's table)
# made every kernel operation several times slower from the 18th second
# on (lag p99 67 ms, 6 ms with the hash grown).
room() {
	need=$(($1 * 2 + 10000))
	if [ "$OLDMAX" -lt "$need" ] 2>/dev/null; then
		sysctl -qw net.netfilter.nf_conntrack_max="$need" 2>/dev/null
	fi
	if [ "$OLDHASH" -gt 0 ] && [ "$(cat "$HASHF")" -lt "$need" ]; then
		echo "$need" >"$HASHF" ||
		    echo "  (could not raise the conntrack hash size)"
	fi
}

echo "syncd benchmark ($(nproc) CPUs, $(uname -r)); sealed frames (protocol 2, ChaCha20-Poly1305)"
room "$KLIMIT_N"
kernel_limit
for n in $SIZES; do
	room "$n"
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
	if [ "$n" -gt 1000000 ]; then
		echo "  (conntrackd is not run at $n states: it takes too long)"
	elif command -v conntrackd >/dev/null 2>&1 && [ "${SYNCD_BENCH_CONNTRACKD:-1}" = 1 ]; then
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

if [ "${SYNCD_BENCH_LAG:-1}" = 1 ]; then
	echo "replication lag at a steady load: $LAG_NEW new states/s and" \
	    "$LAG_UPD updates/s for $LAG_SECS s (ctlag)"
	room $((LAG_NEW * LAG_SECS))
	bench_note "lag: per state, from its NEW event in the sender's" \
	    "kernel to its NEW event in the peer's kernel; for syncd that" \
	    "is its background staging (the state is in syncd's memory" \
	    "earlier, which cannot be seen from outside); conntrackd runs" \
	    "with its external cache off, so it writes states into the" \
	    "kernel as they arrive"
	LAG_P99=""
	run_lag syncd
	# where the time goes, when the p99 missed (or was not measured)
	if [ -n "${BENCH_DIR:-}" ] && [ "${BENCH_PERF:-1}" != 0 ] &&
	    [ "$(calc "${LAG_P99:-1000} > 10")" = 1 ]; then
		run_lag syncd 10
	fi
	if command -v conntrackd >/dev/null 2>&1 &&
	    [ "${SYNCD_BENCH_CONNTRACKD:-1}" = 1 ]; then
		run_lag conntrackd
	fi
fi

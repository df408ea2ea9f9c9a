#!/bin/sh
# tests/bench_churn.sh: what state sync costs the firewall itself. New TCP
# connections per second the master forwards through the strict ruleset
# of the lab (tests/lab.sh) with syncd off (carpd alone), with syncd on,
# and with conntrackd on (keepalived + conntrackd), and the CPU the sync
# daemon of each firewall takes at that rate.
#
# The client runs short connections back to back, CHURN_CONC at a time
# (tcpconn --churn: connect, 16 bytes and their echo, abortive close) to a
# second echo server that is not SCHED_FIFO. Client, server, both
# firewalls' forwarding and the daemons share this machine's CPUs, so what
# a daemon takes is taken from the forwarding: the cost is the drop in the
# rate. Each lab measures CHURN_RUNS times CHURN_SECS seconds; the best
# run counts (the one least disturbed by other load on the machine).
# With BENCH_DIR set, syncd on the master is profiled in an extra run.
# Needs root. Environment: B, CHURN_SECS (default 6), CHURN_CONC (default
# 64), CHURN_RUNS (default 2, 3 with BENCH_FULL=1).
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
B=${B:-build}
export B
. "$TOP/tests/bench_lib.sh"
SECS=${CHURN_SECS:-6}
CONC=${CHURN_CONC:-64}
if [ "${BENCH_FULL:-0}" = 1 ]; then
	RUNS=${CHURN_RUNS:-3}
else
	RUNS=${CHURN_RUNS:-2}
fi
HZ=$(getconf CLK_TCK)
PORT2=5002

[ "$(id -u)" -eq 0 ] || { echo "bench_churn: needs root; skipped"; exit 0; }
W=$(mktemp -d /tmp/bench-churn.XXXXXX)
OUT=$W/results
: >"$OUT"
LABS=""
finish() {
	touch "$W/stop"
	for p in $LABS; do kill -TERM "$p" 2>/dev/null; done
	for p in $LABS; do wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap finish EXIT
trap 'exit 130' INT TERM HUP

cpu_of() {	# PID: user + system ticks (0 when there is no such process)
	[ -n "$1" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null ||
	    echo 0
}

# wait_file SECONDS FILE: until FILE exists (or $W/stop).
wait_file() {
	_i=0
	while [ ! -e "$2" ] && [ ! -e "$W/stop" ] && [ $_i -lt $(($1 * 10)) ]
	do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -e "$2" ]
}

# churn_measure NAME P1 P2: one run; appends
# "NAME rate failed cpu_master_pct cpu_backup_pct" to $OUT.
churn_measure() {
	a1=$(cpu_of "$2"); a2=$(cpu_of "$3"); t0=$(date +%s.%N)
	nsx client "$TCPCONN" -c 10.0.2.100:$PORT2 --churn "$CONC" \
	    -d "$SECS" >"$T_DIR/churn.out" 2>&1
	t1=$(date +%s.%N); b1=$(cpu_of "$2"); b2=$(cpu_of "$3")
	sed -n 's/^CHURN .*failed=\([0-9]*\).*rate=\([0-9.]*\).*/\2 \1/p' \
	    "$T_DIR/churn.out" | tail -1 | awk -v n="$1" -v t0="$t0" \
	    -v t1="$t1" -v a1="$a1" -v b1="$b1" -v a2="$a2" -v b2="$b2" \
	    -v hz="$HZ" '{ printf "%s %s %s %.1f %.1f\n", n, $1, $2,
	      (b1 - a1) / hz / (t1 - t0) * 100,
	      (b2 - a2) / hz / (t1 - t0) * 100 }' >>"$OUT"
}

# churn_lab NAME STACK NOSYNC: one lab, kept up while the others measure
# (so that every configuration sees the machine's load alike): ready-NAME,
# then a run for each go-NAME-R (done-NAME-R), until stop.
churn_lab() (
	LAB_STACK=$2
	LAB_NOSYNC=$3
	T_PREFIX=bc$$$1
	. "$TOP/tests/lab.sh"
	LAB_SYNCD_KEY=$T_DIR/sync.key
	( umask 077; "$SYNCD" genkey >"$LAB_SYNCD_KEY" ) || exit 1
	if ! lab_setup || ! lab_stack_start; then
		echo "  $1: the lab did not start"
		for f in $(lab_logs); do
			echo "  --- $f"
			tail -5 "$f" | sed 's/^/    /'
		done
		touch "$W/failed-$1" "$W/ready-$1"
		exit 1
	fi
	bg server "$T_DIR/server2.log" "$TCPCONN" -l 0.0.0.0:$PORT2 >/dev/null
	wait_for 5 grep -q LISTENING "$T_DIR/server2.log" || exit 1
	nsx client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	if [ "$2" = ka ]; then
		p1=$(lab_ctd_pid fw1); p2=$(lab_ctd_pid fw2)
	else
		p1=$(lab_syncd_pid fw1); p2=$(lab_syncd_pid fw2)
	fi
	touch "$W/ready-$1"
	r=1
	while [ $r -le "$RUNS" ]; do
		wait_file 900 "$W/go-$1-$r" || exit 0
		churn_measure "$1" "$p1" "$p2"
		touch "$W/done-$1-$r"
		r=$((r + 1))
	done
	if [ "$1" = syncd ] && [ -n "${BENCH_DIR:-}" ]; then
		# where syncd's time goes at this rate (not measured: perf
		# takes its share too)
		wait_file 900 "$W/go-$1-perf" || exit 0
		bench_perf_start "$p1" 4 churn-syncd-master
		nsx client "$TCPCONN" -c 10.0.2.100:$PORT2 --churn "$CONC" \
		    -d 5 >/dev/null 2>&1
		bench_perf_wait
		touch "$W/done-$1-perf"
	fi
	echo "  $1: states in the kernel: fw1 $(lab_conntrack_count fw1)," \
	    "fw2 $(lab_conntrack_count fw2)"
	wait_file 900 "$W/stop"
)

echo "new TCP connections per second through the master ($CONC at a time," \
    "best of $RUNS runs of $SECS s each, the configurations taking turns)"
NAMES="off syncd"
churn_lab off carp 1 & LABS="$LABS $!"
churn_lab syncd carp 0 & LABS="$LABS $!"
if command -v keepalived >/dev/null 2>&1 &&
    command -v conntrackd >/dev/null 2>&1; then
	churn_lab conntrackd ka 0 & LABS="$LABS $!"
	NAMES="$NAMES conntrackd"
fi
UP=""
for n in $NAMES; do
	wait_file 120 "$W/ready-$n" && [ ! -e "$W/failed-$n" ] &&
	    UP="$UP $n"
done
r=1
while [ $r -le "$RUNS" ]; do
	for n in $UP; do
		touch "$W/go-$n-$r"
		wait_file $((SECS + 60)) "$W/done-$n-$r" ||
		    echo "  $n: run $r did not finish"
	done
	r=$((r + 1))
done
case " $UP " in
*" syncd "*)
	touch "$W/go-syncd-perf"
	wait_file 60 "$W/done-syncd-perf" ;;
esac
touch "$W/stop"
for p in $LABS; do wait "$p" 2>/dev/null; done
LABS=""

# best NAME: "rate failed cpu_master cpu_backup" of the best run
best() {
	awk -v n="$1" '$1 == n && $2 + 0 > r { r = $2 + 0; l = $2 " " $3 " " $4 " " $5 }
	    END { print (l == "" ? "nan nan nan nan" : l) }' "$OUT"
}
bench_note "churn: client, echo server, both firewalls' forwarding and" \
    "the daemons share this machine's $(nproc) CPUs; a daemon's CPU is" \
    "taken from the forwarding, which is the cost measured"
set -- $(best off); off=$1
printf '  %-12s %8s conn/s (%s failed)\n' "syncd off" "$1" "$2"
bench_rec churn.off.conn_per_s "$1" conn/s "" "" "best of $RUNS"
for n in syncd conntrackd; do
	grep -q "^$n " "$OUT" || continue
	set -- $(best $n)
	cost=$(awk -v a="$off" -v b="$1" 'BEGIN {
	    if (a + 0 > 0 && b != "nan") printf "%.1f", (1 - b / a) * 100
	    else print "nan" }')
	printf '  %-12s %8s conn/s (%s failed): cost %s %% of the rate;' \
	    "$n on" "$1" "$2" "$cost"
	printf ' CPU %s %% on the master, %s %% on the backup\n' "$3" "$4"
	bench_rec churn.$n.conn_per_s "$1" conn/s "" "" "best of $RUNS"
	if [ $n = syncd ]; then
		bench_rec churn.$n.cost_pct "$cost" "% of the rate" "<=" 10 \
		    "rate drop against syncd off"
		bench_rec churn.$n.cost_pct_vs_conntrackd "$cost" \
		    "% of the rate" "<" @churn.conntrackd.cost_pct \
		    "below conntrackd's"
		bench_profile churn.$n.cost_pct churn-syncd-master
		bench_profile churn.$n.cost_pct_vs_conntrackd churn-syncd-master
	else
		bench_rec churn.$n.cost_pct "$cost" "% of the rate"
	fi
	bench_rec churn.$n.cpu_master_pct "$3" "% of a CPU"
	bench_rec churn.$n.cpu_backup_pct "$4" "% of a CPU"
done

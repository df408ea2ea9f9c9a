#!/bin/sh
# tests/bench.sh: what `make bench` runs. Failover figures of carpd + syncd
# on the firewall-pair lab (tests/lab.sh), beside keepalived + conntrackd on
# the same lab when they are installed; then the daemons' own benchmarks
# (tests/bench_carpd.sh, tests/bench_syncd.sh) when present.
#
# For each stack: LAB_N established TCP connections through the master
# (SNAT), one TCP stream and a UDP probe every millisecond. Events: the
# master crashes (links cut, daemons killed) with 1 s timers and with the
# fastest timers; the old master comes back and takes over again
# (preemption: failback); the master's daemon gets SIGTERM (graceful
# handover). The gap is the longest pause in the UDP probes' echoes (the
# TCP stream's longest pause in brackets: it adds TCP's retransmission
# timer); "lost" counts connections that died in that event.
# Figures, not assertions. Needs root.
#
# Environment: B (build directory), LAB_N (connections, default 300),
# BENCH_STACKS (default "carp ka"), BENCH_REPEAT (runs per case, median
# reported; default 3: the lab shares its CPUs, and a busy machine delays
# packets by tens of milliseconds now and then, which the "no event" row
# shows).

TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
B=${B:-build}
export B
LAB_N=${LAB_N:-300}
export LAB_N
REPEAT=${BENCH_REPEAT:-3}
STACKS=${BENCH_STACKS:-carp ka}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: the failover figures need root (network namespaces);" \
	    "skipped"
	STACKS=""
fi

RES=$(mktemp /tmp/carpd-bench.XXXXXX)
trap 'rm -f "$RES"' EXIT
trap 'exit 130' INT TERM HUP

# case STACK TIMERS: one lab, one stack; appends
# "stack timers event gap_udp gap_tcp lost" lines to $RES.
# TIMERS: slow (1 s) runs crash, failback, graceful; fast runs crash only.
run_case() (
	LAB_STACK=$1
	T_PREFIX=bn$$$1$2
	if [ "$2" = control ]; then
		LAB_NOSYNC=1	# no state sync: the strict ruleset's control
	fi
	if [ "$2" = fast ]; then
		LAB_ADVBASE=0 LAB_SKEW1=1 LAB_SKEW2=2
		LAB_KA_ADVERT=0.01 LAB_KA_PRIO1=250 LAB_KA_PRIO2=206
		settle=2
	else
		LAB_ADVBASE=1 LAB_SKEW1=0 LAB_SKEW2=50
		LAB_KA_ADVERT=1 LAB_KA_PRIO1=250 LAB_KA_PRIO2=206
		settle=7
	fi
	. "$TOP/tests/lab.sh"
	lost_before=0
	k=0
	# record EVENT: close the phase, note its gap and losses
	record() {
		lab_traffic_mark
		k=$((k + 1))
		g=$(lab_mark_val $k udp_gap_ms)
		t=$(lab_mark_val $k tcp_gap_ms)
		d=$(lab_mark_val $k dead)
		s=$(lab_mark_val $k stalled)
		lost=$(( ${d:-0} + ${s:-0} ))
		echo "$LAB_STACK $2 $1 ${g:-nan} ${t:-nan} $((lost - lost_before))" \
		    >>"$RES"
		lab_log "  $1: gap ${g:-?} ms (TCP ${t:-?} ms)," \
		    "$((lost - lost_before)) of $LAB_N connections lost"
		lost_before=$lost
	}
	# unrecorded: close a phase without an event in it
	unrecorded() {
		lab_traffic_mark
		k=$((k + 1))
		d=$(lab_mark_val $k dead)
		s=$(lab_mark_val $k stalled)
		lost_before=$(( ${d:-0} + ${s:-0} ))
	}
	fail() {
		lab_log "  $(lab_stack_name), $2 timers: $1 -- logs:"
		for f in $(lab_logs); do
			echo "  --- $f"
			tail -15 "$f" | sed 's/^/    /'
		done
		echo "$LAB_STACK $2 $1 nan nan nan" >>"$RES"
		exit 1
	}
	timers=$2
	lab_log "$(lab_stack_name), $( [ "$timers" = fast ] &&
	    echo "fastest timers" || echo "1 s timers")"
	lab_setup || fail setup $timers
	lab_stack_start || fail "pair did not start" $timers
	lab_traffic_start bench "$LAB_N" 600 --final-wait 5000 --quiet
	lab_traffic_ready 30 || fail "connections not ready" $timers
	wait_for 20 lab_stack_synced fw2 "$LAB_N" ||
	    lab_log "  (fw2 does not hold all $LAB_N states)"
	sleep 2
	lab_traffic_mark
	sleep 3
	record baseline $timers		# no event: the lab's noise floor

	lab_crash fw1
	wait_for 15 lab_stack_is_master fw2 || fail "no takeover" $timers
	sleep $settle
	record crash $timers
	[ "$timers" = fast ] || [ "$timers" = control ] &&
	    { lab_traffic_stop; exit 0; }

	lab_stack_revive fw1
	wait_for 40 lab_stack_is_master fw1 || fail "no failback" $timers
	sleep $settle
	record failback $timers

	wait_for 20 lab_stack_synced fw2 "$LAB_N" ||
	    lab_log "  (fw2 does not hold all $LAB_N states)"
	sleep 1
	unrecorded
	lab_stack_graceful fw1
	wait_for 15 lab_stack_is_master fw2 || fail "no handover" $timers
	sleep $settle
	record graceful $timers
	lab_traffic_stop
)

echo "== failover benchmark: $LAB_N NATed TCP connections through the pair"
for s in $STACKS; do
	if [ "$s" = ka ] && { ! command -v keepalived >/dev/null 2>&1 ||
	    ! command -v conntrackd >/dev/null 2>&1; }; then
		echo "(keepalived or conntrackd not installed: no comparison)"
		continue
	fi
	for t in slow fast; do
		r=0
		while [ $r -lt "$REPEAT" ]; do
			run_case $s $t
			r=$((r + 1))
		done
	done
	run_case $s control	# once: it only shows the losses
done

# median of the runs: stack timers event -> gap tcp lost
summary() {
	awk -v want="$1 $2 $3" 'BEGIN { n = 0 }
	($1 " " $2 " " $3) == want { g[n] = $4; t[n] = $5; l[n] = $6; n++ }
	function med(a, n,   i, j, x) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (a[j] + 0 < a[i] + 0) { x = a[i]; a[i] = a[j]; a[j] = x }
		return a[int((n - 1) / 2)]
	}
	END {
		if (n == 0) { print "-"; exit }
		gm = med(g, n); tm = med(t, n); lm = med(l, n)
		if (gm == "nan") { print "failed"; exit }
		printf "%s %s %s\n", gm, tm, lm
	}' "$RES"
}

cell() {
	# "gap tcp lost" -> "  31.2 ms (35.0)  0 lost"
	case "$1" in
	-|failed) printf '%-30s' "$1" ;;
	*) echo "$1" | awk -v n="$LAB_N" \
	    '{ printf "%8.1f ms (%7.1f) %3d/%d lost  ", $1, $2, $3, n }' ;;
	esac
}

ratio() {
	case "$1$2" in
	*-*|*failed*) echo "" ;;
	*) echo "$1 $2" | awk '{ if ($1 > 0) printf "x%.1f", $4 / $1 }' ;;
	esac
}

if [ -n "$STACKS" ]; then
	echo
	echo "Traffic gap: longest pause in UDP probes (every 1 ms) through the pair;"
	echo "in brackets the TCP stream's longest pause; lost: connections that died."
	printf '%-30s %-36s %-36s %s\n' "event" "carpd + syncd" \
	    "keepalived + conntrackd" "ratio"
	for ev in "baseline slow" "crash slow" "crash fast" "failback slow" \
	    "graceful slow" "crash control"; do
		set -- $ev
		case "$1 $2" in
		"baseline slow") label="no event (noise floor, 3 s)" ;;
		"crash slow") label="crash, 1 s timers" ;;
		"crash fast") label="crash, fastest timers" ;;
		"failback slow") label="failback (preemption)" ;;
		"graceful slow") label="graceful handover (SIGTERM)" ;;
		"crash control") label="crash, no state sync (1 run)" ;;
		esac
		a=$(summary carp "$2" "$1")
		b=$(summary ka "$2" "$1")
		printf '%-30s %-36s %-36s %s\n' "$label" "$(cell "$a")" \
		    "$(cell "$b")" "$(ratio "$a" "$b")"
	done
	echo "(median of $REPEAT runs; ratio: keepalived + conntrackd's gap /" \
	    "carpd + syncd's gap)"
	echo "targets for carpd + syncd: crash with 1 s timers at most"
	echo "3 x advbase + advskew/256 + 30 ms = 3225 ms (the crash falls anywhere"
	echo "in an advertisement interval, so 2.2 to 3.2 s); fastest timers under"
	echo "35 ms; graceful handover and failback under 10 ms; none lost."
	echo "timers: 1 s = carpd advbase 1, advskew 0/50; keepalived VRRPv2"
	echo "advert_int 1, priority 250/206 (the same skew). fastest = carpd"
	echo "advbase 0, advskew 1/2; keepalived VRRPv3 advert_int 0.01."
fi

for b in bench_carpd bench_syncd; do
	if [ -f "$TOP/tests/$b.sh" ]; then
		echo
		echo "== $b"
		sh "$TOP/tests/$b.sh"
	fi
done

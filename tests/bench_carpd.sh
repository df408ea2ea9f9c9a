#!/bin/sh
# bench_carpd.sh: carpd failover times in network namespaces: the master
# is killed (SIGKILL: the backup waits for master-down) or stopped
# (SIGTERM: it bows out and the backup takes over at once). Prints one
# line per case with the measured gap and the protocol's bound.
# Needs root. Usage: B=build sh tests/bench_carpd.sh [rounds] (default 2,
# 3 with BENCH_FULL=1)
TOPDIR=$(cd "$(dirname "$0")/.." && pwd)
CARPD=${CARPD:-$TOPDIR/${B:-build}/bin/carpd}
. "$TOPDIR/tests/netns/lib.sh"
. "$TOPDIR/tests/netns/carpd.inc"
. "$TOPDIR/tests/bench_lib.sh"
trap 'cleanup' EXIT

if [ "${BENCH_FULL:-0}" = 1 ]; then
	ROUNDS=${1:-3}
else
	ROUNDS=${1:-2}
fi
[ "$(id -u)" -eq 0 ] || { echo "bench_carpd: needs root"; exit 0; }
[ -x "$CARPD" ] || { echo "bench_carpd: $CARPD not built"; exit 1; }
topo a b || exit 1

now() { date +%s.%N; }

# one CASE ADVBASE SKEW_A SKEW_B SIGNAL: ms from the signal to b MASTER.
one() {
	carpd_bg a -i eth0 -v 1 -p bench -a 10.0.0.100/24 -b "$2" -k "$3"
	carpd_bg b -i eth0 -v 1 -p bench -a 10.0.0.100/24 -b "$2" -k "$4"
	wait_for 10 is_state a MASTER && wait_for 5 is_state b BACKUP ||
	    { echo "# setup failed"; return 1; }
	sleep 1.2
	pa=$(carpd_pid a)
	t0=$(now)
	kill "-$5" "$pa"
	if ! wait_for 15 is_state b MASTER; then
		echo "# b did not take over"
		return 1
	fi
	t1=$(jq_ b "s['vhids'][0]['last_transition']['time']")
	pb=$(carpd_pid b)
	kill "$pb" 2>/dev/null
	wait_for 3 pid_gone "$pa"
	wait_for 3 pid_gone "$pb"
	nsx a ip addr del 10.0.0.100/24 dev eth0 2>/dev/null
	python3 -c "print('%.1f' % ((float('$t1') - float('$t0')) * 1000))"
}

run() {	# LABEL ADVBASE SKEWA SKEWB SIGNAL BOUND_MS
	all=""
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		one "$@" >"$T_DIR/one.out" 2>&1
		v=$(tail -1 "$T_DIR/one.out")
		grep '^#' "$T_DIR/one.out" | sed 's/^/  /' >&2
		all="$all $v"
		i=$((i + 1))
	done
	rec carpd "$(slug "$1")" "$6" $all
	python3 - "$1" "$6" $all <<'P'
import sys
label, bound = sys.argv[1], float(sys.argv[2])
v = []
for x in sys.argv[3:]:
    try:
        v.append(float(x))
    except ValueError:
        pass
if not v:
    print("carpd %-44s failed" % label)
else:
    print("carpd %-44s min %7.1f ms  mean %7.1f ms  max %7.1f ms  "
          "(bound %s, %d runs)" % (label, min(v), sum(v) / len(v),
          max(v), ("%.0f ms" % bound) if bound else "one packet", len(v)))
P
}

# slug LABEL: a figure's name from a case's label
slug() { echo "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '_' | tr -s _ | sed 's/^_//; s/_$//'; }

# rec PREFIX NAME BOUND VALUES...: mean and largest into the run's record
# (the largest against BOUND, when there is one).
rec() {
	_p=$1; _n=$2; _b=$3; shift 3
	set -- $(echo "$@" | tr ' ' '\n' | grep -E '^[0-9.]+$' |
	    awk '{ s += $1; if ($1 > m) m = $1; n++ }
	    END { if (n) printf "%.1f %.1f %d", s / n, m, n; else print "nan nan 0" }')
	bench_rec "$_p.$_n.mean_ms" "$1" ms "" "" "$3 runs"
	if [ "${_b:-0}" != 0 ]; then
		bench_rec "$_p.$_n.max_ms" "$2" ms "<=" "$_b" \
		    "protocol bound, $3 runs"
	else
		bench_rec "$_p.$_n.max_ms" "$2" ms "" "" "$3 runs"
	fi
}

# Bounds: master-down = 3 * advbase + advskew/256 of the backup
# (advbase 0: 3 * advskew/256); a bow-out has no bound but one packet.
run "failover, advbase 1, SIGKILL (master-down)" 1 0 20 KILL 3078
run "failover, advbase 0 advskew 20/40, SIGKILL" 0 20 40 KILL 469
run "handover, advbase 1, SIGTERM (bow-out)" 1 0 20 TERM 0
run "handover, advbase 0 advskew 20/40, SIGTERM" 0 20 40 TERM 0

# The same cases with Debian's ucarp on both hosts, for comparison: the
# time from the signal to b's up script (ucarp has no status to read).
UCARP=$(command -v ucarp || echo /usr/sbin/ucarp)
[ -x "$UCARP" ] || { echo "ucarp not installed: no comparison"; exit 0; }
cat > "$T_DIR/up.sh" <<EOS
#!/bin/sh
date +%s.%N > "$T_DIR/\$(basename "\$(readlink /proc/self/ns/net)").up" 2>/dev/null
ip addr add "\$2/24" dev "\$1" 2>/dev/null
EOS
cat > "$T_DIR/down.sh" <<'EOS'
#!/bin/sh
ip addr del "$2/24" dev "$1" 2>/dev/null
EOS
chmod +x "$T_DIR/up.sh" "$T_DIR/down.sh"

# uone ADVBASE SKEW_A SKEW_B SIGNAL: ms from the signal to b's up script.
# (ucarp is signalled by the PIDs started here, never by name: other
# ucarps on this machine are none of ours.)
uone() {
	rm -f "$T_DIR"/*.up
	ua=$(bg a "$T_DIR/ua.log" "$UCARP" -i eth0 -s 10.0.0.1 -v 1 -p bench \
	    -a 10.0.0.100 -b "$1" -k "$2" -P -z -u "$T_DIR/up.sh" \
	    -d "$T_DIR/down.sh")
	T_PIDS="$T_PIDS $ua"
	wait_for 10 nsx a sh -c "ip addr show dev eth0 | grep -q 10.0.0.100" ||
	    { echo "# ucarp a did not become master"; kill -9 "$ua"
	      return 1; }
	ub=$(bg b "$T_DIR/ub.log" "$UCARP" -i eth0 -s 10.0.0.2 -v 1 -p bench \
	    -a 10.0.0.100 -b "$1" -k "$3" -P -z -u "$T_DIR/up.sh" \
	    -d "$T_DIR/down.sh")
	T_PIDS="$T_PIDS $ub"
	sleep 1.5
	rm -f "$T_DIR"/*.up
	t0=$(now)
	kill "-$4" "$ua"
	if ! wait_for 15 sh -c "ls '$T_DIR'/*.up >/dev/null 2>&1"; then
		echo "# ucarp b did not take over"
		kill -9 "$ua" "$ub" 2>/dev/null
		return 1
	fi
	t1=$(cat "$T_DIR"/*.up | head -1)
	kill -9 "$ua" "$ub" 2>/dev/null
	sleep 0.2
	nsx a ip addr del 10.0.0.100/24 dev eth0 2>/dev/null
	nsx b ip addr del 10.0.0.100/24 dev eth0 2>/dev/null
	python3 -c "print('%.1f' % ((float('$t1') - float('$t0')) * 1000))"
}

urun() {	# LABEL ADVBASE SKEWA SKEWB SIGNAL
	all=""
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		uone "$2" "$3" "$4" "$5" >"$T_DIR/one.out" 2>&1
		v=$(tail -1 "$T_DIR/one.out")
		grep '^#' "$T_DIR/one.out" | sed 's/^/  /' >&2
		all="$all $v"
		i=$((i + 1))
	done
	rec ucarp "$(slug "$1")" 0 $all
	python3 - "$1" $all <<'P'
import sys
v = []
for x in sys.argv[2:]:
    try:
        v.append(float(x))
    except ValueError:
        pass
if not v:
    print("ucarp %-44s failed" % sys.argv[1])
else:
    print("ucarp %-44s min %7.1f ms  mean %7.1f ms  max %7.1f ms  "
          "(%d runs)" % (sys.argv[1], min(v), sum(v) / len(v), max(v),
          len(v)))
P
}

urun "failover, advbase 1, SIGKILL (master-down)" 1 0 20 KILL
urun "failover, advbase 0 advskew 20/40, SIGKILL" 0 20 40 KILL
urun "handover, advbase 1, SIGTERM (no bow-out)" 1 0 20 TERM

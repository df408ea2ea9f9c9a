#!/bin/sh
# tests/soak/soak.sh: what `make soak` runs. The chaos soak: the firewall
# pair (tests/lab.sh) under steady load for SOAK_S seconds while a seeded
# schedule of faults hits it, one every few seconds; then the event table,
# a JSON file and a timeline picture (tests/soak/report.py), and the
# verdict: exit 0 only when nothing was lost.
#
# Load, for the whole run: SOAK_CONNS long-lived TCP connections (a
# message every 100 ms each), SOAK_RATE new short TCP connections a second
# (connect, one echo, close) to a port of their own, SOAK_UDP_FLOWS UDP
# flows, one TCP stream and a UDP probe every 1 ms (tests/tools/tcpconn).
#
# Faults (a seeded shuffle of all kinds, again and again; after a kill or a
# stop the daemon is started again, so the pair is whole before the next
# one): the master crashes (frozen, links cut) and comes back (failback
# with preemption); SIGTERM of the master's carpd; kill -9 of carpd alone
# and of syncd alone (master or backup, by the seed); a syncd restart; the
# sync link down for 5 s; 5% loss on the sync link for 30 s (beside the
# other faults); the backup's LAN link down and up; carpd demote and its
# undo; fw2's wall clock stepped by an hour (libfaketime).
#
# Asserted: no long-lived connection lost; new connections fail only
# inside an event's disruption (counted, with the gap); within 5 s of each
# event exactly one master holding every virtual address, and syncd diff
# clean on both (see look.py for what clean means under churn); the
# resident memory and descriptors of every daemon flat after a warm-up; no
# daemon dies unless the schedule killed it.
#
# Environment: SOAK_S (default 600), SOAK_SEED (default 1), SOAK_KINDS
# (the fault kinds to draw from, default all: crash sigterm kill9carpd
# kill9syncd syncdrestart synclink loss lanlink demote clockstep), SOAK_ON (master or
# backup: whom kill9* and syncdrestart hit; default the dice), SOAK_CONNS
# (1000), SOAK_RATE (1000), SOAK_UDP_FLOWS (16), SOAK_FINAL_EXACT (1: the
# diff once the load stopped must be identical; 0: only shown), SOAK_WARM (warm-up before
# the memory baseline, default 30 s), SOAK_OUT (results directory; default
# a new /tmp/carpd-soak.XXXXXX, printed), SOAK_TRACE (1: log the packets
# the firewalls drop as invalid, see below), B (build directory).

TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP
B=${B:-build}
export B
# Under AddressSanitizer freed memory waits in its quarantine (up to 256
# MB) and stays resident: the daemons' memory is judged without it. Even
# so, ASan's allocator keeps what was freed, every allocation carries red
# zones and each touched page its shadow: a takeover near the end of the
# 90 s soak (both caches full for a moment) left a syncd at +10.2% and
# +11.5% there. Under ASan memory may grow 25%; a plain build, which
# `make soak` and a plain `make check` run, keeps 10%.
SOAK_RSS_LIMIT=10
if ldd "$TOP/$B/bin/syncd" 2>/dev/null | grep -q libasan; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
	export ASAN_OPTIONS
	SOAK_RSS_LIMIT=25
fi
SOAK_S=${SOAK_S:-600}
SOAK_SEED=${SOAK_SEED:-1}
SOAK_CONNS=${SOAK_CONNS:-1000}
SOAK_RATE=${SOAK_RATE:-1000}
SOAK_UDP_FLOWS=${SOAK_UDP_FLOWS:-16}
SOAK_WARM=${SOAK_WARM:-30}
SOAK_AGREE_S=5		# both daemons agree within this after an event
SOAK_SHORT_TO=2000	# ms: a short connection slower than this failed
SOAK_PORT2=5002		# the short connections' echo server

if [ "$(id -u)" -ne 0 ]; then
	echo "soak: needs root (network namespaces, nftables): sudo make soak" >&2
	exit 1
fi
for x in "$TOP/$B/bin/carpd" "$TOP/$B/bin/syncd" "$TOP/$B/tools/tcpconn"; do
	if [ ! -x "$x" ]; then
		echo "soak: $x is missing (make soak builds it)" >&2
		exit 1
	fi
done
case "$SOAK_S$SOAK_SEED$SOAK_CONNS$SOAK_RATE$SOAK_UDP_FLOWS$SOAK_WARM" in
*[!0-9]*)
	echo "soak: SOAK_S, SOAK_SEED, SOAK_CONNS, SOAK_RATE," \
	    "SOAK_UDP_FLOWS and SOAK_WARM are numbers" >&2
	exit 2 ;;
esac
if [ -z "${SOAK_OUT:-}" ]; then
	SOAK_OUT=$(mktemp -d /tmp/carpd-soak.XXXXXX) || exit 1
fi
mkdir -p "$SOAK_OUT" || exit 1

# Under AddressSanitizer a freed block waits in a quarantine (256 MiB by
# default) before reuse: resident memory would grow for minutes by design.
# A small quarantine keeps use-after-free detection for recent frees and
# lets the memory check see the daemons' own growth.
if grep -q fsanitize "$TOP/$B/.flags" 2>/dev/null; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
	export ASAN_OPTIONS
fi

T_PREFIX=${T_PREFIX:-soak$$}
LAB_N=$SOAK_CONNS
. "$TOP/tests/lab.sh"

RES=$SOAK_OUT/res.tsv		# t fw daemon pid rss_kb fds
EVENTS=$SOAK_OUT/events.tsv	# i t name agree_ms agreed kind note
DAEMONS=$SOAK_OUT/daemons.tsv	# t start|end fw daemon pid why
mkdir -p "$T_DIR/pids"
: >"$RES"
: >"$EVENTS"
: >"$DAEMONS"
: >"$T_DIR/expected"

say() { lab_log "$*"; }
now() { date +%s.%N; }
since_ms() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%d", (a - b) * 1000 }'; }

# ------------------------------------------------------------ seeded dice
# A linear congruential generator in shell arithmetic: the same seed gives
# the same schedule everywhere (awk's srand differs between awks).
SOAK_X=$((SOAK_SEED % 2147483648))
rnd() {
	SOAK_X=$(( (SOAK_X * 1103515245 + 12345) % 2147483648 ))
	R=$(( (SOAK_X / 65536) % $1 ))
}

# --------------------------------------------------------- the daemons
# Every start is noted (pids/FW-DAEMON and daemons.tsv) so the monitor
# samples it and knows a death it was not told about.

note_start() {
	echo "$3" >"$T_DIR/pids/$1-$2"
	printf '%s\tstart\t%s\t%s\t%s\t-\n' "$(now)" "$1" "$2" "$3" >>"$DAEMONS"
}

# expect FW DAEMON WHY: the schedule is about to end it.
expect() {
	local p
	p=$(cat "$T_DIR/pids/$1-$2" 2>/dev/null)
	[ -n "$p" ] || return 0
	echo "$p" >>"$T_DIR/expected"
	printf '%s\tend\t%s\t%s\t%s\t%s\n' "$(now)" "$1" "$2" "$p" "$3" \
	    >>"$DAEMONS"
	rm -f "$T_DIR/pids/$1-$2"
}

start_syncd() {
	lab_start_syncd "$1" || say "warning: $1's syncd: no control socket yet"
	note_start "$1" syncd "$(lab_syncd_pid "$1")"
}

start_carpd() {
	lab_start_carpd "$1" || say "warning: $1's carpd: no control socket yet"
	note_start "$1" carpd "$(lab_carpd_pid "$1")"
}

# monitor: every second, resident memory and descriptors of each daemon;
# a daemon gone without the schedule's word is a death (bounded).
monitor() {
	local i f p t n lim
	i=0
	lim=$((SOAK_S + 900))
	while [ $i -lt $lim ] && [ -d "$T_DIR" ] && [ ! -e "$T_DIR/stop" ]; do
		t=$(now)
		for f in "$T_DIR"/pids/*; do
			[ -e "$f" ] || continue
			p=$(cat "$f" 2>/dev/null)
			[ -n "$p" ] || continue
			n=${f##*/}
			if [ -r "/proc/$p/status" ]; then
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" \
				    "${n%-*}" "${n#*-}" "$p" \
				    "$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' \
				    "/proc/$p/status")" \
				    "$(ls "/proc/$p/fd" 2>/dev/null | wc -l)" \
				    >>"$RES"
			elif ! grep -qx "$p" "$T_DIR/expected" &&
			    [ -e "$f" ]; then
				printf '%s\tdied\t%s\t%s\t%s\tunexpected\n' \
				    "$t" "${n%-*}" "${n#*-}" "$p" >>"$DAEMONS"
				echo "$p" >>"$T_DIR/expected"
			fi
		done
		sleep 1
		i=$((i + 1))
	done
}

# -------------------------------------------------------- agreement
# What agreement means, and how a look is taken: tests/soak/look.py.
look() {
	LOOK_TDIR=$T_DIR LOOK_PREFIX=$T_PREFIX LOOK_PORT=$LAB_PORT \
	    LOOK_AGREE_S=$SOAK_AGREE_S LOOK_LOG=$SOAK_OUT/agree.log \
	    CARPD=$CARPD SYNCD=$SYNCD python3 "$TOP/tests/soak/look.py" "$@"
}

# agree T0 FULL: wait (bounded) until agreed; AG_MS is the time from T0 to
# the start of the look that found agreement (AG_LOOK: how long that look
# took), AG_OK 1 if within SOAK_AGREE_S, AG_WHY the look's last word.
agree() {
	local r
	r=$(look agree "$1" "$2")
	AG_OK=${r%%	*}; r=${r#*	}
	AG_MS=${r%%	*}; r=${r#*	}
	AG_LOOK=${r%%	*}; AG_WHY=${r#*	}
	case "$AG_OK" in 0|1) ;; *) AG_OK=0 AG_MS=-1 AG_LOOK=0 ;; esac
}
: >"$SOAK_OUT/agree.log"

# ----------------------------------------------------------- the events
EV_N=0
# record T0 NAME FULL [FROM]: wait for agreement (timed from FROM, by
# default T0: a fault held on purpose is timed from its end), then one row
# of the table.
record() {
	local full
	full=$3
	agree "${4:-$1}" "$full"
	EV_N=$((EV_N + 1))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$EV_N" "$1" "$2" "$AG_MS" \
	    "$AG_OK" "$([ "$full" = 1 ] && echo full || echo carp)" \
	    "${AG_WHY:--}" "$AG_LOOK" >>"$EVENTS"
	if [ "$AG_OK" = 1 ]; then
		say "  #$EV_N $2: agreed after $AG_MS ms (the look took $AG_LOOK ms)"
	else
		say "  #$EV_N $2: NOT agreed within ${SOAK_AGREE_S} s" \
		    "($AG_MS ms: $AG_WHY)"
	fi
	check_alive
}

# check_alive: every daemon the schedule left running still runs.
check_alive() {
	local f p n
	for f in "$T_DIR"/pids/*; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		n=${f##*/}
		if ! alive "$p" && ! grep -qx "$p" "$T_DIR/expected"
		then
			printf '%s\tdied\t%s\t%s\t%s\tunexpected\n' "$(now)" \
			    "${n%-*}" "${n#*-}" "$p" >>"$DAEMONS"
			echo "$p" >>"$T_DIR/expected"
			say "  $n (pid $p) died unexpectedly"
			rm -f "$f"
			case "$n" in
			*-carpd) start_carpd "${n%-*}" ;;
			*-syncd) start_syncd "${n%-*}" ;;
			esac
		fi
	done
}

master() { lab_master; }

ev_crash() {
	local m t
	m=$(master); [ "$m" = fw1 ] || [ "$m" = fw2 ] || m=fw1
	expect $m carpd crash; expect $m syncd crash
	t=$(now); lab_crash $m
	record "$t" "master $m crashes (frozen, links cut)" 0
	sleep 1
	t=$(now); lab_revive $m
	start_syncd $m; start_carpd $m
	record "$t" "$m back, fresh daemons (failback if fw1)" 1
}

ev_sigterm() {
	local m t
	m=$(master)
	expect $m carpd SIGTERM
	t=$(now); lab_kill TERM "$(lab_carpd_pid $m)"
	record "$t" "SIGTERM of master $m's carpd" 1
	t=$(now); start_carpd $m
	record "$t" "$m's carpd started again (failback if fw1)" 1
}

# ev_kill9 DAEMON: kill -9 of carpd or syncd alone, on the master or the
# backup (the dice).
# pick_target: sets R (1: the backup) and f, the member a kill or
# restart hits: the master or the backup by the dice, or as SOAK_ON says.
pick_target() {
	rnd 2
	case "${SOAK_ON:-}" in
	master) R=0 ;;
	backup) R=1 ;;
	esac
	f=$(master)
	[ $R = 1 ] && f=$(lab_other "$f")
}

ev_kill9() {
	local f t
	pick_target
	expect $f "$1" "kill -9"
	t=$(now)
	if [ "$1" = carpd ]; then
		lab_kill 9 "$(lab_carpd_pid $f)"
	else
		lab_kill 9 "$(lab_syncd_pid $f)"
	fi
	record "$t" "kill -9 of $f's $1 ($([ $R = 1 ] && echo backup ||
	    echo master))" 0
	t=$(now)
	if [ "$1" = carpd ]; then start_carpd $f; else start_syncd $f; fi
	record "$t" "$f's $1 started again" 1
}

ev_syncd_restart() {
	local f t t1
	pick_target
	expect $f syncd restart
	t=$(now)
	lab_kill TERM "$(lab_syncd_pid $f)"
	t1=$(since_ms "$t")
	start_syncd $f
	say "  (syncd on $f: stopped after $t1 ms, the new one listening" \
	    "after $(since_ms "$t") ms)"
	record "$t" "syncd restart on $f" 1
}

ev_synclink() {
	local t
	t=$(now)
	ip -n "$(ns fw1)" link set sync down
	sleep 5
	record "$t" "sync link down for 5 s" 0 "$(now)"
	t=$(now)
	ip -n "$(ns fw1)" link set sync up
	record "$t" "sync link up again" 1
}

LOSS_END=""
ev_loss() {
	local t
	[ -n "$LOSS_END" ] && return 1
	t=$(now)
	lab_loss fw1 5; lab_loss fw2 5
	LOSS_END=$(awk -v a="$t" 'BEGIN { printf "%.3f", a + 30 }')
	record "$t" "5% loss on the sync link (for 30 s)" 1
}

loss_off_due() {
	local t
	[ -n "$LOSS_END" ] || return 0
	awk -v a="$(now)" -v b="$LOSS_END" 'BEGIN { exit !(a >= b) }' ||
	    return 0
	t=$(now)
	lab_loss fw1 0; lab_loss fw2 0
	LOSS_END=""
	record "$t" "sync link loss ends" 1
}

ev_lanlink() {
	local b i t
	b=$(lab_other "$(master)")
	i=$(lab_idx $b)
	t=$(now)
	ip -n "$(ns lsw)" link set f$i down
	sleep 3
	record "$t" "backup $b's LAN link down (3 s)" 0 "$(now)"
	t=$(now)
	ip -n "$(ns lsw)" link set f$i up
	record "$t" "backup $b's LAN link up" 1
}

ev_demote() {
	local m t
	m=$(master)
	t=$(now)
	nsx $m "$CARPD" demote 50 --control "$T_DIR/$m-carpd.sock" >/dev/null
	record "$t" "carpd demote 50 on master $m" 1
	t=$(now)
	nsx $m "$CARPD" demote -50 --control "$T_DIR/$m-carpd.sock" >/dev/null
	record "$t" "carpd demote -50 on $m (undo)" 1
}

# A clock step on fw2: its wall clock jumps an hour ahead, then two back,
# then to the true time again (a step, not a slew: NTP's first sync after
# a long outage, an operator's `date -s`). fw2's daemons run under
# libfaketime from the start, reading the offset from CLOCK_FILE at most a
# second after it changed; their monotonic clock is left alone, as a
# stepped wall clock leaves it. Sessions, liveness, timers and staging run
# on the monotonic clock and handshakes, so nothing may move; what shows
# the step is the wall-clock time of fw2's carpd's last transition.
ev_clockstep() {
	local t off w0 w1 n0 n1 d
	case "$(cat "$CLOCK_FILE")" in
	+0) off=+1h d=3600 ;;
	+1h) off=-1h d=-7200 ;;
	*) off=+0 d=3600 ;;
	esac
	w0=$(clock_seen) n0=$(transitions fw2)
	t=$(now)
	echo "$off" >"$CLOCK_FILE"
	# the daemons see the step within a second; the agreement is timed
	# from the step, and the look that confirms fw2's carpd saw it comes
	# after (it is not the daemons' time, and on a busy machine it can
	# take seconds)
	sleep 1.5
	record "$t" "fw2's wall clock stepped (now $off off)" 1
	w1=$(clock_seen) n1=$(transitions fw2)
	if [ -n "$w0" ] && [ -n "$w1" ] && [ "$n0" = "$n1" ]; then
		if awk -v a="$w0" -v b="$w1" -v d="$d" \
		    'BEGIN { x = b - a - d; exit !(x > -5 && x < 5) }'; then
			say "  fw2's carpd sees the step ($off)"
		else
			say "  warning: fw2's carpd does not see the step" \
			    "($w0 -> $w1, expected ${d} s)"
		fi
	fi
}

# clock_seen: the wall-clock time of fw2's carpd's last transition on
# vhid 1 as it reports it (it moves with fw2's wall clock).
clock_seen() {
	nsx fw2 "$CARPD" status --json --control "$T_DIR/fw2-carpd.sock" \
	    2>/dev/null | python3 -c "import json,sys
print(json.load(sys.stdin)['vhids'][0]['last_transition']['time'])" \
	    2>/dev/null
}

transitions() {
	nsx "$1" "$CARPD" status --json --control "$T_DIR/$1-carpd.sock" \
	    2>/dev/null | python3 -c "import json,sys
print(sum(v['transitions'] for v in json.load(sys.stdin)['vhids']))" \
	    2>/dev/null
}

SOAK_ALL_KINDS="crash sigterm kill9carpd kill9syncd syncdrestart synclink loss
lanlink demote clockstep"
KINDS=${SOAK_KINDS:-$SOAK_ALL_KINDS}
for k in $KINDS; do
	case " $(echo $SOAK_ALL_KINDS) " in
	*" $k "*) ;;
	*) echo "soak: unknown fault kind '$k' in SOAK_KINDS" \
	    "(kinds: $(echo $SOAK_ALL_KINDS))" >&2; exit 2 ;;
	esac
done
BAG=""
# next_kind: the next fault of the seeded schedule (a shuffled bag of all
# kinds; a new shuffle when empty).
next_kind() {
	local n i j k a
	if [ -z "$BAG" ]; then
		set -- $KINDS
		n=$#
		for k in $KINDS; do eval "a$n=$k"; n=$((n - 1)); done
		n=$#
		i=$n
		while [ $i -gt 1 ]; do
			rnd $i
			j=$((R + 1))
			eval "k=\$a$i; a$i=\$a$j; a$j=\$k"
			i=$((i - 1))
		done
		i=1
		while [ $i -le $n ]; do eval "BAG=\"\$BAG \$a$i\""; i=$((i + 1)); done
	fi
	set -- $BAG
	KIND=$1
	shift
	BAG="$*"
}

run_kind() {
	case "$1" in
	crash) ev_crash ;;
	sigterm) ev_sigterm ;;
	kill9carpd) ev_kill9 carpd ;;
	kill9syncd) ev_kill9 syncd ;;
	syncdrestart) ev_syncd_restart ;;
	synclink) ev_synclink ;;
	loss) ev_loss ;;
	lanlink) ev_lanlink ;;
	demote) ev_demote ;;
	clockstep) ev_clockstep ;;
	esac
}

# ---------------------------------------------------------------- the run
fail_setup() {
	say "soak: $*"
	for f in $(lab_logs); do
		echo "  --- $f"
		tail -15 "$f" | sed 's/^/  | /'
	done
	echo "soak: FAILED to set up"
	exit 1
}

# pair_start: lab_pair_start, with more patience on a busy machine (its
# waits for a control socket are 5 s).
pair_start() {
	lab_pair_start && return 0
	say "the pair is slow to start; waiting longer"
	wait_for 30 lab_is_master fw1 || return 1
	[ -n "$(lab_carpd_pid fw2)" ] || lab_start_carpd fw2 ||
	    wait_for 30 test -S "$T_DIR/fw2-carpd.sock" || return 1
	wait_for 30 lab_is_backup fw2 && wait_for 30 lab_bulk_done fw2
}

say "chaos soak: ${SOAK_S} s, seed $SOAK_SEED, faults: $(echo $KINDS); $SOAK_CONNS long-lived TCP" \
    "connections, $SOAK_RATE new connections/s, $SOAK_UDP_FLOWS UDP flows," \
    "a TCP stream, a 1 ms UDP probe; results in $SOAK_OUT"
# fw2's daemons under libfaketime for the clock steps (scripts/deps.sh
# installs it).
CLOCK_FILE=$T_DIR/fw2.clock
case " $KINDS " in
*" clockstep "*)
	FT=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
	[ -n "$FT" ] || fail_setup "clockstep needs libfaketime" \
	    "(apt-get install faketime), or leave it out of SOAK_KINDS"
	echo +0 >"$CLOCK_FILE"
	chmod 644 "$CLOCK_FILE"
	LAB_WRAP_fw2="env LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$CLOCK_FILE"
	LAB_WRAP_fw2="$LAB_WRAP_fw2 FAKETIME_CACHE_DURATION=1"
	LAB_WRAP_fw2="$LAB_WRAP_fw2 FAKETIME_DONT_FAKE_MONOTONIC=1"
	LAB_WRAP_fw2="$LAB_WRAP_fw2 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	;;
esac
lab_setup || fail_setup "lab setup failed"
# SOAK_TRACE=1: each firewall logs the packets it drops as invalid (at most
# 500/s) to the kernel log, prefixed "soak FW invalid", for a post-mortem
# of failed new connections (a log from a namespace reaches the kernel log
# only with net.netfilter.nf_log_all_netns=1 in the root namespace: set it
# for such a run and put it back after).
if [ "${SOAK_TRACE:-0}" = 1 ]; then
	for f in fw1 fw2; do
		nsx $f nft insert rule inet filter forward ct state invalid \
		    limit rate 500/second log prefix "\"soak $f invalid \"" ||
		    fail_setup "SOAK_TRACE: the log rule"
	done
fi
# The short connections' server resets a connection idle for 5 s (more
# than the client's timeout), as real servers time idle clients out: one
# whose client gave up in an event, and whose close the firewall dropped
# then, would else stay open there and fail every later connection from
# its client port (SNAT keeps ports), one every minute or so, long after
# the event.
lab_echo_start $SOAK_PORT2 --idle-reset 5000 ||
    fail_setup "second echo server did not start"
lab_churn_tune 10 || fail_setup "sysctls for the short connections"
pair_start || fail_setup "the pair did not start"
for f in fw1 fw2; do
	note_start $f syncd "$(lab_syncd_pid $f)"
	note_start $f carpd "$(lab_carpd_pid $f)"
done
lab_traffic_start long "$SOAK_CONNS" $((SOAK_S + 600)) --quiet \
    --series 100 --dead 15000 --final-wait 20000 \
    --udp-flows "$SOAK_UDP_FLOWS"
LONG_OUT=$LAB_TRAFFIC_OUT LONG_PID=$LAB_TRAFFIC_PID
lab_traffic_ready 60 || fail_setup "the long-lived connections did not come up"
# (not SCHED_FIFO like the other traffic: at this rate it would take the
# CPU the daemons under test need on a small machine)
SHORT_OUT=$T_DIR/short.out
SHORT_PID=$(bg client "$SHORT_OUT" "$TCPCONN" -c "10.0.2.100:$SOAK_PORT2" \
    -n 0 --short "$SOAK_RATE" --short-timeout $SOAK_SHORT_TO --no-stream \
    --no-probe --series 100 -d $((SOAK_S + 600)) --quiet --final-wait 3000)
monitor &
T_PIDS="$T_PIDS $!"
MON_PID=$!
T0=$(now)
echo "$T0" >"$SOAK_OUT/t0"
say "load running; warm-up ${SOAK_WARM} s before the first fault" \
    "(memory baselines are taken after it)"
wait_for 60 lab_stack_synced fw2 "$SOAK_CONNS" ||
    say "warning: fw2 does not hold $SOAK_CONNS states yet"
# the first fault when the warm-up is over
while [ "$(since_ms "$T0")" -lt $((SOAK_WARM * 1000)) ]; do sleep 0.5; done
record "$(now)" "warm-up over (no fault)" 1

guard=0
while [ "$(since_ms "$T0")" -lt $((SOAK_S * 1000)) ] && [ $guard -lt 1000 ]; do
	guard=$((guard + 1))
	loss_off_due
	next_kind
	say "fault: $KIND"
	run_kind "$KIND"
	rnd 3
	sleep $((R + 1))
done
if [ -n "$LOSS_END" ]; then
	LOSS_END=0
	loss_off_due
fi
sleep 3
T_END=$(now)

say "stopping the load: every long-lived connection must answer its last" \
    "message"
kill -USR2 "$LONG_PID" "$SHORT_PID" 2>/dev/null
wait_for 40 grep -q '^RESULT' "$LONG_OUT" || say "no result from the long-lived client"
wait_for 10 grep -q '^RESULT' "$SHORT_OUT" || say "no result from the short connections"
wait_for 20 gone "$LONG_PID" "$SHORT_PID"
# What the network dropped, for a post-mortem of failed new connections:
# each firewall's forward drops and the listen queues of the echo servers.
for f in fw1 fw2; do
	say "  $f forward drops: $(lab_fwd_drops $f | tr ' ' /) (invalid/other)"
done
say "  server: $(nsx server nstat -asz TcpExtListenOverflows \
    TcpExtListenDrops 2>/dev/null | awk 'NR > 1 { printf "%s %s ", $1, $2 }')"
# With the load stopped (its last states expire within the shortened
# TIME_WAIT), what each member holds of the other must match exactly.
say "load stopped: syncd diff must become identical on both (at most 60 s)"
r=$(look exact)
fin=${r%%	*}; r=${r#*	}
fin_ms=${r%%	*}; AG_WHY=${r#*	}
[ "$fin" = 1 ] || fin=0
printf '%s\t%s\t%s\t%s\n' "$fin" "$fin_ms" "$AG_WHY" \
    "${SOAK_FINAL_EXACT:-1}" >"$SOAK_OUT/final.tsv"
say "  $([ $fin = 1 ] && echo identical || echo 'NOT identical') after" \
    "$fin_ms ms: $AG_WHY"
if [ $fin != 1 ]; then
	# what differs, and how each firewall's kernel holds those flows now
	for f in fw1 fw2; do
		cp "$T_DIR/diff-$f" "$SOAK_OUT/final-diff-$f.json" 2>/dev/null
		python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for p in d.get("peers", []):
    for x in p.get("differences", [])[:5]:
        print("%s %s %s" % (x.get("kind"), x.get("state"), x.get("attribute", "")))
' "$T_DIR/diff-$f" | while read -r l; do say "  $f differs: $l"; done
		nsx $f conntrack -L >"$SOAK_OUT/final-conntrack-$f.txt" 2>/dev/null
	done
fi
touch "$T_DIR/stop"
wait "$MON_PID" 2>/dev/null
check_alive
for f in "$T_DIR"/pids/*; do
	n=${f##*/}
	printf '%s\tend\t%s\t%s\t%s\tend of run\n' "$T_END" "${n%-*}" \
	    "${n#*-}" "$(cat "$f")" >>"$DAEMONS"
done
cp "$LONG_OUT" "$SOAK_OUT/long.out"
cp "$SHORT_OUT" "$SOAK_OUT/short.out"
for f in "$T_DIR"/fw?-carpd.log.* "$T_DIR"/fw?-syncd.log.*; do
	[ -e "$f" ] || continue
	mkdir -p "$SOAK_OUT/logs"
	cp "$f" "$SOAK_OUT/logs/"
done

python3 "$TOP/tests/soak/report.py" "$SOAK_OUT" \
    --seed "$SOAK_SEED" --seconds "$SOAK_S" --conns "$SOAK_CONNS" \
    --rate "$SOAK_RATE" --udp-flows "$SOAK_UDP_FLOWS" --warm "$SOAK_WARM" \
    --short-timeout "$SOAK_SHORT_TO" --agree "$SOAK_AGREE_S" \
    --t-end "$T_END" --rss-limit "$SOAK_RSS_LIMIT"

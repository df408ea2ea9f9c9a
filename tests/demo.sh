#!/bin/sh
# tests/demo.sh: what `make demo` runs. A firewall pair in network
# namespaces (tests/lab.sh): carpd + syncd on fw1 and fw2, long-lived TCP
# connections from the client to the server through the pair, then the
# master dies. Shows as it happens which firewall is master, the gap in the
# traffic and how many connections survived; then the same without syncd,
# where they die. Always cleans up. Needs root.
#
# Environment: B (build directory), DEMO_CONNS (default 300).

TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
B=${B:-build}
export B
N=${DEMO_CONNS:-300}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, nftables): sudo make demo" >&2
	exit 1
fi
for x in "$TOP/$B/bin/carpd" "$TOP/$B/bin/syncd" "$TOP/$B/tools/tcpconn"; do
	if [ ! -x "$x" ]; then
		echo "demo: $x is missing (make demo builds it)" >&2
		exit 1
	fi
done

RES=$(mktemp /tmp/carpd-demo.XXXXXX)
trap 'rm -f "$RES"' EXIT
trap 'exit 130' INT TERM HUP

hr() { printf '%s\n' \
    "------------------------------------------------------------------"; }

# part NOSYNC TITLE: one run of the story in a lab of its own (a subshell:
# its trap removes the lab whatever happens).
part() (
	LAB_NOSYNC=$1
	T_PREFIX=demo$$s$1
	. "$TOP/tests/lab.sh"
	say() { lab_log "$*"; }
	stop_watch() {
		touch "$T_DIR/watch.stop"
		[ -n "${wpid:-}" ] && wait "$wpid" 2>/dev/null
		[ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null
		wpid="" tpid=""
	}
	fail() {
		stop_watch
		say "FAILED: $*"
		for f in $(lab_logs); do
			echo "  --- $f"
			tail -12 "$f" | sed 's/^/  | /'
		done
		echo "$LAB_NOSYNC failed - -" >>"$RES"
		exit 1
	}
	# who is master, printed whenever it changes (bounded: 3 minutes)
	watch_master() {
		local last cur i f s
		last="" i=0
		while [ $i -lt 1800 ] && [ ! -e "$T_DIR/watch.stop" ]; do
			cur=""
			for f in fw1 fw2; do
				s=$(lab_carp_states $f)
				case "$s" in
				"MASTER MASTER") s=MASTER ;;
				"BACKUP BACKUP") s=BACKUP ;;
				"") s="down" ;;
				*) s="lan:${s%% *}/wan:${s##* }" ;;
				esac
				cur="$cur $f $s,"
			done
			cur=${cur%,}
			if [ "$cur" != "$last" ]; then
				say "   carp:$cur   (gateway addresses on $(lab_vip_holder))"
				last=$cur
			fi
			sleep 0.1
			i=$((i + 1))
		done
	}

	hr
	say "$2"
	hr
	say "building the lab: namespaces client, fw1, fw2, server (+ two switches)"
	say "  LAN 10.0.1.0/24: client .100, fw1 .2, fw2 .3, virtual gateway .1"
	say "  WAN 10.0.2.0/24: server .100, fw1 .2, fw2 .3, virtual address .1"
	say "  sync link fw1 10.0.3.1 <-> fw2 10.0.3.2"
	say "  ruleset: forward drop; new connections only LAN->WAN (TCP: a bare"
	say "  SYN), invalid dropped, nf_conntrack_tcp_loose=0, SNAT to 10.0.2.1"
	lab_setup || fail "lab setup"
	if [ "$LAB_NOSYNC" = 1 ]; then
		say "starting carpd on fw1 and fw2 (vhid 1 on LAN, vhid 2 on WAN), no syncd"
	else
		say "starting syncd and carpd --sync on fw1 and fw2" \
		    "(vhid 1 on LAN, vhid 2 on WAN)"
	fi
	wpid="" tpid=""
	watch_master &
	wpid=$!
	lab_pair_start || fail "the pair did not elect fw1"
	say "opening $N TCP connections client -> server:$LAB_PORT through the"
	say "gateway, each echoing a message every 100 ms, plus one TCP stream and"
	say "a UDP probe every 1 ms (the gap is the longest pause in their echoes)"
	lab_traffic_start demo "$N" 120 --status 500 --final-wait 6000
	prev="" cnt=0
	tail -n +1 -f --pid="$LAB_TRAFFIC_PID" "$LAB_TRAFFIC_OUT" 2>/dev/null |
	    while IFS= read -r line; do
		# a status line every 500 ms; shown when it changes, or
		# every 2 s
		case "$line" in
		"["*)	cur=${line#*] }
			cnt=$((cnt + 1))
			if [ "$cur" != "$prev" ] || [ $cnt -ge 4 ]; then
				say "   traffic: $cur"
				prev=$cur cnt=0
			fi ;;
		esac
	    done &
	tpid=$!
	lab_traffic_ready 30 || fail "the connections did not come up"
	say "all $N connections are up through fw1"
	if [ "$LAB_NOSYNC" != 1 ]; then
		wait_for 20 lab_stack_synced fw2 "$N" ||
		    say "(fw2's syncd does not hold all $N states yet)"
		say "fw2's syncd holds $(lab_syncd_val fw2 external) states learned from fw1"
	else
		say "fw2 knows nothing of them: $(nsx fw2 conntrack -L -p tcp \
		    --dport $LAB_PORT 2>/dev/null | wc -l) TCP states in its table"
	fi
	sleep 3
	lab_traffic_mark
	hr
	if [ "$LAB_NOSYNC" = 1 ]; then
		daemons="carpd"
	else
		daemons="carpd and syncd"
	fi
	say ">>> fw1 crashes: frozen, all its links cut, $daemons killed -9"
	hr
	lab_crash fw1
	say "    (fw2 waits for the master-down timer: 3 x advbase + advskew/256 ="
	say "    3 x 1 s + 50/256 s, then takes over)"
	wait_for 15 lab_stack_is_master fw2 || fail "fw2 did not take over"
	say ">>> fw2 is MASTER and holds the gateway addresses;" \
	    "$(nsx fw2 conntrack -L -p tcp --dport $LAB_PORT 2>/dev/null |
	    wc -l) TCP states in its table"
	sleep 8
	lab_traffic_mark
	say "stopping the traffic: every connection must answer its last message"
	kill -USR2 "$LAB_TRAFFIC_PID" 2>/dev/null
	lab_traffic_wait 30 || fail "no result from the traffic"
	stop_watch
	alive=$(lab_result alive)
	gap=$(lab_mark_val 1 udp_gap_ms)
	tgap=$(lab_mark_val 1 tcp_gap_ms)
	hr
	say "RESULT: $alive of $N connections survived; traffic gap" \
	    "${gap} ms (TCP stream ${tgap} ms, stream $(lab_result stream))"
	echo "$LAB_NOSYNC $alive $gap" >>"$RES"
)

echo "carpd + syncd failover demo ($N connections; about two minutes)"
part 0 "1. carpd + syncd: the master dies"
part 1 "2. the control: carpd alone, no syncd"
hr
echo "Summary"
while read -r nosync alive gap; do
	if [ "$nosync" = 0 ]; then w="carpd + syncd    "; else
	    w="carpd, no syncd  "; fi
	if [ "$alive" = failed ]; then
		echo "  $w: the run failed (see above)"
	else
		echo "  $w: $alive of $N connections survived the crash of" \
		    "the master (gap $gap ms)"
	fi
done <"$RES"
echo "With the states synced, the backup takes the connections over; without"
echo "them the strict ruleset drops every packet of the old connections."
hr

# tests/lab.sh: the firewall-pair lab (sourced by the failover tests, the
# demo and the benchmark).
#
# Topology (every name carries the per-run prefix, nothing touches the root
# namespace):
#
#          10.0.1.0/24                            10.0.2.0/24
#   client --[lan sw]--+-- lan .2 [fw1] wan .2 --+--[wan sw]-- server
#    .100              +-- lan .3 [fw2] wan .3 --+              .100
#   virtual .1 on both segments (the LAN's gateway; the SNAT address);
#   sync cable fw1 10.0.3.1 <-> fw2 10.0.3.2 (LAB_SYNC_SW=1: a switch,
#   ssw, where lab_sync_node adds more members)
#
# The switches are bridges in namespaces of their own, so "the master loses
# all its links" is done on the switch ports without touching the firewall.
# The firewalls forward with a strict stateful ruleset: new connections only
# from the LAN (TCP only with a bare SYN), nf_conntrack_tcp_loose=0, SNAT to
# the virtual WAN address 10.0.2.1 so both firewalls translate alike, and
# invalid packets dropped in forward and input. Sync-link traffic and CARP /
# VRRP (IP protocol 112) are not tracked, so there is nothing of theirs to
# replicate.
#
# Either source tests/netns/lib.sh first (the tests: its ns helpers, TAP
# counters and cleanup are used), or source this alone with TOP set (demo,
# bench: a minimal set of helpers and a cleanup trap are defined here).

: "${TOP:?TOP must be the top of the tree}"
LAB_B=${B:-build}
CARPD=${CARPD:-$TOP/$LAB_B/bin/carpd}
SYNCD=${SYNCD:-$TOP/$LAB_B/bin/syncd}
TOOLS=${TOOLS:-$TOP/$LAB_B/tools}
TCPCONN=${TCPCONN:-$TOOLS/tcpconn}
KEEPALIVED=${KEEPALIVED:-$(command -v keepalived || echo /usr/sbin/keepalived)}
CONNTRACKD=${CONNTRACKD:-$(command -v conntrackd || echo /usr/sbin/conntrackd)}

LAB_PORT=5001		# echo server, TCP and UDP
LAB_SYNC_PORT=8370	# syncd (given explicitly)
LAB_CTD_PORT=3780	# conntrackd

# Debian's python3 first: a per-user interpreter shim earlier in PATH
# (pyenv's) costs 0.4 s a start, seconds on a loaded machine, and lacks
# the modules Debian installs (python3-prometheus-client).
case ":$PATH:" in :/usr/bin:*) ;; *) PATH=/usr/bin:$PATH; export PATH ;; esac

if ! command -v ns_add >/dev/null 2>&1; then
	# Standalone: the helpers tests/netns/lib.sh would provide.
	T_PREFIX=${T_PREFIX:-lab$$}
	T_DIR=$(mktemp -d /tmp/fwlab.XXXXXX)
	T_NS=""
	T_PIDS=""
	ns() { echo "${T_PREFIX}$1"; }
	ns_add() {
		local n
		for n in "$@"; do
			ip netns add "$(ns "$n")" || return 1
			T_NS="$T_NS $(ns "$n")"
			ip -n "$(ns "$n")" link set lo up
		done
	}
	nsx() { n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
	bg() {
		local n l
		n=$1; l=$2; shift 2
		ip netns exec "$(ns "$n")" "$@" >"$l" 2>&1 &
		T_PIDS="$T_PIDS $!"
		echo $!
	}
	wait_for() {
		local lim i n
		lim=$1; shift
		i=0; n=$((lim * 20))
		while [ $i -lt $n ]; do
			"$@" >/dev/null 2>&1 && return 0
			sleep 0.05
			i=$((i + 1))
		done
		return 1
	}
	. "$TOP/tests/pid.sh"
	cleanup() {
		local p n
		for p in $T_PIDS; do kill "$p" 2>/dev/null; done
		sleep 0.2
		for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
		for n in $T_NS; do
			ip netns pids "$n" 2>/dev/null | xargs -r kill -9 \
			    2>/dev/null
			ip netns del "$n" 2>/dev/null
		done
		T_NS=""
		T_PIDS=""
		[ -n "${T_KEEP:-}" ] || rm -rf "$T_DIR"
	}
	trap 'cleanup' EXIT
	trap 'exit 130' INT TERM HUP
else
	# Under tests/netns/lib.sh: a directory of our own, with a name no
	# other suite's leftover-cleaning matches (lib.sh's cleanup removes
	# whatever T_DIR names at the end).
	rmdir "$T_DIR" 2>/dev/null
	T_DIR=$(mktemp -d /tmp/fwlab.XXXXXX)
fi

# lab_log MSG: a timestamped line (seconds since the lab started).
LAB_T0=$(date +%s.%N)
lab_log() {
	local a b
	printf '[%7.2fs] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$LAB_T0" \
	    'BEGIN { print a - b }')" "$*"
}

# lab_other fw1 -> fw2
lab_other() { [ "$1" = fw1 ] && echo fw2 || echo fw1; }
lab_idx() { [ "$1" = fw1 ] && echo 1 || echo 2; }

# lab_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces.
lab_veth() {
	ip link add "$2" netns "$(ns "$1")" type veth peer name "$4" \
	    netns "$(ns "$3")" || return 1
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns "$3")" link set "$4" up
}

# lab_setup: build the topology, load the rulesets, start the echo server.
lab_setup() {
	local sw f i
	# Daemons running as LAB_USER reach each other's control sockets
	# in T_DIR (carpd connects to syncd's): it may be passed through.
	[ -z "$LAB_USER" ] || chmod 711 "$T_DIR" || return 1
	ns_add client fw1 fw2 server lsw wsw || return 1
	[ "${LAB_SYNC_SW:-0}" != 1 ] || ns_add ssw || return 1
	for sw in lsw wsw $([ "${LAB_SYNC_SW:-0}" != 1 ] || echo ssw); do
		ip -n "$(ns $sw)" link add br0 type bridge \
		    forward_delay 0 stp_state 0 || return 1
		ip -n "$(ns $sw)" link set br0 up
	done
	lab_veth client eth0 lsw c || return 1
	lab_veth server eth0 wsw s || return 1
	for f in fw1 fw2; do
		i=$(lab_idx $f)
		lab_veth $f lan lsw f$i || return 1
		lab_veth $f wan wsw f$i || return 1
		ip -n "$(ns lsw)" link set f$i master br0
		ip -n "$(ns wsw)" link set f$i master br0
		ip -n "$(ns $f)" addr add 10.0.1.$((i + 1))/24 dev lan
		ip -n "$(ns $f)" addr add 10.0.2.$((i + 1))/24 dev wan
	done
	ip -n "$(ns lsw)" link set c master br0
	ip -n "$(ns wsw)" link set s master br0
	if [ "${LAB_SYNC_SW:-0}" = 1 ]; then
		for f in fw1 fw2; do
			i=$(lab_idx $f)
			lab_veth $f sync ssw f$i || return 1
			ip -n "$(ns ssw)" link set f$i master br0
		done
	else
		lab_veth fw1 sync fw2 sync || return 1
	fi
	ip -n "$(ns fw1)" addr add 10.0.3.1/24 dev sync
	ip -n "$(ns fw2)" addr add 10.0.3.2/24 dev sync

	# Hosts. A small rto_min (iproute2 locks it) on both ends, so TCP retransmits
	# soon after the path is back and the gap TCP sees is close to the
	# gap in forwarding (the default 200 ms floor would hide it).
	ip -n "$(ns client)" addr add 10.0.1.100/24 dev eth0
	ip -n "$(ns client)" route add default via 10.0.1.1 \
	    rto_min 5ms || return 1
	ip -n "$(ns server)" addr add 10.0.2.100/24 dev eth0
	ip -n "$(ns server)" route replace 10.0.2.0/24 dev eth0 \
	    src 10.0.2.100 rto_min 5ms || return 1

	for f in fw1 fw2; do
		lab_fw_sysctl $f || return 1
		lab_nft $f || return 1
	done
	LAB_SERVER_PID=$(bg server "$T_DIR/server.log" "$TCPCONN" \
	    -l 0.0.0.0:$LAB_PORT --rt)
	wait_for 5 grep -q LISTENING "$T_DIR/server.log" || {
		echo "lab: echo server did not start" >&2
		cat "$T_DIR/server.log" >&2
		return 1
	}
}

# lab_sync_node NAME ADDR: one more host on the sync switch (LAB_SYNC_SW=1),
# ADDR/24 on its interface "sync", e.g. a third syncd.
lab_sync_node() {
	ns_add "$1" || return 1
	lab_veth "$1" sync ssw "$1" || return 1
	ip -n "$(ns ssw)" link set "$1" master br0
	ip -n "$(ns "$1")" addr add "$2/24" dev sync
}

# lab_echo_start PORT [SERVER-OPTIONS]: one more echo server on the server
# (TCP and UDP).
lab_echo_start() {
	local port
	port=$1; shift
	bg server "$T_DIR/server-$port.log" "$TCPCONN" -l "0.0.0.0:$port" \
	    --rt "$@" >/dev/null
	wait_for 5 grep -q LISTENING "$T_DIR/server-$port.log"
}

# lab_churn_tune TIME_WAIT: for many short connections a second: the
# client reuses its TIME_WAIT ports and has a wide port range; the
# firewalls keep closed TCP states TIME_WAIT seconds (default 120), so the
# conntrack tables stay small. All per namespace.
lab_churn_tune() {
	nsx client sysctl -qw net.ipv4.tcp_tw_reuse=1 \
	    net.ipv4.ip_local_port_range="10000 65000" || return 1
	nsx fw1 sysctl -qw \
	    net.netfilter.nf_conntrack_tcp_timeout_time_wait="$1" &&
	    nsx fw2 sysctl -qw \
	    net.netfilter.nf_conntrack_tcp_timeout_time_wait="$1"
}

lab_fw_sysctl() {
	nsx "$1" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	    net.ipv4.conf.lan.rp_filter=0 net.ipv4.conf.wan.rp_filter=0 \
	    net.ipv4.conf.sync.rp_filter=0 || return 1
}

# lab_nft FW: the strict ruleset (also loads conntrack in the namespace),
# then nf_conntrack_tcp_loose=0, checked.
lab_nft() {
	nsx "$1" nft -f - <<'EOF' || return 1
flush ruleset
table inet raw {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifname "sync" notrack
		meta l4proto 112 notrack
	}
	chain output {
		type filter hook output priority raw; policy accept;
		oifname "sync" notrack
		meta l4proto 112 notrack
	}
}
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		iifname "sync" accept
		meta l4proto 112 accept
		ct state invalid counter drop
		ct state established,related accept
		meta l4proto icmp accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid counter drop
		ct state established,related accept
		iifname "lan" oifname "wan" ct state new tcp flags & (syn | ack | fin | rst) == syn accept
		iifname "lan" oifname "wan" ct state new meta l4proto { udp, icmp } accept
		counter comment "dropped: not from the LAN or not a SYN"
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" snat to 10.0.2.1
	}
}
EOF
	nsx "$1" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 || return 1
	[ "$(nsx "$1" sysctl -n net.netfilter.nf_conntrack_tcp_loose)" = 0 ]
}

# lab_loss FW PERCENT: drop PERCENT % of what arrives on FW's sync link
# (nftables, before conntrack). 0 removes it.
lab_loss() {
	nsx "$1" nft delete table inet lab_loss 2>/dev/null
	[ "$2" -gt 0 ] || return 0
	nsx "$1" nft -f - <<EOF
table inet lab_loss {
	chain in {
		type filter hook prerouting priority -400; policy accept;
		iifname "sync" numgen random mod 100 < $2 counter drop
	}
}
EOF
}

# lab_sync_block FW on|off: drop everything on FW's sync link (both ways).
lab_sync_block() {
	nsx "$1" nft delete table inet lab_block 2>/dev/null
	[ "$2" = on ] || return 0
	nsx "$1" nft -f - <<'EOF'
table inet lab_block {
	chain in {
		type filter hook prerouting priority -400; policy accept;
		iifname "sync" counter drop
	}
	chain out {
		type filter hook output priority -400; policy accept;
		oifname "sync" counter drop
	}
}
EOF
}

# lab_links FW down|up: FW loses (or gets back) all its links at once: its
# LAN and WAN switch ports and its end of the sync link.
lab_links() {
	local i
	i=$(lab_idx "$1")
	ip -n "$(ns lsw)" link set f$i "$2"
	ip -n "$(ns wsw)" link set f$i "$2"
	ip -n "$(ns "$1")" link set sync "$2"
}

# lab_conntrack_count FW: conntrack entries in FW's table.
lab_conntrack_count() {
	nsx "$1" conntrack -C 2>/dev/null || echo 0
}

# lab_has_vip FW: FW holds both virtual addresses.
lab_has_vip() {
	nsx "$1" ip -4 addr show dev lan | grep -q 'inet 10\.0\.1\.1/' &&
	    nsx "$1" ip -4 addr show dev wan | grep -q 'inet 10\.0\.2\.1/'
}

# lab_vip_holder: which firewall holds the LAN virtual address ("fw1",
# "fw2", "both", "none"); a crashed box does not count.
lab_vip_holder() {
	local h f
	h=""
	for f in fw1 fw2; do
		lab_down $f && continue
		nsx $f ip -4 addr show dev lan 2>/dev/null |
		    grep -q 'inet 10\.0\.1\.1/' && h="$h $f"
	done
	case "$h" in
	" fw1") echo fw1 ;;
	" fw2") echo fw2 ;;
	"") echo none ;;
	*) echo both ;;
	esac
}

# ---------------------------------------------------------------- traffic

# lab_traffic_start NAME N DURATION [tcpconn options...]: start the client
# (N connections, run for DURATION s); output in $T_DIR/NAME.out.
lab_traffic_start() {
	local name n d
	name=$1; n=$2; d=$3; shift 3
	LAB_TRAFFIC_OUT=$T_DIR/$name.out
	LAB_TRAFFIC_PID=$(bg client "$LAB_TRAFFIC_OUT" "$TCPCONN" \
	    -c 10.0.2.100:$LAB_PORT -n "$n" -d "$d" --rt "$@")
}

# lab_traffic_ready SECONDS: wait until every connection answered once.
lab_traffic_ready() {
	wait_for "$1" grep -q '^READY' "$LAB_TRAFFIC_OUT"
}

# lab_traffic_mark: close a measuring phase (gaps since the last mark).
lab_traffic_mark() {
	kill -USR1 "$LAB_TRAFFIC_PID" 2>/dev/null
	sleep 0.1
}

# lab_traffic_stop: end the run (final check) and wait for the result.
lab_traffic_stop() {
	kill -USR2 "$LAB_TRAFFIC_PID" 2>/dev/null
	lab_traffic_wait 60
}

# lab_traffic_wait SECONDS: wait for the result line.
lab_traffic_wait() {
	wait_for "$1" grep -q '^RESULT' "$LAB_TRAFFIC_OUT"
}

# lab_result KEY: a value from the RESULT line.
lab_result() {
	sed -n "s/^RESULT.* $1=\([^ ]*\).*/\1/p" "$LAB_TRAFFIC_OUT" | tail -1
}

# lab_mark_val N KEY: a value from the MARK line n=N.
lab_mark_val() {
	local n
	sed -n "s/^MARK n=$1 .*$2=\([^ ]*\).*/\1/p" "$LAB_TRAFFIC_OUT" |
	    tail -1
}

# ---------------------------------------------------------------- carpd, syncd

# Settings (override before lab_start_*):
LAB_ADVBASE=${LAB_ADVBASE:-1}
LAB_SKEW1=${LAB_SKEW1:-0}	# fw1, the preferred master
LAB_SKEW2=${LAB_SKEW2:-50}
LAB_PREEMPT=${LAB_PREEMPT:-1}
LAB_PASS=${LAB_PASS:-labsecret}
# Both daemons drop to this user after opening their sockets (--user);
# LAB_USER= (empty) runs them as root throughout.
LAB_USER=${LAB_USER-nobody}
# LAB_SYNCD_CONF=1: syncd reads its settings from a file (lab_syncd_conf),
# which a test may rewrite and reload with SIGHUP; LAB_SYNC_SW=1 (before
# lab_setup): the sync link is a switch, for more syncd members.

# lab_user_opt: the --user option, or nothing.
lab_user_opt() { [ -z "$LAB_USER" ] || echo "--user $LAB_USER"; }

# lab_carpd_conf FW: carpd.conf for FW's two vhids (LAN 1, WAN 2);
# LAB_VHID_EXTRA: more lines for each vhid block (e.g. scripts), @FW@ in
# them standing for FW.
lab_carpd_conf() {
	local f i skew c v ifc net
	f=$1; i=$(lab_idx "$f")
	eval skew=\$LAB_SKEW$i
	c=$T_DIR/$f-carpd.conf
	{
		echo "# carpd.conf for $f in the failover lab"
		for v in 1 2; do
			if [ $v = 1 ]; then
				ifc=lan; net=10.0.1
			else
				ifc=wan; net=10.0.2
			fi
			echo "vhid $v {"
			echo "	interface $ifc"
			echo "	srcip $net.$((i + 1))"
			echo "	addr $net.1/24"
			echo "	pass $LAB_PASS"
			echo "	advbase $LAB_ADVBASE"
			echo "	advskew $skew"
			[ "$LAB_PREEMPT" = 1 ] && echo "	preempt yes"
			[ -z "${LAB_VHID_EXTRA:-}" ] ||
			    printf '%s\n' "$LAB_VHID_EXTRA" | sed "s/@FW@/$f/g"
			echo "}"
		done
	} >"$c"
	echo "$c"
}

# lab_syncd_peer FW: the other firewall's sync address.
lab_syncd_peer() { [ "$1" = fw1 ] && echo 10.0.3.2 || echo 10.0.3.1; }

# lab_syncd_conf FW: syncd.conf for FW, the settings lab_start_syncd
# otherwise gives on the command line; LAB_SYNCD_EXTRA: more lines (e.g.
# peers, policy). Written beside and moved in place, as an editor does,
# so that a running syncd can be sent SIGHUP after a rewrite.
lab_syncd_conf() {
	local c
	c=$T_DIR/$1-syncd.conf
	{
		echo "# syncd.conf for $1 in the failover lab"
		echo "interface sync"
		echo "peer $(lab_syncd_peer "$1")"
		echo "port $LAB_SYNC_PORT"
		echo "key $T_DIR/sync.key"
		echo "control $T_DIR/$1-syncd.sock"
		[ -z "${LAB_SYNCD_EXTRA:-}" ] ||
		    printf '%s\n' "$LAB_SYNCD_EXTRA"
	} >"$c.new" && mv "$c.new" "$c" && echo "$c"
}

# lab_wrap FW: what FW's daemons are started under, from LAB_WRAP_FW (a
# command and its arguments without spaces in them, e.g. env VAR=x ...;
# empty by default).
lab_wrap() {
	eval "echo \${LAB_WRAP_$1:-}"
}

# lab_start_syncd FW [extra options]: start FW's syncd; with
# LAB_SYNCD_CONF=1 from a file (lab_syncd_conf), else from the command
# line.
lab_start_syncd() {
	local f log p c
	f=$1; shift
	# one log file per start; $f-syncd.log points at the newest
	log=$T_DIR/$f-syncd.log.$(date +%s%N)
	rm -f "$T_DIR/$f-syncd.sock"
	# the group key of the lab, made once (mode 0600; syncd reads it
	# before it drops to the user)
	[ -s "$T_DIR/sync.key" ] ||
	    (umask 077 && "$SYNCD" genkey >"$T_DIR/sync.key")
	if [ "${LAB_SYNCD_CONF:-0}" = 1 ]; then
		c=$(lab_syncd_conf "$f") || return 1
		set -- -c "$c" "$@"
	else
		set -- --interface sync --peer "$(lab_syncd_peer "$f")" \
		    --port $LAB_SYNC_PORT --control "$T_DIR/$f-syncd.sock" \
		    --key "$T_DIR/sync.key" "$@"
	fi
	# shellcheck disable=SC2046
	p=$(bg $f "$log" $(lab_wrap $f) "$SYNCD" "$@" $(lab_user_opt))
	eval "LAB_SYNCD_PID_$f=$p"
	ln -sf "$log" "$T_DIR/$f-syncd.log"
	wait_for 5 test -S "$T_DIR/$f-syncd.sock"
}

# lab_start_carpd FW [extra options]: start FW's carpd (with --sync unless
# LAB_NOSYNC=1).
lab_start_carpd() {
	local f conf log p
	f=$1; shift
	conf=$(lab_carpd_conf "$f")
	if [ "${LAB_NOSYNC:-0}" = 1 ]; then
		set -- "$@"
	else
		set -- --sync "$T_DIR/$f-syncd.sock" "$@"
	fi
	log=$T_DIR/$f-carpd.log.$(date +%s%N)
	rm -f "$T_DIR/$f-carpd.sock"
	# shellcheck disable=SC2046
	p=$(bg $f "$log" $(lab_wrap $f) "$CARPD" -c "$conf" \
	    --control "$T_DIR/$f-carpd.sock" $(lab_user_opt) "$@")
	eval "LAB_CARPD_PID_$f=$p"
	ln -sf "$log" "$T_DIR/$f-carpd.log"
	wait_for 5 test -S "$T_DIR/$f-carpd.sock"
}

# lab_runs_as_user: every carpd and syncd of the lab runs as LAB_USER.
lab_runs_as_user() {
	local f p u
	u=$(id -u "$LAB_USER") || return 1
	for f in fw1 fw2; do
		for p in $(lab_carpd_pid $f) $(lab_syncd_pid $f); do
			grep -q "^Uid:[[:space:]]*$u[[:space:]]" \
			    "/proc/$p/status" || return 1
		done
	done
}

lab_carpd_pid() { eval echo "\${LAB_CARPD_PID_$1:-}"; }
lab_syncd_pid() { eval echo "\${LAB_SYNCD_PID_$1:-}"; }

# lab_kill SIGNAL PID: signal a process we started and wait for it to go.
lab_kill() {
	local i
	[ -n "$2" ] || return 0
	kill "-$1" "$2" 2>/dev/null
	i=0
	while alive "$2" && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	alive "$2" && kill -9 "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	return 0
}

# lab_carp_status FW: `carpd status --json`.
lab_carp_status() {
	nsx "$1" "$CARPD" status --json --control "$T_DIR/$1-carpd.sock" \
	    2>/dev/null
}

# lab_carp_states FW: the state of each vhid, e.g. "MASTER MASTER".
lab_carp_states() {
	lab_carp_status "$1" | grep -o '"state": *"[A-Z]*"' |
	    sed 's/.*"\([A-Z]*\)"$/\1/' | tr '\n' ' ' | sed 's/ $//'
}

# lab_is_master FW: every vhid of FW is MASTER (and it holds the addresses).
lab_is_master() {
	[ "$(lab_carp_states "$1")" = "MASTER MASTER" ] && lab_has_vip "$1"
}

lab_is_backup() {
	[ "$(lab_carp_states "$1")" = "BACKUP BACKUP" ]
}

# lab_syncd_status FW: `syncd status --json`.
lab_syncd_status() {
	nsx "$1" "$SYNCD" status --json --control "$T_DIR/$1-syncd.sock" \
	    2>/dev/null
}

# lab_syncd_val FW KEY: a top-level number or string from syncd status.
lab_syncd_val() {
	lab_syncd_status "$1" | grep -o "\"$2\": *\"*[^,\"}]*" | head -1 |
	    sed 's/.*: *"*//'
}

lab_bulk_done() { [ "$(lab_syncd_val "$1" bulk)" = done ]; }

# lab_external_at_least FW N: FW's syncd holds at least N peer states.
lab_external_at_least() {
	local v
	v=$(lab_syncd_val "$1" external)
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

# lab_pair_start: carpd + syncd on both firewalls, fw1 first so it becomes
# master; wait until fw1 is MASTER and fw2 BACKUP. LAB_NOSYNC=1: carpd
# alone, without syncd (the control).
lab_pair_start() {
	local f
	for f in fw1 fw2; do
		if [ "${LAB_NOSYNC:-0}" != 1 ]; then
			lab_start_syncd $f ||
			    { lab_why "$f's syncd: no control socket"; return 1; }
		fi
	done
	lab_start_carpd fw1 ||
	    { lab_why "fw1's carpd: no control socket"; return 1; }
	if [ "${LAB_NOSYNC:-0}" != 1 ]; then
		wait_for 20 lab_bulk_done fw1 || true
	fi
	wait_for 20 lab_is_master fw1 ||
	    { lab_why "fw1 did not become MASTER"; return 1; }
	lab_start_carpd fw2 ||
	    { lab_why "fw2's carpd: no control socket"; return 1; }
	wait_for 20 lab_is_backup fw2 ||
	    { lab_why "fw2 did not become BACKUP"; return 1; }
	if [ "${LAB_NOSYNC:-0}" != 1 ]; then
		wait_for 20 lab_bulk_done fw2 ||
		    { lab_why "fw2's bulk sync did not finish"; return 1; }
	fi
}

# lab_why MSG: say why a step failed (a TAP comment; stderr is the log).
lab_why() { echo "# lab: $*"; }

# lab_master: which firewall is MASTER by carpd ("fw1", "fw2", "none",
# "both").
lab_master() {
	local m f
	m=""
	for f in fw1 fw2; do
		case "$(lab_carp_states $f)" in
		*MASTER*) m="$m $f" ;;
		esac
	done
	case "$m" in
	" fw1") echo fw1 ;;
	" fw2") echo fw2 ;;
	"") echo none ;;
	*) echo both ;;
	esac
}

# lab_freeze FW: FW stops dead: every frame in and out of its links
# dropped at one instant (one nftables transaction: forwarding and its
# daemons' packets stop together, as when a box loses power; taking the
# links down one by one let it forward for milliseconds after its
# daemons had gone silent, which shortened a measured crash gap), every
# process in its namespace frozen (so none of them can react: no bow-out,
# no link-down demotion), then every link gone. The addresses stay on the
# dead box's interfaces, as they would. Its daemons can be sent SIGTERM
# and SIGCONT afterwards to see them stop cleanly.
lab_freeze() {
	local pids d
	d='{ "lan", "wan", "sync" } priority -500; policy drop;'
	nsx "$1" nft -f - <<-EOF
	table netdev labcut {
		chain in { type filter hook ingress devices = $d }
		chain out { type filter hook egress devices = $d }
	}
	EOF
	pids=$(ip netns pids "$(ns "$1")" 2>/dev/null)
	[ -n "$pids" ] && kill -STOP $pids 2>/dev/null
	lab_links "$1" down
	touch "$T_DIR/down-$1"
}

# lab_crash FW: FW dies at once as after a power cut: frozen, its links
# gone (lab_freeze), then its processes killed -9 and its conntrack table
# forgotten (by lab_revive).
lab_crash() {
	local pids
	lab_freeze "$1"
	pids=$(ip netns pids "$(ns "$1")" 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
}

# lab_down FW: FW crashed and has not been revived.
lab_down() { [ -e "$T_DIR/down-$1" ]; }

# lab_watch_start FW FILE: sample FW's vhid states every 50 ms into FILE
# (one line per sample; bounded: 2 minutes), until lab_watch_stop FW.
lab_watch_start() {
	rm -f "$T_DIR/watch-$1.stop"
	(
		i=0
		while [ $i -lt 2400 ] && [ -d "$T_DIR" ] &&
		    [ ! -e "$T_DIR/watch-$1.stop" ]; do
			echo "$(lab_carp_states "$1")" >>"$2"
			sleep 0.05
			i=$((i + 1))
		done
	) &
	LAB_WATCH_PID=$!
}

lab_watch_stop() {
	touch "$T_DIR/watch-$1.stop"
	wait "$LAB_WATCH_PID" 2>/dev/null
}

# lab_together FILE: the samples saw both vhids MASTER, and never one
# MASTER without the other.
lab_together() {
	grep -q '^MASTER MASTER$' "$1" &&
	    ! grep 'MASTER' "$1" | grep -qv '^MASTER MASTER$'
}

# lab_revive FW: FW comes back after a crash: empty conntrack table, the
# virtual addresses gone, links up. Daemons are started by the caller.
lab_revive() {
	rm -f "$T_DIR/down-$1"
	nsx "$1" nft delete table netdev labcut 2>/dev/null
	nsx "$1" conntrack -F >/dev/null 2>&1
	nsx "$1" ip addr del 10.0.1.1/24 dev lan 2>/dev/null
	nsx "$1" ip addr del 10.0.2.1/24 dev wan 2>/dev/null
	lab_links "$1" up
}

# ------------------------------------------------- keepalived + conntrackd

LAB_KA_ADVERT=${LAB_KA_ADVERT:-1}	# seconds; < 1 switches to VRRPv3
LAB_KA_PRIO1=${LAB_KA_PRIO1:-250}
# priority 206: skew (256-206)/256 s, the same as CARP advskew 50
LAB_KA_PRIO2=${LAB_KA_PRIO2:-206}

lab_ka_pid() { eval echo "\${LAB_KA_PID_$1:-}"; }
lab_ctd_pid() { eval echo "\${LAB_CTD_PID_$1:-}"; }

# lab_conntrackd_conf FW
lab_conntrackd_conf() {
	local f i me peer c
	f=$1; i=$(lab_idx "$f")
	if [ "$i" = 1 ]; then me=10.0.3.1; peer=10.0.3.2; else
	    me=10.0.3.2; peer=10.0.3.1; fi
	c=$T_DIR/$f-conntrackd.conf
	cat >"$c" <<EOF
Sync {
	Mode FTFW {
		ResendQueueSize 131072
	}
	UDP {
		IPv4_address $me
		IPv4_Destination_Address $peer
		Port $LAB_CTD_PORT
		Interface sync
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 32768
	HashLimit 131072
	LogFile $T_DIR/$f-conntrackd.file.log
	Syslog off
	LockFile $T_DIR/$f-conntrackd.lock
	UNIX {
		Path $T_DIR/$f-conntrackd.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Userspace {
		Protocol Accept {
			TCP
			UDP
			ICMP
		}
		Address Ignore {
			IPv4_address 127.0.0.1
			IPv4_address 10.0.3.0/24
		}
	}
}
EOF
	echo "$c"
}

# lab_keepalived_conf FW: two VRRP instances (LAN, WAN) in one sync group;
# the notify script drives conntrackd the way its primary-backup.sh does,
# unless LAB_NOSYNC=1.
lab_keepalived_conf() {
	local f i prio c n ctd a ver v name ifc net
	f=$1; i=$(lab_idx "$f")
	eval prio=\$LAB_KA_PRIO$i
	c=$T_DIR/$f-keepalived.conf
	n=$T_DIR/$f-notify.sh
	ctd="$CONNTRACKD -C $T_DIR/$f-conntrackd.conf"
	if [ "${LAB_NOSYNC:-0}" = 1 ]; then
		printf '#!/bin/sh\necho "$(date +%%s.%%N) $1" >>%s\n' \
		    "$T_DIR/$f-notify.log" >"$n"
	else
		cat >"$n" <<EOF
#!/bin/sh
# conntrackd's primary-backup.sh, in short
echo "\$(date +%s.%N) \$1" >>$T_DIR/$f-notify.log
case "\$1" in
primary)
	$ctd -c
	$ctd -f
	$ctd -R
	$ctd -B
	;;
backup)
	$ctd -t
	$ctd -n
	;;
fault)
	$ctd -t
	;;
esac
echo "\$(date +%s.%N) \$1 done" >>$T_DIR/$f-notify.log
EOF
	fi
	chmod 755 "$n"
	if awk -v a="$LAB_KA_ADVERT" 'BEGIN { exit !(a < 1) }'; then
		ver=3
	else
		ver=2
	fi
	{
		echo "global_defs {"
		echo "	router_id $f"
		echo "	script_user root"
		echo "	enable_script_security"
		echo "	vrrp_version $ver"
		echo "	vrrp_garp_master_repeat 1"
		echo "	vrrp_garp_master_delay 0"
		echo "}"
		echo "vrrp_sync_group G {"
		echo "	group {"
		echo "		LAN"
		echo "		WAN"
		echo "	}"
		echo "	notify_master \"$n primary\""
		echo "	notify_backup \"$n backup\""
		echo "	notify_fault \"$n fault\""
		echo "}"
		for v in 1 2; do
			if [ $v = 1 ]; then
				name=LAN; ifc=lan; net=10.0.1
			else
				name=WAN; ifc=wan; net=10.0.2
			fi
			echo "vrrp_instance $name {"
			echo "	state BACKUP"
			echo "	interface $ifc"
			echo "	virtual_router_id $v"
			echo "	priority $prio"
			echo "	advert_int $LAB_KA_ADVERT"
			[ "$LAB_PREEMPT" = 1 ] || echo "	nopreempt"
			echo "	virtual_ipaddress {"
			echo "		$net.1/24 dev $ifc"
			echo "	}"
			echo "}"
		done
	} >"$c"
	echo "$c"
}

lab_start_conntrackd() {
	local f c p
	f=$1
	c=$(lab_conntrackd_conf "$f")
	rm -f "$T_DIR/$f-conntrackd.lock"
	p=$(bg $f "$T_DIR/$f-conntrackd.log" "$CONNTRACKD" -C "$c")
	eval "LAB_CTD_PID_$f=$p"
	wait_for 5 test -S "$T_DIR/$f-conntrackd.ctl"
}

lab_start_keepalived() {
	local f c p
	f=$1
	c=$(lab_keepalived_conf "$f")
	p=$(bg $f "$T_DIR/$f-keepalived.log" "$KEEPALIVED" -n -l -D -P \
	    -f "$c" -p "$T_DIR/$f-ka.pid" -r "$T_DIR/$f-ka-vrrp.pid" \
	    -c "$T_DIR/$f-ka-chk.pid")
	eval "LAB_KA_PID_$f=$p"
}

# lab_ka_master FW: FW holds both virtual addresses and its notify script
# ran "primary" last (keepalived has no status command).
lab_ka_master() {
	lab_has_vip "$1" &&
	    tail -1 "$T_DIR/$1-notify.log" 2>/dev/null | grep -q primary
}

lab_ka_backup() {
	! lab_has_vip "$1" &&
	    tail -1 "$T_DIR/$1-notify.log" 2>/dev/null | grep -q backup
}

# lab_ka_pair_start: conntrackd (unless LAB_NOSYNC=1) and keepalived on both
# firewalls; fw1 master, fw2 backup.
lab_ka_pair_start() {
	local f
	for f in fw1 fw2; do
		if [ "${LAB_NOSYNC:-0}" != 1 ]; then
			lab_start_conntrackd $f || return 1
		fi
	done
	lab_start_keepalived fw1
	wait_for 20 lab_ka_master fw1 || return 1
	lab_start_keepalived fw2
	wait_for 20 lab_ka_backup fw2 || return 1
}

# lab_ka_master_name: fw1/fw2/none/both from the virtual addresses.
lab_ka_master_name() { lab_vip_holder; }

# ---------------------------------------------------------------- either stack
# LAB_STACK=carp (carpd + syncd, the default) or ka (keepalived + conntrackd);
# LAB_NOSYNC=1 leaves out the state sync (the control).

LAB_STACK=${LAB_STACK:-carp}

lab_stack_name() {
	if [ "$LAB_STACK" = ka ]; then
		echo "keepalived$([ "${LAB_NOSYNC:-0}" = 1 ] || echo ' + conntrackd')"
	else
		echo "carpd$([ "${LAB_NOSYNC:-0}" = 1 ] || echo ' + syncd')"
	fi
}

lab_stack_start() {
	if [ "$LAB_STACK" = ka ]; then lab_ka_pair_start; else lab_pair_start; fi
}

# lab_stack_is_master FW: FW is master and the other one is not (or is a
# crashed box, whose addresses do not count).
lab_stack_is_master() {
	local o
	o=$(lab_other "$1")
	if [ "$LAB_STACK" = ka ]; then
		lab_has_vip "$1" || return 1
	else
		lab_is_master "$1" || return 1
	fi
	lab_down "$o" || ! lab_has_vip "$o"
}

# lab_stack_who: fw1, fw2, none or both (by carpd status, or by the
# addresses for keepalived).
lab_stack_who() {
	if [ "$LAB_STACK" = ka ]; then lab_vip_holder; else lab_master; fi
}

# lab_stack_synced FW N: FW holds at least N states learned from its peer.
lab_stack_synced() {
	local v
	[ "${LAB_NOSYNC:-0}" = 1 ] && return 0
	if [ "$LAB_STACK" = ka ]; then
		v=$(nsx "$1" "$CONNTRACKD" -C "$T_DIR/$1-conntrackd.conf" -s \
		    2>/dev/null | awk '/cache external/ { e = 1 }
		    e && /current active/ { print $NF; exit }')
		[ -n "$v" ] && [ "$v" -ge "$2" ]
	else
		lab_external_at_least "$1" "$2"
	fi
}

# lab_stack_graceful FW: stop FW's master daemon with SIGTERM.
lab_stack_graceful() {
	if [ "$LAB_STACK" = ka ]; then
		lab_kill TERM "$(lab_ka_pid "$1")"
	else
		lab_kill TERM "$(lab_carpd_pid "$1")"
	fi
}

# lab_stack_revive FW: FW back after a crash, with fresh daemons.
lab_stack_revive() {
	lab_revive "$1"
	if [ "$LAB_STACK" = ka ]; then
		[ "${LAB_NOSYNC:-0}" = 1 ] || lab_start_conntrackd "$1"
		lab_start_keepalived "$1"
	else
		[ "${LAB_NOSYNC:-0}" = 1 ] || lab_start_syncd "$1"
		lab_start_carpd "$1"
	fi
}

# lab_fwd_drops FW: the packets FW's forward chain dropped, "INVALID
# OTHER" (invalid; neither established nor a new connection from the LAN).
lab_fwd_drops() {
	nsx "$1" nft list chain inet filter forward 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | paste -sd' ' -
}

# lab_state: one TAP comment line on what each firewall is doing.
lab_state() {
	local f st inv
	for f in fw1 fw2; do
		st=$(lab_carp_states $f)
		inv=$(lab_fwd_drops $f)
		inv=${inv%% *}
		echo "# $f: carp ${st:-down}, addresses $(lab_has_vip $f &&
		    echo yes || echo no), $(lab_conntrack_count $f) states," \
		    "${inv:-?} invalid packets dropped in forward"
	done
}

# lab_logs: the daemon logs worth showing when something failed.
lab_logs() {
	local f
	for f in "$T_DIR"/fw?-carpd.log "$T_DIR"/fw?-syncd.log \
	    "$T_DIR"/fw?-keepalived.log "$T_DIR"/fw?-conntrackd.log \
	    "$T_DIR"/fw?-notify.log "${LAB_TRAFFIC_OUT:-/nonexistent}"; do
		[ -e "$f" ] && echo "$f"
	done
}

# ---------------------------------------------------------------- test shape
# Used by tests/netns/test_failover_*.sh (with lib.sh's ok/not_ok/check).

LAB_N=${LAB_N:-300}

# lab_t_begin NAME [HOOK]: lab, both daemons, LAB_N connections through
# fw1, their states on fw2. HOOK (a command) runs right after the lab is
# built, before the daemons start. Returns 1 (after reporting) when the
# scenario cannot go on.
lab_t_begin() {
	if ! lab_setup || ! ${2:-true}; then
		not_ok "lab set up"
		return 1
	fi
	ok "lab set up: client, fw1, fw2, server; strict ruleset, NAT"
	if ! lab_stack_start; then
		not_ok "$(lab_stack_name) on both: fw1 MASTER, fw2 BACKUP" \
		    "(fw1: $(lab_carp_states fw1), fw2: $(lab_carp_states fw2))"
		dump $(lab_logs)
		return 1
	fi
	ok "$(lab_stack_name) on both: fw1 MASTER, fw2 BACKUP"
	if [ "$LAB_STACK" != ka ] && [ -n "$LAB_USER" ]; then
		check "the daemons run as $LAB_USER" lab_runs_as_user
	fi
	lab_traffic_start "$1" "$LAB_N" 300 --final-wait 20000
	if ! lab_traffic_ready 30; then
		not_ok "$LAB_N TCP connections through fw1"
		dump $(lab_logs)
		return 1
	fi
	ok "$LAB_N TCP connections (and a stream) through fw1, SNAT to 10.0.2.1"
	if [ "${LAB_NOSYNC:-0}" != 1 ]; then
		check "fw2 learned the $LAB_N states from fw1" \
		    wait_for 20 lab_stack_synced fw2 "$LAB_N"
	fi
	sleep 1
	lab_traffic_mark
	return 0
}

# lab_t_master FW WHAT: FW takes over (bounded wait).
lab_t_master() {
	if wait_for 15 lab_stack_is_master "$1"; then
		ok "$1 is MASTER after $2"
		return 0
	fi
	not_ok "$1 is MASTER after $2 (fw1: $(lab_carp_states fw1)," \
	    "fw2: $(lab_carp_states fw2), addresses on: $(lab_vip_holder))"
	dump $(lab_logs)
	return 1
}

# lab_t_settle: let every connection send over the new master (and TCP
# retransmit after the gap), then close the measuring phase.
lab_t_settle() {
	sleep "${1:-6}"
	lab_traffic_mark
}

# lab_t_gap MARK WHAT: the measured gap as a TAP comment (figures, not
# assertions; `make bench` reports them).
lab_t_gap() {
	echo "# $2: traffic gap $(lab_mark_val "$1" udp_gap_ms) ms" \
	    "(UDP probes), $(lab_mark_val "$1" tcp_gap_ms) ms (TCP stream)"
}

# lab_t_end all|none WHAT: stop the traffic; all (or none) of the
# connections must have survived.
lab_t_end() {
	local alive lost s
	lab_traffic_stop
	alive=$(lab_result alive)
	lost=$((LAB_N - ${alive:-0}))
	echo "# $(grep '^RESULT' "$LAB_TRAFFIC_OUT")"
	if [ "$1" = all ]; then
		if [ "${alive:-0}" = "$LAB_N" ]; then
			ok "all $LAB_N connections alive after $2"
		else
			not_ok "all $LAB_N connections alive after $2" \
			    "($lost lost)"
			lab_state
			dump $(lab_logs)
		fi
		s=$(lab_result stream)
		[ "$s" = none ] ||
		    check "the TCP stream is alive after $2" [ "$s" = alive ]
	else
		if [ "${alive:-1}" = 0 ]; then
			ok "without state sync all $LAB_N connections die after $2"
		else
			not_ok "without state sync all $LAB_N connections die" \
			    "after $2 ($alive survived: the ruleset is not strict)"
			dump $(lab_logs)
		fi
	fi
}

# ------------------------------------------------------------- agreement

# lab_diff_clean FW: `syncd diff` on FW: the peer answered and holds
# exactly FW's own states (what it says is in $T_DIR/diff-FW).
lab_diff_clean() {
	nsx "$1" "$SYNCD" diff --control "$T_DIR/$1-syncd.sock" \
	    >"$T_DIR/diff-$1" 2>&1 || return 1
	grep -q '(identical)' "$T_DIR/diff-$1" &&
	    ! grep -q 'no answer' "$T_DIR/diff-$1"
}

# lab_states_sample FILE: every 100 ms, "fw1-states fw2-states" into FILE
# (bounded: 2 minutes), until lab_states_stop.
lab_states_sample() {
	rm -f "$T_DIR/sample.stop"
	(
		i=0
		while [ $i -lt 1200 ] && [ -d "$T_DIR" ] &&
		    [ ! -e "$T_DIR/sample.stop" ]; do
			echo "$(lab_carp_states fw1)|$(lab_carp_states fw2)" \
			    >>"$1"
			sleep 0.1
			i=$((i + 1))
		done
	) &
	LAB_SAMPLE_PID=$!
}

lab_states_stop() {
	touch "$T_DIR/sample.stop"
	wait "$LAB_SAMPLE_PID" 2>/dev/null
}

# tests/netns/syncd_lib.sh: helpers for the syncd namespace tests (sourced
# after lib.sh): sync links, daemons, status fields, table comparison.

SYNC_PORT=7475
CTLIST=$TOOLS/ctlist
CTGEN=$TOOLS/ctgen

# link NAME1 ADDR1 NAME2 ADDR2 [SUFFIX]: a veth pair between two
# namespaces (SUFFIX names a second pair between the same two).
link() {
	l1="${T_PREFIX}$1$3${5:-}"; l2="${T_PREFIX}$3$1${5:-}"
	ip link add "$l1" type veth peer name "$l2" || return 1
	ip link set "$l1" netns "$(ns "$1")"
	ip link set "$l2" netns "$(ns "$3")"
	nsx "$1" ip addr add "$2/24" dev "$l1"
	nsx "$1" ip link set "$l1" up
	nsx "$3" ip addr add "$4/24" dev "$l2"
	nsx "$3" ip link set "$l2" up
}

# run_key: the run's group key (made once, mode 0600, in the test's
# temp dir); prints its path.
run_key() {
	if [ ! -s "$T_DIR/sync.key" ]; then
		(umask 077 && $SYNCD genkey >"$T_DIR/sync.key")
	fi
	echo "$T_DIR/sync.key"
}

# start_syncd NODE LISTEN PEER... : start syncd in NODE (pid in $SPID),
# with the run's key, or $SYNCD_KEY; SYNCD_OPTS adds options (with
# --insecure in them, no key is given).
start_syncd() {
	n=$1; l=$2; shift 2
	pa=""
	for p in "$@"; do pa="$pa --peer $p"; done
	rm -f "$T_DIR/$n.sock"
	case " $SYNCD_OPTS " in
	*" --insecure "*) ka="" ;;
	*) ka="--key ${SYNCD_KEY:-$(run_key)}" ;;
	esac
	bg "$n" "$T_DIR/$n.log" $SYNCD $pa --listen "$l" \
	    --control "$T_DIR/$n.sock" $ka $SYNCD_OPTS -v \
	    >"$T_DIR/$n.pid"
	SPID=$(cat "$T_DIR/$n.pid")
	eval "PID_$n=$SPID"
	wait_for 5 test -S "$T_DIR/$n.sock"
}

sctl() { n=$1; shift; nsx "$n" $SYNCD "$@" --control "$T_DIR/$n.sock"; }

# jnum NODE KEY: first numeric "KEY":N of the node's status --json.
jnum() {
	sctl "$1" status --json 2>/dev/null | grep -o "\"$2\":[0-9]*" |
	    head -1 | cut -d: -f2
}
jstr() {
	sctl "$1" status --json 2>/dev/null |
	    sed -n "s/.*[,{]\"$2\":\"\([^\"]*\)\".*/\1/p" | head -1
}

# has NODE KEY N: status field KEY equals N.
has() { [ "$(jnum "$1" "$2")" = "$3" ]; }
ge() { v=$(jnum "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }

# table NODE: the node's conntrack table, canonical and sorted.
table() { nsx "$1" "$CTLIST" -x "$SYNC_PORT" | sort; }

# same_tables A B: identical canonical tables (diff shown on failure).
same_tables() {
	table "$1" >"$T_DIR/t.$1"
	table "$2" >"$T_DIR/t.$2"
	cmp -s "$T_DIR/t.$1" "$T_DIR/t.$2"
}
show_table_diff() {
	diff "$T_DIR/t.$1" "$T_DIR/t.$2" | head -20 | sed 's/^/#   /'
}

in_sync() { sctl "$1" status --json 2>/dev/null | grep -q '"in_sync":true'; }
sealed() { sctl "$1" status --json 2>/dev/null | grep -q '"sealed":true'; }

need_tools() {
	for t in conntrack nft; do
		if ! command -v $t >/dev/null 2>&1; then
			skip "syncd tests" "$t not installed"
			exit 0
		fi
	done
	if [ "$(id -u)" != 0 ]; then
		skip "syncd tests" "needs root"
		exit 0
	fi
}

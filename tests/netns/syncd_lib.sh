# tests/netns/syncd_lib.sh: helpers for the syncd namespace tests (sourced
# after lib.sh): sync links, daemons, status fields, table comparison.

SYNC_PORT=7475
CTLIST=$TOOLS/ctlist
CTGEN=$TOOLS/ctgen

# link NAME1 ADDR1 NAME2 ADDR2: a veth pair between two namespaces.
link() {
	l1="${T_PREFIX}$1$3"; l2="${T_PREFIX}$3$1"
	ip link add "$l1" type veth peer name "$l2" || return 1
	ip link set "$l1" netns "$(ns "$1")"
	ip link set "$l2" netns "$(ns "$3")"
	nsx "$1" ip addr add "$2/24" dev "$l1"
	nsx "$1" ip link set "$l1" up
	nsx "$3" ip addr add "$4/24" dev "$l2"
	nsx "$3" ip link set "$l2" up
}

# start_syncd NODE LISTEN PEER... : start syncd in NODE (pid in $SPID).
start_syncd() {
	n=$1; l=$2; shift 2
	pa=""
	for p in "$@"; do pa="$pa --peer $p"; done
	rm -f "$T_DIR/$n.sock"
	bg "$n" "$T_DIR/$n.log" $SYNCD $pa --listen "$l" \
	    --control "$T_DIR/$n.sock" ${SYNCD_KEY:+--key "$SYNCD_KEY"} -v \
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

# tests/netns/lib.sh: helpers for the network-namespace tests (sourced).
#
# Namespaces are named with a per-run prefix so parallel or leftover runs
# never collide; everything made through these helpers is removed on exit,
# also when the test fails or is interrupted. Results are TAP lines; the
# closing line is "N passed, N failed".

# Debian's python3 first: a per-user interpreter shim earlier in PATH
# (pyenv's) costs 0.4 s a start, seconds on a loaded machine, and lacks
# the modules Debian installs (python3-prometheus-client).
case ":$PATH:" in :/usr/bin:*) ;; *) PATH=/usr/bin:$PATH; export PATH ;; esac

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CARPD=${CARPD:-$TOP/${B:-build}/bin/carpd}
SYNCD=${SYNCD:-$TOP/${B:-build}/bin/syncd}
TOOLS=${TOOLS:-$TOP/${B:-build}/tools}
T_PREFIX=${T_PREFIX:-t$$}
T_DIR=$(mktemp -d /tmp/carpd-netns.XXXXXX)
T_NS=""
T_PIDS=""
T_N=0
T_PASS=0
T_FAIL=0
T_SKIP=0

ns() { echo "${T_PREFIX}$1"; }

# ns_add NAME...: create namespaces with loopback up.
ns_add() {
	for n in "$@"; do
		ip netns add "$(ns "$n")" || return 1
		T_NS="$T_NS $(ns "$n")"
		ip -n "$(ns "$n")" link set lo up
	done
}

# nsx NAME CMD...: run a command in a namespace.
nsx() { _nsx_n=$1; shift; ip netns exec "$(ns "$_nsx_n")" "$@"; }

# bg NAME LOGFILE CMD...: start a command in a namespace in the background;
# prints its pid. Killed at the end.
bg() {
	_bg_n=$1; _bg_l=$2; shift 2
	ip netns exec "$(ns "$_bg_n")" "$@" >"$_bg_l" 2>&1 &
	T_PIDS="$T_PIDS $!"
	echo $!
}

cleanup() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
	for n in $T_NS; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	[ -n "${T_KEEP:-}" ] || rm -rf "$T_DIR"
}

finish() {
	cleanup
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
trap 'finish; exit $?' EXIT
trap 'exit 130' INT TERM

ok() { T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); T_SKIP=$((T_SKIP + 1)); echo "ok $T_N - $1 # SKIP $2"; }

# check WHAT CMD...: ok if the command succeeds.
check() { w=$1; shift; if "$@"; then ok "$w"; else not_ok "$w"; fi; }

# wait_for SECONDS CMD...: poll (every 50 ms) until CMD succeeds; bounded.
# (Its counters have names of their own: CMD may be a shell function that
# sets i or n.)
wait_for() {
	_wf_i=0; _wf_n=$(($1 * 20)); shift
	while [ $_wf_i -lt $_wf_n ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_wf_i=$((_wf_i + 1))
	done
	return 1
}

. "$TOP/tests/pid.sh"

# dump LOGFILE...: show logs of a failed test (indented, as TAP comments).
dump() { for f in "$@"; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -40; done; }

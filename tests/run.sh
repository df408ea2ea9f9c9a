#!/bin/sh
# tests/run.sh: run every test and count the results.
#
# Each test program speaks TAP on stdout: "ok N - what", "not ok N - what",
# "ok N - what # SKIP why". The runner counts those lines over all programs;
# a program that exits non-zero without reporting a failure counts as one
# failure, so a crash is never a pass. The last line is
# "N passed, N failed, N skipped".
#
# usage: tests/run.sh [--unit] [pattern]

B=${B:-build}
only_unit=0
[ "$1" = "--unit" ] && { only_unit=1; shift; }
pat=${1:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

pass=0 fail=0 skip=0
failed_list=""
log=$(mktemp /tmp/carpd-tests.XXXXXX)
trap 'rm -f "$log"' EXIT INT TERM

export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run NAME CMD...: run one test program and fold its TAP into the totals.
run() {
	name=$1; shift
	case "$name" in *"$pat"*) ;; *) return 0 ;; esac
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	# cmocka prints skip() as "not ok N # SKIP": a skip, not a failure.
	p=$(grep -E '^ok [0-9]*' "$log" | grep -vc '# SKIP')
	s=$(grep -E '^(not )?ok [0-9]*' "$log" | grep -c '# SKIP')
	f=$(grep -E '^not ok' "$log" | grep -vc '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	if [ "$((p + f + s))" -eq 0 ]; then
		echo "not ok - $name reported no test"
		f=1
	fi
	[ "$f" -gt 0 ] && failed_list="$failed_list $name"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.d) continue ;; esac
	run "unit/$(basename "$t")" "$t"
done

if [ "$only_unit" -eq 0 ]; then
	for t in "$B"/tests/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		case "$t" in *.o|*.d) continue ;; esac
		c=tests/fuzz/corpus/$(basename "$t" | sed 's/^fuzz_//')
		run "fuzz/$(basename "$t")" "$t" -runs=${FUZZ_RUNS:-20000} "$c"
	done

	for t in tests/netns/test_*.sh; do
		[ -f "$t" ] || continue
		n="netns/$(basename "$t" .sh)"
		case "$n" in *"$pat"*) ;; *) continue ;; esac
		if [ "$(id -u)" -ne 0 ]; then
			echo "== $n"
			echo "ok - $n # SKIP needs root (CAP_NET_ADMIN, CAP_NET_RAW) for network namespaces"
			skip=$((skip + 1))
			continue
		fi
		run "$n" timeout -k 10 ${NETNS_TIMEOUT:-600} sh "$t"
	done

	# The 90 s chaos soak, as `make soak-check` runs it.
	n=soak/check
	case "$n" in
	*"$pat"*)
		if [ "$(id -u)" -ne 0 ]; then
			echo "== $n"
			echo "ok - $n # SKIP needs root (CAP_NET_ADMIN, CAP_NET_RAW) for network namespaces"
			skip=$((skip + 1))
		else
			run "$n" timeout -k 10 ${SOAK_TIMEOUT:-900} \
			    sh tests/soak/check.sh
		fi
		;;
	esac
fi

echo
[ -n "$failed_list" ] && echo "failed:$failed_list"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

# tests/bench_lib.sh: what the benchmark scripts share (sourced): the
# run's record of figures and where the time goes in a daemon (perf).
#
# tests/bench.sh sets BENCH_DIR (this run's directory under the build
# directory) and BENCH_REC (the record file in it); a script run alone
# records nothing and profiles nothing unless they are set.
# Record lines are tab-separated:
#   NAME VALUE UNIT OP TARGET NOTE
# OP is "<=", ">=", "<" or "==" (or empty: no target); TARGET a number or
# "@NAME" (another figure: "below conntrackd's"). tests/bench_report.py
# turns them into the JSON file, the summary and the pictures.

# Debian's python3 first: a per-user interpreter shim earlier in PATH
# (pyenv's) costs 0.4 s a start, seconds on a loaded machine, and lacks
# the modules Debian installs (python3-prometheus-client).
case ":$PATH:" in :/usr/bin:*) ;; *) PATH=/usr/bin:$PATH; export PATH ;; esac

# bench_rec NAME VALUE UNIT [OP TARGET [NOTE]]
bench_rec() {
	[ -n "${BENCH_REC:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "${2:-nan}" "$3" "${4:-}" \
	    "${5:-}" "${6:-}" >>"$BENCH_REC"
}

# bench_note TEXT: a remark on the whole run (a scaled-down load, ...).
bench_note() {
	echo "  note: $*"
	[ -n "${BENCH_REC:-}" ] || return 0
	printf 'note\t%s\n' "$*" | tr -d '\r' >>"$BENCH_REC"
}

# bench_perf_start PID SECONDS TAG: sample PID's stacks (perf record -g,
# 499 Hz) for SECONDS in the background. Nothing without BENCH_DIR, perf,
# or with BENCH_PERF=0.
BENCH_PERF_PIDS=""
bench_perf_start() {
	[ -n "${BENCH_DIR:-}" ] && [ "${BENCH_PERF:-1}" != 0 ] &&
	    command -v perf >/dev/null 2>&1 && [ -n "$1" ] || return 0
	perf record -q -g -F 499 -p "$1" -o "$BENCH_DIR/perf-$3.data" \
	    -- sleep "$2" >/dev/null 2>&1 &
	BENCH_PERF_PIDS="$BENCH_PERF_PIDS $!:$3"
}

# bench_perf_wait: wait for the profiles started, keep their top symbols
# (perf-TAG.txt) and drop the raw samples.
bench_perf_wait() {
	local e p t
	for e in $BENCH_PERF_PIDS; do
		p=${e%%:*}
		t=${e#*:}
		wait "$p" 2>/dev/null
		[ -s "$BENCH_DIR/perf-$t.data" ] || continue
		perf report -i "$BENCH_DIR/perf-$t.data" --stdio --no-children \
		    -g none --sort dso,symbol --percent-limit 1 2>/dev/null |
		    grep -v '^#' | grep -v '^[[:space:]]*$' |
		    sed 's/[[:space:]-]*$//' | head -25 \
		    >"$BENCH_DIR/perf-$t.txt"
		rm -f "$BENCH_DIR/perf-$t.data" "$BENCH_DIR/perf-$t.data.old"
	done
	BENCH_PERF_PIDS=""
}

# bench_perf_stop: end the profiles still running (cleanup paths) and
# drop their raw samples.
bench_perf_stop() {
	local e
	for e in $BENCH_PERF_PIDS; do
		kill "${e%%:*}" 2>/dev/null
		wait "${e%%:*}" 2>/dev/null
		rm -f "$BENCH_DIR/perf-${e#*:}.data" \
		    "$BENCH_DIR/perf-${e#*:}.data.old"
	done
	BENCH_PERF_PIDS=""
}

# bench_profile FIGURE TAG: where FIGURE's time goes is profile TAG (shown
# when FIGURE misses its target).
bench_profile() {
	[ -n "${BENCH_REC:-}" ] || return 0
	printf 'profile\t%s\t%s\n' "$1" "$2" >>"$BENCH_REC"
}

# tests/pid.sh: is a process still there (sourced by tests/netns/lib.sh,
# and by tests/lab.sh when it runs without lib.sh).
#
# alive PID: the process runs. A zombie does not: a daemon started in a
# subshell is an orphan, and PID 1 may take seconds to reap it once it
# died (kill -0 still succeeds then). gone PID...: none of them runs.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	while read -r _al_l; do
		case "$_al_l" in State:*Z*) return 1 ;; State:*) return 0 ;; esac
	done 2>/dev/null <"/proc/$1/status"
	return 1
}
gone() {
	for _go_p in "$@"; do alive "$_go_p" && return 1; done
	return 0
}

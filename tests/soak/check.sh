#!/bin/sh
# A 90-second chaos soak with a fixed seed (tests/soak/soak.sh; `make soak`
# runs the full one): the firewall pair under steady load while faults hit
# it, one every few seconds. Each of the soak's verdicts is a TAP line here.
#
# Calibrated for a 2-core machine: 1000 long-lived connections as in `make
# soak`; new connections at SOAK_CHECK_RATE a second: 1000 as in `make
# soak`, but 300 in a sanitizer build (SAN=1, what CI runs), where the
# daemons and the traffic tools all run several times slower and the
# failover checks need the CPU that 1000 a second would take.
#
# Every fault kind of `make soak`, and the soak's last look asserted:
# with the load stopped, syncd diff identical on both members. The kills
# and restarts of one daemon hit the master (SOAK_ON=master; a crash,
# a SIGTERM and a failback do anyway), so the backup's daemons live the
# whole run: only a daemon that lived a minute after its warm-up is
# judged on its memory, and in 90 s with every fault kind no other does.
. "$(dirname "$0")/../netns/lib.sh"

rate=1000
grep -q fsanitize "$TOP/${B:-build}/.flags" 2>/dev/null && rate=300
# a directory of its own (a name no suite's leftover cleaning matches),
# removed at the end like everything else
S_DIR=$(mktemp -d /tmp/soakcheck.XXXXXX)
trap 'rm -rf "$S_DIR"; finish; exit $?' EXIT
out=$S_DIR/soak
SOAK_S=${SOAK_CHECK_S:-90} SOAK_SEED=${SOAK_CHECK_SEED:-4242} \
    SOAK_RATE=${SOAK_CHECK_RATE:-$rate} SOAK_WARM=20 SOAK_OUT=$out \
    SOAK_FINAL_EXACT=1 SOAK_ON=${SOAK_CHECK_ON:-master} \
    T_PREFIX=${T_PREFIX}s \
    sh "$TOP/tests/soak/soak.sh" >"$S_DIR/soak.log" 2>&1
rc=$?
# the soak's own lines as comments, its verdicts as ours
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok [0-9]* - }" ;;
	"not ok "*) not_ok "${line#not ok [0-9]* - }" ;;
	*" passed, "*" failed") ;;
	*) echo "# $line" ;;
	esac
done <"$S_DIR/soak.log"
if [ $rc -ne 0 ] && [ "$T_FAIL" -eq 0 ]; then
	not_ok "the soak exited with status $rc"
fi
if [ "$T_FAIL" -ne 0 ]; then
	for f in "$out"/logs/*; do
		[ -e "$f" ] && dump "$f"
	done
fi

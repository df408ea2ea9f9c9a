#!/bin/sh
# test_syncd_starve.sh: a peer's silence is counted in the receiver's own
# loop time. Both syncds stopped together for 4.5 s (the whole machine
# starved of CPU): neither counts the other dead when they run again (the
# one resumed first hears nothing for a moment), nothing is demoted, no
# bulk is needed. One syncd stopped alone for
# 4.5 s: its peer, which kept running, does count it dead after 3 s (and
# it comes back with a bulk); the one that was stopped does not count the
# peer dead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools

ns_add a b
link a 10.9.0.1 b 10.9.0.2
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
nsx a "$CTGEN" -n 500 -b 10.61.0.0 >/dev/null
undemoted() { has a demote 0 && has b demote 0; }
check "both in sync, not demoted" wait_for 15 undemoted
check "b holds a's 500 states" wait_for 15 ge b external 500

# deaths N: how often NODE's log says the peer went silent.
deaths() { grep -c 'reason=timeout' "$T_DIR/$1.log"; }
# bulks NODE: bulks NODE sent.
bulks() { grep -c 'dir=tx state=done' "$T_DIR/$1.log"; }

# b runs again first: its first ticks find nothing from a (a is still
# stopped) after 4.5 s of its own loop not running; a then finds b's
# frames waiting. (Resumed together on a loaded machine, one of them
# may get no CPU for seconds more: then it is silent for real.)
da=$(deaths a) db=$(deaths b) ba=$(bulks a)
kill -STOP "$PID_a" "$PID_b"
sleep 4.5
kill -CONT "$PID_b"
sleep 0.3
kill -CONT "$PID_a"
sleep 2
check "both stopped 4.5 s: a does not count b dead" [ "$(deaths a)" = "$da" ]
check "both stopped 4.5 s: b does not count a dead" [ "$(deaths b)" = "$db" ]
check "no bulk was needed" [ "$(bulks a)" = "$ba" ]
check "a is not demoted" has a demote 0
check "b is not demoted" has b demote 0

# Only b stopped: a keeps running and counts b dead; b, which did not
# run, does not count a dead.
kill -STOP "$PID_b"
sleep 4.5
check "b stopped 4.5 s alone: a counts it dead" \
    [ "$(deaths a)" -gt "$da" ]
kill -CONT "$PID_b"
sleep 2
check "b, which did not run, does not count a dead" \
    [ "$(deaths b)" = "$db" ]
check "a counts b alive again" wait_for 10 has a demote 0
check "b holds a's 500 states after the bulk" wait_for 15 ge b external 500
nsx a "$CTGEN" -n 10 -b 10.62.0.0 >/dev/null
check "a state made after it reaches b" wait_for 10 ge b external 510
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"

#!/bin/sh
# test_syncd_dead_expire.sh: a peer dies (stopped, silent) while its UDP
# states still have a few seconds of the timeout it last sent. Those
# timeouts run out after the peer's last contact, but traffic at the
# peer could have refreshed them without any event: the receiver keeps
# them past their timeout (60 s past the later of the timeout and the
# last contact), and a commit imports them although the staged copies
# expired in its kernel. A TCP connection in TIME_WAIT that the peer
# sent ends at its timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools

TO=5		# seconds: the timeout of a's states
NUDP=3

ns_add a b
link a 10.9.0.1 b 10.9.0.2
start_syncd a 10.9.0.1 10.9.0.2
start_syncd b 10.9.0.2 10.9.0.1
undemoted() { has a demote 0 && has b demote 0; }
check "both in sync" wait_for 15 undemoted

# ext_count PATTERN: states in b's copy of a's table matching PATTERN.
ext_count() {
	sctl b dump external 2>/dev/null | grep -c -- "$1"
}
# kernel_count NODE PATTERN: entries in NODE's kernel matching PATTERN.
kernel_count() {
	nsx "$1" conntrack -L 2>/dev/null | grep -c -- "$2"
}
ext_has() { [ "$(ext_count "$1")" -ge "$2" ]; }

i=1
while [ $i -le $NUDP ]; do
	nsx a conntrack -I -p udp -s 10.71.0.$i -d 10.72.0.1 --sport 4000 \
	    --dport 5000 --timeout $TO --status ASSURED,SEEN_REPLY \
	    >/dev/null 2>&1
	i=$((i + 1))
done
nsx a conntrack -I -p tcp -s 10.73.0.1 -d 10.72.0.1 --sport 4000 \
    --dport 5000 --timeout $TO --state TIME_WAIT \
    --status ASSURED,SEEN_REPLY >/dev/null 2>&1
check "a has $NUDP UDP states and one in TIME_WAIT" \
    [ "$(kernel_count a "dport=5000 ")" -eq $((NUDP + 1)) ]
check "b holds them" wait_for 3 ext_has "dport=5000 " $((NUDP + 1))

# a stops now: its last contact comes before the states' timeouts end.
kill -STOP "$PID_a"
t0=$(date +%s)
check "b counts a dead" wait_for 6 sh -c \
    "grep -q 'reason=timeout' '$T_DIR/b.log'"
# past the timeouts, with a margin for the kernel's and our seconds
sleep $((TO + 3 - ($(date +%s) - t0)))
check "b still holds a's $NUDP UDP states past their timeout" \
    [ "$(ext_count "udp .*dport=5000 ")" -eq $NUDP ]
check "b dropped the TIME_WAIT connection at its timeout" \
    [ "$(ext_count "tcp .*dport=5000 ")" -eq 0 ]
check "their staged copies expired in b's kernel" \
    [ "$(kernel_count b "dport=5000 ")" -eq 0 ]
check "b commits" sh -c "ip netns exec $(ns b) $SYNCD commit \
    --control $T_DIR/b.sock >/dev/null"
check "the commit imported the $NUDP UDP states" \
    [ "$(kernel_count b "udp .*dport=5000 ")" -eq $NUDP ]
kill -CONT "$PID_a"
[ "$T_FAIL" = 0 ] || dump "$T_DIR/a.log" "$T_DIR/b.log"

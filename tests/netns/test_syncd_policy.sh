#!/bin/sh
# test_syncd_policy.sh: the send filter and the import policy. A sends
# (real syncd, states made in its kernel with ctgen); B imports under a
# policy from its syncd.conf. For each import limit a state that breaks
# it is not in B's kernel after the commit, its allowed counterpart is,
# and B's counter for the reason went up: zone, prefix, mark bits, label
# bits, helper, timeout cap, fixed timeout, expectation of a helper not
# allowed, the per-peer maximum. The send filter: A does not send a state
# of its own traffic (to an address added while it runs) nor a protocol
# it does not sync. The commit: a state B has live as its own keeps its
# mark and timeout when A's copy is committed over it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
[ -x "$CTGEN" ] || { skip "syncd policy" "ctgen not built"; exit 0; }

MAX=20
KEYF=$T_DIR/key
$SYNCD genkey >"$KEYF" && chmod 600 "$KEYF"

ns_add a b
link a 10.9.0.1 b 10.9.0.2
# Labels exist in a namespace once a rule uses them.
for n in a b; do
	nsx $n nft -f - <<EOF || not_ok "nft labels in $n"
table inet pt {
	chain c { type filter hook prerouting priority 0; ct label 120 counter; }
}
EOF
done

cat >"$T_DIR/b.conf" <<EOF
# B's import policy
peer 10.9.0.1
listen 10.9.0.2
import-zones 0 3
import-ignore 10.66.0.0/16
import-mark-mask 0xff
import-label-mask 0x0f
import-helpers ftp
import-timeout-max 86400
import-max-states $MAX
EOF
bg a "$T_DIR/a.log" $SYNCD --peer 10.9.0.2 --listen 10.9.0.1 \
    --control "$T_DIR/a.sock" --key "$KEYF" \
    --sync-protocols tcp,icmp -v >/dev/null
bg b "$T_DIR/b.log" $SYNCD -c "$T_DIR/b.conf" --control "$T_DIR/b.sock" \
    --key "$KEYF" -v >/dev/null
wait_for 5 test -S "$T_DIR/a.sock"
wait_for 5 test -S "$T_DIR/b.sock"
check "first bulk done" wait_for 10 has b demote 0

# rej NODE REASON: the node's import refusals for REASON (its one peer).
rej() {
	sctl "$1" status --json 2>/dev/null |
	    sed -n 's/.*"import_rejected":{\([^}]*\)}.*/\1/p' |
	    grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}
rej_ge() { v=$(rej "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
sent_filtered() {
	sctl "$1" status --json 2>/dev/null |
	    sed -n 's/.*"send_filtered":{\([^}]*\)}.*/\1/p' |
	    grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}
sf_ge() { v=$(sent_filtered "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
one() { nsx a "$CTGEN" --one --dst 10.2.0.9 "$@" >/dev/null; }
# inb PORT: B's kernel has the state of source port PORT.
inb() {
	nsx b conntrack -L -p tcp --sport "$1" 2>/dev/null | grep -q dport
}
notb() { ! inb "$1"; }

# B's own live connection first (the commit collision below).
nsx b conntrack -I -p tcp -s 10.1.0.1 -d 10.2.0.9 --sport 1100 --dport 80 \
    --state ESTABLISHED -t 1000 -u SEEN_REPLY,ASSURED -m 1 >/dev/null 2>&1
check "B holds its own connection" wait_for 10 ge b internal 1
check "A learns it" wait_for 10 ge a external 1

# Allowed, and the same with one limit broken, by source port.
one --src 10.1.0.1 --sport 1001 --dport 80 -z 3	# zone allowed
one --src 10.1.0.1 --sport 1002 --dport 80 -z 5	# zone refused
one --src 10.66.0.1 --sport 1003 --dport 80	# ignored prefix
one --src 10.1.0.1 --sport 1004 --dport 80 -m 18	# mark within the mask
one --src 10.1.0.1 --sport 1005 --dport 80 -m 256	# mark outside it
one --src 10.1.0.1 --sport 1006 --dport 80 --label 2	# label allowed
one --src 10.1.0.1 --sport 1007 --dport 80 --label 7	# label refused
one --src 10.1.0.1 --sport 1008 --dport 21 --helper ftp --expect
one --src 10.1.0.1 --sport 1009 --dport 5060 --helper sip --expect
one --src 10.1.0.1 --sport 1010 --dport 80 -t 3600	# under the cap
one --src 10.1.0.1 --sport 1011 --dport 80 -t 100000	# over it
one --src 10.1.0.1 --sport 1012 --dport 80 --fixed-timeout
# A's copy of B's own connection: another mark, a longer timeout.
one --src 10.1.0.1 --sport 1100 --dport 80 -m 2 -t 5000
# Not sent: UDP (A syncs tcp and icmp), and A's own traffic to an
# address it gets now (an address event, not a start-up read).
nsx a ip addr add 10.77.0.1/32 dev lo
sleep 0.3
one --proto udp --src 10.1.0.1 --sport 1020 --dport 53
one --src 10.1.0.1 --dst 10.77.0.1 --sport 1021 --dport 22

# 6 allowed (1001 1004 1006 1008 1010 1100) of 13 sent.
check "B holds what it allows" wait_for 10 has b external 6
check "the limits were counted" wait_for 10 rej_ge b fixed_timeout 1
# Then more than B takes from one peer.
nsx a "$CTGEN" -n 40 -b 10.50.0.0 >/dev/null
check "the per-peer maximum holds ($MAX)" wait_for 20 has b external $MAX
check "states over it are counted" wait_for 10 rej_ge b max_states 26
check "B stays responsive over the maximum" has b demote 0

check "A does not send its own traffic (address added at run time)" \
    sf_ge a local 1
check "A does not send protocols it does not sync" sf_ge a protocol 1

check "commit" sh -c "ip netns exec $(ns b) $SYNCD commit \
    --control $T_DIR/b.sock | grep -q committed"
{ notb 1002 && inb 1001 && rej_ge b zone 1; } &&
    ok "zone: not in import-zones" || not_ok "zone: not in import-zones"
{ notb 1003 && rej_ge b prefix 1; } && ok "prefix: import-ignore" ||
    not_ok "prefix: import-ignore"
{ notb 1005 && inb 1004 && rej_ge b mark 1; } &&
    ok "mark: bits outside import-mark-mask" ||
    not_ok "mark: bits outside import-mark-mask"
{ notb 1007 && inb 1006 && rej_ge b labels 1; } &&
    ok "labels: bits outside import-label-mask" ||
    not_ok "labels: bits outside import-label-mask"
{ notb 1009 && inb 1008 && rej_ge b helper 1; } &&
    ok "helper: not in import-helpers" ||
    not_ok "helper: not in import-helpers"
{ notb 1011 && inb 1010 && rej_ge b timeout 1; } &&
    ok "timeout: over import-timeout-max" ||
    not_ok "timeout: over import-timeout-max"
{ notb 1012 && rej_ge b fixed_timeout 1; } &&
    ok "fixed timeout: not allowed" || not_ok "fixed timeout: not allowed"
nsx b conntrack -L expect >"$T_DIR/b.exp" 2>/dev/null
{ grep -q "dport=22 .*helper=ftp" "$T_DIR/b.exp" &&
    ! grep -q "helper=sip" "$T_DIR/b.exp" && rej_ge b expect_helper 1; } &&
    ok "expectations: only of allowed helpers" ||
    { not_ok "expectations: only of allowed helpers"; dump "$T_DIR/b.exp"; }
# The commit made the states B imported its own; A, handing them over,
# sends B what stays its own again, and that counts against A's maximum
# anew: B holds MAX of A's states again, more of the 40 are in B's kernel
# than before the commit, and the rest are counted.
check "per-peer maximum after the commit: B holds $MAX of A's again" \
    wait_for 10 has b external $MAX
n50=$(nsx b conntrack -L 2>/dev/null | grep -c "src=10.50.0.0 ")
{ [ "$n50" -gt $((MAX - 6)) ] && [ "$n50" -le 40 ] &&
    rej_ge b max_states 26; } &&
    ok "per-peer maximum: $n50 of 40 in B's kernel, the rest counted" ||
    not_ok "per-peer maximum: $n50 of 40 in B's kernel (expected more than $((MAX - 6)), at most 40)"
{ notb 1020 && ! nsx b conntrack -L -p tcp --sport 1021 2>/dev/null |
    grep -q dport; } && ok "send filter: nothing of it reached B" ||
    not_ok "send filter: nothing of it reached B"

# B's own connection: mark and timeout as B had them.
line=$(nsx b conntrack -L -p tcp --sport 1100 2>/dev/null | grep dport)
to=$(echo "$line" | awk '{print $3}')
{ echo "$line" | grep -q "mark=1 " && [ -n "$to" ] && [ "$to" -le 1000 ] &&
    rej_ge b collision 1; } &&
    ok "commit: B's own connection not overwritten (mark, timeout), counted" ||
    not_ok "commit: B's own connection not overwritten: $line"

if [ "$T_FAIL" -gt 0 ]; then
	sctl b status --json >"$T_DIR/b.status" 2>&1
	sctl a status --json >"$T_DIR/a.status" 2>&1
	dump "$T_DIR/a.status" "$T_DIR/b.status" "$T_DIR/a.log" "$T_DIR/b.log"
fi
finish

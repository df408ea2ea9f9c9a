#!/bin/sh
# test_syncd_ipv6.sh: the sync link itself over IPv6, the key named in the
# config file, config errors naming file:line, resync,
# and a commit that reproduces IPv4 and IPv6 states.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools

ns_add a b
ip link add "${T_PREFIX}va" type veth peer name "${T_PREFIX}vb"
ip link set "${T_PREFIX}va" netns "$(ns a)"
ip link set "${T_PREFIX}vb" netns "$(ns b)"
nsx a ip addr add fd00:9::1/64 dev "${T_PREFIX}va" nodad
nsx b ip addr add fd00:9::2/64 dev "${T_PREFIX}vb" nodad
nsx a ip link set "${T_PREFIX}va" up
nsx b ip link set "${T_PREFIX}vb" up

# Configuration errors: exit 2 with file:line.
printf 'peer fd00:9::2\nport 99999\n' >"$T_DIR/bad.conf"
nsx a $SYNCD -c "$T_DIR/bad.conf" 2>"$T_DIR/bad.err"
rc=$?
check "a bad config line exits 2" [ "$rc" = 2 ]
check "and names file:line" grep -q "bad.conf:2:" "$T_DIR/bad.err"
nsx a $SYNCD --peer fd00:9::2 --frobnicate 2>/dev/null
check "a bad flag exits 2" [ "$?" = 2 ]

# The group key: refused when missing, readable by others or not a key;
# --insecure only with --interface and never with a key.
kerr() {	# WHAT PATTERN ARGS...: exit 2 with PATTERN on stderr
	w=$1; p=$2; shift 2
	nsx a $SYNCD --peer fd00:9::2 --listen fd00:9::1 \
	    --control "$T_DIR/x.sock" "$@" 2>"$T_DIR/k.err" </dev/null
	rc=$?
	if [ $rc = 2 ] && grep -q -- "$p" "$T_DIR/k.err"; then
		ok "$w"
	else
		not_ok "$w (exit $rc: $(head -c 200 "$T_DIR/k.err"))"
	fi
}
if [ -e /etc/syncd.key ]; then
	skip "no key at all: exit 2, how to make one" "/etc/syncd.key exists"
else
	kerr "no key at all: exit 2, how to make one" \
	    "syncd genkey > /etc/syncd.key && chmod 600 /etc/syncd.key"
fi
$SYNCD genkey >"$T_DIR/loose.key"
chmod 640 "$T_DIR/loose.key"
kerr "a key file readable by its group: exit 2" "chmod 600" \
    --key "$T_DIR/loose.key"
(umask 077 && echo "not a key" >"$T_DIR/bad.key")
kerr "a key file without a key: exit 2 with file:line" "bad.key:1:" \
    --key "$T_DIR/bad.key"
kerr "--insecure without --interface: exit 2" "needs --interface" \
    --insecure
kerr "--insecure with a key: exit 2" "exclude each other" \
    --insecure --interface lo --key "$(run_key)"

for n in a b; do
	if [ $n = a ]; then me=fd00:9::1; peer=fd00:9::2; else me=fd00:9::2; peer=fd00:9::1; fi
	cat >"$T_DIR/$n.conf" <<-EOF
	# syncd.conf for $n
	listen $me
	peer "$peer"
	control $T_DIR/$n.sock
	key $(run_key)
	EOF
	bg $n "$T_DIR/$n.log" $SYNCD -c "$T_DIR/$n.conf" >/dev/null
done
wait_for 5 test -S "$T_DIR/b.sock"
check "the key from syncd.conf: authenticated" \
    sh -c "$SYNCD status --json --control $T_DIR/b.sock | grep -q '\"auth\":\"key\"'"
check "first bulk over IPv6" wait_for 10 has b demote 0

nsx a conntrack -I -p tcp -s fd00:1::1 -d fd00:2::2 --sport 4000 --dport 443 \
    --state ESTABLISHED -t 3600 -u SEEN_REPLY,ASSURED >/dev/null 2>&1
nsx a conntrack -I -p udp -s 10.1.1.1 -d 10.2.2.2 --sport 4000 --dport 53 \
    -t 100 >/dev/null 2>&1
nsx a conntrack -I -p icmpv6 -s fd00:1::1 -d fd00:2::2 --icmpv6-type 128 \
    --icmpv6-code 0 --icmpv6-id 9 -t 30 >/dev/null 2>&1
NA=$(table a | wc -l)
check "B holds A's $NA states" wait_for 10 has b external "$NA"

sctl b resync >"$T_DIR/resync.txt" 2>&1
check "resync is accepted" grep -q "resync requested" "$T_DIR/resync.txt"
check "the resync's bulk completes" wait_for 10 sh -c \
    "$SYNCD status --json --control $T_DIR/b.sock | grep -q '\"bulk\":\"done\"'"
check "still the same states" has b external "$NA"

sctl b commit >/dev/null
if same_tables a b; then
	ok "after commit B's table matches A's"
else
	not_ok "after commit B's table matches A's"
	show_table_diff a b
fi
sctl b status >"$T_DIR/st.txt"
check "text status names the peer and says in sync" \
    grep -q "peer fd00:9::1: in sync" "$T_DIR/st.txt"

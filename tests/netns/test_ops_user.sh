#!/bin/sh
# test_ops_user.sh: carpd --user: after opening its sockets it runs as the
# user with only CAP_NET_ADMIN and CAP_NET_RAW, still takes over (adds the
# addresses) and answers on its control socket; the up script runs as the
# user with the same two capabilities and inherits no descriptor but 0, 1
# and 2; SIGTERM still removes the addresses. A missing user is exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/carpd.inc"

U=nobody
if ! id "$U" >/dev/null 2>&1; then
	skip "carpd --user" "no user $U on this machine"
	exit 0
fi
uid=$(id -u "$U")
topo a || { not_ok "topology"; exit 1; }
# The scripts and what they write must be reachable by the user.
chmod 755 "$T_DIR"
mkdir -m 1777 "$T_DIR/pub"
cat >"$T_DIR/pub/up.sh" <<S
#!/bin/sh
id -u >"$T_DIR/pub/up.uid"
grep '^Cap\(Eff\|Amb\)' /proc/self/status >"$T_DIR/pub/up.caps"
# ls opens the directory itself: one descriptor more than inherited.
exec ls /proc/self/fd >"$T_DIR/pub/up.fds"
S
chmod 755 "$T_DIR/pub/up.sh"

"$CARPD" -i eth0 -v 9 -p s -a 10.0.0.109/24 --user no-such-user-$$ \
    >/dev/null 2>"$T_DIR/nouser.err"
rc=$?
check "a missing user: exit 2 ($rc)" [ "$rc" = 2 ]
check "... naming the user" grep -q "no-such-user-$$" "$T_DIR/nouser.err"

carpd_bg a -i eth0 -v 9 -p s -a 10.0.0.109/24 -b 0 -k 10 \
    -u "$T_DIR/pub/up.sh" --user "$U"
pa=$(carpd_pid a)
if wait_for 6 is_state a MASTER; then
	ok "carpd as $U became MASTER (control socket answers)"
else
	not_ok "carpd as $U became MASTER"
	dump "$T_DIR/a.log"
fi
check "... and holds the address (CAP_NET_ADMIN kept)" \
    wait_for 3 sh -c "ip -n $(ns a) -4 addr show dev eth0 | grep -q 10.0.0.109/"
dpid=$(ns_pid_of a "$T_DIR/a.sock" | head -1)
st=/proc/$dpid/status
check "the daemon runs as uid $uid" \
    sh -c "grep -q '^Uid:[[:space:]]*$uid[[:space:]]*$uid[[:space:]]*$uid' $st"
check "... with gid $(id -g "$U") and no supplementary group" \
    sh -c "grep -q '^Groups:[[:space:]]*$' $st"
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "$st")
check "... effective capabilities NET_ADMIN and NET_RAW only ($eff)" \
    [ "$eff" = 0000000000003000 ]
check "the log says so" grep -q "running as $U" "$T_DIR/a.log"

if wait_for 5 test -s "$T_DIR/pub/up.fds"; then
	ok "the up script ran"
else
	not_ok "the up script ran"
	dump "$T_DIR/a.log"
fi
check "the up script ran as $U" [ "$(cat "$T_DIR/pub/up.uid")" = "$uid" ]
check "... with CAP_NET_ADMIN and CAP_NET_RAW (ambient)" \
    grep -q "CapAmb:[[:space:]]*0000000000003000" "$T_DIR/pub/up.caps"
fds=$(tr '\n' ' ' <"$T_DIR/pub/up.fds")
check "the up script inherited only 0 1 2 (ls: $fds)" [ "$fds" = "0 1 2 3 " ]

kill "$pa"
wait_for 5 pid_gone "$dpid"
check "SIGTERM: clean stop as $U" grep -q stopped "$T_DIR/a.log"
check "... the address is removed" \
    sh -c "! ip -n $(ns a) -4 addr show dev eth0 | grep -q 10.0.0.109/"

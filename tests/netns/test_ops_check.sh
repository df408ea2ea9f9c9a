#!/bin/sh
# test_ops_check.sh: carpd --check and syncd --check: the effective
# configuration printed as a config file that reads back to the same
# output, secrets left out, exit 0 without privileges and without opening
# anything; exit 2 with file:line on a bad file, an unknown user or a
# placeholder passphrase given to the daemon itself. (No namespace.)
. "$(dirname "$0")/lib.sh"

D=$T_DIR/pub
chmod 755 "$T_DIR"
mkdir -m 755 "$D" || { not_ok "directory"; exit 1; }
unpriv() {
	if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
		setpriv --reuid nobody --regid "$(id -g nobody)" \
		    --clear-groups --inh-caps=-all --bounding-set=-all "$@"
	else
		"$@"
	fi
}
secret=s3cr3t-$$
printf '%s\n' "$secret" >"$D/passfile"
chmod 644 "$D/passfile"
cat >"$D/carpd.conf" <<CONF
# two vhids
track "eth 9"
sync /run/syncd.sock
user nobody
preempt-delay 4
check gw {
	ping 10.0.0.254 via eth0
	interval 0.5
	fall 3
}
check script {
	exec "/bin/sh -c 'test -e /run/ok'"
	weight 2
}
vhid 1 {
	interface eth0
	addr 10.0.0.1/24
	addr fd00::1/64
	pass "$secret"
	advskew 20
	preempt yes
	upscript "/etc/carp/up script.sh"
}
vhid 2 {
	interface eth1
	addr 10.1.0.1/24
	passfile $D/passfile
	peer 10.1.0.3
}
CONF
unpriv "$CARPD" -c "$D/carpd.conf" --check >"$D/c1" 2>"$D/c1.err"
rc=$?
check "carpd --check as nobody: exit 0 ($rc)" [ "$rc" = 0 ]
check "carpd --check: defaults filled in" \
    sh -c "grep -q '^	advbase 1$' '$D/c1' && grep -q '^	deadratio 3$' '$D/c1' &&
    grep -q '^control /run/carpd.sock$' '$D/c1' && grep -q '^sync-timeout 2000$' '$D/c1'"
check "carpd --check: check blocks with their defaults" \
    sh -c "grep -q '^check gw {$' '$D/c1' && grep -q '^	interval 0.500$' '$D/c1' &&
    grep -q '^	exec /bin/sh -c \"test -e /run/ok\"$' '$D/c1' && grep -q '^preempt-delay 4$' '$D/c1'"
check "carpd --check: quoted words stay quoted" \
    sh -c "grep -q '^track \"eth 9\"$' '$D/c1' && grep -q 'upscript \"/etc/carp/up script.sh\"' '$D/c1'"
check "carpd --check: the passphrase is not printed" \
    sh -c "! grep -q '$secret' '$D/c1' && grep -q '^	pass <set>$' '$D/c1'"
check "carpd --check: the passfile by its path" \
    grep -q "^	passfile $D/passfile$" "$D/c1"
cp "$D/c1" "$D/c1.conf"
unpriv "$CARPD" -c "$D/c1.conf" --check >"$D/c2" 2>&1
check "carpd --check: its output read back prints the same" \
    cmp -s "$D/c1" "$D/c2"
"$CARPD" -c "$D/c1.conf" --control "$T_DIR/never.sock" >"$D/c3" 2>&1
rc=$?
check "carpd refuses the placeholder outside --check: exit 2 ($rc)" \
    sh -c "[ $rc = 2 ] && grep -q 'c1.conf:[0-9]*: pass <set>' '$D/c3'"
check "... and opened nothing" [ ! -e "$T_DIR/never.sock" ]
unpriv "$CARPD" -i eth0 -v 7 -a 10.0.0.7 -p x -k 5 --check >"$D/c4" 2>&1
check "carpd --check with command-line options only" \
    sh -c "grep -q '^vhid 7 {$' '$D/c4' && grep -q '^	advskew 5$' '$D/c4'"
printf 'vhid 1 {\n\tinterface eth0\n\tadvbase 900\n}\n' >"$D/bad.conf"
unpriv "$CARPD" -c "$D/bad.conf" --check >"$D/b.out" 2>"$D/b.err"
rc=$?
check "carpd --check, a bad value: exit 2 ($rc), file:line on stderr" \
    sh -c "[ $rc = 2 ] && grep -q 'bad.conf:3: bad advbase' '$D/b.err' && [ ! -s '$D/b.out' ]"
sed 's/^user nobody$/user no-such-user-x/' "$D/carpd.conf" >"$D/nu.conf"
unpriv "$CARPD" -c "$D/nu.conf" --check >/dev/null 2>"$D/nu.err"
rc=$?
check "carpd --check, an unknown user: exit 2 ($rc)" \
    sh -c "[ $rc = 2 ] && grep -q no-such-user-x '$D/nu.err'"

# syncd
"$SYNCD" genkey >"$D/key"
chmod 644 "$D/key"
cat >"$D/syncd.conf" <<CONF
peer 10.0.3.2
peer 10.0.3.3
interface sync0
key $D/key
stage no
user nobody
CONF
unpriv "$SYNCD" -c "$D/syncd.conf" --port 8000 --check >"$D/s1" 2>"$D/s1.err"
rc=$?
check "syncd --check as nobody: exit 0 ($rc)" [ "$rc" = 0 ]
check "syncd --check: defaults and the command line" \
    sh -c "grep -q '^port 8000$' '$D/s1' && grep -q '^control /run/syncd.sock$' '$D/s1' &&
    grep -q '^stage no$' '$D/s1' && [ \$(grep -c '^peer ' '$D/s1') = 2 ]"
check "syncd --check: the key file by its path, not the key" \
    sh -c "grep -q '^key $D/key$' '$D/s1' && ! grep -qi '$(cut -c1-16 "$D/key")' '$D/s1'"
cp "$D/s1" "$D/s1.conf"
unpriv "$SYNCD" -c "$D/s1.conf" --check >"$D/s2" 2>&1
check "syncd --check: its output read back prints the same" \
    cmp -s "$D/s1" "$D/s2"
printf 'peer 10.0.3.2\nmtu 12\n' >"$D/sbad.conf"
unpriv "$SYNCD" -c "$D/sbad.conf" --check >"$D/sb.out" 2>"$D/sb.err"
rc=$?
check "syncd --check, a bad value: exit 2 ($rc), file:line on stderr" \
    sh -c "[ $rc = 2 ] && grep -q 'sbad.conf:2: bad mtu' '$D/sb.err' && [ ! -s '$D/sb.out' ]"
echo nokey >"$D/badkey"
unpriv "$SYNCD" --peer 10.0.3.2 --key "$D/badkey" --check >/dev/null \
    2>"$D/bk.err"
rc=$?
check "syncd --check, a bad key file: exit 2 ($rc)" \
    sh -c "[ $rc = 2 ] && grep -q 'badkey:1: not a key' '$D/bk.err'"
unpriv "$SYNCD" --peer 10.0.3.2 --user no-such-user-x --check >/dev/null \
    2>"$D/su.err"
rc=$?
check "syncd --check, an unknown user: exit 2 ($rc)" \
    sh -c "[ $rc = 2 ] && grep -q no-such-user-x '$D/su.err'"

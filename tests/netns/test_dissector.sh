#!/bin/sh
# test_dissector.sh: the Wireshark dissector contrib/wireshark/syncd.lua on
# real captures of the sync link. A pair with --insecure and a pair with a
# group key each replicate 500 states made by ctgen while tcpdump records
# the link; tshark with the dissector must decode every datagram as syncd
# (none malformed), recognise the handshakes, show session frames as
# sealed with the sequence numbers the sender reports, decrypt the
# --insecure frames (and the keyed ones when given the key) into as many
# state records as the sender's tx_states, and flag garbage datagrams as
# malformed without a Lua error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syncd_lib.sh"
need_tools
LUA=$TOP/contrib/wireshark/syncd.lua
N=500
for t in tshark tcpdump python3; do
	command -v $t >/dev/null 2>&1 || { skip "dissector" "$t missing"; exit 0; }
done
[ -x "$CTGEN" ] || { skip "dissector" "ctgen not built"; exit 0; }

ns_add a b
link a 10.9.0.1 b 10.9.0.2

# decode CAP OUT [tshark options]: one tab-separated line per datagram on
# the port; tshark's stderr in OUT.err.
decode() {
	_d_cap=$1; _d_out=$2; shift 2
	tshark -X lua_script:"$LUA" -r "$_d_cap" "$@" -Y "udp.port == $SYNC_PORT" \
	    -T fields -E separator=/t -E occurrence=a -E aggregator=, \
	    -e frame.number -e ip.src -e syncd.type -e syncd.sid -e syncd.seq \
	    -e syncd.sealed -e syncd.decrypted -e syncd.tag_ok \
	    -e syncd.rec.type -e syncd.malformed -e _ws.malformed \
	    -e syncd.rec.short -e syncd.rec.overrun -e syncd.auth_failed \
	    -e _ws.col.Info -e frame.protocols -e syncd.src -e syncd.sport \
	    >"$_d_out" 2>"$_d_out.err"
}

# Fields of the decode: 1 frame, 2 src, 3 type, 4 sid, 5 seq, 6 sealed,
# 7 decrypted, 8 tag_ok, 9 record types, 10-14 malformed markers, 15 info,
# 16 protocols, 17 and 18 the source addresses and ports of state keys.
undecoded() { awk -F'\t' '$16 !~ /:syncd$/' "$1" | wc -l; }
# distinct_keys OUT: distinct (source, source port) of the decoded states.
distinct_keys() {
	awk -F'\t' '$2 == "10.9.0.1" && $3 == 3 {
		n = split($17, a, ","); split($18, p, ",")
		for (i = 1; i <= n; i++) k[a[i] ":" p[i]] = 1
	} END { for (x in k) c++; print c + 0 }' "$1"
}
bad() { awk -F'\t' '$10 $11 $12 $13 $14 != ""' "$1" | wc -l; }
# no_lua_error OUT CAP [options]: nothing about Lua on tshark's stderr, and
# no "Lua Error" item in the full tree of the capture.
no_lua_error() {
	_e_out=$1; _e_cap=$2; shift 2
	! grep -qi 'lua' "$_e_out.err" &&
	    tshark -X lua_script:"$LUA" -r "$_e_cap" "$@" -V >"$_e_out.V" 2>&1 &&
	    ! grep -qi 'lua error' "$_e_out.V"
}
# handshakes OUT TYPE: INITs (1) or RESPs (2) from each address.
hs_both() {
	for s in 10.9.0.1 10.9.0.2; do
		awk -F'\t' -v s=$s -v t="$2" '$2 == s && $3 == t' "$1" |
		    grep -q . || return 1
	done
}
# Handshakes whose tag verified (the key is known).
hs_tags_ok() {
	[ "$(awk -F'\t' '$3 <= 2 && $8 != "1"' "$1" | wc -l)" -eq 0 ]
}
# Session frames all sealed / all decrypted.
all_sealed() {
	[ "$(awk -F'\t' '$3 >= 3 && $6 != "1"' "$1" | wc -l)" -eq 0 ]
}
all_decrypted() {
	[ "$(awk -F'\t' '$3 >= 3 && $7 != "1"' "$1" | wc -l)" -eq 0 ] &&
	    [ "$(awk -F'\t' '$3 >= 3' "$1" | wc -l)" -gt 0 ]
}
none_decrypted() {
	[ "$(awk -F'\t' '$3 >= 3 && $7 == "1"' "$1" | wc -l)" -eq 0 ]
}
# state_recs OUT: STATE, UPDATE, DELETE and DIFF_STATE records in A's DATA
# frames, each frame (session, sequence) counted once (resends).
state_recs() {
	awk -F'\t' '$2 == "10.9.0.1" && $3 == 3 && !seen[$4 "/" $5]++ {
		n = split($9, t, ",")
		for (i = 1; i <= n; i++)
			if (t[i] == 1 || t[i] == 2 || t[i] == 3 || t[i] == 23)
				c++
	} END { print c + 0 }' "$1"
}
# data_seqs OUT: "first last count" of the distinct sequence numbers of
# A's DATA frames in A's last session.
data_seqs() {
	awk -F'\t' '$2 == "10.9.0.1" && $3 == 3 { sid = $4; s[$4 "/" $5] = $5 }
	END {
		for (k in s) {
			split(k, p, "/")
			if (p[1] != sid) continue
			v = s[k] + 0
			if (n == 0 || v < lo) lo = v
			if (n == 0 || v > hi) hi = v
			n++
		}
		print lo + 0, hi + 0, n + 0
	}' "$1"
}

# garbage: datagrams from A to B's sync port that are no syncd frame.
GARBAGE=$T_DIR/garbage.py
cat >"$GARBAGE" <<'EOF'
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.0.1", 0))
d = (sys.argv[1], int(sys.argv[2]))
hdr = lambda t, sid, seq: b"Sy\x02" + bytes([t]) + struct.pack(">IQ", sid, seq)
for p in [b"Sy\x02", hdr(3, 0, 1) + bytes(20), hdr(3, 7, 1) + b"x",
          hdr(1, 0, 0) + bytes(10), hdr(2, 0, 0) + bytes(90),
          hdr(1, 5, 0) + bytes(61), hdr(9, 1, 1) + bytes(16),
          b"Sy\x01\x03" + bytes(40), os.urandom(300)]:
    s.sendto(p, d)
EOF
NGARBAGE=9

# stop PID: a child of this shell ended, within 5 s (TERM, then KILL).
stop() {
	kill "$1" 2>/dev/null
	wait_for 5 gone "$1" ||
	    kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
both_demote0() { has a demote 0 && has b demote 0; }

# phase MODE: a pair (insecure or key) replicates N states under capture.
phase() {
	mode=$1
	cap=$T_DIR/$mode.pcap
	nsx a conntrack -F >/dev/null 2>&1
	nsx b conntrack -F >/dev/null 2>&1
	bg a "$T_DIR/tcpdump.$mode.log" tcpdump -n -U --immediate-mode \
	    -i "${T_PREFIX}ab" -w "$cap" udp port $SYNC_PORT \
	    >"$T_DIR/tcpdump.pid"
	tpid=$(cat "$T_DIR/tcpdump.pid")
	wait_for 5 grep -q "listening on" "$T_DIR/tcpdump.$mode.log"
	if [ "$mode" = insecure ]; then
		SYNCD_OPTS="--insecure --interface ${T_PREFIX}ab"
	fi
	start_syncd a 10.9.0.1 10.9.0.2
	pid_a=$SPID
	[ "$mode" = insecure ] &&
	    SYNCD_OPTS="--insecure --interface ${T_PREFIX}ba"
	start_syncd b 10.9.0.2 10.9.0.1
	pid_b=$SPID
	SYNCD_OPTS=
	check "$mode: first bulks done" wait_for 15 both_demote0
	nsx a "$CTGEN" -n $N -b 10.1.0.0 >/dev/null
	check "$mode: B holds A's $N states" wait_for 30 has b external $N
	check "$mode: A's frames all acknowledged" wait_for 10 has a unacked 0
	[ "$mode" = insecure ] &&
	    nsx a python3 "$GARBAGE" 10.9.0.2 $SYNC_PORT
	sleep 0.5
	txs=$(jnum a tx_states)
	txseq=$(jnum a tx_seq)
	echo "# $mode: A's status: tx_states $txs, tx_seq $txseq"
	stop "$tpid"
	stop "$pid_a"
	stop "$pid_b"
	for n in a b; do mv "$T_DIR/$n.log" "$T_DIR/$n.$mode.log"; done
	echo "# $mode: $(grep -c . "$T_DIR/tcpdump.$mode.log") lines of" \
	    "tcpdump: $(grep captured "$T_DIR/tcpdump.$mode.log")"
}

# The --insecure pair: frames sealed under the all-zero key, decrypted.
phase insecure
out=$T_DIR/insecure.txt
decode "$T_DIR/insecure.pcap" "$out"
ndg=$(wc -l <"$out")
echo "# insecure: $ndg datagrams, $(bad "$out") flagged malformed"
check "insecure: no Lua error" no_lua_error "$out" "$T_DIR/insecure.pcap"
check "insecure: every datagram decoded as syncd ($ndg)" \
    [ "$ndg" -gt $NGARBAGE -a "$(undecoded "$out")" -eq 0 ]
check "insecure: exactly the $NGARBAGE garbage datagrams malformed" \
    [ "$(bad "$out")" -eq $NGARBAGE ]
check "insecure: the garbage all comes from A's other port" \
    [ "$(awk -F'\t' '$10 $11 != "" && $2 != "10.9.0.1"' "$out" |
    wc -l)" -eq 0 ]
grep -v "MALFORMED" "$out" >"$out.good"
check "insecure: INIT from both" hs_both "$out.good" 1
check "insecure: RESP from both" hs_both "$out.good" 2
check "insecure: handshake tags verify under the zero key" \
    hs_tags_ok "$out.good"
check "insecure: every session frame decrypted" all_decrypted "$out.good"
nrec=$(state_recs "$out.good")
check "insecure: state records in the capture ($nrec) = A's tx_states ($txs)" \
    [ "$nrec" = "$txs" ]
nk=$(distinct_keys "$out.good")
check "insecure: the $N states decoded, each its own key ($nk)" \
    [ "$nrec" -ge $N -a "$nk" -eq $N ]
check "insecure: Info names the records" \
    grep -qE 'DATA sid=0x[0-9a-f]{8} seq=[0-9]+ [0-9]+ records: STATE' "$out"
check "insecure: HELLO and ACK decoded" \
    sh -c "grep -q 'CTRL.*HELLO' '$out' && grep -q 'REPLY.*ACK' '$out'"

# The keyed pair: sealed frames, opaque without the key.
phase key
out=$T_DIR/key.txt
decode "$T_DIR/key.pcap" "$out"
ndg=$(wc -l <"$out")
echo "# key: $ndg datagrams, $(bad "$out") flagged malformed"
check "key: no Lua error" no_lua_error "$out" "$T_DIR/key.pcap"
check "key: every datagram decoded as syncd ($ndg)" \
    [ "$ndg" -gt 0 -a "$(undecoded "$out")" -eq 0 ]
check "key: none malformed" [ "$(bad "$out")" -eq 0 ]
check "key: INIT from both" hs_both "$out" 1
check "key: RESP from both" hs_both "$out" 2
check "key: session frames shown as sealed" all_sealed "$out"
check "key: nothing decrypted without the key" none_decrypted "$out"
check "key: Info says SEALED" grep -qE 'SEALED DATA sid=0x[0-9a-f]{8} seq=' \
    "$out"
set -- $(data_seqs "$out")
echo "# key: A's DATA sequence numbers $1..$2 ($3 distinct), tx_seq $txseq"
check "key: A's DATA frames numbered 1..tx_seq-1 without a gap" \
    [ "$1" = 1 -a "$2" = $((txseq - 1)) -a "$3" = $((txseq - 1)) ]
# With the group key given, the same capture decrypts.
decode "$T_DIR/key.pcap" "$out.k" -o "syncd.key:$(cat "$(run_key)")"
check "key: with the key, no Lua error" no_lua_error "$out.k" \
    "$T_DIR/key.pcap" -o "syncd.key:$(cat "$(run_key)")"
check "key: with the key, handshake tags verify" hs_tags_ok "$out.k"
check "key: with the key, every session frame decrypted" \
    all_decrypted "$out.k"
nrec=$(state_recs "$out.k")
check "key: with the key, state records ($nrec) = A's tx_states ($txs)" \
    [ "$nrec" = "$txs" ]
# Another port in the preferences: nothing on 7475 is taken for syncd.
decode "$T_DIR/key.pcap" "$out.p" -o "syncd.port:7476"
check "the port preference moves the dissector" \
    [ "$(undecoded "$out.p")" -eq "$ndg" ]

# Every record type, malformed records, a forged tag, an unknown session
# and IPv6 identities, in frames made by tests/netns/syncpcap.py (its own
# BLAKE2b and ChaCha20-Poly1305): tshark prints exactly the values built.
crafted() {
	python3 "$TOP/tests/netns/syncpcap.py" "$T_DIR/c.pcap" "$T_DIR/c.exp" \
	    "$@" || return 1
	# shellcheck disable=SC2046
	tshark -X lua_script:"$LUA" -r "$T_DIR/c.pcap" $CRAFT_OPTS -T fields \
	    -E separator=/t -E occurrence=a -E aggregator=, \
	    $(python3 "$TOP/tests/netns/syncpcap.py" -f) >"$T_DIR/c.got" \
	    2>"$T_DIR/c.got.err"
	cmp -s "$T_DIR/c.exp" "$T_DIR/c.got" || {
		diff "$T_DIR/c.exp" "$T_DIR/c.got" | head -10 | sed 's/^/#   /'
		return 1
	}
}
CRAFT_OPTS=
check "crafted (insecure): every record and field as built" crafted
check "crafted (insecure): no Lua error" no_lua_error "$T_DIR/c.got" \
    "$T_DIR/c.pcap"
GK=$(cat "$(run_key)")
CRAFT_OPTS="-o syncd.key:$GK"
check "crafted (group key): every record and field as built" crafted "$GK"
CRAFT_OPTS=
decode "$T_DIR/c.pcap" "$T_DIR/c.nokey"
nokey_opaque() {
	[ "$(wc -l <"$1")" -eq "$(wc -l <"$T_DIR/c.exp")" ] &&
	    [ "$(awk -F'\t' '$8 == "1" || $7 == "1"' "$1" | wc -l)" -eq 0 ]
}
check "crafted (group key), without it: tags fail, nothing decrypted" \
    nokey_opaque "$T_DIR/c.nokey"

# Random records (known and unknown types, any length, cut bodies) in
# frames that decrypt: flagged, never a Lua error.
seed=$$
python3 "$TOP/tests/netns/syncpcap.py" -r $seed 300 "$T_DIR/r.pcap"
decode "$T_DIR/r.pcap" "$T_DIR/r.txt"
echo "# random records: seed $seed, $(bad "$T_DIR/r.txt") of" \
    "$(wc -l <"$T_DIR/r.txt") frames with malformed records"
check "random records: all 300 frames decrypted" \
    [ "$(awk -F'\t' '$7 == "1"' "$T_DIR/r.txt" | wc -l)" -eq 300 ]
check "random records: no Lua error" no_lua_error "$T_DIR/r.txt" \
    "$T_DIR/r.pcap"

-- contrib/wireshark/syncd.lua: a Wireshark dissector for the syncd sync
-- protocol, version 2 (docs/sync-protocol.md): the frame header, INIT and
-- RESP with their tags checked, session frames (DATA, CTRL, REPLY) shown
-- as sealed, and decrypted with their records decoded when the group key
-- is known: the all-zero key of --insecure by default, or the key given in
-- the preferences. Session keys are derived from the RESP messages seen in
-- the capture, so a capture must include the handshake.
--
-- Load: wireshark -X lua_script:contrib/wireshark/syncd.lua, or copy the
-- file to ~/.local/lib/wireshark/plugins/. Written for Lua 5.2 (bit32) as
-- in Wireshark 3.x and 4.0 and for Lua 5.3+ (native integers).

local syncd = Proto("syncd", "syncd sync protocol")

---------------------------------------------------------------------------
-- 32-bit helpers (bit32 where present, otherwise Lua 5.3 operators)
---------------------------------------------------------------------------
local band, bor, bxor, lshift, rshift, lrot
if bit32 then
	band, bor, bxor = bit32.band, bit32.bor, bit32.bxor
	lshift, rshift, lrot = bit32.lshift, bit32.rshift, bit32.lrotate
else
	band = load("return function(a, b) return a & b end")()
	bor = load("return function(a, b) return a | b end")()
	bxor = load("return function(a, b) return a ~ b end")()
	lshift = load("return function(a, n) return (a << n) & 0xffffffff end")()
	rshift = load("return function(a, n) return (a & 0xffffffff) >> n end")()
	lrot = load("return function(a, n) return ((a << n) | (a >> (32 - n))) & 0xffffffff end")()
end
local TWO32 = 4294967296

-- Little-endian 32-bit word of string s at byte index i (1-based).
local function le32(s, i)
	local a, b, c, d = s:byte(i, i + 3)
	return a + b * 256 + c * 65536 + d * 16777216
end

local function le32s(w)
	return string.char(w % 256, math.floor(w / 256) % 256,
	    math.floor(w / 65536) % 256, math.floor(w / 16777216) % 256)
end

---------------------------------------------------------------------------
-- BLAKE2b, 64-bit words as (hi, lo) pairs of 32-bit numbers
---------------------------------------------------------------------------
local B2_IV = {
	{0x6a09e667, 0xf3bcc908}, {0xbb67ae85, 0x84caa73b},
	{0x3c6ef372, 0xfe94f82b}, {0xa54ff53a, 0x5f1d36f1},
	{0x510e527f, 0xade682d1}, {0x9b05688c, 0x2b3e6c1f},
	{0x1f83d9ab, 0xfb41bd6b}, {0x5be0cd19, 0x137e2179},
}
local B2_SIGMA = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
}

-- v[i] = v[i] + v[j] (+ m), on hi/lo arrays.
local function add64(vh, vl, i, xh, xl)
	local lo = vl[i] + xl
	local carry = 0
	if lo >= TWO32 then
		lo = lo - TWO32
		carry = 1
	end
	vl[i] = lo
	vh[i] = (vh[i] + xh + carry) % TWO32
end

-- v[d] = rotr64(v[d] ^ v[a], n)
local function xrot(vh, vl, d, a, n)
	local h, l = bxor(vh[d], vh[a]), bxor(vl[d], vl[a])
	if n == 32 then
		vh[d], vl[d] = l, h
	elseif n < 32 then
		vh[d] = bor(rshift(h, n), lshift(l, 32 - n))
		vl[d] = bor(rshift(l, n), lshift(h, 32 - n))
	else -- 63: rotate left by one
		vh[d] = bor(lshift(h, 1), rshift(l, 31))
		vl[d] = bor(lshift(l, 1), rshift(h, 31))
	end
end

local function b2_g(vh, vl, a, b, c, d, mh, ml, x, y)
	add64(vh, vl, a, vh[b], vl[b]); add64(vh, vl, a, mh[x], ml[x])
	xrot(vh, vl, d, a, 32)
	add64(vh, vl, c, vh[d], vl[d])
	xrot(vh, vl, b, c, 24)
	add64(vh, vl, a, vh[b], vl[b]); add64(vh, vl, a, mh[y], ml[y])
	xrot(vh, vl, d, a, 16)
	add64(vh, vl, c, vh[d], vl[d])
	xrot(vh, vl, b, c, 63)
end

local function b2_compress(hh, hl, block, t, last)
	local mh, ml, vh, vl = {}, {}, {}, {}
	for i = 0, 15 do
		ml[i] = le32(block, 8 * i + 1)
		mh[i] = le32(block, 8 * i + 5)
	end
	for i = 0, 7 do
		vh[i], vl[i] = hh[i], hl[i]
		vh[i + 8], vl[i + 8] = B2_IV[i + 1][1], B2_IV[i + 1][2]
	end
	vl[12] = bxor(vl[12], t % TWO32)
	vh[12] = bxor(vh[12], math.floor(t / TWO32))
	if last then
		vh[14], vl[14] = bxor(vh[14], 0xffffffff), bxor(vl[14], 0xffffffff)
	end
	for r = 0, 11 do
		local s = B2_SIGMA[r % 10 + 1]
		b2_g(vh, vl, 0, 4, 8, 12, mh, ml, s[1], s[2])
		b2_g(vh, vl, 1, 5, 9, 13, mh, ml, s[3], s[4])
		b2_g(vh, vl, 2, 6, 10, 14, mh, ml, s[5], s[6])
		b2_g(vh, vl, 3, 7, 11, 15, mh, ml, s[7], s[8])
		b2_g(vh, vl, 0, 5, 10, 15, mh, ml, s[9], s[10])
		b2_g(vh, vl, 1, 6, 11, 12, mh, ml, s[11], s[12])
		b2_g(vh, vl, 2, 7, 8, 13, mh, ml, s[13], s[14])
		b2_g(vh, vl, 3, 4, 9, 14, mh, ml, s[15], s[16])
	end
	for i = 0, 7 do
		hh[i] = bxor(hh[i], bxor(vh[i], vh[i + 8]))
		hl[i] = bxor(hl[i], bxor(vl[i], vl[i + 8]))
	end
end

-- Keyed BLAKE2b of msg (strings), outlen bytes.
local function blake2b(key, msg, outlen)
	local hh, hl = {}, {}
	for i = 0, 7 do
		hh[i], hl[i] = B2_IV[i + 1][1], B2_IV[i + 1][2]
	end
	hl[0] = bxor(hl[0], 0x01010000 + #key * 256 + outlen)
	local data = msg
	if #key > 0 then
		data = key .. string.rep("\0", 128 - #key) .. msg
	end
	local n = #data
	local off, t = 0, 0
	repeat
		local blk = data:sub(off + 1, off + 128)
		t = t + #blk
		off = off + 128
		local last = off >= n
		if #blk < 128 then
			blk = blk .. string.rep("\0", 128 - #blk)
		end
		b2_compress(hh, hl, blk, t, last)
	until off >= n
	local out = {}
	for i = 0, 7 do
		out[#out + 1] = le32s(hl[i]) .. le32s(hh[i])
	end
	return table.concat(out):sub(1, outlen)
end

---------------------------------------------------------------------------
-- ChaCha20 (IETF) and Poly1305
---------------------------------------------------------------------------
local function add32(a, b)
	return (a + b) % TWO32
end

local function qr(x, a, b, c, d)
	x[a] = add32(x[a], x[b]); x[d] = lrot(bxor(x[d], x[a]), 16)
	x[c] = add32(x[c], x[d]); x[b] = lrot(bxor(x[b], x[c]), 12)
	x[a] = add32(x[a], x[b]); x[d] = lrot(bxor(x[d], x[a]), 8)
	x[c] = add32(x[c], x[d]); x[b] = lrot(bxor(x[b], x[c]), 7)
end

local function chacha_block(key, counter, nonce)
	local s = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574}
	for i = 0, 7 do
		s[5 + i] = le32(key, 4 * i + 1)
	end
	s[13] = counter
	for i = 0, 2 do
		s[14 + i] = le32(nonce, 4 * i + 1)
	end
	local x = {}
	for i = 1, 16 do
		x[i] = s[i]
	end
	for _ = 1, 10 do
		qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14)
		qr(x, 3, 7, 11, 15); qr(x, 4, 8, 12, 16)
		qr(x, 1, 6, 11, 16); qr(x, 2, 7, 12, 13)
		qr(x, 3, 8, 9, 14); qr(x, 4, 5, 10, 15)
	end
	local out = {}
	for i = 1, 16 do
		out[i] = le32s(add32(x[i], s[i]))
	end
	return table.concat(out)
end

local function chacha_xor(key, nonce, counter, data)
	local out = {}
	for off = 1, #data, 64 do
		local ks = chacha_block(key, counter, nonce)
		counter = counter + 1
		local chunk = data:sub(off, off + 63)
		local o = {}
		for i = 1, #chunk do
			o[i] = string.char(bxor(chunk:byte(i), ks:byte(i)))
		end
		out[#out + 1] = table.concat(o)
	end
	return table.concat(out)
end

-- Poly1305 over msg with a 32-byte one-time key, in 17 limbs of 8 bits
-- (exact in doubles).
local function p1305_add(h, c)
	local u = 0
	for j = 0, 16 do
		u = u + h[j] + c[j]
		h[j] = u % 256
		u = math.floor(u / 256)
	end
end

local function p1305_mul(h, r)
	local x = {}
	for i = 0, 16 do
		local acc = 0
		for j = 0, 16 do
			if j <= i then
				acc = acc + h[j] * r[i - j]
			else
				acc = acc + h[j] * 320 * r[i + 17 - j]
			end
		end
		x[i] = acc
	end
	local u = 0
	for j = 0, 15 do
		u = u + x[j]
		x[j] = u % 256
		u = math.floor(u / 256)
	end
	u = u + x[16]
	x[16] = u % 4
	u = 5 * math.floor(u / 4)
	for j = 0, 15 do
		u = u + x[j]
		x[j] = u % 256
		u = math.floor(u / 256)
	end
	x[16] = x[16] + u
	return x
end

local function poly1305(msg, key)
	local r, h = {}, {}
	for j = 0, 15 do
		r[j] = key:byte(j + 1)
	end
	r[16] = 0
	r[3] = r[3] % 16; r[7] = r[7] % 16; r[11] = r[11] % 16
	r[15] = r[15] % 16
	r[4] = r[4] - r[4] % 4; r[8] = r[8] - r[8] % 4
	r[12] = r[12] - r[12] % 4
	for j = 0, 16 do
		h[j] = 0
	end
	for off = 1, #msg, 16 do
		local blk = msg:sub(off, off + 15)
		local c = {}
		for j = 0, 16 do
			c[j] = 0
		end
		for j = 1, #blk do
			c[j - 1] = blk:byte(j)
		end
		c[#blk] = 1
		p1305_add(h, c)
		h = p1305_mul(h, r)
	end
	local g = {}
	for j = 0, 16 do
		g[j] = h[j]
	end
	local minusp = {[0] = 5}
	for j = 1, 15 do
		minusp[j] = 0
	end
	minusp[16] = 252
	p1305_add(g, minusp)
	if g[16] >= 128 then -- h < p: keep h
		g = h
	end
	local s = {}
	for j = 0, 15 do
		s[j] = key:byte(17 + j)
	end
	s[16] = 0
	p1305_add(g, s)
	local out = {}
	for j = 0, 15 do
		out[j + 1] = string.char(g[j])
	end
	return table.concat(out)
end

local function pad16(s)
	local r = #s % 16
	if r == 0 then
		return s
	end
	return s .. string.rep("\0", 16 - r)
end

local function le64s(n)
	return le32s(n % TWO32) .. le32s(math.floor(n / TWO32))
end

-- ChaCha20-Poly1305 (IETF) open: plaintext or nil.
local function aead_open(key, nonce, ad, ct, tag)
	local otk = chacha_block(key, 0, nonce):sub(1, 32)
	local mac = poly1305(pad16(ad) .. pad16(ct) .. le64s(#ad) ..
	    le64s(#ct), otk)
	if mac ~= tag then
		return nil
	end
	return chacha_xor(key, nonce, 1, ct)
end

---------------------------------------------------------------------------
-- Protocol constants and fields
---------------------------------------------------------------------------
local HDRLEN, TAGLEN = 16, 16
-- proto/sync.h: SYNC_INIT_LEN 16+1+4+8+32+16, SYNC_RESP_LEN 16+32+32+16.
local INIT_LEN, RESP_LEN = 77, 96

local ftype_names = {[1] = "INIT", [2] = "RESP", [3] = "DATA",
    [4] = "CTRL", [5] = "REPLY"}
local rec_names = {[1] = "STATE", [2] = "UPDATE", [3] = "DELETE",
    [4] = "EXPECT", [5] = "EXPECT_DEL", [16] = "HELLO", [17] = "ACK",
    [18] = "BULK_REQ", [19] = "BULK_BEGIN", [20] = "BULK_END",
    [21] = "SKIP", [22] = "DIFF_REQ", [23] = "DIFF_STATE",
    [24] = "DIFF_END", [25] = "TAKEOVER"}
-- Which frame type may carry a known record (4 of the spec).
local rec_frame = {[1] = 3, [2] = 3, [3] = 3, [4] = 3, [5] = 3, [19] = 3,
    [20] = 3, [23] = 3, [24] = 3, [25] = 3, [16] = 4, [21] = 4, [17] = 5,
    [18] = 5, [22] = 5}
local proto_names = {[1] = "ICMP", [6] = "TCP", [17] = "UDP",
    [33] = "DCCP", [47] = "GRE", [58] = "ICMPv6", [132] = "SCTP",
    [136] = "UDPLite"}
local tcp_states = {[0] = "NONE", [1] = "SYN_SENT", [2] = "SYN_RECV",
    [3] = "ESTABLISHED", [4] = "FIN_WAIT", [5] = "CLOSE_WAIT",
    [6] = "LAST_ACK", [7] = "TIME_WAIT", [8] = "CLOSE", [9] = "SYN_SENT2"}
local sctp_states = {[0] = "NONE", [1] = "CLOSED", [2] = "COOKIE_WAIT",
    [3] = "COOKIE_ECHOED", [4] = "ESTABLISHED", [5] = "SHUTDOWN_SENT",
    [6] = "SHUTDOWN_RECD", [7] = "SHUTDOWN_ACK_SENT",
    [8] = "HEARTBEAT_SENT", [9] = "HEARTBEAT_ACKED"}

local F = {}
local function field(name, ...)
	F[name] = ...
end
local b = base
field("magic", ProtoField.bytes("syncd.magic", "Magic"))
field("version", ProtoField.uint8("syncd.version", "Version"))
field("type", ProtoField.uint8("syncd.type", "Type", b.DEC, ftype_names))
field("sid", ProtoField.uint32("syncd.sid", "Session id", b.HEX))
field("seq", ProtoField.uint64("syncd.seq", "Sequence number"))
field("tag", ProtoField.bytes("syncd.tag", "Tag"))
field("tag_ok", ProtoField.bool("syncd.tag_ok", "Tag verified"))
field("init_flags", ProtoField.uint8("syncd.init.flags", "Flags", b.HEX))
field("init_rekey", ProtoField.bool("syncd.init.rekey", "Rekey", 8, nil, 0x01))
field("rx_sid", ProtoField.uint32("syncd.init.rx_sid", "Session received (rx_sid)", b.HEX))
field("seq0", ProtoField.uint64("syncd.init.seq0", "First sequence number (seq0)"))
field("nonce_s", ProtoField.bytes("syncd.nonce_s", "Sender nonce (nonce_s)"))
field("nonce_r", ProtoField.bytes("syncd.nonce_r", "Receiver nonce (nonce_r)"))
field("sealed", ProtoField.bool("syncd.sealed", "Sealed"))
field("aead_nonce", ProtoField.string("syncd.aead_nonce", "AEAD nonce (type, 0, 0, 0, sequence)"))
field("ct", ProtoField.bytes("syncd.ciphertext", "Ciphertext"))
field("ct_len", ProtoField.uint32("syncd.ciphertext_len", "Ciphertext length"))
field("decrypted", ProtoField.bool("syncd.decrypted", "Decrypted"))
field("nrec", ProtoField.uint32("syncd.records", "Records"))
field("rec", ProtoField.bytes("syncd.rec", "Record"))
field("rec_type", ProtoField.uint8("syncd.rec.type", "Record type", b.DEC, rec_names))
field("rec_len", ProtoField.uint8("syncd.rec.len", "Length"))
field("rec_data", ProtoField.bytes("syncd.rec.data", "Value"))
field("rec_extra", ProtoField.bytes("syncd.rec.extra", "Bytes after the known fields"))
field("kflags", ProtoField.uint8("syncd.key.flags", "Key flags", b.HEX))
field("kf_v6", ProtoField.bool("syncd.key.v6", "IPv6", 8, nil, 0x01))
field("kf_zone", ProtoField.bool("syncd.key.zone_present", "Zone present", 8, nil, 0x02))
field("proto", ProtoField.uint8("syncd.proto", "Protocol", b.DEC, proto_names))
field("zone", ProtoField.uint16("syncd.zone", "Zone"))
field("src4", ProtoField.ipv4("syncd.src", "Source"))
field("dst4", ProtoField.ipv4("syncd.dst", "Destination"))
field("src6", ProtoField.ipv6("syncd.src6", "Source"))
field("dst6", ProtoField.ipv6("syncd.dst6", "Destination"))
field("sport", ProtoField.uint16("syncd.sport", "Source port"))
field("dport", ProtoField.uint16("syncd.dport", "Destination port"))
field("tflags", ProtoField.uint8("syncd.tuple.flags", "Tuple flags", b.HEX))
field("wflags", ProtoField.uint16("syncd.state.wflags", "Fields present", b.HEX))
field("status", ProtoField.uint32("syncd.status", "Status (IPS_*)", b.HEX))
field("timeout", ProtoField.uint32("syncd.timeout", "Timeout (s)"))
field("mark", ProtoField.uint32("syncd.mark", "Mark", b.HEX))
field("labels", ProtoField.bytes("syncd.labels", "Labels"))
field("helper_len", ProtoField.uint8("syncd.helper_len", "Helper name length"))
field("helper", ProtoField.string("syncd.helper", "Helper"))
field("seqadj_pos", ProtoField.uint32("syncd.seqadj.pos", "Sequence adjustment position"))
field("seqadj_before", ProtoField.uint32("syncd.seqadj.before", "Offset before"))
field("seqadj_after", ProtoField.uint32("syncd.seqadj.after", "Offset after"))
field("tcp_state", ProtoField.uint8("syncd.tcp.state", "TCP state", b.DEC, tcp_states))
field("wscale_o", ProtoField.uint8("syncd.tcp.wscale_orig", "TCP window scale, original"))
field("wscale_r", ProtoField.uint8("syncd.tcp.wscale_reply", "TCP window scale, reply"))
field("tcp_flags_o", ProtoField.uint8("syncd.tcp.flags_orig", "TCP conntrack flags, original", b.HEX))
field("tcp_flags_r", ProtoField.uint8("syncd.tcp.flags_reply", "TCP conntrack flags, reply", b.HEX))
field("sctp_state", ProtoField.uint8("syncd.sctp.state", "SCTP state", b.DEC, sctp_states))
field("vtag_o", ProtoField.uint32("syncd.sctp.vtag_orig", "SCTP verification tag, original", b.HEX))
field("vtag_r", ProtoField.uint32("syncd.sctp.vtag_reply", "SCTP verification tag, reply", b.HEX))
field("umask", ProtoField.uint8("syncd.update.mask", "Changed fields", b.HEX))
field("eflags", ProtoField.uint8("syncd.expect.flags", "Expectation flags", b.HEX))
field("e_timeout", ProtoField.uint32("syncd.expect.timeout", "Timeout"))
field("e_flags", ProtoField.uint32("syncd.expect.eflags", "Flags", b.HEX))
field("e_class", ProtoField.uint32("syncd.expect.class", "Class"))
field("nat_dir", ProtoField.uint8("syncd.expect.nat_dir", "NAT direction"))
field("h_flags", ProtoField.uint8("syncd.hello.flags", "Flags", b.HEX))
field("h_bulk", ProtoField.bool("syncd.hello.bulk_done", "First bulk done", 8, nil, 0x01))
field("h_has_paths", ProtoField.bool("syncd.hello.has_paths", "Path report follows", 8, nil, 0x02))
field("h_internal", ProtoField.uint32("syncd.hello.internal", "Internal states"))
field("h_paths", ProtoField.uint8("syncd.hello.paths", "Paths the sender hears (bit i: the receiver's address i)", b.HEX))
field("ack_next", ProtoField.uint64("syncd.ack.next", "Next expected"))
field("ack_n", ProtoField.uint8("syncd.ack.ranges", "Missing ranges"))
field("ack_from", ProtoField.uint64("syncd.ack.from", "Missing from"))
field("ack_to", ProtoField.uint64("syncd.ack.to", "Missing to"))
field("ctl_id", ProtoField.uint32("syncd.id", "Request id", b.HEX))
field("ctl_count", ProtoField.uint32("syncd.count", "Count"))
field("bulk_flags", ProtoField.uint32("syncd.bulk.flags", "Bulk request flags", b.HEX))
field("bulk_holds", ProtoField.bool("syncd.bulk.holds", "Requester holds our states (whole table only)", 32, nil, 0x01))
field("skip_next", ProtoField.uint64("syncd.skip.next", "Oldest retained sequence number"))

-- Bit fields of the status word, STATE wflags and UPDATE mask.
local status_bits = {{0x1, "EXPECTED"}, {0x2, "SEEN_REPLY"},
    {0x4, "ASSURED"}, {0x8, "CONFIRMED"}, {0x10, "SRC_NAT"},
    {0x20, "DST_NAT"}, {0x40, "SEQ_ADJUST"}, {0x80, "SRC_NAT_DONE"},
    {0x100, "DST_NAT_DONE"}, {0x200, "DYING"}, {0x400, "FIXED_TIMEOUT"},
    {0x800, "TEMPLATE"}, {0x1000, "NAT_CLASH"}, {0x2000, "HELPER"},
    {0x4000, "OFFLOAD"}, {0x8000, "HW_OFFLOAD"}}
local wflag_bits = {{0x1, "timeout"}, {0x2, "reply"}, {0x4, "mark"},
    {0x8, "labels"}, {0x10, "helper"}, {0x20, "master"}, {0x40, "seqadj"},
    {0x80, "tcp"}, {0x100, "sctp"}}
local umask_bits = {{0x1, "status"}, {0x2, "timeout"}, {0x4, "tcp"},
    {0x8, "mark"}, {0x10, "labels"}}
local status_f, wflag_f, umask_f = {}, {}, {}
for _, v in ipairs(status_bits) do
	status_f[#status_f + 1] = ProtoField.bool("syncd.status." ..
	    v[2]:lower(), "IPS_" .. v[2], 32, nil, v[1])
end
for _, v in ipairs(wflag_bits) do
	wflag_f[#wflag_f + 1] = ProtoField.bool("syncd.state.has_" .. v[2],
	    v[2], 16, nil, v[1])
end
for _, v in ipairs(umask_bits) do
	umask_f[#umask_f + 1] = ProtoField.bool("syncd.update.has_" .. v[2],
	    v[2], 8, nil, v[1])
end

local fl = {}
for _, f in pairs(F) do
	fl[#fl + 1] = f
end
for _, t in ipairs({status_f, wflag_f, umask_f}) do
	for _, f in ipairs(t) do
		fl[#fl + 1] = f
	end
end
syncd.fields = fl

local E = {
	malformed = ProtoExpert.new("syncd.malformed", "Malformed syncd frame",
	    expert.group.MALFORMED, expert.severity.ERROR),
	short_rec = ProtoExpert.new("syncd.rec.short",
	    "Record value too short for its fields",
	    expert.group.MALFORMED, expert.severity.ERROR),
	overrun = ProtoExpert.new("syncd.rec.overrun",
	    "Record length overruns the body", expert.group.MALFORMED,
	    expert.severity.ERROR),
	wrong_frame = ProtoExpert.new("syncd.rec.wrong_frame",
	    "Known record in a frame type that may not carry it",
	    expert.group.PROTOCOL, expert.severity.WARN),
	unknown = ProtoExpert.new("syncd.rec.unknown", "Unknown record type",
	    expert.group.UNDECODED, expert.severity.NOTE),
	bad_tag = ProtoExpert.new("syncd.bad_tag",
	    "Handshake tag does not verify under the group key",
	    expert.group.SECURITY, expert.severity.WARN),
	no_key = ProtoExpert.new("syncd.no_session",
	    "Sealed: no session key (handshake not captured or other key)",
	    expert.group.DECRYPTION, expert.severity.NOTE),
	auth = ProtoExpert.new("syncd.auth_failed",
	    "Sealed: the tag does not verify under the session key",
	    expert.group.DECRYPTION, expert.severity.WARN),
}
syncd.experts = {E.malformed, E.short_rec, E.overrun, E.wrong_frame,
    E.unknown, E.bad_tag, E.no_key, E.auth}

syncd.prefs.port = Pref.uint("UDP port", 7475, "The sync port (syncd --port)")
syncd.prefs.key = Pref.string("Group key", "",
    "The group key as 64 hex digits (syncd genkey); empty: the all-zero " ..
    "key of syncd --insecure")
syncd.prefs.decrypt = Pref.bool("Decrypt session frames", true,
    "Derive session keys from captured handshakes and decrypt DATA, " ..
    "CTRL and REPLY frames")

---------------------------------------------------------------------------
-- Keys and sessions seen in the capture
---------------------------------------------------------------------------
local group_key = string.rep("\0", 32)
local sessions = {}	-- sid -> list of {fwd, rev}
local plain = {}	-- frame number -> decrypted body or false

local function parse_key(s)
	s = (s or ""):gsub("%s", "")
	if s == "" then
		return string.rep("\0", 32)
	end
	if #s ~= 64 or s:find("[^%x]") then
		return nil
	end
	return (s:gsub("%x%x", function(h)
		return string.char(tonumber(h, 16))
	end))
end

local function kdf(label, parts, outlen)
	return blake2b(group_key, label .. "\0" .. table.concat(parts), outlen)
end

-- A member's identity: address as IPv6 (IPv4 mapped) and port.
local function identity(addr, port)
	local a = tostring(addr)
	local raw
	if a:find(":") then
		-- expand an IPv6 text address
		local head, tail = a:match("^(.-)::(.*)$")
		local groups = {}
		local function split(s)
			local t = {}
			for g in s:gmatch("[^:]+") do
				t[#t + 1] = g
			end
			return t
		end
		if head then
			local h, t = split(head), split(tail)
			for _, g in ipairs(h) do groups[#groups + 1] = g end
			for _ = 1, 8 - #h - #t do groups[#groups + 1] = "0" end
			for _, g in ipairs(t) do groups[#groups + 1] = g end
		else
			groups = split(a)
		end
		local out = {}
		for _, g in ipairs(groups) do
			local v = tonumber(g, 16) or 0
			out[#out + 1] = string.char(math.floor(v / 256), v % 256)
		end
		raw = table.concat(out)
	else
		local o = {a:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")}
		if #o ~= 4 then
			return nil
		end
		raw = string.rep("\0", 10) .. "\255\255" .. string.char(
		    tonumber(o[1]), tonumber(o[2]), tonumber(o[3]), tonumber(o[4]))
	end
	if #raw ~= 16 then
		return nil
	end
	return raw .. string.char(math.floor(port / 256), port % 256)
end

function syncd.init()
	group_key = parse_key(syncd.prefs.key) or string.rep("\0", 32)
	sessions = {}
	plain = {}
end

---------------------------------------------------------------------------
-- Records
---------------------------------------------------------------------------

-- A bounded reader over a record value: every read checks the length and
-- returns nil when the value is too short.
local function reader(tvb, off, len)
	return {tvb = tvb, off = off, stop = off + len}
end

local function take(r, n)
	if r.off + n > r.stop then
		r.short = true
		return nil
	end
	local rg = r.tvb(r.off, n)
	r.off = r.off + n
	return rg
end

local function add_bits(tree, rg, fields)
	for _, f in ipairs(fields) do
		tree:add(f, rg)
	end
end

-- Addresses of a family (v6 true/false), then ports.
local function rd_addrs(r, tree, v6)
	local n = v6 and 16 or 4
	local s, d = take(r, n), take(r, n)
	if not d then
		return nil
	end
	tree:add(v6 and F.src6 or F.src4, s)
	tree:add(v6 and F.dst6 or F.dst4, d)
	if v6 then
		return "[" .. tostring(s:ipv6()) .. "]", "[" ..
		    tostring(d:ipv6()) .. "]"
	end
	return tostring(s:ipv4()), tostring(d:ipv4())
end

local function rd_ports(r, tree)
	local sp, dp = take(r, 2), take(r, 2)
	if not dp then
		return nil
	end
	tree:add(F.sport, sp)
	tree:add(F.dport, dp)
	return sp:uint(), dp:uint()
end

local function proto_name(p)
	return proto_names[p] or tostring(p)
end

-- kflags, proto, [zone], addresses, ports: the state key.
local function rd_key(r, tree)
	local fr = take(r, 1)
	if not fr then return nil end
	local kt = tree:add(F.kflags, fr)
	kt:add(F.kf_v6, fr); kt:add(F.kf_zone, fr)
	local f = fr:uint()
	local pr = take(r, 1)
	if not pr then return nil end
	tree:add(F.proto, pr)
	if band(f, 2) ~= 0 then
		local z = take(r, 2)
		if not z then return nil end
		tree:add(F.zone, z)
	end
	local a, d = rd_addrs(r, tree, band(f, 1) ~= 0)
	if not a then return nil end
	local sp, dp = rd_ports(r, tree)
	if not sp then return nil end
	return string.format("%s %s:%d > %s:%d", proto_name(pr:uint()), a, sp,
	    d, dp)
end

-- A tuple: flags, proto, addresses, ports.
local function rd_tuple(r, tree, label)
	local t = tree:add(syncd, r.tvb(r.off, math.max(0, math.min(
	    r.stop - r.off, 1))), label)
	local start = r.off
	local fr = take(r, 1)
	if not fr then return nil end
	t:add(F.tflags, fr)
	local pr = take(r, 1)
	if not pr then return nil end
	t:add(F.proto, pr)
	local a, d = rd_addrs(r, t, band(fr:uint(), 1) ~= 0)
	if not a then return nil end
	local sp, dp = rd_ports(r, t)
	if not sp then return nil end
	t:set_len(r.off - start)
	t:append_text(string.format(": %s %s:%d > %s:%d",
	    proto_name(pr:uint()), a, sp, d, dp))
	return true
end

local function rd_u(r, tree, f, n)
	local rg = take(r, n)
	if not rg then return nil end
	return tree:add(f, rg), rg
end

local function rd_helper(r, tree)
	local lr = take(r, 1)
	if not lr then return nil end
	tree:add(F.helper_len, lr)
	local n = lr:uint()
	if n == 0 or n > 15 then
		r.short = true
		return nil
	end
	local s = take(r, n)
	if not s then return nil end
	tree:add(F.helper, s)
	return true
end

-- STATE and DIFF_STATE (5.2). Returns a one-line summary.
local function dis_state(r, tree, v6key)
	local key = rd_key(r, tree)
	if not key then return nil end
	local wt, wr = rd_u(r, tree, F.wflags, 2)
	if not wt then return nil end
	add_bits(wt, wr, wflag_f)
	local w = wr:uint()
	local st, sr = rd_u(r, tree, F.status, 4)
	if not st then return nil end
	add_bits(st, sr, status_f)
	local v6 = v6key
	if band(w, 0x1) ~= 0 and not rd_u(r, tree, F.timeout, 4) then return nil end
	if band(w, 0x2) ~= 0 then
		local rt = tree:add(syncd, r.tvb(r.off, 0), "Reply tuple")
		if not rd_addrs(r, rt, v6) or not rd_ports(r, rt) then return nil end
	end
	if band(w, 0x4) ~= 0 and not rd_u(r, tree, F.mark, 4) then return nil end
	if band(w, 0x8) ~= 0 and not rd_u(r, tree, F.labels, 16) then return nil end
	if band(w, 0x10) ~= 0 and not rd_helper(r, tree) then return nil end
	if band(w, 0x20) ~= 0 and not rd_tuple(r, tree, "Master tuple") then
		return nil
	end
	if band(w, 0x40) ~= 0 then
		for _, dir in ipairs({"Original", "Reply"}) do
			local st = tree:add(syncd, r.tvb(r.off, 0),
			    dir .. " sequence adjustment")
			if not rd_u(r, st, F.seqadj_pos, 4) or
			    not rd_u(r, st, F.seqadj_before, 4) or
			    not rd_u(r, st, F.seqadj_after, 4) then
				return nil
			end
		end
	end
	if band(w, 0x80) ~= 0 then
		if not rd_u(r, tree, F.tcp_state, 1) or
		    not rd_u(r, tree, F.wscale_o, 1) or
		    not rd_u(r, tree, F.wscale_r, 1) or
		    not rd_u(r, tree, F.tcp_flags_o, 1) or
		    not rd_u(r, tree, F.tcp_flags_r, 1) then
			return nil
		end
	end
	if band(w, 0x100) ~= 0 then
		if not rd_u(r, tree, F.sctp_state, 1) or
		    not rd_u(r, tree, F.vtag_o, 4) or
		    not rd_u(r, tree, F.vtag_r, 4) then
			return nil
		end
	end
	return key
end

-- UPDATE (5.3).
local function dis_update(r, tree)
	local key = rd_key(r, tree)
	if not key then return nil end
	local mt, mr = rd_u(r, tree, F.umask, 1)
	if not mt then return nil end
	add_bits(mt, mr, umask_f)
	local m = mr:uint()
	if band(m, 0x1) ~= 0 then
		local st, sr = rd_u(r, tree, F.status, 4)
		if not st then return nil end
		add_bits(st, sr, status_f)
	end
	if band(m, 0x2) ~= 0 and not rd_u(r, tree, F.timeout, 4) then return nil end
	if band(m, 0x4) ~= 0 then
		if not rd_u(r, tree, F.tcp_state, 1) or
		    not rd_u(r, tree, F.tcp_flags_o, 1) or
		    not rd_u(r, tree, F.tcp_flags_r, 1) then
			return nil
		end
	end
	if band(m, 0x8) ~= 0 and not rd_u(r, tree, F.mark, 4) then return nil end
	if band(m, 0x10) ~= 0 and not rd_u(r, tree, F.labels, 16) then return nil end
	return key
end

-- EXPECT and EXPECT_DEL (5.5).
local function dis_expect(r, tree)
	local ft, fr = rd_u(r, tree, F.eflags, 1)
	if not ft then return nil end
	local f = fr:uint()
	if band(f, 0x4) ~= 0 and not rd_u(r, tree, F.zone, 2) then return nil end
	if not rd_tuple(r, tree, "Master tuple") or
	    not rd_tuple(r, tree, "Expected tuple") or
	    not rd_tuple(r, tree, "Mask tuple") or
	    not rd_u(r, tree, F.e_timeout, 4) or
	    not rd_u(r, tree, F.e_flags, 4) or
	    not rd_u(r, tree, F.e_class, 4) then
		return nil
	end
	if band(f, 0x1) ~= 0 then
		if not rd_u(r, tree, F.nat_dir, 1) or
		    not rd_tuple(r, tree, "NAT tuple") then
			return nil
		end
	end
	if band(f, 0x2) ~= 0 and not rd_helper(r, tree) then return nil end
	return ""
end

-- ACK (5.7): ranges as offsets from next, shown as absolute numbers.
local function dis_ack(r, tree)
	local nt, nr = rd_u(r, tree, F.ack_next, 8)
	if not nt then return nil end
	local ct, cr = rd_u(r, tree, F.ack_n, 1)
	if not ct then return nil end
	local next = nr:uint64()
	local n = cr:uint()
	if n > 16 then
		r.short = true
		return nil
	end
	for _ = 1, n do
		local fr, tr = take(r, 4), take(r, 4)
		if not tr then return nil end
		local rt = tree:add(syncd, r.tvb(fr:offset(), 8), "Missing range")
		rt:add(F.ack_from, fr, next + fr:uint())
		rt:add(F.ack_to, tr, next + tr:uint())
		rt:append_text(string.format(" (+%d..+%d)", fr:uint(), tr:uint()))
		if fr:uint() > tr:uint() then
			r.short = true
			return nil
		end
	end
	return string.format("next=%s", tostring(next))
end

local function dis_simple(rtype, r, tree)
	if rtype == 16 then
		local ht, hr = rd_u(r, tree, F.h_flags, 1)
		if not ht then return nil end
		ht:add(F.h_bulk, hr)
		ht:add(F.h_has_paths, hr)
		if not rd_u(r, tree, F.h_internal, 4) then return nil end
		-- A path report (several addresses of one member).
		if band(hr:uint(), 0x02) ~= 0 and
		    not rd_u(r, tree, F.h_paths, 1) then
			return nil
		end
	elseif rtype == 21 then
		if not rd_u(r, tree, F.skip_next, 8) then return nil end
	else
		if not rd_u(r, tree, F.ctl_id, 4) then return nil end
		if (rtype == 20 or rtype == 24 or rtype == 25) and
		    not rd_u(r, tree, F.ctl_count, 4) then
			return nil
		end
		-- BULK_REQ flags (absent from older senders)
		if rtype == 18 and r.stop - r.off >= 4 then
			local ft, fr = rd_u(r, tree, F.bulk_flags, 4)
			ft:add(F.bulk_holds, fr)
		end
	end
	return ""
end

local function dis_value(rtype, r, tree)
	if rtype == 1 or rtype == 23 then
		local v6 = r.stop > r.off and band(r.tvb(r.off, 1):uint(), 1) ~= 0
		return dis_state(r, tree, v6)
	elseif rtype == 2 then
		return dis_update(r, tree)
	elseif rtype == 3 then
		return rd_key(r, tree)
	elseif rtype == 4 or rtype == 5 then
		return dis_expect(r, tree)
	elseif rtype == 17 then
		return dis_ack(r, tree)
	else
		return dis_simple(rtype, r, tree)
	end
end

-- The records of a decrypted body; returns the summary for Info.
local function dis_records(tvb, tree, ftype)
	local off, len = 0, tvb:len()
	local counts, order, n = {}, {}, 0
	local bt = tree:add(syncd, tvb(), "Records")
	while off < len do
		if len - off < 2 then
			bt:add_proto_expert_info(E.overrun,
			    "Record header cut short at the end of the body")
			break
		end
		local rtype, rlen = tvb(off, 1):uint(), tvb(off + 1, 1):uint()
		if off + 2 + rlen > len then
			local t = bt:add(F.rec, tvb(off, len - off))
			t:add(F.rec_type, tvb(off, 1))
			t:add(F.rec_len, tvb(off + 1, 1))
			t:add_proto_expert_info(E.overrun, string.format(
			    "Record length %d overruns the body (%d bytes left)",
			    rlen, len - off - 2))
			break
		end
		local name = rec_names[rtype] or string.format("UNKNOWN(%d)", rtype)
		local t = bt:add(F.rec, tvb(off, 2 + rlen))
		t:set_text(name)
		t:add(F.rec_type, tvb(off, 1))
		t:add(F.rec_len, tvb(off + 1, 1))
		n = n + 1
		if not counts[name] then
			order[#order + 1] = name
			counts[name] = 0
		end
		counts[name] = counts[name] + 1
		if not rec_names[rtype] then
			if rlen > 0 then
				t:add(F.rec_data, tvb(off + 2, rlen))
			end
			t:add_proto_expert_info(E.unknown, string.format(
			    "Unknown record type %d, %d bytes skipped", rtype, rlen))
		else
			if rec_frame[rtype] ~= ftype then
				t:add_proto_expert_info(E.wrong_frame)
			end
			local r = reader(tvb, off + 2, rlen)
			local sum = dis_value(rtype, r, t)
			if not sum then
				t:add_proto_expert_info(E.short_rec, string.format(
				    "%s value of %d bytes too short for its fields",
				    name, rlen))
			else
				if sum ~= "" then
					t:append_text(": " .. sum)
				end
				if r.off < r.stop then
					t:add(F.rec_extra, tvb(r.off, r.stop - r.off))
				end
			end
		end
		off = off + 2 + rlen
	end
	bt:append_text(string.format(" (%d)", n))
	tree:add(F.nrec, tvb(), n):set_generated()
	local parts = {}
	for _, name in ipairs(order) do
		if counts[name] > 1 then
			parts[#parts + 1] = name .. "\195\151" .. counts[name]
		else
			parts[#parts + 1] = name
		end
	end
	return string.format("%d record%s: %s", n, n == 1 and "" or "s",
	    table.concat(parts, " "))
end

---------------------------------------------------------------------------
-- Frames
---------------------------------------------------------------------------

local function check_tag(tvb, tree, hskey)
	local len = tvb:len()
	local want = blake2b(hskey, tvb:raw(0, len - TAGLEN), TAGLEN)
	local ok = want == tvb:raw(len - TAGLEN, TAGLEN)
	tree:add(F.tag, tvb(len - TAGLEN, TAGLEN))
	tree:add(F.tag_ok, ok):set_generated()
	if not ok then
		tree:add_proto_expert_info(E.bad_tag)
	end
	return ok
end

local function dis_init(tvb, pinfo, tree)
	local ft = tree:add(F.init_flags, tvb(16, 1))
	ft:add(F.init_rekey, tvb(16, 1))
	tree:add(F.rx_sid, tvb(17, 4))
	tree:add(F.seq0, tvb(21, 8))
	tree:add(F.nonce_s, tvb(29, 32))
	local s = identity(pinfo.src, pinfo.src_port)
	local d = identity(pinfo.dst, pinfo.dst_port)
	if s and d then
		check_tag(tvb, tree, kdf("syncd2 handshake", {s, d}, 32))
	else
		tree:add(F.tag, tvb(61, 16))
	end
	return string.format("INIT rx_sid=0x%08x seq0=%s%s", tvb(17, 4):uint(),
	    tostring(tvb(21, 8):uint64()),
	    band(tvb(16, 1):uint(), 1) ~= 0 and " rekey" or "")
end

-- RESP: from the receiver R to the sender S; both nonces give the
-- session's keys.
local function dis_resp(tvb, pinfo, tree)
	tree:add(F.nonce_s, tvb(16, 32))
	tree:add(F.nonce_r, tvb(48, 32))
	local r = identity(pinfo.src, pinfo.src_port)
	local s = identity(pinfo.dst, pinfo.dst_port)
	if not (r and s) then
		tree:add(F.tag, tvb(RESP_LEN - TAGLEN, TAGLEN))
		return "RESP"
	end
	local ok = check_tag(tvb, tree, kdf("syncd2 handshake", {r, s}, 32))
	if ok and not pinfo.visited and syncd.prefs.decrypt then
		local ns, nr = tvb:raw(16, 32), tvb:raw(48, 32)
		local parts = {s, r, ns, nr}
		local sidb = kdf("syncd2 session id", parts, 4)
		local sid = sidb:byte(1) * 16777216 + sidb:byte(2) * 65536 +
		    sidb:byte(3) * 256 + sidb:byte(4)
		if sid == 0 then
			sid = 1
		end
		sessions[sid] = sessions[sid] or {}
		table.insert(sessions[sid], {
			fwd = kdf("syncd2 forward", parts, 32),
			rev = kdf("syncd2 reverse", parts, 32)})
	end
	return "RESP"
end

-- The decrypted body of a session frame, or nil and the reason.
local function open_frame(tvb, pinfo, ftype, sid)
	local num = pinfo.number
	if plain[num] ~= nil then
		return plain[num] or nil
	end
	local cands = sessions[sid]
	local res = false
	if cands then
		local len = tvb:len()
		local hdr = tvb:raw(0, HDRLEN)
		local ct = tvb:raw(HDRLEN, len - HDRLEN - TAGLEN)
		local tag = tvb:raw(len - TAGLEN, TAGLEN)
		local nonce = string.char(ftype, 0, 0, 0) .. tvb:raw(8, 8)
		for i = #cands, 1, -1 do
			local key = ftype == 5 and cands[i].rev or cands[i].fwd
			local p = aead_open(key, nonce, hdr, ct, tag)
			if p then
				res = p
				break
			end
		end
		if not res then
			res = "auth"
		end
	end
	plain[num] = res
	return res or nil
end

local function dis_session(tvb, pinfo, tree, ftype, sid)
	local len = tvb:len()
	local clen = len - HDRLEN - TAGLEN
	local seq = tostring(tvb(8, 8):uint64())
	local nonce = string.format("%02x000000", ftype) ..
	    tostring(tvb(8, 8):bytes()):lower()
	tree:add(F.sealed, true):set_generated()
	tree:add(F.aead_nonce, tvb(8, 8), nonce):set_generated()
	tree:add(F.ct_len, tvb(HDRLEN, clen), clen):set_generated()
	if clen > 0 then
		tree:add(F.ct, tvb(HDRLEN, clen))
	end
	tree:add(F.tag, tvb(len - TAGLEN, TAGLEN))
	local name = ftype_names[ftype]
	local info = string.format("%s sid=0x%08x seq=%s", name, sid, seq)
	local body = nil
	if syncd.prefs.decrypt then
		body = open_frame(tvb, pinfo, ftype, sid)
	end
	if body == "auth" then
		tree:add_proto_expert_info(E.auth)
		body = nil
	elseif body == nil then
		tree:add_proto_expert_info(E.no_key)
	end
	if body == nil then
		return "SEALED " .. info .. string.format(" len=%d", clen)
	end
	tree:add(F.decrypted, true):set_generated()
	if #body == 0 then
		return info .. " 0 records"
	end
	local btvb = ByteArray.new(body, true):tvb("Decrypted records")
	return info .. " " .. dis_records(btvb, tree, ftype)
end

local function malformed(tree, pinfo, text)
	tree:add_proto_expert_info(E.malformed, text)
	pinfo.cols.info:set("MALFORMED " .. text)
end

function syncd.dissector(tvb, pinfo, root)
	local len = tvb:len()
	pinfo.cols.protocol:set("SYNCD")
	local tree = root:add(syncd, tvb())
	if len < HDRLEN then
		malformed(tree, pinfo, string.format(
		    "%d bytes: shorter than the 16-byte header", len))
		return len
	end
	tree:add(F.magic, tvb(0, 2))
	tree:add(F.version, tvb(2, 1))
	tree:add(F.type, tvb(3, 1))
	tree:add(F.sid, tvb(4, 4))
	tree:add(F.seq, tvb(8, 8))
	local ver, ftype, sid = tvb(2, 1):uint(), tvb(3, 1):uint(), tvb(4, 4):uint()
	local seq = tvb(8, 8):uint64()
	if tvb:raw(0, 2) ~= "Sy" then
		malformed(tree, pinfo, "bad magic")
		return len
	end
	if ver ~= 2 then
		malformed(tree, pinfo, string.format("version %d, not 2", ver))
		return len
	end
	if not ftype_names[ftype] then
		malformed(tree, pinfo, string.format("unknown frame type %d", ftype))
		return len
	end
	tree:append_text(", " .. ftype_names[ftype])
	local info
	if ftype <= 2 then
		local want = ftype == 1 and INIT_LEN or RESP_LEN
		if len ~= want then
			malformed(tree, pinfo, string.format(
			    "%s of %d bytes, not %d", ftype_names[ftype], len, want))
			return len
		end
		if sid ~= 0 or tostring(seq) ~= "0" then
			malformed(tree, pinfo, "handshake frame with a session " ..
			    "id or sequence number")
			return len
		end
		if ftype == 1 then
			info = dis_init(tvb, pinfo, tree)
		else
			info = dis_resp(tvb, pinfo, tree)
		end
	else
		if sid == 0 then
			malformed(tree, pinfo, "session frame with session id 0")
			return len
		end
		if len < HDRLEN + TAGLEN then
			malformed(tree, pinfo, string.format(
			    "%d bytes: shorter than header and tag", len))
			return len
		end
		info = dis_session(tvb, pinfo, tree, ftype, sid)
	end
	pinfo.cols.info:set(info)
	return len
end

local udp_port = DissectorTable.get("udp.port")
local cur_port = syncd.prefs.port
udp_port:add(cur_port, syncd)

function syncd.prefs_changed()
	if syncd.prefs.port ~= cur_port then
		udp_port:remove(cur_port, syncd)
		cur_port = syncd.prefs.port
		udp_port:add(cur_port, syncd)
	end
	group_key = parse_key(syncd.prefs.key) or string.rep("\0", 32)
end

# syncpcap.py: a capture file of syncd protocol 2 frames made from first
# principles (keyed BLAKE2b from hashlib, ChaCha20-Poly1305 written out
# here), to check the Wireshark dissector on every record type and on
# malformed records, which a running pair never sends.
#
# usage: python3 syncpcap.py OUT.pcap EXPECTED [GROUPKEYHEX]
#        python3 syncpcap.py -f
#        python3 syncpcap.py -r SEED COUNT OUT.pcap
# EXPECTED gets one line per frame: the values tshark must print for the
# fields listed in FIELDS (tab-separated, occurrences joined by ","); with
# -f, print the tshark options "-e FIELD ..." instead.
import hashlib
import random
import struct
import sys

FIELDS = ["syncd.type", "syncd.tag_ok", "syncd.init.rekey",
          "syncd.init.rx_sid", "syncd.decrypted", "syncd.rec.type",
          "syncd.src", "syncd.src6", "syncd.sport", "syncd.zone",
          "syncd.timeout", "syncd.mark", "syncd.helper", "syncd.labels",
          "syncd.seqadj.after", "syncd.tcp.state", "syncd.sctp.vtag_reply",
          "syncd.update.mask", "syncd.expect.nat_dir", "syncd.count",
          "syncd.hello.internal", "syncd.hello.paths", "syncd.ack.from",
          "syncd.ack.to",
          "syncd.skip.next", "syncd.rec.unknown", "syncd.rec.short",
          "syncd.rec.overrun", "syncd.rec.wrong_frame",
          "syncd.auth_failed", "syncd.no_session"]
M32 = 0xffffffff


def rotl(v, n):
    return ((v << n) | (v >> (32 - n))) & M32


def chacha_block(key, counter, nonce):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    s += list(struct.unpack("<8I", key)) + [counter]
    s += list(struct.unpack("<3I", nonce))
    x = s[:]

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & M32; x[d] = rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & M32; x[b] = rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & M32; x[d] = rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & M32; x[b] = rotl(x[b] ^ x[c], 7)
    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<16I", *[(x[i] + s[i]) & M32 for i in range(16)])


def poly1305(msg, key):
    r = int.from_bytes(key[:16], "little") & \
        0x0ffffffc0ffffffc0ffffffc0fffffff
    s = int.from_bytes(key[16:], "little")
    p = (1 << 130) - 5
    h = 0
    for i in range(0, len(msg), 16):
        blk = msg[i:i + 16] + b"\x01"
        h = (h + int.from_bytes(blk, "little")) * r % p
    return ((h + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def seal(key, nonce, ad, pt):
    ks = b"".join(chacha_block(key, 1 + i // 64, nonce)
                  for i in range(0, len(pt), 64))
    ct = bytes(a ^ b for a, b in zip(pt, ks))
    pad = lambda b: b + bytes(-len(b) % 16)
    mac = poly1305(pad(ad) + pad(ct) + struct.pack("<QQ", len(ad), len(ct)),
                   chacha_block(key, 0, nonce)[:32])
    return ct + mac


def kdf(group, label, parts, n):
    return hashlib.blake2b(label.encode() + b"\0" + b"".join(parts),
                           key=group, digest_size=n).digest()


def ident(addr, port):
    return addr + struct.pack(">H", port)


def hdr(t, sid, seq):
    return b"Sy" + bytes([2, t]) + struct.pack(">IQ", sid, seq)


def rec(t, v):
    return bytes([t, len(v)]) + v


V4 = lambda a: bytes(a)
S4, R4 = V4([10, 9, 0, 1]), V4([10, 9, 0, 2])
MAP = bytes(10) + b"\xff\xff"
FD1 = bytes.fromhex("fd000000000000000000000000000001")
FD2 = bytes.fromhex("fd000000000000000000000000000002")


def state_v4():
    # key: TCP 10.1.0.1:1000 > 10.2.0.1:80; timeout, mark, tcp
    v = b"\x00\x06" + V4([10, 1, 0, 1]) + V4([10, 2, 0, 1])
    v += struct.pack(">HHHI", 1000, 80, 0x0085, 0x0e)
    v += struct.pack(">II", 3600, 42) + bytes([3, 7, 7, 0x0b, 0x0b])
    return v


def state_v6():
    # key: v6 + zone 7, SCTP; every field
    v = b"\x03\x84" + struct.pack(">H", 7) + FD1 + FD2
    v += struct.pack(">HHHI", 5000, 36412, 0x01ff, 0x1ce)
    v += struct.pack(">I", 120)                           # timeout
    v += FD2 + FD1 + struct.pack(">HH", 36412, 5001)      # reply
    v += struct.pack(">I", 0xdeadbeef)                    # mark
    v += bytes(range(16))                                 # labels
    v += b"\x03ftp"                                       # helper
    v += b"\x00\x06" + V4([10, 3, 0, 1]) + V4([10, 3, 0, 2]) + \
        struct.pack(">HH", 2000, 21)                      # master
    v += struct.pack(">6I", 1, 2, 3, 4, 5, 6)             # seqadj
    v += bytes([3, 1, 2, 3, 4])                           # tcp
    v += b"\x04" + struct.pack(">II", 0x11111111, 0x22222222)  # sctp
    return v


def tuple4(a, b, sp, dp, proto=6):
    return b"\x00" + bytes([proto]) + V4(a) + V4(b) + struct.pack(">HH", sp, dp)


def expect(full):
    f = 0x07 if full else 0
    v = bytes([f]) + (struct.pack(">H", 9) if full else b"")
    v += tuple4([10, 4, 0, 1], [10, 4, 0, 2], 3000, 21)
    v += tuple4([10, 4, 0, 2], [10, 4, 0, 1], 0, 4000)
    v += tuple4([255, 255, 255, 255], [255, 255, 255, 255], 0, 65535)
    v += struct.pack(">III", 300, 0, 0)
    if full:
        v += b"\x01" + tuple4([10, 5, 0, 1], [10, 5, 0, 2], 0, 4001)
        v += b"\x03ftp"
    return v


def main():
    if sys.argv[1] == "-f":
        print(" ".join("-e " + f for f in FIELDS))
        return
    if sys.argv[1] == "-r":
        random_frames(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    out, expf = sys.argv[1], sys.argv[2]
    group = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else bytes(32)
    frames, exp = [], []

    def add(src, dst, payload, e):
        frames.append((src, dst, payload))
        exp.append([e.get(f, "") for f in FIELDS])

    def handshake(s, r, sp, rp, ns, nr):
        si, ri = ident(s if len(s) == 16 else MAP + s, sp), \
            ident(r if len(r) == 16 else MAP + r, rp)
        hs_sr = kdf(group, "syncd2 handshake", [si, ri], 32)
        hs_rs = kdf(group, "syncd2 handshake", [ri, si], 32)
        m = hdr(1, 0, 0) + b"\x01" + struct.pack(">IQ", 0x11223344, 1) + ns
        add((s, sp), (r, rp), m + hashlib.blake2b(
            m, key=hs_sr, digest_size=16).digest(),
            {"syncd.type": "1", "syncd.tag_ok": "1", "syncd.init.rekey": "1",
             "syncd.init.rx_sid": "0x11223344"})
        m = hdr(2, 0, 0) + ns + nr
        add((r, rp), (s, sp), m + hashlib.blake2b(
            m, key=hs_rs, digest_size=16).digest(),
            {"syncd.type": "2", "syncd.tag_ok": "1"})
        parts = [si, ri, ns, nr]
        sid = int.from_bytes(kdf(group, "syncd2 session id", parts, 4),
                             "big") or 1
        return sid, kdf(group, "syncd2 forward", parts, 32), \
            kdf(group, "syncd2 reverse", parts, 32)

    def sealed(src, dst, t, sid, seq, key, body, e, flip=False):
        h = hdr(t, sid, seq)
        nonce = bytes([t, 0, 0, 0]) + struct.pack(">Q", seq)
        c = seal(key, nonce, h, body)
        if flip:
            c = c[:-1] + bytes([c[-1] ^ 1])
        e = dict(e)
        e["syncd.type"] = str(t)
        add(src, dst, h + c, e)

    S, R = (S4, 7475), (R4, 7475)
    sid, fwd, rev = handshake(S4, R4, 7475, 7475, bytes([1]) * 32,
                              bytes([2]) * 32)
    # UPDATE of every field: status, timeout, tcp, mark, labels.
    upd = b"\x00\x06" + V4([10, 1, 0, 1]) + V4([10, 2, 0, 1]) + \
        struct.pack(">HH", 1000, 80) + b"\x1f" + \
        struct.pack(">II", 0x0e, 60) + bytes([4, 1, 2]) + \
        struct.pack(">I", 5) + bytes(16)
    dele = b"\x00\x11" + V4([10, 1, 0, 9]) + V4([10, 2, 0, 9]) + \
        struct.pack(">HH", 53, 53)
    body = rec(1, state_v4()) + rec(1, state_v6()) + rec(2, upd) + \
        rec(3, dele) + rec(99, b"abc") + rec(19, struct.pack(">I", 5)) + \
        rec(20, struct.pack(">II", 5, 2)) + rec(23, state_v4()) + \
        rec(24, struct.pack(">II", 6, 1)) + rec(25, struct.pack(">II", 5, 3))
    sealed(S, R, 3, sid, 1, fwd, body, {
        "syncd.decrypted": "1",
        "syncd.rec.type": "1,1,2,3,99,19,20,23,24,25",
        "syncd.src": "10.1.0.1,10.3.0.1,10.1.0.1,10.1.0.9,10.1.0.1",
        "syncd.src6": "fd00::1,fd00::2", "syncd.sport":
        "1000,5000,36412,2000,1000,53,1000", "syncd.zone": "7",
        "syncd.timeout": "3600,120,60,3600", "syncd.mark":
        "0x0000002a,0xdeadbeef,0x00000005,0x0000002a", "syncd.helper": "ftp",
        "syncd.labels": "000102030405060708090a0b0c0d0e0f," + "00" * 16,
        "syncd.seqadj.after": "3,6", "syncd.tcp.state": "3,3,4,3",
        "syncd.sctp.vtag_reply": "0x22222222", "syncd.update.mask": "0x1f",
        "syncd.count": "2,1,3", "syncd.rec.unknown": "1"})
    body = rec(4, expect(True)) + rec(5, expect(False)) + \
        rec(1, state_v4()[:5]) + bytes([1, 200]) + bytes(10)
    sealed(S, R, 3, sid, 2, fwd, body, {
        "syncd.decrypted": "1", "syncd.rec.type": "4,5,1,1",
        "syncd.src": "10.4.0.1,10.4.0.2,255.255.255.255,10.5.0.1,10.4.0.1,"
        "10.4.0.2,255.255.255.255", "syncd.sport":
        "3000,0,0,0,3000,0,0", "syncd.zone": "9",
        "syncd.expect.nat_dir": "1", "syncd.helper": "ftp",
        "syncd.rec.short": "1", "syncd.rec.overrun": "1"})
    sealed(S, R, 4, sid, 1, fwd, rec(16, b"\x01" + struct.pack(">I", 500)) +
           rec(21, struct.pack(">Q", 7)), {
               "syncd.decrypted": "1", "syncd.rec.type": "16,21",
               "syncd.hello.internal": "500", "syncd.skip.next": "7"})
    # HELLO with a path report (flag 0x02 and one byte), and one whose
    # report byte is missing.
    sealed(S, R, 4, sid, 2, fwd, rec(16, b"\x03" + struct.pack(">IB", 9, 5)),
           {"syncd.decrypted": "1", "syncd.rec.type": "16",
            "syncd.hello.internal": "9", "syncd.hello.paths": "0x05"})
    sealed(S, R, 4, sid, 3, fwd, rec(16, b"\x02" + struct.pack(">I", 9)),
           {"syncd.decrypted": "1", "syncd.rec.type": "16",
            "syncd.hello.internal": "9", "syncd.rec.short": "1"})
    ack = struct.pack(">QB", 5, 2) + struct.pack(">4I", 1, 2, 5, 9)
    sealed(R, S, 5, sid, 1, rev, rec(17, ack) + rec(18, b"\0\0\0\1") +
           rec(22, b"\0\0\0\2") + rec(16, b"\x00" + bytes(4)), {
               "syncd.decrypted": "1", "syncd.rec.type": "17,18,22,16",
               "syncd.ack.from": "6,10", "syncd.ack.to": "7,14",
               "syncd.hello.internal": "0",
               "syncd.rec.wrong_frame": "1"})
    sealed(S, R, 3, sid, 3, fwd, rec(1, state_v4()), {
        "syncd.auth_failed": "1"}, flip=True)
    sealed(S, R, 3, sid ^ 1, 1, fwd, rec(1, state_v4()), {
        "syncd.no_session": "1"})
    # IPv6 identities.
    S6, R6 = (FD1, 7475), (FD2, 7475)
    sid6, fwd6, _ = handshake(FD1, FD2, 7475, 7475, bytes([3]) * 32,
                              bytes([4]) * 32)
    sealed(S6, R6, 3, sid6, 1, fwd6, rec(1, state_v4()), {
        "syncd.decrypted": "1", "syncd.rec.type": "1",
        "syncd.src": "10.1.0.1", "syncd.sport": "1000",
        "syncd.timeout": "3600", "syncd.mark": "0x0000002a",
        "syncd.tcp.state": "3"})
    write_pcap(out, frames)
    with open(expf, "w") as f:
        for e in exp:
            f.write("\t".join(e) + "\n")


def random_frames(seed, count, out):
    """A handshake, then COUNT sealed frames of random records: known
    types with values of random length (often too short or cut), unknown
    types, lengths past the body; all decrypt, none may upset the
    dissector."""
    rnd = random.Random(seed)
    group = bytes(32)
    si, ri = ident(MAP + S4, 7475), ident(MAP + R4, 7475)
    ns, nr = rnd.randbytes(32), rnd.randbytes(32)
    hs_rs = kdf(group, "syncd2 handshake", [ri, si], 32)
    m = hdr(2, 0, 0) + ns + nr
    frames = [((R4, 7475), (S4, 7475),
               m + hashlib.blake2b(m, key=hs_rs, digest_size=16).digest())]
    parts = [si, ri, ns, nr]
    sid = int.from_bytes(kdf(group, "syncd2 session id", parts, 4),
                         "big") or 1
    fwd = kdf(group, "syncd2 forward", parts, 32)
    rev = kdf(group, "syncd2 reverse", parts, 32)
    types = [1, 2, 3, 4, 5, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 0, 99,
             255]
    for seq in range(1, count + 1):
        body = b""
        for _ in range(rnd.randint(0, 6)):
            t = rnd.choice(types)
            n = rnd.choice([0, 1, 2, 5, 9, 14, 20, 31, 40, 60, 120, 255])
            v = rnd.randbytes(n)
            if rnd.random() < 0.5 and n > 0:
                # plausible flags: v4/v6 keys, all wflags, few ranges
                v = bytes([rnd.choice([0, 1, 2, 3, 7])]) + v[1:]
                if t in (1, 23) and n > 16:
                    v = v[:14] + b"\x01\xff" + v[16:]
                if t == 17 and n > 8:
                    v = v[:8] + bytes([rnd.randint(0, 17)]) + v[9:]
            body += bytes([t, n]) + v
        if rnd.random() < 0.2 and body:
            body = body[:rnd.randint(0, len(body))]
        ft = rnd.choice([3, 4, 5])
        h = hdr(ft, sid, seq)
        nonce = bytes([ft, 0, 0, 0]) + struct.pack(">Q", seq)
        frames.append(((S4, 7475), (R4, 7475),
                       h + seal(rev if ft == 5 else fwd, nonce, h, body)))
    write_pcap(out, frames)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip_packet(src, dst, payload):
    (sa, sp), (da, dp) = src, dst
    ln = 8 + len(payload)
    if len(sa) == 4:
        pseudo = sa + da + struct.pack("!BBH", 0, 17, ln)
    else:
        pseudo = sa + da + struct.pack("!IxxxB", ln, 17)
    udp = struct.pack("!HHHH", sp, dp, ln, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    if len(sa) == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ln, 0, 0x4000, 64,
                         17, 0, sa, da)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, ln, 17, 64, sa, da)
    return ip + udp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for i, (src, dst, payload) in enumerate(frames):
            p = ip_packet(src, dst, payload)
            f.write(struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p)


if __name__ == "__main__":
    main()

# syncpkt.py: syncd datagrams for the namespace tests (protocol 2):
# build frame headers, send UDP from any source address and port (raw
# sockets, so an on-link attacker can be played from inside a namespace),
# and capture the datagrams a node sends (packet socket), to replay them.
# Imported by the scripts the tests write (sys.path: tests/netns).
import socket
import struct
import time

import carppkt

T_INIT, T_RESP, T_DATA, T_CTRL, T_REPLY = 1, 2, 3, 4, 5
ETH_P_ALL = 0x0003


def frame(ftype, sid, seq, body):
    """A version 2 frame: header, then body (ciphertext and tag)."""
    return b"Sy" + bytes([2, ftype]) + struct.pack(">IQ", sid, seq) + body


def header(d):
    """(type, sid, seq) of a frame, or None."""
    if len(d) < 16 or d[:3] != b"Sy\x02":
        return None
    sid, seq = struct.unpack(">IQ", d[4:16])
    return d[3], sid, seq


def _udp(src, sport, dst, dport, payload, fam):
    ln = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, ln, 0) + payload
    a = socket.inet_pton(fam, src) + socket.inet_pton(fam, dst)
    if fam == socket.AF_INET:
        pseudo = a + struct.pack("!BBH", 0, 17, ln)
    else:
        pseudo = a + struct.pack("!IxxxB", ln, 17)
    c = carppkt.csum(pseudo + udp) or 0xffff
    return udp[:6] + struct.pack("!H", c) + udp[8:]


def send_udp(src, sport, dst, dport, payload):
    """One UDP datagram with the given source, whoever we are."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    udp = _udp(src, sport, dst, dport, payload, fam)
    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if fam == socket.AF_INET:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0,
                         64, 17, 0, socket.inet_pton(fam, src),
                         socket.inet_pton(fam, dst))
        s.sendto(ip + udp, (dst, 0))
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64,
                         socket.inet_pton(fam, src),
                         socket.inet_pton(fam, dst))
        s.sendto(ip + udp, (dst, 0))
    s.close()


def capture(ifname, src, dst, port, want, timeout):
    """UDP payloads from src to dst:port seen on ifname (either way),
    until want(list) is true or timeout seconds passed."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.settimeout(0.2)
    got = []
    end = time.time() + timeout
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    sa, da = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    while time.time() < end and not want(got):
        try:
            p = s.recv(70000)
        except socket.timeout:
            continue
        if not v6 and p[12:14] == b"\x08\x00" and p[23] == 17:
            ihl = (p[14] & 15) * 4
            if p[26:30] != sa or p[30:34] != da:
                continue
            u = p[14 + ihl:]
        elif v6 and p[12:14] == b"\x86\xdd" and p[20] == 17:
            if p[22:38] != sa or p[38:54] != da:
                continue
            u = p[54:]
        else:
            continue
        if struct.unpack("!H", u[2:4])[0] != port:
            continue
        ln = struct.unpack("!H", u[4:6])[0]
        got.append(bytes(u[8:ln]))
    s.close()
    return got

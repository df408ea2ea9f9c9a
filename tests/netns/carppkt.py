# carppkt.py: packet building shared by the carpd namespace tests
# (imported by the scripts they write: PYTHONPATH=tests/netns).
import struct


def csum(b):
    """Internet checksum (RFC 1071) of b."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

#!/usr/bin/env python3
"""fuzzseed.py PCAP... OUTDIR - seeds for tests/fuzz/fuzz_packets.c from captures.

Each capture becomes one seed: its packets as [selector][len16][bytes] records
(selector: link type index in the low 3 bits, seconds since the previous
packet, capped at 31, in the high 5 bits). Classic pcap only.
"""
import os
import struct
import sys

LINKS = {1: 0, 101: 1, 113: 2, 276: 3, 0: 4, 108: 5, 229: 6}


def seed(path):
    data = open(path, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    if link not in LINKS:
        return None
    out, off, last = bytearray(), 24, None
    while off + 16 <= len(data) and len(out) < 60000:
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        t = sec + frac / (1e9 if nano else 1e6)
        step = 0 if last is None else min(31, int(t - last))
        last = t
        out += bytes([LINKS[link] | step << 3]) + struct.pack(">H", len(pkt)) + pkt
    return bytes(out)


def main():
    *pcaps, outdir = sys.argv[1:]
    for p in pcaps:
        s = seed(p)
        if s:
            name = os.path.splitext(os.path.basename(p))[0]
            open(os.path.join(outdir, name), "wb").write(s)


if __name__ == "__main__":
    main()

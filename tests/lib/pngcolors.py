#!/usr/bin/python3
"""pngcolors.py PNG RRGGBB... - how many pixels of a screenshot have each colour exactly.

Reads 8-bit RGB or RGBA non-interlaced PNG files (what chromium's --screenshot
writes) with zlib alone, undoing the five scanline filters of PNG (RFC 2083
6), and prints one line per colour: "RRGGBB COUNT". Used to tell that a chart
was drawn: its bars and dots have colours nothing else on the page has.
"""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit(f"{path}: only 8-bit RGB(A) non-interlaced PNG")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, out, i = bytearray(stride), [], 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return out, width, bpp


def main():
    rows, width, bpp = pixels(sys.argv[1])
    want = {bytes.fromhex(c.lstrip("#")): 0 for c in sys.argv[2:]}
    for row in rows:
        for x in range(0, width * bpp, bpp):
            px = row[x:x + 3]
            if px in want:
                want[px] += 1
    for c, n in want.items():
        print(c.hex(), n)


if __name__ == "__main__":
    main()

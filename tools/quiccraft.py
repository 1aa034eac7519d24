#!/usr/bin/env python3
"""quiccraft.py - write the project's crafted QUIC capture, quic-initial.pcap.

Usage: tools/quiccraft.py OUTDIR

A client's first QUIC packet is an Initial: a TLS 1.3 ClientHello in a CRYPTO
frame, encrypted with keys every observer derives from the packet's own
Destination Connection ID (RFC 9001 5.2), so a sensor can read the server
name and ALPN without any secret. This writes such packets byte by byte with
python3-cryptography (AES-128-GCM and the AES header protection, RFC 9001
5.3-5.4) and pcapcraft.py's headers, so the file is byte-reproducible: fixed
connection ids, randoms, key shares, addresses and timestamps (2026-01-01).
No server is involved: nothing answers, only the client's flight is there.
pcaps/README.md lists what the file holds.
"""

import hashlib
import hmac
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import pcapcraft as pc

# RFC 9001 5.2 (v1) and draft-ietf-quic-tls-29 5.2: the salts of the Initial secrets.
SALTS = {
    0x00000001: bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
    0xFF00001D: bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899"),
}
# quic_transport_parameters: RFC 9001 8.2 (v1), 0xffa5 in the drafts.
TP_EXT = {0x00000001: 0x39, 0xFF00001D: 0xFFA5}


def hkdf_extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand_label(secret, label, length):
    """RFC 8446 7.1 HKDF-Expand-Label with an empty context."""
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def varint(v):
    """RFC 9000 16: 1, 2 or 4 bytes."""
    if v < 0x40:
        return bytes([v])
    if v < 0x4000:
        return struct.pack("!H", 0x4000 | v)
    return struct.pack("!I", 0x80000000 | v)


def vec8(b):
    return bytes([len(b)]) + b


def vec16(b):
    return struct.pack("!H", len(b)) + b


def ext(kind, body):
    return struct.pack("!HH", kind, len(body)) + body


def client_hello(version, sni, alpns):
    """A TLS 1.3 ClientHello handshake message (RFC 8446 4.1.2) as QUIC clients send it."""
    exts = b"".join([
        ext(0, vec16(b"\x00" + vec16(sni))),                       # server_name
        ext(10, vec16(struct.pack("!H", 0x001D))),                 # supported_groups: x25519
        ext(13, vec16(struct.pack("!HHH", 0x0403, 0x0804, 0x0401))),  # signature_algorithms
        ext(51, vec16(struct.pack("!HH", 0x001D, 32) + bytes(range(32)))),  # key_share
        ext(43, vec8(struct.pack("!H", 0x0304))),                  # supported_versions: 1.3
        ext(45, vec8(b"\x01")),                                    # psk_key_exchange_modes
        ext(16, vec16(b"".join(vec8(a) for a in alpns))),          # ALPN
        ext(TP_EXT[version], varint(4) + vec8(varint(1048576))),   # initial_max_data
    ])
    body = (struct.pack("!H", 0x0303) + bytes(range(32, 64)) + vec8(b"") +
            vec16(struct.pack("!HHH", 0x1301, 0x1302, 0x1303)) + vec8(b"\x00") + vec16(exts))
    return b"\x01" + struct.pack("!I", len(body))[1:] + body


def initial(version, dcid, scid, crypto):
    """A protected client Initial (RFC 9000 17.2.2), padded to 1200 bytes (RFC 9000 14.1)."""
    secret = hkdf_expand_label(hkdf_extract(SALTS[version], dcid), b"client in", 32)
    key = hkdf_expand_label(secret, b"quic key", 16)
    iv = hkdf_expand_label(secret, b"quic iv", 12)
    hp = hkdf_expand_label(secret, b"quic hp", 16)
    frame = b"\x06" + varint(0) + varint(len(crypto)) + crypto  # CRYPTO at offset 0
    head_len = 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 1 + 2 + 4
    payload = frame + b"\x00" * (1200 - head_len - 16 - len(frame))  # PADDING frames
    pn = 0
    header = (bytes([0xC3]) + struct.pack("!I", version) + vec8(dcid) + vec8(scid) + varint(0) +
              struct.pack("!H", 0x4000 | (4 + len(payload) + 16)))
    pn_offset = len(header)
    header += struct.pack("!I", pn)
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, "big")))
    sealed = AESGCM(key).encrypt(nonce, payload, header)
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sealed[:16]) + enc.finalize()  # sample: 4 bytes past the packet number
    protected = bytearray(header)
    protected[0] ^= mask[0] & 0x0F
    for i in range(4):
        protected[pn_offset + i] ^= mask[1 + i]
    return bytes(protected) + sealed


def quic_initial():
    p = pc.Pcap(pc.LINKTYPE_ETHERNET)
    flows = [
        ("192.0.2.130", "198.51.100.130", 50130, 0x00000001, bytes.fromhex("8394c8f03e515708"),
         b"quic.example", [b"h3"]),
        ("2001:db8:1::131", "2001:db8:2::131", 50131, 0xFF00001D,
         bytes.fromhex("0001020304050607"), b"draft29.quic.example", [b"h3-29", b"h3-Q050"]),
    ]
    for cli, srv, port, version, dcid, sni, alpns in flows:
        datagram = initial(version, dcid, b"\x51\x52\x53\x54", client_hello(version, sni, alpns))
        ip = pc.ip_packet(cli, srv, 17, pc.udp(cli, srv, port, 443, datagram))
        pc.on_ether(p, [(0, ip)])
    return p


def main(argv):
    if len(argv) != 2:
        print("usage: quiccraft.py OUTDIR", file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    pcap = quic_initial()
    path = os.path.join(argv[1], "quic-initial.pcap")
    with open(path, "wb") as f:
        f.write(pcap.bytes())
    print("%s: %d packets" % (path, len(pcap.records)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

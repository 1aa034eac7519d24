#!/usr/bin/env python3
"""pcapcraft.py - write the project's crafted edge-case captures, byte by byte.

Usage: tools/pcapcraft.py OUTDIR

Python 3 standard library only. Every file is byte-reproducible: fixed
timestamps (from 2026-01-01T00:00:00Z, 1 ms apart), fixed addresses, ports,
sequence numbers and IP ids. Addresses are documentation or private ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 10.0.0.0/8, 2001:db8::/32);
nothing is ever sent anywhere, these are only bytes in files.
IPv4 header, TCP, UDP and ICMP checksums are computed and correct.
pcaps/README.md lists what each file holds.
"""

import ipaddress
import os
import struct
import sys

T0 = 1767225600  # 2026-01-01T00:00:00Z

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8
ETH_IPV6 = 0x86DD
ETH_MPLS = 0x8847
ETH_ERSPAN_II = 0x88BE  # also type I (GRE without sequence number)
ETH_ERSPAN_III = 0x22EB

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


# --- pcap file --------------------------------------------------------------


class Pcap:
    """A classic pcap file (microsecond, little-endian) built in memory."""

    def __init__(self, linktype, snaplen=262144):
        self.linktype = linktype
        self.snaplen = snaplen
        self.records = []  # (ts_usec_total, frame)
        self.clock = 0  # microseconds since T0

    def add(self, frame, step_us=1000):
        """Append a frame, stamped step_us after the previous one."""
        self.clock += step_us
        self.records.append((self.clock, frame))

    def bytes(self, cut_last=None):
        """The file; cut_last=n keeps only n data bytes of the last record
        while its header still announces the full length (a file that ends
        early, as when a capture is interrupted mid-write)."""
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, self.linktype)]
        for i, (t, frame) in enumerate(self.records):
            sec, usec = T0 + t // 1000000, t % 1000000
            out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            if cut_last is not None and i == len(self.records) - 1:
                out.append(frame[:cut_last])
            else:
                out.append(frame)
        return b"".join(out)


# --- checksums and headers --------------------------------------------------


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(a):
    return ipaddress.ip_address(a).packed


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def pseudo(src, dst, proto, length):
    s, d = ip_bytes(src), ip_bytes(dst)
    if len(s) == 4:
        return s + d + struct.pack("!BBH", 0, proto, length)
    return s + d + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=64240, options=b""):
    if len(options) % 4:
        options += b"\x01" * (4 - len(options) % 4)
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, win, 0, 0) + options
    c = csum(pseudo(src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def udp(src, dst, sport, dport, payload):
    n = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, n, 0)
    c = csum(pseudo(src, dst, 17, n) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def icmp_echo(ident, seq, payload, reply=False):
    hdr = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq)
    c = csum(hdr + payload)
    return hdr[:2] + struct.pack("!H", c) + hdr[4:] + payload


class IPv4:
    """IPv4 header writer; keeps an incrementing identification per source."""

    ids = {}

    @classmethod
    def next_id(cls, src):
        cls.ids[src] = cls.ids.get(src, 0x1000) + 1
        return cls.ids[src]

    @classmethod
    def packet(cls, src, dst, proto, payload, ttl=64, df=True, ident=None,
               frag_off=0, more=False, total_payload=None):
        if ident is None:
            ident = cls.next_id(src)
        flags = (0x4000 if df else 0) | (0x2000 if more else 0) | (frag_off // 8)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl,
                          proto, 0, ip_bytes(src), ip_bytes(dst))
        c = csum(hdr)
        return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64, flow=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | flow, len(payload), nh, hlim,
                       ip_bytes(src), ip_bytes(dst)) + payload


def ip_packet(src, dst, proto, l4):
    if ":" in src:
        return ipv6(src, dst, proto, l4)
    return IPv4.packet(src, dst, proto, l4)


def eth(dst, src, ethertype, payload):
    return mac(dst) + mac(src) + struct.pack("!H", ethertype) + payload


def ethertype_of(ip):
    return ETH_IPV6 if ip[0] >> 4 == 6 else ETH_IPV4


# --- application payloads ---------------------------------------------------


def dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_msg(qid, flags, qname, qtype, answers=(), edns=None):
    """answers: (name, type, ttl, rdata bytes). edns: UDP payload size for OPT."""
    ar = 1 if edns else 0
    out = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, ar)
    out += dns_name(qname) + struct.pack("!HH", qtype, 1)
    for name, rtype, ttl, rdata in answers:
        out += dns_name(name) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata
    if edns:
        out += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return out


def txt_rdata(*strings):
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


DNS_Q = 0x0100  # RD
DNS_R = 0x8580  # QR AA RD RA


def http_get(host, path):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapcraft/1.0\r\n"
            "Accept: */*\r\n\r\n" % (path, host)).encode()


def http_ok(body):
    return ("HTTP/1.1 200 OK\r\nServer: pcapcraft\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\n\r\n" % len(body)).encode() + body


# --- conversations (as lists of (direction, L3 packet)) ---------------------
# direction 0: client -> server, 1: server -> client

MSS = struct.pack("!BBH", 2, 4, 1460)


def tcp_session(cli, srv, cport, sport, request, response, cseq=1000, sseq=5000,
                handshake=True, close=True):
    """Full TCP conversation: handshake, request, response, FIN both ways."""
    pk = []

    def c2s(flags, data=b"", opt=b""):
        pk.append((0, ip_packet(cli, srv, 6, tcp(cli, srv, cport, sport, st["c"], st["s"] if flags & TCP_ACK else 0,
                                                  flags, data, options=opt))))
        st["c"] += len(data) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)

    def s2c(flags, data=b"", opt=b""):
        pk.append((1, ip_packet(srv, cli, 6, tcp(srv, cli, sport, cport, st["s"], st["c"], flags, data,
                                                  win=65160, options=opt))))
        st["s"] += len(data) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)

    st = {"c": cseq, "s": sseq}
    if handshake:
        c2s(TCP_SYN, opt=MSS)
        s2c(TCP_SYN | TCP_ACK, opt=MSS)
        c2s(TCP_ACK)
    c2s(TCP_PSH | TCP_ACK, request)
    s2c(TCP_ACK)
    s2c(TCP_PSH | TCP_ACK, response)
    c2s(TCP_ACK)
    if close:
        c2s(TCP_FIN | TCP_ACK)
        s2c(TCP_FIN | TCP_ACK)
        c2s(TCP_ACK)
    return pk


def udp_exchange(cli, srv, cport, sport, request, response):
    return [(0, ip_packet(cli, srv, 17, udp(cli, srv, cport, sport, request))),
            (1, ip_packet(srv, cli, 17, udp(srv, cli, sport, cport, response)))]


def http_session(cli, srv, cport, host, path, body, **kw):
    return tcp_session(cli, srv, cport, 80, http_get(host, path), http_ok(body), **kw)


def dns_session(cli, srv, cport, qid, qname, addr):
    req = dns_msg(qid, DNS_Q, qname, 1)
    resp = dns_msg(qid, DNS_R, qname, 1, [(qname, 1, 300, ip_bytes(addr))])
    return udp_exchange(cli, srv, cport, 53, req, resp)


def dns6_session(cli, srv, cport, qid, qname, addr):
    req = dns_msg(qid, DNS_Q, qname, 28)
    resp = dns_msg(qid, DNS_R, qname, 28, [(qname, 28, 300, ip_bytes(addr))])
    return udp_exchange(cli, srv, cport, 53, req, resp)


# MACs: client, server, and the tunnel endpoints
MAC_C = "02:00:00:00:00:01"
MAC_S = "02:00:00:00:00:02"
MAC_T1 = "02:00:00:00:01:01"
MAC_T2 = "02:00:00:00:01:02"


def on_ether(pcap, conv, wrap=None, macs=(MAC_C, MAC_S)):
    """Add a conversation as Ethernet frames; wrap(direction, ethertype, ip)
    returns (ethertype, payload) to insert tags/labels between."""
    for d, ip in conv:
        et = ethertype_of(ip)
        payload = ip
        if wrap:
            et, payload = wrap(d, et, ip)
        src, dst = (macs[0], macs[1]) if d == 0 else (macs[1], macs[0])
        pcap.add(eth(dst, src, et, payload))


# --- the files --------------------------------------------------------------


def vlan_qinq():
    p = Pcap(LINKTYPE_ETHERNET)

    def dot1q(vid):
        return lambda d, et, ip: (ETH_VLAN, struct.pack("!HH", vid, et) + ip)

    def qinq(outer, inner):
        return lambda d, et, ip: (ETH_QINQ, struct.pack("!HHHH", outer, ETH_VLAN, inner, et) + ip)

    on_ether(p, http_session("192.0.2.10", "198.51.100.20", 40010, "vlan10.example", "/vlan10",
                             b"hello from vlan 10\n"), dot1q(10))
    on_ether(p, http_session("192.0.2.11", "198.51.100.21", 40200, "qinq.example", "/qinq",
                             b"hello from qinq 100/200\n"), qinq(100, 200))
    return p


def mpls():
    p = Pcap(LINKTYPE_ETHERNET)

    def labels(d, et, ip):
        # two labels: transport 16001 (or 16002 back), service 24005 bottom of stack
        top = 16001 if d == 0 else 16002
        stack = struct.pack("!II", (top << 12) | 64, (24005 << 12) | 0x100 | 64)
        return ETH_MPLS, stack + ip

    on_ether(p, http_session("192.0.2.30", "198.51.100.30", 40030, "mpls.example", "/mpls",
                             b"hello over mpls\n"), labels)
    return p


def gre_erspan():
    p = Pcap(LINKTYPE_ETHERNET)

    # 1. plain GRE with key 0x1234 around IPv4, tunnel 10.0.0.1 <-> 10.0.0.2
    def gre_key(d, et, ip):
        src, dst = ("10.0.0.1", "10.0.0.2") if d == 0 else ("10.0.0.2", "10.0.0.1")
        gre = struct.pack("!HHI", 0x2000, ETH_IPV4, 0x1234) + ip
        return ETH_IPV4, IPv4.packet(src, dst, 47, gre, ttl=255)

    on_ether(p, http_session("192.0.2.40", "198.51.100.40", 40040, "gre.example", "/gre",
                             b"hello over gre key 4660\n"), gre_key, macs=(MAC_T1, MAC_T2))

    # ERSPAN: a switch (10.0.1.1) mirrors both directions of a flow to a
    # collector (10.0.1.2); each mirrored frame is Ethernet + IPv4 + TCP.
    def mirrored(conv):
        for d, ip in conv:
            src, dst = (MAC_C, MAC_S) if d == 0 else (MAC_S, MAC_C)
            yield eth(dst, src, ETH_IPV4, ip)

    def to_collector(gre):
        p.add(eth(MAC_T2, MAC_T1, ETH_IPV4, IPv4.packet("10.0.1.1", "10.0.1.2", 47, gre, ttl=255)))

    # 2. ERSPAN type I: GRE without sequence number, protocol 0x88be, no ERSPAN header
    for frame in mirrored(http_session("192.0.2.41", "198.51.100.41", 40041, "erspan1.example",
                                       "/erspan1", b"hello over erspan type I\n")):
        to_collector(struct.pack("!HH", 0x0000, ETH_ERSPAN_II) + frame)

    # 3. ERSPAN type II, session 7: GRE with sequence number + 8-byte header
    seq = 0
    for frame in mirrored(http_session("192.0.2.42", "198.51.100.42", 40042, "erspan2.example",
                                       "/erspan2", b"hello over erspan type II\n")):
        seq += 1
        ver, vlan, cos, en, t, session = 1, 0, 0, 3, 0, 7
        hdr = struct.pack("!II", (ver << 28) | (vlan << 16) | (cos << 13) | (en << 11) | (t << 10) | session,
                          5)  # reserved 0, index 5
        to_collector(struct.pack("!HHI", 0x1000, ETH_ERSPAN_II, seq) + hdr + frame)

    # 4. ERSPAN type III, session 9: GRE with sequence number + 12-byte header
    seq = 0
    for i, frame in enumerate(mirrored(http_session("192.0.2.43", "198.51.100.43", 40043, "erspan3.example",
                                                    "/erspan3", b"hello over erspan type III\n"))):
        seq += 1
        ver, vlan, cos, bso, t, session = 2, 0, 0, 0, 0, 9
        word0 = (ver << 28) | (vlan << 16) | (cos << 13) | (bso << 11) | (t << 10) | session
        timestamp = 1000 * (i + 1)
        sgt, pbit, ft, hwid, dbit, gra, obit = 0, 0, 0, 1, 0, 0, 0
        word2 = (sgt << 16) | (pbit << 15) | (ft << 10) | (hwid << 4) | (dbit << 3) | (gra << 1) | obit
        hdr = struct.pack("!III", word0, timestamp, word2)
        to_collector(struct.pack("!HHI", 0x1000, ETH_ERSPAN_III, seq) + hdr + frame)
    return p


def vxlan():
    p = Pcap(LINKTYPE_ETHERNET)
    vni = 4242
    inner_c, inner_s = "02:00:00:00:42:01", "02:00:00:00:42:02"

    def encap(d, et, ip):
        src, dst = ("10.0.2.1", "10.0.2.2") if d == 0 else ("10.0.2.2", "10.0.2.1")
        isrc, idst = (inner_c, inner_s) if d == 0 else (inner_s, inner_c)
        inner = eth(idst, isrc, et, ip)
        vx = struct.pack("!II", 0x08000000, vni << 8) + inner
        sport = 49152 + (1234 if d == 0 else 4321)  # entropy source ports
        return ETH_IPV4, IPv4.packet(src, dst, 17, udp(src, dst, sport, 4789, vx))

    on_ether(p, dns_session("192.168.42.10", "192.168.42.53", 53042, 0x4242, "vxlan.example.com",
                            "203.0.113.42"), encap, macs=(MAC_T1, MAC_T2))
    return p


def gre_oneway():
    """A GRE tunnel that one router keys and the other does not, and a second keyed tunnel
    carrying the same inner addresses and ports as the first exchange."""
    p = Pcap(LINKTYPE_ETHERNET)
    cli, srv = "192.168.50.10", "192.168.60.53"

    def tunnel(outer, keys):
        def wrap(d, et, ip):
            src, dst = outer if d == 0 else outer[::-1]
            key = keys[d]
            gre = (struct.pack("!HHI", 0x2000, ETH_IPV4, key) if key is not None
                   else struct.pack("!HH", 0x0000, ETH_IPV4)) + ip
            return ETH_IPV4, IPv4.packet(src, dst, 47, gre, ttl=255)
        return wrap

    one_way = tunnel(("10.0.5.1", "10.0.5.2"), (0x2A, None))
    for i in range(12):
        qname = "host%02d.example.net" % (i + 1)
        on_ether(p, dns_session(cli, srv, 40001 + i, 0x5000 + i, qname, "192.0.2.%d" % (i + 1)),
                 one_way, macs=(MAC_T1, MAC_T2))
    keyed = tunnel(("10.0.6.1", "10.0.6.2"), (7, 7))
    on_ether(p, dns_session(cli, srv, 40001, 0x5100, "other.example.net", "192.0.2.99"), keyed,
             macs=(MAC_T1, MAC_T2))
    return p


def nb_name(name, suffix):
    """A NetBIOS name in the half-ASCII encoding (RFC 1001 14.1), as a one-label DNS name."""
    raw = name.encode().ljust(15, b" ")[:15] + bytes([suffix])
    return bytes([32]) + b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in raw) + b"\0"


def nbns(qid, flags, name, suffix, qtype=32, answer=None, additional=None):
    """An NBNS message: a question, or (answer) an answer RR alone, or a question with an
    additional RR (registration, refresh); RRs point at the name at offset 12."""
    qd = 0 if answer is not None else 1
    an = 1 if answer is not None else 0
    ar = 1 if additional is not None else 0
    out = struct.pack("!HHHHHH", qid, flags, qd, an, 0, ar) + nb_name(name, suffix)
    if answer is not None:
        rtype, ttl, rdata = answer
        return out + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata
    out += struct.pack("!HH", qtype, 1)
    if additional is not None:
        ttl, rdata = additional
        out += struct.pack("!HHHIH", 0xC00C, 32, 1, ttl, len(rdata)) + rdata
    return out


def nbns_file():
    p = Pcap(LINKTYPE_ETHERNET)
    ws, wins, prn, bcast = "192.168.7.21", "192.168.7.10", "192.168.7.30", "192.168.7.255"
    macs = {ws: "02:00:00:07:00:15", wins: "02:00:00:07:00:0a", prn: "02:00:00:07:00:1e",
            bcast: "ff:ff:ff:ff:ff:ff"}

    def send(src, sport, dst, dport, msg):
        p.add(eth(macs[dst], macs[src], ETH_IPV4,
                  IPv4.packet(src, dst, 17, udp(src, dst, sport, dport, msg), df=False)))

    def nb(addr, flags=0):
        return struct.pack("!H", flags) + ip_bytes(addr)

    # 1. a broadcast name query for FILESRV<20> and the owner's positive response
    send(ws, 137, bcast, 137, nbns(0x8101, 0x0110, "FILESRV", 0x20))
    send(wins, 137, ws, 137, nbns(0x8101, 0x8500, "FILESRV", 0x20, answer=(32, 300000, nb(wins))))
    # 2. a node status query ("*" padded with NULs) and its answer: three names, statistics
    star = nbns(0x8102, 0x0000, "*", 0x00, qtype=33)
    star = star[:13] + b"CK" + b"A" * 30 + star[45:]
    send(ws, 50137, wins, 137, star)
    names = [(b"FILESRV", 0x00, 0x0400), (b"WORKGROUP", 0x00, 0x8400), (b"FILESRV", 0x20, 0x0400)]
    rdata = bytes([len(names)]) + b"".join(n.ljust(15, b" ") + bytes([sfx]) + struct.pack("!H", fl)
                                           for n, sfx, fl in names)
    rdata += mac(macs[wins]) + bytes(40)
    resp = struct.pack("!HHHHHH", 0x8102, 0x8400, 0, 1, 0, 0) + star[12:46] + \
        struct.pack("!HHIH", 33, 1, 0, len(rdata)) + rdata
    send(wins, 137, ws, 50137, resp)
    # 3. a printer registers its name by broadcast (opcode 5), then refreshes it at WINS
    # (opcode 8), which answers
    send(prn, 137, bcast, 137, nbns(0x8103, 0x2910, "PRINTER7", 0x00, additional=(300000, nb(prn))))
    send(prn, 137, wins, 137, nbns(0x8104, 0x4000, "PRINTER7", 0x00, additional=(300000, nb(prn))))
    send(wins, 137, prn, 137, nbns(0x8104, 0xC400, "PRINTER7", 0x00, answer=(32, 300000, nb(prn))))
    # 4. a name nobody has, asked of WINS: the negative response (RCODE 3, a NULL record,
    # RFC 1002 4.2.14)
    send(ws, 50138, wins, 137, nbns(0x8105, 0x0100, "NOSUCHPC", 0x00))
    send(wins, 137, ws, 50138, nbns(0x8105, 0x8583, "NOSUCHPC", 0x00, answer=(10, 0, b"")))
    return p


def pptp():
    """A PPTP tunnel's enhanced GRE (RFC 2637 4.1): LCP, CHAP, IPCP and CCP, then IPv4 and IPv6
    inside PPP (address and control compressed away on the client's side), MPPE-encrypted
    datagrams, and an acknowledgment alone."""
    p = Pcap(LINKTYPE_ETHERNET)
    cli, srv = "198.51.100.60", "203.0.113.60"
    call = {0: 0x4000, 1: 0x0001}  # each side puts the peer's call id
    seq = {0: 0, 1: 0}

    def gre(d, ppp, ack=None):
        flags = 0x2001 | (0x1000 if ppp else 0) | (0x0080 if ack is not None else 0)
        hdr = struct.pack("!HHHH", flags, 0x880B, len(ppp), call[d])
        if ppp:
            hdr += struct.pack("!I", seq[d])
            seq[d] += 1
        if ack is not None:
            hdr += struct.pack("!I", ack)
        src, dst = (cli, srv) if d == 0 else (srv, cli)
        smac, dmac = (MAC_C, MAC_S) if d == 0 else (MAC_S, MAC_C)
        p.add(eth(dmac, smac, ETH_IPV4, IPv4.packet(src, dst, 47, hdr + ppp, ttl=128)))

    def ppp(d, proto, payload):
        # the client compresses address/control and a protocol below 0x100 (ACFC, PFC)
        if d == 0 and proto < 0x100:
            return bytes([proto]) + payload
        return b"\xff\x03" + struct.pack("!H", proto) + payload

    def ctl(code, ident, data):
        return struct.pack("!BBH", code, ident, 4 + len(data)) + data

    # LCP configure-request and -ack both ways, CHAP, IPCP, CCP
    gre(0, ppp(0, 0xC021, ctl(1, 1, b"\x01\x04\x05\x78\x05\x06\x12\x34\x56\x78")))
    gre(1, ppp(1, 0xC021, ctl(1, 1, b"\x03\x05\xc2\x23\x81\x05\x06\x9a\xbc\xde\xf0")))
    gre(0, ppp(0, 0xC021, ctl(2, 1, b"\x03\x05\xc2\x23\x81\x05\x06\x9a\xbc\xde\xf0")), ack=0)
    gre(1, ppp(1, 0xC021, ctl(2, 1, b"\x01\x04\x05\x78\x05\x06\x12\x34\x56\x78")), ack=1)
    gre(1, ppp(1, 0xC223, ctl(1, 1, bytes([16]) + bytes(range(16)) + b"vpn")))
    gre(0, ppp(0, 0xC223, ctl(2, 1, bytes([49]) + bytes(49) + b"alice")), ack=2)
    gre(1, ppp(1, 0xC223, ctl(3, 1, b"S=0123456789ABCDEF0123456789ABCDEF01234567")), ack=2)
    gre(0, ppp(0, 0x8021, ctl(1, 1, b"\x03\x06\x00\x00\x00\x00")))
    gre(1, ppp(1, 0x8021, ctl(3, 1, b"\x03\x06\x0a\x3c\x00\x02")), ack=3)
    gre(0, ppp(0, 0x80FD, ctl(1, 1, b"\x12\x06\x01\x00\x00\x40")), ack=3)
    gre(1, ppp(1, 0x80FD, ctl(2, 1, b"\x12\x06\x01\x00\x00\x40")), ack=4)
    # inside: DNS over IPv4 and IPv6, an HTTP GET
    inner = dns_session("10.60.0.2", "10.60.0.1", 53060, 0x6060, "intranet.vpn.example", "10.60.0.80")
    inner += dns6_session("fd60::2", "fd60::1", 53061, 0x6061, "intranet.vpn.example", "fd60::80")
    inner += http_session("10.60.0.2", "10.60.0.80", 40060, "intranet.vpn.example", "/pptp",
                          b"hello through pptp\n")
    for d, ip in inner:
        gre(d, ppp(d, 0x57 if ip[0] >> 4 == 6 else 0x21, ip), ack=seq[1 - d] - 1)
    # MPPE-encrypted datagrams (coherency count, then ciphertext), and an acknowledgment alone
    for d in (0, 1, 0):
        gre(d, ppp(d, 0xFD, b"\x90\x01" + bytes((7 * i + d) & 0xFF for i in range(40))))
    gre(1, b"", ack=seq[0] - 1)
    return p


def big_txt_response(qid, qname, n, size):
    """A DNS TXT response of n records of `size` characters (EDNS 4096)."""
    answers = []
    for i in range(n):
        s = ("record-%02d-" % i + "abcdefghijklmnopqrstuvwxyz0123456789" * 8)[:size]
        answers.append((qname, 16, 300, txt_rdata(s)))
    return dns_msg(qid, DNS_R, qname, 16, answers, edns=4096)


def ipv4_frag():
    p = Pcap(LINKTYPE_ETHERNET)
    cli, srv, cport = "192.0.2.60", "198.51.100.53", 53060
    qname = "frag.example"
    req = dns_msg(0x6001, DNS_Q, qname, 16, edns=4096)
    on_ether(p, [(0, IPv4.packet(cli, srv, 17, udp(cli, srv, cport, 53, req), df=False))])
    resp = udp(srv, cli, 53, cport, big_txt_response(0x6001, qname, 16, 200))
    assert 2960 < len(resp) < 4400, len(resp)
    ident = 0x7E57
    # fragments of 1480 bytes: [0,1480) [1480,2960) [2960,end)
    pieces = [(0, resp[0:1480], True), (1480, resp[1480:2960], True), (2960, resp[2960:], False)]
    dup = (1000, resp[1000:2000], True)  # overlaps the first two, identical bytes
    order = [pieces[2], pieces[0], dup, pieces[1]]
    for off, data, more in order:
        ip = IPv4.packet(srv, cli, 17, data, df=False, ident=ident, frag_off=off, more=more)
        p.add(eth(MAC_C, MAC_S, ETH_IPV4, ip))
    return p


def ipv6_frag():
    p = Pcap(LINKTYPE_ETHERNET)
    cli, srv, cport = "2001:db8:1::60", "2001:db8:2::53", 53061
    qname = "frag6.example"
    req = dns_msg(0x6002, DNS_Q, qname, 16, edns=4096)
    on_ether(p, [(0, ipv6(cli, srv, 17, udp(cli, srv, cport, 53, req)))])
    resp = udp(srv, cli, 53, cport, big_txt_response(0x6002, qname, 8, 200))
    assert 1232 < len(resp) < 2400, len(resp)
    ident = 0x0C0FFEE6
    split = 1232  # multiple of 8
    for off, data, more in ((0, resp[:split], 1), (split, resp[split:], 0)):
        fh = struct.pack("!BBHI", 17, 0, (off // 8) << 3 | more, ident)
        p.add(eth(MAC_C, MAC_S, ETH_IPV6, ipv6(srv, cli, 44, fh + data)))
    return p


def ipv6_ext():
    p = Pcap(LINKTYPE_ETHERNET)
    # hop-by-hop (router alert MLD=0 + PadN) then destination options (PadN) then TCP
    hbh = struct.pack("!BB", 60, 0) + bytes([5, 2, 0, 0, 1, 0])
    dst = struct.pack("!BB", 6, 0) + bytes([1, 4, 0, 0, 0, 0])
    conv = tcp_session("2001:db8:1::70", "2001:db8:2::80", 40070, 80,
                       http_get("ext6.example", "/ext"), http_ok(b"hello through ipv6 options\n"))
    for d, ip in conv:
        # rebuild: the TCP segment (checksum over the final source/destination
        # and its own length, unaffected by extension headers) behind the options
        src, dst_a, seg = ip[8:24], ip[24:40], ip[40:]
        pkt = struct.pack("!IHBB", 6 << 28, len(hbh) + len(dst) + len(seg), 0, 64) + src + dst_a
        pkt += hbh + dst + seg
        s_mac, d_mac = (MAC_C, MAC_S) if d == 0 else (MAC_S, MAC_C)
        p.add(eth(d_mac, s_mac, ETH_IPV6, pkt))
    return p


def truncated():
    p = Pcap(LINKTYPE_ETHERNET)
    conv = http_session("192.0.2.90", "198.51.100.90", 40090, "trunc.example", "/truncated",
                        b"this response is cut short by the end of the file\n" * 4, close=False)
    # handshake, request, ack, then the response: the last record, which main()
    # cuts in the middle of its HTTP body
    on_ether(p, conv[:-1])
    return p


def linktype_file(linktype):
    """One IPv4 TCP (HTTP) flow and one IPv6 UDP (DNS) exchange, framed per link type."""
    p = Pcap(linktype)
    conv = http_session("192.0.2.100", "198.51.100.100", 40100, "link.example", "/linktype",
                        b"hello over another link type\n")
    conv += dns6_session("2001:db8:1::100", "2001:db8:2::53", 53100, 0x1001, "link6.example",
                         "2001:db8:3::100")
    for d, ip in conv:
        v6 = ip[0] >> 4 == 6
        et = ETH_IPV6 if v6 else ETH_IPV4
        if linktype == LINKTYPE_LINUX_SLL:
            # packet type: 0 = to us (server->client seen on client), 4 = outgoing
            ptype = 4 if d == 0 else 0
            addr = mac(MAC_C if d == 0 else MAC_S) + b"\0\0"
            frame = struct.pack("!HHH", ptype, 1, 6) + addr + struct.pack("!H", et) + ip
        elif linktype == LINKTYPE_LINUX_SLL2:
            ptype = 4 if d == 0 else 0
            addr = mac(MAC_C if d == 0 else MAC_S) + b"\0\0"
            frame = struct.pack("!HHIHBB", et, 0, 2, 1, ptype, 6) + addr + ip
        elif linktype == LINKTYPE_NULL:
            # host byte order of the writer (little-endian); AF_INET=2, AF_INET6=30 (Darwin)
            frame = struct.pack("<I", 30 if v6 else 2) + ip
        elif linktype == LINKTYPE_RAW:
            frame = ip
        else:
            raise ValueError(linktype)
        p.add(frame)
    return p


def tcp_midstream():
    p = Pcap(LINKTYPE_ETHERNET)
    # flow 1: capture starts after the handshake; first packet is server data
    cli, srv, cp, sp = "192.0.2.110", "198.51.100.110", 40110, 80
    c, s = 200001, 700001
    body = b"...and the rest of a response that started before the capture\n"
    seq = [
        (1, TCP_PSH | TCP_ACK, body),
        (0, TCP_PSH | TCP_ACK, http_get("mid.example", "/next")),
        (1, TCP_PSH | TCP_ACK, http_ok(b"second response\n")),
        (0, TCP_FIN | TCP_ACK, b""),
        (1, TCP_FIN | TCP_ACK, b""),
        (0, TCP_ACK, b""),
    ]
    for d, flags, data in seq:
        if d == 0:
            seg = tcp(cli, srv, cp, sp, c, s, flags, data)
            c += len(data) + (1 if flags & TCP_FIN else 0)
            on_ether(p, [(0, IPv4.packet(cli, srv, 6, seg))])
        else:
            seg = tcp(srv, cli, sp, cp, s, c, flags, data, win=65160)
            s += len(data) + (1 if flags & TCP_FIN else 0)
            on_ether(p, [(1, IPv4.packet(srv, cli, 6, seg))])
    # flow 2: the first packet seen is the SYN-ACK (the SYN was missed)
    conv = http_session("192.0.2.111", "198.51.100.111", 40111, "synack.example", "/synack",
                        b"the syn was not captured\n")
    on_ether(p, conv[1:])
    return p


def tcp_rst():
    p = Pcap(LINKTYPE_ETHERNET)
    cli, srv, cp, sp = "192.0.2.120", "198.51.100.120", 40120, 80
    c, s = 300000, 800000
    req = http_get("rst.example", "/reset")
    segs = [
        (0, tcp(cli, srv, cp, sp, c, 0, TCP_SYN, options=MSS)),
        (1, tcp(srv, cli, sp, cp, s, c + 1, TCP_SYN | TCP_ACK, win=65160, options=MSS)),
        (0, tcp(cli, srv, cp, sp, c + 1, s + 1, TCP_ACK)),
        (0, tcp(cli, srv, cp, sp, c + 1, s + 1, TCP_PSH | TCP_ACK, req)),
        (1, tcp(srv, cli, sp, cp, s + 1, c + 1 + len(req), TCP_RST | TCP_ACK, win=0)),
    ]
    on_ether(p, [(d, IPv4.packet(cli, srv, 6, seg) if d == 0 else IPv4.packet(srv, cli, 6, seg))
                 for d, seg in segs])
    return p


SCAN_RST_PORTS = (21, 23, 25, 110, 143)
SCAN_OPEN_PORT = 22


def syn_scan():
    p = Pcap(LINKTYPE_ETHERNET)
    scanner, target, sport = "192.0.2.66", "198.51.100.7", 61066
    iss = 0x5CA17000
    for port in range(1, 201):
        syn = tcp(scanner, target, sport, port, iss, 0, TCP_SYN, win=1024, options=MSS)
        on_ether(p, [(0, IPv4.packet(scanner, target, 6, syn, df=False, ttl=49))])
        if port in SCAN_RST_PORTS:
            rst = tcp(target, scanner, port, sport, 0, iss + 1, TCP_RST | TCP_ACK, win=0)
            on_ether(p, [(1, IPv4.packet(target, scanner, 6, rst))])
        elif port == SCAN_OPEN_PORT:
            sa = tcp(target, scanner, port, sport, 0x0AB0E000, iss + 1, TCP_SYN | TCP_ACK, win=65160,
                     options=MSS)
            on_ether(p, [(1, IPv4.packet(target, scanner, 6, sa))])
            rst = tcp(scanner, target, sport, port, iss + 1, 0, TCP_RST, win=0)
            on_ether(p, [(0, IPv4.packet(scanner, target, 6, rst, df=False, ttl=49))])
    return p


def pending_timeout():
    """Requests that wait past dissect.pending_timeout (10 s) while their flows live on, with
    other traffic moving the clock: each is written alone ("no_reply") by the timeout, not
    at the flow's end. The times are absolute (microseconds from T0)."""
    p = Pcap(LINKTYPE_ETHERNET)
    timeline = []
    cli, res = "192.0.2.90", "198.51.100.53"
    q1 = dns_msg(0x7101, DNS_Q, "lost.example", 1)
    q2 = dns_msg(0x7102, DNS_Q, "found.example", 1)
    a2 = dns_msg(0x7102, DNS_R, "found.example", 1, [("found.example", 1, 300, ip_bytes("203.0.113.90"))])
    timeline.append((0, (0, ip_packet(cli, res, 17, udp(cli, res, 50090, 53, q1)))))
    timeline.append((5000000, (0, ip_packet(cli, res, 17, udp(cli, res, 50090, 53, q2)))))
    timeline.append((5001000, (1, ip_packet(res, cli, 17, udp(res, cli, 53, 50090, a2)))))
    # HTTP: the request at 0.1 s, the answer 25 s later (after it was written alone), then FIN.
    web, cp, c, sq = "198.51.100.80", 40090, 900000, 700000
    req = http_get("slow.example", "/slow")
    resp = http_ok(b"late\n")
    segs = [
        (100000, 0, tcp(cli, web, cp, 80, c, 0, TCP_SYN, options=MSS)),
        (101000, 1, tcp(web, cli, 80, cp, sq, c + 1, TCP_SYN | TCP_ACK, win=65160, options=MSS)),
        (102000, 0, tcp(cli, web, cp, 80, c + 1, sq + 1, TCP_ACK)),
        (103000, 0, tcp(cli, web, cp, 80, c + 1, sq + 1, TCP_PSH | TCP_ACK, req)),
        (104000, 1, tcp(web, cli, 80, cp, sq + 1, c + 1 + len(req), TCP_ACK, win=65160)),
        (25000000, 1, tcp(web, cli, 80, cp, sq + 1, c + 1 + len(req), TCP_PSH | TCP_ACK, resp, win=65160)),
        (25001000, 0, tcp(cli, web, cp, 80, c + 1 + len(req), sq + 1 + len(resp), TCP_FIN | TCP_ACK)),
        (25002000, 1, tcp(web, cli, 80, cp, sq + 1 + len(resp), c + 2 + len(req), TCP_FIN | TCP_ACK,
                          win=65160)),
        (25003000, 0, tcp(cli, web, cp, 80, c + 2 + len(req), sq + 2 + len(resp), TCP_ACK)),
    ]
    for t, d, seg in segs:
        ip = IPv4.packet(cli, web, 6, seg) if d == 0 else IPv4.packet(web, cli, 6, seg)
        timeline.append((t, (d, ip)))
    # Another host asks a name each second: the clock moves while both requests wait.
    other = "192.0.2.91"
    for i in range(1, 31):
        name = "tick%02d.example" % i
        for k, pkt in enumerate(dns_session(other, res, 51000 + i, 0x7200 + i, name, "203.0.113.91")):
            timeline.append((i * 1000000 + 500000 + k * 1000, pkt))
    clock = -1000
    for t, (d, ip) in sorted(timeline, key=lambda e: e[0]):
        src, dst = (MAC_C, MAC_S) if d == 0 else (MAC_S, MAC_C)
        p.add(eth(dst, src, ethertype_of(ip), ip), step_us=t - clock)
        clock = t
    return p


FILES = {
    "vlan-qinq.pcap": vlan_qinq,
    "mpls.pcap": mpls,
    "gre-erspan.pcap": gre_erspan,
    "vxlan.pcap": vxlan,
    "ipv4-frag.pcap": ipv4_frag,
    "ipv6-frag.pcap": ipv6_frag,
    "ipv6-ext.pcap": ipv6_ext,
    "truncated.pcap": truncated,
    "linktypes-sll.pcap": lambda: linktype_file(LINKTYPE_LINUX_SLL),
    "linktypes-sll2.pcap": lambda: linktype_file(LINKTYPE_LINUX_SLL2),
    "linktypes-null.pcap": lambda: linktype_file(LINKTYPE_NULL),
    "linktypes-raw.pcap": lambda: linktype_file(LINKTYPE_RAW),
    "tcp-midstream.pcap": tcp_midstream,
    "tcp-rst.pcap": tcp_rst,
    "syn-scan.pcap": syn_scan,
    "gre-oneway.pcap": gre_oneway,
    "nbns.pcap": nbns_file,
    "pptp.pcap": pptp,
    "pending-timeout.pcap": pending_timeout,
}


def main(argv):
    if len(argv) != 2:
        print("usage: pcapcraft.py OUTDIR", file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, build in FILES.items():
        IPv4.ids = {}  # each file numbers its IP ids from the same start
        pcap = build()
        if name == "truncated.pcap":
            data = pcap.bytes(cut_last=len(pcap.records[-1][1]) // 2)
        else:
            data = pcap.bytes()
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            f.write(data)
        print("%s: %d packets, %d bytes" % (path, len(pcap.records), len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

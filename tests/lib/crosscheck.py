#!/usr/bin/env python3
"""crosscheck.py - tapline's flows against other people's tools, on ../shared/pcaps
and the project's own pcaps/.

  tuples: the set of flows (protocol and the two endpoints) tapline reports equals
          the set tshark sees in the packets (innermost IP layer), per capture.
  zeek:   where a Zeek conn.log is shipped beside a capture, every connection in it
          has a tapline flow with the same packets, bytes, conn_state and history
          (zeek-service: and the same service, of those tapline dissects).
  ndpi:   tapline's app_proto equals what Debian's ndpiReader (the same nDPI) says.
  dns, http, ldap, kerberos, tls: every message tshark decodes is in an event.

Prints "ok NAME" / "FAIL NAME: why" per capture and check, then "N passed, N failed".
Deliberate differences are listed in tests/crosscheck-exceptions.txt (check name,
capture name, reason), and are reported as ok with the reason.
"""
import glob
import json
import os
import re
import subprocess
import urllib.parse
import sys

TAPLINE = os.environ.get("TAPLINE", "build/release/tapline")
SHARED = os.environ.get("SHARED", "../shared")
ONLY = os.environ.get("T", "")
EXCEPTIONS = {}
USED = set()
npass = nfail = 0


def load_exceptions():
    path = os.path.join(os.path.dirname(__file__), "..", "crosscheck-exceptions.txt")
    if not os.path.exists(path):
        return
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            check, name, why = line.split(None, 2)
            EXCEPTIONS[(check, name)] = why


def report(check, name, problems):
    global npass, nfail
    why = EXCEPTIONS.get((check, name))
    if not problems:
        npass += 1
        print(f"ok {check} {name}")
    elif why:
        npass += 1
        USED.add((check, name))
        print(f"ok {check} {name} (documented difference: {why})")
    else:
        nfail += 1
        print(f"FAIL {check} {name}: " + "; ".join(problems[:8]))


def tapline_events(pcap):
    out = subprocess.run([TAPLINE, "-r", pcap, "--threads", "1", "--set", "sensor=x"],
                         capture_output=True, text=True, errors="replace").stdout
    return [json.loads(line) for line in out.splitlines()]


def endpoint_key(proto, a, pa, b, pb):
    if proto not in ("tcp", "udp"):
        pa = pb = 0
    return (proto,) + tuple(sorted([(a, pa), (b, pb)]))


def canon_ip(s):
    import ipaddress
    return str(ipaddress.ip_address(s))


TSHARK_FIELDS = ["frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
                 "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def tshark_tuples(pcap):
    """The innermost (addresses, ports) of each packet; for ICMP the IP carrying it."""
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout
    tuples = set()
    for line in out.splitlines():
        cols = (line.split("\t") + [""] * len(TSHARK_FIELDS))[: len(TSHARK_FIELDS)]
        protos = cols[0].split(":")
        vals = {f: (c.split("|") if c else []) for f, c in zip(TSHARK_FIELDS, cols)}
        ip = None
        n4 = n6 = nt = nu = 0
        tp = None
        for p in protos:
            if p == "ip" and n4 < len(vals["ip.src"]):
                ip = (vals["ip.src"][n4], vals["ip.dst"][n4])
                n4 += 1
                tp = None
            elif p == "ipv6" and n6 < len(vals["ipv6.src"]):
                ip = (vals["ipv6.src"][n6], vals["ipv6.dst"][n6])
                n6 += 1
                tp = None
            elif p == "tcp" and nt < len(vals["tcp.srcport"]):
                tp = ("tcp", vals["tcp.srcport"][nt], vals["tcp.dstport"][nt])
                nt += 1
            elif p == "udp" and nu < len(vals["udp.srcport"]):
                tp = ("udp", vals["udp.srcport"][nu], vals["udp.dstport"][nu])
                nu += 1
            elif p in ("icmp", "icmpv6"):
                tp = ("icmp", 0, 0)
                break
        if not ip:
            continue
        if tp is None:
            if "data" in protos or protos[-1] in ("ip", "ipv6"):
                continue  # a fragment tshark has not reassembled yet, or no transport
            continue
        tuples.add(endpoint_key(tp[0], canon_ip(ip[0]), int(tp[1]), canon_ip(ip[1]), int(tp[2])))
    return tuples


def check_tuples(pcap, flows):
    mine = {endpoint_key(f["proto"], canon_ip(f["id.orig_h"]), f["id.orig_p"],
                         canon_ip(f["id.resp_h"]), f["id.resp_p"])
            for f in flows if f["proto"] in ("tcp", "udp", "icmp")}
    theirs = tshark_tuples(pcap)
    problems = [f"tshark only: {t}" for t in sorted(theirs - mine, key=str)]
    problems += [f"tapline only: {t}" for t in sorted(mine - theirs, key=str)]
    report("tuples", os.path.basename(pcap), problems)


def zeek_rows(path):
    fields, rows = None, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#") and fields:
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def check_zeek(pcap, log, flows):
    by_tuple = {}
    for f in flows:
        k = (canon_ip(f["id.orig_h"]), f["id.orig_p"], canon_ip(f["id.resp_h"]), f["id.resp_p"], f["proto"])
        by_tuple.setdefault(k, []).append(f)
    problems = []
    for z in zeek_rows(log):
        k = (canon_ip(z["id.orig_h"]), int(z["id.orig_p"]), canon_ip(z["id.resp_h"]), int(z["id.resp_p"]), z["proto"])
        mine = by_tuple.get(k)
        if not mine:
            problems.append(f"no flow for Zeek's {k}")
            continue
        f = mine[0]
        for name in ("orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_ip_bytes",
                     "resp_ip_bytes", "conn_state", "history", "missed_bytes"):
            if name not in z or z[name] == "-":
                continue
            want = z[name] if name in ("conn_state", "history") else int(z[name])
            if f.get(name) != want:
                problems.append(f"{k} {name}: zeek {want!r}, tapline {f.get(name)!r}")
    report("zeek", os.path.basename(pcap), problems)


# Zeek's conn.log services that a tapline dissector reads; Zeek's others (ssl, gssapi,
# ntlm, vxlan...) have no dissector here and are not compared.
ZEEK_SERVICES = {"dns", "http", "krb", "krb_tcp", "ldap_tcp", "ldap_udp"}


def check_zeek_service(pcap, log, flows):
    """Every connection in Zeek's conn.log has the service tapline read on it, of those
    Zeek names that tapline dissects: the same one, or none on both sides."""
    by_tuple = {}
    for f in flows:
        k = (canon_ip(f["id.orig_h"]), f["id.orig_p"], canon_ip(f["id.resp_h"]), f["id.resp_p"], f["proto"])
        by_tuple.setdefault(k, set()).update([f["service"]] if "service" in f else [])
    problems = []
    for z in zeek_rows(log):
        k = (canon_ip(z["id.orig_h"]), int(z["id.orig_p"]), canon_ip(z["id.resp_h"]), int(z["id.resp_p"]), z["proto"])
        if k not in by_tuple:
            continue  # the zeek check reports a missing flow
        want = set(z.get("service", "-").split(",")) & ZEEK_SERVICES
        if by_tuple[k] != want:
            problems.append(f"{k} service: zeek {sorted(want)}, tapline {sorted(by_tuple[k])}")
    report("zeek-service", os.path.basename(pcap), problems)


NDPI_LINE = re.compile(r"^\s*\d+\s+(TCP|UDP|ICMP|ICMPV6)\s+\[?([0-9a-fA-F:.]+?)\]?:(\d+)\s+<?->\s+"
                       r"\[?([0-9a-fA-F:.]+?)\]?:(\d+)\s+.*?\[proto: [0-9.]+/([^\]]+)\]")


def check_ndpi(pcap, flows):
    out = subprocess.run(["ndpiReader", "-i", pcap, "-v", "2"], capture_output=True, errors="replace",
                         text=True).stdout
    theirs = {}
    for line in out.splitlines():
        m = NDPI_LINE.match(line)
        if m:
            proto = m.group(1).lower()
            proto = "icmp" if proto.startswith("icmp") else proto
            k = endpoint_key(proto, canon_ip(m.group(2)), int(m.group(3)), canon_ip(m.group(4)), int(m.group(5)))
            theirs[k] = m.group(6)
    # ndpiReader has no idle timeout: where tapline split a 5-tuple into several
    # flows (a gap longer than the timeout), one of them must agree.
    mine = {}
    for f in flows:
        k = endpoint_key(f["proto"], canon_ip(f["id.orig_h"]), f["id.orig_p"], canon_ip(f["id.resp_h"]), f["id.resp_p"])
        mine.setdefault(k, set()).add(f.get("app_proto", "Unknown"))
    problems = [f"{k}: ndpiReader {theirs[k]}, tapline {sorted(apps)}"
                for k, apps in mine.items() if k in theirs and theirs[k] not in apps]
    if not theirs:
        problems.append("ndpiReader printed no flows")
    report("ndpi", os.path.basename(pcap), problems)


def tshark_rows(pcap, filt, fields, extra=()):
    cmd = ["tshark", "-n", "-r", pcap, *extra, "-Y", filt, "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout
    rows = []
    for line in out.splitlines():
        cols = (line.split("\t") + [""] * len(fields))[: len(fields)]
        rows.append(dict(zip(fields, cols)))
    return rows


def split_multi(row, n):
    """One row per message when a frame holds several (DNS over TCP, pipelined HTTP)."""
    vals = {k: v.split("|") for k, v in row.items()}
    return [{k: (v[i] if i < len(v) else "") for k, v in vals.items()} for i in range(n)]


DNS_FIELDS = ["dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode"]


def check_dns(pcap, events):
    """Every DNS message tshark decodes is in a dns event: id, name, type, rcode."""
    problems = []
    for row in tshark_rows(pcap, "dns", DNS_FIELDS):
        for m in split_multi(row, len(row["dns.id"].split("|"))):
            if not m["dns.id"] or not m["dns.qry.name"]:
                continue
            tid, name = int(m["dns.id"], 16), m["dns.qry.name"].lower()
            # tshark writes unprintable bytes as octal escapes, tapline as \xNN (Zeek's).
            name = re.sub(r"\\([0-7]{3})", lambda o: "\\x%02x" % int(o.group(1), 8), name)
            name = "" if name == "<root>" else name
            qtype = int(m["dns.qry.type"]) if m["dns.qry.type"] else None
            resp = m["dns.flags.response"] in ("1", "True")
            cands = [e for e in events if e.get("trans_id") == tid and
                     e.get("query", "").lower() == name and (qtype is None or e.get("qtype") == qtype)]
            if resp:
                cands = [e for e in cands if e.get("rcode") == int(m["dns.flags.rcode"] or 0)]
            if not cands:
                problems.append(f"no dns event for {'response' if resp else 'query'} id={tid} {name} type={qtype}")
    report("dns", os.path.basename(pcap), problems)


HTTP_FIELDS = ["tcp.srcport", "tcp.dstport", "http.request.method", "http.request.uri", "http.host",
               "http.user_agent", "http.response.code"]


def check_http(pcap, events):
    """Every HTTP request tshark decodes is in an http event: method, uri, host, user agent;
    every final response's status code is on one."""
    problems = []
    rows = tshark_rows(pcap, "http && tcp", HTTP_FIELDS)  # SSDP (HTTP over UDP) is not HTTP here
    for row in rows:
        for method, uri, host, ua in zip(*(row[f].split("|") for f in HTTP_FIELDS[2:6])):
            if not method:
                continue
            # tapline logs the URI with %XX decoded, as Zeek does; tshark shows it raw.
            ok = any(e.get("method") == method and
                     e.get("uri") in (uri, urllib.parse.unquote(uri, errors="replace")) and
                     e.get("host", "") == host and e.get("user_agent", "") == ua for e in events)
            if not ok:
                problems.append(f"no http event for {method} {host}{uri}")
        for code in row["http.response.code"].split("|"):
            if code and int(code) >= 200 and not any(e.get("status_code") == int(code) for e in events):
                problems.append(f"no http event with status {code}")
    report("http", os.path.basename(pcap), problems)


LDAP_OPS = {"0": "bind", "2": "unbind", "3": "search", "6": "modify", "8": "add", "10": "delete",
            "12": "modDN", "14": "compare", "16": "abandon", "23": "extended"}
LDAP_SCOPES = {"0": "base", "1": "single", "2": "tree"}


def check_ldap(pcap, events):
    """Every LDAP request tshark decodes is in an ldap event: id, operation, base, scope."""
    problems = []
    fields = ["ldap.messageID", "ldap.protocolOp", "ldap.baseObject", "ldap.scope"]
    for row in tshark_rows(pcap, "ldap", fields):
        for m in split_multi(row, len(row["ldap.protocolOp"].split("|"))):
            op = LDAP_OPS.get(m["ldap.protocolOp"])
            if not op or not m["ldap.messageID"]:
                continue
            mid = int(m["ldap.messageID"])
            cands = [e for e in events if e.get("message_id") == mid and e.get("operation") == op]
            if op == "search":
                cands = [e for e in cands if e.get("base_object", "") == m["ldap.baseObject"] and
                         e.get("scope") == LDAP_SCOPES.get(m["ldap.scope"])]
            if not cands:
                problems.append(f"no ldap event for {op} id={mid} {m['ldap.baseObject']}")
    report("ldap", os.path.basename(pcap), problems)


def check_kerberos(pcap, events):
    """Every Kerberos message tshark decodes (one per frame) is in a kerberos event:
    requests by type, client and service; replies by type; errors by code."""
    problems = []
    fields = ["kerberos.msg_type", "kerberos.CNameString", "kerberos.SNameString",
              "kerberos.error_code"]
    reply = {"11": "AS-REP", "13": "TGS-REP", "30": "KRB-ERROR"}
    for row in tshark_rows(pcap, "kerberos", fields):
        types = row["kerberos.msg_type"].split("|")
        if len(types) != 1 or not types[0]:
            continue
        t = types[0]
        cname = "/".join(row["kerberos.CNameString"].split("|"))
        sname = "/".join(row["kerberos.SNameString"].split("|")) if t in ("10", "12") else ""
        if t in ("10", "12"):
            rt = "AS" if t == "10" else "TGS"
            ok = any(e.get("request_type") == rt and (not sname or e.get("service") == sname) and
                     (t == "12" or not cname or e.get("client") == cname) for e in events)
            what = f"{rt}-REQ {cname} {sname}"
        elif t in reply:
            code = row["kerberos.error_code"]
            ok = any(e.get("reply_type") == reply[t] and
                     (not code or e.get("error_code") == int(code)) for e in events)
            what = f"{reply[t]} {code}"
        else:
            continue
        if not ok:
            problems.append(f"no kerberos event for {what}")
    report("kerberos", os.path.basename(pcap), problems)


TLS_FIELDS = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
              "udp.srcport", "udp.dstport", "tls.handshake.type",
              "tls.handshake.extensions_server_name", "tls.handshake.ja3", "tls.handshake.ja3s",
              "tls.handshake.extensions_alpn_str", "tls.handshake.certificate",
              "tls.handshake.version", "tls.handshake.extensions.supported_version"]
ZEEK_TLS_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv10", 0x0302: "TLSv11", 0x0303: "TLSv12",
                     0x0304: "TLSv13"}


def tls_endpoints(row):
    """The innermost addresses and the ports of a frame, as an endpoint_key."""
    last = lambda f: row[f].split("|")[-1]
    v6 = bool(row["ipv6.src"]) and not row["ip.src"]
    src, dst = (last("ipv6.src"), last("ipv6.dst")) if v6 else (last("ip.src"), last("ip.dst"))
    proto = "tcp" if row["tcp.srcport"] else "udp"
    return endpoint_key(proto, canon_ip(src), int(last(f"{proto}.srcport")), canon_ip(dst),
                        int(last(f"{proto}.dstport")))


def check_tls(pcap, events):
    """Every ClientHello tshark decodes is in a tls event of its flow: server name (the last
    79 bytes nDPI 4.2 keeps), ja3, offered ALPN; over TCP, each ServerHello's ja3s, version
    and chosen ALPN (TLS <= 1.2: in the clear), and the SHA-1 of each server certificate."""
    import hashlib
    problems = []
    by_flow = {}
    for e in events:
        k = endpoint_key(e["proto"], canon_ip(e["id.orig_h"]), e["id.orig_p"],
                         canon_ip(e["id.resp_h"]), e["id.resp_p"])
        by_flow.setdefault(k, []).append(e)
    for row in tshark_rows(pcap, "tls.handshake.type == 1 || tls.handshake.type == 2 || "
                           "tls.handshake.type == 11", TLS_FIELDS):
        if not (row["tcp.srcport"] or row["udp.srcport"]):
            continue
        k = tls_endpoints(row)
        mine = by_flow.get(k, [])
        types = row["tls.handshake.type"].split("|")
        if "1" in types:
            sni = row["tls.handshake.extensions_server_name"].lower()[-79:]
            alpn = [a for a in row["tls.handshake.extensions_alpn_str"].split("|") if a]
            want = {"ja3": row["tls.handshake.ja3"], "server_name": sni or None,
                    "alpn": alpn or None}
            if not any(all(e.get(f) == v for f, v in want.items()) for e in mine):
                problems.append(f"no tls event for the ClientHello of {k} {want}"
                                f" (tapline: {[{f: e.get(f) for f in want} for e in mine]})")
        if "2" in types and k[0] == "tcp":
            alpn = row["tls.handshake.extensions_alpn_str"].split("|")[-1] if "1" not in types else ""
            chosen = (row["tls.handshake.extensions.supported_version"] or
                      row["tls.handshake.version"]).split("|")[-1]
            want = {"ja3s": row["tls.handshake.ja3s"], "next_protocol": alpn or None,
                    "version": ZEEK_TLS_VERSIONS.get(int(chosen, 16)) if chosen else None}
            if not any(all(e.get(f) == v for f, v in want.items()) for e in mine):
                problems.append(f"no tls event for the ServerHello of {k} {want}")
        if "11" in types and k[0] == "tcp" and row["tls.handshake.certificate"]:
            der = bytes.fromhex(row["tls.handshake.certificate"].split("|")[0].replace(":", ""))
            sha1 = hashlib.sha1(der).hexdigest()
            if not any(e.get("cert_sha1") == sha1 for e in mine):
                problems.append(f"no tls event with certificate SHA-1 {sha1} for {k}")
    report("tls", os.path.basename(pcap), problems)


L7_CHECKS = {"dns": check_dns, "http": check_http, "ldap": check_ldap, "kerberos": check_kerberos,
             "tls": check_tls}

# Fields compared with Zeek's logs, and how a Zeek value reads as ours.
ZEEK_L7 = {
    "dns": (("trans_id", "query"), ["qtype_name", "rcode_name", "answers", "rejected"]),
    "kerberos": (("request_type",), ["service", "success", "cipher", "error_msg", "forwardable",
                                     "renewable"]),
    "ldap": (("message_id",), ["diagnostic_message", "opcode", "result"]),
    "ldap_search": (("message_id",), ["scope", "deref_aliases", "base_object", "result_entries",
                                      "result_count", "result", "filter", "attributes"]),
    "http": (("trans_depth",), ["method", "host", "uri", "user_agent", "status_code",
                                "status_msg", "request_body_len", "response_body_len", "username",
                                "referrer", "info_code", "orig_mime_types", "resp_mime_types",
                                "client_header_names", "server_header_names"]),
}


ZEEK_NAMES = {"result_entries": "result_count"}  # tapline name -> Zeek's


def zeek_value(name, v):
    if v in ("-", ""):
        return None
    if v == "(empty)":
        return []
    if name in ("answers", "TTLs", "proxied", "attributes", "orig_mime_types", "resp_mime_types",
                "client_header_names", "server_header_names"):
        return v.split(",")
    if v in ("T", "F"):
        return v == "T"
    try:
        return int(v)
    except ValueError:
        return v.encode().decode("unicode_escape") if "\\x" in v else v


def check_zeek_l7(proto, pcap, log, events):
    keys, fields = ZEEK_L7[proto]
    problems = []
    for z in zeek_rows(log):
        # Some baselines are cut down to a few columns: match on what is there.
        tup = (canon_ip(z["id.orig_h"]), int(z["id.orig_p"]), canon_ip(z["id.resp_h"]),
               int(z["id.resp_p"])) if "id.orig_h" in z else None
        want_key = [zeek_value(k, z.get(k, "-")) for k in keys]
        # Names compare without case: tapline's query is lower case (query_original keeps the
        # name as sent); Zeek lower-cases DNS names but writes decoded NetBIOS names upper case.
        same = lambda k, a, b: a == b or (k == "query" and isinstance(a, str) and
                                          isinstance(b, str) and a.lower() == b.lower())
        cands = [e for e in events
                 if (tup is None or (canon_ip(e["id.orig_h"]), e["id.orig_p"],
                                     canon_ip(e["id.resp_h"]), e["id.resp_p"]) == tup)
                 and all(w is None or same(k, e.get(k), w) for k, w in zip(keys, want_key))]
        if not cands:
            problems.append(f"no {proto} event for Zeek's {tup} {want_key}")
            continue
        best = None
        for e in cands:
            diffs = []
            for f in fields:
                want = zeek_value(f, z.get(ZEEK_NAMES.get(f, f), "-"))
                if want is None:
                    continue
                got = e.get(f)
                if isinstance(want, list):
                    got = got or []
                if got != want:
                    diffs.append(f"{f}: zeek {want!r}, tapline {got!r}")
            if best is None or len(diffs) < len(best):
                best = diffs
        problems += [f"{tup} {want_key} {d}" for d in best]
    report(f"zeek-{proto}", os.path.basename(pcap), problems)


def main():
    global nfail
    load_exceptions()
    pcaps = sorted(glob.glob(f"{SHARED}/pcaps/*/*.pcap") + glob.glob(f"{SHARED}/pcaps/*/*.pcapng"))
    pcaps += sorted(glob.glob("pcaps/*.pcap"))
    if not pcaps:
        print(f"no captures under {SHARED}/pcaps")
    for pcap in pcaps:
        name = os.path.basename(pcap)
        if ONLY and ONLY not in (name, "crosscheck"):
            continue
        events = tapline_events(pcap)
        flows = [e for e in events if e["event_type"] == "flow"]
        check_tuples(pcap, flows)
        for log in glob.glob(pcap + ".zeek-conn.log"):
            check_zeek(pcap, log, flows)
            check_zeek_service(pcap, log, flows)
        check_ndpi(pcap, flows)
        for proto, check in L7_CHECKS.items():
            mine = [e for e in events if e["event_type"] == proto]
            check(pcap, mine)
            for log in glob.glob(f"{pcap}.zeek-{proto}.log"):
                check_zeek_l7(proto, pcap, log, mine)
        for log in glob.glob(f"{pcap}.zeek-*ldap_search.log*"):
            check_zeek_l7("ldap_search", pcap, log, [e for e in events if e["event_type"] == "ldap"])
    if not ONLY:
        # A documented difference that no longer differs is stale: the file must stay true.
        checked = {os.path.basename(p) for p in pcaps}
        for key in sorted(k for k in set(EXCEPTIONS) - USED if k[1] in checked):
            nfail += 1
            print(f"FAIL stale exception {key[0]} {key[1]}: it no longer differs; remove it")
    print(f"crosscheck: {npass} passed, {nfail} failed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())

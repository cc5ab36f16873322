"""test_accuracy.py - how many connections the wire really held, on captures
built here byte for byte (pcapgen.py): what a TCP stack would call one
connection must be one connection in the report.

- SYNs resent with the ISN already seen (also after the server refused them,
  as Windows clients retry) are one refused connection, not one per SYN;
- a FIN, RST or ACK retransmitted long after the close (7 to 57 s in the
  field) is a late segment of the closed connection, counted as such;
- a SYN with a new ISN on the same addresses and ports after the close is a
  new connection; so is new data after the close (the talk goes on);
- TLS seen only in part: a ServerHello that chose a version and a cipher,
  then the capture ends, is TLS (not completed); a TLS 1.3 draft version has
  a name; a TLS 1.3 client that answers with a lone encrypted alert failed
  and never says completed;
- a server Certificate message over the 64 KiB handshake cap is reported
  as such and counted; the client closing then is a failed handshake;
- a ClientHello to a cleartext server (telnet after its negotiation, a host
  server answering in clear) is a failed TLS attempt with the mismatch;
- TLS after a SOCKS 5 (with its password step), SOCKS 4a, HTTP CONNECT or
  RDP X.224 exchange is TLS, said so, and the proxy password is nowhere;
- with a snap length of 80, record headers from both sides prove a TLS
  session, and a plaintext alert answering the ClientHello does not;
- a client on both kinds of port is "mixed", its TLS use shown with the
  cutover list; every summary number of the text report has its rows; client
  software is in the text report;
- the text report says which of "no TLS", "TLS 1.3 only" and "cut before
  the certificate" explains a missing server certificate;
- encapsulations of real span and mirror ports (MPLS, an MPLS Ethernet
  pseudowire, PPPoE over QinQ, Geneve, GRE in UDP, AYIYA) and the Linux NFLOG
  link type: the inner telnet session is analysed as if it were bare, and
  each layer is counted.  Every header is written here from its RFC.
"""
import struct
import atexit
import json
import os
import shutil
import subprocess
import tempfile

from tap import ok, run, done, sanitizer_report, tshark_run
from pcapgen import (Pcap, SYN, FIN, RST, ACK, ETH_DST_SRC, ipv4_header, udp, tls_record, tls_handshake,
                     client_hello, server_hello)

tmp = tempfile.mkdtemp(prefix="tlsready-acc-")
atexit.register(shutil.rmtree, tmp, True)


def report(cap, *args):
    rc, out, err = run(["-q", "-r", cap, "--format", "json"] + list(args))
    return rc, (json.loads(out) if out else None), err


def path(name):
    return os.path.join(tmp, name)


# ---- resent SYNs with the same ISN ----
cap = path("resent-syn.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.10", 40000, "198.51.100.1", 8476, isn_c=777)
for gap in (0.0, 1.0, 3.0, 6.0, 20.0):      # before and after the 5 s a closed connection lingers
    w.tick(gap)
    c.refuse()
w.close()
rc, doc, err = report(cap)
flows = doc["flows"] if doc else []
ok(rc == 0 and len(flows) == 1 and flows[0]["tcp"] == "refused",
   "five refused SYNs with one ISN are one refused connection", [(f["tcp"], f["packets"]) for f in flows])
ok(doc and doc["capture"]["counters"]["late_segments"] >= 1, "the SYNs after the connection ended are late segments",
   doc["capture"]["counters"] if doc else None)
cl = doc["clients"][0] if doc and doc["clients"] else {}
ok(cl.get("nonsecure", [{}])[0].get("connections") == 1 and cl.get("status") == "attempt-only",
   "the client made one attempt", cl)

# ---- late FIN / RST / ACK after the close ----
cap = path("late-fin.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.11", 40001, "198.51.100.1", 23)
c.handshake()
c.send(b"\xff\xfd\x18", from_client=False)
c.send(b"\xff\xfb\x18")
c.close()
fin_seq = c.nxt[0] - 1
for gap in (7.0, 20.0, 57.0):
    w.tick(gap)
    w.frame(c.cli, c.srv, c.cport, c.sport, FIN | ACK, fin_seq, c.nxt[1])     # the client's FIN again
w.frame(c.srv, c.cli, c.sport, c.cport, RST, c.nxt[1], 0)                   # and a stray RST from the server
w.frame(c.srv, c.cli, c.sport, c.cport, ACK, c.nxt[1], c.nxt[0])             # and its last ACK again
w.close()
rc, doc, err = report(cap)
flows = doc["flows"] if doc else []
ok(rc == 0 and len(flows) == 1 and flows[0]["tcp"] == "closed" and not flows[0]["midstream"],
   "FIN, RST and ACK resent 7 to 57 s after the close start no ghost connection",
   [(f["tcp"], f["midstream"], f["packets"]) for f in flows])
ok(doc and doc["capture"]["counters"]["late_segments"] == 5 and doc["capture"]["counters"]["connections"] == 1,
   "the 5 late segments are counted", doc["capture"]["counters"] if doc else None)

# ---- a real new connection on the same ports, and a talk that goes on ----
cap = path("reuse.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.12", 40002, "198.51.100.1", 8476, isn_c=1000, isn_s=9000)
c.handshake()
c.close()
w.tick(10.0)
c2 = w.conn("192.0.2.12", 40002, "198.51.100.1", 8476, isn_c=5_000_000, isn_s=7_000_000)
c2.handshake()
c2.close()
w.tick(10.0)
c2.send(b"more bytes after the close")          # new bytes beyond the old space: not a retransmission
w.close()
rc, doc, err = report(cap)
flows = doc["flows"] if doc else []
ok(rc == 0 and [f["midstream"] for f in flows] == [False, False, True],
   "a new ISN is a new connection; new data after the close is one more (mid-stream)",
   [(f["tcp"], f["midstream"], f["packets"]) for f in flows])
ok(doc and doc["capture"]["counters"]["late_segments"] == 0, "nothing there is late",
   doc["capture"]["counters"]["late_segments"] if doc else None)
for threads in ("2",):
    _, d2, _ = report(cap, "--threads", threads)
    ok(d2 == doc, f"--threads {threads}: the same report")


# ---- TLS seen only in part ----
def tls_flow(cap, versions, chosen, suite, tail):
    w = Pcap(cap)
    c = w.conn("192.0.2.30", 42000, "198.51.100.1", 9476)
    c.handshake()
    c.send(tls_record(22, client_hello((suite,), versions), 0x0301))
    c.send(tls_record(22, server_hello(suite, chosen)), from_client=False)
    tail(c)
    w.close()


def ends_open(c):
    pass                                            # the capture ends: the connection is still open


cap = path("tls-cut.pcap")
tls_flow(cap, None, None, 0x009c, ends_open)
rc, doc, err = report(cap)
f = doc["flows"][0] if doc and doc["flows"] else {}
t = f.get("tls") or {}
ok(f.get("transport") == "tls" and t.get("completed") is False and t.get("version") == "TLSv1.2"
   and t.get("cipher") == "TLS_RSA_WITH_AES_128_GCM_SHA256",
   "a ServerHello and then the end of the capture: tls, not completed, version and cipher", (f.get("transport"), t))


cap = path("tls-warning-cut.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.31", 42001, "198.51.100.1", 9476)
c.handshake()
c.send(tls_record(22, client_hello((0x009c,)), 0x0301))
c.send(tls_record(21, b"\x01\x70") + tls_record(22, server_hello(0x009c)), from_client=False)
w.close()                                           # a warning (unrecognized_name), the ServerHello, the end
rc, doc, err = report(cap)
f = doc["flows"][0] if doc and doc["flows"] else {}
ok(f.get("transport") == "tls" and (f.get("tls") or {}).get("alert") == "unrecognized_name",
   "a warning alert before the ServerHello refuses nothing: tls, the warning reported", (f.get("transport"), f.get("tls")))


def tls13_both_ways(c):
    c.send(tls_record(23, b"\xee" * 900), from_client=False)   # encrypted extensions ... server Finished
    c.send(tls_record(23, b"\xdd" * 53))                      # the client's Finished
    c.send(tls_record(23, b"\xcc" * 200))
    c.send(tls_record(23, b"\xbb" * 300), from_client=False)
    c.close()


cap = path("tls13-draft.pcap")
tls_flow(cap, [0x7f17], 0x7f17, 0x1301, tls13_both_ways)
rc, doc, err = report(cap)
f = doc["flows"][0] if doc and doc["flows"] else {}
t = f.get("tls") or {}
ok(f.get("transport") == "tls" and t.get("completed") is True and t.get("version") == "TLSv1.3-draft-23",
   "a completed TLS 1.3 draft-23 handshake has a version name (0x7f17)", (f.get("transport"), t.get("version")))
ok((t.get("ja4") or "").startswith("t00"), "JA4 of a ClientHello whose highest version is unknown to JA4: 00",
   t.get("ja4"))
cap = path("tls13-fb-draft.pcap")
tls_flow(cap, [0xfb1a, 0x0304, 0x0303], 0x0304, 0x1301, tls13_both_ways)
rc, doc, err = report(cap)
t = ((doc["flows"][0] if doc and doc["flows"] else {}).get("tls")) or {}
ok((t.get("ja4") or "").startswith("t00") and t.get("client_max_version") == "TLSv1.3",
   "JA4 takes the numerically highest supported_versions value (0xfb1a, a Facebook draft: 00), as JA4.md and FoxIO's "
   "ja4.py do; the client's highest version stays TLS 1.3", (t.get("ja4"), t.get("client_max_version")))


def lone_alert(c):
    c.send(tls_record(23, b"\xee" * 900), from_client=False)
    c.send(tls_record(23, b"\xaa" * 19))                      # an encrypted alert, nothing more
    c.close()


cap = path("tls13-reject.pcap")
tls_flow(cap, [0x0304], 0x0304, 0x1301, lone_alert)
rc, doc, err = report(cap)
f = doc["flows"][0] if doc and doc["flows"] else {}
t = f.get("tls") or {}
ok(f.get("transport") == "tls-failed" and t.get("completed") is False,
   "a TLS 1.3 client's lone encrypted alert: tls-failed and never completed: true", (f.get("transport"), t))

# ---- what the text report says about certificates is what was seen ----
def cert_line(cap):
    rc, out, err = run(["-q", "-r", cap])
    text = out.decode("utf-8", "replace")
    return text.split("Server certificates:", 1)[1].splitlines()[1].strip() if "Server certificates:" in text else text


ok(cert_line(path("tls13-reject.pcap")) == "(none seen: TLS 1.3 encrypts it)", "TLS 1.3 only: its certificate is encrypted",
   cert_line(path("tls13-reject.pcap")))
ok(cert_line(path("tls-cut.pcap")) == "(none seen: no handshake got as far as the server's certificate)",
   "a TLS 1.2 handshake cut after the ServerHello: no certificate got through", cert_line(path("tls-cut.pcap")))
ok(cert_line(path("late-fin.pcap")) == "(none: no TLS server answered in this capture)",
   "no TLS at all: said so, not blamed on TLS 1.3", cert_line(path("late-fin.pcap")))

# ---- a server certificate over the 64 KiB handshake cap ----
for name, client_goes_on, want in (("the client closes", False, "tls-failed"), ("the client goes on", True, "tls")):
    cap = path(f"bigcert-{want}.pcap")
    w = Pcap(cap)
    c = w.conn("192.0.2.37", 42700, "198.51.100.1", 9476)
    c.handshake()
    c.send(tls_record(22, client_hello((0x009c,)), 0x0301))
    big = b"\x0b" + (70000).to_bytes(3, "big") + (69997).to_bytes(3, "big") + b"\x00" * 3000   # announces 70,000
    c.send(tls_record(22, server_hello(0x009c)) + tls_record(22, big), from_client=False)
    if client_goes_on:
        c.send(tls_record(22, b"\x10" + b"\x00" * 40) + tls_record(20, b"\x01") + tls_record(22, b"\x99" * 40))
    c.close()
    w.close()
    rc, doc, err = report(cap)
    f = doc["flows"][0] if doc and doc["flows"] else {}
    ok(f.get("transport") == want and (f.get("tls") or {}).get("certificate_over_cap") is True
       and doc["capture"]["counters"]["tls_certificates_over_cap"] == 1,
       f"a Certificate message of 70,000 bytes, then {name}: {want}, reported as over the cap and counted",
       (f.get("transport"), f.get("tls"), doc["capture"]["counters"].get("tls_certificates_over_cap") if doc else None))

# ---- a ClientHello to a cleartext server ----
for name, port, first in (("telnet 23 after the server's option negotiation", 23, b"\xff\xfd\x18\xff\xfd\x27"),
                          ("a host-server port answered in clear", 8476, None)):
    cap = path(f"hello-clear-{port}.pcap")
    w = Pcap(cap)
    c = w.conn("192.0.2.36", 42600, "198.51.100.1", port)
    c.handshake()
    if first:
        c.send(first, from_client=False)
    c.send(tls_record(22, client_hello((0x009c,)), 0x0301))
    if not first:
        c.send(struct.pack("!IBBHIIHH", 20, 0, 0, 0xE009, 0, 0, 0, 0xF001), from_client=False)
    c.close()
    w.close()
    rc, doc, err = report(cap)
    f = doc["flows"][0] if doc and doc["flows"] else {}
    ok(f.get("transport") == "tls-failed" and f.get("mismatch") == "tls-on-nonsecure-port",
       f"a ClientHello on {name}: tls-failed with the mismatch", (f.get("transport"), f.get("mismatch"), f.get("content")))

def tls12_completed(c):
    c.send(tls_record(22, tls_handshake(14, b"")), from_client=False)                 # ServerHelloDone
    c.send(tls_record(20, b"\x01") + tls_record(22, b"\x99" * 40))                   # CCS, Finished
    c.send(tls_record(20, b"\x01") + tls_record(22, b"\x98" * 40), from_client=False)
    c.send(tls_record(23, b"\x97" * 64))
    c.close()


# ---- TLS after a proxy's exchange: SOCKS 5 (with a password step), SOCKS 4a, HTTP CONNECT, RDP ----
SOCKS_PASSWORD = b"Pr0xy-Secret"
hello = tls_record(22, client_hello((0x009c,)), 0x0301)
shello = tls_record(22, server_hello(0x009c))
rdp_cr = lambda: struct.pack("!BBH", 3, 0, 19) + bytes([14, 0xE0, 0, 0, 0, 0, 0]) + struct.pack("<BBHI", 1, 0, 8, 3)
rdp_cc = lambda: struct.pack("!BBH", 3, 0, 19) + bytes([14, 0xD0, 0, 0, 0, 0, 0]) + struct.pack("<BBHI", 2, 0, 8, 1)
proxies = [
    ("socks5", 1080,
     [b"\x05\x01\x02", b"\x01\x05alice" + bytes([len(SOCKS_PASSWORD)]) + SOCKS_PASSWORD,
      b"\x05\x01\x00\x03\x0eibmi.lab.local" + struct.pack("!H", 9476)],
     [b"\x05\x02", b"\x01\x00", b"\x05\x00\x00\x01\xc0\x00\x02\x0a" + struct.pack("!H", 9476)]),
    ("socks4", 1080, [b"\x04\x01" + struct.pack("!H", 9476) + b"\x00\x00\x00\x01bob\x00ibmi.lab.local\x00"],
     [b"\x00\x5a" + b"\x00" * 6]),
    (None, 3128, [b"CONNECT ibmi.lab.local:9476 HTTP/1.1\r\nHost: ibmi.lab.local:9476\r\n\r\n"],
     [b"HTTP/1.1 200 Connection established\r\n\r\n"]),
    ("rdp", 3389, [rdp_cr()], [rdp_cc()]),
]
for name, port, cmsgs, smsgs in proxies:
    cap = path(f"proxy-{port}-{name}.pcap")
    w = Pcap(cap)
    c = w.conn("192.0.2.38", 42800, "203.0.113.9", port)
    c.handshake()
    for cm, sm in zip(cmsgs, smsgs):
        c.send(cm)
        c.send(sm, from_client=False)
    c.send(hello)
    c.send(shello, from_client=False)
    tls12_completed(c)
    w.close()
    rc, doc, err = report(cap, "--server", "203.0.113.9")
    f = doc["flows"][0] if doc and doc["flows"] else {}
    t = f.get("tls") or {}
    label = name or "http-connect"
    ok(f.get("transport") == "tls" and t.get("version") == "TLSv1.2" and t.get("after") == name,
       f"TLS after {label}: transport tls, version from the ServerHello, after={name}", (f.get("transport"), t))
    rc, out, err = run(["-q", "-r", cap, "--server", "203.0.113.9", "--format", "json"])
    ok(SOCKS_PASSWORD not in out, f"{label}: no proxy password in the report")

# ---- a small snap length: record headers prove TLS, a plaintext alert refuses it ----
for name, tail, want in (("a whole TLS 1.2 session", None, "tls"),
                         ("a whole TLS 1.2 session after a warning alert (unrecognized_name)", "warning", "tls"),
                         ("a server's plaintext handshake_failure alert", "alert", "tls-failed")):
    cap = path(f"snap-{want}-{tail}.pcap")
    w = Pcap(cap, snaplen=80)                  # 54 header bytes: 26 bytes of each segment's payload
    c = w.conn("192.0.2.35", 42500, "198.51.100.1", 9476)
    c.handshake()
    c.send(tls_record(22, client_hello((0x009c, 0x002f)), 0x0301))
    if tail == "alert":
        c.send(tls_record(21, b"\x02\x28"), from_client=False)
        c.close()
    else:
        if tail == "warning":
            c.send(tls_record(21, b"\x01\x70"), from_client=False)   # level 1, description 112
        c.send(tls_record(22, server_hello(0x009c) + b"\x0b" + b"\x00" * 300), from_client=False)
        c.send(tls_record(22, b"\x10" + b"\x00" * 60) + tls_record(20, b"\x01"))   # next flight, one segment
        c.send(tls_record(20, b"\x01") + tls_record(22, b"\x98" * 40), from_client=False)
        c.send(tls_record(23, b"\x97" * 64))
        c.send(tls_record(23, b"\x96" * 64), from_client=False)
        c.close()
    w.close()
    rc, doc, err = report(cap)
    f = doc["flows"][0] if doc and doc["flows"] else {}
    got = f.get("transport")
    ok(got == want if want == "tls" else got != "tls",
       f"snap length 80, {name}: transport {'tls' if want == 'tls' else 'not tls'}", (got, f.get("tls")))
    if want == "tls":
        ok((f.get("tls") or {}).get("cut_by_snaplen") is True, "...and the TLS object says its facts were cut",
           f.get("tls"))

# ---- a mixed client, and the IBM i's own secure use, in the text lists ----
cap = path("mixed.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.40", 43000, "198.51.100.1", 23)
c.handshake()
c.send(b"\xff\xfd\x27\xff\xfd\x18\xff\xfa\x18\x01\xff\xf0", from_client=False)
c.send(b"\xff\xfb\x27\xff\xfb\x18\xff\xfa\x18\x00IBM-3179-2\xff\xf0"
       b"\xff\xfa\x27\x00\x00USER\x01MIXUSER\xff\xf0")
c.close()
for cli, port in (("192.0.2.40", 43001), ("198.51.100.1", 43002)):   # the mixed client; the IBM i itself
    c = w.conn(cli, port, "198.51.100.1", 992)
    c.handshake()
    c.send(tls_record(22, client_hello((0x009c,)), 0x0301))
    c.send(tls_record(22, server_hello(0x009c)), from_client=False)
    tls12_completed(c)
w.close()
rc, doc, err = report(cap)
cl = {x["ip"]: x for x in doc["clients"]} if doc else {}
m = cl.get("192.0.2.40", {})
ok(m.get("status") == "nonsecure" and m.get("mixed") is True and [u["port"] for u in m.get("secure", [])] == [992],
   "a client on telnet 23 and on TLS 992 is nonsecure and mixed, its secure use listed", m)
rc, out, err = run(["-q", "-r", cap])
text = out.decode()
nonsec = text.split("Clients still using nonsecure ports", 1)[1].split("The IBM i talking", 1)[0]
ok("1 of them also use TLS on secure ports" in nonsec and "992" in nonsec,
   "the text report shows the mixed client's TLS use under the cutover list", nonsec)
summary = text.split("Seen:", 1)[1].splitlines()[0]
secure_list = text.split("Clients using secure ports only", 1)[1].split("TLS on the secure ports", 1)[0]
ok("1 secure only" in summary and "198.51.100.1" in secure_list,
   "every summary number has its rows: the IBM i's own secure use is listed", (summary, secure_list))
sw = text.split("Client software (what the bytes say it is)", 1)[1].split("TLS on the secure ports", 1)[0]
ok(any(ln.split()[:1] == ["192.0.2.40"] and "IBM-3179-2" in ln for ln in sw.splitlines()),
   "client software is in the text report: the terminal type the client sent", sw)

# ---- encapsulations ----
def telnet_session(w):
    c = w.conn("192.0.2.20", 41000, "198.51.100.1", 23)
    c.handshake()
    c.send(b"\xff\xfd\x27", from_client=False)
    c.send(b"\xff\xfb\x27\xff\xfa\x27\x00\x00USER\x01ENCUSER\xff\xf0")
    c.close()


def mpls(labels, inner):
    out = b""
    for i, label in enumerate(labels):
        bottom = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", label << 12 | bottom << 8 | 64)
    return out + inner


VLAN = lambda vid, et: b"\x81\x00" + struct.pack("!H", vid) + et
QINQ = lambda vid, et: b"\x88\xa8" + struct.pack("!H", vid) + et
ETH_IP = ETH_DST_SRC + b"\x08\x00"


def outer_udp(dport, payload):
    body = udp(50000, dport, payload)
    return ETH_IP + ipv4_header("203.0.113.1", "203.0.113.2", 17, len(body)) + body


def tshark_telnet_frames(cap, *decode_as):
    """tshark's own count of frames carrying the telnet session (the independent truth), or None."""
    if not shutil.which("tshark"):
        return None
    r = tshark_run(["tshark", "-r", cap] + [x for d in decode_as for x in ("-d", d)]
                       + ["-Y", "tcp.port == 23", "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True, timeout=60)
    return len(r.stdout.split())


cases = [
    ("mpls", "MPLS, one label", lambda ip: ETH_DST_SRC + b"\x88\x47" + mpls([16], ip)),
    ("mpls", "MPLS, two labels over an 802.1Q tag", lambda ip: ETH_DST_SRC + VLAN(10, b"\x88\x47") + mpls([16, 17], ip)),
    ("mpls", "MPLS Ethernet pseudowire with its control word",
     lambda ip: ETH_DST_SRC + b"\x88\x47" + mpls([20, 21], b"\x00\x00\x00\x00" + ETH_IP + ip),
     "mpls.label==21,pwethcw"),
    ("pppoe", "PPPoE session over QinQ",
     lambda ip: ETH_DST_SRC + QINQ(100, b"") + VLAN(200, b"\x88\x64")
     + struct.pack("!BBHH", 0x11, 0, 0x1234, len(ip) + 2) + b"\x00\x21" + ip),
    ("geneve", "Geneve with an option, Ethernet inside",
     lambda ip: outer_udp(6081, struct.pack("!BBH", 2, 0, 0x6558) + b"\x00\x00\x2a\x00"
                          + b"\x01\x02\x03\x01" + b"\xaa\xbb\xcc\xdd" + ETH_IP + ip)),
    ("gre_in_udp", "GRE in UDP (RFC 8086)", lambda ip: outer_udp(4754, b"\x00\x00\x08\x00" + ip)),
    ("ayiya", "AYIYA, IPv4 inside",
     lambda ip: outer_udp(5072, bytes([0x41, 0x52, 0x11, 4]) + b"\x00\x00\x00\x00" + b"\x11" * 16 + b"\x22" * 20 + ip)),
]
for counter, name, wrap, *decode_as in cases:
    cap = path(f"enc-{counter}-{len(name)}.pcap")
    w = Pcap(cap, wrap=wrap)
    telnet_session(w)
    w.close()
    want = tshark_telnet_frames(cap, *decode_as)
    if want is not None:
        ok(want == 8, f"{name}: tshark finds the 8 frames of the inner session (3 + 2 + 3)", want)
    for extra in ([], ["--no-prefilter"]):
        rc, doc, err = report(cap, *extra)
        flows = doc["flows"] if doc else []
        enc = doc["capture"]["counters"]["encapsulations"] if doc else {}
        ok(rc == 0 and len(flows) == 1 and flows[0]["service"] == "telnet" and flows[0]["user"] == "ENCUSER"
           and flows[0]["tcp"] == "closed" and enc.get(counter) == flows[0]["packets"],
           f"{name} {' '.join(extra)}: the inner session analysed, {counter} counted",
           (rc, [(f["service"], f["user"], f["tcp"], f["packets"]) for f in flows], enc, err[-300:]))


def nflog(ip):
    tlv = lambda t, v: struct.pack("<HH", 4 + len(v), t) + v + b"\x00" * (-len(v) % 4)
    return bytes([2, 0]) + b"\x00\x00" + tlv(1, b"\x08\x00\x03\x00") + tlv(10, b"tr0\x00") + tlv(9, ip)


cap = path("nflog.pcap")
w = Pcap(cap, linktype=239, wrap=nflog)
telnet_session(w)
w.close()
want = tshark_telnet_frames(cap)
if want is not None:
    ok(want == 8, "NFLOG: tshark finds the 8 frames of the session", want)
rc, doc, err = report(cap)
flows = doc["flows"] if doc else []
ok(rc == 0 and len(flows) == 1 and flows[0]["user"] == "ENCUSER" and doc["capture"]["link_types"] == ["NFLOG"],
   "the Linux NFLOG link type: the payload TLV is the packet", (rc, err[-300:], flows[:1]))

done()

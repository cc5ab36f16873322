"""test_names.py - who the clients are (issue 17), on captures built here byte
for byte (pcapgen.py) from the RFCs' layouts, so the expected names follow
from the bytes written, and checked again against tshark's own DNS, DHCP and
NBNS dissectors where tshark is installed:

- DNS A and PTR answers, an mDNS announcement and a NetBIOS registration name
  the clients that connect; the best name and its source are in JSON, CSV,
  text and HTML;
- DHCP: a host that releases one address and takes another is one client
  with two addresses; the address it left, leased to a second host, is a
  second client; an address without a lease stays its own client;
- users and machines together: JSON's users[] and the text section of users
  on nonsecure ports;
- --redact-users hides host names, hardware addresses and client ids;
- the name protocols pass the BPF prefilter too (a user filter), and other
  UDP is still filtered; hostile name packets are counted, never fatal;
- a monitor's state (--db, imports on one day and on two) shows the one-shot
  report's names (times and counts), --since selects a day's, and
  --redact-users stores them redacted.
Runs in about 7 seconds on the 2-core machine.
"""
import atexit
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time

from tap import ok, skip, run, done, sanitizer_report, text_counter, tshark_run
from pcapgen import telnet_user as _telnet_user, Pcap, dhcp

tmp = tempfile.mkdtemp(prefix="tlsready-names-")
atexit.register(shutil.rmtree, tmp, True)
SRV = "198.51.100.1"


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def qname(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"


def dns_answer(qn, qtype, rdata, ident=0x1234):
    """RFC 1035 4.1: a response (QR, RD, RA), one question, one answer naming it by pointer 0xC00C."""
    return (struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0) + qname(qn) + struct.pack("!HH", qtype, 1)
            + b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rdata)) + rdata)


def mdns_announce(name, addr):
    """RFC 6762 8.3: no question, one A answer with the cache-flush bit."""
    return (struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + qname(name)
            + struct.pack("!HHIH", 1, 0x8001, 120, 4) + ip4(addr))


def nb_encode(name, suffix=0):
    raw = name.encode().ljust(15) + bytes([suffix])
    return bytes([32]) + bytes(c for b in raw for c in (0x41 + (b >> 4), 0x41 + (b & 15))) + b"\0"


def nbns_register(name, addr):
    """RFC 1002 4.2.2: a broadcast registration, the question's name, the NB record in additional."""
    return (struct.pack("!HHHHHH", 0x8001, 0x2910, 1, 0, 0, 1) + nb_encode(name) + struct.pack("!HH", 0x20, 1)
            + b"\xc0\x0c" + struct.pack("!HHIHH", 0x20, 1, 300000, 6, 0) + ip4(addr))


def telnet_user(w, cli, cport, user):
    _telnet_user(w, cli, cport, SRV, user)


MAC_A, MAC_B = bytes([2, 0, 0, 0, 0, 0x0a]), bytes([2, 0, 0, 0, 0, 0x0b])
cap = os.path.join(tmp, "names.pcap")
w = Pcap(cap)
w.udp_frame("192.0.2.53", "192.0.2.27", 53, 40000, dns_answer("pc27.example.com", 1, ip4("192.0.2.27")))
w.udp_frame("192.0.2.53", "192.0.2.99", 53, 40001,
            dns_answer("60.2.0.192.in-addr.arpa", 12, qname("gamma.example.com"), 0x1235))
w.udp_frame("192.0.2.44", "224.0.0.251", 5353, 5353, mdns_announce("labpc.local", "192.0.2.44"))
w.udp_frame("192.0.2.45", "192.0.2.255", 137, 137, nbns_register("WS045", "192.0.2.45"))
w.udp_frame("192.0.2.99", "192.0.2.53", 40002, 53, b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + qname("x.example") + b"\0\1\0\1")
w.udp_frame("192.0.2.53", "192.0.2.99", 53, 40003, b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c")
w.udp_frame("192.0.2.99", "192.0.2.98", 5000, 5001, b"not a name protocol")
w.udp_frame("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, MAC_A, host=b"alpha", cid=b"\x01" + MAC_A), MAC_A)
w.udp_frame("192.0.2.1", "192.0.2.50", 67, 68, dhcp(2, 5, MAC_A, yiaddr="192.0.2.50", lease=3600))
w.tick(10)
telnet_user(w, "192.0.2.50", 41000, b"ALICE")
w.udp_frame("192.0.2.50", "192.0.2.1", 68, 67, dhcp(1, 7, MAC_A, ciaddr="192.0.2.50"), MAC_A)
w.udp_frame("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, MAC_A, host=b"alpha"), MAC_A)
w.udp_frame("192.0.2.1", "192.0.2.51", 67, 68, dhcp(2, 5, MAC_A, yiaddr="192.0.2.51", lease=3600))
w.tick(10)
telnet_user(w, "192.0.2.51", 41001, b"ALICE")
w.udp_frame("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, MAC_B, host=b"beta"), MAC_B)
w.udp_frame("192.0.2.1", "192.0.2.50", 67, 68, dhcp(2, 5, MAC_B, yiaddr="192.0.2.50", lease=3600))
w.tick(10)
telnet_user(w, "192.0.2.50", 41002, b"BOB")
for i, cli in enumerate(("192.0.2.27", "192.0.2.60", "192.0.2.44", "192.0.2.45", "192.0.2.70")):
    telnet_user(w, cli, 42000 + i, b"ALICE" if cli == "192.0.2.27" else b"CAROL")
w.close()
NAME_PACKETS = 13          # the UDP frames to ports 53, 67, 68, 137, 5353 above: 6 DNS-like, 7 DHCP

# ---- the truth of the bytes, read back by tshark's own dissectors ----
if shutil.which("tshark"):
    def fields(flt, *f):
        p = tshark_run(["tshark", "-r", cap, "-Y", flt, "-T", "fields", "-E", "separator=|"]
                           + [x for n in f for x in ("-e", n)], capture_output=True, text=True, timeout=120)
        return [l.split("|") for l in p.stdout.splitlines() if l]
    a = fields("dns.flags.response == 1 && dns.a", "dns.qry.name", "dns.a")
    ok(["pc27.example.com", "192.0.2.27"] in a and ["labpc.local", "192.0.2.44"] in
       [r for r in fields("mdns", "dns.resp.name", "dns.a")], "tshark reads the A answer and the mDNS announcement", a)
    ptr = fields("dns.ptr.domain_name", "dns.qry.name", "dns.ptr.domain_name")
    ok(ptr == [["60.2.0.192.in-addr.arpa", "gamma.example.com"]], "tshark reads the PTR answer", ptr)
    nb = fields("nbns", "nbns.name", "nbns.addr")
    ok(any(r[0].startswith("WS045<00>") and r[1] == "192.0.2.45" for r in nb), "tshark reads the NetBIOS registration", nb)
    dh = fields("dhcp.option.dhcp == 5", "dhcp.hw.mac_addr", "dhcp.ip.your", "dhcp.option.ip_address_lease_time")
    ok(dh == [["02:00:00:00:00:0a", "192.0.2.50", "3600"], ["02:00:00:00:00:0a", "192.0.2.51", "3600"],
              ["02:00:00:00:00:0b", "192.0.2.50", "3600"]], "tshark reads the three DHCP leases", dh)
    hn = fields("dhcp.option.hostname", "dhcp.hw.mac_addr", "dhcp.option.hostname")
    ok(["02:00:00:00:00:0a", "alpha"] in hn and ["02:00:00:00:00:0b", "beta"] in hn, "tshark reads the host names", hn)
else:
    skip("tshark cross-check of the capture's names", "tshark is not installed")

rc, out, err = run(["-q", "-r", cap, "--format", "json"])
doc = json.loads(out) if rc == 0 else None
ok(doc is not None and not sanitizer_report(err), "json report", err)
cl = doc["clients"] if doc else []
by = {}
for c in cl:
    by.setdefault(c["ip"], []).append(c)


def one(ip):
    return by.get(ip, [None])[0]


def best(ip):
    c = one(ip)
    return c and c["host_name"] and (c["host_name"]["name"], c["host_name"]["source"])


ok(best("192.0.2.27") == ("pc27.example.com", "dns"), "a DNS A answer names its address", best("192.0.2.27"))
ok(best("192.0.2.60") == ("gamma.example.com", "dns-ptr"), "a PTR answer names its address", best("192.0.2.60"))
ok(best("192.0.2.44") == ("labpc.local", "mdns"), "an mDNS announcement names its address", best("192.0.2.44"))
ok(best("192.0.2.45") == ("WS045", "netbios"), "a NetBIOS registration names its address", best("192.0.2.45"))
ok(one("192.0.2.70") and one("192.0.2.70")["host_name"] is None and one("192.0.2.70")["identity"] == "address"
   and one("192.0.2.70")["addresses"] == ["192.0.2.70"], "an address nothing named keeps no name and is its own identity")
rows50 = sorted(by.get("192.0.2.50", []), key=lambda c: c["host_name"]["name"] if c["host_name"] else "")
ok(len(rows50) == 2 and "192.0.2.51" not in by, "192.0.2.50 served two hosts (two rows); .51 is not a row of its own",
   [(c["ip"], c["addresses"]) for c in cl])
if len(rows50) == 2:
    a, b = rows50
    ok(a["host_name"] == {"name": "alpha", "source": "dhcp"} and a["addresses"] == ["192.0.2.50", "192.0.2.51"]
       and a["identity"] == "dhcp-host" and a["hardware_address"] == "02:00:00:00:00:0a"
       and a["dhcp_client_id"] == "01" + "02000000000a" and a["nonsecure"][0]["connections"] == 2
       and a["address_hosts"] == 2, "host A: one client, two addresses, its MAC and client id, two connections", a)
    ok(b["host_name"] == {"name": "beta", "source": "dhcp"} and b["addresses"] == ["192.0.2.50"]
       and b["hardware_address"] == "02:00:00:00:00:0b" and b["nonsecure"][0]["connections"] == 1
       and b["users"] == ["BOB"] and b["address_hosts"] == 2, "host B: the second client on .50, with its own user", b)
for c in cl:
    hn = c["host_names"]
    if not ok(all(set(h) == {"name", "source", "address", "first_seen", "last_seen", "count"} for h in hn)
              and (not hn or c["host_name"] == {"name": hn[0]["name"], "source": hn[0]["source"]}),
              f"{c['ip']}: host_names carry source, address, times; the first is the best", hn):
        break
k = doc["capture"]["counters"] if doc else {}
ok(k.get("name_packets") == NAME_PACKETS and k.get("name_packets_malformed") == 1,
   "every name packet counted; the cut answer counted malformed", {n: v for n, v in k.items() if "name" in n})
ok(k.get("filtered") == 1, "the other UDP datagram is filtered as before", k.get("filtered"))
users = {u["user"]: u for u in doc.get("users", [])} if doc else {}
alice = users.get("ALICE")
ok(alice and alice["nonsecure"] and sorted((c["ip"], c["host_name"]) for c in alice["clients"])
   == [("192.0.2.27", "pc27.example.com"), ("192.0.2.50", "alpha")],
   "users[]: ALICE signs on from pc27 and from alpha (one machine on two addresses)", alice)
ok(set(users) == {"ALICE", "BOB", "CAROL"} and len(users["CAROL"]["clients"]) == 4, "users[]: every user, every machine",
   users.get("CAROL"))

# ---- the other formats ----
rc, out, err = run(["-q", "-r", cap, "--format", "csv"])
rows = list(csv.reader(io.StringIO(out.decode())))
hdr = rows[0] if rows else []
ok(hdr[-4:] == ["host_name", "host_name_source", "addresses", "software"] and len({len(r) for r in rows}) == 1,
   "CSV: four identity columns, every row as wide as the header", {len(r) for r in rows})
csv_names = {(r[1], r[16], r[17], r[18]) for r in rows[1:] if r[0] == "usage"}
ok(("192.0.2.50", "alpha", "dhcp", "192.0.2.50 192.0.2.51") in csv_names and
   ("192.0.2.45", "WS045", "netbios", "192.0.2.45") in csv_names, "CSV: the best name, its source, the addresses",
   csv_names)
rc, out, err = run(["-q", "-r", cap])
text = out.decode()
sec = text.split("Who the clients are", 1)[-1].split("\nClient software", 1)[0]
ok("alpha" in sec and "one host on 2 addresses (DHCP leases): 192.0.2.50, 192.0.2.51" in sec
   and "its address served 2 hosts" in sec and "gamma.example.com" in sec and "dns-ptr" in sec,
   "text: who the clients are, names with sources, the merged and the shared address", sec)
users_sec = sec.split("Users on nonsecure ports", 1)[-1]
ok("ALICE" in users_sec and "alpha" in users_sec and "telnet:23" in users_sec, "text: users on nonsecure ports",
   users_sec)
ok(text_counter(text, "name_packets") == NAME_PACKETS, "text: the name counters are in the counter list")
rc, out, err = run(["-q", "-r", cap, "--format", "html"])
ok(rc == 0 and b'<b class="host">alpha</b> (dhcp)' in out and b"one DHCP host on 192.0.2.50, 192.0.2.51" in out,
   "html: the client's best name, its source, its addresses")

# ---- redaction ----
rc, out, err = run(["-q", "-r", cap, "--format", "json", "--redact-users", "--redact-key", "k"])
red = out.decode()
ok(rc == 0 and not any(s in red for s in ("alpha", "beta", "pc27", "gamma", "WS045", "labpc", "02:00:00:00:00:0a",
                                           "02000000000a")) and "redacted-" in red,
   "--redact-users hides host names, hardware addresses and client ids")
rc, out, err = run(["-q", "-r", cap, "--redact-users", "--redact-key", "k"])
ok(rc == 0 and b"alpha" not in out and b"pc27" not in out, "--redact-users: text too")

# ---- the BPF prefilter (with a user filter) lets the name protocols through ----
rc, out, err = run(["-q", "-r", cap, "--format", "json", "not port 9"])
d2 = json.loads(out) if rc == 0 else {}
ok(d2 and d2["capture"]["counters"]["name_packets"] == NAME_PACKETS and
   [c["host_name"] for c in d2["clients"]] == [c["host_name"] for c in cl],
   "with a BPF filter of the user's, the same names", err)


# ---- a monitor's state (--db) keeps the names and the DHCP identities: the same as the one-shot report (schema 6) ----
def shifted(src, dst, seconds):
    """The capture with every timestamp moved by `seconds` (classic pcap: 24-byte header, 16-byte records)."""
    with open(src, "rb") as f:
        b = bytearray(f.read())
    at = 24
    while at + 16 <= len(b):
        sec, usec, incl, orig = struct.unpack_from("<IIII", b, at)
        struct.pack_into("<I", b, at, sec + seconds)
        at += 16 + incl
    with open(dst, "wb") as f:
        f.write(b)


def json_of(args):
    rc, out, err = run(args + ["--format", "json"])
    return json.loads(out) if rc == 0 and not sanitizer_report(err) else None, err


def names_by_address(doc):
    """Every host name of the report, by the address it named (the state's rows are addresses)."""
    got = {}
    for c in doc["clients"]:
        for h in c["host_names"]:
            got.setdefault(h["address"], {})[(h["name"], h["source"])] = h
    return got


def same_names(one_doc, state_doc, what):
    """Rows whose identity is their address: the same best name and the same names (times, counts);
    rows that followed a DHCP host (one-shot only): the state's row of each address has that address's names."""
    st = {c["ip"]: c for c in state_doc["clients"]} if state_doc else {}
    bad = []
    for c in one_doc["clients"]:
        s = st.get(c["ip"])
        if c["identity"] == "address" and (not s or (s["host_name"], s["host_names"]) != (c["host_name"], c["host_names"])):
            bad.append((c["ip"], c["host_name"], s and s["host_name"], c["host_names"], s and s["host_names"]))
    want, have = names_by_address(one_doc), names_by_address(state_doc) if state_doc else {}
    if want != have:
        bad.append(("by address", want, have))
    ok(state_doc is not None and not bad and any(c["host_name"] for c in one_doc["clients"]), what, bad)


db1 = os.path.join(tmp, "names.db")
rc, out, err = run(["-q", "-r", cap, "--db", db1])
sdoc, err = json_of(["--db", db1])
same_names(doc, sdoc, "a state imported from the capture: the one-shot report's host names, sources, times, counts")
ok(sdoc and sorted(((c["host_name"] or {}).get("name"), c["identity"]) for c in sdoc["clients"] if c["ip"] == "192.0.2.50")
   == [("alpha", "dhcp-host"), ("beta", "dhcp-host")],
   "the state follows the DHCP hosts as the one-shot report does: .50 is two rows, alpha's and beta's", sdoc and
   [(c["ip"], c["identity"], c["host_name"]) for c in sdoc["clients"]])
day2 = os.path.join(tmp, "names-day2.pcap")
shifted(cap, day2, 86400)
db2 = os.path.join(tmp, "names2.db")
rc1 = run(["-q", "-r", cap, "--db", db2])[0]
rc2 = run(["-q", "-r", day2, "--db", db2])[0]
both, _ = json_of(["-q", "-r", cap, "-r", day2])
s2, err = json_of(["--db", db2])
ok(rc1 == 0 and rc2 == 0 and both is not None, "two imports, one a day after the other", err)
if both:
    same_names(both, s2, "two imports across two days: the names summed (count), earliest first, latest last")
    d2only, _ = json_of(["-q", "-r", day2])
    since = time.strftime("%Y-%m-%d", time.gmtime(1_700_000_000 + 86400))
    s3, err = json_of(["--db", db2, "--since", since])
    same_names(d2only, s3, "--since the second day: only that day's names")
rc, out, err = run(["-q", "-r", cap, "--db", os.path.join(tmp, "red.db"), "--redact-users", "--redact-key", "k"])
rc, out, err = run(["--db", os.path.join(tmp, "red.db"), "--format", "json"])
ok(rc == 0 and not any(s.encode() in out for s in ("alpha", "beta", "pc27", "gamma", "WS045", "labpc"))
   and b"redacted-" in out, "--redact-users: the state stores host names redacted", out[:300])

# ---- the IBM i protocols' own names: the 5250 device name of the lab's telnet capture ----
from tap import PCAPS
tcap, ttruth = os.path.join(PCAPS, "telnet.pcapng"), os.path.join(PCAPS, "telnet.truth.json")
if os.path.exists(tcap) and os.path.exists(ttruth):
    want = {f["client_ip"]: f["device"] for f in json.load(open(ttruth))["flows"] if f.get("device")}
    rc, out, err = run(["-q", "-r", tcap, "--format", "json"])
    got = {c["ip"]: c["host_name"] for c in json.loads(out)["clients"]} if rc == 0 else {}
    ok(want and all(got.get(ip) == {"name": dev, "source": "telnet-devname"} for ip, dev in want.items()),
       "the 5250 device names the lab's clients sent name them (telnet-devname)", (want, got))
else:
    skip("5250 device names as host names", "pcaps/telnet.pcapng is absent")

# ---- hostile name packets: cut at every length, never fatal, always counted ----
hcap = os.path.join(tmp, "hostile.pcap")
w = Pcap(hcap)
msgs = [dns_answer("pc27.example.com", 1, ip4("192.0.2.27")), nbns_register("WS045", "192.0.2.45"),
        dhcp(2, 5, MAC_A, yiaddr="192.0.2.50", lease=3600, host=b"alpha")]
n = 0
for m in msgs:
    for cut in range(len(m)):
        w.udp_frame("192.0.2.53", "192.0.2.27", 53 if m is msgs[0] else 137 if m is msgs[1] else 67,
                    40000 if m is msgs[0] else 137 if m is msgs[1] else 68, m[:cut])
        n += 1
loop = bytearray(msgs[0])
loop[-16:-14] = b"\xc0\x22"                      # the answer's name points at itself
w.udp_frame("192.0.2.53", "192.0.2.27", 53, 40000, bytes(loop))
w.close()
rc, out, err = run(["-q", "-r", hcap, "--format", "json"])
d3 = json.loads(out) if rc == 0 else {}
k3 = d3.get("capture", {}).get("counters", {})
ok(rc == 0 and not sanitizer_report(err) and k3.get("name_packets") == n + 1 and k3.get("name_packets_malformed", 0) >= n - 240,
   "every cut name packet and a pointer loop: counted, nothing fatal", (rc, k3.get("name_packets"), err[-300:]))
done()

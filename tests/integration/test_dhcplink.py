"""test_dhcplink.py - one machine seen by DHCP and DHCPv6 is one client
(issue 17), DHCPv6 relay messages are opened, IA_TA addresses are leases and
IA_PD prefixes are not host addresses; on a capture built here byte for byte
(Ethernet, IPv4/IPv6, UDP/TCP written out below), whose truth is read back
by tshark's own DHCP and DHCPv6 dissectors, never from tlsready:

- pc-a: DHCPv4 (hardware address 02:00:00:00:00:0a, 192.0.2.10) and DHCPv6
  with a DUID-LLT (RFC 8415 11.2) of that MAC (2001:db8::10): linked,
  evidence duid-llt and ethernet-source;
- pc-b: DHCPv4 whose client identifier is RFC 4361's (type 255, IAID, the
  DUID-EN of RFC 8415 11.3's example), DHCPv6 with that DUID through a relay
  (Relay-Forward around the Solicit, two Relay-Replies around the Reply,
  RFC 8415 9), an IA_NA address 2001:db8:2::20 and an IA_TA address
  2001:db8:2::21: linked, evidence rfc4361-client-id and (its Solicit on
  its own link) ethernet-source;
- pc-c: DHCPv4 and a DHCPv6 DUID-UUID (11.5), its Solicit sent on its own
  link (link-local source, to ff02::1:2) from its MAC: linked, evidence
  ethernet-source; pc-f: the same, but its Solicit seen only inside the
  relay's Relay-Forward (the capture is past the relay): two clients;
- pc-d / pc-e: a DUID-LL (11.4) of pc-d's MAC that pc-e's RFC 4361 client
  identifier carries too: ambiguous, linked to neither;
- a router given the prefix 2001:db8:ff00::/56 (IA_PD / IA Prefix): the
  prefix is counted, and a connection from inside it stays an address row;
- then connections from every address to the IBM i's sign-on server.
The expected grouping is computed from tshark's fields with the documented
rules (docs/schema.md, "DHCP and DHCPv6: one host").  About 8 seconds
(four tshark runs) on the 2-core machine.
"""
import atexit
import ipaddress
import json
import os
import shutil
import struct
import tempfile

from tap import ok, skip, run, done, sanitizer_report, text_counter, tshark_run

tmp = tempfile.mkdtemp(prefix="tlsready-dhcplink-")
atexit.register(shutil.rmtree, tmp, True)


def mac(n):
    return bytes([2, 0, 0, 0, 0, n])


def ip6(a):
    return ipaddress.IPv6Address(a).packed


def ip4(a):
    return ipaddress.IPv4Address(a).packed


def opt6(code, data):
    """RFC 8415 21.1: option-code, option-len, data."""
    return struct.pack("!HH", code, len(data)) + data


def dhcp6(mtype, xid, *opts):
    """RFC 8415 8: msg-type, transaction-id (3 bytes), options."""
    return bytes([mtype]) + xid.to_bytes(3, "big") + b"".join(opts)


def relay(mtype, hop, link, peer, inner):
    """RFC 8415 9: msg-type, hop-count, link-address, peer-address, Relay Message option (9)."""
    return bytes([mtype, hop]) + ip6(link) + ip6(peer) + opt6(18, b"eth0") + opt6(9, inner)


def ia_na(addr, iaid=1):
    """IA_NA (21.4): IAID, T1 3600, T2 5400, one IA Address (21.6): preferred 3600, valid 7200."""
    return opt6(3, struct.pack("!III", iaid, 3600, 5400) + opt6(5, ip6(addr) + struct.pack("!II", 3600, 7200)))


def ia_ta(addr, iaid=2):
    """IA_TA (21.5): IAID, one IA Address: preferred 1800, valid 3600."""
    return opt6(4, struct.pack("!I", iaid) + opt6(5, ip6(addr) + struct.pack("!II", 1800, 3600)))


def ia_pd(prefix, plen, iaid=3):
    """IA_PD (21.21): IAID, T1, T2, IA Prefix (21.22): preferred, valid, prefix-length, prefix."""
    return opt6(25, struct.pack("!III", iaid, 3600, 5400)
                + opt6(26, struct.pack("!IIB", 3600, 7200, plen) + ip6(prefix)))


SERVER_DUID = struct.pack("!HH", 3, 1) + mac(1)                     # DUID-LL of the DHCP server


def dhcp4(op, mtype, hw, yi="0.0.0.0", cid=None, host=None):
    """RFC 2131 figure 1 (htype 1, hlen 6), the magic cookie, options 53, 61, 12, 51 (ACK), 255."""
    b = struct.pack("!BBBBIHH", op, 1, 6, 0, 0x3903F326, 0, 0) + ip4("0.0.0.0") + ip4(yi) + bytes(8)
    b += hw + bytes(10) + bytes(192) + bytes([99, 130, 83, 99])
    b += bytes([53, 1, mtype])
    if cid is not None:
        b += bytes([61, len(cid)]) + cid
    if host:
        b += bytes([12, len(host)]) + host.encode()
    if op == 2:
        b += bytes([51, 4]) + struct.pack("!I", 3600) + bytes([54, 4]) + ip4("192.0.2.2")
    return b + bytes([255])


class Pcap:
    """Classic pcap, Ethernet, IPv4 or IPv6, checksums zero."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.ts = 1_700_000_000.0

    def frame(self, src_mac, etype, pkt):
        frame = b"\xff\xff\xff\xff\xff\xff" + src_mac + struct.pack("!H", etype) + pkt
        sec, usec = int(self.ts), int(round((self.ts - int(self.ts)) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        self.ts += 0.001

    def ip(self, src_mac, src, dst, proto, l4):
        if ":" in src:
            pkt = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + ip6(src) + ip6(dst) + l4
            self.frame(src_mac, 0x86DD, pkt)
        else:
            pkt = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0) + ip4(src) + ip4(dst) + l4
            self.frame(src_mac, 0x0800, pkt)

    def udp(self, src_mac, src, dst, sport, dport, payload):
        self.ip(src_mac, src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)

    def tcp(self, src_mac, src, dst, sport, dport, flags, seq, ack, payload=b""):
        self.ip(src_mac, src, dst, 6,
                struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload)

    def close(self):
        self.f.close()


SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10
DUID_A = struct.pack("!HHI", 1, 1, 0x2A2B2C2D) + mac(0x0A)          # DUID-LLT, RFC 8415 11.2
DUID_B = bytes.fromhex("0002000000090CC084D303000912")            # DUID-EN, RFC 8415 11.3's example
DUID_C = struct.pack("!H", 4) + bytes.fromhex("123456789abcdef0123456789abcdef0")   # DUID-UUID, 11.5
DUID_D = struct.pack("!HH", 3, 1) + mac(0x0D)                     # DUID-LL, 11.4
DUID_F = struct.pack("!H", 4) + bytes.fromhex("0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f")   # DUID-UUID
DUID_R = struct.pack("!HH", 3, 1) + mac(0x77)                     # the router's DUID-LL (no DHCPv4)
HOSTS = {  # name: (mac, IPv4 address, DHCPv4 client identifier, DUID, IPv6 addresses)
    "pc-a": (mac(0x0A), "192.0.2.10", b"\x01" + mac(0x0A), DUID_A, ["2001:db8::10"]),
    "pc-b": (mac(0x0B), "192.0.2.11", b"\xff" + struct.pack("!I", 7) + DUID_B, DUID_B,
             ["2001:db8:2::20", "2001:db8:2::21"]),
    "pc-c": (mac(0x0C), "192.0.2.12", b"\x01" + mac(0x0C), DUID_C, ["2001:db8::12"]),
    "pc-d": (mac(0x0D), "192.0.2.13", None, DUID_D, ["2001:db8::13"]),
    "pc-e": (mac(0x0E), "192.0.2.14", b"\xff" + struct.pack("!I", 1) + DUID_D, None, []),
    "pc-f": (mac(0x0F), "192.0.2.15", b"\x01" + mac(0x0F), DUID_F, ["2001:db8:2::15"]),
}
IBMI4, IBMI6, ROUTER_NET = "192.0.2.1", "2001:db8::1", "2001:db8:ff00::1"

cap = os.path.join(tmp, "dhcplink.pcap")
w = Pcap(cap)
for name, (hw, v4, cid, duid, v6) in HOSTS.items():
    w.udp(hw, "0.0.0.0", "255.255.255.255", 68, 67, dhcp4(1, 3, hw, cid=cid, host=name))
    w.udp(mac(1), "192.0.2.2", v4, 67, 68, dhcp4(2, 5, hw, yi=v4, cid=cid, host=name))
w.ts += 1
for name, (hw, v4, cid, duid, v6) in HOSTS.items():
    if not duid:
        continue
    sol = dhcp6(1, 0x100, opt6(1, duid), opt6(3, struct.pack("!III", 1, 0, 0)))
    rep = dhcp6(7, 0x100, opt6(1, duid), opt6(2, SERVER_DUID), ia_na(v6[0]), *(ia_ta(a) for a in v6[1:]))
    if name in ("pc-b", "pc-f"):  # through a relay on 2001:db8:2::/64 (the relay 2001:db8:2::1, the server ::2)
        if name == "pc-b":        # pc-b's Solicit on its own link is captured too; pc-f's only past the relay
            w.udp(hw, "fe80::b", "ff02::1:2", 546, 547, sol)
        w.udp(mac(0x99), "2001:db8:2::1", "2001:db8::2", 547, 547,
              relay(12, 0, "2001:db8:2::1", "fe80::%x" % hw[5], sol))
        w.udp(mac(1), "2001:db8::2", "2001:db8:2::1", 547, 547,      # two relays deep on the way back
              relay(13, 1, "2001:db8:3::1", "2001:db8:2::1",
                    relay(13, 0, "2001:db8:2::1", "fe80::%x" % hw[5], rep)))
    else:
        w.udp(hw, "fe80::%x" % hw[5], "ff02::1:2", 546, 547, sol)
        w.udp(mac(1), "fe80::2", "fe80::%x" % hw[5], 547, 546, rep)
# a requesting router delegated 2001:db8:ff00::/56 (RFC 8415 6.3)
w.udp(mac(1), "fe80::2", "fe80::77", 547, 546,
      dhcp6(7, 0x200, opt6(1, DUID_R), opt6(2, SERVER_DUID), ia_pd("2001:db8:ff00::", 56)))
w.ts += 5
port = 41000
req = struct.pack("!IHHIIHH", 20, 0, 0xE009, 0, 0, 0, 0x7003)   # a host-server header
for src_mac, cli in [(h[0], a) for h in HOSTS.values() for a in [h[1]] + h[4]] + [(mac(0x77), ROUTER_NET)]:
    srv = IBMI6 if ":" in cli else IBMI4
    c, s = 1000, 5000
    w.tcp(src_mac, cli, srv, port, 8476, SYN, c, 0)
    w.tcp(mac(1), srv, cli, 8476, port, SYN | ACK, s, c + 1)
    w.tcp(src_mac, cli, srv, port, 8476, ACK, c + 1, s + 1)
    w.tcp(src_mac, cli, srv, port, 8476, PSH | ACK, c + 1, s + 1, req)
    w.tcp(mac(1), srv, cli, 8476, port, PSH | ACK, s + 1, c + 1 + len(req), req)
    w.tcp(src_mac, cli, srv, port, 8476, FIN | ACK, c + 1 + len(req), s + 1 + len(req))
    w.tcp(mac(1), srv, cli, 8476, port, FIN | ACK, s + 1 + len(req), c + 2 + len(req))
    port += 1
w.close()

# ---- the truth of the bytes, read back by tshark (Debian 12: Wireshark 4.0 field names) ----
if not shutil.which("tshark"):
    skip("DHCP/DHCPv6 linking against tshark's fields", "tshark is not installed")
    done()
    raise SystemExit(0)


def fields(flt, *names):
    p = tshark_run(["tshark", "-r", cap, "-Y", flt, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                    "-E", "aggregator=,"] + [a for n in names for a in ("-e", n)],
                   capture_output=True, text=True, timeout=120)
    return [l.split("|") for l in p.stdout.splitlines() if l]


hexs = lambda s: s.replace(":", "").lower()
# DHCPv4: the ACKs' (hardware address, your address); the requests' client identifiers (option 61's value)
acks = {r[0].split(",")[0]: r[1] for r in fields("dhcp.option.dhcp == 5", "dhcp.hw.mac_addr", "dhcp.ip.your")}
cids = {}
for r in fields("dhcp.option.dhcp == 3", "dhcp.hw.mac_addr", "dhcp.option.type", "dhcp.option.value"):
    for code, val in zip(r[1].split(","), r[2].split(",")):
        if code == "61":
            cids[r[0].split(",")[0]] = hexs(val)
# DHCPv6 Replies (inside relays too): the client's DUID (the first DUID option), its type and link-layer
# address, the IA addresses, the delegated prefixes, and the message types of the layers
v6 = []
for r in fields("dhcpv6.msgtype == 7", "dhcpv6.msgtype", "dhcpv6.duid.bytes", "dhcpv6.duid.type",
                "dhcpv6.duidllt.link_layer_addr", "dhcpv6.duidll.link_layer_addr", "dhcpv6.iaaddr.ip",
                "dhcpv6.iaprefix.pref_addr"):
    dtype = r[2].split(",")[0]
    lladdr = (r[3] or r[4]).split(",")[0] if dtype in ("1", "3") else ""
    v6.append({"types": r[0], "duid": hexs(r[1].split(",")[0]), "type": dtype, "ll": lladdr.lower(),
               "addrs": [a for a in r[5].split(",") if a], "prefixes": [a for a in r[6].split(",") if a]})
# the clients' own DHCPv6 messages on their link (not relayed, link-local source to ff02::1:2, 546 to 547):
# their Ethernet source, per DUID (docs/schema.md: the Ethernet source evidence)
eth = {}
for r in fields("dhcpv6.msgtype in {1, 3, 4, 5, 6, 8, 9, 11} && !(dhcpv6.msgtype == 12) && udp.srcport == 546"
                " && udp.dstport == 547 && ipv6.dst == ff02::1:2 && ipv6.src == fe80::/10",
                "eth.src", "dhcpv6.duid.bytes"):
    eth.setdefault(hexs(r[1].split(",")[0]), set()).add(r[0].lower())
ok(len(acks) == 6 and len(v6) == 6 and any(x["types"] == "13,13,7" for x in v6)
   and sum(len(x["prefixes"]) for x in v6) == 1,
   "tshark reads 6 DHCPACKs, 6 Replies (two inside two Relay-Replies) and one delegated prefix",
   {"acks": acks, "v6": v6, "eth": eth})

# the documented rules over tshark's reading: each DUID's candidate DHCPv4 hosts
expect_linked, ambiguous = {}, 0
for x in v6:
    if not x["addrs"]:
        continue
    cand = {}
    if x["ll"] in acks:
        cand.setdefault(x["ll"], set()).add("duid-llt" if x["type"] == "1" else "duid-ll")
    srcs = eth.get(x["duid"], set())
    if len(srcs) == 1 and next(iter(srcs)) in acks:
        cand.setdefault(next(iter(srcs)), set()).add("ethernet-source")
    for m, cid in cids.items():
        if cid.startswith("ff") and len(cid) // 2 < 32 and cid[10:] == x["duid"] and m in acks:
            cand.setdefault(m, set()).add("rfc4361-client-id")
    if len(cand) == 1:
        m, why = next(iter(cand.items()))
        expect_linked[m] = (x["duid"], sorted(why), x["addrs"])
    elif len(cand) > 1:
        ambiguous += 1
ok(sorted(expect_linked) == ["02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"] and ambiguous == 1,
   "by the rules over tshark's fields: pc-a, pc-b, pc-c linked, one DUID ambiguous", (expect_linked, ambiguous))

rc, out, err = run(["-q", "-r", cap, "--format", "json"])
doc = json.loads(out) if rc == 0 else None
ok(doc is not None and not sanitizer_report(err), "json report", err)
clients = doc["clients"] if doc else []
for m, (duid, why, addrs6) in sorted(expect_linked.items()):
    want = sorted([acks[m]] + addrs6, key=lambda a: (":" in a, ipaddress.ip_address(a)))
    rows = [c for c in clients if acks[m] in c["addresses"]]
    c = rows[0] if len(rows) == 1 else None
    ok(c is not None and sorted(c["addresses"], key=lambda a: (":" in a, ipaddress.ip_address(a))) == want
       and c["identity"] == "dhcp-host" and c["hardware_address"] == m and c["dhcpv6_duid"] == duid
       and sorted(c["link_evidence"]) == why and c["dhcpv6_hosts_linked"] == 1,
       "%s: one client with its IPv4 and IPv6 addresses, its DUID and the evidence %s" % (m, ",".join(why)),
       rows and {k: rows[0].get(k) for k in ("addresses", "identity", "hardware_address", "dhcpv6_duid",
                                                "link_evidence")})
    others = [c for c in clients if c is not rows[0] and set(c["addresses"]) & set(want)] if rows else []
    ok(rows and not others, "%s: no other client holds its addresses" % m, others)
# not linked: pc-f (DUID-UUID, seen only past its relay), pc-d (ambiguous): their IPv6 address is a client
# of its own
for a4, a6 in (("192.0.2.15", "2001:db8:2::15"), ("192.0.2.13", "2001:db8::13")):
    r4 = [c for c in clients if a4 in c["addresses"]]
    r6 = [c for c in clients if a6 in c["addresses"]]
    ok(len(r4) == 1 and len(r6) == 1 and r4[0] is not r6[0] and r4[0]["dhcpv6_duid"] is None
       and r6[0]["link_evidence"] == [], "%s and %s: two clients (nothing links them)" % (a4, a6), (r4, r6))
# the delegated prefix is no host's address: a connection from inside it is an address row
rr = [c for c in clients if c["ip"] == ROUTER_NET]
ok(len(rr) == 1 and rr[0]["identity"] == "address", "a connection from the delegated prefix stays an address row", rr)
k = doc["capture"]["counters"] if doc else {}
want_k = {"dhcp_hosts_linked": len(expect_linked), "dhcp_links_ambiguous": ambiguous, "dhcp6_relayed": 4,
          "dhcp6_relays_too_deep": 0, "dhcp6_prefixes_delegated": 1, "name_packets_malformed": 0}
ok(all(k.get(n) == v for n, v in want_k.items()), "counters: links, relayed messages, delegated prefixes",
   {n: k.get(n) for n in want_k})

# the text report says the same, with the evidence in words
rc, out, err = run(["-q", "-r", cap])
t = out.decode()
ok(rc == 0 and "the same host as DHCPv6 DUID " + DUID_A.hex() in t and "DUID-LLT carries its hardware address" in t
   and "DUID " + DUID_B.hex() in t and "client identifier carries that DUID, RFC 4361" in t
   and "DUID " + DUID_C.hex() in t and "DHCPv6 messages on its link came from that hardware address" in t
   and text_counter(t, "dhcp_hosts_linked") == 3 and text_counter(t, "dhcp6_prefixes_delegated") == 1,
   "the text report names the linked DUIDs and why", t[-3000:])

# the new counters are in every format: CSV and HTML too
rc, out, err = run(["-q", "-r", cap, "--format", "csv"])
csvk = {l.split(",")[5]: l.split(",")[8] for l in out.decode().splitlines() if l.startswith("counter,")}
rc2, html, err2 = run(["-q", "-r", cap, "--format", "html"])
ok(rc == 0 and rc2 == 0 and all(csvk.get(n) == str(v) for n, v in want_k.items() if not n.startswith("name_"))
   and all(n.encode() in html for n in want_k), "CSV and HTML carry the same counters", csvk)

# --redact-users hides the DUIDs as it hides hardware addresses
rc, out, err = run(["-q", "-r", cap, "--format", "json", "--redact-users"])
ok(rc == 0 and DUID_A.hex().encode() not in out and DUID_B.hex().encode() not in out,
   "--redact-users hides the linked DUIDs", err)

# a --db state keeps the linked host's leases under its hardware address: one client over both families
db = os.path.join(tmp, "link.db")
rc1 = run(["-q", "-r", cap, "--db", db])[0]
rc, out, err = run(["--db", db, "--format", "json"])
sd = json.loads(out) if rc == 0 and rc1 == 0 else None
s = [c for c in (sd["clients"] if sd else []) if "192.0.2.10" in c["addresses"]]
ok(len(s) == 1 and "2001:db8::10" in s[0]["addresses"] and s[0]["hardware_address"] == "02:00:00:00:00:0a",
   "the state (--db) keeps pc-a as one client over IPv4 and IPv6", s or err)
done()

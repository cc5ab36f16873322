"""test_dhcp6.py - a client named by DHCPv6 (RFC 8415, issue 17), on a
capture built here byte for byte (Ethernet, IPv6, UDP/TCP written out below),
so the expected name follows from the bytes written, and checked again
against tshark's own DHCPv6 dissector where tshark is installed:

- a Solicit with Client FQDN (RFC 4704 section 4), then a Reply (RFC 8415
  section 7.3 type 7) giving 2001:db8::50 (IA_NA 21.4 / IA Address 21.6,
  valid lifetime 7200 s) to a DUID-LLT (11.2) with FQDN "pc7.example.test";
- then a TCP connection from 2001:db8::50 to the IBM i's sign-on server
  (8476): the report names the client pc7.example.test, source dhcp, and
  follows the DHCPv6 host (its DUID as the client identifier);
- the prefilter lets UDP 546/547 through (a user filter too), and a DHCPv6
  message cut short is counted, never fatal;
- --redact-users hides the FQDN and the DUID; a --db state keeps the host.
Runs in about 2 seconds on the 2-core machine.
"""
import atexit
import json
import os
import shutil
import struct
import tempfile

from tap import ok, skip, run, done, sanitizer_report, text_counter, tshark_run

tmp = tempfile.mkdtemp(prefix="tlsready-dhcp6-")
atexit.register(shutil.rmtree, tmp, True)

CLI, SRV, DHCPSRV = "2001:db8::50", "2001:db8::1", "2001:db8::2"
MAC = bytes([2, 0, 0, 0, 0, 0x0a])


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def opt(code, data):
    """RFC 8415 21.1: option-code, option-len, data."""
    return struct.pack("!HH", code, len(data)) + data


def labels(name):
    """RFC 1035 3.1: length-prefixed labels and the root."""
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


DUID = struct.pack("!HHI", 1, 1, 0x2A2B2C2D) + MAC           # DUID-LLT, RFC 8415 11.2


def dhcp6(mtype, xid, *opts):
    """RFC 8415 8: msg-type, transaction-id (3 bytes), options."""
    return bytes([mtype]) + xid.to_bytes(3, "big") + b"".join(opts)


def ia_na(*addrs):
    """IA_NA (21.4): IAID 1, T1 3600, T2 5400, IA Address options (21.6)."""
    return opt(3, struct.pack("!III", 1, 3600, 5400)
               + b"".join(opt(5, ip6(a) + struct.pack("!II", pref, valid)) for a, pref, valid in addrs))


class Pcap6:
    """Classic pcap, Ethernet, IPv6 (next header UDP 17 or TCP 6), checksums zero."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.ts = 1_700_000_000.0

    def ip(self, src, dst, nh, l4):
        pkt = struct.pack("!IHBB", 6 << 28, len(l4), nh, 64) + ip6(src) + ip6(dst) + l4
        frame = b"\x33\x33\x00\x01\x00\x02" + MAC + b"\x86\xdd" + pkt
        sec, usec = int(self.ts), int(round((self.ts - int(self.ts)) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        self.ts += 0.001

    def udp(self, src, dst, sport, dport, payload):
        self.ip(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)

    def tcp(self, src, dst, sport, dport, flags, seq, ack, payload=b""):
        self.ip(src, dst, 6, struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload)

    def close(self):
        self.f.close()


SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10
cap = os.path.join(tmp, "dhcp6.pcap")
w = Pcap6(cap)
w.udp("fe80::a", "ff02::1:2", 546, 547,
      dhcp6(1, 0xABCDEF, opt(1, DUID), ia_na(), opt(39, b"\x00" + labels("pc7.example.test"))))
w.udp("fe80::2", "fe80::a", 547, 546,
      dhcp6(7, 0xABCDEF, opt(1, DUID), opt(2, struct.pack("!HH", 3, 1) + bytes([2, 0, 0, 0, 0, 1])),
            ia_na((CLI, 3600, 7200)), opt(39, b"\x01" + labels("pc7.example.test"))))
w.ts += 5
# a sign-on server connection (8476): handshake, a request and an answer, close
c, s = 1000, 5000
w.tcp(CLI, SRV, 41000, 8476, SYN, c, 0)
w.tcp(SRV, CLI, 8476, 41000, SYN | ACK, s, c + 1)
w.tcp(CLI, SRV, 41000, 8476, ACK, c + 1, s + 1)
req = struct.pack("!IHHIIHH", 20, 0, 0xE009, 0, 0, 0, 0x7003)  # a host-server header (length, ids, request id)
w.tcp(CLI, SRV, 41000, 8476, PSH | ACK, c + 1, s + 1, req)
w.tcp(SRV, CLI, 8476, 41000, PSH | ACK, s + 1, c + 1 + len(req), req)
w.tcp(CLI, SRV, 41000, 8476, FIN | ACK, c + 1 + len(req), s + 1 + len(req))
w.tcp(SRV, CLI, 8476, 41000, FIN | ACK, s + 1 + len(req), c + 2 + len(req))
# a DHCPv6 message cut inside its Client Identifier: counted malformed
w.udp("fe80::b", "ff02::1:2", 546, 547, dhcp6(1, 1, opt(1, DUID))[:12])
w.close()

# ---- the truth of the bytes, read back by tshark's DHCPv6 dissector (Debian 12: 4.0 field names) ----
if shutil.which("tshark"):
    p = tshark_run(["tshark", "-r", cap, "-Y", "dhcpv6.msgtype == 7", "-T", "fields", "-E", "separator=|",
                    "-e", "dhcpv6.client_domain", "-e", "dhcpv6.iaaddr.ip", "-e", "dhcpv6.iaaddr.valid_lifetime",
                    "-e", "dhcpv6.duid.bytes"], capture_output=True, text=True, timeout=120)
    rows = [l.split("|") for l in p.stdout.splitlines() if l]
    ok(len(rows) == 1 and rows[0][0].rstrip(".") == "pc7.example.test" and rows[0][1] == CLI and rows[0][2] == "7200"
       and rows[0][3].split(",")[0].replace(":", "") == DUID.hex(),
       "tshark reads the Reply: FQDN, address, valid lifetime, DUID", rows)
else:
    skip("tshark cross-check of the DHCPv6 Reply", "tshark is not installed")

rc, out, err = run(["-q", "-r", cap, "--format", "json"])
doc = json.loads(out) if rc == 0 else None
ok(doc is not None and not sanitizer_report(err), "json report", err)
cl = [c for c in (doc["clients"] if doc else []) if c["ip"] == CLI]
c = cl[0] if len(cl) == 1 else None
ok(c is not None and c["host_name"] == {"name": "pc7.example.test", "source": "dhcp"},
   "the client is named by the DHCPv6 Reply's FQDN, source dhcp", cl)
ok(c is not None and c["identity"] == "dhcp-host" and c["dhcp_client_id"] == DUID.hex()
   and c["hardware_address"] == "duid:" + DUID.hex(),
   "the client follows the DHCPv6 host: its DUID is the client identifier", c and {k: c[k] for k in
   ("identity", "dhcp_client_id", "hardware_address")})
k = doc["capture"]["counters"] if doc else {}
ok(k.get("name_packets") == 3 and k.get("name_packets_malformed") == 1,
   "three DHCPv6 packets read, the cut one counted malformed", {n: k.get(n) for n in ("name_packets", "name_packets_malformed")})

# the prefilter (with a user filter, the BPF path) passes UDP 546/547
rc, out, err = run(["-q", "-r", cap, "--format", "json", "not port 9"])
d2 = json.loads(out) if rc == 0 else None
c2 = [x for x in (d2["clients"] if d2 else []) if x["ip"] == CLI]
ok(len(c2) == 1 and c2[0]["host_name"] == {"name": "pc7.example.test", "source": "dhcp"}
   and d2["capture"]["counters"]["name_packets"] == 3,
   "with a user filter the prefilter lets DHCPv6 through", c2 or err)
rc, out, err = run(["-q", "-r", cap])
ok(rc == 0 and text_counter(out.decode(), "dhcp6_addresses_skipped") == 0
   and text_counter(out.decode(), "dhcp_ids_cut") == 0, "the text report lists the DHCPv6 counters", out[-2000:])

# --redact-users: the FQDN and the DUID are personal data too
rc, out, err = run(["-q", "-r", cap, "--format", "json", "--redact-users"])
ok(rc == 0 and b"pc7" not in out and DUID.hex().encode() not in out, "--redact-users hides the FQDN and the DUID",
   err)

# a monitor's state (--db) keeps the DHCPv6 host (its DUID as the key) and its name
db = os.path.join(tmp, "dhcp6.db")
rc1 = run(["-q", "-r", cap, "--db", db])[0]
rc, out, err = run(["--db", db, "--format", "json"])
sd = json.loads(out) if rc == 0 and rc1 == 0 else None
s = [x for x in (sd["clients"] if sd else []) if x["ip"] == CLI]
ok(len(s) == 1 and s[0]["host_name"] == {"name": "pc7.example.test", "source": "dhcp"} and s[0]["identity"] == "dhcp-host",
   "the state (--db) names the client and follows the DHCPv6 host", s or err)
done()

"""test_dhcplink_lab.py - one machine seen by a real DHCP and DHCPv6 server
is one client (issue 17): dnsmasq (DHCPv4 and DHCPv6) in a network
namespace, a client that takes an IPv4 lease with busybox udhcpc, sending an
RFC 4361 client identifier (type 255, IAID 1, then its DUID: the DUID-EN of
RFC 8415 11.3's example), and an IPv6 lease by DHCPv6 with that DUID (a
small client below: Solicit, Advertise, Request, Reply over the kernel's UDP
sockets, sent on its own link from its link-local address to ff02::1:2),
then signs on over both to a stand-in IBM i.  Everything is captured on the
bridge, as a span port would.

The truth comes from dnsmasq's log (DHCPACK: address, hardware address;
DHCPREPLY: address, DUID), the client's own configuration (the identifier
it was told to send) and tshark's reading of the capture (option 61's
bytes, the Solicit's Ethernet source), never from tlsready: the report must
show one client over both addresses, with the DUID and the evidence
rfc4361-client-id and ethernet-source (docs/schema.md, "DHCP and DHCPv6:
one host").

Needs root, ip, dnsmasq (dnsmasq-base), busybox, tcpdump; skips otherwise.
Namespaces dl-*-PID, deleted at exit.  About 11 seconds (half of it tshark).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bridgelab import TELNET_STANDIN, BridgeLab, read, sh, wait_for
from tap import ok, skip, run, done, sanitizer_report, tshark_run

NEED = ["ip", "dnsmasq", "busybox", "tcpdump"]
missing = [t for t in NEED if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]
if os.geteuid() != 0 or missing:
    skip("the DHCP/DHCPv6 linking lab", "needs root and " + (", ".join(missing) if missing else "root"))
    done()
    raise SystemExit(0)

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
tmp = tempfile.mkdtemp(prefix="tlsready-dhcplinklab-")
MAC = {"srv": "02:00:00:00:00:10", "c1": "02:00:00:00:00:c1"}
DUID = "0002000000090cc084d303000912"          # DUID-EN, RFC 8415 11.3's example
CLIENT_ID = "ff" + "00000001" + DUID           # RFC 4361 6.1: type 255, IAID, DUID

# ---- the network: a bridge in dl-sw, one veth per host ----
lab = BridgeLab("dl", MAC, tmp, no_dad=True)
NS, nsx, spawn = lab.ns, lab.nsx, lab.spawn
sh("ip", "-n", NS["srv"], "addr", "add", "192.0.2.10/24", "dev", "eth0")
sh("ip", "-n", NS["srv"], "-6", "addr", "add", "2001:db8::10/64", "dev", "eth0", "nodad")
ok(wait_for(lambda: b"fe80::" in sh("ip", "-n", NS["c1"], "-6", "addr", "show", "dev", "eth0").stdout
            and b"tentative" not in sh("ip", "-n", NS["c1"], "-6", "addr", "show", "dev", "eth0").stdout, 10),
   "the client has its link-local address")

cap = os.path.join(tmp, "lab.pcap")
tcpd = spawn("sw", ["tcpdump", "-i", "br0", "-U", "-n", "-w", cap], stdout=subprocess.DEVNULL,
             stderr=subprocess.PIPE)
wait_for(lambda: os.path.exists(cap), 10)
time.sleep(1)

# ---- the servers: dnsmasq (DHCPv4 and DHCPv6) and a stand-in IBM i on 23, both families ----
dlog = os.path.join(tmp, "dnsmasq.log")
spawn("srv", [DNSMASQ, "--no-daemon", "--conf-file=/dev/null", "--user=root", "--group=root", "--port=0",
              "--interface=eth0", "--bind-interfaces", "--dhcp-range=192.0.2.100,192.0.2.120,255.255.255.0,600",
              "--dhcp-range=2001:db8::100,2001:db8::1ff,64,600", "--dhcp-authoritative", "--no-ping",
              "--dhcp-leasefile=" + os.path.join(tmp, "leases"), "--log-dhcp", "--log-facility=" + dlog,
              "--pid-file="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
llog = os.path.join(tmp, "listener.log")
spawn("srv", ["python3", "-c", TELNET_STANDIN, llog, "::"])
wait_for(lambda: "DHCPv6, IP range" in read(dlog), 10)
time.sleep(0.5)

# ---- the client: DHCPv4 by busybox udhcpc with an RFC 4361 client identifier ----
SCRIPT = os.path.join(tmp, "udhcpc.sh")
with open(SCRIPT, "w") as f:
    f.write('#!/bin/sh\ncase "$1" in\n'
            'bound|renew) ip addr add "$ip/24" dev "$interface"; echo "$1 $ip" >> "$UDHCPC_LOG" ;;\nesac\n')
os.chmod(SCRIPT, 0o755)
ulog = os.path.join(tmp, "udhcpc.log")
r = subprocess.run(nsx("c1", "busybox", "udhcpc", "-f", "-q", "-i", "eth0", "-s", SCRIPT, "-x", "hostname:delta",
                       "-x", "0x3d:" + CLIENT_ID, "-t", "10", "-T", "1", "-A", "1"),
                   env=dict(os.environ, UDHCPC_LOG=ulog), timeout=60, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
m4 = re.search(r"^bound (\S+)$", read(ulog), re.M)
ok(m4 is not None, "udhcpc got an IPv4 lease", read(ulog) + read(dlog)[-1500:])

# ---- DHCPv6 (RFC 8415 18.2.1, 18.2.2): Solicit, Advertise, Request, Reply, with the same DUID ----
CLIENT6 = r'''
import socket, struct, sys
duid = bytes.fromhex(sys.argv[1])
opt = lambda c, d: struct.pack("!HH", c, len(d)) + d
def options(b):
    out, o = {}, 4
    while o + 4 <= len(b):
        c, l = struct.unpack("!HH", b[o:o + 4])
        out.setdefault(c, b[o + 4:o + 4 + l])
        o += 4 + l
    return out
idx = socket.if_nametoindex("eth0")
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 546))
s.settimeout(2)
def ask(msg, want):
    for _ in range(5):
        s.sendto(msg, ("ff02::1:2", 547, 0, idx))
        try:
            while True:
                b, _ = s.recvfrom(4096)
                if b[0] == want and b[1:4] == msg[1:4]:
                    return options(b)
        except socket.timeout:
            pass
    sys.exit("no answer")
ia = opt(3, struct.pack("!III", 1, 0, 0))
adv = ask(bytes([1]) + b"\x00\x00\x01" + opt(1, duid) + ia + opt(8, b"\x00\x00"), 2)
rep = ask(bytes([3]) + b"\x00\x00\x02" + opt(1, duid) + opt(2, adv[2]) + opt(3, adv[3]) + opt(8, b"\x00\x00"), 7)
ia_opts = options(b"\x00" * 4 + rep[3][12:])
print(socket.inet_ntop(socket.AF_INET6, ia_opts[5][:16]))
'''
r6 = subprocess.run(nsx("c1", "python3", "-c", CLIENT6, DUID), timeout=60, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
a6 = r6.stdout.strip()
ok(r6.returncode == 0 and a6.startswith("2001:db8::"), "the DHCPv6 client got an address", (r6.stderr, read(dlog)[-1500:]))
if a6:
    sh("ip", "-n", NS["c1"], "-6", "addr", "add", a6 + "/64", "dev", "eth0", "nodad")

SIGNON = r'''
import socket, sys
for host in sys.argv[1:]:
    c = socket.create_connection((host, 23), timeout=10)
    c.recv(3)
    c.sendall(b"\xff\xfb\x27\xff\xfa\x27\x00\x00USER\x01LABDAVE\xff\xf0")
    c.close()
'''
subprocess.run(nsx("c1", "python3", "-c", SIGNON, "192.0.2.10", "2001:db8::10"), timeout=60, check=False)
wait_for(lambda: len(read(llog).splitlines()) >= 2, 10)
time.sleep(1)
tcpd.send_signal(signal.SIGINT)
tcpd.wait(timeout=10)

# ---- the truth: dnsmasq's log, the client's configuration, tshark ----
log = read(dlog)
acks = re.findall(r"DHCPACK\(eth0\) (\S+) (\S+)", log)
replies = re.findall(r"DHCPREPLY\(eth0\) (2001:\S+) (\S+)", log)
peers = {json.loads(l)["peer"] for l in read(llog).splitlines() if l}
ok(len({a for a in acks}) == 1 and acks[0][1] == MAC["c1"] and replies and
   replies[-1][1].replace(":", "") == DUID and {"::ffff:" + acks[0][0], replies[-1][0]} == peers,
   "dnsmasq's log: the DHCPv4 lease to the client's MAC, the DHCPv6 lease to its DUID; the listener saw both",
   (acks, replies, peers))
v4, v6 = (acks[0][0] if acks else None), (replies[-1][0] if replies else None)
evidence = {"rfc4361-client-id"}       # the client sent CLIENT_ID, which carries DUID (checked by tshark below)
if shutil.which("tshark"):
    p = tshark_run(["tshark", "-r", cap, "-Y", "dhcp.option.dhcp == 3", "-T", "fields", "-E", "occurrence=a",
                    "-E", "aggregator=|", "-e", "dhcp.option.type", "-e", "dhcp.option.value"],
                   capture_output=True, text=True, timeout=120)
    sent = set()
    for line in p.stdout.splitlines():
        codes, vals = (line.split("\t") + [""])[:2]
        sent |= {v.replace(":", "") for c, v in zip(codes.split("|"), vals.split("|")) if c == "61"}
    p = tshark_run(["tshark", "-r", cap, "-Y", "dhcpv6.msgtype == 1 && ipv6.dst == ff02::1:2 && ipv6.src == fe80::/10"
                    " && udp.srcport == 546", "-T", "fields", "-e", "eth.src"], capture_output=True, text=True,
                   timeout=120)
    srcs = set(p.stdout.split())
    ok(sent == {CLIENT_ID} and srcs == {MAC["c1"]},
       "tshark: the DHCPREQUEST's option 61 is the RFC 4361 identifier; the Solicit came from the client's MAC",
       (sent, srcs))
    if srcs == {MAC["c1"]}:
        evidence.add("ethernet-source")
else:
    skip("tshark's reading of option 61 and the Solicit's source", "tshark is not installed")

rc, out, err = run(["-q", "-r", cap, "--format", "json"])
doc = json.loads(out) if rc == 0 else {}
ok(rc == 0 and not sanitizer_report(err), "tlsready reads the lab capture", err)
rows = [c for c in doc.get("clients", []) if v4 in c["addresses"] or v6 in c["addresses"]]
c = rows[0] if len(rows) == 1 else {}
ok(len(rows) == 1 and sorted(c["addresses"]) == sorted([v4, v6]) and c["hardware_address"] == MAC["c1"]
   and c.get("dhcpv6_duid") == DUID and set(c.get("link_evidence", [])) == evidence and c["users"] == ["LABDAVE"],
   "one client over its IPv4 and IPv6 leases, with its DUID and the evidence",
   [{k: r.get(k) for k in ("ip", "addresses", "hardware_address", "dhcpv6_duid", "link_evidence", "users")}
    for r in rows])
done()

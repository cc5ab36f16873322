"""test_syn_cache.py - connections that are only a SYN so far (the flow
table's embryonic entries, flow.h) are reported exactly as the packets
written say, whether they stay SYNs, are resent, or are answered later:

- three resends of one SYN, never answered: one connection, three packets,
  their wire bytes, first and last time, unanswered;
- a SYN resent once, then answered, used and closed: one connection with
  every packet and byte, from the first SYN's time, closed;
- an ECN SYN (ECE+CWR), then the same SYN without them (a client's ECN
  fallback), then answered: one connection;
- a SYN, resent, refused by a RST: refused;
- a SYN, then a SYN with another ISN (the client's new attempt on the same
  ports) and an answer: today's rule (one connection) holds;
- the flow table's cap counts both kinds and evicts by activity across
  them: with --max-flows 2, a SYN-only connection resent after a full one
  outlives it when a third arrives (the full one is evicted, counted);
- the same with --threads 2: the same report.

Every expected value is computed here from the frames written (pcapgen:
Ethernet, IPv4 and TCP headers without options, 54 bytes, and the payload).  Runs in under a second.
"""
import atexit
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone

from tap import ok, run, done, sanitizer_report
from pcapgen import Pcap, SYN, ACK, RST, PSH, FIN

tmp = tempfile.mkdtemp(prefix="tlsready-syncache-")
atexit.register(shutil.rmtree, tmp, True)
SRV = "198.51.100.1"
ECE, CWR = 0x40, 0x80
F = 14 + 20 + 20   # a frame without payload: Ethernet, IPv4 and TCP headers (the record's bytes are the wire's)


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


cap = os.path.join(tmp, "syn.pcap")
w = Pcap(cap)
want = {}          # client port -> (packets, bytes, start, end, tcp, payload)

# three resends, never answered
t0 = w.ts
for i in range(3):
    w.frame("192.0.2.1", SRV, 40001, 8476, SYN, 1000, 0)
    w.tick(0.5)
want[40001] = (3, 3 * F, iso(t0), iso(t0 + 1.002), "unanswered", [0, 0])

# resent once, then answered, used, closed
c = w.conn("192.0.2.2", 40002, SRV, 8476)
t0 = w.ts
c.syn()
c.syn()
w.frame(SRV, "192.0.2.2", 8476, 40002, SYN | ACK, c.isn[1], c.nxt[0])
w.frame("192.0.2.2", SRV, 40002, 8476, ACK, c.nxt[0], c.nxt[1])
c.send(b"hello")
c.close()
t_end = w.ts - 0.001
want[40002] = (8, 8 * F + 5, iso(t0), iso(t_end), "closed", [5, 0])

# ECN SYN, then the plain SYN, then answered
t0 = w.ts
w.frame("192.0.2.3", SRV, 40003, 8476, SYN | ECE | CWR, 3000, 0)
w.frame("192.0.2.3", SRV, 40003, 8476, SYN, 3000, 0)
w.frame(SRV, "192.0.2.3", 8476, 40003, SYN | ACK, 7000, 3001)
w.frame("192.0.2.3", SRV, 40003, 8476, ACK, 3001, 7001)
want[40003] = (4, 4 * F, iso(t0), iso(w.ts - 0.001), "open", [0, 0])   # open at the end of input

# SYN, resent, refused
t0 = w.ts
w.frame("192.0.2.4", SRV, 40004, 8476, SYN, 4000, 0)
w.frame("192.0.2.4", SRV, 40004, 8476, SYN, 4000, 0)
w.frame(SRV, "192.0.2.4", 8476, 40004, RST | ACK, 0, 4001)
want[40004] = (3, 3 * F, iso(t0), iso(w.ts - 0.001), "refused", [0, 0])

# a SYN, then another ISN on the same ports, answered
t0 = w.ts
w.frame("192.0.2.5", SRV, 40005, 8476, SYN, 5000, 0)
w.frame("192.0.2.5", SRV, 40005, 8476, SYN, 9000, 0)
w.frame(SRV, "192.0.2.5", 8476, 40005, SYN | ACK, 11000, 9001)
want[40005] = (3, 3 * F, iso(t0), iso(w.ts - 0.001), "open", [0, 0])
w.close()


def flows_of(args):
    rc, out, err = run(["-q", "-r", cap, "--format", "json"] + args)
    doc = json.loads(out) if rc == 0 else {}
    return rc, doc, out, err


rc, doc, out1, err = flows_of([])
ok(rc == 0 and not sanitizer_report(err), "json report", err)
got = {}
for f in doc.get("flows", []):
    got.setdefault(f["client_port"], []).append(
        (f["packets"], f["bytes"], f["start"], f["end"], f["tcp"], f["payload_bytes"]))
for port, exp in want.items():
    ok(got.get(port) == [exp], f"client port {port}: one connection, {exp[0]} packets, {exp[1]} bytes, {exp[4]}",
       (got.get(port), exp))
k = doc.get("capture", {}).get("counters", {})
ok(k.get("connections") == len(want) and k.get("connections_reported") == len(want) and k.get("flows_evicted") == 0,
   f"{len(want)} connections counted", k)
# the SYN-only one had nDPI's verdict like every other reported connection
syn_only = [f for f in doc.get("flows", []) if f["client_port"] == 40001]
ok(syn_only and syn_only[0]["ndpi"] is not None and syn_only[0]["memcap_dropped"] is False,
   "the SYN-only connection went through nDPI, nothing dropped", syn_only)
rc, doc2, out2, err = flows_of(["--threads", "2"])
ok(rc == 0 and out2 == out1, "--threads 2: the same report", err)

# the cap counts both kinds, eviction follows activity across them
cap2 = os.path.join(tmp, "cap.pcap")
w = Pcap(cap2)
w.frame("192.0.2.11", SRV, 41001, 8476, SYN, 100, 0)                 # X: a SYN (embryonic)
y = w.conn("192.0.2.12", 41002, SRV, 8476)                            # Y: a full connection
y.handshake()
w.frame("192.0.2.11", SRV, 41001, 8476, SYN, 100, 0)                 # X resent: now the most recent
w.frame("192.0.2.13", SRV, 41003, 8476, SYN, 300, 0)                 # Z: the table is full
w.close()
rc, out, err = run(["-q", "-r", cap2, "--format", "json", "--max-flows", "2"])
doc = json.loads(out) if rc == 0 else {}
ends = {f["client_port"]: (f["end_reason"], f["packets"]) for f in doc.get("flows", [])}
ok(ends == {41001: ("end-of-input", 2), 41002: ("evicted", 3), 41003: ("end-of-input", 1)}
   and doc["capture"]["counters"]["flows_evicted"] == 1,
   "--max-flows 2: the least recently active connection (the full one) is evicted, the resent SYN kept", ends)
done()

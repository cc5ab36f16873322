"""test_accuracy.py - how many connections the wire really held, on captures
built here byte for byte (pcapgen.py): what a TCP stack would call one
connection must be one connection in the report.

- SYNs resent with the ISN already seen (also after the server refused them,
  as Windows clients retry) are one refused connection, not one per SYN;
- a FIN, RST or ACK retransmitted long after the close (7 to 57 s in the
  field) is a late segment of the closed connection, counted as such;
- a SYN with a new ISN on the same addresses and ports after the close is a
  new connection; so is new data after the close (the talk goes on).
"""
import json
import os
import tempfile

from tap import ok, run, done, sanitizer_report
from pcapgen import Pcap, SYN, FIN, RST, ACK

tmp = tempfile.mkdtemp(prefix="tlsready-acc-")


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

done()

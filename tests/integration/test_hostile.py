"""test_hostile.py - hostile input, each case a small capture built here byte
for byte (tests/integration/pcapgen.py), so the expected outcome follows from
the bytes themselves, not from tlsready's own output:

- a light-probed flow promoted to full inspection must not crash (7 packets);
- held out-of-order data is capped by --memcap, the oldest dropped first and
  counted in every format;
- CSV cells a spreadsheet would run as formulas are made text;
- the text report quotes names that contain its separators;
- overlapping segments with different bytes: the receiver's copy decides
  the user name, and the flow is flagged;
- a Certificate message of 10 certificates reports chain_length 10;
- a segment 2^31 bytes before the stream's base (UBSan build: no report);
- clients that only sent unanswered or refused SYNs are attempts, apart from
  the clients that used a nonsecure port;
- redaction without a key of the user's is not the same in every run.
"""
import atexit
import csv
import hashlib
import hmac
import io
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import tempfile
import time

from tap import ok, skip, run, done, sanitizer_report, text_counter, TLSREADY
from pcapgen import Pcap
from netlab import Netlab

tmp = tempfile.mkdtemp(prefix="tlsready-hostile-")
atexit.register(shutil.rmtree, tmp, True)
ASAN = "asan" in TLSREADY


def path(name):
    return os.path.join(tmp, name)


def report(cap, *args, fmt="json"):
    rc, out, err = run(["-q", "-r", cap, "--format", fmt] + list(args))
    if fmt == "json":
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, err
    return rc, out.decode("utf-8", "replace"), err


def hs_header(length, server=0xE009, req=0x7001):
    return struct.pack("!IBBHIIHH", length, 0, 0, server, 0, 0, 0, req)


# ---- 1. promoted light flow: remote crash with --no-prefilter ----
cap = path("promote.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.10", 40000, "198.51.100.1", 5555)   # a port outside the catalogue
c.handshake()
c.send(hs_header(20) + b"\xff\xff\xff\xff")              # a whole header, then bytes no header starts with
c.close()
w.close()
for extra in ([], ["--threads", "2"]):
    rc, doc, err = report(cap, "--no-prefilter", *extra)
    ok(rc == 0 and not sanitizer_report(err), f"a host-server header on an uncatalogued port {extra}: clean exit",
       f"rc={rc} {err[-600:]}")
    flows = doc["flows"] if doc else []
    ok(len(flows) == 1 and flows[0]["content"] == "hostserver" and flows[0]["server_port"] == 5555,
       f"...and the promoted flow is reported as host-server bytes {extra}", flows)


def live_replay(capture, *args):
    """tlsready -i on one end of a veth pair in a namespace of our own, the capture replayed into the
    other end; SIGINT after the replay.  Returns (rc, json, stderr) or None when this machine cannot."""
    if not Netlab.available():
        return None
    lab = Netlab("tr-hst")
    p = lab.spawn([TLSREADY, "-i", lab.vb, "-q", "--format", "json"] + list(args), stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    time.sleep(1.0)
    lab.replay(capture)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    lab.close()
    try:
        return p.returncode, json.loads(out), err.decode("utf-8", "replace")
    except ValueError:
        return p.returncode, None, err.decode("utf-8", "replace")


got = live_replay(cap, "--no-prefilter")
if got is None:
    skip("the same 7 packets live", "needs root, ip netns and tcpreplay")
else:
    rc, doc, err = got
    ok(rc == 0 and doc and len(doc["flows"]) == 1 and doc["flows"][0]["content"] == "hostserver"
       and not sanitizer_report(err), "the same 7 packets live (-i, --no-prefilter): no crash, flow reported",
       f"rc={rc} {err[-500:]}")


# ---- 3. memory cap on held data ----
def flood(cap, n, steps=15):
    """n connections, each with `steps` 1-byte out-of-order segments at 4 KiB steps per direction."""
    w = Pcap(cap)
    for i in range(n):
        c = w.conn("192.0.2.%d" % (1 + i % 250), 10000 + i // 250, "198.51.100.1", 8476, isn_c=1000 * i,
                   isn_s=7000 * i)
        c.handshake()
        for k in range(1, steps + 1):
            c.seg(k * 4096, b"A", True)
            c.seg(k * 4096, b"B", False)
    w.close()


cap = path("flood.pcap")
n_flood = 3000
flood(cap, n_flood)
memcap = 4 << 20
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rc, doc, err = report(cap, "--memcap", "4M")
k = doc["capture"]["counters"] if doc else {}
ok(rc == 0 and not sanitizer_report(err), "flood of held out-of-order data: clean exit", err[-400:])
# each connection wants two 64 KiB buffers (the 1-byte segments reach 60 KiB): 3000 x 128 KiB = 375 MiB
ok(k.get("memcap_inspections_ended", 0) > n_flood * 9 // 10,
   "the connections fed least recently lost their held data, counted", k.get("memcap_inspections_ended"))
ok(k.get("memcap_bytes_released", 0) >= k.get("memcap_inspections_ended", 0) * 65536,
   "released bytes counted (>= 64 KiB a dropped connection)", k.get("memcap_bytes_released"))
flows = doc["flows"] if doc else []
ok(len(flows) == n_flood and sum(f["memcap_dropped"] for f in flows) == k.get("memcap_inspections_ended"),
   "every connection still reported; memcap_dropped marks exactly the counted ones",
   (len(flows), sum(f["memcap_dropped"] for f in flows)))
if not ASAN:
    rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ok(rss_mib < 64, f"peak RSS {rss_mib:.1f} MiB under the 64 MiB goal (unbounded: ~400 MiB)", rss_mib)
rc, text, err = report(cap, "--memcap", "4M", fmt="text")
names = ("memcap_inspections_ended", "memcap_bytes_released", "memcap_not_inspected", "memcap_directions_refused")
ok(all(text_counter(text, n) == k[n] for n in names) and k["memcap_inspections_ended"] > 0,
   "the text report shows the memcap counters", text[-900:])
rc, out, err = report(cap, "--memcap", "4M", fmt="csv")
rows = {r[5]: r[8] for r in csv.reader(io.StringIO(out)) if r and r[0] == "counter"}
flat = {}
for name, v in k.items():
    if isinstance(v, dict):
        flat.update(v)
    else:
        flat[name] = v
missing = [n for n in flat if n not in rows or int(rows[n]) != flat[n]]
ok(not missing, "every JSON counter is a CSV counter row with the same value", missing)
rc, out, err = run(["-q", "-r", cap, "--memcap", "100"])
ok(rc == 2 and "--memcap" in err, "--memcap below 1M is a usage error", err)
# a generous cap changes nothing for ordinary traffic: the same flows as without it
demo = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "pcaps",
                    "demo.pcapng")
_, small, _ = report(demo, "--memcap", "1M")
_, big, _ = report(demo, "--memcap", "1G")
strip = lambda d: [{k: v for k, v in f.items()} for f in d["flows"]]
ok(small and big and strip(small) == strip(big) and small["capture"]["counters"]["memcap_inspections_ended"] == 0,
   "the demo capture is reported the same with a 1 MiB and a 1 GiB memcap")


# ---- telnet helpers: NEW-ENVIRON USER (RFC 1572) on port 23 ----
def telnet_user(w, cli, cport, user, devname=None):
    c = w.conn(cli, cport, "198.51.100.1", 23)
    c.handshake()
    c.send(b"\xff\xfd\x27\xff\xfd\x18", from_client=False)         # DO NEW-ENVIRON, DO TERMINAL-TYPE
    env = b"\x00USER\x01" + user
    if devname:
        env += b"\x03DEVNAME\x01" + devname
    c.send(b"\xff\xfb\x27\xff\xfb\x18\xff\xfa\x27\x00" + env + b"\xff\xf0")
    c.close()
    return c


# ---- 5. CSV formula injection ----
cap = path("formula.pcap")
w = Pcap(cap)
evil = [b"=2+5", b"+1+1", b"-2+3", b"@SUM(A1)"]
for i, u in enumerate(evil):
    telnet_user(w, "192.0.2.%d" % (20 + i), 41000 + i, u, devname=b"=DEV%d" % i)
w.close()
rc, out, err = report(cap, fmt="csv")
cells = [cell for r in csv.reader(io.StringIO(out)) for cell in r]
risky = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
ok(rc == 0 and not risky, "no CSV cell starts with = + - @", risky)
users = [r[13] for r in csv.reader(io.StringIO(out)) if r and r[0] == "usage"]
ok(sorted(users) == sorted("'" + u.decode() for u in evil), "...the names are kept, behind a quote", users)

# ---- 9b. the text report quotes names that hold its separators ----
cap = path("comma.pcap")
w = Pcap(cap)
telnet_user(w, "192.0.2.30", 42000, b'A,"B\\C"')
telnet_user(w, "192.0.2.30", 42001, b"PLAIN")
w.close()
rc, text, err = report(cap, fmt="text")
ok('"A,\\"B\\\\C\\"",PLAIN' in text or 'PLAIN,"A,\\"B\\\\C\\""' in text,
   "a user A,\"B\\C\" is one quoted name in the text list", text[:1500])

# ---- 9. overlapping segments with different bytes ----
cap = path("overlap.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.40", 43000, "198.51.100.1", 23)
c.handshake()
c.send(b"\xff\xfd\x27", from_client=False)
real = b"\xff\xfb\x27\xff\xfa\x27\x00\x00USER\x01REALUSR\xff\xf0"
fake_tail = b"FAKEUSR\xff\xf0"
at = real.index(b"REALUSR")
c.seg(at, fake_tail)            # the tail of a fake PDU first, out of order
c.send(real)                    # then the whole real segment, in order
c.close()
w.close()
rc, doc, err = report(cap)
f = doc["flows"][0] if doc and doc["flows"] else {}
ok(f.get("user") == "REALUSR", "the in-order copy decides the user, as the receiver's stack does", f.get("user"))
ok("stream-overlap-conflict" in f.get("findings", []), "the flow is flagged stream-overlap-conflict",
   f.get("findings"))
kc = doc["capture"]["counters"]
ok(kc["stream_overlap_conflicts"] >= 1 and kc["overlap_conflict_connections"] == 1,
   "overlap conflicts counted", kc)
rc, doc2, err = report(cap.replace("overlap", "overlap"), "--threads", "2")
ok(doc2 and doc2["flows"][0]["user"] == "REALUSR", "the same with --threads 2")


# ---- 8a. a chain of 10 certificates ----
def tls_record(ctype, body, ver=0x0303):
    return struct.pack("!BHH", ctype, ver, len(body)) + body


def hs(msg_type, body):
    return struct.pack("!B", msg_type) + len(body).to_bytes(3, "big") + body


client_hello = hs(1, struct.pack("!H", 0x0303) + b"\x11" * 32 + b"\x00" + struct.pack("!H", 2) + b"\x00\x2f"
                  + b"\x01\x00" + struct.pack("!H", 0))
server_hello = hs(2, struct.pack("!H", 0x0303) + b"\x22" * 32 + b"\x00" + b"\x00\x2f" + b"\x00"
                  + struct.pack("!H", 0))
certs = b"".join(len(d).to_bytes(3, "big") + d for d in [b"\x30\x03\x02\x01" + bytes([i]) for i in range(10)])
certificate = hs(11, len(certs).to_bytes(3, "big") + certs)
cap = path("chain10.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.50", 44000, "198.51.100.1", 9476)
c.handshake()
c.send(tls_record(22, client_hello, 0x0301))
c.send(tls_record(22, server_hello + certificate + hs(14, b"")), from_client=False)
c.close()
w.close()
rc, doc, err = report(cap)
t = (doc["flows"][0].get("tls") or {}) if doc and doc["flows"] else {}
ok(t.get("chain_length") == 10, "a Certificate message of 10 certificates: chain_length 10", t.get("chain_length"))

# ---- 8b. a segment 2^31 bytes before the base ----
cap = path("halfspace.pcap")
w = Pcap(cap)
c = w.conn("192.0.2.60", 45000, "198.51.100.1", 8476, isn_c=0x7FFFFFFF)
c.handshake()
w.frame(c.cli, c.srv, c.cport, c.sport, 0x18, 0, c.nxt[1], b"abcd")   # seq 0: base - 2^31
c.send(hs_header(20))
c.close()
w.close()
rc, doc, err = report(cap)
ok(rc == 0 and not sanitizer_report(err), "a segment 2^31 before the stream base: no undefined behaviour",
   err[-500:])


# ---- 6b. attempts are not use ----
cap = path("attempts.pcap")
w = Pcap(cap)
for i in range(200):                                   # spoofed SYNs, never answered
    w.conn("203.0.113.%d" % (1 + i % 200), 30000 + i, "198.51.100.1", 8476).syn()
w.conn("203.0.113.250", 31000, "198.51.100.1", 8471).refuse()   # refused by the server
w.close()
rc, doc, err = report(cap, "--fail-on-nonsecure")
st = {c["ip"]: c["status"] for c in doc["clients"]} if doc else {}
ok(rc == 0, "--fail-on-nonsecure passes when nonsecure ports only saw unanswered or refused SYNs", rc)
ok(len(st) == 201 and set(st.values()) == {"attempt-only"}, "those 201 clients are attempt-only",
   sorted(set(st.values())))
ok(doc and doc["summary"]["attempt_only_clients"] == 201 and doc["summary"]["nonsecure_clients"] == 0,
   "the summary counts them apart", doc["summary"] if doc else None)
rc, text, err = report(cap, "--fail-on-nonsecure", fmt="text")
sec = text.split("Clients that only tried nonsecure ports", 1)
ok(len(sec) == 2 and "203.0.113.250" in sec[1] and "Clients still using nonsecure ports" in sec[0],
   "the text report lists them in their own section", text[:2000])
w = Pcap(cap)
for i in range(50):
    w.conn("203.0.113.%d" % (1 + i), 30000 + i, "198.51.100.1", 8476).syn()
telnet_user(w, "192.0.2.70", 46000, b"REALUSE")
w.close()
rc, doc, err = report(cap, "--fail-on-nonsecure")
st = {c["ip"]: c["status"] for c in doc["clients"]} if doc else {}
ok(rc == 3 and st.get("192.0.2.70") == "nonsecure" and list(st.values()).count("attempt-only") == 50,
   "a real nonsecure client still fails the gate, beside 50 attempt-only clients", (rc, st.get("192.0.2.70")))


# ---- 10. redaction keys ----
cap = path("redact.pcap")
w = Pcap(cap)
telnet_user(w, "192.0.2.80", 47000, b"SECADM7")
w.close()
_, a, _ = report(cap, "--redact-users")
_, b, _ = report(cap, "--redact-users")
ua, ub = a["clients"][0]["users"][0], b["clients"][0]["users"][0]
ok(ua.startswith("redacted-") and ua != ub, "without a key of the user's, each run's hash differs", (ua, ub))
ok(a["redaction"]["key"] == "random", "...and the report says the key was random", a.get("redaction"))
keyfile = path("key")
with open(keyfile, "wb") as f:
    f.write(b"our-site-secret\n")
_, c1, _ = report(cap, "--redact-users", "--redact-key-file", keyfile)
want = "redacted-" + hmac.new(b"our-site-secret", b"SECADM7", hashlib.sha256).hexdigest()[:12]
ok(c1["clients"][0]["users"][0] == want and c1["redaction"]["key"] == "file",
   "--redact-key-file: HMAC-SHA256 with the file's key (first line)", (c1["clients"][0]["users"], want))
for fmt in ("text", "csv", "ndjson"):
    _, out, _ = report(cap, "--redact-users", fmt=fmt)
    ok("SECADM7" not in out, f"no clear user name in the redacted {fmt} report")

done()

"""test_errors.py - bad input and the command line: exit codes, one-line
errors naming the file, everything read before a problem still reported,
determinism, several inputs, standard input, every format.

Captures written here are built byte by byte in this file (the pcap format
is simple enough to write by hand), so the expectations do not depend on
anything tlsready produced.
"""
import atexit
import ctypes.util
import json
import os
import shutil
import struct
import subprocess
import tempfile

from tap import ok, skip, run, done, sanitizer_report, CORPUS, TLSREADY

tmp = tempfile.mkdtemp(prefix="tlsready-test-")
atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens


def pcap_file(path, packets, linktype=1, snaplen=65535, cut=0):
    """A classic little-endian microsecond pcap; cut drops bytes at the end."""
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    for ts, frame in packets:
        data += struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame
    if cut:
        data = data[:-cut]
    with open(path, "wb") as f:
        f.write(data)
    return path


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_frame(src, dst, sport, dport, flags, seq, ack, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04


def session(cli, cport, srv, sport, t0, c2s=b"", s2c=b"", refuse=False, close=True):
    """A complete TCP connection: handshake, one request, one reply, FINs."""
    p = [(t0, tcp_frame(cli, srv, cport, sport, SYN, 1000, 0))]
    if refuse:
        p.append((t0 + 0.001, tcp_frame(srv, cli, sport, cport, RST | ACK, 0, 1001)))
        return p
    p.append((t0 + 0.001, tcp_frame(srv, cli, sport, cport, SYN | ACK, 5000, 1001)))
    p.append((t0 + 0.002, tcp_frame(cli, srv, cport, sport, ACK, 1001, 5001)))
    cs, ss = 1001, 5001
    if c2s:
        p.append((t0 + 0.003, tcp_frame(cli, srv, cport, sport, PSH | ACK, cs, ss, c2s)))
        cs += len(c2s)
    if s2c:
        p.append((t0 + 0.004, tcp_frame(srv, cli, sport, cport, PSH | ACK, ss, cs, s2c)))
        ss += len(s2c)
    if close:
        p.append((t0 + 0.005, tcp_frame(cli, srv, cport, sport, FIN | ACK, cs, ss)))
        p.append((t0 + 0.006, tcp_frame(srv, cli, sport, cport, FIN | ACK, ss, cs + 1)))
        p.append((t0 + 0.007, tcp_frame(cli, srv, cport, sport, ACK, cs + 1, ss + 1)))
    return p


# A small day: a cleartext client on 8476, a refused client on 8471, a TLS-looking client on 9476.
day = (session("192.0.2.21", 40001, "192.0.2.10", 8476, 1700000000.0, b"\x00" * 40, b"\x00" * 30)
       + session("192.0.2.22", 40002, "192.0.2.10", 8471, 1700000001.0, refuse=True)
       + session("192.0.2.23", 40003, "192.0.2.10", 22, 1700000002.0, b"SSH-2.0-x\r\n", b"SSH-2.0-y\r\n"))
good = pcap_file(os.path.join(tmp, "day.pcap"), day)

# ---- exit codes and one-line errors ----
rc, out, err = run(["-r", os.path.join(tmp, "missing.pcap")])
ok(rc == 2, "missing file exits 2", f"rc={rc}")
ok("missing.pcap" in err and len(err.strip().splitlines()) == 1, "missing file: one line naming it", err)

text = os.path.join(tmp, "notes.txt")
with open(text, "w") as f:
    f.write("this is not a capture\n" * 10)
rc, out, err = run(["-r", text])
ok(rc == 2 and "notes.txt" in err and "not a pcap" in err, "a text file is refused with exit 2", err)

rc, out, err = run(["-r", tmp])
ok(rc == 2 and "directory" in err, "a directory is refused with exit 2", err)

empty0 = os.path.join(tmp, "zero.pcap")
open(empty0, "wb").close()
rc, out, err = run(["-r", empty0])
ok(rc == 2 and "zero.pcap" in err, "a 0-byte file is refused with exit 2", err)

hdr_only = pcap_file(os.path.join(tmp, "header-only.pcap"), [])
rc, out, err = run(["-r", hdr_only, "--format", "json"])
doc = json.loads(out)
ok(rc == 0 and doc["flows"] == [] and doc["capture"]["packets"] == 0, "an empty capture is a report with no flows",
   f"rc={rc} {err}")

cut = pcap_file(os.path.join(tmp, "cut.pcap"), day, cut=7)
rc, out, err = run(["-r", cut, "--format", "json"])
doc = json.loads(out) if out else {}
ok(rc == 1, "a file cut mid-packet exits 1", f"rc={rc} {err}")
ok("cut.pcap" in err and "warning" in err, "the cut file is named in a warning", err)
ok(doc.get("capture", {}).get("packets") == len(day) - 1,
   "everything before the cut is analysed", json.dumps(doc.get("capture"))[:500])
ok(any("cut.pcap" in w for w in doc.get("capture", {}).get("warnings", [])), "the warning is in the report too")

ppp = pcap_file(os.path.join(tmp, "ppp.pcap"), [(1.0, b"\xff\x03\x00\x21" + b"\x45" + b"\0" * 30)], linktype=9)
rc, out, err = run(["-r", good, "-r", ppp, "--format", "json"])
ok(rc == 2 and "ppp.pcap" in err and "unsupported link type" in err, "an unsupported link type exits 2 naming the file", err)
doc = json.loads(out) if out else {}
ok(len(doc.get("flows", [])) >= 2, "what was read before the bad file is still reported", out[:300])

for args, name in ((["--format", "xml", "-r", good], "unknown format"), (["--max-flows", "zero", "-r", good], "bad number"),
                   ([], "no input"), (["-r", good, "--server", "not-an-ip"], "bad --server"),
                   (["-r", good, "tcp port"], "bad BPF expression"), (["--bogus"], "unknown option")):
    rc, out, err = run(args)
    ok(rc == 2 and err.strip(), f"usage error exits 2: {name}", f"rc={rc} err={err}")

rc, out, err = run(["--help"])
ok(rc == 0 and b"--fail-on-nonsecure" in out and b"Exit status" in out, "--help documents the options")
rc, out, err = run(["--version"])
ok(rc == 0 and out.startswith(b"tlsready "), "--version")

# ---- verdicts on the hand-built day ----
rc, out, err = run(["-r", good, "--format", "json", "-q"])
doc = json.loads(out)
flows = {f["client_ip"]: f for f in doc["flows"]}
ok(rc == 0 and set(flows) == {"192.0.2.21", "192.0.2.22"}, "only catalogued ports are reported by default",
   list(flows))
f21 = flows.get("192.0.2.21", {})
ok(f21.get("service") == "as-signon" and f21.get("port_class") == "nonsecure" and f21.get("tcp") == "closed"
   and f21.get("transport") == "cleartext" and f21.get("midstream") is False, "cleartext session on 8476", f21)
f22 = flows.get("192.0.2.22", {})
ok(f22.get("tcp") == "refused" and f22.get("transport") == "none", "refused connection on 8471", f22)
cl = {c["ip"]: c for c in doc["clients"]}
ok(cl.get("192.0.2.22", {}).get("status") == "attempt-only" and cl["192.0.2.22"]["nonsecure"][0]["refused"] == 1,
   "a refused attempt on a nonsecure port makes an attempt-only client, its usage row kept", cl.get("192.0.2.22"))
ok(doc["capture"]["counters"]["filtered"] == 8, "the SSH connection is counted as filtered, not lost",
   doc["capture"]["counters"])

rc, out, err = run(["-r", good, "--format", "json", "-q", "--no-prefilter", "--server", "192.0.2.10"])
doc = json.loads(out)
ok(any(f["server_port"] == 22 and f["service"] is None and f["port_class"] == "other" for f in doc["flows"]),
   "--server keeps the IBM i's other traffic, as port class other")

rc, out, err = run(["-r", good, "-q", "--fail-on-nonsecure"])
ok(rc == 3, "--fail-on-nonsecure exits 3 when nonsecure use was found", f"rc={rc}")
rc, out, err = run(["-r", good, "-q", "--fail-on-nonsecure", "host 192.0.2.23"])
ok(rc == 0, "...and 0 when the filter leaves none", f"rc={rc} {err}")

# ---- determinism, several inputs, stdin, formats ----
a = run(["-r", good, "--format", "json", "-q"])[1]
b = run(["-r", good, "--format", "json", "-q"])[1]
ok(a == b, "two runs give byte-identical JSON")
part1 = pcap_file(os.path.join(tmp, "part1.pcap"), day[:4])
part2 = pcap_file(os.path.join(tmp, "part2.pcap"), day[4:])
rc, out, err = run(["-r", part1, "-r", part2, "--format", "json", "-q"])
d2 = json.loads(out)
d1 = json.loads(a)
ok(rc == 0 and [(f["client_ip"], f["tcp"], f["transport"], f["packets"]) for f in d2["flows"]] ==
   [(f["client_ip"], f["tcp"], f["transport"], f["packets"]) for f in d1["flows"]],
   "two files form one timeline")
with open(good, "rb") as f:
    rc, out, err = run(["-r", "-", "--format", "json", "-q"], stdin=f.read())
ok(rc == 0 and len(json.loads(out)["flows"]) == 2, "'-' reads standard input", err)
for fmt in ("text", "csv", "ndjson"):
    rc, out, err = run(["-r", cut, "--format", fmt, "-q"])
    s = out.decode()
    ok(rc == 1 and ("filtered" in s or "outside the filter" in s) and ("stream_gaps" in s or "gaps" in s) and "cut.pcap" in s,
       f"{fmt}: counters and the warning appear", s[-800:])
rc, out, err = run(["-r", good, "--format", "ndjson", "-q"])
lines = [json.loads(l) for l in out.decode().splitlines()]
ok([l["type"] for l in lines] == ["flow", "flow", "capture"], "ndjson: one flow a line, then the capture")
outfile = os.path.join(tmp, "out.json")
rc, out, err = run(["-r", good, "--format", "json", "-q", "-o", outfile])
ok(rc == 0 and out == b"" and json.load(open(outfile))["schema"] == "tlsready/1", "-o writes the report to a file")

# ---- libpq is loaded only for the PostgreSQL store (analyzer/pq_lazy.c) ----
# the dynamic loader names every library it opens (LD_DEBUG=files, glibc's ld.so(8))
loaded = subprocess.run([TLSREADY, "-r", good, "-q"], env=dict(os.environ, LD_DEBUG="files"), stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, timeout=60).stderr.decode()
ok("file=libpcap" in loaded and "libpq" not in loaded, "a run without the PostgreSQL store does not load libpq",
   loaded[-600:])
libpq = ctypes.util.find_library("pq")
lib = next((os.path.join(d, libpq) for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib")
            if libpq and os.path.exists(os.path.join(d, libpq))), None)
if os.geteuid() != 0 or not lib or not shutil.which("unshare"):
    skip("a missing libpq is one clear line and exit 2", "needs root, unshare and libpq installed")
else:
    # hide the library in a private mount namespace: the rest of the system keeps it
    p = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind /dev/null "$0" && exec "$1" -r "$2" -q --db "postgresql:///tlsready?host=/nonexistent"',
                        os.path.realpath(lib), TLSREADY, good], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    e = p.stderr.decode()
    ok(p.returncode == 2 and e.count("\n") == 1 and "cannot load libpq" in e and "libpq5" in e,
       "a missing libpq is one clear line naming it and its package, exit 2", f"rc={p.returncode} {e}")
ok(not sanitizer_report(err), "no sanitizer report", err)
done()

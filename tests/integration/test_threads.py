"""test_threads.py - --threads N gives byte-identical JSON to one thread on
every lab capture and every public capture, and the flow-table cap holds
under a flood of new connections (the counters, hand-computed: with a cap of
C tracked connections, N SYNs to new 4-tuples evict exactly N - C of them).
The memory side of the flood is measured by `make bench`, not here.
"""
import glob
import json
import os
import shutil
import struct
import tempfile

from tap import ok, skip, run, done, sanitizer_report, PCAPS, CORPUS, TLSREADY

caps = sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")))
if os.path.isdir(CORPUS):
    caps += sorted(glob.glob(os.path.join(CORPUS, "*", "*.pcap*")))
else:
    skip("public corpus with --threads", f"{CORPUS} is absent")
if "asan" in TLSREADY:
    # the sanitizer build: every lab capture and one public capture in four (the plain build runs them
    # all; what --threads could get wrong is the same in both builds, what ASan adds is memory checks)
    caps = [c for c in caps if not c.startswith(CORPUS)] + [c for c in caps if c.startswith(CORPUS)][::4]
    print(f"# sanitizer build: {len(caps)} captures (every lab capture, one public capture in four)")
for cap in caps:
    args = ["-r", cap, "--format", "json", "-q"]
    if cap.startswith(CORPUS):
        args += ["--no-prefilter", "--server", "0.0.0.0/0", "--server", "::/0"]
    one = run(args + ["--threads", "1"])
    two = run(args + ["--threads", "2"])
    three = run(args + ["--threads", "3"])
    same = one[0] == two[0] == three[0] and one[1] == two[1] == three[1]
    ok(same and not sanitizer_report(two[2] + three[2]),
       f"{os.path.basename(cap)}: --threads 1, 2 and 3 give the same report (exit {one[0]})",
       f"exit {one[0]}/{two[0]}/{three[0]} {two[2][-300:]}")


def flood(path, n):
    """n SYNs from distinct client ports and addresses to 8476 and 9476."""
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i in range(n):
        tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, 8476 if i % 2 else 9476, i, 0, 5 << 4, 0x02, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                         bytes([198, 51, 100, i // 60000 % 250]), bytes([192, 0, 2, 10]))
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp
        ts = 1700000000 + i / 1000.0
        data += struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame
    with open(path, "wb") as f:
        f.write(data)


N, CAP = 30000, 1000
path = os.path.join(tempfile.mkdtemp(prefix="tlsready-flood-"), "flood.pcap")
flood(path, N)
for threads in ("1", "2"):
    rc, out, err = run(["-r", path, "--format", "json", "-q", "--max-flows", str(CAP), "--threads", threads])
    doc = json.loads(out) if out else {"capture": {"counters": {}}, "flows": []}
    c = doc["capture"]["counters"]
    ok(rc == 0 and c.get("flows_evicted") == N - CAP and c.get("connections") == N and len(doc["flows"]) == N
       and all(f["tcp"] == "unanswered" for f in doc["flows"]),
       f"flood of {N} SYNs with --max-flows {CAP} (--threads {threads}): {N - CAP} evictions counted, every SYN reported",
       f"rc={rc} evicted={c.get('flows_evicted')} connections={c.get('connections')} {err[-300:]}")
shutil.rmtree(os.path.dirname(path), ignore_errors=True)   # the file and its directory
done()

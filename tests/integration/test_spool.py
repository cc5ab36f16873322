"""test_spool.py - a one-shot run's records kept on disk (issue 18, item 1:
spool.c): the report is the same whether the records stay in memory or go
to the temporary file, and memory stops growing with connections.

The truth for the first checks is the same run with every record held in
memory (`--records-memory 1G`), the path the rest of the suite checks
against tshark and the lab's logs:
- every lab and corpus capture, text, JSON, CSV and NDJSON, spooled from
  the first record (`--records-memory 0`): byte for byte the same;
- a capture built here of N connections from 40 clients (telnet with a
  NEW-ENVIRON USER, TLS hellos on 992, port-mapper lookups answered with a
  port and followed by a connection to it, so the links cross the spool's
  runs): with `--records-memory 0` (hundreds of runs, merged 64 at a time
  before reading), `--records-memory 1M` and `--threads 2`, every format
  (HTML too) the same as in memory; the JSON's flow count, links and users
  are the ones written into the capture;
- the temporary file leaves no name in $TMPDIR; a $TMPDIR that cannot be
  written gives one warning line and the same report (records kept in
  memory); a spooled run says so on standard error (not with -q);
- peak memory (wait4's rusage): spooled in 64 KiB runs, twice the connections from the
  same clients cost under 60 bytes more a connection; held in memory,
  over 400 (so the check can fail).
"""
import atexit
import os
import shutil
import subprocess
import tempfile
import json
import glob

from tap import ok, skip, run, done, sanitizer_report, TLSREADY, PCAPS, CORPUS
from spoolcap import build, peak_rss

tmp = tempfile.mkdtemp(prefix="tlsready-spool-")
atexit.register(shutil.rmtree, tmp, True)
ASAN = "asan" in TLSREADY
KEY = ["--redact-key", "00112233445566778899aabbccddeeff"]


def report(args, env=None):
    p = subprocess.run([TLSREADY] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


# ---- every lab and corpus capture: spooled from the first record, the same ----
captures = sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")))
if os.path.isdir(CORPUS):
    captures += sorted(f for f in glob.glob(os.path.join(CORPUS, "*", "*")) if f.endswith((".pcap", ".pcapng", ".cap")))
else:
    skip("the public corpus spooled", f"{CORPUS} is absent")
differ, runs, bad = [], 0, []
for cap in captures:
    for fmt in ("json",) if ASAN else ("text", "json", "csv", "ndjson"):   # the sanitizer pass: JSON, every field
        base = ["-q", "-r", cap, "--format", fmt] + KEY
        a = report(base + ["--records-memory", "1G"])
        b = report(base + ["--records-memory", "0"])
        runs += 1
        if sanitizer_report(a[2] + b[2]):
            bad.append(cap)
        if a[:2] != b[:2]:
            differ.append(f"{os.path.basename(cap)} {fmt}: exit {a[0]}/{b[0]}")
ok(runs > 0 and not differ and not bad,
   f"{len(captures)} lab and corpus captures x {runs // len(captures)} formats: spooled from the first record, byte for byte the same",
   "\n".join(differ + bad))

# ---- many connections: runs on disk, merged, links across them ----
N = 3000 if ASAN else 12000
cap = os.path.join(tmp, "many.pcap")
conns, links, users = build(cap, N)
base = ["-q", "-r", cap]
held = {}
for fmt in ("json", "text", "csv", "ndjson", "html"):
    held[fmt] = report(base + ["--format", fmt, "--records-memory", "1G"])
j = json.loads(held["json"][1])
flows = j["flows"]
linked = [f for f in flows if f.get("mapper") and f["mapper"].get("next_connection") is not None]
ok(len(flows) == conns and len(linked) == links
   and all(flows[f["mapper"]["next_connection"]]["via_mapper"] == i for i, f in enumerate(flows)
           if f.get("mapper") and f["mapper"].get("next_connection") is not None)
   and all(flows[f["mapper"]["next_connection"]]["server_port"] == 8476 for f in linked)
   and {f["user"] for f in flows if f["user"]} == users,
   f"in memory: {conns} connections, {links} lookups linked to their next connection, {len(users)} users",
   f"{len(flows)} flows, {len(linked)} linked")
for label, extra in (("--records-memory 0", ["--records-memory", "0"]), ("--records-memory 1M", ["--records-memory", "1M"]),
                     ("--records-memory 0 --threads 2", ["--records-memory", "0", "--threads", "2"])):
    diffs = []
    for fmt in ("json", "text", "csv", "ndjson", "html"):
        got = report(base + ["--format", fmt] + extra)
        if got[:2] != held[fmt][:2] or sanitizer_report(got[2]):
            diffs.append(f"{fmt}: exit {got[0]}, {len(got[1])} bytes against {len(held[fmt][1])}; {got[2][:300]}")
    ok(not diffs, f"{conns} connections, {label}: every format the same as in memory", "\n".join(diffs))

# ---- the file: no name left, an unwritable directory, a word on stderr ----
tdir = os.path.join(tmp, "spooldir")
os.mkdir(tdir)
env = dict(os.environ, TMPDIR=tdir)
out_path, err_path = os.path.join(tmp, "out.json"), os.path.join(tmp, "err.txt")
with open(out_path, "wb") as o, open(err_path, "wb") as e:
    p = subprocess.Popen([TLSREADY, "-r", cap, "--format", "json", "--records-memory", "0"], env=env, stdout=o,
                         stderr=e)
    names_during = set()
    while p.poll() is None:
        names_during |= set(os.listdir(tdir))
with open(out_path, "rb") as o, open(err_path, "rb") as e:
    out, err = o.read(), e.read().decode("utf-8", "replace")
ok(p.returncode == 0 and out == held["json"][1] and not names_during and not os.listdir(tdir),
   "the temporary file never has a name in $TMPDIR", f"{names_during} {os.listdir(tdir)} {err[:300]}")
ok("temporary file" in err and str(conns) in err.replace(",", ""),
   "a spooled run says so on standard error, with the records written", err)
rc, out, err = report(["-r", cap, "--format", "json", "--records-memory", "0"],
                      env=dict(os.environ, TMPDIR=os.path.join(tmp, "missing")))
warn = [line for line in err.splitlines() if "warning" in line]
ok(rc == 0 and out == held["json"][1] and len(warn) == 1 and os.path.join(tmp, "missing") in warn[0],
   "an unwritable $TMPDIR: one warning naming it, the same report (records kept in memory)", err)

# ---- memory: flat when spooled ----
if ASAN:
    skip("peak memory per connection, spooled and held", "a sanitizer build's memory is not the product's")
else:
    cap2 = os.path.join(tmp, "twice.pcap")
    conns2, _, _ = build(cap2, 2 * N)
    m = {}
    for label, extra in (("spooled", ["--records-memory", "64K"]), ("held", ["--records-memory", "1G"])):
        r1 = peak_rss(["-q", "-r", cap, "--format", "json"] + extra)
        r2 = peak_rss(["-q", "-r", cap2, "--format", "json"] + extra)
        m[label] = (r2[1] - r1[1]) / (conns2 - conns), r1, r2
        ok(r1[0] == 0 and r2[0] == 0, f"{label}: both runs end well", (r1[0], r2[0]))
    ok(m["spooled"][0] < 60 and m["held"][0] > 400,
       f"{conns2 - conns} more connections cost {m['spooled'][0]:.0f} bytes each spooled "
       f"(peak {m['spooled'][2][1] >> 20} MiB), {m['held'][0]:.0f} held in memory (peak {m['held'][2][1] >> 20} MiB)",
       {k: v[0] for k, v in m.items()})
done()

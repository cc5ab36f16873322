"""test_mutations.py - hostile captures: random byte mutations of the lab and
public captures (a fixed seed, so a failure reproduces) through every report
format, with and without the prefilter and threads.  Each run must end with
a report or a clear error (exit 0-3), and under the sanitizer build with no
AddressSanitizer or UBSan report.  MUTATION_RUNS sets the count (default 200);
a failing input is kept in /tmp for the bug report.
"""
import atexit
import glob
import os
import random
import shutil
import tempfile

from tap import ok, run, done, sanitizer_report, PCAPS, CORPUS

rng = random.Random(20261123)
files = sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")) + glob.glob(os.path.join(CORPUS, "*", "*.pcap*")))
files = [f for f in files if os.path.getsize(f) >= 64]
runs = int(os.environ.get("MUTATION_RUNS", "200"))
tmp = tempfile.mkdtemp(prefix="tlsready-mut-")
atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens
bad = []
for i in range(runs):
    src = rng.choice(files)
    data = bytearray(open(src, "rb").read())
    for _ in range(rng.randint(1, 40)):
        at = rng.randrange(24, len(data))
        r = rng.random()
        if r < 0.6:
            data[at] = rng.randrange(256)
        elif r < 0.8:
            data[at:at + 2] = b"\xff\xff"
        else:
            data[at] = rng.choice([0, 1, 0x7F, 0x80, 0xFE])
    path = os.path.join(tmp, f"mut-{i}.pcap")
    with open(path, "wb") as f:
        f.write(data)
    args = ["-q", "-r", path, "--format", rng.choice(["json", "text", "csv", "ndjson"]), "-o", os.devnull]
    if rng.random() < 0.5:
        args += ["--no-prefilter", "--server", "0.0.0.0/0", "--server", "::/0"]
    if rng.random() < 0.3:
        args += ["--threads", "2"]
    rc, out, err = run(args, timeout=120)
    if rc not in (0, 1, 2, 3) or sanitizer_report(err):
        keep = f"/tmp/tlsready-mutation-{i}.pcap"
        os.replace(path, keep)
        bad.append(f"{os.path.basename(src)} mutation {i} -> {keep}: exit {rc} {err[:400]}")
    else:
        os.unlink(path)
ok(not bad, f"{runs} mutated captures: every run ends with a report or a clear error, no sanitizer report",
   "\n".join(bad[:5]))
done()

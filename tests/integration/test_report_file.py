#!/usr/bin/env python3
"""test_report_file.py - the monitor's --report-file, rewritten as a whole while people read it
(issue 14): after every checkpoint, or the first checkpoint --report-interval after the last write,
on SIGUSR1 and at the stop; replaced by a rename (a reader sees the old report or the new one,
never half), created 0640 by the user the monitor runs as, never written through a symbolic link.

The monitor runs on one end of a veth pair in its own network namespace ("th-rf-<pid>", deleted at
exit), the demo capture replayed into the other end with tcpreplay.  Truth: the offline JSON report
of the same capture (its blocking clients), the kernel (inodes, modes, owners: os.stat), the clock
(the times between rewrites), Python's JSON parser.  Skips when not root, without `ip netns` or
tcpreplay.  About 25 s.
"""
import atexit
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from netlab import Netlab, stop
from tap import ok, skip, run, done, sanitizer_report, PCAPS, TLSREADY

demo = os.path.join(PCAPS, "demo.pcapng")
tmp = tempfile.mkdtemp(prefix="tlsready-rf-")
atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens
NAMES = ("rewritten at every checkpoint", "never half a report", "the report of the capture", "mode and owner",
         "written at the stop", "no temporary file left", "--report-interval", "JSON by its name",
         "a symbolic link refused once", "no sanitizer report", "usage errors")

rc, _, err = run(["--db", os.path.join(tmp, "x.db"), "-i", "lo", "--report-interval", "1h"])
rc2, _, err2 = run(["--db", os.path.join(tmp, "x.db"), "-i", "lo", "--report-file", "r.html", "--report-interval", "1x"])
ok(rc == 2 and "--report-interval needs --report-file" in err and rc2 == 2 and "not a duration" in err2,
   "usage errors: --report-interval without --report-file, or not a duration", (err, err2))

why = None
if os.geteuid() != 0:
    why = "not root (a network namespace and a capture need root)"
elif not Netlab.available():
    why = "`ip` or tcpreplay is not installed"
if why:
    for name in NAMES[:-1]:
        skip(name, why)
    done()
    raise SystemExit(0)

lab = Netlab("th-rf")
USER = "tlsready" if any(p.pw_name == "tlsready" for p in pwd.getpwall()) else "nobody"
pw = pwd.getpwnam(USER)
os.chmod(tmp, 0o755)
os.chown(tmp, pw.pw_uid, pw.pw_gid)   # the monitor writes here as that user, after dropping root


def monitor(db, *extra):
    log = open(os.path.join(tmp, f"mon-{len(lab.procs)}.err"), "w+")
    p = lab.spawn([TLSREADY, "-i", lab.vb, "--db", db, "--interval", "1", "-q"] + list(extra),
                  stdout=subprocess.DEVNULL, stderr=log)
    p.log = log
    for _ in range(200):
        log.seek(0)
        if "monitoring" in log.read() or p.poll() is not None:
            break
        time.sleep(0.05)
    return p


def replay(path):
    lab.spawn(["tcpreplay", "-q", "-i", lab.va, "--topspeed", path], stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL).wait(timeout=60)


def err_of(p):
    p.log.seek(0)
    return p.log.read()


class Watch(threading.Thread):
    """Read the report file every 20 ms: each file seen (inode and change time: when first seen, the text),
    every read whole?"""

    def __init__(self, path, end_mark):
        super().__init__(daemon=True)
        self.path, self.end_mark, self.halt = path, end_mark, False
        self.seen, self.reads, self.partial = {}, 0, []

    def run(self):
        for _ in range(3000):   # 60 s at most
            if self.halt:
                break
            try:
                with open(self.path, "rb") as f:
                    st = os.fstat(f.fileno())
                    ino = (st.st_ino, st.st_ctime_ns)   # an inode number freed by the rename comes back
                    data = f.read()
                self.reads += 1
                if not data.rstrip().endswith(self.end_mark):
                    self.partial.append(data[-80:])
                if ino not in self.seen:
                    self.seen[ino] = (time.monotonic(), data)
            except FileNotFoundError:
                pass
            time.sleep(0.02)


offline = json.loads(run(["-q", "-r", demo, "--format", "json"])[1])
blocking = [c["ip"] for c in offline["plan"]["blocking_clients"]]

# ---- every checkpoint ----
db = os.path.join(tmp, "state.db")
rf = os.path.join(tmp, "report.html")
m = monitor(db, "--report-file", rf)
w = Watch(rf, b"</html>")
w.start()
replay(demo)
for _ in range(150):   # four files after the replay (15 s at most: checkpoints come late on a busy machine)
    if len(w.seen) >= 5:
        break
    time.sleep(0.1)
t_stop = time.monotonic()
rc = stop(m)
time.sleep(0.2)
w.halt = True
w.join()
writes = sorted(t for t, _ in w.seen.values())
gaps = [b - a for a, b in zip(writes, writes[1:])]
ok(rc == 0 and len(writes) >= 5, f"rewritten at every checkpoint (--interval 1): {len(writes)} files in"
   f" {writes[-1] - writes[0] if writes else 0:.1f} s, no SIGUSR1", f"rc={rc} {err_of(m)}")
ok(w.reads > 50 and not w.partial, f"never half a report: {w.reads} reads while it was rewritten, every one a"
   " whole document (a new file renamed over the old one)", w.partial[:3])
last = open(rf, encoding="utf-8").read()
ok(last.startswith("<!DOCTYPE html>") and all(ip in last for ip in blocking) and
   f"Blocked by {len(blocking)} clients" in last,
   "the report of the capture: the verdict and every blocking client of the offline JSON report", blocking)
st = os.stat(rf)
ok(st.st_mode & 0o777 == 0o640 and st.st_uid == pw.pw_uid and st.st_nlink == 1,
   f"mode 0640, owned by {USER} (the user the monitor runs as)", oct(st.st_mode))
ok(writes and writes[-1] >= t_stop, "written at the stop (the report of everything stored)", (writes[-3:], t_stop))
left = [n for n in os.listdir(tmp) if n.startswith(".report.html.")]
ok(not left, "no temporary file left beside it", left)

# ---- --report-interval, and JSON by the name ----
db2 = os.path.join(tmp, "state2.db")
rj = os.path.join(tmp, "report.json")
m = monitor(db2, "--report-file", rj, "--report-interval", "3s")
w = Watch(rj, b"}")
w.start()
t0 = time.monotonic()
replay(demo)
time.sleep(7)
rc = stop(m)
elapsed = time.monotonic() - t0
time.sleep(0.2)
w.halt = True
w.join()
writes = sorted(t for t, _ in w.seen.values())
gaps = [round(b - a, 2) for a, b in zip(writes, writes[1:])]
# the last file is the one written at the stop, whenever it comes
ok(rc == 0 and 2 <= len(writes) <= elapsed / 3 + 2 and all(g >= 2.8 for g in gaps[:-1]),
   f"--report-interval 3s with --interval 1: {len(writes)} files, {gaps} s apart (the last at the stop)",
   err_of(m))
try:
    doc = json.loads(open(rj, encoding="utf-8").read())
except ValueError as e:
    doc = {"error": str(e)}
ok(not w.partial and sorted(c["ip"] for c in doc.get("plan", {}).get("blocking_clients", [])) == sorted(blocking),
   "a --report-file ending in .json is the JSON report, with the same blocking clients", str(doc)[:300])

# ---- a symbolic link planted at the path ----
target = os.path.join(tmp, "target.txt")
with open(target, "w") as f:
    f.write("not a report\n")
os.chown(target, pw.pw_uid, pw.pw_gid)
os.unlink(rf)
os.symlink(target, rf)
m = monitor(db, "--report-file", rf)
time.sleep(3.5)
os.kill(m.pid, signal.SIGUSR1)
for _ in range(40):
    if "SIGUSR1" in err_of(m):
        break
    time.sleep(0.1)
rc = stop(m)
e = err_of(m)
lines = [l for l in e.splitlines() if "symbolic link" in l]
ok(rc == 0 and os.path.islink(rf) and open(target).read() == "not a report\n" and
   sum("checkpoint:" in l for l in lines) == 1 and any("SIGUSR1:" in l for l in lines) and
   any("stop:" in l for l in lines),
   "a symbolic link at --report-file: refused, said once for the checkpoints, again on SIGUSR1 and at the stop;"
   " the link and its target untouched", e)
logs = [err_of(p) for p in lab.procs if hasattr(p, "log")]
ok(not any(sanitizer_report(l) for l in logs), "no sanitizer report from the monitors",
   next((l[-2000:] for l in logs if sanitizer_report(l)), ""))
done()
shutil.rmtree(tmp, ignore_errors=True)

"""test_hostile_files.py - the files tlsready writes, when the directory they live in belongs to someone
else: the monitor starts as root and its state directory belongs to the user it drops to, who can plant
symbolic links and hard links there.

For every path tlsready writes (--events, --db and its -wal, -shm and .lock, -o, --report-file) a link
is planted pointing at a root-only 0600 file (or at a missing one in a root-only directory); the truth is
the target's stat and bytes taken here before and after: not appended to, not truncated, not created,
not chowned; tlsready says one line and exits 4.  The modes of the files it creates are read with
os.stat: the state, -wal, -shm and lock 0600, the events file and reports 0640.

The monitor captures on the loopback of a network namespace made here ("tr-hf-<pid>", no traffic sent),
deleted on exit; every process has a timeout and is ended by its PID.  Skips when not root or without
`ip netns`.
"""
import atexit
import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from netlab import stop
from tap import ok, skip, run, done, PCAPS, TLSREADY

tmp = tempfile.mkdtemp(prefix="tlsready-hf-")
NS = f"tr-hf-{os.getpid() % 100000}"
procs = []
ns_made = False


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    if ns_made:
        subprocess.run(["ip", "netns", "delete", NS], stderr=subprocess.DEVNULL, timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
signal.signal(signal.SIGINT, lambda *a: sys.exit(1))
os.umask(0o022)

# ---- -o needs no root: a link and a hard link are refused, a new report is 0640 ----
DEMO = os.path.join(PCAPS, "demo.pcapng")
victim = os.path.join(tmp, "victim.txt")
with open(victim, "w") as f:
    f.write("keep me\n")
os.chmod(victim, 0o600)
link = os.path.join(tmp, "report-link.txt")
os.symlink(victim, link)
rc, out, err = run(["-r", DEMO, "-q", "-o", link])
ok(rc == 4 and open(victim).read() == "keep me\n" and "symbolic link" in err and len(err.strip().splitlines()) == 1,
   "-o onto a symbolic link: refused with exit 4 and one line; the target is untouched", f"rc={rc} {err}")
dangling = os.path.join(tmp, "dangling-report")
os.symlink(os.path.join(tmp, "created-through-link"), dangling)
rc, out, err = run(["-r", DEMO, "-q", "-o", dangling])
ok(rc == 4 and not os.path.exists(os.path.join(tmp, "created-through-link")),
   "-o onto a dangling symbolic link: exit 4, nothing created where it points", f"rc={rc} {err}")
hard = os.path.join(tmp, "hard-link.txt")
os.link(victim, hard)
rc, out, err = run(["-r", DEMO, "-q", "-o", hard])
ok(rc == 4 and open(victim).read() == "keep me\n" and "hard link" in err,
   "-o onto a file with two hard links: refused with exit 4; the file is untouched", f"rc={rc} {err}")
os.unlink(hard)
new = os.path.join(tmp, "new-report.txt")
rc, out, err = run(["-r", DEMO, "-q", "-o", new])
mode = stat.S_IMODE(os.stat(new).st_mode) if os.path.exists(new) else None
ok(rc == 0 and mode == 0o640 and "Clients" in open(new).read(),
   "-o creates a new report 0640 (it names users), umask 022", f"rc={rc} mode={mode and oct(mode)} {err}")
with open(new, "w") as f:
    f.write("x" * 100000)
rc, out, err = run(["-r", DEMO, "-q", "-o", new])
ok(rc == 0 and "x" not in open(new).read()[:10] and os.path.getsize(new) < 100000,
   "-o onto an existing plain file still replaces its content", f"rc={rc} {err}")
rc, out, err = run(["-r", DEMO, "-q", "-o", "/dev/null"])
ok(rc == 0, "-o /dev/null still works (a character device)", f"rc={rc} {err}")

why = None
if os.geteuid() != 0:
    why = "not root (the monitor, the privilege drop and chown need root)"
elif not shutil.which("ip") or subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10).returncode:
    why = "`ip netns` is unavailable"
if not why:
    r = subprocess.run(["ip", "netns", "add", NS], capture_output=True, timeout=10)
    ns_made = r.returncode == 0
    if ns_made:
        r = subprocess.run(["ip", "-n", NS, "link", "set", "lo", "up"], capture_output=True, timeout=10)
    if r.returncode:
        why = "cannot make a network namespace: " + r.stderr.decode().strip()
if why:
    for name in ("--events link", "--db link", "-wal link", "-shm link", ".lock link", "--report-file link",
                 "modes of the state files"):
        skip(name, why)
    done()

USER = "tlsready" if any(p.pw_name == "tlsready" for p in pwd.getpwall()) else "nobody"
pw = pwd.getpwnam(USER)
os.chmod(tmp, 0o755)
state = os.path.join(tmp, "state")          # the drop user's directory, as the README asks
os.mkdir(state)
os.chown(state, pw.pw_uid, pw.pw_gid)
secret = os.path.join(tmp, "secret")        # root's: what a planted link points at
os.mkdir(secret, 0o700)
n_target = 0


def target(content=b"root only\n"):
    global n_target
    n_target += 1
    p = os.path.join(secret, f"target-{n_target}")
    with open(p, "wb") as f:
        f.write(content)
    os.chmod(p, 0o600)
    return p


def snap(p):
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return None
    with open(p, "rb") as f:
        return (st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode)), st.st_size, st.st_mtime_ns, st.st_ino,
                hashlib.sha256(f.read()).hexdigest()[:16])


def plant(path, to):
    """The drop user plants a link (lchown: it is theirs)."""
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(to, path)
    os.lchown(path, pw.pw_uid, pw.pw_gid)


def monitor(db, *extra, wait_start=True):
    log = open(os.path.join(tmp, f"mon-{len(procs)}.err"), "w+")
    p = subprocess.Popen(["ip", "netns", "exec", NS, TLSREADY, "-i", "lo", "--db", db, "--interval", "1", "-q"]
                         + list(extra), stdout=subprocess.DEVNULL, stderr=log)
    procs.append(p)
    p.log = log
    for _ in range(200):
        log.seek(0)
        if (wait_start and "monitoring" in log.read()) or p.poll() is not None:
            break
        time.sleep(0.05)
    return p


def err_of(p):
    p.log.seek(0)
    return p.log.read()


def refused(db, *extra):
    """A monitor that must refuse to start: (exit code, stderr)."""
    p = monitor(db, *extra, wait_start=False)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        rc = stop(p)
        rc = f"still running, then {rc}"
    return rc, err_of(p)


def check_refusal(name, rc, err, before, after, extra_ok=True):
    ok(rc == 4 and before == after and extra_ok and len(err.strip().splitlines()) == 1 and "symbolic link" in err,
       f"{name}: exit 4, one line; the target is not written, created or chowned",
       f"rc={rc} err={err!r}\nbefore={before}\nafter={after}")


# --events: an existing root-only file, and a missing one
t = target()
ev = os.path.join(state, "events.ndjson")
plant(ev, t)
b = snap(t)
rc, err = refused(os.path.join(state, "a.db"), "--events", ev)
check_refusal("--events onto a symbolic link to a root-only file", rc, err, b, snap(t))
missing = os.path.join(secret, "events-created")
plant(ev, missing)
rc, err = refused(os.path.join(state, "a.db"), "--events", ev)
check_refusal("--events onto a dangling symbolic link", rc, err, None, snap(missing))
os.unlink(ev)

# --db: an empty root-only file (SQLite would take it for a new database), and a missing one
t = target(b"")
db = os.path.join(state, "b.db")
plant(db, t)
b = snap(t)
rc, err = refused(db)
check_refusal("--db onto a symbolic link to an empty root-only file", rc, err, b, snap(t),
              not os.path.exists(t + "-wal"))
missing = os.path.join(secret, "db-created")
plant(db, missing)
rc, err = refused(db)
check_refusal("--db onto a dangling symbolic link", rc, err, None, snap(missing))
os.unlink(db)

# a state made by a clean run, then links planted at its -wal, -shm and .lock
db = os.path.join(state, "c.db")
events = os.path.join(state, "c.ndjson")
m = monitor(db, "--events", events)
running = m.poll() is None
modes = {}
for suffix in ("", "-wal", "-shm", ".lock"):
    try:
        st = os.stat(db + suffix)
        modes[suffix] = (oct(stat.S_IMODE(st.st_mode)), st.st_uid)
    except OSError as e:
        modes[suffix] = str(e)
try:
    st = os.stat(events)
    modes["events"] = (oct(stat.S_IMODE(st.st_mode)), st.st_uid)
except OSError as e:
    modes["events"] = str(e)
want = {s: ("0o600", pw.pw_uid) for s in ("", "-wal", "-shm", ".lock")}
want["events"] = ("0o640", pw.pw_uid)
ok(running and modes == want,
   f"a new state, its -wal, -shm and lock are created 0600, the events file 0640, all given to {USER}",
   f"{modes}\n{err_of(m)}")
second = monitor(db)
try:
    rc2 = second.wait(timeout=15)
except subprocess.TimeoutExpired:
    rc2 = f"still running, then {stop(second)}"
e2 = err_of(second)
ok(rc2 == 5 and "in use by another tlsready monitor" in e2 and str(m.pid) in e2 and len(e2.strip().splitlines()) == 1
   and m.poll() is None, "a second monitor on the same state: exit 5, one line naming the first's pid; the first runs on",
   f"rc={rc2} {e2!r}")
rc = stop(m)
ok(rc == 0, "the first monitor stops cleanly", f"rc={rc} {err_of(m)}")
for suffix in ("-wal", "-shm", ".lock"):
    t = target()
    plant(db + suffix, t)
    b = snap(t)
    rc, err = refused(db)
    check_refusal(f"--db whose {suffix} is a symbolic link to a root-only file", rc, err, b, snap(t))
    os.unlink(db + suffix)
    missing = os.path.join(secret, f"created{suffix}")
    plant(db + suffix, missing)
    rc, err = refused(db)
    check_refusal(f"--db whose {suffix} is a dangling symbolic link", rc, err, None, snap(missing))
    os.unlink(db + suffix)

# -o of the stored report
t = target()
out = os.path.join(state, "report.txt")
plant(out, t)
b = snap(t)
rc, o, err = run(["--db", db, "-o", out])
check_refusal("-o of the stored report onto a symbolic link", rc, err, b, snap(t))
os.unlink(out)

# --report-file, with a monitor that keeps root (-Z root): SIGUSR1 must not write through the link
t = target()
rf = os.path.join(state, "usr1.txt")
plant(rf, t)
b = snap(t)
m = monitor(db, "-Z", "root", "--report-file", rf)
if m.poll() is None:
    os.kill(m.pid, signal.SIGUSR1)
end = time.monotonic() + 8
while time.monotonic() < end and "SIGUSR1" not in err_of(m) and m.poll() is None:
    time.sleep(0.1)
alive = m.poll() is None
rc = stop(m)
e = err_of(m)
ok(alive and rc == 0 and b == snap(t) and "SIGUSR1" in e and "symbolic link" in e,
   "--report-file a symbolic link (monitor kept as root): SIGUSR1 says so in one line, the target is untouched,"
   " the monitor runs on", f"rc={rc} {e!r}\nbefore={b}\nafter={snap(t)}")
done()

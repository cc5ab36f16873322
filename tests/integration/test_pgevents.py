"""test_pgevents.py - a monitor's events findings and periodic --report-file on the shared PostgreSQL store.

A throw-away PostgreSQL 15 (pgserver.py) takes two live sensors, each `tlsready -i` in a network
namespace of its own ("tq-<pid>a", "tq-<pid>b"), and a SQLite monitor in a third ("tq-<pid>c") gets the
same packets in the same order, as the reference:
1. legacy.pcapng into sensor A (and the SQLite monitor);
2. legacy.pcapng again into sensor B (and the SQLite monitor): its nonsecure clients were first seen by A,
   so they are not new for the IBM i: B says nothing of them;
3. mixed.pcapng into B (and the SQLite monitor): its nonsecure client is new: exactly one finding;
4. failures.pcapng into A and B at the same time (two span ports on one path) and into the SQLite
   monitor: its clients nobody saw before are new once in all, not once per sensor.
The nonsecure clients of each capture come from the one-shot reports of the captures (`-r`), not from a
monitor.  The findings of A and B together equal the SQLite monitor's (kind, client, server, port, detail;
times aside, and for a new client the use it names: see key()), and no checkpoint's findings were skipped (the counter).  Sensor B also writes
--report-file every second: the file appears during the run and is rewritten with what B saw
later (mixed.pcapng's client) before B stops.
Takes about 27 s (2 cores under load, 2026-12-02).  Skips with the reason when PostgreSQL 15 is not installed, or when
not root or without `ip netns`/tcpreplay.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pgserver
from netlab import wait_monitoring
from tap import ok, skip, done, sanitizer_report, PCAPS, TLSREADY

T0 = time.monotonic()
tmp = tempfile.mkdtemp(prefix="tlsready-pgevents-")
os.chmod(tmp, 0o755)
shutil.chown(tmp, "nobody")
TAG = os.getpid() % 100000
procs, namespaces = [], []
srv = None
CHECKS = ("A's findings", "B's findings", "both at once", "the SQLite monitor's findings",
          "A and B together equal SQLite", "report file during the run")


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
    for ns in namespaces:
        subprocess.run(["ip", "netns", "delete", ns], stderr=subprocess.DEVNULL, timeout=10)
    if srv:
        srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def give_up(why):
    for name in CHECKS:
        skip(name, why)
    cleanup()
    done()


why = pgserver.available()
if not why and os.geteuid() != 0:
    why = "not root (a network namespace and a capture need root)"
if not why and (not shutil.which("tcpreplay") or not shutil.which("ip")):
    why = "tcpreplay or ip is missing"
if why:
    give_up(why)


def namespace(x):
    ns, va, vb = f"tq-{TAG}{x}", f"tq{TAG}{x}a", f"tq{TAG}{x}b"
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True, timeout=10)
    if r.returncode == 0:
        namespaces.append(ns)
    for cmd in (["link", "add", va, "type", "veth", "peer", "name", vb], ["link", "set", va, "up", "mtu", "9000"],
                ["link", "set", vb, "up", "mtu", "9000"]):
        if r.returncode == 0:
            r = subprocess.run(["ip", "-n", ns] + cmd, capture_output=True, timeout=10)
    return (ns, va, vb) if r.returncode == 0 else r.stderr.decode().strip()


def monitor(where, db, name, *extra):
    ns, _, vb = where
    log = open(os.path.join(tmp, f"{name}.err"), "w+")
    p = subprocess.Popen(["ip", "netns", "exec", ns, TLSREADY, "-i", vb, "--db", db, "--interval", "1", "-q",
                          "-Z", "nobody", "--events", os.path.join(tmp, f"{name}.ndjson")] + list(extra),
                         stdout=subprocess.DEVNULL, stderr=log)
    procs.append(p)
    p.log = log
    return wait_monitoring(p, log)


def log_of(p):
    p.log.seek(0)
    return p.log.read()


def replay(where, name):
    ns, va, _ = where
    r = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", va, "--topspeed",
                        os.path.join(PCAPS, name)], capture_output=True, timeout=30)
    return r.returncode == 0


def findings(name):
    path = os.path.join(tmp, f"{name}.ndjson")
    if not os.path.exists(path):
        return []
    with open(path) as f:   # a last line without its newline is still being written: not read yet
        lines = [json.loads(x) for x in f if x.strip() and x.endswith("\n")]
    return [x for x in lines if x["type"] == "finding"]


def new_clients(name):
    return sorted(x["client"] for x in findings(name) if x["finding"] == "new-nonsecure-client")


def key(x):
    """A finding without what depends on where a checkpoint cut the replay: its times (each monitor stamps
    its own), and for a new client the use it names (the first nonsecure use of the checkpoint that saw
    the client first)."""
    if x["finding"] == "new-nonsecure-client":
        return (x["finding"], x["client"], "", 0, "")
    return (x["finding"], x["client"] or "", x["server"] or "", x["port"] or 0, x["detail"] or "")


def wait_for(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def nonsecure_of(capture):
    p = subprocess.run([TLSREADY, "-r", os.path.join(PCAPS, capture), "--format", "json", "-q"],
                       capture_output=True, timeout=60)
    return sorted(c["ip"] for c in json.loads(p.stdout)["clients"] if c["status"] == "nonsecure")


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(timeout=10)


try:
    legacy, mixed, fails = nonsecure_of("legacy.pcapng"), nonsecure_of("mixed.pcapng"), nonsecure_of("failures.pcapng")
    fresh = sorted(set(mixed) - set(legacy))
    fresh2 = sorted(set(fails) - set(legacy) - set(mixed))
    srv = pgserver.Server()
    srv.init()
    srv.start()
    rc, _, err = srv.psql("CREATE DATABASE tlsready", "postgres")
    if rc:
        give_up("cannot create the database: " + err)
    DB = srv.conninfo()
    where = {}
    for x in "abc":
        w = namespace(x)
        if isinstance(w, str):
            give_up("cannot make a veth pair in a namespace: " + w)
        where[x] = w
    qdir = os.path.join(tmp, "q")
    os.mkdir(qdir)
    shutil.chown(qdir, "nobody")
    report = os.path.join(tmp, "b-report.json")
    a = monitor(where["a"], DB, "a", "--sensor", "ev-a", "--queue", os.path.join(qdir, "a.queue"))
    b = monitor(where["b"], DB, "b", "--sensor", "ev-b", "--queue", os.path.join(qdir, "b.queue"),
                "--report-file", report, "--report-interval", "1s")
    c = monitor(where["c"], os.path.join(tmp, "c.db"), "c")
    started = all(p.poll() is None for p in (a, b, c))
    if not started:
        give_up("a monitor did not start: " + " | ".join(log_of(p)[-300:] for p in (a, b, c)))

    # 1. legacy.pcapng into A
    replay(where["a"], "legacy.pcapng")
    replay(where["c"], "legacy.pcapng")
    wait_for(lambda: new_clients("a") == legacy and new_clients("c") == legacy)
    seen_a = wait_for(lambda: os.path.exists(report) and
                      all(ip in open(report).read() for ip in legacy) and os.stat(report).st_mtime_ns)
    time.sleep(1.5)   # A's next checkpoints: the open snapshot is stored too
    a_after_legacy = new_clients("a")
    # 2. the same clients again, now seen by B
    replay(where["b"], "legacy.pcapng")
    replay(where["c"], "legacy.pcapng")
    time.sleep(3.5)   # B's checkpoints of them applied (their findings would be out by now)
    b_after_legacy = new_clients("b")
    # 3. a client nobody saw before, seen by B
    replay(where["b"], "mixed.pcapng")
    replay(where["c"], "mixed.pcapng")
    wait_for(lambda: new_clients("b") == fresh and new_clients("c") == sorted(legacy + fresh))
    # the report file is rewritten during the run with what B saw since
    rewritten = wait_for(lambda: os.path.exists(report) and all(ip in open(report).read() for ip in fresh))
    report_during = b.poll() is None and rewritten
    mtime_during = os.stat(report).st_mtime_ns if os.path.exists(report) else 0
    b_after_mixed = new_clients("b")
    # 4. new clients seen by both sensors at once
    both_at_once = [subprocess.Popen(["ip", "netns", "exec", where[x][0], "tcpreplay", "-q", "-i", where[x][1],
                                      "--topspeed", os.path.join(PCAPS, "failures.pcapng")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for x in "ab"]
    procs.extend(both_at_once)
    replay(where["c"], "failures.pcapng")
    for p in both_at_once:
        p.wait(timeout=30)
    wait_for(lambda: sorted(new_clients("a") + new_clients("b")) == sorted(legacy + fresh + fresh2) and
             new_clients("c") == sorted(legacy + fresh + fresh2))
    time.sleep(2.5)   # a second finding (the other sensor's) would be out by now
    codes = [stop(p) for p in (a, b, c)]
    logs = [log_of(p) for p in (a, b, c)]

    ok(legacy and a_after_legacy == legacy,
       f"sensor A: one new-nonsecure-client finding per nonsecure client of legacy.pcapng {legacy}",
       (a_after_legacy, legacy, logs[0][-500:]))
    ok(fresh and b_after_legacy == [] and b_after_mixed == fresh,
       f"sensor B: nothing for the clients A saw first; exactly one finding for the new client {fresh}",
       (b_after_legacy, b_after_mixed, fresh, logs[1][-500:]))
    later = sorted(set(new_clients("a") + new_clients("b")) - set(legacy) - set(fresh))
    ok(fresh2 and later == fresh2 and sorted(new_clients("a") + new_clients("b")) == sorted(legacy + fresh + fresh2),
       f"failures.pcapng seen by A and B at once: its new clients {fresh2} are new once in all",
       (new_clients("a"), new_clients("b"), fresh2))
    ok(new_clients("c") == sorted(legacy + fresh + fresh2),
       "the SQLite monitor on the same packets: the same new clients", (new_clients("c"), logs[2][-500:]))
    both = sorted(key(x) for x in findings("a") + findings("b"))
    ref = sorted(key(x) for x in findings("c"))
    ok(both == ref and len(ref) >= len(legacy) + len(fresh),
       f"A's and B's findings together equal the SQLite monitor's ({len(ref)}: every kind, client, server, port)",
       (sorted(set(both) ^ set(ref)))[:20])
    p = subprocess.run([TLSREADY, "--db", DB, "--format", "json", "-q"], capture_output=True, timeout=60)
    counters = json.loads(p.stdout)["capture"]["counters"] if p.returncode in (0, 3) else {}
    ok(counters.get("store_findings_skipped") == 0 and codes == [0, 0, 0] and
       not any(sanitizer_report(x) or "warning" in x for x in logs),
       "no checkpoint's findings skipped (the counter is 0), the monitors stop cleanly",
       (counters.get("store_findings_skipped"), codes, [x[-300:] for x in logs]))
    ok(seen_a and report_during and mtime_during > seen_a,
       "sensor B's --report-file appears during the run (the merged inventory: A's clients) and is rewritten"
       " with what B saw later, while B runs", (seen_a, report_during, mtime_during))
    ok(True, f"took {time.monotonic() - T0:.1f} s")
finally:
    cleanup()
done()

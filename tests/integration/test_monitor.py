"""test_monitor.py - continuous monitoring for real: a veth pair in a network
namespace, captures replayed into one end with tcpreplay, `tlsready -i` on
the other end keeping its state in SQLite.

Expectations come from elsewhere than the monitor: the inventory it stores
must equal the offline analysis (`tlsready -r FILE --format json`) of the
same captures, summed over the files; the privilege drop is read from
/proc/PID/status; the moved-port capture is built byte by byte here; a
burst of connections in one interval (spoolcap.py writes its truth: users,
port-mapper links) spooled past --records-memory gives the same state and
events as held, in less memory; a SYN flood (pcapgen.syn_flood) past
--max-attempts is folded, its SYNs accounted for per port; a PostgreSQL
sensor (pgserver.py) under a burst stores every connection, its memory
growing far less than its checkpoint's batch.

Everything created is named "tr-mon-<pid>" / "tr-m<pid>a|b", uses
documentation addresses, and is deleted on exit (also on a signal); every
process is started with a timeout and killed by its PID.  Skips (TAP
"# SKIP", with the reason) when not root, or without `ip netns` or tcpreplay.
"""
import atexit
import calendar
import json
import os
import pwd
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

import pgserver
from netlab import stop, wait_monitoring
from pcapgen import syn_flood
from spoolcap import build
from tap import ok, skip, run, done, sanitizer_report, CORPUS, PCAPS, TLSREADY, without_keys

T0 = time.monotonic()
ASAN = "asan" in TLSREADY
tmp = tempfile.mkdtemp(prefix="tlsready-mon-")
NS = f"tr-mon-{os.getpid() % 100000}"
VA, VB = f"tr-m{os.getpid() % 100000}a", f"tr-m{os.getpid() % 100000}b"
procs = []          # every monitor started: killed by PID at exit
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


def report(db, *args):
    rc, out, err = run(["--db", db, "--format", "json"] + list(args), timeout=30)
    return rc, (json.loads(out) if rc in (0, 3) and out else None), err


# ---- without root: the state file must be ours and sound ----
notes = os.path.join(tmp, "notes.txt")
with open(notes, "w") as f:
    f.write("not a database\n" * 100)
rc, out, err = run(["--db", notes])
ok(rc == 2 and "notes.txt" in err and "not a tlsready state file" in err and len(err.strip().splitlines()) == 1,
   "--db on a text file: exit 2, one line naming it", f"rc={rc} {err}")
rc, out, err = run(["--db", os.path.join(tmp, "missing.db")])
ok(rc == 2 and "missing.db" in err and len(err.strip().splitlines()) == 1, "--db on a missing file: exit 2", err)
foreign = os.path.join(tmp, "foreign.db")
subprocess.run(["sqlite3", foreign, "CREATE TABLE t(x); INSERT INTO t VALUES(1);"], check=True, timeout=10)
rc, out, err = run(["--db", foreign])
ok(rc == 2 and "foreign.db" in err and "another application" in err, "--db on another program's SQLite file: exit 2",
   err)
for args, name in ((["--db", foreign, "-r", notes], "--db with -r"), (["--db", foreign, "--since", "7x"], "bad duration"),
                   (["-i", "lo", "-Z", "nobody"], "-Z without --db"), (["--db", foreign, "--format", "ndjson"], "ndjson")):
    rc, out, err = run(args)
    ok(rc == 2 and err.strip(), f"usage error exits 2: {name}", f"rc={rc} {err}")

rc, out, err = run(["-i", "tr-none0", "--db", os.path.join(tmp, "x.db"), "-Z", "tr-no-such-user"])
ok(rc == 2 and "tr-no-such-user" in err and len(err.strip().splitlines()) == 1 and not os.path.exists(os.path.join(tmp, "x.db")),
   "-Z with an unknown user: exit 2 before anything is opened", f"rc={rc} {err}")

why = None
if os.geteuid() != 0:
    why = "not root (a network namespace and a capture need root)"
elif not shutil.which("ip") or subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10).returncode:
    why = "`ip netns` is unavailable"
elif not shutil.which("tcpreplay"):
    why = "tcpreplay is not installed"
if not why:
    r = subprocess.run(["ip", "netns", "add", NS], capture_output=True, timeout=10)
    ns_made = r.returncode == 0
    if ns_made:
        for cmd in (["link", "add", VA, "type", "veth", "peer", "name", VB], ["link", "set", VA, "up", "mtu", "9000"],
                    ["link", "set", VB, "up", "mtu", "9000"]):
            r = subprocess.run(["ip", "-n", NS] + cmd, capture_output=True, timeout=10)
            if r.returncode:
                break
    if r.returncode:
        why = "cannot make a veth pair in a namespace: " + r.stderr.decode().strip()
if why:
    for name in ("live inventory equals the offline analysis", "privilege drop", "SIGUSR1 report", "SIGHUP",
                 "restart and kill -9", "capture drops are reported", "backlog at stop", "retention", "-Z root"):
        skip(name, why)
    done()

# The monitor drops to "tlsready" if that user exists, else "nobody": the state directory is theirs.
USER = "tlsready" if any(p.pw_name == "tlsready" for p in pwd.getpwall()) else "nobody"
pw = pwd.getpwnam(USER)
os.chmod(tmp, 0o755)
os.chown(tmp, pw.pw_uid, pw.pw_gid)


def monitor(db, *extra, interval="1"):
    """Start `tlsready -i VB --db db` in the namespace; wait for its start line."""
    log = open(os.path.join(tmp, f"mon-{len(procs)}.err"), "w+")
    p = subprocess.Popen(["ip", "netns", "exec", NS, TLSREADY, "-i", VB, "--db", db, "--interval", interval, "-q"]
                         + list(extra), stdout=subprocess.DEVNULL, stderr=log)
    procs.append(p)
    p.log = log
    return wait_monitoring(p, log)


def stderr_of(p):
    p.log.seek(0)
    return p.log.read()


def replay(path, *extra):
    r = subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", VA, "--topspeed"] + list(extra) + [path],
                       capture_output=True, timeout=30)
    return r.returncode == 0, r.stdout.decode() + r.stderr.decode()


def wait_for(pred, timeout=6.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def inventory(doc):
    """client -> (status, {(server, service, port): connections} of nonsecure use)."""
    return {c["ip"]: (c["status"], {(u["server"], u["service"], u["port"]): u["connections"] for u in c["nonsecure"]})
            for c in doc["clients"]}


def merge(a, b):
    rank = {"unknown": 0, "attempt-only": 0.5, "secure": 1, "nonsecure": 2}
    out = dict(a)
    for ip, (st, use) in b.items():
        if ip in out:
            st0, use0 = out[ip]
            use = {k: use.get(k, 0) + use0.get(k, 0) for k in set(use) | set(use0)}
            st = st if rank[st] >= rank[st0] else st0
        out[ip] = (st, use)
    return out


# ---- 1. the live path: inventory equals the offline analysis of the same captures ----
TELNET = os.path.join(CORPUS, "ndpi-dev", "telnet.pcap")
files = [TELNET] + [os.path.join(PCAPS, n + ".pcapng") for n in
                    ("legacy", "mixed", "modern", "failures", "telnet", "ipv6", "midstream", "loopback", "longchain")]
files = [f for f in files if os.path.exists(f)]
expected, exp_flows, exp_packets = {}, 0, 0
exp_obsolete, exp_certs = set(), set()   # findings the events must carry, from the offline flows
for f in files:
    rc, out, err = run(["-r", f, "--format", "json", "-q"])
    d = json.loads(out)
    expected = merge(expected, inventory(d))
    exp_flows += len(d["flows"])
    exp_packets += d["capture"]["packets"] - d["capture"]["counters"]["filtered"]
    for fl in d["flows"]:
        t = fl["tls"] or {}
        if t.get("version") in ("SSLv3", "TLSv1.0", "TLSv1.1"):
            exp_obsolete.add((fl["client_ip"], fl["server_ip"], fl["server_port"], t["version"]))
        c = t.get("server_cert")
        if c and calendar.timegm(time.strptime(c["not_after"][:19], "%Y-%m-%dT%H:%M:%S")) < time.time() + 30 * 86400:
            exp_certs.add((fl["server_ip"], fl["server_port"]))

db = os.path.join(tmp, "state.db")
events = os.path.join(tmp, "events.ndjson")
usr1 = os.path.join(tmp, "usr1.txt")
services = os.path.join(tmp, "services")
with open(services, "w") as f:
    f.write("# nothing moved yet\n")
m = monitor(db, "--events", events, "--report-file", usr1, "--services", services)
ok(m.poll() is None and "monitoring" in stderr_of(m), "the monitor starts", stderr_of(m))

# a second monitor on the same state is refused (the lock), the first runs on; the checks of the stored
# inventory below (equal to the offline analysis, every flow stored once, one run) show it untouched
m2 = monitor(db, "--events", events + ".2")
try:
    rc2 = m2.wait(timeout=15)
except subprocess.TimeoutExpired:
    rc2 = f"still running, then {stop(m2)}"
e2 = stderr_of(m2)
ok(rc2 == 5 and "in use by another tlsready monitor" in e2 and len(e2.strip().splitlines()) == 1 and m.poll() is None,
   "a second monitor on the same --db: exit 5 and one line; the first keeps running", f"rc={rc2} {e2!r}")

# privilege drop: read from the kernel, not from tlsready
status = {}
try:
    with open(f"/proc/{m.pid}/status") as f:
        status = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
except OSError as e:
    status = {"error": str(e)}
uids = status.get("Uid", "0").split()
gids = status.get("Gid", "0").split()
ok(uids and all(int(u) == pw.pw_uid for u in uids) and all(int(g) != 0 for g in gids),
   f"privilege drop: every uid is {USER}'s, no gid 0", status)
ok(int(status.get("CapEff", "1"), 16) == 0 and int(status.get("CapPrm", "1"), 16) == 0
   and int(status.get("CapAmb", "0"), 16) == 0, "privilege drop: no capabilities left (CapEff, CapPrm, CapAmb)", status)
ok(status.get("NoNewPrivs", "0").strip() == "1", "privilege drop: no_new_privs is set", status)
try:
    st = os.stat(db)
    owned = st.st_uid == pw.pw_uid and os.stat(db + "-wal").st_uid == pw.pw_uid
except OSError:
    owned = False
ok(owned, f"the state file and its -wal belong to {USER}")

sent = all(replay(f)[0] for f in files)
ok(sent, f"tcpreplay sent {len(files)} captures")
# while it runs: a reader sees the state (WAL: the reader never blocks the monitor)
doc = wait_for(lambda: (lambda r: r[1] if r[1] and set(inventory(r[1])) == set(expected) else None)(report(db)))
ok(doc is not None, "the stored state is readable while the monitor runs, and has every client",
   report(db)[2] if doc is None else "")

# SIGUSR1: the report of the stored state, to --report-file (rewritten at every checkpoint too: the
# file of the checkpoint before the last clients were stored is removed first)
if os.path.exists(usr1):
    os.unlink(usr1)
os.kill(m.pid, signal.SIGUSR1)
txt = wait_for(lambda: open(usr1).read() if os.path.exists(usr1) and "Counters" in open(usr1).read() else None)
nonsec = [ip for ip, (st, _) in expected.items() if st == "nonsecure"]
ok(txt and "Clients still using nonsecure ports" in txt and all(ip in txt for ip in nonsec),
   "SIGUSR1 writes the report, with every nonsecure client", (txt or "")[:600])

# SIGHUP: --services read again (a moved as-signon), events file reopened after rotation
os.rename(events, events + ".1")
with open(services, "w") as f:
    f.write("as-signon 18476 nonsecure\n")
os.kill(m.pid, signal.SIGHUP)
ok(wait_for(lambda: os.path.exists(events)), "SIGHUP reopens the events file (a new one after rotation)",
   stderr_of(m))
ok(wait_for(lambda: "read again" in stderr_of(m)), "SIGHUP re-reads --services", stderr_of(m))


def pcap_file(path, packets):
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for ts, frame in packets:
        data += struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame
    with open(path, "wb") as f:
        f.write(data)
    return path


def frame(src, dst, sport, dport, flags, seq, ack, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


MOVED_CLIENT = "198.51.100.77"
moved = pcap_file(os.path.join(tmp, "moved.pcap"), [
    (1.0, frame(MOVED_CLIENT, "198.51.100.10", 40100, 18476, 0x02, 100, 0)),
    (1.001, frame("198.51.100.10", MOVED_CLIENT, 18476, 40100, 0x12, 900, 101)),
    (1.002, frame(MOVED_CLIENT, "198.51.100.10", 40100, 18476, 0x10, 101, 901)),
    (1.003, frame(MOVED_CLIENT, "198.51.100.10", 40100, 18476, 0x11, 101, 901)),
    (1.004, frame("198.51.100.10", MOVED_CLIENT, 18476, 40100, 0x11, 901, 102)),
    (1.005, frame(MOVED_CLIENT, "198.51.100.10", 40100, 18476, 0x10, 102, 902))])
replay(moved)
doc = wait_for(lambda: (lambda d: d if d and MOVED_CLIENT in inventory(d) else None)(report(db)[1]))
got = inventory(doc).get(MOVED_CLIENT) if doc else None
ok(got == ("nonsecure", {("198.51.100.10", "as-signon", 18476): 1}),
   "after SIGHUP the new catalogue (and its prefilter) applies: the moved port is a nonsecure client", got)

rc = stop(m)
ok(rc == 0, "SIGTERM stops the monitor with exit 0", f"rc={rc} {stderr_of(m)}")
ok(not sanitizer_report(stderr_of(m)), "no sanitizer report from the monitor", stderr_of(m)[-2000:])
rc, doc, err = report(db)
live = inventory(doc) if doc else {}
live.pop(MOVED_CLIENT, None)
ok(live == expected, "the stored inventory equals the offline analysis (statuses, nonsecure services, connections)",
   "\n".join(f"{ip}: live {live.get(ip)} offline {expected.get(ip)}" for ip in sorted(set(live) | set(expected))
             if live.get(ip) != expected.get(ip)))
# field by field: every shared object of the stored report against the offline report of the same files
# read as one timeline; only what depends on when the bytes went by differs (times, a certificate's days,
# the order of certificates by first sight)
TIMES = {"first_seen", "last_seen", "first_nonsecure", "last_nonsecure", "days_left"}


def timeless(x):
    return without_keys(x, TIMES)


offline = json.loads(run(["-q", "--format", "json"] + sum((["-r", f] for f in files), []))[1])
stored_clients = [c for c in doc["clients"] if c["ip"] != MOVED_CLIENT] if doc else []
diff = [(a["ip"], k, a[k], b.get(k)) for a, b in zip(timeless(offline["clients"]), timeless(stored_clients))
        for k in a if a[k] != b.get(k)]
ok(doc and len(stored_clients) == len(offline["clients"]) and not diff,
   f"every field of the {len(stored_clients)} stored clients equals the offline report's (users, devices, software,"
   " TLS offered and negotiated, would-break, findings, counts)", diff[:4])


def without_moved(servers):
    out = []
    for s in timeless(servers):
        s = dict(s, ports=[p for p in s["ports"] if p["port"] != 18476])
        s.pop("clients")
        if s["ports"]:
            out.append(s)
    return out


ok(doc and without_moved(doc["servers"]) == without_moved(offline["servers"]) and
   sorted(timeless(doc["certificates"]), key=str) == sorted(timeless(offline["certificates"]), key=str),
   "the stored servers (ports, versions, ciphers, release) and certificates equal the offline report's",
   doc and ([(a, b) for a, b in zip(without_moved(doc["servers"]), without_moved(offline["servers"])) if a != b][:2],
            timeless(doc["certificates"]), timeless(offline["certificates"])))
ok(doc and doc["state"]["flows_stored"] == exp_flows + 1 and doc["capture"]["counters"].get("connections_reported") == exp_flows + 1,
   "every flow record is stored", doc and (doc["state"], exp_flows))
h = doc["state"]["capture_health"]["total"] if doc else {}
# every replayed packet analysed, none dropped; the socket may also have received a few packets of the
# veth's own (e.g. IPv6 neighbour discovery) in the instant of the stop: those are counted as not analysed at
# the stop, and every received packet is accounted for
ok(h.get("packets") == exp_packets + 6 and h.get("dropped_kernel") == 0 and h.get("dropped_interface") == 0 and
   h.get("received") == h.get("packets", 0) + h.get("not_analysed_at_stop", 0) and h.get("not_analysed_at_stop", 9) <= 4,
   "capture health: every replayed packet analysed, none dropped, every received packet accounted for",
   (h, exp_packets))
ok(doc and not any(c["in_progress"] for c in doc["state"]["last_nonsecure"]), "after SIGTERM nothing is left in progress")
ok(doc and doc["state"]["runs"] == 1 and doc["state"]["unclean_stops"] == 0 and not doc["state"]["running"],
   "one run, stopped cleanly: the refused second monitor left no trace in the state", doc and doc["state"])

lines = []
for name in (events + ".1", events):
    with open(name) as f:
        lines += [json.loads(l) for l in f]
flows = [l for l in lines if l["type"] == "flow"]
new = sorted(l["client"] for l in lines if l["type"] == "finding" and l["finding"] == "new-nonsecure-client")
ok(len(flows) == exp_flows + 1 and all("client_ip" in l["flow"] for l in flows), "events: one flow line per flow",
   (len(flows), exp_flows))
ok(new == sorted(nonsec + [MOVED_CLIENT]), "events: one new-nonsecure-client finding per nonsecure client",
   (new, sorted(nonsec)))
obsolete = sorted((l["client"], l["server"], l["port"], l["detail"]) for l in lines
                  if l["type"] == "finding" and l["finding"] == "new-obsolete-tls-version")
ok(obsolete == sorted(exp_obsolete), "events: one new-obsolete-tls-version finding per client, port and version",
   (obsolete, sorted(exp_obsolete)))
certs = sorted((l["server"], l["port"]) for l in lines if l["type"] == "finding" and l["finding"] == "certificate-expiring")
ok(certs == sorted(exp_certs), "events: certificate-expiring once per certificate expired or expiring within 30 days",
   (certs, sorted(exp_certs)))

# --since and "clean for": nothing nonsecure in the last second; everything new within the hour
time.sleep(1.1)
rc, d1, err = report(db, "--since", "1s", "--fail-on-nonsecure")
rc2, d2, err2 = report(db, "--since", "1h", "--fail-on-nonsecure")
ok(rc == 0 and d1["state"]["new_nonsecure_clients"] == [], "--since 1s: no new nonsecure client, exit 0 (clean since then)",
   f"rc={rc} {err}")
ok(rc2 == 3 and sorted(d2["state"]["new_nonsecure_clients"]) == sorted(nonsec + [MOVED_CLIENT]),
   "--since 1h: every nonsecure client is new, --fail-on-nonsecure exits 3", f"rc={rc2}")
ok(d2["state"]["last_nonsecure"] and
   sorted(c["ip"] for c in d2["state"]["last_nonsecure"]) == sorted(c["ip"] for c in d2["clients"] if c["status"] == "nonsecure")
   and all(c["clean_for_seconds"] is not None and c["clean_for_seconds"] >= 1 for c in d2["state"]["last_nonsecure"]),
   "each nonsecure client says how long it has been clean")

# ---- 2. restart, and kill -9 between checkpoints ----
db2 = os.path.join(tmp, "restart.db")
m = monitor(db2)
replay(TELNET)
tel = expected_tel = inventory(json.loads(run(["-r", TELNET, "--format", "json", "-q"])[1]))
doc = wait_for(lambda: (lambda d: d if d and set(inventory(d)) == set(tel) else None)(report(db2)[1]))
ok(doc is not None, "a checkpoint reaches the file while running")
stop(m, signal.SIGKILL)
rc, doc, err = report(db2)
ok(rc == 0 and inventory(doc) == tel, "after kill -9 the file is sound and keeps what was checkpointed",
   f"rc={rc} {err} {doc and inventory(doc)}")
m = monitor(db2)
replay(TELNET)
time.sleep(0.3)
rc = stop(m)
rc2, doc, err = report(db2)
want = merge(tel, tel)
ok(rc == 0 and rc2 == 0 and inventory(doc) == want, "the restarted monitor continues the inventory (connections add up)",
   (inventory(doc) if doc else err, want))
ok(doc and doc["state"]["runs"] == 2 and doc["state"]["unclean_stops"] == 1, "the state counts 2 runs, 1 unclean stop",
   doc and doc["state"])

# ---- 3. a tiny buffer under a fast replay: drops are counted and reported; retention ----
# A fast replay alone does not always overflow a 1 MiB ring (the plain build keeps up with ~150k packets
# at topspeed on a veth; the ASan build drops): the monitor is stopped (SIGSTOP) during the replay so that
# the ring must overflow, as under a burst the process cannot follow.
db3 = os.path.join(tmp, "drops.db")
m = monitor(db3, "-B", "1", "--retain", "2s")
flood = os.path.join(PCAPS, "modern.pcapng") if os.path.exists(os.path.join(PCAPS, "modern.pcapng")) else TELNET
os.kill(m.pid, signal.SIGSTOP)
replay(flood, "--loop", "200")
os.kill(m.pid, signal.SIGCONT)
time.sleep(1.5)
rc = stop(m)
rc2, doc, err = report(db3)
h = doc["state"]["capture_health"]["total"] if doc else {}
text = run(["--db", db3])[1].decode()
ok(h.get("dropped_kernel", 0) + h.get("dropped_interface", 0) > 0 and h["coverage"] < 1.0 and h["intervals_with_drops"] > 0
   and "WARNING: the capture missed" in text, "drops with -B 1: counted, coverage under 100%, the report warns", h)
ok(h.get("received", 0) == h.get("packets", 0) + h.get("dropped_kernel", 0) + h.get("not_analysed_at_stop", -1),
   "received = analysed + dropped by the kernel + not analysed at stop (libpcap on Linux counts drops in received)", h)
ok(rc == 0 and doc and doc["summary"]["clients"] > 0, "the monitor survives a flood with a 1 MiB buffer", f"rc={rc}")

# ---- 4. a backlog at SIGTERM: what libpcap holds is drained, whatever is left is counted ----
# The monitor is stopped (SIGSTOP) while ~200,000 packets are replayed into a ring big enough to hold
# them, then continued and sent SIGTERM at once: before, it stopped after one batch and the report said
# coverage 100% with 177,152 of 200,000 packets never analysed.  The truth is libpcap's own count
# (received, in the state) against the packets analysed: every received packet is analysed, dropped,
# or counted as not analysed at stop, and the coverage says so.
db4 = os.path.join(tmp, "backlog.db")
m = monitor(db4, "-B", "256")
os.kill(m.pid, signal.SIGSTOP)
sent4, why4 = replay(flood, "--loop", "400")
os.kill(m.pid, signal.SIGCONT)
os.kill(m.pid, signal.SIGTERM)
rc = stop(m)
rc2, doc, err = report(db4)
h = doc["state"]["capture_health"]["total"] if doc else {}
left = h.get("not_analysed_at_stop", -1)
missed = left + h.get("dropped_kernel", 0) + h.get("dropped_interface", 0)
ok(sent4 and rc == 0 and h.get("received", 0) > 100000 and
   h["received"] == h["packets"] + h["dropped_kernel"] + left and left >= 0,
   "a backlog at SIGTERM: received = analysed + dropped + not analysed at stop (nothing silently left)",
   f"rc={rc} {h} {why4[-300:]}")
ok(doc and (h["coverage"] < 1.0 if missed > 0 else h["coverage"] == 1.0) and
   doc["state"]["capture_health"]["since"].get("not_analysed_at_stop") == left,
   "coverage is under 100% exactly when something was missed or left; the window counts it too", h)
print(f"# backlog at SIGTERM: received {h.get('received')}, analysed {h.get('packets')}, dropped "
      f"{h.get('dropped_kernel')}, not analysed at stop {left}")
text = run(["--db", db4])[1].decode()
ok("not analysed at stop" in text and (left == 0 or "were not analysed when a run stopped" in text),
   "the text report shows the not-analysed count (and warns when it is not 0)", text[:1500])

m = monitor(db3, "--retain", "1s")
pruned = wait_for(lambda: (lambda d: d if d and d["state"]["flows_stored"] == 0 else None)(report(db3)[1]))
stop(m)
ok(pruned and pruned["summary"]["clients"] > 0, "--retain prunes old flow records and keeps the inventory",
   pruned and pruned["state"])
m = monitor(os.path.join(tmp, "root.db"), "-Z", "root")
try:
    with open(f"/proc/{m.pid}/status") as f:
        uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
except OSError:
    uid = None
rc = stop(m)
ok(uid == "0" and rc == 0 and "keeping root" in stderr_of(m), "-Z root keeps root, and says so", (uid, stderr_of(m)))

def hwm(p):
    """The peak resident size of a running monitor (VmHWM: since its exec), in bytes; None if it is gone."""
    try:
        with open(f"/proc/{p.pid}/status") as f:
            return int([l.split()[1] for l in f if l.startswith("VmHWM:")][0]) * 1024
    except (OSError, IndexError):
        return None


# ---- 5. a burst of connections: an interval's records past --records-memory wait on disk ----
# The spool tests' capture (spoolcap.py: connections from 40 clients, users and port-mapper links, its truth
# written with it) replayed into monitors whose --interval (an hour) only comes at the stop: with
# --records-memory 64K the finished records go to the spool and the stop's checkpoint reads them back;
# with 1G they are held.  Both store every connection, the same clients and uses; the spooled one peaks
# lower by most of the records' size.
burst = os.path.join(tmp, "burst.pcap")
conns5, links5, users5 = build(burst, 6000 if ASAN else 48000)
pps5 = "10000" if ASAN else "30000"
peaks, docs5 = {}, {}
for label, mem in (("spooled", "64K"), ("held", "1G")):
    db5 = os.path.join(tmp, f"burst-{label}.db")
    ev5 = os.path.join(tmp, f"burst-{label}.ndjson")
    m = monitor(db5, "--records-memory", mem, "--events", ev5, "-B", "64", interval="3600")   # a ring for bursts
    r5 = subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", VA, "--pps", pps5, burst],
                        capture_output=True, timeout=120)
    wait_for(lambda: False, 7)    # the connections' 5 s linger, then their records are finished
    peaks[label] = hwm(m)
    rc5 = stop(m)
    try:
        with open(ev5) as f:
            lines = [json.loads(line) for line in f]
    except (OSError, ValueError):
        lines = []
    docs5[label] = (rc5, r5.returncode == 0, report(db5)[1], stderr_of(m), lines)
got5, findings5 = {}, {}
for label, (rc5, sent5, d, err5, lines) in docs5.items():
    h = d["state"]["capture_health"]["total"] if d else {}
    users = {u for c in d["clients"] for u in c.get("users", [])} if d else set()
    flows = [x["flow"] for x in lines if x.get("type") == "flow"]
    linked = sum(1 for f in flows if (f.get("mapper") or {}).get("next_connection") is not None)
    findings5[label] = sorted((x["finding"], x["client"], x.get("server"), x.get("port"), x.get("service"))
                              for x in lines if x.get("type") == "finding")
    got5[label] = (rc5, sent5, d and d["state"]["flows_stored"], h.get("dropped_kernel"), users == users5,
                   bool(sanitizer_report(err5)), len(flows), linked)
same = docs5["spooled"][2] and docs5["held"][2] and all(
    without_keys(docs5["spooled"][2].get(k), TIMES) == without_keys(docs5["held"][2].get(k), TIMES)
    for k in ("summary", "clients", "servers"))
ok(got5["spooled"] == (0, True, conns5, 0, True, False, conns5, links5) and got5["held"] == got5["spooled"] and same
   and findings5["spooled"] == findings5["held"] and len(findings5["held"]) >= 40,
   f"a burst of {conns5} connections in one interval, --records-memory 64K: every connection stored and in the "
   f"events file ({links5} lookups linked), the users written, the same summary, clients, servers and "
   f"{len(findings5['held'])} findings as holding every record", (got5, len(findings5["spooled"]),
                                                                   len(findings5["held"])))
if ASAN:
    skip("peak memory of a burst, spooled and held", "a sanitizer build's memory is not the product's")
else:
    ok(peaks["spooled"] and peaks["held"] and peaks["held"] - peaks["spooled"] > 16 << 20,
       f"peak RSS under the burst: {peaks['spooled'] >> 20} MiB spooled, {peaks['held'] >> 20} MiB holding "
       f"every record", peaks)
# ---- 6. a SYN flood: past --max-attempts a UTC day, attempts are folded, not stored one by one ----
# pcapgen.syn_flood writes every SYN from its own address, to 8476 and 9476 in turn (the truth: M SYNs, M / 2 a
# port).  With --idle-timeout 1 and --interval 1 they end and are checkpointed over several intervals: the state
# keeps the first CAPM of the day as flow records and folds the others into one row per port, whatever the
# interval they ended in.
M = 6000 if ASAN else 9000
CAPM = 500
synf = os.path.join(tmp, "synflood.pcap")
syn_flood(synf, M)
db6 = os.path.join(tmp, "flood.db")
day0 = int(time.time()) // 86400
m = monitor(db6, "--max-attempts", str(CAPM), "--idle-timeout", "1")
r6 = subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", VA, "--pps", "3000", synf],
                    capture_output=True, timeout=120)
wait_for(lambda: False, 4)        # the last SYNs' idle timeout, and a checkpoint after it
rc6 = stop(m)
days = len({day0, int(time.time()) // 86400})   # a run over midnight UTC has two days' budgets
_, d6, e6 = report(db6)
try:
    c6 = sqlite3.connect(db6)
    kept6 = dict(c6.execute("SELECT port, count(*) FROM flow WHERE tcp='unanswered' GROUP BY port").fetchall())
    intervals6 = c6.execute("SELECT count(*) FROM interval WHERE packets > 0").fetchone()[0]
    c6.close()
except Exception as ex:   # a missing state is a failure below
    kept6, intervals6 = {"error": str(ex)}, 0
f6 = (d6 or {}).get("folded_attempts") or {}
ports6 = {g["port"]: g["connections"] for g in f6.get("groups", [])}
stored6 = (d6 or {}).get("state", {}).get("flows_stored")
drops6 = (d6 or {}).get("state", {}).get("capture_health", {}).get("total", {}).get("dropped_kernel")
ok(rc6 == 0 and r6.returncode == 0 and drops6 == 0 and stored6 is not None and CAPM <= stored6 <= CAPM * days
   and f6.get("connections") == M - stored6 and d6["capture"]["counters"]["attempt_records_folded"] == M - stored6
   and all(kept6.get(p, 0) + ports6.get(p, 0) == M // 2 for p in (8476, 9476)) and intervals6 >= 2
   and f6.get("max_attempts") == CAPM and not sanitizer_report(stderr_of(m) + e6),
   f"a flood of {M} spoofed SYNs into a monitor with --max-attempts {CAPM}, read over {intervals6} intervals: "
   f"{stored6} kept as flow records, the others folded per port; per port, kept and folded are the {M // 2} "
   f"SYNs sent",
   (rc6, drops6, stored6, kept6, ports6, f6.get("connections"), intervals6, stderr_of(m)[-300:], e6[-300:]))
# ---- 7. the shared store: a sensor's checkpoint leaves memory as it is built, and is applied in parts ----
# A PostgreSQL sensor (pgserver.py) given two bursts (spoolcap.py, 4,000 and 16,000 connections) within one
# 20 s interval each: its checkpoint's rows go to its queue file as they are built, and its writer thread
# reads them back and sends them a window at a time (4 MiB), so what the checkpoint adds to the peak (VmHWM
# once its batch is in the database, less VmHWM before it: the live connections' own cost is not the
# checkpoint's) grows by far less per connection than the whole batch, built and then read back, took.
# The database holds every connection, lookup link and user the capture's truth says.
why7 = pgserver.available()
if why7:
    skip("a PostgreSQL sensor under a burst: every connection stored, memory per connection", why7)
else:
    srv = pgserver.started()
    qdir = os.path.join(tmp, "queues")
    os.mkdir(qdir)
    shutil.chown(qdir, USER)
    peaks7, got7 = {}, {}
    for n7 in ((1500, 6000) if ASAN else (3000, 12000)):
        cap7 = os.path.join(tmp, f"burst7-{n7}.pcap")
        truth7 = build(cap7, n7)
        srv.psql(f"CREATE DATABASE burst{n7} OWNER {srv.user}")
        pg7 = srv.conninfo(db=f"burst{n7}")
        ev7 = os.path.join(tmp, f"burst7-{n7}.ndjson")
        m = monitor(pg7, "--sensor", "s1", "--queue", os.path.join(qdir, f"{n7}.queue"), "--records-memory", "64K",
                    "--events", ev7, "-B", "64", interval="20")
        r7 = subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", VA, "--pps", pps5, cap7],
                            capture_output=True, timeout=120)
        wait_for(lambda: False, 7)    # the connections' 5 s linger; the checkpoint comes at 20 s
        pre7 = hwm(m)
        stored = lambda: srv.psql("SELECT count(*) FROM flow", f"burst{n7}")[1].strip() == str(truth7[0])
        wait_for(stored, 60)          # the checkpoint, its batch applied
        post7 = hwm(m)
        rc7 = stop(m, timeout=40)
        _, d7, e7 = report(pg7)
        users7 = set(srv.psql("SELECT DISTINCT name FROM inv_name WHERE kind='user' AND server=''",
                              f"burst{n7}")[1].split())
        try:
            with open(ev7) as f:
                flows7 = [x["flow"] for x in map(json.loads, f) if x.get("type") == "flow"]
        except (OSError, ValueError):
            flows7 = []
        linked7 = sum(1 for f in flows7 if (f.get("mapper") or {}).get("next_connection") is not None)
        got7[n7] = (rc7, r7.returncode, (d7 or {}).get("state", {}).get("flows_stored"), len(flows7), linked7,
                    users7 == truth7[2], bool(sanitizer_report(stderr_of(m) + e7)))
        want7 = (0, 0, truth7[0], truth7[0], truth7[1], True, False)
        ok(got7[n7] == want7,
           f"a PostgreSQL sensor given {truth7[0]} connections in one interval: every one stored and in the events "
           f"file, {truth7[1]} lookups linked, the {len(truth7[2])} users written in its rows",
           (got7[n7], want7, sorted(truth7[2] - users7)[:5], stderr_of(m)[-400:]))
        peaks7[n7] = (truth7[0], post7 - pre7 if pre7 and post7 else None)
    # a checkpoint larger than --queue-max: its parts stop at the bound, the batch is dropped and counted, nothing
    # of it stays in the queue file, and the sensor goes on
    small7 = os.path.join(tmp, f"burst7-{min(peaks7)}.pcap")
    q8 = os.path.join(qdir, "small.queue")
    srv.psql(f"CREATE DATABASE full7 OWNER {srv.user}")
    m = monitor(srv.conninfo(db="full7"), "--sensor", "s1", "--queue", q8, "--queue-max", "1M", interval="3600")
    r8 = subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", VA, "--pps", pps5, small7],
                        capture_output=True, timeout=120)
    wait_for(lambda: False, 7)
    rc8 = stop(m, timeout=40)
    err8 = stderr_of(m)
    stored8 = srv.psql("SELECT count(*) FROM flow", "full7")[1].strip()
    ok(rc8 == 0 and r8.returncode == 0 and "the local queue is full: a checkpoint was dropped" in err8
       and os.path.getsize(q8) == 16 and stored8 == "0" and not sanitizer_report(err8),
       "a PostgreSQL sensor's checkpoint larger than --queue-max 1M: dropped with a warning as its parts reach the "
       "bound, nothing of it left in the queue file, the sensor exits 0", (rc8, os.path.getsize(q8), stored8, err8[-400:]))
    if ASAN:
        skip("a PostgreSQL sensor's memory per connection of an interval", "a sanitizer build's memory is not the product's")
    else:
        # the larger burst's checkpoint against a bound of 1 KiB a connection (17 MiB for 16,000): streamed, it
        # costs its fixed parts (two 4 MiB windows, the staging columns: ~12 MiB); the whole batch held, built
        # then read back, cost ~22 MiB (the smaller burst is not subtracted: its peak moves by a few MiB from
        # run to run, which made a per-connection difference of the two flaky)
        c2, p2 = max(peaks7.values())
        ok(p2 is not None and p2 < c2 * 1024 + (1 << 20),
           f"a PostgreSQL sensor's checkpoint of {c2} connections raises its peak RSS by {p2 and p2 >> 20} MiB "
           f"(bound {(c2 * 1024 + (1 << 20)) >> 20} MiB; the whole batch held, built then read back: ~22 MiB)",
           peaks7)
    srv.cleanup()
print(f"# test_monitor took {time.monotonic() - T0:.1f} s")
done()

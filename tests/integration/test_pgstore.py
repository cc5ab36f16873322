"""test_pgstore.py - the shared PostgreSQL store (issue 15) against a real PostgreSQL 15.

A throw-away server (pgserver.py: Debian's /usr/lib/postgresql/15/bin, a temporary directory owned
by `nobody`, Unix socket only) takes the writes of several sensors:
- imports (`-r FILE --db postgresql://... --sensor NAME`) of disjoint and overlapping shares of the
  lab captures: the merged report's shared JSON objects equal, field by field, the one-shot report
  over the captures together; the connections both shares hold are stored once (the overlap is
  known from how the shares were cut with tshark, not from tlsready);
- the plan, the HTML report and the period comparison read the shared store;
- a password in the connection string is refused and never printed; a password file works and
  its password is never printed either;
- a live sensor (`-i` in a network namespace "tp-<pid>", captures replayed with tcpreplay) whose
  database is held up by a lock for 5 s: the checkpoints queue, the capture drops nothing;
- three live sensors in three namespaces write to one database: span-1 and span-2 on one path (share A
  of the lab captures replayed into both at once), span-2 also sees share C, span-3 share B; span-2
  spools every interval's records from the first (`--records-memory 0`).  During
  the run the database is stopped and started again, and span-3 is killed with kill -9 and started
  again (its checkpoints queued on disk are replayed once).  The merged report's summary, clients,
  servers, certificates and plan doors equal, field by field, the one-shot report over the 14
  captures together (only what a live capture changes is normalised: see the comment there), every
  connection stored once, share A's counted as duplicates once, no checkpoint applied twice.
Takes about 35 s (2 cores, 2026-12-02).  Skips with the reason when PostgreSQL 15 is not installed, and the live part
when not root or without `ip netns`/tcpreplay.
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pgserver
from netlab import wait_monitoring
from tap import ok, skip, done, sanitizer_report, PCAPS, TLSREADY, without_keys

tmp = tempfile.mkdtemp(prefix="tlsready-pgstore-")
os.chmod(tmp, 0o755)
SHARED = ("summary", "servers", "certificates", "clients")
SECRET = "Pw-7f3a9c1e-never-printed"
outputs = []        # every stdout and stderr, to look for the secret at the end
procs = []
NS = f"tp-{os.getpid() % 100000}"
VA, VB = f"tp-{os.getpid() % 100000}a", f"tp-{os.getpid() % 100000}b"
ns_made = False
extra_ns = []       # the three sensors' namespaces
srv = None


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
    for ns in ([NS] if ns_made else []) + extra_ns:
        subprocess.run(["ip", "netns", "delete", ns], stderr=subprocess.DEVNULL, timeout=10)
    if srv:
        srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def tl(args, env=None, timeout=120):
    p = subprocess.run([TLSREADY] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    outputs.append(out + err)
    return p.returncode, out, err


def report(args, fmt="json"):
    rc, out, err = tl(["-q", "--format", fmt] + args)
    if fmt != "json":
        return rc, out, err
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err


def differences(a, b, keys=SHARED):
    diffs = []
    for k in keys:
        x, y = a.get(k), b.get(k)
        if x == y:
            continue
        if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y)):
                if p != q:
                    field = next((f for f in p if p.get(f) != q.get(f)), None)
                    diffs.append(f"{k}[{i}].{field}: {p.get(field)!r} vs {q.get(field)!r}")
                    break
        else:
            diffs.append(f"{k}: {str(x)[:200]} vs {str(y)[:200]}")
    return diffs


def psql(sql, db="tlsready"):
    rc, out, err = srv.psql(sql, db)
    return out.strip() if rc == 0 else f"ERROR {err.strip()}"


why = pgserver.available()
if why:
    for name in ("a real PostgreSQL 15", "imports of shares merge to the one-shot report", "duplicates once",
                 "plan, html, compare", "host names", "secrets", "live sensor with the database stopped and restarted"):
        skip(name, why)
    done()

try:
    srv = pgserver.Server()
    t0 = time.monotonic()
    srv.init()
    srv.start()
    ok(True, f"PostgreSQL 15 started as {srv.user} in {time.monotonic() - t0:.1f} s (Unix socket only, pid {srv.pid})")
    # the sensors log in as a role with a password, read from a password file (libpq's own mechanism)
    r1 = psql(f"CREATE ROLE tlsr_sensor LOGIN PASSWORD '{SECRET}'", "postgres")
    r2 = psql("CREATE DATABASE tlsready OWNER tlsr_sensor", "postgres")
    passfile = os.path.join(tmp, "pgpass")
    fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, f"*:*:*:tlsr_sensor:{SECRET}\n".encode())
    os.close(fd)
    os.environ["PGPASSFILE"] = passfile
    ok(not r1.startswith("ERROR") and not r2.startswith("ERROR"), "a sensor role with a password, its database",
       r1 + r2)
    DB = srv.conninfo(user="tlsr_sensor")
    URI = srv.uri(user="tlsr_sensor")

    # ---- secrets ----
    bad = f"{DB} password={SECRET}"
    rc, out, err = tl(["-q", "-r", os.path.join(PCAPS, "demo.pcapng"), "--db", bad, "--sensor", "x"])
    ok(rc == 2 and "password" in err and "refused" in err and SECRET not in out + err,
       "a password in a keyword connection string: refused, not printed", err)
    bad_uri = URI.replace("postgresql:///", f"postgresql://tlsr_sensor:{SECRET}@/")
    rc, out, err = tl(["--db", bad_uri, "--format", "json"])
    ok(rc == 2 and "refused" in err and SECRET not in out + err, "a password in a URI: refused, not printed", err)

    # ---- shares of the lab captures, cut with tshark by TCP stream ----
    demo, failures = os.path.join(PCAPS, "demo.pcapng"), os.path.join(PCAPS, "failures.pcapng")
    streams = int(subprocess.run(["tshark", "-r", demo, "-T", "fields", "-e", "tcp.stream"], capture_output=True,
                                 timeout=60).stdout.split()[-1]) + 1
    a, b = os.path.join(tmp, "a.pcapng"), os.path.join(tmp, "b.pcapng")
    lo, hi = streams * 6 // 10, streams * 4 // 10     # a: [0, lo), b: [hi, streams): overlap [hi, lo)
    for path, flt in ((a, f"tcp.stream < {lo}"), (b, f"tcp.stream >= {hi}")):
        subprocess.run(["tshark", "-r", demo, "-Y", flt, "-w", path], capture_output=True, timeout=60, check=True)
    overlap = lo - hi
    rc1, out1, err1 = tl(["-r", a, "--db", DB, "--sensor", "site-a"])
    rc2, out2, err2 = tl(["-r", b, "-r", failures, "--db", URI, "--sensor", "site-b"])
    ok(rc1 in (0, 1) and rc2 in (0, 1) and "imported 1 file" in err1 and "imported 2 files" in err2,
       "two sensors import their shares (one by a keyword string, one by a URI)", err1 + err2)
    _, one, _ = report(["-r", demo, "-r", failures])
    rc, merged, err = report(["--db", DB])
    d = differences(one, merged) if one and merged else ["no report"]
    ok(rc == 0 and not d, "the merged report of both sensors has the one-shot report's summary, servers,"
       " certificates and clients, field by field", d[:4] or err)
    dup = psql("SELECT coalesce(sum(value), 0) FROM counter WHERE name='duplicate_connections'")
    flows = psql("SELECT count(*) FROM flow")
    ok(dup == str(overlap) and merged and int(flows) == one["summary"]["flows"] and
       int(flows) == merged["summary"]["flows"],
       f"the {overlap} connections both shares hold are stored once ({flows} flow records)", (dup, flows))
    _, only_a, _ = report(["-r", a])
    rc, stored_a, err = report(["--db", DB, "--sensor", "site-a"])
    d = differences(only_a, stored_a) if only_a and stored_a else ["no report"]
    ok(rc == 0 and not d, "--sensor site-a: the report of that sensor alone equals the one-shot report of its share",
       d[:4] or err)
    rc, out, err = tl(["-q", "-r", a, "--db", DB, "--sensor", "site-c"])
    ok(rc == 6 and "already imported" in err and "site-a" in err, "a file another sensor imported is refused", err)
    parts = psql("SELECT count(*) FROM pg_inherits WHERE inhparent='flow'::regclass")
    ok(parts not in ("0", "") and not parts.startswith("ERROR"), f"flow records in {parts} daily partitions", parts)

    # ---- the plan, the HTML report, the comparison, every counter, on the shared store ----
    rc_p1, plan1, _ = report(["-r", demo, "-r", failures, "--plan"], "text")
    rc_p2, plan2, err = report(["--db", DB, "--plan"], "text")
    # from the doors on (the header says where the data came from, and how long it was observed)
    doors = lambda t: t[t.find("\n  DOOR "):]
    ok(rc_p2 == rc_p1 and "\n  DOOR " in plan2 and doors(plan1) == doors(plan2) and "Verdict:" in plan2,
       "--plan on the shared store: the one-shot plan's doors, steps and clients",
       err or [(x, y) for x, y in zip(doors(plan1).splitlines(), doors(plan2).splitlines()) if x != y][:3])
    rc, html, err = report(["--db", DB], "html")
    ips = [c["ip"] for c in one["clients"]]
    ok(rc in (0, 1) and html.lstrip().lower().startswith("<!doctype html") and all(ip in html for ip in ips),
       "--format html on the shared store", err or html[:200])

    def day_bars(raw):   # the chart of days as drawn: [(date, "nonsecure / secure")]
        fig = raw.split("Connections per day (UTC)", 1)[-1].split("</svg>", 1)[0]
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", fig)
        return [(texts[i], texts[i + 1]) for i in range(len(texts) - 1) if re.fullmatch(r"\d{4}-\d\d-\d\d", texts[i])]
    _, html1, _ = report(["-r", demo, "-r", failures], "html")
    ok(day_bars(html) and day_bars(html) == day_bars(html1),
       "the HTML chart of days from the shared store's per-day rows equals the one-shot report's",
       f"{day_bars(html)} != {day_bars(html1)}")
    rc, cmp_doc, err = report(["--db", DB, "--since", "2020-01-01", "--compare", "2019-01-01..2020-01-01"])
    ok(rc == 0 and cmp_doc is not None, "--compare on the shared store", err)
    _, csv_text, _ = report(["--db", DB], "csv")
    names = {r[5] for r in csv.reader(io.StringIO(csv_text)) if r and r[0] == "counter"}
    ok(merged and "store_checkpoints_dropped" in merged["capture"]["counters"] and
       "store_checkpoints_dropped" in names, "the queue's drop counter is in the JSON and CSV counters",
       sorted(names)[:5])
    # ---- host names (schema 2): two sensors on two days give the one-shot report's names; a version 1
    # store migrates (its table dropped and its version set back by hand, as version 1 created it) ----
    import struct as _st
    from pcapgen import Pcap

    def _qn(n):
        return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + b"\0"

    def _answer(name, ip):   # RFC 1035 4.1: one question, one A answer naming it by pointer
        return (_st.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + _qn(name) + _st.pack("!HH", 1, 1) + b"\xc0\x0c"
                + _st.pack("!HHIH", 1, 1, 300, 4) + bytes(int(x) for x in ip.split(".")))

    def _names_cap(path, t0):
        w = Pcap(path)
        w.ts = t0
        w.udp_frame("192.0.2.53", "192.0.2.27", 53, 40000, _answer("pc27.example.com", "192.0.2.27"))
        w.udp_frame("192.0.2.53", "192.0.2.28", 53, 40001, _answer("pc28.example.com", "192.0.2.28"))
        for i, cli in enumerate(("192.0.2.27", "192.0.2.28")):
            c = w.conn(cli, 41000 + i, "198.51.100.1", 23)
            c.handshake()
            c.send(b"\xff\xfd\x27", from_client=False)
            c.close()
        w.close()

    n1, n2 = os.path.join(tmp, "names1.pcap"), os.path.join(tmp, "names2.pcap")
    _names_cap(n1, 1_700_000_000.0)
    _names_cap(n2, 1_700_000_000.0 + 86400)
    rn = psql("CREATE DATABASE names OWNER tlsr_sensor", "postgres")
    NAMES_DB = srv.conninfo(db="names", user="tlsr_sensor")
    rc1, _, e1 = tl(["-q", "-r", n1, "--db", NAMES_DB, "--sensor", "site-n1"])
    down = psql(pgserver.UNDO_V3 + " DROP TABLE inv_host_name; UPDATE meta SET value='1' WHERE key='schema_version';"
                " DELETE FROM migrations WHERE version=2", "names")
    rc2, _, e2 = tl(["-q", "-r", n2, "--db", NAMES_DB, "--sensor", "site-n2"])
    mig = psql("SELECT value FROM meta WHERE key='schema_version'", "names") + " " + \
        psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM migrations", "names")
    ok(not rn.startswith("ERROR") and not down.startswith("ERROR") and rc1 in (0, 1) and rc2 in (0, 1)
       and mig == "4 1,2,3,4", "a version 1 shared store migrates to version 2 (host names), 3 (DHCP hosts) and 4"
       " (folded attempts)",
       (rn, down, mig, e1, e2))
    # the first day's names went with the dropped table: a third sensor imports that file again (its
    # connections are the first sensor's duplicates; the names are not per connection)
    psql("DELETE FROM import", "names")
    rc3, _, e3 = tl(["-q", "-r", n1, "--db", NAMES_DB, "--sensor", "site-n3"])
    _, one_n, _ = report(["-r", n1, "-r", n2])
    _, st_n, err_n = report(["--db", NAMES_DB])
    pick = lambda d: {c["ip"]: (c["host_name"], c["host_names"]) for c in d["clients"]} if d else {}
    got, want = pick(st_n), pick(one_n)
    ok(rc3 in (0, 1) and want.get("192.0.2.27", (None,))[0] == {"name": "pc27.example.com", "source": "dns"}
       and want["192.0.2.27"][1][0]["count"] == 2 and got == want,
       "host names from two sensors on two days: the one-shot report's names, times and counts", (got, want, err_n))
    # ---- roles (docs/shared-store-roles.sql): a sensor writes only its own rows, a report only reads ----
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs",
                           "shared-store-roles.sql")) as f:
        roles_sql = f.read()
    r = psql(roles_sql)
    r += psql(f"CREATE ROLE \"site-d\" LOGIN PASSWORD '{SECRET}' IN ROLE tlsready_sensor;"
              f" CREATE ROLE reporter LOGIN PASSWORD '{SECRET}' IN ROLE tlsready_report", "postgres")
    with open(passfile, "a") as f:
        f.write(f"*:*:*:site-d:{SECRET}\n*:*:*:reporter:{SECRET}\n")
    SENSOR_D, REPORTER = srv.conninfo(user="site-d"), srv.conninfo(user="reporter")
    nsec = os.path.join(PCAPS, "formats-nsec.pcap")
    rc_own, _, err_own = tl(["-q", "-r", nsec, "--db", SENSOR_D, "--sensor", "site-d"])
    rows_d = psql("SELECT count(*) FROM inv_client WHERE sensor='site-d'")
    rc_other, _, err_other = tl(["-q", "-r", os.path.join(PCAPS, "formats-sll.pcap"), "--db", SENSOR_D, "--sensor",
                                 "site-a"])
    ok(not r.startswith("ERROR") and rc_own in (0, 1) and rows_d not in ("0", "") and rc_other == 2 and
       "row-level security" in err_other,
       "the sensor role site-d writes its own rows and is refused another sensor's name", (r, err_own, err_other))
    rc, out, err = tl(["--db", SENSOR_D, "-q", "--format", "json"])
    gone = psql("SELECT count(*) FROM inv_client WHERE sensor='site-a'")
    rc_r, rep_doc, err_r = report(["--db", REPORTER])
    rc_w, _, err_w = tl(["-q", "-r", os.path.join(PCAPS, "formats-sll.pcap"), "--db", REPORTER, "--sensor", "reporter"])
    ok(rc == 0 and gone not in ("0", "") and rc_r == 0 and rep_doc and rc_w == 2 and "permission denied" in err_w,
       "the report role reads the merged store and cannot write", (err, err_r, err_w))
except Exception as e:   # a broken set-up is a failure, not a crash without TAP
    ok(False, "the shared-store checks ran", repr(e))
    cleanup()
    done()


# ---- a live sensor, the database stopped and restarted, the sensor killed with kill -9 ----
def live_why():
    if os.geteuid() != 0:
        return "not root (a network namespace and a capture need root)"
    if not shutil.which("tcpreplay") or not shutil.which("ip"):
        return "tcpreplay or ip is missing"
    return None


why = live_why()
if not why:
    r = subprocess.run(["ip", "netns", "add", NS], capture_output=True, timeout=10)
    ns_made = r.returncode == 0
    for cmd in (["link", "add", VA, "type", "veth", "peer", "name", VB], ["link", "set", VA, "up", "mtu", "9000"],
                ["link", "set", VB, "up", "mtu", "9000"]):
        if r.returncode == 0:
            r = subprocess.run(["ip", "-n", NS] + cmd, capture_output=True, timeout=10)
    if r.returncode:
        why = "cannot make a veth pair in a namespace: " + r.stderr.decode().strip()
if why:
    skip("live sensor with the database stopped and restarted", why)
    cleanup()
    done()

qdir = os.path.join(tmp, "q")
os.mkdir(qdir)
shutil.chown(qdir, "nobody")
queue = os.path.join(qdir, "live.queue")
psql("CREATE DATABASE live OWNER tlsr_sensor", "postgres")
LIVE = srv.conninfo(db="live", user="tlsr_sensor")


def monitor():
    log = open(os.path.join(tmp, f"mon-{len(procs)}.err"), "w+")
    p = subprocess.Popen(["ip", "netns", "exec", NS, TLSREADY, "-i", VB, "--db", LIVE, "--sensor", "live",
                          "--queue", queue, "--interval", "1", "-q", "-Z", "nobody"],
                         stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ, PGPASSFILE=passfile))
    procs.append(p)
    p.log = log
    return wait_monitoring(p, log)


def log_of(p):
    p.log.seek(0)
    text = p.log.read()
    outputs.append(text)
    return text


def replay(path):
    r = subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", VA, "--topspeed", path],
                       capture_output=True, timeout=30)
    return r.returncode == 0


def queued():
    try:
        return os.path.getsize(queue) - 16
    except OSError:
        return -1


def wait_for(pred, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


# the passfile must be readable by the sensor after it drops to nobody
shutil.chown(passfile, "nobody")
m = monitor()
# a slow database first: a session holds a lock every checkpoint needs for 5 s while the captures go by
wait_for(lambda: psql("SELECT count(*) FROM run", "live") == "1", 8)
locker = subprocess.Popen(srv.prefix + [f"{pgserver.BIN}/psql", "-X", "-q", "-h", srv.sock, "-U", srv.user, "-d", "live",
                                        "-c", "BEGIN; LOCK TABLE counter IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5);"
                                        " COMMIT;"], env=srv.env, cwd=srv.dir, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
procs.append(locker)
time.sleep(0.5)
sent = replay(demo)
slow_queue = wait_for(lambda: queued() > 0, 4)
stalled = psql("SELECT count(*) FROM flow", "live") == "0"
locker.wait(timeout=20)
applied = wait_for(lambda: psql("SELECT count(*) FROM flow", "live") not in ("0", "") and queued() == 0, 10)
_, slow_doc, _ = report(["--db", LIVE])
health = slow_doc["state"]["capture_health"]["total"] if slow_doc else {}
ok(sent and slow_queue and stalled and applied and health.get("dropped_kernel") == 0 and
   health.get("dropped_interface") == 0 and health.get("packets", 0) > 0,
   "a database held up for 5 s: the checkpoints queued, the capture dropped nothing, all applied afterwards",
   (sent, slow_queue, stalled, applied, health))
m.send_signal(signal.SIGTERM)
m.wait(timeout=30)
log_of(m)

# ---- three sensors in three namespaces write to one database; one is killed, the database restarted ----
# The lab captures are cut into three shares by file.  Share A goes on the path that both span-1 and
# span-2 watch (both sensors see the same packets at the same time); share C only span-2 sees; share B
# only span-3, the sensor killed with kill -9 half-way.  Left out: dropped.pcapng (6,215 packets whose
# point is the interface's drop statistics, which a replay cannot carry), formats-cut and
# formats-snap96 (the same connections as formats.pcapng at the same times, cut or truncated: a replay
# would put short frames on the wire that a file only marks as truncated).
SHARE_A = ("demo", "legacy", "mixed", "telnet", "longchain")
SHARE_C = ("cutover", "impaired", "ipv6", "midstream")
# span-3 sees B1 with the database up, B2 with it stopped, then is killed; its next run sees B3.  Only
# checkpoints survive a kill -9: a connection not yet ended then keeps its inventory (the open snapshot,
# merged by the next run) but gets no flow record, by design; so the captures before
# the kill are ones that end every connection they open (failures.pcapng leaves one open: it comes after),
# and the kill waits until they are all in a checkpoint (a closed connection lingers 5 s in the engine,
# CLOSED_LINGER_US, then the next checkpoint takes it).
B1, B2, B3 = ("modern", "doors"), ("formats", "loopback"), ("failures",)
ALL = SHARE_A + SHARE_C + B1 + B2 + B3
cap = lambda names: [os.path.join(PCAPS, n + ".pcapng") for n in names]
rc_one, one_all, _ = report([a for p in cap(ALL) for a in ("-r", p)])
psql("CREATE DATABASE three OWNER tlsr_sensor", "postgres")
THREE = srv.conninfo(db="three", user="tlsr_sensor")
pairs = []
for i in (1, 2, 3):
    ns, va, vb = f"{NS}-{i}", f"{VA}{i}", f"{VB}{i}"
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True, timeout=10)
    if r.returncode == 0:
        extra_ns.append(ns)
    for cmd in (["link", "add", va, "type", "veth", "peer", "name", vb], ["link", "set", va, "up", "mtu", "9000"],
                ["link", "set", vb, "up", "mtu", "9000"]):
        if r.returncode == 0:
            r = subprocess.run(["ip", "-n", ns] + cmd, capture_output=True, timeout=10)
    pairs.append((ns, va, vb))
qfile = lambda i: os.path.join(qdir, f"three-{i}.queue")


def sensor(i):
    ns, _, vb = pairs[i - 1]
    log = open(os.path.join(tmp, f"three-{i}-{len(procs)}.err"), "w+")
    # span-2 spools each interval's records from the first (--records-memory 0): its checkpoints read them
    # back, and the merged report must not change
    spool = ["--records-memory", "0"] if i == 2 else []
    p = subprocess.Popen(["ip", "netns", "exec", ns, TLSREADY, "-i", vb, "--db", THREE, "--sensor", f"span-{i}",
                          "--queue", qfile(i), "--interval", "1", "-q", "-Z", "nobody"] + spool,
                         stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ, PGPASSFILE=passfile))
    p.log = log
    procs.append(p)
    return wait_monitoring(p, log)      # the capture is open once it says so


def replay_into(i, names):
    # --topspeed: the packets of each file in their order, without the capture's gaps (at most 12 s a
    # file, far below every timeout of the analysis, so no connection is split or merged differently).
    # What timing does change: the connections a capture leaves open (cutover, midstream, failures) end
    # in the one-shot run by the idle timeout when the next file's clock jumps, or at the end of input;
    # live, at the sensor's stop.  Only the flow records' end_reason differs, not compared here.
    ns, va, _ = pairs[i - 1]
    return subprocess.Popen(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", va, "--topspeed"] + cap(names),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def qsize(i):
    try:
        return os.path.getsize(qfile(i)) - 16
    except OSError:
        return -1


def two_more(i):       # two more checkpoints on disk: the one after the last packet is among them
    for _ in range(2):
        size = qsize(i)
        if not wait_for(lambda: qsize(i) > size, 5):
            return False
    return True


t3 = time.monotonic()
sensors = {i: sensor(i) for i in (1, 2, 3)}
started = wait_for(lambda: psql("SELECT count(*) FROM run", "three") == "3", 10)
steps = []
both = [replay_into(1, SHARE_A), replay_into(2, SHARE_A), replay_into(3, B1)]
steps.append(all(p.wait(timeout=30) == 0 for p in both))
srv.stop()                                   # the database goes away while the sensors capture
steps.append(all(p.wait(timeout=30) == 0 for p in (replay_into(2, SHARE_C), replay_into(3, B2))))
time.sleep(5.5)                              # the linger of span-3's last closed connection
# span-3's checkpoints of B1 and B2 are on disk (the database is down) before it dies
steps.append(wait_for(lambda: qsize(3) > 0, 8) and two_more(3))
left3 = qsize(3)
os.kill(sensors[3].pid, signal.SIGKILL)      # no last checkpoint, no clean close
sensors[3].wait(timeout=10)
log_of(sensors[3])
srv.start()
sensors[3] = sensor(3)                       # the next run replays what the killed one queued
steps.append(replay_into(3, B3).wait(timeout=30) == 0)
steps.append(all(wait_for(lambda i=i: qsize(i) == 0, 20) for i in (1, 2, 3)))
for p in sensors.values():                   # the stop ends what is still open, a last checkpoint
    p.send_signal(signal.SIGTERM)
for p in sensors.values():
    p.wait(timeout=30)
    log_of(p)
t3 = time.monotonic() - t3
ok(started and all(steps) and left3 > 0,
   f"three sensors in three namespaces: the database stopped and started again, span-3 killed with kill -9"
   f" ({left3} bytes queued on disk) and started again, every queue drained ({t3:.1f} s)", (started, steps, left3))

# What a live capture legitimately changes, and nothing else is taken out:
# - absolute times: the kernel stamps each packet when tcpreplay sends it (today, now), not with the
#   capture's own time, and a live capture (-i) cannot be given another clock; so first/last seen, first/
#   last nonsecure use (clients, certificates) and a door's last use are dropped from both sides;
# - a certificate's days_left counts from the last time the certificate was seen (so from the clock);
# - the certificates are listed in the order they were first seen: the replay interleaves the three
#   sensors' shares, so both lists are put in the order of (server, port, SHA-256) before comparing;
# - a door no client used is "ready" once what was observed spans --plan-days (7 days), else
#   "unknown": the captures were taken 9 days apart (2026-11-23 and 2026-12-02), the replay takes
#   seconds, so those two verdicts are compared as one ("blocked", a client used it, stays apart);
# everything else (counts, ports, versions, ciphers, users, devices, findings, the doors' verdicts,
# clients and connections) must be equal.
LIVE_TIMES = {"first_seen", "last_seen", "first_nonsecure", "last_nonsecure", "last_use", "days_left"}


def timeless(x):
    return without_keys(x, LIVE_TIMES)


def by_key(doc):
    if doc:
        doc["certificates"].sort(key=lambda c: (c["server"], c["port"], c["sha256"]))
    return doc


def doors(doc):
    ds = [dict(d, verdict="ready or unknown" if d["verdict"] in ("ready", "unknown") else d["verdict"])
          for d in (doc.get("plan") or {}).get("doors") or []] if doc else []
    return {"doors": ds}


rc, three, err = report(["--db", THREE])
by_key(one_all), by_key(three)
pairs_cmp = [(timeless(one_all), timeless(three), ("summary", "clients", "servers", "certificates")),
             (timeless(doors(one_all)), timeless(doors(three)), ("doors",))]
d = [x for a, b, keys in pairs_cmp for x in differences(a, b, keys)] if one_all and three else ["no report"]
ok(rc_one in (0, 1) and rc in (0, 1) and not d,
   f"the merged report of the three sensors equals the one-shot report over the {len(ALL)} captures: summary,"
   f" clients, servers, certificates and the plan's doors, field by field ({len(one_all['clients'])} clients)",
   (d[:4], err, three and three["plan"]["basis"],
    psql("SELECT sensor, start_us, end_us FROM capture_interval ORDER BY end_us - start_us DESC LIMIT 3", "three")))
n_flows = psql("SELECT count(*) FROM flow", "three")
keys = psql("SELECT count(*) - count(DISTINCT (sensor, run, seq)) FROM checkpoint", "three")
dup3 = psql("SELECT coalesce(sum(value), 0) FROM counter WHERE name='duplicate_connections'", "three")
n_a = report([a for p in cap(SHARE_A) for a in ("-r", p)])[1]["summary"]["flows"]
ok(n_flows == str(one_all["summary"]["flows"]) and keys == "0" and dup3 == str(n_a),
   f"{n_flows} connections stored once each (the one-shot report's {one_all['summary']['flows']}), the {n_a} of"
   f" share A that two sensors saw counted once, no checkpoint applied twice",
   (n_flows, keys, dup3, psql("SELECT sensor, count(*) FROM flow GROUP BY 1", "three")))

# ---- --retain drops whole day partitions, and the inventory stays ----
parts_before = psql("SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c"
                    " ON c.oid=i.inhrelid WHERE i.inhparent='flow'::regclass")
old_days = [p for p in parts_before.split(",") if p.startswith("flow_") and
            time.mktime(time.strptime(p[5:], "%Y%m%d")) + 2 * 86400 < time.time()]
if not old_days:
    skip("--retain drops whole day partitions", f"no partition older than 2 days by this clock ({parts_before})")
else:
    ns, va, vb = pairs[0]
    log = open(os.path.join(tmp, "retain.err"), "w+")
    p = subprocess.Popen(["ip", "netns", "exec", ns, TLSREADY, "-i", vb, "--db", DB, "--sensor", "site-a",
                          "--queue", os.path.join(qdir, "retain.queue"), "--interval", "1", "--retain", "1d", "-q",
                          "-Z", "nobody"], stdout=subprocess.DEVNULL, stderr=log,
                         env=dict(os.environ, PGPASSFILE=passfile))
    p.log = log
    procs.append(p)
    gone = wait_for(lambda: not any(d in psql("SELECT string_agg(c.relname, ',') FROM pg_inherits i JOIN pg_class c"
                                              " ON c.oid=i.inhrelid WHERE i.inhparent='flow'::regclass")
                                    for d in old_days), 15)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    log_of(p)
    rc, kept, err = report(["--db", DB, "--sensor", "site-a", "--sensor", "site-b"])
    d = differences(one, kept, ("clients", "servers")) if kept else ["no report"]
    ok(gone and rc == 0 and not d and kept["state"]["flows_stored"] == 0,
       f"--retain 1d dropped the old day partitions ({', '.join(old_days)}) whole; the inventory is kept",
       (gone, d[:3], kept and kept["state"]["flows_stored"], err))
ok(not any(sanitizer_report(o) for o in outputs), "no sanitizer report in any output",
   next((o[-600:] for o in outputs if sanitizer_report(o)), ""))
leaked = [o for o in outputs if SECRET in o]
ok(not leaked, f"the password appears in none of the {len(outputs)} outputs", leaked[:1])
cleanup()
done()

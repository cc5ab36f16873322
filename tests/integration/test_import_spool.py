"""test_import_spool.py - an import's records kept on disk (issue 18, item 1:
`tlsready -r FILE --db STATE` holds at most --records-memory of records until
its one checkpoint; the rest wait in the spool's temporary file, and the
checkpoint reads them back one at a time, a UTC day's inventory at a time).

The truth is the same import with every record held in memory (`--records-memory
1G`), the path test_monitor.py and test_pgstore.py check against the lab and
the one-shot report, and what was written into a capture built here:
- every lab capture (and the public corpus when present) imported spooled from
  the first record (`--records-memory 0`) and held, names redacted or not: the
  state files hold the same rows, in the same order, in every table (the wall
  clock aside: when the file was made and the import done), and the state's
  text, JSON and CSV reports are the same (their "now" aside);
- a capture of 16,000 connections over five UTC days from 40 clients (users,
  port-mapper lookups linked to their next connection): spooled in hundreds of
  runs (merged 64 at a time), the same rows; the state has every connection,
  the links and the users written into the capture, and a day's rows per day;
- the same into a real PostgreSQL 15 (pgserver.py), spooled and held: the
  shared store's report is the same;
- a $TMPDIR that cannot be written: one warning naming it, the same state;
- PostgreSQL: an import's batch streamed in parts is still one transaction
  (a row lock its end needs makes it fail: neither its key nor its flows are
  left; run again it is all there);
- peak memory (wait4's rusage), into the SQLite state and into PostgreSQL:
  four times the connections cost under 100 bytes more a connection spooled
  (most of it the SQLite page cache filling to its cap), over 400 held (so the
  check can fail).
"""
import atexit
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

import pgserver
from pcapgen import Pcap, dhcp, telnet_user
from spoolcap import build, peak_rss
from tap import ok, skip, done, sanitizer_report, without_keys, TLSREADY, PCAPS, CORPUS

tmp = tempfile.mkdtemp(prefix="tlsready-import-spool-")
atexit.register(shutil.rmtree, tmp, True)
ASAN = "asan" in TLSREADY
REDACT = ["--redact-users", "--redact-key", "00112233445566778899aabbccddeeff"]
STATE = os.path.join(tmp, "state.db")   # one path for both imports: the reports name it
# the wall clock in a state: when the file was made, each migration applied, each import done
WALL = {("meta", "created_us"), ("migrations", 1), ("import", "imported_us")}


def tl(args, env=None):
    p = subprocess.run([TLSREADY] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def rows(path):
    """Every table's rows in stored order, the wall-clock values blanked."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for t, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type='table' ORDER BY name").fetchall():
        cols = [c[1] for c in db.execute(f'PRAGMA table_info("{t}")')]
        got = []
        keyed = "WITHOUT ROWID" in sql.upper()   # stored in key order
        for r in db.execute(f'SELECT * FROM "{t}"' + ("" if keyed else " ORDER BY rowid")):
            r = list(r)
            if t == "meta" and (t, r[0]) in WALL:
                r[1] = None
            for i, c in enumerate(cols):
                if (t, c) in WALL or (t, i) in WALL:
                    r[i] = None
            got.append(tuple(r))
        out[t] = got
    db.close()
    return out


NOW = {"created", "now", "new_since", "clean_for_seconds"}   # the wall clock in a state's JSON report


def text_without_now(text):
    """The text report without its "Now:" line and the "clean for" section (the time since, from now)."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("Last nonsecure use per client"):
            skipping = True
        elif skipping and not line.strip():
            skipping = False
        if not skipping and not line.startswith("Now:"):
            kept.append(line)
    return "\n".join(kept)


def state_reports(db, alias=None):
    """The state's text, JSON and CSV reports, the wall clock taken out (and alias, the name of the
    database in a conninfo, made the same)."""
    got = {}
    for fmt in ("text", "json", "csv"):
        rc, out, err = tl(["-q", "--db", db, "--format", fmt])
        text = out.decode("utf-8", "replace")
        if alias:
            text = text.replace(f"dbname={alias}", "dbname=DB")
        if fmt == "json" and rc == 0:
            text = json.dumps(without_keys(json.loads(text), NOW), sort_keys=True)
        elif fmt == "text":
            text = text_without_now(text)
        got[fmt] = (rc, text, err)
    return got


def import_once(inputs, extra, env=None):
    """Import into a fresh STATE: (exit, stderr, its rows, its reports)."""
    fresh_state()
    rc, _, err = tl(["-r"] + inputs + ["--db", STATE] + extra, env=env)
    if not os.path.exists(STATE):
        return rc, err, {}, {}
    return rc, err, rows(STATE), state_reports(STATE)


def fresh_state():
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(STATE + suffix):
            os.unlink(STATE + suffix)


def growth(target):
    """Peak memory of importing cap and then cap4 into target(label, k) (a fresh --db each), spooled in
    64 KiB batches and held: {label: (bytes more per connection, [(exit, peak), (exit, peak)])}."""
    m = {}
    for label, mem in (("spooled", "64K"), ("held", "1G")):
        r = [peak_rss(["-q", "-r", c, "--records-memory", mem] + target(label, k)) for k, c in enumerate((cap, cap4))]
        m[label] = ((r[1][1] - r[0][1]) / (conns4 - conns), r)
    return m


def growth_ok(m, what):
    ok(all(x[0] == 0 for v in m.values() for x in v[1]) and m["spooled"][0] < 100 and m["held"][0] > 400,
       f"{what}: an import of {conns4 - conns} more connections costs {m['spooled'][0]:.0f} bytes each spooled "
       f"(peak {m['spooled'][1][1][1] >> 20} MiB), {m['held'][0]:.0f} held (peak {m['held'][1][1][1] >> 20} MiB)", m)


def compare(inputs, extra, label):
    """Held against spooled from the first record: a list of differences (empty: the same)."""
    a = import_once(inputs, extra + ["--records-memory", "1G"])
    b = import_once(inputs, extra + ["--records-memory", "0"])
    diffs = []
    if a[0] != b[0]:
        diffs.append(f"{label}: exit {a[0]} held, {b[0]} spooled")
    for t in sorted(set(a[2]) | set(b[2])):
        if a[2].get(t) != b[2].get(t):
            diffs.append(f"{label}: table {t}: {len(a[2].get(t, []))} rows held, {len(b[2].get(t, []))} spooled")
    for fmt in a[3]:
        if a[3][fmt][:2] != b[3].get(fmt, (None, None))[:2]:
            diffs.append(f"{label}: the state's {fmt} report differs")
    if sanitizer_report(a[1] + b[1]):
        diffs.append(f"{label}: {a[1][-300:]} {b[1][-300:]}")
    return diffs, a


# ---- every lab and corpus capture: the same state, spooled from the first record ----
captures = sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")))
if os.path.isdir(CORPUS) and not ASAN:
    captures += sorted(f for f in glob.glob(os.path.join(CORPUS, "*", "*")) if f.endswith((".pcap", ".pcapng", ".cap")))
elif ASAN:
    skip("the public corpus imported spooled", "the sanitizer pass imports the lab captures (the plain pass: both)")
else:
    skip("the public corpus imported spooled", f"{CORPUS} is absent")
differ, flows = [], 0
for cap in captures:
    d, held = compare([cap], [], os.path.basename(cap))
    differ += d
    flows += len(held[2].get("flow", []))
ok(captures and not differ and flows > 0,
   f"{len(captures)} lab and corpus captures imported spooled from the first record: every table's rows "
   f"({flows} flows) and the state's text, JSON and CSV reports the same as held", "\n".join(differ))
lab = sorted(glob.glob(os.path.join(PCAPS, "*.pcapng")))[:6]
d, _ = compare(lab, REDACT, "six lab captures in one import, names redacted")
ok(not d, f"{len(lab)} lab captures in one import, names redacted: the same state spooled", "\n".join(d))

# ---- DHCP hosts over three UTC days: rows per (host, address), a reused address ----
ROUTER, SRV = "192.0.2.1", "198.51.100.1"
MAC_A, MAC_B = bytes([2, 0, 0, 0, 0, 0x0a]), bytes([2, 0, 0, 0, 0, 0x0b])


def lease(w, mac, name, addr, ciaddr=None):
    """(A RELEASE of ciaddr,) a REQUEST from the host, an ACK from the server: a day's lease."""
    if ciaddr:
        w.udp_frame(ciaddr, ROUTER, 68, 67, dhcp(1, 7, mac, ciaddr=ciaddr), mac)
    w.udp_frame("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, mac, host=name), mac)
    w.udp_frame(ROUTER, addr, 67, 68, dhcp(2, 5, mac, yiaddr=addr, lease=86400))


hosts_cap = os.path.join(tmp, "hosts.pcap")
w = Pcap(hosts_cap)
port = 41000
# day 0: host A (alpha) on .50; day 1: A moves to .51; day 2: host B (beta) on .50; .60 has no lease
for day, (mac, name, addr, was, user) in enumerate(((MAC_A, b"alpha", "192.0.2.50", None, b"ALICE"),
                                                    (MAC_A, b"alpha", "192.0.2.51", "192.0.2.50", b"ALICE"),
                                                    (MAC_B, b"beta", "192.0.2.50", None, b"BOB"))):
    lease(w, mac, name, addr, was)
    for k in range(20):
        telnet_user(w, addr, port, SRV, user)
        telnet_user(w, "192.0.2.60", port + 1, SRV, b"CAROL")
        port += 2
        w.ts += 60
    w.ts += 86400
w.close()
d, _ = compare([hosts_cap], [], "DHCP hosts")
import_once([hosts_cap], ["--records-memory", "0"])
db = sqlite3.connect(STATE)
got = db.execute("SELECT ip, host, flows FROM inv_client WHERE open=0 ORDER BY day, host DESC").fetchall()
db.close()
A, B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
want = [("192.0.2.50", A, 20), ("192.0.2.60", "", 20), ("192.0.2.51", A, 20), ("192.0.2.60", "", 20),
        ("192.0.2.50", B, 20), ("192.0.2.60", "", 20)]
ok(not d and got == want,
   "DHCP hosts over three UTC days (one moves, its address reused by another): the same state spooled as held,"
   " a row per day and (host, address) as the leases written say", "\n".join(d) + f"\n{got}")
d, _ = compare([hosts_cap], REDACT, "DHCP hosts, names redacted")
ok(not d, "the same, names redacted", "\n".join(d))

# ---- many connections over five UTC days: runs on disk, merged, a day at a time ----
N = 3000 if ASAN else 12000
cap = os.path.join(tmp, "many.pcap")
conns, links, users = build(cap, N, spread=4 * 86400 / (N // 3) + 1)
cap4 = os.path.join(tmp, "four.pcap")   # four times as many, for the memory checks
conns4 = None if ASAN else build(cap4, 4 * N, spread=4 * 86400 / (4 * N // 3) + 1)[0]
d, held = compare([cap], [], "the many-connection capture")
ok(not d, f"{conns} connections over five UTC days imported spooled in 0-byte runs: the same state as held",
   "\n".join(d))
flow_rows = held[2].get("flow", [])
js = [json.loads(r[-1]) for r in flow_rows]
linked = [f for f in js if f.get("mapper") and f["mapper"].get("next_connection") is not None]
days = {r[1] // 86400_000_000 for r in flow_rows}   # (id, start_us, ...)
ok(len(flow_rows) == conns and len(linked) == links and {f["user"] for f in js if f.get("user")} == users
   and len(days) >= 5,
   f"held: {conns} connections stored on {len(days)} UTC days, {links} lookups linked, {len(users)} users",
   f"{len(flow_rows)} flows, {len(linked)} linked, {len(days)} days")
rc, err, spooled_rows, _ = import_once([cap], ["--records-memory", "64K"])
ok(rc == 0 and spooled_rows == held[2] and "temporary file" in err and str(conns) in err,
   "--records-memory 64K: the same rows, and the import says how many records went through the temporary file",
   err[-400:])

# ---- an unwritable $TMPDIR: the records stay in memory ----
missing = os.path.join(tmp, "missing")
rc, err, got_rows, _ = import_once([cap], ["--records-memory", "0"], env=dict(os.environ, TMPDIR=missing))
warn = [line for line in err.splitlines() if "warning" in line]
ok(rc == 0 and got_rows == held[2] and len(warn) == 1 and missing in warn[0],
   "an unwritable $TMPDIR: one warning naming it, the same state (records kept in memory)", err[-400:])

# ---- the shared store: the same report, spooled and held ----
why = pgserver.available()
if why:
    skip("PostgreSQL: an import spooled and held give the same report", why)
else:
    srv = pgserver.started()
    out = {}
    for mode, mem in (("held", "1G"), ("spooled", "0")):
        srv.psql(f"CREATE DATABASE {mode} OWNER {srv.user}")
        db = srv.conninfo(db=mode)
        rc, _, err = tl(["-q", "-r", cap, "--db", db, "--sensor", "s1", "--records-memory", mem])
        rep = state_reports(db, alias=mode)
        j = json.loads(rep["json"][1]) if rep["json"][0] == 0 else {}
        out[mode] = (rc, err, rep, j)
    h, s = out["held"], out["spooled"]
    same = all(h[2][f][:2] == s[2][f][:2] for f in h[2])
    stored = [o[3].get("state", {}).get("flows_stored") for o in (h, s)]
    ok(h[0] == 0 and s[0] == 0 and same and stored == [conns, conns] and not sanitizer_report(h[1] + s[1]),
       f"PostgreSQL 15: {conns} connections imported spooled from the first record and held: the same state report",
       f"{h[0]} {s[0]} stored {stored} {h[1][-300:]} {s[1][-300:]} "
       + " ".join(f for f in h[2] if h[2][f][:2] != s[2][f][:2]))

    # one transaction, however many parts it was sent in: a counter row another session inserted and has not
    # committed (the counters are written after every flow and inventory row was sent) makes the import wait
    # past its lock_timeout and fail; nothing of it is left, and it can be run again
    srv.psql(f"CREATE DATABASE failing OWNER {srv.user}")
    srv.psql("ALTER DATABASE failing SET lock_timeout = '1s'")
    db = srv.conninfo(db="failing")
    rc0, _, err0 = tl(["-q", "-r", os.path.join(PCAPS, "demo.pcapng"), "--db", db, "--sensor", "s0"])  # the schema
    locker = subprocess.Popen(srv.prefix + [f"{pgserver.BIN}/psql", "-X", "-q", "-h", srv.sock, "-U", srv.user, "-d",
                                            "failing", "-c", "BEGIN; INSERT INTO counter VALUES('s1', 'packets', 0);"
                                            " SELECT pg_sleep(8); COMMIT;"], env=srv.env, cwd=srv.dir,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(lambda: locker.poll() is None and locker.kill())
    time.sleep(1)
    rc1, _, err1 = tl(["-r", cap, "--db", db, "--sensor", "s1", "--records-memory", "0"])
    left = [srv.psql(f"SELECT count(*) FROM {t} WHERE sensor='s1'", "failing")[1].strip()
            for t in ("flow", "checkpoint", "import", "inv_client")]
    locker.wait(timeout=30)
    rc2, _, err2 = tl(["-q", "-r", cap, "--db", db, "--sensor", "s1", "--records-memory", "0"])
    after = srv.psql("SELECT count(*) FROM flow WHERE sensor='s1'", "failing")[1].strip()
    ok(rc0 == 0 and rc1 == 2 and "nothing imported" in err1 and "lock timeout" in err1 and "prepare" not in err1
       and left == ["0", "0", "0", "0"] and rc2 == 0
       and after == str(conns),
       f"PostgreSQL: an import streamed in parts is one transaction: refused at its end (a row lock held), none of "
       f"its {conns} flows is left; run again, all of them are there",
       f"{rc0} {rc1} {left} {rc2} {after} {err0[-200:]} {err1[-300:]} {err2[-200:]}")

    # memory: the batch leaves as it is built
    if ASAN:
        skip("PostgreSQL: peak memory of an import per connection", "a sanitizer build's memory is not the product's")
    else:
        def pg_db(label, k):
            srv.psql(f"CREATE DATABASE mem_{label}_{k} OWNER {srv.user}")
            return ["--db", srv.conninfo(db=f"mem_{label}_{k}"), "--sensor", "s1"]
        growth_ok(growth(pg_db), "PostgreSQL, the batch streamed")
    srv.cleanup()

# ---- memory: flat when spooled ----
if ASAN:
    skip("peak memory of an import per connection, spooled and held", "a sanitizer build's memory is not the product's")
else:
    def sqlite_state(label, k):
        fresh_state()
        return ["--db", STATE]
    growth_ok(growth(sqlite_state), "the SQLite state")
done()

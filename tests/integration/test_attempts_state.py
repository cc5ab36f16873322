"""test_attempts_state.py - --max-attempts in the state (issue 18): an
import keeps the first N attempt-only connections as flow records and stores
the others folded per UTC day, server, port and TCP outcome, so a SYN flood
costs the state a few rows, not a flow row and a client row per spoofed
source.

The truth is the capture, written here SYN by SYN (pcapgen.syn_flood: every
SYN from its own address, ports 8476 and 9476 in turn), and the one-shot
report of the same file under the same cap (an import is one engine run, so
it must fold the very same connections):

- SQLite: the state's folded_attempts equals the one-shot report's; a second
  file of the same day merges into the same rows (connections add up, the
  sources' sketches merge); per port, the flow records kept plus the folded
  connections are the SYNs written to it; no client row for a folded source;
  --max-attempts 0 keeps every SYN as before; the text report says so.
- PostgreSQL 15 (pgserver.py): the same two imports give the same
  folded_attempts as the SQLite state (the database merges the sketches in
  SQL, SQLite in C: two implementations, one answer).
"""
import atexit
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

import pgserver
from pcapgen import syn_flood
from tap import ok, skip, done, sanitizer_report, TLSREADY

ASAN = "asan" in TLSREADY
N = 4000 if ASAN else 20000          # SYNs in each of the two files
CAP = 300 if ASAN else 1000
tmp = tempfile.mkdtemp(prefix="tlsready-attstate-")
atexit.register(shutil.rmtree, tmp, True)

fa, fb = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "b.pcap")
syn_flood(fa, N)
syn_flood(fb, N, first=N, t0_us=1_700_000_060_000_000)   # a minute later, the same UTC day, other sources


def tl(args):
    p = subprocess.run([TLSREADY] + args, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def folded(doc):
    return (doc or {}).get("folded_attempts")


def per_port(doc):
    return {g["port"]: g["connections"] for g in (folded(doc) or {}).get("groups", [])}


errs = ""

# ---- the one-shot truth ----
rc, out, err = tl(["-r", fa, "--max-attempts", str(CAP), "--format", "json"])
errs += err
one = json.loads(out) if rc == 0 else {}
ok(rc == 0 and folded(one) and folded(one)["connections"] == N - CAP and len(one["flows"]) == CAP,
   f"one-shot: {N} SYNs under --max-attempts {CAP}: {CAP} listed, {N - CAP} folded", (rc, err[-300:]))

# ---- SQLite: one import, then a second file of the same day ----
state = os.path.join(tmp, "s.db")
rc1, _, e1 = tl(["-q", "-r", fa, "--db", state, "--max-attempts", str(CAP)])
rc, out, e2 = tl(["--db", state, "--format", "json"])
errs += e1 + e2
st1 = json.loads(out) if rc == 0 else {}
ok(rc1 == 0 and folded(st1) == folded(one) and st1["state"]["flows_stored"] == CAP
   and st1["capture"]["counters"]["attempt_records_folded"] == N - CAP,
   f"an import folds as the one-shot run of the same file: the same folded_attempts (groups, times, sources' "
   f"estimates), {CAP} flow records, the counter", (rc1, folded(st1), folded(one), e1[-300:]))

rc2, _, e1 = tl(["-q", "-r", fb, "--db", state, "--max-attempts", str(CAP)])
rc, out, e2 = tl(["--db", state, "--format", "json"])
errs += e1 + e2
st2 = json.loads(out) if rc == 0 else {}
db = sqlite3.connect(state)
kept = dict(db.execute("SELECT port, count(*) FROM flow GROUP BY port").fetchall())
clients = db.execute("SELECT count(*) FROM inv_client").fetchone()[0]
group_rows = db.execute("SELECT count(*) FROM attempt_group").fetchone()[0]
db.close()
f2 = folded(st2) or {}
ports = per_port(st2)
sources = sum(g["sources_estimate"] for g in f2.get("groups", []))
ok(rc2 == 0 and f2.get("connections") == 2 * (N - CAP) and st2["state"]["flows_stored"] == 2 * CAP
   and sum(ports.values()) + f2["other"]["connections"] == f2["connections"]
   and all(kept.get(p, 0) + ports.get(p, 0) == N for p in (8476, 9476)) and group_rows == 2,
   f"a second file of the same day merges into the same two rows: {2 * (N - CAP)} folded, {2 * CAP} kept; per port "
   f"the records kept and the folded connections are the {N} SYNs written to it",
   (rc2, f2.get("connections"), kept, ports, group_rows, e1[-300:]))
ok(abs(sources - 2 * (N - CAP)) <= 0.1 * 2 * (N - CAP),
   f"the merged sketches estimate the {2 * (N - CAP)} distinct folded sources within 10 %: {sources}", sources)
ok(clients == 2 * CAP,
   f"a folded SYN's source is no client row: {clients} rows for the {2 * CAP} sources kept", clients)

rc, text, _ = tl(["--db", state])
lines = [l for l in text.splitlines() if "more attempt-only connections" in l]
ok(rc == 0 and len(lines) == 2 and all(f"{ports[p]} more attempt-only connections" in l and f":{p} (unanswered)" in l
                                       for p, l in zip((8476, 9476), lines))
   and "kept as flow records" in text,
   "the text report of the state: a line per group, with its count", lines)

whole = os.path.join(tmp, "all.db")
rc3, _, e1 = tl(["-q", "-r", fa, "--db", whole, "--max-attempts", "0"])
rc, out, e2 = tl(["--db", whole, "--format", "json"])
errs += e1 + e2
d = json.loads(out) if rc == 0 else {}
ok(rc3 == 0 and d.get("state", {}).get("flows_stored") == N and folded(d) is None
   and d["capture"]["counters"]["attempt_records_folded"] == 0,
   f"--max-attempts 0: every one of the {N} SYNs is a flow record, nothing folded", (rc3, folded(d)))

# ---- PostgreSQL: the same two imports, the same answer ----
why = pgserver.available()
if why:
    skip("PostgreSQL: folded attempts as in the SQLite state", why)
else:
    srv = pgserver.started()
    srv.psql(f"CREATE DATABASE att OWNER {srv.user}")
    pg = srv.conninfo(db="att")
    rcs = [tl(["-q", "-r", f, "--db", pg, "--sensor", "s1", "--max-attempts", str(CAP)]) for f in (fa, fb)]
    rc, out, e2 = tl(["--db", pg, "--format", "json"])
    errs += "".join(r[2] for r in rcs) + e2
    p2 = json.loads(out) if rc == 0 else {}
    rows = srv.psql("SELECT count(*) FROM attempt_group", "att")[1].strip()
    ok([r[0] for r in rcs] == [0, 0] and rc == 0 and folded(p2) == folded(st2) and rows == "2"
       and p2["state"]["flows_stored"] == 2 * CAP,
       "PostgreSQL 15: the two imports give the SQLite state's folded_attempts (the sketches merged in SQL)",
       (rcs, folded(p2), rows))
    srv.cleanup()

ok(not sanitizer_report(errs), "no sanitizer report", errs[-500:])
done()

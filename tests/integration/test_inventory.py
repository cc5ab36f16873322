#!/usr/bin/env python3
"""One inventory, many writers (issue 11).

- Every counter of the registry (`--list-counters`) appears in every format: the JSON
  capture.counters object, a CSV "counter" row, the text report's Counters section; in the
  one-shot report and in the report of a state.
- `-r FILE... --db STATE` imports captures into the state; the state's report then carries the
  same summary, servers, certificates and clients, field by field, as the one-shot report over
  the same files (one file at a time, and all the lab captures at once); a second import of a
  file is refused (exit 6) and changes nothing.
- Periods: captures shifted with editcap -t to known days; --since/--until select them.
- Layers: no writer includes (directly or not) the engine, flow or decode headers.

The truth is the one-shot report of the same bytes, editcap's shift, and the source tree.
"""
import atexit
import csv
import datetime
import glob
import io
import json
import os
import re
import shutil
import subprocess
import tempfile

from tap import ok, skip, run, done, text_counter, PCAPS, TOP

tmp = tempfile.mkdtemp(prefix="tlsready-inventory-")
atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens
lab = sorted(glob.glob(os.path.join(PCAPS, "*.pcap")) + glob.glob(os.path.join(PCAPS, "*.pcapng")))
SHARED = ("summary", "servers", "certificates", "clients")


def report(args, fmt="json"):
    rc, out, err = run(["-q", "--format", fmt] + args)
    out = out.decode("utf-8", "replace")
    doc = None
    if fmt == "json":
        try:
            doc = json.loads(out)
        except ValueError:
            pass
    return rc, (doc if fmt == "json" else out), err


def flat(counters):
    out = {}
    for k, v in counters.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    return out


def differences(a, b):
    """The shared objects that differ, with the first differing field."""
    diffs = []
    for k in SHARED:
        if a.get(k) == b.get(k):
            continue
        x, y = a.get(k), b.get(k)
        if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y)):
                if p != q:
                    field = next((f for f in p if p.get(f) != q.get(f)), None)
                    diffs.append(f"{k}[{i}].{field}: {p.get(field)!r} vs {q.get(field)!r}")
                    break
        else:
            diffs.append(f"{k}: {str(x)[:200]} vs {str(y)[:200]}")
    return diffs


# ---- every counter in every format ----
rc, out, err = run(["--list-counters"])
registry = [l.split("\t")[0] for l in out.decode().splitlines() if l.strip()]
ok(rc == 0 and len(registry) > 40 and len(set(registry)) == len(registry), "--list-counters prints the registry",
   out[:300])
demo = os.path.join(PCAPS, "demo.pcapng")


def every_counter_in_every_format(args, label):
    _, doc, _ = report(args)
    _, text, _ = report(args, "text")
    _, table, _ = report(args, "csv")
    js = flat(doc["capture"]["counters"]) if doc else {}
    rows = {r[5]: int(r[8]) for r in csv.reader(io.StringIO(table)) if r and r[0] == "counter"}
    missing = [(n, js.get(n), rows.get(n.split(".")[-1]), text_counter(text, n)) for n in registry
               if n not in js or rows.get(n.split(".")[-1]) != js[n] or text_counter(text, n) != js[n]]
    ok(doc and not missing, f"{label}: each of the {len(registry)} counters is in JSON, CSV and text, same value",
       missing[:5])


every_counter_in_every_format(["-r", demo], "one-shot report")

# ---- imports: the state's report equals the one-shot report ----
for path in lab:
    name = os.path.basename(path)
    db = os.path.join(tmp, name + ".db")
    rc, out, err = run(["-q", "-r", path, "--db", db])
    rc1, one, _ = report(["-r", path])
    ok(rc == rc1 and rc in (0, 1), f"import {name}: exit {rc} like the one-shot run", err)
    rc2, stored, err2 = report(["--db", db])
    d = differences(one, stored) if one and stored else ["no report"]
    ok(rc2 == 0 and not d, f"import {name}: the state's report has the one-shot summary, servers, certificates and"
       " clients", d[:3] or err2)
    usage = lambda t: [r for r in csv.reader(io.StringIO(t)) if r and r[0] in ("usage", "counter")]
    one_csv, stored_csv = report(["-r", path], "csv")[1], report(["--db", db], "csv")[1]
    ok(usage(one_csv) == usage(stored_csv) and usage(one_csv), f"import {name}: the same CSV usage and counter rows",
       [(a, b) for a, b in zip(usage(one_csv), usage(stored_csv)) if a != b][:2])
    body = lambda t: t[t.find("\nClients still using nonsecure ports"):t.find("\nCounters\n")].replace(
        "days after the last checkpoint", "days after the capture").replace(
        "in this period", "in this capture")
    one_txt, stored_txt = report(["-r", path], "text")[1], report(["--db", db], "text")[1]
    ok(body(one_txt) == body(stored_txt) and len(body(one_txt)) > 200,
       f"import {name}: the same text from the client lists to the servers",
       [(a, b) for a, b in zip(body(one_txt).splitlines(), body(stored_txt).splitlines()) if a != b][:3])
    ok(stored and flat(stored["capture"]["counters"]) == flat(one["capture"]["counters"]) and
       stored["capture"]["packets"] == one["capture"]["packets"],
       f"import {name}: the state keeps every counter of the run", name)

db = os.path.join(tmp, "all.db")
rc, out, err = run(["-q", "--db", db] + sum((["-r", p] for p in lab), []))
_, one, _ = report(sum((["-r", p] for p in lab), []))
_, stored, _ = report(["--db", db])
d = differences(one, stored) if one and stored else ["no report"]
ok(rc in (0, 1) and not d, f"import of all {len(lab)} lab captures at once: the same shared objects", d[:3] or err)
every_counter_in_every_format(["--db", db], "report of a state")

# a second import of a file is refused, says when, and adds nothing
before = report(["--db", db])[1]
rc, out, err = run(["--db", db, "-r", demo])
ok(rc == 6 and "already imported" in err and "demo.pcapng" in err and len(err.strip().splitlines()) == 1,
   "a file imported before is refused: exit 6, one line naming it", err)
after = report(["--db", db])[1]
ok(before and after and all(before[k] == after[k] for k in SHARED) and
   before["state"]["imports"] == after["state"]["imports"] == len(lab), "the refused import changed nothing",
   after and after["state"]["imports"])
copy = os.path.join(tmp, "renamed.pcapng")
with open(demo, "rb") as f, open(copy, "wb") as g:
    g.write(f.read())
rc, out, err = run(["--db", db, "-r", copy])
ok(rc == 6 and "renamed.pcapng" in err and "demo.pcapng" in err, "a renamed copy is known by its bytes", err)
rc, out, err = run(["--db", os.path.join(tmp, "twice.db"), "-r", demo, "-r", copy])
ok(rc == 6 and "given twice" in err and not os.path.exists(os.path.join(tmp, "twice.db")) or
   rc == 6 and report(["--db", os.path.join(tmp, "twice.db")])[1]["summary"]["clients"] == 0,
   "the same bytes twice in one import: refused, nothing added", err)

# ---- periods: captures shifted to known days ----
failures = os.path.join(PCAPS, "failures.pcapng")
if not os.path.exists(failures) or subprocess.run(["which", "editcap"], capture_output=True).returncode:
    skip("periods", "pcaps/failures.pcapng or editcap missing")
else:
    def first_packet(path):
        return datetime.datetime.fromisoformat(report(["-r", path])[1]["capture"]["first_packet"].replace("Z", "+00:00"))

    t0 = datetime.datetime(2026, 11, 30, tzinfo=datetime.timezone.utc)
    weeks = {}
    for path, days in ((demo, 14), (failures, 7)):
        shifted = os.path.join(tmp, f"week-{days}.pcapng")
        target = t0 - datetime.timedelta(days=days) + datetime.timedelta(hours=1)
        delta = (target - first_packet(path)).total_seconds()
        subprocess.run(["editcap", "-t", f"{delta:.6f}", path, shifted], check=True, capture_output=True)
        weeks[days] = shifted
    pdb = os.path.join(tmp, "periods.db")
    rc, out, err = run(["-q", "--db", pdb, "-r", weeks[14], "-r", weeks[7]])
    ok(rc in (0, 1), "two captures a week apart imported", err)
    older = report(["-r", weeks[14]])[1]
    newer = report(["-r", weeks[7]])[1]
    both = report(["-r", weeks[14], "-r", weeks[7]])[1]
    day = lambda d: (t0 - datetime.timedelta(days=d)).strftime("%Y-%m-%d")
    w1 = report(["--db", pdb, "--since", day(14), "--until", day(8)])[1]
    w2 = report(["--db", pdb, "--since", day(7), "--until", day(0)])[1]
    w3 = report(["--db", pdb])[1]
    ok(w1 and not differences(older, w1), "--since/--until the first week: that capture's inventory",
       w1 and differences(older, w1)[:3])
    ok(w2 and not differences(newer, w2), "--since/--until the second week: that capture's inventory",
       w2 and differences(newer, w2)[:3])
    ok(w3 and not differences(both, w3), "no window: both", w3 and differences(both, w3)[:3])
    empty = report(["--db", pdb, "--since", day(30), "--until", day(20)])[1]
    ok(empty and empty["summary"]["clients"] == 0 and empty["clients"] == [], "a window with no traffic is empty")
    # the second week against the first: from the two one-shot reports of the same captures
    def uses(doc):
        return {(c["ip"], u["server"], u["service"], u["port"]) for c in doc["clients"] if c["status"] == "nonsecure"
                for u in c["nonsecure"] if u["connections"] > u["refused"] + u["unanswered"]}

    for fmt in ("json", "text", "csv"):
        rc, out, err = run(["-q", "--db", pdb, "--since", day(7), "--until", day(0), "--compare",
                            f"{day(14)}..{day(8)}", "--format", fmt])
        if fmt == "json":
            cmp = json.loads(out)["comparison"] if rc == 0 else {}
        elif fmt == "text":
            ctext = out.decode()
        else:
            ccsv = list(csv.reader(io.StringIO(out.decode())))
    key = lambda x: (x["client"], x["server"], x["service"], x["port"])
    new = {key(x) for x in cmp.get("new_nonsecure", [])}
    still = {key(x) for x in cmp.get("still_nonsecure", [])}
    gone = {x["client"] for x in cmp.get("disappeared", [])}
    ok(cmp and new == uses(newer) - uses(older) and still == uses(newer) & uses(older) and
       gone == {c["ip"] for c in older["clients"]} - {c["ip"] for c in newer["clients"]},
       "--compare: new nonsecure uses, uses still there, clients gone: as the two weeks' own reports say",
       (new, uses(newer) - uses(older), still, gone))
    ok(all(ip in ctext for ip, *_ in new) and len(ccsv) > 2 and
       {r[0] for r in ccsv[1:]} >= {"new-nonsecure", "disappeared"} and
       {r[1] for r in ccsv[1:] if r[0] == "new-nonsecure"} == {ip for ip, *_ in new},
       "--compare in text and CSV names the same clients", ctext[:600])
    rc, out, err = run(["--db", pdb, "--compare", "7d"])
    ok(rc == 2 and "--compare" in err, "--compare without SINCE..UNTIL is a usage error", err)
    rc, out, err = run(["-r", demo, "--compare", "14d..7d"])
    ok(rc == 2 and "--db" in err, "--compare needs --db", err)
    rc, out, err = run(["--db", pdb, "--since", "2026-13-45"])
    ok(rc == 2 and "--since" in err, "a date that is not one is a usage error", err)
    rc, out, err = run(["--db", pdb, "--since", day(7), "--until", day(14)])
    ok(rc == 2 and "--until" in err, "--until before --since is a usage error", err)

# ---- layers: no writer sees the engine, the flow table or the decoder ----
def quoted_includes(path):
    with open(path) as f:
        return re.findall(r'^#include "([^"]+)"', f.read(), re.M)


def header_path(name):
    for d in ("analyzer", "dissectors"):
        p = os.path.join(TOP, d, name)
        if os.path.exists(p):
            return p
    return None


def closure(path):
    seen, todo = set(), [path]
    while todo:
        for inc in quoted_includes(todo.pop()):
            p = header_path(inc)
            if p and inc not in seen:
                seen.add(inc)
                todo.append(p)
    return seen


writers = sorted(glob.glob(os.path.join(TOP, "analyzer", "report_*.c")) +
                 [os.path.join(TOP, "analyzer", "state_report.c")])
bad = {os.path.basename(w): sorted(closure(w) & {"engine.h", "flow.h", "decode.h", "capture.h", "workers.h"})
       for w in writers}
bad = {k: v for k, v in bad.items() if v}
ok(len(writers) >= 5 and not bad, f"no writer ({len(writers)} files) includes the engine, flow, decode or capture"
   " headers, even indirectly", bad)

done()

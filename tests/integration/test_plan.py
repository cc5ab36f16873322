#!/usr/bin/env python3
"""The cutover plan (issue 12).

Truth: each lab capture's own record (pcaps/*.truth.json: what the lab's real clients did), and
editcap's time shifts for the multi-day scenarios.

- Blocked doors and the clients named: a door is blocked by a client whose connection to that
  nonsecure port got past the TCP handshake, or that asked the port mapper for that nonsecure service;
  computed from the truth, compared with the plan's JSON for every lab capture.
- Every door ready (TLS-only traffic observed over 8 days, --plan-days 7); only the telnet door
  blocked (one emulator); loopback use captured; a short capture (verdict unknown); a state whose
  capture dropped packets (unknown).
- The plan of a state built from the same captures equals the offline plan (doors, clients).
- --ready exits 0 only for a ready door; --format clp comments out the steps of doors not ready;
  tlsready never runs a command (the CL member is text).
"""
import atexit
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

import re

from clsyntax import check
from tap import ok, skip, run, done, PCAPS, TLSREADY

tmp = tempfile.mkdtemp(prefix="tlsready-plan-")
atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens
NAMES = {"as-central": 8470, "as-database": 8471, "as-dtaq": 8472, "as-netdrive": 8473, "as-netprt": 8474,
         "as-rmtcmd": 8475, "as-signon": 8476, "as-transfer": 8478, "as-vrtprint": 8479, "telnet": 23}


def plan(args):
    rc, out, err = run(["-q", "--plan", "--format", "json"] + args)
    try:
        return rc, json.loads(out)["plan"], err
    except (ValueError, KeyError):
        return rc, None, err


def expected(truth):
    doors, clients = set(), set()
    for fl in truth["flows"]:
        # doors.truth.json: an upgrade by the protocol's own command before any credential is a secure use
        upgraded = (fl.get("upgrade") or {}).get("result") == "upgraded"
        if fl["port_class"] == "nonsecure" and fl["tcp"] not in ("refused", "unanswered") and not upgraded:
            doors.add(fl["server_port"])
            clients.add(fl["client_ip"])
        m = fl.get("mapper")
        if m and m.get("requested") and not m["requested"].endswith("-s") and m["requested"] in NAMES:
            doors.add(NAMES[m["requested"]])
            clients.add(fl["client_ip"])
    return doors, clients


def blocked(p):
    return {d["port"] for d in p["doors"] if d["verdict"] == "blocked"}, {c["ip"] for c in p["blocking_clients"]}


for truth_file in sorted(glob.glob(os.path.join(PCAPS, "*.truth.json"))):
    with open(truth_file) as f:
        truth = json.load(f)
    cap = os.path.join(PCAPS, truth["capture"])
    if not os.path.exists(cap):
        continue
    rc, p, err = plan(["-r", cap])
    want = expected(truth)
    got = blocked(p) if p else None
    ok(p and got == want, f"{truth['capture']}: the blocked doors and the clients named are the lab's own",
       f"got {got} want {want}")
    ok(p and all(d["verdict"] != "ready" for d in p["doors"]),
       f"{truth['capture']}: a capture of seconds makes no door ready (unknown, or blocked)", p and p["basis"])

# ---- several days: editcap shifts ----
def shifted(src, days, name):
    out = os.path.join(tmp, name)
    subprocess.run(["editcap", "-t", str(days * 86400), src, out], check=True, capture_output=True)
    return out


modern = os.path.join(PCAPS, "modern.pcapng")
telnet = os.path.join(PCAPS, "telnet.pcapng")
loopback = os.path.join(PCAPS, "loopback.pcapng")
if not shutil.which("editcap") or not all(os.path.exists(f) for f in (modern, telnet, loopback)):
    skip("multi-day plans", "editcap or a lab capture missing")
else:
    later = shifted(modern, 8, "modern-8d.pcapng")
    rc, p, err = plan(["-r", modern, "-r", later, "--plan-days", "7"])
    ok(p and p["verdict"] == "ready" and all(d["verdict"] == "ready" for d in p["doors"]) and
       p["basis"]["observed_seconds"] >= 7 * 86400, "TLS only over 8 days: every door ready", p and p["basis"])
    rc, out, err = run(["-q", "-r", modern, "-r", later, "--plan-days", "7", "--ready", "all"])
    ok(rc == 0, "--ready all: exit 0 when every door is ready", rc)
    rc, out, err = run(["-q", "-r", modern, "-r", later, "--plan-days", "9", "--ready", "all"])
    ok(rc == 3, "--plan-days 9 over 8 days observed: not ready (exit 3)", rc)

    tel_later = shifted(telnet, 8, "telnet-8d.pcapng")
    args = ["-r", modern, "-r", tel_later, "--plan-days", "7"]
    rc, p, err = plan(args)
    tel_truth = json.load(open(os.path.join(PCAPS, "telnet.truth.json")))
    ok(p and blocked(p) == expected(tel_truth) and
       all(d["verdict"] == "ready" for d in p["doors"] if d["port"] != 23),
       "telnet blocked by the lab's emulators, every other door ready", p and blocked(p))
    ok(p and {c["fix"] for c in p["blocking_clients"]} == {"5250-emulator"},
       "the telnet clients are told to use port 992 with TLS (their terminal type was seen)",
       p and p["blocking_clients"])
    for door, want in (("host-servers", 0), ("as-signon", 0), ("8476", 0), ("telnet", 3), ("23", 3)):
        rc, out, err = run(["-q"] + args + ["--ready", door])
        ok(rc == want, f"--ready {door}: exit {want}", (rc, err))
    rc, out, err = run(["-q"] + args + ["--ready", "no-such-door"])
    ok(rc == 2 and "no-such-door" in err, "--ready with an unknown door: exit 2, one line", err)
    rc, clp, err = run(["-q"] + args + ["--format", "clp"])
    clp = clp.decode()
    lines = clp.splitlines()
    active = [l.strip() for l in lines if l.strip() and not l.lstrip().startswith("/*")]
    ok(rc == 0 and "ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR)" in active and
       not any(l.startswith("CHGTELNA") for l in active) and "/*           CHGTELNA ALWSSL(*ONLY) */" in lines,
       "--format clp: the host-server steps active, the telnet steps commented out", clp)
    ok(all(l.startswith("/*") == l.rstrip().endswith("*/") for l in lines if l.strip()),
       "--format clp: every comment is closed on its line", clp)

    # the same traffic in a state: the same plan
    db = os.path.join(tmp, "plan.db")
    rc, out, err = run(["-q", "--db", db, "-r", modern, "-r", tel_later])
    rc1, ps, _ = plan(["--db", db, "--plan-days", "7"])
    rc2, po, _ = plan(args)
    strip = lambda p: (p["verdict"], p["doors"], p["blocking_clients"], p["would_break"])
    ok(ps and po and strip(ps) == strip(po) and ps["basis"]["from_state"],
       "the plan of a state equals the plan of the same captures read offline",
       ps and po and [(a, b) for a, b in zip(ps["doors"], po["doors"]) if a != b][:2])
    # a state whose capture dropped packets (an interval as a monitor writes it, and its cumulative
    # counter): nothing unused can be called ready
    con = sqlite3.connect(db)
    con.execute("INSERT INTO interval(iface, start_us, end_us, packets, received, dropped_kernel, dropped_interface,"
                " flows, not_analysed) SELECT 'eth1', max(end_us), max(end_us) + 60000000, 1000, 1500, 500, 0, 0, 0"
                " FROM interval")
    con.execute("INSERT INTO counter VALUES('pcap_dropped_kernel', 500) ON CONFLICT(name) DO UPDATE SET value=value+500")
    con.commit()
    con.close()
    rc, pd, _ = plan(["--db", db, "--plan-days", "7"])
    ok(pd and pd["basis"]["coverage"] < 0.999 and all(d["verdict"] == "unknown" for d in pd["doors"] if d["port"] != 23)
       and {d["verdict"] for d in pd["doors"] if d["port"] == 23} == {"blocked"},
       "a capture that dropped 500 packets: the unused doors are unknown, the used one still blocked",
       pd and pd["basis"])

    rc, p, err = plan(["-r", loopback])
    lo_truth = json.load(open(os.path.join(PCAPS, "loopback.truth.json")))
    ok(p and p["basis"]["loopback_seen"] and blocked(p) == expected(lo_truth) and
       all(c["fix"] == "ibm-i-itself" for c in p["blocking_clients"] if c["ip"] in ("127.0.0.1", "::1")),
       "loopback use captured: the IBM i's own connections block the doors they use", p and p["blocking_clients"])
    rc, p, err = plan(["-r", modern])
    ok(p and not p["basis"]["loopback_seen"], "a span capture without loopback says it could not see loopback")
    rc, text, err = run(["-q", "-r", modern])
    text = text.decode()
    ok(text.find("Cutover plan") > 0 and text.find("Cutover plan") < text.find("Clients still using nonsecure"),
       "the text report opens with the cutover plan", text[:400])

# ---- the lab's cutover scenario: one emulator on telnet, a legacy port in use, a client that only
# asked the port mapper (pcaps/cutover.truth.json: the mock's and the clients' own logs) ----
LEGACY_PORTS = {8477, 8478, 8479}


def fixes_from_truth(truth):
    """What each blocking client must change, from what the lab's clients did: a scripted 5250
    emulator on 23 -> 5250-emulator; only legacy ports -> legacy-port; a nonsecure name asked of the
    mapper and no nonsecure connection past the SYN -> port-mapper-only."""
    out = {}
    for ip in expected(truth)[1]:
        mine = [f for f in truth["flows"] if f["client_ip"] == ip]
        used = [f for f in mine if f["port_class"] == "nonsecure" and f["tcp"] not in ("refused", "unanswered")]
        asked = [f for f in mine if f.get("mapper") and f["mapper"].get("requested")
                 and not f["mapper"]["requested"].endswith("-s")]
        if not used and asked:
            out[ip] = "port-mapper-only"
        elif used and all(f["server_port"] in LEGACY_PORTS for f in used):
            out[ip] = "legacy-port"
        elif used and all(f["server_port"] == 23 and f["client"] == "tn5250-script" for f in used):
            out[ip] = "5250-emulator"
        else:
            out[ip] = "?"
    return out


cutover = os.path.join(PCAPS, "cutover.pcapng")
if not os.path.exists(cutover) or not shutil.which("editcap"):
    skip("the lab's cutover scenario", "pcaps/cutover.pcapng or editcap missing")
else:
    ct = json.load(open(os.path.join(PCAPS, "cutover.truth.json")))
    want_doors, want_clients = expected(ct)
    want_fix = fixes_from_truth(ct)
    tn_clients = {f["client_ip"] for f in ct["flows"] if f["server_port"] == 23 and f["port_class"] == "nonsecure"}
    rc, p, err = plan(["-r", cutover])
    got_fix = {c["ip"]: c["fix"] for c in p["blocking_clients"]} if p else {}
    ok(p and want_doors == {23, 8476, 8478} and got_fix == want_fix and "?" not in want_fix.values(),
       "cutover: the emulator is told to use 992, the legacy client to replace the function, the mapper-only client"
       " to switch its configuration (each as the lab's clients did)", (got_fix, want_fix))
    d = {x["port"]: x for x in p["doors"]} if p else {}
    ok(d and d[23]["verdict"] == "blocked" and d[23]["clients"] == len(tn_clients) == 1,
       "cutover: telnet is blocked by exactly the one emulator that used it", d and d[23])
    syns = sum(1 for f in ct["flows"] if f["server_port"] == 8476 and f["tcp"] in ("refused", "unanswered"))
    ok(d and d[8476]["verdict"] == "blocked" and d[8476]["asked_port_mapper"] and d[8476]["attempts"] == syns == 1,
       "cutover: 8476 is blocked by a port-mapper request though its only SYN went unanswered", d and d[8476])
    ok(d and d[8478]["verdict"] == "blocked" and d[8478]["kind"] == "legacy" and d[8478]["tls_port"] is None,
       "cutover: the legacy as-transfer port in use is blocked and has no TLS port", d and d[8478])
    # eight days later the same traffic again, TLS-only traffic before it: every door the lab's clients
    # did not use in the clear is ready, the three they did use stay blocked
    cut_later = shifted(cutover, 8, "cutover-8d.pcapng")
    cargs = ["-r", modern, "-r", cut_later, "--plan-days", "7"]
    rc, p, err = plan(cargs)
    ok(p and blocked(p) == (want_doors, want_clients) and
       all(x["verdict"] == "ready" for x in p["doors"] if x["port"] not in want_doors),
       "cutover over 8 days: exactly the lab's three doors blocked, every other door ready",
       p and [(x["port"], x["verdict"]) for x in p["doors"]])
    text = run(["-q", "--plan"] + cargs)[1].decode()
    ready_hs = sorted(x["port"] for x in p["doors"] if x["verdict"] == "ready" and 8470 <= x["port"] <= 8479) if p else []
    per_port = sorted(int(m) for m in re.findall(r"ADDTCPPORT PORT\((\d+)\) PROTOCOL", text))
    ok(per_port and per_port == ready_hs and not set(per_port) & want_doors,
       "cutover over 8 days: one restriction per ready host-server port, none for 8476 or 8478", (per_port, ready_hs))
    for door, want in (("telnet", 3), ("as-transfer", 3), ("as-signon", 3), ("as-database", 0), ("host-servers", 3)):
        rc, out, err = run(["-q"] + cargs + ["--ready", door])
        ok(rc == want, f"cutover over 8 days: --ready {door} exits {want}", (rc, err))

# ---- the lab's dropped scenario: dumpcap stalled while a flood passed and says how many packets it
# dropped (its own summary, in pcaps/dropped.truth.json capture_stats) ----
dropped = os.path.join(PCAPS, "dropped.pcapng")
if not os.path.exists(dropped) or not shutil.which("editcap") or not os.path.exists(modern):
    skip("the lab's dropped scenario", "pcaps/dropped.pcapng, modern.pcapng or editcap missing")
else:
    dt = json.load(open(os.path.join(PCAPS, "dropped.truth.json")))
    lost = sum(s["dropped"] for s in dt.get("capture_stats", []))
    d_doors, d_clients = expected(dt)
    rc, out, err = run(["-q", "--format", "json", "-r", dropped])
    counters = json.loads(out)["capture"]["counters"] if rc in (0, 1) else {}
    ok(lost > 0 and counters.get("capture_file_dropped") == lost,
       "dropped: the count read from the capture's statistics is the one dumpcap printed", (counters.get(
           "capture_file_dropped"), lost))
    # the statistics are read as the file is read, once: a pipe gives the same count
    rc, out, err = run(["-q", "--format", "json", "-r", "-"], stdin=open(dropped, "rb").read())
    piped = json.loads(out)["capture"]["counters"].get("capture_file_dropped") if rc in (0, 1) else None
    ok(piped == lost, "dropped: the same count when the capture comes through standard input", (piped, lost))
    # the same TLS-only week before it, so that time observed is not what is missing
    earlier = os.path.join(tmp, "modern-8d-earlier.pcapng")
    subprocess.run(["editcap", "-t", str(-8 * 86400), modern, earlier], check=True, capture_output=True)
    dargs = ["-r", earlier, "-r", dropped, "--plan-days", "7"]
    rc, p, err = plan(dargs)
    ok(p and p["basis"]["packets_missed"] == lost and p["basis"]["coverage"] < 0.999 and
       blocked(p) == (d_doors, d_clients) == ({23}, {"192.0.2.21"}) and
       all(x["verdict"] == "unknown" for x in p["doors"] if x["port"] not in d_doors),
       "dropped: over 8 days, every unused door is unknown and the telnet door still blocked by its emulator",
       p and (p["basis"], [(x["port"], x["verdict"]) for x in p["doors"]]))
    # editcap's copy of the same file keeps the packets and loses the statistics block: then it is ready
    copy = os.path.join(tmp, "dropped-copy.pcapng")
    subprocess.run(["editcap", dropped, copy], check=True, capture_output=True)
    rc, p, err = plan(["-r", earlier, "-r", copy, "--plan-days", "7"])
    ok(p and p["basis"].get("packets_missed") is None and
       all(x["verdict"] == "ready" for x in p["doors"] if x["port"] not in d_doors),
       "dropped: the same packets without the drop count make the unused doors ready", p and p["basis"])
    rc, out, err = run(["-q"] + dargs + ["--ready", "as-signon"])
    ok(rc == 3, "dropped: --ready as-signon exits 3 (unknown is not ready)", (rc, err))
    ddb = os.path.join(tmp, "dropped.db")
    run(["-q", "--db", ddb, "-r", earlier, "-r", dropped])
    rc1, ps, _ = plan(["--db", ddb, "--plan-days", "7"])
    rc2, po, _ = plan(dargs)
    same = lambda q: (q["verdict"], q["doors"], q["blocking_clients"], q["would_break"])
    ok(ps and po and same(ps) == same(po) and ps["basis"]["packets_missed"] == lost,
       "dropped: imported into a state, the same plan and the same packets missed", ps and ps["basis"])

# ---- generated scenarios (hand-built bytes; the truth is what the generator wrote): a client that
# asked the mapper and sent no SYN at all, and a legacy session, in one file ----
import struct
from pcapgen import Pcap

gen = os.path.join(tmp, "mapper-legacy.pcap")
w = Pcap(gen)
MAPPER_ONLY, LEGACY = "198.51.100.50", "198.51.100.51"
c = w.conn(MAPPER_ONLY, 40001, "198.51.100.10", 449)          # asks for the nonsecure as-signon, told 8476,
c.handshake()                                                 # and never connects there
c.send(b"as-signon")
c.send(b"+" + struct.pack("!I", 8476), from_client=False)
c.close()
c = w.conn(LEGACY, 40002, "198.51.100.10", 8478)              # a legacy as-transfer session
c.handshake()
c.send(b"\x00\x00\x00\x14legacy transfer data")
c.send(b"\x00\x00\x00\x08ok", from_client=False)
c.close()
w.close()
rc, p, err = plan(["-r", gen])
fixes = {c["ip"]: (c["fix"], c["doors"]) for c in p["blocking_clients"]} if p else {}
ok(fixes == {MAPPER_ONLY: ("port-mapper-only", [8476]), LEGACY: ("legacy-port", [8478])},
   "a client that only asked the port mapper blocks 8476 (switch its configuration to TLS); a legacy-port client"
   " blocks 8478 (no TLS port: replace it)", fixes)
d = {x["port"]: x for x in p["doors"]} if p else {}
ok(d and d[8476]["verdict"] == "blocked" and d[8476]["asked_port_mapper"] and d[8478]["verdict"] == "blocked" and
   d[8478]["tls_port"] is None and d[8478]["kind"] == "legacy", "the doors say why", d and (d[8476], d[8478]))

# ---- only some host-server ports ready: one restriction per ready port ----
mixed = os.path.join(PCAPS, "mixed.pcapng")
if shutil.which("editcap") and os.path.exists(mixed) and os.path.exists(modern):
    mixed_later = shifted(mixed, 8, "mixed-8d.pcapng")
    margs = ["-r", modern, "-r", mixed_later, "--plan-days", "7"]
    rc, p, err = plan(margs)
    want_blocked, _ = expected(json.load(open(os.path.join(PCAPS, "mixed.truth.json"))))
    ready_hs = sorted(x["port"] for x in p["doors"] if x["verdict"] == "ready" and 8470 <= x["port"] <= 8479) if p else []
    text = run(["-q", "--plan"] + margs)[1].decode()
    per_port = sorted(int(m) for m in re.findall(r"ADDTCPPORT PORT\((\d+)\) PROTOCOL", text))
    ok(p and blocked(p)[0] == want_blocked and per_port == ready_hs and ready_hs and
       not set(per_port) & want_blocked and "ADDTCPPORT PORT(8470 8479)" in text,
       "only some host-server ports ready: one restriction per ready port, none for the blocked ones",
       (per_port, ready_hs, want_blocked))
    clp = run(["-q", "--format", "clp"] + margs)[1].decode()
    ok("/*           ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR) */" in clp,
       "--format clp keeps the whole-range restriction commented out while a host-server port is blocked", clp)

# ---- every command printed is IBM's syntax (docs/ibmi-commands.tsv), and none is run ----
CL = re.compile(r"\b(ADDTCPPORT|RMVTCPPORT|CHGTELNA|CHGFTPA|CHGPOPA|ENDTCPSVR|STRTCPSVR|ENDHOSTSVR|STRHOSTSVR|CHGSYSVAL)\b"
                r"((?:\s+[A-Z0-9]+\([^)]*\))*)")
printed = set()
for cap in sorted(glob.glob(os.path.join(PCAPS, "*.pcap*"))):
    for fmt in ("text", "clp"):
        out = run(["-q", "--plan", "--format", fmt, "-r", cap])[1].decode()
        printed |= {re.sub(r"\s+", " ", m.group(0)).strip() for m in CL.finditer(out)}
problems = {c: check(c) for c in printed if check(c)}
ok(len(printed) >= 8 and not problems, f"the {len(printed)} distinct commands the plans print follow IBM's syntax",
   problems or sorted(printed))
nm = subprocess.run(["nm", "-D", TLSREADY], capture_output=True, text=True).stdout
runs = [l.split()[-1] for l in nm.splitlines() if re.search(r" U (system|popen|exec\w*|posix_spawn\w*|fork)(@|$)", l)]
ok(nm and not runs, "the binary imports nothing that runs a program (system, popen, exec*, posix_spawn, fork)", runs)

done()

"""test_events_hosts.py - the monitor's findings follow DHCP hosts (issue 17):
a known nonsecure host that comes back on a new address is not a new client
(one nonsecure-client-new-address finding says where it went), a second host on
a reused address is new, and a client without DHCP evidence stays its address.

Three captures built byte by byte here (DHCP per RFC 2131/2132, telnet with
NEW-ENVIRON USER per RFC 1572) are replayed one after the other into a veth
pair in a network namespace, a checkpoint apart, with `tlsready -i` keeping
its state in SQLite and writing --events; then the same with a sensor on a
throw-away PostgreSQL (pgserver.py), whose findings come from its writer
thread (skipped, saying so, without Debian's postgresql).  The truth comes from the packets,
read back by tshark: which hardware address each DHCP ACK gave which address,
in order, and which address opened each telnet connection; the findings
expected follow from those alone (identity: the host whose ACK last gave the
address, or the address; new when that identity never used a nonsecure port;
at a new address when a known host used one from an address it had not).

Everything created is named "tr-evh-<pid>" / "tr-evh<pid>a|b", uses
documentation addresses, and is deleted on exit; the monitor is stopped by
its PID.  Skips when not root, or without `ip netns`, tcpreplay or tshark.
About 9-12 s for each store (most of it the 5 s a closed connection lingers before its record is stored).
"""
import json
import os
import pwd
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time

import pgserver
from netlab import Netlab, stop, wait_monitoring
from pcapgen import telnet_user as _telnet_user, Pcap, dhcp   # dhcp: RFC 2131 figure 1 with options 53, 51, 12 (RFC 2132)
from tap import ok, skip, done, sanitizer_report, tshark_run, TLSREADY

tmp = tempfile.mkdtemp(prefix="tlsready-evh-")
SRV, ROUTER = "198.51.100.1", "192.0.2.1"
MAC_A, MAC_B = bytes([2, 0, 0, 0, 0, 0x0a]), bytes([2, 0, 0, 0, 0, 0x0b])
NAMES = ("the findings of each checkpoint follow DHCP hosts", "the host moved: no new-nonsecure-client",
         "the second host on a reused address is new", "the monitor stops cleanly")
PG_NAMES = tuple("PostgreSQL sensor: " + n for n in NAMES)


def lease(w, mac, name, addr):
    """REQUEST from the host, ACK from the server (lease one hour)."""
    w.udp_frame("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, mac, host=name), mac)
    w.udp_frame(ROUTER, addr, 67, 68, dhcp(2, 5, mac, yiaddr=addr, lease=3600))


def telnet_user(w, cli, cport, user):
    _telnet_user(w, cli, cport, SRV, user)


# phase 1: host A leases .50 and uses telnet; .60 (no DHCP) uses telnet
# phase 2, once phase 1's connections were stored as ended (a closed connection lingers 5 s, and while it
# lingers it is in every checkpoint's open snapshot, its address with it): A releases .50, leases .51 and
# uses telnet from .51 alone (its earlier rows are found by its host, not through an address); .60 again
# phase 3: host B leases .50 and uses telnet from it
phases = []
for k in range(3):
    path = os.path.join(tmp, f"phase{k + 1}.pcap")
    w = Pcap(path)
    if k == 0:
        lease(w, MAC_A, b"alpha", "192.0.2.50")
        telnet_user(w, "192.0.2.50", 41000, b"ALICE")
        telnet_user(w, "192.0.2.60", 41001, b"CAROL")
    elif k == 1:
        w.udp_frame("192.0.2.50", ROUTER, 68, 67, dhcp(1, 7, MAC_A, ciaddr="192.0.2.50"), MAC_A)
        lease(w, MAC_A, b"alpha", "192.0.2.51")
        telnet_user(w, "192.0.2.51", 41002, b"ALICE")
        telnet_user(w, "192.0.2.60", 41003, b"CAROL")
    else:
        lease(w, MAC_B, b"beta", "192.0.2.50")
        telnet_user(w, "192.0.2.50", 41004, b"BOB")
    w.close()
    phases.append(path)

why = None
if not Netlab.available():
    why = "not root, or without `ip` or tcpreplay"
elif not shutil.which("tshark"):
    why = "tshark is not installed (the truth of the packets)"
if why:
    for name in NAMES + PG_NAMES:
        skip(name, why)
    shutil.rmtree(tmp, ignore_errors=True)
    done()


def records(path):
    """The packet records of a classic pcap file (after its 24-byte header)."""
    with open(path, "rb") as f:
        data = f.read()
    out, at = [], 24
    while at + 16 <= len(data):
        n = struct.unpack_from("<I", data, at + 8)[0]
        out.append(data[at:at + 16 + n])
        at += 16 + n
    return data[:24], out


# the phases one after the other in one file: one tshark run reads them all (frame numbers say the phase)
allp = os.path.join(tmp, "all.pcap")
bounds = []
with open(allp, "wb") as f:
    for i, path in enumerate(phases):
        head, recs = records(path)
        if i == 0:
            f.write(head)
        f.write(b"".join(recs))
        bounds.append((bounds[-1] if bounds else 0) + len(recs))


def truth():
    """Per phase, the DHCP ACKs (hardware address, address given) and the telnet SYNs (client address,
    port), in capture order, as tshark's own dissectors read them."""
    p = tshark_run(["tshark", "-r", allp, "-Y", "dhcp.option.dhcp == 5 || (tcp.flags.syn == 1 && tcp.flags.ack == 0)",
                    "-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "dhcp.hw.mac_addr",
                    "-e", "dhcp.ip.your", "-e", "ip.src", "-e", "tcp.srcport"], text=True, timeout=120)
    out = [[] for _ in phases]
    for line in p.stdout.splitlines():
        num, mac, given, src, sport = (line.split("|") + [""] * 5)[:5]
        k = next(i for i, b in enumerate(bounds) if int(num) <= b)
        out[k].append(("ack", mac, given) if mac else ("syn", src, sport))
    return out


# the findings the packets call for, phase by phase
holder, known, expected = {}, {}, []
for evs in truth():
    want = []
    for ev in evs:
        if ev[0] == "ack":
            _, mac, given = ev
            for a in [a for a, m in holder.items() if m == mac]:
                del holder[a]          # the host moved: its lease on the address before ends
            holder[given] = mac
            continue
        _, src, sport = ev
        ident = holder.get(src, src)
        mac = holder.get(src)
        if ident not in known:
            want.append(("new-nonsecure-client", src, mac, None))
        elif mac and src not in known[ident]:
            want.append(("nonsecure-client-new-address", src, mac, "before at " + ", ".join(sorted(known[ident]))))
        known.setdefault(ident, set()).add(src)
    expected.append(sorted(want, key=str))

nobody = pwd.getpwnam("nobody")
os.chmod(tmp, 0o755)
os.chown(tmp, nobody.pw_uid, nobody.pw_gid)   # the monitor's user writes the state's -wal and -shm here


def lines(events):
    try:
        with open(events) as f:   # a last line without its newline is still being written: not read yet
            return [json.loads(l) for l in f if l.strip() and l.endswith("\n")]
    except FileNotFoundError:
        return []


def flow_ports(ls):
    return {str(l["flow"]["client_port"]) for l in ls if l.get("type") == "flow"}


def sqlite_checkpoints(db):
    """The checkpoints the state holds (its capture intervals), read as a report would (WAL: no lock)."""
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return c.execute("SELECT count(*) FROM interval").fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return 0


def watch(name, store, checkpoints, extra=()):
    """One monitor over the three phases; the findings of each phase and how it stopped."""
    events = os.path.join(tmp, name + ".ndjson")
    lab = Netlab("tr-evh" + name[0])
    log = open(os.path.join(tmp, name + ".err"), "w+")
    try:
        mon = wait_monitoring(lab.spawn([TLSREADY, "-i", lab.vb, "--db", store, "--interval", "1", "-q", "-Z",
                                         "nobody", "--events", events] + list(extra),
                                        stdout=subprocess.DEVNULL, stderr=log), log)
        got, seen, rc = [], 0, None
        for k, path in enumerate(phases):
            lab.replay(path, pps=500)
            if k + 1 < len(phases):
                # a connection's findings are told at the first checkpoint that has it (open or ended): the
                # one after the replay ended; two leave room for packets still in the capture's buffer.
                # Before phase 2, phase 1's connections must have ended (their flow lines written).
                start, deadline = checkpoints(), time.monotonic() + 15
                while (checkpoints() < start + 2 or (k == 0 and not {"41000", "41001"} <= flow_ports(lines(events)))) \
                        and time.monotonic() < deadline and mon.poll() is None:
                    time.sleep(0.1)
            else:
                rc = stop(mon)   # the last phase: the stop analyses what the capture holds, then checkpoints
            ls = lines(events)
            found = [l for l in ls[seen:] if l.get("type") == "finding"]
            seen = len(ls)
            got.append(sorted(((f["finding"], f["client"], f.get("host"), f["detail"] if f["finding"] ==
                                "nonsecure-client-new-address" else None) for f in found), key=str))
    finally:
        lab.close()
    log.seek(0)
    return got, rc, log.read()


def check(got, rc, err, names):
    ok(got == expected, names[0], f"expected {expected}\ngot {got}\n{err}")
    ok(expected[1] and all(f[0] != "new-nonsecure-client" for f in got[1]) and
       any(f[0] == "nonsecure-client-new-address" and f[1] == "192.0.2.51" for f in got[1]), names[1], f"{got[1]}")
    ok(any(f[0] == "new-nonsecure-client" and f[1] == "192.0.2.50" and f[2] == "02:00:00:00:00:0b" for f in got[2]),
       names[2], f"{got[2]}")
    ok(rc == 0 and not sanitizer_report(err), names[3], f"rc={rc} {err}")


db = os.path.join(tmp, "state.db")
check(*watch("sqlite", db, lambda: sqlite_checkpoints(db)), NAMES)

# the same with the shared PostgreSQL store: one sensor, its findings from the writer thread
why = pgserver.available()
if why:
    for name in PG_NAMES:
        skip(name, why)
else:
    srv = pgserver.Server()
    try:
        srv.init()
        srv.start()
        rc, _, err = srv.psql("CREATE DATABASE tlsready", "postgres")

        def pg_checkpoints():
            r, out, _ = srv.psql("SELECT count(*) FROM capture_interval", "tlsready")
            return int(out.strip() or 0) if r == 0 else 0
        if rc:
            for name in PG_NAMES:
                ok(False, name, "cannot create the database: " + err)
        else:
            check(*watch("pg", srv.conninfo(), pg_checkpoints,
                        ["--sensor", "evh", "--queue", os.path.join(tmp, "evh.queue")]), PG_NAMES)
    finally:
        srv.cleanup()
shutil.rmtree(tmp, ignore_errors=True)
done()

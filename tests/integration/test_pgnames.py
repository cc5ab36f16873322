"""test_pgnames.py - the shared PostgreSQL store follows DHCP hosts across addresses (issue 17, schema 3),
against a real PostgreSQL 15 (pgserver.py), as the SQLite state does (schema 6).

A capture built here byte for byte (pcapgen.py): host alpha takes 192.0.2.50 (DHCPACK), connects
twice, releases it, takes 192.0.2.51 and connects again; host beta then takes 192.0.2.50 and connects;
a client with no lease connects from 192.0.2.70.  The truth - which host held which address when each
connection started - is computed here from the capture's own DHCP packets (ACKs and RELEASEs read back
from the pcap file), not from tlsready.  The capture is cut in two between alpha's two connections
from .50:
- sensor s1 imports the first part, sensor s2 the second (two checkpoints, two sensors; s2's first
  connection is alpha's only by the lease s1 stored); the stored report's clients equal, field by
  field, the SQLite state's over the same two imports and the one-shot report's over the whole capture;
  alpha is one client with two addresses, .50 is two clients (alpha's and beta's);
- sensor s3 imports the whole capture again: every connection is a duplicate of s1's or s2's (counted
  once), the same DHCP hosts give the same clients (one alpha, not two);
- --redact-users: no hardware address is stored, the redacted keys still follow the hosts (the
  redacted SQLite state field by field);
- a store of schema 2 (rows of addresses only, made by hand from a schema 3 store of the first part)
  migrates to 3 when a sensor imports the second part: its rows keep an empty host and read back as
  address clients (alpha's .50 among them: schema 2 kept no lease);
- a live sensor (`-i` in a network namespace "tpn-<pid>" of its own, --queue; root, ip and tcpreplay,
  else skipped) gets the first part, checkpoints, then the second: the same clients as the truth.
About 25-28 s on the 2-core machine under a load of 6 (2.4 s of CPU; the server's start and 20 short
tlsready runs most of it, the live part 4 s), 43 s under ASan.  Skips with the reason when PostgreSQL 15 is not installed.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import pgserver
from pcapgen import telnet_user as _telnet_user, Pcap, dhcp
from tap import ok, skip, done, sanitizer_report, TLSREADY

tmp = tempfile.mkdtemp(prefix="tlsready-pgnames-")
os.chmod(tmp, 0o755)
SRV = "198.51.100.1"
MAC_A, MAC_B = bytes([2, 0, 0, 0, 0, 0x0a]), bytes([2, 0, 0, 0, 0, 0x0b])
srv = None


def cleanup():
    if ns:
        subprocess.run(["ip", "netns", "delete", ns], stderr=subprocess.DEVNULL, timeout=10)
    if srv:
        srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def tl(args):
    p = subprocess.run([TLSREADY] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def report(args):
    rc, out, err = tl(["-q", "--format", "json"] + args)
    try:
        return (json.loads(out) if rc == 0 else None), err
    except ValueError:
        return None, err


def telnet_user(w, cli, cport, user):
    _telnet_user(w, cli, cport, SRV, user)


def build(path):
    """The capture; returns the number of the first frame of the second part (1-based): alpha's second
    connection from .50, whose lease (the DHCPACK) is in the first part."""
    w = Pcap(path)
    frames = []

    def udp(*a):
        w.udp_frame(*a)
        frames.append("udp")
    udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, MAC_A, host=b"alpha", cid=b"\x01" + MAC_A), MAC_A)
    udp("192.0.2.1", "192.0.2.50", 67, 68, dhcp(2, 5, MAC_A, yiaddr="192.0.2.50", lease=3600, host=b"alpha"))
    w.tick(5)
    telnet_user(w, "192.0.2.50", 41000, b"ALICE")
    telnet_user(w, "192.0.2.70", 41100, b"CAROL")
    w.tick(5)
    w.f.flush()
    cut = count_frames(path) + 1   # the frames so far, read back from the file
    telnet_user(w, "192.0.2.50", 41003, b"ALICE")   # alpha again: its lease is in the first part only
    w.tick(1)
    udp("192.0.2.50", "192.0.2.1", 68, 67, dhcp(1, 7, MAC_A, ciaddr="192.0.2.50"), MAC_A)
    udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, MAC_A, host=b"alpha"), MAC_A)
    udp("192.0.2.1", "192.0.2.51", 67, 68, dhcp(2, 5, MAC_A, yiaddr="192.0.2.51", lease=3600, host=b"alpha"))
    w.tick(5)
    telnet_user(w, "192.0.2.51", 41001, b"ALICE")
    udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp(1, 3, MAC_B, host=b"beta"), MAC_B)
    udp("192.0.2.1", "192.0.2.50", 67, 68, dhcp(2, 5, MAC_B, yiaddr="192.0.2.50", lease=3600, host=b"beta"))
    w.tick(5)
    telnet_user(w, "192.0.2.50", 41002, b"BOB")
    telnet_user(w, "192.0.2.70", 41101, b"CAROL")
    w.close()
    return cut


def records(path):
    """(time, frame bytes) of every record of a classic pcap file."""
    with open(path, "rb") as f:
        b = f.read()
    at, out = 24, []
    while at + 16 <= len(b):
        sec, usec, incl, _ = struct.unpack_from("<IIII", b, at)
        out.append((sec + usec / 1e6, b[at + 16:at + 16 + incl]))
        at += 16 + incl
    return out


def count_frames(path):
    return len(records(path))


def write_part(src, dst, first, last):
    """Records first..last (1-based, inclusive) of src into dst, the header kept."""
    with open(src, "rb") as f:
        b = f.read()
    at, n, out = 24, 0, bytearray(b[:24])
    while at + 16 <= len(b):
        incl = struct.unpack_from("<I", b, at + 8)[0]
        n += 1
        if first <= n <= last:
            out += b[at:at + 16 + incl]
        at += 16 + incl
    with open(dst, "wb") as f:
        f.write(out)


def truth(path):
    """From the packets: which DHCP host (hardware address) held each address when each connection
    started (RFC 2131: an ACK gives yiaddr to chaddr, a RELEASE from ciaddr gives it back), and so the
    clients: {key: (sorted addresses, connections)}, key the hardware address or, without a lease, the
    address."""
    held, clients = {}, {}
    for t, fr in records(path):
        if fr[12:14] != b"\x08\x00":
            continue
        ip = fr[14:]
        ihl, proto = (ip[0] & 15) * 4, ip[9]
        src = ".".join(str(x) for x in ip[12:16])
        l4 = ip[ihl:]
        if proto == 17 and struct.unpack("!H", l4[2:4])[0] in (67, 68):
            d = l4[8:]
            mac = ":".join(f"{x:02x}" for x in d[28:34])
            opts, i, mtype = d[240:], 0, None
            while i < len(opts) and opts[i] != 255:
                if opts[i] == 53:
                    mtype = opts[i + 2]
                i += 2 + opts[i + 1]
            if mtype == 5:      # DHCPACK: yiaddr is chaddr's
                held[".".join(str(x) for x in d[16:20])] = mac
            elif mtype == 7:    # DHCPRELEASE: ciaddr given back
                held.pop(".".join(str(x) for x in d[12:16]), None)
        elif proto == 6 and l4[13] == 0x02:   # a SYN: a connection starts
            key = held.get(src, src)
            addrs, n = clients.get(key, (set(), 0))
            clients[key] = (addrs | {src}, n + 1)
    return {k: (sorted(a), n) for k, (a, n) in clients.items()}


def client_rows(d):
    """The clients by who they are, with the fields that say it (as test_names_lab.py compares them)."""
    out = {}
    for c in d.get("clients", []) if d else []:
        out[c["hardware_address"] or c["ip"]] = {
            "ip": c["ip"], "identity": c["identity"], "addresses": c["addresses"], "dhcp_client_id": c["dhcp_client_id"],
            "address_hosts": c["address_hosts"], "host_name": c["host_name"],
            "host_names": sorted(json.dumps(h, sort_keys=True) for h in c["host_names"]), "users": c["users"],
            "status": c.get("status"), "first_seen": c.get("first_seen"), "last_seen": c.get("last_seen"),
            "nonsecure": sorted(json.dumps(u, sort_keys=True) for u in c["nonsecure"])}
    return out


def who(d):
    """{key: (addresses, connections)} of a report, to hold against the truth."""
    return {k: (c["addresses"], sum(u["connections"] for u in (d_c["nonsecure"] + d_c["secure"])))
            for d_c in (d or {}).get("clients", []) for k, c in [(d_c["hardware_address"] or d_c["ip"], d_c)]}


def diff(a, b):
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}


def wait_for(pred, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def live_sensor(want):
    """A monitor (-i in a namespace of its own, --queue) sees the first part, checkpoints, then the second:
    its second checkpoint knows alpha's lease only from the first (kept in memory, the capture thread never
    reads the database)."""
    global ns
    if os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("ip"):
        skip("a live sensor follows DHCP hosts across its checkpoints", "needs root, ip and tcpreplay")
        return
    name, va, vb = f"tpn-{os.getpid() % 100000}", f"tpn{os.getpid() % 100000}a", f"tpn{os.getpid() % 100000}b"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, timeout=10)
    if r.returncode == 0:
        ns = name
    for cmd in (["link", "add", va, "type", "veth", "peer", "name", vb], ["link", "set", va, "up"],
                ["link", "set", vb, "up"]):
        if r.returncode == 0:
            r = subprocess.run(["ip", "-n", name] + cmd, capture_output=True, timeout=10)
    if r.returncode:
        skip("a live sensor follows DHCP hosts across its checkpoints", r.stderr.decode().strip())
        return
    t_live = time.monotonic()
    srv.psql("CREATE DATABASE live")
    LIVE = srv.conninfo(db="live")
    qdir = os.path.join(tmp, "q")
    os.mkdir(qdir)
    shutil.chown(qdir, "nobody")
    log = open(os.path.join(tmp, "live.err"), "w+")
    p = subprocess.Popen(["ip", "netns", "exec", name, TLSREADY, "-i", vb, "--db", LIVE, "--sensor", "live", "--queue",
                          os.path.join(qdir, "q"), "--interval", "1", "-q", "-Z", "nobody"],
                         stdout=subprocess.DEVNULL, stderr=log)
    leases = lambda: srv.psql("SELECT count(*) FROM inv_lease", "live")[1].strip()
    try:
        wait_for(lambda: "monitoring" in open(log.name).read() or p.poll() is not None, 10)
        play = lambda f: subprocess.run(["ip", "netns", "exec", name, "tcpreplay", "-q", "-i", va, "--topspeed", f],
                                        capture_output=True, timeout=30).returncode == 0
        ok1 = play(part1) and wait_for(lambda: leases() == "1", 15)
        ok2 = play(part2) and wait_for(lambda: leases() == "3", 15)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
    log.seek(0)
    err = log.read()
    live, e = report(["--db", LIVE])
    ok(ok1 and ok2 and live and who(live) == want and not sanitizer_report(err + e),
       "a live sensor: the first part, a checkpoint, the second part: the clients the DHCP packets say (alpha's"
       f" second connection from .50 by the lease of the first checkpoint; {time.monotonic() - t_live:.1f} s)",
       (ok1, ok2, diff(who(live) if live else {}, want), err[-1500:] + e))


ns = None
why = pgserver.available()
if why:
    for name in ("two sensors follow DHCP hosts", "a third sensor's duplicates", "schema 2 migrates to 3",
                 "a live sensor follows DHCP hosts across its checkpoints"):
        skip(name, why)
    done()

try:
    t0 = time.monotonic()
    cap, part1, part2 = (os.path.join(tmp, n) for n in ("whole.pcap", "part1.pcap", "part2.pcap"))
    cut = build(cap)
    write_part(cap, part1, 1, cut - 1)
    write_part(cap, part2, cut, 10 ** 9)
    want = truth(cap)
    mac_a = ":".join(f"{x:02x}" for x in MAC_A)
    ok(want.get(mac_a) == (["192.0.2.50", "192.0.2.51"], 3) and len(want) == 3,
       "the truth from the DHCP packets: alpha on .50 then .51, beta on .50, .70 without a lease", want)

    srv = pgserver.Server()
    srv.init()
    srv.start()
    srv.psql("CREATE DATABASE tlsready")
    DB = srv.conninfo()
    rc1, _, e1 = tl(["-q", "-r", part1, "--db", DB, "--sensor", "s1"])
    rc2, _, e2 = tl(["-q", "-r", part2, "--db", DB, "--sensor", "s2"])
    pg, e3 = report(["--db", DB])
    sq = os.path.join(tmp, "state.db")
    rs1, _, f1 = tl(["-q", "-r", part1, "--db", sq])
    rs2, _, f2 = tl(["-q", "-r", part2, "--db", sq])
    lite, f3 = report(["--db", sq])
    one, f4 = report(["-r", cap])
    errs = e1 + e2 + e3 + f1 + f2 + f3 + f4
    ok(rc1 == 0 and rc2 == 0 and rs1 == 0 and rs2 == 0 and pg and lite and one and not sanitizer_report(errs),
       "sensors s1 and s2 import the two parts into PostgreSQL (and the same into a SQLite state)", errs[-2000:])
    ok(who(pg) == want, "PostgreSQL: the clients the DHCP packets say (alpha one client on .50 and .51, .50 two"
       " clients, .70 its address), with their connections", diff(who(pg), want))
    d1, d2 = diff(client_rows(pg), client_rows(lite)), diff(client_rows(pg), client_rows(one))
    ok(pg and not d1 and not d2, "PostgreSQL's clients equal, field by field, the SQLite state's and the one-shot"
       " report's (identity, addresses, client id, hosts per address, names, users, uses)", (d1, d2))
    a = client_rows(pg).get(mac_a, {})
    ok(a.get("identity") == "dhcp-host" and a.get("host_name") == {"name": "alpha", "source": "dhcp"}
       and a.get("dhcp_client_id") == "01" + MAC_A.hex()
       and len([c for c in pg["clients"] if c["ip"] == "192.0.2.50" or "192.0.2.50" in c["addresses"]]) == 2,
       "alpha's row names its host, its client id; .50 served two hosts", a)
    leases = srv.psql("SELECT string_agg(sensor || ' ' || host || ' ' || ip, ',' ORDER BY start_us) FROM inv_lease",
                      "tlsready")[1].strip()
    ok(leases == f"s1 {mac_a} 192.0.2.50,s2 {mac_a} 192.0.2.51,s2 02:00:00:00:00:0b 192.0.2.50",
       "the leases are stored, each by the sensor that saw it", leases)

    # ---- --redact-users: the hosts' keys are stored redacted, and still follow the hosts ----
    srv.psql("CREATE DATABASE red")
    RED, red_sq = srv.conninfo(db="red"), os.path.join(tmp, "red.db")
    rr = [tl(["-q", "-r", f, "--db", d, "--sensor", "r", "--redact-users", "--redact-key", "k"])[0] if d == RED else
          tl(["-q", "-r", f, "--db", d, "--redact-users", "--redact-key", "k"])[0]
          for d in (RED, red_sq) for f in (part1, part2)]
    pg_r, e7 = report(["--db", RED])
    lite_r, e8 = report(["--db", red_sq])
    raw = srv.psql("SELECT count(*) FROM inv_lease l, inv_client c WHERE position('02:00:00' IN l.host || c.host"
                   " || c.client_id || l.client_id) > 0", "red")[1].strip()
    shape = lambda d: sorted(v for v in who(d).values()) if d else None
    d_r = diff(client_rows(pg_r), client_rows(lite_r))
    ok(rr == [0, 0, 0, 0] and raw == "0" and shape(pg_r) == sorted(want.values()) and not d_r
       and not any(k.startswith("02:00") for k in who(pg_r)),
       "--redact-users: no hardware address stored, the same clients (addresses, connections) as the truth,"
       " field by field the redacted SQLite state's", (rr, raw, shape(pg_r), d_r, e7 + e8))

    # ---- a third sensor sees everything again: duplicates once, the same hosts the same clients ----
    rc, _, e = tl(["-q", "-r", cap, "--db", DB, "--sensor", "s3"])
    pg3, e5 = report(["--db", DB])
    dup = srv.psql("SELECT value FROM counter WHERE sensor='s3' AND name='duplicate_connections'", "tlsready")[1].strip()
    n_conn = sum(n for _, n in want.values())
    ok(rc == 0 and pg3 and who(pg3) == want and dup == str(n_conn),
       f"a third sensor's import of the whole capture: its {n_conn} connections duplicates, alpha still one client",
       (dup, diff(who(pg3) if pg3 else {}, want), e + e5))

    # ---- a schema 2 store (addresses only) migrates to 3: its rows keep an empty host ----
    srv.psql("CREATE DATABASE old")
    OLD = srv.conninfo(db="old")
    rc_o, _, e_o = tl(["-q", "-r", part1, "--db", OLD, "--sensor", "old"])
    down = srv.psql(pgserver.UNDO_V3, "old")
    rc_n, _, e_n = tl(["-q", "-r", part2, "--db", OLD, "--sensor", "new"])
    mig = srv.psql("SELECT (SELECT value FROM meta WHERE key='schema_version') || ' ' ||"
                   " (SELECT string_agg(version::text, ',' ORDER BY version) FROM migrations) || ' ' ||"
                   " (SELECT count(*) FROM inv_client WHERE sensor='old' AND host <> '')", "old")[1].strip()
    st, e6 = report(["--db", OLD])
    addr_only = {c["ip"]: c["identity"] for c in (st or {}).get("clients", []) if c["identity"] == "address"}
    ok(rc_o == 0 and down[0] == 0 and rc_n == 0 and mig == "4 1,2,3,4 0" and st
       and addr_only == {"192.0.2.50": "address", "192.0.2.70": "address"},
       "a schema 2 store migrates to 3 (and 4) when a sensor connects; its rows keep an empty host (their address)",
       (down, mig, addr_only, e_o + e_n + e6))
    live_sensor(want)
    ok(True, f"took {time.monotonic() - t0:.1f} s")
except Exception as e:   # a broken set-up is a failure, not a crash without TAP
    ok(False, "the shared-store identity checks ran", repr(e))
cleanup()
done()

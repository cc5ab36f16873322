"""test_doors.py - the IBM i's other cleartext doors (issue 13), on captures built here
byte for byte (pcapgen.py): the bytes each protocol's RFC gives are the truth.

- an upgrade by the protocol's own command and reply, then a completed TLS handshake,
  is `tls` with `upgraded: true`, a secure use, no mismatch, and --fail-on-nonsecure
  does not fire: FTP AUTH TLS + 234 (RFC 4217), SMTP STARTTLS + 220 (RFC 3207), POP3
  STLS + +OK (RFC 2595), LDAP's StartTLS extended request + success (RFC 4511 4.14,
  BER written here field by field);
- an upgrade the server refused, an upgrade whose handshake failed, and a password sent
  before the upgrade are nonsecure and say why;
- who on each door: FTP USER, the LDAP simple-bind DN, the user part of HTTP Basic on
  the administration port 2001; no password in any output format;
- the cutover plan gains the FTP and POP3 doors with CHGFTPA/CHGPOPA, and the clients
  in clear are told to upgrade;
- on the lab's doors.pcapng (real vsftpd, slapd, ftplib, ldapwhoami, openssl, curl; truth from
  their own logs, pcaps/doors.truth.json): every flow's upgrade, user and credentials kind, the
  clients' status, --fail-on-nonsecure, the plan's doors, and no lab password in any format
  (test_lab compares transport, tcp and the rest as for every lab capture);
- on captures made by another project (nDPI's test suite, in ../shared/corpus): FTP AUTH TLS
  and SMTP STARTTLS are upgrades, tshark's dissection of the same files being the truth.
Runs in about 25 seconds (most of it the six output formats of two captures, and tshark).
"""
import atexit
import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile

from tap import ok, run, done, skip, CORPUS, PCAPS, tshark_run
from pcapgen import Pcap, tls_record, tls_handshake, client_hello, server_hello

tmp = tempfile.mkdtemp(prefix="tlsready-doors-")
atexit.register(shutil.rmtree, tmp, True)
SRV = "198.51.100.1"
SECRETS = [b"s3cret-ftp", b"s3cret-ldap", b"s3cret-http", b"s3cret-early"]


def hello(c):
    c.send(tls_record(22, client_hello((0x009c,)), 0x0301))


def tls12(c):
    """The rest of a TLS 1.2 handshake after the ClientHello: it completes."""
    c.send(tls_record(22, server_hello(0x009c)) + tls_record(22, tls_handshake(14, b"")), from_client=False)
    c.send(tls_record(20, b"\x01") + tls_record(22, b"\x99" * 40))
    c.send(tls_record(20, b"\x01") + tls_record(22, b"\x98" * 40), from_client=False)
    c.send(tls_record(23, b"\x55" * 30))
    c.send(tls_record(23, b"\x66" * 30), from_client=False)


def ber(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + struct.pack("!H", n)
    return bytes([tag]) + ln + body


def ldap_msg(msgid, op):
    return ber(0x30, ber(0x02, bytes([msgid])) + op)


STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
LDAP_STARTTLS = ldap_msg(1, ber(0x77, ber(0x80, STARTTLS_OID)))


def ldap_ext_resp(code):
    return ldap_msg(1, ber(0x78, ber(0x0a, bytes([code])) + ber(0x04, b"") + ber(0x04, b"")))


def ldap_bind(dn, pw):
    return ldap_msg(1, ber(0x60, ber(0x02, b"\x03") + ber(0x04, dn) + ber(0x80, pw)))


cap = os.path.join(tmp, "doors.pcap")
w = Pcap(cap)
flows = {}


def conn(name, cli, port):
    flows[name] = (cli, port)
    c = w.conn(cli, 40000 + len(flows), SRV, port)
    c.handshake()
    return c


# 1. FTP: AUTH TLS, 234, then TLS; the login inside TLS
c = conn("ftp-upgraded", "192.0.2.11", 21)
c.send(b"220 FTP server ready.\r\n", from_client=False)
c.send(b"AUTH TLS\r\n")
c.send(b"234 Proceed with negotiation.\r\n", from_client=False)
hello(c)
tls12(c)
c.close()

# 2. FTP login in clear
c = conn("ftp-clear", "192.0.2.12", 21)
c.send(b"220 FTP server ready.\r\n", from_client=False)
c.send(b"USER alice\r\n")
c.send(b"331 Please specify the password.\r\n", from_client=False)
c.send(b"PASS s3cret-ftp\r\n")
c.send(b"230 Login successful.\r\n", from_client=False)
c.send(b"QUIT\r\n")
c.send(b"221 Goodbye.\r\n", from_client=False)
c.close()

# 3. FTP: USER/PASS first, then AUTH TLS (the password already went in clear)
c = conn("ftp-late", "192.0.2.13", 21)
c.send(b"220 FTP server ready.\r\n", from_client=False)
c.send(b"USER bob\r\nPASS s3cret-early\r\n")
c.send(b"331 Password required.\r\n230 Logged in.\r\n", from_client=False)
c.send(b"AUTH TLS\r\n")
c.send(b"234 Proceed.\r\n", from_client=False)
hello(c)
tls12(c)
c.close()

# 4. FTP: AUTH TLS refused, the client goes on in clear
c = conn("ftp-refused", "192.0.2.14", 21)
c.send(b"220 FTP server ready.\r\n", from_client=False)
c.send(b"AUTH TLS\r\n")
c.send(b"530 Please login with USER and PASS.\r\n", from_client=False)
c.send(b"USER carol\r\n")
c.send(b"331 Please specify the password.\r\n", from_client=False)
c.close()

# 5. FTP: AUTH TLS accepted, the handshake fails (fatal handshake_failure alert from the server)
c = conn("ftp-failed", "192.0.2.15", 21)
c.send(b"220 FTP server ready.\r\n", from_client=False)
c.send(b"AUTH TLS\r\n")
c.send(b"234 Proceed.\r\n", from_client=False)
hello(c)
c.send(tls_record(21, b"\x02\x28"), from_client=False)
c.close()

# 6. SMTP: EHLO, STARTTLS, 220, TLS
c = conn("smtp-upgraded", "192.0.2.16", 25)
c.send(b"220 mail.example.com ESMTP\r\n", from_client=False)
c.send(b"EHLO client.example.com\r\n")
c.send(b"250-mail.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n", from_client=False)
c.send(b"STARTTLS\r\n")
c.send(b"220 2.0.0 Ready to start TLS\r\n", from_client=False)
hello(c)
tls12(c)
c.close()

# 7. POP3: STLS, +OK, TLS
c = conn("pop3-upgraded", "192.0.2.17", 110)
c.send(b"+OK POP3 server ready\r\n", from_client=False)
c.send(b"STLS\r\n")
c.send(b"+OK Begin TLS negotiation\r\n", from_client=False)
hello(c)
tls12(c)
c.close()

# 8. LDAP: StartTLS extended request, success, TLS
c = conn("ldap-upgraded", "192.0.2.18", 389)
c.send(LDAP_STARTTLS)
c.send(ldap_ext_resp(0), from_client=False)
hello(c)
tls12(c)
c.close()

# 9. LDAP: simple bind in clear
DN = b"cn=Lab Admin,dc=example,dc=org"
c = conn("ldap-bind", "192.0.2.19", 389)
c.send(ldap_bind(DN, b"s3cret-ldap"))
c.send(ldap_msg(1, ber(0x61, ber(0x0a, b"\x00") + ber(0x04, b"") + ber(0x04, b""))), from_client=False)
c.close()

# 10. LDAP: StartTLS refused (resultCode 2, protocolError)
c = conn("ldap-refused", "192.0.2.20", 389)
c.send(LDAP_STARTTLS)
c.send(ldap_ext_resp(2), from_client=False)
c.close()

# 11. HTTP Basic to the administration server on 2001
c = conn("http-basic", "192.0.2.21", 2001)
c.send(b"GET /HTTPAdmin HTTP/1.1\r\nHost: ibmi.example.com\r\nAuthorization: Basic "
       + base64.b64encode(b"QSECADM:s3cret-http") + b"\r\n\r\n")
c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", from_client=False)
c.close()
w.close()

rc, out, err = run(["-q", "-r", cap, "--format", "json"])
rep = json.loads(out) if out else {"flows": []}
by_client = {f["client_ip"]: f for f in rep["flows"]}


def flow(name):
    return by_client.get(flows[name][0], {})


def up(name):
    return flow(name).get("upgrade") or {}


for name, proto in (("ftp-upgraded", "ftp"), ("smtp-upgraded", "smtp"), ("pop3-upgraded", "pop3"),
                    ("ldap-upgraded", "ldap")):
    f = flow(name)
    ok(f.get("transport") == "tls" and (f.get("tls") or {}).get("upgraded") is True and f.get("mismatch") is None
       and up(name).get("protocol") == proto and up(name).get("result") == "upgraded"
       and up(name).get("server_accepted") is True and "port-mismatch" not in f.get("findings", []),
       f"{name}: tls, upgraded by the protocol's own command and reply, no mismatch", f)

f = flow("ftp-clear")
ok(f.get("transport") == "cleartext" and f.get("user") == "alice" and f.get("cleartext_credentials") == "password"
   and "cleartext-credentials" in f.get("findings", []) and f.get("upgrade") is None,
   "FTP login in clear: cleartext, user alice, the password noted (never shown)", f)
f = flow("ftp-late")
ok(f.get("transport") == "tls" and up("ftp-late").get("result") == "credentials-before-upgrade"
   and not (f.get("tls") or {}).get("upgraded") and f.get("user") == "bob" and f.get("mismatch") is None,
   "USER/PASS before AUTH TLS: credentials-before-upgrade, not upgraded", f)
f = flow("ftp-refused")
ok(f.get("transport") == "cleartext" and up("ftp-refused").get("result") == "refused"
   and "upgrade-refused" in f.get("findings", []) and f.get("user") == "carol",
   "AUTH TLS refused (530), the client went on in clear: refused, cleartext", f)
f = flow("ftp-failed")
ok(f.get("transport") == "tls-failed" and up("ftp-failed").get("result") == "failed" and f.get("mismatch") is None,
   "AUTH TLS accepted, handshake failed: failed upgrade, tls-failed", f)
f = flow("ldap-bind")
ok(f.get("user") == DN.decode() and f.get("cleartext_credentials") == "ldap-simple-bind"
   and f.get("transport") == "cleartext", "LDAP simple bind in clear: the DN is the user, the bind noted", f)
f = flow("ldap-refused")
ok(f.get("transport") == "cleartext" and up("ldap-refused").get("result") == "refused"
   and up("ldap-refused").get("server_accepted") is False,
   "LDAP StartTLS answered protocolError: refused, server_accepted false", f)
f = flow("http-basic")
ok(f.get("user") == "QSECADM" and f.get("cleartext_credentials") == "http-basic" and f.get("service") == "as-admin",
   "HTTP Basic on 2001 (as-admin): the user part only", f)

# the inventory: upgraded uses are secure; everything else on these doors is nonsecure
clients = {c["ip"]: c for c in rep.get("clients", [])}
status = {name: clients.get(flows[name][0], {}).get("status") for name in flows}
want_secure = {"ftp-upgraded", "smtp-upgraded", "pop3-upgraded", "ldap-upgraded"}
ok(all(status[n] == "secure" for n in want_secure) and
   all(status[n] == "nonsecure" for n in flows if n not in want_secure),
   "upgraded clients are secure; clear logins, late credentials, refused and failed upgrades nonsecure", status)

# --fail-on-nonsecure: only the upgraded flows in a capture -> 0
sub = os.path.join(tmp, "ftp-only.pcap")
w = Pcap(sub)
c = w.conn("192.0.2.31", 41000, SRV, 21)
c.handshake()
c.send(b"220 ready\r\n", from_client=False)
c.send(b"AUTH TLS\r\n")
c.send(b"234 Proceed.\r\n", from_client=False)
hello(c)
tls12(c)
c.close()
w.close()
rc1, _, _ = run(["-q", "-r", sub, "--fail-on-nonsecure"])
rc2, _, _ = run(["-q", "-r", cap, "--fail-on-nonsecure"])
ok(rc1 == 0 and rc2 == 3, "--fail-on-nonsecure: 0 for FTP upgraded with AUTH TLS alone, 3 with the clear doors",
   (rc1, rc2))

# no password in any output format
leaks = []
for fmt in ("text", "json", "csv", "ndjson", "html", "clp"):
    rc, out, err = run(["-q", "-r", cap, "--format", fmt])
    for s in SECRETS + [base64.b64encode(b"QSECADM:s3cret-http")]:
        if s in out or s.decode() in err:
            leaks.append((fmt, s))
ok(not leaks, "no password (nor the Basic header) in text, json, csv, ndjson, html or clp", leaks)

# the text report names the users and the clear credentials
rc, out, err = run(["-q", "-r", cap])
text = out.decode()
ok(all(n in text for n in ("alice", "QSECADM", "cn=Lab Admin")), "the text report names alice, QSECADM, the bind DN",
   text[:3000])
ok("Credentials in clear" in text and "192.0.2.12" in text.split("Credentials in clear", 1)[-1],
   "the text report has a section on credentials sent in clear", text[-3000:])

# the plan: FTP and POP3 doors with their commands; FTP blocked by the clear clients
plan = rep.get("plan") or {}
doors = {d["port"]: d for d in plan.get("doors", [])}
ok(doors.get(21, {}).get("command") == "CHGFTPA ALWSSL(*ONLY)" and doors.get(110, {}).get("command") ==
   "CHGPOPA ALWSSL(*ONLY)" and doors.get(21, {}).get("verdict") == "blocked" and doors.get(110, {}).get("verdict") != "blocked"
   and all(p in doors for p in (25, 389, 2001, 2002, 2004, 2006, 446)),
   "the plan's doors: ftp blocked (clear logins), pop3 not (its one client upgraded), every IBM-listed door present",
   {p: (d.get("verdict"), d.get("command")) for p, d in doors.items()})
fixes = {b["ip"]: b["fix"] for b in plan.get("blocking_clients", [])}
ok(fixes.get("192.0.2.12") == "upgrade-before-credentials" and "192.0.2.11" not in fixes,
   "the FTP client in clear is told to upgrade first; the upgraded one blocks nothing", fixes)

def tshark(cap, flt):
    p = tshark_run(["tshark", "-r", cap, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


# ---- other services: with --server, ports outside the catalogue are listed with nDPI's protocol name ----
other = os.path.join(tmp, "other.pcap")
w = Pcap(other)
for i, (cli, port, first, reply) in enumerate((
        ("192.0.2.40", 22, b"SSH-2.0-PuTTY_Release_0.78\r\n", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
        ("192.0.2.40", 22, b"SSH-2.0-PuTTY_Release_0.78\r\n", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
        ("192.0.2.41", 80, b"GET / HTTP/1.1\r\nHost: ibmi\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))):
    c = w.conn(cli, 42000 + i, SRV, port)
    c.handshake()
    c.send(first)
    c.send(reply, from_client=False)
    c.close()
w.close()
rc, out, err = run(["-q", "-r", other, "--server", SRV])
sect = out.decode().split("Other services on the IBM i", 1)[-1].split("\nServers", 1)[0]
rows = {tuple(l.split()[:5]) for l in sect.splitlines() if l.startswith("  198.51.100.1")}
ok({(SRV, "22", "SSH", "1", "2"), (SRV, "80", "HTTP", "1", "1")} <= rows,
   "with --server, the text report lists the other services: SSH on 22 (1 client, 2 connections), HTTP on 80",
   sect)

# ---- the lab's real clients and servers: pcaps/doors.pcapng against the truth from their logs ----
lab_cap, lab_truth = os.path.join(PCAPS, "doors.pcapng"), os.path.join(PCAPS, "doors.truth.json")
if not os.path.exists(lab_truth):
    skip("doors.pcapng against its truth", "no pcaps/doors.truth.json (make pcaps)")
else:
    truth = json.load(open(lab_truth))
    rc, out, err = run(["-q", "-r", lab_cap, "--format", "json", "--fail-on-nonsecure"])
    rep = json.loads(out) if out else {"flows": [], "clients": []}
    got = {(f["client_ip"], f["client_port"]): f for f in rep["flows"]}
    diff = []
    for t in truth["flows"]:
        f = got.get((t["client_ip"], t["client_port"]), {})
        up, tup = f.get("upgrade") or {}, t["upgrade"] or {}
        want = (t["transport"], tup.get("result"), t["user"], t["cleartext_credentials"], t["mismatch"],
                bool(t["upgrade"]))
        have = (f.get("transport"), up.get("result"), f.get("user"), f.get("cleartext_credentials"), f.get("mismatch"),
                bool((f.get("tls") or {}).get("upgraded")))
        if want != have:
            diff.append(f"{t['client_ip']}:{t['client_port']} -> {t['server_port']} ({t['source']}): truth {want}, "
                        f"tlsready {have}")
    ok(len(truth["flows"]) == 8 and not diff,
       "doors.pcapng: FTP AUTH TLS, LDAP StartTLS and SMTP STARTTLS upgraded; the clear FTP login, LDAP bind and "
       "HTTP Basic with their user and credential kind; ldaps and 2010 plain TLS (truth: the servers' logs)",
       "\n".join(diff))
    status = {c["ip"]: c["status"] for c in rep["clients"]}
    ok(all(status.get(c["ip"]) == c["status"] for c in truth["clients"]) and rc == 3,
       "doors.pcapng: the upgraded clients are secure, the clear ones nonsecure; --fail-on-nonsecure exits 3",
       (status, truth["clients"], rc))
    doors = {d["port"]: d["verdict"] for d in (rep.get("plan") or {}).get("doors", [])}
    ok(doors.get(21) == "blocked" and doors.get(389) == "blocked" and doors.get(2001) == "blocked" and
       doors.get(25) != "blocked", "doors.pcapng: the plan blocks ftp, ldap and as-admin (clear clients), not smtp "
       "(its one client upgraded)", doors)
    secrets = json.load(open(os.path.join(PCAPS, "secrets.json")))["passwords"]
    leaks = []
    for fmt in ("text", "json", "csv", "ndjson", "html", "clp"):
        rc2, out2, err2 = run(["-q", "-r", lab_cap, "--format", fmt])
        leaks += [(fmt, p) for p in secrets if p.encode() in out2 or p in err2]
    ok(not leaks and {"Lab-Ftp-Pw3", "Lab-Ldap-Pw5", "Lab-Http-Pw8"} <= set(secrets),
       "doors.pcapng: none of the lab's FTP, LDAP and HTTP passwords (secrets.json) in any output format", leaks)
    if shutil.which("tshark"):
        # tshark's LDAP dissector, independently: the clients that sent the StartTLS extended request
        p = tshark_run(["tshark", "-r", lab_cap, "-Y", 'ldap.requestName == "1.3.6.1.4.1.1466.20037"',
                            "-T", "fields", "-e", "tcp.srcport"], capture_output=True, text=True)
        ports = {int(x) for x in p.stdout.split()}
        ldap_up = {f["client_port"] for f in rep["flows"]
                   if f["server_port"] == 389 and (f.get("upgrade") or {}).get("result") == "upgraded"}
        ok(ports and ports == ldap_up, "doors.pcapng: tshark's LDAP dissector sees the StartTLS request on the "
           "connections tlsready calls upgraded", (ports, ldap_up))
    else:
        skip("doors.pcapng: tshark's LDAP dissector agrees", "no tshark")

# ---- captures made by another project: tshark says command, reply and ServerHello; tlsready says upgraded ----
for name, port, cmd, reply in (("ftp-start-tls.pcap", 21, 'ftp.request.command == "AUTH" && ftp.request.arg == "TLS"',
                                "ftp.response.code == 234"),
                               ("smtp-starttls.pcap", 25, 'tcp.dstport == 25 && tcp.payload contains "STARTTLS"',
                                "smtp.response.code == 220")):
    cap = os.path.join(CORPUS, "ndpi-4.2", name)
    if not os.path.exists(cap) or not shutil.which("tshark"):
        skip(f"{name}: upgraded, as tshark dissects it", "../shared/corpus or tshark absent")
        continue
    c, r, sh = tshark(cap, cmd), tshark(cap, reply), tshark(cap, "tls.handshake.type == 2")
    truth = bool(c and sh and any(c[0] < x < sh[0] for x in r))
    rc, out, err = run(["-q", "-r", cap, "--format", "json", "--fail-on-nonsecure"])
    fl = [f for f in json.loads(out)["flows"] if f["server_port"] == port] if out else []
    got = fl and fl[0]["upgrade"] and fl[0]["upgrade"]["result"] == "upgraded" and fl[0]["tls"].get("upgraded")
    ok(truth and got and fl[0]["mismatch"] is None and rc == 0,
       f"{name} (nDPI's test capture): tshark sees the command (frame {c[:1]}), the yes, then a ServerHello "
       f"(frame {sh[:1]}); tlsready: upgraded, no mismatch, --fail-on-nonsecure 0", (c, r, sh, rc, fl[:1]))
done()

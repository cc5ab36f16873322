"""test_doors2.py - DDM/DRDA, implicit FTPS and POP3 with real clients and servers (issue 13), on the
lab's pcaps/doors2.pcapng: Apache Derby's network server (446 in clear, 448 with TLS) and its ij
client, vsftpd with implicit_ssl on 990 and curl ftps://, dovecot on 110 (STLS) and 995 and curl.
The truth is pcaps/doors2.truth.json, written by the lab from ij's own output (connected as LABDB2,
or refused with SQLState 08004), Derby's connection log, curl's verbose logs, vsftpd's protocol log
and dovecot's login log; tshark's DRDA and TLS dissectors read the same bytes independently.

- each DRDA connection on 446 is cleartext with its SECCHK user and `cleartext_credentials:
  password` (Derby sends USRIDPWD, SECMEC 3), the one on 448 is TLS; the FTPS and POP3S ones TLS;
  POP3 on 110 upgraded by STLS before the login (a secure use, the POP3 door not blocked);
- the security check code is 0 where ij connected and not 0 where it was refused;
- the client on 446 is nonsecure, blocks door 446 in the plan, and has no host name made of
  Derby's constant SRVNAM "Derby"; --fail-on-nonsecure exits 3;
- no lab password (pcaps/secrets.json: the DRDA password, the wrong one, the key store's) in any
  output format.
(test_lab.py compares transport, tcp and the rest, as for every lab capture.)
Runs in about 15 s wall here on a machine loaded to 10 (3 s of CPU: eight tlsready runs, two of
tshark); 22 s with the ASan build.
"""
import json
import os
import shutil
import subprocess

from tap import ok, run, done, skip, PCAPS, tshark_run

CAP, TRUTH = os.path.join(PCAPS, "doors2.pcapng"), os.path.join(PCAPS, "doors2.truth.json")

if not os.path.exists(TRUTH):
    skip("doors2.pcapng against its truth", "no pcaps/doors2.truth.json (make pcaps)")
    done()

truth = json.load(open(TRUTH))
rc, out, err = run(["-q", "-r", CAP, "--format", "json", "--fail-on-nonsecure"])
rep = json.loads(out) if out else {"flows": [], "clients": []}
got = {(f["client_ip"], f["client_port"]): f for f in rep["flows"]}

diff = []
for t in truth["flows"]:
    f = got.get((t["client_ip"], t["client_port"]), {})
    tup, up = t["upgrade"] or {}, f.get("upgrade") or {}
    want = (t["service"], t["port_class"], t["transport"], t["user"], t["cleartext_credentials"], tup.get("result"),
            bool(t["upgrade"]))
    have = (f.get("service"), f.get("port_class"), f.get("transport"), f.get("user"), f.get("cleartext_credentials"),
            up.get("result"), bool((f.get("tls") or {}).get("upgraded")))
    if want != have:
        diff.append(f"{t['client_ip']}:{t['client_port']} -> {t['server_port']} ({t['source']}): truth {want}, "
                    f"tlsready {have}")
ports = sorted(t["server_port"] for t in truth["flows"])
ok(ports == [110, 446, 446, 448, 990, 995] and not diff,
   "doors2.pcapng: Derby's ij on 446 cleartext with user LABDB2 and its password in clear (twice), on 448 TLS; "
   "curl ftps:// on 990 and pop3s:// on 995 TLS, pop3:// on 110 upgraded by STLS (truth: ij's, Derby's, curl's, "
   "vsftpd's and dovecot's logs)", "\n".join(diff) or ports)

# the security check: ij connected <-> SECCHKCD 0
chk = []
for d in truth["drda"]:
    f = got.get((d["client_ip"], d["client_port"]), {})
    if d["server_port"] == 448:
        continue   # inside TLS: nothing to read
    code = (f.get("drda") or {}).get("secchkcd")
    if code is None or (code == 0) != d["connected"]:
        chk.append((d, code))
n446 = sum(1 for d in truth["drda"] if d["server_port"] == 446)
ok(n446 == 2 and not chk and any(not d["connected"] for d in truth["drda"]),
   "doors2.pcapng: SECCHKRM's check code is 0 where ij connected, not 0 where it was refused (08004)", chk)

status = {c["ip"]: c for c in rep["clients"]}
ok(all(status.get(c["ip"], {}).get("status") == c["status"] for c in truth["clients"]) and rc == 3,
   "doors2.pcapng: the DRDA client in clear is nonsecure, the TLS ones secure; --fail-on-nonsecure exits 3",
   ({k: v["status"] for k, v in status.items()}, truth["clients"], rc))
clear_ip = next(t["client_ip"] for t in truth["flows"] if t["server_port"] == 446)
c = status.get(clear_ip, {})
ok(c.get("host_name") is None and "LABDB2" in (c.get("users") or []),
   "doors2.pcapng: the Derby client's user is LABDB2; Derby's constant SRVNAM \"Derby\" is not its host name",
   (c.get("host_name"), c.get("users")))
plan = rep.get("plan") or {}
doors = {d["port"]: d["verdict"] for d in plan.get("doors", [])}
blk = {b["ip"]: b for b in plan.get("blocking_clients", [])}
ok(doors.get(446) == "blocked" and 446 in blk.get(clear_ip, {}).get("doors", []) and
   blk.get(clear_ip, {}).get("users") == ["LABDB2"] and doors.get(110) != "blocked" and set(blk) == {clear_ip},
   "doors2.pcapng: the plan's DDM door 446 is blocked by the Derby client, named with its user; POP3 110 is not "
   "(its one client upgraded)", (doors, blk))

rc, out, err = run(["-q", "-r", CAP])
text = out.decode()
ok("LABDB2" in text and clear_ip in text.split("Credentials in clear", 1)[-1],
   "doors2.pcapng: the text report names LABDB2 and lists the client among the credentials sent in clear",
   text[-3000:])

secrets = json.load(open(os.path.join(PCAPS, "secrets.json")))["passwords"]
leaks = []
for fmt in ("text", "json", "csv", "ndjson", "html", "clp"):
    rc2, out2, err2 = run(["-q", "-r", CAP, "--format", fmt])
    leaks += [(fmt, p) for p in secrets if p.encode() in out2 or p in err2]
ok(not leaks and {"Lab-Drda-Pw6", "Wrong-Lab-Pw9", "Lab-Keystore-Pw4", "Lab-Pop-Pw2"} <= set(secrets),
   "doors2.pcapng: none of the lab's passwords (the DRDA one, the wrong one, the key store's, POP3's) in any output "
   "format",
   leaks)

if shutil.which("tshark"):
    # tshark's DRDA dissector, independently: the SECCHK USRID and PASSWORD code points, per client port
    p = tshark_run(["tshark", "-r", CAP, "-Y", "drda.ddm.codepoint == 0x106e", "-T", "fields",
                        "-e", "tcp.srcport", "-e", "drda.param.codepoint", "-e", "drda.param.data"],
                       capture_output=True, text=True)
    seen = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) < 3:
            continue
        cps, data = cols[1].split(","), cols[2].split(",")
        for cp, dat in zip(cps, data):
            if cp in ("0x11a0", "4512"):
                seen.setdefault(int(cols[0]), {})["user"] = dat.strip()
            if cp in ("0x11a1", "4513"):
                seen.setdefault(int(cols[0]), {})["password"] = True
    mine = {f["client_port"]: f for f in rep["flows"] if f["server_port"] == 446}
    agree = bool(seen) and set(seen) == set(mine) and all(
        seen[k].get("user") == mine[k].get("user") and seen[k].get("password") and
        mine[k].get("cleartext_credentials") == "password" for k in seen)
    ok(agree, "doors2.pcapng: tshark's DRDA dissector sees the same SECCHK user and a PASSWORD on each 446 connection",
       (seen, {k: (v.get("user"), v.get("cleartext_credentials")) for k, v in mine.items()}))
    # the ServerHellos, by the client port they went to
    p = tshark_run(["tshark", "-r", CAP, "-Y", "tls.handshake.type == 2", "-T", "fields", "-e", "tcp.dstport"],
                       capture_output=True, text=True)
    hellos = {int(x) for x in p.stdout.split()}
    tls = {f["client_port"] for f in rep["flows"] if f["transport"] == "tls"}
    ok(len(hellos) == 4 and hellos == tls, "doors2.pcapng: the flows tlsready calls TLS are those tshark sees a "
       "ServerHello on (448, 990, 995 and 110 after STLS)", (hellos, tls))
else:
    skip("doors2.pcapng: tshark's DRDA dissector agrees", "no tshark")
done()

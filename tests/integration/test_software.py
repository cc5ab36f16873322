"""test_software.py - each client's software, named with its evidence, in every format (issue 17 item 3),
on the lab's captures: pcaps/demo.pcapng (IBM Toolbox for Java on the host servers in clear and with
TLS, a 5250 script on telnet, openssl and GnuTLS clients), pcaps/telnet.pcapng and pcaps/doors2.pcapng
(Apache Derby's ij client on DDM 446).

Truth, none of it tlsready's own output:
- which program made each flow: the lab's truth files (pcaps/*.truth.json, field "client");
- the host-server exchange attributes: the client's bytes (tshark's tcp.payload, walked here by the
  layout in ../shared/docs/ibmi-protocols.md: 7003 CP 0x1101 version, 0x1102 level; 7002/7004 CP
  0x1113 CCSID), per flow;
- the telnet terminal type: tshark's telnet.string_subopt.value of the client's TERMINAL-TYPE IS;
- the DRDA product ID: tshark's drda.param.data of code point 0x112E sent by the client.
Then the text report (its software section and the line under the client's rows), the CSV software
column and the HTML page carry the same "NAME (EVIDENCE)" entries as the JSON's software_named.
A last part builds a telnet flow whose terminal type is markup (pcapgen) and checks JSON, HTML and CSV.
Runs in about 5 s wall here on a machine loaded to 5 (7 s with the ASan build): sixteen tlsready runs,
three of tshark.
"""
import csv
import html
import io
import json
import os
import shutil

from tap import ok, run, done, skip, PCAPS, tshark_run

CAPS = ["demo", "telnet", "doors2"]
TLS_NAME = {"openssl": "OpenSSL", "gnutls": "GnuTLS", "jt400": "Java", "curl": "OpenSSL"}

if not shutil.which("tshark"):
    skip("client software against tshark and the lab's truth", "no tshark")
    done()


def tshark(cap, flt, fields):
    cmd = ["tshark", "-r", cap, "-Y", flt, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    p = tshark_run(cmd, text=True)
    return [ln.split("\t") for ln in p.stdout.splitlines() if ln.strip()]


def hostserver_tokens(cap, ports):
    """Per (client ip, client port): the exchange attributes the client sent, read from its bytes."""
    data = {}
    for ip, sport, dport, payload in tshark(cap, "tcp.len > 0", ["ip.src", "tcp.srcport", "tcp.dstport", "tcp.payload"]):
        if int(dport) in ports and payload:
            data.setdefault((ip, int(sport)), bytearray()).extend(bytes.fromhex(payload.replace(":", "")))
    want = {}
    for key, b in data.items():
        level = version = ccsid = None
        off = 0
        while off + 20 <= len(b):
            ln = int.from_bytes(b[off:off + 4], "big")
            if ln < 20 or off + ln > len(b):
                break
            req = int.from_bytes(b[off + 18:off + 20], "big")
            p = off + 20 + (1 if req in (0x7002, 0x7004) else 0)   # 7002/7004: the authentication type byte
            while req in (0x7003, 0x7103, 0x7002, 0x7004) and p + 6 <= off + ln:
                ll, cp = int.from_bytes(b[p:p + 4], "big"), int.from_bytes(b[p + 4:p + 6], "big")
                if ll < 6:
                    break
                v = b[p + 6:p + ll]
                if req in (0x7003, 0x7103) and cp == 0x1102 and level is None:
                    level = int.from_bytes(v[:2], "big")
                elif req in (0x7003, 0x7103) and cp == 0x1101 and version is None:
                    version = int.from_bytes(v[:4], "big")
                elif req in (0x7002, 0x7004) and cp == 0x1113 and ccsid is None:
                    ccsid = int.from_bytes(v[:4], "big")
                p += ll
            off += ln
        if level is not None:
            ev = f"datastream level {level}" + (f", version {version}" if version is not None else "") + \
                 (f", CCSID {ccsid}" if ccsid else "")
            want[key] = {"name": f"IBM i host-server client (datastream level {level})",
                         "evidence": "host-server exchange attributes and sign-on: " + ev}
    return want


for name in CAPS:
    cap, truth_path = os.path.join(PCAPS, name + ".pcapng"), os.path.join(PCAPS, name + ".truth.json")
    if not os.path.exists(truth_path):
        skip(f"{name}: client software", f"no pcaps/{name}.truth.json (make pcaps)")
        continue
    truth = json.load(open(truth_path))
    rc, out, err = run(["-q", "-r", cap, "--format", "json"])
    rep = json.loads(out) if out else {"clients": []}
    named = {c["ip"]: c.get("software_named", []) for c in rep["clients"]}

    # software_named is the same length as software, each entry a name and its evidence
    ok(rep["clients"] and all(len(c.get("software_named", [])) == len(c["software"]) and
                              all(set(e) == {"name", "evidence"} and e["name"] and e["evidence"]
                                  for e in c["software_named"]) for c in rep["clients"]),
       f"{name}: every client's software_named entry has a name and its evidence", err)

    # host servers in clear: the exchange attributes of each flow, read from the bytes
    hs_flows = any(f.get("client") == "jt400" and f.get("transport") == "cleartext" and f["server_port"] >= 8470
                   for f in truth["flows"])
    hs = hostserver_tokens(cap, {8470, 8471, 8472, 8473, 8474, 8475, 8476}) if hs_flows else {}
    miss = []
    for f in truth["flows"]:
        w = hs.get((f["client_ip"], f["client_port"]))
        if w and f.get("transport") == "cleartext" and w not in named.get(f["client_ip"], []):
            miss.append((f["client_ip"], f["client_port"], w, named.get(f["client_ip"])))
    if hs_flows:
        ok(hs and not miss, f"{name}: each host-server client in clear is named from its exchange attributes "
           f"({len(hs)} flows' bytes)", miss[:3])

    # telnet: the terminal type the client sent (tshark)
    tn_clients = {f["client_ip"] for f in truth["flows"] if f.get("client") == "tn5250-script" and f["server_port"] == 23}
    tt = {}
    for ip, sub, val in (tshark(cap, "tcp.dstport == 23 && telnet.string_subopt.value",
                               ["ip.src", "telnet.subcmd", "telnet.string_subopt.value"]) if tn_clients else []):
        if "24" in sub.split("|"):
            tt.setdefault(ip, set()).add(val.split("|")[0])
    if tn_clients:
        bad = [(ip, tt.get(ip), named.get(ip)) for ip in tn_clients
               if not tt.get(ip) or any({"name": "5250 display emulator" if t.startswith("IBM-3179") else "?",
                                         "evidence": "telnet terminal type " + t} not in named.get(ip, [])
                                        for t in tt[ip])]
        ok(not bad, f"{name}: each 5250 client (truth: tn5250-script) is a 5250 display emulator by the terminal "
           f"type tshark reads ({sorted(tn_clients)})", bad)
        rc, plan, err = run(["-q", "-r", cap, "--plan"])
        plan = plan.decode()
        want = {f"seen: 5250 display emulator (telnet terminal type {t})" for ip in tn_clients for t in tt.get(ip, ())
                if t.startswith("IBM-3179")}
        ok(want and all(w in plan for w in want), f"{name}: the plan's fix for a 5250 client says what it saw, named "
           "with its evidence", (want, [ln for ln in plan.splitlines() if "seen:" in ln]))

    # DRDA: the client's product ID (tshark)
    drda_clients = {t["client_ip"] for t in truth.get("drda", []) if t["server_port"] == 446}
    if drda_clients:
        prd = {}
        for ip, cps, data in tshark(cap, "tcp.dstport == 446 && drda.param.codepoint == 0x112e",
                                    ["ip.src", "drda.param.codepoint", "drda.param.data"]):
            for cp, d in zip(cps.split("|"), data.split("|")):
                if int(cp, 16) == 0x112E:
                    prd.setdefault(ip, d)
        bad = [(ip, prd.get(ip), named.get(ip)) for ip in drda_clients
               if not prd.get(ip, "").startswith("DNC") or
               not any(e["evidence"] == "DRDA product identifier PRDID " + prd[ip] and
                       e["name"].startswith("Apache Derby network client V") for e in named.get(ip, []))]
        ok(not bad, f"{name}: the DRDA client (truth: ij) is Apache Derby's network client by the PRDID tshark "
           f"reads ({ {ip: prd.get(ip) for ip in drda_clients} })", bad)

    # TLS clients: the stack the truth's program uses, named by the fingerprint table
    tls = {(f["client_ip"], f["client"]) for f in truth["flows"]
           if f.get("transport") == "tls" and f.get("client") in TLS_NAME}
    bad = [(ip, prog, named.get(ip)) for ip, prog in tls
           if not any(TLS_NAME[prog] in e["name"] and e["evidence"].startswith("TLS ClientHello fingerprint")
                      for e in named.get(ip, []))]
    if tls:
        ok(not bad, f"{name}: each TLS client's stack (truth: {sorted({p for _, p in tls})}) is named from its "
           "ClientHello", bad)

    # the other formats carry the same entries
    lines = {ip: [f"{e['name']} ({e['evidence']})" for e in es] for ip, es in named.items() if es}
    rc, text, err = run(["-q", "-r", cap])
    text = text.decode() if isinstance(text, bytes) else text
    sec = text.split("Client software (what the bytes say it is)", 1)[-1].split("\n\n", 1)[0]
    bad = [ip for ip, ls in lines.items()
           if not any(ln.split()[:1] == [ip] and ln.rstrip().endswith("; ".join(ls)) for ln in sec.splitlines())
           or ("software: " + "; ".join(ls)) not in text]
    ok(lines and not bad, f"{name}: text: each client's software line and the line under its rows", bad[:3])
    rc, out, err = run(["-q", "-r", cap, "--format", "csv"])
    out = out.decode() if isinstance(out, bytes) else out
    rows = list(csv.reader(io.StringIO(out)))
    hdr = rows[0] if rows else []
    col = hdr.index("software") if "software" in hdr else -1
    bad = [r for r in rows[1:] if r and r[0] == "usage" and r[1] in lines and r[col] != "; ".join(lines[r[1]])]
    ok(col > 0 and len(rows) > 1 and not bad, f"{name}: CSV: the software column is NAME (EVIDENCE); ...", bad[:2])
    rc, page, err = run(["-q", "-r", cap, "--format", "html"])
    page = page.decode() if isinstance(page, bytes) else page
    bad = [ip for ip, ls in lines.items() if html.escape("; ".join(ls), quote=False) not in page and
           html.escape("; ".join(ls)) not in page]
    ok(page and not bad, f"{name}: HTML: each client's software, escaped", bad[:3])

# hostile: a terminal type made of markup (built here byte by byte, RFC 1091 TERMINAL-TYPE IS) stays data
# (short enough for the inventory's 47 characters of "telnet terminal type ...")
import tempfile  # noqa: E402
from pcapgen import Pcap  # noqa: E402
with tempfile.TemporaryDirectory() as tmp:
    cap = os.path.join(tmp, "hostile.pcap")
    w = Pcap(cap)
    c = w.conn("192.0.2.50", 40000, "192.0.2.10", 23)
    c.handshake()
    c.send(b"\xff\xfd\x18", from_client=False)
    c.send(b"\xff\xfb\x18")
    c.send(b"\xff\xfa\x18\x01\xff\xf0", from_client=False)
    c.send(b"\xff\xfa\x18\x00<b onmouseover=x>\xff\xf0")
    c.close()
    w.close()
    rc, out, err = run(["-q", "-r", cap, "--format", "json"])
    cl = [c for c in json.loads(out)["clients"] if c["ip"] == "192.0.2.50"] if out else []
    want = {"name": "telnet client", "evidence": "telnet terminal type <b onmouseover=x>"}
    ok(cl and cl[0]["software_named"] == [want], "hostile: a markup terminal type is a telnet client, the bytes kept "
       "as evidence in JSON", cl and cl[0]["software_named"])
    rc, page, err = run(["-q", "-r", cap, "--format", "html"])
    page = page.decode()
    ok("<b on" not in page and "telnet client (telnet terminal type &lt;b onmouseover=x&gt;)" in page,
       "hostile: HTML escapes the software name and evidence", [ln for ln in page.splitlines() if "mouseover" in ln][:3])
    rc, out, err = run(["-q", "-r", cap, "--format", "csv"])
    rows = [r for r in csv.reader(io.StringIO(out.decode())) if r and r[0] == "usage"]
    ok(rows and rows[0][-1] == "telnet client (telnet terminal type <b onmouseover=x>)",
       "hostile: CSV quotes the software cell and keeps it whole", rows[:1])

done()

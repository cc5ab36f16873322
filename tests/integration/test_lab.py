"""test_lab.py - tlsready against the lab's truth.

The lab (pcaps/lab, `make pcaps`) records real clients talking to a mock
IBM i and writes, next to each capture X.pcapng, X.truth.json from what the
clients and the mock logged (never from tlsready).  For every capture:
every truth connection is in the report and every reported connection is in
the truth, with the same service, port class, transport, TCP outcome,
mid-stream flag, TLS version and cipher, user, device, port-mapper request
and answer, and sign-on outcome; every truth client has the same status,
nonsecure services and internal flag.  The format variants of one capture
give the same verdicts, and no report in any format contains a secret the
lab's clients sent (pcaps/secrets.json).  Differences print as a readable
diff.
"""
import atexit
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile

from tap import ok, skip, run, done, sanitizer_report, PCAPS, tshark_run

FLOW_FIELDS = ("service", "port_class", "transport", "tcp", "midstream", "user", "device", "mismatch",
               "cleartext_credentials")
CONTENT = ("user", "device", "signon", "tls.version", "tls.cipher", "tls.alert")


def key(f):
    return (f["client_ip"], f["client_port"], f["server_ip"], f["server_port"])


def got_fields(f):
    g = {k: f.get(k) for k in FLOW_FIELDS}
    tls = f.get("tls") or {}
    g["tls.version"] = tls.get("version")
    g["tls.cipher"] = tls.get("cipher")
    g["tls.alert"] = tls.get("alert")
    m = f.get("mapper") or {}
    g["mapper.requested"] = m.get("requested")
    g["mapper.port"] = m.get("port")
    g["signon"] = (f.get("hostserver") or {}).get("signon")
    up = f.get("upgrade") or {}
    g["upgrade.protocol"], g["upgrade.result"] = up.get("protocol"), up.get("result")
    return g


def want_fields(t):
    w = {k: t[k] for k in FLOW_FIELDS if k in t}
    if "tls" in t:
        tls = t["tls"] or {}
        if t["tls"] is None:
            w["tls.version"] = None
        for k in ("version", "cipher", "alert"):
            if k in tls:
                w["tls." + k] = tls[k]
    if "mapper" in t:
        m = t["mapper"] or {}
        for k in ("requested", "port"):
            if k in m or t["mapper"] is None:
                w["mapper." + k] = m.get(k)
    if "signon" in t:
        w["signon"] = t["signon"]
    if "upgrade" in t:   # doors.truth.json: the protocol's own upgrade, from the servers' logs
        up = t["upgrade"] or {}
        w["upgrade.protocol"], w["upgrade.result"] = up.get("protocol"), up.get("result")
    return w


def compare_capture(cap, truth):
    rc, out, err = run(["-r", cap, "--format", "json", "-q"])
    name = os.path.relpath(cap, PCAPS)
    if not ok(rc in (0, 1) and not sanitizer_report(err), f"{name}: runs cleanly", f"rc={rc} {err}"):
        return None
    doc = json.loads(out)
    got = {key(f): f for f in doc["flows"]}
    want = {key(t): t for t in truth["flows"]}
    diff = []
    for k in sorted(set(want) - set(got)):
        diff.append(f"- missing connection {k}")
    for k in sorted(set(got) - set(want)):
        diff.append(f"+ connection not in the truth {k}: {got[k]['service']} {got[k]['transport']} {got[k]['tcp']}")
    headers_only = "snaplen" in truth.get("format_note", "")
    for k in sorted(set(want) & set(got)):
        w, g = want_fields(want[k]), got_fields(got[k])
        for field, value in w.items():
            seen = g.get(field)
            # What the client sent before a mid-stream capture began, or what a
            # snaplen of 96 cut off, cannot be on the wire: it is compared only
            # when tlsready reports something (which must then be right).
            if field in CONTENT and (want[k].get("midstream") or headers_only) and seen is None:
                continue
            # A TLS 1.3 alert after the ServerHello is encrypted: its name is not on the wire.
            if field == "tls.alert" and seen is None and (got[k].get("tls") or {}).get("server_hello_version") == "TLSv1.3":
                continue
            # doors.truth.json: a TLS close that crossed the peer's close_notify may end in an RST no log shows
            if field == "tcp" and want[k].get("close_race") and value == "closed" and seen == "reset":
                continue
            if seen != value:
                diff.append(f"  {k[0]}:{k[1]} -> {k[2]}:{k[3]} {field}: truth {value!r}, tlsready {g.get(field)!r}")
    ok(not diff, f"{name}: {len(want)} connections as in the truth", "\n".join(diff))
    # The program behind each ClientHello, named by the lab, against the fingerprint table.
    stacks = {"jt400": "Java", "openssl": "OpenSSL", "tn5250-script": "OpenSSL", "gnutls": "GnuTLS"}
    sdiff, n = [], 0
    for k in sorted(set(want) & set(got)):
        tls = got[k].get("tls") or {}
        prog = want[k].get("client")
        if not tls.get("ja4") or prog not in stacks:
            continue
        n += 1
        if stacks[prog] not in (tls.get("client_stack") or ""):
            sdiff.append(f"  {k[0]}:{k[1]} made by {prog}: client_stack {tls.get('client_stack')!r} ja4 {tls.get('ja4')}")
    if n:
        ok(not sdiff, f"{name}: the TLS stack of {n} ClientHellos named as the lab's program", "\n".join(sdiff))
    clients = {c["ip"]: c for c in doc["clients"]}
    cdiff = []
    for t in truth.get("clients", []):
        c = clients.get(t["ip"])
        if not c:
            cdiff.append(f"- client {t['ip']} missing")
            continue
        if "status" in t and c["status"] != t["status"]:
            cdiff.append(f"  {t['ip']} status: truth {t['status']}, tlsready {c['status']}")
        if "nonsecure_services" in t:
            svc = sorted({u["service"] for u in c["nonsecure"]})
            if svc != sorted(t["nonsecure_services"]):
                cdiff.append(f"  {t['ip']} nonsecure services: truth {sorted(t['nonsecure_services'])}, tlsready {svc}")
        if "internal" in t and c["internal"] != t["internal"]:
            cdiff.append(f"  {t['ip']} internal: truth {t['internal']}, tlsready {c['internal']}")
    ok(not cdiff, f"{name}: {len(truth.get('clients', []))} clients as in the truth", "\n".join(cdiff))
    return doc


def syn_times(cap):
    """(time, client ip, client port, server port) of every SYN, from tshark."""
    p = tshark_run(["tshark", "-r", cap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
                        "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                        "-e", "tcp.dstport"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    out = []
    for line in p.stdout.decode().splitlines():
        t, v4, v6, sp, dp = line.split("\t")
        out.append((float(t), v4 or v6, int(sp), int(dp)))
    return sorted(out)


def check_mapper_links(cap, doc):
    """Each answered port-mapper lookup links to the client's next connection to
    that port, by tshark's SYN times (a connection answers one lookup)."""
    syns = syn_times(cap)
    flows = doc["flows"]
    claimed, diff, n = set(), [], 0
    for i, f in enumerate(flows):
        m = f.get("mapper") or {}
        if m.get("port") is None:
            continue
        n += 1
        t0 = next((t for t, ip, sp, dp in syns if ip == f["client_ip"] and sp == f["client_port"] and dp == 449), None)
        want = next(((ip, sp) for t, ip, sp, dp in syns if t0 is not None and t >= t0 and ip == f["client_ip"]
                     and dp == m["port"] and (ip, sp) not in claimed), None)
        got = m.get("next_connection")
        gotk = (flows[got]["client_ip"], flows[got]["client_port"]) if got is not None else None
        if want:
            claimed.add(want)
        if gotk != want:
            diff.append(f"  {f['client_ip']}:{f['client_port']} asked {m.get('requested')} -> {m['port']}: "
                        f"next connection by tshark {want}, tlsready {gotk}")
    if n:
        ok(not diff, f"{os.path.basename(cap)}: {n} port-mapper lookups linked to the connection that followed",
           "\n".join(diff))


def check_certificates(cap, doc):
    """Every server certificate tshark reassembles (out-of-order segments
    included) is the one tlsready reports: the lossy and reordered captures
    still give the certificate when every byte was captured."""
    p = tshark_run(["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", cap, "-Y",
                        "tls.handshake.type == 11", "-T", "fields", "-E", "occurrence=f", "-e", "tcp.srcport",
                        "-e", "tcp.dstport", "-e", "tls.handshake.certificate"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    flows = {(f["server_port"], f["client_port"]): f for f in doc["flows"]}
    diff, n = [], 0
    for line in p.stdout.decode().splitlines():
        sp, cp, der = line.split("\t")
        f = flows.get((int(sp), int(cp)))
        if not der or not f:
            continue
        n += 1
        want = hashlib.sha256(bytes.fromhex(der)).hexdigest()
        got = ((f.get("tls") or {}).get("server_cert") or {}).get("sha256")
        if got != want:
            diff.append(f"  {cp}->{sp}: tshark {want[:16]}..., tlsready {got}")
    if n:
        ok(not diff, f"{os.path.basename(cap)}: {n} server certificates as tshark reassembles them", "\n".join(diff))


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    hdr, off, pkts = data[:24], 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkts.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return hdr, pkts


def check_reordered(cap):
    """Reorder by hand: in the first TLS connection whose server sends its
    certificate in several segments, swap two of those segments and send one
    again (a retransmission).  The certificate must still be the one tshark
    reads from the original capture."""
    tmp = tempfile.mkdtemp(prefix="tlsready-reorder-")
    atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens
    plain = os.path.join(tmp, "plain.pcap")
    if subprocess.run(["editcap", "-F", "pcap", cap, plain], stderr=subprocess.DEVNULL).returncode != 0:
        skip("reordered certificate", "editcap failed")
        return
    hdr, pkts = read_pcap(plain)
    linktype = struct.unpack("<I", hdr[20:24])[0]
    if linktype != 1:
        skip("reordered certificate", f"link type {linktype}")
        return
    p = tshark_run(["tshark", "-r", cap, "-Y", "tls.handshake.type == 11", "-T", "fields", "-e", "tcp.srcport",
                        "-e", "tcp.dstport"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    with_cert = {tuple(map(int, l.split("\t"))) for l in p.stdout.decode().splitlines() if l.strip()}
    data_pkts = []
    for i, p in enumerate(pkts):
        fr = p[16:]
        if len(fr) < 54 or fr[12:14] != b"\x08\x00" or fr[23] != 6:
            continue
        ihl = (fr[14] & 15) * 4
        tcp = fr[14 + ihl:]
        sport, dport = struct.unpack("!HH", tcp[:4])
        plen = struct.unpack("!H", fr[16:18])[0] - ihl - (tcp[12] >> 4) * 4
        if plen > 0 and (sport, dport) in with_cert:
            data_pkts.append((i, sport, dport))
    pair = next(((a, b) for a, b in zip(data_pkts, data_pkts[1:]) if a[1:] == b[1:] and b[0] == a[0] + 1), None)
    if not pair:
        skip("reordered certificate", "no server flight of two segments found")
        return
    i, j = pair[0][0], pair[1][0]
    pkts[i], pkts[j] = pkts[j], pkts[i]
    pkts.insert(j + 1, pkts[i])       # the first-sent segment once more, after both
    out = os.path.join(tmp, "reordered.pcap")
    with open(out, "wb") as f:
        f.write(hdr + b"".join(pkts))
    rc, stdout, err = run(["-r", out, "--format", "json", "-q"])
    doc = json.loads(stdout)
    f = next((x for x in doc["flows"] if x["server_port"] == pair[0][1] and x["client_port"] == pair[0][2]), {})
    p = tshark_run(["tshark", "-r", cap, "-Y", f"tls.handshake.type == 11 && tcp.srcport == {pair[0][1]} && "
                        f"tcp.dstport == {pair[0][2]}", "-T", "fields", "-E", "occurrence=f", "-e",
                        "tls.handshake.certificate"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    der = p.stdout.decode().strip()
    want = hashlib.sha256(bytes.fromhex(der)).hexdigest() if der else None
    got = ((f.get("tls") or {}).get("server_cert") or {}).get("sha256")
    c = doc["capture"]["counters"]
    ok(want and got == want and c["stream_out_of_order"] >= 1 and c["stream_retransmitted"] >= 1,
       f"{os.path.basename(cap)} with two certificate segments swapped and one resent: same certificate",
       f"want {want} got {got} counters {c}")


def verdicts(doc, full, transport=False):
    """full: transport, TLS version and user too; transport: the transport alone (what a small snap
    length leaves provable: record headers prove TLS, the hellos' contents are cut)."""
    v = []
    for f in doc["flows"]:
        row = (f["client_ip"], f["client_port"], f["server_ip"], f["server_port"], f["service"], f["port_class"],
               f["tcp"])
        if full:
            row += (f["transport"], (f.get("tls") or {}).get("version"), f.get("user"))
        elif transport:
            row += (f["transport"],)
        v.append(row)
    return sorted(v), sorted((c["ip"], c["status"]) for c in doc["clients"])


truths = sorted(glob.glob(os.path.join(PCAPS, "**", "*.truth.json"), recursive=True))
if not truths:
    skip("lab captures", "no pcaps/*.truth.json yet (make pcaps)")
    done()

for tpath in truths:
    truth = json.load(open(tpath))
    cap = os.path.join(os.path.dirname(tpath), truth.get("capture", os.path.basename(tpath)[:-len(".truth.json")]))
    if not os.path.exists(cap):
        ok(False, f"{os.path.relpath(tpath, PCAPS)}: its capture exists", cap)
        continue
    doc = compare_capture(cap, truth)
    if doc:
        check_mapper_links(cap, doc)
        check_certificates(cap, doc)

check_reordered(os.path.join(PCAPS, "longchain.pcapng"))

# Format variants: pcaps/formats*.pcap* are one capture in several forms
# (pcap, pcapng, VLAN, SLL, SLL2, nanoseconds, snaplen 96, cut mid-packet).
variants = sorted(glob.glob(os.path.join(PCAPS, "formats*.pcap*")))
if variants:
    docs = {}
    for v in variants:
        rc, out, err = run(["-r", v, "--format", "json", "-q"])
        ok(rc in (0, 1) and out and not sanitizer_report(err), f"variant {os.path.basename(v)} runs", err)
        if out:
            docs[os.path.basename(v)] = json.loads(out)
    full = {n: d for n, d in docs.items() if "snap" not in n and "cut" not in n}
    base = next(iter(sorted(full)), None)
    for n, d in sorted(docs.items()):
        if base is None or n == base:
            continue
        is_full = n in full
        if "cut" in n:    # a cut file stops early: its verdicts are a prefix of the base's
            b = verdicts(docs[base], False)[0]
            g = verdicts(d, False)[0]
            ok(all(x in b or x[:6] == y[:6] for x, y in zip(g, b)) and d["capture"]["warnings"],
               f"variant {n}: verdicts agree up to the cut, with a warning", f"{g}\n{b}")
            continue
        snap = "snap" in n
        ok(verdicts(d, is_full, snap) == verdicts(docs[base], is_full, snap),
           f"variant {n}: same verdicts as {base}{' (transport included)' if snap else ''}",
           f"{verdicts(d, is_full, snap)}\n{verdicts(docs[base], is_full, snap)}")
else:
    skip("format variants", "no pcaps/formats*")

# Secrets: no report in any format contains a value the lab's clients sent as a secret.
secrets_file = os.path.join(PCAPS, "secrets.json")
if os.path.exists(secrets_file):
    sec = json.load(open(secrets_file))
    values = sorted({v for v in sec.get("passwords", [])} | {v for v in sec.get("secrets", [])})
    caps = sorted(glob.glob(os.path.join(PCAPS, "**", "*.pcap*"), recursive=True))
    leaks = []
    for cap in caps:
        for fmt in ("text", "json", "csv", "ndjson"):
            rc, out, err = run(["-r", cap, "--format", fmt, "-q", "--no-prefilter"])
            low = (out.decode("utf-8", "replace") + err).lower()
            for s in values:
                if s.lower() in low:
                    leaks.append(f"{os.path.relpath(cap, PCAPS)} --format {fmt}: contains a secret ({len(s)} chars)")
    ok(values and not leaks, f"no report contains any of {len(values)} secrets ({len(caps)} captures x 4 formats)",
       "\n".join(leaks))
else:
    skip("secrets", "no pcaps/secrets.json")
done()

"""test_corpus.py - every public capture in ../shared/corpus runs cleanly,
and the TLS facts agree with tshark, the independent reference.

For each capture: no crash, no sanitizer report, exit 0/1 with a JSON
report, or exit 2 with one line naming the file.  For every TCP stream in
which tshark decodes a ServerHello, tlsready's negotiated version and cipher
equal tshark's (supported_versions for TLS 1.3); where tshark decodes a
Certificate, the server certificate's SHA-256 equals the digest of the DER
tshark extracted; where it decodes an SNI, the SNI is the same.  The
MANIFEST's stated facts are asserted as written there.  Skips, saying so,
when ../shared is absent (a user's clone).
"""
import glob
import hashlib
import json
import os
import subprocess

from tap import ok, skip, run, done, sanitizer_report, CORPUS, tshark_run

VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
ALL = ["--no-prefilter", "--server", "0.0.0.0/0", "--server", "::/0", "--format", "json", "-q"]


def tshark(path, display, fields, occurrence="l"):
    cmd = ["tshark", "-r", path, "-Y", display, "-T", "fields", "-E", "separator=|", "-E", "occurrence=" + occurrence]
    for f in fields:
        cmd += ["-e", f]
    p = tshark_run(cmd)
    return [l.split("|") for l in p.stdout.decode().splitlines() if l.strip()]


def key_of(sport, dport):
    return (int(sport), int(dport))


if not os.path.isdir(CORPUS):
    skip("public corpus", f"{CORPUS} is absent (a user's clone has no ../shared)")
    done()

files = sorted(glob.glob(os.path.join(CORPUS, "*", "*.pcap*")))
ok(len(files) >= 40, f"corpus has its captures ({len(files)})")
reports = {}
for path in files:
    name = os.path.relpath(path, CORPUS)
    rc, out, err = run(["-r", path] + ALL)
    clean = not sanitizer_report(err)
    if rc == 2:
        ok(clean and len(err.strip().splitlines()) == 1 and os.path.basename(path) in err,
           f"{name}: clear error", err)
        continue
    try:
        doc = json.loads(out)
    except ValueError as e:
        ok(False, f"{name}: report", f"rc={rc} {e} {err}")
        continue
    ok(clean and rc in (0, 1) and doc["schema"] == "tlsready/1", f"{name}: report, exit {rc}", err)
    reports[name] = doc

have_tshark = subprocess.run(["which", "tshark"], stdout=subprocess.DEVNULL).returncode == 0
if not have_tshark:
    skip("tshark cross-check", "tshark is not installed")
    done()

for name, doc in sorted(reports.items()):
    path = os.path.join(CORPUS, name)
    flows = {}
    for f in doc["flows"]:
        flows.setdefault((f["server_port"], f["client_port"]), f)
    for row in tshark(path, "tls.handshake.type == 2", ["tcp.srcport", "tcp.dstport", "tls.handshake.version",
                                                         "tls.handshake.extensions.supported_version",
                                                         "tls.handshake.ciphersuite"]):
        sport, cport, ver, sv, cipher = row
        if not ver or not cipher:
            continue
        v = int(sv or ver, 16)
        if v not in VERSIONS:
            continue          # draft or private version codes: no name to compare
        f = flows.get(key_of(sport, cport))
        tls = (f or {}).get("tls") or {}
        ok(tls.get("server_hello_version") == VERSIONS[v] and tls.get("cipher_id") == "0x%04x" % int(cipher, 16)
           and (tls.get("version") in (VERSIONS[v], None)),
           f"{name} {cport}->{sport}: version {VERSIONS[v]} cipher {cipher} as tshark",
           json.dumps(tls)[:600])
    for row in tshark(path, "tls.handshake.type == 11", ["tcp.srcport", "tcp.dstport", "tls.handshake.certificate"],
                      occurrence="f"):
        sport, cport, certs = row[0], row[1], row[2]
        f = flows.get(key_of(sport, cport))
        if not certs or not f:
            continue          # a client certificate: the flow is keyed the other way
        want = hashlib.sha256(bytes.fromhex(certs)).hexdigest()
        cert = ((f or {}).get("tls") or {}).get("server_cert") or {}
        ok(cert.get("sha256") == want, f"{name} {cport}->{sport}: certificate SHA-256 as tshark's DER",
           f"want {want} got {cert.get('sha256')}")
    for row in tshark(path, "tls.handshake.type == 1 && tls.handshake.extensions_server_name",
                      ["tcp.dstport", "tcp.srcport", "tls.handshake.extensions_server_name"]):
        sport, cport, sni = row
        f = flows.get(key_of(sport, cport))
        if not f:
            continue
        ok(((f.get("tls") or {}).get("sni")) == sni, f"{name} {cport}->{sport}: SNI {sni} as tshark",
           json.dumps(f.get("tls"))[:300])


def flow0(name):
    fl = reports.get(name, {}).get("flows", [])
    return next((f for f in fl if f.get("tls")), {})


# The MANIFEST's own words.
f = flow0("arkime/openssl-tls1_2-tls1.pcap")
t = f.get("tls") or {}
ok(t.get("version") == "TLSv1.0" and t.get("cipher") == "TLS_RSA_WITH_RC4_128_MD5"
   and t.get("client_max_version") == "TLSv1.2", "MANIFEST: client offers 1.2, server negotiates TLS 1.0 RC4-MD5", t)
for name, v in (("arkime/openssl-ssl3.pcap", "SSLv3"), ("arkime/openssl-tls1.pcap", "TLSv1.0"),
                ("arkime/openssl-tls1_1.pcap", "TLSv1.1"), ("arkime/openssl-tls1_2.pcap", "TLSv1.2"),
                ("arkime/openssl-tls1-tls1_2.pcap", "TLSv1.2"), ("arkime/tls-split-client-hello.pcap", "TLSv1.3")):
    t = flow0(name).get("tls") or {}
    ok(t.get("version") == v and flow0(name).get("transport") == "tls", f"MANIFEST: {name} negotiates {v}", t)
t = flow0("ndpi-4.2/tls-rdn-extract.pcap").get("tls") or {}
ok(t.get("version") == "TLSv1.0" and len((t.get("server_cert") or {}).get("subject", "")) > 200,
   "MANIFEST: tls-rdn-extract.pcap: TLS 1.0 (6 packets, no Finished captured) and a huge subject", t.get("version"))
for name, cipher in (("ndpi-4.2/smtp-starttls.pcap", "TLS_RSA_WITH_RC4_128_SHA"),
                     ("ndpi-4.2/ftp-start-tls.pcap", "TLS_RSA_WITH_3DES_EDE_CBC_SHA")):
    t = flow0(name).get("tls") or {}
    ok(t.get("starttls") is True and t.get("cipher") == cipher, f"MANIFEST: {name}: STARTTLS, then {cipher}", t)
f = flow0("ndpi-4.2/tls_alert.pcap")
ok(f.get("transport") == "tls-failed" and (f.get("tls") or {}).get("alert") == "protocol_version",
   "MANIFEST: tls_alert.pcap is a refused handshake with alert 70", f.get("tls"))
f = flow0("ndpi-dev/tls_1.2_unidirectional_server.pcapng")
ok((f.get("tls") or {}).get("version") == "TLSv1.2", "MANIFEST: server side alone gives the version", f.get("tls"))
f = flow0("ndpi-dev/tls_1.3_unidirectional_client.pcapng")
ok(f.get("transport") == "unknown" and (f.get("tls") or {}).get("version") is None,
   "MANIFEST: client side alone is 'attempted, outcome not seen'", f)
fl = reports.get("ndpi-dev/tls_unidirectional.pcap", {}).get("flows", [])
ok(fl and all(x["transport"] != "tls" for x in fl), "MANIFEST: 2 bytes on 443 are not a TLS session")
fl = reports.get("ndpi-4.2/selfsigned.pcap", {}).get("flows", [])
ok(fl and ((fl[0].get("tls") or {}).get("server_cert") or {}).get("self_signed") is True,
   "MANIFEST: selfsigned.pcap has a self-signed certificate (DLT_NULL)")
done()

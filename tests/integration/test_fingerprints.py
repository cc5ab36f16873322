"""test_fingerprints.py - the built-in Windows Schannel entries of the client
TLS stack table name Schannel's ClientHellos, and nothing else.

Debian has no Schannel, so the truth is public (docs/fingerprints.md):
Microsoft's published default cipher lists, written below by their IANA
names and codes, a ClientHello of the public corpus, and public JA4 records.
- the corpus's tls-rdn-extract.pcap ClientHello: tshark reads its cipher
  list, which is, in order, Microsoft's Windows 7 default list without its
  TLS 1.2-only suites; tlsready names it Schannel (skips without ../shared);
- ClientHellos built here byte for byte with Schannel's Windows 10 default
  list (21 suites) and that list without its two DHE suites (19): tshark's
  JA3 string of each equals the list, the JA4 "b" part tlsready prints
  equals a SHA-256 computed here, and the stack is named Schannel;
- one suite more or less (ChaCha20 added, 3DES left out) is no Schannel
  default: no name;
- (test_corpus_classes.py: no other ClientHello of the corpus is named Schannel.)
Runs in about 10 s (tshark starts slowly).
"""
import atexit
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile

from tap import ok, skip, run, done, CORPUS, tshark_run
from pcapgen import Pcap, tls_record, tls_handshake, tls_ext

tmp = tempfile.mkdtemp(prefix="tlsready-fp-")
atexit.register(shutil.rmtree, tmp, True)

IANA = {
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 0xc02b,
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xc030, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xc02f,
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": 0x009f, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": 0x009e,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": 0xc023,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": 0xc028, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": 0xc027,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": 0xc009,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": 0xc014, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": 0xc013,
    "TLS_RSA_WITH_AES_256_GCM_SHA384": 0x009d, "TLS_RSA_WITH_AES_128_GCM_SHA256": 0x009c,
    "TLS_RSA_WITH_AES_256_CBC_SHA256": 0x003d, "TLS_RSA_WITH_AES_128_CBC_SHA256": 0x003c,
    "TLS_RSA_WITH_AES_256_CBC_SHA": 0x0035, "TLS_RSA_WITH_AES_128_CBC_SHA": 0x002f,
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": 0x000a, "TLS_RSA_WITH_RC4_128_SHA": 0x0005,
    "TLS_RSA_WITH_RC4_128_MD5": 0x0004, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA": 0x0032,
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA": 0x0038, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA": 0x0013,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xcca8,
}

# Microsoft, "TLS Cipher Suites in Windows 10 v1809" and "... v20H2, v21H1, and v21H2": enabled by default, in order;
# public ClientHellos of Windows programs (docs/fingerprints.md) end the list at 3DES.
WIN10 = ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
         "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
         "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
         "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
         "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256",
         "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256",
         "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
WIN10_NO_DHE = [n for n in WIN10 if not n.startswith("TLS_DHE_")]
# Microsoft, "TLS Cipher Suites in Windows 7": the default order; the TLS 1.2-only suites (SHA256, GCM)
# are not offered by a client whose highest version is TLS 1.0 (Windows 7's default).
WIN7_TLS10 = ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA",
              "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
              "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
              "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
              "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_MD5"]


def codes(names):
    return [IANA[n] for n in names]


def ja4_b(suites):
    """JA4's second part (FoxIO's JA4.md): SHA-256 of the sorted 4-hex-digit suites, comma-joined, 12 digits."""
    return hashlib.sha256(",".join("%04x" % s for s in sorted(suites)).encode()).hexdigest()[:12]


def schannel_hello(suites, sni=b"ibmi.example.test"):
    """A ClientHello laid out as Schannel's: SNI, groups (x25519, P-256, P-384), point formats, signature
    algorithms, session ticket, extended master secret, renegotiation info."""
    name = b"\x00" + struct.pack("!H", len(sni)) + sni
    sigs = [0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603]
    exts = (tls_ext(0, struct.pack("!H", len(name)) + name)
            + tls_ext(10, struct.pack("!HHHH", 6, 29, 23, 24))
            + tls_ext(11, b"\x01\x00")
            + tls_ext(13, struct.pack("!H", 2 * len(sigs)) + b"".join(struct.pack("!H", s) for s in sigs))
            + tls_ext(35, b"") + tls_ext(23, b"") + tls_ext(65281, b"\x00"))
    body = (struct.pack("!H", 0x0303) + b"\x5a" * 32 + b"\x00" + struct.pack("!H", 2 * len(suites))
            + b"".join(struct.pack("!H", s) for s in suites) + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    return tls_handshake(1, body)


def tshark_ja3_full(cap):
    p = tshark_run(["tshark", "-r", cap, "-Y", "tls.handshake.type == 1", "-T", "fields",
                        "-e", "tls.handshake.ja3_full"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=60)
    return p.stdout.decode().split()


def flows(cap):
    rc, out, err = run(["-q", "-r", cap, "--format", "json", "--no-prefilter", "--server", "0.0.0.0/0",
                        "--server", "::/0"])
    return rc, (json.loads(out)["flows"] if out else []), err


# ---- built ClientHellos: Windows 10's list, and without its DHE suites ----
cases = [("windows 10 defaults", codes(WIN10), "Windows Schannel (Windows 10 defaults)"),
         ("windows 10 without DHE", codes(WIN10_NO_DHE), "Windows Schannel (Windows 10, no DHE)"),
         ("windows 10 list + ChaCha20", codes(WIN10) + [0xcca8], None),
         ("windows 10 list - 3DES", codes(WIN10)[:-1], None)]
for label, suites, want in cases:
    cap = os.path.join(tmp, label.replace(" ", "-") + ".pcap")
    w = Pcap(cap)
    c = w.conn("192.0.2.60", 50123, "198.51.100.1", 9471)
    c.handshake()
    c.send(tls_record(22, schannel_hello(suites), 0x0303))
    w.close()
    ja3 = tshark_ja3_full(cap)
    ok(ja3 and ja3[0].split(",")[1] == "-".join(str(s) for s in suites),
       f"{label}: tshark reads the {len(suites)} suites in Microsoft's order", ja3)
    rc, fl, err = flows(cap)
    t = (fl[0].get("tls") or {}) if fl else {}
    parts = (t.get("ja4") or "").split("_")
    ok(len(parts) == 3 and parts[0].startswith("t12d%02d" % len(suites)) and parts[1] == ja4_b(suites),
       f"{label}: JA4 {t.get('ja4')} has the cipher hash computed here ({ja4_b(suites)})", t.get("ja4"))
    ok(t.get("client_stack") == want, f"{label}: client stack {want!r}", t.get("client_stack"))

# ---- the public corpus ----
rdn = os.path.join(CORPUS, "ndpi-4.2", "tls-rdn-extract.pcap")
if not os.path.exists(rdn):
    skip("Schannel on the public corpus", f"{CORPUS} is absent (a user's clone has no ../shared)")
    done()
ja3 = tshark_ja3_full(rdn)
ok(ja3 and ja3[0].split(",")[0] == "769" and ja3[0].split(",")[1] == "-".join(str(s) for s in codes(WIN7_TLS10)),
   "tls-rdn-extract.pcap: tshark reads a TLS 1.0 ClientHello with Windows 7's default suites in its order", ja3)
rc, fl, err = flows(rdn)
stacks = [(f.get("tls") or {}).get("client_stack") for f in fl]
ok(stacks == ["Windows Schannel (Vista/7, TLS 1.0)"], "tls-rdn-extract.pcap: named Windows Schannel", stacks)
# that no other ClientHello of the corpus is named Schannel: test_corpus_classes.py (class 12)
done()

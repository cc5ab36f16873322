"""test_fingerprints_java.py - a real Java ClientHello, made here by the JDK's own TLS code (SunJSSE, the
provider behind IBM i Access Client Solutions and IBM Toolbox for Java on OpenJDK, Semeru or Temurin), is
named as the JVM that made it says it is, and its JA4 is the one computed from tshark's fields.

How: java/JavaHello.java (compiled here with javac) prints the JVM's identity (java.version, vendor,
specification version, TLS provider, its default cipher suites: how many, whether any TLS_RSA_*), then
opens TLS to a listener on 127.0.0.1 twice: to an address (no SNI) and layered over a plain socket with
a host name, as jt400 does (SNI). The listener keeps each ClientHello's bytes and closes; the bytes are
written into a capture (pcapgen) that tlsready and tshark both read.
Checks, per ClientHello:
- JA4 equals a computation here (FoxIO's JA4.md) from tshark's fields: supported_versions, SNI, cipher
  suites, extension types, ALPN, signature_algorithms; its cipher count is the JVM's default suite count;
- client_stack: for OpenJDK 17 (SunJSSE) the table's entry for what the JVM says of its defaults
  ("with TLS_RSA" when a default suite is TLS_RSA_*, "no TLS_RSA" otherwise; docs/fingerprints.md says
  why these are the two); for another Java, no name or one that names its own version, never another's.
The JVM is the one on PATH, or $JAVA_HOME/bin/java when set (e.g. an unpacked newer JRE); javac must be on
PATH (the JDK in the Makefile's DEB_TEST). Skips, saying why, without them. Runs in about 10 s (javac 3 s, java 3 s, tshark).
"""
import atexit
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading

from tap import ok, skip, run, done, tshark_run
from pcapgen import Pcap

HERE = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="tlsready-fpjava-")
atexit.register(shutil.rmtree, tmp, True)

java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
javac = shutil.which("javac")
if not java or not os.path.exists(java) or not javac:
    skip("a real Java ClientHello", "no java/javac (the JDK, openjdk-17-jdk-headless in DEB_TEST, is not installed)")
    done()
p = subprocess.run([javac, "--release", "11", "-d", tmp, os.path.join(HERE, "java", "JavaHello.java")],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
if p.returncode:
    ok(False, "javac compiles java/JavaHello.java", p.stdout.decode(errors="replace"))
    done()

# ---- the listener: one ClientHello record per connection, then close ----
N = 2
hellos = []
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(N)
lsock.settimeout(30)


def read_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            break
        b += chunk
    return b


def listener():
    for _ in range(N):
        try:
            c, _ = lsock.accept()
        except OSError:
            return
        c.settimeout(10)
        try:
            head = read_exact(c, 5)
            body = read_exact(c, int.from_bytes(head[3:5], "big")) if len(head) == 5 else b""
            hellos.append(head + body)
        except OSError:
            pass
        c.close()


t = threading.Thread(target=listener)
t.start()
p = subprocess.run([java, "-cp", tmp, "JavaHello", str(lsock.getsockname()[1])], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=60)
t.join(40)
lsock.close()
ident = json.loads(p.stdout.decode().splitlines()[0]) if p.stdout.strip() else {}
if not ok(p.returncode == 0 and ident and len(hellos) == N and all(h[:1] == b"\x16" for h in hellos),
          f"the JVM ({ident.get('java.runtime.version')}, {ident.get('provider')}) sent {N} ClientHellos",
          p.stderr.decode(errors="replace") + f"\n{len(hellos)} records"):
    done()

cap = os.path.join(tmp, "java.pcap")
w = Pcap(cap)
for i, h in enumerate(hellos):
    c = w.conn("192.0.2.70", 50200 + i, "198.51.100.1", 9471)
    c.handshake()
    c.send(h)
w.close()


# ---- JA4 from tshark's fields (FoxIO, technical_details/JA4.md) ----
def grease(v):
    return (v & 0x0f0f) == 0x0a0a


def ints(s):
    return [int(x, 16) if x.startswith("0x") else int(x) for x in s.split(",") if x]


FIELDS = ["tls.handshake.ciphersuite", "tls.handshake.extension.type", "tls.handshake.sig_hash_alg_len",
          "tls.handshake.sig_hash_alg", "tls.handshake.extensions.supported_version",
          "tls.handshake.extensions_alpn_str", "tls.handshake.extensions_server_name", "tls.handshake.version"]
out = tshark_run(["tshark", "-r", cap, "-Y", "tls.handshake.type == 1", "-T", "fields", "-E", "occurrence=a",
                      "-E", "aggregator=,"] + sum((["-e", f] for f in FIELDS), []),
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60).stdout.decode()


def ja4(line):
    f = dict(zip(FIELDS, line.split("\t")))
    ciphers = [c for c in ints(f["tls.handshake.ciphersuite"]) if not grease(c)]
    exts = [e for e in ints(f["tls.handshake.extension.type"]) if not grease(e)]
    # signature_algorithms (13) and signature_algorithms_cert (50) are both sig_hash_alg: take 13's, by
    # the order of the two extensions and their list lengths
    lens = [n // 2 for n in ints(f["tls.handshake.sig_hash_alg_len"])]
    algs = ints(f["tls.handshake.sig_hash_alg"])
    sig_exts = [e for e in exts if e in (13, 50)]
    sigs, at = [], 0
    for e, n in zip(sig_exts, lens):
        if e == 13:
            sigs = algs[at:at + n]
        at += n
    versions = [v for v in ints(f["tls.handshake.extensions.supported_version"]) if not grease(v)]
    top = max(versions) if versions else ints(f["tls.handshake.version"])[0]
    ver = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}.get(top, "00")
    alpn = f["tls.handshake.extensions_alpn_str"].split(",")[0]
    alpn = alpn[0] + alpn[-1] if alpn else "00"
    a = "t%s%s%02d%02d%s" % (ver, "d" if 0 in exts else "i", min(len(ciphers), 99), min(len(exts), 99), alpn)
    b = hashlib.sha256(",".join("%04x" % c for c in sorted(ciphers)).encode()).hexdigest()[:12]
    craw = ",".join("%04x" % e for e in sorted(exts) if e not in (0, 0x10))
    if sigs:
        craw += "_" + ",".join("%04x" % s for s in sigs)
    c = hashlib.sha256(craw.encode()).hexdigest()[:12]
    return "_".join((a, b, c)), f["tls.handshake.extensions_server_name"], len(ciphers)


want = [ja4(line) for line in out.splitlines() if line]
rc, js, err = run(["-q", "-r", cap, "--format", "json", "--no-prefilter", "--server", "0.0.0.0/0"])
fl = json.loads(js)["flows"] if js else []
got = [(f.get("tls") or {}) for f in sorted(fl, key=lambda f: f["client_port"])]
if not ok(rc == 0 and len(got) == N and len(want) == N, f"tlsready and tshark each see {N} ClientHellos",
          f"rc {rc}, tlsready {len(got)}, tshark {len(want)}\n{err}"):
    done()

spec = ident.get("java.specification.version")
if ident.get("provider") == "SunJSSE" and spec == "17":
    expect = "Java SunJSSE (OpenJDK 17, %s)" % ("with TLS_RSA" if ident.get("tls_rsa") else "no TLS_RSA")
else:
    expect = None
for (label, sni), g, (wja4, wsni, nciph) in zip([("by address", ""), ("layered, by name", "ibmi.example.test")],
                                                 got, want):
    ok(g.get("ja4") == wja4 and wsni == sni and nciph == ident.get("suites"),
       f"{label}: JA4 {g.get('ja4')} is tshark's fields' ({wja4}), SNI {sni!r}, "
       f"{nciph} suites as the JVM's {ident.get('suites')} defaults",
       f"tlsready {g.get('ja4')}, from tshark {wja4}, SNI {wsni!r}")
    name = g.get("client_stack")
    if expect:
        ok(name == expect, f"{label}: {ident.get('java.runtime.version')} ({ident.get('provider')}, "
           f"TLS_RSA {'on' if ident.get('tls_rsa') else 'off'}) named {expect!r}", name)
    else:
        ok(name is None or f"OpenJDK {spec}" in name,
           f"{label}: Java {spec} ({ident.get('provider')}) is not given another Java's name", name)
done()

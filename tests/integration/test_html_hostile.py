#!/usr/bin/env python3
"""test_html_hostile.py - a capture whose names carry markup and script, made from real parts, in
every report (issue 14): the HTML page in chromium, and the text, CSV and JSON reports.

The capture: openssl makes a CA and a server certificate whose subject and issuer hold markup, script,
quotes, a javascript: URL, control characters and a name longer than the report keeps; openssl
s_server (TLS 1.2, so the certificate is on the wire) and s_client with such an SNI talk over the
loopback of a network namespace of our own ("th-hx-<pid>", deleted at exit); three telnet clients
send NEW-ENVIRON user and device names full of markup and CSV formulas over real TCP there; tcpdump
records it all.  Truth: tshark reads the same SNI, certificate names and telnet bytes off the
capture; Python's HTML parser and chromium's DOM for the page; the csv and json modules for those
reports.  Skips when not root or without ip, openssl, tcpdump or tshark.  About 15 s.
"""
import csv
import html.parser
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from netlab import stop
from tap import ok, skip, run, done, PCAPS

tmp = tempfile.mkdtemp(prefix="tlsready-hx-")
NS = f"th-hx-{os.getpid() % 100000}"
procs, ns_made = [], False
CHECKS = ("capture made", "tshark reads the hostile names", "JSON", "CSV", "text", "HTML source", "HTML in chromium")

CA = [("CN", "Evil CA <script>alert(1)</script>"), ("O", "javascript:alert(2)"), ("OU", "x\"y'z & </style><b>")]
# the CN last here is first in the one-line form (RFC 2253 order), the whole longer than the 255 bytes kept
LEAF = [("O", "A" * 60), ("OU", "B" * 60), ("OU", "C" * 60), ("L", "D" * 60),
        ("CN", "\x01\x1b[31mred\x1b[0m<img src=x onerror=alert(3)>")]
SNI = "\"><script>alert(4)</script>javascript:alert(5)\x01" + "e" * 150
# telnet NEW-ENVIRON from 127.0.0.2, .3, .4 (a client each): (user, device); IBM i keeps 10 characters
# and upper-cases the user
NAMES = [(b"<script>", b"</style>x"), (b"=cmd|'/c'", b"\"'&<>\x01\x1b["), (b"@sum(1)", b"+1-2")]


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
    if ns_made:
        subprocess.run(["ip", "netns", "delete", NS], stderr=subprocess.DEVNULL, timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)


import atexit
atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))

why = None
if os.geteuid() != 0:
    why = "not root (a network namespace and a capture need root)"
else:
    missing = [t for t in ("ip", "openssl", "tcpdump", "tshark") if not shutil.which(t)]
    if missing:
        why = "not installed: " + ", ".join(missing)
if why:
    for name in CHECKS:
        skip(name, why)
    done()
    raise SystemExit(0)


def subj(rdns):
    return "".join("/" + k + "=" + v.replace("\\", "\\\\").replace("/", "\\/") for k, v in rdns)


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, timeout=60, **kw)


def ns(*args):
    return ["ip", "netns", "exec", NS] + list(args)


# ---- the capture, from real parts ----
os.chdir(tmp)
made = [sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
           "-days", "400", "-utf8", "-subj", subj(CA)),
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-utf8",
           "-subj", subj(LEAF)),
        sh("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
           "-out", "leaf.pem", "-days", "300")]
r = sh("ip", "netns", "add", NS)
ns_made = r.returncode == 0
made.append(r)
made.append(sh("ip", "-n", NS, "link", "set", "lo", "up"))
cap = os.path.join(tmp, "hostile.pcap")
dump_err = open(os.path.join(tmp, "tcpdump.err"), "w+")
# not --immediate-mode: its ring of one-packet blocks overflows on a busy machine; the packets come in
# blocks (after at most a second), so wait for the last ones in the file before stopping tcpdump
dump = subprocess.Popen(ns("tcpdump", "-i", "lo", "-B", "8192", "-U", "-w", cap, "tcp port 992 or tcp port 23"),
                        stdout=subprocess.DEVNULL, stderr=dump_err)
procs.append(dump)
for _ in range(100):
    dump_err.seek(0)
    if "listening" in dump_err.read():
        break
    time.sleep(0.05)
server = subprocess.Popen(ns("openssl", "s_server", "-accept", "992", "-tls1_2", "-cert", "leaf.pem", "-key", "leaf.key",
                             "-cert_chain", "ca.pem", "-quiet", "-naccept", "1"),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
procs.append(server)
time.sleep(0.5)
client = subprocess.run(ns("openssl", "s_client", "-connect", "127.0.0.1:992", "-tls1_2", "-servername", SNI,
                           "-quiet"), input=b"hello\n", capture_output=True, timeout=30)
made.append(client)
# telnet: a server that asks for NEW-ENVIRON, clients that answer with the names (real TCP, loopback)
TELNET = r"""
import socket, sys
names = eval(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 23)); srv.listen(4)
for i, (user, dev) in enumerate(names):
    c = socket.create_connection(("127.0.0.1", 23), source_address=("127.0.0.%d" % (2 + i), 0)); s, _ = srv.accept()
    s.sendall(b"\xff\xfd\x27\xff\xfd\x18"); c.recv(64)
    c.sendall(b"\xff\xfb\x27\xff\xfb\x18\xff\xfa\x27\x00\x00USER\x01" + user + b"\x03DEVNAME\x01" + dev + b"\xff\xf0")
    s.recv(256); c.close(); s.close()
"""
made.append(subprocess.run(ns(sys.executable, "-c", TELNET, repr(NAMES)), capture_output=True, timeout=30))
for _ in range(40):   # until tcpdump has written the last sign-on's FIN (10 s at most on a busy machine)
    time.sleep(0.25)
    r = sh("tshark", "-r", cap, "-Y", "tcp.port == 23 && tcp.flags.fin == 1")
    if r.stdout.count(b"\n") >= 2 * len(NAMES):
        break
stop(dump, signal.SIGINT)
stop(server)
bad = [(m.args[:3], m.stderr[-300:]) for m in made if m.returncode != 0]
dump_err.seek(0)
if "\n0 packets dropped by kernel" not in dump_err.read():
    dump_err.seek(0)
    bad.append(("tcpdump", dump_err.read()[-300:]))
ok(not bad and os.path.getsize(cap) > 2000, "the capture made: openssl's certificates, TLS 1.2 with the SNI, three"
   " telnet sign-ons over loopback, recorded by tcpdump", bad)

# ---- tshark reads the same hostile names off it ----
def tshark(field, flt):
    r = sh("tshark", "-r", cap, "-Y", flt, "-T", "fields", "-E", "occurrence=a", "-E", "separator=|", "-e", field)
    return r.stdout.decode("utf-8", "replace")


t_sni = tshark("tls.handshake.extensions_server_name", "tls.handshake.type == 1").strip("\n")
t_x509 = tshark("x509sat.uTF8String", "tls.handshake.type == 11")
payload = bytes.fromhex(tshark("tcp.payload", "tcp.port == 23 && tcp.len > 0").replace("\n", "").replace("|", ""))
ok(t_sni == SNI and all(v in t_x509 for _, v in CA) and "<img src=x onerror=alert(3)>" in t_x509 and
   all(u in payload and d in payload for u, d in NAMES),
   "tshark reads the hostile SNI, certificate names and telnet user and device names on the wire",
   (t_sni[:80], t_x509[:300]))

# ---- JSON: the strings as openssl renders the names (RFC 2253), escaped for JSON only ----
def rfc2253(what):
    r = sh("openssl", "x509", "-in", "leaf.pem", "-noout", "-" + what, "-nameopt", "RFC2253")
    return r.stdout.decode().strip().split("=", 1)[1]


o_subject, o_issuer = rfc2253("subject"), rfc2253("issuer")
rc, out, err = run(["-q", "-r", cap, "--format", "json"])
try:
    doc = json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
except ValueError as e:
    doc = {"error": str(e)}
snis = [f["tls"]["sni"] for f in doc.get("flows", []) if f.get("tls") and f["tls"].get("sni")]
users = sorted(f["user"] for f in doc.get("flows", []) if f.get("user"))
certs = doc.get("certificates", [])
subject, issuer = (certs[0].get("subject", ""), certs[0].get("issuer", "")) if len(certs) == 1 else ("", "")
ok(rc == 0 and b"\x01" not in out and b"\x1b" not in out and
   [s.replace("?", "\x01") for s in snis] == [SNI] and users == sorted(u.decode().upper() for u, _ in NAMES) and
   issuer == o_issuer and len(o_subject) > 255 and subject.endswith("...") and o_subject.startswith(subject[:-3]) and
   "onerror=alert(3)" in subject,
   "JSON: a strict parse gives the SNI (its control byte as '?'), the users, the issuer as openssl renders it and"
   " the over-long subject cut with '...'; no raw control byte in the document",
   (snis, users, subject, o_subject, issuer, o_issuer))

# ---- CSV: every row parses; no cell a spreadsheet would run ----
rc, out, err = run(["-q", "-r", cap, "--format", "csv"])
rows = list(csv.reader(io.StringIO(out.decode("utf-8", "replace"))))
cells = [c for row in rows for c in row]
formulas = [c for c in cells if c[:1] in ("=", "+", "-", "@") and not c.lstrip("-").replace(".", "").isdigit()]
ok(rc == 0 and not formulas and {"'=CMD|'/C'", "'@SUM(1)", "'+1-2", "</style>x", "<SCRIPT>"} <= set(cells) and
   all(len(row) == len(rows[0]) for row in rows if row and row[0] == "usage"),
   "CSV: the names a spreadsheet would run (=CMD..., @SUM..., +1-2) start with an apostrophe, the markup is a"
   " cell's text, every usage row has its columns",
   formulas[:5])

# ---- text: nothing a terminal would act on ----
rc, out, err = run(["-q", "-r", cap])
ctrl = sorted({b for b in out if b < 0x20 and b not in (0x0a,) or b == 0x7f})
ok(rc == 0 and not ctrl and b"<SCRIPT>" in out and b"=CMD|'/C'" in out,
   "text: no control byte (escape sequences, ^A) reaches the terminal; the names are there, cleaned", ctrl)


# ---- HTML: no element or attribute from the wire ----
class Shape(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.values, self.text = set(), set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            self.attrs.add((tag, k))
            self.values.append(v or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def shape(raw):
    p = Shape()
    p.feed(raw)
    return p


demo_out = os.path.join(tmp, "demo.html")
run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng"), "--format", "html", "-o", demo_out])
demo_raw = open(demo_out, encoding="utf-8").read()
hout = os.path.join(tmp, "hostile.html")
rc, _, err = run(["-q", "-r", cap, "--format", "html", "-o", hout])
raw = open(hout, encoding="utf-8").read()
d, h = shape(demo_raw), shape(raw)
text = "".join(h.text)
wire_values = [v for v in h.values if any(s in v for s in ("alert", "javascript", "CMD", "onerror"))]
ok(rc == 0 and h.tags <= d.tags and h.attrs <= d.attrs and not wire_values and
   issuer and issuer in text and subject in text and all(u.decode().upper() in text for u, _ in NAMES) and
   "\x01" not in raw and "\x1b" not in raw,
   "HTML source: the elements and attributes are the demo report's (none from the wire), the names are text,"
   " the same as the JSON report's", (h.tags - d.tags, h.attrs - d.attrs, wire_values[:3], err))

chromium = shutil.which("chromium")
if not chromium:
    skip("HTML in chromium", "chromium is not installed (make test installs it)")
else:
    # the page as chromium builds it, with one inline script the report did not write added
    foreign = os.path.join(tmp, "hostile-foreign.html")
    with open(foreign, "w", encoding="utf-8") as f:
        f.write(raw.replace("</body>", "<script>document.body.dataset.foreign='ran'</script></body>"))

    def dom(path):
        p = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom",
                            "file://" + path], capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    rc_d, dom_d, _ = dom(demo_out)
    rc_h, dom_h, log_h = dom(foreign)
    dd, dh = shape(dom_d), shape(dom_h)
    ok(rc_d == 0 and rc_h == 0 and dh.tags <= dd.tags and dh.attrs <= dd.attrs and
       'data-script="ran"' in dom_h and "data-foreign" not in dom_h and
       "violates the following Content Security Policy" in log_h and
       issuer and issuer in "".join(dh.text) and subject in "".join(dh.text),
       "chromium: the DOM's elements and attributes are the demo's, the names are text, the report's script ran"
       " and the foreign inline script was refused by the CSP",
       (dh.tags - dd.tags, dh.attrs - dd.attrs, log_h[-500:]))
done()

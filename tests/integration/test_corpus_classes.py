"""test_corpus_classes.py - issue 16's classes of disagreement, checked on
every public capture of ../shared/corpus against tshark, class by class.

The issue's "kept aside" captures are not on this machine: ../shared/corpus
(48 captures from nDPI's and Arkime's test suites, MANIFEST.md) is the set
nobody here made, so every capture in it is held to tshark, the independent
dissector (tshark_conns.py reads it).  Per class:
  1  connections: per pair of endpoints, tlsready's connections equal
     tshark's TCP streams, plus the cuts tlsready's documented rules make
     of one stream (a connection closed by RST or FIN both ways ends 5 s
     after its last packet, one idle 300 s ends; a later segment that brings
     no new byte within 120 s is late, not a connection; tshark cuts
     streams only at a new SYN).  A retransmitted SYN or FIN is never one;
  2  TLS seen in part: a ServerHello tshark decodes, with no plaintext
     fatal alert, is `tls` (or `tls-failed` with the reason tlsready
     states: a TLS 1.3 client's lone encrypted alert, a certificate over
     the cap); a ClientHello answered by bytes in which tshark finds no TLS
     record is `tls-failed`; one refused by a plaintext fatal alert is
     `tls-failed`; one never answered is `unknown`; each capture cut to a
     96-byte snap length (editcap) keeps `tls` where the TLS record
     headers at segment starts prove it (read from the cut bytes), and
     never turns a `tls` flow into another verdict than `unknown`;
  3  certificates over the 64 KiB cap: the counter equals the number of
     Certificate messages tshark decodes longer than 65536 bytes;
  4  versions: the ServerHello's version (drafts by their name) as tshark
     reads it; a completed handshake always has a version;
  5  JA4's version characters from tshark's ClientHello as the JA4
     specification (and FoxIO's ja4.py) says: the numerically highest
     supported_versions value without GREASE, else the hello's version;
     one JA4 does not name is 00;
  6  TLS after another protocol (STARTTLS, proxies): a ClientHello after an
     application protocol tshark names is `starttls`, and only those;
  7  `completed`: for TLS 1.2 and older, both ChangeCipherSpecs (when no
     hole hides one); for TLS 1.3, encrypted records both ways; never
     completed with `tls-failed`;
  8  encapsulations: capture.counters.encapsulations equals tshark's count
     of TCP frames under each layer;
  12 client software: only the one ClientHello of the corpus sent with a
     Schannel default list (test_fingerprints.py) is named Schannel.
TLS facts come from a second tshark pass without its TCP sequence analysis
(see tshark_conns.read).  Skips, saying so, without ../shared or tshark.
Runs in about 60 s on an idle 2-core machine (two tshark passes and one tlsready run a capture,
side by side).
"""
import collections
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import tempfile

from tap import ok, skip, run, done, sanitizer_report, CORPUS, TLSREADY
import tshark_conns

if not os.path.isdir(CORPUS):
    skip("issue 16 classes on the public corpus", f"{CORPUS} is absent (a user's clone has no ../shared)")
    done()
if not shutil.which("tshark"):
    skip("issue 16 classes on the public corpus", "tshark is not installed")
    done()

NAMES = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
JA4_VERSION = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
               0xfeff: "d1", 0xfefd: "d2", 0xfefc: "d3"}
GREASE = {0x0a0a + 0x1010 * i for i in range(16)}


def version_name(v):
    """The schema's names (docs/schema.md): IETF drafts 0x7f00-0x7f1c by number, other drafts plain."""
    if v in NAMES:
        return NAMES[v]
    if 0x7f00 <= v <= 0x7f1c:
        return "TLSv1.3-draft-%02d" % (v & 0xff)
    if v >> 8 in (0x7f, 0x7e, 0xfb):
        return "TLSv1.3-draft"
    return None


def is_13(v):
    return v == 0x0304 or (v >> 8) in (0x7f, 0x7e, 0xfb)


def ep_key(a, b):
    return frozenset([tuple(a), tuple(b)])


def analyse(path):
    """tlsready's report and tshark's two readings of one capture (run side by side: tshark starts slowly)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        mine = pool.submit(run, ["-q", "-r", path, "--format", "json", "--no-prefilter", "--server", "0.0.0.0/0",
                                 "--server", "::/0"])
        a = pool.submit(tshark_conns.read, path)
        b = pool.submit(tshark_conns.read, path, False)
        return mine.result(), a.result(), b.result()


files = sorted(glob.glob(os.path.join(CORPUS, "*", "*.pcap*")))
ok(len(files) >= 40, f"the corpus has its captures ({len(files)})")
if "asan" in TLSREADY:
    # the sanitizer build: one capture in two (the plain build holds every one to tshark; test_corpus
    # runs every one under the sanitizers)
    files = files[::2]
    print(f"# sanitizer build: {len(files)} captures, one in two")
checked = collections.Counter()
schannel = []
tls_full = {}                           # capture -> {endpoints: transport} where the full capture says tls
for path in files:
    name = os.path.relpath(path, CORPUS)
    (rc, out, err), (streams, layers, _), (tls_streams, _, _) = analyse(path)
    if rc == 2 or not out:
        ok(not sanitizer_report(err) and rc == 2, f"{name}: no report, a clear error", err)
        continue
    doc = json.loads(out)
    counters = doc["capture"]["counters"]
    schannel += [(name, (f.get("tls") or {}).get("client_stack")) for f in doc["flows"]
                 if "Schannel" in ((f.get("tls") or {}).get("client_stack") or "")]
    keys = collections.Counter(ep_key((f["client_ip"], f["client_port"]), (f["server_ip"], f["server_port"]))
                               for f in doc["flows"])
    tls = {ep_key((f["client_ip"], f["client_port"]), (f["server_ip"], f["server_port"])): f["transport"]
           for f in doc["flows"] if f["transport"] == "tls"}
    if tls:
        tls_full[path] = {k: v for k, v in tls.items() if keys[k] == 1}

    # -- class 1: connections per pair of endpoints --
    want = collections.Counter()
    for s in streams.values():
        want[ep_key(*s.key)] += 1 + s.splits
    got = collections.Counter(ep_key((f["client_ip"], f["client_port"]), (f["server_ip"], f["server_port"]))
                              for f in doc["flows"])
    diff = {tuple(sorted(k)): (want[k], got[k]) for k in set(want) | set(got) if want[k] != got[k]}
    ok(not diff, f"{name}: class 1, connections per pair of endpoints as tshark's streams ({sum(want.values())})",
       diff)
    checked[1] += len(want)

    # -- class 8: every encapsulation layer counted --
    enc = counters["encapsulations"]
    diff = {k: (layers.get(k, 0), enc.get(k, 0)) for k in set(layers) | set(enc) if layers.get(k, 0) != enc.get(k, 0)}
    ok(not diff, f"{name}: class 8, TCP frames per encapsulation layer as tshark's", diff)
    checked[8] += sum(layers.values())

    # -- class 3: certificates over the cap --
    over = sum(s.certs_over_cap for s in tls_streams.values())
    ok(counters["tls_certificates_over_cap"] == over,
       f"{name}: class 3, {over} Certificate messages over 64 KiB (tshark), counted", counters["tls_certificates_over_cap"])

    # -- TLS classes: flows paired one to one with tshark's streams --
    flows = collections.defaultdict(list)
    for f in doc["flows"]:
        flows[ep_key((f["client_ip"], f["client_port"]), (f["server_ip"], f["server_port"]))].append(f)
    by_key = collections.defaultdict(list)
    for s in tls_streams.values():
        by_key[ep_key(*s.key)].append(s)
    for k, ss in sorted(by_key.items(), key=lambda kv: sorted(kv[0])):
        fl = flows.get(k, [])
        if len(ss) != 1 or len(fl) != 1:
            continue                    # one stream cut into several connections: class 1 above
        s, f = ss[0], fl[0]
        t = f.get("tls") or {}
        c = s.sides.get(0, tshark_conns.Side())
        v = s.sides.get(1, tshark_conns.Side())
        label = f"{name} {f['client_port']}->{f['server_port']}"
        tr = f["transport"]
        fatal = 2 in (c.alert_levels | v.alert_levels)

        # class 2 (and 7): TLS seen in part still says TLS
        if s.sh_version is not None and not fatal:
            reason = (t.get("certificate_over_cap") or
                      (is_13(s.sh_version) and c.appdata == 1 and not t.get("completed")))
            ok(tr == "tls" or (tr == "tls-failed" and reason),
               f"{label}: class 2, a ServerHello (tshark) and no fatal alert: {tr}", (tr, t))
            checked[2] += 1
        elif 1 in c.hs and s.sh_version is None:
            if fatal:
                ok(tr == "tls-failed", f"{label}: class 2, a ClientHello refused by a fatal alert: {tr}", tr)
            elif v.payload and not v.ctypes:
                ok(tr == "tls-failed", f"{label}: class 2, a ClientHello answered in clear: {tr}", tr)
            elif not v.payload and f["tcp"] not in ("reset", "refused"):
                ok(tr == "unknown", f"{label}: class 2, a ClientHello never answered: {tr}", tr)
            checked[2] += 1

        # class 4: versions
        if s.sh_version is not None and version_name(s.sh_version):
            ok(t.get("version") == version_name(s.sh_version),
               f"{label}: class 4, version {version_name(s.sh_version)} (tshark {s.sh_version:#06x})",
               t.get("version"))
            checked[4] += 1
        if t.get("completed"):
            ok(t.get("version") is not None, f"{label}: class 4, a completed handshake has a version", t)

        # class 5: JA4's version characters
        if 1 in c.hs and t.get("ja4"):
            sv = [x for x in c.sv if x not in GREASE]
            hv = max(sv) if sv else c.legacy
            ok(t["ja4"][1:3] == JA4_VERSION.get(hv, "00"),
               f"{label}: class 5, JA4 version {JA4_VERSION.get(hv, '00')} (highest offered {hv:#06x})", t["ja4"])
            checked[5] += 1

        # class 6: TLS after another protocol
        if 1 in c.hs:
            before = c.protos | v.protos
            ok(bool(t.get("starttls")) == bool(before),
               f"{label}: class 6, TLS after {sorted(before) or 'nothing'}: starttls {t.get('starttls')}",
               (before, t.get("starttls"), t.get("after")))
            checked[6] += 1

        # class 7: completed
        if t:
            ok(not (t.get("completed") and tr == "tls-failed"), f"{label}: class 7, never completed and failed",
               (tr, t.get("completed")))
        if s.sh_version is not None and t:
            if is_13(s.sh_version):
                if t.get("completed"):
                    ok(23 in c.ctypes and 23 in v.ctypes,
                       f"{label}: class 7, a completed TLS 1.3 handshake has encrypted records both ways (tshark)",
                       (c.ctypes, v.ctypes))
            else:
                both = 20 in c.ctypes and 20 in v.ctypes and not fatal
                if not f.get("stream_gap") or t.get("completed"):
                    ok(bool(t.get("completed")) == both,
                       f"{label}: class 7, completed {t.get('completed')}: ChangeCipherSpec both ways is {both} "
                       "(tshark)", (c.ctypes, v.ctypes))
            checked[7] += 1

# -- class 2, small snap lengths: each capture cut to 96 bytes a packet (editcap -s 96, tcpdump's old
# default) keeps its TLS verdicts where the record headers that prove TLS survive at segment starts: from
# both sides at least two, a handshake record among them, and no plaintext alert (the documented rule) --
tmp = tempfile.mkdtemp(prefix="tlsready-cut-")
try:
    for path, want in sorted(tls_full.items()):
        name = os.path.relpath(path, CORPUS)
        cut = os.path.join(tmp, os.path.basename(path))
        subprocess.run(["editcap", "-s", "96", path, cut], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        rc, out, err = run(["-q", "-r", cut, "--format", "json", "--no-prefilter", "--server", "0.0.0.0/0",
                            "--server", "::/0"])
        cut_doc = json.loads(out) if out else {"flows": [], "capture": {"counters": {"not_decoded": {}}}}
        got = {ep_key((f["client_ip"], f["client_port"]), (f["server_ip"], f["server_port"])): f["transport"]
               for f in cut_doc["flows"]}
        cut_tcp = cut_doc["capture"]["counters"]["not_decoded"].get("truncated_tcp", 0)
        heads = tshark_conns.record_heads(cut)
        for k, full in sorted(want.items(), key=lambda kv: sorted(kv[0])):
            h = heads.get(k, {})
            proof = len(h) == 2 and all(d["segments"] >= 2 and 22 in d["types"] and not d["plain_alert"]
                                        for d in h.values())
            label = f"{name} cut to 96 bytes, {' <-> '.join(f'{a}:{p}' for a, p in sorted(k))}"
            if k not in got and not any(d["segments"] for d in h.values()):
                # 96 bytes end inside the TCP header (IPv6 in IPv4: 14 + 20 + 40 + 32): nothing to analyse
                ok(cut_tcp > 0, f"{label}: the cut ends inside the TCP header, counted ({cut_tcp})", cut_tcp)
            elif proof:
                ok(got.get(k) == "tls", f"{label}: the record headers prove TLS, still tls", (got.get(k), h))
            else:
                ok(got.get(k) in ("tls", "unknown"), f"{label}: headers do not prove it: {got.get(k)}, never a "
                   "verdict against TLS", (got.get(k), h))
            checked[2.5] += 1
finally:
    shutil.rmtree(tmp, True)

# class 12: of the corpus's ClientHellos only tls-rdn-extract's (Windows 7's list, test_fingerprints.py) is Schannel's
RDN = "ndpi-4.2/tls-rdn-extract.pcap"
ok(schannel == [(RDN, "Windows Schannel (Vista/7, TLS 1.0)")][:1 if os.path.join(CORPUS, RDN) in files else 0],
   "class 12, the corpus's one Schannel ClientHello is named, no other", schannel)
ok(all(checked[k] for k in (1, 2, 4, 5, 6, 7, 8)),
   "every class was checked on the corpus (" + ", ".join(f"class {k}: {n}" for k, n in sorted(checked.items())).replace("class 2.5", "snap length") + ")",
   checked)
done()

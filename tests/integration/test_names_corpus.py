"""test_names_corpus.py - host names from public captures, against tshark.

Which captures: every capture of ../shared/corpus that carries DNS, NetBIOS
name service, mDNS or LLMNR answers; set NAMES_CORPUS_DIR to a directory of
more such captures (nDPI's dns, netbios, dns_ambiguous_names, dns-invalid-chars
and malformed_dns captures were checked that way by hand) to add them.  Tests
never fetch anything from the network.

For each: BUILD/tlsready-names-dump (make unit) prints every name tlsready's
decoder and names.c kept; tshark's own DNS and NBNS dissectors give the
truth: each A/AAAA record of a DNS response's answer section, each A/AAAA of
an mDNS/LLMNR response, each unique NB name (suffix 0x00 or 0x20) with its
address of a NetBIOS positive response, registration or refresh.  The two
sets must be equal; a name tshark shows with bytes outside printable ASCII is
compared with those bytes as '?', as tlsready writes them.  A message tshark
itself flags malformed is left out of the comparison (tlsready stops at the
first malformed part of a message and counts it).  A few seconds.
"""
import glob
import json
import os
import re
import shutil
import subprocess

from tap import ok, skip, done, SHARED, CORPUS, TLSREADY, tshark_run

DUMP = os.path.join(os.path.dirname(TLSREADY), "tlsready-names-dump")
if not shutil.which("tshark") or not os.access(DUMP, os.X_OK):
    skip("host names against tshark on public captures", "needs tshark and make unit's tlsready-names-dump")
    done()

caps = []
local = os.environ.get("NAMES_CORPUS_DIR")
if local:
    caps += sorted(glob.glob(os.path.join(local, "*.pcap*")))
caps += sorted(glob.glob(os.path.join(CORPUS, "*", "*.pcap*")))


def clean(s):
    # tshark writes bytes outside printable ASCII as \\ooo escapes; tlsready writes '?'
    return re.sub(r"\\[0-7]{3}", "?", s)


def records(layer, proto, out):
    """The truth of one message, from tshark's JSON layer."""
    flags = layer.get("dns.flags_tree", layer.get("nbns.flags_tree", {}))
    resp = flags.get("dns.flags.response", flags.get("nbns.flags.response")) == "1"
    rcode = flags.get("dns.flags.rcode", flags.get("nbns.flags.rcode", "0"))
    opcode = flags.get("dns.flags.opcode", flags.get("nbns.flags.opcode", "0"))
    for sec, rrs in layer.items():
        if sec not in ("Answers", "Additional records", "Authoritative nameservers") or not isinstance(rrs, dict):
            continue
        for r in rrs.values():
            if proto == "nbns":
                if (resp and (opcode != "0" or rcode != "0")) or (not resp and opcode not in ("5", "8", "9")):
                    continue
                m = re.match(r"^(.*?)<(00|20)>", r.get("nbns.name", ""))
                addrs = r.get("nbns.addr")
                group = r.get("nbns.nb_flags_tree", {}).get("nbns.nb_flags.group") == "1"
                if m and addrs and not group:
                    for a in addrs if isinstance(addrs, list) else [addrs]:
                        if a != "0.0.0.0":
                            out.add(("netbios", a, clean(m.group(1).rstrip())))
                continue
            if not resp or rcode != "0" or opcode != "0" or (proto == "dns" and sec != "Answers"):
                continue
            t, n = r.get("dns.resp.type"), clean(r.get("dns.resp.name", ""))
            for key, want in (("dns.a", "1"), ("dns.aaaa", "28")):
                if t == want and key in r:
                    out.add(({"dns": "dns"}.get(proto, proto), r[key], n[:95]))


def truth(cap):
    p = tshark_run(["tshark", "-r", cap, "-T", "json", "-Y", "dns || nbns || mdns || llmnr"],
                       capture_output=True, text=True, timeout=120)
    out, malformed = set(), 0
    for pk in json.loads(p.stdout or "[]"):
        lay = pk["_source"]["layers"]
        if "_ws.malformed" in lay or "Name too long" in json.dumps(lay):
            malformed += 1
            continue
        for proto in ("dns", "mdns", "llmnr", "nbns"):
            if proto in lay and isinstance(lay[proto], dict):
                records(lay[proto], proto, out)
    return out, malformed


checked = 0
for cap in caps:
    want, bad = truth(cap)
    p = subprocess.run([DUMP, cap], capture_output=True, text=True, timeout=120)
    got = {tuple(l.split("\t")) for l in p.stdout.splitlines() if l}
    got = {g for g in got if g[0] != "dns-ptr"}   # PTR names are checked in test_names.py
    if not want and not got:
        continue
    checked += 1
    ok(p.returncode == 0 and want == got,
       f"{os.path.basename(cap)}: the {len(want)} names tshark reads are the names tlsready keeps"
       + (f" ({bad} malformed messages left out)" if bad else ""),
       f"tshark only: {sorted(want - got)[:6]}\ntlsready only: {sorted(got - want)[:6]}\n{p.stderr}")
if not checked:
    skip("host names against tshark on public captures", "no capture at hand carries DNS, NetBIOS, mDNS or LLMNR answers")
done()

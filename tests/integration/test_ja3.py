"""test_ja3.py - tlsready's JA3 equals nDPI's ja3_client on the same flows.

The reference is nDPI 4.2's own golden output (upstream tests/result/*.out,
in ../shared/corpus/ndpi-4.2/expected-ndpiReader-4.2/, reproduced byte for
byte by Debian's ndpiReader): every TCP flow line with a [JA3C: ...] is
matched to tlsready's flow by its two ports.  Where nDPI and tlsready
differ, tshark (a third implementation of the same definition) decides:
nDPI 4.2 cuts very long cipher lists short, and it hashes what it could read
of a ClientHello in a file cut mid-packet.  Skips where ../shared is absent.
"""
import glob
import json
import os
import re
import subprocess

from tap import ok, skip, run, done, CORPUS, tshark_run

OUT = os.path.join(CORPUS, "ndpi-4.2", "expected-ndpiReader-4.2")
if not os.path.isdir(OUT):
    skip("JA3 against nDPI", f"{OUT} is absent (a user's clone has no ../shared)")
    done()

line_re = re.compile(r"\tTCP \[?([0-9a-fA-F.:]+?)\]?:(\d+) <?-> \[?([0-9a-fA-F.:]+?)\]?:(\d+) .*\[JA3C: ([0-9a-f]{32})\]")
checked = 0


def tshark_ja3(cap, pa, pb):
    p = tshark_run(["tshark", "-r", cap, "-Y", f"tls.handshake.type == 1 && tcp.port == {pa} && tcp.port == {pb}",
                        "-T", "fields", "-e", "tls.handshake.ja3"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=60)
    v = p.stdout.decode().split()
    return v[0] if v else None

for out in sorted(glob.glob(os.path.join(OUT, "*.out"))):
    cap = os.path.join(CORPUS, "ndpi-4.2", os.path.basename(out)[:-4])
    want = [m.groups() for m in line_re.finditer(open(out).read())]
    if not want or not os.path.exists(cap):
        continue
    rc, stdout, err = run(["-r", cap, "--format", "json", "-q", "--no-prefilter", "--server", "0.0.0.0/0",
                           "--server", "::/0"])
    if not stdout:
        ok(False, f"{os.path.basename(cap)}: report", err)
        continue
    flows = {}
    for f in json.loads(stdout)["flows"]:
        flows[frozenset((f["client_port"], f["server_port"]))] = f
    for a, pa, b, pb, ja3 in want:
        f = flows.get(frozenset((int(pa), int(pb))))
        got = ((f or {}).get("tls") or {}).get("ja3")
        checked += 1
        if got == ja3:
            ok(True, f"{os.path.basename(cap)} {pa}<->{pb}: JA3 {ja3} as nDPI")
            continue
        ts = tshark_ja3(cap, pa, pb)
        ok(got == ts, f"{os.path.basename(cap)} {pa}<->{pb}: nDPI says {ja3}, tlsready and tshark say {ts}",
           f"tlsready: {got}")
ok(checked >= 15, f"JA3 compared on {checked} flows")
done()

"""test_decode_once.py - each frame is decoded once, whatever --threads is.

Runs BUILD/tlsready-count-decodes (tlsready linked with count_decodes.c, which
counts every decode_frame() call and prints the count at exit; `make unit`
builds it beside BUILD/tlsready) on every lab capture with --threads 1 and 2:
- with --no-prefilter every frame read reaches the decoder, so the count must
  equal the report's capture.packets exactly, one thread or two;
- with the prefilter, the count must be the same for 1 and 2 threads and lie
  between capture.tcp_packets (each analysed segment was decoded) and
  capture.packets (no frame twice).
A reader that decodes and a worker that decodes again count packets +
tcp_packets with two threads and fail both.
"""
import glob
import json
import os
import re
import subprocess

from tap import ok, done, sanitizer_report, PCAPS, TLSREADY

COUNTING = os.path.join(os.path.dirname(TLSREADY), "tlsready-count-decodes")


def counted(args):
    """(decode_frame calls or None, capture object or {}, stderr) of one run."""
    p = subprocess.run([COUNTING] + args + ["--format", "json", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"^tlsready-count-decodes: decode_frame calls: (\d+)$", err, re.M)
    try:
        cap = json.loads(p.stdout)["capture"]
    except (ValueError, KeyError):
        cap = {}
    return (int(m.group(1)) if m else None), cap, err


caps = sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")))
if not ok(os.access(COUNTING, os.X_OK) and caps, f"{COUNTING} is built and lab captures exist",
          "build it with make unit (O=the build directory)"):
    done()
for cap in caps:
    name = os.path.basename(cap)
    n1, c1, e1 = counted(["-r", cap, "--no-prefilter", "--threads", "1"])
    n2, c2, e2 = counted(["-r", cap, "--no-prefilter", "--threads", "2"])
    pk = c1.get("packets")
    ok(pk is not None and n1 == pk and n2 == pk and c2.get("packets") == pk
       and not sanitizer_report(e1 + e2),
       f"{name} --no-prefilter: decode_frame calls = frames read ({pk}) with --threads 1 and 2",
       f"calls {n1} / {n2}, packets {pk} / {c2.get('packets')}, tcp_packets {c1.get('tcp_packets')}\n{e2[-300:]}")
    n1, c1, e1 = counted(["-r", cap, "--threads", "1"])
    n2, c2, e2 = counted(["-r", cap, "--threads", "2"])
    pk, tcp = c1.get("packets"), c1.get("tcp_packets")
    ok(pk is not None and tcp is not None and n1 is not None and n1 == n2 and tcp <= n1 <= pk
       and not sanitizer_report(e1 + e2),
       f"{name}: decode_frame calls the same with --threads 1 and 2 ({n1}), "
       f"between tcp_packets ({tcp}) and packets ({pk})",
       f"calls {n1} / {n2}, tcp_packets {tcp}, packets {pk}\n{e2[-300:]}")
done()

"""test_live.py - live capture for real: lab captures replayed with tcpreplay
into a veth pair in a network namespace of this test's own, `tlsready -i` on
the other end with one capture socket, and with --threads 2 (two sockets in a
PACKET_FANOUT group, one engine each).  The connections it reports (client,
ports, transport, user, TLS version) must be those of the offline analysis of
the same captures, with nothing dropped.  Skips, saying why, when not root or
without `ip netns` or tcpreplay.  Everything started is ended by its PID and
the namespace is deleted, whatever happens.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from tap import ok, skip, run, done, sanitizer_report, PCAPS, TLSREADY

NS = f"tr-live-{os.getpid()}"
CAPS = [os.path.join(PCAPS, n) for n in ("legacy.pcapng", "modern.pcapng", "demo.pcapng")]


def key(f):
    return (f["client_ip"], f["client_port"], f["server_port"], f["transport"], f["user"],
            (f.get("tls") or {}).get("version"))


why = None
if os.geteuid() != 0:
    why = "needs root for a network namespace"
elif not shutil.which("ip") or not shutil.which("tcpreplay"):
    why = "needs ip (iproute2) and tcpreplay"
elif not all(os.path.exists(c) for c in CAPS):
    why = "lab captures missing"
if why:
    skip("live capture into a veth pair", why)
    done()

offline = []
for c in CAPS:
    rc, out, err = run(["-r", c, "--format", "json", "-q"])
    offline += json.loads(out)["flows"]
want = sorted(map(key, offline))

try:
    subprocess.run(["ip", "netns", "add", NS], check=True, timeout=10)
    for cmd in (["link", "add", "va", "type", "veth", "peer", "name", "vb"], ["link", "set", "va", "up"],
                ["link", "set", "vb", "up"]):
        subprocess.run(["ip", "-n", NS] + cmd, check=True, timeout=10)
    for threads in ("1", "2"):
        out_dir = tempfile.mkdtemp(prefix="tlsready-live-")
        atexit.register(shutil.rmtree, out_dir, True)   # removed at exit, whatever happens
        out = os.path.join(out_dir, "live.json")
        proc = subprocess.Popen(["ip", "netns", "exec", NS, TLSREADY, "-i", "vb", "-q", "-B", "32", "--threads",
                                 threads, "--format", "json", "-o", out], stderr=subprocess.PIPE)
        time.sleep(1.5)
        for c in CAPS:
            subprocess.run(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", "va", "--topspeed", c],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGINT)   # ip netns exec passes it on to tlsready
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        err = err.decode("utf-8", "replace")
        doc = json.load(open(out)) if os.path.exists(out) and os.path.getsize(out) else {"flows": [], "capture": {}}
        live = doc["capture"].get("live") or {}
        got = sorted(map(key, doc["flows"]))
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        ok(proc.returncode == 0 and got == want and live.get("dropped_kernel") == 0 and not sanitizer_report(err),
           f"-i with --threads {threads}: the {len(want)} connections of the offline analysis, nothing dropped",
           f"rc={proc.returncode} got {len(got)} live={live} missing={missing} extra={extra} {err[-300:]}")
finally:
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL, timeout=10)
done()

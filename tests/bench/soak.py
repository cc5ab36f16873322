"""soak.py - memory of tlsready under floods and over time, measured.

  python3 tests/bench/soak.py flood [N]     one-shot and live: N connections (default 30000) that each
                                            hold 15 one-byte out-of-order segments at 4 KiB steps per
                                            direction; peak RSS and the memcap counters
  python3 tests/bench/soak.py soak [SECS]   the live monitor for SECS (default 3600) under replayed
                                            traffic (lab captures, the flood, spoofed SYNs), RSS sampled

Run as root (make soak / make bench-flood call it).  The live parts use a veth pair in a network
namespace made here ("tr-soak-<pid>", documentation addresses only), tcpreplay at a bounded rate,
and delete everything on exit.  Prints one line per RSS sample and a closing summary; the verdict
"flat" means the last quarter's highest RSS is within 10 % (or 4 MiB) of the second quarter's.
"""
import atexit
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from pcapgen import Pcap  # noqa: E402
from netlab import Netlab, stop  # noqa: E402

TLSREADY = os.environ.get("TLSREADY", os.path.join(TOP, "tlsready"))
tmp = tempfile.mkdtemp(prefix="tlsready-soak-")
atexit.register(shutil.rmtree, tmp, True)
lab = None


def flood(path, n, steps=15):
    w = Pcap(path)
    for i in range(n):
        c = w.conn("192.0.2.%d" % (1 + i % 250), 10000 + i // 250 % 50000, "198.51.100.1", 8476,
                   isn_c=1000 * i, isn_s=7000 * i)
        c.handshake()
        for k in range(1, steps + 1):
            c.seg(k * 4096, b"A", True)
            c.seg(k * 4096, b"B", False)
    w.close()


def syn_flood(path, n):
    w = Pcap(path)
    for i in range(n):
        w.conn("203.0.113.%d" % (1 + i % 254), 1024 + i % 60000, "198.51.100.1", 8471 + i % 6).syn()
    w.close()


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def one_shot(cap, *args):
    r = subprocess.run(["/usr/bin/time", "-f", "%M %e", TLSREADY, "-q", "-r", cap, "--format", "json",
                        "-o", os.devnull] + list(args), capture_output=True, text=True, timeout=3600)
    kib, secs = r.stderr.strip().splitlines()[-1].split()
    return int(kib), float(secs)


def live(caps, seconds, pps, label):
    """Monitor on VB, caps replayed into VA in turn at `pps` until `seconds` pass; RSS every 10 s."""
    db = os.path.join(tmp, f"{label}.db")
    log = open(os.path.join(tmp, f"{label}.err"), "w+")
    p = lab.spawn([TLSREADY, "-i", lab.vb, "--db", db, "--interval", "10", "-q"], stdout=subprocess.DEVNULL,
                  stderr=log)
    time.sleep(1.5)
    pid = p.pid                      # ip netns exec runs the program in its own process
    samples, start, nxt, i = [], time.monotonic(), 0.0, 0
    replayer = None
    while time.monotonic() - start < seconds:
        if replayer is None or replayer.poll() is not None:
            cap = caps[i % len(caps)]
            i += 1
            replayer = lab.replay(cap, pps, wait=False)
        t = time.monotonic() - start
        if t >= nxt:
            kib = rss_kib(pid)
            samples.append((t, kib))
            print(f"  {label} t={t:7.0f}s rss={kib / 1024 if kib else 0:7.1f} MiB replays={i}", flush=True)
            nxt += 10
        time.sleep(0.5)
    if replayer:
        stop(replayer, timeout=10)
    stop(p, timeout=60)
    rep = subprocess.run([TLSREADY, "--db", db, "--format", "json"], capture_output=True, text=True, timeout=600)
    return samples, rep.stdout


def verdict(samples):
    vals = [k for _, k in samples if k]
    q = max(1, len(vals) // 4)
    second, last = max(vals[q:2 * q] or vals), max(vals[-q:])
    flat = last <= max(second * 1.10, second + 4096)
    return flat, second / 1024, last / 1024, max(vals) / 1024


def main():
    global lab
    mode = sys.argv[1] if len(sys.argv) > 1 else "flood"
    if os.geteuid() != 0:
        print("soak.py: needs root (network namespace, live capture)")
        return 2
    if mode == "flood":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 30000
        cap = os.path.join(tmp, "flood.pcap")
        flood(cap, n)
        print(f"flood: {n} connections, {os.path.getsize(cap) / 1e6:.1f} MB capture")
        for args in ([], ["--memcap", "8M"], ["--threads", "2"]):
            kib, secs = one_shot(cap, *args)
            print(f"  one-shot {' '.join(args) or '(defaults: --memcap 32M)'}: peak RSS {kib / 1024:.1f} MiB, {secs:.2f} s")
        lab = Netlab("tr-soak")
        samples, rep = live([cap], 120, 20000, "flood-live")
        flat, a, b, top = verdict(samples)
        print(f"  live monitor, flood replayed at 20k packets/s for 120 s: RSS {a:.1f} -> {b:.1f} MiB "
              f"(highest {top:.1f}): {'flat' if flat else 'GROWING'}")
        return 0 if flat else 1
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 3600
    caps = sorted(glob.glob(os.path.join(TOP, "pcaps", "*.pcap")) + glob.glob(os.path.join(TOP, "pcaps", "*.pcapng")))
    fl = os.path.join(tmp, "flood.pcap")
    flood(fl, 5000)
    syn = os.path.join(tmp, "syn.pcap")
    syn_flood(syn, 50000)
    lab = Netlab("tr-soak")
    samples, rep = live(caps + [fl, syn], secs, 10000, "soak")
    flat, a, b, top = verdict(samples)
    print(f"soak: {secs} s, {len(samples)} samples: RSS {a:.1f} -> {b:.1f} MiB (highest {top:.1f}): "
          f"{'flat' if flat else 'GROWING'}")
    return 0 if flat else 1


sys.exit(main())

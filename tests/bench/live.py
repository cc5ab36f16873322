"""live.py - how fast tlsready captures live before it drops (make bench-live; root; not a test).

  python3 tests/bench/live.py [SECONDS]

In: SECONDS, the length of each step at 1.5 M packets a second (default 4); BENCH_DIR (default
/tmp/tlsready-bench) caches the packet mix; TLSREADY the binary (default ./tlsready).
Out: a Markdown table on stdout and in BENCH_DIR/live.md: for each tlsready set-up (one capture
socket with the prefilter, one without it, two sockets in a PACKET_FANOUT group), trafgen flat out
on one CPU then on both: the rate it reached, what the kernel handed to the capture socket (after
the prefilter), what tlsready analysed and what was dropped.  trafgen's own rate limit (-b) sends
one packet per system call with a sleep between and reaches less than its flat-out rate here, so
the rate is varied by the generator's CPUs, not by -b.

How: the benchmark's generator (gencap.c, the same packet mix as make bench, 20 MB) is turned into
a trafgen configuration by netsniff-ng (cached: it takes minutes), and trafgen (Debian's
netsniff-ng package; packet socket with the qdisc bypassed, one CPU) sends it in a loop into one
end of a veth pair inside a network namespace made here ("tl-live-<pid>", documentation addresses
only, deleted at exit); tlsready captures on the other end with -B 256 and reports on SIGINT.
On one CPU trafgen runs on CPU 0, where the veth also delivers the frames, and tlsready on CPU 1
(both CPUs for the two-socket run); on two CPUs they share both.  The mix repeats every 30,421 packets, so flows recur: it measures the packet
path, not a growing flow table.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from netlab import Netlab, stop  # noqa: E402

TLSREADY = os.environ.get("TLSREADY", os.path.join(TOP, "tlsready"))
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/tlsready-bench")
SETUPS = [("1 socket, prefilter", [], "1"),
          ("1 socket, --no-prefilter", ["--no-prefilter"], "1"),
          ("2 sockets (--threads 2), prefilter", ["--threads", "2"], "0,1")]


def packet_mix():
    """The trafgen configuration of the benchmark mix, made once and cached."""
    os.makedirs(BENCH_DIR, exist_ok=True)
    cfg = os.path.join(BENCH_DIR, "live-mix.cfg")
    if os.path.exists(cfg):
        return cfg
    gencap, cap = os.path.join(BENCH_DIR, "live-gencap"), os.path.join(BENCH_DIR, "live-mix.pcap")
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-o", gencap, os.path.join(HERE, "gencap.c")], check=True)
    subprocess.run([gencap, "--size", "20M", "--clients", "5000", "--ibmi-share", "0.10", "--seed", "1",
                    "--out", cap], check=True, stdout=subprocess.DEVNULL)
    print("live.py: converting the mix for trafgen (netsniff-ng, a few minutes, once) ...", flush=True)
    subprocess.run(["netsniff-ng", "--in", cap, "--out", cfg + ".tmp"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.rename(cfg + ".tmp", cfg)
    return cfg


def step(lab, cfg, args, cpus, gen_cpus, seconds, out):
    """One tlsready, one trafgen run; returns (sent, sent/s, received, analysed, dropped)."""
    n = 1500000 * seconds
    err = open(out + ".err", "w")
    t = lab.spawn(["taskset", "-c", cpus, TLSREADY, "-q", "-i", lab.vb, "-B", "256", "--format", "json",
                   "-o", out] + args, stdout=subprocess.DEVNULL, stderr=err)
    time.sleep(1.5)
    gen = ["taskset", "-c", "0" if gen_cpus == 1 else "0,1", "trafgen", "--dev", lab.va, "--conf", cfg,
           "--cpus", str(gen_cpus), "-n", str(n), "-Q"]
    g = subprocess.run(["ip", "netns", "exec", lab.ns] + gen, capture_output=True, text=True, timeout=1200)
    time.sleep(1.0)
    stop(t, sig=signal.SIGINT, timeout=120)
    err.close()
    # trafgen's own account: per CPU, the time its send loop ran and the packets it sent
    per_cpu = re.findall(r"(\d+) sec, (\d+) usec on CPU\d+ \((\d+) packets\)", g.stdout + g.stderr)
    sent = sum(int(p) for _, _, p in per_cpu)
    secs = max((int(s) + int(u) / 1e6 for s, u, _ in per_cpu), default=0)
    with open(out) as f:
        cap = json.load(f)["capture"]
    live = cap.get("live") or {}
    return sent, sent / secs if secs else 0, live.get("received", 0), cap["packets"], \
        live.get("dropped_kernel", 0) + live.get("dropped_interface", 0)


def main():
    if os.geteuid() != 0:
        print("live.py: needs root (network namespace, live capture)")
        return 2
    for tool in ("trafgen", "netsniff-ng", "taskset"):
        if not shutil.which(tool):
            print(f"live.py: {tool} is missing (make bench-live installs netsniff-ng)")
            return 2
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    if not 1 <= seconds <= 60:
        sys.exit("live.py: SECONDS must be 1..60")
    cfg = packet_mix()
    lab = Netlab("tl-live")
    tmp = tempfile.mkdtemp(prefix="tlsready-live-")
    rows = []
    try:
        for label, args, cpus in SETUPS:
            for gen_cpus in (1, 2):
                r = step(lab, cfg, args, cpus, gen_cpus, seconds, os.path.join(tmp, "out.json"))
                rows.append((label, gen_cpus, *r))
                print(f"  {label:38} trafgen on {gen_cpus} CPU(s): sent {r[0]} at {r[1] / 1e3:.0f} k/s, received {r[2]}, "
                      f"analysed {r[3]}, dropped {r[4]}", flush=True)
    finally:
        shutil.rmtree(tmp, True)
        lab.close()
    load = os.getloadavg()[0]
    lines = ["| tlsready | trafgen CPUs | sent | sent packets/s | received (after the filter) | analysed | dropped |",
             "|---|---|---|---|---|---|---|"]
    for label, gen_cpus, sent, pps, recv, done, drop in rows:
        lines.append(f"| {label} | {gen_cpus} | {sent} | {pps / 1e3:.0f} k | {recv} | {done} | {drop} |")
    best = {}
    for label, gen_cpus, sent, pps, recv, done, drop in rows:
        if drop == 0 and done >= recv:
            best[label] = max(best.get(label, 0), pps)
    lines.append("")
    for label, _, _ in SETUPS:
        lines.append(f"Highest rate with zero drops, {label}: {best.get(label, 0) / 1e3:.0f} k packets/s")
    lines.append("")
    lines.append(f"Machine: {os.cpu_count()} CPUs, load average {load:.2f} at the end; "
                 f"reproduce: make bench-live LIVE_SECONDS={seconds}")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(BENCH_DIR, "live.md"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

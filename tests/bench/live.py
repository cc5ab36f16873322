"""live.py - how many packets a second one core of tlsready captures live with zero drops (make bench-live; root; not a test).

  python3 tests/bench/live.py [SECONDS]

In: SECONDS, the length of each run's sending (default 4); BENCH_DIR (default /tmp/tlsready-bench)
caches the packet mix; TLSREADY the binary (default ./tlsready); LIVE_NS the namespace prefix (default
tl-live).  Out: two Markdown tables on stdout and in BENCH_DIR/live.md.

The generator cannot saturate a core of tlsready on this machine: trafgen (Debian's netsniff-ng: a
packet socket with the qdisc bypassed) sends the mix at up to ~1.4 M packets/s from one core when
nothing listens, but the kernel's receive path for the capture (veth, the socket's BPF filter, the copy
into the ring) runs in the sender's softirq on the sender's core, so with tlsready listening it reaches
190-900 k packets/s (depending on the machine's other work).  So tlsready's CPU time per analysed
packet is measured while it is held to a known fraction of one core, and the rate a whole core
sustains follows from it.  For each set-up (one
capture socket with the prefilter, one without it, two sockets in a PACKET_FANOUT group):

1. Flat out: trafgen on CPU 0, tlsready unthrottled on CPU 1 (both CPUs for two sockets), -B 256.
2. Saturated, twice: tlsready in a CPU cgroup made here (cgroup v2 cpu.max where the cpu controller
   is there, else v1 cpu.cfs_quota_us; a 10 ms period, longer for shares under a tenth, as the quota
   cannot be under 1 ms) with a quota of a half and a quarter of the share of a core the flat-out run
   used, so it cannot keep up: a backlog builds in the ring (-B 512), every batch is full, as on a
   core at its limit.  The quota is set once tlsready has started (nDPI's start-up would take
   seconds under it) and kept until the ring is drained.  CPU per analysed packet = its CPU time
   (the scheduler's count, /proc/PID/task/*/schedstat, all threads) from just before trafgen starts
   until the ring is empty, over the packets analysed; the two shares agreeing is the linearity
   check; the dearer one is taken, and one core sustains 1 / that.
3. Check: the generator's rate again, with a quota 30 % above what that cost says it needs: zero drops
   and every received packet analysed, by tlsready's JSON capture section (the kernel's
   PACKET_STATISTICS: received after the filter, dropped).

The prefilter's own cost (BPF in the kernel) is in the sender's softirq here, not in these figures.
The mix (gencap.c, as make bench, 20 MB) is turned into a trafgen configuration once (cached, minutes)
and sent in a loop into one end of a veth pair inside a network namespace made here (documentation
addresses only, deleted at exit, with the cgroup).  It repeats every 30,421 packets, so flows recur:
it measures the packet path, not a growing flow table.
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
from netlab import Netlab  # noqa: E402

TLSREADY = os.environ.get("TLSREADY", os.path.join(TOP, "tlsready"))
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/tlsready-bench")
NS_PREFIX = os.environ.get("LIVE_NS", "tl-live")
SETUPS = [("1 socket, prefilter", [], "1"),
          ("1 socket, --no-prefilter", ["--no-prefilter"], "1"),
          ("2 sockets (--threads 2), prefilter", ["--threads", "2"], "0,1")]
PERIOD_US = 10000


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


class CpuGroup:
    """A CPU cgroup with a bandwidth quota: v2 (cpu.max) where its cpu controller is enabled, else v1."""

    def __init__(self, name):
        self.path = None
        for line in open("/proc/mounts"):
            dev, mnt, fs = line.split()[:3]
            if fs == "cgroup2" and os.path.exists(os.path.join(mnt, "cgroup.controllers")):
                ctl = open(os.path.join(mnt, "cgroup.controllers")).read().split()
                sub = open(os.path.join(mnt, "cgroup.subtree_control")).read().split()
                if "cpu" in ctl and "cpu" in sub:
                    self.v2, self.path = True, os.path.join(mnt, name)
                    break
            if fs == "cgroup" and os.path.exists(os.path.join(mnt, "cpu.cfs_quota_us")):
                self.v2, self.path = False, os.path.join(mnt, name)
                break
        if not self.path:
            raise RuntimeError("no CPU cgroup controller with bandwidth control (cpu.max / cpu.cfs_quota_us)")
        os.mkdir(self.path)

    def set(self, share):
        """share: the fraction of one core (None: no limit).  The quota cannot be under 1 ms, so small
        shares get a longer period."""
        if share is None:
            q, period = -1, PERIOD_US
        else:
            period = max(PERIOD_US, int(1000 / share) + 1)
            q = int(share * period)
        if self.v2:
            self._w("cpu.max", f"{'max' if q < 0 else q} {period}")
        else:
            self._w("cpu.cfs_quota_us", "-1")   # a new period must not fall under the old quota
            self._w("cpu.cfs_period_us", str(period))
            self._w("cpu.cfs_quota_us", str(q))

    def throttled(self):
        st = dict(line.split() for line in open(os.path.join(self.path, "cpu.stat")))
        return int(st.get("nr_throttled", 0))

    def _w(self, f, v):
        with open(os.path.join(self.path, f), "w") as fh:
            fh.write(v)

    def wrap(self, argv):
        """argv run inside this group: the shell puts itself in, then execs (same PID); outside the
        namespace, since ip netns exec mounts a sysfs of its own."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', os.path.join(self.path, "cgroup.procs")] + argv

    def close(self):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)


def cpu_s(pid):
    """CPU seconds a process has run, all its threads (the scheduler's own nanosecond count,
    /proc/PID/task/*/schedstat: /proc/PID/stat has 10 ms ticks)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass   # a thread that just ended
    return total / 1e9


def tx_packets(lab):
    j = subprocess.run(["ip", "-n", lab.ns, "-s", "-j", "link", "show", "dev", lab.va], capture_output=True,
                       text=True, timeout=10).stdout
    return json.loads(j)[0]["stats64"]["tx"]["packets"]


GENS = []   # trafgen process groups, ended at exit


def step(lab, cfg, args, cpus, seconds, out, ring, grp=None, share=None):
    """One tlsready, one trafgen run; a dict of what was sent, received, analysed, dropped, and tlsready's
    CPU seconds from just before trafgen starts until its ring is empty (still under its quota: the
    process is idle, only its 100 ms poll wakes it: under 2 ms of CPU in a second); the report at the stop is not counted.
    With grp, tlsready runs in that cgroup, its quota set to share once it has started (nDPI's start-up
    alone would take seconds under a small share)."""
    n = 5000000 * seconds
    err = open(out + ".err", "w")
    argv = ["ip", "netns", "exec", lab.ns, "taskset", "-c", cpus, TLSREADY, "-q", "-i", lab.vb, "-B", str(ring),
            "--format", "json", "-o", out] + args
    if os.path.exists(out):
        os.unlink(out)
    if grp:
        grp.set(None)
    t = subprocess.Popen(grp.wrap(argv) if grp else argv, stdout=subprocess.DEVNULL, stderr=err)
    lab.procs.append(t)
    c = -1.0
    for _ in range(200):   # started: its CPU time stops moving (nDPI's start-up done, the socket open)
        time.sleep(0.3)
        c, c_prev = cpu_s(t.pid), c
        if 0 <= c - c_prev < 0.002 and c > 0:
            break
    time.sleep(0.5)
    if grp:
        grp.set(share)
    thr0 = grp.throttled() if grp else 0
    c0 = cpu_s(t.pid)
    gen = ["ip", "netns", "exec", lab.ns, "taskset", "-c", "0", "trafgen", "--dev", lab.va, "--conf", cfg,
           "--cpus", "1", "-n", str(n), "-Q"]
    # trafgen reads its configuration first (~3 s of CPU); it is stopped with SIGINT SECONDS after
    # the veth's transmit counter starts moving (-n only bounds it).  Its own process group: it sends
    # from a child process, which must get the SIGINT too.
    tx0 = tx_packets(lab)
    g = subprocess.Popen(gen, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    GENS.append(g)
    for _ in range(600):
        if g.poll() is not None or tx_packets(lab) > tx0 + 10000:   # not the link's own few
            break
        time.sleep(0.1)
    try:
        gout = g.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        os.killpg(g.pid, signal.SIGINT)
        try:
            gout = g.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(g.pid, signal.SIGKILL)
            raise
    GENS.remove(g)
    c_send = cpu_s(t.pid)
    thr = (grp.throttled() - thr0) if grp else 0
    c1 = c_send
    for _ in range(180):   # until the ring is drained: under 2 ms of CPU in a second (bounded)
        time.sleep(1.0)
        c = cpu_s(t.pid)
        if c - c1 < 0.002:
            break
        c1 = c
    if grp:
        grp.set(None)   # the report at the stop runs unthrottled
    os.kill(t.pid, signal.SIGINT)
    t.wait(timeout=120)
    err.close()
    # trafgen's own account: per CPU, the time its send loop ran and the packets it sent
    per_cpu = re.findall(r"(\d+) sec, (\d+) usec on CPU\d+ \((\d+) packets\)", gout)
    sent = sum(int(p) for _, _, p in per_cpu)
    secs = max((int(s) + int(u) / 1e6 for s, u, _ in per_cpu), default=0)
    with open(out) as f:
        cap = json.load(f)["capture"]
    live = cap.get("live") or {}
    return {"sent": sent, "pps": sent / secs if secs else 0, "recv": live.get("received", 0),
            "done": cap["packets"], "drop": live.get("dropped_kernel", 0) + live.get("dropped_interface", 0),
            "cpu": c1 - c0, "cpu_send": c_send - c0, "secs": secs, "throttled": thr}


def complete(r):
    """Every packet the kernel handed over was analysed or counted dropped (the drain finished)."""
    return r["recv"] > 0 and r["done"] + r["drop"] >= r["recv"]


def say(label, what, r):
    print(f"  {label:36} {what:14} sent {r['sent']} at {r['pps'] / 1e3:.0f} k/s, received {r['recv']}, "
          f"analysed {r['done']}, dropped {r['drop']}, tlsready CPU {r['cpu']:.2f} s"
          f"{', throttled %d times' % r['throttled'] if r['throttled'] else ''}", flush=True)


def us_a_packet(r):
    return r["cpu"] / r["done"] * 1e6 if r["done"] else 0


def main():
    if os.geteuid() != 0:
        print("live.py: needs root (network namespace, live capture, cgroup)")
        return 2
    for tool in ("trafgen", "netsniff-ng", "taskset"):
        if not shutil.which(tool):
            print(f"live.py: {tool} is missing (make bench-live installs netsniff-ng)")
            return 2
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    if not 1 <= seconds <= 60:
        sys.exit("live.py: SECONDS must be 1..60")
    cfg = packet_mix()
    lab = Netlab(NS_PREFIX)
    tmp = tempfile.mkdtemp(prefix="tlsready-live-")
    out = os.path.join(tmp, "out.json")
    grp = None
    rows, summary = [], []
    loads = [os.getloadavg()[0]]
    try:
        grp = CpuGroup(f"{lab.ns}-tlsready")
        for label, args, cpus in SETUPS:
            r = step(lab, cfg, args, cpus, seconds, out, 256)
            say(label, "flat out", r)
            rows.append((label, "flat out", None, r))
            need = r["cpu_send"] / r["secs"] if r["secs"] else 0.5   # the share of a core it used
            # saturated: a share it cannot keep up with, two of them (linearity); a big ring keeps the backlog
            sat = []
            for f in (0.5, 0.25):
                share = max(0.02, f * need)
                r = step(lab, cfg, args, cpus, seconds, out, 512, grp, share)
                say(label, f"share {share:.3f}", r)
                rows.append((label, "saturated", share, r))
                sat.append(r)
            # the rate a whole core sustains, from the saturated runs' CPU per analysed packet
            good = [us_a_packet(x) for x in sat if complete(x)]
            if not good:
                summary.append((label, None, sat, None, None))
                continue
            us = max(good)   # the dearer of the two
            # checked: the generator's rate again with a share 30 % above what that cost says it needs
            share = max(0.02, 1.3 * r["pps"] * (r["recv"] / r["sent"] if r["sent"] else 1) * us / 1e6)
            r = step(lab, cfg, args, cpus, seconds, out, 256, grp, share)
            say(label, f"share {share:.3f}", r)
            rows.append((label, "check", share, r))
            summary.append((label, us, sat, r, share))
            loads.append(os.getloadavg()[0])
    except RuntimeError as e:   # no CPU cgroup with bandwidth control
        print(f"live.py: {e}")
        return 2
    finally:
        for g in GENS:
            if g.poll() is None:
                os.killpg(g.pid, signal.SIGKILL)
        shutil.rmtree(tmp, True)
        lab.close()
        if grp:
            grp.close()
    loads.append(os.getloadavg()[0])
    lines = ["| tlsready | run | CPU quota (share of a core) | sent | sent packets/s | received (after the filter) | "
             "analysed | dropped | tlsready CPU s | CPU µs an analysed packet |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for label, what, share, r in rows:
        lines.append(f"| {label} | {what} | {'-' if share is None else f'{share:.3f}'} | {r['sent']} | "
                     f"{r['pps'] / 1e3:.0f} k | {r['recv']} | {r['done']} | {r['drop']} | {r['cpu']:.2f} | "
                     f"{us_a_packet(r):.2f}{'' if complete(r) else ' (not drained: not used)'} |")
    lines += ["", "| tlsready | CPU µs a packet, saturated (two shares) | received packets/s one core sustains | "
              "the same in packets on the wire (the filter's pass rate; tlsready's side only) | check: share, received packets/s, dropped |",
              "|---|---|---|---|---|"]
    for label, us, sat, r, share in summary:
        if us is None:
            lines.append(f"| {label} | no saturated run finished its drain | | | |")
            continue
        pass_rate = r["recv"] / r["sent"] if r["sent"] else 1
        rps = r["recv"] / r["secs"] if r["secs"] else 0
        lines.append(f"| {label} | {us_a_packet(sat[0]):.2f}, {us_a_packet(sat[1]):.2f} | {1 / us:.2f} M | "
                     f"{1 / us / pass_rate:.2f} M ({pass_rate:.1%}) | {share:.3f}, {rps / 1e3:.0f} k, {r['drop']} |")
    lines.append("")
    lines.append(f"Machine: {os.cpu_count()} CPUs, load average {min(loads):.2f}-{max(loads):.2f} during the run; "
                 f"{seconds} s of sending a run; reproduce: make bench-live LIVE_SECONDS={seconds}")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(BENCH_DIR, "live.md"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""netlab.py - a network namespace with one veth pair, for tests and
measurements that capture live: made with documentation-only traffic in
mind, deleted (with every process registered) when the program exits or is
signalled.

Use: lab = Netlab("tr-x"); lab.spawn([...]) runs a process inside it (killed
at exit); lab.replay(capture, pps=None) sends a capture into one end;
tlsready listens on lab.vb.  Netlab.available() says whether this machine can.
wait_monitoring(p, log) waits (bounded) for a monitor's start line.
"""
import atexit
import os
import shutil
import signal
import subprocess
import sys
import time


def stop(p, sig=signal.SIGTERM, timeout=15):
    """Signal a process and wait for it; kill it if it does not end. Returns its exit code or None."""
    if p.poll() is None:
        os.kill(p.pid, sig)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)
        return None


def wait_monitoring(p, log, tries=100, step=0.05):
    """Wait (at most tries x step seconds) until a monitor whose standard error goes to the file `log`
    says "monitoring" (its capture is open), or ends. Returns p."""
    for _ in range(tries):
        log.seek(0)
        if "monitoring" in log.read() or p.poll() is not None:
            break
        time.sleep(step)
    return p


class Netlab:
    def __init__(self, prefix):
        tag = os.getpid() % 100000
        self.ns, self.va, self.vb = f"{prefix}-{tag}", f"{prefix[:6]}{tag}a", f"{prefix[:6]}{tag}b"
        self.procs = []
        self.made = False
        atexit.register(self.close)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
        run = lambda *a: subprocess.run(list(a), check=True, timeout=20)
        run("ip", "netns", "add", self.ns)
        self.made = True
        run("ip", "-n", self.ns, "link", "add", self.va, "type", "veth", "peer", "name", self.vb)
        for v in (self.va, self.vb):
            run("ip", "-n", self.ns, "link", "set", v, "up")

    @staticmethod
    def available():
        return os.geteuid() == 0 and shutil.which("ip") is not None and shutil.which("tcpreplay") is not None

    def spawn(self, args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns] + list(args), **kw)
        self.procs.append(p)
        return p

    def replay(self, capture, pps=None, wait=True):
        args = ["tcpreplay", "-q", "-i", self.va] + ([f"--pps={pps}"] if pps else []) + [capture]
        p = self.spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait:
            p.wait(timeout=600)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        if self.made:
            subprocess.run(["ip", "netns", "delete", self.ns], stderr=subprocess.DEVNULL, timeout=10)
            self.made = False

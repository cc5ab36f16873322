"""bridgelab.py - a small switched network of namespaces for the DHCP/DNS lab tests
(test_names_lab.py, test_dhcplink_lab.py): a bridge in namespace PREFIX-sw-PID and one namespace
per host, each joined to the bridge by a veth whose inside end is eth0 with the host's MAC.

In: the prefix, the hosts' MACs, the test's temporary directory.  Out: sh() (a command that must
succeed), nsx() (a command line inside a host), spawn() (a process inside a host, ended at exit),
and at exit every process ended, every namespace deleted, the directory removed (before_cleanup, if
given, runs first).  wait_for() and read() are the polling helpers both tests use; TELNET_STANDIN
is their stand-in IBM i on port 23 (python3 -c TELNET_STANDIN LOG ADDRESS: "::" takes both families),
which asks for NEW-ENVIRON and logs each connection's peer, port and time as a JSON line.
"""
import atexit
import os
import shutil
import signal
import subprocess
import sys
import time


TELNET_STANDIN = r'''
import json, socket, sys, time
v6 = ":" in sys.argv[2]
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if v6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind((sys.argv[2], 23)); s.listen(8)
log = open(sys.argv[1], "a", buffering=1)
while True:
    c, peer = s.accept()
    log.write(json.dumps({"peer": peer[0], "port": peer[1], "t": time.time()}) + "\n")
    c.sendall(b"\xff\xfd\x27")                     # DO NEW-ENVIRON
    c.settimeout(5)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
'''


def sh(*a, check=True):
    return subprocess.run(list(a), check=check, timeout=30, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(pred, secs=20):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


class BridgeLab:
    def __init__(self, prefix, macs, tmp, before_cleanup=None, no_dad=False):
        tag = os.getpid() % 100000
        self.ns = {h: f"{prefix}-{h}-{tag}" for h in ["sw"] + list(macs)}
        self.tmp, self.before_cleanup, self.procs = tmp, before_cleanup, []
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
        for n in self.ns.values():
            sh("ip", "netns", "add", n)
        sw = self.ns["sw"]
        sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", sw, "link", "set", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
        sh("ip", "-n", sw, "link", "set", "br0", "up")
        for h, mac in macs.items():
            sh("ip", "-n", sw, "link", "add", "p-" + h, "type", "veth", "peer", "name", "eth0", "netns", self.ns[h])
            sh("ip", "-n", sw, "link", "set", "p-" + h, "master", "br0", "up")
            if no_dad:   # no 1-2 s of duplicate address detection
                sh("ip", "netns", "exec", self.ns[h], "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
            sh("ip", "-n", self.ns[h], "link", "set", "eth0", "address", mac)
            sh("ip", "-n", self.ns[h], "link", "set", "eth0", "up")
            sh("ip", "-n", self.ns[h], "link", "set", "lo", "up")

    def nsx(self, host, *a):
        return ["ip", "netns", "exec", self.ns[host]] + list(a)

    def spawn(self, host, args, **kw):
        p = subprocess.Popen(self.nsx(host, *args), **kw)
        self.procs.append(p)
        return p

    def cleanup(self):
        if self.before_cleanup:
            self.before_cleanup()
            self.before_cleanup = None
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, True)

"""lab.py - what a scenario script uses: start the mock, capture, run real clients, log everything.

In: run by scenarios/run_all.py inside the topology of net.sh (as root).  Out: for scenario X, the
work dir build/work/X/ gets mock.jsonl (one line per connection the mock saw), clients.jsonl
(one line per client run and per event the client printed - jt400 JSON, parsed openssl/gnutls
output, scripted telnet events, and "attempt" lines for connections the mock never saw, whose
client port we know because we pinned the namespace's ephemeral range to one port), and
capture.json (capture start/stop times).  truth/make_truth.py turns these into X.truth.json.
Every child process is started here, remembered by PID, and ended by PID.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
CERTS = os.path.join(BUILD, "certs")
PY = "/usr/bin/python3"
IBMI4, IBMI6 = "192.0.2.10", "2001:db8::10"


def ns_of(ip):
    """client netns for a lab address (192.0.2.2x / 2001:db8::2x), or tr-ibmi."""
    last = ip.rsplit(".", 1)[-1] if "." in ip else ip.rsplit(":", 1)[-1]
    return "tr-ibmi" if last in ("10", "1") or ip.startswith("127.") or ip == "::1" else "tr-c" + last


def client_ip(ns, v6=False):
    n = ns.replace("tr-c", "")
    return ("2001:db8::" if v6 else "192.0.2.") + n


class Lab:
    def __init__(self, name, description):
        self.name, self.description = name, description
        self.work = os.path.join(BUILD, "work", name)
        os.makedirs(self.work, exist_ok=True)
        for f in ("mock.jsonl", "clients.jsonl", "capture.json"):
            p = os.path.join(self.work, f)
            if os.path.exists(p):
                os.unlink(p)
        self.procs = []
        self.mock = None
        self.caps = []
        self.meta = {"name": name, "description": description}
        self.cipher = dict(l.rstrip("\n").split("\t") for l in open(os.path.join(BUILD, "cipher-names.tsv")))

    # -- logging ------------------------------------------------------------------------
    def log(self, **kv):
        kv.setdefault("t", round(time.time(), 6))
        with open(os.path.join(self.work, "clients.jsonl"), "a") as f:
            f.write(json.dumps(kv, sort_keys=True) + "\n")

    def say(self, msg):
        print("[%s] %s" % (self.name, msg), flush=True)

    # -- processes ----------------------------------------------------------------------
    def spawn(self, argv, out=None):
        p = subprocess.Popen(argv, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def end(self, p, sig=signal.SIGTERM, wait=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def cleanup(self):
        for p in reversed(self.procs):
            self.end(p, wait=3)

    # -- the mock -----------------------------------------------------------------------
    def start_mock(self, config=None):
        if self.mock:
            self.stop_mock()
        cfg = os.path.join(self.work, "mock-config-%d.json" % len(self.procs))
        json.dump(config or {}, open(cfg, "w"))
        ready = os.path.join(self.work, "mock.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.mock = self.spawn(["ip", "netns", "exec", "tr-ibmi", PY, os.path.join(HERE, "mock", "ibmi_mock.py"),
                                "--certs", CERTS, "--log", os.path.join(self.work, "mock.jsonl"),
                                "--config", cfg, "--ready", ready],
                               out=open(os.path.join(self.work, "mock.out"), "a"))
        for _ in range(100):
            if os.path.exists(ready):
                return
            time.sleep(0.1)
        raise RuntimeError("mock did not start: see " + self.work + "/mock.out")

    def stop_mock(self):
        if self.mock:
            time.sleep(0.3)
            self.end(self.mock)
            self.mock = None

    # -- capture ------------------------------------------------------------------------
    def start_capture(self, path, iface="eth0", ns="tr-ibmi", tool="dumpcap", linktype=None, buffer_mib=None):
        if tool == "dumpcap":
            argv = ["dumpcap", "-q", "-w", path] + sum((["-i", i] for i in iface.split(",")), [])
            if buffer_mib:
                argv += ["-B", str(buffer_mib)]
        else:
            argv = ["tcpdump", "-q", "-n", "-i", iface, "-w", path, "-U"]
            if linktype:
                argv[5:5] = ["-y", linktype]
        if os.path.exists(path):
            os.unlink(path)
        p = self.spawn(["ip", "netns", "exec", ns] + argv, out=open(os.path.join(self.work, "capture.out"), "a"))
        for _ in range(100):
            if os.path.exists(path) and os.path.getsize(path) > 0:
                break
            time.sleep(0.1)
        time.sleep(1.0)
        self.caps.append((p, path))
        self.meta.setdefault("capture_start", round(time.time(), 6))
        return p

    def pause_captures(self, paused):
        """Stop (SIGSTOP) or continue (SIGCONT) every capture process: while stopped, the kernel's
        ring buffer fills and further packets are dropped - counted by libpcap, written by dumpcap in
        the pcapng's interface statistics and printed in its own summary (capture_stats)."""
        for p, _ in self.caps:
            p.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def capture_stats(self):
        """dumpcap's own summary lines ("Packets received/dropped on interface 'X': R/D (pcap:P/...)"),
        logged as capture_stats events after stop_captures."""
        text = open(os.path.join(self.work, "capture.out")).read()
        for m in re.finditer(r"Packets received/dropped on interface '([^']*)': (\d+)/(\d+) \(pcap:(\d+)/dumpcap:(\d+)"
                             r"/flushed:(\d+)/ps_ifdrop:(\d+)\)", text):
            self.log(event="capture_stats", iface=m.group(1), received=int(m.group(2)), dropped=int(m.group(3)),
                     pcap_dropped=int(m.group(4)), dumpcap_dropped=int(m.group(5)), flushed=int(m.group(6)),
                     ps_ifdrop=int(m.group(7)))

    def stop_captures(self):
        time.sleep(1.0)
        self.meta["capture_stop"] = round(time.time(), 6)
        for p, _ in self.caps:
            self.end(p, signal.SIGINT)
        self.caps = []
        json.dump(self.meta, open(os.path.join(self.work, "capture.json"), "w"), indent=1)

    # -- clients ------------------------------------------------------------------------
    def run(self, ns, argv, timeout, client, label, stdin_delay=None):
        """Run one client in its namespace; return (rc, output text)."""
        t0 = time.time()
        cmd = ["ip", "netns", "exec", ns, "timeout", "-k", "3", str(timeout)] + argv
        if stdin_delay is not None:  # keep stdin open a moment (s_client/gnutls-cli quit on EOF)
            cmd = ["sh", "-c", 'sleep %s | "$@"' % stdin_delay, "sh"] + cmd
        p = self.spawn(cmd, out=subprocess.PIPE)
        out, _ = p.communicate()
        text = out.decode("utf-8", "replace") if out else ""
        self.log(event="run", ns=ns, client=client, label=label, start=round(t0, 6),
                 end=round(time.time(), 6), rc=p.returncode, argv=argv)
        with open(os.path.join(self.work, "client-%s.out" % label), "w") as f:
            f.write(text)
        return p.returncode, text

    def jt400(self, ns, label, *args, host=IBMI4, timeout=110):
        java = ["java", "-Djavax.net.ssl.trustStore=" + CERTS + "/trust.p12",
                "-Djavax.net.ssl.trustStorePassword=labtrust",
                "-cp", BUILD + "/jt400.jar:" + BUILD + "/classes", "LabClient", "--host", host, "--label", label]
        rc, text = self.run(ns, java + list(args), timeout, "jt400", label)
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                ev["client"], ev["ns"] = "jt400", ns
                ev["jt_event"] = ev.pop("event")
                self.log(event="jt400", **ev)
        return rc, text

    def s_client(self, ns, label, port, *opts, host=IBMI4, send=None):
        argv = ["openssl", "s_client", "-connect", "%s:%d" % (("[%s]" % host) if ":" in host else host, port),
                "-CAfile", CERTS + "/ca.pem", "-servername", "ibmi.lab.example"] + list(opts)
        rc, text = self.run(ns, argv, 20, "openssl", label, stdin_delay=1.5)
        self.log(event="openssl", label=label, ns=ns, port=port, **parse_s_client(text, self.cipher))
        return rc, text

    def gnutls(self, ns, label, port, *opts, host=IBMI4):
        argv = ["gnutls-cli", "--x509cafile", CERTS + "/ca.pem", "-p", str(port)] + list(opts) + [host]
        rc, text = self.run(ns, argv, 20, "gnutls", label, stdin_delay=1.5)
        self.log(event="gnutls", label=label, ns=ns, port=port, **parse_gnutls(text))
        return rc, text

    def telnet(self, ns, label, port, user, device, password=None, tls=False, host=IBMI4):
        argv = [PY, os.path.join(HERE, "clients", "tn5250_script.py"), "--host", host, "--port", str(port),
                "--user", user, "--devname", device, "--cafile", CERTS + "/ca.pem"]
        if password:
            argv += ["--password", password]
        if tls:
            argv.append("--tls")
        rc, text = self.run(ns, argv, 30, "tn5250-script", label)
        for line in text.splitlines():
            if line.startswith("{"):
                ev = json.loads(line)
                ev["tn_event"] = ev.pop("event")
                self.log(event="telnet", label=label, ns=ns, **ev)
        return rc, text

    def background(self, fn, *args, **kw):
        """Run a client call in a thread (it still logs and is bounded by its own timeout)."""
        import threading
        th = threading.Thread(target=fn, args=args, kwargs=kw, daemon=True)
        th.start()
        return th

    def pinned(self, ns, port):
        """Context: pin the namespace's ephemeral range to one port (for connections the mock
        never sees: refused, unanswered - we still know the client port)."""
        lab = self

        class Pin:
            def __enter__(self):
                subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                                "net.ipv4.ip_local_port_range=%d %d" % (port, port)], check=True)

            def __exit__(self, *a):
                subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                                "net.ipv4.ip_local_port_range=32768 60999"], check=True)
        return Pin()

    def attempt(self, ns, client, local_port, server_port, result, server_ip=IBMI4, v6=False, service_hint=None):
        self.log(event="attempt", ns=ns, client=client, client_ip=client_ip(ns, v6), client_port=local_port,
                 server_ip=server_ip, server_port=server_port, result=result)

    def nft_drop(self, port):
        """Drop SYNs to `port` inside the IBM i (the SYN is still captured on its eth0)."""
        for rule in (["add", "table", "inet", "trlab"],
                     ["add", "chain", "inet", "trlab", "in", "{ type filter hook input priority 0; }"],
                     ["add", "rule", "inet", "trlab", "in", "tcp", "dport", str(port), "drop"]):
            subprocess.run(["ip", "netns", "exec", "tr-ibmi", "nft"] + rule, check=True)

    def nft_clear(self):
        subprocess.run(["ip", "netns", "exec", "tr-ibmi", "nft", "delete", "table", "inet", "trlab"])


def parse_s_client(text, cipher_map):
    r = {"version": None, "cipher": None, "cipher_openssl": None, "alert": None, "connected": True,
         "verify": None}
    m = re.search(r"^\s*Protocol\s*:\s*(\S+)", text, re.M)
    c = re.search(r"^\s*Cipher\s*:\s*(\S+)", text, re.M)
    if c and c.group(1) not in ("0000", "(NONE)"):
        r["cipher_openssl"] = c.group(1)
        r["cipher"] = cipher_map.get(c.group(1), c.group(1))
        r["version"] = m.group(1) if m else None
    if r["version"] == "TLSv1":
        r["version"] = "TLSv1.0"
    a = re.search(r"alert (?:number \d+|[a-z ]+?)(?::|$)", text, re.M) or re.search(r"SSL alert number (\d+)", text)
    if a:
        r["alert_text"] = a.group(0).strip()
        name = re.search(r"alert ([a-z ]+?)(?::|$)", a.group(0))
        if name:
            n = name.group(1).replace("tlsv1 ", "").replace("sslv3 ", "").replace(" ", "_")
            r["alert"] = {"handshake_failure": "handshake_failure"}.get(n, n)
    if re.search(r"connect:errno=|Connection refused", text):
        r["connected"] = False
    v = re.search(r"Verify return code: (\d+) \(([^)]*)\)", text)
    if v:
        r["verify"] = v.group(2)
    return r


def parse_gnutls(text):
    r = {"version": None, "description": None, "handshake": "Handshake was completed" in text}
    m = re.search(r"- Description: \((TLS[\d.]+)[^)]*\)-(.*)", text) or re.search(r"- Session info: \((TLS[\d.]+)\)-(.*)", text)
    if m:
        r["version"] = "TLSv" + m.group(1)[3:]
        r["description"] = m.group(0).split(": ", 1)[1]
    e = re.search(r"\*\*\* (.*)", text)
    if e:
        r["error"] = e.group(1).strip()
    return r

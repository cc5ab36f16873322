#!/usr/bin/python3
"""ibmi_mock.py - the mock IBM i: every listener of one lab scenario, one thread per connection.

Usage: ibmi_mock.py --certs DIR --log OUT.jsonl [--config SCENARIO.json] [--ready FILE]
In: the default configuration below, overridden by the scenario's JSON (keys: vrm, server_level,
password_level, profiles, off: [ports not to listen on], tls: {port: {cert, min, max}},
rst_on: [sign-on results answered by a RST], seed).  Out: one JSON line per connection in OUT.jsonl (peer and local address
and port, service, port class, TLS version/cipher or handshake error, request IDs, user profile,
return code, how each side closed) - the raw material of the truth.  Stops on SIGTERM.
Listens on [::] with IPV6_V6ONLY off, so IPv4, IPv6 and loopback all reach the same sockets.
"""
import argparse
import json
import os
import random
import select
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conn as connmod  # noqa: E402
import hostserver  # noqa: E402
import portmapper  # noqa: E402
import ports  # noqa: E402
import sink  # noqa: E402
import telnet5250  # noqa: E402

DEFAULT = {
    "vrm": "V7R5M0", "server_level": 10, "password_level": 2, "seed": 4711,
    "profiles": {},
    "plain": [449, 8470, 8471, 8472, 8473, 8474, 8475, 8476, 8477, 8478, 8479, 23, 446],
    "tls": {str(p): {"cert": "rsa2048", "min": "TLSv1.2", "max": "TLSv1.3"}
            for p in (9470, 9471, 9472, 9473, 9474, 9475, 9476, 9480, 992, 448)},
    "off": [], "rst_on": [],
}
VERSIONS = {"TLSv1.0": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
KIND = {449: "mapper", 23: "telnet", 992: "telnet", 446: "sink", 448: "sink",
        8477: "sink", 8478: "sink", 8479: "sink"}


class Mock:
    def __init__(self, cfg, certs, logpath):
        self.cfg, self.certs = cfg, certs
        self.log = open(logpath, "a", buffering=1)
        self.lock = threading.Lock()
        self.rng = random.Random(cfg["seed"])
        self.count = 0
        self.active = {}

    def context(self, t):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.certs, t["cert"] + ".chain.pem"),
                            os.path.join(self.certs, t["cert"] + ".key"))
        if VERSIONS[t.get("min", "TLSv1.2")] < ssl.TLSVersion.TLSv1_2:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = VERSIONS[t.get("min", "TLSv1.2")]
        ctx.maximum_version = VERSIONS[t.get("max", "TLSv1.3")]
        return ctx

    def next_ids(self):
        with self.lock:
            self.count += 1
            return self.count, self.rng.getrandbits(64)

    def write(self, rec):
        with self.lock:
            self.log.write(json.dumps(rec, sort_keys=True) + "\n")

    def handle(self, sock, peer, port, ctx):
        n, seed = self.next_ids()
        local = sock.getsockname()
        service, pclass = ports.service_of(port)
        rec = {"mock_conn": n, "accepted_at": round(time.time(), 6), "peer_ip": unmap(peer[0]),
               "peer_port": peer[1], "local_ip": unmap(local[0]), "local_port": port,
               "service": service, "port_class": pclass, "tls": None, "job_number": 100000 + n}
        kind = KIND.get(port, "host")
        self.active[n] = rec
        try:
            if ctx is not None:
                sock.settimeout(10)
                try:
                    first = sock.recv(1, socket.MSG_PEEK)
                    rec["first_byte"] = first.hex()
                except OSError:
                    pass
                sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                c = connmod.Conn(sock, rec)
                try:
                    sock.do_handshake()
                    rec["tls"] = {"version": sock.version(), "cipher": sock.cipher()[0], "error": None}
                except (ssl.SSLError, OSError) as e:
                    rec["tls"] = {"version": None, "cipher": None,
                                  "error": getattr(e, "reason", None) or type(e).__name__}
                    if isinstance(e, ConnectionResetError):
                        rec["peer_reset"] = True
                    c.close()
                    self.active.pop(n, None)
                    self.write(rec)
                    return
            else:
                c = connmod.Conn(sock, rec)
            if kind == "mapper":
                how = portmapper.serve(c, rec)
            elif kind == "telnet":
                how = telnet5250.serve(c, rec, self.cfg, seed)
            elif kind == "sink":
                how = sink.serve(c, rec)
            else:
                how = hostserver.HostServer(c, self.cfg, rec, seed).run()
            rec["ended"] = how
            c.close(force_rst=rec.get("signon") in self.cfg.get("rst_on", []))
        except Exception as e:  # keep serving; record what went wrong
            rec.setdefault("errors", []).append(repr(e))
            try:
                sock.close()
            except OSError:
                pass
        self.active.pop(n, None)
        self.write(rec)

    def stop(self, *_):
        """SIGTERM: log the connections still open (their capture ends with them open)."""
        with self.lock:
            for rec in list(self.active.values()):
                rec["open_at_exit"] = True
                rec["closed_at"] = None
                self.log.write(json.dumps(rec, sort_keys=True) + "\n")
            self.log.flush()
            os._exit(0)

    def serve(self, ready):
        lsocks = {}
        plain = [p for p in self.cfg["plain"] if p not in self.cfg["off"]]
        tls = {int(p): t for p, t in self.cfg["tls"].items() if int(p) not in self.cfg["off"]}
        for port in plain + sorted(tls):
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port))
            s.listen(64)
            lsocks[s] = (port, self.context(tls[port]) if port in tls else None)
        if ready:
            open(ready, "w").write("%d\n" % os.getpid())
        while True:
            r, _, _ = select.select(list(lsocks), [], [], 1.0)
            for s in r:
                sock, peer = s.accept()
                port, ctx = lsocks[s]
                threading.Thread(target=self.handle, args=(sock, peer, port, ctx), daemon=True).start()


def unmap(ip):
    return ip[7:] if ip.startswith("::ffff:") and "." in ip else ip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--config")
    ap.add_argument("--ready")
    a = ap.parse_args()
    cfg = json.loads(json.dumps(DEFAULT))
    if a.config:
        over = json.load(open(a.config))
        tls_over = over.pop("tls", {})
        cfg.update(over)
        for p, t in tls_over.items():
            cfg["tls"].setdefault(str(p), {}).update(t)
    m = Mock(cfg, a.certs, a.log)
    signal.signal(signal.SIGTERM, m.stop)
    m.serve(a.ready)


if __name__ == "__main__":
    main()

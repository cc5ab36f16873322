"""spoolcap.py - what the tests of records kept on disk share (test_spool.py:
one-shot runs, test_import_spool.py: imports into the state): a capture of
many connections whose truth is known as it is written, and a process's
peak memory.
"""
import os
import struct
import subprocess

from pcapgen import Pcap, telnet_user, tls_record, client_hello, server_hello
from tap import TLSREADY


def build(path, n, spread=0.0):
    """n connections from 40 clients to 192.0.2.10: a third telnet (user U<i % 97>), a third TLS on 992, a
    third port-mapper lookups of as-signon answered 8476, each followed by a connection to 8476; spread:
    seconds added after each group of three (so the capture can cross UTC days). Returns (connections,
    lookups linked, users)."""
    w = Pcap(path)
    srv = "192.0.2.10"
    conns = links = 0
    users = set()
    for i in range(n // 3):
        for kind in range(3):
            cli = f"198.51.100.{1 + (i * 3 + kind) % 40}"
            cport = 1024 + (i * 3 + kind) % 60000
            if kind == 0:
                u = b"U%d" % (i % 97)
                users.add(u.decode())
                telnet_user(w, cli, cport, srv, u)
                conns += 1
            elif kind == 1:
                c = w.conn(cli, cport, srv, 992)
                c.handshake()
                c.send(tls_record(22, client_hello()))
                c.send(tls_record(22, server_hello()), from_client=False)
                c.close()
                conns += 1
            else:
                c = w.conn(cli, cport, srv, 449)
                c.handshake()
                c.send(b"as-signon")
                c.send(b"+" + struct.pack("!I", 8476), from_client=False)
                c.close()
                d = w.conn(cli, cport + 1, srv, 8476)
                d.handshake()
                d.close()
                conns += 2
                links += 1
        w.ts += spread
    w.close()
    return conns, links, users


SPAWN = """import os, subprocess, sys
with open(os.devnull, "wb") as null:
    p = subprocess.Popen(sys.argv[1:], stdout=null, stderr=null)
    _, status, ru = os.wait4(p.pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss * 1024)
"""


def peak_rss(args):
    """(exit code, peak RSS in bytes) of tlsready started by a fresh small interpreter: a child forked from
    this process, which holds reports by now, would count this process's pages as its own."""
    out = subprocess.run(["python3", "-c", SPAWN, TLSREADY] + args, stdout=subprocess.PIPE, check=True).stdout.split()
    return int(out[0]), int(out[1])

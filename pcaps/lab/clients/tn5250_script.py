#!/usr/bin/python3
"""tn5250_script.py - a scripted 5250 telnet client, for 23 and (implicit TLS) 992.

Debian 12 packages no tn5250 client (`apt-cache search tn5250` finds nothing), so this script follows
tn5250j's negotiation as described in ibmi-protocols.md §4: WILL NEW-ENVIRON / TERMINAL-TYPE / EOR /
BINARY; on "SEND USERVAR IBMRSEED <seed> VAR USERVAR" it answers IS with VAR USER, USERVAR DEVNAME,
KBDTYPE, CODEPAGE, CHARSET, IBMRSEED (8 zero bytes) and - when --password is given, as tn5250j does
for auto-signon - IBMSUBSPW with the password in clear; TERMINAL-TYPE IS IBM-3179-2.  After the first
5250 screen it sends one input record (Enter) and after the second it closes.
In: flags.  Out: JSON lines on stdout (connected, tls version/cipher, environ sent, records, closed).
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mock"))
import tnproto as t  # noqa: E402


def emit(event, **kv):
    print(json.dumps(dict(kv, event=event, t=round(time.time(), 6))), flush=True)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--host", "--user", "--devname", "--cafile"):
        ap.add_argument(a, required=True)
    ap.add_argument("--port", type=int, default=23)
    ap.add_argument("--password")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--hold", type=float, default=0.0)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((a.host, a.port))
    except OSError as e:
        emit("connect-failed", error=str(e))
        return 1
    emit("connected", local_port=s.getsockname()[1], remote_port=a.port)
    if a.tls:
        ctx = ssl.create_default_context(cafile=a.cafile)
        ctx.check_hostname = False
        try:
            s = ctx.wrap_socket(s)
        except ssl.SSLError as e:
            emit("tls-failed", error=e.reason)
            return 1
        emit("tls", version=s.version(), cipher=s.cipher()[0])
    p, screens = t.Parser(), 0
    env = [(t.VAR, "USER", a.user.encode()), (t.USERVAR, "DEVNAME", a.devname.encode()),
           (t.USERVAR, "KBDTYPE", b"USB"), (t.USERVAR, "CODEPAGE", b"37"), (t.USERVAR, "CHARSET", b"697"),
           (t.USERVAR, "IBMRSEED", b"\0" * 8)]
    if a.password:
        env.append((t.USERVAR, "IBMSUBSPW", a.password.encode()))
    answers = {(t.DO, t.NEW_ENVIRON): t.WILL, (t.DO, t.TTYPE): t.WILL, (t.DO, t.EOR): t.WILL,
               (t.WILL, t.EOR): t.DO, (t.DO, t.BINARY): t.WILL, (t.WILL, t.BINARY): t.DO}
    for _ in range(100):
        try:
            b = s.recv(4096)
        except socket.timeout:
            break
        if not b:
            break
        for ev in p.feed(b):
            if ev[0] == "cmd":
                reply = answers.get((ev[1], ev[2]), t.WONT if ev[1] == t.DO else t.DONT)
                s.sendall(bytes([t.IAC, reply, ev[2]]))
            elif ev[0] == "sb" and ev[1] == t.NEW_ENVIRON and ev[2][:1] == bytes([t.SEND]):
                s.sendall(t.environ_is(env))
                emit("environ", sent=[n for _, n, _ in env])
            elif ev[0] == "sb" and ev[1] == t.TTYPE:
                s.sendall(bytes([t.IAC, t.SB, t.TTYPE, t.IS]) + b"IBM-3179-2" + bytes([t.IAC, t.SE]))
            elif ev[0] == "record":
                screens += 1
                emit("screen", n=screens, length=len(ev[1]))
                if screens == 1:  # cursor row 6 col 53, AID Enter, no fields
                    s.sendall(t.record(0x00, bytes([6, 53, 0xF1])))
        if screens >= 2:
            break
    time.sleep(a.hold)
    s.close()
    emit("closed", screens=screens)
    return 0


if __name__ == "__main__":
    sys.exit(main())

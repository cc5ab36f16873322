#!/usr/bin/python3
"""door_servers.py - two small servers for the doors scenario, standing in for the IBM i's own:
SMTP with STARTTLS (RFC 3207) on 25, and an HTTP server with Basic authentication on 2001 (clear)
and 2010 (TLS), like the IBM i's HTTP administration server.

Usage: door_servers.py --certs DIR --log FILE --ready FILE   (run inside the tr-ibmi namespace)
In: client connections.  Out: one JSON line per connection in --log, from the server's side: peer
address and port, what it was asked (command names only), whether TLS started, the TLS version, and
for HTTP the user name of the Basic header (never the password).  Ends on SIGTERM.
"""
import argparse
import base64
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


def log(path, **kv):
    kv["t"] = round(time.time(), 6)
    with LOCK, open(path, "a") as f:
        f.write(json.dumps(kv, sort_keys=True) + "\n")


def lines(sock):
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.rstrip(b"\r")
        data = sock.recv(4096)
        if not data:
            return
        buf += data


def smtp(conn, peer, ctx, path):
    rec = {"server": "smtp", "peer_ip": peer[0], "peer_port": peer[1], "local_port": 25, "commands": [],
           "starttls": False, "tls_version": None}
    sock = conn
    try:
        conn.sendall(b"220 ibmi.lab.example ESMTP lab\r\n")
        it = lines(sock)
        for line in it:
            cmd = line.split(b" ", 1)[0].upper().decode("ascii", "replace")
            rec["commands"].append(cmd)
            if cmd in ("EHLO", "HELO"):
                ext = b"" if rec["starttls"] else b"250-STARTTLS\r\n"
                sock.sendall(b"250-ibmi.lab.example\r\n" + ext + b"250 8BITMIME\r\n")
            elif cmd == "STARTTLS" and not rec["starttls"]:
                sock.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                sock = ctx.wrap_socket(conn, server_side=True)
                rec["starttls"] = True
                rec["tls_version"] = sock.version()
                it = lines(sock)
                for line2 in it:
                    cmd = line2.split(b" ", 1)[0].upper().decode("ascii", "replace")
                    rec["commands"].append(cmd)
                    if cmd in ("EHLO", "HELO"):
                        sock.sendall(b"250-ibmi.lab.example\r\n250 8BITMIME\r\n")
                    elif cmd == "QUIT":
                        sock.sendall(b"221 2.0.0 Bye\r\n")
                        break
                    else:
                        sock.sendall(b"250 2.0.0 OK\r\n")
                break
            elif cmd == "QUIT":
                sock.sendall(b"221 2.0.0 Bye\r\n")
                break
            else:
                sock.sendall(b"502 5.5.2 not in the lab\r\n")
    except (OSError, ssl.SSLError) as e:
        rec["error"] = str(e)
    finally:
        log(path, **rec)
        close_gently(sock)


def http(conn, peer, port, tls_ctx, path):
    rec = {"server": "http", "peer_ip": peer[0], "peer_port": peer[1], "local_port": port, "tls": bool(tls_ctx),
           "tls_version": None, "user": None, "status": None}
    sock = conn
    try:
        if tls_ctx:
            sock = tls_ctx.wrap_socket(conn, server_side=True)
            rec["tls_version"] = sock.version()
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            d = sock.recv(4096)
            if not d:
                break
            head += d
        status = 401
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"authorization" and v.strip().lower().startswith(b"basic "):
                user = base64.b64decode(v.strip()[6:]).split(b":", 1)[0]
                rec["user"] = user.decode("ascii", "replace")
                status = 200
        rec["status"] = status
        body = b"lab\n"
        sock.sendall(b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n" %
                     (status, b"OK" if status == 200 else b"Unauthorized", len(body),
                      b"" if status == 200 else b'WWW-Authenticate: Basic realm="lab"\r\n') + body)
    except (OSError, ssl.SSLError) as e:
        rec["error"] = str(e)
    finally:
        log(path, **rec)
        close_gently(sock)


def close_gently(sock):
    """TLS close_notify both ways, then FIN, then read until the peer's FIN: a peer byte never
    arrives at a closed socket, so the kernel never answers one with an RST the log would not show."""
    try:
        if isinstance(sock, ssl.SSLSocket):
            sock.settimeout(2)
            sock = sock.unwrap()
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        while sock.recv(4096):
            pass
    except (OSError, ssl.SSLError):
        pass
    sock.close()


def serve(port, handler):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("192.0.2.10", port))
    s.listen(16)

    def loop():
        while True:
            c, peer = s.accept()
            threading.Thread(target=handler, args=(c, peer), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(a.certs, "rsa2048.chain.pem"), os.path.join(a.certs, "rsa2048.key"))
    serve(25, lambda c, p: smtp(c, p, ctx, a.log))
    serve(2001, lambda c, p: http(c, p, 2001, None, a.log))
    serve(2010, lambda c, p: http(c, p, 2010, ctx, a.log))
    open(a.ready, "w").close()
    signal.signal(signal.SIGTERM, lambda *x: sys.exit(0))
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()

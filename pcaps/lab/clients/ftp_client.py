#!/usr/bin/python3
"""ftp_client.py - Python's ftplib as the lab's FTP client: log in with AUTH TLS first (RFC 4217,
ftplib.FTP_TLS), or in clear; no data connection is opened (the capture holds one connection).

Usage: ftp_client.py --host IP --user NAME --password PW --cafile CA [--tls]
Out: JSON lines on stdout, from the client's side: its local port, each command sent (the
password's value never), each reply code, and the TLS version of the control connection.
"""
import argparse
import ftplib
import json
import ssl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--tls", action="store_true")
    a = ap.parse_args()
    ev = {"event": "ftp", "tls": a.tls, "steps": []}
    try:
        if a.tls:
            ctx = ssl.create_default_context(cafile=a.cafile)
            f = ftplib.FTP_TLS(context=ctx, timeout=15)
        else:
            f = ftplib.FTP(timeout=15)
        ev["steps"].append(["connect", f.connect(a.host, 21)[:3]])
        ev["client_port"] = f.sock.getsockname()[1]
        if a.tls:
            ev["steps"].append(["AUTH TLS", f.auth()[:3]])
            ev["tls_version"] = f.sock.version()
        ev["steps"].append(["USER+PASS", f.login(a.user, a.password)[:3]])
        ev["steps"].append(["QUIT", f.quit()[:3]])
        ev["ok"] = True
    except (OSError, ftplib.Error, ssl.SSLError) as e:
        ev["ok"] = False
        ev["error"] = str(e).replace(a.password, "<password>")
    print(json.dumps(ev, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()

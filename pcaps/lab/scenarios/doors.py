"""doors.py - capture doors.pcapng: the IBM i's other doors (issue 13) with real clients and servers.

In: the lab (net.sh's namespaces; Debian's vsftpd, slapd, ldap-utils, curl, openssl; the small SMTP
and HTTP servers of mock/door_servers.py).  Out: the capture, and doors.truth.json written from the
servers' and clients' own logs (vsftpd's protocol log, slapd's stats log, door_servers.py's
connection log, ftplib's, ldapwhoami's, openssl's and curl's output), never from the capture:

  c21  FTP 21: ftplib FTP_TLS, AUTH TLS then the login inside TLS        (upgraded)
  c22  FTP 21: ftplib FTP, USER anonymous + PASS in clear                (cleartext, user, password)
  c23  LDAP 389: ldapwhoami, simple bind in clear                        (cleartext, bind DN)
  c24  LDAP 389: ldapwhoami -ZZ, StartTLS then the bind inside TLS       (upgraded)
  c25  LDAPS 636: ldapwhoami over ldaps://                               (tls on the secure port)
  c26  SMTP 25: openssl s_client -starttls smtp                          (upgraded)
  c27  HTTP admin 2001: curl with Basic authentication in clear          (cleartext, user)
  c28  HTTPS admin 2010: curl with Basic authentication inside TLS       (tls on the secure port)
"""
import json
import os
import re
import subprocess
import time

from common import DOORS_PW

NAME = "doors"
DESCRIPTION = ("the IBM i's other doors with real clients: FTP AUTH TLS and a clear login (vsftpd, ftplib), "
               "LDAP bind in clear, StartTLS and ldaps (slapd, ldapwhoami), SMTP STARTTLS (openssl), "
               "HTTP Basic on 2001 and 2010 (curl)")
IBMI = "192.0.2.10"
LDAP_DN = "cn=Lab Admin,dc=lab,dc=example"
FTP_USER = "anonymous"
HTTP_USER = "LABADMIN"


def _conf(lab, certs):
    w = lab.work
    root = os.path.join(w, "ftproot")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o555)
    vs = os.path.join(w, "vsftpd.conf")
    with open(vs, "w") as f:
        f.write("\n".join([
            "listen=YES", "listen_ipv6=NO", "listen_address=" + IBMI, "listen_port=21", "background=NO",
            "anonymous_enable=YES", "local_enable=NO", "write_enable=NO", "anon_root=" + root,
            "secure_chroot_dir=/var/run/vsftpd/empty", "ssl_enable=YES", "allow_anon_ssl=YES",
            "force_anon_logins_ssl=NO", "force_anon_data_ssl=NO", "require_ssl_reuse=NO", "ssl_ciphers=HIGH",
            "rsa_cert_file=" + certs + "/rsa2048.chain.pem", "rsa_private_key_file=" + certs + "/rsa2048.key",
            "seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO", "log_ftp_protocol=YES",
            "xferlog_enable=YES", "xferlog_std_format=NO", "vsftpd_log_file=" + w + "/vsftpd.log",
            "connect_from_port_20=NO", ""]))
    os.chmod(vs, 0o600)
    db = os.path.join(w, "ldapdb")
    os.makedirs(db, exist_ok=True)
    sl = os.path.join(w, "slapd.conf")
    with open(sl, "w") as f:
        f.write("\n".join([
            "include /etc/ldap/schema/core.schema", "modulepath /usr/lib/ldap", "moduleload back_mdb",
            "pidfile " + w + "/slapd.pid", "TLSCACertificateFile " + certs + "/ca.pem",
            "TLSCertificateFile " + certs + "/rsa2048.chain.pem", "TLSCertificateKeyFile " + certs + "/rsa2048.key",
            "database mdb", 'suffix "dc=lab,dc=example"', 'rootdn "%s"' % LDAP_DN,
            "rootpw " + DOORS_PW["ldap"], "directory " + db, ""]))
    return vs, sl


def _ready(pred, what, n=100):
    for _ in range(n):
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError(what + " did not start")


def run(lab, cap):
    from lab import CERTS, HERE, PY
    for f in ("vsftpd.log", "slapd.log", "doors.jsonl", "doors.ready"):
        p = os.path.join(lab.work, f)
        if os.path.exists(p):
            os.unlink(p)
    vs, sl = _conf(lab, CERTS)
    lab.spawn(["ip", "netns", "exec", "tr-ibmi", "vsftpd", vs], out=open(os.path.join(lab.work, "vsftpd.out"), "a"))
    lab.spawn(["ip", "netns", "exec", "tr-ibmi", "slapd", "-d", "stats", "-f", sl, "-h",
               "ldap://%s/ ldaps://%s/" % (IBMI, IBMI)], out=open(os.path.join(lab.work, "slapd.log"), "a"))
    ready = os.path.join(lab.work, "doors.ready")
    lab.spawn(["ip", "netns", "exec", "tr-ibmi", PY, os.path.join(HERE, "mock", "door_servers.py"), "--certs", CERTS,
               "--log", os.path.join(lab.work, "doors.jsonl"), "--ready", ready],
              out=open(os.path.join(lab.work, "door_servers.out"), "a"))
    _ready(lambda: os.path.exists(ready), "door_servers")
    _ready(lambda: "slapd starting" in open(os.path.join(lab.work, "slapd.log")).read(), "slapd")
    time.sleep(1.0)   # vsftpd has no ready signal: give it its second
    lab.start_capture(cap)
    ftp = [PY, os.path.join(HERE, "clients", "ftp_client.py"), "--host", IBMI, "--cafile", CERTS + "/ca.pem",
           "--user", FTP_USER, "--password", DOORS_PW["ftp"]]
    for ns, label, extra in (("tr-c21", "c21-ftp-auth-tls", ["--tls"]), ("tr-c22", "c22-ftp-clear", [])):
        rc, text = lab.run(ns, ftp + extra, 30, "ftplib", label)
        for line in text.splitlines():
            if line.startswith("{"):
                ev = json.loads(line)
                ev["ftp_event"] = ev.pop("event")
                lab.log(event="ftp", label=label, ns=ns, **ev)
    who = ["env", "LDAPTLS_CACERT=" + CERTS + "/ca.pem", "ldapwhoami", "-x", "-D", LDAP_DN, "-w", DOORS_PW["ldap"]]
    for ns, label, extra in (("tr-c23", "c23-ldap-bind", ["-H", "ldap://" + IBMI]),
                             ("tr-c24", "c24-ldap-starttls", ["-ZZ", "-H", "ldap://" + IBMI]),
                             ("tr-c25", "c25-ldaps", ["-H", "ldaps://" + IBMI])):
        rc, text = lab.run(ns, who + extra, 30, "ldapwhoami", label)
        lab.log(event="ldapwhoami", label=label, ns=ns, rc=rc, said=text.strip().splitlines()[-1:] if text else [])
    lab.s_client("tr-c26", "c26-smtp-starttls", 25, "-starttls", "smtp")
    curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{local_port} %{http_code}\\n", "--cacert", CERTS + "/ca.pem",
            "-u", HTTP_USER + ":" + DOORS_PW["http"]]
    for ns, label, url in (("tr-c27", "c27-http-basic-2001", "http://%s:2001/HTTPAdmin" % IBMI),
                           ("tr-c28", "c28-https-basic-2010", "https://%s:2010/HTTPAdmin" % IBMI)):
        rc, text = lab.run(ns, curl + [url], 30, "curl", label)
        m = re.search(r"^(\d+) (\d+)$", text, re.M)
        lab.log(event="curl", label=label, ns=ns, rc=rc, client_port=int(m.group(1)) if m else None,
                http_code=int(m.group(2)) if m else None)
    lab.stop_captures()
    return []


# ---- truth, from the servers' and the clients' own logs ----
def _load(path):
    try:
        return [json.loads(l) for l in open(path) if l.strip()]
    except FileNotFoundError:
        return []


def flow(ip, port, sport, service, cls, transport, upgrade=None, user=None, cred=None, source="", race=False):
    f = {"client_ip": ip, "client_port": port, "server_ip": IBMI, "server_port": sport, "service": service,
         "port_class": cls, "transport": transport, "tcp": "closed", "midstream": False, "mismatch": None,
         "upgrade": upgrade, "user": user, "cleartext_credentials": cred, "source": source}
    if race:
        # slapd and ldapwhoami close a TLS connection without reading the peer's close_notify (RFC 8446
        # 6.1 lets them): when it crosses the close, that kernel answers it with an RST.  Both logged
        # a normal close ("closed", rc 0); whether the RST happened is a race no log can tell.
        f["close_race"] = True
    return f


def truth(lab, cap, out):
    w = lab.work
    clients = _load(os.path.join(w, "clients.jsonl"))
    servers = _load(os.path.join(w, "doors.jsonl"))
    vlog = open(os.path.join(w, "vsftpd.log")).read() if os.path.exists(os.path.join(w, "vsftpd.log")) else ""
    slog = open(os.path.join(w, "slapd.log")).read()
    flows = []
    # FTP: ftplib's own record (port, replies) and vsftpd's protocol log (commands and replies it saw)
    for ev in (e for e in clients if e.get("event") == "ftp"):
        ip = "192.0.2." + ev["ns"][4:]
        cmds = re.findall(r'FTP command: Client "%s", "([^"]*)"' % re.escape(ip), vlog)
        resps = re.findall(r'FTP response: Client "%s", "(\d{3})' % re.escape(ip), vlog)
        if not ev.get("ok") or not ev.get("client_port"):
            raise RuntimeError("ftp client %s failed: %s" % (ev["label"], ev.get("error")))
        if ev["tls"]:
            assert cmds[:1] == ["AUTH TLS"] and "234" in resps, (cmds, resps)
            flows.append(flow(ip, ev["client_port"], 21, "ftp", "nonsecure", "tls",
                              {"protocol": "ftp", "result": "upgraded"}, source="ftplib FTP_TLS + vsftpd log"))
        else:
            assert "USER " + FTP_USER in cmds and "230" in resps, (cmds, resps)
            flows.append(flow(ip, ev["client_port"], 21, "ftp", "nonsecure", "cleartext", None, FTP_USER, "password",
                              source="ftplib FTP + vsftpd log"))
    # LDAP: slapd's stats log: ACCEPT (client port), EXT StartTLS, BIND dn, TLS
    conns = {}
    for m in re.finditer(r"conn=(\d+) fd=\d+ ACCEPT from IP=([\d.]+):(\d+) \(IP=[\d.]+:(\d+)\)", slog):
        conns[m.group(1)] = {"ip": m.group(2), "port": int(m.group(3)), "sport": int(m.group(4))}
    for c, v in conns.items():
        starttls = re.search(r"conn=%s op=\d+ STARTTLS" % c, slog) is not None and \
            re.search(r"conn=%s fd=\d+ TLS established" % c, slog) is not None
        binds = re.findall(r'conn=%s op=\d+ BIND dn="([^"]*)" method=128' % c, slog)
        ok = re.search(r"conn=%s op=\d+ BIND dn=\"[^\"]*\" mech=SIMPLE" % c, slog) is not None
        assert binds and ok, (c, slog[-2000:])
        if v["sport"] == 636:
            flows.append(flow(v["ip"], v["port"], 636, "ldaps", "secure", "tls", source="slapd log: ldaps",
                              race=True))
        elif starttls:
            flows.append(flow(v["ip"], v["port"], 389, "ldap", "nonsecure", "tls",
                              {"protocol": "ldap", "result": "upgraded"}, source="slapd log: StartTLS, then BIND",
                              race=True))
        else:
            flows.append(flow(v["ip"], v["port"], 389, "ldap", "nonsecure", "cleartext", None, binds[0],
                              "ldap-simple-bind", source="slapd log: BIND in clear"))
    for s in servers:
        if s["server"] == "smtp":
            assert s["starttls"] and s["tls_version"], s
            flows.append(flow(s["peer_ip"], s["peer_port"], 25, "smtp", "nonsecure", "tls",
                              {"protocol": "smtp", "result": "upgraded"}, source="door_servers smtp log"))
        else:
            assert s["user"] == HTTP_USER and s["status"] == 200, s
            if s["tls"]:
                flows.append(flow(s["peer_ip"], s["peer_port"], 2010, "as-admin", "secure", "tls",
                                  source="door_servers http log"))
            else:
                flows.append(flow(s["peer_ip"], s["peer_port"], 2001, "as-admin", "nonsecure", "cleartext", None,
                                  HTTP_USER, "http-basic", source="door_servers http log"))
    flows.sort(key=lambda f: (f["client_ip"], f["client_port"]))
    meta = json.load(open(os.path.join(w, "capture.json")))
    secure = {f["client_ip"] for f in flows if f["transport"] == "tls"}
    nonsecure = {f["client_ip"] for f in flows if f["transport"] == "cleartext"}
    doc = {"capture": os.path.basename(cap), "description": DESCRIPTION,
           "capture_start": meta.get("capture_start"), "capture_stop": meta.get("capture_stop"),
           "flows": flows,
           "clients": [{"ip": ip, "status": "nonsecure" if ip in nonsecure else "secure"}
                       for ip in sorted(secure | nonsecure)]}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")

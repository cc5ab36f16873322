"""doors2.py - capture doors2.pcapng: DDM/DRDA with Apache Derby, implicit FTPS and POP3 (issue 13).

In: the lab (net.sh's namespaces; Debian's derby-tools, libderby-java, libderbyclient-java and a JRE,
keytool, vsftpd, dovecot-pop3d, curl).  Out: the capture, and doors2.truth.json written from the
clients' and servers' own logs (ij's output, Derby's network server log, curl's verbose logs,
vsftpd's protocol log and dovecot's login log), never from the capture:

  c31  DRDA 446: ij (Derby's network client), user LABDB2, right password in clear  (connects)
  c31  DRDA 446: ij, user LABDB2, a wrong password in clear                         (refused: 08004)
  c32  DRDA 448: ij with ssl=basic to a Derby network server started with -ssl basic (connects)
  c33  FTPS 990: curl ftps:// to a vsftpd with implicit_ssl=YES, anonymous login     (tls)
  c33  POP3 110: curl pop3:// --ssl-reqd to dovecot: CAPA, STLS, then the login       (upgraded)
  c33  POP3S 995: curl pop3s:// to dovecot                                            (tls)

Each ij connection is one TCP connection from a client port pinned by the lab (41446-41448), so
the truth knows its port without reading the capture.  The Derby servers (one JVM per port: -ssl
is per server) run in tr-ibmi with BUILTIN authentication; the TLS one uses a key made by keytool
here, its certificate imported into the client's trust store.  Dovecot runs in the foreground
(`dovecot -F`, no systemd) from a configuration, run directory and logs in the work directory.
"""
import json
import os
import re
import subprocess
import time

from common import DOORS_PW, WRONG
from doors import _load, _ready, flow   # the same truth rows and start-up wait as the first door capture's

NAME = "doors2"
DESCRIPTION = ("DDM/DRDA with Apache Derby's network server and ij (446 in clear, right and wrong password; "
               "448 with TLS), implicit FTPS on 990 (vsftpd implicit_ssl, curl ftps://), POP3 STLS on 110 and "
               "POP3S on 995 (dovecot, curl)")
IBMI = "192.0.2.10"
DRDA_USER = "LABDB2"
FTP_USER = "anonymous"
POP_USER = "labpop"        # dovecot lowercases user names: the lab's one is lowercase already
JARS = "/usr/share/java/"
SERVER_CP = ":".join(JARS + j for j in ("derby.jar", "derbynet.jar", "derbytools.jar"))
CLIENT_CP = ":".join(JARS + j for j in ("derbyclient.jar", "derbytools.jar"))
DRDA_RUNS = (  # namespace, label, client port, server port, password
    ("tr-c31", "c31-drda-446", 41446, 446, DOORS_PW["drda"]),
    ("tr-c31", "c31-drda-446-wrong", 41447, 446, WRONG),
    ("tr-c32", "c32-drda-448-tls", 41448, 448, DOORS_PW["drda"]),
)


def _read(path):
    try:
        return open(path, errors="replace").read()
    except FileNotFoundError:
        return ""


def _keystores(w):
    """The Derby server's key (keytool -genkeypair) and the client's trust store holding its certificate."""
    ks, ts, pem = (os.path.join(w, f) for f in ("derby-server.p12", "derby-trust.p12", "derby-server.pem"))
    for p in (ks, ts, pem):
        if os.path.exists(p):
            os.unlink(p)
    kpw = DOORS_PW["keystore"]
    run = lambda argv: subprocess.run(["keytool"] + argv, check=True, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, timeout=60)
    run(["-genkeypair", "-alias", "ibmi", "-keyalg", "RSA", "-keysize", "2048", "-validity", "30",
         "-dname", "CN=ibmi.lab.example", "-ext", "SAN=dns:ibmi.lab.example,ip:" + IBMI,
         "-storetype", "PKCS12", "-keystore", ks, "-storepass", kpw, "-keypass", kpw])
    run(["-exportcert", "-rfc", "-alias", "ibmi", "-keystore", ks, "-storepass", kpw, "-file", pem])
    run(["-importcert", "-noprompt", "-alias", "ibmi", "-file", pem, "-storetype", "PKCS12",
         "-keystore", ts, "-storepass", kpw])
    return ks, ts


def _derby_home(w, port):
    home = os.path.join(w, "derby%d" % port)
    subprocess.run(["rm", "-rf", home], check=True)
    os.makedirs(home)
    with open(os.path.join(home, "derby.properties"), "w") as f:
        f.write("\n".join(["derby.connection.requireAuthentication=true", "derby.authentication.provider=BUILTIN",
                           "derby.user.%s=%s" % (DRDA_USER, DOORS_PW["drda"]), "derby.drda.logConnections=true",
                           ""]))
    os.chmod(os.path.join(home, "derby.properties"), 0o600)
    return home


def _vsftpd990(w, certs):
    root = os.path.join(w, "ftproot")
    if not os.path.isdir(root):
        os.makedirs(root)
    hello = os.path.join(root, "hello.txt")
    if not os.path.exists(hello):
        os.chmod(root, 0o755)
        with open(hello, "w") as f:
            f.write("hello from the lab\n")
    os.chmod(hello, 0o444)
    os.chmod(root, 0o555)
    vs = os.path.join(w, "vsftpd990.conf")
    with open(vs, "w") as f:
        f.write("\n".join([
            "listen=YES", "listen_ipv6=NO", "listen_address=" + IBMI, "listen_port=990", "background=NO",
            "anonymous_enable=YES", "local_enable=NO", "write_enable=NO", "anon_root=" + root,
            "secure_chroot_dir=/var/run/vsftpd/empty", "ssl_enable=YES", "implicit_ssl=YES", "allow_anon_ssl=YES",
            "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES", "require_ssl_reuse=NO", "ssl_ciphers=HIGH",
            "rsa_cert_file=" + certs + "/rsa2048.chain.pem", "rsa_private_key_file=" + certs + "/rsa2048.key",
            "seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO", "log_ftp_protocol=YES",
            "xferlog_enable=YES", "xferlog_std_format=NO", "vsftpd_log_file=" + w + "/vsftpd990.log",
            "connect_from_port_20=NO", ""]))
    os.chmod(vs, 0o600)
    return vs


def _dovecot(w, certs):
    """A dovecot for POP3 only, on 110 (STLS) and 995, one user from a passwd-file."""
    subprocess.run(["rm", "-rf", os.path.join(w, "dovecot-run"), os.path.join(w, "dovecot-mail")], check=True)
    for f in ("dovecot.log",):
        if os.path.exists(os.path.join(w, f)):
            os.unlink(os.path.join(w, f))
    mail = os.path.join(w, "dovecot-mail")
    os.makedirs(mail)
    os.chmod(mail, 0o777)       # the mail user is nobody
    users = os.path.join(w, "dovecot.users")
    with open(users, "w") as f:
        f.write("%s:{PLAIN}%s\n" % (POP_USER, DOORS_PW["pop3"]))
    os.chmod(users, 0o644)      # read by dovecot's auth process
    conf = os.path.join(w, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "base_dir = " + w + "/dovecot-run", "state_dir = " + w + "/dovecot-run/state",
            "log_path = " + w + "/dovecot.log", "protocols = pop3", "listen = " + IBMI, "ssl = yes",
            "ssl_cert = <" + certs + "/rsa2048.chain.pem", "ssl_key = <" + certs + "/rsa2048.key",
            "disable_plaintext_auth = yes", "auth_mechanisms = plain",
            "login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l mpid=%e %c "
            "session=<%{session}>",
            "passdb {", "  driver = passwd-file", "  args = scheme=PLAIN username_format=%u " + users, "}",
            "userdb {", "  driver = static", "  args = uid=nobody gid=nogroup home=" + mail + "/%u", "}",
            "mail_location = maildir:" + mail + "/%u",
            "service pop3-login {", "  inet_listener pop3 {", "    port = 110", "  }",
            "  inet_listener pop3s {", "    port = 995", "    ssl = yes", "  }", "}", ""]))
    return conf


def run(lab, cap):
    from lab import CERTS
    w = lab.work
    for f in ("vsftpd990.log",):
        if os.path.exists(os.path.join(w, f)):
            os.unlink(os.path.join(w, f))
    ks, ts = _keystores(w)
    kpw = DOORS_PW["keystore"]
    outs = {}
    for port, tls in ((446, False), (448, True)):
        home = _derby_home(w, port)
        argv = ["ip", "netns", "exec", "tr-ibmi", "java", "-Dderby.system.home=" + home, "-Xmx128m"]
        if tls:
            argv += ["-Djavax.net.ssl.keyStore=" + ks, "-Djavax.net.ssl.keyStorePassword=" + kpw,
                     "-Djavax.net.ssl.keyStoreType=PKCS12"]
        argv += ["-cp", SERVER_CP, "org.apache.derby.drda.NetworkServerControl", "start", "-h", IBMI,
                 "-p", str(port), "-noSecurityManager"] + (["-ssl", "basic"] if tls else [])
        outs[port] = os.path.join(w, "derby%d.out" % port)
        lab.spawn(argv, out=open(outs[port], "w"))
    lab.spawn(["ip", "netns", "exec", "tr-ibmi", "vsftpd", _vsftpd990(w, CERTS)],
              out=open(os.path.join(w, "vsftpd990.out"), "a"))
    lab.spawn(["ip", "netns", "exec", "tr-ibmi", "dovecot", "-F", "-c", _dovecot(w, CERTS)],
              out=open(os.path.join(w, "dovecot.out"), "a"))
    for port in outs:
        _ready(lambda: re.search(r"ready to accept (SSL )?connections", _read(outs[port])), "derby network server on %d" % port, 300)
    _ready(lambda: "starting up" in _read(os.path.join(w, "dovecot.log")), "dovecot", 300)
    time.sleep(1.0)   # vsftpd has no ready signal: give it its second
    lab.start_capture(cap)
    for ns, label, cport, sport, pw in DRDA_RUNS:
        script = os.path.join(w, label + ".sql")
        url = "jdbc:derby://%s:%d/labdb;create=true%s" % (IBMI, sport, ";ssl=basic" if sport == 448 else "")
        with open(script, "w") as f:
            f.write("connect '%s';\nvalues current_user;\ndisconnect;\nexit;\n" % url)
        argv = ["java", "-Xmx96m", "-Dij.user=" + DRDA_USER, "-Dij.password=" + pw]
        if sport == 448:
            argv += ["-Djavax.net.ssl.trustStore=" + ts, "-Djavax.net.ssl.trustStorePassword=" + kpw,
                     "-Djavax.net.ssl.trustStoreType=PKCS12"]
        argv += ["-cp", CLIENT_CP, "org.apache.derby.tools.ij", script]
        with lab.pinned(ns, cport):
            rc, text = lab.run(ns, argv, 60, "ij", label)
        # ij's own words: the row of `values current_user`, or the SQLState of a refused connection
        err = re.search(r"^ERROR (\w+): (.*)$", text, re.M)
        row = re.search(r"^-+\n(\S+)\s*\n\n1 row selected", text, re.M)
        lab.log(event="ij", label=label, ns=ns, client_port=cport, server_port=sport, rc=rc,
                connected=bool(row) and not err, current_user=row.group(1) if row else None,
                sqlstate=err.group(1) if err else None, message=err.group(2) if err else None)
    curl = ["curl", "-v", "-sS", "-I", "--cacert", CERTS + "/ca.pem", "-u", FTP_USER + ":" + DOORS_PW["ftp"],
            "-w", "local_port=%{local_port}\\n"]
    rc, text = lab.run("tr-c33", curl + ["ftps://%s:990/hello.txt" % IBMI], 30, "curl", "c33-ftps-990")
    m = re.search(r"^local_port=(\d+)$", text, re.M)
    tlsv = re.search(r"SSL connection using (TLSv[\d.]+)", text)
    lab.log(event="curl-ftps", label="c33-ftps-990", ns="tr-c33", rc=rc, client_port=int(m.group(1)) if m else None,
            tls_version=tlsv.group(1) if tlsv else None, logged_in="< 230" in text)
    # POP3: STLS on 110 (curl --ssl-reqd: CAPA, STLS, then AUTH inside TLS), and TLS from the first byte on 995
    pop = ["curl", "-v", "-sS", "--cacert", CERTS + "/ca.pem", "-u", POP_USER + ":" + DOORS_PW["pop3"],
           "-w", "local_port=%{local_port}\\n"]
    for label, extra, url in (("c33-pop3-stls", ["--ssl-reqd"], "pop3://%s:110/" % IBMI),
                              ("c33-pop3s-995", [], "pop3s://%s:995/" % IBMI)):
        rc, text = lab.run("tr-c33", pop + extra + [url], 30, "curl", label)
        m = re.search(r"^local_port=(\d+)$", text, re.M)
        sent = re.findall(r"^> (\S+)", text, re.M)
        lab.log(event="curl-pop3", label=label, ns="tr-c33", rc=rc, client_port=int(m.group(1)) if m else None,
                port=110 if "stls" in label else 995, commands=[c for c in sent if c.isupper()][:6],
                stls_ok="< +OK Begin TLS" in text, tls=bool(re.search(r"SSL connection using TLSv", text)))
    lab.stop_captures()
    return []


# ---- truth, from the clients' and the servers' own logs ----
def truth(lab, cap, out):
    w = lab.work
    clients = _load(os.path.join(w, "clients.jsonl"))
    flows, drda = [], []
    # Derby's network server logs each connection it accepted (derby.drda.logConnections)
    for port in (446, 448):
        dlog = _read(os.path.join(w, "derby%d" % port, "derby.log")) + _read(os.path.join(w, "derby%d.out" % port))
        want = sum(1 for r in DRDA_RUNS if r[3] == port)
        got = len(re.findall(r"Connection number: \d+", dlog))
        assert got >= want, ("derby %d logged %d connections" % (port, got), dlog[-2000:])
    for ev in (e for e in clients if e.get("event") == "ij"):
        ip = "192.0.2." + ev["ns"][4:]
        right = not ev["label"].endswith("-wrong")
        # the right password connects as LABDB2; the wrong one is refused with 08004 (authentication)
        assert (ev["connected"] and ev["current_user"] == DRDA_USER) if right else \
            (not ev["connected"] and ev["sqlstate"] == "08004"), ev
        if ev["server_port"] == 448:
            flows.append(flow(ip, ev["client_port"], 448, "ddm", "secure", "tls", source="ij ssl=basic + derby log",
                              race=True))
        else:
            # Derby's client sends USRIDPWD (SECMEC 3) when given a password: user and password in clear
            flows.append(flow(ip, ev["client_port"], 446, "ddm", "nonsecure", "cleartext", DRDA_USER, "password",
                              source="ij + derby log"))
        drda.append({"client_ip": ip, "client_port": ev["client_port"], "server_port": ev["server_port"],
                     "connected": ev["connected"], "sqlstate": ev["sqlstate"]})
    vlog = _read(os.path.join(w, "vsftpd990.log"))
    for ev in (e for e in clients if e.get("event") == "curl-ftps"):
        ip = "192.0.2." + ev["ns"][4:]
        cmds = re.findall(r'FTP command: Client "%s", "([^"]*)"' % re.escape(ip), vlog)
        assert ev["client_port"] and ev["tls_version"] and ev["logged_in"] and "USER " + FTP_USER in cmds, (ev, cmds)
        flows.append(flow(ip, ev["client_port"], 990, "ftps", "secure", "tls", source="curl -v + vsftpd990 log",
                          race=True))
    # POP3: curl's own record (the commands it sent before TLS, its port) and dovecot's login log
    dlog = _read(os.path.join(w, "dovecot.log"))
    for ev in (e for e in clients if e.get("event") == "curl-pop3"):
        ip = "192.0.2." + ev["ns"][4:]
        login = re.search(r"Login: user=<%s>, method=PLAIN, rip=%s, rport=%d, lip=[\d.]+, mpid=\d+, TLS" %
                          (POP_USER, re.escape(ip), ev["client_port"] or 0), dlog)
        assert ev["rc"] == 0 and ev["tls"] and login, (ev, dlog[-2000:])
        if ev["port"] == 110:
            # nothing but CAPA before STLS: the credentials went inside TLS
            assert ev["stls_ok"] and ev["commands"][:2] == ["CAPA", "STLS"], ev
            flows.append(flow(ip, ev["client_port"], 110, "pop3", "nonsecure", "tls", source="curl -v + dovecot log",
                              upgrade={"protocol": "pop3", "result": "upgraded"}, race=True))
        else:
            flows.append(flow(ip, ev["client_port"], 995, "pop3s", "secure", "tls", source="curl -v + dovecot log",
                              race=True))
    flows.sort(key=lambda f: (f["client_ip"], f["client_port"]))
    meta = json.load(open(os.path.join(w, "capture.json")))
    secure = {f["client_ip"] for f in flows if f["transport"] == "tls"}
    nonsecure = {f["client_ip"] for f in flows if f["transport"] == "cleartext"}
    doc = {"capture": os.path.basename(cap), "description": DESCRIPTION,
           "capture_start": meta.get("capture_start"), "capture_stop": meta.get("capture_stop"),
           "flows": flows, "drda": sorted(drda, key=lambda d: d["client_port"]),
           "clients": [{"ip": ip, "status": "nonsecure" if ip in nonsecure else "secure"}
                       for ip in sorted(secure | nonsecure)]}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")

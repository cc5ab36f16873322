"""test_names_lab.py - who the clients are, from a real DHCP and DNS server
(issue 17): dnsmasq in a network namespace leases addresses to busybox udhcpc
clients that send their host names, answers their DNS queries, and the
clients then sign on to a stand-in IBM i over telnet (port 23, NEW-ENVIRON
USER).  Everything is captured on the bridge, as a span port would.

The truth comes from the servers' and clients' own logs, never from
tlsready: dnsmasq's log (DHCPACK / DHCPRELEASE lines: address, hardware
address, host name; the PTR answer it gave), the udhcpc script's log (the
address each client was bound to), the listener's log (each connection's
peer) and the clients' log (the user each typed).  Scenario:

- alpha (02:00:00:00:00:a1) takes .101, signs on as LABALICE, releases it,
  and takes .102 (dnsmasq's host file changed and re-read): one client with
  two addresses;
- beta (02:00:00:00:00:a2) then takes the freed .101 and signs on as LABBOB:
  a second client on .101;
- gamma (static .30, no DHCP) is named by a PTR answer alpha asked for, and
  signs on as LABCAROL; the A answer for the IBM i's own name is read too.

The same capture, cut in two at alpha's DHCPRELEASE (editcap) and imported
into one state (--db) part after part, must give the one-shot report's
clients field by field: the state follows DHCP hosts across imports.

Needs root, ip, dnsmasq (dnsmasq-base), busybox, tcpdump; skips otherwise.
Namespaces tn-*-PID, deleted at exit.  About 22 seconds (the two imports about 1 s).
NAMES_LAB_KEEP=FILE keeps a copy of the lab capture (for debugging).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bridgelab import TELNET_STANDIN, BridgeLab, read, sh, wait_for
from tap import ok, skip, run, done, sanitizer_report, tshark_run

NEED = ["ip", "dnsmasq", "busybox", "tcpdump"]
missing = [t for t in NEED if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]
if os.geteuid() != 0 or missing:
    skip("the DHCP/DNS lab", "needs root and " + (", ".join(missing) if missing else "root"))
    done()

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
tmp = tempfile.mkdtemp(prefix="tlsready-nameslab-")
MAC = {"srv": "02:00:00:00:00:10", "c1": "02:00:00:00:00:a1", "c2": "02:00:00:00:00:a2",
       "c3": "02:00:00:00:00:30"}


def keep():
    if os.environ.get("NAMES_LAB_KEEP"):
        shutil.copy(os.path.join(tmp, "lab.pcap"), os.environ["NAMES_LAB_KEEP"])


# ---- the network: a bridge in tn-sw, one veth per host ----
lab = BridgeLab("tn", MAC, tmp, before_cleanup=keep)
NS, nsx, spawn = lab.ns, lab.nsx, lab.spawn
sh("ip", "-n", NS["srv"], "addr", "add", "192.0.2.10/24", "dev", "eth0")
sh("ip", "-n", NS["c3"], "addr", "add", "192.0.2.30/24", "dev", "eth0")

# ---- capture on the bridge, as a span port would ----
cap = os.path.join(tmp, "lab.pcap")
tcpd = spawn("sw", ["tcpdump", "-i", "br0", "-U", "-n", "-w", cap], stdout=subprocess.DEVNULL,
             stderr=subprocess.PIPE)
wait_for(lambda: os.path.exists(cap), 10)
time.sleep(1)

# ---- the servers: dnsmasq (DHCP + DNS) and a stand-in IBM i on 23 ----
hosts = os.path.join(tmp, "dhcp-hosts")
with open(hosts, "w") as f:
    f.write("02:00:00:00:00:a1,192.0.2.101\n")
dlog, leases = os.path.join(tmp, "dnsmasq.log"), os.path.join(tmp, "leases")
dns = spawn("srv", [DNSMASQ, "--no-daemon", "--conf-file=/dev/null", "--user=root", "--group=root",
                    "--interface=eth0", "--bind-interfaces", "--listen-address=192.0.2.10", "--no-resolv",
                    "--no-hosts", "--domain=lab.example", "--dhcp-range=192.0.2.100,192.0.2.120,255.255.255.0,600",
                    "--dhcp-authoritative", "--dhcp-hostsfile=" + hosts, "--dhcp-leasefile=" + leases,
                    "--host-record=ibmi.lab.example,192.0.2.10", "--host-record=gamma.lab.example,192.0.2.30",
                    "--log-dhcp", "--log-queries", "--log-facility=" + dlog, "--pid-file="],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
llog = os.path.join(tmp, "listener.log")
spawn("srv", ["python3", "-c", TELNET_STANDIN, llog, "192.0.2.10"])
wait_for(lambda: "started" in read(dlog) or "DHCP, IP range" in read(dlog), 10)
time.sleep(0.5)

CLIENT = r'''
import json, socket, sys
user = sys.argv[1].encode()
c = socket.create_connection(("192.0.2.10", 23), timeout=10)
c.recv(3)
c.sendall(b"\xff\xfb\x27\xff\xfa\x27\x00\x00USER\x01" + user + b"\xff\xf0")
addr = c.getsockname()
c.close()
open(sys.argv[2], "a").write(json.dumps({"user": sys.argv[1], "from": addr[0], "port": addr[1]}) + "\n")
'''
clog = os.path.join(tmp, "clients.log")
SCRIPT = os.path.join(tmp, "udhcpc.sh")
with open(SCRIPT, "w") as f:
    f.write('#!/bin/sh\ncase "$1" in\n'
            'deconfig) ip addr flush dev "$interface" ;;\n'
            'bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/24" dev "$interface";'
            ' echo "$1 $ip" >> "$UDHCPC_LOG" ;;\nesac\n')
os.chmod(SCRIPT, 0o755)


def udhcpc(host, name):
    logf = os.path.join(tmp, host + ".udhcpc.log")
    p = spawn(host, ["busybox", "udhcpc", "-f", "-i", "eth0", "-s", SCRIPT, "-x", "hostname:" + name, "-t", "10",
                     "-T", "1", "-A", "1"], env=dict(os.environ, UDHCPC_LOG=logf),
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, logf


def bound(logf, n):
    return len(re.findall(r"^(?:bound|renew) (\S+)$", read(logf), re.M)) >= n


def sign_on(host, user):
    subprocess.run(nsx(host, "python3", "-c", CLIENT, user, clog), timeout=30, check=True)


def nslookup(host, what):
    subprocess.run(nsx(host, "busybox", "nslookup", what, "192.0.2.10"), timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# alpha: a lease, two DNS questions, a sign-on
a, alog = udhcpc("c1", "alpha")
ok(wait_for(lambda: bound(alog, 1)), "alpha got a lease", read(alog) + read(dlog)[-2000:])
nslookup("c1", "ibmi.lab.example")
nslookup("c1", "192.0.2.30")
sign_on("c1", "LABALICE")
# alpha releases its address; the host file moves it to .102 and gives .101 to beta
os.kill(a.pid, signal.SIGUSR2)
wait_for(lambda: "DHCPRELEASE" in read(dlog), 10)
with open(hosts, "w") as f:
    f.write("02:00:00:00:00:a1,192.0.2.102\n02:00:00:00:00:a2,192.0.2.101\n")
os.kill(dns.pid, signal.SIGHUP)
time.sleep(1)
os.kill(a.pid, signal.SIGUSR1)
ok(wait_for(lambda: bound(alog, 2)), "alpha got its second lease", read(alog))
sign_on("c1", "LABALICE")
b, blog = udhcpc("c2", "beta")
ok(wait_for(lambda: bound(blog, 1)), "beta got a lease", read(blog))
sign_on("c2", "LABBOB")
sign_on("c3", "LABCAROL")
time.sleep(1)
tcpd.send_signal(signal.SIGINT)
tcpd.wait(timeout=10)

# ---- the truth, from the logs ----
log = read(dlog)
acks = re.findall(r"DHCPACK\(eth0\) (\S+) (\S+)(?: (\S+))?$", log, re.M)
releases = re.findall(r"DHCPRELEASE\(eth0\) (\S+) (\S+)", log)
ptr = re.search(r"^.*config 192\.0\.2\.30 is (\S+)$", log, re.M)
conns = [json.loads(l) for l in read(llog).splitlines() if l]
signed = [json.loads(l) for l in read(clog).splitlines() if l]
truth = {}
for ip, mac, name in acks:
    t = truth.setdefault(mac, {"ips": set(), "names": set()})
    t["ips"].add(ip)
    if name:
        t["names"].add(name)
ok(truth.get(MAC["c1"], {}).get("ips") == {"192.0.2.101", "192.0.2.102"}
   and truth.get(MAC["c2"], {}).get("ips") == {"192.0.2.101"} and (("192.0.2.101", MAC["c1"]) in releases),
   "dnsmasq's log: alpha on .101 then .102 (released .101), beta on .101", (acks, releases))
ok(len(conns) == 4 and len(signed) == 4 and {c["peer"] for c in conns} == {s["from"] for s in signed},
   "the listener logged the four sign-ons the clients made", (conns, signed))

rc, out, err = run(["-q", "-r", cap, "--format", "json"])
doc = json.loads(out) if rc == 0 else {}
ok(rc == 0 and not sanitizer_report(err), "tlsready reads the lab capture", err)
rows = {c["hardware_address"] or c["ip"]: c for c in doc.get("clients", [])}
for host, user in (("c1", "LABALICE"), ("c2", "LABBOB")):
    mac = MAC[host]
    t = truth.get(mac, {"ips": set(), "names": set()})
    used = sorted({s["from"] for s in signed if s["user"] == user})
    r = rows.get(mac)
    ok(r is not None and r["identity"] == "dhcp-host" and r["addresses"] == used
       and (r["host_name"] or {}).get("name") in t["names"] and r["host_name"]["source"] == "dhcp"
       and r["users"] == [user] and sum(u["connections"] for u in r["nonsecure"]) == len([s for s in signed if s["user"] == user]),
       f"{mac}: one client, named as dnsmasq logged it, on the addresses it signed on from, as {user}", r)
ok(len([c for c in doc.get("clients", []) if c["ip"] == "192.0.2.101"]) == 2,
   "192.0.2.101 served two hosts: two clients", [(c["ip"], c["hardware_address"]) for c in doc.get("clients", [])])
g = rows.get("192.0.2.30")
ok(ptr and g and g["identity"] == "address" and g["host_name"] == {"name": ptr.group(1), "source": "dns-ptr"}
   and g["users"] == ["LABCAROL"], "the static client is named by the PTR answer dnsmasq logged", (ptr and ptr.group(0), g))
u = {x["user"]: x for x in doc.get("users", [])}
ok(u.get("LABALICE") and [c["hardware_address"] for c in u["LABALICE"]["clients"]] == [MAC["c1"]]
   and u["LABALICE"]["nonsecure"], "users[]: LABALICE signs on from one machine, alpha", u.get("LABALICE"))
if shutil.which("tshark"):
    p = tshark_run(["tshark", "-r", cap, "-Y", "dhcp.option.dhcp == 5", "-T", "fields", "-e", "dhcp.hw.mac_addr",
                        "-e", "dhcp.ip.your"], capture_output=True, text=True, timeout=60)
    seen = {tuple(l.split("\t")) for l in p.stdout.splitlines() if l}
    ok(seen == {(m, ip) for ip, m, _ in acks}, "tshark finds the same DHCPACKs in the capture as dnsmasq logged",
       (seen, acks))
    p = tshark_run(["tshark", "-r", cap, "-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.a",
                        "-e", "dns.ptr.domain_name"], capture_output=True, text=True, timeout=60)
    ok("192.0.2.10" in p.stdout and ptr and ptr.group(1) in p.stdout, "tshark reads the A and PTR answers", p.stdout)
else:
    skip("tshark cross-check", "tshark is not installed")
# ---- identity over time in the state (--db): the capture in two, cut at alpha's DHCPRELEASE, imported one
# after the other (as two monitor checkpoints or two runs); the state's report equals the one-shot report ----
def client_rows(d):
    """The clients by who they are, with the fields that say it (the hardware address is the key of a DHCP
    host's row; rows without one are their address)."""
    out = {}
    for c in d.get("clients", []) if d else []:
        out[c["hardware_address"] or c["ip"]] = {
            "ip": c["ip"], "identity": c["identity"], "addresses": c["addresses"], "dhcp_client_id": c["dhcp_client_id"],
            "address_hosts": c["address_hosts"], "host_name": c["host_name"],
            "host_names": sorted(json.dumps(h, sort_keys=True) for h in c["host_names"]), "users": c["users"],
            "status": c.get("status"), "first_seen": c.get("first_seen"), "last_seen": c.get("last_seen"),
            "nonsecure": sorted(json.dumps(u, sort_keys=True) for u in c["nonsecure"])}
    return out


if shutil.which("editcap") and shutil.which("tshark"):
    p = subprocess.run(["tshark", "-r", cap, "-Y", "dhcp.option.dhcp == 7", "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True, timeout=60)
    cut = int(p.stdout.split()[0]) if p.stdout.split() else 0
    part1, part2, db = (os.path.join(tmp, n) for n in ("part1.pcap", "part2.pcap", "split.db"))
    sh("editcap", "-r", cap, part1, f"1-{cut - 1}")
    sh("editcap", "-r", cap, part2, f"{cut}-100000000")
    t0 = time.time()
    rc1, _, err1 = run(["-q", "-r", part1, "--db", db])
    rc2, _, err2 = run(["-q", "-r", part2, "--db", db])
    rc, out, err = run(["--db", db, "--format", "json"])
    sdoc = json.loads(out) if rc == 0 else None
    ok(cut > 1 and rc1 == 0 and rc2 == 0 and sdoc is not None and not sanitizer_report(err1 + err2 + err),
       f"the capture cut at alpha's release (frame {cut}) and imported in two parts ({time.time() - t0:.1f} s)",
       (rc1, err1, rc2, err2, err))
    one, two = client_rows(doc), client_rows(sdoc)
    diff = {k: (one.get(k), two.get(k)) for k in set(one) | set(two) if one.get(k) != two.get(k)}
    ok(sdoc is not None and not diff and len(one) == 3,
       "the state over both parts: the one-shot report's clients field by field (identity, addresses, DHCP"
       " client id, hosts per address, names, users, uses)", diff)
    r = two.get(MAC["c1"])
    ok(r and r["identity"] == "dhcp-host" and r["addresses"] == ["192.0.2.101", "192.0.2.102"]
       and len([c for c in sdoc["clients"] if c["ip"] == "192.0.2.101"]) == 2,
       "alpha, on .101 in the first part and .102 in the second, is one client; .101 served alpha and beta: two", r)
    s2 = {u["user"]: [c["hardware_address"] or c["ip"] for c in u["clients"]] for u in sdoc.get("users", [])}
    s1 = {u["user"]: [c["hardware_address"] or c["ip"] for c in u["clients"]] for u in doc.get("users", [])}
    ok(s1 == s2 and s2.get("LABALICE") == [MAC["c1"]], "users[]: the same machines per user", (s1, s2))
else:
    skip("identity over two imports", "needs editcap and tshark")
k = doc.get("capture", {}).get("counters", {})
ok(k.get("name_packets", 0) >= len(acks) and k.get("name_packets_malformed") == 0 and k.get("host_names_table_full") == 0,
   "every name packet read, none malformed", k)
done()

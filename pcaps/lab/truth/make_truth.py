#!/usr/bin/python3
"""make_truth.py - write X.truth.json from what the mock and the clients logged (never from a capture
and never from tlsready).

Usage: make_truth.py WORKDIR CAPTURE_NAME OUT.json [--note TEXT]
In: WORKDIR/mock.jsonl (one record per connection the mock accepted), WORKDIR/clients.jsonl (client
runs, their own output, and "attempt" lines for refused/unanswered connections), WORKDIR/capture.json
(capture start/stop).  Out: {"capture", "description", "flows": [...], "clients": [...]} with the
field names and value sets of docs/report-json.md; pcaps/README.md documents every rule below.
"""
import ipaddress
import json
import sys

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "mock"))
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import ports  # noqa: E402
from lab_cipher import cipher_map  # noqa: E402

IBMI = {"192.0.2.10", "2001:db8::10"}
ALERTS = {"TLSV1_ALERT_UNKNOWN_CA": "unknown_ca", "SSLV3_ALERT_BAD_CERTIFICATE": "bad_certificate",
          "SSLV3_ALERT_CERTIFICATE_EXPIRED": "certificate_expired",
          "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "certificate_unknown",
          "UNSUPPORTED_PROTOCOL": "protocol_version", "NO_SHARED_CIPHER": "handshake_failure",
          "VERSION_TOO_LOW": "protocol_version", "TLSV1_ALERT_PROTOCOL_VERSION": "protocol_version"}


def load(path):
    try:
        return [json.loads(l) for l in open(path) if l.strip()]
    except FileNotFoundError:
        return []


def norm_ip(ip):
    return str(ipaddress.ip_address(ip))


def internal(ip):
    a = ipaddress.ip_address(ip)
    return a.is_loopback or str(a) in IBMI


def who(runs, ip, t):
    """The client program that ran from `ip` at time t (runs are sequential per address)."""
    for margin in (0.0, 0.5):
        for r in runs:
            if r["ip"] == ip and r["start"] - margin <= t <= r["end"] + margin:
                return r
    return None


def flow_from_mock(m, runs, events, meta, cipher_map):
    cip = norm_ip(m["peer_ip"])
    run = who(runs, cip, m["accepted_at"])
    f = {"client_ip": cip, "client_port": m["peer_port"], "server_ip": norm_ip(m["local_ip"]),
         "server_port": m["local_port"], "service": m["service"], "port_class": m["port_class"]}
    t = m.get("tls")
    tls = None
    mismatch = None
    if t is not None:  # a TLS listener
        if t["error"] is None:
            transport = "tls"
        elif m.get("first_byte") not in (None, "", "16"):
            transport, mismatch = "cleartext", "cleartext-on-secure-port"
        elif m.get("first_byte") in (None, ""):
            transport = "none"
        else:
            transport = "tls-failed"
        if transport in ("tls", "tls-failed"):
            cipher = t.get("cipher")
            tls = {"version": {"TLSv1": "TLSv1.0"}.get(t.get("version"), t.get("version")), "cipher": cipher_map.get(cipher, cipher) if cipher else None,
                   "alert": ALERTS.get(t.get("error") or "", None)}
    elif m.get("tls_client_hello_on_plain_port"):
        transport, mismatch = "tls-failed", "tls-on-nonsecure-port"
        tls = {"version": None, "cipher": None}  # alert: whatever the client sent is not logged
    elif m.get("bytes_in", 0) == 0 and m.get("bytes_out", 0) == 0:
        transport = "none"
    else:
        transport = "cleartext"
    # the client's own account of TLS, when it printed one, wins for the alert
    ev = client_tls(events, run, m)
    if tls is not None and ev:
        if ev.get("alert"):
            tls["alert"] = ev["alert"]
        for k in ("version", "cipher"):
            if ev.get(k) and tls.get(k) and ev[k] != tls[k]:
                tls.setdefault("client_disagrees", {})[k] = ev[k]
    if m.get("open_at_exit") or (m.get("closed_at") or 0) > meta["capture_stop"]:
        tcp = "open"
    elif m.get("peer_reset") or m.get("our_close") == "rst":
        tcp = "reset"
    else:
        tcp = "closed"
    clear = transport == "cleartext"
    f.update({"transport": transport, "tcp": tcp, "midstream": m["accepted_at"] < meta["capture_start"],
              "mismatch": mismatch, "tls": tls,
              "user": m.get("user") if clear else None,
              "device": m.get("device") if clear else None,
              "mapper": m.get("mapper"),
              "signon": m.get("signon") if clear else None,
              "client": run["client"] if run else None})
    inner = {k: m[k] for k in ("user", "device", "signon") if m.get(k)}
    if transport == "tls" and inner:
        f["inside_tls"] = inner  # known to the lab, invisible on the wire
    f["_t"] = m["accepted_at"]
    f["_requests"] = m.get("requests")
    return f


def client_tls(events, run, m):
    if not run:
        return None
    port = m["local_port"]
    for e in events:
        if e.get("event") == "telnet" and e.get("tn_event") == "tls" and e.get("label") == run["label"]:
            return {"version": e["version"], "cipher": e["cipher"]}
        if e.get("event") in ("openssl", "gnutls") and e.get("label") == run["label"] and e.get("port") == port:
            return e
        if e.get("event") == "jt400" and e.get("jt_event") == "tls" and e.get("label") == run["label"] \
                and e.get("local_port") == m["peer_port"]:
            return {"version": e["protocol"].replace("TLSv1", "TLSv1.0") if e["protocol"] == "TLSv1" else e["protocol"],
                    "cipher": e["cipher"]}
    return None


def flow_from_attempt(a, meta):
    service, pclass = ports.service_of(a["server_port"])
    return {"client_ip": norm_ip(a["client_ip"]), "client_port": a["client_port"],
            "server_ip": norm_ip(a["server_ip"]), "server_port": a["server_port"], "service": service,
            "port_class": pclass, "transport": "none", "tcp": a["result"], "midstream": False,
            "mismatch": None, "tls": None, "user": None, "device": None, "mapper": None, "signon": None,
            "client": a["client"], "_t": a["t"]}


def jt400_unseen(events, flows):
    """SYN_SENT sockets jt400 noted that the mock never accepted: refused or unanswered."""
    seen = {(f["client_ip"], f["client_port"], f["server_port"]) for f in flows}
    hosts, errors, out = {}, {}, []
    for e in events:
        if e.get("event") == "jt400" and e.get("jt_event") == "start":
            hosts[e["label"]] = e["host"]
        if e.get("event") == "jt400" and e.get("jt_event") == "service" and e.get("error"):
            errors.setdefault(e["label"], []).append(e["error"])
    for e in events:
        if e.get("event") != "jt400" or e.get("jt_event") != "syn_sent":
            continue
        host = hosts.get(e["label"], "192.0.2.10")
        n = e["ns"][4:]
        cip = norm_ip(("2001:db8::" if ":" in host else "192.0.2.") + n) if e["ns"] != "tr-ibmi" else norm_ip(host)
        if (cip, e["local_port"], e["remote_port"]) in seen:
            continue
        errs = " ".join(errors.get(e["label"], []))
        result = "refused" if "refused" in errs else "unanswered"
        out.append(flow_from_attempt({"client_ip": cip, "client_port": e["local_port"], "server_ip": host,
                                      "server_port": e["remote_port"], "result": result,
                                      "client": "jt400", "t": e["t"]}, None))
        seen.add((cip, e["local_port"], e["remote_port"]))
    return out


def clients_of(flows):
    out = {}
    for f in flows:
        c = out.setdefault(f["client_ip"], {"ip": f["client_ip"], "ns": set(), "s": set(), "m": set(),
                                            "used": False})
        if f["port_class"] == "nonsecure":
            c["ns"].add(f["service"])
            # a SYN and nothing more (refused, unanswered) is an attempt, not use
            c["used"] |= f.get("tcp") not in ("refused", "unanswered")
        elif f["port_class"] == "secure":
            c["s"].add(f["service"])
        if f.get("mapper") and f["mapper"].get("requested"):
            c["m"].add(f["mapper"]["requested"])
    res = []
    for ip in sorted(out, key=lambda x: ipaddress.ip_address(x).packed if ":" not in x else b"\xff" + ipaddress.ip_address(x).packed):
        c = out[ip]
        plain_ask = any(not r.endswith("-s") for r in c["m"])
        status = "nonsecure" if c["used"] or plain_ask else ("secure" if c["s"] else
                                                             ("attempt-only" if c["ns"] else "unknown"))
        res.append({"ip": ip, "status": status, "nonsecure_services": sorted(x for x in c["ns"] if x),
                    "secure_services": sorted(x for x in c["s"] if x), "mapper_requests": sorted(c["m"]),
                    "internal": internal(ip)})
    return res


def build(work, capture, note=None):
    meta = json.load(open(work + "/capture.json"))
    mock = load(work + "/mock.jsonl")
    events = load(work + "/clients.jsonl")
    runs = []
    for e in events:
        if e.get("event") == "run":
            ip = e.get("ip") or ("192.0.2." + e["ns"][4:] if e["ns"].startswith("tr-c") else None)
            r = dict(e, ip=ip)
            runs.append(r)
            if e["ns"].startswith("tr-c"):  # the same run may use the host's IPv6 address
                runs.append(dict(e, ip="2001:db8::" + e["ns"][4:]))
            if e["ns"] == "tr-ibmi":
                for lo in ("127.0.0.1", "::1", "192.0.2.10", "2001:db8::10"):
                    runs.append(dict(e, ip=lo))
    flows = [flow_from_mock(m, runs, events, meta, cipher_map()) for m in mock]
    flows += [flow_from_attempt(a, meta) for a in events if a.get("event") == "attempt"]
    flows += jt400_unseen(events, flows)
    # a connection wholly before the capture started (closed before it) is not in the capture
    flows = [f for f in flows if not (f["midstream"] and f["tcp"] != "open" and
                                      _closed_before(f, mock, meta))]
    flows.sort(key=lambda f: f["_t"])
    for f in flows:
        f.pop("_t")
        f.pop("_requests", None)
    doc = {"capture": capture, "description": meta["description"], "flows": flows, "clients": clients_of(flows)}
    # what the capture tool itself said it received and dropped (dumpcap's summary), when a scenario logged it
    stats = [{k: e[k] for k in ("iface", "received", "dropped", "pcap_dropped", "dumpcap_dropped", "flushed",
                                "ps_ifdrop")} for e in events if e.get("event") == "capture_stats"]
    if stats:
        doc["capture_stats"] = stats
    if note:
        doc["format_note"] = note
    return doc


def _closed_before(f, mock, meta):
    for m in mock:
        if norm_ip(m["peer_ip"]) == f["client_ip"] and m["peer_port"] == f["client_port"] \
                and m["local_port"] == f["server_port"]:
            return (m.get("closed_at") or 1e12) < meta["capture_start"]
    return False


if __name__ == "__main__":
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    note = sys.argv[sys.argv.index("--note") + 1] if "--note" in sys.argv else None
    doc = build(sys.argv[1], sys.argv[2], note)
    with open(sys.argv[3], "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")

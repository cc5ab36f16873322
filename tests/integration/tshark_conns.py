"""tshark_conns.py - what tshark, an independent dissector, sees in a capture,
per TCP connection (its tcp.stream) and per encapsulation layer.

One tshark pass a capture.  Each stream gets its addresses and ports (the
innermost IP layer), its first SYN's side, and per side (0 the client: the
SYN's sender, else the first sender) the TLS facts tshark decoded: record
content types, handshake types, the ServerHello's version
(supported_versions first), the client's offered versions, plaintext
alerts' levels, and whether the side's first payload was a TLS handshake
record.  Used by test_corpus_classes.py.
"""
import subprocess

from tap import tshark_run

FIELDS = ["tcp.stream", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.flags",
          "tcp.len", "tls.record.content_type", "tls.handshake.type", "tls.handshake.version",
          "tls.handshake.extensions.supported_version", "tls.alert_message.level", "frame.protocols",
          "tcp.seq", "tcp.analysis.retransmission", "tls.record.opaque_type", "frame.time_epoch", "tcp.nxtseq", "tls.handshake.length"]

# tlsready's documented connection rules (README, tlsready.1 --idle-timeout, recent.h), in capture time
LINGER = 5.0          # a closed connection (RST, or FIN both ways) ends this long after its last packet
LATE_WINDOW = 120.0   # its late segments (no new byte, or the SYN resent with its ISN) are recognised so long
IDLE = 300.0          # an open connection idle this long ends

# frame.protocols names of each layer tlsready counts (capture.counters.encapsulations)
LAYERS = {"vlan": ("vlan", "ieee8021ad"), "mpls": ("mpls",), "pppoe": ("pppoes",), "gre": ("gre",),
          "erspan": ("erspan",), "vxlan": ("vxlan",), "geneve": ("geneve",), "gtp_u": ("gtp",),
          "ayiya": ("ayiya",)}


class Side:
    def __init__(self):
        self.payload = 0
        self.first_payload_tls = None   # did the side's first payload segment hold a TLS record?
        self.ctypes = set()
        self.hs = set()
        self.alert_levels = set()
        self.sv = set()                 # the ClientHello's supported_versions
        self.legacy = None              # the ClientHello's own version field
        self.appdata = 0
        self.protos = set()             # application protocols tshark named before any ClientHello


class Stream:
    def __init__(self, key):
        self.key = key                  # (addr, port, addr, port) of its first packet
        self.client = None              # (addr, port) of the client
        self.sides = {}
        self.sh_version = None
        self.packets = 0
        # tshark's one stream, cut where tlsready's rules end a connection and new bytes follow
        self.splits = 0                 # how many more connections tlsready's rules make of it
        self.closed = False
        self.fins = set()
        self.last_ts = None
        self.space = {}                 # side -> [lo, hi] of the sequence space of the current connection
        self.isn = None
        self.hello_seen = False
        self.certs_over_cap = 0         # Certificate messages longer than tlsready's 64 KiB handshake cap

    def on_packet(self, d, ts, flags, seq, nxt, tlen):
        """One packet of side d (0 client); flags as TCP's; seq and nxt from tshark (nxt: one past it)."""
        syn_only = flags & 0x12 == 0x02
        gap = ts - self.last_ts if self.last_ts is not None else 0.0
        ended = (self.closed and gap > LINGER) or (not self.closed and gap > IDLE)
        if ended:
            end = max(nxt, seq + tlen + (1 if flags & 0x01 else 0))
            sp = self.space.get(d)
            late = self.closed and gap <= LATE_WINDOW and (
                (d == 0 and syn_only and self.isn == seq) if flags & 0x02 else
                sp is not None and sp[0] - 1 <= seq <= sp[1] + 1 and sp[0] - 1 <= end <= sp[1] + 1)
            if late:
                return                  # a late segment: tlsready counts it, no connection
            if not (syn_only and d == 0 and seq != self.isn):
                self.splits += 1        # (a SYN with a new ISN: tshark's own new stream)
            self.closed, self.fins, self.space = False, set(), {}
        self.last_ts = ts
        if syn_only and d == 0:
            self.isn = seq
        end = max(nxt, seq + tlen)
        sp = self.space.setdefault(d, [seq, end])
        sp[0], sp[1] = min(sp[0], seq), max(sp[1], end)
        if flags & 0x04:
            self.closed = True
        if flags & 0x01:
            self.fins.add(d)
            self.closed |= len(self.fins) == 2

    def side(self, src):
        if self.client is None:
            self.client = src
        return self.sides.setdefault(0 if src == self.client else 1, Side())


def last(v):
    return v.split(",")[-1] if v else ""


def read(path, seq_analysis=True):
    """seq_analysis False: tshark's TCP sequence analysis off.  Several SYN-ACKs with different ISNs make
    it call every later server segment a retransmission, and it then decodes no TLS from the server
    (ndpi-dev/tls_multiple_synack_different_seq); without the analysis it reassembles them in order."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    if not seq_analysis:
        cmd += ["-o", "tcp.analyze_sequence_numbers:FALSE"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = tshark_run(cmd)
    streams, layers, frames = {}, dict.fromkeys(LAYERS, 0), 0
    layers["ip_in_ip"] = 0
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        v = line.split("|")
        if len(v) != len(FIELDS):
            continue
        row = dict(zip(FIELDS, v))
        if not row["tcp.stream"]:
            continue
        protos = row["frame.protocols"].split(":")
        if "icmp" in protos or "icmpv6" in protos:
            continue              # the TCP header an ICMP error quotes: tshark gives it a stream, no connection
        frames += 1
        for name, words in LAYERS.items():
            if any(w in protos for w in words):
                layers[name] += 1
        ips = [p_ for p_ in protos if p_ in ("ip", "ipv6")]
        if len(ips) >= 2 and not any(w in protos for w in ("gre", "udp", "erspan")):
            layers["ip_in_ip"] += 1
        sid = int(last(row["tcp.stream"]))
        src = (last(row["ipv6.src"]) or last(row["ip.src"]), int(last(row["tcp.srcport"])))
        dst = (last(row["ipv6.dst"]) or last(row["ip.dst"]), int(last(row["tcp.dstport"])))
        st = streams.get(sid)
        if st is None:
            st = streams[sid] = Stream((src, dst))
        st.packets += 1
        flags = int(last(row["tcp.flags"]) or "0", 16)
        if flags & 0x12 == 0x02 and st.client is None:
            st.client = src
        elif flags & 0x12 == 0x12 and st.client is None:
            st.client = dst
        s = st.side(src)
        tlen = int(last(row["tcp.len"]) or "0")
        seq = int(last(row["tcp.seq"]) or "0")
        st.on_packet(0 if src == st.client else 1, float(last(row["frame.time_epoch"]) or "0"), flags, seq,
                     int(last(row["tcp.nxtseq"]) or seq), tlen)
        # TLS 1.3's encrypted records: tshark names their outer type opaque_type (always 23)
        ctypes = [int(x) for x in (row["tls.record.content_type"] + "," + row["tls.record.opaque_type"]).split(",")
                  if x.isdigit()]
        if tlen and not row["tcp.analysis.retransmission"]:
            if s.first_payload_tls is None:
                s.first_payload_tls = bool(ctypes)
            s.payload += tlen
        s.ctypes.update(ctypes)
        s.appdata += ctypes.count(23)
        hs = [int(x) for x in row["tls.handshake.type"].split(",") if x.isdigit()]
        s.hs.update(hs)
        lengths = [int(x) for x in row["tls.handshake.length"].split(",") if x.isdigit()]
        st.certs_over_cap += sum(1 for t_, n in zip(hs, lengths) if t_ == 11 and n > 65536)
        s.alert_levels.update(int(x) for x in row["tls.alert_message.level"].split(",") if x.isdigit())
        if 1 in hs:
            s.sv.update(int(x, 16) for x in row["tls.handshake.extensions.supported_version"].split(",")
                        if x.startswith("0x"))
            for x in row["tls.handshake.version"].split(","):
                if x.startswith("0x"):
                    s.legacy = int(x, 16)
                    break
            st.hello_seen = True
        elif tlen and not st.hello_seen and protos[-1] not in ("tcp", "tls", "data", "ssl"):
            s.protos.add(protos[-1])
        if 2 in hs:
            sv = [x for x in row["tls.handshake.extensions.supported_version"].split(",") if x.startswith("0x")]
            hv = [x for x in row["tls.handshake.version"].split(",") if x.startswith("0x")]
            if sv or hv:
                st.sh_version = int((sv or hv)[0], 16)
    return streams, layers, frames


def record_heads(path):
    """Per TCP stream and side (0: the side that sent the first segment seen): the TLS record headers
    (RFC 5246 6.2.1: type 20-23, version 3.x, length 1..2^14+2048) at the start of a segment, by the
    captured bytes alone (a snap length keeps a segment's first bytes).  Returns
    {(endpoint, endpoint) frozenset: {side: {"types": set, "segments": n, "plain_alert": bool}}}."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp.len > 0", "-T", "fields", "-E", "separator=|",
           "-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE",
           "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "tcp.srcport",
           "-e", "tcp.dstport", "-e", "tcp.seq", "-e", "tcp.payload"]
    p = tshark_run(cmd)
    out, firsts, seen = {}, {}, set()
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        v = line.split("|")
        if len(v) != 8:
            continue
        src = (last(v[2]) or last(v[0]), int(last(v[4]) or 0))
        dst = (last(v[3]) or last(v[1]), int(last(v[5]) or 0))
        key = frozenset([src, dst])
        if (src, v[6]) in seen:
            continue                    # the same segment again
        seen.add((src, v[6]))
        side = 0 if firsts.setdefault(key, src) == src else 1
        d = out.setdefault(key, {}).setdefault(side, {"types": set(), "segments": 0, "plain_alert": False})
        b = bytes.fromhex(last(v[7]).replace(":", ""))[:5]
        if len(b) < 5:
            continue
        length = b[3] << 8 | b[4]
        if 20 <= b[0] <= 23 and b[1] == 3 and b[2] <= 4 and 0 < length <= 18432:
            d["types"].add(b[0])
            d["segments"] += 1
            d["plain_alert"] |= b[0] == 21 and length == 2
    return out

"""pcapgen.py - small hand-built captures for the tests: Ethernet, IPv4 and
TCP frames written byte for byte into a classic pcap file, so a test states
exactly what is on the wire (the independent truth) instead of trusting a
tool's idea of it.

Use: w = Pcap(path); c = w.conn("192.0.2.10", 40000, "198.51.100.1", 8476)
then c.handshake(), c.send(b"...", from_client=True), c.close(); w.close().
Checksums are left zero (tlsready does not check them; neither do span ports).
"""
import struct


ETH_DST_SRC = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ipv4_header(src, dst, proto, payload_len, ident=1):
    """A 20-byte IPv4 header (checksum zero) for an outer tunnel packet."""
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, 0, 64, proto, 0, ip4(src), ip4(dst))


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


class Pcap:
    def __init__(self, path, snaplen=65535, linktype=1, wrap=None):
        """wrap(ip_packet) -> the whole frame, for other link types and encapsulations;
        default: Ethernet with type IPv4."""
        self.f = open(path, "wb")
        self.snaplen = snaplen
        self.wrap = wrap
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self.ts = 1_700_000_000.0
        self.ip_id = 1

    def tick(self, dt=0.001):
        self.ts += dt

    def frame(self, src, dst, sport, dport, flags, seq, ack, payload=b"", wire_payload=None):
        """One TCP segment; wire_payload > len(payload) makes a snaplen cut."""
        plen = len(payload) if wire_payload is None else wire_payload
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                          65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + plen, self.ip_id & 0xFFFF, 0, 64, 6, 0,
                         ip4(src), ip4(dst))
        self.ip_id += 1
        if self.wrap:
            frame = self.wrap(ip + tcp + payload)
            wire = len(frame) + plen - len(payload)
        else:
            eth = ETH_DST_SRC + b"\x08\x00"
            frame = eth + ip + tcp + payload
            wire = len(eth) + 40 + plen
        frame = frame[:self.snaplen]           # what a capture with this snap length keeps
        sec = int(self.ts)
        usec = int(round((self.ts - sec) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), wire) + frame)
        self.tick()

    def udp_frame(self, src, dst, sport, dport, payload, eth_src=None):
        """One UDP datagram over IPv4 (Ethernet, or the wrap); eth_src: the sender's MAC (6 bytes)."""
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), self.ip_id & 0xFFFF, 0, 64, 17, 0,
                         ip4(src), ip4(dst)) + udp(sport, dport, payload)
        self.ip_id += 1
        if self.wrap:
            frame = self.wrap(ip)
        else:
            frame = ETH_DST_SRC[:6] + (eth_src or ETH_DST_SRC[6:]) + b"\x08\x00" + ip
        wire = len(frame)
        frame = frame[:self.snaplen]
        sec = int(self.ts)
        usec = int(round((self.ts - sec) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), wire) + frame)
        self.tick()

    def conn(self, cli, cport, srv, sport, isn_c=1000, isn_s=5000):
        return Conn(self, cli, cport, srv, sport, isn_c, isn_s)

    def close(self):
        self.f.close()


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


class Conn:
    """One TCP connection; tracks both sides' next sequence numbers."""

    def __init__(self, w, cli, cport, srv, sport, isn_c, isn_s):
        self.w, self.cli, self.cport, self.srv, self.sport = w, cli, cport, srv, sport
        self.isn = [isn_c, isn_s]
        self.nxt = [isn_c + 1, isn_s + 1]

    def _ends(self, from_client):
        if from_client:
            return self.cli, self.srv, self.cport, self.sport, 0
        return self.srv, self.cli, self.sport, self.cport, 1

    def syn(self):
        self.w.frame(self.cli, self.srv, self.cport, self.sport, SYN, self.isn[0], 0)

    def handshake(self):
        self.syn()
        self.w.frame(self.srv, self.cli, self.sport, self.cport, SYN | ACK, self.isn[1], self.nxt[0])
        self.w.frame(self.cli, self.srv, self.cport, self.sport, ACK, self.nxt[0], self.nxt[1])

    def refuse(self):
        self.syn()
        self.w.frame(self.srv, self.cli, self.sport, self.cport, RST | ACK, 0, self.nxt[0])

    def send(self, data, from_client=True, offset=0, advance=True, wire=None):
        """Data at the direction's next sequence number + offset."""
        s, d, sp, dp, i = self._ends(from_client)
        self.w.frame(s, d, sp, dp, PSH | ACK, self.nxt[i] + offset, self.nxt[1 - i], data, wire)
        if advance and offset == 0:
            self.nxt[i] += len(data) if wire is None else wire

    def seg(self, rel, data, from_client=True, flags=PSH | ACK):
        """Data at an explicit offset from the direction's first byte (ISN + 1 + rel)."""
        s, d, sp, dp, i = self._ends(from_client)
        self.w.frame(s, d, sp, dp, flags, self.isn[i] + 1 + rel, self.nxt[1 - i], data)

    def ack(self, from_client=True):
        s, d, sp, dp, i = self._ends(from_client)
        self.w.frame(s, d, sp, dp, ACK, self.nxt[i], self.nxt[1 - i])

    def close(self):
        self.w.frame(self.cli, self.srv, self.cport, self.sport, FIN | ACK, self.nxt[0], self.nxt[1])
        self.nxt[0] += 1
        self.w.frame(self.srv, self.cli, self.sport, self.cport, FIN | ACK, self.nxt[1], self.nxt[0])
        self.nxt[1] += 1
        self.w.frame(self.cli, self.srv, self.cport, self.sport, ACK, self.nxt[0], self.nxt[1])


# ---- DHCP bytes (RFC 2131 / RFC 2132) ----
def dhcp(op, mtype, mac, yiaddr="0.0.0.0", ciaddr="0.0.0.0", lease=None, host=None, cid=None):
    """RFC 2131 figure 1, the magic cookie, options 53, 51, 12, 61 (RFC 2132), end."""
    b = struct.pack("!BBBBIHH4s4s4s4s", op, 1, 6, 0, 0x3903F326, 0, 0, ip4(ciaddr), ip4(yiaddr), b"\0" * 4,
                    b"\0" * 4)
    b += mac + b"\0" * 10 + b"\0" * 192 + struct.pack("!I", 0x63825363) + bytes([53, 1, mtype])
    if lease is not None:
        b += bytes([51, 4]) + struct.pack("!I", lease)
    if host:
        b += bytes([12, len(host)]) + host
    if cid:
        b += bytes([61, len(cid)]) + cid
    return b + b"\xff"


def telnet_user(w, cli, cport, srv, user):
    """A telnet connection to srv:23 whose client sends NEW-ENVIRON USER (RFC 1572): a user on a nonsecure
    door."""
    c = w.conn(cli, cport, srv, 23)
    c.handshake()
    c.send(b"\xff\xfd\x27", from_client=False)
    c.send(b"\xff\xfb\x27\xff\xfa\x27\x00\x00USER\x01" + user + b"\xff\xf0")
    c.close()


# ---- TLS bytes (RFC 8446 / RFC 5246 layouts) ----
def tls_record(ctype, body, ver=0x0303):
    return struct.pack("!BHH", ctype, ver, len(body)) + body


def tls_handshake(msg_type, body):
    return struct.pack("!B", msg_type) + len(body).to_bytes(3, "big") + body


def tls_ext(etype, body):
    return struct.pack("!HH", etype, len(body)) + body


def client_hello(suites=(0x002f,), versions=None):
    """A ClientHello; versions: a supported_versions list (TLS 1.3 style) or None."""
    exts = b""
    if versions:
        lst = b"".join(struct.pack("!H", v) for v in versions)
        exts += tls_ext(43, bytes([len(lst)]) + lst)
    body = (struct.pack("!H", 0x0303) + b"\x11" * 32 + b"\x00" + struct.pack("!H", 2 * len(suites))
            + b"".join(struct.pack("!H", s) for s in suites) + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    return tls_handshake(1, body)


def server_hello(suite=0x002f, version=None):
    """A ServerHello; version: a supported_versions choice (TLS 1.3 style) or None (TLS 1.2)."""
    exts = tls_ext(43, struct.pack("!H", version)) if version else b""
    body = (struct.pack("!H", 0x0303) + b"\x22" * 32 + b"\x00" + struct.pack("!H", suite) + b"\x00"
            + struct.pack("!H", len(exts)) + exts)
    return tls_handshake(2, body)


def syn_flood(path, n, first=0, t0_us=1_700_000_000_000_000):
    """n SYNs over Ethernet/IPv6 (RFC 8200) from 2001:db8:c::<first + i + 1> (documentation prefix, RFC 3849) to
    2001:db8::10, ports 8476 and 9476 in turn (8476 first), 1 microsecond apart from t0_us: each SYN its own
    source, what a spoofed flood looks like (test_memory_flood, test_attempts_state, test_monitor)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd"
        ip_head = struct.pack("!IHBB", 0x60000000, 20, 6, 64)
        cli_prefix = bytes.fromhex("20010db8000c0000") + b"\0\0\0\0"
        srv = bytes.fromhex("20010db8000000000000000000000010")
        out = []
        for i in range(n):
            tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, 8476 if i % 2 == 0 else 9476, i * 7919 + 1, 0,
                              5 << 4, 0x02, 65535, 0, 0)
            frame = eth + ip_head + cli_prefix + struct.pack("!I", first + i + 1) + srv + tcp
            ts = t0_us + i
            out.append(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)) + frame)
            if len(out) == 10000:
                f.write(b"".join(out))
                out = []
        f.write(b"".join(out))

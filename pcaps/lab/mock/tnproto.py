"""tnproto.py - telnet/5250 byte codec shared by the mock telnet server and the scripted client.

In: raw bytes from a telnet stream.  Out: a list of events ("cmd", verb, opt) / ("sb", opt, data)
/ ("data", bytes) / ("eor",) with IAC doubling undone; plus builders for NEW-ENVIRON
(RFC 1572 escaping: 00-03 get ESC 02 in front, FF is doubled) and 5250 GDS records (RFC 1205).
"""
IAC, SB, SE, WILL, WONT, DO, DONT, EOR_CMD = 0xFF, 0xFA, 0xF0, 0xFB, 0xFC, 0xFD, 0xFE, 0xEF
BINARY, TTYPE, EOR, NEW_ENVIRON = 0x00, 0x18, 0x19, 0x27
IS, SEND = 0, 1
VAR, VALUE, ESC, USERVAR = 0, 1, 2, 3


class Parser:
    def __init__(self):
        self.buf = b""
        self.data = b""

    def feed(self, b):
        self.buf += b
        out, i, buf = [], 0, self.buf
        while i < len(buf):
            c = buf[i]
            if c != IAC:
                self.data += bytes([c]); i += 1; continue
            if i + 1 >= len(buf):
                break
            v = buf[i + 1]
            if v == IAC:
                self.data += b"\xff"; i += 2
            elif v in (WILL, WONT, DO, DONT):
                if i + 2 >= len(buf):
                    break
                out.append(("cmd", v, buf[i + 2])); i += 3
            elif v == SB:
                end = buf.find(bytes([IAC, SE]), i + 2)
                while end != -1 and buf[end - 1] == IAC and buf[i + 2:end].count(b"\xff") % 2:
                    end = buf.find(bytes([IAC, SE]), end + 1)
                if end == -1:
                    break
                out.append(("sb", buf[i + 2], buf[i + 3:end].replace(b"\xff\xff", b"\xff"))); i = end + 2
            elif v == EOR_CMD:
                out.append(("record", self.data)); self.data = b""; i += 2
            else:
                out.append(("cmd", v, None)); i += 2
        self.buf = buf[i:]
        return out


def esc(b):
    out = b""
    for c in b:
        out += bytes([ESC, c]) if c <= 3 else (b"\xff\xff" if c == 0xFF else bytes([c]))
    return out


def environ_is(items):
    """items: [(VAR|USERVAR, name, value-bytes or None)] -> IAC SB NEW-ENVIRON IS ... IAC SE"""
    body = bytes([IAC, SB, NEW_ENVIRON, IS])
    for kind, name, value in items:
        body += bytes([kind]) + esc(name.encode("ascii"))
        if value is not None:
            body += bytes([VALUE]) + esc(value)
    return body + bytes([IAC, SE])


def parse_environ(data):
    """data after the IS/INFO verb -> {name: value-bytes or None}"""
    out, i, cur, name, field = {}, 0, None, b"", None
    items = []
    while i < len(data):
        c = data[i]
        if c == ESC and i + 1 < len(data):
            field.append(data[i + 1]); i += 2; continue
        if c in (VAR, USERVAR):
            field = bytearray(); items.append([c, field, None])
        elif c == VALUE and items:
            field = bytearray(); items[-1][2] = field
        elif field is not None:
            field.append(c)
        i += 1
    for kind, n, v in items:
        out[bytes(n).decode("ascii", "replace")] = bytes(v) if v is not None else None
    return out


def record(opcode, payload, flow=0x0000, flags=0x0000):
    """A 5250 GDS record, IAC-doubled, ending with IAC EOR."""
    hdr = bytes([0x12, 0xA0]) + flow.to_bytes(2, "big") + bytes([4]) + flags.to_bytes(2, "big") + bytes([opcode])
    rec = (len(hdr) + 2 + len(payload)).to_bytes(2, "big") + hdr + payload
    return rec.replace(b"\xff", b"\xff\xff") + bytes([IAC, EOR_CMD])

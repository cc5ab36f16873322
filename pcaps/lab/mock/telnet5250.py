"""telnet5250.py - the mock IBM i telnet server (TCP 23 cleartext, 992 TLS).

In: a Conn.  Out: the negotiation of ibmi-protocols.md §4 - DO NEW-ENVIRON, DO TERMINAL-TYPE, the
SEND USERVAR "IBMRSEED" <8-byte seed> VAR USERVAR request, TERMINAL-TYPE SEND, then DO/WILL EOR and
BINARY - then one 5250 output record (a short sign-on/main-menu screen).  Into the record go the
options the client agreed to, its terminal type, the NEW-ENVIRON variables (USER, DEVNAME, ...;
IBMSUBSPW is recorded only as its length), and the records it sent.  We then wait for the client
to close.
"""
import struct

import tnproto as t


def serve(c, rec, cfg, seed):
    p = t.Parser()
    rec.update({"agreed": [], "environ": {}, "records_in": 0})
    sseed = struct.pack(">Q", seed)
    c.send(bytes([t.IAC, t.DO, t.NEW_ENVIRON, t.IAC, t.DO, t.TTYPE]))
    step, deadline = "environ", 0
    while not c.eof and deadline < 200:
        deadline += 1
        b = c.recv_some(4096, timeout=10.0)
        if not b:
            break
        for ev in p.feed(b):
            if ev[0] == "cmd" and ev[1] in (t.WILL, t.DO):
                rec["agreed"].append(("WILL " if ev[1] == t.WILL else "DO ") + str(ev[2]))
                if ev[1] == t.WILL and ev[2] == t.NEW_ENVIRON:
                    c.send(bytes([t.IAC, t.SB, t.NEW_ENVIRON, t.SEND, t.USERVAR]) + b"IBMRSEED"
                           + sseed + bytes([t.VAR, t.USERVAR, t.IAC, t.SE]))
            elif ev[0] == "sb" and ev[1] == t.NEW_ENVIRON and ev[2][:1] == bytes([t.IS]):
                env = t.parse_environ(ev[2][1:])
                for k, v in env.items():
                    if k == "IBMSUBSPW":
                        rec["environ"][k] = "<%d bytes>" % len(v or b"")
                    elif k == "IBMRSEED":
                        rec["environ"][k] = (v or b"").hex()
                    else:
                        rec["environ"][k] = (v or b"").decode("ascii", "replace")
                rec["user"] = rec["environ"].get("USER") or None
                rec["device"] = rec["environ"].get("DEVNAME") or None
                c.send(bytes([t.IAC, t.SB, t.TTYPE, t.SEND, t.IAC, t.SE]))
            elif ev[0] == "sb" and ev[1] == t.TTYPE and ev[2][:1] == bytes([t.IS]):
                rec["terminal_type"] = ev[2][1:].decode("ascii", "replace")
                c.send(bytes([t.IAC, t.DO, t.EOR, t.IAC, t.WILL, t.EOR,
                              t.IAC, t.DO, t.BINARY, t.IAC, t.WILL, t.BINARY]))
                step = "screen"
            elif ev[0] == "record":
                rec["records_in"] += 1
                c.send(t.record(0x03, screen("MAIN MENU  " + (rec.get("user") or ""))))
        if step == "screen" and "DO 0" in rec["agreed"] and "WILL 0" in rec["agreed"]:
            c.send(t.record(0x03, screen("Sign On   System . . . : LABIBMI1   Device : "
                                         + (rec.get("device") or "QPADEV0001"))))
            step = "running"
    c.wait_eof(10.0)
    return "eof"


def screen(text):
    """ESC + Write To Display (04 11) with a control character pair, then SBA row 1 col 2 + text."""
    return bytes([0x04, 0x11, 0x00, 0x18, 0x11, 0x01, 0x02]) + text.encode("cp037")

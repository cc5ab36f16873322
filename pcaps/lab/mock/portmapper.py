"""portmapper.py - the mock IBM i port mapper (as-svrmap, TCP 449, always cleartext).

In: a Conn.  The client sends a bare ASCII service name (no length, no terminator).
Out: '+' and the port as a uint32 (5 bytes) for every name in ports.MAPPER, else '-' and
four zero bytes; the record gets "mapper": {"requested", "port"}.  Then we wait for the client
to close (JT closes right after reading the reply) and close our side.
"""
import struct

import ports


def serve(c, rec):
    name = b""
    while len(name) < 64:
        b = c.recv_some(64, timeout=0.3 if name else 20.0)
        if not b:  # timeout once something arrived, or EOF
            break
        name += b
        if name.decode("ascii", "replace") in ports.MAPPER:
            break  # a known name is complete: answer at once
    text = name.decode("ascii", "replace")
    port = ports.MAPPER.get(text)
    rec["mapper"] = {"requested": text, "port": port}
    if text:
        c.send(b"+" + struct.pack(">I", port) if port else b"-\0\0\0\0")
    c.wait_eof(10.0)
    return "eof"

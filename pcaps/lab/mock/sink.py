"""sink.py - listener for the legacy ports 8477-8479 and DDM 446/448: accept, read, say nothing.

In: a Conn.  Out: the first bytes the client sent (hex, in the record) and a close after the client
closes or after a quiet period.  Real IBM i answers DDM with EXCSATRD; no real DDM client is run
in the lab, so a silent listener is all the captures need (the port is open and takes bytes).
"""


def serve(c, rec, quiet=3.0):
    first = b""
    while True:
        b = c.recv_some(65536, timeout=quiet)
        if not b:
            break
        first += b[:64 - len(first)] if len(first) < 64 else b""
    if first:
        rec["first_bytes"] = first[:32].hex()
    return "eof" if c.eof else "quiet"

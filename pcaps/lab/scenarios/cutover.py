"""cutover.py - capture cutover.pcapng: the doors a cutover plan must tell apart, in one session.

In: the lab.  Out: the capture; c21 is one 5250 emulator on telnet 23 (the only telnet client);
c22 uses every host server over TLS (jt400 SecureAS400 through the mapper's -s names); c23 holds a
session on the legacy as-transfer port 8478, which has no TLS counterpart (curl's telnet:// sends
bytes over plain TCP: no program of the lab speaks IBM's legacy transfer protocol, and what the plan
needs is the port in use); c24 is jt400 AS400 that asks the port mapper for the nonsecure as-signon
and never connects to it (nft drops its SYNs to 8476 inside the IBM i: the capture shows the mapper
exchange and an unanswered SYN).  The truth comes from the mock's and the clients' logs as for every
capture (truth/make_truth.py).
"""
from common import pw, mock_config

NAME = "cutover"
DESCRIPTION = ("one 5250 emulator on telnet 23, TLS on every host server, a legacy as-transfer (8478) session, "
               "and a client that only asked the port mapper for as-signon and never connected")


def run(lab, cap):
    lab.start_mock(mock_config())
    lab.start_capture(cap)
    lab.telnet("tr-c21", "c21-tn23", 23, "LABUSR1", "LABDSP21")
    lab.jt400("tr-c22", "c22-secure", "--secure", "--user", "LABSEC", "--password", pw("LABSEC"),
              "--services", "signon,command,database,dtaq,file,print,central", "--use")
    lab.run("tr-c23", ["sh", "-c", "printf 'LAB LEGACY TRANSFER\\r\\n' | curl -s -m 3 telnet://192.0.2.10:8478"],
            10, "curl", "c23-legacy-8478")
    lab.nft_drop(8476)
    lab.jt400("tr-c24", "c24-mapper-only", "--user", "LABOPS", "--password", pw("LABOPS"),
              "--services", "signon", timeout=60)
    lab.nft_clear()
    lab.stop_captures()
    lab.stop_mock()

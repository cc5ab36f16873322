"""mixed.py - capture mixed.pcapng: one client (c27) that uses TLS for some services and not others,
plus an old-TLS client.

In: the lab.  Out: the capture; c27 jt400 SecureAS400 signon+command, then jt400 AS400 database+dtaq
(nonsecure) and a 449 lookup; c28 openssl s_client with TLS 1.0 and TLS 1.1 (-cipher
DEFAULT@SECLEVEL=0) against 9474/9475, which this mock configures to accept TLS 1.0-1.2 (an IBM i
with *TLSV1 and *TLSV1.1 still in QSSLPCL).
"""
from common import pw, mock_config

NAME = "mixed"
DESCRIPTION = ("c27 mixes TLS (SecureAS400: signon, command) and cleartext (AS400: database, dtaq); "
               "c28 negotiates TLS 1.0 and 1.1 with a server that still allows them")

OLD = {"min": "TLSv1.0", "max": "TLSv1.2"}


def run(lab, cap):
    lab.start_mock(mock_config(tls={"9474": OLD, "9475": OLD}))
    lab.start_capture(cap)
    lab.jt400("tr-c27", "c27-jt400s", "--secure", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command", "--use")
    lab.jt400("tr-c27", "c27-jt400", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "database,dtaq", "--use")
    lab.s_client("tr-c28", "c28-ossl-10", 9475, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
    lab.s_client("tr-c28", "c28-ossl-11", 9474, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    lab.stop_captures()
    lab.stop_mock()

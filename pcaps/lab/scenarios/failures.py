"""failures.py - capture failures.pcapng: every way a connection fails.

In: the lab.  Out: the capture, in two mock phases.  Phase 1 (all listeners): jt400 AS400 sends
cleartext to 9476 (c28); openssl -tls1 (TLS 1.0 only) is refused by a TLS 1.2+ server (c26, alert
protocol_version); openssl speaks TLS to 8476 (c27); wrong password (c21); disabled profile (c22);
expired password, answered and then reset by the mock (c24); SYN unanswered - nft drops SYNs to
8475 inside the IBM i and jt400 times out (c29).  Phase 2 (8476 not listening): jt400 to 8476 is
refused (c23, its client port pinned to 41000).
"""
from common import WRONG, pw, mock_config

NAME = "failures"
DESCRIPTION = ("cleartext to a TLS port, TLS 1.0 refused by a TLS 1.2 server, TLS to a cleartext port, wrong "
               "password, disabled profile, SYN unanswered, connection refused, password expired + reset")


def run(lab, cap):
    lab.start_mock(mock_config(rst_on=["password-expired"]))
    lab.start_capture(cap)
    lab.jt400("tr-c28", "c28-clear-to-tls", "--no-mapper", "--port", "signon=9476", "--user", "LABUSR1",
              "--password", pw("LABUSR1"), "--services", "signon", timeout=40)
    lab.s_client("tr-c26", "c26-tls10-refused", 9476, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
    lab.s_client("tr-c27", "c27-tls-to-plain", 8476)
    lab.jt400("tr-c21", "c21-wrong-pw", "--user", "LABUSR1", "--password", WRONG, "--services", "signon")
    lab.jt400("tr-c22", "c22-disabled", "--no-mapper", "--user", "LABDIS", "--password", pw("LABDIS"),
              "--services", "command")
    lab.jt400("tr-c24", "c24-expired", "--no-mapper", "--user", "LABEXP", "--password", pw("LABEXP"),
              "--services", "command")
    lab.nft_drop(8475)
    lab.jt400("tr-c29", "c29-unanswered", "--no-mapper", "--user", "LABOPS", "--password", pw("LABOPS"),
              "--services", "command", timeout=60)
    lab.nft_clear()
    lab.start_mock(mock_config(off=[8476]))
    with lab.pinned("tr-c23", 41000):
        lab.jt400("tr-c23", "c23-refused", "--no-mapper", "--user", "LABPGMR", "--password", pw("LABPGMR"),
                  "--services", "signon")
    lab.attempt("tr-c23", "jt400", 41000, 8476, "refused")
    lab.stop_captures()
    lab.stop_mock()

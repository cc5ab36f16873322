"""loopback.py - capture loopback.pcapng: the IBM i talking to itself, captured on its lo.

In: the lab.  Out: the capture (lo of tr-ibmi); jt400 AS400 to 127.0.0.1 (mapper, signon + command),
jt400 SecureAS400 to 127.0.0.1, openssl TLS 1.3 to [::1]:9476, jt400 AS400 to the host's own
192.0.2.10 (which Linux also routes over lo).  Every client here is "internal".
"""
from common import pw, mock_config

NAME = "loopback"
DESCRIPTION = "connections over the IBM i's own loopback (127.0.0.1, ::1, its own 192.0.2.10), captured on lo"


def run(lab, cap):
    lab.start_mock(mock_config())
    lab.start_capture(cap, iface="lo")
    lab.jt400("tr-ibmi", "lo-jt400", "--user", "QSECOFR", "--password", pw("QSECOFR"),
              "--services", "signon,command", "--use", host="127.0.0.1")
    lab.jt400("tr-ibmi", "lo-jt400s", "--secure", "--user", "LABSEC", "--password", pw("LABSEC"),
              "--services", "signon", host="127.0.0.1")
    lab.s_client("tr-ibmi", "lo-ossl-v6", 9476, "-tls1_3", host="::1")
    lab.jt400("tr-ibmi", "self-jt400", "--no-mapper", "--user", "LABPGMR", "--password", pw("LABPGMR"),
              "--services", "dtaq", "--use", host="192.0.2.10")
    lab.stop_captures()
    lab.stop_mock()

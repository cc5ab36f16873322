"""ipv6.py - capture ipv6.pcapng: the same kinds of clients over IPv6 (2001:db8::10).

In: the lab.  Out: the capture; c21 jt400 AS400 through the mapper (signon, command), c23 jt400
SecureAS400, c25 openssl TLS 1.3 and TLS 1.2 to 9476, c27 5250 telnet on 23.
"""
from common import pw, mock_config

NAME = "ipv6"
DESCRIPTION = "IPv6: jt400 cleartext with mapper, SecureAS400, openssl TLS 1.2/1.3, telnet 23"
V6 = "2001:db8::10"


def run(lab, cap):
    lab.start_mock(mock_config())
    lab.start_capture(cap)
    lab.jt400("tr-c21", "c21-v6", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command", "--use", host=V6)
    lab.jt400("tr-c23", "c23-v6s", "--secure", "--user", "LABSEC", "--password", pw("LABSEC"),
              "--services", "signon,dtaq", "--use", host=V6)
    lab.s_client("tr-c25", "c25-v6-13", 9476, "-tls1_3", host=V6)
    lab.s_client("tr-c25", "c25-v6-12", 9476, "-tls1_2", host=V6)
    lab.telnet("tr-c27", "c27-v6-tn", 23, "LABPGMR", "LABDSP27", host=V6)
    lab.stop_captures()
    lab.stop_mock()

"""modern.py - capture modern.pcapng: clients that use TLS only.

In: the lab.  Out: the capture; c24 jt400 SecureAS400 through the mapper (asks "as-...-s") to all
seven services; c25 SecureAS400 without the mapper; c26 openssl s_client TLS 1.2 and TLS 1.3
and gnutls-cli, on the TLS host-server ports (server certs: RSA 2048, RSA 4096 on 9471, ECDSA on 9472).
"""
from common import pw, mock_config

NAME = "modern"
DESCRIPTION = ("TLS only: jt400 SecureAS400 with and without the port mapper (-s names), openssl s_client "
               "TLS 1.2/1.3 and gnutls-cli on 9470-9476")


def run(lab, cap):
    lab.start_mock(mock_config(tls={"9471": {"cert": "rsa4096"}, "9472": {"cert": "ecdsa"}}))
    lab.start_capture(cap)
    lab.jt400("tr-c24", "c24-jt400s", "--secure", "--user", "LABSEC", "--password", pw("LABSEC"),
              "--services", "signon,command,database,dtaq,file,print,central", "--use")
    lab.jt400("tr-c25", "c25-jt400s", "--secure", "--no-mapper", "--user", "LABUSR1",
              "--password", pw("LABUSR1"), "--services", "signon,command", "--use")
    lab.s_client("tr-c26", "c26-ossl-12", 9476, "-tls1_2")
    lab.s_client("tr-c26", "c26-ossl-13", 9471, "-tls1_3")
    lab.s_client("tr-c26", "c26-ossl-ec", 9472, "-tls1_2")
    lab.gnutls("tr-c26", "c26-gnutls", 9470)
    lab.stop_captures()
    lab.stop_mock()

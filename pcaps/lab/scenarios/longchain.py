"""longchain.py - capture longchain.pcapng: server certificates that matter.

In: the lab.  Out: the capture; 9476 serves a 4-certificate RSA 4096 chain (~7 KB, many TCP
segments), 9471 an expired certificate, 9472 a self-signed one, 9473 RSA 4096.  c27 jt400
SecureAS400 (accepts the long chain, rejects nothing else it is not sent to), c28 openssl TLS 1.2
to all four (s_client reports verify errors but completes the handshake), c29 jt400 SecureAS400
--no-mapper with the self-signed server for as-dtaq (JSSE refuses: alert certificate_unknown).
"""
from common import pw, mock_config

NAME = "longchain"
DESCRIPTION = "certificate chain spanning many segments (9476), expired (9471), self-signed (9472), RSA 4096 (9473)"


def run(lab, cap):
    lab.start_mock(mock_config(tls={"9476": {"cert": "longchain"}, "9471": {"cert": "expired"},
                                    "9472": {"cert": "selfsigned"}, "9473": {"cert": "rsa4096"}}))
    lab.start_capture(cap)
    lab.jt400("tr-c27", "c27-jt400s", "--secure", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command", "--use")
    for port in (9476, 9471, 9472, 9473):
        lab.s_client("tr-c28", "c28-ossl-%d" % port, port, "-tls1_2")
    lab.jt400("tr-c29", "c29-selfsigned", "--secure", "--no-mapper", "--user", "LABOPS", "--password",
              pw("LABOPS"), "--services", "dtaq")
    lab.stop_captures()
    lab.stop_mock()

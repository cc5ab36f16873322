"""telnet.py - capture telnet.pcapng: 5250 telnet on 23 (cleartext) and 992 (TLS).

In: the lab.  Out: the capture; c21 and c22 on port 23 (c22 with auto-signon: USER + IBMSUBSPW in
clear, as tn5250j sends it), c23 on 992 over TLS, with the scripted tn5250j-style client
(clients/tn5250_script.py).
"""
from common import pw, mock_config

NAME = "telnet"
DESCRIPTION = "5250 telnet: USER and DEVNAME in NEW-ENVIRON on 23 (one with auto-signon password), and on 992 over TLS"


def run(lab, cap):
    lab.start_mock(mock_config())
    lab.start_capture(cap)
    lab.telnet("tr-c21", "c21-tn23", 23, "LABUSR1", "LABDSP21")
    lab.telnet("tr-c22", "c22-tn23-auto", 23, "LABOPS", "LABDSP22", password=pw("LABOPS"))
    lab.telnet("tr-c23", "c23-tn992", 992, "LABSEC", "LABDSP23", password=pw("LABSEC"), tls=True)
    lab.stop_captures()
    lab.stop_mock()

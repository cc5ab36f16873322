"""demo.py - pcaps/demo.pcapng, the "day in the life" that `make run` analyses.

In: the lab.  Out: the capture, on the IBM i's eth0 and lo at once (two interfaces in one pcapng);
ten clients and every kind of finding: jt400 cleartext through the mapper (c21) and without it (c22),
5250 telnet on 23 with auto-signon (c23), SecureAS400 (c24), openssl TLS 1.3 and gnutls (c25), TLS 1.0
on a server that still allows it (c26), a client mixing TLS and cleartext (c27), TLS sent to a
cleartext port and cleartext to a TLS port (c28), a wrong password and a refused DDM-less port (c29),
and a job on the IBM i itself using 127.0.0.1 (internal).
"""
from common import WRONG, pw, mock_config

NAME = "demo"
DESCRIPTION = "a day in the life: ten clients, every kind of finding"


def run(lab, cap):
    lab.start_mock(mock_config(tls={"9474": {"min": "TLSv1.0", "max": "TLSv1.2"}}, off=[8478]))
    lab.start_capture(cap, iface="eth0,lo")
    lab.jt400("tr-c21", "c21", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command,database", "--use")
    lab.jt400("tr-c22", "c22", "--no-mapper", "--user", "LABOPS", "--password", pw("LABOPS"),
              "--services", "file,dtaq", "--use")
    lab.telnet("tr-c23", "c23", 23, "LABPGMR", "LABDSP23", password=pw("LABPGMR"))
    lab.jt400("tr-c24", "c24", "--secure", "--user", "LABSEC", "--password", pw("LABSEC"),
              "--services", "signon,command,print", "--use")
    lab.s_client("tr-c25", "c25-13", 9471, "-tls1_3")
    lab.gnutls("tr-c25", "c25-gnutls", 9472)
    lab.s_client("tr-c26", "c26-10", 9474, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
    lab.jt400("tr-c27", "c27s", "--secure", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon", "--use")
    lab.jt400("tr-c27", "c27", "--user", "LABUSR1", "--password", pw("LABUSR1"), "--services", "command", "--use")
    lab.s_client("tr-c28", "c28-tls-plain", 8475)
    lab.jt400("tr-c28", "c28-clear-tls", "--no-mapper", "--port", "signon=9476", "--user", "LABOPS",
              "--password", pw("LABOPS"), "--services", "signon", timeout=40)
    lab.jt400("tr-c29", "c29-wrong", "--user", "LABUSR1", "--password", WRONG, "--services", "signon")
    with lab.pinned("tr-c29", 41010):
        lab.run("tr-c29", ["curl", "-s", "-m", "3", "telnet://192.0.2.10:8478"], 10, "curl", "c29-refused")
    lab.attempt("tr-c29", "curl", 41010, 8478, "refused")
    lab.telnet("tr-c23", "c23-992", 992, "LABPGMR", "LABDSP23S", tls=True)
    lab.jt400("tr-ibmi", "internal", "--user", "QSECOFR", "--password", pw("QSECOFR"),
              "--services", "command", "--use", host="127.0.0.1")
    lab.stop_captures()
    lab.stop_mock()

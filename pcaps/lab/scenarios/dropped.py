"""dropped.py - capture dropped.pcapng: a capture that dropped packets (the plan's verdict: unknown).

In: the lab.  Out: the capture, taken by dumpcap with a 1 MiB buffer.  c22 signs on with jt400
SecureAS400 (TLS) and c21 is one 5250 emulator on telnet 23; both finish.  Then dumpcap is stopped
(SIGSTOP) while c29 sends 30000 one-byte UDP datagrams to the IBM i's discard port, so the kernel's
ring buffer fills and drops the rest; dumpcap is continued and stopped.  It writes the drop count
into the pcapng's interface statistics and prints it in its summary, which the truth records
(capture_stats).  Only the flood's datagrams are dropped: every TCP connection ended before it.
"""
import os
import time

from common import pw, mock_config

NAME = "dropped"
DESCRIPTION = ("TLS sign-on and one telnet 23 emulator, then the capture stalls while a UDP flood passes: "
               "dumpcap counts the packets it dropped")

FLOOD = ("import socket, sys\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         "for i in range(30000):\n"
         "    s.sendto(b'x', ('192.0.2.10', 9))\n"
         "print('sent', 30000)\n")


def run(lab, cap):
    out = os.path.join(lab.work, "capture.out")
    if os.path.exists(out):
        os.unlink(out)
    lab.start_mock(mock_config())
    lab.start_capture(cap, buffer_mib=1)
    lab.jt400("tr-c22", "c22-secure", "--secure", "--user", "LABSEC", "--password", pw("LABSEC"),
              "--services", "signon", "--use")
    lab.telnet("tr-c21", "c21-tn23", 23, "LABUSR1", "LABDSP21")
    time.sleep(1.0)
    lab.pause_captures(True)
    lab.run("tr-c29", ["/usr/bin/python3", "-c", FLOOD], 60, "udp-flood", "c29-flood")
    lab.pause_captures(False)
    lab.stop_captures()
    lab.capture_stats()
    lab.stop_mock()

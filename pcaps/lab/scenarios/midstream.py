"""midstream.py - capture midstream.pcapng: a capture that starts and ends in the middle of connections.

In: the lab.  Out: the capture; c25 jt400 AS400 connects signon+command before the capture starts,
waits, then runs its command and disconnects inside the capture (midstream: true, tcp closed); c26
jt400 SecureAS400 connects inside the capture and is still connected when it stops (tcp open).
"""
import time

from common import pw, mock_config

NAME = "midstream"
DESCRIPTION = "capture begins after c25's connections were set up and ends while c26's are still open"


def run(lab, cap):
    lab.start_mock(mock_config())
    a = lab.background(lab.jt400, "tr-c25", "c25-early", "--user", "LABOPS", "--password", pw("LABOPS"),
                       "--services", "signon,command", "--pause", "7", "--use")
    time.sleep(5)
    lab.start_capture(cap)
    b = lab.background(lab.jt400, "tr-c26", "c26-late", "--secure", "--user", "LABSEC", "--password",
                       pw("LABSEC"), "--services", "signon,command", "--hold", "25")
    a.join(60)
    time.sleep(6)
    lab.stop_captures()
    lab.stop_mock()
    b.join(60)

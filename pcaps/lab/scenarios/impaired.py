"""impaired.py - capture impaired.pcapng: loss, delay and reordering between a client and the bridge.

In: the lab.  Out: the capture (taken at the IBM i, so client->server segments arrive after the
shim and server->client ones before it); client c30 sits behind shim/shim.py (seed 2025, 8% drop,
8% reorder, 1-20 ms delay on data segments) and runs jt400 AS400 (signon, command, dtaq),
jt400 SecureAS400 (signon, command) and openssl TLS 1.2 against the long certificate chain on 9476.
"""
import os
import subprocess

from common import pw, mock_config

NAME = "impaired"
DESCRIPTION = "loss, delay and reordering (deterministic shim, seed 2025) on c30's path: cleartext, TLS, long chain"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(lab, cap):
    for n in ("tr-c30", "tr-shim"):  # left over from an interrupted run
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
    subprocess.run(["sh", "-c", ". %s/net.sh; lab_shim_host 30" % HERE], check=True)
    shim = lab.spawn(["ip", "netns", "exec", "tr-shim", "/usr/bin/python3", os.path.join(HERE, "shim", "shim.py"),
               "s-cli", "s-br", "--seed", "2025", "--drop", "0.08", "--reorder", "0.08",
               "--delay-ms", "1", "20", "--log", os.path.join(lab.work, "shim.jsonl")])
    lab.start_mock(mock_config(tls={"9476": {"cert": "longchain"}}))
    lab.start_capture(cap)
    lab.jt400("tr-c30", "c30-jt400", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command,dtaq", "--use")
    lab.jt400("tr-c30", "c30-jt400s", "--secure", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command", "--use")
    lab.s_client("tr-c30", "c30-ossl", 9476, "-tls1_2")
    lab.stop_captures()
    lab.stop_mock()
    lab.end(shim)
    for n in ("tr-c30", "tr-shim"):
        subprocess.run(["ip", "netns", "del", n])

"""formats.py - one small session, written in every capture format the analyzer must read.

In: the lab.  Out: formats.pcapng (dumpcap on eth0) and, captured at the same time, formats-sll.pcap
(tcpdump -i any: Linux cooked v1) and formats-sll2.pcap (-y LINUX_SLL2); converted from the pcapng:
formats.pcap (editcap -F pcap), formats-nsec.pcap (nanosecond timestamps), formats-snap96.pcapng
(snaplen 96), formats-vlan.pcap (802.1Q VID 100 inserted by tools/vlan_tag.py) and
formats-cut.pcapng (the file cut in the middle of its last packet).  All share one truth source.
The session: c21 jt400 AS400 via the mapper (signon, command) and c24 openssl TLS 1.2 to 9476.
"""
import os
import subprocess

from common import pw, mock_config

NAME = "formats"
DESCRIPTION = "format variants of one session: jt400 cleartext via the mapper + openssl TLS 1.2"
TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


def run(lab, cap):
    d = os.path.dirname(cap)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    lab.start_mock(mock_config())
    lab.start_capture(cap)
    lab.start_capture(p("formats-sll.pcap"), iface="any", tool="tcpdump", linktype="LINUX_SLL")
    lab.start_capture(p("formats-sll2.pcap"), iface="any", tool="tcpdump", linktype="LINUX_SLL2")
    lab.jt400("tr-c21", "c21-jt400", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command", "--use")
    lab.s_client("tr-c24", "c24-ossl", 9476, "-tls1_2")
    lab.stop_captures()
    lab.stop_mock()
    subprocess.run(["editcap", "-F", "pcap", cap, p("formats.pcap")], check=True)
    subprocess.run(["editcap", "-F", "nsecpcap", cap, p("formats-nsec.pcap")], check=True)
    subprocess.run(["editcap", "-s", "96", cap, p("formats-snap96.pcapng")], check=True)
    subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "vlan_tag.py"), p("formats.pcap"), p("formats-vlan.pcap")],
                   check=True)
    data = open(cap, "rb").read()
    open(p("formats-cut.pcapng"), "wb").write(data[:len(data) - 40])  # inside the last block
    return [(p("formats-sll.pcap"), "Linux cooked capture v1 (tcpdump -i any), same session"),
            (p("formats-sll2.pcap"), "Linux cooked capture v2 (tcpdump -i any -y LINUX_SLL2), same session"),
            (p("formats.pcap"), "classic pcap, microsecond timestamps"),
            (p("formats-nsec.pcap"), "classic pcap, nanosecond timestamps"),
            (p("formats-snap96.pcapng"), "snaplen 96: headers only, user profiles and TLS details are cut off"),
            (p("formats-vlan.pcap"), "every frame carries an 802.1Q tag, VLAN 100"),
            (p("formats-cut.pcapng"), "file ends in the middle of its last packet (the last block is cut)")]

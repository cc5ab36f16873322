#!/usr/bin/python3
"""vlan_tag.py - copy a classic pcap of Ethernet frames, inserting an 802.1Q tag into each frame.

Usage: vlan_tag.py IN.pcap OUT.pcap [VID]
In: a libpcap file (either byte order, micro- or nanosecond magic) with linktype 1 (Ethernet).
Out: the same packets, each with 81 00 + TCI (priority 0, VLAN VID, default 100) after the MAC
addresses; captured and original lengths grow by 4.
"""
import struct
import sys


def main(src, dst, vid=100):
    data = open(src, "rb").read()
    magic = data[:4]
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack_from(e + "I", data, 20)[0]
    if linktype != 1:
        raise SystemExit("vlan_tag: linktype %d is not Ethernet" % linktype)
    out = [data[:24]]
    off = 24
    tag = b"\x81\x00" + struct.pack(">H", vid & 0x0FFF)
    while off + 16 <= len(data):
        ts, tsf, incl, orig = struct.unpack_from(e + "IIII", data, off)
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) >= 14:
            pkt = pkt[:12] + tag + pkt[12:]
            incl, orig = incl + 4, orig + 4
        out.append(struct.pack(e + "IIII", ts, tsf, incl, orig) + pkt)
    open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100)

#!/usr/bin/python3
"""shim.py - a lossy, reordering, delaying wire between two interfaces (this kernel has no netem).

Usage: shim.py IF_A IF_B --seed N [--drop P] [--reorder P] [--delay-ms LO HI] [--log FILE]
Run inside its own namespace (tr-shim).  In: every frame arriving on IF_A or IF_B (AF_PACKET, frames
the interface itself sent are skipped).  Out: the frame on the other interface - except TCP segments
that carry payload (and no FIN), which are dropped with probability P, held back and sent after the next
frame with probability R, and delayed by a uniform LO..HI ms (in order: a frame never overtakes an earlier
one except by a deliberate hold, so the closing handshake stays clean).  SYNs, ARP and ND pass untouched so
connections still open.  Decisions come from random.Random(seed) in arrival order: deterministic for
the same packet sequence.  Stops on SIGTERM; logs one JSON line per decision that was not "pass".
"""
import argparse
import heapq
import json
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tcp_info(f):
    """(carries payload and no FIN, is SYN) for IPv4/IPv6 TCP frames, else None."""
    et = struct.unpack_from(">H", f, 12)[0]
    if et == 0x0800 and len(f) >= 34 and f[23] == 6:
        ihl = (f[14] & 15) * 4
        tot = struct.unpack_from(">H", f, 16)[0]
        t = 14 + ihl
        doff = (f[t + 12] >> 4) * 4
        flags = f[t + 13]
        return tot - ihl - doff > 0 and not flags & 1, bool(flags & 2)
    if et == 0x86DD and len(f) >= 74 and f[20] == 6:
        plen = struct.unpack_from(">H", f, 18)[0]
        t = 54
        doff = (f[t + 12] >> 4) * 4
        flags = f[t + 13]
        return plen - doff > 0 and not flags & 1, bool(flags & 2)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop", type=float, default=0.05)
    ap.add_argument("--reorder", type=float, default=0.05)
    ap.add_argument("--delay-ms", type=float, nargs=2, default=(1.0, 20.0))
    ap.add_argument("--log")
    o = ap.parse_args()
    rng = random.Random(o.seed)
    log = open(o.log, "a", buffering=1) if o.log else None
    socks = {}
    for name in (o.a, o.b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[name] = s
    other = {socks[o.a]: socks[o.b], socks[o.b]: socks[o.a]}
    names = {socks[o.a]: o.a, socks[o.b]: o.b}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    queue, held, seq, n = [], {}, 0, 0
    last = {}  # per output: release time of the previous frame (FIFO)
    while True:
        timeout = max(0.0, queue[0][0] - time.time()) if queue else 1.0
        r, _, _ = select.select(list(other), [], [], timeout)
        for s in r:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            n += 1
            out = other[s]
            info = tcp_info(frame)
            action = "pass"
            if info and info[0] and not info[1]:
                x = rng.random()
                if x < o.drop:
                    action = "drop"
                elif x < o.drop + o.reorder and out not in held:
                    action = "hold"
            delay = rng.uniform(*o.delay_ms) / 1000.0 if info and not info[1] else 0.0
            if action == "drop":
                pass
            elif action == "hold":
                held[out] = frame
            else:
                seq += 1
                at = max(time.time() + delay, last.get(out, 0.0))
                last[out] = at
                heapq.heappush(queue, (at, seq, out, frame))
                if out in held:  # the held frame goes right after this one: reordered
                    seq += 1
                    last[out] = at + 0.001
                    heapq.heappush(queue, (at + 0.001, seq, out, held.pop(out)))
            if action != "pass" and log:
                log.write(json.dumps({"n": n, "from": names[s], "action": action, "len": len(frame)}) + "\n")
        now = time.time()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            out.send(frame)
        for out, frame in list(held.items()):  # never hold a frame for long (retransmits would overtake)
            if not r:
                seq += 1
                last[out] = max(time.time(), last.get(out, 0.0))
                heapq.heappush(queue, (last[out], seq, out, held.pop(out)))


if __name__ == "__main__":
    main()

"""test_includes.py - no include circle among the modules of analyzer/ and
dissectors/, and capture does not reach workers.

A module is a .c and its .h (capture.c + capture.h is "capture"); module A
uses module B when a file of A has `#include "B.h"` and B.h is one of ours
(analyzer/ or dissectors/, the -I directories of the Makefile).  The graph
must have no cycle (each one found is printed, shortest first), and nothing
capture uses, directly or through others, may include workers.h: capture
hands packets to a sink and knows nothing of threads.  Two self-checks keep
the test honest: the parser must find an edge known to exist (main uses
capture), and the cycle search must find a cycle planted in a copy of the
graph.  Needs no build; TLSREADY is ignored.
"""
import glob
import os
import re

from tap import ok, done, TOP

DIRS = [os.path.join(TOP, "analyzer"), os.path.join(TOP, "dissectors")]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module(path):
    return os.path.splitext(os.path.basename(path))[0]


def graph():
    files = [f for d in DIRS for f in glob.glob(os.path.join(d, "*.[ch]"))]
    ours = {os.path.basename(f) for f in files if f.endswith(".h")}
    g = {module(f): set() for f in files}
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for inc in INCLUDE.findall(fh.read()):
                name = os.path.basename(inc)
                if name in ours and module(name) != module(f):
                    g[module(f)].add(module(name))
    return g


def cycles(g):
    """For each module, the shortest cycle through it (a breadth-first search
    back to it), each cycle once whatever module it was found from."""
    found = set()
    for start in sorted(g):
        prev, queue = {start: None}, [start]
        hit = None
        while queue and hit is None:
            nxt = []
            for n in queue:
                for m in sorted(g.get(n, ())):
                    if m == start:
                        hit = n
                        break
                    if m not in prev:
                        prev[m] = n
                        nxt.append(m)
                if hit is not None:
                    break
            queue = nxt
        if hit is not None:
            path = [hit]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])
            path.reverse()
            i = path.index(min(path))   # one rotation per cycle
            found.add(tuple(path[i:] + path[:i]))
    return sorted(found, key=lambda c: (len(c), c))


def reachable(g, start):
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        for m in g.get(n, ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


g = graph()
edges = sum(len(v) for v in g.values())
ok("capture" in g.get("main", ()) and "engine" in g.get("capture", ()),
   f"the include parser sees the known edges main -> capture and capture -> engine ({len(g)} modules, {edges} edges)",
   f"main uses {sorted(g.get('main', ()))}; capture uses {sorted(g.get('capture', ()))}")
planted = {k: set(v) for k, v in g.items()}
planted.setdefault("engine", set()).add("capture")
ok(any("capture" in c and "engine" in c for c in cycles(planted)),
   "the cycle search finds a cycle planted in a copy of the graph (engine -> capture -> engine)")
found = cycles(g)
ok(not found, "no include cycle among the modules of analyzer/ and dissectors/",
   "\n".join(" -> ".join(c + (c[0],)) for c in found))
reach = reachable(g, "capture")
ok("workers" not in reach, "capture does not include workers.h, directly or through another header",
   f"capture reaches: {sorted(reach)}")
done()

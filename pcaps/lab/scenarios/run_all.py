#!/usr/bin/python3
"""run_all.py - run the lab's scenarios in order and write captures + truth into pcaps/.

Usage (inside run.sh, as root, topology up): run_all.py [SCENARIO...]
In: the scenario modules listed in ORDER (each has NAME, DESCRIPTION, run(lab, capture_path) and
optionally derived(lab, capture_path) -> [(extra capture, truth note)], and truth(lab, capture_path,
out) when its truth comes from its own servers' logs rather than the mock's).  Out: pcaps/NAME.pcapng,
pcaps/NAME.truth.json (truth/make_truth.py), and pcaps/secrets.json.
"""
import importlib
import json
import os
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.dirname(HERE)
PCAPS = os.path.dirname(LAB)
sys.path[:0] = [HERE, LAB]
import common  # noqa: E402
import lab as labmod  # noqa: E402

ORDER = ["legacy", "modern", "mixed", "failures", "telnet", "midstream", "longchain", "impaired",
         "ipv6", "loopback", "formats", "demo", "cutover", "dropped", "doors", "doors2"]


def truth(work, capture, out, note=None):
    argv = ["/usr/bin/python3", os.path.join(LAB, "truth", "make_truth.py"), work, capture, out]
    if note:
        argv += ["--note", note]
    subprocess.run(argv, check=True)


def main(names):
    names = names or ORDER
    failed = []
    for n in names:
        mod = importlib.import_module(n)
        lab = labmod.Lab(mod.NAME, mod.DESCRIPTION)
        cap = os.path.join(PCAPS, mod.NAME + ".pcapng")
        lab.say("start")
        try:
            extra = mod.run(lab, cap) or []
            if hasattr(mod, "truth"):   # a scenario with real servers reads their own logs (doors.py)
                mod.truth(lab, cap, os.path.join(PCAPS, mod.NAME + ".truth.json"))
            else:
                truth(lab.work, os.path.basename(cap), os.path.join(PCAPS, mod.NAME + ".truth.json"))
            for path, note in extra:
                base = os.path.basename(path)
                truth(lab.work, base, os.path.join(PCAPS, base.rsplit(".", 1)[0] + ".truth.json"), note)
            lab.say("done")
        except Exception:
            traceback.print_exc()
            failed.append(n)
        finally:
            lab.cleanup()
    secrets = {"note": "lab passwords typed by the lab's clients; no report may ever contain any of them",
               "passwords": sorted({p["password"] for p in common.PROFILES.values()} | {common.WRONG} |
                                   set(common.DOORS_PW.values()))}
    with open(os.path.join(PCAPS, "secrets.json"), "w") as f:
        json.dump(secrets, f, indent=1)
        f.write("\n")
    if failed:
        print("FAILED scenarios:", " ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])

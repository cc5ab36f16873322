"""tap.py - the tiny TAP writer every integration test uses.

Each check prints "ok N - name" or "not ok N - name" (with a readable
reason), or "ok N - name # SKIP why"; tests/run.sh counts these lines.
"""
import os
import subprocess
import sys

_n = 0
failed = 0

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.normpath(os.path.join(TOP, "..", "shared"))
CORPUS = os.path.join(SHARED, "corpus")
PCAPS = os.path.join(TOP, "pcaps")
TLSREADY = os.environ.get("TLSREADY", os.path.join(TOP, "tlsready"))


def ok(cond, name, why=""):
    global _n, failed
    _n += 1
    if cond:
        print(f"ok {_n} - {name}")
    else:
        failed += 1
        print(f"not ok {_n} - {name}")
        for line in str(why).splitlines()[:40]:
            print(f"#   {line}")
    sys.stdout.flush()
    return cond


def without_keys(x, keys):
    """A JSON value with every object's members named in keys left out, at any depth."""
    if isinstance(x, dict):
        return {k: without_keys(v, keys) for k, v in x.items() if k not in keys}
    if isinstance(x, list):
        return [without_keys(v, keys) for v in x]
    return x


def skip(name, why):
    global _n
    _n += 1
    print(f"ok {_n} - {name} # SKIP {why}")


def run(args, stdin=None, timeout=300):
    """Run tlsready; return (exit code, stdout bytes, stderr text)."""
    p = subprocess.run([TLSREADY] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def sanitizer_report(stderr):
    return "AddressSanitizer" in stderr or "runtime error:" in stderr or "LeakSanitizer" in stderr


def text_counter(text, name):
    """A counter of the text report's Counters section: its value on its own line, 0 when it is
    listed "at 0", None when the report does not name it."""
    import re
    sec = text.split("\nCounters\n", 1)[-1]
    m = re.search(r"^  " + re.escape(name) + r" +(\d+)  ", sec, re.M)
    if m:
        return int(m.group(1))
    zero = sec.split("  at 0:", 1)
    if len(zero) == 2 and re.search(r"(?:^|[ ,])" + re.escape(name) + r"(?:,|$)",
                                    zero[1].split("\n\n", 1)[0], re.M):
        return 0
    return None


def done():
    print(f"1..{_n}")
    sys.exit(1 if failed else 0)


def tshark_run(cmd, text=False, timeout=300, **_ignored):
    """Run tshark (cmd[0]) and return a CompletedProcess with its stdout (str when text), stderr dropped.

    tshark's answer depends only on its arguments and the files they name, not on which tlsready build
    is under test, so tests/run.sh lets the sanitizer pass reuse the plain pass's answers: when
    TLSREADY_TSHARK_CACHE names a directory, each answer is kept there under a digest of the command
    line and the size, time and inode of every file it names."""
    import hashlib
    import json as _json
    cache = os.environ.get("TLSREADY_TSHARK_CACHE")
    path = None
    if cache and os.path.isdir(cache) and "-w" not in cmd:
        h = hashlib.sha256(_json.dumps(cmd).encode())
        for a in cmd:
            if os.path.isfile(a):
                st = os.stat(a)
                h.update(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode())
        path = os.path.join(cache, h.hexdigest())
        if os.path.exists(path):
            with open(path, "rb") as f:
                rc, out = int(f.readline()), f.read()
            return subprocess.CompletedProcess(cmd, rc, out.decode("utf-8", "replace") if text else out, "")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout)
    if path and p.returncode == 0:
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(f"{p.returncode}\n".encode() + p.stdout)
        os.replace(tmp, path)
    return subprocess.CompletedProcess(cmd, p.returncode, p.stdout.decode("utf-8", "replace") if text else p.stdout, "")

"""cdp.py - one question to a page in headless chromium, over the DevTools protocol on a pipe (no
library, no network port): chromium reads commands on fd 3 and writes replies on fd 4, each a JSON
message ended by NUL.  Used by test_html.py (sorting by a click) and tests/bench (the load time of a
large report).

evaluate(chromium, path, expression, wait_s, reload): open file://path, wait until it is loaded (at
most wait_s seconds; with reload, load it once more in the running browser, so that the page's own
timing leaves out the browser's start), evaluate the expression (a promise is awaited) and return
its value (None when chromium did not answer).  Chromium is killed by its PID before returning.
"""
import json
import os
import subprocess
import time


def evaluate(chromium, path, expression, wait_s=10, reload=False):
    r3, w3 = os.pipe()
    r4, w4 = os.pipe()

    def fds():
        os.dup2(r3, 3)
        os.dup2(w4, 4)
    proc = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--remote-debugging-pipe", "file://" + path], preexec_fn=fds, pass_fds=(3, 4),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(r3)
    os.close(w4)
    buf = b""

    def call(msg):
        nonlocal buf
        os.write(w3, json.dumps(msg).encode() + b"\0")
        for _ in range(2000):
            while b"\0" not in buf:
                chunk = os.read(r4, 65536)
                if not chunk:
                    return None
                buf += chunk
            line, buf = buf.split(b"\0", 1)
            reply = json.loads(line)
            if reply.get("id") == msg["id"]:
                return reply
        return None
    try:
        targets = call({"id": 1, "method": "Target.getTargets"})
        page = next(t["targetId"] for t in targets["result"]["targetInfos"] if t["type"] == "page")
        sid = call({"id": 2, "method": "Target.attachToTarget", "params": {"targetId": page, "flatten": True}})[
            "result"]["sessionId"]
        ids = iter(range(3, 1000000))

        def wait(ready):
            for _ in range(int(wait_s * 10)):
                res = call({"id": next(ids), "sessionId": sid, "method": "Runtime.evaluate",
                            "params": {"expression": ready, "returnByValue": True}})
                if res and res["result"]["result"].get("value"):
                    return
                time.sleep(0.1)
        loaded = "location.protocol === 'file:' && document.readyState === 'complete'"
        wait(loaded)   # the page starts as about:blank, then loads the file
        if reload:
            call({"id": next(ids), "sessionId": sid, "method": "Page.reload", "params": {}})
            wait(loaded + " && performance.getEntriesByType('navigation')[0].type === 'reload'")
        res = call({"id": 1000000, "sessionId": sid, "method": "Runtime.evaluate",
                    "params": {"expression": expression, "awaitPromise": True, "returnByValue": True}})
        return res["result"]["result"].get("value") if res else None
    finally:
        proc.kill()
        proc.wait()
        os.close(w3)
        os.close(r4)

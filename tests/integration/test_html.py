#!/usr/bin/env python3
"""The HTML report (issue 14): one self-contained file, read in a real browser (Debian's chromium,
headless).

Truth: the HTML standard's parser (Python's html.parser) for the document's structure; the SHA-256
of the inline style and script computed here for the Content-Security-Policy; the browser's own DOM
after the script ran and its console for CSP violations and network requests; the JSON report of
the same capture for the facts shown; hand-built bytes for hostile names.
"""
import atexit
import base64
import calendar
import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import cdp
from pcapgen import Pcap
from tap import ok, skip, run, done, PCAPS

tmp = tempfile.mkdtemp(prefix="tlsready-html-")
atexit.register(shutil.rmtree, tmp, True)   # removed at exit, whatever happens
demo = os.path.join(PCAPS, "demo.pcapng")


class Doc(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.scripts, self.styles, self.text, self._in = [], [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def parse(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    d = Doc()
    d.feed(raw)
    return raw, d


def sha(s):
    return base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()


out = os.path.join(tmp, "demo.html")
rc, _, err = run(["-q", "-r", demo, "--format", "html", "-o", out])
raw, d = parse(out)
ok(rc == 0 and raw.startswith("<!DOCTYPE html>") and d.tags.count("script") == 1 and d.tags.count("style") == 1,
   "--format html -o: one document, one inline style, one inline script", err)
csp = next((a.get("content", "") for t, a in d.attrs if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"), "")
ok("default-src 'none'" in csp and f"'sha256-{sha(d.styles[0])}'" in csp and f"'sha256-{sha(d.scripts[0])}'" in csp,
   "the CSP allows nothing but the document's own style and script (their SHA-256)", csp)
links = [(t, k, v) for t, a in d.attrs for k, v in a.items() if k in ("src", "href", "action", "srcset")]
ok(not links and not re.search(r"https?://|url\(", raw), "nothing is fetched: no src, href or url()", links[:5])
doc = json.loads(run(["-q", "-r", demo, "--format", "json"])[1])
text = " ".join(d.text)
blocking = [c["ip"] for c in doc["plan"]["blocking_clients"]]
ok(all(ip in text for ip in blocking) and all(c["ip"] in text for c in doc["clients"]) and
   f"Blocked by {len(blocking)} clients" in text, "the verdict, every client and every blocking client are shown",
   blocking)
ok("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR)" in raw and "CHGTELNA ALWSSL(*ONLY)" in raw,
   "the plan's commands are in the page, to copy")

# hostile names from the wire: escaped for HTML
gen = os.path.join(tmp, "hostile.pcap")
w = Pcap(gen)
EVIL = b"<I>X</I>"   # a user profile: the dissector keeps 10 characters, upper case
c = w.conn("198.51.100.90", 47001, "198.51.100.1", 23)
c.handshake()
c.send(b"\xff\xfd\x27\xff\xfd\x18", from_client=False)
c.send(b"\xff\xfb\x27\xff\xfb\x18\xff\xfa\x27\x00\x00USER\x01" + EVIL + b"\x03DEVNAME\x01'\"&</td>\xff\xf0")
c.close()
w.close()
hout = os.path.join(tmp, "hostile.html")
rc, _, err = run(["-q", "-r", gen, "--format", "html", "-o", hout])
raw_h, dh = parse(hout)
ok(rc == 0 and "<I>" not in raw_h and "&lt;I&gt;X&lt;/I&gt;" in raw_h and
   not any(t == "i" for t in dh.tags) and "&#39;&quot;&amp;&lt;/td&gt;" in raw_h,
   "a user and a device name full of markup are shown as text, never as markup", err)

# many clients: the page lists 2000 per section and says how many more
many = os.path.join(tmp, "many.pcap")
w = Pcap(many)
for i in range(2100):
    c = w.conn(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 40000, "198.51.100.10", 8476)
    c.handshake()
    c.send(b"\x00\x00\x00\x14\x00\x00\xe0\x09" + b"\x00" * 12)
    c.close()
w.close()
mout = os.path.join(tmp, "many.html")
rc, _, err = run(["-q", "-r", many, "--format", "html", "-o", mout])
raw_m = open(mout, encoding="utf-8").read()
ok(rc == 0 and raw_m.count("<details>") == 2000 and "and 100 more clients: the JSON and CSV reports" in raw_m,
   "2100 nonsecure clients: 2000 listed, then \"and 100 more\"", (raw_m.count("<details>"), err))

# one client of many servers: its table lists 100 uses, the nonsecure ones first, then how many more
wide = os.path.join(tmp, "wide.pcap")
w = Pcap(wide)
for i in range(130):   # 60 nonsecure as-signon servers, 70 secure ones
    c = w.conn("198.51.100.200", 41000 + i, f"203.0.113.{i + 1}", 8476 if i < 60 else 9476)
    c.handshake()
    c.send(b"\x00\x00\x00\x14\x00\x00\xe0\x09" + b"\x00" * 12)
    c.close()
w.close()
wout = os.path.join(tmp, "wide.html")
rc, _, err = run(["-q", "-r", wide, "--format", "html", "-o", wout])
box = open(wout, encoding="utf-8").read().split("<summary>198.51.100.200", 1)[-1].split("</details>", 1)[0]
rows = re.findall(r"<tr><td>203\.0\.113\.\d+</td><td>[^<]*</td><td class=\"n\">\d+</td><td>(\w+)</td>", box)
ok(rc == 0 and len(rows) == 100 and rows.count("nonsecure") == 60 and rows[:60] == ["nonsecure"] * 60 and
   "and 30 more servers and ports this client used" in box,
   "a client of 130 servers: its table lists 100 (the 60 nonsecure first), then \"and 30 more\"",
   (len(rows), rows.count("nonsecure"), err))

# the report of a state
db = os.path.join(tmp, "state.db")
run(["-q", "--db", db, "-r", demo])
sout = os.path.join(tmp, "state.html")
rc, _, err = run(["-q", "--db", db, "--format", "html", "-o", sout])
raw_s, ds = parse(sout)
ok(rc == 0 and "state.db" in raw_s and all(ip in " ".join(ds.text) for ip in blocking),
   "--db STATE --format html: the same clients from the stored state", err)

# ---- the chart of days, from a state of several days and from the captures themselves ----
def day_bars(raw):
    """The chart of days as drawn: [(date, nonsecure, secure)] from its SVG text."""
    fig = raw.split("Connections per day (UTC)", 1)[-1].split("</svg>", 1)[0]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", fig)
    return [(texts[i], *map(int, texts[i + 1].split(" / "))) for i in range(len(texts) - 1)
            if re.fullmatch(r"\d{4}-\d\d-\d\d", texts[i])]


if shutil.which("editcap"):
    first = doc["capture"]["first_packet"]
    t0 = calendar.timegm(time.strptime(first[:19], "%Y-%m-%dT%H:%M:%S"))
    # day 0, day 1, nothing on day 2, then the capture straddling the midnight that ends day 3 (its
    # first connections on day 3, the rest on day 4)
    mid = (t0 // 86400 + 4) * 86400 - t0 - 5
    shifts = [0, 86400, mid]
    days_files, truth = [], {}
    for i, sh in enumerate(shifts):
        f = os.path.join(tmp, f"day{i}.pcapng")
        subprocess.run(["editcap", "-t", str(sh), demo, f], check=True, capture_output=True, timeout=60)
        days_files.append(f)
        # truth: the one-shot JSON of each shifted file, its flows by the UTC day they started
        for fl in json.loads(run(["-q", "-r", f, "--format", "json"])[1])["flows"]:
            if fl["port_class"] in ("nonsecure", "secure"):
                day = fl["start"][:10]
                n = truth.setdefault(day, [0, 0])
                n[fl["port_class"] == "secure"] += 1
    gap = time.strftime("%Y-%m-%d", time.gmtime((t0 // 86400 + 2) * 86400))
    truth[gap] = [0, 0]
    want = sorted((d, n[0], n[1]) for d, n in truth.items())
    mdb = os.path.join(tmp, "days.db")
    rc1, _, e1 = run(["-q", "--db", mdb] + sum((["-r", f] for f in days_files), []))
    mout = os.path.join(tmp, "days-state.html")
    rc2, _, e2 = run(["-q", "--db", mdb, "--format", "html", "-o", mout])
    got_state = day_bars(open(mout, encoding="utf-8").read()) if rc2 == 0 else []
    ok(rc1 == 0 and rc2 == 0 and got_state == want and len(want) == 5,
       f"--db STATE --format html: the chart of days from the state's per-day rows ({len(want)} days, an empty"
       " one between, one capture across midnight) equals the one-shot JSON's flows counted by day",
       f"{e1}{e2}\nstate {got_state}\nwant  {want}")
    oout = os.path.join(tmp, "days-oneshot.html")
    rc3, _, e3 = run(["-q", "--format", "html", "-o", oout] + sum((["-r", f] for f in days_files), []))
    ok(rc3 == 0 and day_bars(open(oout, encoding="utf-8").read()) == want,
       "the one-shot report of the same files draws the same days", e3)
    wout = os.path.join(tmp, "days-window.html")
    rc4, _, e4 = run(["-q", "--db", mdb, "--since", want[1][0], "--until", want[3][0], "--format", "html", "-o", wout])
    ok(rc4 == 0 and day_bars(open(wout, encoding="utf-8").read()) == want[1:3],
       "--since/--until: only the window's days", e4)
else:
    skip("chart of days from a state", "editcap is not installed")

# ---- a real browser ----
chromium = shutil.which("chromium")
if not chromium:
    skip("browser", "chromium is not installed (make test installs it)")
else:
    def browse(args, path):
        p = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"] + args +
                           ["file://" + path], capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    rc, dom, log = browse(["--dump-dom"], out)
    ok(rc == 0 and 'data-script="ran"' in dom and "Blocked by" in dom,
       "chromium runs the page's script under its CSP (the body is marked) and shows the verdict", log[-800:])
    ok("Content Security Policy" not in log and "Refused to" not in log,
       "chromium reports no CSP violation", [l for l in log.splitlines() if "Security" in l or "Refused" in l][:3])
    rc, dom_h, log_h = browse(["--dump-dom"], hout)
    body = dom_h.split("<body", 1)[-1]
    ok(rc == 0 and "&lt;I&gt;X&lt;/I&gt;" in body and "<i>" not in body.lower(),
       "in the browser too, the hostile name is text: no element made of it", log_h[-400:])
    def devtools(path, expression):
        return cdp.evaluate(chromium, path, expression)

    SORT = """new Promise(function(done){function go(){
      var t=document.getElementById('blocking'), col=function(){return Array.prototype.map.call(t.tBodies[0].rows,
        function(r){return r.cells[3].textContent;});};
      var before=col(); t.tHead.rows[0].cells[3].click(); var asc=col(); t.tHead.rows[0].cells[3].click(); var desc=col();
      done({before:before, asc:asc, desc:desc, resources:performance.getEntriesByType('resource').length,
            script:document.body.dataset.script});}
      if (document.readyState==='complete') go(); else addEventListener('load', go);})"""
    v = devtools(out, SORT) or {}
    fold = str.casefold   # localeCompare's order for these ASCII strings
    ok(v.get("script") == "ran" and v.get("asc") == sorted(v.get("before", []), key=fold) and
       v.get("desc") == sorted(v.get("before", []), key=fold, reverse=True) and v.get("asc") != v.get("before"),
       "clicking a column header sorts the rows (ascending, then descending)", v)
    ok(v.get("resources") == 0, "the page made no network request (no resource entry)", v.get("resources"))

    # the CSP blocks inline script that is not the report's own: a copy with one more script
    foreign = os.path.join(tmp, "foreign.html")
    with open(foreign, "w", encoding="utf-8") as f:
        f.write(raw.replace("</body>", "<script>document.body.dataset.foreign='ran'</script></body>"))
    rc, dom_f, log_f = browse(["--dump-dom"], foreign)
    ok(rc == 0 and 'data-script="ran"' in dom_f and 'data-foreign' not in dom_f and "violates the following Content Security Policy" in log_f,
       "a script the report did not write is refused by its CSP (and logged), the report's own still runs",
       log_f[-600:])
    pdf = os.path.join(tmp, "demo.pdf")
    rc, _, log = browse(["--print-to-pdf=" + pdf, "--no-pdf-header-footer"], out)
    pages = len(re.findall(rb"/Type\s*/Page\b", open(pdf, "rb").read())) if os.path.exists(pdf) else 0
    ok(rc == 0 and pages >= 5, f"printing makes a PDF with a page per section ({pages} pages)", log[-400:])
    # `make screenshot` keeps this one for the README (docs/demo-report.png)
    png = os.environ.get("HTML_SCREENSHOT") or os.path.join(tmp, "demo.png")
    rc, _, log = browse(["--screenshot=" + png, "--window-size=1280,1600"], out)
    ok(rc == 0 and os.path.getsize(png) > 20000, "chromium renders the page (screenshot)", log[-300:])

done()

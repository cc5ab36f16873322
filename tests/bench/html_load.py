#!/usr/bin/env python3
"""html_load.py REPORT.html [RUNS] - how a browser takes a large HTML report (make bench-html).

Opens the file in Debian's headless chromium RUNS times (default 3; the DevTools protocol over a
pipe, tests/integration/cdp.py), each time loading it once more in the running browser (a reload:
the browser's own start-up left out), and prints one JSON object: the browser's own Navigation
Timing of that load (DOMContentLoaded and load event end, ms from the start of the navigation; the
median and every run), the elements in the DOM, the rows of the largest table, and what the report's script takes to
sort that table by its first column and to filter it (performance.now() around a click and an input
event).  Not a test: numbers for tests/bench/run.sh html.
"""
import json
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import cdp  # noqa: E402

PROBE = """new Promise(function(done){function go(){
  var n=performance.getEntriesByType('navigation')[0], big=null;
  document.querySelectorAll('table.sortable').forEach(function(t){
    if(!big||t.tBodies[0].rows.length>big.tBodies[0].rows.length)big=t;});
  var t0=performance.now(); if(big)big.tHead.rows[0].cells[0].click(); var sort=performance.now()-t0;
  var f=big?document.querySelector('input.filter[data-table="'+big.id+'"]'):null, t1=performance.now();
  if(f){f.value='1';f.dispatchEvent(new Event('input'));} var filter=performance.now()-t1;
  done({dcl_ms:n.domContentLoadedEventEnd, load_ms:n.loadEventEnd, elements:document.getElementsByTagName('*').length,
        table:big?big.id:null, rows:big?big.tBodies[0].rows.length:0, sort_ms:sort, filter_ms:filter,
        script:document.body.dataset.script||null});}
  function later(){setTimeout(go,0);}
  if(document.readyState==='complete')later();else addEventListener('load',later);})"""


def main():
    path = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    chromium = shutil.which("chromium")
    if not chromium:
        print(json.dumps({"error": "chromium is not installed (Debian package chromium)"}))
        return 1
    got = [cdp.evaluate(chromium, path, PROBE, wait_s=120, reload=True) for _ in range(runs)]
    good = [g for g in got if g and g.get("load_ms")]
    if not good:
        print(json.dumps({"error": "chromium did not load the page", "runs": got}))
        return 1
    out = {k: statistics.median(g[k] for g in good) for k in ("dcl_ms", "load_ms", "sort_ms", "filter_ms")}
    out.update({k: good[0][k] for k in ("elements", "table", "rows", "script")})
    out["runs"] = [{k: round(g[k], 1) for k in ("dcl_ms", "load_ms", "sort_ms", "filter_ms")} for g in good]
    out["bytes"] = os.path.getsize(path)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""test_clsyntax.py - the CL syntax table and its checker (clsyntax.py).

docs/ibmi-commands.tsv holds the IBM i CL syntax the cutover plan may print, each row
citing the IBM page it comes from (docs/ibmi-cutover.md says what each rests on).
This test checks the table is well formed, that commands as IBM documents them pass,
that wrong ones (unknown command or parameter, a bad value, a missing required
parameter, a misplaced positional value, broken quoting) fail with the right kind of
problem, and that every line of the `cl` blocks in docs/ibmi-cutover.md passes, so
the document and the table cannot drift apart.  Nothing here runs on an IBM i.
"""
import os
import re

from tap import ok, done, TOP
import clsyntax

TSV = os.path.join(TOP, "docs", "ibmi-commands.tsv")
DOC = os.path.join(TOP, "docs", "ibmi-cutover.md")

# The table itself: five tab-separated columns, a cited http(s) source on every row.
rows = []
with open(TSV, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
ok(rows and rows[0] == ["command", "parameter", "allowed", "source", "notes"],
   "ibmi-commands.tsv starts with its column names", rows[:1])
bad_rows = [r for r in rows[1:] if len(r) != 5 or not re.match(r"^https?://\S+$", r[3])]
ok(not bad_rows, "every row has five columns and a source URL", bad_rows)
try:
    table = clsyntax.load(TSV)
    ok(True, "the table loads (every pattern and note is known)")
except ValueError as e:
    table = {}
    ok(False, "the table loads (every pattern and note is known)", e)
ok(set(table) == {"ADDTCPPORT", "RMVTCPPORT", "CHGTELNA", "CHGFTPA", "CHGPOPA", "ENDTCPSVR", "STRTCPSVR", "ENDHOSTSVR",
                  "STRHOSTSVR", "CHGSYSVAL", "DSPSYSVAL", "NETSTAT", "WRKTCPSTS"},
   "the table covers the plan's commands and no others", sorted(table))

GOOD = [
    "ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR)",
    "ADDTCPPORT PORT(8471) PROTOCOL(*TCP) USRPRF(QSECOFR)",
    "ADDTCPPORT PORT(8471 *ONLY) PROTOCOL(*TCP) USRPRF(QSECOFR)",
    "ADDTCPPORT PORT(8470 8470) PROTOCOL(*TCP) USRPRF(QSECOFR)",
    "ADDTCPPORT (8470 8479) *TCP QSECOFR",
    "ADDTCPPORT (8470 8479) *TCP USRPRF(QSECOFR)",
    "  ADDTCPPORT   PORT(8470  8479)  PROTOCOL(*TCP)  USRPRF(QSECOFR)  ",
    "addtcpport port(8470 8479) protocol(*tcp) usrprf(qsecofr)",
    "RMVTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR)",
    "RMVTCPPORT PORT(*ALL) PROTOCOL(*TCP) USRPRF(QSECOFR)",
    "RMVTCPPORT (8471) *TCP QSECOFR",
    "CHGTELNA ALWSSL(*ONLY)",
    "CHGTELNA ALWSSL(*YES)",
    "CHGTELNA *SAME ALWSSL(*ONLY)",
    "ENDTCPSVR SERVER(*TELNET)",
    "CHGFTPA ALWSSL(*ONLY)",
    "CHGFTPA ALWSSL(*YES)",
    "CHGPOPA ALWSSL(*ONLY)",
    "ENDTCPSVR SERVER(*POP)",
    "STRTCPSVR *POP",
    "ENDTCPSVR *TELNET",
    "STRTCPSVR SERVER(*TELNET)",
    "STRTCPSVR *TELNET",
    "ENDHOSTSVR SERVER(*ALL)",
    "ENDHOSTSVR *ALL",
    "ENDHOSTSVR SERVER(*DATABASE *FILE) ENDACTCNN(*DATABASE *FILE)",
    "ENDHOSTSVR SERVER(*ALL) ENDACTCNN(*NONE)",
    "STRHOSTSVR SERVER(*ALL)",
    "QSYS/STRHOSTSVR SERVER(*ALL)",
    "STRHOSTSVR (*CENTRAL *SIGNON)",
    "CHGSYSVAL SYSVAL(QSSLPCL) VALUE('*TLSV1.3 *TLSV1.2')",
    "CHGSYSVAL SYSVAL(QSSLPCL) VALUE(*OPSYS)",
    "CHGSYSVAL SYSVAL(QSSLPCL) VALUE(*TLSV1.2)",
    "CHGSYSVAL SYSVAL(QSSLPCL) VALUE('*TLSV1.2')",
    "CHGSYSVAL QSSLPCL '*TLSV1.3 *TLSV1.2'",
    "CHGSYSVAL SYSVAL(QSSLCSLCTL) VALUE(*USRDFN)",
    "CHGSYSVAL SYSVAL(QSSLCSL) VALUE('*AES_128_GCM_SHA256 *ECDHE_RSA_AES_256_GCM_SHA384 *RSA_AES_128_CBC_SHA')",
    "DSPSYSVAL SYSVAL(QSSLPCL)",
    "DSPSYSVAL QSSLCSL",
    "NETSTAT *CNN",
    "NETSTAT OPTION(*CNN6)",
    "NETSTAT",
    "WRKTCPSTS OPTION(*CNN)",
]
for line in GOOD:
    problems = clsyntax.check(line)
    ok(problems == [], f"passes: {line.strip()}", "\n".join(problems))

# (line, the kind of problem it must report)
BAD = [
    ("", "syntax"),
    ("ADDTCPPORT PORT(8470 8479 PROTOCOL(*TCP) USRPRF(QSECOFR)", "syntax"),
    ("CHGSYSVAL SYSVAL(QSSLPCL) VALUE('*TLSV1.3 *TLSV1.2)", "syntax"),
    ("ENDTCPSVR *TELNET;", "syntax"),
    ("CL: ENDTCPSVR *TELNET;", "syntax"),
    ("WRKTCPPORT", "unknown command"),
    ("DSPTELNA", "unknown command"),
    ("ENDTCPCNN", "unknown command"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR) TEXT('x')", "unknown parameter"),
    ("CHGTELNA SSL(*ONLY)", "unknown parameter"),
    ("ENDHOSTSVR SERVER(*ALL) OPTION(*IMMED)", "unknown parameter"),
    ("CHGTELNA ALWSSL(*ONLY) ALWSSL(*YES)", "duplicate parameter"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP)", "missing required parameter"),
    ("ADDTCPPORT PORT(8470 8479) USRPRF(QSECOFR)", "missing required parameter"),
    ("RMVTCPPORT PORT(8470) USRPRF(QSECOFR)", "missing required parameter"),
    ("ADDTCPPORT PROTOCOL(*TCP) USRPRF(QSECOFR)", "missing required parameter"),
    ("ENDHOSTSVR", "missing required parameter"),
    ("ENDHOSTSVR ENDACTCNN(*FILE)", "missing required parameter"),
    ("STRHOSTSVR", "missing required parameter"),
    ("CHGSYSVAL SYSVAL(QSSLPCL)", "missing required parameter"),
    ("CHGSYSVAL VALUE(*OPSYS)", "missing required parameter"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCPIP) USRPRF(QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(0 10) PROTOCOL(*TCP) USRPRF(QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(8470 65536) PROTOCOL(*TCP) USRPRF(QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(8470-8479) PROTOCOL(*TCP) USRPRF(QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(*ALL) PROTOCOL(*TCP) USRPRF(QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(8479 8470) PROTOCOL(*TCP) USRPRF(QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFRTOOLONG)", "bad value"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(1QSECOFR)", "bad value"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF('QSECOFR')", "bad value"),
    ("ADDTCPPORT PORT(8470 8479 8480) PROTOCOL(*TCP) USRPRF(QSECOFR)", "too many values"),
    ("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP *UDP) USRPRF(QSECOFR)", "too many values"),
    ("CHGTELNA ALWSSL(*ONLYY)", "bad value"),
    ("CHGTELNA ALWSSL(ONLY)", "bad value"),
    ("CHGTELNA ALWSSL()", "bad value"),
    ("ENDTCPSVR SERVER(*ALL)", "bad value"),
    ("STRTCPSVR SERVER(*ALL)", "bad value"),
    ("STRTCPSVR *HOSTSVR", "bad value"),
    ("ENDHOSTSVR SERVER(*ALL *FILE)", "bad value"),
    ("ENDHOSTSVR SERVER(*TELNET)", "bad value"),
    ("ENDHOSTSVR SERVER(*ALL) ENDACTCNN(*NONE *FILE)", "bad value"),
    ("ENDHOSTSVR SERVER(*ALL) ENDACTCNN(*SIGNON)", "bad value"),
    ("ENDHOSTSVR SERVER(*FILE *FILE)", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLPCL) VALUE('*TLSV1.3 *OPSYS')", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLPCL) VALUE('*TLSV1.4')", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLPCL) VALUE('*TLSV1.2 *TLSV1.2')", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLPCL) VALUE(*TLSV1.3 *TLSV1.2)", "too many values"),
    ("CHGSYSVAL SYSVAL(QSSLPCL) VALUE('')", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLCSL) VALUE(*OPSYS)", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLCSL) VALUE('*RSA_AES_128_CBC_SHA *TLS_AES_128_GCM_SHA256')", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLCSLCTL) VALUE(*TLSV1.2)", "bad value"),
    ("CHGSYSVAL SYSVAL(QSSLCSPCL) VALUE(*USRDFN)", "bad value"),
    ("DSPSYSVAL SYSVAL(QSECURITY)", "bad value"),
    ("NETSTAT *CONN", "bad value"),
    ("CHGTELNA ALWSSL *ONLY", "bad value"),
    ("CHGFTPA ALWSSL(*ALWAYS)", "bad value"),
    ("CHGPOPA SSL(*ONLY)", "unknown parameter"),
    ("ENDTCPSVR SERVER(*FTPS)", "bad value"),
    ("CHGTELNA *YES *ONLY", "positional"),
    ("ENDTCPSVR *TELNET *TELNET", "positional"),
    ("ADDTCPPORT PORT(8470 8479) *TCP QSECOFR", "positional"),
    ("ADDTCPPORT (8470 8479) *TCP QSECOFR *ALL", "positional"),
    ("BAD!LIB/ENDHOSTSVR SERVER(*ALL)", "syntax"),
]
for line, kind in BAD:
    problems = clsyntax.check(line)
    ok(any(p.startswith(kind + ":") for p in problems),
       f"fails ({kind}): {line!r}", "\n".join(problems) or "no problem reported")

# Every line of every ```cl block in docs/ibmi-cutover.md is in the table.
with open(DOC, encoding="utf-8") as f:
    doc = f.read()
blocks = re.findall(r"^```cl\n(.*?)^```", doc, re.S | re.M)
lines = [l for b in blocks for l in b.splitlines() if l.strip()]
ok(len(lines) >= 15, f"docs/ibmi-cutover.md has cl examples ({len(lines)} lines)")
for line in lines:
    problems = clsyntax.check(line)
    ok(problems == [], f"doc example passes: {line}", "\n".join(problems))

# Every command in the table is shown in the document, and every source URL of the table is cited there.
for cmd in sorted(table):
    ok(re.search(r"\b" + cmd + r"\b", doc) is not None, f"docs/ibmi-cutover.md covers {cmd}")
for url in sorted({r[3] for r in rows[1:]}):
    ok(url in doc, f"docs/ibmi-cutover.md cites {url}")

done()

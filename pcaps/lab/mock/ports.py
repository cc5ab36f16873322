"""ports.py - the IBM i port catalogue shared by the mock and the truth builder.

In: nothing.  Out: port -> (service, port_class) and the port mapper's name -> port table, with
the names and classes of report-json.md (8473 is "as-netdrive" even though JT names it as-file).
"""

# port: (service, port_class)
PORTS = {
    449: ("as-svrmap", "mapper"),
    8470: ("as-central", "nonsecure"), 9470: ("as-central", "secure"),
    8471: ("as-database", "nonsecure"), 9471: ("as-database", "secure"),
    8472: ("as-dtaq", "nonsecure"), 9472: ("as-dtaq", "secure"),
    8473: ("as-netdrive", "nonsecure"), 9473: ("as-netdrive", "secure"),
    8474: ("as-netprt", "nonsecure"), 9474: ("as-netprt", "secure"),
    8475: ("as-rmtcmd", "nonsecure"), 9475: ("as-rmtcmd", "secure"),
    8476: ("as-signon", "nonsecure"), 9476: ("as-signon", "secure"),
    9480: ("as-hostcnn", "secure"),
    8477: ("as-netdrive", "nonsecure"), 8478: ("as-transfer", "nonsecure"),
    8479: ("as-vrtprint", "nonsecure"),
    23: ("telnet", "nonsecure"), 992: ("telnet", "secure"),
    446: ("ddm", "nonsecure"), 448: ("ddm", "secure"),
}

# What the port mapper answers (names as clients send them, JT style plus IBM's).
MAPPER = {
    "as-central": 8470, "as-database": 8471, "as-dtaq": 8472, "as-file": 8473,
    "as-netdrive": 8473, "as-netprt": 8474, "as-rmtcmd": 8475, "as-signon": 8476,
    "as-ddm": 446, "drda": 446,
}
MAPPER.update({k + "-s": v + 1000 for k, v in list(MAPPER.items()) if 8470 <= v <= 8476})
MAPPER.update({"as-ddm-s": 448, "drda-s": 448, "as-hostcnn-s": 9480})

# Host-server job names the mock reports (program name of the prestart job).
JOBS = {0xE000: "QZSCSRVS", 0xE002: "QPWFSERVSO", 0xE003: "QNPSERVS", 0xE004: "QZDASOINIT",
        0xE005: "QZDASOINIT", 0xE006: "QZDASOINIT", 0xE007: "QZHQSSRV", 0xE008: "QZRCSRVS",
        0xE009: "QZSOSIGN", 0xE00A: "QZDASOINIT", 0xE00B: "QZHCSRVS"}


def service_of(port):
    return PORTS.get(port, (None, "other"))

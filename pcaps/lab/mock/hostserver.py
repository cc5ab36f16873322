"""hostserver.py - the mock IBM i host servers (as-signon, as-rmtcmd, as-database, ...).

In: a Conn (plain on 847x, TLS on 947x/9480), the mock config and the connection's log record.
Out: replies built from the byte layouts of ibmi-protocols.md §2-3; into the record go the
request IDs seen, server ID, datastream level, client attributes, the user profile (CP 0x1104,
EBCDIC CCSID 37), whether the SHA-1 password substitute matched the lab password, and the
return code we sent.  Flow: 7003->F003, 7004->F004 on the sign-on server; 7001->F001,
7002->F002 on the others; then each later request gets a bare "RC 0" reply of the right ID,
which is enough for a real client to send its next request (it may reject the reply).
"""
import hashlib
import struct

import ports

RC_NAMES = {0: "signed-on", 0x00020001: "unknown-user", 0x00020002: "disabled",
            0x0003000B: "wrong-password", 0x0003000D: "password-expired"}
STATUS_RC = {"ok": 0, "disabled": 0x00020002, "expired": 0x0003000D}
# Request ID -> reply ID for the "next request" of each server (§2 table).
NEXT_REPLY = {0x1001: 0x8001, 0x1002: 0x8002, 0x1003: 0x8003, 0x0000: 0x8000,
              0x0016: 0x8009, 0x1301: 0x1301}
END_JOB = {0x1400, 0x1FFF, 0x1004, 0x7006, 0x7108}


def be16(b, o):
    return struct.unpack_from(">H", b, o)[0]


def be32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def cp(code, data):
    return struct.pack(">IH", 6 + len(data), code) + data


def header(total, sid, rid, tlen, b4=0, b5=0, corr=0):
    return struct.pack(">IBBHIIHH", total, b4, b5, sid, 0, corr, tlen, rid)


def find_cps(pdu, start):
    """LL/CP chain from offset start -> {cp: data}."""
    out, o = {}, start
    while o + 6 <= len(pdu):
        ll = be32(pdu, o)
        if ll < 6 or o + ll > len(pdu):
            break
        out.setdefault(be16(pdu, o + 4), pdu[o + 6:o + ll])
        o += ll
    return out


def ebcdic(b):
    return b.decode("cp037", "replace").rstrip(" \x00")


def sha1_substitute(user, password, server_seed, client_seed):
    uid = user.ljust(10).encode("utf-16-be")
    token = hashlib.sha1(uid + password.rstrip().encode("utf-16-be")).digest()
    return hashlib.sha1(token + server_seed + client_seed + uid + b"\0" * 7 + b"\1").digest()


class HostServer:
    def __init__(self, conn, cfg, rec, seed):
        self.c, self.cfg, self.rec = conn, cfg, rec
        self.server_seed = struct.pack(">Q", seed)
        self.client_seed = b"\0" * 8
        self.buf = b""
        self.corr = 0
        rec["requests"] = []

    def read_pdu(self):
        while len(self.buf) < 20:
            b = self.c.recv_some()
            if not b:
                return None
            self.buf += b
            if len(self.buf) >= 8 and not self.looks_valid(self.buf):
                self.note_invalid()
                return None
        total = be32(self.buf, 0)
        while len(self.buf) < total:
            b = self.c.recv_some()
            if not b:
                return None
            self.buf += b
        pdu, self.buf = self.buf[:total], self.buf[total:]
        return pdu

    @staticmethod
    def looks_valid(b):
        return 20 <= be32(b, 0) <= 1 << 20 and b[6] == 0xE0

    def note_invalid(self):
        more = self.c.recv_some(65536, timeout=0.5)  # take the rest of what was sent
        if more:
            self.buf += more
        self.rec["not_datastream"] = self.buf[:16].hex()
        if self.buf[:2] in (b"\x16\x03", b"\x80\x00") or self.buf[0:1] == b"\x16":
            self.rec["tls_client_hello_on_plain_port"] = True

    def run(self):
        while True:
            pdu = self.read_pdu()
            if pdu is None:
                return "eof" if self.c.eof else "invalid"
            sid, rid = be16(pdu, 6), be16(pdu, 18)
            self.corr = be32(pdu, 12)  # replies echo the request's correlation ID
            self.rec["requests"].append("%04X" % rid)
            self.rec.setdefault("server_id", "%04X" % sid)
            if rid in END_JOB:
                self.rec["end_job"] = True
                continue
            handler = {0x7003: self.xchg_attr, 0x7004: self.signon_info, 0x7001: self.xchg_seed,
                       0x7002: self.start_server}.get(rid, self.next_request)
            if handler(pdu, sid, rid) == "close":
                return "closed-by-server"

    # -- sign-on server ----------------------------------------------------------------
    def xchg_attr(self, pdu, sid, rid):
        cps = find_cps(pdu, 20)
        if 0x1102 in cps:
            self.rec["client_level"] = be16(cps[0x1102], 0)
        self.client_seed = cps.get(0x1103, b"\0" * 8)[:8]
        vrm = self.cfg["vrm"]  # "V7R5M0"
        v = bytes([0, int(vrm[1]), int(vrm[3]), int(vrm[5])])
        job = ("%-10s%-10s%06d" % (ports.JOBS.get(sid, "QZSOSIGN"), "QUSER",
                                  self.rec["job_number"])).encode("cp037")
        body = (struct.pack(">I", 0) + cp(0x1101, v) + cp(0x1102, struct.pack(">H", self.cfg["server_level"]))
                + cp(0x1103, self.server_seed) + cp(0x1119, bytes([self.cfg["password_level"]]))
                + cp(0x111F, struct.pack(">I", 37) + job))
        self.c.send(header(20 + len(body), sid, 0xF003, 4, corr=self.corr) + body)

    def check_user(self, pdu, start):
        cps = find_cps(pdu, start)
        auth = pdu[20]
        self.rec["auth_type"] = auth
        user = ebcdic(cps.get(0x1104, b""))
        self.rec["user"] = user or None
        prof = self.cfg["profiles"].get(user)
        if prof is None:
            return 0x00020001
        sub = cps.get(0x1105)
        if auth == 3 and sub is not None and len(sub) == 20:
            ok = sub == sha1_substitute(user, prof["password"], self.server_seed, self.client_seed)
            self.rec["substitute_matches"] = ok
            if not ok:
                return 0x0003000B
        rc = STATUS_RC.get(prof.get("status", "ok"), 0)
        return rc

    def signon_info(self, pdu, sid, rid):
        rc = self.check_user(pdu, 21)
        self.note_rc(rc)
        date = struct.pack(">HBBBBB", 2025, 1, 15, 9, 30, 0)
        body = struct.pack(">I", rc)
        if rc == 0:
            body += (cp(0x1106, date) + cp(0x1107, struct.pack(">HBBBBB", 2025, 1, 14, 17, 2, 0))
                     + cp(0x1108, struct.pack(">HBBBBB", 2025, 6, 30, 0, 0, 0))
                     + cp(0x112C, struct.pack(">I", 166)) + cp(0x1114, struct.pack(">I", 37))
                     + cp(0x1104, struct.pack(">I", 37) + self.rec["user"].ljust(10).encode("cp037")))
        self.c.send(header(20 + len(body), sid, 0xF004, 4, corr=self.corr) + body)

    # -- every other server -------------------------------------------------------------
    def xchg_seed(self, pdu, sid, rid):
        self.rec["client_attributes"] = pdu[4]
        self.client_seed = pdu[20:28]
        body = struct.pack(">I", 0) + self.server_seed
        self.c.send(header(20 + len(body), sid, 0xF001, 0, 0, self.cfg["password_level"], self.corr) + body)

    def start_server(self, pdu, sid, rid):
        rc = self.check_user(pdu, 22)
        self.note_rc(rc)
        body = struct.pack(">I", rc)
        if rc == 0:
            job = ("%-10s%-10s%06d" % (ports.JOBS.get(sid, "QZRCSRVS"), "QUSER", self.rec["job_number"]))
            body += (cp(0x1104, struct.pack(">I", 37) + self.rec["user"].ljust(10).encode("cp037"))
                     + cp(0x111F, struct.pack(">I", 37) + job.encode("cp037")))
        self.c.send(header(20 + len(body), sid, 0xF002, 4, corr=self.corr) + body)

    def next_request(self, pdu, sid, rid):
        """The service's own first request: answer 'RC 0' with the matching reply ID."""
        reply = NEXT_REPLY.get(rid, 0x2800 if sid in (0xE004, 0xE005, 0xE006) else rid | 0x8000)
        body = struct.pack(">IH", 0, 0) + b"\0" * 14
        if reply == 0x8001:  # rmtcmd attributes: RC(2) CCSID(4) NLV(4, EBCDIC) version(4) level(2)
            body = struct.pack(">HI", 0, 37) + "2924".encode("cp037") + struct.pack(">IH", 0x00070500, 10)
        self.c.send(header(20 + len(body), sid, reply, len(body), corr=self.corr) + body)

    def note_rc(self, rc):
        self.rec["rc"] = "%08X" % rc
        self.rec["signon"] = RC_NAMES.get(rc, "error")

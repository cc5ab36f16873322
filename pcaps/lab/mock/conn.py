"""conn.py - one accepted connection of the mock IBM i: exact reads, and an honest close.

In: a connected socket (plain or ssl.SSLSocket) and its log record (a dict).  Out: bytes read and
written are counted into the record; close() records who closed first and whether our side's
close was a FIN or a RST (the kernel sends RST when we close with unread bytes queued, or we
force it with SO_LINGER 0).  The truth builder reads exactly these fields.
"""
import fcntl
import socket
import ssl
import struct
import termios
import time


class Conn:
    def __init__(self, sock, rec, timeout=20.0):
        self.sock = sock
        self.rec = rec
        self.eof = False
        self.sock.settimeout(timeout)
        rec.setdefault("bytes_in", 0)
        rec.setdefault("bytes_out", 0)

    def recv_some(self, n=65536, timeout=None):
        """One read; b'' on EOF, None on timeout."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            b = self.sock.recv(n)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            self.rec["peer_reset"] = True
            self.eof = True
            return b""
        except ssl.SSLError as e:
            self.rec.setdefault("errors", []).append("ssl-read: " + (e.reason or str(e)))
            self.eof = True
            return b""
        if not b:
            self.eof = True
            if not getattr(self, "closing", False):
                self.rec["peer_closed_first"] = True
        self.rec["bytes_in"] += len(b)
        return b

    def recv_exact(self, n):
        """Exactly n bytes, or None on EOF/timeout."""
        buf = b""
        while len(buf) < n:
            b = self.recv_some(n - len(buf))
            if not b:
                return None
            buf += b
        return buf

    def send(self, data):
        try:
            self.sock.sendall(data)
            self.rec["bytes_out"] += len(data)
            return True
        except (OSError, ssl.SSLError) as e:
            self.rec["peer_reset"] = isinstance(e, (ConnectionResetError, BrokenPipeError))
            return False

    def wait_eof(self, timeout=10.0):
        """Read (and count) until the peer closes or timeout: the peer closes first."""
        end = time.time() + timeout
        while not self.eof and time.time() < end:
            b = self.recv_some(65536, timeout=max(0.05, end - time.time()))
            if b is None:
                break

    def pending(self):
        try:
            raw = self.sock.fileno()
            v = fcntl.ioctl(raw, termios.FIONREAD, struct.pack("i", 0))
            return struct.unpack("i", v)[0]
        except OSError:
            return 0

    def close(self, force_rst=False):
        r = self.rec
        r["closed_at"] = round(time.time(), 6)
        r.setdefault("peer_closed_first", False)
        unread = self.pending()
        if not force_rst and not unread and not self.eof:
            # we close first: send FIN, then read until the peer closes too, so late bytes from
            # the peer (an alert, a request in flight) do not meet a closed socket and a RST
            self.closing = True
            try:
                socket.socket.shutdown(self.sock, socket.SHUT_WR)
                self.wait_eof(3.0)
            except OSError:
                pass
            unread = self.pending()
        if force_rst:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        r["our_close"] = "rst" if (force_rst or unread > 0) else "fin"
        if unread:
            r["unread_at_close"] = unread
        try:
            self.sock.close()
        except OSError:
            pass

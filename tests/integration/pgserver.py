"""pgserver.py - a throw-away PostgreSQL 15 server for the shared-store tests.

Debian's postgresql-15 binaries (/usr/lib/postgresql/15/bin: initdb, pg_ctl,
postgres, psql; no /usr/local symlinks needed) run in a temporary directory
as an unprivileged user: PostgreSQL refuses to run as root, and the tests run
as root, so the directory is given to `nobody` and every server command runs
through `setpriv` as that user (as the current user when not root).  Unix
socket only (listen_addresses=''), trust for the local superuser `nobody`,
SCRAM passwords for the roles a test creates.  stop() ends the server by the
PID in postmaster.pid (SIGINT: fast shutdown), then removes the directory.
"""
import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

BIN = "/usr/lib/postgresql/15/bin"

# A schema 4 store made back into the shape schema 3 had (no folded attempts), and a schema 3 store into the
# shape schema 2 had (rows of addresses only, no leases; after UNDO_V4), for the migration tests: what a store
# written by an older tlsready holds.
UNDO_V4 = ("DROP TABLE attempt_group; DROP FUNCTION tlsready_hll_max(bytea, bytea);"
           " UPDATE meta SET value='3' WHERE key='schema_version'; DELETE FROM migrations WHERE version=4;")
UNDO_V3 = UNDO_V4 + (" DROP TABLE inv_lease;"
           " ALTER TABLE inv_client DROP COLUMN host, DROP COLUMN client_id, ADD PRIMARY KEY(sensor, day, ip, open);"
           " ALTER TABLE inv_usage DROP COLUMN host, ADD PRIMARY KEY(sensor, day, client, open, server, service, port, cls);"
           " ALTER TABLE inv_name DROP COLUMN host,"
           " ADD PRIMARY KEY(sensor, day, client, open, server, service, port, cls, kind, name);"
           " ALTER TABLE inv_host_name DROP COLUMN host, ADD PRIMARY KEY(sensor, day, client, source, name);"
           " UPDATE meta SET value='2' WHERE key='schema_version'; DELETE FROM migrations WHERE version=3;")


def available():
    """None when the server can run here, else why not."""
    for b in ("initdb", "pg_ctl", "postgres", "psql"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            return f"{BIN}/{b} is missing (Debian package postgresql)"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "setpriv is missing (util-linux)"
    return None


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tlsready-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        os.mkdir(self.sock)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.user = "nobody"
            for p in (self.dir, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]
            self.env = {"PATH": "/usr/bin:/bin", "HOME": self.dir, "LC_ALL": "C.UTF-8"}
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
            self.prefix = []
            self.env = dict(os.environ, LC_ALL="C.UTF-8")
        self.pid = None

    def _as_owner(self, args, timeout=120, check=True, stdin=None):
        p = subprocess.run(self.prefix + args, env=self.env, cwd=self.dir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, input=stdin)
        if check and p.returncode != 0:
            raise RuntimeError(f"{args[0]}: exit {p.returncode}: {p.stderr.decode(errors='replace')[-800:]}")
        return p

    def init(self):
        self._as_owner([f"{BIN}/initdb", "-D", self.data, "-U", self.user, "--auth-local=trust",
                        "--auth-host=reject", "-E", "UTF8", "--no-sync"], timeout=300)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write("listen_addresses = ''\n"
                    f"unix_socket_directories = '{self.sock}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "shared_buffers = 32MB\nmax_connections = 40\n")
        # the test's roles log in with a password (SCRAM); the owner with trust
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write(f"local all {self.user} trust\nlocal all all scram-sha-256\n")

    def start(self):
        self._as_owner([f"{BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-t", "60",
                        "start"], timeout=90)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def stop(self):
        """Fast shutdown by the PID, waiting for it to go."""
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            self.pid = None
            return
        for _ in range(300):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.pid = None

    def psql(self, sql, db="postgres"):
        p = self._as_owner([f"{BIN}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                            "-U", self.user, "-d", db, "-c", sql], check=False)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def conninfo(self, db="tlsready", user=None):
        return f"host={self.sock} dbname={db} user={user or self.user}"

    def uri(self, db="tlsready", user=None):
        from urllib.parse import quote
        return f"postgresql:///{db}?host={quote(self.sock, safe='')}&user={user or self.user}"

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def started():
    """A server initialised and started, removed at the test's exit (its cleanup registered)."""
    srv = Server()
    atexit.register(srv.cleanup)
    srv.init()
    srv.start()
    return srv

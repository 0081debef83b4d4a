"""A private PostgreSQL 15 cluster in a project folder, listening on 127.0.0.1 only.

``make db`` and the test fixtures use the same code: ``initdb`` runs as the
``postgres`` user when we are root (initdb refuses root), the data folder is
owned by that user, authentication is scram-sha-256 over TCP on 127.0.0.1
(no Unix socket), and the superuser's password is random, generated at
``initdb`` and kept in a 0600 file beside the data folder: there is no
default password anywhere.

Layout of a cluster folder (``.pgdata/`` for ``make db``)::

    .pgdata/
      data/                 PGDATA, owned by postgres, 0700
      data/server.log       the server's log
      superuser-password    0600, owner: whoever ran make db

Example
-------
>>> cluster = LocalCluster(Path("/tmp/example"), port=55432)
>>> cluster.data_dir.name
'data'
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's postgresql-15 puts its programs.
PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: The PostGIS control file that postgresql-15-postgis-3 installs.
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
SUPERUSER = "postgres"
HOST = "127.0.0.1"
DEFAULT_PORT = 55432
#: The database the atlas lives in.
DEFAULT_DBNAME = "cmf_atlas"


class ClusterError(RuntimeError):
    """A cluster could not be created, started or stopped; the message says why."""


def missing_packages() -> list[str]:
    """Debian packages the team store needs that are not installed."""
    missing = []
    if not (PG_BIN / "initdb").is_file():
        missing.append("postgresql-15")
    if not POSTGIS_CONTROL.is_file():
        missing.append("postgresql-15-postgis-3")
    return missing


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _as_server_user() -> list[str]:
    """Prefix that runs a command as ``postgres`` when we are root, else nothing."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SUPERUSER, "--"]


def _server_uid_gid() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(SUPERUSER)
    return entry.pw_uid, entry.pw_gid


@dataclass(frozen=True)
class LocalCluster:
    """A cluster folder and the port its server listens on."""

    root: Path
    port: int = DEFAULT_PORT
    #: Throwaway clusters (tests) skip fsync: fast, and nothing to lose in a crash.
    durable: bool = True

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def password_file(self) -> Path:
        return self.root / "superuser-password"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def superuser_password(self) -> str:
        """The superuser's password, read from its 0600 file."""
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ClusterError(
                f"cannot read {self.password_file} ({exc.strerror}); create the cluster "
                "with `make db` first"
            ) from None

    def dsn(self, dbname: str = DEFAULT_DBNAME) -> str:
        """Connection string for the superuser (administration and migrations)."""
        return (f"host={HOST} port={self.port} dbname={dbname} user={SUPERUSER} "
                f"password={self.superuser_password()} connect_timeout=10")

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def initialise(self) -> bool:
        """Run initdb once; returns False if the cluster already exists."""
        if self.is_initialised():
            return False
        missing = missing_packages()
        if missing:
            raise ClusterError(
                f"missing Debian package(s) {', '.join(missing)}; run `make db-deps`"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        # The server user must be able to traverse (not read) the folder.
        self.root.chmod(0o711)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        ids = _server_uid_gid()
        if ids:
            os.chown(self.data_dir, *ids)
        password = secrets.token_urlsafe(24)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        # initdb reads the password from a file the server user can read; removed at once.
        with tempfile.NamedTemporaryFile("w", dir=self.root, delete=False) as pw:
            pw.write(password + "\n")
        pwfile = Path(pw.name)
        try:
            if ids:
                os.chown(pwfile, *ids)
            self._run([str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                       "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
                       "--locale=C.UTF-8"], "initdb")
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# CMF Atlas team store: TCP on 127.0.0.1 only, no Unix socket\n"
                       f"listen_addresses = '{HOST}'\nunix_socket_directories = ''\n"
                       "password_encryption = 'scram-sha-256'\nmax_connections = 100\n")
        (self.data_dir / "pg_hba.conf").write_text(
            "# CMF Atlas team store: passwords over TCP from this machine only\n"
            f"host all all {HOST}/32 scram-sha-256\n", encoding="utf-8")
        return True

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        result = subprocess.run(
            [*_as_server_user(), str(PG_BIN / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True, text=True, check=False)
        return result.returncode == 0

    def start(self) -> bool:
        """Start the server (waits until it accepts connections); False if already up."""
        if self.is_running():
            return False
        self._run([str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir),
                   "-l", str(self.log_file), "-o", self._server_options()], "pg_ctl start")
        return True

    def _server_options(self) -> str:
        options = f"-p {self.port}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return options

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False if it was not running."""
        if not self.is_running():
            return False
        self._run([str(PG_BIN / "pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast",
                   "-D", str(self.data_dir)], "pg_ctl stop")
        return True

    def remove(self) -> None:
        """Stop the server and delete the cluster folder (throwaway clusters only)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Block until the port accepts TCP connections, or raise ClusterError."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex((HOST, self.port)) == 0:
                    return
            time.sleep(0.1)
        raise ClusterError(f"no server on {HOST}:{self.port} after {timeout_s:.0f} s")

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run([*_as_server_user(), *argv], capture_output=True, text=True,
                                check=False, cwd="/")
        if result.returncode != 0:
            log = ""
            if self.log_file.is_file():
                log = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-10:])
            raise ClusterError(
                f"{what} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}\n{log}".strip())

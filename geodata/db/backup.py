"""Back up and restore the team store with pg_dump / pg_restore (custom format).

A backup is one ``pg_dump -Fc`` file of the atlas database. Roles live in
the cluster, not in a database's dump, so :func:`restore_database` first
runs migration ``0002_roles.sql`` (idempotent) on the target cluster, then
restores into a database that must not exist yet; :func:`restore_database`
with ``replace=True`` first renames an existing one aside
(``<name>_before_restore_<UTC time>``), so a restore never destroys data.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from geodata.db.cluster import PG_BIN
from geodata.db.migrate import MIGRATIONS_DIR

ROLES_MIGRATION = MIGRATIONS_DIR / "0002_roles.sql"


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed; the message carries its output."""


def _env(dsn: str) -> tuple[list[str], dict[str, str]]:
    info = conninfo_to_dict(dsn)
    args = ["-h", str(info.get("host", "127.0.0.1")), "-p", str(info.get("port", 5432)),
            "-U", str(info.get("user", "postgres"))]
    env = {**os.environ, "PGPASSWORD": str(info.get("password", "")), "PGCONNECT_TIMEOUT": "10"}
    return args, env


def backup_database(dsn: str, out: Path) -> Path:
    """Dump the database of ``dsn`` to ``out`` (custom format), written then renamed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    args, env = _env(dsn)
    dbname = conninfo_to_dict(dsn).get("dbname", "postgres")
    result = subprocess.run([str(PG_BIN / "pg_dump"), *args, "-Fc", "-f", str(tmp), "-d",
                             str(dbname)], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    os.replace(tmp, out)
    return out


def restore_database(admin_dsn: str, dump: Path, dbname: str, *, replace: bool = False) -> str:
    """Restore ``dump`` into a new database ``dbname`` of the cluster of ``admin_dsn``.

    Returns the name an existing database was moved to ("" if none).
    """
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(f"{dump}: no such backup file")
    moved = ""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (dbname,)).fetchone()
        if exists and not replace:
            raise BackupError(f"database {dbname!r} exists; pass replace to move it aside")
        if exists:
            moved = f"{dbname}_before_restore_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,))
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(dbname), sql.Identifier(moved)))
        conn.execute(ROLES_MIGRATION.read_text(encoding="utf-8"))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(dbname)))
    args, env = _env(admin_dsn)
    result = subprocess.run([str(PG_BIN / "pg_restore"), *args, "--exit-on-error",
                             "-d", dbname, str(dump)],
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    return moved

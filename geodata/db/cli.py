"""``python -m geodata db …``: run the local server, migrate, import, export, accounts, backups.

Registered by :mod:`geodata.cli`; psycopg is imported only when a ``db``
command runs, so the other commands do not need a database driver.

Commands
--------
``server start|stop|status``  the local cluster in ``.pgdata/`` (``make db``)
``init``                      create the database if missing, apply migrations
``import [--data DIR]``       load the curated YAML into an empty store
``export OUT_DIR``            write the YAML back (published records)
``add-user NAME --role R``    create an account; password from a prompt, or from
                              the environment variable named by ``--password-env``
``app-login``                 let the dashboard's ``cmf_app`` role log in to the local
                              cluster (random password in ``.pgdata/app.pgpass``, 0600)
                              and print the ``CMF_ATLAS_DB`` connection string
``backup FILE`` / ``restore FILE``  pg_dump / pg_restore
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from geodata.db.cluster import DEFAULT_DBNAME

ROLE_CHOICES = ("viewer", "editor", "reviewer", "admin")


def add_db_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``db`` command and its subcommands to the main parser."""
    db = sub.add_parser("db", help="the team store (PostgreSQL/PostGIS): init, import, "
                        "export, add-user, backup, restore, server")
    db.add_argument("--dbname", default=DEFAULT_DBNAME,
                    help=f"database name in the local cluster (default {DEFAULT_DBNAME}); "
                    "ignored when CMF_ATLAS_DATABASE_URL is set")
    cmd = db.add_subparsers(dest="db_command", required=True)
    server = cmd.add_parser("server", help="start, stop or show the local cluster (.pgdata/)")
    server.add_argument("action", choices=["start", "stop", "status"])
    cmd.add_parser("init", help="create the database if missing and apply migrations")
    imp = cmd.add_parser("import", help="load the curated YAML into an empty store")
    imp.add_argument("--data", type=Path, help="datasets folder (default: datasets/)")
    imp.add_argument("--if-empty", action="store_true",
                     help="do nothing (exit 0) when the store already holds records")
    cmd.add_parser("app-login", help="let the dashboard (cmf_app) log in to the local "
                   "cluster; prints the CMF_ATLAS_DB connection string")
    exp = cmd.add_parser("export", help="write the store's records back as dataset YAML")
    exp.add_argument("out", type=Path, help="folder to write the .yaml files into")
    exp.add_argument("--include-drafts", action="store_true",
                     help="also write drafts (default: published records only)")
    user = cmd.add_parser("add-user", help="create an account (argon2id password hash)")
    user.add_argument("name", help="account name: lowercase letters, digits, . _ -")
    user.add_argument("--role", required=True, choices=ROLE_CHOICES)
    user.add_argument("--password-env", metavar="VAR",
                      help="read the password from this environment variable (for scripts); "
                      "default: prompt twice")
    bk = cmd.add_parser("backup", help="pg_dump the database to FILE (custom format)")
    bk.add_argument("file", type=Path)
    rs = cmd.add_parser("restore", help="pg_restore FILE; an existing database is renamed aside")
    rs.add_argument("file", type=Path)


def _password(args: argparse.Namespace) -> str:
    if args.password_env:
        value = os.environ.get(args.password_env)
        if not value:
            raise ValueError(f"environment variable {args.password_env} is not set or empty")
        return value
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _ensure_database(dbname: str) -> None:
    import psycopg
    from psycopg import sql

    from geodata.db.connect import DSN_ENV, admin_dsn

    if os.environ.get(DSN_ENV):
        return
    with psycopg.connect(admin_dsn("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (dbname,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                         .format(sql.Identifier(dbname)))
            print(f"created database {dbname}")


def _app_login(conn, dbname: str) -> str:
    """Enable the ``cmf_app`` login with the password kept in ``.pgdata/app.pgpass``
    (created once, random, 0600); returns the dashboard's connection string, which
    names the password file rather than holding the password."""
    import secrets

    from geodata.db import accounts
    from geodata.db.cluster import HOST
    from geodata.db.connect import local_cluster

    cluster = local_cluster()
    passfile = cluster.root / "app.pgpass"
    password = None
    if passfile.is_file():
        password = passfile.read_text(encoding="utf-8").strip().rsplit(":", 1)[-1]
    if not password:
        password = secrets.token_urlsafe(24)  # [A-Za-z0-9_-]: nothing to escape in pgpass
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{HOST}:{cluster.port}:*:{accounts.APP_ROLE}:{password}\n")
    accounts.enable_app_login(conn, password)
    return (f"host={HOST} port={cluster.port} dbname={dbname} user={accounts.APP_ROLE} "
            f"passfile={passfile}")


def run_db(args: argparse.Namespace) -> int:
    """Run one ``db`` subcommand; returns the exit code."""
    import psycopg

    from geodata.db import accounts, backup, migrate, transfer
    from geodata.db.cluster import ClusterError
    from geodata.db.connect import admin_dsn, connect, local_cluster

    try:
        if args.db_command == "server":
            cluster = local_cluster()
            if args.action == "start":
                created = cluster.initialise()
                started = cluster.start()
                print(f"cluster {cluster.root} {'created, ' if created else ''}"
                      f"{'started' if started else 'already running'} on "
                      f"127.0.0.1:{cluster.port}")
            elif args.action == "stop":
                print("stopped" if cluster.stop() else "not running")
            else:
                print("running" if cluster.is_running() else "not running")
                return 0 if cluster.is_running() else 3
            return 0
        if args.db_command == "init":
            _ensure_database(args.dbname)
            with connect(admin_dsn(args.dbname)) as conn:
                applied = migrate.migrate(conn)
            print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}; "
                  "vocabularies synced from geodata/model/schema.py")
            return 0
        if args.db_command == "restore":
            moved = backup.restore_database(admin_dsn("postgres"), args.file, args.dbname,
                                            replace=True)
            print(f"restored {args.file} into {args.dbname}"
                  + (f"; the previous database is kept as {moved}" if moved else ""))
            return 0
        if args.db_command == "backup":
            out = backup.backup_database(admin_dsn(args.dbname), args.file)
            print(f"wrote {out} ({out.stat().st_size:,} bytes)")
            return 0
        with connect(admin_dsn(args.dbname)) as conn:
            if args.db_command == "import":
                kwargs = {"directory": args.data} if args.data else {}
                held = conn.execute("SELECT count(*) FROM records").fetchone()[0]
                if args.if_empty and held:
                    print(f"the store holds {held} records already; import skipped")
                    return 0
                print(f"imported {transfer.import_datasets(conn, **kwargs)}")
            elif args.db_command == "app-login":
                print(_app_login(conn, args.dbname))
            elif args.db_command == "export":
                counts = transfer.export_datasets(conn, args.out,
                                                  include_drafts=args.include_drafts)
                print(f"exported {counts} to {args.out}")
            elif args.db_command == "add-user":
                account = accounts.add_user(conn, args.name, args.role, _password(args))
                print(f"account {account.name} created with role {account.role}")
        return 0
    except (ClusterError, backup.BackupError, migrate.MigrationError,
            transfer.StoreNotEmptyError, accounts.AccountError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database ({str(exc).strip()}); start it with "
              "`make db`", file=sys.stderr)
        return 1

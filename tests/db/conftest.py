"""A throwaway PostgreSQL 15 + PostGIS cluster for the team-store tests.

One cluster per test session (temp folder, free port on 127.0.0.1, initdb as
``postgres``), removed at the end; each test gets a fresh, migrated database.
A missing PostgreSQL or PostGIS fails the tests with how to install them
(``make db-deps``, which ``make test`` runs): they are never skipped.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from geodata.db import accounts
from geodata.db.cluster import ClusterError, LocalCluster, free_port, missing_packages
from geodata.db.migrate import migrate


def start_throwaway_cluster() -> LocalCluster:
    """A new cluster in a temp folder on a free port (retried if the port is taken)."""
    missing = missing_packages()
    if missing:
        pytest.fail(f"Debian package(s) {', '.join(missing)} missing: run `make db-deps`")
    last: Exception | None = None
    for _ in range(3):
        cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="cmf-pg-")), free_port(),
                               durable=False)
        try:
            cluster.initialise()
            cluster.start()
            cluster.wait_ready()
            return cluster
        except ClusterError as exc:  # e.g. another process took the port meanwhile
            last = exc
            cluster.remove()
    raise AssertionError(f"could not start a throwaway cluster: {last}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    cluster = start_throwaway_cluster()
    try:
        yield cluster
    finally:
        cluster.remove()


SESSION_DB = "cmf_test"


@pytest.fixture(scope="session")
def app_password(pg_cluster: LocalCluster) -> str:
    """Migrate the session database once; cmf_app may log in (the dashboard's
    connection), with a random password."""
    password = secrets.token_urlsafe(18)
    with psycopg.connect(pg_cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SESSION_DB)))
    with psycopg.connect(pg_cluster.dsn(SESSION_DB), autocommit=True) as conn:
        migrate(conn)  # also creates the cluster's roles
        accounts.enable_app_login(conn, password)
    return password


@dataclass
class Store:
    """A fresh migrated database in the throwaway cluster."""

    cluster: LocalCluster
    dbname: str
    app_password: str

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(self.dbname)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True)

    def app_dsn(self) -> str:
        return (f"host=127.0.0.1 port={self.cluster.port} dbname={self.dbname} "
                f"user={accounts.APP_ROLE} password={self.app_password}")

    def session(self, name: str, role: str) -> psycopg.Connection:
        """A connection as the dashboard would hold it after ``name`` signed in."""
        conn = psycopg.connect(self.app_dsn(), autocommit=True)
        return accounts.start_session(conn, accounts.Account(name, role))


#: Tables holding data (not vocabularies), emptied before each test.
DATA_TABLES = ("history", "sources", "designations", "links", "records", "dataset_files",
               "accounts", "sign_in_attempts")


@pytest.fixture
def store(pg_cluster: LocalCluster, app_password: str) -> Iterator[Store]:
    """The migrated session database, emptied (creating a database per test is slow)."""
    with psycopg.connect(pg_cluster.dsn(SESSION_DB), autocommit=True) as conn:
        # replica mode: skips the append-only trigger, for the tests' cleanup only.
        conn.execute("SET session_replication_role = replica")
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(map(sql.Identifier, DATA_TABLES))))
    return Store(pg_cluster, SESSION_DB, app_password)


@pytest.fixture
def imported(store: Store) -> Store:
    """A store holding the real curated datasets, published."""
    from geodata.db.transfer import import_datasets

    with store.admin() as conn:
        import_datasets(conn)
    return store

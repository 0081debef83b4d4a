"""Where the team store is and how to connect to it.

The DSN comes from ``CMF_ATLAS_DATABASE_URL`` when set (any libpq connection
string), else from the local cluster that ``make db`` created in
``.pgdata/`` (port from ``CMF_ATLAS_DB_PORT``, default 55432), as its
superuser: that is for administration (``db init``, ``import``,
``add-user``); the dashboard connects as ``cmf_app`` and switches role per
account (:mod:`geodata.db.accounts`).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from geodata.db.cluster import DEFAULT_DBNAME, DEFAULT_PORT, LocalCluster

PROJECT_DIR = Path(__file__).resolve().parents[2]
#: The ``make db`` cluster folder (git-ignored).
LOCAL_CLUSTER_DIR = PROJECT_DIR / ".pgdata"
DSN_ENV = "CMF_ATLAS_DATABASE_URL"
PORT_ENV = "CMF_ATLAS_DB_PORT"


def local_cluster() -> LocalCluster:
    """The project's own cluster (``make db``), on its configured port."""
    return LocalCluster(LOCAL_CLUSTER_DIR, int(os.environ.get(PORT_ENV, DEFAULT_PORT)))


def admin_dsn(dbname: str = DEFAULT_DBNAME) -> str:
    """The administrator's connection string: the environment's, else the local cluster's."""
    return os.environ.get(DSN_ENV) or local_cluster().dsn(dbname)


def connect(dsn: str | None = None) -> psycopg.Connection:
    """A connection (autocommit off: callers use ``conn.transaction()``)."""
    return psycopg.connect(dsn or admin_dsn(), autocommit=True)

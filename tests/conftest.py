"""Shared fixtures: the small sample dataset in tests/data/, and the team store's
throwaway PostgreSQL cluster (tests/db/ and the dashboard's team-mode tests)."""

from __future__ import annotations

import secrets
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql

from geodata.db import accounts
from geodata.db.cluster import ClusterError, LocalCluster, free_port, missing_packages
from geodata.db.migrate import migrate
from geodata.model.frame import records_to_frame
from geodata.store.load import load_records

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def sample_path() -> Path:
    return DATA / "sample.yaml"


@pytest.fixture
def sample_frame(sample_path):
    return records_to_frame(load_records([sample_path]))


# --- a small model-v2 dataset: a group, its institute and sub-institute, a lab, links ----

SRC = '[{publisher: P, title: T, accessed: "2026-12-01", type: news}]'


def _org(rid, name, *, lat=39.9, lon=116.4, province="Beijing", category="company"):
    rec = {
        "id": rid, "kind": "organisation", "category": category, "name_en": name,
        "name_zh": name + "中文", "domains": ["general"], "confidence": "medium",
        "confidence_reason": "one source",
        "description": "A test organisation record of some length.",
        "sources": [{"publisher": "P", "title": "T", "accessed": "2026-12-01", "type": "news"}],
    }
    if lat is None:
        rec["unplaced_reason"] = "no address in our sources"
    else:
        rec.update(province=province, lat=lat, lon=lon, location_precision="site")
    return yaml.safe_dump([rec], allow_unicode=True, sort_keys=False)


CLUSTER = textwrap.dedent(f"""\
- id: cluster-lab
  kind: cluster
  category: joint_lab
  name_en: "Lab"
  name_zh: "实验室"
  province: Jiangsu
  lat: 32.06
  lon: 118.79
  location_precision: city
  year: 2018
  year_basis: unveiled
  dates: [{{type: unveiled, date: "2018-01-23"}}]
  domains: [ai]
  sponsor_level: enterprise
  confidence: medium
  confidence_reason: "one seed"
  description: "A test joint laboratory of a group institute and a company."
  sources: {SRC}
""")


@pytest.fixture
def atlas_dir(tmp_path) -> Path:
    records = "".join([
        _org("org-group", "Group Corp", category="defence_conglomerate"),
        _org("org-inst", "Group 28th Institute", lat=32.06, lon=118.79, province="Jiangsu",
             category="group_subsidiary"),
        _org("org-sub", "Institute Subsidiary", lat=None),
        _org("org-firm", "Search Firm", lat=40.05, lon=116.30),
        _org("org-other", "Other Corp"),
    ])
    (tmp_path / "organisations.yaml").write_text(records, encoding="utf-8")
    (tmp_path / "clusters.yaml").write_text(CLUSTER, encoding="utf-8")
    (tmp_path / "links.yaml").write_text(textwrap.dedent(f"""\
    - {{from: org-group, to: org-inst, type: parent_of, sources: {SRC}}}
    - {{from: org-inst, to: org-sub, type: parent_of, sources: {SRC}}}
    - {{from: org-inst, to: cluster-lab, type: partner_in, sources: {SRC}}}
    - {{from: org-firm, to: cluster-lab, type: partner_in, sources: {SRC}}}
    """), encoding="utf-8")
    (tmp_path / "designations.yaml").write_text(textwrap.dedent("""\
    - {record: org-group, list: us_dod_1260h, entry_name: "Group Corp (GC)", relation: listed,
       date_added: "2021-06-03", basis: exact_name, review: accepted, review_note: "same"}
    - {record: org-inst, list: us_dod_1260h, entry_name: "Group Corp (GC)",
       relation: subsidiary_of_listed, listed_parent: org-group, date_added: "2021-06-03",
       basis: manual, review: accepted, review_note: "institute of the listed group"}
    - {record: org-other, list: us_dod_1260h, entry_name: "Other Corporation Group",
       relation: listed, basis: normalised_name, review: rejected,
       review_note: "a different company"}
    """), encoding="utf-8")
    return tmp_path


# --- the team store: a throwaway PostgreSQL 15 + PostGIS cluster ----------------------
# One cluster per test session (temp folder, free port on 127.0.0.1, initdb as
# ``postgres``), removed at the end; each test gets the migrated database emptied.
# A missing PostgreSQL or PostGIS fails the tests with how to install them
# (``make db-deps``, which ``make test`` runs): they are never skipped. Used by
# tests/db/ and by the dashboard's team-mode tests.

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


@pytest.fixture
def new_cluster() -> Callable[[], LocalCluster]:
    """Starts another throwaway cluster when called (e.g. to restore a backup into)."""
    return start_throwaway_cluster


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
DATA_TABLES = ("history", "sources", "designations", "links", "published_records", "records",
               "dataset_files", "accounts", "sign_in_attempts")


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

"""Migrations from an empty database, and the rules the database enforces itself."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from geodata.db.migrate import (
    MIGRATIONS_DIR,
    MigrationError,
    apply_migrations,
    migration_files,
    vocabularies,
)
from geodata.model import schema

TABLES = {"records", "links", "sources", "designations", "history", "accounts",
          "sign_in_attempts", "dataset_files", "schema_migrations"}


def test_migrations_from_empty_create_schema_and_are_idempotent(store):
    with store.admin() as conn:
        names = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert names >= TABLES
        applied = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY 1")]
        assert applied == [p.name for p in migration_files()]
        assert apply_migrations(conn) == []
        # geometry column with a GiST index
        geom = conn.execute("SELECT type, srid FROM geometry_columns "
                            "WHERE f_table_name = 'records'").fetchone()
        assert geom == ("POINT", 4326)
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = "
                             "'records_geom_gist'").fetchone()[0]
        assert "gist (geom)" in index


def test_vocabulary_tables_equal_the_schema(store):
    with store.admin() as conn:
        assert {r[0]: r[1] for r in conn.execute("SELECT key, label FROM vocab_domain")} == \
            schema.DOMAINS
        cats = set(conn.execute("SELECT kind, key FROM vocab_category").fetchall())
        assert cats == {(k, c) for k, v in schema.CATEGORIES.items() for c in v}
        zone = {r[0] for r in conn.execute("SELECT key FROM vocab_status WHERE for_zones")}
        assert zone == set(schema.ZONE_STATUSES)
        for table, rows in vocabularies().items():
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert count == len(rows), table


def test_an_edited_applied_migration_is_reported(store, tmp_path):
    for path in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, tmp_path / path.name)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with store.admin() as conn, pytest.raises(MigrationError, match="changed after"):
        apply_migrations(conn, tmp_path)


def _zone(**over):
    row = {"id": "zone-test", "kind": "zone", "category": "demonstration_zone",
           "name_en": "Test zone", "name_zh": "测试", "province": "Beijing", "lat": 39.9,
           "lon": 116.4, "location_precision": "city", "year": 2020, "domains": ["general"],
           "status": "approved", "description": "A zone that exists only in this test.",
           "dataset_file": "zones.yaml", "file_position": 0, "field_order": ["id"]}
    row.update(over)
    return row


def _insert(conn, row):
    cols = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    conn.execute(f"INSERT INTO records ({cols}) VALUES ({marks})",
                 list(row.values()))


@pytest.mark.parametrize(("over", "error"), [
    ({"category": "guidance_fund"}, psycopg.errors.ForeignKeyViolation),
    ({"status": "established"}, psycopg.errors.ForeignKeyViolation),
    ({"status": None}, psycopg.errors.CheckViolation),
    ({"province": "Atlantis"}, psycopg.errors.ForeignKeyViolation),
    ({"domains": ["ai", "magic"]}, psycopg.errors.CheckViolation),
    ({"domains": ["ai", "ai"]}, psycopg.errors.CheckViolation),
    ({"lat": None}, psycopg.errors.CheckViolation),
    ({"lat": 1.0}, psycopg.errors.CheckViolation),  # outside China (generated check)
    ({"year": schema.YEAR_MAX + 1}, psycopg.errors.CheckViolation),
    ({"year": None}, psycopg.errors.CheckViolation),  # a zone needs a year
    ({"id": "Zone Test"}, psycopg.errors.CheckViolation),
    ({"fund_size_rmb_bn": 5}, psycopg.errors.CheckViolation),
    ({"address": "1 Road"}, psycopg.errors.CheckViolation),
    ({"description": "too short"}, psycopg.errors.CheckViolation),
])
def test_the_database_refuses_what_the_schema_refuses(store, over, error):
    with store.admin() as conn:
        conn.execute("INSERT INTO dataset_files (name, content) VALUES ('zones.yaml', 'records')")
        _insert(conn, _zone())  # the valid one is accepted
        with pytest.raises(error):
            _insert(conn, _zone(**{"id": "zone-other", "file_position": 1, **over}))


def test_the_database_takes_an_undated_fund_as_the_schema_does(store):
    """schema.UNDATED_KINDS: a fund may lack a year in the database too, a zone may not."""
    fund = _zone(id="fund-undated-test", kind="fund", category="industry_fund", status=None,
                 year=None, fund_size_rmb_bn=1.74, dataset_file="funds-local.yaml")
    assert "fund" in schema.UNDATED_KINDS
    assert "zone" not in schema.UNDATED_KINDS
    with store.admin() as conn:
        conn.execute("INSERT INTO dataset_files (name, content) VALUES "
                     "('funds-local.yaml', 'records')")
        _insert(conn, fund)
        assert conn.execute("SELECT year FROM records WHERE id = 'fund-undated-test'"
                            ).fetchone() == (None,)


def test_migrate_on_a_new_empty_database(pg_cluster):
    """From nothing (not the tests' template): every migration applies, then none."""
    from psycopg import sql

    from geodata.db.migrate import migrate

    with psycopg.connect(pg_cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS t_empty WITH (FORCE)")
        conn.execute(sql.SQL("CREATE DATABASE t_empty TEMPLATE template0"))
    with psycopg.connect(pg_cluster.dsn("t_empty"), autocommit=True) as conn:
        assert migrate(conn) == [p.name for p in migration_files()]
        assert migrate(conn) == []

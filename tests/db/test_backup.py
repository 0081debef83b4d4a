"""A backup restored into a new cluster holds exactly what the original held."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from geodata.db.backup import BackupError, backup_database, restore_database
from geodata.db.records import read_record, save_record

TABLES = ("records", "published_records", "sources", "links", "designations", "history",
          "accounts", "dataset_files", "schema_migrations", "vocab_category")


def _contents(dsn: str) -> dict[str, list[str]]:
    """Every row of every table as text, sorted: comparable across clusters."""
    with psycopg.connect(dsn) as conn:
        return {t: sorted(r[0] for r in conn.execute(
            f"SELECT t::text FROM {t} t")) for t in TABLES}  # table names are constants


def test_restore_into_a_new_cluster_matches_the_original(imported, tmp_path, new_cluster):
    rid = "fund-foshan-cmf-innovative-industries"
    with imported.admin() as conn:
        _, version, _ = read_record(conn, rid)
        save_record(conn, rid, {"city": "Shunde"}, expected_version=version, who="tester",
                    source={"publisher": "Test", "title": "Backup test"})
    dump = backup_database(imported.dsn, tmp_path / "atlas.dump")
    original = _contents(imported.dsn)
    assert len(original["records"]) > 100
    assert len(original["history"]) == 1
    other = new_cluster()
    try:
        assert restore_database(other.dsn("postgres"), dump, "cmf_atlas") == ""
        assert _contents(other.dsn("cmf_atlas")) == original
        # roles and row-level security came along: the policies still apply
        with psycopg.connect(other.dsn("cmf_atlas"), autocommit=True) as conn:
            policies = conn.execute("SELECT count(*) FROM pg_policies").fetchone()[0]
            assert policies >= 10
        # a second restore moves the restored database aside instead of dropping it
        moved = restore_database(other.dsn("postgres"), dump, "cmf_atlas", replace=True)
        assert moved.startswith("cmf_atlas_before_restore_")
        assert _contents(other.dsn(moved)) == original
        with pytest.raises(BackupError, match="exists"):
            restore_database(other.dsn("postgres"), dump, "cmf_atlas")
    finally:
        other.remove()


def test_cli_backup_reports_an_unreachable_database(tmp_path):
    env = {"CMF_ATLAS_DATABASE_URL": "host=127.0.0.1 port=1 dbname=x user=x password=x "
                                     "connect_timeout=2", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "geodata", "db", "backup",
                             str(tmp_path / "x.dump")], env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 1
    assert "pg_dump failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.dump").exists()

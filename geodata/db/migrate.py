"""Bring a database to the current schema: SQL migrations, then generated rules.

Migrations are the files ``geodata/db/migrations/NNNN_name.sql``, applied in
order, each in its own transaction, and recorded in ``schema_migrations``
(with a checksum, so an edited, already-applied file is reported rather than
silently skipped). Then :func:`sync_schema_rules` fills the vocabulary tables
and (re)creates the CHECK constraints whose numbers live in
:mod:`geodata.model.schema` (id pattern, year range, China's bounds): the schema is
declared once, in Python, and the database follows it.

Example
-------
>>> [p.name for p in migration_files()][:2]
['0001_schema.sql', '0002_roles.sql']
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import psycopg
from psycopg import sql

from geodata.model import schema
from geodata.model.relations import LINK_ENDS

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
#: Any number: serialises concurrent ``db init`` runs on one database.
_LOCK_KEY = 15_001


class MigrationError(RuntimeError):
    """A migration file is malformed, or was changed after it was applied."""


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """The migration files in version order; a badly named .sql file is an error."""
    files = sorted(directory.glob("*.sql"))
    for f in files:
        if not _NAME.match(f.name):
            raise MigrationError(f"{f}: expected a name like 0003_add_things.sql")
    versions = [f.name[:4] for f in files]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return files


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply_migrations(conn: psycopg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet applied; returns their file names.

    ``conn`` must be a superuser's (PostGIS and roles need it), autocommit off
    or on: each migration runs in a transaction of its own.
    """
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())")
        done = dict(conn.execute("SELECT name, checksum FROM schema_migrations").fetchall())
    for path in migration_files(directory):
        if path.name in done:
            if done[path.name] != _checksum(path):
                raise MigrationError(
                    f"{path.name} was changed after it was applied; add a new migration "
                    "instead of editing an applied one")
            continue
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute(path.read_text(encoding="utf-8"))
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (path.name[:4], path.name, _checksum(path)))
        applied_now.append(path.name)
    return applied_now


def vocabularies() -> dict[str, list[tuple]]:
    """Rows of each vocabulary table, generated from :mod:`geodata.model.schema`."""
    simple = {
        "vocab_kind": schema.KINDS,
        "vocab_domain": schema.DOMAINS,
        "vocab_province": schema.PROVINCES,
        "vocab_location_precision": schema.LOCATION_PRECISIONS,
        "vocab_date_type": schema.DATE_TYPES,
        "vocab_sponsor_level": schema.SPONSOR_LEVELS,
        "vocab_confidence": schema.CONFIDENCE_LEVELS,
        "vocab_source_type": schema.SOURCE_TYPES,
        "vocab_link_type": schema.LINK_TYPES,
        "vocab_designation_list": schema.DESIGNATION_LISTS,
        "vocab_designation_relation": schema.DESIGNATION_RELATIONS,
        "vocab_match_basis": schema.MATCH_BASES,
        "vocab_review_outcome": schema.REVIEW_OUTCOMES,
    }
    out: dict[str, list[tuple]] = {t: list(v.items()) for t, v in simple.items()}
    out["vocab_category"] = [
        (kind, key, label) for kind, cats in schema.CATEGORIES.items()
        for key, label in cats.items()]
    out["vocab_status"] = [
        (key, label, key in schema.ZONE_STATUSES) for key, label in schema.STATUSES.items()]
    out["vocab_link_end"] = [
        (link_type, end, kind)
        for link_type, ends in LINK_ENDS.items()
        for end, kinds in zip(("from", "to"), ends, strict=True) if kinds is not None
        for kind in sorted(kinds)]
    return out


#: Each vocabulary table's columns and key columns, parents before children.
_VOCAB_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "vocab_kind": (("key", "label"), ("key",)),
    "vocab_category": (("kind", "key", "label"), ("kind", "key")),
    "vocab_status": (("key", "label", "for_zones"), ("key",)),
    **{t: (("key", "label"), ("key",)) for t in (
        "vocab_domain", "vocab_province", "vocab_location_precision", "vocab_date_type",
        "vocab_sponsor_level", "vocab_confidence", "vocab_source_type", "vocab_link_type",
        "vocab_designation_list", "vocab_designation_relation", "vocab_match_basis",
        "vocab_review_outcome")},
    "vocab_link_end": (("type", "end_name", "kind"), ("type", "end_name", "kind")),
}


def _id_pattern() -> str:
    return schema.Record.model_json_schema()["properties"]["id"]["pattern"]


def generated_checks() -> dict[tuple[str, str], str]:
    """CHECK constraints whose numbers and patterns come from :mod:`geodata.model.schema`."""
    b = schema.CHINA_BOUNDS
    pattern = _id_pattern().replace("'", "''")
    undated = ", ".join(f"'{k}'" for k in sorted(schema.UNDATED_KINDS))
    return {
        ("records", "id_pattern"): f"id ~ '{pattern}'",
        ("records", "year_range"): f"year BETWEEN {schema.YEAR_MIN} AND {schema.YEAR_MAX}",
        ("records", "year_unless_undated_kind"): (
            f"kind IN ({undated}) OR year IS NOT NULL"),
        ("records", "inside_china"): (
            f"lat IS NULL OR (lat BETWEEN {b['lat_min']} AND {b['lat_max']} "
            f"AND lon BETWEEN {b['lon_min']} AND {b['lon_max']})"),
    }


def _ids(names: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def sync_schema_rules(conn: psycopg.Connection) -> None:
    """Make the vocabulary tables and generated CHECKs match :mod:`geodata.model.schema`.

    Terms are upserted; a term removed from the schema is deleted, which the
    foreign keys refuse while a record still uses it (the error names it).
    """
    rows = vocabularies()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        for table, (_cols, keys) in reversed(_VOCAB_TABLES.items()):
            wanted = {r[: len(keys)] for r in rows[table]}
            existing = conn.execute(
                sql.SQL("SELECT {} FROM {}").format(_ids(keys), sql.Identifier(table))
            ).fetchall()
            for old in existing:
                if tuple(old) not in wanted:
                    conn.execute(sql.SQL("DELETE FROM {} WHERE ({}) = ({})").format(
                        sql.Identifier(table), _ids(keys),
                        sql.SQL(", ").join(sql.Placeholder() * len(keys))), old)
        for table, (cols, keys) in _VOCAB_TABLES.items():
            rest = [c for c in cols if c not in keys]
            action = sql.SQL("NOTHING") if not rest else sql.SQL("UPDATE SET {}").format(
                sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                   for c in rest))
            stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO {}").format(
                sql.Identifier(table), _ids(cols),
                sql.SQL(", ").join(sql.Placeholder() * len(cols)), _ids(keys), action)
            with conn.cursor() as cur:
                cur.executemany(stmt, rows[table])
        for (table, name), check in generated_checks().items():
            conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(table), sql.Identifier(name)))
            conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(check)))


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations, sync the generated rules, and snapshot any published
    record that has no published snapshot yet (0005); returns what was applied."""
    from geodata.db.published import backfill

    applied = apply_migrations(conn)
    sync_schema_rules(conn)
    backfill(conn)
    return applied

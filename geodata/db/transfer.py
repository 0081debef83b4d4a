"""Curated YAML into the database (``db import``) and back out (``db export``).

Import validates everything first with the same code as ``geodata validate``
(:func:`geodata.model.relations.load_atlas`), then writes every file, record,
source, link and designation in one transaction: a bad file leaves the
database untouched. Export writes each file through the project's YAML
writer (:func:`geodata.io.yaml_style.write_yaml_file`, atomic) with its
original comment header, items in their original order, keys in their
written order, so ``import`` then ``export`` gives the same bytes and the
team's work can be reviewed in git.

Export writes the approved snapshots only (``published_records``: what
reviewers approved, even while a newer draft is being edited), and the
approved links and designations whose records are written; pass
``include_drafts=True`` for the working copy (unretired rows, drafts too).
A viewer's connection can export the published store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row

from geodata.db import documents as docs
from geodata.db.published import published_docs, snapshot_records
from geodata.io.yaml_style import write_yaml_file
from geodata.model.relations import load_atlas, relation_paths
from geodata.store.load import DATASET_DIR, default_dataset_paths

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StoreNotEmptyError(RuntimeError):
    """Import refused: the database already holds records."""


@dataclass(frozen=True)
class TransferCounts:
    """How many of each thing moved."""

    files: int
    records: int
    links: int
    designations: int

    def __str__(self) -> str:
        return (f"{self.records} records, {self.links} links, {self.designations} "
                f"designations in {self.files} files")


def split_header(text: str) -> str:
    """The leading comment block of a dataset file, without the ``# `` marks."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return "\n".join(lines)


def _read(path: Path) -> tuple[str, list[dict[str, Any]]]:
    text = path.read_text(encoding="utf-8")
    items = yaml.load(text, Loader=_YAML_LOADER) or []
    return split_header(text), items


def _insert(conn: psycopg.Connection, table: str, row: dict[str, Any],
            returning: str | None = None) -> Any:
    stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, row)),
        sql.SQL(", ").join(sql.Placeholder() * len(row)))
    if returning:
        stmt = stmt + sql.SQL(" RETURNING {}").format(sql.Identifier(returning))
    cur = conn.execute(stmt, list(row.values()))
    return cur.fetchone()[0] if returning else None


def insert_sources(conn: psycopg.Connection, owner: str, owner_id: Any,
                   sources: Sequence[dict[str, Any]]) -> None:
    """Insert the sources of one record (``owner='record_id'``) or link (``'link_id'``)."""
    for position, src in enumerate(sources):
        _insert(conn, "sources", {**docs.source_row(src, position), owner: owner_id})


def import_datasets(conn: psycopg.Connection, directory: Path = DATASET_DIR) -> TransferCounts:
    """Load the curated files of ``directory`` into an empty store, as published.

    Raises
    ------
    geodata.store.load.DatasetError
        If any file fails validation (nothing is written).
    StoreNotEmptyError
        If the store already holds records.
    """
    record_paths = default_dataset_paths(directory)
    load_atlas(record_paths, directory)  # every problem, before anything is written
    links_path, designations_path = relation_paths(directory)
    n_records = n_links = n_designations = n_files = 0
    with conn.transaction():
        count = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        if count:
            raise StoreNotEmptyError(
                f"the database already holds {count} records; import fills an empty store "
                "(use `db init` on a new database)")
        for path in record_paths:
            header, items = _read(path)
            _insert(conn, "dataset_files", {"name": path.name, "content": "records",
                                            "header": header})
            n_files += 1
            for position, item in enumerate(items):
                row = {**docs.record_row(item), "review_status": "published",
                       "dataset_file": path.name, "file_position": position,
                       "updated_by": "import"}
                _insert(conn, "records", row)
                insert_sources(conn, "record_id", item["id"], item.get("sources") or [])
                n_records += 1
        for path, content in ((links_path, "links"), (designations_path, "designations")):
            if not path.is_file():
                continue
            header, items = _read(path)
            _insert(conn, "dataset_files", {"name": path.name, "content": content,
                                            "header": header})
            n_files += 1
            for position, item in enumerate(items):
                where = {"dataset_file": path.name, "file_position": position}
                if content == "links":
                    link_id = _insert(conn, "links", {**docs.link_row(item), **where}, "id")
                    insert_sources(conn, "link_id", link_id, item.get("sources") or [])
                    n_links += 1
                else:
                    _insert(conn, "designations", {**docs.designation_row(item), **where})
                    n_designations += 1
        snapshot_records(conn, None, who="import")
    return TransferCounts(n_files, n_records, n_links, n_designations)


def _sources_by(conn: psycopg.Connection, owner: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql.SQL("SELECT * FROM sources WHERE {} IS NOT NULL "
                                   "ORDER BY {}, position").format(
            sql.Identifier(owner), sql.Identifier(owner))).fetchall()
    for row in rows:
        out[row[owner]].append(row)
    return out


def export_datasets(conn: psycopg.Connection, directory: Path, *,
                    include_drafts: bool = False) -> TransferCounts:
    """Write every dataset file of the store into ``directory`` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    n_records = n_links = n_designations = 0
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        files = cur.execute("SELECT * FROM dataset_files ORDER BY name").fetchall()
        link_sources = _sources_by(conn, "link_id")
        per_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
        written: set[str] = set()
        if include_drafts:
            record_sources = _sources_by(conn, "record_id")
            for row in cur.execute("SELECT * FROM records WHERE retired_at IS NULL "
                                   "ORDER BY dataset_file, file_position").fetchall():
                per_file[row["dataset_file"]].append(
                    docs.record_doc(row, record_sources[row["id"]]))
                written.add(row["id"])
        else:
            for snap in published_docs(conn):
                per_file[snap["dataset_file"]].append(snap["doc"])
                written.add(snap["doc"]["id"])
        link_filter = "" if include_drafts else " WHERE review_status = 'published'"
        for row in cur.execute("SELECT * FROM links" + link_filter
                               + " ORDER BY dataset_file, file_position").fetchall():
            if row["from_id"] in written and row["to_id"] in written:
                per_file[row["dataset_file"]].append(docs.link_doc(row, link_sources[row["id"]]))
        for row in cur.execute(
                "SELECT * FROM designations ORDER BY dataset_file, file_position").fetchall():
            if row["record"] in written and row["listed_parent"] in (None, *written):
                per_file[row["dataset_file"]].append(docs.designation_doc(row))
        for f in files:
            items = per_file.get(f["name"], [])
            write_yaml_file(directory / f["name"], items, header=f["header"])
            if f["content"] == "records":
                n_records += len(items)
            elif f["content"] == "links":
                n_links += len(items)
            else:
                n_designations += len(items)
    return TransferCounts(len(files), n_records, n_links, n_designations)

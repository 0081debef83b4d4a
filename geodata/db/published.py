"""What viewers see: a snapshot of each record as a reviewer last approved it.

``records`` is the working copy editors change; an edit of a published
record makes that row a draft. Viewers must keep seeing the approved version
meanwhile, so approval (:func:`geodata.db.records.publish_record`) and import
copy the record's YAML document, sources included, into
``published_records`` (migration 0005), and viewers read only that table
(the database refuses them the working rows).

The snapshot is the document itself (``json`` keeps key order and numbers
as written), so exporting the published store gives the same bytes as
exporting the working rows would at the moment of approval.

Example
-------
>>> # with conn = a reviewer's session
>>> # snapshot_records(conn, ["fund-x"], who="rev")   # after approving fund-x
>>> # read_published(conn, "fund-x")                   # -> (doc, version) or None
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Json

from geodata.db import documents as docs


def _docs_of(conn: psycopg.Connection, where: str, params: Sequence[Any]) -> list[dict]:
    """Working rows matching ``where`` with their YAML documents (sources included)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM records WHERE " + where, params).fetchall()
        ids = [r["id"] for r in rows]
        sources: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            for s in cur.execute("SELECT * FROM sources WHERE record_id = ANY(%s) "
                                 "ORDER BY record_id, position", (ids,)):
                sources[s["record_id"]].append(s)
    return [{"row": r, "doc": docs.record_doc(r, sources[r["id"]])} for r in rows]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def snapshot_records(conn: psycopg.Connection, record_ids: Iterable[str] | None,
                     *, who: str) -> int:
    """Copy the working rows of ``record_ids`` (None: every published, unretired record)
    into ``published_records``; a retired record's snapshot is removed. Returns how
    many snapshots were written. Runs in the caller's transaction."""
    if record_ids is None:
        got = _docs_of(conn, "review_status = 'published' AND retired_at IS NULL", ())
    else:
        ids = list(record_ids)
        got = _docs_of(conn, "id = ANY(%s)", (ids,))
    written = 0
    for item in got:
        row, doc = item["row"], item["doc"]
        if row["retired_at"] is not None:
            conn.execute("DELETE FROM published_records WHERE id = %s", (row["id"],))
            continue
        conn.execute(
            "INSERT INTO published_records (id, version, kind, doc, dataset_file, "
            "file_position, published_by) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, doc = EXCLUDED.doc, "
            "dataset_file = EXCLUDED.dataset_file, file_position = EXCLUDED.file_position, "
            "published_at = clock_timestamp(), published_by = EXCLUDED.published_by",
            (row["id"], row["version"], row["kind"], Json(doc, dumps=_dumps),
             row["dataset_file"], row["file_position"], who))
        written += 1
    return written


def backfill(conn: psycopg.Connection) -> int:
    """Snapshot published records that have none (a store migrated to 0005)."""
    with conn.transaction():
        missing = [r[0] for r in conn.execute(
            "SELECT r.id FROM records r WHERE r.review_status = 'published' "
            "AND r.retired_at IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM published_records p WHERE p.id = r.id)")]
        return snapshot_records(conn, missing, who="migration") if missing else 0


def read_published(conn: psycopg.Connection, record_id: str) -> tuple[dict[str, Any], int] | None:
    """The approved document of a record and its version, or None if never approved."""
    got = conn.execute("SELECT doc, version FROM published_records WHERE id = %s",
                       (record_id,)).fetchone()
    return (got[0], got[1]) if got else None


def published_docs(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every approved record: ``{"doc", "version", "dataset_file", "file_position"}``,
    in file order."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT doc, version, dataset_file, file_position FROM "
                           "published_records ORDER BY dataset_file, file_position").fetchall()


def published_stamp(conn: psycopg.Connection) -> tuple:
    """A value that changes whenever what viewers see changes (a cache key).

    Counts and newest stamps of the snapshots, links and designations a viewer
    can read: an approval rewrites ``published_at``, a retirement removes a row,
    a link approval changes the visible links.
    """
    snap = conn.execute("SELECT count(*), max(published_at), coalesce(sum(version), 0) "
                        "FROM published_records").fetchone()
    links = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM links").fetchone()
    designations = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM designations"
                                ).fetchone()
    return (snap[0], snap[1].isoformat() if snap[1] else "", int(snap[2]), *links,
            *designations)

"""Editing records in the team store: optimistic concurrency, history, revert, review.

Every function takes a connection whose role decides what the database lets
it do (:func:`geodata.db.accounts.connect_as`): a viewer cannot write at
all, an editor's writes are always drafts (row-level security refuses
anything else), a reviewer publishes. Each function runs in one
transaction and appends to ``history`` in it, so a change and its history
entry exist together or not at all.

Concurrency is optimistic: a save names the version it was based on; if the
record moved on meanwhile, :class:`ConflictError` is raised carrying both
versions and the changes made since, and nothing is written, so the user can
re-read and reapply. The row is locked (``SELECT … FOR UPDATE``) between the
check and the write, so two saves on one version can never both succeed.

Example
-------
>>> # with conn = connect_as(dsn, "alice")
>>> # v = save_record(conn, "fund-x", {"city": "Foshan"}, expected_version=3,
>>> #                 source={"publisher": "Xinhua", "title": "..."}, who="alice")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from geodata.db import documents as docs
from geodata.db.published import _docs_of, read_published, snapshot_records
from geodata.db.transfer import insert_sources
from geodata.model.relations import LINK_ENDS, LINKS_FILE
from geodata.model.schema import ID_PREFIXES, RECORD_COLUMNS, Link, Record, Source
from geodata.store.load import _problems_from_validation

#: Which file a new record of each kind is exported to.
DEFAULT_FILES: dict[str, str] = {
    "cluster": "clusters.yaml", "fund": "funds.yaml", "zone": "zones.yaml",
    "organisation": "organisations-curated.yaml",
}
#: Fields an edit may not change: the id is permanent, the kind fixes the id prefix.
FIXED_FIELDS = frozenset({"id", "kind"})


@dataclass(frozen=True)
class Change:
    """One history entry, as shown to a user."""

    id: int
    version: int
    at: str
    who: str
    action: str
    fields: list[str]
    old_values: dict[str, Any]
    new_values: dict[str, Any]
    source: dict[str, Any] | None
    note: str | None
    reverts: int | None


class ConflictError(RuntimeError):
    """The record changed since the version the edit was based on; nothing was saved.

    Carries the version the user had, the current one, what changed in
    between (``changes``, oldest first) and the user's own unsaved changes
    (``attempted``), so the edit can be shown again and reapplied.
    """

    def __init__(self, record_id: str, expected_version: int, current_version: int,
                 changes: Sequence[Change], attempted: Mapping[str, Any]):
        self.record_id = record_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.changes = list(changes)
        self.attempted = dict(attempted)
        touched = sorted({f for c in self.changes for f in c.fields})
        who = sorted({c.who for c in self.changes})
        super().__init__(
            f"{record_id} was changed by {', '.join(who) or 'someone'} since you opened it "
            f"(your version {expected_version}, now {current_version}; changed: "
            f"{', '.join(touched) or 'nothing visible'}); your edit was not saved: "
            "review the changes and apply it again.")


@dataclass
class EditRejectedError(ValueError):
    """The edit breaks the schema; ``problems`` name each field and what was expected."""

    record_id: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"edit of {self.record_id} refused: " + "; ".join(self.problems)


class RecordNotFoundError(LookupError):
    """No record with this id is visible to this account."""


def _validate(doc: Mapping[str, Any], source: Mapping[str, Any] | None) -> None:
    problems: list[str] = []
    try:
        Record.model_validate(dict(doc))
    except ValidationError as exc:
        problems += [f"{p.field}: {p.message}"
                     for p in _problems_from_validation("-", None, "-", exc)]
    if source is not None:
        try:
            Source.model_validate(dict(source))
        except ValidationError as exc:
            problems += [f"source.{p.field}: {p.message}"
                         for p in _problems_from_validation("-", None, "-", exc)]
    if problems:
        raise EditRejectedError(str(doc.get("id")), problems)


def _read_row(conn: psycopg.Connection, record_id: str, *, lock: bool) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT * FROM records WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                          (record_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(
                f"no record has id {record_id!r} (or it is not visible to you)")
        sources = cur.execute("SELECT * FROM sources WHERE record_id = %s ORDER BY position",
                              (record_id,)).fetchall()
    return {"row": row, "doc": docs.record_doc(row, sources)}


def read_record(conn: psycopg.Connection, record_id: str) -> tuple[dict[str, Any], int, str]:
    """A record's document, its version and its review status (draft or published)."""
    with conn.transaction():
        got = _read_row(conn, record_id, lock=False)
    return got["doc"], got["row"]["version"], got["row"]["review_status"]


def history(conn: psycopg.Connection, record_id: str, *, after_version: int = 0) -> list[Change]:
    """The record's history entries with a version above ``after_version``, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM history WHERE record_id = %s AND version > %s ORDER BY id",
            (record_id, after_version)).fetchall()
    return [Change(r["id"], r["version"], r["at"].isoformat(), r["who"], r["action"],
                   list(r["fields"]), r["old_values"], r["new_values"], r["source"], r["note"],
                   r["reverts"]) for r in rows]


def _ordered_fields(old_order: Sequence[str], doc: Mapping[str, Any],
                   changed: Sequence[str]) -> list[str]:
    """Keys to write: the old order; a field emptied by this edit is dropped, a newly
    filled one is placed after the nearest schema field before it."""
    def empty(k: str) -> bool:
        return doc.get(k) is None or doc.get(k) == []

    kept = [k for k in old_order if not (k in changed and empty(k))]
    for k in RECORD_COLUMNS:
        if k not in kept and not empty(k):
            before = RECORD_COLUMNS[: RECORD_COLUMNS.index(k)]
            at = max((kept.index(b) + 1 for b in before if b in kept), default=0)
            kept.insert(at, k)
    return kept


def _write(conn: psycopg.Connection, record_id: str, doc: dict[str, Any], order: list[str],
           expected_version: int, review_status: str, who: str, *,
           sources_changed: bool, retire: bool = False) -> int:
    ordered = {k: doc[k] for k in order}
    row = docs.record_row(ordered)
    for f in FIXED_FIELDS:
        row.pop(f, None)
    row["review_status"] = review_status
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in row]
    extra = ", retired_at = now(), retired_by = {who}" if retire else ""
    stmt = sql.SQL("UPDATE records SET {}, version = version + 1, updated_at = now(), "
                   "updated_by = {who}" + extra + " WHERE id = {id} AND version = {v} "
                   "RETURNING version").format(
        sql.SQL(", ").join(assignments), who=sql.Literal(who), id=sql.Literal(record_id),
        v=sql.Literal(expected_version))
    got = conn.execute(stmt, list(row.values())).fetchone()
    if got is None:  # cannot happen under the row lock; kept as a guard
        raise RuntimeError(f"{record_id}: version {expected_version} vanished under lock")
    if sources_changed:
        conn.execute("DELETE FROM sources WHERE record_id = %s", (record_id,))
        insert_sources(conn, "record_id", record_id, doc.get("sources") or [])
    return got[0]


def _append(conn: psycopg.Connection, record_id: str, version: int, who: str, action: str,
            old: Mapping[str, Any], new: Mapping[str, Any], source: Mapping[str, Any] | None,
            note: str | None = None, reverts: int | None = None) -> int:
    return conn.execute(
        "INSERT INTO history (record_id, version, who, action, fields, old_values, new_values,"
        " source, note, reverts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (record_id, version, who, action, list(new), Jsonb(dict(old)), Jsonb(dict(new)),
         Jsonb(dict(source)) if source is not None else None, note, reverts),
    ).fetchone()[0]


def _changed(doc: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    # Compare as JSON so 30 == 30.0 and tuples == lists.
    return {k: v for k, v in changes.items()
            if json.dumps(doc.get(k), sort_keys=True) != json.dumps(v, sort_keys=True)}


def save_record(conn: psycopg.Connection, record_id: str, changes: Mapping[str, Any], *,
                expected_version: int, source: Mapping[str, Any], who: str,
                action: str = "edit", retire: bool = False, note: str | None = None,
                reverts: int | None = None) -> int:
    """Apply ``changes`` (field -> new value) to the record at ``expected_version``.

    The result is a draft until a reviewer publishes it. ``source`` is the
    citation for the change (a :class:`geodata.model.schema.Source`). Returns the
    new version (the same version if nothing changed).

    Raises
    ------
    ConflictError
        The record is no longer at ``expected_version``; nothing was written.
    EditRejectedError
        The edited record or the source breaks the schema, or a fixed field changes.
    RecordNotFoundError
        No such record visible to this account.
    psycopg.errors.InsufficientPrivilege
        The account's role may not write (the database refuses it).
    """
    bad = sorted(FIXED_FIELDS & set(changes))
    if bad:
        raise EditRejectedError(record_id, [f"{f}: cannot be changed (retire the record and "
                                       "add a new one)" for f in bad])
    unknown = sorted(set(changes) - set(docs.RECORD_FIELDS))
    if unknown:
        raise EditRejectedError(record_id, [f"{f}: not a record field" for f in unknown])
    with conn.transaction():
        got = _read_row(conn, record_id, lock=True)
        row, doc = got["row"], got["doc"]
        if row["version"] != expected_version:
            raise ConflictError(record_id, expected_version, row["version"],
                                history(conn, record_id, after_version=expected_version),
                                changes)
        delta = _changed(doc, changes)
        if not delta and not retire:
            return row["version"]
        new_doc = {**doc, **delta}
        _validate(new_doc, source)
        order = _ordered_fields(row["field_order"], new_doc, list(delta))
        version = _write(conn, record_id, new_doc, order, expected_version, "draft", who,
                         sources_changed="sources" in delta, retire=retire)
        old = {k: doc.get(k) for k in delta}
        if retire:
            old["retired"], delta = False, {**delta, "retired": True}
        _append(conn, record_id, version, who, "retire" if retire else action, old, delta,
                source, note, reverts)
    return version


def retire_record(conn: psycopg.Connection, record_id: str, *, expected_version: int,
                  source: Mapping[str, Any], who: str) -> int:
    """Retire a record (never deleted): hidden from viewers and exports, kept with its history."""
    return save_record(conn, record_id, {}, expected_version=expected_version, source=source,
                       who=who, retire=True)


def _file_for(conn: psycopg.Connection, kind: str, record_id: str) -> str:
    """The dataset file a new record of ``kind`` goes to: the curated default
    (:data:`DEFAULT_FILES`), else the file holding most records of that kind."""
    name = DEFAULT_FILES[kind]
    got = conn.execute("SELECT dataset_file FROM records WHERE kind = %s GROUP BY 1 "
                       "ORDER BY (dataset_file = %s) DESC, count(*) DESC, 1 LIMIT 1",
                       (kind, name)).fetchone()
    if got:
        return got[0]
    if not conn.execute("SELECT 1 FROM dataset_files WHERE name = %s", (name,)).fetchone():
        raise EditRejectedError(record_id, [f"kind: the store has no {name} for a new {kind}; "
                                            "an administrator imports it first"])
    return name


def create_record(conn: psycopg.Connection, doc: Mapping[str, Any], *,
                  source: Mapping[str, Any], who: str) -> int:
    """Add a new record as a draft; returns its version (1)."""
    doc = dict(doc)
    _validate(doc, source)
    prefix = ID_PREFIXES[doc["kind"]]
    if not str(doc["id"]).startswith(prefix):
        raise EditRejectedError(doc["id"], [f"id: a {doc['kind']} id starts with {prefix!r}"])
    order = _ordered_fields([], doc, list(doc))
    ordered = {k: doc[k] for k in order}
    with conn.transaction():
        dataset_file = _file_for(conn, doc["kind"], doc["id"])
        exists = conn.execute("SELECT 1 FROM records WHERE id = %s", (doc["id"],)).fetchone()
        if exists:
            raise EditRejectedError(doc["id"], ["id: already used (ids are never reused)"])
        position = conn.execute(
            "SELECT coalesce(max(file_position) + 1, 0) FROM records WHERE dataset_file = %s",
            (dataset_file,)).fetchone()[0]
        row = {**docs.record_row(ordered), "review_status": "draft",
               "dataset_file": dataset_file, "file_position": position, "updated_by": who}
        conn.execute(sql.SQL("INSERT INTO records ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row))), list(row.values()))
        insert_sources(conn, "record_id", doc["id"], doc.get("sources") or [])
        _append(conn, doc["id"], 1, who, "create", {}, ordered, source)
    return 1


def publish_record(conn: psycopg.Connection, record_id: str, *, expected_version: int,
                   who: str, note: str | None = None) -> int:
    """Approve a draft (reviewers only: the database refuses an editor's publish).

    The approved working row becomes what viewers see: its snapshot in
    ``published_records`` is rewritten (removed, for an approved retirement)
    and the draft links starting at the record are approved with it.
    """
    with conn.transaction():
        got = _read_row(conn, record_id, lock=True)
        row = got["row"]
        if row["version"] != expected_version:
            raise ConflictError(record_id, expected_version, row["version"],
                                history(conn, record_id, after_version=expected_version), {})
        if row["review_status"] == "published":
            return row["version"]
        version = conn.execute(
            "UPDATE records SET review_status = 'published', version = version + 1, "
            "updated_at = now(), updated_by = %s WHERE id = %s RETURNING version",
            (who, record_id)).fetchone()[0]
        conn.execute("UPDATE links SET review_status = 'published' WHERE from_id = %s "
                     "AND review_status = 'draft'", (record_id,))
        snapshot_records(conn, [record_id], who=who)
        _append(conn, record_id, version, who, "publish", {"review_status": "draft"},
                {"review_status": "published"}, None, note)
    return version


def discard_draft(conn: psycopg.Connection, record_id: str, *, expected_version: int,
                  who: str, note: str | None = None) -> int:
    """Send a draft back: the record returns to its approved version (reviewers only).

    Its draft links are removed and, if it was never approved, it is retired
    (records are never deleted, ids never reused). The discarded values stay
    in the history (``discard`` entry: old = the draft, new = the approved
    values), so nothing is lost. Returns the new version.
    """
    with conn.transaction():
        got = _read_row(conn, record_id, lock=True)
        row, doc = got["row"], got["doc"]
        if row["version"] != expected_version:
            raise ConflictError(record_id, expected_version, row["version"],
                                history(conn, record_id, after_version=expected_version), {})
        if row["review_status"] == "published":
            return row["version"]
        conn.execute("DELETE FROM links WHERE from_id = %s AND review_status = 'draft'",
                     (record_id,))
        snap = read_published(conn, record_id)
        if snap is None:
            version = conn.execute(
                "UPDATE records SET review_status = 'published', retired_at = now(), "
                "retired_by = %s, version = version + 1, updated_at = now(), updated_by = %s "
                "WHERE id = %s RETURNING version", (who, who, record_id)).fetchone()[0]
            old, new = {"retired": False}, {"retired": True}
        else:
            approved = snap[0]
            delta = _changed(doc, {k: approved.get(k) for k in dict.fromkeys([*doc, *approved])})
            version = _write(conn, record_id, approved, list(approved), expected_version,
                             "published", who, sources_changed="sources" in delta)
            conn.execute("UPDATE records SET retired_at = NULL, retired_by = NULL "
                         "WHERE id = %s", (record_id,))
            old, new = {k: doc.get(k) for k in delta}, delta
            if row["retired_at"] is not None:
                old["retired"], new["retired"] = True, False
        _append(conn, record_id, version, who, "discard", old, new, None, note)
    return version


def create_link(conn: psycopg.Connection, from_id: str, to_id: str, link_type: str, *,
                expected_version: int, source: Mapping[str, Any], who: str) -> int:
    """Link ``from_id`` to ``to_id`` with ``source`` as its citation; returns the new
    version of ``from_id``.

    A link is a change of the record it starts at: the record becomes a draft,
    its history gets a ``link`` entry, and viewers see the link once a
    reviewer approves the record (:func:`publish_record`).

    Raises
    ------
    ConflictError
        ``from_id`` is no longer at ``expected_version``.
    EditRejectedError
        The link breaks the schema (type, ends, loop, duplicate) or the source does.
    """
    doc = {"from": from_id, "to": to_id, "type": link_type, "sources": [dict(source)]}
    try:
        Link.model_validate(doc)
    except ValidationError as exc:
        raise EditRejectedError(from_id, [
            f"{p.field}: {p.message}"
            for p in _problems_from_validation("-", None, "-", exc)]) from None
    with conn.transaction():
        row = _read_row(conn, from_id, lock=True)["row"]
        if row["version"] != expected_version:
            raise ConflictError(from_id, expected_version, row["version"],
                                history(conn, from_id, after_version=expected_version),
                                {"links": [doc]})
        target = conn.execute("SELECT kind, retired_at FROM records WHERE id = %s",
                              (to_id,)).fetchone()
        if target is None or target[1] is not None:
            raise EditRejectedError(from_id, [f"to: no current record has id {to_id!r}"])
        allowed = LINK_ENDS.get(link_type, (None, None))
        for end, kind, kinds in (("from", row["kind"], allowed[0]), ("to", target[0], allowed[1])):
            if kinds is not None and kind not in kinds:
                raise EditRejectedError(from_id, [
                    f"{end}: a {link_type} link cannot have a {kind} at its {end} end"])
        if conn.execute("SELECT 1 FROM links WHERE from_id = %s AND to_id = %s AND type = %s",
                        (from_id, to_id, link_type)).fetchone():
            raise EditRejectedError(from_id, [f"link: {from_id} is already {link_type} {to_id}"])
        position = conn.execute(
            "SELECT coalesce(max(file_position) + 1, 0) FROM links WHERE dataset_file = %s",
            (LINKS_FILE,)).fetchone()[0]
        if not conn.execute("SELECT 1 FROM dataset_files WHERE name = %s",
                            (LINKS_FILE,)).fetchone():
            raise EditRejectedError(from_id, [f"link: the store has no {LINKS_FILE}; "
                                              "import the datasets first"])
        link_id = conn.execute(
            "INSERT INTO links (from_id, to_id, type, dataset_file, file_position, "
            "field_order, review_status) VALUES (%s, %s, %s, %s, %s, %s, 'draft') RETURNING id",
            (from_id, to_id, link_type, LINKS_FILE, position,
             ["from", "to", "type", "sources"])).fetchone()[0]
        insert_sources(conn, "link_id", link_id, [dict(source)])
        version = conn.execute(
            "UPDATE records SET review_status = 'draft', version = version + 1, "
            "updated_at = now(), updated_by = %s WHERE id = %s RETURNING version",
            (who, from_id)).fetchone()[0]
        _append(conn, from_id, version, who, "link", {},
                {"links": {"to": to_id, "type": link_type}}, source)
    return version


@dataclass(frozen=True)
class Draft:
    """A record waiting for review: what changed since it was last approved."""

    id: str
    name: str
    kind: str
    version: int
    published_version: int | None
    updated_by: str
    updated_at: str
    retired: bool
    #: field -> (approved value, draft value); for a new record, old values are None.
    changes: dict[str, tuple[Any, Any]]
    #: The changes since approval (history entries), with who made them and their sources.
    entries: list[Change] = field(default_factory=list)


def review_queue(conn: psycopg.Connection) -> list[Draft]:
    """Every draft (new records, edits of approved ones, retirements), oldest first."""
    with conn.transaction():
        rows = _docs_of(conn, "review_status = 'draft' ORDER BY updated_at, id", ())
        out = []
        for item in rows:
            row, doc = item["row"], item["doc"]
            snap = read_published(conn, row["id"])
            old = snap[0] if snap else {}
            changes = {k: (old.get(k), doc.get(k)) for k in dict.fromkeys([*old, *doc])
                       if json.dumps(old.get(k), sort_keys=True)
                       != json.dumps(doc.get(k), sort_keys=True)}
            pending_links = conn.execute(
                "SELECT to_id, type FROM links WHERE from_id = %s AND review_status = 'draft'",
                (row["id"],)).fetchall()
            if pending_links:
                changes["links"] = (None, [f"{t} {to}" for to, t in pending_links])
            if row["retired_at"] is not None:
                changes["retired"] = (False, True)
            out.append(Draft(row["id"], row["name_en"], row["kind"], row["version"],
                             snap[1] if snap else None, row["updated_by"],
                             row["updated_at"].isoformat(timespec="seconds"),
                             row["retired_at"] is not None, changes,
                             history(conn, row["id"], after_version=snap[1] if snap else 0)))
    return out


def revert_change(conn: psycopg.Connection, change_id: int, *, expected_version: int,
                  who: str, note: str | None = None) -> int:
    """Undo one history entry by restoring its old values (as a new change, a draft).

    Refused with :class:`ConflictError` if a later change touched the same
    fields (reverting would silently drop it), or if the record moved past
    ``expected_version``.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        entry = cur.execute("SELECT * FROM history WHERE id = %s", (change_id,)).fetchone()
    if entry is None:
        raise LookupError(f"no history entry #{change_id}")
    if entry["action"] not in ("edit", "revert"):
        raise EditRejectedError(entry["record_id"], [
            f"history entry #{change_id} is a {entry['action']}; only edits can be reverted"])
    record_id = entry["record_id"]
    later = [c for c in history(conn, record_id, after_version=entry["version"])
             if set(c.fields) & set(entry["fields"]) and c.action != "publish"]
    if later:
        raise ConflictError(record_id, entry["version"], later[-1].version, later,
                            entry["old_values"])
    source = {"publisher": "CMF Atlas history", "title": f"Revert of change #{change_id}"}
    return save_record(conn, record_id, entry["old_values"], expected_version=expected_version,
                       source=source, who=who, action="revert", note=note, reverts=change_id)

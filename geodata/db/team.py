"""The dashboard's team mode: where the store is, sessions, and turning form input into edits.

Team mode is on when ``CMF_ATLAS_DB`` is set to a libpq connection string
for the ``cmf_app`` login, e.g.::

    CMF_ATLAS_DB="host=127.0.0.1 port=55432 dbname=cmf_atlas user=cmf_app \\
                  passfile=/path/to/.pgdata/app.pgpass"

(``make run-team`` writes that passfile and sets the variable). The
dashboard then holds no data of its own: every page reads the published
atlas from the database, and the Team page edits it. Each action opens a
connection, switches to the signed-in account's role
(:func:`geodata.db.accounts.start_session`) so the database enforces what the
account may do, and closes it: any number of app servers can share one
database.

Nothing here imports Streamlit: the page (``dashboard/views/team.py``) only
reads widgets and calls these functions.

Example
-------
>>> changes_from_form({"id": "zone-a", "city": "A", "notes": "x"},
...                   "id: zone-a\\ncity: B\\n", None)
{'city': 'B', 'notes': None}
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

from geodata.db import accounts
from geodata.db.published import published_stamp
from geodata.db.records import Change, ConflictError
from geodata.db.transfer import export_datasets
from geodata.model import schema

#: The connection string of the ``cmf_app`` login; set means team mode.
TEAM_DB_ENV = "CMF_ATLAS_DB"
#: A signed-in session ends after this long without use, and after MAX_SESSION at most.
IDLE_TIMEOUT_S = 30 * 60
MAX_SESSION_S = 8 * 60 * 60
#: Who the dashboard is for the database before anyone signs in.
ANONYMOUS = accounts.Account("anonymous", "viewer")
#: Roles allowed to edit and to review.
EDIT_ROLES = frozenset({"editor", "reviewer", "admin"})
REVIEW_ROLES = frozenset({"reviewer", "admin"})
#: Fields edited with their own inputs rather than in the YAML text.
POINT_FIELDS = ("lat", "lon")


class FormError(ValueError):
    """The form's text is not a record document; the message says where."""


def team_dsn() -> str | None:
    """The team store's connection string, or None outside team mode."""
    return os.environ.get(TEAM_DB_ENV) or None


@contextmanager
def session(account: accounts.Account, dsn: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection working as ``account``'s database role, closed afterwards."""
    conn = psycopg.connect(dsn or team_dsn() or "", autocommit=True, connect_timeout=10)
    try:
        yield accounts.start_session(conn, account)
    finally:
        conn.close()


def sign_in(name: str, password: str, dsn: str | None = None) -> accounts.Account:
    """Check a password with the app's own login (before any role switch)."""
    with psycopg.connect(dsn or team_dsn() or "", autocommit=True, connect_timeout=10) as conn:
        return accounts.sign_in(conn, name.strip(), password)


def session_expired(signed_in_at: float, last_seen: float, now: float) -> bool:
    """Whether a signed-in session has ended (idle too long, or open too long).

    >>> session_expired(0, 0, IDLE_TIMEOUT_S + 1)
    True
    >>> session_expired(0, MAX_SESSION_S, MAX_SESSION_S + 1)
    True
    >>> session_expired(0, 100, 200)
    False
    """
    return now - last_seen > IDLE_TIMEOUT_S or now - signed_in_at > MAX_SESSION_S


#: How many exported published states a server keeps on disk (older ones are removed).
KEEP_SNAPSHOTS = 4


def published_snapshot(base: Path | None = None, dsn: str | None = None,
                       keep: int = KEEP_SNAPSHOTS) -> Path:
    """Export what viewers see into a new folder under ``base`` (a temp folder by
    default) as dataset YAML, for the dashboard's ordinary loader; returns it.

    Only the ``keep`` newest folders under ``base`` are kept, so a long-running
    server does not fill the disk with one folder per approval.
    """
    base = Path(base or Path(tempfile.gettempdir()) / f"cmf-atlas-published-{os.getpid()}")
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{time.time_ns():020d}-", dir=base))
    with session(ANONYMOUS, dsn) as conn:
        export_datasets(conn, folder)
    for old in sorted(p for p in base.iterdir() if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def current_stamp(dsn: str | None = None) -> tuple:
    """:func:`geodata.db.published.published_stamp` read as an anonymous viewer."""
    with session(ANONYMOUS, dsn) as conn:
        return published_stamp(conn)


def record_yaml(doc: Mapping[str, Any]) -> str:
    """A record document as the YAML a user edits (keys in written order), without
    the point, which has its own inputs."""
    body = {k: v for k, v in doc.items() if k not in POINT_FIELDS}
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                   default=str)


def parse_form(text: str) -> dict[str, Any]:
    """The YAML text of the form as a document; :class:`FormError` says what is wrong."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise FormError(f"the record text is not valid YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise FormError("the record text must be a mapping of field: value lines")
    unknown = sorted(set(doc) - set(schema.RECORD_COLUMNS))
    if unknown:
        raise FormError(f"not a record field: {', '.join(map(str, unknown))}")
    # YAML reads 2024-05-01 as a date; the schema and the store keep text.
    return json.loads(json.dumps(doc, default=str, ensure_ascii=False))


def changes_from_form(original: Mapping[str, Any], text: str,
                      point: tuple[float | None, float | None] | None) -> dict[str, Any]:
    """Field -> new value for what the user changed: the YAML text against the
    record, plus the point inputs (``None`` leaves the point as it was).

    A field deleted from the text is emptied (``None``).
    """
    edited = parse_form(text)
    if point is not None:
        edited["lat"], edited["lon"] = point
    else:
        for f in POINT_FIELDS:
            if f in original:
                edited[f] = original[f]
    out: dict[str, Any] = {}
    for key in dict.fromkeys([*original, *edited]):
        new = edited.get(key)
        if not _same(original.get(key), new):
            out[key] = new
    return out


def reapply(latest: Mapping[str, Any], attempted: Mapping[str, Any]) -> dict[str, Any]:
    """The latest document with the user's refused changes applied again on top."""
    return {**latest, **attempted}


def source_from_form(publisher: str, title: str, url: str) -> dict[str, str]:
    """The citation of a change from the form's three inputs (blank ones left out)."""
    src = {"publisher": publisher.strip(), "title": title.strip(), "url": url.strip()}
    return {k: v for k, v in src.items() if v}


def new_record_template(kind: str) -> str:
    """A YAML skeleton of a new record of ``kind`` for the Add form, to fill in."""
    doc: dict[str, Any] = {
        "id": schema.ID_PREFIXES[kind] + "new-record",
        "kind": kind,
        "category": next(iter(schema.CATEGORIES[kind])),
        "name_en": "", "name_zh": "",
        "province": "Beijing", "city": "Beijing", "lat": 39.9042, "lon": 116.4074,
        "location_precision": "city",
        "year": 2024,
        "domains": [next(iter(schema.DOMAINS))],
        "description": "",
        "sources": [{"publisher": "", "title": "", "url": "https://"}],
    }
    if kind == "zone":
        doc["status"] = next(iter(schema.ZONE_STATUSES))
    if kind == "organisation":
        doc.pop("year")
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def short_value(value: Any, limit: int = 120) -> str:
    """A value as one line of table text, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                         default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _source_text(source: Mapping[str, Any] | None) -> str:
    if not source:
        return ""
    parts = [source.get("publisher"), source.get("title"), source.get("url")]
    return " · ".join(str(p) for p in parts if p)


def history_rows(changes: list[Change]) -> list[dict[str, Any]]:
    """One table row per field changed: who, when, which field, old and new, source."""
    rows = []
    for c in changes:
        for f in c.fields or ["—"]:
            rows.append({
                "change": c.id, "version": c.version, "when (UTC)": c.at[:19].replace("T", " "),
                "who": c.who, "action": c.action, "field": f,
                "old": short_value(c.old_values.get(f)) if f in c.old_values else "",
                "new": short_value(c.new_values.get(f)) if f in c.new_values else "",
                "source": _source_text(c.source),
                "note": c.note or "",
            })
    return rows


def conflict_rows(err: ConflictError) -> list[dict[str, Any]]:
    """What changed meanwhile, one row per field, for the conflict message."""
    return history_rows(err.changes)


@dataclass(frozen=True)
class RecordChoice:
    """A record the Team page can open: id, label, version and status."""

    id: str
    label: str
    version: int
    status: str
    retired: bool


def record_choices(conn: psycopg.Connection) -> list[RecordChoice]:
    """The working records an editor can open, by name."""
    rows = conn.execute(
        "SELECT id, name_en, version, review_status, retired_at IS NOT NULL FROM records "
        "ORDER BY name_en, id").fetchall()
    return [RecordChoice(r[0], f"{r[1]} ({r[0]})" + (" · draft" if r[3] == "draft" else "")
                         + (" · retired" if r[4] else ""), r[2], r[3], r[4]) for r in rows]

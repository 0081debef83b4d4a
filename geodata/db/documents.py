"""Convert between the YAML form of records, links, sources and designations and table rows.

A *document* is what a dataset file holds for one item: a dict whose keys
are in the order they were written (``field_order`` in the tables), with
YAML's plain values. A *row* is what the tables hold. Numbers are stored as
``numeric``, which keeps their written form (``30`` stays an integer,
``23.0215`` keeps its digits), and event dates as ``json``, which keeps key
order, so :func:`record_doc` gives back exactly what :func:`record_row` was
given and an export is byte-identical to the file imported.

Example
-------
>>> row = source_row({"publisher": "P", "title": "T", "accessed": "2026-01-02"}, 0)
>>> source_doc(row)
{'publisher': 'P', 'title': 'T', 'accessed': '2026-01-02'}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from psycopg.types.json import Json

from geodata.model.schema import LIST_COLUMNS, RECORD_COLUMNS, Designation, Link, Record, Source

#: Record fields, which are also the records table's column names.
RECORD_FIELDS: tuple[str, ...] = tuple(Record.model_fields)
#: Fields whose values are stored in their own table (``sources``).
_SEPARATE = frozenset({"sources"})
NUMERIC_FIELDS = frozenset({"lat", "lon", "fund_size_rmb_bn"})
JSON_FIELDS = frozenset({"dates"})
SOURCE_FIELDS: tuple[str, ...] = tuple(Source.model_fields)
DESIGNATION_FIELDS: tuple[str, ...] = tuple(Designation.model_fields)
#: A link's YAML keys and the column each is stored in.
LINK_COLUMNS: dict[str, str] = {
    (f.alias or name): ("from_id" if name == "from_id" else "to_id" if name == "to_id" else name)
    for name, f in Link.model_fields.items()
}

assert set(RECORD_FIELDS) == set(RECORD_COLUMNS), "schema.RECORD_COLUMNS and Record disagree"


def to_number(value: Decimal | None) -> int | float | None:
    """A stored numeric as YAML wrote it: integral text as int, else float."""
    if value is None:
        return None
    return int(value) if value.as_tuple().exponent >= 0 else float(value)


def _from_number(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise TypeError(f"expected a number, got {value!r}")
    return Decimal(str(value))


def _plain(value: Any) -> Any:
    """A value as YAML would give it: dates as ISO text, Decimals as numbers."""
    if isinstance(value, Decimal):
        return to_number(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def record_row(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for one record document (sources excluded; see :func:`source_rows`)."""
    row: dict[str, Any] = {}
    for field in RECORD_FIELDS:
        if field in _SEPARATE:
            continue
        value = doc.get(field)
        if field in NUMERIC_FIELDS:
            value = _from_number(value)
        elif field in JSON_FIELDS:
            value = Json(value if value is not None else [], dumps=_dumps)
        elif field in LIST_COLUMNS:
            value = list(value or [])
        elif field == "name_en_ours":
            value = bool(value)
        row[field] = value
    row["field_order"] = list(doc)
    return row


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_plain)


def record_doc(row: Mapping[str, Any], sources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The YAML document of a record row, keys in the written order."""
    doc: dict[str, Any] = {}
    for field in row["field_order"]:
        if field == "sources":
            doc[field] = [source_doc(s) for s in sources]
        elif field in NUMERIC_FIELDS:
            doc[field] = to_number(row[field])
        else:
            value = row[field]
            doc[field] = list(value) if isinstance(value, (list, tuple)) else _plain(value)
    return doc


def source_row(doc: Mapping[str, Any], position: int) -> dict[str, Any]:
    """Column values of one source of a record or link."""
    row = {f: doc.get(f) for f in SOURCE_FIELDS}
    if isinstance(row["accessed"], str):
        row["accessed"] = dt.date.fromisoformat(row["accessed"])
    row["position"] = position
    row["field_order"] = list(doc)
    return row


def source_doc(row: Mapping[str, Any]) -> dict[str, Any]:
    """The YAML document of a source row."""
    return {f: _plain(row[f]) for f in row["field_order"]}


def link_row(doc: Mapping[str, Any]) -> dict[str, Any]:
    row = {col: doc.get(key) for key, col in LINK_COLUMNS.items() if key != "sources"}
    row["dates"] = Json(row.get("dates") or [], dumps=_dumps)
    row["field_order"] = list(doc)
    return row


def link_doc(row: Mapping[str, Any], sources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in row["field_order"]:
        out[key] = ([source_doc(s) for s in sources] if key == "sources"
                    else _plain(row[LINK_COLUMNS[key]]))
    return out


def designation_row(doc: Mapping[str, Any]) -> dict[str, Any]:
    row = {f: _plain(doc.get(f)) for f in DESIGNATION_FIELDS}
    row["field_order"] = list(doc)
    return row


def designation_doc(row: Mapping[str, Any]) -> dict[str, Any]:
    return {f: _plain(row[f]) for f in row["field_order"]}

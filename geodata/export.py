"""Serialise a selection as GeoJSON or CSV, sources included.

The same functions feed ``python -m geodata list --format ...`` and the
dashboard's downloads, so a record exported anywhere looks the same.
CSV cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd

from geodata.schema import LIST_COLUMNS, RECORD_COLUMNS, RELATION_COLUMNS

#: Properties carried by every GeoJSON feature, in order. The relation columns
#: (``parent_id``, ``links``, ``designations``, ``designated``) come from
#: :func:`geodata.relations.attach_relations`; a frame without them exports
#: empty values, so a feature always has the same keys.
GEOJSON_PROPERTIES: list[str] = [
    *(c for c in RECORD_COLUMNS if c not in ("lat", "lon")), *RELATION_COLUMNS,
]
#: Columns of the CSV: every record column, then the relations, flattened.
CSV_COLUMNS: list[str] = [*RECORD_COLUMNS, *RELATION_COLUMNS]
_RELATION_DEFAULTS: dict[str, Any] = {
    "parent_id": None, "links": [], "designations": [], "designated": False,
}

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _with_relations(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in RELATION_COLUMNS if c not in frame.columns]
    if not missing:
        return frame
    out = pd.DataFrame(frame).copy()
    for col in missing:
        default = _RELATION_DEFAULTS[col]
        out[col] = [list(default) if isinstance(default, list) else default] * len(out)
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    return value


def to_geojson(frame: pd.DataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS84 points) of the rows in ``frame``.

    Example
    -------
    >>> to_geojson(pd.DataFrame(columns=RECORD_COLUMNS))["type"]
    'FeatureCollection'
    """
    features = []
    frame = _with_relations(frame)
    for rec in frame[CSV_COLUMNS].to_dict("records"):
        props = {k: _clean(rec[k]) for k in GEOJSON_PROPERTIES}
        placed = _clean(rec["lat"]) is not None and _clean(rec["lon"]) is not None
        # An unplaced organisation is a feature without geometry (RFC 7946 allows null).
        geometry = (
            {"type": "Point", "coordinates": [float(rec["lon"]), float(rec["lat"])]}
            if placed else None
        )
        features.append({"type": "Feature", "id": rec["id"], "geometry": geometry,
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}


def to_geojson_text(frame: pd.DataFrame) -> str:
    """GeoJSON as UTF-8 text, Chinese kept readable."""
    return json.dumps(to_geojson(frame), ensure_ascii=False, indent=1)


def neutralise_formula(cell: Any) -> Any:
    """Prefix a quote to text a spreadsheet would evaluate as a formula.

    >>> neutralise_formula("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> neutralise_formula("Foshan")
    'Foshan'
    """
    if isinstance(cell, str) and cell.startswith(_FORMULA_PREFIXES):
        return "'" + cell
    return cell


def _source_text(sources: list[dict[str, Any]]) -> str:
    parts = []
    for s in sources:
        bits = [s.get("publisher", ""), s.get("date") or "n.d.", f"“{s.get('title', '')}”"]
        if s.get("url"):
            bits.append(s["url"])
        parts.append(", ".join(b for b in bits if b))
    return " | ".join(parts)


def _dates_text(dates: list[dict[str, Any]]) -> str:
    return "; ".join(f"{d['type']} {d['date']}" for d in dates or [])


def _links_text(links: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{ln['type']} {'->' if ln['direction'] == 'out' else '<-'} {ln['other']}"
        for ln in links or []
    )


def _designations_text(designations: list[dict[str, Any]]) -> str:
    parts = []
    for d in designations or []:
        bit = f"{d['list']}: {d['entry_name']}"
        if d.get("relation") == "subsidiary_of_listed":
            bit += f" (subsidiary of listed {d.get('listed_parent')})"
        bit += f", added {d.get('date_added') or 'n.d.'}"
        if d.get("date_removed"):
            bit += f", removed {d['date_removed']}"
        parts.append(bit)
    return " | ".join(parts)


def to_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The flat table written to CSV: lists ';'-joined, sources, links and designations as text."""
    out = _with_relations(frame)[CSV_COLUMNS].copy()
    for col in LIST_COLUMNS:
        out[col] = out[col].map(lambda xs: ";".join(xs))
    out["sources"] = out["sources"].map(_source_text)
    out["dates"] = out["dates"].map(_dates_text)
    out["links"] = out["links"].map(_links_text)
    out["designations"] = out["designations"].map(_designations_text)
    out = pd.DataFrame(out)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_formula)
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """CSV text (UTF-8) of the rows in ``frame``; unknown sizes are empty cells."""
    buf = io.StringIO()
    to_csv_frame(frame).to_csv(buf, index=False)
    return buf.getvalue()

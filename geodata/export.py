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

from geodata.schema import RECORD_COLUMNS

#: Properties carried by every GeoJSON feature, in order.
GEOJSON_PROPERTIES: list[str] = [c for c in RECORD_COLUMNS if c not in ("lat", "lon")]

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _clean(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
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
    for row in frame[RECORD_COLUMNS].itertuples(index=False):
        rec = row._asdict()
        props = {k: _clean(rec[k]) for k in GEOJSON_PROPERTIES}
        features.append(
            {
                "type": "Feature",
                "id": rec["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(rec["lon"]), float(rec["lat"])],
                },
                "properties": props,
            }
        )
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


def to_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The flat table written to CSV: lists joined, sources as readable text."""
    out = frame[RECORD_COLUMNS].copy()
    out["domains"] = out["domains"].map(lambda ds: ";".join(ds))
    out["sources"] = out["sources"].map(_source_text)
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

"""Serialise a selection as GeoJSON or CSV, sources included.

The same functions feed ``python -m geodata list --format ...`` and the
dashboard's downloads, so a record exported anywhere looks the same.
CSV cells that a spreadsheet would run as a formula are neutralised; a
downloaded CSV starts with a byte-order mark so Excel reads it as UTF-8
(:func:`to_csv_bytes`); the user's own records travel with the curated ones,
marked in an ``origin`` column (:func:`with_user_records`); and a download's
name says what it holds (:func:`export_filename`).
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd

from geodata.model.schema import (
    DOMAINS,
    KINDS,
    LIST_COLUMNS,
    PROVINCES,
    RECORD_COLUMNS,
    RELATION_COLUMNS,
)
from geodata.query.filters import RecordFilter

#: Properties carried by every GeoJSON feature, in order. The relation columns
#: (``parent_id``, ``links``, ``designations``, ``designated``) come from
#: :func:`geodata.model.relations.attach_relations`; a frame without them exports
#: empty values, so a feature always has the same keys.
GEOJSON_PROPERTIES: list[str] = [
    *(c for c in RECORD_COLUMNS if c not in ("lat", "lon")), *RELATION_COLUMNS,
]
#: Columns of the CSV: every record column, then the relations, flattened.
CSV_COLUMNS: list[str] = [*RECORD_COLUMNS, *RELATION_COLUMNS]
_RELATION_DEFAULTS: dict[str, Any] = {
    "parent_id": None, "links": [], "designations": [], "designated": False,
}
#: Column (and GeoJSON property) that says where a row comes from, present when an
#: export mixes the curated records with the user's own.
ORIGIN_COLUMN = "origin"
ORIGIN_CURATED = "curated"
ORIGIN_USER = "user data (this session)"
#: Excel reads a CSV as UTF-8 only when it starts with this byte-order mark.
UTF8_BOM = "\ufeff"
FILENAME_PREFIX = "cmf-atlas"

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _with_relations(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every relation column, defaults where a row has none.

    The user's own records (appended by :func:`with_user_records`) have no
    relations: their cells are missing after the concatenation.
    """
    missing = [c for c in RELATION_COLUMNS if c not in frame.columns]
    gaps = [c for c in RELATION_COLUMNS if c in frame.columns and frame[c].isna().any()]
    if not missing and not gaps:
        return frame
    out = pd.DataFrame(frame).copy()
    for col in RELATION_COLUMNS:
        default = _RELATION_DEFAULTS[col]
        if col in missing:
            out[col] = [list(default) if isinstance(default, list) else default] * len(out)
        elif col in gaps:
            out[col] = [(list(default) if isinstance(default, list) else default)
                        if not isinstance(v, list | tuple | bool) and pd.isna(v) else v
                        for v in out[col]]
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


def with_user_records(
    frame: pd.DataFrame, user_frame: pd.DataFrame | None
) -> pd.DataFrame:
    """The curated rows, then the user's, with an :data:`ORIGIN_COLUMN` saying which.

    ``user_frame`` ``None`` (the user's layer is hidden or empty) returns
    ``frame`` unchanged, without the column.

    >>> cur = pd.DataFrame({"id": ["a"]}); mine = pd.DataFrame({"id": ["u1"]})
    >>> with_user_records(cur, mine)[["id", "origin"]].values.tolist()
    [['a', 'curated'], ['u1', 'user data (this session)']]
    """
    if user_frame is None:
        return frame
    parts = [frame.assign(**{ORIGIN_COLUMN: ORIGIN_CURATED}),
             user_frame.assign(**{ORIGIN_COLUMN: ORIGIN_USER})]
    return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)


def _columns(frame: pd.DataFrame) -> list[str]:
    return CSV_COLUMNS + ([ORIGIN_COLUMN] if ORIGIN_COLUMN in frame.columns else [])


def to_geojson(frame: pd.DataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS84 points) of the rows in ``frame``.

    Example
    -------
    >>> to_geojson(pd.DataFrame(columns=RECORD_COLUMNS))["type"]
    'FeatureCollection'
    """
    features = []
    frame = _with_relations(frame)
    columns = _columns(frame)
    names = [c for c in columns if c not in ("lat", "lon")]
    for rec in frame[columns].to_dict("records"):
        props = {k: _clean(rec[k]) for k in names}
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
    out = _with_relations(frame)
    out = out[_columns(out)].copy()
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


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """:func:`to_csv_text` as UTF-8 with a byte-order mark, for a file Excel opens right.

    >>> to_csv_bytes(pd.DataFrame(columns=RECORD_COLUMNS))[:3]
    b'\\xef\\xbb\\xbf'
    """
    return (UTF8_BOM + to_csv_text(frame)).encode("utf-8")


def _slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens; '' when nothing ASCII is left."""
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in text.casefold()).split()
    return "-".join(words)


def _number(value: float) -> str:
    return f"{value:g}".replace(".", "p")


def _listed(slugs: list[str], noun: str, most: int = 2) -> str:
    return "-".join(slugs) if len(slugs) <= most else f"{len(slugs)}-{noun}"


def export_filename(
    flt: RecordFilter, extension: str, *, what: str = "", user_data: bool = False,
    max_chars: int = 96,
) -> str:
    """A download's file name that says what it holds, from the filter.

    Layers (unless all), years, fund sizes, domains, provinces, the search and
    whether the user's records are in it, each only when it narrows the
    selection; ASCII only, so it survives every file system and mail client.
    ``what`` names the kind of file (e.g. ``"map"`` for the report figure).

    >>> export_filename(RecordFilter(kinds=frozenset({"fund"}), year_min=2016,
    ...                              year_max=2018), "csv")
    'cmf-atlas-funds-2016-2018.csv'
    >>> export_filename(RecordFilter(provinces=frozenset({"Beijing"})), "png", what="map")
    'cmf-atlas-map-beijing.png'
    >>> export_filename(RecordFilter(), ".geojson", user_data=True)
    'cmf-atlas-all-records-with-your-data.geojson'
    """
    parts = [FILENAME_PREFIX]
    if what:
        parts.append(_slug(what))
    narrowed = []
    kinds = [k for k in KINDS if k in flt.kinds]
    if len(kinds) != len(KINDS):
        narrowed.append("-".join(_slug(KINDS[k].split()[0]) for k in kinds) or "no-layers")
    if flt.year_min is not None and flt.year_max is not None:
        narrowed.append(str(flt.year_min) if flt.year_min == flt.year_max
                        else f"{flt.year_min}-{flt.year_max}")
    elif flt.year_max is not None:
        narrowed.append(f"to-{flt.year_max}")
    elif flt.year_min is not None:
        narrowed.append(f"from-{flt.year_min}")
    fs = flt.fund_size
    if fs.min_bn is not None or fs.max_bn is not None:
        lo = _number(fs.min_bn or 0)
        narrowed.append(f"rmb-{lo}-{_number(fs.max_bn)}bn" if fs.max_bn is not None
                        else f"rmb-{lo}bn-plus")
    if not fs.include_unknown:
        narrowed.append("known-size")
    if flt.domains:
        narrowed.append(_listed([_slug(d) for d in DOMAINS if d in flt.domains], "domains"))
    if flt.provinces:
        narrowed.append(_listed([_slug(p) for p in PROVINCES if p in flt.provinces],
                                "provinces"))
    if flt.search.strip():
        narrowed.append("search" + (f"-{_slug(flt.search)}" if _slug(flt.search) else ""))
    parts += narrowed or ["all-records"]
    if user_data:
        parts.append("with-your-data")
    stem = "-".join(p for p in parts if p)
    if len(stem) > max_chars:
        stem = stem[:max_chars].rstrip("-")
    return f"{stem}.{extension.lstrip('.').lower()}"

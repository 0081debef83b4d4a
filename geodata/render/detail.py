"""Every field of one record, labelled, for the detail panel.

Text is returned as plain strings; the dashboard escapes Markdown before
showing it, and only http(s) URLs become links.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from geodata.model.schema import (
    CATEGORIES,
    COLUMN_LABELS,
    DATE_TYPES,
    DESIGNATION_LISTS,
    DOMAINS,
    KINDS,
    LOCATION_PRECISIONS,
    SPONSOR_LEVELS,
    STATUSES,
    date_precision,
)

_CATEGORY_LABELS = {k: v for cats in CATEGORIES.values() for k, v in cats.items()}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_HTTP_URL = re.compile(r"^https?://[^\s<>\"'()\[\]]+$", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax so data shows as text.

    >>> escape_markdown("[x](javascript:alert(1))")
    '\\\\[x\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\)'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


#: The Sources page's "Cited by" cell names this many records at most, then says how many more.
CITED_BY_NAMES = 30


def cited_by(names: Sequence[str], most: int = CITED_BY_NAMES) -> str:
    """The "Cited by" cell: the citing records' names, or the first ``most`` of a long
    list and how many more (a registry cited by every record of a large atlas would
    otherwise fill one cell with a million names).

    >>> cited_by(("A", "B"))
    'A; B'
    >>> cited_by([f"R{i}" for i in range(1234)], most=2)
    'R0; R1; … and 1,232 more'
    """
    if len(names) <= most:
        return "; ".join(names)
    return "; ".join(names[:most]) + f"; … and {len(names) - most:,} more"


def safe_http_url(url: Any) -> str | None:
    """``url`` if it is a plain http(s) URL, else ``None``."""
    return url if isinstance(url, str) and _HTTP_URL.match(url) else None


def _blank(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    return (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v == "")


def _get(row: pd.Series, key: str) -> Any:
    return row[key] if key in row.index else None


def _listed(values: Any) -> str | None:
    if values is None or isinstance(values, float):
        return None
    return "; ".join(str(v) for v in values) or None


def _dates_text(dates: Any) -> str | None:
    if not isinstance(dates, list) or not dates:
        return None
    parts = []
    for d in dates:
        text = f"{DATE_TYPES.get(d['type'], d['type'])}: {d['date']} ({date_precision(d['date'])})"
        if d.get("note"):
            text += f" — {d['note']}"
        parts.append(text)
    return "; ".join(parts)


_NUMERIC_DATE = re.compile(r"^\d{1,2}/\d{1,2}/(\d{2}|\d{4})$")


def published_date_text(value: Any) -> str | None:
    """A date exactly as a source printed it, with its format said when it is ambiguous.

    The fund table our sources reproduce prints US-style dates; "09/01/17"
    alone could be read as 9 January, so the format is stated.

    >>> published_date_text("09/01/17")
    '09/01/17 (as printed, MM/DD/YY)'
    >>> published_date_text("04/21/2018")
    '04/21/2018 (as printed, MM/DD/YYYY)'
    >>> published_date_text("March 18, 2018")
    'March 18, 2018'
    """
    if _blank(value):
        return None
    text = str(value).strip()
    match = _NUMERIC_DATE.match(text)
    if not match:
        return text
    year = "YY" if len(match.group(1)) == 2 else "YYYY"
    return f"{text} (as printed, MM/DD/{year})"


def record_fields(row: pd.Series) -> list[tuple[str, str]]:
    """(label, text) pairs for every field of the record that has a value."""
    size = row["fund_size_rmb_bn"]
    year = row["year"]
    basis = _get(row, "year_basis")
    year_text = None if _blank(year) else str(int(year))
    if year_text and isinstance(basis, str):
        year_text += f" ({DATE_TYPES.get(basis, basis).lower()})"
    values: dict[str, Any] = {
        "name_en": row["name_en"],
        "name_zh": row["name_zh"],
        "kind": KINDS.get(row["kind"], row["kind"]),
        "category": _CATEGORY_LABELS.get(row["category"], row["category"]),
        "aliases": _listed(_get(row, "aliases")),
        "city": row["city"],
        "province": row["province"],
        "address": _get(row, "address"),
        "lat": None if _blank(row["lat"]) else f"{row['lat']:.4f}",
        "lon": None if _blank(row["lon"]) else f"{row['lon']:.4f}",
        "location_precision": LOCATION_PRECISIONS.get(row["location_precision"]),
        "unplaced_reason": _get(row, "unplaced_reason"),
        "year": year_text,
        "dates": _dates_text(_get(row, "dates")),
        "date_as_published": published_date_text(row["date_as_published"]),
        "fund_size_rmb_bn": (
            None if row["kind"] != "fund"
            else ("Unknown" if _blank(size) else f"RMB {size:,.1f} bn")
        ),
        "fund_size_as_published": row["fund_size_as_published"],
        "region_as_published": row["region_as_published"],
        "domains": ", ".join(DOMAINS.get(d, d) for d in row["domains"]),
        "status": STATUSES.get(row["status"]) if isinstance(row["status"], str) else None,
        "sponsor_level": SPONSOR_LEVELS.get(_get(row, "sponsor_level") or ""),
        "confidence": _get(row, "confidence"),
        "confidence_reason": _get(row, "confidence_reason"),
        "supervising_agencies": _listed(_get(row, "supervising_agencies")),
        "research_topics": _listed(_get(row, "research_topics")),
        "laboratories": _listed(_get(row, "laboratories")),
        "subsidiaries_as_published": _listed(_get(row, "subsidiaries_as_published")),
        "org_tags": _listed(_get(row, "org_tags")),
        "designations": _designations_text(_get(row, "designations")),
        "description": row["description"],
        "notes": row["notes"],
        "id": row["id"],
    }
    return [(COLUMN_LABELS[k], str(v)) for k, v in values.items() if not _blank(v)]


def _designations_text(designations: Any) -> str | None:
    if not isinstance(designations, list) or not designations:
        return None
    parts = []
    for d in designations:
        name = DESIGNATION_LISTS.get(d["list"], d["list"]).split(" (")[0]
        how = ("listed" if d.get("relation") == "listed"
               else f"subsidiary of listed {d.get('listed_parent')}")
        text = f"{name}: “{d['entry_name']}” ({how}; added {d.get('date_added') or 'n.d.'}"
        text += f", removed {d['date_removed']})" if d.get("date_removed") else ")"
        parts.append(text)
    return "; ".join(parts)


def source_markdown(source: dict[str, Any]) -> str:
    """One source as a Markdown line: publisher, date, linked title, and 'via'."""
    head = escape_markdown(f"{source.get('publisher', '')}, {source.get('date') or 'n.d.'}")
    title = escape_markdown(source.get("title", ""))
    url = safe_http_url(source.get("url"))
    line = f"{head}: [{title}]({url})" if url else f"{head}: {title}"
    if source.get("locator"):
        line += f" ({escape_markdown(source['locator'])})"
    if source.get("via"):
        line += f" — *{escape_markdown(source['via'])}*"
    if source.get("accessed"):
        line += f" · accessed {escape_markdown(source['accessed'])}"
    return line

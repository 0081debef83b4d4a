"""Every field of one record, labelled, for the detail panel.

Text is returned as plain strings; the dashboard escapes Markdown before
showing it, and only http(s) URLs become links.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from geodata.schema import (
    CATEGORIES,
    COLUMN_LABELS,
    DOMAINS,
    KINDS,
    LOCATION_PRECISIONS,
    STATUSES,
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


def safe_http_url(url: Any) -> str | None:
    """``url`` if it is a plain http(s) URL, else ``None``."""
    return url if isinstance(url, str) and _HTTP_URL.match(url) else None


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


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
    values: dict[str, Any] = {
        "name_en": row["name_en"],
        "name_zh": row["name_zh"],
        "kind": KINDS.get(row["kind"], row["kind"]),
        "category": _CATEGORY_LABELS.get(row["category"], row["category"]),
        "city": row["city"],
        "province": row["province"],
        "lat": f"{row['lat']:.4f}",
        "lon": f"{row['lon']:.4f}",
        "location_precision": LOCATION_PRECISIONS.get(row["location_precision"]),
        "year": str(row["year"]),
        "date_as_published": published_date_text(row["date_as_published"]),
        "fund_size_rmb_bn": (
            None if row["kind"] != "fund"
            else ("Unknown" if _blank(size) else f"RMB {size:,.1f} bn")
        ),
        "fund_size_as_published": row["fund_size_as_published"],
        "region_as_published": row["region_as_published"],
        "domains": ", ".join(DOMAINS.get(d, d) for d in row["domains"]),
        "status": STATUSES.get(row["status"]) if isinstance(row["status"], str) else None,
        "description": row["description"],
        "notes": row["notes"],
        "id": row["id"],
    }
    return [(COLUMN_LABELS[k], str(v)) for k, v in values.items() if not _blank(v)]


def source_markdown(source: dict[str, Any]) -> str:
    """One source as a Markdown line: publisher, date, linked title, and 'via'."""
    head = escape_markdown(f"{source.get('publisher', '')}, {source.get('date') or 'n.d.'}")
    title = escape_markdown(source.get("title", ""))
    url = safe_http_url(source.get("url"))
    line = f"{head}: [{title}]({url})" if url else f"{head}: {title}"
    if source.get("via"):
        line += f" — *{escape_markdown(source['via'])}*"
    return line

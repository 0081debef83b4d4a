"""The table shown under the map: exactly the records drawn, with readable labels."""

from __future__ import annotations

import pandas as pd

from geodata.model.schema import (
    CATEGORIES,
    COLUMN_LABELS,
    DOMAINS,
    KINDS,
    LOCATION_PRECISIONS,
    STATUSES,
)

_CATEGORY_LABELS = {k: v for cats in CATEGORIES.values() for k, v in cats.items()}

#: The key columns first (name, layer, fund size, year, place), so they are in view
#: without scrolling sideways at 1366 and 1920 px; the long ones last.
TABLE_COLUMNS: list[str] = [
    "name_en", "name_zh", "kind", "fund_size_rmb_bn", "year", "city", "province",
    "category", "status", "domains", "location_precision", "sources", "id",
]


def _sources_short(sources: list[dict]) -> str:
    return "; ".join(f"{s.get('publisher', '')} ({s.get('date') or 'n.d.'})" for s in sources)


def display_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` with vocabulary keys replaced by labels, for display.

    Fund size stays numeric (NaN when unknown) so the table sorts by it.
    """
    out = pd.DataFrame(frame[TABLE_COLUMNS]).copy()
    out["kind"] = out["kind"].map(KINDS)
    out["category"] = out["category"].map(_CATEGORY_LABELS)
    out["domains"] = out["domains"].map(lambda ds: ", ".join(DOMAINS[d] for d in ds))
    out["status"] = out["status"].map(lambda s: STATUSES.get(s, "") if isinstance(s, str) else "")
    out["location_precision"] = out["location_precision"].map(LOCATION_PRECISIONS)
    out["sources"] = out["sources"].map(_sources_short)
    out["city"] = out["city"].fillna("")
    return out.rename(columns=COLUMN_LABELS).reset_index(drop=True)

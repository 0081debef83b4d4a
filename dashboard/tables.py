"""How the records tables are drawn: column widths and number formats.

Shared by the map page and the Your data page, so the two tables read alike.
Widths keep the table's key columns (name, layer, fund size, year, place) in
view at 1366 px and 1920 px; the long ones (sources, domains) come last.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geodata.model.limits import TABLE_PAGE_ROWS
from geodata.model.schema import COLUMN_LABELS

_L = COLUMN_LABELS

#: Shown in an empty cell (a cluster's fund size, a record without a city), not "None".
EMPTY_CELL = "—"
#: st.dataframe column_config for :func:`geodata.render.table.display_table`.
RECORD_COLUMN_CONFIG = {
    _L["name_en"]: st.column_config.TextColumn(width="large"),
    _L["name_zh"]: st.column_config.TextColumn(width="medium"),
    _L["kind"]: st.column_config.TextColumn(width="small"),
    _L["fund_size_rmb_bn"]: st.column_config.NumberColumn(
        width=130, format="%.1f", help="Published fund size in RMB billion; empty when "
        "unknown or not a fund."),
    _L["year"]: st.column_config.NumberColumn(width="small", format="%d"),
    _L["city"]: st.column_config.TextColumn(width="small"),
    _L["province"]: st.column_config.TextColumn(width="small"),
}


def page_label(page: int, total: int, rows: int = TABLE_PAGE_ROWS) -> str:
    """The page choice's label for page ``page`` (0-based) of ``total`` rows.

    >>> page_label(1, 2500)
    'Rows 1,001–2,000 of 2,500'
    """
    first = page * rows + 1
    return f"Rows {first:,}–{min(total, first + rows - 1):,} of {total:,}"


def table_page(records: pd.DataFrame, key: str) -> pd.DataFrame:
    """The page of ``records`` to show: all of them, or one page of a large selection.

    Above :data:`geodata.model.limits.TABLE_PAGE_ROWS` rows a choice of page is
    drawn (keyed on ``key``), so a large selection is never sent whole; the
    page returned keeps the records' order.
    """
    if len(records) <= TABLE_PAGE_ROWS:
        return records
    pages = -(-len(records) // TABLE_PAGE_ROWS)
    page = st.selectbox(
        "Page of the table", range(pages), key=f"{key}_page",
        format_func=lambda p: page_label(p, len(records)),
        help=f"A large selection is shown {TABLE_PAGE_ROWS:,} rows at a time; the map and "
        "the downloads hold every record.",
    )
    page = page if page is not None and 0 <= page < pages else 0
    return records.iloc[page * TABLE_PAGE_ROWS:(page + 1) * TABLE_PAGE_ROWS]

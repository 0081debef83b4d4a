"""How the records tables are drawn: column widths and number formats.

Shared by the map page and the Your data page, so the two tables read alike.
Widths keep the table's key columns (name, layer, fund size, year, place) in
view at 1366 px and 1920 px; the long ones (sources, domains) come last.
"""

from __future__ import annotations

import re

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
    'Rows 501–1,000 of 2,500'
    """
    first = page * rows + 1
    return f"Rows {first:,}–{min(total, first + rows - 1):,} of {total:,}"


def page_key(key: str) -> str:
    """The session key of the page choice drawn for the table ``key``."""
    return f"{key}_page"


def chosen_page(key: str) -> int:
    """The page the user last chose for the table ``key`` (0 before any choice).

    Read before the table's rows are fetched, when only a page of them is read
    (the Sources page of a large atlas); :func:`page_choice` then draws the choice.
    """
    return label_page(st.session_state.get(page_key(key)))


def label_page(label: object, rows: int = TABLE_PAGE_ROWS) -> int:
    """The 0-based page a :func:`page_label` stands for (0 for anything else).

    >>> label_page(page_label(3, 2500)), label_page(None)
    (3, 0)
    """
    match = re.match(r"Rows ([\d,]+)–", label) if isinstance(label, str) else None
    return (int(match.group(1).replace(",", "")) - 1) // rows if match else 0


#: What the page choice's help says of the records table.
RECORDS_PAGE_HELP = (f"A large selection is shown {TABLE_PAGE_ROWS:,} rows at a time; the map "
                     "and the downloads hold every record.")


def page_choice(total: int, key: str, help: str = RECORDS_PAGE_HELP) -> int:
    """Draw the choice of page for a table of ``total`` rows; the 0-based page chosen.

    Up to :data:`geodata.model.limits.TABLE_PAGE_ROWS` rows no choice is drawn
    (page 0). A page left over from a larger table (before a search or a filter
    narrowed it) falls back to the first.
    """
    if total <= TABLE_PAGE_ROWS:
        return 0
    pages = -(-total // TABLE_PAGE_ROWS)
    # The labels are the options: a page choice keyed like the last one keeps its
    # identity, and the browser would go on showing "Rows 1–500 of 100,000" after a
    # filter left 90,005. New labels are new options; a choice that is no longer
    # among them falls back to the first page.
    labels = [page_label(p, total) for p in range(pages)]
    if st.session_state.get(page_key(key)) not in labels:
        st.session_state[page_key(key)] = labels[0]  # before the widget is drawn: allowed
    chosen = st.selectbox("Page of the table", labels, key=page_key(key), help=help)
    return labels.index(chosen) if chosen in labels else 0


def table_page(records: pd.DataFrame, key: str) -> pd.DataFrame:
    """The page of ``records`` to show: all of them, or one page of a large selection.

    Above :data:`geodata.model.limits.TABLE_PAGE_ROWS` rows a choice of page is
    drawn (keyed on ``key``), so a large selection is never sent whole; the
    page returned keeps the records' order.
    """
    page = page_choice(len(records), key)
    return records.iloc[page * TABLE_PAGE_ROWS:(page + 1) * TABLE_PAGE_ROWS]

"""How the records tables are drawn: column widths and number formats.

Shared by the map page and the Your data page, so the two tables read alike.
Widths keep the table's key columns (name, layer, fund size, year, place) in
view at 1366 px and 1920 px; the long ones (sources, domains) come last.
"""

from __future__ import annotations

import streamlit as st

from geodata.schema import COLUMN_LABELS

_L = COLUMN_LABELS

#: Shown in an empty cell (a cluster's fund size, a record without a city), not "None".
EMPTY_CELL = "—"
#: st.dataframe column_config for :func:`geodata.table.display_table`.
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

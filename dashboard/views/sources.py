"""Sources page: every source cited by the records shown, with the records citing it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.sidebar import atlas_bounds, current_filter
from geodata.query.filters import filter_records
from geodata.query.frame_aggregates import search_sources, sources_index
from geodata.render.detail import safe_http_url

SEARCH_KEY = "sources_search"


def _table(index: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Publisher": index["publisher"],
        "Date": index["date"].replace("", None),
        "Title": index["title"],
        # Only http(s) addresses become links; anything else (javascript:, data:) is blanked.
        "Link": index["url"].map(safe_http_url),
        "Records": index["n_records"],
        "Cited by": index["record_names"].map("; ".join),
        "Found via": index["via"].replace("", None),
    })


frame = cache.atlas_frame()
selected = filter_records(frame, current_filter(atlas_bounds()))
index = sources_index(cache.with_details(selected, ("sources",)))

st.markdown("## Sources")
st.text_input(
    "Search sources", key=SEARCH_KEY,
    placeholder="Publisher, title, web address or a citing record's name (English or 中文)",
)
shown = search_sources(index, st.session_state.get(SEARCH_KEY, ""))

source_word = "source" if len(index) == 1 else "sources"
record_word = "record" if len(selected) == 1 else "records"
count = f"{len(index):,} {source_word} cited by the {len(selected):,} {record_word} shown"
if len(shown) != len(index):
    count = f"{len(shown):,} of {count} match the search"
st.caption(
    f"{count}. The sidebar's filters apply; the most cited sources come first. "
    "“Found via” names the analysis that cites a reference we did not read first-hand."
)

if shown.empty:
    st.info("No source matches. Clear the search box or widen the filters in the sidebar.")
else:
    st.dataframe(
        _table(shown),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(shown), 720),
        placeholder="—",
        column_config={
            "Publisher": st.column_config.TextColumn(width="medium"),
            "Date": st.column_config.TextColumn(width="small"),
            "Title": st.column_config.TextColumn(width="large"),
            "Link": st.column_config.LinkColumn(
                width=130, display_text=r"^https?://(?:www\.)?([^/:?#]+)",
                help="Opens the source in a new tab (leaves the offline atlas).",
            ),
            "Records": st.column_config.NumberColumn(
                width="small", format="%d", help="Records shown that cite this source."
            ),
            "Cited by": st.column_config.TextColumn(width="large"),
            "Found via": st.column_config.TextColumn(width="medium"),
        },
    )

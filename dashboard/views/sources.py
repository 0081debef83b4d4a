"""Sources page: every source cited by the records shown, with the records citing it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.sidebar import atlas_bounds, current_filter
from dashboard.tables import chosen_page, page_choice
from geodata.model.limits import TABLE_PAGE_ROWS
from geodata.query.filters import filter_records
from geodata.query.frame_aggregates import search_sources, sources_index
from geodata.render.detail import cited_by, safe_http_url

SEARCH_KEY = "sources_search"
TABLE_KEY = "sources_table"
PAGE_HELP = (f"A long list of sources is shown {TABLE_PAGE_ROWS:,} rows at a time, the most "
             "cited first; the search box finds any of them.")


def _table(index: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Publisher": index["publisher"],
        "Date": index["date"].replace("", None),
        "Title": index["title"],
        # Only http(s) addresses become links; anything else (javascript:, data:) is blanked.
        "Link": index["url"].map(safe_http_url),
        "Records": index["n_records"],
        "Cited by": index["record_names"].map(cited_by),
        "Found via": index["via"].replace("", None),
    })


frame = cache.atlas_frame()
flt = current_filter(atlas_bounds())
search = st.session_state.get(SEARCH_KEY, "")
# How many records are shown: the id column is enough (a large atlas is lean).
n_selected = len(filter_records(frame, flt, ("id",)))
# A large atlas: the store builds the index and sends one page of it (issue 13);
# a YAML atlas holds every source in its frame, and the index is built here.
chosen = chosen_page(TABLE_KEY)
result = cache.sources_page(flt, search, TABLE_PAGE_ROWS, chosen * TABLE_PAGE_ROWS)
if result is None:
    index = sources_index(cache.with_details(filter_records(frame, flt), ("sources",)))
    matches = search_sources(index, search)
    n_sources, n_matching = len(index), len(matches)
else:
    n_sources, n_matching = result.total, result.matching

st.markdown("## Sources")
st.text_input(
    "Search sources", key=SEARCH_KEY,
    placeholder="Publisher, title, web address or a citing record's name (English or 中文)",
)

source_word = "source" if n_sources == 1 else "sources"
record_word = "record" if n_selected == 1 else "records"
count = f"{n_sources:,} {source_word} cited by the {n_selected:,} {record_word} shown"
if n_matching != n_sources:
    count = f"{n_matching:,} of {count} match the search"
st.caption(
    f"{count}. The sidebar's filters apply; the most cited sources come first. "
    "“Found via” names the analysis that cites a reference we did not read first-hand."
)

page_no = page_choice(n_matching, TABLE_KEY, help=PAGE_HELP)
if result is None:
    shown = matches.iloc[page_no * TABLE_PAGE_ROWS:(page_no + 1) * TABLE_PAGE_ROWS]
else:
    if page_no != chosen:  # a search or filter left fewer pages: back to the first
        result = cache.sources_page(flt, search, TABLE_PAGE_ROWS, page_no * TABLE_PAGE_ROWS)
    shown = result.rows
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

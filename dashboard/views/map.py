"""Map page: headline counts, the map, and a table of exactly what is drawn."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache
from dashboard.sidebar import current_filter
from geodata.filters import describe_filter, filter_bounds, filter_records
from geodata.layers import build_map
from geodata.schema import COLUMN_LABELS, KINDS
from geodata.summary import format_rmb_bn, summarize
from geodata.table import display_table

MAP_HEIGHT_PX = 600

frame = cache.atlas_frame()
flt = current_filter(filter_bounds(frame))
selected = filter_records(frame, flt)
summary = summarize(selected)

st.markdown("## CMF Atlas")
st.caption(
    "China's military-civil fusion (军民融合) landscape: industrial clusters, state guidance "
    "funds and innovation demonstration zones. Every record cites its sources; "
    "hover a symbol for its name, click it for details."
)

cols = st.columns(4)
for col, kind in zip(cols, KINDS, strict=False):
    col.metric(KINDS[kind], summary.counts[kind])
unknown = summary.funds_unknown_size
cols[3].metric(
    "Fund capital shown",
    format_rmb_bn(summary.fund_capital_rmb_bn),
    help=(
        "Sum of the published sizes of the funds shown, in RMB billion. "
        f"{unknown} fund(s) of unknown size are not included."
    ),
)
note = f" · {unknown} fund(s) of unknown size not in the sum" if unknown else ""
st.caption(f"Filters: {describe_filter(flt)}{note}")

if summary.total == 0:
    st.info(
        "No records match these filters. Widen the year or fund-size range, clear the "
        "domain or name search, or press **Reset filters** in the sidebar."
    )

fmap = build_map(selected, cache.basemap(), kinds=flt.kinds)
st_folium(
    fmap, key="atlas_map", height=MAP_HEIGHT_PX, use_container_width=True, returned_objects=[]
)

st.subheader(f"Records shown ({summary.total})")
st.dataframe(
    display_table(selected),
    hide_index=True,
    width="stretch",
    column_config={
        COLUMN_LABELS["fund_size_rmb_bn"]: st.column_config.NumberColumn(format="%.1f"),
        COLUMN_LABELS["year"]: st.column_config.NumberColumn(format="%d"),
    },
)

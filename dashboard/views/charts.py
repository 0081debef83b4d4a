"""Charts page: records or fund capital by year, technology domain and province.

Same selection as the map (the sidebar's filters). Each chart downloads as
PNG or SVG; the file is made only when a button is pressed (vl-convert takes
0.1–0.8 s a chart) and then cached.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache
from dashboard.sidebar import atlas_bounds, current_filter
from geodata.query.filters import describe_filter, filter_records
from geodata.query.summary import capital_text, summarize
from geodata.render.charts import CHART_MEASURES
from geodata.render.detail import escape_markdown

MEASURE_KEY = "charts_measure"

frame = cache.atlas_frame()
flt = current_filter(atlas_bounds())
summary = summarize(filter_records(frame, flt))

st.markdown("## Charts")
st.segmented_control(
    "Measure", options=list(CHART_MEASURES), format_func=CHART_MEASURES.__getitem__,
    key=MEASURE_KEY, default="records", required=True,
    help="Fund capital sums the published sizes of funds; clusters and zones have none.",
)
measure = st.session_state.get(MEASURE_KEY) or "records"

cols = st.columns(3)
cols[0].metric("Records shown", f"{summary.total:,}")
cols[1].metric(
    "Fund capital shown", capital_text(summary, "fund" in flt.kinds),
    help="Sum of the published sizes of the funds shown, in RMB billion.",
)
cols[2].metric(
    "Funds of unknown size", summary.funds_unknown_size,
    help="Funds whose size was never published: counted as records, left out of every sum.",
)
unknown = summary.funds_unknown_size
fund_word = "fund" if unknown == 1 else "funds"
st.caption(
    f"Filters: {escape_markdown(describe_filter(flt))}. "
    f"{unknown} {fund_word} of unknown size left out of the capital sums. "
    "Hover a bar or area for its values."
)


def _downloads(view: str) -> None:
    """PNG and SVG buttons; the bytes are made when one is pressed, not on every rerun."""
    stem = f"cmf-atlas-{view}-{measure}"
    row = st.container(horizontal=True)
    for fmt, mime in (("png", "image/png"), ("svg", "image/svg+xml")):
        row.download_button(
            f"Download {fmt.upper()}",
            data=lambda fmt=fmt: cache.chart_bytes(flt, view, measure, fmt),
            file_name=f"{stem}.{fmt}", mime=mime, key=f"download_{view}_{fmt}",
            on_click="ignore", icon=":material/download:",
        )


if summary.total == 0:
    st.info(
        "No records match these filters, so there is nothing to chart. Widen the filters "
        "or press **Reset filters** in the sidebar."
    )
else:
    st.altair_chart(cache.view_chart(flt, "year", measure), width="stretch", key="chart_year")
    _downloads("year")
    # Domain names are long, province names short: give the domains more room.
    left, right = st.columns([4, 3], gap="large")
    for col, view in ((left, "domain"), (right, "province")):
        with col:
            st.altair_chart(
                cache.view_chart(flt, view, measure), width="stretch", key=f"chart_{view}"
            )
            _downloads(view)

"""Map page: headline counts, the map, the selected record, downloads, the table."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache
from dashboard.map_state import MAP_KEY, handle_map_change
from dashboard.sidebar import (
    AS_OF_MODE_KEY,
    AS_OF_YEAR_KEY,
    CENTER_KEY,
    NETWORK_KEY,
    PLAYING_KEY,
    PRESENT_KEY,
    PROVINCE_LAYER_KEY,
    SELECTED_KEY,
    VIEW_KEY,
    ZOOM_KEY,
    current_filter,
    set_widget_values_next_run,
)
from dashboard.user_layer import (
    has_user_records,
    session_user_frame,
    session_user_layer,
    user_layer_on,
)
from geodata.aggregate import by_province, province_choropleth_geojson
from geodata.detail import escape_markdown, record_fields, source_markdown
from geodata.export import to_csv_text, to_geojson_text
from geodata.filters import describe_filter, filter_bounds, filter_records
from geodata.layers import build_base_map, build_record_layers
from geodata.places import PRESET_VIEWS
from geodata.relations import link_lines
from geodata.schema import COLUMN_LABELS, KINDS
from geodata.style import USER_LAYER_LABEL
from geodata.summary import format_rmb_bn, summarize
from geodata.table import display_table

MAP_HEIGHT_PX = 600
PRESENT_SCALE = 1.6
PLAY_STEP_SECONDS = 1.2

#: Hides Streamlit's chrome and lets the map fill the screen in presentation mode.
PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarNav"] { display: none !important; }
.block-container { padding: 0.6rem 1.2rem 0 1.2rem !important; max-width: 100% !important; }
iframe[title="streamlit_folium.st_folium"] { height: calc(100vh - 245px) !important; }
[data-testid="stMetricValue"] { font-size: 2.4rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem !important; }
</style>"""

ss = st.session_state
frame = cache.atlas_frame()
bounds = filter_bounds(frame)
flt = current_filter(bounds)
selected = filter_records(frame, flt)
summary = summarize(selected)
present = bool(ss.get(PRESENT_KEY, False))
# The session's own records (the Your data page): their own layer, the same filters.
has_user = has_user_records()
user_all = session_user_frame() if has_user else None
user_selected, user_layer = session_user_layer(flt) if user_layer_on() else (None, None)
user_shown = 0 if user_selected is None else len(user_selected)


def _exit_presentation() -> None:
    ss[PRESENT_KEY] = False


def _clear_selection() -> None:
    ss[SELECTED_KEY] = None


def _select(record_id: str) -> None:
    """Select the other end of a link (the detail panel's link buttons)."""
    ss[SELECTED_KEY] = record_id


def _show_links(row: Any, frame_ids: set[str], shown: set[str]) -> None:
    """The record's links as buttons; a click selects the other end."""
    links = row["links"] if "links" in row.index else []
    if not isinstance(links, list) or not links:
        return
    st.markdown(f"**Links ({len(links)})** · click one to select the other end")
    placed = dict(zip(frame["id"], frame["lat"].notna(), strict=True))
    for i, ln in enumerate(links):
        other = ln["other"]
        notes = []
        if not placed.get(other, False):
            notes.append("not on the map")
        elif other not in shown:
            notes.append("hidden by the filters")
        suffix = f" ({', '.join(notes)})" if notes else ""
        st.button(
            f"{ln['label']}: {ln['other_name']}{suffix}", key=f"link_{row['id']}_{i}",
            on_click=_select, args=(other,), disabled=other not in frame_ids,
            help=f"{ln['type']} link {'to' if ln['direction'] == 'out' else 'from'} {other}",
        )


if present:
    st.html(PRESENTATION_CSS)
    head, exit_col = st.columns([6, 1], vertical_alignment="center")
    head.markdown(f"### CMF Atlas · {escape_markdown(describe_filter(flt))}")
    exit_col.button("Exit presentation", on_click=_exit_presentation, width="stretch")
else:
    st.markdown("## CMF Atlas")
    st.caption(
        "China's military-civil fusion (军民融合) landscape: industrial clusters, state guidance "
        "funds, innovation demonstration zones and the organisations behind them, with the "
        "links between them. Every record cites its sources; hover a symbol for its name, "
        "click it for details and links."
    )

# One metric per layer, then the capital (the widest: "RMB 1,234.5 bn"), then Your data.
cols = st.columns([1, 1, 1.2, 1.1, 1.6, 1] if has_user else [1, 1, 1.2, 1.1, 1.6])
for col, kind in zip(cols, KINDS, strict=False):
    col.metric(KINDS[kind], summary.counts[kind])
unknown = summary.funds_unknown_size
capital_col = len(KINDS)
cols[capital_col].metric(
    "Fund capital shown",
    format_rmb_bn(summary.fund_capital_rmb_bn),
    help=(
        "Sum of the published sizes of the funds shown, in RMB billion. "
        f"{unknown} fund(s) of unknown size are not included."
    ),
)
if has_user:
    cols[capital_col + 1].metric(
        "Your data", f"{user_shown:,}",
        help=f"{USER_LAYER_LABEL}: your records shown on the map, of {len(user_all)} added "
        "on the Your data page. Not counted in the other figures.",
    )
if not present:
    note = f" · {unknown} fund(s) of unknown size not in the sum" if unknown else ""
    as_of = f" · as of {ss.get(AS_OF_YEAR_KEY)}" if ss.get(AS_OF_MODE_KEY) else ""
    st.caption(f"Filters: {escape_markdown(describe_filter(flt))}{as_of}{note}")

if summary.total == 0 and user_shown == 0:
    st.info(
        "No records match these filters. Widen the year or fund-size range, clear the "
        "domain, province or name search, or press **Reset filters** in the sidebar."
    )

view = ss.get(VIEW_KEY) if ss.get(VIEW_KEY) in PRESET_VIEWS else None
st.segmented_control(
    "View", options=list(PRESET_VIEWS), format_func=lambda k: PRESET_VIEWS[k].label,
    key=VIEW_KEY, label_visibility="collapsed",
)
view = ss.get(VIEW_KEY) if ss.get(VIEW_KEY) in PRESET_VIEWS else "china"

choropleth = None
shading = ss.get(PROVINCE_LAYER_KEY, "off")
if shading in ("records", "capital"):
    ch = province_choropleth_geojson(
        cache.basemap_frame(), by_province(selected), shading, palette="Greens"
    )
    choropleth = {
        "geojson": ch.to_geojson(),
        "legend": [{"color": e.color, "label": e.label} for e in ch.legend],
        "title": ch.title,
    }

scale = PRESENT_SCALE if present else 1.0
base = build_base_map(
    cache.basemap_script(), kinds=flt.kinds, scale=scale, bounds=PRESET_VIEWS[view].bounds,
    fill_frame=present, user_layer=user_selected is not None,
)
# Link lines: the selected record's (bold) and, with Network on, all among the records shown.
lines = link_lines(frame, selected=ss.get(SELECTED_KEY), shown=selected["id"],
                   network=bool(ss.get(NETWORK_KEY, False)))
records_layer = build_record_layers(
    selected, kinds=flt.kinds, choropleth=choropleth, user_frame=user_layer, links=lines
)
center = ss.get(CENTER_KEY)
st_folium(
    base,
    key=MAP_KEY,
    feature_group_to_add=records_layer,
    height=MAP_HEIGHT_PX,
    use_container_width=True,
    returned_objects=["last_active_drawing"],
    center=tuple(center) if center else None,
    zoom=ss.get(ZOOM_KEY),
    on_change=handle_map_change,
)

selected_id = ss.get(SELECTED_KEY)
if selected_id and not present:
    rows = frame[frame["id"] == selected_id]
    is_user = rows.empty and user_all is not None and selected_id in set(user_all["id"])
    if is_user:
        rows = user_all[user_all["id"] == selected_id]
    shown_ids = set(selected["id"]) | (set() if user_selected is None else set(user_selected["id"]))
    with st.container(border=True):
        if rows.empty:
            shown_id = escape_markdown(repr(selected_id))
            st.warning(f"The selected record {shown_id} is not in the data.")
        else:
            row = rows.iloc[0]
            top, close = st.columns([6, 1], vertical_alignment="center")
            top.markdown(
                f"#### {escape_markdown(row['name_en'])}  \n{escape_markdown(row['name_zh'])}"
            )
            close.button("Close", on_click=_clear_selection, key="close_detail", width="stretch")
            if is_user:
                st.caption(f"{USER_LAYER_LABEL}: a record from a file you added, not curated data.")
            if selected_id not in shown_ids:
                st.caption("This record is hidden by the current filters.")
            # st.table renders Markdown in cells: escape, so data always shows as text.
            st.table({"Field": [k for k, _ in record_fields(row)],
                      "Value": [escape_markdown(v) for _, v in record_fields(row)]})
            if not is_user:
                _show_links(row, set(frame["id"]), shown_ids)
            st.markdown("**Sources**")
            st.markdown("\n".join(f"{i}. {source_markdown(s)}"
                                  for i, s in enumerate(row["sources"], start=1)))

if not present:
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
    if has_user:
        st.subheader(f"Your data shown ({user_shown})")
        if user_selected is None:
            st.caption("The Your data layer is hidden: tick *Your data* in the sidebar.")
        else:
            st.dataframe(
                display_table(user_selected), hide_index=True, width="stretch",
                column_config={
                    COLUMN_LABELS["fund_size_rmb_bn"]: st.column_config.NumberColumn(format="%.1f"),
                    COLUMN_LABELS["year"]: st.column_config.NumberColumn(format="%d"),
                },
            )
    st.markdown("**Download the selection**")
    fig_links = st.checkbox(
        "Figure shows the links among the records shown", key="figure_links",
        help="Draw the links whose two ends are both in the selection as lines on the "
        "report figure, with a legend of link types.",
    )
    d = st.columns(5)
    d[0].download_button(
        "Data (CSV)", data=lambda: to_csv_text(selected), file_name="cmf-atlas.csv",
        mime="text/csv", on_click="ignore", key="dl_csv", width="stretch",
    )
    d[1].download_button(
        "Data (GeoJSON)", data=lambda: to_geojson_text(selected),
        file_name="cmf-atlas.geojson", mime="application/geo+json", on_click="ignore",
        key="dl_geojson", width="stretch",
    )
    for col, fmt, mime in ((d[2], "png", "image/png"), (d[3], "svg", "image/svg+xml"),
                           (d[4], "pdf", "application/pdf")):
        col.download_button(
            f"Figure ({fmt.upper()})",
            data=lambda fmt=fmt: cache.report_figure(flt, fmt, links=fig_links),
            file_name=f"cmf-atlas.{fmt}", mime=mime, on_click="ignore", key=f"dl_{fmt}",
            width="stretch",
            help="A captioned map of the current selection for reports"
            + (", 300 dpi." if fmt == "png" else ", as vectors."),
        )

if ss.get(PLAYING_KEY) and ss.get(AS_OF_MODE_KEY):
    year = int(ss.get(AS_OF_YEAR_KEY, bounds.year_max))
    if year >= bounds.year_max:
        ss[PLAYING_KEY] = False
    else:
        time.sleep(PLAY_STEP_SECONDS)
        set_widget_values_next_run(**{AS_OF_YEAR_KEY: year + 1})
        st.rerun()

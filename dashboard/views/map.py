"""Map page: headline counts, the map, the selected record, downloads, the table."""

from __future__ import annotations

import functools
import time
from collections.abc import Container
from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache
from dashboard.downloads import render_downloads
from dashboard.map_state import MAP_KEY, handle_map_change, handle_table_select
from dashboard.map_view import current_view_request, on_preset_change
from dashboard.sidebar import (
    AS_OF_MODE_KEY,
    AS_OF_YEAR_KEY,
    NETWORK_KEY,
    PLAYING_KEY,
    PRESENT_KEY,
    PROVINCE_LAYER_KEY,
    PROVINCE_LAYER_MEASURES,
    SELECTED_KEY,
    VIEW_KEY,
    atlas_bounds,
    current_filter,
    play_button,
    set_widget_values_next_run,
)
from dashboard.tables import EMPTY_CELL, RECORD_COLUMN_CONFIG, table_page
from dashboard.user_layer import (
    has_user_records,
    session_user_frame,
    session_user_layer,
    user_layer_on,
)
from geodata.model.limits import CANVAS_MIN_RECORDS
from geodata.model.places import PRESET_VIEWS
from geodata.model.relations import link_lines
from geodata.model.schema import KINDS
from geodata.query.filters import describe_filter, filter_records
from geodata.query.frame_aggregates import by_province, province_choropleth_geojson
from geodata.query.summary import capital_text, summarize
from geodata.render.binary import selection_payload
from geodata.render.detail import escape_markdown, record_fields, source_markdown
from geodata.render.layers import build_base_map, build_record_layers
from geodata.render.style import USER_LAYER_LABEL
from geodata.render.table import display_table
from geodata.store.geoparquet import is_lean

#: What the map page reads of every record shown: counts, points, links, shading.
MAP_COLUMNS = ("id", "kind", "province", "lon", "lat", "fund_size_rmb_bn", "designated")

MAP_HEIGHT_PX = 600
PRESENT_SCALE = 1.6
PLAY_STEP_SECONDS = 1.2

#: The map takes the height the screen leaves it (the map fits itself to its frame):
#: at 1366x768 most of it shows without scrolling, at 1920x1080 it grows.
MAP_CSS = """<style>
iframe[title="streamlit_folium.st_folium"] {
  height: clamp(400px, calc(100vh - 340px), 860px) !important; }
</style>"""

#: Hides Streamlit's chrome and lets the map fill the screen in presentation mode.
PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarNav"] { display: none !important; }
.block-container { padding: 0.5rem 1.2rem 0 1.2rem !important; max-width: 100% !important; }
iframe[title="streamlit_folium.st_folium"] { height: calc(100vh - 200px) !important; }
[data-testid="stMetricValue"] { font-size: 2.1rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem !important; }
</style>"""

ss = st.session_state
frame = cache.atlas_frame()
bounds = atlas_bounds()
flt = current_filter(bounds)
# A large atlas (a lean frame): the selection holds only the columns this page reads
# for every record shown; a table page or a download takes the rest (with_details).
selected = filter_records(frame, flt, MAP_COLUMNS if is_lean(frame) else None)
summary = summarize(selected)
present = bool(ss.get(PRESENT_KEY, False))
# The session's own records (the Your data page): their own layer, the same filters.
has_user = has_user_records()
user_all = session_user_frame() if has_user else None
user_selected, user_layer = session_user_layer(flt) if user_layer_on() else (None, None)
user_shown = 0 if user_selected is None else len(user_selected)


RECORDS_TABLE_KEY = "records_table"
USER_TABLE_KEY = "user_records_table"


def _records_table(records: object, key: str) -> None:
    """The records as a table; selecting a row selects its record, as a map click does."""
    records = table_page(records, key)  # a page at a time when the selection is large
    records = cache.with_details(records)  # a large atlas: this page's details only
    ids = list(records["id"])
    st.dataframe(
        display_table(records), hide_index=True, width="stretch", key=key,
        on_select=functools.partial(handle_table_select, key, ids),
        selection_mode="single-row", column_config=RECORD_COLUMN_CONFIG, placeholder=EMPTY_CELL,
    )


def _exit_presentation() -> None:
    ss[PRESENT_KEY] = False


def _clear_selection() -> None:
    ss[SELECTED_KEY] = None


def _enter_presentation() -> None:
    ss[PRESENT_KEY] = True


def _select(record_id: str) -> None:
    """Select the other end of a link (the detail panel's link buttons)."""
    ss[SELECTED_KEY] = record_id


def _show_links(row: Any, frame_ids: Container[str], shown: Container[str]) -> None:
    """The record's links as buttons; a click selects the other end."""
    links = row["links"] if "links" in row.index else []
    if not isinstance(links, list) or not links:
        return
    st.markdown(f"**Links ({len(links)})** · click one to select the other end")
    others = frame[frame["id"].isin([ln["other"] for ln in links])]
    placed = dict(zip(others["id"], others["lat"].notna(), strict=True))
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
    as_of_on = bool(ss.get(AS_OF_MODE_KEY)) and bounds.year_min < bounds.year_max
    head, play_col, exit_col = st.columns([6, 1.1, 1.1], vertical_alignment="center")
    head.markdown(f"#### CMF Atlas · {escape_markdown(describe_filter(flt))}")
    if as_of_on:
        play_button(play_col, bounds, key="present_play_button")
    exit_col.button("Exit presentation", on_click=_exit_presentation, width="stretch",
                    key="exit_presentation", icon=":material/close_fullscreen:")
else:
    st.html(MAP_CSS)
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
    col.metric(KINDS[kind], f"{summary.counts[kind]:,}")
unknown = summary.funds_unknown_size
capital_col = len(KINDS)
cols[capital_col].metric(
    "Fund capital shown",
    capital_text(summary, "fund" in flt.kinds),
    help=(
        "Sum of the published sizes of the funds shown, in RMB billion. "
        f"{unknown:,} fund(s) of unknown size are not included."
    ),
)
if has_user:
    cols[capital_col + 1].metric(
        "Your data", f"{user_shown:,}",
        help=f"{USER_LAYER_LABEL}: your records shown on the map, of {len(user_all):,} added "
        "on the Your data page. Not counted in the other figures.",
    )
if not present:
    note = f" · {unknown:,} fund(s) of unknown size not in the sum" if unknown else ""
    as_of = f" · as of {ss.get(AS_OF_YEAR_KEY)}" if ss.get(AS_OF_MODE_KEY) else ""
    st.caption(f"Filters: {escape_markdown(describe_filter(flt))}{as_of}{note}")

if summary.total == 0 and user_shown == 0:
    st.info(
        "No records match these filters. Widen the year or fund-size range, clear the "
        "domain, province or name search, or press **Reset filters** in the sidebar."
    )

preset_col, present_col = st.columns([5, 1], vertical_alignment="center") if not present \
    else (st.container(), None)
preset_col.segmented_control(
    "View", options=list(PRESET_VIEWS),
    format_func=lambda k: PRESET_VIEWS[k].short or PRESET_VIEWS[k].label,
    key=VIEW_KEY, label_visibility="collapsed", on_change=on_preset_change,
    help="Frame a region; click the chosen one again to re-centre on it. On the map, hover "
    "a symbol for its name and click it for details; a numbered badge holds the records "
    "on one spot: click it to spread them out.",
)
if present_col is not None:
    present_col.button(
        "Present", icon=":material/slideshow:", on_click=_enter_presentation,
        width="stretch", key="enter_presentation", type="primary",
        help="Presentation mode: the map fills the screen, with larger symbols and text.",
    )

choropleth = None
shading = ss.get(PROVINCE_LAYER_KEY, "off")
if shading in PROVINCE_LAYER_MEASURES:
    ch = province_choropleth_geojson(
        cache.basemap_frame(), by_province(selected), PROVINCE_LAYER_MEASURES[shading],
        palette="Greens",
    )
    choropleth = {
        "geojson": ch.to_geojson(),
        "legend": [{"color": e.color, "label": e.label} for e in ch.legend],
        "title": ch.title,
    }

scale = PRESENT_SCALE if present else 1.0
# The base map depends on the scale only: anything else in it would reload the map.
base = build_base_map(cache.basemap_url(), scale=scale, fill_frame=True)
as_of_year = int(ss.get(AS_OF_YEAR_KEY, bounds.year_max)) if ss.get(AS_OF_MODE_KEY) else None
# Link lines: the selected record's (bold) and, with Network on, all among the records shown.
lines = link_lines(frame, selected=ss.get(SELECTED_KEY), shown=selected["id"],
                   network=bool(ss.get(NETWORK_KEY, False)), linked=cache.linked_records())
# A large selection is drawn by the canvas point layer from packed typed arrays; a
# click sends back the record's position in `frame` (issue 13).
points = (selection_payload(frame, selected, ss.get(SELECTED_KEY))
          if len(selected) > CANVAS_MIN_RECORDS else None)
records_layer = build_record_layers(
    cache.with_details(selected if points is None else selected.iloc[:0]), points=points,
    kinds=flt.kinds, choropleth=choropleth, user_frame=user_layer, scale=scale,
    view=current_view_request(ss), as_of_year=as_of_year,
    # The legend lists only the zone statuses some record has (the data's, not the
    # filter's, so the legend does not change as filters do).
    zone_statuses=set(cache.zone_statuses())
    | (set() if user_all is None else set(user_all["status"].dropna())),
    links=lines,
)
st_folium(
    base,
    key=MAP_KEY,
    feature_group_to_add=records_layer,
    height=MAP_HEIGHT_PX,
    use_container_width=True,
    returned_objects=["last_active_drawing"],
    # Ids by record index, as the array the frame holds (no copy of a million ids).
    on_change=functools.partial(handle_map_change, row_ids=frame["id"].array),
)

selected_id = ss.get(SELECTED_KEY)
if selected_id and not present:
    rows = cache.with_details(frame[frame["id"] == selected_id])
    is_user = rows.empty and user_all is not None and selected_id in set(user_all["id"])
    if is_user:
        rows = user_all[user_all["id"] == selected_id]
    shown_ids = cache.RecordIds(selected["id"],
                                *([] if user_selected is None else [user_selected["id"]]))
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
                _show_links(row, cache.RecordIds(frame["id"]), shown_ids)
            st.markdown("**Sources**")
            st.markdown("\n".join(f"{i}. {source_markdown(s)}"
                                  for i, s in enumerate(row["sources"], start=1)))

if not present:
    st.subheader(f"Records shown ({summary.total:,})")
    st.caption("Select a row to select its record on the map and show its details.")
    _records_table(selected, RECORDS_TABLE_KEY)
    if has_user:
        st.subheader(f"Your data shown ({user_shown})")
        if user_selected is None:
            st.caption("The Your data layer is hidden: tick *Your data* in the sidebar.")
        else:
            _records_table(user_selected, USER_TABLE_KEY)
    # The report figure frames the preset in use (or the records, when the
    # filters leave one region: see geodata.render.figure).
    preset = ss.get(VIEW_KEY) if ss.get(VIEW_KEY) in PRESET_VIEWS else "china"
    render_downloads(selected, flt, user_selected, preset)

# This page's namespace is a reference cycle (its functions refer back to it), so what
# it holds lives until Python's next full collection, which may be many reruns away:
# at 1,000,000 records each filter change would leave a 160 MB selection behind.
# Drop the large values now; the next run makes its own.
del selected, points, records_layer, lines, base, choropleth

if ss.get(PLAYING_KEY) and ss.get(AS_OF_MODE_KEY):
    year = int(ss.get(AS_OF_YEAR_KEY, bounds.year_max))
    if year < bounds.year_max:
        time.sleep(PLAY_STEP_SECONDS)
        set_widget_values_next_run(**{AS_OF_YEAR_KEY: year + 1})
    # The last year stops the play in the same run that shows it, so the button
    # already reads "Play the years" there (a later click starts from the first year).
    if year + 1 >= bounds.year_max:
        ss[PLAYING_KEY] = False
    st.rerun()
